"""Leaks that hydraulics feel: incidents' damage modes, the orifice law, emitters that
would inject water at negative pressure, and the emitter exponent (issue 16, item 4)."""

from __future__ import annotations

import math
from pathlib import Path

import pytest
import wntr

from twin.models.water.network import InpOptionError, WaterNetwork
from twin.models.water.operation import BREAK_AREA_FRAC, WaterOperation
from twin.models.water.testing import make_test_region

STEP_S = 300
CD = 0.75
CAUSE = "0|water/pipe/x|failed"


@pytest.fixture(scope="module")
def central(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_test_region(tmp_path_factory.mktemp("leaks"), "small", "centralised")


def main_to(inp: Path, node: str) -> str:
    wn = wntr.network.WaterNetworkModel(str(inp))
    return next(p for p in wn.pipe_name_list if wn.get_link(p).end_node_name == node)


def test_leak_follows_the_orifice_law_and_equals_plain_epanet(central: Path,
                                                              tmp_path: Path) -> None:
    """A pipe the incidents report as ``leak`` leaks through an emitter on the node that
    splits it; its flow is Cd A sqrt(2 g p) at the solved pressure and every pressure equals
    plain EPANET with the pipe split there and that emitter."""
    inp = central / "water.inp"
    pipe = main_to(inp, "town1-in")
    aid = f"water/pipe/{pipe}"
    wn = wntr.network.WaterNetworkModel(str(inp))
    node = f"{pipe}~leak"
    area = 0.1 * math.pi * wn.get_link(pipe).diameter ** 2 / 4  # leak_area_frac 0.1
    n = 12
    with WaterOperation.from_region(central, generator_start_failure=0.0) as op:
        outs = [op.step(k * STEP_S, {aid: CAUSE}, {}, {}, {}, {aid: {"mode": "leak",
                                                                    "fraction": 1.0}})
                for k in range(n)]
        p_leak = op.net.last.pressure_m[node]
    for o in outs:
        assert o.series["leak_m3s"] > 0.0
    # the orifice law at the solved pressure (EPANET's emitter flow comes from its last
    # iteration: within 1 %)
    last = outs[-1].series["leak_m3s"]
    assert last == pytest.approx(CD * area * math.sqrt(2 * 9.81 * p_leak), rel=0.01)
    # plain EPANET, the pipe split in two by wntr and the same emitter from the start
    wntr.morph.split_pipe(wn, pipe, "half", "mid", split_at_point=0.5, return_copy=False)
    wn.get_node("mid").emitter_coefficient = CD * area * math.sqrt(2 * 9.81)
    wn.options.time.duration = (n - 1) * STEP_S
    ref = wntr.sim.EpanetSimulator(wn).run_sim(file_prefix=str(tmp_path / "ref")).node["pressure"]
    worst = max(abs(p - ref.loc[k * STEP_S, j.split("/")[-1]])
                for k, o in enumerate(outs) for j, p in o.series["junction_pressure_m"].items())
    assert worst < 1e-3
    assert abs(p_leak - ref.loc[(n - 1) * STEP_S, "mid"]) < 1e-3  # at the leak itself


def test_break_leaks_more_and_is_isolated(central: Path) -> None:
    inp = central / "water.inp"
    aid = f"water/pipe/{main_to(inp, 'town1-in')}"

    def leaks(mode: str) -> list[float]:
        with WaterOperation.from_region(central, isolate_after_h=0.5,
                                        generator_start_failure=0.0) as op:
            return [op.step(k * STEP_S, {aid: CAUSE}, {}, {}, {}, {aid: {"mode": mode}})
                    .series["leak_m3s"] for k in range(9)]

    small, large, failed = leaks("leak"), leaks("break"), leaks("failed")
    # ten times the orifice, but the pipe feeding it limits the flow: more, not 10x more
    assert BREAK_AREA_FRAC > 0.1 and large[0] > 1.2 * small[0]
    assert all(v > 0 for v in small)  # a small leak runs until repaired
    assert all(v > 0 for v in large[:6]) and all(v == 0 for v in large[6:])  # crews isolate
    assert all(v == 0 for v in failed)  # pipe_break="closed": closed at once


def test_emitter_at_negative_pressure_is_closed_and_re_solved(tmp_path: Path) -> None:
    """EPANET 2.2 lets an emitter at negative pressure inject water; twin closes it for the
    step, re-solves, and says so."""
    wn = wntr.network.WaterNetworkModel()
    wn.add_reservoir("R", base_head=50.0, coordinates=(0, 0))
    wn.add_junction("J1", base_demand=0.0, elevation=55.0, coordinates=(1, 0))
    wn.add_junction("J2", base_demand=0.001, elevation=40.0, coordinates=(2, 0))
    wn.add_pipe("P1", "R", "J1", length=100.0, diameter=0.2, roughness=130)
    wn.add_pipe("P2", "J1", "J2", length=100.0, diameter=0.2, roughness=130)
    wn.options.time.duration = 3600
    wn.options.hydraulic.unbalanced = "CONTINUE"
    wn.options.hydraulic.unbalanced_value = 10
    inp = tmp_path / "neg.inp"
    wntr.network.write_inpfile(wn, str(inp), units="LPS", version=2.2)
    with WaterOperation(inp, junction_leak_area_m2=0.01) as op:
        first = op.step(0, {"water/junction/J1": CAUSE})
        snap = op.net.last
        second = op.step(STEP_S, {"water/junction/J1": CAUSE})
    closed = [(e["asset_id"], e["value"]) for e in first.events if e["kind"] == "emitter_closed"]
    assert len(closed) == 1 and closed[0][0] == "water/junction/J1"
    assert closed[0][1] == pytest.approx(-5.0, abs=0.01)  # static head: 50 - 55 m
    assert first.series["leak_m3s"] == 0.0
    assert not [e for e in second.events if e["kind"] == "emitter_closed"]  # still closed
    with WaterNetwork(inp) as plain:  # the same network without the leak
        ref = plain.step(0)
    assert snap.emitters_closed == ["J1"]
    for j in ("J1", "J2"):
        assert snap.pressure_m[j] == pytest.approx(ref.pressure_m[j], abs=1e-6)


def test_emitter_exponent_must_be_one_half(tmp_path: Path) -> None:
    wn = wntr.network.WaterNetworkModel()
    wn.add_reservoir("R", base_head=50.0, coordinates=(0, 0))
    wn.add_junction("J1", base_demand=0.001, elevation=10.0, coordinates=(1, 0))
    wn.add_pipe("P1", "R", "J1", length=100.0, diameter=0.2, roughness=130)
    wn.options.hydraulic.emitter_exponent = 0.8
    inp = tmp_path / "exp.inp"
    wntr.network.write_inpfile(wn, str(inp), units="LPS", version=2.2)
    with pytest.raises(InpOptionError, match=r"EMITTER EXPONENT is 0.8"):
        WaterNetwork(inp)
