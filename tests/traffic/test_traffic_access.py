"""Hospital access on the current edge times, against sumolib and networkx on the same times."""

from __future__ import annotations

import math
import random

import networkx as nx
import pytest
import sumolib

from twin.models.traffic.access import ACCESS_TIME_S, HospitalAccess, open_edges
from twin.models.traffic.network import RoadNetwork
from twin.models.traffic.testing import make_region
from twin.models.traffic.traffic import TrafficModel, TrafficOptions
from twin.region.assets import RegionInfo


@pytest.fixture(scope="module")
def region(tmp_path_factory: pytest.TempPathFactory) -> RegionInfo:
    return make_region(tmp_path_factory.mktemp("region"), "small", 1)


def _hospital_xy(region: RegionInfo) -> tuple[float, float]:
    f = next(f for f in region.layout["facilities"] if f["id"] == "hospital")
    return float(f["x_m"]), float(f["y_m"])


def _networkx_times(net_file: str, times: dict[str, float], closed_edges: set[str],
                    destination: str) -> dict[str, float]:
    """Edge-to-edge fastest times apart from twin: the line graph of the connections that
    sumolib reads, weighted by the time of the edge left, plus the destination's time."""
    net = sumolib.net.readNet(net_file)
    g = nx.DiGraph()
    for e in net.getEdges():
        if e.getID() in closed_edges:
            continue
        for succ in e.getOutgoing():
            if succ.getID() not in closed_edges:
                g.add_edge(e.getID(), succ.getID(), weight=times[e.getID()])
    lengths = nx.single_source_dijkstra_path_length(g.reverse(), destination, weight="weight")
    return {e: d + times[destination] for e, d in lengths.items()}


def test_free_flow_times_equal_sumolibs_fastest_path(region: RegionInfo) -> None:
    net = RoadNetwork.read(region.path("traffic"))
    times = {e: info.free_flow_s for e, info in net.edges.items()}
    dest = "city_1_1-city_1_2"
    ours = HospitalAccess(net, region.districts, {}).times_to(times, (), dest)
    assert set(ours) == set(net.edges)  # every edge has a way there
    ref = sumolib.net.readNet(str(region.path("traffic")))
    rnd = random.Random(5)
    for origin in rnd.sample(sorted(net.edges), 40):
        _, cost = ref.getFastestPath(ref.getEdge(origin), ref.getEdge(dest))
        assert ours[origin] == pytest.approx(cost, rel=1e-9)


def test_loaded_times_with_a_closure_equal_networkx(region: RegionInfo) -> None:
    """SUMO's edge times in the morning peak with a road closed, then the same times given
    to networkx: every edge's time to the hospital agrees, and the closed road is no way."""
    closed_road = "city_1_1-city_1_2"
    with TrafficModel(region.path("traffic"), region.districts, 3,
                      TrafficOptions(demand_scale=0.5)) as m:
        m.close_road(closed_road)
        m.advance(7 * 3600)
        for k in range(12):
            m.advance(7 * 3600 + (k + 1) * 300)
        times = m.edge_travel_times()
        closed = m.closed_roads
    net = RoadNetwork.read(region.path("traffic"))
    assert any(t > 1.05 * net.edges[e].free_flow_s for e, t in times.items())  # congestion seen
    usable = open_edges(net, closed)
    shut = set(net.edges) - usable
    assert shut == set(net.edges_of_road(closed_road))
    access = HospitalAccess(net, region.districts, {"h": _hospital_xy(region)})
    dest = next(e for e in access.hospital_edges["h"] if e in usable)
    ours = access.times_to(times, closed, dest)
    ref = _networkx_times(str(region.path("traffic")), times, shut, dest)
    assert set(ours) == set(ref)
    for e, t in ref.items():
        assert ours[e] == pytest.approx(t, rel=1e-12)
    # the district figures follow from those times
    result = access.compute(times, closed)
    for d in region.districts:
        streets = net.street_edges(d["id"])
        share = sum(ref.get(e, math.inf) <= ACCESS_TIME_S for e in streets) / len(streets)
        a = result[(d["id"], "h")]
        assert a.reach_frac == pytest.approx(share)
        assert a.centre_s == pytest.approx(ref[access.centre[d["id"]]])


