"""Every metric on hand-built results files equals the value computed by hand."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest

from twin import metrics, results
from twin.events import make_event


def cascade_events() -> list:
    storm = make_event(0, "incidents", "hazard/storm-0", "hazard")
    line = make_event(1800, "power", "power/line/L1", "failed", 1, storm["event_id"], "hazard")
    bus = make_event(1800, "power", "power/bus/B1", "de-energised", 1, line["event_id"], "power")
    pump = make_event(1800, "water", "water/pump/P1", "pump_stopped", 1, bus["event_id"], "power->water")
    tank = make_event(3600, "water", "water/tank/T1", "low_pressure", 1, pump["event_id"], "water")
    return [storm, line, bus, pump, tank]


@pytest.fixture
def pair(tmp_path: Path, hand) -> tuple[results.Results, results.Results]:  # type: ignore[no-untyped-def]
    """The shared hand-built run (tests/conftest.py) with this module's bus-level cascade."""
    reg = hand.region(hand.DISTRICTS)
    run = hand.make_file(tmp_path / "run.h5", reg, hand.SERIES, cascade_events())
    base = hand.make_file(tmp_path / "base.h5", reg, hand.BASE, [])
    return results.load(run), results.load(base)


def test_impact_metrics_by_hand(pair: tuple[results.Results, results.Results]) -> None:
    run, base = pair
    m, curves = metrics.compute(run, base)
    # ENS: (0 + 4 + 2 + 0) MW * 0.5 h = 3 MWh; baseline 0.
    assert m["energy_not_served_mwh"] == pytest.approx(3.0)
    # water: run (0 + 0 + 0.5 + 0.1) m3/s * 1800 s = 1080; baseline 0.1 * 1800 = 180.
    assert m["water_not_served_m3"] == pytest.approx(900.0)
    # delay: 7 h - 4 h.
    assert m["vehicle_delay_h"] == pytest.approx(3.0)
    # power households: (70 + 30) * 0.5 = 50; water: 30 people * 0.5 = 15 person-hours,
    # counted in households of 2.2 persons.
    assert m["customer_outage_h_power"] == pytest.approx(50.0)
    assert m["customer_outage_h_water"] == pytest.approx(15.0 / 2.2)
    assert m["customer_outage_h"] == pytest.approx(50.0 + 15.0 / 2.2)
    # one primary (line, a state change); the bus serves nobody directly (a state change), so
    # two secondary service failures: pump (40 customers) and tank (none).
    assert m["primary_failures"] == 1
    assert m["secondary_failures"] == 2
    # pump: its subtree lost the pump's 40 (water); tank: 0.
    assert m["secondary_failures_customers"] == 40
    assert m["cascade_amplification"] == pytest.approx(2.0)  # 2 service failures below 1 primary
    assert m["cascade_depth_max"] == 2  # tank <- pump: two service failures on the chain
    assert m["cross_sector_hops"] == 1  # pump (water) caused by the bus (power)
    # every failure, state changes included: bus, pump, tank
    assert m["secondary_failures_all"] == 3
    assert m["secondary_failures_all_customers"] == 40
    assert m["cascade_amplification_all"] == pytest.approx(3.0)
    assert m["cascade_depth_max_all"] == 4  # storm 0 -> line 1 -> bus 2 -> pump 3 -> tank 4
    assert m["cross_sector_hops_all"] == 1
    assert m["cost_line_km"] == 12.5
    # power curve 1, .6, .8, 1: loss (0.4 + 0.2) * 0.5 = 0.3 h, min 0.6,
    # below 0.95 from step 1 to 2, back at step 3: 2 steps = 1 h.
    np.testing.assert_allclose(curves["power"], [1.0, 0.6, 0.8, 1.0])
    assert m["resilience_loss_power_h"] == pytest.approx(0.3)
    assert m["min_performance_power"] == pytest.approx(0.6)
    assert m["time_to_recover_power_h"] == pytest.approx(1.0)
    assert m["time_to_recover_power_censored"] == 0
    # water relative to baseline: 1, 1, .5, 1 (0.9 / 0.9).
    np.testing.assert_allclose(curves["water"], [1.0, 1.0, 0.5, 1.0])
    # traffic: baseline tti / run tti.
    np.testing.assert_allclose(curves["traffic"], [1.0, 0.5, 0.8, 1.0])
    np.testing.assert_allclose(curves["ict"], [1.0, 0.5, 1.0, 1.0])


