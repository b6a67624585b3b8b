"""Road closures and the vehicles they cut off: re-routed when a route is left, the trip
abandoned or cancelled when none is, never a car waiting for SUMO to teleport it."""

from __future__ import annotations

import subprocess
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import networkx as nx
import pytest
import sumolib

from twin.events import SOLVER_FAILURES, run_status
from twin.models.traffic.closures import Reachability
from twin.models.traffic.demand import Trip
from twin.models.traffic.options import sumo_command
from twin.models.traffic.simulator import (
    TELEPORT_LIMIT_MIN_VEHICLES,
    TrafficSim,
    is_gridlock,
    is_teleport_limit,
)
from twin.models.traffic.testing import make_region
from twin.models.traffic.traffic import TrafficModel, TrafficOptions
from twin.region.assets import RegionInfo

CITY = "city_0_0-city_0_1"


@pytest.fixture(scope="module")
def region(tmp_path_factory: pytest.TempPathFactory) -> RegionInfo:
    return make_region(tmp_path_factory.mktemp("region"), "small", 1)


def _tripinfo(path: Path) -> dict[str, dict[str, float]]:
    return {t.get("id"): {k: float(t.get(k)) for k in ("depart", "arrival", "duration", "routeLength")}
            for t in ET.parse(path).getroot().iter("tripinfo")}


def test_reachability_equals_networkx_on_the_nets_connections(region: RegionInfo) -> None:
    net_file = region.path("traffic")
    m = TrafficModel(net_file, region.districts, 1, TrafficOptions(demand_scale=0.0))
    shut = {e for r in ("town1_3_1-village1a_0_1", "city_2_2-city_3_2", "city_2_2-city_2_3")
            for e in m.net.edges_of_road(r)}
    reach = Reachability(m.net)
    reach.set_closed(shut)
    net = sumolib.net.readNet(str(net_file))
    g = nx.DiGraph()
    g.add_nodes_from(e.getID() for e in net.getEdges() if e.getID() not in shut)
    g.add_edges_from((e.getID(), n.getID()) for e in net.getEdges() for n in e.getOutgoing()
                     if e.getID() not in shut and n.getID() not in shut)
    edges = sorted(m.net.edges)
    for a in edges[::7]:
        for b in edges[::5]:
            expected = a in g and b in g and nx.has_path(g, a, b)
            assert reach.reachable(a, b) == expected, (a, b)
    assert not reach.reachable(CITY, "village1a_0_0-village1a_0_1")  # the village is cut off
    reach.set_closed(())
    assert reach.reachable(CITY, "village1a_0_0-village1a_0_1")


def test_with_nothing_closed_every_pair_is_joined_only_on_a_strongly_connected_net(region: RegionInfo) -> None:
    m = TrafficModel(region.path("traffic"), region.districts, 1, TrafficOptions(demand_scale=0.0))
    reach = Reachability(m.net)
    net = sumolib.net.readNet(str(region.path("traffic")))
    g = nx.DiGraph((e.getID(), n.getID()) for e in net.getEdges() for n in e.getOutgoing())
    assert reach._strongly_connected == nx.is_strongly_connected(g) is True  # the generated nets are
    edges = sorted(m.net.edges)
    assert all(reach.reachable(a, b) for a in edges[::11] for b in edges[::13])
    with pytest.raises(KeyError):
        reach.reachable("no-such-edge", edges[0])
    # a one-way dead end: not strongly connected, so each pair is searched
    dead_end = next(e for e in edges if m.net.successors.get(e))
    m.net.successors[dead_end] = ()
    cut = Reachability(m.net)
    assert not cut._strongly_connected
    g.remove_edges_from(list(g.out_edges(dead_end)))
    for a in edges[::7]:
        for b in edges[::5]:
            assert cut.reachable(a, b) == nx.has_path(g, a, b), (a, b)


