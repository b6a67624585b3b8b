"""Prosumers: PV on the daylight curve, home batteries by mode, self-supply in outages."""

from __future__ import annotations

import math

import pytest

from twin.models.power.grid import PowerGrid, PowerGridError
from twin.models.power.profiles import (
    STORM_CLOUD_FACTOR,
    cloud_factor,
    daylight_factor,
    household_factor,
    pv_factor,
    storm_overcast,
)
from twin.models.power.testgrids import prosumer_feeder

FAILED = {"power/line/L1": "0|power/line/L1|failed"}
NIGHT = 2 * 3600  # no sun
STEP = 300


def test_profiles():
    assert sum(household_factor(h * 3600) for h in range(24)) / 24 == pytest.approx(1.0)
    assert daylight_factor(0) == 0.0 and daylight_factor(12 * 3600) == pytest.approx(1.0)
    assert daylight_factor(9 * 3600) == pytest.approx(math.sin(math.pi * 3 / 12))
    # seeded clouds: same seed same hour same value, in range, hour-wise constant
    assert cloud_factor(5, 12 * 3600) == cloud_factor(5, 12 * 3600 + 1800)
    assert 0.3 <= cloud_factor(5, 12 * 3600) <= 1.0
    assert pv_factor(5, 12 * 3600) == pytest.approx(cloud_factor(5, 12 * 3600))
    assert len({cloud_factor(s, 12 * 3600) for s in range(5)}) == 5


@pytest.mark.parametrize("share", [0.0, 0.3, 1.0])
def test_only_backup_capable_prosumers_supply_themselves_at_night(share):
    grid = PowerGrid(prosumer_feeder(), battery_efficiency=0.81, household_profile=False, step_s=STEP,
                     backup_capable_share=share)
    grid.step(NIGHT - STEP)
    res = grid.step(NIGHT, failed=FAILED)
    # 40 of 100 households own PV and a battery; 40 * share of them island behind a
    # backup-capable inverter at 1.2 kW each (below the 3 kW backup rating), the rest is out
    assert res.series["served_mw"] == pytest.approx(40 * share * 1.2e-3, abs=1e-12)
    assert res.series["customers_out"]["village"] == pytest.approx(100 - 40 * share)
    assert res.series["pv_mw"] == 0.0
    # the step before, all 40 batteries covered their homes' 0.048 MW (backup mode also
    # self-consumes above its reserve while the grid is up); in the outage only the
    # backup-capable ones discharge; one-way efficiency 0.9
    energy = 0.32 - (0.048 + 40 * share * 1.2e-3) * STEP / 3600 / 0.9
    assert res.series["battery_soc"]["power/battery/village"] == pytest.approx(energy / 0.32)


def test_backup_rating_limits_what_an_islanded_home_serves():
    grid = PowerGrid(prosumer_feeder(load_kw=4.0), battery_efficiency=1.0, household_profile=False,
                     step_s=STEP, backup_capable_share=0.5)
    res = grid.step(NIGHT, failed=FAILED)
    # 20 backup-capable homes draw 4 kW each, their inverters give 3 kW: 0.06 MW served, and
    # those homes have supply (not out)
    assert res.series["served_mw"] == pytest.approx(20 * 3e-3)
    assert res.series["customers_out"]["village"] == pytest.approx(80)
    assert res.series["storage_discharge_mw"]["power/battery/village"] == pytest.approx(0.06)


def test_islanded_homes_serve_until_their_batteries_are_empty():
    """Half of 40 prosumers are backup-capable with 0.5 kWh batteries: 20 x 0.5 kWh = 0.01
    MWh carry their 20 x 1.2 kW = 0.024 MW for exactly 5 steps of 5 min (efficiency 1)."""
    grid = PowerGrid(prosumer_feeder(battery_kwh=0.5), battery_efficiency=1.0, household_profile=False,
                     step_s=STEP, backup_capable_share=0.5)
    served = [grid.step(NIGHT + k * STEP, failed=FAILED).series for k in range(8)]
    assert [s["served_mw"] for s in served] == pytest.approx([0.024] * 5 + [0.0] * 3, abs=1e-9)
    assert [s["customers_out"]["village"] for s in served] == pytest.approx([80] * 5 + [100] * 3, abs=1e-6)
    assert sum(s["served_mw"] for s in served) * STEP / 3600 == pytest.approx(0.01)
    for s in served:
        assert 0.0 <= s["battery_soc"]["power/battery/village"] <= 1.0