def test_equity_by_hand(tmp_path: Path, hand) -> None:  # type: ignore[no-untyped-def]
    # the urban district is an anchor town (a town by definition); v1 a village (rural)
    reg = hand.region([("city", "town", 200), ("v1", "village", 50)])
    run = results.load(hand.make_file(tmp_path / "run.h5", reg, hand.SERIES, cascade_events()))
    base = results.load(hand.make_file(tmp_path / "base.h5", reg, hand.BASE, []))
    m, _ = metrics.compute(run, base)
    # Person-hours (2 persons per household here): city 30 household-hours = 60 over
    # 400 people = 0.15; v1 20 household-hours = 40 plus 15 water person-hours = 55 over 100.
    assert m["equity_outage_h_per_person_town"] == pytest.approx(0.15)
    assert m["equity_outage_h_per_person_urban"] == pytest.approx(0.15)
    assert m["equity_outage_h_per_person_rural"] == pytest.approx(0.55)
    assert m["equity_rural_minus_urban_h"] == pytest.approx(0.40)
    assert m["equity_rural_urban_ratio"] == pytest.approx(0.55 / 0.15)
    # no DEGURBA city in the region: not applicable, never nan without a flag
    assert m["equity_outage_h_per_person_city_applicable"] == 0.0
    # Population-weighted Gini of x = (0.15, 0.55), w = (400, 100):
    mean = (400 * 0.15 + 100 * 0.55) / 500
    g = 2 * 400 * 100 * abs(0.15 - 0.55) / (2 * 500**2 * mean)
    assert m["equity_gini"] == pytest.approx(g)


def test_edge_cases() -> None:
    # no drop
    assert metrics.time_to_recover_h(np.ones(5), 0.5) == (0.0, False)
    assert metrics.resilience_loss_h(np.ones(5), 0.5) == 0.0
    # never recovered: censored at the horizon, from the first drop
    assert metrics.time_to_recover_h(np.array([1, 1, 0.5, 0.9]), 0.5) == (1.0, True)
    # single district: no inequality across districts (it was 0.0); nobody out: 0/0 (was 0.0)
    assert metrics.gini(np.array([3.0]), np.array([10.0])) is None
    assert metrics.gini(np.zeros(3), np.array([10.0, 20.0, 30.0])) is None
    assert metrics.gini(np.array([1.0, 3.0]), np.array([0.0, 20.0])) is None  # one weighted value
    # two districts of equal weight, x = (0, 2): sum_ij |x_i - x_j| = 4, W = 2, mean 1 -> 4 / 8
    assert metrics.gini(np.array([0.0, 2.0]), np.array([1.0, 1.0])) == pytest.approx(0.5)
    # everyone out equally long: perfectly even, a meaningful 0
    assert metrics.gini(np.array([2.0, 2.0]), np.array([1.0, 3.0])) == 0.0


def test_no_primary_failure_single_district(tmp_path: Path, hand) -> None:  # type: ignore[no-untyped-def]
    reg = hand.region([("city", "city", 100)])
    one = {"power": {"served_mw": [5.0, 5.0], "demand_mw": [5.0, 5.0],
                     "customers_out": [{"city": 0.0}, {"city": 0.0}]}}
    run = results.load(hand.make_file(tmp_path / "r.h5", reg, one, []))
    m, _ = metrics.compute(run, run)
    # no primary failure with a service loss below it: not applicable, never 0 or inf
    assert math.isnan(m["cascade_amplification"]) and m["cascade_amplification_applicable"] == 0.0
    assert m["primary_failures"] == 0 and m["secondary_failures"] == 0
    # a "city" of 200 people is rural by the degree of urbanisation: no urban class, no ratio
    assert math.isnan(m["equity_rural_urban_ratio"]) and m["equity_rural_urban_ratio_applicable"] == 0.0
    assert math.isnan(m["equity_gini"]) and m["equity_gini_applicable"] == 0.0
    assert m["energy_not_served_mwh"] == 0.0


def test_chain_back_to_the_storm(pair: tuple[results.Results, results.Results]) -> None:
    run, _ = pair
    tank = [e for e in run.events if e["asset_id"] == "water/tank/T1"][0]
    kinds = [(e["asset_id"], e["coupling"]) for e in metrics.chain(run, tank["event_id"])]
    assert kinds == [("water/tank/T1", "water"), ("water/pump/P1", "power->water"),
                     ("power/bus/B1", "power"), ("power/line/L1", "hazard"),
                     ("hazard/storm-0", "")]
