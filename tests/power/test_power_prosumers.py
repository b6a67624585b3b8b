"""Prosumers: PV on the daylight curve, home batteries by mode, self-supply in outages."""

from __future__ import annotations

import math

import pytest

from twin.models.power.grid import PowerGrid
from twin.models.power.profiles import cloud_factor, daylight_factor, household_factor, pv_factor
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


def test_prosumers_supply_themselves_during_an_outage_at_night():
    grid = PowerGrid(prosumer_feeder(), battery_efficiency=0.81, household_profile=False, step_s=STEP)
    grid.step(NIGHT - STEP)
    res = grid.step(NIGHT, failed=FAILED)
    # 40 of 100 households at 1.2 kW run on their batteries: 0.048 MW, 60 households out
    assert res.series["served_mw"] == pytest.approx(0.048)
    assert res.series["customers_out"]["village"] == pytest.approx(60)
    # the battery gave 0.048 MW for two 5-min steps (backup mode also self-consumes above
    # its reserve while the grid is up) at one-way efficiency 0.9
    energy = 0.32 - 2 * 0.048 * STEP / 3600 / 0.9
    assert res.series["battery_soc"]["power/battery/village"] == pytest.approx(energy / 0.32)


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