def test_without_backup_inverters_energy_not_served_equals_no_prosumers():
    """backup_capable_share = 0: no prosumer household is served while its bus is dark, so
    energy not served over a day-time outage equals the grid without prosumers (the
    centralised value for the same dark bus): all demand, 100 x 1.2 kW for 12 steps."""
    ens = {}
    for label, net in (("prosumers", prosumer_feeder()), ("none", prosumer_feeder(prosumers=0))):
        grid = PowerGrid(net, household_profile=False, step_s=STEP, backup_capable_share=0.0, seed=3)
        lost = 0.0
        for k in range(12):
            s = grid.step(10 * 3600 + k * STEP, failed=FAILED).series
            assert s["load_served_mw"]["power/load/B-1"] == 0.0 and s["pv_mw"] == 0.0
            assert s["customers_out"]["village"] == pytest.approx(100)
            lost += (s["demand_mw"] - s["served_mw"]) * STEP / 3600
        ens[label] = lost
    assert ens["prosumers"] == pytest.approx(ens["none"]) == pytest.approx(0.12 * 12 * STEP / 3600)


def test_pv_reconnects_300_s_after_the_grid_returns():
    """IEEE 1547-2018 enter-service delay: the step the line comes back, the homes' PV and
    batteries stay off the network (the grid serves all 0.12 MW); one step (300 s) later PV
    feeds in again."""
    grid = PowerGrid(prosumer_feeder(), household_profile=False, step_s=STEP, seed=3, profiles="synthetic")
    noon = 12 * 3600
    pv_mw = 0.16 * pv_factor(3, noon + 2 * STEP)
    assert grid.step(noon - STEP).series["pv_mw"] > 0
    grid.step(noon, failed=FAILED)
    back = grid.step(noon + STEP).series
    assert back["pv_mw"] == 0.0 and back["served_mw"] == pytest.approx(0.12)
    assert back["storage_charge_mw"]["power/battery/village"] == 0.0
    assert back["storage_discharge_mw"]["power/battery/village"] == 0.0
    later = grid.step(noon + 2 * STEP).series
    assert later["pv_mw"] == pytest.approx(pv_mw)


def test_storm_overcast_dims_pv_under_the_wind_field():
    """A storm whose centre passes the feeder at noon: PV there is daylight x 0.25
    (overcast) while the gust at the feeder is at least gale force, the seeded clouds else."""
    storm = {"track_m": [[-20000.0, 0.0], [20000.0, 0.0]], "start_h": 10.0, "end_h": 14.0,
             "peak_wind_ms": 40.0, "decay_m": 5000.0}
    # centre at x = -20 km + 10 km/h * (t - 10 h); the gust 40 exp(-d / 5 km) >= 17.2 m/s
    # within d <= 5 km * ln(40 / 17.2) = 4.22 km of the PV's bus at x = 1 km, i.e. while the
    # centre is between x = -3.22 km and 5.22 km: from 11:40.7 to 12:31.3
    grid = PowerGrid(prosumer_feeder(), household_profile=False, step_s=STEP, seed=3, storms=[storm],
                     profiles="synthetic")
    for hh, mm, covered in ((11, 40, False), (11, 45, True), (12, 30, True), (12, 35, False)):
        t = hh * 3600 + mm * 60
        factor = daylight_factor(t) * (STORM_CLOUD_FACTOR if covered else cloud_factor(3, t))
        assert grid.step(t).series["pv_mw"] == pytest.approx(0.16 * factor), (hh, mm)
    assert storm_overcast([storm], 1000.0, 0.0, 12 * 3600)
    assert not storm_overcast([storm], 1000.0, 0.0, 9 * 3600)  # before the storm starts


