"""What the figures show, as pure functions of a run (testable without drawing anything).

- the worst moment: the step where the mean of the sectors' performance is lowest;
- the assets failed at a given time: their last failure event by then has no recovery yet;
- customer-outage hours per household by district, as excess over the baseline;
- the causal forest of failures, in full or grouped by depth, sector, asset type and kind.
"""

from __future__ import annotations

from dataclasses import dataclass

import networkx as nx
import numpy as np

from twin.events import RECOVERY_KINDS, Event, is_failure
from twin.metrics import cascade_depths, district_classes, district_person_outage_h
from twin.results import Results

# Which recovery kinds undo which failure kind (an asset can be dark and unreachable at once:
# "reachable" must not end "dark"). A failure kind not listed here is undone by any recovery.
UNDOES: dict[str, frozenset[str]] = {
    "failed": frozenset({"repaired", "restored"}),
    "de-energised": frozenset({"energised"}),
    "down": frozenset({"up", "repaired"}),
    "pump_stopped": frozenset({"pump_started"}),
    "dark": frozenset({"lit"}),
    "unreachable": frozenset({"reachable"}),
    "shed": frozenset({"restored", "energised"}),
    "low_pressure": frozenset({"pressure_ok"}),
    "closed": frozenset({"reopened"}),
    "derated": frozenset({"restored"}),
    "compromised": frozenset({"restored", "repaired"}),
    "exhausted": frozenset({"reconnected", "restored"}),
    "fuel_exhausted": frozenset({"pump_started", "repaired"}),
    "fixed_time": frozenset({"coordinated"}),
}


def undoes(recovery_kind: str, failure_kind: str) -> bool:
    """True if an event of ``recovery_kind`` ends a failure of ``failure_kind``."""
    return recovery_kind in UNDOES.get(failure_kind, RECOVERY_KINDS)


def worst_moment(curves: dict[str, np.ndarray]) -> int:
    """Index of the step with the lowest mean performance over the sectors (first if tied)."""
    stack = [np.asarray(c, float) for c in curves.values() if len(c)]
    if not stack:
        return 0
    n = min(len(c) for c in stack)
    mean = np.mean([c[:n] for c in stack], axis=0)
    return int(np.argmin(mean))


def failed_at(r: Results, time_s: int) -> dict[str, Event]:
    """Assets failed at ``time_s``: asset id -> its latest failure event at or before
    ``time_s`` that no recovery of the matching kind (:data:`UNDOES`) has ended by then.
    Events of things outside the asset table (hazards, whole networks) are left out."""
    known = set(map(str, r.assets["id"]))
    open_: dict[str, dict[str, Event]] = {}  # asset -> failure kind -> its latest event
    for e in sorted(r.events, key=lambda e: e["time_s"]):  # stable: log order within a step
        if e["time_s"] > time_s or e["asset_id"] not in known:
            continue
        kinds = open_.setdefault(e["asset_id"], {})
        if is_failure(e["kind"]):
            kinds.pop(e["kind"], None)
            kinds[e["kind"]] = e  # re-inserted: the latest failure comes last
        elif e["kind"] in RECOVERY_KINDS:
            for k in [k for k in kinds if undoes(e["kind"], k)]:
                del kinds[k]
    return {a: list(kinds.values())[-1] for a, kinds in open_.items() if kinds}


@dataclass(frozen=True)
class DistrictOutage:
    """Outage person-hours of one district (power + water, excess over the baseline)."""

    district: str
    rural: bool
    population: float
    outage_h: float
    urbanisation: str = ""  # city, town or rural (twin.metrics.urbanisation)

    @property
    def per_capita_h(self) -> float:
        return self.outage_h / max(self.population, 1.0)


def district_outage(run: Results, baseline: Results | None) -> list[DistrictOutage]:
    """Per district, the person-hours that :func:`twin.metrics.equity` counts, and its
    degree of urbanisation (``rural`` is the class, not the layout's kind)."""
    hours = district_person_outage_h(run, baseline)
    classes = district_classes(run)
    return [
        DistrictOutage(str(d), classes[str(d)] == "rural", float(pop), hours[str(d)], classes[str(d)])
        for d, pop in zip(run.districts["id"], run.districts["population"], strict=True)
    ]


def asset_class(asset_id: str) -> str:
    """``power/bus/F2-4`` -> ``power/bus``; ``hazard/storm-0`` -> ``hazard``."""
    parts = asset_id.split("/")
    return "/".join(parts[:2]) if len(parts) >= 3 else parts[0]


def cascade_forest(r: Results) -> nx.DiGraph:
    """The causal forest of a run's failures: every failure event and its causes up to the roots.

    Nodes are event ids with ``sector``, ``asset_id``, ``kind``, ``time_s`` and ``depth``
    (0 for a root); an edge cause -> effect carries the ``coupling`` of the effect.
    """
    by_id = {e["event_id"]: e for e in r.events}
    depths = cascade_depths(r.events)
    g = nx.DiGraph()
    for e in r.events:
        if not is_failure(e["kind"]):
            continue
        cur: Event | None = e
        while cur is not None and cur["event_id"] not in g:  # stops at a node already in: its causes are too
            g.add_node(cur["event_id"], sector=cur["sector"], asset_id=cur["asset_id"], kind=cur["kind"],
                       time_s=cur["time_s"], depth=depths[cur["event_id"]])
            cur = by_id.get(cur["cause_id"])
    for eid in list(g.nodes):
        cause = by_id[eid]["cause_id"]
        if cause in g:
            g.add_edge(cause, eid, coupling=by_id[eid]["coupling"])
    return g


def group_forest(g: nx.DiGraph) -> nx.DiGraph:
    """The forest with events grouped by (depth, sector, asset class, kind), the asset class
    being the id's ``<sector>/<type>`` (an ICT event may concern ``power/switch/...``): node
    attribute ``count`` says how many events a group holds, edge attribute ``count`` how many links."""
    out = nx.DiGraph()
    key = {}
    for n, a in g.nodes(data=True):
        k = (a["depth"], a["sector"], asset_class(a["asset_id"]), a["kind"])
        key[n] = k
        if k in out:
            out.nodes[k]["count"] += 1
        else:
            out.add_node(k, depth=a["depth"], sector=a["sector"], asset_class=k[2], kind=a["kind"], count=1)
    for u, v, a in g.edges(data=True):
        ku, kv = key[u], key[v]
        if out.has_edge(ku, kv):
            out.edges[ku, kv]["count"] += 1
        else:
            out.add_edge(ku, kv, coupling=a["coupling"], count=1)
    return out
