"""IctNetwork without mosaik: batteries, site state, incremental reachability vs BFS."""

from __future__ import annotations

import math

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from twin.models.ict.build import DCC_ID, load_graph
from twin.models.ict.fixtures import district_bus, make_ict_region
from twin.models.ict.network import IctNetwork, bfs_reachable, endpoints_from_region
from twin.region.assets import load_region

STEP = 300


def make_net(tmp_path, configuration="centralised", **overrides) -> IctNetwork:
    root = make_ict_region(tmp_path / configuration, "small", configuration, overrides=overrides)
    region = load_region(root)
    g = load_graph(root)
    return IctNetwork(g, endpoints_from_region(region, g), region.suppliers("power->ict"))


@pytest.fixture(scope="module")
def nets(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("ict")
    return {c: make_net(tmp, c) for c in ("centralised", "decentralised", "anchor_towns")}


def run_dead_bus(net: IctNetwork, dead: dict[int, bool], until_s: int, bus: str):
    """Step the network; ``dead[t]`` switches the bus dead/alive from t on."""
    events, state = [], False
    for t in range(0, until_s, STEP):
        state = dead.get(t, state)
        events += net.step(t, STEP, {}, {bus: "B|dead"} if state else {})
    return events


@pytest.mark.parametrize("backup_h", [1.0, 1.1, 0.0])
def test_site_goes_down_when_backup_runs_out(tmp_path, backup_h):
    net = make_net(tmp_path, ict_backup_h=backup_h)
    t_dead = 600
    events = run_dead_bus(net, {t_dead: True}, 8 * 3600, district_bus("city"))
    downs = [e for e in events if e["kind"] == "down"]
    city_sites = sorted(s for s in net.sites if net.graph.nodes[s]["district"] == "city")
    assert sorted(e["asset_id"] for e in downs) == city_sites
    expected = t_dead + math.ceil(backup_h * 3600 / STEP) * STEP  # hand computation
    for e in downs:
        assert e["time_s"] == expected
        assert abs(e["time_s"] - (t_dead + backup_h * 3600)) < STEP
        assert (e["cause_id"], e["coupling"]) == ("B|dead", "power->ict")
    # the control centre died with the city: every endpoint is cut, caused by a site event
    unreach = [e for e in events if e["kind"] == "unreachable"]
    assert {e["asset_id"] for e in unreach} == set(net.endpoints)
    down_ids = {e["event_id"] for e in downs}
    assert all(e["cause_id"] in down_ids and e["coupling"] == "ict" for e in unreach)
    assert all(e["time_s"] == expected for e in unreach)


def test_battery_recharges_after_power_returns(tmp_path):
    net = make_net(tmp_path, ict_backup_h=1.0)
    # dead 600..2400 (drains 1800 s), alive 2400..3000 (recharges 600 s), dead from 3000:
    # 2400 s left, so down at 3000 + 2400 = 5400.
    events = run_dead_bus(net, {600: True, 2400: False, 3000: True}, 7200, district_bus("town1"))
    downs = {e["asset_id"]: e["time_s"] for e in events if e["kind"] == "down"}
    assert downs and set(downs.values()) == {5400}
    assert net.battery_h()[sorted(downs)[0]] == 0.0


def test_power_return_brings_site_up_with_event(tmp_path):
    net = make_net(tmp_path, ict_backup_h=0.0)
    events = run_dead_bus(net, {300: True, 1200: False}, 2400, district_bus("village1a"))
    kinds = [(e["time_s"], e["kind"]) for e in events if e["asset_id"].startswith("ict/")]
    assert (300, "down") in kinds and (1200, "up") in kinds
    village_eps = {e for e, ep in net.endpoints.items() if ep.district == "village1a"}
    assert {e["asset_id"] for e in events if e["kind"] == "reachable"} == village_eps
    assert net.unreachable == {}


def test_load_is_zero_while_down(tmp_path):
    net = make_net(tmp_path, ict_backup_h=0.0)
    net.step(0, STEP, {DCC_ID: "F|dcc"}, {})
    load = net.load_p_mw()
    assert load[DCC_ID] == 0.0
    assert load["ict/site/BS1"] == net.graph.nodes["ict/site/BS1"]["p_mw"] > 0
    assert net.sites_down == {DCC_ID: "F|dcc"}
    assert set(net.unreachable.values()) == {"F|dcc"}  # failed site: no extra ICT event


def test_cause_is_the_first_cut_element_on_the_old_path(nets):
    net = nets["centralised"]
    net.step(0, STEP, {}, {})
    village = [e for e, ep in net.endpoints.items() if ep.district == "village1a"]
    site = net.endpoints[village[0]].site
    radio = next(e["id"] for u, v, e in net.graph.edges(site, data=True))
    net.step(300, STEP, {radio: "F|radio", "ict/link/ARtown1-ARcity": "F|backhaul"}, {})
    assert {net.unreachable[e] for e in village} == {"F|radio"}
    town = [e for e, ep in net.endpoints.items() if ep.district == "town1"]
    assert {net.unreachable[e] for e in town} == {"F|backhaul"}
    net.step(600, STEP, {}, {})
    assert net.unreachable == {}


def test_local_change_touches_only_its_components(nets):
    net = nets["decentralised"]
    net.step(0, STEP, {}, {})
    n = net.graph.number_of_nodes()
    bs = next(s for s, d in net.graph.nodes(data=True)
              if d["district"] == "village2a" and d["role"] == "access")
    ctrl = next(s for s, d in net.graph.nodes(data=True)
                if d["district"] == "village2a" and d["role"] == "controller")
    assert list(net.graph.neighbors(ctrl)) == [bs]
    net.step(300, STEP, {bs: "F|v"}, {})
    assert net.reach.touched_last == n  # one component: all of it is relabelled
    net.step(600, STEP, {bs: "F|v", ctrl: "F|c"}, {})
    assert net.reach.touched_last == 1  # the village controller was isolated already
    net.step(900, STEP, {}, {})
    assert net.reachable == set(net.endpoints)


def _elements(net: IctNetwork) -> list[str]:
    return sorted(net.sites) + sorted(net.links)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data(), configuration=st.sampled_from(["centralised", "decentralised",
                                                      "anchor_towns"]))
def test_incremental_reachability_equals_bfs(nets, data, configuration):
    net = nets[configuration]
    net.step(0, STEP, {}, {})  # back to all up
    elements = _elements(net)
    steps = data.draw(st.lists(st.sets(st.sampled_from(elements), max_size=6), min_size=1,
                               max_size=12))
    for k, down in enumerate(steps):
        failed = {el: f"F|{el}" for el in sorted(down)}
        net.step((k + 1) * STEP, STEP, failed, {})
        sites = {el for el in down if el in net.graph}
        links = set(down) - sites
        expected = bfs_reachable(net.graph, net.endpoints, sites, links)
        assert net.reachable == expected
        assert set(net.unreachable) == set(net.endpoints) - expected
        assert set(net.unreachable.values()) <= set(failed.values())
    net.step(10_000, STEP, {}, {})
    assert net.reachable == set(net.endpoints)
