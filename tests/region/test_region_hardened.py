"""centralised_hardened (issue 18, "A fair comparison"): it builds in every size with its
extra assets (generators at the plant and every pump station, an N-1 transformer, longer ICT
backup), the N-1 substation carries the peak with either transformer out, the cost counts the
extras, and when the plant loses grid power its generators keep water flowing for at least
their hours of fuel longer than in centralised."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from twin.region.assets import RegionInfo
from twin.region.builder import build_region
from twin.region.params import (
    CONFIGURATIONS,
    HARDENED_ICT_BACKUP_H,
    HARDENED_ICT_CORE_BACKUP_H,
    HARDENED_PUMP_BACKUP_H,
    params_for,
)

SIZES = [pytest.param(s, g, marks=[pytest.mark.slow] if s == "large" or (g == "synthetic" and s != "small") else [],
                      id=f"{s}-{g}")
         for g in ("simbench", "synthetic") for s in ("small", "default", "large")]


@pytest.fixture(scope="module")
def cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("hardened")


def _region(cache: Path, size: str, conf: str, grid: str | None = None) -> RegionInfo:
    return build_region(size, 1, conf, params_for(conf), cache, grid)


def test_the_configuration_is_listed_once() -> None:
    assert "centralised_hardened" in CONFIGURATIONS
    from typing import get_args

    from twin.region.params import Configuration
    assert set(get_args(Configuration)) == set(CONFIGURATIONS)


@pytest.mark.parametrize(("size", "grid"), SIZES)
def test_hardened_has_the_extra_assets(cache: Path, size: str, grid: str) -> None:
    base, hard = _region(cache, size, "centralised", grid), _region(cache, size, "centralised_hardened", grid)
    ids = {a["id"] for a in hard.assets}
    # everything centralised has, at the same place (paired comparisons)
    pos = {a["id"]: (a["x_m"], a["y_m"]) for a in hard.assets}
    assert all(pos[a["id"]] == (a["x_m"], a["y_m"]) for a in base.assets)
    assert "power/plant/central" in ids
    # a generator beside every powered water asset, sized for it, with the standard's fuel
    stations = {a["id"].rsplit("/", 1)[-1]: a for a in hard.assets
                if a["sector"] == "water" and a["type"] in ("pump", "well", "plant")}
    gens = {a["id"].rsplit("/", 1)[-1]: a for a in hard.assets if a["type"] == "generator"}
    assert {"WTP", "PS1", "PS2"} <= set(gens) and set(gens) == set(stations)
    for name, g in gens.items():
        assert g["capacity"] == HARDENED_PUMP_BACKUP_H and g["capacity_unit"] == "backup_h"
        assert g["p_mw"] == stations[name]["p_mw"] > 0
        assert (g["x_m"], g["y_m"]) == (stations[name]["x_m"], stations[name]["y_m"])
    assert not [a for a in base.assets if a["type"] == "generator"]
    # N-1: one transformer (and its breaker) more on the synthetic grid; a SimBench grid's
    # substations are N-1 in every configuration (two transformers each, either carries the
    # substation: tests/power/test_simbench.py), so hardening adds none there
    trafos = {c: sorted(a["id"] for a in r.assets if a["type"] == "trafo") for c, r in
              (("c", base), ("h", hard))}
    if grid == "synthetic":
        assert len(trafos["h"]) == len(trafos["c"]) + 1
        assert f"power/switch/TR{len(trafos['h'])}" in ids
    else:
        assert trafos["h"] == trafos["c"] and len(trafos["h"]) % 2 == 0
        assert {f"power/switch/TR{k}" for k in range(1, len(trafos["h"]) + 1)} <= ids
    # ICT: 8 h at access sites, 24 h at routers, the data and control centre and the TMC
    backup = {a["capacity_unit"]: a["capacity"] for a in hard.assets if a["id"].startswith("ict/site/")}
    assert backup == {"access": HARDENED_ICT_BACKUP_H, "router": HARDENED_ICT_CORE_BACKUP_H,
                      "datacentre": HARDENED_ICT_CORE_BACKUP_H, "tmc": HARDENED_ICT_CORE_BACKUP_H}
    # the cost proxy's generator-hours: 72 h per generator
    assert hard.cost["backup_h_total"] == pytest.approx(HARDENED_PUMP_BACKUP_H * len(gens))
    assert base.cost["backup_h_total"] == 0.0


def test_n1_substation_carries_the_peak_with_either_transformer_out(cache: Path) -> None:
    """The synthetic grid's N-1 substation: with any one transformer out of service at peak
    load (households × PEAK_FACTOR, no central plant), the power flow converges and the
    other(s) stay within their rating (SimBench substations: tests/power/test_simbench.py)."""
    import pandapower as pp

    from twin.models.power.build import PEAK_FACTOR

    net0 = pp.from_json(str(_region(cache, "default", "centralised_hardened", "synthetic").path("power")))
    household = net0.load["category"] == "household"
    net0.load.loc[household, ["p_mw", "q_mvar"]] *= PEAK_FACTOR
    net0.gen["in_service"] = False
    assert len(net0.trafo) == 2
    for out in net0.trafo.index:
        net = pp.from_json(str(_region(cache, "default", "centralised_hardened", "synthetic").path("power")))
        net.load = net0.load.copy()
        net.gen["in_service"] = False
        net.trafo.at[out, "in_service"] = False
        pp.runpp(net, init="dc", numba=False)
        on = net.trafo.index[net.trafo.in_service]
        assert (net.res_trafo.loc[on, "loading_percent"] <= 100.0).all()
        assert net.res_bus.vm_pu.notna().all() and net.res_bus.vm_pu.min() > 0.9


def _plant_outage_scenario(fuel_h: float) -> dict:
    """The small region, a storm, and the plant's bus out from 6 h to 21 h (the storm took its
    feeder's substation bay): grid power at the treatment plant and its pump station is lost
    for longer than the city tank and the generator's fuel together last."""
    return {
        "run": {"hours": 22, "seed": 2, "baseline": False,
                "configurations": ["centralised", "centralised_hardened"]},
        "region": {"size": "small",
                   "configurations": {"centralised_hardened": {"pump_backup_h": fuel_h}}},
        "traffic": {"mode": "meso", "demand_scale": 0.05},
        "hazards": [
            {"kind": "storm", "track_m": [[-12000.0, 2000.0], [12000.0, -4000.0]], "start_h": 5.0,
             "end_h": 7.0, "peak_wind_ms": 40.0, "decay_m": 5000.0},
            {"kind": "outage", "asset": "power/bus/water_plant", "at_h": 6.0, "duration_h": 15.0},
        ],
    }


