"""Pressure-driven demand on a three-junction network against the hand-computed formula."""

from __future__ import annotations

import math
from pathlib import Path

import pytest
import wntr

from twin.models.water.network import WaterNetwork

HEAD_M = 50.0
ELEVATIONS_M = {"J1": 20.0, "J2": 40.0, "J3": 55.0}  # pressures 30, 10 and -5 m
BASE_M3S = {"J1": 0.004, "J2": 0.006, "J3": 0.002}


def three_junctions(path: Path, pmin: float, preq: float) -> Path:
    """Reservoir -> J1 -> J2 -> J3 through short, wide pipes (negligible headloss)."""
    wn = wntr.network.WaterNetworkModel()
    wn.add_reservoir("R", base_head=HEAD_M, coordinates=(0, 0))
    prev = "R"
    for k, (name, z) in enumerate(ELEVATIONS_M.items()):
        wn.add_junction(name, base_demand=BASE_M3S[name], elevation=z, coordinates=(k + 1, 0))
        wn.add_pipe(f"P{k + 1}", prev, name, length=10.0, diameter=1.0, roughness=130)
        prev = name
    wn.options.hydraulic.demand_model = "PDA"
    wn.options.hydraulic.minimum_pressure = pmin
    wn.options.hydraulic.required_pressure = preq
    wn.options.time.duration = 3600
    wn.options.time.hydraulic_timestep = 300
    wntr.network.write_inpfile(wn, str(path), units="LPS", version=2.2)
    return path


def pda(base: float, p: float, pmin: float, preq: float, exponent: float = 0.5) -> float:
    """EPANET 2.2's pressure-driven demand: full above preq, none below pmin."""
    if p <= pmin:
        return 0.0
    if p >= preq:
        return base
    return base * ((p - pmin) / (preq - pmin)) ** exponent


@pytest.mark.parametrize(("pmin", "preq"), [(0.0, 20.0), (5.0, 25.0)])
def test_delivered_matches_formula(tmp_path: Path, pmin: float, preq: float) -> None:
    inp = three_junctions(tmp_path / "three.inp", pmin, preq)
    with WaterNetwork(inp, step_s=300) as net:
        snap = net.step(0)
    for name, z in ELEVATIONS_M.items():
        p = HEAD_M - z
        assert snap.pressure_m[name] == pytest.approx(p, abs=1e-3)
        expected = pda(BASE_M3S[name], p, pmin, preq)
        assert snap.delivered_m3s[name] == pytest.approx(expected, rel=1e-3, abs=1e-7)
        assert snap.required_m3s[name] == pytest.approx(BASE_M3S[name], rel=1e-6)
    # J2 is the partial case: a real check of the square-root law
    assert 0 < snap.delivered_m3s["J2"] < BASE_M3S["J2"]
    assert math.isclose(snap.delivered_m3s["J2"] / BASE_M3S["J2"],
                        math.sqrt((10.0 - pmin) / (preq - pmin)), rel_tol=1e-3)


def test_demand_model_override(tmp_path: Path) -> None:
    """Minimum and required pressure set on the toolkit override the INP's."""
    inp = three_junctions(tmp_path / "three.inp", 0.0, 20.0)
    with WaterNetwork(inp, step_s=300, minimum_pressure_m=2.0, required_pressure_m=12.0) as net:
        kind, pmin, preq, pexp = net.demand_model()
        assert kind == "PDA" and (pmin, preq, pexp) == pytest.approx((2.0, 12.0, 0.5))
        snap = net.step(0)
    expected = pda(BASE_M3S["J2"], 10.0, 2.0, 12.0)
    assert snap.delivered_m3s["J2"] == pytest.approx(expected, rel=1e-3)
