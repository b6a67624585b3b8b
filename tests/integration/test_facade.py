"""The mosaik element facades (twin.facade): the foreign scenario of docs/examples runs as
written, in-process and with the facades as ``cmd:`` processes, and gives the values of
twin's own domain code stepped with the same inputs, which in turn match plain pandapower
and plain EPANET."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pandapower as pp
import pandapower.networks as pn
import pytest

from twin.facade import FacadeError
from twin.facade.common import unique_names
from twin.facade.power import PowerElements
from twin.facade.water import WaterElements
from twin.models.power.grid import PowerGrid
from twin.models.water.importer import shipped_inp
from twin.models.water.operation import WaterOperation
from twin.models.water.testing import plain_epanet

EXAMPLE = Path(__file__).resolve().parents[2] / "docs" / "examples" / "foreign_scenario.py"
STEP_S, HOURS, FAULT = 900, 6, (3600, 4 * 3600)


def _ring() -> pp.pandapowerNet:
    net = pn.simple_mv_open_ring_net()
    for table in ("bus", "line", "trafo", "load", "sgen", "storage", "switch", "ext_grid", "gen"):
        net[table]["name"] = unique_names(list(net[table]["name"]), f"power/{table}")
    return net


def _reference() -> dict[int, dict[str, dict[str, float]]]:
    """twin's domain code stepped in plain Python with the scenario's inputs, in mosaik's
    order: power at t (load 2 = the pump's draw of the step before), then water at t."""
    grid = PowerGrid(_ring(), seed=0, step_s=STEP_S)
    op = WaterOperation(shipped_inp("Net3"), step_s=STEP_S,
                        power_suppliers={"water/pump/10": "bus 3", "water/pump/335": "elsewhere"})
    load2, out = 1.0, {}
    for t in range(0, HOURS * 3600, STEP_S):
        failed = {"line 1": ""} if FAULT[0] <= t < FAULT[1] else {}
        r = grid.step(t, failed=failed, load_p_mw={"load 2": load2})
        live = bool(r.series["bus_energised"]["bus 3"])
        w = op.step(t, dead_buses={} if live else {"bus 3": ""})
        out[t] = {
            "Power.bus 3": {"energised": int(live), "Vm[pu]": float(grid.net.res_bus.at[3, "vm_pu"]) if live else None},
            "Power.bus 2": {"Vm[pu]": float(grid.net.res_bus.at[2, "vm_pu"])},
            "Power.line 0": {"loading[%]": float(grid.net.res_line.at[0, "loading_percent"])},
            "Power.load 2": {"P[MW]": float(r.series["load_served_mw"]["load 2"])},
            "Water.water/pump/10": {"on": int(w.series["pump_on"]["water/pump/10"]),
                                    "P[MW]": float(w.series["pump_p_mw"]["water/pump/10"])},
            "Water.water/junction/10": {"pressure[m]": op.net.last.pressure_m["10"]},
            "Water.water/junction/123": {"pressure[m]": op.net.last.pressure_m["123"]},
            "Water.water/tank/1": {"level[m]": float(w.series["tank_level_m"]["water/tank/1"])},
        }
        load2 = float(w.series["pump_p_mw"]["water/pump/10"])
    op.close()
    return out


@pytest.fixture(scope="module")
def reference() -> dict[int, dict[str, dict[str, float]]]:
    return _reference()


@pytest.mark.parametrize("mode", ["python", "cmd"])
def test_foreign_scenario_runs_as_written_and_equals_twins_code(mode: str, reference, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    out = tmp_path / "values.json"
    argv = [sys.executable, str(EXAMPLE), "--out", str(out)] + (["--cmd"] if mode == "cmd" else [])
    done = subprocess.run(argv, capture_output=True, text=True, timeout=300, cwd=tmp_path)
    assert done.returncode == 0, done.stderr[-2000:]
    assert "bus 3 live" in done.stdout
    got = {int(t): v for t, v in json.loads(out.read_text()).items()}
    assert sorted(got) == sorted(reference)
    assert got == reference  # the same code on the same inputs: equal, not close
    # the cascade happened: bus 3 dark while line 1 is down, the pump with it
    assert [got[t]["Power.bus 3"]["energised"] for t in (0, 3600, 14400)] == [1, 0, 1]
    assert got[7200]["Water.water/pump/10"]["on"] == 0 and got[14400]["Water.water/pump/10"]["on"] == 1
    assert got[7200]["Power.bus 3"]["Vm[pu]"] is None  # a dead bus has no voltage, not nan


def test_reference_matches_plain_pandapower_and_epanet(reference, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    net = _ring()
    pp.runpp(net)  # t = 0: every load at its p_mw, load 2 at its initial 1.0 MW
    assert reference[0]["Power.bus 2"]["Vm[pu]"] == pytest.approx(float(net.res_bus.at[2, "vm_pu"]), abs=1e-9)
    assert reference[0]["Power.line 0"]["loading[%]"] == pytest.approx(float(net.res_line.at[0, "loading_percent"]), abs=1e-7)
    # water: pump 10 unpowered exactly while line 1 is down = closed in plain EPANET
    ref = plain_epanet(shipped_inp("Net3"), HOURS, {"10": FAULT}, prefix=tmp_path / "ref")
    hourly = [t for t in reference if t in ref.index]
    assert len(hourly) == HOURS
    worst = max(abs(reference[t][f"Water.water/junction/{j}"]["pressure[m]"] - float(ref.loc[t, j]))
                for t in hourly for j in ("10", "123"))
    assert worst < 0.01  # the tolerance of the coupled-pump test (EPANET's, with split pipes)


def test_unknown_elements_attributes_and_parameters_are_errors(tmp_path: Path) -> None:
    grid_file = tmp_path / "ring.json"
    pp.to_json(pn.simple_mv_open_ring_net(), str(grid_file))
    sim = PowerElements()
    sim.init("Power-0", step_s=STEP_S)
    with pytest.raises(FacadeError, match="no parameter"):
        sim.create(1, "Network", file=str(grid_file), colour="red")
    with pytest.raises(FacadeError, match="exactly one of"):
        sim.create(1, "Network")
    (entity,) = sim.create(1, "Network", file=str(grid_file))
    kinds = {c["type"] for c in entity["children"]}
    assert kinds == {"Bus", "Line", "Trafo", "Load", "Switch"}
    assert "power/switch/0" in sim.elements  # unnamed switches get documented ids
    with pytest.raises(FacadeError, match="no element 'bus 99'"):
        sim.step(0, {"bus 99": {"failed": {"x": 1}}})
    with pytest.raises(FacadeError, match="has no input 'P\\[MW\\]'"):
        sim.step(0, {"bus 3": {"P[MW]": {"x": 1.0}}})
    with pytest.raises(FacadeError, match="different values"):
        sim.step(0, {"load 2": {"P[MW]": {"a": 1.0, "b": 2.0}}})
    sim.step(0, {})
    with pytest.raises(FacadeError, match="has no output 'pressure\\[m\\]'"):
        sim.get_data({"bus 3": ["pressure[m]"]})
    water = WaterElements()
    water.init("Water-0", step_s=STEP_S)
    with pytest.raises(FacadeError, match="creates only 'Network'"):
        water.create(1, "Junction")
    (net,) = water.create(1, "Network", file="wntr:Net1")
    assert {"Junction", "Tank", "Pipe", "Pump", "Reservoir"} <= {c["type"] for c in net["children"]}
    water.finalize()


def test_power_region_elements_are_its_assets(tmp_path: Path) -> None:
    """A twin region opens with its assets as elements; a failed line darkens what the
    region's own grid model darkens on the same input."""
    from twin.models.power.testgrids import power_region
    from twin.region.assets import load_region

    region = power_region(tmp_path / "r")
    sim = PowerElements()
    sim.init("Power-0", step_s=STEP_S)
    (net,) = sim.create(1, "Network", region_dir=str(region))
    ids = {c["eid"] for c in net["children"]}
    power_assets = {a["id"] for a in load_region(region).assets if a["sector"] == "power"}
    assert {i for i in ids if i.startswith("power/line/")} == {a for a in power_assets if a.startswith("power/line/")}
    line = sorted(i for i in ids if i.startswith("power/line/"))[0]
    own = PowerGrid.from_file(load_region(region).path("power"), seed=0, step_s=STEP_S,
                              reserve_share=float(load_region(region).params.get("battery_reserve_share", 0.3)))
    sim.step(0, {line: {"failed": {"x": 1}}})
    r = own.step(0, failed={line: "ev"})
    buses = sorted(i for i in ids if sim.elements[i] == "Bus")
    got = sim.get_data({b: ["energised"] for b in buses})
    assert {b: got[b]["energised"] for b in buses} == {b: int(r.series["bus_energised"][b]) for b in buses}


def test_docs_list_every_model_and_attribute() -> None:
    """docs/mosaik.md names every element model and attribute of every facade."""
    from twin.facade.ict import IctElements
    from twin.facade.traffic import TrafficElements

    text = (Path(__file__).resolve().parents[2] / "docs" / "mosaik.md").read_text()
    for sim in (PowerElements, WaterElements, IctElements, TrafficElements):
        for name, model in sim.MODELS.items():
            row = next((line for line in text.splitlines() if line.startswith(f"| `{name}` |")), "")
            assert row, f"docs/mosaik.md has no row for {name}"
            for attr in (*model.inputs, *model.outputs):
                assert f"`{attr}`" in row, f"{name}.{attr} missing from its row in docs/mosaik.md"