@pytest.mark.parametrize("mode", ["meso", "micro"])
def test_a_cut_route_is_rerouted_and_drives_as_sumo_drives_its_detour(
        region: RegionInfo, mode: str, tmp_path: Path) -> None:
    net_file = region.path("traffic")
    origin, dest = "city_0_2-city_1_2", "city_4_2-city_5_2"
    twin_out = tmp_path / "twin.xml"
    opts = TrafficOptions(mode=mode, demand_scale=0.0, sumo_args=("--tripinfo-output", str(twin_out)))
    with TrafficModel(net_file, region.districts, 5, opts) as m:
        straight, _ = m.fastest_route(origin, dest)
        assert len(straight) == 5  # straight along the row of junctions
        m.add_trips([Trip("a", 0.0, origin, dest, "city", "city")])
        steps = [m.advance(20.0)]
        assert m.sumo.vehicle.getRoadID("a") in straight[:2]  # before the road that closes
        m.close_road(straight[3])
        steps.append(m.advance(21.0))
        driven = tuple(m.sumo.vehicle.getRoute("a"))  # the route after the closure
        while m.now_s < 1800 and m.sumo.vehicle.getIDCount():
            steps.append(m.advance(m.now_s + 60))
    shut = set(m.net.edges_of_road(m.net.road_of(straight[3])))
    assert driven[0] == origin and driven[-1] == dest and not shut & set(driven)
    assert driven[:3] == straight[:3] and len(driven) > len(straight)  # a detour
    assert sum(st.arrived for st in steps) == 1
    assert sum(st.teleports + st.abandoned + st.cancelled for st in steps) == 0
    # SUMO alone (no twin), the same options and seed, the vehicle given that route from
    # the start: the same trip to the second
    routes = tmp_path / "a.rou.xml"
    routes.write_text(f'<routes><vehicle id="a" depart="0.00" departLane="best" departSpeed="max">'
                      f'<route edges="{" ".join(driven)}"/></vehicle></routes>')
    plain_out = tmp_path / "plain.xml"
    cmd = sumo_command(TrafficOptions(mode=mode, sumo_args=("--tripinfo-output", str(plain_out))),
                       net_file, 5)
    subprocess.run([*cmd, "--route-files", str(routes)], check=True, capture_output=True)
    ours, theirs = _tripinfo(twin_out)["a"], _tripinfo(plain_out)["a"]
    assert ours["routeLength"] == pytest.approx(theirs["routeLength"], abs=0.1)
    assert ours["duration"] == pytest.approx(theirs["duration"], abs=1.0)
    assert ours["duration"] > 0


def _sim(region: RegionInfo, step_s: int, **params: Any) -> TrafficSim:
    sim = TrafficSim()
    sim.init("Traffic-0", time_resolution=1.0, step_s=step_s)
    sim.create(1, "Roads", region_dir=str(region.root), seed=1, **params)
    return sim


@pytest.mark.parametrize("mode", ["meso", "micro"])
def test_a_cut_off_destination_abandons_and_cancels_trips_without_teleports(
        region: RegionInfo, mode: str) -> None:
    # The one rural road joining village1a to its town closes at 60 s: "out" is on it (it
    # left the village at 0 s), "in" drives from the city to the village (at 60 s still in
    # the city), "late" would leave the city for the village at 200 s.
    link = "town1_3_1-village1a_0_1"
    village = "village1a_0_0-village1a_0_1"
    sim = _sim(region, 60, mode=mode, demand_scale=0.0)
    try:
        sim.model.add_trips([Trip("in", 0.0, CITY, village, "city", "village1a"),
                             Trip("out", 0.0, village, CITY, "village1a", "city"),
                             Trip("late", 200.0, CITY, village, "city", "village1a")])
        series, events = [], []
        for t in range(0, 900, 60):
            failed = {"traffic/road/" + link: f"60|traffic/road/{link}|failed"} if t >= 60 else {}
            if t == 60:
                veh = sim.model.sumo.vehicle
                assert veh.getRoadID("out") in sim.model.net.edges_of_road(link)
                assert veh.getRoadID("in").startswith("city_")
            sim.step(t, {"traffic": {"failed": {"Incidents-0.incidents": failed}}}, 10**9)
            out = sim.get_data({"traffic": ["series", "events"]})["traffic"]
            series.append(out["series"])
            events += out["events"]
    finally:
        sim.finalize()

    def total(key: str) -> float:
        return sum(s[key] for s in series)

    assert total("departed") == 2 and total("arrived") == 0
    assert total("trips_abandoned") == 2  # "out" on the closed road, "in" cut off
    assert total("trips_cancelled") == 1  # "late": no open route to the village
    assert series[1]["trips_abandoned"] == 2 and series[3]["trips_cancelled"] == 1
    assert total("teleports") == 0 and series[-1]["vehicles_running"] == 0
    assert not [e for e in events if e["kind"] in ("teleport", "gridlock", *SOLVER_FAILURES)]
    assert run_status(events) == "complete"


def test_gridlock_is_a_result_and_only_teleporting_a_tenth_degrades() -> None:
    assert is_gridlock(300, 1000)  # a jam, reported, but SUMO still simulates it
    assert "gridlock" not in SOLVER_FAILURES and SOLVER_FAILURES["teleport_limit"] == "traffic"
    assert is_teleport_limit(TELEPORT_LIMIT_MIN_VEHICLES, 10 * TELEPORT_LIMIT_MIN_VEHICLES)
    assert not is_teleport_limit(TELEPORT_LIMIT_MIN_VEHICLES, 10 * TELEPORT_LIMIT_MIN_VEHICLES + 1)
    assert not is_teleport_limit(TELEPORT_LIMIT_MIN_VEHICLES - 1, 0)  # a few cars
    assert is_teleport_limit(100, 900)
