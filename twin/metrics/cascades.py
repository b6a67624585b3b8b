"""Cascade metrics read off the causal forest of a run's events (docs/metrics.md, "Cascades").

Headline cascade metrics count **service failures** (:func:`twin.events.is_service_failure`
with the asset table's customers): someone lost a service. State changes (telemetry lost,
fallback rules, damage itself) only matter through the service failures below them, so they
are counted apart, under the ``*_all`` names (every failure, state changes included).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from twin.events import Event, is_failure, is_primary, is_service_failure
from twin.results import Results

__all__ = [
    "failure_events", "is_primary", "secondary_failures", "cascade_depths", "cross_sector_hops",
    "chain", "customers_of", "service_failures", "secondary_service_failures", "children_of",
    "subtree", "customers_lost", "service_depths", "service_hops", "cascade_metrics", "lost_below",
    "weighted_service_failures",
]


def failure_events(r: Results) -> list[Event]:
    """Every failure event (service failures and state changes)."""
    return [e for e in r.events if is_failure(e["kind"])]


def secondary_failures(r: Results) -> list[Event]:
    """Failures caused by another event (not directly by a hazard or attack), state changes included."""
    return [e for e in failure_events(r) if not is_primary(e)]


def customers_of(r: Results) -> dict[str, int]:
    """Asset id -> the customers it serves directly (households for power, people for water)."""
    return {str(a): int(c) for a, c in zip(r.assets["id"], r.assets["customers"], strict=True)}


def service_failures(r: Results, customers: Mapping[str, float] | None = None) -> list[Event]:
    """Events in which a customer, consumer or service lost supply."""
    customers = customers_of(r) if customers is None else customers
    return [e for e in r.events if is_service_failure(e, customers)]


def secondary_service_failures(r: Results, customers: Mapping[str, float] | None = None) -> list[Event]:
    return [e for e in service_failures(r, customers) if not is_primary(e)]


def cascade_depths(events: Iterable[Event]) -> dict[str, int]:
    """Depth of each event in the causal forest: a root hazard is 0, its direct effect 1..."""
    by_id = {e["event_id"]: e for e in events}
    depth: dict[str, int] = {}

    def walk(eid: str) -> int:
        chain: list[str] = []
        cur = eid
        while cur in by_id and cur not in depth and cur not in chain:
            chain.append(cur)
            cur = by_id[cur]["cause_id"]
        base = depth.get(cur, -1) if cur in by_id else -1
        for i, e in enumerate(reversed(chain)):
            depth[e] = base + 1 + i
        return depth[eid]

    for eid in by_id:
        walk(eid)
    return depth


def _crosses(e: Event, by_id: Mapping[str, Event]) -> bool:
    """The event's logged cause (not the incidents simulator's) concerns an asset of another
    sector (the asset id's prefix, not the simulator that logged the event)."""
    cause = by_id.get(e["cause_id"])
    return (cause is not None and cause["sector"] != "incidents"
            and cause["asset_id"].split("/", 1)[0] != e["asset_id"].split("/", 1)[0])


def cross_sector_hops(events: Iterable[Event]) -> int:
    """Failures (state changes included) whose cause concerns an asset of another sector."""
    evs = list(events)
    by_id = {e["event_id"]: e for e in evs}
    return sum(1 for e in evs if is_failure(e["kind"]) and _crosses(e, by_id))


def service_hops(events: Iterable[Event], customers: Mapping[str, float]) -> int:
    """Service failures whose cause concerns an asset of another sector."""
    evs = list(events)
    by_id = {e["event_id"]: e for e in evs}
    return sum(1 for e in evs if is_service_failure(e, customers) and _crosses(e, by_id))


def chain(r: Results, event_id: str) -> list[Event]:
    """The causal chain of one event back to its root, effect first."""
    by_id = {e["event_id"]: e for e in r.events}
    out: list[Event] = []
    cur = event_id
    while cur in by_id and all(e["event_id"] != cur for e in out):
        out.append(by_id[cur])
        cur = by_id[cur]["cause_id"]
    return out


def children_of(events: Iterable[Event]) -> dict[str, list[Event]]:
    """cause id -> the events it caused (any kind)."""
    out: dict[str, list[Event]] = {}
    for e in events:
        if e["cause_id"]:
            out.setdefault(e["cause_id"], []).append(e)
    return out


def subtree(event: Event, children: Mapping[str, list[Event]]) -> list[Event]:
    """The event and everything it caused, directly or through others (each event once)."""
    out, seen, stack = [], set(), [event]
    while stack:
        e = stack.pop()
        if e["event_id"] in seen:
            continue
        seen.add(e["event_id"])
        out.append(e)
        stack.extend(children.get(e["event_id"], []))
    return out


def customers_lost(events: Iterable[Event], customers: Mapping[str, float]) -> float:
    """Customers who lost a service among ``events``: each asset's customers counted once per
    service (the asset's sector: power households, water people), however often it failed."""
    lost = {(e["asset_id"], e["asset_id"].split("/", 1)[0]) for e in events
            if is_service_failure(e, customers)}
    return float(sum(customers.get(a, 0) for a, _ in lost))


def service_depths(events: Iterable[Event], customers: Mapping[str, float]) -> dict[str, int]:
    """For each service failure, the number of service failures on its causal chain,
    itself included (state changes and decisions on the way do not count)."""
    evs = list(events)
    by_id = {e["event_id"]: e for e in evs}
    out: dict[str, int] = {}
    for e in evs:
        if not is_service_failure(e, customers):
            continue
        n, cur, seen = 0, e, set()
        while cur is not None and cur["event_id"] not in seen:
            seen.add(cur["event_id"])
            n += is_service_failure(cur, customers)
            cur = by_id.get(cur["cause_id"])
        out[e["event_id"]] = n
    return out


def _ratio_or_none(num: float, den: float) -> float | None:
    return num / den if den > 0 else None


def _ancestors(e: Event, by_id: Mapping[str, Event]) -> list[Event]:
    """The event and its causes up to the root (each once, so a cycle ends)."""
    out, seen, cur = [], set(), e
    while cur is not None and cur["event_id"] not in seen:
        seen.add(cur["event_id"])
        out.append(cur)
        cur = by_id.get(cur["cause_id"])
    return out


def lost_below(events: Iterable[Event], customers: Mapping[str, float]) -> dict[str, set[tuple[str, str]]]:
    """Event id -> the (asset, service) pairs with customers that lost a service in its
    subtree, itself included. Each service failure is pushed up its causal chain, so this
    costs events × depth rather than events × subtree size."""
    evs = list(events)
    by_id = {e["event_id"]: e for e in evs}
    out: dict[str, set[tuple[str, str]]] = {}
    for e in evs:
        if is_service_failure(e, customers) and customers.get(e["asset_id"], 0) > 0:
            key = (e["asset_id"], e["asset_id"].split("/", 1)[0])
            for a in _ancestors(e, by_id):
                out.setdefault(a["event_id"], set()).add(key)
    return out


def weighted_service_failures(r: Results, customers: Mapping[str, float]) -> float:
    """Σ over the secondary service failures of the customers lost in each one's subtree
    (each (asset, service) once per subtree)."""
    lost = lost_below(r.events, customers)
    return float(sum(customers.get(a, 0) for e in secondary_service_failures(r, customers)
                     for a, _ in lost.get(e["event_id"], ())))


def cascade_metrics(run: Results, baseline: Results | None) -> dict[str, float | None]:
    """The cascade metrics of docs/metrics.md; None marks a value that is not applicable."""
    customers = customers_of(run)
    by_id = {e["event_id"]: e for e in run.events}
    primary = [e for e in failure_events(run) if is_primary(e)]
    sec_service = secondary_service_failures(run, customers)
    base_service = secondary_service_failures(baseline, customers_of(baseline)) if baseline is not None else []
    base_weight = weighted_service_failures(baseline, customers_of(baseline)) if baseline is not None else 0.0
    # service failures below each primary failure (itself excluded)
    below_primary: dict[str, int] = {}
    for e in run.events:
        if is_service_failure(e, customers):
            for a in _ancestors(e, by_id)[1:]:
                if is_failure(a["kind"]) and is_primary(a):
                    below_primary[a["event_id"]] = below_primary.get(a["event_id"], 0) + 1
    consequential = sum(1 for p in primary if below_primary.get(p["event_id"], 0))
    below = sum(below_primary.get(p["event_id"], 0) for p in primary)
    depths = service_depths(run.events, customers)

    sec_all = secondary_failures(run)
    base_all = secondary_failures(baseline) if baseline is not None else []
    all_depths = cascade_depths(run.events)
    return {
        "primary_failures": float(len(primary)),
        "primary_failures_with_service_loss": float(consequential),
        "secondary_failures": float(len(sec_service) - len(base_service)),
        "secondary_failures_customers": weighted_service_failures(run, customers) - base_weight,
        "customers_lost_service_secondary": customers_lost(sec_service, customers)
        - (customers_lost(base_service, customers_of(baseline)) if baseline is not None else 0.0),
        "cascade_depth_max": float(max(depths.values(), default=0)),
        "cascade_amplification": _ratio_or_none(below, consequential),
        "cross_sector_hops": float(service_hops(run.events, customers)),
        # every failure, state changes included (the counts before service failures were told apart)
        "secondary_failures_all": float(len(sec_all) - len(base_all)),
        "secondary_failures_all_customers": float(
            sum(customers.get(e["asset_id"], 0) for e in sec_all)
            - sum(customers.get(e["asset_id"], 0) for e in base_all)),
        "cascade_depth_max_all": float(max((all_depths[e["event_id"]] for e in failure_events(run)), default=0)),
        "cascade_amplification_all": _ratio_or_none(len(sec_all), len(primary)),
        "cross_sector_hops_all": float(cross_sector_hops(run.events)),
    }
