"""The one event record every sector writes, and the vocabulary of kinds and couplings.

An event is a state change of one asset. ``cause_id`` points to the event that produced it
and ``coupling`` names the dependency it travelled, so the events of a run form a causal
forest (see docs/architecture.md). Events cross mosaik as plain dicts (JSON-serialisable,
so adapters also run as separate processes).
"""

from __future__ import annotations

from typing import TypedDict


class Event(TypedDict):
    """One state change. ``value`` is numeric (1/0 for on/off, or a magnitude)."""

    event_id: str
    time_s: int
    sector: str
    asset_id: str
    kind: str
    value: float
    cause_id: str
    coupling: str


FIELDS: tuple[str, ...] = (
    "event_id", "time_s", "sector", "asset_id", "kind", "value", "cause_id", "coupling",
)

SECTORS: tuple[str, ...] = ("power", "water", "traffic", "ict", "incidents", "control")

# Couplings an event may have travelled. "hazard", "repair", "control", "policy" are roots
# or decisions; "<from>-><to>" are the cross-sector dependencies of DESIGN.md;
# "<sector>" alone is propagation inside one sector (a line fault de-energising a bus).
ROOT_COUPLINGS: frozenset[str] = frozenset({"hazard", "attack", "scheduled"})
COUPLINGS: frozenset[str] = frozenset(
    {
        "hazard", "attack", "scheduled", "repair", "control", "policy", "simulator",
        "power", "water", "traffic", "ict",
        "power->water", "power->ict", "power->traffic", "ict->power", "ict->water",
        "ict->traffic", "ict->control", "water->power", "traffic->restoration",
    }
)

# Kinds that count as an asset failing (primary when caused by a root coupling,
# secondary otherwise) and the kinds that undo them.
FAILURE_KINDS: frozenset[str] = frozenset(
    {"failed", "de-energised", "down", "pump_stopped", "dark", "unreachable", "shed",
     "low_pressure", "closed", "derated", "compromised",
     "exhausted",  # a microgrid's battery ran empty: its island drops
     "fuel_exhausted",  # a pump's backup generator ran dry
     "fixed_time",  # a signal lost coordination (traffic-management centre unreachable)
     }
)
RECOVERY_KINDS: frozenset[str] = frozenset(
    {"repaired", "energised", "up", "pump_started", "lit", "reachable", "restored",
     "pressure_ok", "reopened", "coordinated", "reconnected"}
)
# Kinds that report trouble in a simulator rather than an asset state.
OUTCOME_KINDS: frozenset[str] = frozenset(
    {"non_convergence", "epanet_warning", "negative_pressure", "teleport", "gridlock",
     "simulator_error"}
)


def event_id(time_s: int, asset_id: str, kind: str) -> str:
    """Deterministic, readable id: the same run always yields the same ids."""
    return f"{int(time_s)}|{asset_id}|{kind}"


def make_event(
    time_s: int,
    sector: str,
    asset_id: str,
    kind: str,
    value: float = 1.0,
    cause_id: str = "",
    coupling: str = "",
) -> Event:
    """Build an event; ``cause_id`` is empty only for root causes (hazards, attacks)."""
    if sector not in SECTORS:
        raise ValueError(f"unknown sector {sector!r}")
    if coupling and coupling not in COUPLINGS:
        raise ValueError(f"unknown coupling {coupling!r}")
    return Event(
        event_id=event_id(time_s, asset_id, kind),
        time_s=int(time_s),
        sector=sector,
        asset_id=asset_id,
        kind=kind,
        value=float(value),
        cause_id=cause_id,
        coupling=coupling,
    )


def is_failure(kind: str) -> bool:
    """True for kinds that count as an asset failing."""
    return kind in FAILURE_KINDS
