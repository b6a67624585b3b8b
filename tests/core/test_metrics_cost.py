"""The annualised cost on a hand-built file: quantities read off the asset table, /cost and
the configuration's parameters, and the annuity computed by hand."""

from __future__ import annotations

import math
from pathlib import Path
from types import SimpleNamespace

import pytest

from twin import metrics, results
from twin.region.assets import make_asset


def _file(path: Path, configuration: str, toml: str, extra: list | None = None) -> None:
    reg = SimpleNamespace(
        assets=[*(extra or []),
            make_asset("power/line/L1", "power", "line", 0, 0, "city"),
            make_asset("power/line/L2", "power", "line", 0, 0, "city", underground=True),
            make_asset("power/line/L3", "power", "line", 0, 0, "city", underground=True),
            make_asset("power/line/L4", "power", "line", 0, 0, "city"),
            make_asset("power/trafo/TR1", "power", "trafo", 0, 0, "city", capacity=40.0, capacity_unit="MVA"),
            make_asset("power/plant/central", "power", "plant", 0, 0, "city", capacity=10.0, capacity_unit="MW"),
            make_asset("power/battery/v1", "power", "battery", 0, 0, "city", capacity=0.5, capacity_unit="MWh"),
            make_asset("power/microgrid/v1", "power", "microgrid", 0, 0, "city", capacity=2.0, capacity_unit="MWh"),
            make_asset("water/pump/PS1", "water", "pump", 0, 0, "city", p_mw=0.05),
            make_asset("water/pump/PS2", "water", "pump", 0, 0, "city", p_mw=0.03),
            # an ICT site's capacity is its backup hours, as the ICT builder writes it
            make_asset("ict/site/BS1", "ict", "site", 0, 0, "city", p_mw=0.002, capacity=6.0,
                       capacity_unit="access"),
        ],
        dependencies=[],
        cost={"line_km": 20.0, "pipe_km": 4.0, "pv_mw": 1.5, "wells": 2.0, "tanks": 1.0, "pumps": 2.0},
        layout={"districts": [{"id": "city", "kind": "city", "x_m": 0.0, "y_m": 0.0, "radius_m": 900.0,
                               "population": 400, "households": 200, "parent": ""}]})
    results.start_file(path, {"step_s": 1800, "run_id": path.stem, "configuration": configuration,
                              "seed": 1, "hours": 1.0, "hazard_free": False, "scenario_toml": toml}, reg)


def _load(tmp_path: Path, configuration: str, toml: str, extra: list | None = None) -> results.Results:
    path = tmp_path / f"{configuration}.h5"
    _file(path, configuration, toml, extra)
    results.write_series(path, [0, 1800], {"power": {"served_mw": [1.0, 1.0], "demand_mw": [1.0, 1.0]}})
    results.write_events(path, [])
    results.set_status(path, "complete")
    return results.load(path)


def test_annuity_by_hand() -> None:
    # 5 % over 20 years: 0.05 / (1 - 1.05^-20) = 0.0802426
    assert metrics.annuity_factor(0.05, 20) == pytest.approx(0.05 / (1 - 1.05**-20))
    assert metrics.annuity_factor(0.05, 20) == pytest.approx(0.0802426, rel=1e-6)
    assert metrics.annuity_factor(0.0, 10) == 0.1


def test_annualised_cost_by_hand(tmp_path: Path) -> None:
    toml = "[region.configurations.decentralised]\npump_backup_h = 10.0\nict_backup_h = 6.0\n"
    run = _load(tmp_path, "decentralised", toml)
    q = metrics.cost_quantities(run)
    assert q is not None
    # two of four lines underground: half of the 20 km are cable
    assert q["cable_km"] == 10.0 and q["overhead_line_km"] == 10.0
    assert q["central_plant_kw"] == 10_000.0 and q["transformer_mva"] == 40.0
    assert q["home_battery_kwh"] == 500.0 and q["community_battery_kwh"] == 2_000.0
    # generators at both pumps (80 kW) with 10 h of fuel; the site's 2 kW for 6 h
    assert q["backup_generator_kw"] == pytest.approx(80.0)
    assert q["backup_fuel_kwh"] == pytest.approx(800.0)
    assert q["ict_battery_kwh"] == pytest.approx(12.0)
    m, _ = metrics.compute(run, None)
    a40 = 0.05 / (1 - 1.05**-40)
    a20 = 0.05 / (1 - 1.05**-20)
    a30 = 0.05 / (1 - 1.05**-30)
    # central plant: 10,000 kW * 900 EUR = 9 M EUR, 30 years, 3 % O&M
    assert m["annual_cost_central_plant_kw_meur"] == pytest.approx(9.0 * (a30 + 0.03))
    # cables: 10 km * 150,000 EUR = 1.5 M EUR over 40 years, 0.5 % O&M
    assert m["annual_cost_cable_km_meur"] == pytest.approx(1.5 * (a40 + 0.005))
    # generators: 80 kW * 400 EUR = 0.032 M EUR over 20 years, 2 % O&M; fuel 800 kWh * 20 EUR
    assert m["annual_cost_backup_generator_kw_meur"] == pytest.approx(0.032 * (a20 + 0.02))
    assert m["annual_cost_backup_fuel_kwh_meur"] == pytest.approx(0.016 * a20)
    parts = [v for k, v in m.items() if k.startswith("annual_cost_") and k.endswith("_meur")
             and k != "annual_cost_meur"]
    assert m["annual_cost_meur"] == pytest.approx(sum(parts))


def test_no_backup_generators_without_fuel(tmp_path: Path) -> None:
    run = _load(tmp_path, "centralised", "")  # the centralised defaults: pump_backup_h = 0
    q = metrics.cost_quantities(run)
    assert q is not None and q["backup_generator_kw"] == 0.0 and q["backup_fuel_kwh"] == 0.0


def test_unknown_configuration_is_not_applicable(tmp_path: Path) -> None:
    run = _load(tmp_path, "decentralised", "not [ toml")
    m, _ = metrics.compute(run, None)
    assert math.isnan(m["annual_cost_meur"]) and m["annual_cost_meur_applicable"] == 0.0


def test_hardened_counts_its_generators_transformer_and_core_batteries(tmp_path: Path) -> None:
    """centralised_hardened's extras by hand: generators at the plant (0.1 MW) and PS1
    (0.05 MW) with 72 h of fuel each, a second 40 MVA transformer, the data centre's 50 kW
    for 24 h besides the access site's 2 kW for 6 h."""
    extra = [
        make_asset("water/generator/WTP", "water", "generator", 0, 0, "city", p_mw=0.1,
                   capacity=72.0, capacity_unit="backup_h"),
        make_asset("water/generator/PS1", "water", "generator", 0, 0, "city", p_mw=0.05,
                   capacity=72.0, capacity_unit="backup_h"),
        make_asset("power/trafo/TR2", "power", "trafo", 0, 0, "city", capacity=40.0, capacity_unit="MVA"),
        make_asset("ict/site/DCC", "ict", "site", 0, 0, "city", p_mw=0.05, capacity=24.0,
                   capacity_unit="datacentre"),
    ]
    q = metrics.cost_quantities(_load(tmp_path, "centralised_hardened", "", extra))
    assert q is not None
    assert q["backup_generator_kw"] == pytest.approx(150.0)  # not the pumps' 80 kW: the generators'
    assert q["backup_fuel_kwh"] == pytest.approx(150.0 * 72.0)
    assert q["transformer_mva"] == 80.0
    assert q["ict_battery_kwh"] == pytest.approx(2.0 * 6.0 + 50.0 * 24.0)
