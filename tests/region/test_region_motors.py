"""pandapower motors, asymmetric loads, wards and sgen subtypes are assets; a pump's motor named
in the dependency CSV becomes the pump's load, rho g Q H / eta from the water simulator, zero
when the pump stops (checked in pandapower's power flow and against a standalone EPANET run)."""

from __future__ import annotations

from pathlib import Path

import pytest

from twin.config import RegionFiles
from twin.region.importers import import_region
from twin.region.params import params_for

# A reservoir pumping through PU into J and on to K: 20 L/s each, a one-point pump curve
# (40 L/s at 50 m), so the pump works hard enough to be seen in the power flow.
PUMP_INP = """[TITLE]
pump and motor
[JUNCTIONS]
 J   10   20
 K   10   20
[RESERVOIRS]
 R   0
[PIPES]
 P1  J  K  1000  300  100  0  Open
[PUMPS]
 PU  R  J  HEAD 1
[CURVES]
 1  40  50
[COORDINATES]
 R  0   0
 J  90  95
 K  95  95
[OPTIONS]
 Units LPS
 Headloss H-W
[END]
"""
MOTOR_MECH_MW, MOTOR_EFF = 0.05, 90.0
HOMES_MW = 0.5


def grid_with_motor(path: Path) -> Path:
    """Buses A (external grid), B, C; homes and the pump motor M1 on C; a wind sgen, a ward
    and an asymmetric load on B."""
    import pandapower as pp

    net = pp.create_empty_network()
    a = pp.create_bus(net, 20.0, name="A", geodata=(0.0, 0.0))
    b = pp.create_bus(net, 20.0, name="B", geodata=(1000.0, 0.0))
    c = pp.create_bus(net, 20.0, name="C", geodata=(1000.0, 1000.0))
    pp.create_ext_grid(net, a, name="grid")
    pp.create_line(net, a, b, 1.0, "NA2XS2Y 1x185 RM/25 12/20 kV", name="AB")
    pp.create_line(net, b, c, 1.0, "NA2XS2Y 1x185 RM/25 12/20 kV", name="BC")
    pp.create_load(net, c, p_mw=HOMES_MW, name="homes")
    pp.create_motor(net, c, pn_mech_mw=MOTOR_MECH_MW, cos_phi=0.9, efficiency_percent=MOTOR_EFF,
                    name="M1")
    pp.create_sgen(net, b, p_mw=0.2, name="W1", type="WP")
    pp.create_ward(net, b, ps_mw=0.01, qs_mvar=0.0, pz_mw=0.002, qz_mvar=0.0, name="WD1")
    pp.create_asymmetric_load(net, b, p_a_mw=0.01, p_b_mw=0.02, p_c_mw=0.03, name="AL1")
    pp.to_json(net, str(path))
    return path


def motor_files(tmp_path: Path, deps: str | None) -> RegionFiles:
    from test_region_import import SQUARE, SQUARE_LINKS, write_tntp

    (tmp_path / "pump.inp").write_text(PUMP_INP)
    link_file, node_file = write_tntp(tmp_path, SQUARE, SQUARE_LINKS)
    extra = {}
    if deps is not None:
        (tmp_path / "deps.csv").write_text(deps)
        extra["dependencies"] = str(tmp_path / "deps.csv")
    return RegionFiles.model_validate({
        "power": str(grid_with_motor(tmp_path / "grid.json")), "water": str(tmp_path / "pump.inp"),
        "traffic": str(link_file), "traffic_nodes": str(node_file),
        "transforms": {"water": {"scale": 10.0}, "traffic": {"scale": 1000.0}}, **extra,
    })


def test_motor_ward_asymmetric_load_and_wind_are_assets(tmp_path: Path) -> None:
    import pandapower as pp

    region = import_region(motor_files(tmp_path, None), "centralised", params_for("centralised"),
                           tmp_path / "cache")
    assets = {a["id"]: a for a in region.assets}
    assert assets["power/motor/M1"]["capacity"] == pytest.approx(MOTOR_MECH_MW / (MOTOR_EFF / 100))
    assert assets["power/wind/W1"]["capacity"] == 0.2
    assert assets["power/ward/WD1"]["capacity"] == pytest.approx(0.012)
    assert assets["power/asymmetric_load/AL1"]["capacity"] == pytest.approx(0.06)
    # not named by a dependency: the motor stays in the grid, the pump couples by proximity
    net = pp.from_json(str(region.path("power")))
    assert list(net.motor.name) == ["power/motor/M1"]
    assert "water/pump/PU" in set(net.load.name)


