"""Damage, repair, commands and the coupling outputs of the water operation (no mosaik)."""

from __future__ import annotations

import math
from pathlib import Path

import pandas as pd
import pytest
import wntr
from wntr.network.controls import Control, ControlAction, SimTimeCondition

from twin.models.water.control import commands_from_schedule, pump_tanks, schedule_pumps
from twin.models.water.operation import WaterOperation, WaterOperationError
from twin.models.water.testing import make_test_region
from twin.region.assets import load_region

STEP_S = 300
CAUSE = "600|water/pipe/x|failed"


@pytest.fixture(scope="module")
def central(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_test_region(tmp_path_factory.mktemp("central"), "small", "centralised")


def reference(inp: Path, hours: float, closed: dict[str, tuple[int, int]], tmp: Path) -> pd.DataFrame:
    """Plain EPANET with links closed by time controls over [t0, t1)."""
    wn = wntr.network.WaterNetworkModel(str(inp))
    wn.options.time.duration = int(hours * 3600)
    for name, (t0, t1) in closed.items():
        link = wn.get_link(name)
        wn.add_control(f"{name}-x", Control(SimTimeCondition(wn, "=", t0), ControlAction(link, "status", 0)))
        wn.add_control(f"{name}-o", Control(SimTimeCondition(wn, "=", t1), ControlAction(link, "status", 1)))
    return wntr.sim.EpanetSimulator(wn).run_sim(file_prefix=str(tmp / "ref")).node["pressure"]


def run(op: WaterOperation, n: int, failed=None, commands=None) -> list:
    """Step ``n`` times; ``failed(k)`` / ``commands(k)`` give each step's inputs."""
    outs = []
    for k in range(n):
        outs.append(op.step(k * STEP_S, failed(k) if failed else {}, {},
                            commands(k) if commands else {}))
    return outs


def worst_diff(outs: list, ref: pd.DataFrame) -> float:
    worst = 0.0
    for k, o in enumerate(outs):
        for aid, p in o.series["junction_pressure_m"].items():
            worst = max(worst, abs(p - ref.loc[k * STEP_S, aid.split("/")[-1]]))
        for aid, lvl in o.tank_level_m.items():
            worst = max(worst, abs(lvl - ref.loc[k * STEP_S, aid.split("/")[-1]]))
    return worst


def main_to(inp: Path, node: str) -> str:
    wn = wntr.network.WaterNetworkModel(str(inp))
    return next(p for p in wn.pipe_name_list if wn.get_link(p).end_node_name == node)


def test_closed_pipe_equals_epanet_and_attributes_low_pressure(central: Path, tmp_path: Path) -> None:
    inp = central / "water.inp"
    pipe = main_to(inp, "town1-in")
    k1, k2, n = 2, 6, 8
    with WaterOperation.from_region(central) as op:
        outs = run(op, n, failed=lambda k: {f"water/pipe/{pipe}": CAUSE} if k1 <= k < k2 else {})
    ref = reference(inp, 1.0, {pipe: (k1 * STEP_S, k2 * STEP_S)}, tmp_path)
    assert worst_diff(outs, ref) < 0.01
    # town1 and its village lose supply: their people are out, caused by the pipe failure
    region = load_region(central)
    people = {a["district"]: 0 for a in region.assets_of("water", "junction")}
    for a in region.assets_of("water", "junction"):
        people[a["district"]] += a["customers"]
    out = outs[k1].series["customers_out"]
    assert out["town1"] == people["town1"] and out["village1a"] == people["village1a"]
    assert out["city"] == 0 and out["town2"] == 0
    low = [e for e in outs[k1].events if e["kind"] == "low_pressure"]
    assert low and all(e["cause_id"] == CAUSE and e["coupling"] == "water" for e in low)
    assert {e["asset_id"] for e in outs[k2].events if e["kind"] == "pressure_ok"} == {
        e["asset_id"] for e in low
    }
    assert sum(outs[k2].series["customers_out"].values()) == 0


def test_pipe_leak_follows_orifice_law(central: Path) -> None:
    inp = central / "water.inp"
    pipe = main_to(inp, "town1-in")
    wn = wntr.network.WaterNetworkModel(str(inp))
    area = 0.05 * math.pi * wn.get_link(pipe).diameter ** 2 / 4
    leak_node = f"{pipe}~leak"  # the node splitting the pipe
    with WaterOperation.from_region(central, pipe_break="leak", leak_area_frac=0.05) as op:
        assert op.step(0, {}, {}, {}).series["leak_m3s"] == 0.0
        o1 = op.step(STEP_S, {f"water/pipe/{pipe}": CAUSE}, {}, {})
        snap = op.net.last
        o2 = op.step(2 * STEP_S, {}, {}, {})
    p = snap.pressure_m[leak_node]
    assert p > 10.0
    # EPANET's emitter outflow comes from its last iteration: the law holds to its accuracy
    assert o1.series["leak_m3s"] == pytest.approx(0.75 * area * math.sqrt(2 * 9.81 * p), rel=1e-4)
    assert snap.leak_m3s == {leak_node: pytest.approx(o1.series["leak_m3s"])}
    assert o2.series["leak_m3s"] == 0.0  # repaired


def test_junction_leak_exact(central: Path) -> None:
    with WaterOperation.from_region(central, junction_leak_area_m2=0.003) as op:
        op.step(0, {}, {}, {})
        o = op.step(STEP_S, {"water/junction/city-1": "300|j|failed"}, {}, {})
    p = o.series["junction_pressure_m"]["water/junction/city-1"]
    assert o.series["leak_m3s"] == pytest.approx(0.75 * 0.003 * math.sqrt(2 * 9.81 * p), rel=1e-9)
    # the leak is not counted as delivered demand
    assert o.series["delivered_m3s"] == pytest.approx(o.series["required_m3s"], rel=1e-4)


def test_pump_damage_and_commands_equal_closed_pump(central: Path, tmp_path: Path) -> None:
    inp = central / "water.inp"
    n = 10
    with WaterOperation.from_region(central) as op:
        outs = run(
            op, n,
            failed=lambda k: {"water/pump/PS2": "300|p|failed"} if 1 <= k < 4 else {},
            commands=lambda k: {"water/pump/PS3": {"value": 0, "cause_id": "c1"}} if 5 <= k < 8 else {},
        )
    ref = reference(inp, 1.0, {"PS2": (300, 1200), "PS3": (1500, 2400)}, tmp_path)
    assert worst_diff(outs, ref) < 0.01
    assert [o.pump_on["water/pump/PS2"] for o in outs] == [k not in (1, 2, 3) for k in range(n)]
    assert [o.pump_on["water/pump/PS3"] for o in outs] == [k not in (5, 6, 7) for k in range(n)]
    # a damaged pump is the incident's event; the water sector does not repeat it
    assert not any(e["kind"] == "pump_stopped" for o in outs for e in o.events)
    off = [e for e in outs[5].events if e["asset_id"] == "water/pump/PS3"]
    assert [(e["kind"], e["cause_id"], e["coupling"]) for e in off] == [("pump_off", "c1", "control")]


def test_command_overrides_level_switch_then_rule_returns(central: Path) -> None:
    """PS1 commanded on keeps running above the tank's switch-off level; released, the local
    level switch stops it."""
    pump_tank, thresholds = pump_tanks(central / "water.inp")
    assert pump_tank == {"water/pump/PS1": "water/tank/T-city"}
    with WaterOperation.from_region(central) as op:
        high = [c for c in op.net.pump_controls("PS1") if c[1] == 0.0][0][3]
        levels, on = [], []
        for k in range(60):
            cmd = {"water/pump/PS1": {"value": 1, "cause_id": "c"}} if k < 40 else {}
            o = op.step(k * STEP_S, {}, {}, cmd)
            levels.append(o.tank_level_m["water/tank/T-city"])
            on.append(o.pump_on["water/pump/PS1"])
    assert all(on[:40])
    assert max(levels[:40]) > high  # the local rule would have stopped it
    assert not on[-1] and levels[40] >= high - 0.05
    assert not any(on[41:])


def test_schedule_pumps_hysteresis() -> None:
    pump_tank = {"p1": "t1", "p2": "t2", "p3": "t3"}
    thresholds = {"t1": (2.0, 7.0), "t2": (2.0, 7.0), "t3": (2.0, 7.0)}
    levels = {"t1": 1.5, "t2": 7.5, "t3": 5.0}
    assert schedule_pumps(levels, pump_tank, thresholds, {"p3": False}) == {
        "p1": True, "p2": False, "p3": False,
    }
    assert schedule_pumps(levels, pump_tank, thresholds, {"p3": True})["p3"] is True
    assert schedule_pumps({"t1": 1.0}, pump_tank, thresholds) == {"p1": True}  # no telemetry
    assert commands_from_schedule({"p1": True}, "e1") == {"p1": {"value": 1.0, "cause_id": "e1"}}


def test_process_pressure_and_district_totals(central: Path, tmp_path: Path) -> None:
    with WaterOperation.from_region(central, process_plants=["power/plant/central"]) as op:
        outs = run(op, 4)
    ref = reference(central / "water.inp", 0.5, {}, tmp_path)
    for k, o in enumerate(outs):
        assert o.process_pressure_m["power/plant/central"] == pytest.approx(
            ref.loc[k * STEP_S, "process"], abs=0.01
        )
        s = o.series
        assert sum(s["district_required_m3s"].values()) == pytest.approx(s["required_m3s"])
        assert sum(s["district_delivered_m3s"].values()) == pytest.approx(s["delivered_m3s"])
        assert set(s["district_required_m3s"]) == {"city", "town1", "town2", "village1a", "village2a"}


def test_process_cause_names_the_event_behind_the_process_pressure(central: Path) -> None:
    """The plant's process junction cut off by a failed pipe: the water output names its
    low_pressure event (whose cause is the pipe's failure); with nothing wrong, nothing."""
    with WaterOperation.from_region(central, process_plants=["power/plant/central"]) as op:
        feed = next(link for link in op.net.link_ids if "process" in op.net.link_nodes(link))
        pipe = op.link_asset[feed]
        fail = f"0|{pipe}|failed"
        outs = run(op, 3, failed=lambda k: {pipe: fail} if k >= 1 else {})
    assert outs[0].process_cause == {"power/plant/central": ""}
    low = next(e for o in outs for e in o.events
               if e["kind"] == "low_pressure" and e["asset_id"] == "water/junction/process")
    assert low["cause_id"] == fail
    assert outs[2].process_cause == {"power/plant/central": low["event_id"]}


def test_bad_parameters(central: Path) -> None:
    with pytest.raises(WaterOperationError):
        WaterOperation.from_region(central, pipe_break="explode")


def test_epanet_warning_and_negative_pressure_events(tmp_path: Path) -> None:
    """A demand-driven network with a junction above its source: EPANET warns (code 6,
    negative pressures) and the junction's negative pressure is an event, once."""
    wn = wntr.network.WaterNetworkModel()
    wn.add_reservoir("R", base_head=50.0, coordinates=(0, 0))
    wn.add_junction("J1", base_demand=0.004, elevation=58.0, coordinates=(1, 0))
    wn.add_pipe("P1", "R", "J1", length=10.0, diameter=1.0, roughness=130)
    wn.options.time.duration = 3600
    inp = tmp_path / "dda.inp"
    wntr.network.write_inpfile(wn, str(inp), units="LPS", version=2.2)
    with WaterOperation(inp) as op:
        first = op.step(0)
        second = op.step(STEP_S)
    kinds = {(e["asset_id"], e["kind"], e["value"]) for e in first.events}
    assert ("water/network/epanet", "epanet_warning", 6.0) in kinds
    neg = [e for e in first.events if e["kind"] == "negative_pressure"]
    assert [e["asset_id"] for e in neg] == ["water/junction/J1"]
    assert neg[0]["value"] == pytest.approx(-8.0, abs=1e-3)
    assert second.events == []  # the state did not change


def test_leak_then_isolated_by_crews(central: Path, tmp_path: Path) -> None:
    """A broken main leaks for ``isolate_after_h``, then crews close it: from then on the
    network equals EPANET with the pipe closed."""
    inp = central / "water.inp"
    pipe = main_to(inp, "town1-in")
    aid = f"water/pipe/{pipe}"
    k1, n = 2, 12
    with WaterOperation.from_region(central, pipe_break="leak_then_closed",
                                    isolate_after_h=0.5) as op:
        outs = run(op, n, failed=lambda k: {aid: CAUSE} if k >= k1 else {})
    k_iso = k1 + 6
    leaks = [o.series["leak_m3s"] for o in outs]
    assert all(v == 0.0 for v in leaks[:k1]) and all(v > 0.0 for v in leaks[k1:k_iso])
    assert all(v == 0.0 for v in leaks[k_iso:])
    iso = [(k, e["asset_id"], e["cause_id"]) for k, o in enumerate(outs) for e in o.events
           if e["kind"] == "isolated"]
    assert iso == [(k_iso, aid, CAUSE)]
    # behind the closed main, town1 and its village are cut off as in EPANET with the pipe
    # closed (elsewhere the leak has drained the city tank a little: no exact reference)
    ref = reference(inp, 1.0, {pipe: (k_iso * STEP_S, 10**6)}, tmp_path)
    cut_off = [j for j in outs[0].series["junction_pressure_m"]
               if j.split("/")[-1].startswith(("town1-", "village1a-"))]
    assert len(cut_off) >= 4
    for k in range(k_iso, n):
        for j in cut_off:
            p = outs[k].series["junction_pressure_m"][j]
            assert abs(p - ref.loc[k * STEP_S, j.split("/")[-1]]) < 0.01
    assert outs[k_iso].series["customers_out"]["town1"] > 0
