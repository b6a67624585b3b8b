"""Floods: depth-damage fragility frequencies, polygon geometry, receding water; repair-time draws."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy.stats import lognorm

from twin.config import FloodHazard, Scenario, ScenarioError, validate_data
from twin.hazards import (
    FLOOD_FRAGILITY,
    REPAIR_TIME,
    WIND_FRAGILITY,
    damage_schedule,
    flood_depth_m,
    repair_time_h,
)
from twin.region.assets import make_asset

SQUARE = [[-100.0, -100.0], [100.0, -100.0], [100.0, 100.0], [-100.0, 100.0]]


def _flood(depth_m: float, end_h: float | None = None) -> Scenario:
    hz: dict = {"kind": "flood", "polygons_m": [SQUARE], "depth_m": depth_m, "start_h": 1.0}
    if end_h is not None:
        hz["end_h"] = end_h
    return Scenario.model_validate({"run": {"hours": 6, "seed": 11}, "hazards": [hz]})


@pytest.mark.parametrize(("cls", "depth_m"), [("water/pump", 0.6), ("water/pump", 1.0),
                                              ("water/pump", 1.6), ("traffic/road", 0.25),
                                              ("ict/site", 1.2)])
def test_flood_failure_frequency_matches_depth_damage_curve(cls: str, depth_m: float) -> None:
    """n = 4000 assets at one depth fail binomially with p = the curve's value. Tolerance:
    4 standard deviations, sqrt(p (1 - p) / n) <= 0.0079 — a correct model fails it with
    probability < 1e-4, while a median off by 20 % shifts p by more than 0.1 at these depths."""
    sector, typ = cls.split("/")
    n = 4000
    assets = [make_asset(f"{cls}/A{i}", sector, typ, 0.0, 0.0, "city") for i in range(n)]
    failed = len(damage_schedule(_flood(depth_m), assets))
    frag = FLOOD_FRAGILITY[cls]
    p = float(lognorm(s=frag.beta, scale=frag.median).cdf(depth_m))
    assert frag.probability(depth_m) == pytest.approx(p, abs=1e-12)
    assert 0.02 < p < 0.98  # an informative intensity
    assert abs(failed / n - p) <= 4 * math.sqrt(p * (1 - p) / n)


def test_only_assets_inside_the_polygon_fail_and_the_deepest_polygon_counts() -> None:
    flood = FloodHazard(kind="flood", polygons_m=[SQUARE, [[0, 0], [300, 0], [300, 300], [0, 300]]],
                        depth_m=[0.5, 2.0], start_h=0)
    assert flood_depth_m(flood, -50, -50) == 0.5
    assert flood_depth_m(flood, 50, 50) == 2.0  # in both: the deeper one
    assert flood_depth_m(flood, 200, 250) == 2.0
    assert flood_depth_m(flood, -150, 0) == 0.0
    # 4 m of water fails nearly everything inside (p > 0.999) and nothing outside
    sc = Scenario.model_validate({"run": {"hours": 2}, "hazards": [
        {"kind": "flood", "polygons_m": [SQUARE], "depth_m": 4.0, "start_h": 0.5}]})
    inside = [make_asset(f"water/pump/I{i}", "water", "pump", 0.0, 0.0, "city") for i in range(20)]
    outside = [make_asset(f"water/pump/O{i}", "water", "pump", 500.0, 0.0, "city") for i in range(20)]
    damage = damage_schedule(sc, inside + outside)
    assert {d.asset_id for d in damage} == {a["id"] for a in inside}
    assert {d.time_s for d in damage} == {1800}


def test_flooded_roads_reopen_when_the_water_recedes_other_assets_wait_for_repair() -> None:
    sc = _flood(3.0, end_h=4.0)
    road = make_asset("traffic/road/E1", "traffic", "road", 0.0, 0.0, "city")
    pump = make_asset("water/pump/P1", "water", "pump", 0.0, 0.0, "city")
    by_id = {d.asset_id: d for d in damage_schedule(sc, [road, pump])}
    assert by_id["traffic/road/E1"].time_s == 3600 and by_id["traffic/road/E1"].duration_s == 3 * 3600
    assert by_id["water/pump/P1"].duration_s is None


def test_flood_scenario_errors_name_the_key() -> None:
    bad = {"hazards": [{"kind": "flood", "polygons_m": [[[0, 0], [1, 1]]], "depth_m": [1.0, 2.0],
                        "start_h": 0}]}
    with pytest.raises(ScenarioError) as err:
        validate_data(bad, "t")
    assert any(p.startswith("hazards[0]") for p in err.value.problems)


def test_every_default_curve_names_a_source_or_is_an_assumption() -> None:
    for table in (WIND_FRAGILITY, FLOOD_FRAGILITY, REPAIR_TIME):
        for cls, entry in table.items():
            assert entry.source.startswith("assumption") or "(" in entry.source, cls


def test_repair_times_are_lognormal_per_class_and_paired_by_asset() -> None:
    """2000 line repairs: ln(time) has mean ln(median) and sd beta. Standard errors are
    beta / sqrt(n) = 0.011 (mean) and about beta / sqrt(2n) = 0.008 (sd); 4 of them is the
    tolerance."""
    rt = REPAIR_TIME["power/line"]
    n = 2000
    logs = np.log([repair_time_h(3, make_asset(f"power/line/L{i}", "power", "line", 0, 0, "c"))
                   for i in range(n)])
    assert abs(logs.mean() - math.log(rt.median_h)) <= 4 * rt.beta / math.sqrt(n)
    assert abs(logs.std() - rt.beta) <= 4 * rt.beta / math.sqrt(2 * n)
    a = make_asset("power/line/F2-3", "power", "line", 0, 0, "c")
    moved = make_asset("power/line/F2-3", "power", "line", 900, 40, "town")
    assert repair_time_h(3, a) == repair_time_h(3, moved)  # same seed and id, same draw
    assert repair_time_h(3, a) != repair_time_h(4, a)
    assert repair_time_h(3, a, {"power/line": 8.0}) == pytest.approx(2 * repair_time_h(3, a))
