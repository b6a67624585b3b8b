"""Metrics on hand-built files, beyond tests/core/test_metrics.py: values computed by hand for
a missing baseline and censored recovery through ``compute``, no drop at all, a baseline with
failures of its own, a three-district Gini, only-rural and only-urban outages, and the
report's own quantities (worst moment, failed assets, outage per household, forest, cost)."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest

from twin import metrics, results
from twin.events import make_event
from twin.metrics import cost_index_meur
from twin.report.analysis import cascade_forest, district_outage, failed_at, group_forest, worst_moment
from twin.report.collect import resilience_loss_total_h


def _load(hand, tmp_path: Path, name: str, series, events, districts=None):  # type: ignore[no-untyped-def]
    reg = hand.region(districts or hand.DISTRICTS)
    return results.load(hand.make_file(tmp_path / name, reg, series, events))


def test_cascade_without_baseline_is_censored(tmp_path: Path, hand) -> None:  # type: ignore[no-untyped-def]
    run = _load(hand, tmp_path, "r.h5", hand.SERIES, hand.cascade_events())
    m, curves = metrics.compute(run, None)
    # A missing baseline is a perfect one: impacts are the run's own totals.
    assert m["water_not_served_m3"] == pytest.approx((0.5 + 0.1) * 1800)
    assert m["vehicle_delay_h"] == pytest.approx(7.0)
    # water P = 1, 1, .5, .9: below 95 % from step 2 to the end -> censored at the horizon, 2 steps.
    np.testing.assert_allclose(curves["water"], [1.0, 1.0, 0.5, 0.9])
    assert m["time_to_recover_water_h"] == pytest.approx(1.0)
    assert m["time_to_recover_water_censored"] == 1.0
    assert m["resilience_loss_water_h"] == pytest.approx((0.5 + 0.1) * 0.5)
    assert m["min_performance_water"] == pytest.approx(0.5)
    # storm(0) -> line(1) -> pump(2) -> tank(3); repairs are not failures and not hops.
    assert m["primary_failures"] == 1 and m["secondary_failures"] == 2
    assert m["secondary_failures_customers"] == 40
    assert m["cascade_amplification"] == pytest.approx(2.0)
    assert m["cascade_depth_max"] == 2  # tank <- pump (the line is a state change)
    assert m["cascade_depth_max_all"] == 3
    assert m["cross_sector_hops"] == 1
    # total resilience loss: power (.4 + .2) * .5, water .3, traffic (.5 + .2) * .5, ict .5 * .5
    assert resilience_loss_total_h(m) == pytest.approx(0.3 + 0.3 + 0.35 + 0.25)


def test_no_drop(tmp_path: Path, hand) -> None:  # type: ignore[no-untyped-def]
    run = _load(hand, tmp_path, "r.h5", hand.BASE, [])
    base = _load(hand, tmp_path, "b.h5", hand.BASE, [])
    m, curves = metrics.compute(run, base)
    for sector in ("power", "water", "traffic", "ict"):
        np.testing.assert_array_equal(curves[sector], np.ones(4))
        assert m[f"resilience_loss_{sector}_h"] == 0.0
        assert m[f"min_performance_{sector}"] == 1.0
        assert m[f"time_to_recover_{sector}_h"] == 0.0
        assert m[f"time_to_recover_{sector}_censored"] == 0.0
    for key in ("energy_not_served_mwh", "water_not_served_m3", "vehicle_delay_h", "customer_outage_h",
                "secondary_failures", "cascade_depth_max", "cross_sector_hops"):
        assert m[key] == 0.0, key
    assert m["cascade_amplification_applicable"] == 0.0 and math.isnan(m["cascade_amplification"])
    # both districts of 200 and 100 people are rural by the degree of urbanisation
    # nobody had an outage: the Gini is 0/0, not "perfectly even" (it was 0.0 before)
    assert m["equity_outage_h_per_person_rural"] == 0.0
    assert math.isnan(m["equity_gini"]) and m["equity_gini_applicable"] == 0.0
    assert m["equity_rural_urban_ratio_applicable"] == 0.0


def test_secondary_failures_are_excess_over_the_baseline(tmp_path: Path, hand) -> None:  # type: ignore[no-untyped-def]
    run = _load(hand, tmp_path, "r.h5", hand.SERIES, hand.cascade_events())
    # the hazard-free world has a pump trip of its own (a secondary failure, 40 customers)
    trip = make_event(600, "water", "water/pump/P1", "pump_stopped", 0, "", "power->water")
    base = _load(hand, tmp_path, "b.h5", hand.BASE, [trip])
    m, _ = metrics.compute(run, base)
    assert m["secondary_failures"] == 2 - 1
    assert m["secondary_failures_customers"] == 40 - 40
    assert m["cascade_amplification"] == pytest.approx(2.0)  # of the run itself: 2 secondary / 1 primary


def _outage_series(city: float, town: float, village: float) -> dict:
    """Two half-hour steps; the outage in the first, as households out."""
    row = {"city": city, "t1": town, "v1": village}
    zero = dict.fromkeys(row, 0.0)
    return {"power": {"served_mw": [1.0, 1.0], "demand_mw": [1.0, 1.0], "customers_out": [row, zero]}}


THREE = [("city", "town", 100), ("t1", "town", 50), ("v1", "village", 50)]  # two anchor towns, a village


def test_gini_and_ratio_over_three_districts(tmp_path: Path, hand) -> None:  # type: ignore[no-untyped-def]
    # household-hours: city 20 * .5 = 10, t1 0, v1 50 * .5 = 25
    run = _load(hand, tmp_path, "r.h5", _outage_series(20, 0, 50), [], THREE)
    m, _ = metrics.compute(run, None)
    assert m["customer_outage_h_power"] == pytest.approx(35.0)
    # per household x = (.1, 0, .5), w = (100, 50, 50); mean_w = 35 / 200 = .175
    # sum_ij w_i w_j |x_i - x_j| = 2 (100*50*.1 + 100*50*.4 + 50*50*.5) = 7500
    assert m["equity_gini"] == pytest.approx(7500 / (2 * 200**2 * 0.175))
    # per person (2 per household): rural 50 / 100 = .5, urban (both towns) 20 / 300
    assert m["equity_rural_urban_ratio"] == pytest.approx(0.5 / (20 / 300))
    assert m["equity_rural_minus_urban_h"] == pytest.approx(0.5 - 20 / 300)
    per_capita = {d.district: d.per_capita_h for d in district_outage(run, None)}
    assert per_capita == pytest.approx({"city": 0.1, "t1": 0.0, "v1": 0.5})


def test_only_rural_or_only_urban_suffers(tmp_path: Path, hand) -> None:  # type: ignore[no-untyped-def]
    rural = _load(hand, tmp_path, "r.h5", _outage_series(0, 0, 10), [], THREE)
    m, _ = metrics.compute(rural, None)
    # urban 0 h per person: the ratio divides by the floor, 0.01 h; rural 10 person-h / 100
    assert m["equity_rural_urban_ratio"] == pytest.approx(0.1 / 0.01)
    assert m["equity_rural_minus_urban_h"] == pytest.approx(0.1)
    # all the outage sits on v1's 50 of 200 households: Gini = 1 - 50/200
    assert m["equity_gini"] == pytest.approx(0.75)
    urban = _load(hand, tmp_path, "u.h5", _outage_series(10, 0, 0), [], THREE)
    m, _ = metrics.compute(urban, None)
    # urban 10 person-h / 300 = 0.033 h, above the floor; rural 0: the ratio 0 is meaningful
    assert m["equity_rural_urban_ratio"] == 0.0 and m["equity_rural_urban_ratio_applicable"] == 1.0
    assert m["equity_rural_minus_urban_h"] == pytest.approx(-10 / 300)


def test_no_outage_with_urban_and_rural_districts(tmp_path: Path, hand) -> None:  # type: ignore[no-untyped-def]
    # towns and a village, nobody out: rural and urban 0 h per person
    run = _load(hand, tmp_path, "r.h5", _outage_series(0, 0, 0), [], THREE)
    m, _ = metrics.compute(run, None)
    assert m["equity_outage_h_per_person_rural"] == 0.0 and m["equity_outage_h_per_person_urban"] == 0.0
    # the difference of two zeros is a defensible 0 (no gap) ...
    assert m["equity_rural_minus_urban_h"] == 0.0 and m["equity_rural_minus_urban_h_applicable"] == 1.0
    # ... the ratio 0 / max(0, floor) and the Gini 0/0 are not (both were 0.0 before)
    for key in ("equity_rural_urban_ratio", "equity_gini"):
        assert math.isnan(m[key]) and m[f"{key}_applicable"] == 0.0, key


def test_ratio_when_both_sides_are_below_the_floor(tmp_path: Path, hand) -> None:  # type: ignore[no-untyped-def]
    # village 1 household out for half an hour: 1 * .5 * 2 persons / 100 people = 0.01 h, the floor
    at_floor = _load(hand, tmp_path, "f.h5", _outage_series(0, 0, 1), [], THREE)
    m, _ = metrics.compute(at_floor, None)
    assert m["equity_rural_urban_ratio"] == pytest.approx(0.01 / 0.01)
    # half of that (0.005 h per person) and urban 0: both below the floor, nothing to compare
    assert metrics.rural_urban_ratio(0.005, 0.0) is None
    assert metrics.rural_urban_ratio(0.005, 0.02) == pytest.approx(0.25)
    assert metrics.rural_urban_ratio(0.5, 0.0) == pytest.approx(50.0)


def test_single_district_with_outage(tmp_path: Path, hand) -> None:  # type: ignore[no-untyped-def]
    series = {"power": {"served_mw": [2.0, 1.0], "demand_mw": [2.0, 2.0],
                        "customers_out": [{"city": 0.0}, {"city": 30.0}]}}
    run = _load(hand, tmp_path, "r.h5", series, [], [("city", "city", 100)])
    m, _ = metrics.compute(run, None)
    assert m["customer_outage_h"] == pytest.approx(15.0)
    assert m["energy_not_served_mwh"] == pytest.approx(0.5)
    # 200 people: a rural district by the degree of urbanisation, and no urban one to compare
    assert math.isnan(m["equity_rural_urban_ratio"]) and m["equity_rural_urban_ratio_applicable"] == 0.0
    assert m["equity_outage_h_per_person_rural"] == pytest.approx(0.15)
    # one district: no inequality across districts to measure (it was 0.0, "perfectly even")
    assert math.isnan(m["equity_gini"]) and m["equity_gini_applicable"] == 0.0
    assert m["time_to_recover_power_censored"] == 1.0 and m["time_to_recover_power_h"] == pytest.approx(0.5)


def test_worst_moment_and_failed_assets(tmp_path: Path, hand) -> None:  # type: ignore[no-untyped-def]
    run = _load(hand, tmp_path, "r.h5", hand.SERIES, hand.cascade_events())
    _, curves = metrics.compute(run, None)
    # means over sectors: step 1 (.6 + 1 + .5 + .5) / 4 = .65, step 2 (.8 + .5 + .8 + 1) / 4 = .775
    assert worst_moment(curves) == 1
    assert worst_moment({"a": np.array([1.0, 0.5, 0.5])}) == 1  # first of a tie
    assert failed_at(run, 0) == {}
    assert sorted(failed_at(run, 1800)) == ["power/line/L1", "water/pump/P1"]
    assert sorted(failed_at(run, 3600)) == ["power/line/L1", "water/pump/P1", "water/tank/T1"]
    assert sorted(failed_at(run, 5400)) == ["water/tank/T1"]  # L1 and P1 are back, T1 never


def test_cascade_forest(tmp_path: Path, hand) -> None:  # type: ignore[no-untyped-def]
    evs = hand.cascade_events()
    # a second pump trip caused by the same line failure: the forest branches
    evs.append(make_event(1800, "water", "water/pump/P2", "pump_stopped", 0, evs[1]["event_id"], "power->water"))
    run = _load(hand, tmp_path, "r.h5", hand.SERIES, evs)
    g = cascade_forest(run)
    assert sorted((g.nodes[u]["asset_id"], g.nodes[v]["asset_id"], a["coupling"]) for u, v, a in g.edges(data=True)) == [
        ("hazard/storm-0", "power/line/L1", "hazard"),
        ("power/line/L1", "water/pump/P1", "power->water"),
        ("power/line/L1", "water/pump/P2", "power->water"),
        ("water/pump/P1", "water/tank/T1", "water"),
    ]
    assert {g.nodes[n]["asset_id"]: g.nodes[n]["depth"] for n in g} == {
        "hazard/storm-0": 0, "power/line/L1": 1, "water/pump/P1": 2, "water/pump/P2": 2, "water/tank/T1": 3}
    grouped = group_forest(g)
    assert grouped.nodes[(2, "water", "water/pump", "pump_stopped")]["count"] == 2
    assert grouped.edges[(1, "power", "power/line", "failed"), (2, "water", "water/pump", "pump_stopped")]["count"] == 2
    assert grouped.number_of_nodes() == 4


def test_cost_index() -> None:
    cost = {"line_km": 10.0, "pipe_km": 2.0, "road_km": 99.0, "wells": 3.0}
    # 10 * 0.1 + 2 * 0.5 + 3 * 0.3; roads are shared by every configuration and left out
    assert cost_index_meur(cost) == pytest.approx(1.0 + 1.0 + 0.9)


def test_failed_at_matches_recoveries_to_their_failure(tmp_path: Path, hand) -> None:  # type: ignore[no-untyped-def]
    """A pump both stopped and unreachable stays failed when it becomes reachable again."""
    evs = [
        make_event(0, "water", "water/pump/P1", "pump_stopped", 0, "", "power->water"),
        make_event(0, "ict", "water/pump/P1", "unreachable", 0, "", "ict"),
        make_event(1800, "ict", "water/pump/P1", "reachable", 1, "", "ict"),
    ]
    run = _load(hand, tmp_path, "r.h5", hand.SERIES, evs)
    assert failed_at(run, 0)["water/pump/P1"]["kind"] == "unreachable"  # the latest of the two
    assert failed_at(run, 1800)["water/pump/P1"]["kind"] == "pump_stopped"
    from twin.report.explain import explain

    assert explain(run, "water/pump/P1").recovered_s is None  # "reachable" does not restart a pump


def test_summary_table_says_over_how_many_runs() -> None:
    from twin.report.build import summary_table
    from twin.sweep.stats import FlagShare

    nan = math.nan
    # amplification meaningful in 2 of 3 seeds (2 and 4: mean 3; with the n/a seed as 0 it was 2)
    seeds = [{"cascade_amplification": 2.0, "cascade_amplification_applicable": 1.0},
             {"cascade_amplification": nan, "cascade_amplification_applicable": 0.0},
             {"cascade_amplification": 4.0, "cascade_amplification_applicable": 1.0}]
    none = [{"cascade_amplification": nan, "cascade_amplification_applicable": 0.0}] * 2
    groups = {("", "centralised"): seeds, ("", "decentralised"): none}
    shares = [FlagShare("centralised", None, 3, 0, 0, 0), FlagShare("decentralised", None, 2, 0, 0, 0)]
    _, rows = summary_table(groups, shares)
    (amp,) = [r for r in rows if r[0].startswith("cascade amplification")]
    assert amp[1].startswith("3") and "(2 of 3 runs; 1 not meaningful)" in amp[1]
    assert amp[2] == "n/a (not meaningful)"


def test_sector_with_nothing_demanded_has_no_resilience_loss(tmp_path: Path, hand) -> None:  # type: ignore[no-untyped-def]
    # no ICT endpoint at all: P_ict = 1 throughout says nothing (it gave loss 0, minimum 1, recovery 0)
    series = {**hand.SERIES, "ict": {"endpoints_reachable": [0.0] * 4, "endpoints_total": [0.0] * 4}}
    m, _ = metrics.compute(_load(hand, tmp_path, "r.h5", series, []), None)
    for key in ("resilience_loss_ict_h", "min_performance_ict", "time_to_recover_ict_h"):
        assert math.isnan(m[key]) and m[f"{key}_applicable"] == 0.0, key
    assert m["time_to_recover_ict_censored"] == 0.0
    # the other sectors are meaningful, and the total is over them: power (.4 + .2) * .5,
    # water (.5 + .1) * .5, traffic (.5 + .2) * .5
    assert m["resilience_loss_power_h_applicable"] == 1.0
    assert resilience_loss_total_h(m) == pytest.approx(0.3 + 0.3 + 0.35)
