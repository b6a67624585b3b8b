"""Names and constants the power modules share (one source of truth for each)."""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from twin.events import Event

SLACK_SUFFIX = "#slack"  # hidden ext_grids that make a grid-forming unit the island's slack


def is_hidden_slack(name: object) -> bool:
    """Whether an ext_grid is a hidden slack (named ``<unit>#slack#<index>`` by the grid
    model), not a connection to the transmission grid."""
    return SLACK_SUFFIX + "#" in str(name)
BATTERY_MODES: tuple[str, ...] = ("self_consumption", "backup", "grid_support")
DEFAULT_SHED_ORDER: tuple[str, ...] = (
    "household", "traffic", "other", "control", "ict", "hospital", "water",
)
PEAK_PROFILE = 1.2  # household profile factor from which grid-support batteries discharge
TRAFO_PF = 0.95  # MW per MVA of transformer rating counted as supply capacity
EPS = 1e-9
# IEEE 1547-2018, 4.10.3 (enter service): after a trip, DER reconnect only once voltage and
# frequency have been normal for an intentional delay, default 300 s (range 0-600 s).
PV_RECONNECT_S = 300


def event_time(ev_id: str) -> int:
    """The time of a deterministic event id ``"<t>|<asset>|<kind>"`` (``twin.events.event_id``;
    0 if not one), to order causes by recency."""
    head = ev_id.split("|", 1)[0]
    return int(head) if head.lstrip("-").isdigit() else 0


class PowerGridError(RuntimeError):
    """The power model was given something it cannot use (unknown file, bad command)."""


@dataclass
class Island:
    """One connected component of the energised topology and how it is supplied."""

    buses: set[int]
    kind: str  # "grid", "plant", "microgrid", "dead"
    source: str  # asset id of the slack unit ("" for dead islands)
    capacity_mw: float = math.inf
    microgrids: list[int] = field(default_factory=list)  # storage indices
    loads: list[int] = field(default_factory=list)  # load positions


@dataclass
class StepResult:
    """What one step produced; all values are JSON-serialisable."""

    time_s: int
    dead_buses: dict[str, str]
    switch_closed: dict[str, bool]
    series: dict[str, float | dict[str, float]]
    events: list[Event]
    telemetry: dict
    converged: bool
    unsupplied: dict[str, str] = field(default_factory=dict)  # consumer -> its load's shed event
