"""The built water network: ids, powered assets, PDA options, and sound hydraulics."""

from __future__ import annotations

from pathlib import Path

import pytest
import wntr

from twin.models.water.build import HYDRAULIC_STEP_S, build
from twin.models.water.network import WaterNetwork
from twin.region.layout import make_layout
from twin.region.params import CONFIGURATIONS, params_for


def _build(tmp_path: Path, size: str, configuration: str) -> tuple[list, Path]:
    out = tmp_path / f"{size}-{configuration}"
    assets = build(make_layout(size, 1), params_for(configuration), configuration, out)
    return assets, out / "water.inp"


def test_inp_options_and_assets(tmp_path: Path) -> None:
    assets, inp = _build(tmp_path, "small", "decentralised")
    text = inp.read_text()
    assert "DEMAND MODEL         PDA" in text and "REQUIRED PRESSURE    20.00" in text
    assert "LPS" in text
    wn = wntr.network.WaterNetworkModel(str(inp))
    assert wn.options.time.duration > 0 and wn.options.time.hydraulic_timestep == HYDRAULIC_STEP_S
    ids = {a["id"] for a in assets}
    assert {"water/pump/PS1", "water/tank/T-city", "water/well/town1-1",
            "water/tank/T-town1", "water/junction/process"} <= ids
    assert len(ids) == len(assets)
    for a in assets:
        name = a["id"].split("/")[-1]
        if a["type"] in ("pump", "well"):
            assert a["needs_power"] and a["needs_ict"] and a["p_mw"] > 0
            assert name in wn.pump_name_list
        elif a["type"] in ("junction", "tank", "reservoir"):
            assert name in wn.node_name_list
        elif a["type"] == "pipe":
            assert name in wn.pipe_name_list
    people = sum(a["customers"] for a in assets if a["type"] == "junction")
    assert people == sum(d.population for d in make_layout("small", 1).districts)


def test_shared_assets_identical_across_configurations(tmp_path: Path) -> None:
    central, _ = _build(tmp_path, "small", "centralised")
    decentral, _ = _build(tmp_path, "small", "decentralised")
    c = {a["id"]: a for a in central}
    d = {a["id"]: a for a in decentral}
    for aid in ("water/pump/PS1", "water/pump/PS2", "water/junction/town1-1", "water/pipe/P1"):
        assert (c[aid]["x_m"], c[aid]["y_m"]) == (d[aid]["x_m"], d[aid]["y_m"])
    assert not any(a["type"] == "well" for a in central)
    # same inputs, same file
    _build(tmp_path / "again", "small", "centralised")
    assert (tmp_path / "small-centralised" / "water.inp").read_bytes() == (
        tmp_path / "again" / "small-centralised" / "water.inp"
    ).read_bytes()


@pytest.mark.parametrize("size", ["small", "default", "large"])
@pytest.mark.parametrize("configuration", CONFIGURATIONS)
def test_no_negative_pressure_without_hazards(tmp_path: Path, size: str, configuration: str) -> None:
    """24 h without hazards: every demand junction keeps a positive pressure and its full
    demand is delivered (pressure above the required 20 m)."""
    _, inp = _build(tmp_path, size, configuration)
    with WaterNetwork(inp, step_s=300) as net:
        for k in range(24 * 12):
            snap = net.step(k * 300)
            worst = min(snap.pressure_m[j] for j in net.demand_junctions)
            assert worst > 0.0, (k, worst)
            assert sum(snap.delivered_m3s.values()) == pytest.approx(
                sum(snap.required_m3s.values()), rel=1e-4
            )
            assert all(level > 0.0 for level in snap.tank_level_m.values())
