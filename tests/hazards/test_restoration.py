"""Restoration in coupled runs of the small region: fault isolation and service restoration
(FLISR) over ICT or by hand, crews that drive through traffic, and a dispatch plug-in."""

from __future__ import annotations

from pathlib import Path

import networkx as nx

from twin import results
from twin.control.crews import CrewManager
from twin.region.assets import RegionInfo
from twin.runner import run_configuration

STEP_S = 300
FAIL_S = 1800  # the outages below start at 0.5 h
# FLISR's set time: one step to see the fault in the telemetry, one for the time-shifted
# switching command to act.
FLISR_SET_TIME_S = 2 * STEP_S


def _run(scenario, out: Path, name: str) -> results.Results:  # type: ignore[no-untyped-def]
    outcome = run_configuration(scenario, "centralised", out / name)
    assert outcome.status == "complete", outcome.error
    return results.load(outcome.path)


def _events(res: results.Results, kind: str) -> list[dict]:
    return [e for e in res.events if e["kind"] == kind]


def _back_at(res: results.Results, buses: set[str]) -> dict[str, int]:
    return {e["asset_id"]: e["time_s"] for e in _events(res, "energised") if e["asset_id"] in buses}


def test_flisr_restores_unfaulted_sections_remotely_or_only_after_a_crew_arrives(
        crew_scenario, hz_out: Path) -> None:  # type: ignore[no-untyped-def]
    line = {"kind": "outage", "asset": "power/line/F1-2", "at_h": 0.5}
    # the DCC is every endpoint's controller in `centralised`: down, no switch is reachable
    cut = {"kind": "outage", "asset": "ict/site/DCC", "at_h": 0.0, "duration_h": 100}
    remote = _run(crew_scenario(5, [line]), hz_out, "flisr-remote")
    manual = _run(crew_scenario(5, [line, cut]), hz_out, "flisr-manual")
    for res in (remote, manual):
        assert res.series["control"]["crews_idle"].shape == res.time_s.shape
    dead = {e["asset_id"] for e in _events(remote, "de-energised") if e["time_s"] == FAIL_S}
    assert dead and dead == {e["asset_id"] for e in _events(manual, "de-energised")
                             if e["time_s"] == FAIL_S}
    repaired = {e["asset_id"]: e["time_s"] for e in _events(remote, "repaired")}
    assert repaired["power/line/F1-2"] > FAIL_S + 3600  # the line itself takes hours
    back = _back_at(remote, dead)
    assert set(back) == dead and max(back.values()) <= FAIL_S + FLISR_SET_TIME_S
    # with the ICT path cut: nothing comes back before a crew reaches a switch and works it
    arrivals = [e for e in _events(manual, "crew_arrived") if e["asset_id"].startswith("power/switch/")]
    assert arrivals, "no crew drove to a switch"
    arrived_s = min(e["time_s"] for e in arrivals)
    back = _back_at(manual, dead)
    switched = [e for e in _events(manual, "switched") if e["time_s"] <= max(back.values())]
    assert set(back) == dead
    assert min(back.values()) > arrived_s and min(back.values()) > FAIL_S + FLISR_SET_TIME_S
    # ... by hand: the switching names the crew's work as its cause, the line is still broken
    assert switched and all(e["cause_id"].endswith("|crew_finished") for e in switched)
    manual_repair = {e["asset_id"]: e["time_s"] for e in _events(manual, "repaired")}
    assert max(back.values()) < manual_repair.get("power/line/F1-2", 10**9)
    assert max(back.values()) <= arrived_s + 0.25 * 3600 + FLISR_SET_TIME_S + STEP_S


def _closures_on_the_way(region: RegionInfo, target: str) -> list[str]:
    """Road asset ids on the crew's free-flow shortest path from the power depot to
    ``target``: every road but the first, the last and the bridges, so a detour remains."""
    from twin.models.traffic.network import RoadNetwork

    net = RoadNetwork.read(region.path("traffic"))
    fac = {f["id"]: (f["x_m"], f["y_m"]) for f in region.layout["facilities"]}
    asset = next(a for a in region.assets if a["id"] == target)
    start = net.nearest_edges(*fac["substation"], k=1)[0]
    end = net.nearest_edges(asset["x_m"], asset["y_m"], k=1)[0]
    graph = nx.DiGraph()
    for e in net.edges.values():
        graph.add_edge(e.from_node, e.to_node, id=e.id, w=e.free_flow_s)
    src, dst = net.edges[start].to_node, net.edges[end].from_node
    path = nx.shortest_path(graph, src, dst, weight="w")
    on_path = [net.road_of(graph.edges[u, v]["id"]) for u, v in zip(path[:-1], path[1:], strict=True)]
    closed = []
    for road in on_path:
        if road in (net.road_of(start), net.road_of(end)):
            continue
        pairs = [(net.edges[e].from_node, net.edges[e].to_node) for e in net.edges_of_road(road)]
        removed = [(u, v, graph.edges[u, v]) for u, v in pairs]
        graph.remove_edges_from(pairs)
        if nx.has_path(graph, src, dst):
            closed.append(road)
        else:  # a bridge (e.g. the only road into town): keep it open
            graph.add_edges_from(removed)
    return sorted(f"traffic/road/{r}" for r in closed)


