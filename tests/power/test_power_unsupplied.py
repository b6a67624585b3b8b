"""A consumer whose load is shed on a live bus is unsupplied, for the other sectors."""

from __future__ import annotations

from twin.models.ict.fixtures import district_bus, make_ict_region
from twin.models.power.consumers import supply_cause
from twin.models.power.grid import PowerGrid
from twin.models.power.testgrids import shedding_feeder

FAILED = {"power/line/L1": "0|power/line/L1|failed"}
STEP = 300


def test_shed_consumers_on_a_live_bus_are_unsupplied_with_their_shed_event():
    # 0.5 MW of battery against 1.4 MW: households (0.6), then the ICT site (0.2) and the
    # hospital (0.3) go in shed order; the pump (water, shed last) stays
    grid = PowerGrid(shedding_feeder(battery_mw=0.5), step_s=STEP, household_profile=False)
    assert grid.step(0).unsupplied == {}
    res = grid.step(STEP, failed=FAILED)
    shed = {e["asset_id"]: e for e in res.events if e["kind"] == "shed"}
    assert set(shed) == {"power/load/B-1", "ict/site/S1", "power/load/hospital"}
    assert "power/bus/B" not in res.dead_buses  # the bus is live
    # only coupled consumers (ids of other sectors), each with its own shed event
    assert res.unsupplied == {"ict/site/S1": shed["ict/site/S1"]["event_id"]}
    # the state holds without new events, and the output stays
    again = grid.step(2 * STEP, failed=FAILED)
    assert again.unsupplied == res.unsupplied
    assert not [e for e in again.events if e["kind"] == "shed"]
    # the grid returns: restored, supplied again
    back = grid.step(3 * STEP)
    assert back.unsupplied == {}
    assert "ict/site/S1" in {e["asset_id"] for e in back.events if e["kind"] == "restored"}


def test_supply_cause_dead_bus_first_then_shed_load():
    dead = {"power/bus/B": "de|B"}
    assert supply_cause("ict/site/S1", "power/bus/B", dead, {"ict/site/S1": "shed|S1"}) == "de|B"
    assert supply_cause("ict/site/S1", "power/bus/C", dead, {"ict/site/S1": "shed|S1"}) == "shed|S1"
    assert supply_cause("ict/site/S1", "power/bus/C", dead, {}) == ""
    assert supply_cause("ict/site/S1", None, {}, None) == ""


def test_ict_site_with_shed_load_runs_on_battery_then_goes_down(tmp_path):
    from twin.models.ict.build import load_graph
    from twin.models.ict.network import IctNetwork, endpoints_from_region
    from twin.region.assets import load_region

    root = make_ict_region(tmp_path, "small", "centralised", overrides={"ict_backup_h": 0.5})
    region = load_region(root)
    g = load_graph(root)
    net = IctNetwork(g, endpoints_from_region(region, g), region.suppliers("power->ict"))
    site = sorted(s for s in net.sites if net.graph.nodes[s]["district"] == "town1")[0]
    bus = district_bus("town1")
    assert net.site_bus[site] == bus
    events = []
    for t in range(0, 3600, STEP):  # its bus stays live; its load is shed from 600 s
        unsupplied = {site: "600|" + site + "|shed"} if t >= 600 else {}
        events += net.step(t, STEP, {}, {}, unsupplied)
    down = [e for e in events if e["kind"] == "down"]
    assert [e["asset_id"] for e in down] == [site]
    # 0.5 h of battery from 600 s: down at 600 + 1800 = 2400 s, caused by the shed event
    assert down[0]["time_s"] == 2400
    assert (down[0]["cause_id"], down[0]["coupling"]) == ("600|" + site + "|shed", "power->ict")


def test_signal_with_shed_load_goes_dark_with_the_shed_event(tmp_path):
    from twin.models.traffic.simulator import TrafficSim
    from twin.models.traffic.testing import make_region

    region = make_region(tmp_path)
    signals = sorted(a["id"] for a in region.assets if a["type"] == "signal")
    sim = TrafficSim()
    sim.init("Traffic-0", time_resolution=1.0, step_s=STEP)
    sim.create(1, "Roads", region_dir=str(region.root), seed=1, demand_scale=0.0)
    try:
        sig = signals[0]
        sim.step(0, {}, 10**9)
        shed = {"Power-0.power": {sig: "300|" + sig + "|shed"}}
        sim.step(300, {"traffic": {"dead_buses": {"Power-0.power": {}}, "unsupplied": shed}}, 10**9)
        out = sim.get_data({"traffic": ["dark_signals", "events"]})["traffic"]
        assert list(out["dark_signals"]) == [sig]  # only this one: its bus is live
        dark = [e for e in out["events"] if e["kind"] == "dark"]
        assert [(e["asset_id"], e["cause_id"], e["coupling"]) for e in dark] == [
            (sig, "300|" + sig + "|shed", "power->traffic")]
        sim.step(600, {"traffic": {"unsupplied": {"Power-0.power": {}}}}, 10**9)
        out = sim.get_data({"traffic": ["dark_signals", "events"]})["traffic"]
        assert out["dark_signals"] == {} and [e["kind"] for e in out["events"]] == ["lit"]
    finally:
        sim.finalize()