def test_seasons():
    # equinox is the profile the twin always had; summer days are longer and brighter,
    # winter days shorter and dimmer with more household energy
    assert daylight_factor(12 * 3600, "equinox") == daylight_factor(12 * 3600) == pytest.approx(1.0)
    assert daylight_factor(5 * 3600, "summer") > 0 == daylight_factor(5 * 3600, "equinox")
    assert daylight_factor(12 * 3600, "summer") == pytest.approx(1.15)
    assert daylight_factor(12 * 3600, "winter") == pytest.approx(0.55)
    assert daylight_factor(8 * 3600, "winter") == 0.0
    for name, load in (("equinox", 1.0), ("summer", 0.85), ("winter", 1.2)):
        assert sum(household_factor(h * 3600, name) for h in range(24)) / 24 == pytest.approx(load)
    grid = PowerGrid(prosumer_feeder(), step_s=STEP, season="winter", profiles="synthetic")
    assert grid.step(0).series["demand_mw"] == pytest.approx(0.12 * household_factor(0, "winter"))
    with pytest.raises(PowerGridError, match="season"):
        PowerGrid(prosumer_feeder(), season="monsoon")
    with pytest.raises(PowerGridError, match="backup_capable_share"):
        PowerGrid(prosumer_feeder(), backup_capable_share=1.5)


def test_battery_modes_over_a_night():
    socs = {}
    for mode in ("backup", "self_consumption", "grid_support"):
        grid = PowerGrid(prosumer_feeder(), battery_efficiency=1.0, household_profile=False,
                         battery_mode=mode, reserve_share=0.3, step_s=3600)
        for h in range(18, 30):  # 18:00 to 06:00, no sun
            res = grid.step(h * 3600)
        socs[mode] = res.series["battery_soc"]["power/battery/village"]
    # prosumers draw 0.048 MW from 0.32 MWh: backup stops at its 30 % reserve, self-consumption
    # empties (6.7 h < 12 h); grid support discharges at full 0.16 MW in the evening peak
    # (profile >= 1.2 from 18:00 to 21:00) down to the reserve and then holds
    assert socs["backup"] == pytest.approx(0.3)
    assert socs["self_consumption"] == pytest.approx(0.0)
    assert socs["grid_support"] == pytest.approx(0.3)


def test_battery_mode_command_overrides_default_for_one_step():
    grid = PowerGrid(prosumer_feeder(), battery_efficiency=1.0, household_profile=False,
                     battery_mode="backup", step_s=3600)
    grid.step(0)
    soc0 = grid.step(3600).series["battery_soc"]["power/battery/village"]
    cmd = {"power/battery/village": {"value": 2.0, "cause_id": "c"}}  # grid support
    # at a flat profile (factor 1.0 < peak) grid support holds: no discharge this step
    soc1 = grid.step(7200, commands=cmd).series["battery_soc"]["power/battery/village"]
    assert soc1 == pytest.approx(soc0)
    soc2 = grid.step(10800).series["battery_soc"]["power/battery/village"]
    assert soc2 == pytest.approx(soc1 - 0.048 / 0.32)


def test_power_simulator_gets_the_season_and_the_storms_of_runs_with_hazards():
    """The baseline (no hazards) has no storm overcast; runs with the storm do."""
    from pathlib import Path

    from twin.config import load_scenario
    from twin.world import create_params

    config = Path(__file__).resolve().parents[2] / "cosim_configs" / "default.toml"
    scenario = load_scenario(config, ['run.season="winter"'])
    with_storm = create_params(scenario, Path("r"), Path("o.h5"), hazards=True)["Power"]
    baseline = create_params(scenario, Path("r"), Path("o.h5"), hazards=False)["Power"]
    assert with_storm["season"] == baseline["season"] == "winter"
    assert [s["peak_wind_ms"] for s in with_storm["storms"]] == [48.0] and baseline["storms"] == []
    grid = PowerGrid(prosumer_feeder(), **{k: with_storm[k] for k in ("season", "storms")})
    assert grid.storms[0]["decay_m"] == 5000.0


def test_backup_share_is_a_region_configuration_key(tmp_path):
    """`region.configurations.<name>.backup_capable_share` (the sensitivity key) reaches the
    power simulator through the built region's parameters."""
    from twin.models.power.simulator import PowerSim
    from twin.region.builder import build_region
    from twin.region.params import params_for

    params = params_for("decentralised", {"backup_capable_share": 0.5, "backup_kw_per_household": 2.0})
    region = build_region("small", 1, "decentralised", params, tmp_path)
    sim = PowerSim()
    sim.init("power", step_s=STEP)
    sim.create(1, "Grid", region_dir=str(region.path("power").parent), seed=1)
    assert (sim.grid.backup_share, sim.grid.backup_mw) == (0.5, 0.002)
    st = sim.grid.net.storage
    homes = st[st["type"] == "home"]
    assert homes.loc[homes["backup"], "customers"].sum() == pytest.approx(0.5 * homes["customers"].sum())