def test_a_cut_off_district_reaches_nothing(region: RegionInfo) -> None:
    """Closing the only road into a village: none of its people reach the hospital, the
    others still do; a hospital time limit below the drive makes the share 0 as well."""
    net = RoadNetwork.read(region.path("traffic"))
    times = {e: info.free_flow_s for e, info in net.edges.items()}
    village = next(d for d in region.districts if d["kind"] == "village")
    links = sorted({net.road_of(e.id) for e in net.edges.values()
                    if (e.from_node.split("_", 1)[0] == village["id"])
                    != (e.to_node.split("_", 1)[0] == village["id"])})
    assert links  # the village's connection to its town
    access = HospitalAccess(net, region.districts, {"h": _hospital_xy(region)})
    open_result = access.compute(times, ())
    assert all(a.reach_frac == 1.0 for a in open_result.values())
    cut = access.compute(times, links)
    assert cut[(village["id"], "h")].reach_frac == 0.0
    assert math.isinf(cut[(village["id"], "h")].centre_s)
    assert cut[("city", "h")].reach_frac == 1.0
    strict = HospitalAccess(net, region.districts, {"h": _hospital_xy(region)}, limit_s=60.0)
    assert strict.compute(times, ())[(village["id"], "h")].reach_frac == 0.0


def test_adapter_updates_every_15_min_and_on_closures(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """TrafficSim with a hospital in the region: series keyed district|hospital, recomputed
    at 0 and 900 s, and at once in the step a road closes (not in between)."""
    import json

    from twin.models.traffic.simulator import TrafficSim
    from twin.region.assets import REGION_FILE, make_asset

    reg = make_region(tmp_path, "small", 1)
    data = json.loads((reg.root / REGION_FILE).read_text())
    x, y = _hospital_xy(reg)
    data["assets"].append(make_asset("power/load/hospital", "power", "load", x, y, "city",
                                     capacity=0.8, capacity_unit="MW", critical=True))
    (reg.root / REGION_FILE).write_text(json.dumps(data))
    sim = TrafficSim()
    sim.init("Traffic", step_s=300)
    sim.create(1, "Roads", region_dir=str(reg.root), seed=1, demand_scale=0.0)
    village = next(d for d in reg.districts if d["kind"] == "village")
    net = sim.model.net
    links = sorted({net.road_of(e.id) for e in net.edges.values()
                    if (e.from_node.split("_", 1)[0] == village["id"])
                    != (e.to_node.split("_", 1)[0] == village["id"])})
    updates = []
    try:
        for t in (0, 300, 600, 900, 1200, 1500):
            failed = {f"traffic/road/{r}": "F|road" for r in links} if t >= 1500 else {}
            sim.step(t, {"traffic": {"failed": {"incidents": failed}}}, 10**9)
            updates.append(sim.access_updates)
            series = sim.get_data({"traffic": ["series"]})["traffic"]["series"]
            key = f"{village['id']}|power/load/hospital"
            assert set(series["hospital_reach_frac"]) == {f"{d['id']}|power/load/hospital"
                                                          for d in reg.districts}
            if t < 1500:
                assert series["hospital_reach_frac"][key] == 1.0
                assert 0.0 < series["hospital_travel_time_s"][key] < ACCESS_TIME_S
            else:
                assert series["hospital_reach_frac"][key] == 0.0
                assert math.isnan(series["hospital_travel_time_s"][key])
    finally:
        sim.finalize()
    assert updates == [1, 1, 1, 2, 2, 3]
    assert sim.access_cost_s > 0.0
