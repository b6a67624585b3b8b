"""PowerSim in a small mosaik World, in-process: damage in, dead buses and events out."""

from __future__ import annotations

import logging

import mosaik
import mosaik_api_v3
import pytest

from twin.models.power.grid import PowerGrid
from twin.models.power.testgrids import power_region

STEP_S = 300
FAIL_AT = 600
LINE = "power/line/F4-1"


class FailSource(mosaik_api_v3.Simulator):
    """Writes one line failure from FAIL_AT on (a stand-in for the incidents simulator)."""

    def __init__(self) -> None:
        super().__init__({"api_version": "3.0", "type": "time-based", "models": {
            "Src": {"public": True, "params": [], "attrs": ["failed"]}}})
        self.t = 0

    def create(self, num, model, **kw):
        return [{"eid": "incidents", "type": model}]

    def step(self, time, inputs, max_advance):
        self.t = time
        return time + STEP_S

    def get_data(self, outputs):
        failed = {LINE: f"{FAIL_AT}|{LINE}|failed"} if self.t >= FAIL_AT else {}
        return {"incidents": {"failed": failed}}


class Sink(mosaik_api_v3.Simulator):
    """Keeps what it receives, per step."""

    received: list[tuple[int, dict]] = []

    def __init__(self) -> None:
        super().__init__({"api_version": "3.0", "type": "time-based", "models": {
            "Sink": {"public": True, "params": [], "attrs": ["dead_buses", "series", "events"], "any_inputs": True}}})

    def create(self, num, model, **kw):
        return [{"eid": "recorder", "type": model}]

    def step(self, time, inputs, max_advance):
        Sink.received.append((time, inputs["recorder"]))
        return time + STEP_S

    def get_data(self, outputs):
        return {}


@pytest.mark.slow
def test_power_sim_in_a_world(tmp_path):
    region = power_region(tmp_path, "small", "centralised", grid="synthetic")
    logging.getLogger("mosaik").setLevel(logging.WARNING)
    Sink.received = []
    sim_config = {
        "Power": {"python": "twin.models.power.simulator:PowerSim"},
        "Src": {"python": "test_power_sim:FailSource"},
        "Sink": {"python": "test_power_sim:Sink"},
    }
    world = mosaik.World(sim_config, time_resolution=1.0, debug=False)
    src = world.start("Src").Src()
    power = world.start("Power", step_s=STEP_S).Grid(region_dir=str(region), seed=7)
    sink = world.start("Sink").Sink()
    world.connect(src, power, "failed")
    world.connect(power, sink, "dead_buses", "series", "events")
    world.run(until=5 * STEP_S, print_progress=False)
    by_t = {t: next(iter(v["dead_buses"].values())) for t, v in Sink.received}
    assert by_t[0] == {} and by_t[300] == {}
    # the same steps run directly on PowerGrid give the same outputs
    grid = PowerGrid.from_file(region / "power.json", seed=7, step_s=STEP_S, reserve_share=0.3)
    for t in range(0, 5 * STEP_S, STEP_S):
        failed = {LINE: f"{FAIL_AT}|{LINE}|failed"} if t >= FAIL_AT else {}
        direct = grid.step(t, failed=failed)
        assert by_t[t] == direct.dead_buses
        series = next(iter(dict(Sink.received)[t]["series"].values()))
        assert series == direct.series
    assert set(by_t[FAIL_AT]) == {"power/bus/town1-1", "power/bus/town1-2", "power/bus/town1-3",
                                  "power/bus/village1a-1"}


@pytest.mark.slow
def test_power_sim_as_separate_process(tmp_path):
    """The same adapter runs as its own process (``cmd:``) and gives the same outputs."""
    import sys

    region = power_region(tmp_path, "small", "centralised", grid="synthetic")
    Sink.received = []
    sim_config = {
        "Power": {"cmd": f"{sys.executable} -m twin.models.power.simulator %(addr)s"},
        "Src": {"python": "test_power_sim:FailSource"},
        "Sink": {"python": "test_power_sim:Sink"},
    }
    world = mosaik.World(sim_config, time_resolution=1.0)
    src = world.start("Src").Src()
    power = world.start("Power", step_s=STEP_S).Grid(region_dir=str(region), seed=7)
    sink = world.start("Sink").Sink()
    world.connect(src, power, "failed")
    world.connect(power, sink, "dead_buses", "series", "events")
    world.run(until=4 * STEP_S, print_progress=False)
    grid = PowerGrid.from_file(region / "power.json", seed=7, step_s=STEP_S, reserve_share=0.3)
    for t, got in Sink.received:
        failed = {LINE: f"{FAIL_AT}|{LINE}|failed"} if t >= FAIL_AT else {}
        direct = grid.step(t, failed=failed)
        assert next(iter(got["dead_buses"].values())) == direct.dead_buses
        assert next(iter(got["series"].values()))["served_mw"] == pytest.approx(direct.series["served_mw"])
    assert len(Sink.received) == 4
