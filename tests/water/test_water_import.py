"""Foreign EPANET networks (shipped with wntr) as twin water networks."""

from __future__ import annotations

from pathlib import Path

import mosaik
import pytest
import wntr

from twin.models.water.importer import InpImportError, import_inp, shipped_inp
from twin.models.water.network import WaterNetwork
from twin.models.water.testing import CollectorSim

STEP_S = 300


def full_pressures(inp: Path, hours: float, prefix: Path):
    wn = wntr.network.WaterNetworkModel(str(inp))
    wn.options.time.duration = int(hours * 3600)
    return wntr.sim.EpanetSimulator(wn).run_sim(file_prefix=str(prefix)).node["pressure"]


def test_net3_through_mosaik_equals_full_run(tmp_path: Path) -> None:
    """Net3 (GPM, with time and level controls on its pumps) stepped through mosaik."""
    assets = import_inp(shipped_inp("Net3"), tmp_path, step_s=STEP_S, hours=4,
                        minimum_pressure_m=0.0, required_pressure_m=20.0)
    inp = tmp_path / "water.inp"
    assert " LPS" in inp.read_text() and "DEMAND MODEL         PDA" in inp.read_text()
    pumps = [a for a in assets if a["type"] == "pump"]
    assert {a["id"] for a in pumps} == {"water/pump/10", "water/pump/335"}
    assert all(a["needs_power"] and a["p_mw"] > 0 for a in pumps)
    world = mosaik.World({
        "Water": {"python": "twin.models.water.simulator:WaterSim"},
        "Collector": {"python": "twin.models.water.testing:CollectorSim"},
    }, time_resolution=1.0)
    water = world.start("Water", step_s=STEP_S).Network(region_dir=str(tmp_path), seed=0, hours=4)
    coll = world.start("Collector").Collector(key="net3")
    world.connect(water, coll, "series", "tank_level_m", "pump_on")
    n = 4 * 3600 // STEP_S
    world.run(until=n * STEP_S, print_progress=False)
    rows = CollectorSim.RESULTS["net3"]
    ref = full_pressures(inp, 4, tmp_path / "full")
    worst = 0.0
    for t, row in rows:
        for aid, p in row["series"]["junction_pressure_m"].items():
            worst = max(worst, abs(p - ref.loc[t, aid.split("/")[-1]]))
        for aid, lvl in row["tank_level_m"].items():
            worst = max(worst, abs(lvl - ref.loc[t, aid.split("/")[-1]]))
    assert len(rows) == n and worst < 0.01
    # Net3's lake pump 10 opens at 1 h by a time control: the stepped run saw it
    on = [row["pump_on"]["water/pump/10"] for _, row in rows]
    assert on[0] is False and on[12] is True


@pytest.mark.parametrize("name", ["Net1", "ky10"])
def test_shipped_network_steps_like_full_run(tmp_path: Path, name: str) -> None:
    assets = import_inp(shipped_inp(name), tmp_path, step_s=STEP_S, hours=1)
    inp = tmp_path / "water.inp"
    wn = wntr.network.WaterNetworkModel(str(inp))
    assert len(assets) == len(wn.node_name_list) + len(wn.link_name_list)
    ref = full_pressures(inp, 1, tmp_path / "full")
    with WaterNetwork(inp, step_s=STEP_S) as net:
        assert net.hydraulic_step_s == STEP_S or STEP_S % net.hydraulic_step_s == 0
        for k in range(12):
            snap = net.step(k * STEP_S)
            for node, p in snap.pressure_m.items():
                assert p == pytest.approx(ref.loc[k * STEP_S, node], abs=0.01)


def test_us_units_are_rewritten_on_open(tmp_path: Path) -> None:
    """Opening Net1 (GPM, psi) directly gives metres: the same as its LPS import."""
    import_inp(shipped_inp("Net1"), tmp_path, step_s=STEP_S, hours=1,
               minimum_pressure_m=0.0, required_pressure_m=0.1)
    with WaterNetwork(tmp_path / "water.inp") as a, WaterNetwork(shipped_inp("Net1")) as b:
        sa, sb = a.step(0), b.step(0)
    assert sb.pressure_m == pytest.approx(sa.pressure_m, abs=0.01)


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(InpImportError):
        import_inp(tmp_path / "nope.inp", tmp_path)
    with pytest.raises(InpImportError):
        shipped_inp("Net99")
