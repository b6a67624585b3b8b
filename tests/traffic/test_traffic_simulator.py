"""The mosaik adapter: alone in a World, in its own process, and its couplings step by step."""

from __future__ import annotations

import sys
from typing import Any

import mosaik
import mosaik_api_v3
import pytest

from twin.models.traffic.simulator import TrafficSim
from twin.models.traffic.testing import make_region, signal_bus
from twin.region.assets import RegionInfo

COLLECTED: list[dict[str, Any]] = []


class Collector(mosaik_api_v3.Simulator):
    """Keeps every step's traffic outputs (module-level, for the test to read)."""

    def __init__(self) -> None:
        super().__init__({"api_version": "3.0", "type": "time-based",
                          "models": {"C": {"public": True, "params": [],
                                           "attrs": ["series", "events", "load_p_mw"]}}})

    def init(self, sid: str, time_resolution: float = 1.0, **params: Any) -> dict:
        return self.meta

    def create(self, num: int, model: str, **params: Any) -> list[dict]:
        return [{"eid": "c", "type": model}]

    def step(self, time: int, inputs: dict, max_advance: int) -> int:
        data = inputs.get("c", {})
        COLLECTED.append({attr: next(iter(v.values())) for attr, v in data.items()})
        return time + 300


@pytest.fixture(scope="module")
def region(tmp_path_factory: pytest.TempPathFactory) -> RegionInfo:
    return make_region(tmp_path_factory.mktemp("region"), "small", 1)


def _world_run(region: RegionInfo, traffic_cfg: dict[str, str], hours: float) -> list[dict]:
    COLLECTED.clear()
    cfg = {"Traffic": traffic_cfg, "Collector": {"python": f"{__name__}:Collector"}}
    with mosaik.World(cfg, time_resolution=1.0, skip_greetings=True,
                      configure_logging=False) as world:
        (traffic,) = world.start("Traffic", step_s=300).Roads.create(
            1, region_dir=str(region.root), seed=3)
        (col,) = world.start("Collector").C.create(1)
        world.connect(traffic, col, "series", "events", "load_p_mw")
        world.run(until=int(hours * 3600), print_progress=False)
    return list(COLLECTED)


def test_world_with_traffic_alone(region: RegionInfo) -> None:
    steps = _world_run(region, {"python": "twin.models.traffic.simulator:TrafficSim"}, 8)
    assert len(steps) == 8 * 12
    keys = {k for s in steps for k in s["series"]}
    assert {"time_loss_h", "travel_time_index", "vehicles_running", "arrived",
            "teleports"} <= keys
    assert all(set(s["series"]) == keys for s in steps)  # the same keys at every step
    assert sum(s["series"]["arrived"] for s in steps) > 20
    signals = {a["id"] for a in region.assets if a["type"] == "signal"}
    assert set(steps[0]["load_p_mw"]) == signals
    districts = {d["id"] for d in region.districts}
    assert set(steps[-1]["series"]["district_travel_time_index"]) == districts


def test_traffic_runs_as_a_separate_process(region: RegionInfo) -> None:
    cmd = {"cmd": f"{sys.executable} -m twin.models.traffic.simulator %(addr)s"}
    steps = _world_run(region, cmd, 7)
    inproc = _world_run(region, {"python": "twin.models.traffic.simulator:TrafficSim"}, 7)
    assert [s["series"] for s in steps] == [s["series"] for s in inproc]


def _sim(region: RegionInfo, **params: Any) -> TrafficSim:
    sim = TrafficSim()
    sim.init("Traffic-0", time_resolution=1.0, step_s=300)
    sim.create(1, "Roads", region_dir=str(region.root), seed=1, **params)
    return sim


def _out(sim: TrafficSim) -> dict[str, Any]:
    return sim.get_data({"traffic": ["dark_signals", "load_p_mw", "crew_arrivals", "series",
                                     "events"]})["traffic"]


def test_dead_bus_darkens_its_signals_and_power_return_lights_them(region: RegionInfo) -> None:
    sim = _sim(region, demand_scale=0.0)
    try:
        town_signals = sorted(a["id"] for a in region.assets
                              if a["type"] == "signal" and a["district"] == "town1")
        bus = signal_bus("town1")
        sim.step(0, {}, 10**9)
        assert _out(sim)["dark_signals"] == {}
        sim.step(300, {"traffic": {"dead_buses": {"Power-0.power": {bus: "300|" + bus + "|x"}}}},
                 10**9)
        out = _out(sim)
        assert sorted(out["dark_signals"]) == town_signals
        assert all(out["load_p_mw"][s] == 0.0 for s in town_signals)
        assert all(v > 0 for s, v in out["load_p_mw"].items() if s not in town_signals)
        dark = [e for e in out["events"] if e["kind"] == "dark"]
        assert [e["asset_id"] for e in dark] == town_signals
        assert all(e["cause_id"] == "300|" + bus + "|x" and e["coupling"] == "power->traffic"
                   for e in dark)
        tls = town_signals[0].removeprefix("traffic/signal/")
        assert set(sim.model.sumo.trafficlight.getRedYellowGreenState(tls)) == {"s"}
        sim.step(600, {"traffic": {"dead_buses": {"Power-0.power": {}}}}, 10**9)
        out = _out(sim)
        assert out["dark_signals"] == {}
        assert [e["kind"] for e in out["events"]] == ["lit"] * len(town_signals)
        assert "s" not in sim.model.sumo.trafficlight.getRedYellowGreenState(tls)
    finally:
        sim.finalize()


