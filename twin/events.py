"""The one event record every sector writes, the vocabulary of kinds and couplings, and the
outcome of a run (statuses and exit codes).

An event is a state change of one asset. ``cause_id`` points to the event that produced it
and ``coupling`` names the dependency it travelled, so the events of a run form a causal
forest (see docs/architecture.md). Events cross mosaik as plain dicts (JSON-serialisable,
so adapters also run as separate processes).

Every kind belongs to exactly one class (:data:`KINDS`), and :func:`make_event` refuses a
kind that is not listed, so nothing reaches a results file unclassified:

- ``service``: a customer, consumer or service loses supply (a pump stops, a junction
  drops below service pressure, a signal goes dark, a site goes down, a trip is cancelled);
- ``service_if_customers``: a service failure when the asset serves customers directly
  (a de-energised or shed bus or load with households), else a state change;
- ``state``: an asset changes state without anyone losing a service by that change alone
  (damage, telemetry lost, fallback rules, a trip of a breaker, a battery running empty):
  what it does to customers shows as service failures further down its causal subtree;
- ``recovery``: undoes a failure;
- ``outcome``: trouble inside a simulator (non-convergence, EPANET warnings, teleports);
  :data:`SOLVER_FAILURES` names the ones that mean a step was not solved;
- ``decision``: control, crews, hazards and protection acting (switching, dispatch).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Literal, TypedDict


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

# Couplings an event may have travelled. "hazard", "attack", "scheduled" are roots;
# "repair", "control", "policy" are decisions; "<from>-><to>" are the cross-sector
# dependencies of DESIGN.md; "<sector>" alone is propagation inside one sector (a line fault
# de-energising a bus). Inside power: "overload" (a protection trip caused by the flow an
# upstream event moved onto the branch), "voltage_collapse" (load shed so that a power flow
# converges), "protection" (reclosers and relays acting on a fault).
ROOT_COUPLINGS: frozenset[str] = frozenset({"hazard", "attack", "scheduled"})
COUPLINGS: frozenset[str] = frozenset(
    {
        "hazard", "attack", "scheduled", "repair", "control", "policy", "simulator",
        "power", "water", "traffic", "ict",
        "overload", "voltage_collapse", "protection",
        "power->water", "power->ict", "power->traffic", "ict->power", "ict->water",
        "ict->traffic", "ict->control", "water->power", "traffic->restoration",
    }
)

KindClass = Literal["service", "service_if_customers", "state", "recovery", "outcome", "decision"]

# Every event kind and its class. Add a kind here (and to docs/architecture.md) before an
# adapter emits it.
KINDS: dict[str, KindClass] = {
    # --- service failures: someone loses a service
    "pump_stopped": "service",  # a pump station stops (no power, no fuel, damage, command)
    "low_pressure": "service",  # a junction below service pressure (delivered < 50 %)
    "dark": "service",  # a traffic signal without power
    "down": "service",  # an ICT site down (no power after its battery, or damage)
    "trip_cancelled": "service",  # trips that could not start or end (closed roads)
    "production_stopped": "service",  # the treatment plant or a well stops producing
    # --- service failures when the asset serves customers directly (households, people)
    "de-energised": "service_if_customers",  # a bus without voltage
    "shed": "service_if_customers",  # a load shed (value: shed share 0..1)
    # --- state changes that are failures of an asset, not yet of a service
    "failed": "state",  # damage from a hazard, attack or scheduled outage
    "unreachable": "state",  # telemetry / control path lost; the asset follows its local rule
    "fixed_time": "state",  # a signal lost coordination and runs its fixed-time plan
    "derated": "state",  # a plant's available power reduced (low process water)
    "compromised": "state",  # an ICT site taken over by an attacker
    "closed": "state",  # a road, pipe or valve closed
    "exhausted": "state",  # a microgrid's battery ran empty: its island drops
    "fuel_exhausted": "state",  # a backup generator ran dry
    "start_failed": "state",  # a backup generator failed to start on demand
    "tripped": "state",  # a breaker or relay opened on overload (coupling "overload")
    "leaking": "state",  # a pipe or junction leaks (value: emitter area, m2)
    "drained": "state",  # a tank ran empty
    "pv_disconnected": "state",  # inverters tripped on loss of grid (IEEE 1547)
    # --- recoveries
    "repaired": "recovery", "energised": "recovery", "up": "recovery", "pump_started": "recovery",
    "lit": "recovery", "reachable": "recovery", "restored": "recovery", "pressure_ok": "recovery",
    "reopened": "recovery", "coordinated": "recovery", "reconnected": "recovery",
    "reclosed": "recovery", "refuelled": "recovery", "production_started": "recovery",
    "refilled": "recovery", "pv_reconnected": "recovery",
    # --- simulator outcomes
    "non_convergence": "outcome",  # a power flow that did not converge even after shedding
    "protection_limit": "outcome",  # protection still tripping after the iteration bound
    "hydraulics_unsolved": "outcome",  # EPANET warning 1 or 2: the step did not solve
    "stale_solution": "outcome",  # watchdog: pressures identical while inputs changed
    "pressure_outlier": "outcome",  # watchdog: a pressure below -10 m or above 500 m
    "epanet_warning": "outcome",  # EPANET warnings 3-6 (physical: disconnected, pumps, valves)
    "negative_pressure": "outcome",
    "emitter_closed": "outcome",  # an emitter would inject water at negative pressure
    "option_overridden": "outcome",  # an input file's option was overridden (e.g. UNBALANCED)
    "teleport": "outcome", "gridlock": "outcome", "simulator_error": "outcome",
    "teleport_limit": "outcome",  # SUMO teleported a tenth of the traffic in a step
    # --- decisions and roots
    "hazard": "decision",  # the root of a hazard's damage
    "switched": "decision", "command": "decision", "islanded": "decision", "isolated": "decision",
    "pump_on": "decision", "pump_off": "decision",  # operational switching (tank rule, schedule)
    "backup_started": "decision",  # a backup generator took over (value: fuel hours left)
    "transient_fault": "decision",  # an overhead fault a recloser cleared within the step
    "crew_dispatched": "decision", "crew_arrived": "decision", "crew_blocked": "decision",
    "crew_finished": "decision",
}

FAILURE_CLASSES: frozenset[str] = frozenset({"service", "service_if_customers", "state"})
FAILURE_KINDS: frozenset[str] = frozenset(k for k, c in KINDS.items() if c in FAILURE_CLASSES)
SERVICE_FAILURE_KINDS: frozenset[str] = frozenset(k for k, c in KINDS.items() if c == "service")
CUSTOMER_SERVICE_KINDS: frozenset[str] = frozenset(
    k for k, c in KINDS.items() if c == "service_if_customers")
STATE_CHANGE_KINDS: frozenset[str] = frozenset(k for k, c in KINDS.items() if c == "state")
RECOVERY_KINDS: frozenset[str] = frozenset(k for k, c in KINDS.items() if c == "recovery")
OUTCOME_KINDS: frozenset[str] = frozenset(k for k, c in KINDS.items() if c == "outcome")

# Outcome kinds that mean a solver did not solve a step, and whose solver it is ("" = the
# event's own sector). Any of them makes the run ``degraded``.
SOLVER_FAILURES: dict[str, str] = {
    "non_convergence": "power",
    "protection_limit": "power",
    "hydraulics_unsolved": "water",
    "stale_solution": "water",
    "pressure_outlier": "water",
    # a gridlock is a result (a jam where routes exist), not a failure; teleporting beyond
    # the threshold of docs/traffic.md is
    "teleport_limit": "traffic",
    "simulator_error": "",
}
SOLVERS: tuple[str, ...] = ("power", "water", "traffic", "ict")

# --- run outcome ------------------------------------------------------------------------

# ``running``/``interrupted`` files are never finished runs; ``complete`` and ``degraded``
# are finished runs with metrics (a degraded run had a step some solver did not solve, or a
# degraded baseline); ``failed`` ended early with an error.
RunStatus = Literal["running", "complete", "degraded", "failed", "interrupted"]
STATUSES: tuple[str, ...] = ("running", "complete", "degraded", "failed", "interrupted")
FINISHED_STATUSES: frozenset[str] = frozenset({"complete", "degraded"})

# Exit codes of the ``twin`` command (docs/architecture.md, "Run outcome").
EXIT_OK = 0  # every run complete (or degraded without --strict)
EXIT_ENVIRONMENT = 1  # the machine got in the way: permissions, full disk, missing package
EXIT_INPUT = 2  # bad input: scenario, sweep, region files, plug-ins, arguments
EXIT_DEGRADED = 3  # a run degraded, with --strict
EXIT_FAILED = 4  # a run failed (it could not continue)
EXIT_INTERRUPTED = 130  # Ctrl-C / SIGINT


class EventError(ValueError):
    """An event with an unknown sector, kind or coupling."""


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
        raise EventError(f"unknown sector {sector!r}")
    if kind not in KINDS:
        raise EventError(f"unknown event kind {kind!r}: classify it in twin.events.KINDS first")
    if coupling and coupling not in COUPLINGS:
        raise EventError(f"unknown coupling {coupling!r}")
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
    """True for kinds that count as an asset failing (service failures and state changes)."""
    return kind in FAILURE_KINDS


def is_primary(event: Event) -> bool:
    """A failure caused directly by a root (hazard, attack, scheduled outage)."""
    return event["coupling"] in ROOT_COUPLINGS


def is_service_failure(event: Event, customers: Mapping[str, float] | None = None) -> bool:
    """True when the event means a customer, consumer or service lost supply.

    ``customers`` maps asset id to the customers it serves directly (the results file's
    asset table); kinds of class ``service_if_customers`` count only with customers > 0.
    """
    kind = event["kind"]
    if kind in SERVICE_FAILURE_KINDS:
        return True
    if kind in CUSTOMER_SERVICE_KINDS:
        return bool(customers) and float(customers.get(event["asset_id"], 0)) > 0  # type: ignore[union-attr]
    return False


def solver_failure_counts(events: Iterable[Event]) -> dict[str, int]:
    """Steps in which each solver did not solve: distinct ``time_s`` of its
    :data:`SOLVER_FAILURES` events, for every solver in :data:`SOLVERS` (0 when none)."""
    steps: dict[str, set[int]] = {s: set() for s in SOLVERS}
    for e in events:
        if e["kind"] in SOLVER_FAILURES:
            solver = SOLVER_FAILURES[e["kind"]] or e["sector"]
            steps.setdefault(solver, set()).add(int(e["time_s"]))
    return {s: len(t) for s, t in steps.items()}


def run_status(events: Iterable[Event], baseline_status: str | None = None) -> RunStatus:
    """``degraded`` if any solver failed a step or the baseline is degraded, else ``complete``
    (for a run that reached its horizon; failed and interrupted runs are set by the runner)."""
    if baseline_status == "degraded" or any(solver_failure_counts(events).values()):
        return "degraded"
    return "complete"
