"""Equity by degree of urbanisation on hand-built files: the classification rule, a region
without an urban district (not applicable, never inf or nan without a flag), the floor."""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from twin import metrics, results
from twin.report.tables import metric_cell


def test_degree_of_urbanisation_rule() -> None:
    # density = population / (pi r^2): 60,000 people within 2 km -> 4,775 per km2: a city
    assert metrics.urbanisation("city", 60_000, 2000.0) == "city"
    # 20,000 within 1.7 km (2,203 per km2) are dense but fewer than 50,000: a town
    assert metrics.urbanisation("city", 20_000, 1700.0) == "town"
    # 6,000 over 3 km (212 per km2): too sparse for a town, rural (whatever the layout calls it)
    assert metrics.urbanisation("city", 6_000, 3000.0) == "rural"
    # an anchor town is a town even with 2,000 people
    assert metrics.urbanisation("town", 2_000, 500.0) == "town"
    assert metrics.urbanisation("village", 800, 340.0) == "rural"


def test_equity_without_an_urban_district(tmp_path: Path, hand) -> None:  # type: ignore[no-untyped-def]
    # three villages (households 50, 50, 100; 2 persons each), power outage in the first step
    reg = hand.region([("v1", "village", 50), ("v2", "village", 50), ("v3", "village", 100)])
    out = {"v1": 20.0, "v2": 0.0, "v3": 10.0}
    series = {"power": {"served_mw": [1.0, 1.0], "demand_mw": [1.0, 1.0],
                        "customers_out": [out, dict.fromkeys(out, 0.0)]}}
    run = results.load(hand.make_file(tmp_path / "r.h5", reg, series, []))
    m, _ = metrics.compute(run, None)
    # person-hours: v1 20 * .5 * 2 = 20, v3 10; rural per person (20 + 0 + 10) / 400
    assert m["equity_outage_h_per_person_rural"] == pytest.approx(30 / 400)
    assert m["equity_districts_rural"] == 3 and m["equity_districts_city"] == 0
    for key in ("equity_rural_minus_urban_h", "equity_rural_urban_ratio", "equity_outage_h_per_person_urban",
                "equity_outage_h_per_person_city", "equity_outage_h_per_person_town"):
        assert math.isnan(m[key]) and m[f"{key}_applicable"] == 0.0, key
        assert metric_cell(m, key) == "n/a"
    # x = (.2, 0, .05), w = (100, 100, 200), mean .075:
    # sum_ij w_i w_j |x_i - x_j| = 2 (100*100*.2 + 100*200*.15 + 100*200*.05) = 12,000
    assert m["equity_gini"] == pytest.approx(12_000 / (2 * 400**2 * 0.075))
    assert m["equity_gini_applicable"] == 1.0
