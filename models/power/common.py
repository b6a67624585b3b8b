"""Names and constants the power modules share (one source of truth for each)."""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

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


def seq_sum(values: np.ndarray) -> float:
    """``values`` summed left to right from 0.0, as Python's ``sum()`` of them does (bit for
    bit, up to the sign of a zero total; never -0.0): numpy's ``sum`` adds pairwise, which
    rounds differently from eight elements on. ``np.bincount`` adds in order."""
    if not len(values):
        return 0.0
    return float(np.bincount(np.zeros(len(values), dtype=np.int64), weights=values, minlength=1)[0])


def memo(store: dict, key: Any, build: Callable[[], Any], limit: int) -> Any:
    """``store[key]``, built by ``build()`` when missing; the store is emptied once it holds
    ``limit`` entries (the step's caches keep the last few topologies or states seen, so a
    feeder failed and repaired finds its earlier result without the store growing)."""
    if key not in store:
        if len(store) >= limit:
            store.clear()
        store[key] = build()
    return store[key]


def column(table, col: str) -> np.ndarray:  # type: ignore[no-untyped-def]
    """The numpy array behind ``table[col]``, to read only (never write into it): what
    ``table[col].to_numpy()`` returns for a numeric or boolean column, without pandas'
    indexing machinery (~1 us against ~6 us; the step reads ~75 columns). Falls back to
    ``to_numpy()`` where pandas lacks the column cache or the column is not a numpy array."""
    try:
        values = table._get_item_cache(col)._values
    except AttributeError:  # a pandas without the item cache (copy-on-write)
        return table[col].to_numpy()
    return values if isinstance(values, np.ndarray) else table[col].to_numpy()


def set_column(table, col: str, values: np.ndarray) -> None:  # type: ignore[no-untyped-def]
    """``table[col] = values``, written into the frame's own array where the column is a
    numpy array of the values' dtype and shape (pandas without copy-on-write hands out a
    writable view): a column assignment costs ~50-100 us a call, this ~2 us. Any other case
    (a missing column, another dtype, a read-only view under copy-on-write) is assigned as
    usual, as pandas converts it."""
    values = np.asarray(values)
    if col in table.columns:
        arr = table[col].to_numpy()
        if arr.dtype == values.dtype and arr.flags.writeable and arr.shape == values.shape:
            arr[:] = values
            return
    table[col] = values


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
    # arrays derived from ``buses`` and ``loads`` (element positions on the island), filled
    # lazily by the grid: an island's buses and loads never change once it is made
    cache: dict = field(default_factory=dict, repr=False, compare=False)


@dataclass
class StepResult:
    """What one step produced; all values are JSON-serialisable but the telemetry's
    ``loads``, a read-only mapping (``outputs.plain_telemetry`` gives the plain dict)."""

    time_s: int
    dead_buses: dict[str, str]
    switch_closed: dict[str, bool]
    series: dict[str, float | dict[str, float]]
    events: list[Event]
    telemetry: dict
    converged: bool
    unsupplied: dict[str, str] = field(default_factory=dict)  # consumer -> its load's shed event