def test_closed_roads_delay_the_crew_and_the_restoration_by_that_delay(
        crew_scenario, hz_out: Path, small_regions: dict[str, RegionInfo]) -> None:  # type: ignore[no-untyped-def]
    target = "power/line/F4-2"
    line = {"kind": "outage", "asset": target, "at_h": 0.5}
    closures = [{"kind": "outage", "asset": r, "at_h": 0.0, "duration_h": 100}
                for r in _closures_on_the_way(small_regions["centralised"], target)]
    assert closures
    open_roads = _run(crew_scenario(10, [line]), hz_out, "roads-open")
    closed = _run(crew_scenario(10, [line, *closures]), hz_out, "roads-closed")

    def timing(res: results.Results) -> tuple[int, float, int]:
        (disp,) = [e for e in _events(res, "crew_dispatched") if e["asset_id"] == target]
        (arr,) = [e for e in _events(res, "crew_arrived") if e["asset_id"] == target]
        (rep,) = [e for e in _events(res, "repaired") if e["asset_id"] == target]
        assert arr["cause_id"] == disp["event_id"] and rep["cause_id"].endswith("|crew_finished")
        return disp["time_s"], arr["value"], rep["time_s"]

    d0, travel0, rep0 = timing(open_roads)
    d1, travel1, rep1 = timing(closed)
    assert d0 == d1 == FAIL_S
    delay = travel1 - travel0
    assert delay > 60  # the detour costs the crew more than a minute
    # the same drawn repair time follows the arrival: restoration is late by the travel
    # delay, up to the one-step rounding of the report
    assert abs((rep1 - rep0) - delay) <= STEP_S




def test_a_dispatch_policy_from_the_scenario_changes_the_repair_order(
        crew_scenario, hz_out: Path) -> None:  # type: ignore[no-untyped-def]
    # two city feeder sections, each about two hours of work at seed 5 (drawn, not set);
    # F2-2 cuts off 908 customers and critical loads, F2-3 only 454 households
    lines = ["power/line/F2-2", "power/line/F2-3"]
    hazards = [{"kind": "outage", "asset": a, "at_h": 0.5} for a in lines]
    default = _run(crew_scenario(7, hazards), hz_out, "order-default")
    custom = _run(crew_scenario(7, hazards, restoration={
        "dispatch": "hazard_dispatch_policies:FewestCustomersFirst"}), hz_out, "order-custom")

    def order(res: results.Results) -> list[str]:
        return [e["asset_id"] for e in sorted(_events(res, "repaired"), key=lambda e: e["time_s"])]

    assert sorted(order(default)) == sorted(order(custom)) == sorted(lines)
    assert order(default) != order(custom)
    assert order(custom) == list(reversed(order(default)))
    # the default policy took the section whose repair brings back critical loads first
    assert order(default)[0] == "power/line/F2-2"


def test_default_dispatch_ranks_critical_loads_then_customers_per_crew_hour(
        small_regions: dict[str, RegionInfo]) -> None:
    region = small_regions["centralised"]
    mgr = CrewManager(region, 5, {"power": 1})
    # the impact table follows the grid: a feeder head carries everything behind it
    assert mgr._customers["power/line/F4-1"] > mgr._customers["power/line/F4-2"] > 0
    crew = {"id": "power-1", "sector": "power", "position": "substation", "x_m": 0.0, "y_m": 0.0}
    jobs = [
        {"asset": "a", "sector": "power", "kind": "repair", "since_s": 0, "cause_id": "",
         "x_m": 0.0, "y_m": 0.0, "critical": False, "customers": 1000, "work_h": 1.0},
        {"asset": "b", "sector": "power", "kind": "repair", "since_s": 0, "cause_id": "",
         "x_m": 0.0, "y_m": 0.0, "critical": False, "customers": 1500, "work_h": 2.0},
        {"asset": "c", "sector": "power", "kind": "repair", "since_s": 0, "cause_id": "",
         "x_m": 0.0, "y_m": 0.0, "critical": True, "customers": 10, "work_h": 8.0},
        {"asset": "w", "sector": "water", "kind": "repair", "since_s": 0, "cause_id": "",
         "x_m": 0.0, "y_m": 0.0, "critical": True, "customers": 10**6, "work_h": 0.1},
    ]
    assert mgr.policy.assign(0, [crew], jobs) == {"power-1": "c"}  # critical first
    assert mgr.policy.assign(0, [crew], jobs[:2]) == {"power-1": "a"}  # 1000/h beats 750/h