def _first_out_s(path: Path, after_s: int) -> float:
    """First time at or after ``after_s`` that the region delivers under 95 % of its
    requirement (inf if never)."""
    from twin.results import load

    w = load(path).to_dataframe("water")
    short = w.index[(w.index >= after_s) & (w["delivered_m3s"] < 0.95 * w["required_m3s"])]
    return float(short[0]) if len(short) else float("inf")


@pytest.mark.slow
def test_generators_keep_water_flowing_at_least_their_fuel_hours_longer(tmp_path: Path) -> None:
    """The plant loses grid power at 6 h. In centralised the city tank alone carries the
    region; in centralised_hardened the plant pump runs on its generator for exactly its 3 h
    of full-load fuel (its running steps between backup_started and fuel_exhausted, ± one
    step) and the water lasts at least those 3 h longer (the generator burns nothing while
    the tank's level switch keeps the pump off, so the gain can exceed the fuel hours)."""
    from twin.config import validate_data
    from twin.results import load
    from twin.runner import run_scenario

    fuel_h, t_loss = 3.0, 6 * 3600
    sc = validate_data(_plant_outage_scenario(fuel_h), "plant-outage")
    outcomes = {o.configuration: o for o in run_scenario(sc, tmp_path)}
    step = sc.run.step_s
    ev = pd.DataFrame(load(outcomes["centralised_hardened"].path).events)
    ps1 = ev[ev.asset_id == "water/pump/PS1"]
    started = ps1[ps1.kind == "backup_started"].time_s.tolist()
    exhausted = ps1[ps1.kind == "fuel_exhausted"].time_s.tolist()
    assert started == [t_loss] and len(exhausted) == 1
    on = load(outcomes["centralised_hardened"].path).to_dataframe("water", "pump_on")
    running = on.loc[(on.index >= t_loss) & (on.index < exhausted[0]), "water/pump/PS1"]
    assert abs(float(np.sum(running.astype(float))) * step / 3600 - fuel_h) <= step / 3600 + 1e-9
    c_out = _first_out_s(outcomes["centralised"].path, t_loss)
    h_out = _first_out_s(outcomes["centralised_hardened"].path, t_loss)
    assert np.isfinite(c_out), "the city tank should run dry in centralised during the outage"
    assert h_out - c_out >= fuel_h * 3600 - step, (c_out / 3600, h_out / 3600)
    assert not ev[(ev.kind == "backup_started")].empty


def test_a_damaged_generator_does_not_start_or_stops(cache: Path) -> None:
    """The water simulator maps every water/generator asset onto its station's supply; while
    the generator is damaged the station is unpowered on a dead bus, caused by the damage."""
    from twin.models.water.operation import WaterOperation
    from twin.models.water.supply import PowerSupply

    emitted: list[tuple[str, str]] = []

    def emit(aid: str, kind: str, value: float, cause: str, coupling: str) -> dict:
        emitted.append((aid, kind))
        return {"event_id": f"{aid}|{kind}"}

    s = PowerSupply("water/pump/P", "power/bus/B", fuel_s=3600.0, nominal_mw=0.1, start_failure=0.0)
    dead = {"power/bus/B": "bus-died"}
    assert s.update(dead, {}, emit) == (True, "") and s.on_generator
    s.damaged = "gen-flooded"
    assert s.update(dead, {}, emit) == (False, "gen-flooded") and not s.on_generator
    s.damaged = ""
    assert s.update({}, {}, emit) == (True, "")  # grid back
    region = _region(cache, "small", "centralised_hardened")
    op = WaterOperation.from_region(region.root)
    assert set(op.generators) == {a["id"] for a in region.assets if a["type"] == "generator"}
    assert op.generators["water/generator/PS1"] is op.pumps["water/pump/PS1"].supply
    assert op.generators["water/generator/WTP"] is op.plants["water/plant/WTP"].supply
