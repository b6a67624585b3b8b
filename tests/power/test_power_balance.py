"""Energy that balances: every island, every step, from the power-flow results."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from twin.models.power.grid import PowerGrid
from twin.models.power.profiles import pv_factor
from twin.models.power.testgrids import shed_household_microgrid

STEP = 300
TOL_MW = 1e-6
FAILED = {"power/line/L1": "0|power/line/L1|failed"}
NOON = 12 * 3600
CONFIG = Path(__file__).resolve().parents[2] / "cosim_configs" / "default.toml"


def assert_balanced(series: dict, where: str = "") -> None:
    """generation + storage discharge = load + storage charge + losses, per island."""
    for k, gen in series["island_generation_mw"].items():
        lhs = gen + series["island_storage_discharge_mw"][k]
        rhs = (series["island_load_mw"][k] + series["island_storage_charge_mw"][k]
               + series["island_losses_mw"][k])
        assert abs(lhs - rhs) <= TOL_MW, f"{where} island {k}: {lhs} != {rhs}"


def test_shed_household_leaves_the_community_battery_to_the_hospital():
    grid = PowerGrid(shed_household_microgrid(), step_s=STEP, battery_efficiency=1.0,
                     household_profile=False)
    start = 10 * 3600
    grid.step(start - STEP)
    e_home = grid.step(start - STEP).series["battery_energy_mwh"]["power/battery/town"]
    served_steps, dropped_at = 0, None
    for k in range(40):
        res = grid.step(start + k * STEP, failed=FAILED)
        s = res.series
        assert_balanced(s, f"step {k}")
        served = s["load_served_mw"]
        if served["power/load/hospital"] > 0:
            served_steps += 1
            # the households are shed, the prosumers among them run on their own systems
            assert s["island_load_mw"]["power/microgrid/town"] == pytest.approx(0.2, abs=1e-9)
            assert s["island_storage_discharge_mw"]["power/microgrid/town"] == pytest.approx(0.2, abs=1e-9)
            assert s["island_storage_charge_mw"]["power/microgrid/town"] == 0.0
            assert s["island_generation_mw"]["power/microgrid/town"] == 0.0
            # the backup-capable prosumers only (default share 0.3 of 60, 1.2 kW each)
            assert served["power/load/C-1"] == pytest.approx(0.36 * 60 * 0.3 / 300)
        elif dropped_at is None:
            dropped_at = k
            assert "power/bus/B" in res.dead_buses
            assert [e for e in res.events if e["kind"] == "exhausted"]
        # the home battery moves only by its own PV and the prosumers' load (behind the meter)
        e_now = s["battery_energy_mwh"]["power/battery/town"]
        p_in = s["storage_charge_mw"]["power/battery/town"] - s["storage_discharge_mw"]["power/battery/town"]
        assert e_now - e_home == pytest.approx(p_in * STEP / 3600, abs=1e-12)
        e_home = e_now
    expected = 0.5 / 0.2 * 3600 / STEP  # 30 steps = 2.5 h
    assert abs(served_steps - expected) <= 1
    assert dropped_at is not None and abs(dropped_at - expected) <= 1


def test_households_exporting_more_than_they_draw_are_not_shed():
    """Every household owns PV, more than it draws at noon: shedding them would take their
    PV (behind their inverters) out of the island and gain nothing, so they stay and the
    community battery carries the rest, their home batteries charging only from their PV."""
    seed = 2
    pv_mw = 0.4 * pv_factor(seed, NOON)
    assert pv_mw > 0.24
    grid = PowerGrid(shed_household_microgrid(households=200, prosumers=200, pv_kw=2.0), seed=seed, step_s=STEP,
                     battery_efficiency=1.0, household_profile=False, profiles="synthetic")
    res = grid.step(NOON, failed=FAILED)
    s = res.series
    assert_balanced(s)
    assert not [e for e in res.events if e["kind"] == "shed"]
    assert s["island_load_mw"]["power/microgrid/town"] == pytest.approx(0.44, abs=1e-9)
    home = s["storage_charge_mw"]["power/battery/town"]
    assert home == pytest.approx(min(pv_mw - 0.24, 0.8))  # the surplus (4 kW each, 200 homes)
    assert s["island_storage_charge_mw"]["power/microgrid/town"] == pytest.approx(home, abs=1e-9)
    assert s["island_storage_discharge_mw"]["power/microgrid/town"] == pytest.approx(0.2, abs=1e-9)


def check_run_invariants(power: dict[str, np.ndarray], columns: dict[str, list[str]],
                         e_min: dict[str, float], e_max: dict[str, float], eta: float,
                         step_s: int) -> None:
    """The invariants over a whole recorded run (arrays (T, K) with their columns)."""
    def col(name: str, key: str) -> np.ndarray:
        return power[name][:, columns[name].index(key)]

    for k in columns["island_generation_mw"]:
        lhs = col("island_generation_mw", k) + col("island_storage_discharge_mw", k)
        rhs = col("island_load_mw", k) + col("island_storage_charge_mw", k) + col("island_losses_mw", k)
        assert np.max(np.abs(lhs - rhs), initial=0.0) <= TOL_MW, k
        assert float(np.abs(lhs - rhs).sum()) * step_s / 3600 <= 1e-4, k  # MWh over the run
    dt_h = step_s / 3600
    for a in columns["battery_energy_mwh"]:
        e = col("battery_energy_mwh", a)
        assert np.all(e >= e_min[a] - 1e-9) and np.all(e <= e_max[a] + 1e-9), a
        de = np.diff(e)
        expect = (col("storage_charge_mw", a)[1:] * eta - col("storage_discharge_mw", a)[1:] / eta) * dt_h
        assert np.allclose(de, expect, atol=1e-9), a
    assert power["island_load_mw"].sum() > 0 and power["island_losses_mw"].sum() > 0
    assert np.all(power["served_mw"] <= power["demand_mw"] + 1e-9)
    served = power["district_served_mw"]
    assert np.all(served <= power["district_demand_mw"] + 1e-9)


@pytest.mark.slow
def test_invariants_hold_at_every_step_of_24h_storm_runs(tmp_path):
    """The default storm over the small region, 24 h, every configuration."""
    import pandapower as pp

    from twin import results
    from twin.config import load_scenario
    from twin.runner import REGION_CACHE, run_scenario

    scenario = load_scenario(CONFIG, [
        "run.hours=24", 'region.size="small"', "run.baseline=false",
        'run.configurations=["centralised", "decentralised", "anchor_towns"]',
    ])
    outcomes = run_scenario(scenario, tmp_path)
    assert len(outcomes) == 3
    for o in outcomes:
        assert o.status == "complete", o.error
        res = results.load(o.path)
        net = pp.from_json(str(tmp_path / REGION_CACHE / res.attrs["region_key"] / "power.json"))
        st = net.storage
        e_min = st.groupby("name")["min_e_mwh"].sum().to_dict()
        e_max = st.groupby("name")["max_e_mwh"].sum().to_dict()
        eta = float(np.sqrt(scenario.power.grid_options().get("battery_efficiency", 0.9)))
        check_run_invariants(res.series["power"], res.columns["power"], e_min, e_max, eta, res.step_s)
        assert len(res.time_s) == 24 * 3600 // res.step_s


def test_without_backup_inverters_only_the_microgrid_serves_in_an_outage():
    """backup_capable_share = 0 on the shed-household microgrid: the energy not served falls
    below the whole demand only by what the community battery delivers (the hospital's
    0.2 MW, lossless); no household, prosumer or not, is served."""
    grid = PowerGrid(shed_household_microgrid(), step_s=STEP, battery_efficiency=1.0,
                     household_profile=False, backup_capable_share=0.0)
    served = delivered = demand = 0.0
    for k in range(12):
        s = grid.step(10 * 3600 + k * STEP, failed=FAILED).series
        assert_balanced(s, f"step {k}")
        assert s["load_served_mw"]["power/load/C-1"] == 0.0
        assert s["customers_out"]["town"] == pytest.approx(300)
        served += s["served_mw"] * STEP / 3600
        demand += s["demand_mw"] * STEP / 3600
        delivered += s["island_storage_discharge_mw"]["power/microgrid/town"] * STEP / 3600
    assert served == pytest.approx(delivered) == pytest.approx(0.2 * 12 * STEP / 3600)
    assert demand - served == pytest.approx((0.36 + 0.2) * 12 * STEP / 3600 - delivered)