def test_failed_road_closes_and_crew_arrives(region: RegionInfo) -> None:
    sim = _sim(region, demand_scale=0.0)
    try:
        road = "traffic/road/city_1_1-city_1_2"
        sim.step(0, {"traffic": {"failed": {"Incidents-0.incidents": {road: "0|" + road + "|f"}}}},
                 10**9)
        assert "city_1_1-city_1_2" in sim.model.closed_roads
        crew = {"value": 1.0, "origin": "city_0_0-city_0_1", "destination": road,
                "asset": road, "cause_id": "0|" + road + "|f"}
        failed = {"Incidents-0.incidents": {road: "0|" + road + "|f"}}
        arrivals: dict[str, Any] = {}
        events: list[dict] = []
        for t in range(300, 3600, 300):  # control repeats the command every step
            sim.step(t, {"traffic": {"failed": failed,
                                     "commands": {"Control-0.control": {"crew/A": crew}}}}, 10**9)
            out = _out(sim)
            arrivals.update(out["crew_arrivals"])
            events += out["events"]
        rec = arrivals["crew/A"]
        assert rec["status"] == "arrived" and rec["asset"] == road
        assert 0 < rec["travel_time_s"] < 1200
        (ev,) = [e for e in events if e["kind"] == "crew_arrived"]
        assert ev["coupling"] == "traffic->restoration" and ev["cause_id"] == crew["cause_id"]
        sim.step(3600, {"traffic": {"failed": {"Incidents-0.incidents": {}}}}, 10**9)
        assert sim.model.closed_roads == frozenset()
    finally:
        sim.finalize()


def test_signals_fall_back_to_fixed_time_without_commands(region: RegionInfo) -> None:
    sim = _sim(region, demand_scale=0.0)
    try:
        signals = sorted(sim.signal_p_mw)
        cmds = {s: {"value": 1.0, "cause_id": ""} for s in signals}
        sim.step(0, {"traffic": {"commands": {"Control-0.control": {}}}}, 10**9)
        sim.step(300, {"traffic": {"commands": {"Control-0.control": cmds}}}, 10**9)
        assert _out(sim)["events"] == []  # still coordinated: no change
        lost = signals[0]
        rest = {s: c for s, c in cmds.items() if s != lost}
        site_down = "300|ict/site/bs-1|failed"  # why ICT cannot reach the signal
        sim.step(600, {"traffic": {"commands": {"Control-0.control": rest},
                                   "unreachable": {"ICT-0.ict": {lost: site_down}}}}, 10**9)
        (ev,) = _out(sim)["events"]
        assert (ev["asset_id"], ev["kind"], ev["coupling"]) == (lost, "fixed_time", "ict->traffic")
        assert ev["cause_id"] == site_down  # explain: site failed -> signal on fixed time
        assert not sim.model.coordinated(lost)
    finally:
        sim.finalize()


def test_a_world_left_open_does_not_block_the_next(region: RegionInfo) -> None:
    stale = _sim(region, demand_scale=0.0)  # never finalized, like an aborted run
    stale.step(0, {}, 10**9)
    fresh = _sim(region, demand_scale=0.0)
    try:
        fresh.step(0, {}, 10**9)
        assert _out(fresh)["series"]["vehicles_running"] == 0.0
    finally:
        fresh.finalize()
        stale.finalize()  # harmless after the takeover


def test_sumo_failure_is_an_event_and_the_run_goes_on(region: RegionInfo) -> None:
    sim = _sim(region)
    try:
        sim.step(0, {}, 10**9)
        keys = set(_out(sim)["series"])
        sim.model.close()  # SUMO is gone (as if it had crashed): advance() fails
        assert sim.step(300, {}, 10**9) == 600
        out = _out(sim)
        (ev,) = out["events"]
        assert (ev["kind"], ev["coupling"]) == ("simulator_error", "simulator")
        assert set(out["series"]) == keys and out["series"]["time_loss_h"] == 0.0
        sim.step(600, {}, 10**9)
        assert _out(sim)["events"] == []  # reported once
    finally:
        sim.finalize()


def test_gridlock_threshold_separates_a_jam_from_congestion():
    from twin.models.traffic.simulator import GRIDLOCK_MIN_VEHICLES, is_gridlock

    assert not is_gridlock(1, 2)  # one waiting car is congestion, not a gridlock
    assert not is_gridlock(GRIDLOCK_MIN_VEHICLES, 1000)  # 2 % of the network
    assert is_gridlock(300, 1000)
    assert not is_gridlock(GRIDLOCK_MIN_VEHICLES - 1, GRIDLOCK_MIN_VEHICLES - 1)
