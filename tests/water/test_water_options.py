"""An imported INP's own demand options and patterns apply unless the scenario sets them,
and every override is reported (issue 16, item 2)."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
import wntr

from twin.config import Scenario
from twin.models.water.importer import import_inp
from twin.models.water.network import WaterNetwork
from twin.models.water.operation import WaterOperation

STEP_S = 300
BASE_LPS = {"J1": 4.0, "J2": 2.5}
PATTERN = [0.5, 1.0, 1.5, 0.8]  # the INP's default pattern "day" (1 h periods)

INP = """[TITLE]
A user's network with its own demand options

[JUNCTIONS]
 J1   10   4.0
 J2   12   2.5

[RESERVOIRS]
 R    80

[PIPES]
 P1   R    J1   500   200   130   0   Open
 P2   J1   J2   300   150   130   0   Open

[PATTERNS]
 day  0.5  1.0  1.5  0.8

[OPTIONS]
 UNITS              LPS
 HEADLOSS           H-W
 PATTERN            day
 DEMAND MODEL       PDA
 MINIMUM PRESSURE   5
 REQUIRED PRESSURE  30
 PRESSURE EXPONENT  0.6
 UNBALANCED         CONTINUE 10

[TIMES]
 DURATION           4:00
 HYDRAULIC TIMESTEP 0:05
 PATTERN TIMESTEP   1:00

[COORDINATES]
 R    0    0
 J1   1    0
 J2   2    0

[END]
"""


@pytest.fixture()
def own_inp(tmp_path: Path) -> Path:
    src = tmp_path / "user.inp"
    src.write_text(INP)
    import_inp(src, tmp_path / "imported", step_s=STEP_S, hours=4)
    return tmp_path / "imported" / "water.inp"


def test_import_keeps_the_inp_demand_options_and_patterns(own_inp: Path) -> None:
    with WaterOperation(own_inp) as op:
        assert op.net.demand_model() == pytest.approx(("PDA", 5.0, 30.0, 0.6))
        outs = [op.step(k * STEP_S) for k in range(0, 48, 12)]  # one step per pattern hour
    assert not [e for o in outs for e in o.events if e["kind"] == "option_overridden"]
    for hour, out in enumerate(outs):
        for j, base in BASE_LPS.items():
            req = out.series["junction_required_m3s"][f"water/junction/{j}"]
            assert req == pytest.approx(base * PATTERN[hour] / 1000.0, rel=1e-9)
    # the INP's exponent and bounds decide the delivery: EPANET's own PDA with them
    wn = wntr.network.WaterNetworkModel(str(own_inp))
    wn.options.time.duration = 0
    ref = wntr.sim.EpanetSimulator(wn).run_sim(file_prefix=str(own_inp.parent / "ref"))
    for j in BASE_LPS:
        assert outs[0].series["junction_delivered_m3s"][f"water/junction/{j}"] == pytest.approx(
            float(ref.node["demand"].loc[0, j]), rel=1e-6)


def test_scenario_values_override_and_are_reported(own_inp: Path,
                                                   caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING, logger="twin.models.water.network"):
        with WaterOperation(own_inp, minimum_pressure_m=0.0, required_pressure_m=30.0) as op:
            assert op.net.demand_model() == pytest.approx(("PDA", 0.0, 30.0, 0.6))
            first, second = op.step(0), op.step(STEP_S)
    over = [(e["asset_id"], e["value"]) for e in first.events if e["kind"] == "option_overridden"]
    assert over == [("water/option/minimum_pressure", 0.0)]  # 30 m is the INP's own value
    assert not [e for e in second.events if e["kind"] == "option_overridden"]
    assert "MINIMUM PRESSURE 5.0 overridden to 0.0" in caplog.text


def test_demand_driven_inp_stays_demand_driven(tmp_path: Path) -> None:
    src = tmp_path / "dda.inp"
    src.write_text(INP.replace(" DEMAND MODEL       PDA\n", ""))
    import_inp(src, tmp_path / "imported", step_s=STEP_S, hours=4)
    inp = tmp_path / "imported" / "water.inp"
    with WaterNetwork(inp) as net:
        assert net.demand_model()[0] == "DDA"
    with WaterOperation(inp, required_pressure_m=20.0) as op:  # the scenario asks for PDA
        assert op.net.demand_model()[0] == "PDA"
        events = op.step(0).events
    over = {e["asset_id"]: e["value"] for e in events if e["kind"] == "option_overridden"}
    assert over["water/option/demand_model"] == 1.0  # 1 = PDA
    assert over["water/option/required_pressure"] == 20.0


def test_scenario_pressures_default_to_the_inp() -> None:
    water = Scenario.model_validate({}).water
    assert water.minimum_pressure_m is None and water.required_pressure_m is None
    with pytest.raises(ValueError, match="required_pressure_m\n.*must exceed"):
        Scenario.model_validate({"water": {"minimum_pressure_m": 20.0,
                                           "required_pressure_m": 10.0}})