def test_a_motor_named_in_the_dependency_csv_is_the_pumps_load_and_stops_with_it(tmp_path: Path) -> None:
    import pandapower as pp
    import wntr

    from twin.models.power.grid import PowerGrid
    from twin.models.water.operation import WaterOperation

    region = import_region(motor_files(tmp_path, "consumer,supplier\nwater/pump/PU,power/motor/M1\n"),
                           "centralised", params_for("centralised"), tmp_path / "cache")
    assert region.suppliers("power->water") == {"water/pump/PU": "power/bus/C"}
    assert "power/motor/M1" in {a["id"] for a in region.assets}
    net = pp.from_json(str(region.path("power")))
    assert len(net.motor) == 0  # the motor is now the pump's load on its bus
    pump_load = net.load.index[net.load.name == "water/pump/PU"][0]
    bus_c = int(net.bus.index[net.bus.name == "power/bus/C"][0])
    assert int(net.load.at[pump_load, "bus"]) == bus_c

    # the pump's hydraulic power at t = 0 from a standalone EPANET run of the same file
    wn = wntr.network.WaterNetworkModel(str(region.path("water")))
    wn.options.time.duration = 0
    res = wntr.sim.EpanetSimulator(wn).run_sim(str(tmp_path / "standalone"))
    q = float(res.link["flowrate"].loc[0, "PU"])
    h = float(res.node["head"].loc[0, "J"] - res.node["head"].loc[0, "R"])
    p_expected = 1000.0 * 9.81 * q * h / 0.75 / 1e6
    assert p_expected > 0.01

    water = WaterOperation.from_region(region.root)
    grid = PowerGrid.from_file(region.path("power"), household_profile=False)
    out = water.step(0)
    assert out.load_p_mw["water/pump/PU"] == pytest.approx(p_expected, rel=1e-3)
    grid.step(0, load_p_mw=out.load_p_mw)
    assert grid.net.res_load.at[pump_load, "p_mw"] == pytest.approx(p_expected, rel=1e-3)
    homes = float(grid.net.res_load.loc[grid.net.load.bus == bus_c, "p_mw"].sum()) - p_expected
    assert float(grid.net.res_bus.at[bus_c, "p_mw"]) == pytest.approx(homes + p_expected, rel=1e-6)
    ext_running = float(grid.net.res_ext_grid.p_mw.sum())

    # the pump stops (damaged): its motor draws nothing in the next power flow
    out = water.step(300, failed={"water/pump/PU": "hazard-event"})
    assert out.load_p_mw["water/pump/PU"] == 0.0
    grid.step(300, load_p_mw=out.load_p_mw)
    assert grid.net.res_load.at[pump_load, "p_mw"] == 0.0
    assert float(grid.net.res_bus.at[bus_c, "p_mw"]) == pytest.approx(homes, rel=1e-6)
    assert ext_running - float(grid.net.res_ext_grid.p_mw.sum()) == pytest.approx(p_expected, rel=0.02)


def test_a_motor_named_by_two_consumers_is_an_error(tmp_path: Path) -> None:
    from twin.region.importers import RegionImportError

    deps = "water/pump/PU,power/motor/M1\nict/site/DCC,power/motor/M1,power->ict\n"
    with pytest.raises(RegionImportError, match="drives both") as info:
        import_region(motor_files(tmp_path, deps), "centralised", params_for("centralised"),
                      tmp_path / "cache")
    assert "region.files.dependencies" in str(info.value)


def test_a_disruption_naming_the_motor_damages_its_pump(tmp_path: Path) -> None:
    from twin.config import validate_data
    from twin.hazards import damage_schedule

    f = motor_files(tmp_path, "consumer,supplier\nwater/pump/PU,power/motor/M1\n")
    region = import_region(f, "centralised", params_for("centralised"), tmp_path / "cache")
    (tmp_path / "d.csv").write_text("components,time_stamp,fail_perc\nM1,3600,100\n")
    scenario = validate_data({"region": {"files": f.model_dump(mode="json")},
                              "hazards": [{"kind": "disruption_file", "path": str(tmp_path / "d.csv")}]}, "t")
    assert [d.asset_id for d in damage_schedule(scenario, region.assets)] == ["water/pump/PU"]
