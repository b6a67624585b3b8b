"""SAIDI, SAIFI, CAIDI, MAIFI and the value of lost load on hand-built files (by hand below)."""

from __future__ import annotations

import math
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest

from twin import metrics, results
from twin.region.assets import make_asset

STEP = 300  # s: an interruption of one step (5 min) is momentary, of two steps sustained


def _region() -> SimpleNamespace:
    """Three households, one per load, in one district; a hospital and a pump load."""
    return SimpleNamespace(
        assets=[
            make_asset("power/load/a", "power", "load", 0, 0, "city", customers=1),
            make_asset("power/load/b", "power", "load", 0, 0, "city", customers=1),
            make_asset("power/load/c", "power", "load", 0, 0, "city", customers=1),
            make_asset("power/load/hospital", "power", "load", 0, 0, "city", critical=True),
            make_asset("water/junction/J1", "water", "junction", 0, 0, "city", customers=10),
        ],
        dependencies=[], cost={},
        layout={"districts": [{"id": "city", "kind": "city", "x_m": 0.0, "y_m": 0.0, "radius_m": 500.0,
                               "population": 7, "households": 3, "parent": ""}]})


def _file(path: Path, series: dict) -> results.Results:
    n = len(series["power"]["served_mw"])
    results.start_file(path, {"step_s": STEP, "run_id": path.stem, "configuration": "centralised",
                              "seed": 1, "hours": n * STEP / 3600, "hazard_free": False}, _region())
    results.write_series(path, [i * STEP for i in range(n)], series)
    results.write_events(path, [])
    results.set_status(path, "complete")
    return results.load(path)


def _series(power_out: list[float], water_out: list[float], served: list[dict] | None = None) -> dict:
    n = len(power_out)
    s = {"power": {"served_mw": [1.0] * n, "demand_mw": [1.0] * n,
                   "customers_out": [{"city": v} for v in power_out]},
         "water": {"delivered_m3s": [1.0] * n, "required_m3s": [1.0] * n,
                   "customers_out": [{"city": v} for v in water_out]}}
    if served is not None:
        s["power"]["load_served_mw"] = served
    return s


def test_saidi_three_customers(tmp_path: Path) -> None:
    # Household a out at steps 1-3 (3 steps = 15 min, sustained); at step 5 b and c go out
    # and come back at step 6 (5 min: momentary); at step 7 b goes out until the horizon (10).
    power = [0, 1, 1, 1, 0, 2, 0, 1, 1, 1]
    run = _file(tmp_path / "r.h5", _series(power, [0] * 10))
    m, _ = metrics.compute(run, None)
    # sustained: a (15 min) and b (3 steps to the horizon, 15 min); momentary: b and c at step 5
    assert m["saifi_power"] == pytest.approx(2 / 3)
    assert m["saidi_power_h"] == pytest.approx((0.25 + 0.25) / 3)
    assert m["caidi_power_h"] == pytest.approx(0.25)
    assert m["maifi_power"] == pytest.approx(2 / 3)
    # the sum of every interruption's duration equals the customer-outage hours of the series
    cohorts = metrics.interruptions(np.array(power, float)[:, None], ["city"], STEP)
    assert sum(i.customers * i.duration_s for i in cohorts) / 3600 == pytest.approx(sum(power) * STEP / 3600)
    # no water interruption: indices 0, CAIDI not applicable
    assert m["saidi_water_h"] == 0.0 and m["saifi_water"] == 0.0
    assert math.isnan(m["caidi_water_h"]) and m["caidi_water_h_applicable"] == 0.0


def test_first_out_first_restored_and_baseline_excess(tmp_path: Path) -> None:
    # 1 person out from step 1, 5 more from step 2; at step 3 five come back: the oldest first
    # (the one from step 1, 2 steps = 10 min, and 4 of step 2's, 1 step = momentary); the last
    # one of step 2 is back at step 5 (3 steps, sustained).
    water = [0, 1, 6, 1, 1, 0]
    run = _file(tmp_path / "r.h5", _series([0] * 6, water))
    base = _file(tmp_path / "b.h5", _series([0] * 6, [0, 0, 0, 0, 10, 0]))  # 10 people, 5 min
    m, _ = metrics.compute(run, base)
    assert m["saifi_water"] == pytest.approx(2 / 10)
    assert m["saidi_water_h"] == pytest.approx((1 * 600 + 1 * 900) / 3600 / 10)
    assert m["caidi_water_h"] == pytest.approx(750 / 3600)
    assert m["maifi_water"] == pytest.approx((4 - 10) / 10)  # excess over the baseline's 10


def test_caidi_of_more_but_shorter_interruptions(tmp_path: Path) -> None:
    # baseline: 1 person out for 6 steps (30 min, sustained); run: 2 people out for 2 steps
    # (10 min each, sustained). N_T = 10 people.
    run = _file(tmp_path / "r.h5", _series([0] * 8, [0, 2, 2, 0, 0, 0, 0, 0]))
    base = _file(tmp_path / "b.h5", _series([0] * 8, [0, 1, 1, 1, 1, 1, 1, 0]))
    m, _ = metrics.compute(run, base)
    assert m["saifi_water"] == pytest.approx((2 - 1) / 10)
    assert m["saidi_water_h"] == pytest.approx((2 * 600 - 1 * 1800) / 3600 / 10)  # -1/60 h
    # one extra interruption and 10 customer-minutes fewer: CAIDI would be -1/6 h (it was)
    assert math.isnan(m["caidi_water_h"]) and m["caidi_water_h_applicable"] == 0.0


def test_indices_without_a_customers_out_series(tmp_path: Path) -> None:
    series = _series([0, 1, 1, 0], [0] * 4)
    del series["water"]["customers_out"]  # water simulated, but nobody's outage recorded
    m, _ = metrics.compute(_file(tmp_path / "r.h5", series), None)
    for key in ("saidi_water_h", "saifi_water", "caidi_water_h", "maifi_water"):
        assert math.isnan(m[key]) and m[f"{key}_applicable"] == 0.0, key  # saidi/saifi/maifi were 0.0
    assert m["saifi_power"] == pytest.approx(1 / 3)  # one of the three households out 10 min: sustained


def test_value_of_lost_load_per_class(tmp_path: Path) -> None:
    cols = ["power/load/a", "power/load/b", "power/load/c", "power/load/hospital", "water/pump/P1"]
    full = {c: 1.0 for c in cols}
    cut = {**full, "power/load/a": 0.0, "power/load/hospital": 0.5, "water/pump/P1": 0.0}
    run = _file(tmp_path / "r.h5", _series([0, 1, 0], [0] * 3, [full, cut, full]))
    base = _file(tmp_path / "b.h5", _series([0] * 3, [0] * 3, [full] * 3))
    m, _ = metrics.compute(run, base)
    step_h = STEP / 3600
    assert m["energy_not_served_residential_mwh"] == pytest.approx(1.0 * step_h)
    assert m["energy_not_served_non_residential_mwh"] == pytest.approx(0.5 * step_h)
    assert m["energy_not_served_infrastructure_mwh"] == pytest.approx(1.0 * step_h)
    assert m["lost_load_cost_meur"] == pytest.approx((8_700 * 1.0 + 20_000 * 0.5) * step_h / 1e6)
    # without a baseline the per-load shortfall is unknown: not applicable
    m0, _ = metrics.compute(run, None)
    assert m0["lost_load_cost_meur_applicable"] == 0.0 and math.isnan(m0["lost_load_cost_meur"])
