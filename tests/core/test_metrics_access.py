"""Access to a working hospital and to an emergency call, on hand-built files computed by hand.

Two districts, half-hour steps: a town t1 (200 people, the hospital and its water junction
J-t1) and a village v1 (100 people). Step 1 the village's road closes, step 2 the
hospital's junction gets 30 % of its water, step 3 the grid drops the hospital (its
generator carries it) while half the village's streets are cut.
"""

from __future__ import annotations

import math
from pathlib import Path
from types import SimpleNamespace

import pytest

from twin import metrics, results
from twin.metrics import access
from twin.region.assets import make_asset
from twin.report.tables import metric_cell

H = "power/load/hospital"


def _region(hand: SimpleNamespace, hospital: bool = True) -> SimpleNamespace:
    reg = hand.region([("t1", "town", 100), ("v1", "village", 50)])
    reg.assets = [a for a in reg.assets if a["id"] != "power/load/L1"]
    reg.assets += [
        make_asset("water/junction/J-t1", "water", "junction", 10, 0, "t1", customers=200),
        make_asset("water/junction/J-v1", "water", "junction", 3000, 0, "v1", customers=100),
    ]
    if hospital:
        reg.assets.append(make_asset(H, "power", "load", 0, 0, "t1", capacity=0.8,
                                     capacity_unit="MW", critical=True))
    return reg


def _series(reach_v1: list[float], water_t1: list[float], served: list[float],
            calls: list[dict[str, float]], hospital: bool = True) -> dict:
    n = len(served)
    out = {
        "power": {"served_mw": [1.0] * n, "demand_mw": [1.0] * n,
                  "load_served_mw": [{H if hospital else "power/load/other": s} for s in served]},
        "water": {"junction_required_m3s": [{"water/junction/J-t1": 1.0, "water/junction/J-v1": 1.0}] * n,
                  "junction_delivered_m3s": [{"water/junction/J-t1": w, "water/junction/J-v1": 1.0}
                                             for w in water_t1]},
        "ict": {"district_emergency_call_frac": calls},
    }
    if hospital:
        out["traffic"] = {"hospital_reach_frac": [{f"t1|{H}": 1.0, f"v1|{H}": r} for r in reach_v1]}
    return out


RUN = dict(reach_v1=[1.0, 0.0, 1.0, 0.5], water_t1=[1.0, 1.0, 0.3, 1.0], served=[0.8, 0.8, 0.8, 0.0],
           calls=[{"t1": 1.0, "v1": 1.0}, {"t1": 1.0, "v1": 0.0}, {"t1": 0.5, "v1": 1.0},
                  {"t1": 1.0, "v1": 1.0}])
BASE = dict(reach_v1=[1.0] * 4, water_t1=[1.0] * 4, served=[0.8] * 4,
            calls=[{"t1": 0.75, "v1": 1.0}] + [{"t1": 1.0, "v1": 1.0}] * 3)


def test_lost_access_by_hand(tmp_path: Path, hand: SimpleNamespace) -> None:
    reg = _region(hand)
    run = results.load(hand.make_file(tmp_path / "r.h5", reg, _series(**RUN), []))
    base = results.load(hand.make_file(tmp_path / "b.h5", reg, _series(**BASE), [], hazard_free=True))
    m, _ = metrics.compute(run, base)
    # hospital: step 1 v1 cut (100 people x 0.5 h = 50), step 2 no water at the hospital
    # (300 x 0.5 = 150), step 3 on its generator (still working) with half of v1 cut (25)
    assert m["access_hospital_lost_person_h"] == pytest.approx(225.0)
    assert m["access_hospital_lost_h_per_person_town"] == pytest.approx(100 / 200)
    assert m["access_hospital_lost_h_per_person_urban"] == pytest.approx(100 / 200)
    assert m["access_hospital_lost_h_per_person_rural"] == pytest.approx(125 / 100)
    assert m["access_hospital_rural_minus_urban_h"] == pytest.approx(1.25 - 0.5)
    # emergency call: t1 half cut in step 2 (200 x .5 x .5 = 50) less the baseline's quarter
    # in step 0 (200 x .25 x .5 = 25); v1 cut in step 1 (100 x .5 = 50)
    assert m["access_emergency_call_lost_person_h"] == pytest.approx(25 + 50)
    assert m["access_emergency_call_lost_h_per_person_town"] == pytest.approx(25 / 200)
    assert m["access_emergency_call_lost_h_per_person_rural"] == pytest.approx(50 / 100)
    for key in ("access_hospital_lost_person_h", "access_emergency_call_lost_person_h",
                "access_hospital_lost_h_per_person_rural"):
        assert m[f"{key}_applicable"] == 1.0
    for service in ("hospital", "emergency_call"):  # no city in this region
        key = f"access_{service}_lost_h_per_person_city"
        assert math.isnan(m[key]) and m[f"{key}_applicable"] == 0.0
        assert metric_cell(m, key) == "n/a"
    # the per-step shares behind them
    share = metrics.hospital_access_share(run)
    assert share.tolist() == [[1.0, 1.0], [1.0, 0.0], [0.0, 0.0], [1.0, 0.5]]
    assert metrics.hospital_working(run)[H].tolist() == [True, True, False, True]


def test_generator_runs_dry(tmp_path: Path, hand: SimpleNamespace,
                            monkeypatch: pytest.MonkeyPatch) -> None:
    """Half an hour of fuel: the first step off the grid it runs, the second it is dry."""
    monkeypatch.setattr(access, "HOSPITAL_BACKUP_H", 0.5)
    series = _series([1.0] * 4, [1.0] * 4, [0.8, 0.0, 0.3, 0.8], [{"t1": 1.0, "v1": 1.0}] * 4)
    run = results.load(hand.make_file(tmp_path / "r.h5", _region(hand), series, []))
    # 0.3 of 0.8 MW served is less than half: off the grid
    assert metrics.hospital_working(run)[H].tolist() == [True, True, False, True]
    m, _ = metrics.compute(run, None)
    assert m["access_hospital_lost_person_h"] == pytest.approx(300 * 0.5)


def test_region_without_a_hospital_is_not_applicable(tmp_path: Path, hand: SimpleNamespace) -> None:
    series = _series([1.0] * 2, [1.0] * 2, [0.8] * 2, [{"t1": 1.0, "v1": 0.0}] * 2, hospital=False)
    run = results.load(hand.make_file(tmp_path / "r.h5", _region(hand, hospital=False), series, []))
    m, _ = metrics.compute(run, None)
    for key in ("access_hospital_lost_person_h", "access_hospital_lost_h_per_person_town",
                "access_hospital_rural_minus_urban_h"):
        assert math.isnan(m[key]) and m[f"{key}_applicable"] == 0.0, key
        assert metric_cell(m, key) == "n/a"
    assert m["access_emergency_call_lost_person_h"] == pytest.approx(100 * 1.0)
    assert m["access_emergency_call_lost_person_h_applicable"] == 1.0
