"""Foundation check of a coupling against the standalone simulator: in the whole coupled
world, a pump whose bus is de-energised delivers no flow, and the network's pressures and
tank levels equal a plain EPANET run with that pump closed over the same steps."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from twin import results
from twin.models.water.testing import plain_epanet
from twin.runner import run_configuration

STEP_S = 300
K1, K2 = 6, 18  # the line to the booster's bus is out from 0.5 h to 1.5 h


def test_dead_bus_pump_equals_plain_epanet_with_pump_closed(small_scenario, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    # Only the outage; pumps on their local rules (no remote schedule), so the plain EPANET
    # run with the same INP sees the same controls; no automatic restoration over tie
    # switches, so the bus stays dead for the whole outage.
    scenario = small_scenario(control={"water_schedule": False}, run={"baseline": False},
                              power={"policy": "twin.models.power.policy:NoActionPolicy"})
    scenario = scenario.model_copy(update={"hazards": scenario.hazards[:1]})
    out = run_configuration(scenario, "centralised", tmp_path)
    assert out.status == "complete", out.error
    res = results.load(out.path)
    pump = "water/pump/PS2"
    on = res.column("water", "pump_on", pump)
    flow = res.column("water", "pump_flow_m3s", pump)
    off_steps = np.flatnonzero(on == 0)
    # de-energised exactly while the line is out (one step of lag allowed at each end)
    assert K1 <= off_steps.min() <= K1 + 1 and K2 - 1 <= off_steps.max() <= K2
    assert np.all(flow[off_steps] == 0.0)
    assert np.all(flow[:K1] > 0) and np.all(flow[K2 + 1:] > 0)
    t_off, t_on = int(off_steps.min()) * STEP_S, (int(off_steps.max()) + 1) * STEP_S

    region_dir = tmp_path / ".regions" / res.attrs["region_key"]
    ref = plain_epanet(region_dir / "water.inp", 2.0, {"PS2": (t_off, t_on)}, prefix=tmp_path / "ref")
    worst = 0.0
    for name in ("junction_pressure_m", "tank_level_m"):
        cols = res.columns["water"][name]
        values = res.series["water"][name]
        for j, aid in enumerate(cols):
            for k, t in enumerate(res.time_s):
                worst = max(worst, abs(values[k, j] - ref.loc[int(t), aid.split("/")[-1]]))
    assert worst < 0.01, f"coupled run differs from plain EPANET by {worst:.4f} m"
    # and the outage is physical: town1 behind the booster loses pressure
    p = res.column("water", "junction_pressure_m", "water/junction/town1-1")
    assert p[K1 + 2] < p[K1 - 1] - 5.0
