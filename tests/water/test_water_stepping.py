"""Stepped EPANET through mosaik against one full EPANET run of the same INP."""

from __future__ import annotations

from pathlib import Path

import mosaik
import pandas as pd
import pytest

from twin.models.water.testing import CollectorSim, bus_of, make_test_region, plain_epanet
from twin.region.assets import load_region

STEP_S = 300
SIM_CONFIG = {
    "Water": {"python": "twin.models.water.simulator:WaterSim"},
    "Schedule": {"python": "twin.models.water.testing:ScheduleSim"},
    "Collector": {"python": "twin.models.water.testing:CollectorSim"},
}


def run_world(region: Path, steps: int, entries: list, key: str, **water_params) -> list:
    """Run WaterSim (plus a schedule of inputs) for ``steps`` exchange steps."""
    world = mosaik.World(SIM_CONFIG, time_resolution=1.0)
    water = world.start("Water", step_s=STEP_S).Network(region_dir=str(region), seed=1,
                                                        **water_params)
    sched = world.start("Schedule", step_s=STEP_S).Schedule(entries=entries)
    coll = world.start("Collector").Collector(key=key)
    world.connect(sched, water, "failed", "dead_buses", "commands")
    world.connect(water, coll, "series", "tank_level_m", "pump_on", "load_p_mw", "events")
    world.run(until=steps * STEP_S, print_progress=False)
    return CollectorSim.RESULTS[key]


def full_run(inp: Path, hours: float, pump_closed: dict[str, tuple[int, int]] | None = None,
             prefix: Path | None = None) -> pd.DataFrame:
    return plain_epanet(inp, hours, pump_closed, prefix)


def max_pressure_diff(rows: list, ref: pd.DataFrame) -> float:
    worst = 0.0
    for t, row in rows:
        s = row["series"]
        for aid, p in s["junction_pressure_m"].items():
            worst = max(worst, abs(p - ref.loc[t, aid.split("/")[-1]]))
        for aid, lvl in s["tank_level_m"].items():
            worst = max(worst, abs(lvl - ref.loc[t, aid.split("/")[-1]]))
    return worst


def test_stepped_equals_full_run(tmp_path: Path) -> None:
    region = make_test_region(tmp_path, "small", "decentralised")
    rows = run_world(region, 24, [], "plain")
    assert [t for t, _ in rows] == [k * STEP_S for k in range(24)]
    ref = full_run(region / "water.inp", 2.0)
    assert max_pressure_diff(rows, ref) < 0.01
    # the run is not trivial: tanks move and the level switches act
    levels = [r["series"]["tank_level_m"]["water/tank/T-city"] for _, r in rows]
    assert max(levels) - min(levels) > 0.05


@pytest.mark.parametrize("pump", ["water/pump/PS2", "water/pump/PS3"])
def test_dead_bus_equals_closed_pump(tmp_path: Path, pump: str) -> None:
    """Foundation integration test: a pump's bus de-energised from step k1 to k2 gives the
    same pressures as a plain EPANET run with that pump closed over those steps."""
    region = make_test_region(tmp_path, "small", "centralised")
    k1, k2, n = 6, 18, 24
    cause = "1800|power/bus/x|de-energised"
    entries = [[k1 * STEP_S, k2 * STEP_S, "dead_buses", {bus_of(pump): cause}]]
    rows = run_world(region, n, entries, f"dead-{pump}")
    ref = full_run(region / "water.inp", 2.0, {pump.split("/")[-1]: (k1 * STEP_S, k2 * STEP_S)})
    assert max_pressure_diff(rows, ref) < 0.01
    by_t = dict(rows)
    for k in range(n):
        s = by_t[k * STEP_S]["series"]
        off = k1 <= k < k2
        assert s["pump_on"][pump] == (0.0 if off else 1.0)
        assert (s["pump_flow_m3s"][pump] == 0.0) == off
        assert (by_t[k * STEP_S]["load_p_mw"][pump] == 0.0) == off
    stopped = [e for e in by_t[k1 * STEP_S]["events"] if e["kind"] == "pump_stopped"]
    assert [(e["asset_id"], e["cause_id"], e["coupling"]) for e in stopped] == [
        (pump, cause, "power->water")
    ]
    started = [e for e in by_t[k2 * STEP_S]["events"] if e["kind"] == "pump_started"]
    assert [e["asset_id"] for e in started] == [pump]
    # the outage is physical: the town behind the booster loses pressure
    town = "town1" if pump.endswith("PS2") else "town2"
    p_on = by_t[(k1 - 1) * STEP_S]["series"]["junction_pressure_m"][f"water/junction/{town}-1"]
    p_off = by_t[(k1 + 1) * STEP_S]["series"]["junction_pressure_m"][f"water/junction/{town}-1"]
    assert p_off < p_on - 5.0


def test_backup_generator_runs_for_its_fuel(tmp_path: Path) -> None:
    """f full-load hours of fuel keep the pump running until its load has burnt them (hand
    computation from the pump's power each step), then it stops."""
    region = make_test_region(tmp_path, "small", "centralised")
    pump, fuel_h, k1, n = "water/pump/PS2", 0.5, 3, 24
    entries = [[k1 * STEP_S, 10**9, "dead_buses", {bus_of(pump): "900|power/bus/x|de-energised"}]]
    rows = run_world(region, n, entries, "backup", pump_backup_h=fuel_h,
                     generator_start_failure=0.0)
    on = [r["series"]["pump_on"][pump] for _, r in rows]
    p_nom = next(a["p_mw"] for a in load_region(region).assets if a["id"] == pump)
    fuel, k_out = fuel_h * 3600.0, k1
    while fuel > 1e-9 and k_out < n:
        fuel -= STEP_S * rows[k_out][1]["series"]["pump_p_mw"][pump] / p_nom
        k_out += 1
    assert k1 < k_out < n
    assert on == [1.0] * k_out + [0.0] * (n - k_out)
    # while on the generator the pump draws nothing from the grid
    loads = [r["load_p_mw"][pump] for _, r in rows]
    assert all(p > 0 for p in loads[:k1]) and all(p == 0 for p in loads[k1:])
    fuel = [r["series"]["fuel_h"][pump] for _, r in rows]
    assert fuel[k1 - 1] == fuel_h and fuel[-1] == 0.0
    ref = full_run(region / "water.inp", n * STEP_S / 3600, {"PS2": (k_out * STEP_S, None)})
    assert max_pressure_diff(rows, ref) < 0.01
