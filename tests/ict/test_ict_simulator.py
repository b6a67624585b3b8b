"""IctSim in a mosaik World: battery timing and reachability through steps vs BFS."""

from __future__ import annotations

import math

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from twin.models.ict.build import load_graph
from twin.models.ict.fixtures import district_bus, make_ict_region, run_ict_world
from twin.models.ict.network import bfs_reachable, endpoints_from_region
from twin.models.ict.simulator import IctSim
from twin.region.assets import load_region

STEP = 300


@pytest.fixture(scope="module")
def region0(tmp_path_factory):
    """Small decentralised region whose sites have no battery (down with their bus)."""
    root = make_ict_region(tmp_path_factory.mktemp("r0"), "small", "decentralised",
                           overrides={"ict_backup_h": 0.0})
    region = load_region(root)
    g = load_graph(root)
    return root, region, g, endpoints_from_region(region, g)


def test_site_on_dead_bus_goes_down_when_backup_runs_out(tmp_path):
    backup_h = 1.5
    root = make_ict_region(tmp_path, "small", "centralised", overrides={"ict_backup_h": backup_h})
    t_dead = 900
    out = run_ict_world(root, {0: {}, t_dead: {"dead_buses": {district_bus("town2"): "B|t2"}}},
                        4 * 3600, outputs=("sites_down", "events", "series", "load_p_mw"),
                        seed=1)
    g = load_graph(root)
    town2 = sorted(s for s, d in g.nodes(data=True) if d["district"] == "town2")
    first_down = min(t for t, v in out.items() if v["sites_down"])
    assert first_down == t_dead + math.ceil(backup_h * 3600 / STEP) * STEP
    assert abs(first_down - (t_dead + backup_h * 3600)) <= STEP
    assert sorted(out[first_down]["sites_down"]) == town2
    downs = [e for e in out[first_down]["events"] if e["kind"] == "down"]
    assert {e["cause_id"] for e in downs} == {"B|t2"}
    # battery: full before, drained linearly on the dead bus, empty at the down step
    bat = {t: v["series"]["battery_h"][town2[0]] for t, v in out.items()}
    assert bat[0] == backup_h
    assert bat[t_dead + 1800] == pytest.approx(backup_h - 2100 / 3600)
    assert bat[first_down] == 0.0
    assert out[first_down]["load_p_mw"][town2[0]] == 0.0
    assert out[first_down - STEP]["load_p_mw"][town2[0]] > 0.0


def test_separate_process_gives_the_same_outputs(region0):
    root = region0[0]
    script = {0: {}, 600: {"failed": {"ict/site/ARtown1": "F|1"},
                           "dead_buses": {district_bus("village2a"): "B|v"}}, 1500: {}}
    a = run_ict_world(root, script, 2400, seed=1)
    b = run_ict_world(root, script, 2400, seed=1, mode="cmd")
    assert a == b
    assert a[600]["unreachable"] and not a[1500]["unreachable"]


def test_series_values(region0):
    root, region, g, eps = region0
    out = run_ict_world(root, {0: {"failed": {"ict/site/ECtown1": "F|ec"}}}, STEP,
                        outputs=("series",), seed=1)
    s = out[0]["series"]
    cut = [e for e, ep in eps.items() if ep.controller == "ict/site/ECtown1"]
    assert s["endpoints_total"] == len(eps)
    assert s["endpoints_reachable"] == len(eps) - len(cut)
    assert s["sites_up"] == g.number_of_nodes() - 1
    in_town1 = [e for e, ep in eps.items() if ep.district == "town1"]
    ok_town1 = [e for e in in_town1 if e not in cut]
    assert s["district_reachable_frac"]["town1"] == len(ok_town1) / len(in_town1)
    assert s["site_state"]["ict/site/ECtown1"] == 0.0
    assert s["endpoint_reachable"][cut[0]] == 0.0


def test_unknown_output_is_an_error(region0):
    sim = IctSim()
    sim.init("ICT", step_s=STEP)
    sim.create(1, "Network", region_dir=str(region0[0]), seed=1)
    with pytest.raises(ValueError, match="no outputs"):
        sim.get_data({"ict": ["nonsense"]})


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_reachability_through_mosaik_equals_bfs(region0, data):
    root, region, g, eps = region0
    elements = sorted(g.nodes) + sorted(e["id"] for *_, e in g.edges(data=True))
    site_bus = region.suppliers("power->ict")
    buses = sorted(set(site_bus.values()))
    n = data.draw(st.integers(1, 8))
    script: dict[int, dict[str, dict[str, str]]] = {}
    expected: dict[int, set[str]] = {}
    for k in range(n):
        down = data.draw(st.sets(st.sampled_from(elements), max_size=5))
        dead = data.draw(st.sets(st.sampled_from(buses), max_size=2))
        script[k * STEP] = {"failed": {el: f"F|{el}" for el in down},
                            "dead_buses": {b: f"B|{b}" for b in dead}}
        sites = {el for el in down if el in g} | {s for s, b in site_bus.items() if b in dead}
        expected[k * STEP] = bfs_reachable(g, eps, sites, set(down) - sites)
    out = run_ict_world(root, script, n * STEP, seed=1)
    for t, reach in expected.items():
        assert set(out[t]["unreachable"]) == set(eps) - reach, t
