"""Protection on the default generated region: no trip without a hazard (design headroom)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from twin.region.layout import GRIDS
from twin.region.params import CONFIGURATIONS

pytest.importorskip("pandapower")

# the series the run invariants read (test_power_balance.check_run_invariants)
KEPT = ("served_mw", "demand_mw", "district_served_mw", "district_demand_mw", "battery_energy_mwh",
        "storage_charge_mw", "storage_discharge_mw", *(f"island_{n}_mw" for n in (
            "generation", "load", "storage_charge", "storage_discharge", "losses", "mismatch")))


@pytest.mark.slow
@pytest.mark.parametrize("conf", ["centralised", "decentralised", "anchor_towns"])
def test_hazard_free_day_of_the_default_region_has_no_trip(tmp_path: Path, conf: str) -> None:
    """24 h of the power model on the full default region's synthetic grid (coupled loads at
    their nominal power): every step converges, no breaker trips, and every relay stays
    below its rating with room (measured maxima with SimBench's profiles, equinox, seed 1:
    the plant's feeder F4-1 0.72 in the centralised configuration, the transformer TR1 0.23
    in decentralised and 0.28 in anchor_towns, where PV and batteries carry part of the
    evening). The grid is named, not the default: the relays and maxima are the synthetic
    grid's."""
    from twin.models.power.grid import PowerGrid
    from twin.region.builder import build_region
    from twin.region.params import params_for

    region = build_region("default", 1, conf, params_for(conf), tmp_path, grid="synthetic")
    grid = PowerGrid.from_file(region.path("power"), seed=1, step_s=300)
    prot = grid.protection.protection
    assert {r.name for r in prot.relays} >= {"power/switch/TR1", "power/switch/F1-1"}
    worst = 0.0
    for t in range(0, 86400, 300):
        res = grid.step(t)
        assert res.converged and not res.dead_buses, t
        assert not [e for e in res.events if e["kind"] in ("tripped", "protection_limit")], t
        worst = max(worst, float(prot.ratios().max()))
    assert 0.2 < worst < 0.8
    assert float(prot.theta.max()) < 0.7


@pytest.mark.slow
@pytest.mark.parametrize("grid_kind", GRIDS)
@pytest.mark.parametrize("conf", CONFIGURATIONS)
def test_hazard_free_week_of_the_default_region_has_no_trip(tmp_path: Path, conf: str, grid_kind: str) -> None:
    """7 days of the power model on the full default region, hazard-free, every configuration
    on both grids, in winter (SimBench's winter days: the heaviest load and the least PV, the
    highest relay loadings of the seasons measured, docs/power.md): zero trips, shedding or non-converged
    steps while batteries and thermal states carry over the days; at every step each
    island serves at most its demand, and the islands' energy balance and the batteries'
    energy hold (the run invariants of test_power_balance.py). Measured worst relay loadings
    on a winter day 0.47-0.71 on the synthetic grid, 0.23-0.42 on SimBench."""
    from test_power_balance import check_run_invariants

    from twin.models.power.grid import PowerGrid
    from twin.region.builder import build_region
    from twin.region.params import params_for

    region = build_region("default", 1, conf, params_for(conf), tmp_path, grid=grid_kind)
    grid = PowerGrid.from_file(region.path("power"), seed=1, step_s=300, season="winter")
    prot = grid.protection.protection
    worst = 0.0
    rows: dict[str, list[list[float]]] = {}
    columns: dict[str, list[str]] = {}
    for t in range(0, 7 * 86400, 300):
        res = grid.step(t)
        assert res.converged and not res.dead_buses, t
        assert not [e for e in res.events if e["kind"] in ("tripped", "protection_limit", "shed")], t
        worst = max(worst, float(prot.ratios().max()))
        served: dict[str, float] = {}  # island id ("" off every island) -> MW served
        for name, load in res.telemetry["loads"].items():
            served[load["island"]] = served.get(load["island"], 0.0) + res.series["load_served_mw"][name]
        assert served.pop("", 0.0) == 0.0, t
        for isl in res.telemetry["islands"]:
            assert served[isl["id"]] <= isl["demand_mw"] + 1e-9, (t, isl["id"])
        for name in KEPT:
            value = res.series[name]
            if isinstance(value, dict):
                columns.setdefault(name, sorted(value))
                rows.setdefault(name, []).append([value[k] for k in columns[name]])
            else:
                columns.setdefault(name, [name])
                rows.setdefault(name, []).append([value])
        assert all(0.0 <= v <= 1.0 for v in res.series["battery_soc"].values()), t
    assert 0.2 < worst < 0.9  # the relays carry load, with room below their rating
    assert float(prot.theta.max()) < 0.8
    power = {name: np.array(r, dtype=float) for name, r in rows.items()}
    power["served_mw"], power["demand_mw"] = power["served_mw"][:, 0], power["demand_mw"][:, 0]
    st = grid.net.storage
    e_min = {a: float(grid.e_min[(st["name"] == a).to_numpy()].sum()) for a in grid.storage_assets}
    e_max = {a: float(grid.e_max[(st["name"] == a).to_numpy()].sum()) for a in grid.storage_assets}
    check_run_invariants(power, columns, e_min, e_max, grid.eta, grid.step_s)
    if conf in ("decentralised", "anchor_towns"):  # storage that carries over the days
        assert grid.storage_assets and power["battery_energy_mwh"].std(axis=0).max() > 0
