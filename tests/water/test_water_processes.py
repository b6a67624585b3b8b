"""The water simulator in separate processes: two runs at once in one folder, and mosaik cmd:."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import mosaik
import pytest
import wntr

from twin.models.water.simulator import WaterSim, WaterSimError
from twin.models.water.testing import CollectorSim, bus_of, make_test_region

STEP_S = 300
RUN = """
import json, sys
from twin.models.water.operation import WaterOperation
region, out, k1 = sys.argv[1], sys.argv[2], int(sys.argv[3])
rows = []
with WaterOperation.from_region(region) as op:
    for k in range(24):
        dead = {sys.argv[4]: "c"} if k >= k1 else {}
        o = op.step(k * 300, {}, dead, {})
        rows.append({**o.series["junction_pressure_m"], **o.tank_level_m})
json.dump(rows, open(out, "w"))
"""


def test_two_runs_at_once_in_one_folder(tmp_path: Path) -> None:
    """Two processes started together in the same folder, on the same region, with different
    inputs: both finish and each equals its own plain EPANET run."""
    region = make_test_region(tmp_path / "region", "small", "centralised")
    cases = {"a": 100, "b": 6}  # b loses PS2 at step 6, a never does
    procs = {
        key: subprocess.Popen(
            [sys.executable, "-c", RUN, str(region), str(tmp_path / f"{key}.json"), str(k1),
             bus_of("water/pump/PS2")],
            cwd=region, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        )
        for key, k1 in cases.items()
    }
    for proc in procs.values():
        _, err = proc.communicate(timeout=120)
        assert proc.returncode == 0, err.decode()
    for key, k1 in cases.items():
        rows = json.loads((tmp_path / f"{key}.json").read_text())
        wn = wntr.network.WaterNetworkModel(str(region / "water.inp"))
        wn.options.time.duration = 2 * 3600
        if k1 < 24:
            ctl = wntr.network.controls
            wn.add_control("off", ctl.Control(ctl.SimTimeCondition(wn, "=", k1 * STEP_S),
                                              ctl.ControlAction(wn.get_link("PS2"), "status", 0)))
        ref = wntr.sim.EpanetSimulator(wn).run_sim(
            file_prefix=str(tmp_path / f"ref-{key}")).node["pressure"]
        for k, row in enumerate(rows):
            for aid, p in row.items():
                assert abs(p - ref.loc[k * STEP_S, aid.split("/")[-1]]) < 0.01, (key, k, aid)
    a, b = (json.loads((tmp_path / f"{k}.json").read_text()) for k in "ab")
    assert a[:6] == b[:6] and a[10] != b[10]
    # each run kept its files in its own private folder, removed at close
    assert sorted(p.name for p in region.iterdir()) == ["region.json", "water.inp"]


def test_adapter_runs_as_separate_process(tmp_path: Path) -> None:
    """WaterSim started by mosaik with cmd: gives the same outputs as in-process."""
    region = make_test_region(tmp_path, "small", "centralised")
    results = {}
    for mode, cfg in {
        "cmd": {"cmd": f"{sys.executable} -m twin.models.water.simulator %(addr)s"},
        "python": {"python": "twin.models.water.simulator:WaterSim"},
    }.items():
        world = mosaik.World({
            "Water": cfg,
            "Schedule": {"python": "twin.models.water.testing:ScheduleSim"},
            "Collector": {"python": "twin.models.water.testing:CollectorSim"},
        }, time_resolution=1.0)
        water = world.start("Water", step_s=STEP_S).Network(region_dir=str(region), seed=1)
        entries = [[1200, 2400, "dead_buses", {bus_of("water/pump/PS1"): "e"}]]
        sched = world.start("Schedule", step_s=STEP_S).Schedule(entries=entries)
        coll = world.start("Collector").Collector(key=f"proc-{mode}")
        world.connect(sched, water, "dead_buses")
        world.connect(water, coll, "series", "events", "load_p_mw")
        world.run(until=12 * STEP_S, print_progress=False)
        results[mode] = CollectorSim.RESULTS[f"proc-{mode}"]
    assert len(results["cmd"]) == 12
    assert results["cmd"] == results["python"]
    stopped = [e for _, row in results["cmd"] for e in row["events"] if e["kind"] == "pump_stopped"]
    assert [(e["time_s"], e["asset_id"], e["cause_id"]) for e in stopped] == [
        (1200, "water/pump/PS1", "e")
    ]


def test_unknown_parameter_is_rejected(tmp_path: Path) -> None:

    region = make_test_region(tmp_path, "small", "centralised")
    sim = WaterSim()
    sim.init("Water-0", time_resolution=1.0, step_s=STEP_S)
    with pytest.raises(WaterSimError, match="pump_backup_hours"):
        sim.create(1, "Network", region_dir=str(region), pump_backup_hours=3)
