"""Hazards: fragility frequencies match the lognormal CDF; draws are paired across configurations."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy.stats import lognorm

from twin.config import Scenario, StormHazard
from twin.hazards import WIND_FRAGILITY, Fragility, damage_schedule, storm_wind_ms
from twin.incidents import IncidentLog
from twin.region.assets import make_asset


def test_fragility_is_the_lognormal_cdf() -> None:
    f = Fragility(40.0, 0.3, "test")
    for v in (20.0, 35.0, 40.0, 50.0, 70.0):
        assert f.probability(v) == pytest.approx(lognorm(s=0.3, scale=40.0).cdf(v), abs=1e-12)
    assert f.probability(40.0) == pytest.approx(0.5)
    assert f.probability(0.0) == 0.0


def _line(name: str, x_m: float = 0.0, underground: bool = False, length_km: float = 6.0) -> dict:
    a = make_asset(f"power/line/{name}", "power", "line", x_m, 0.0, "city", underground=underground)
    a["length_km"] = length_km
    return a


def _storm_at(wind_ms: float) -> Scenario:
    # A track through the origin: assets at the origin see exactly the peak wind.
    return Scenario.model_validate(
        {"run": {"hours": 2, "seed": 7},
         "hazards": [{"kind": "storm", "track_m": [[-1000, 0], [1000, 0]], "start_h": 0,
                      "end_h": 1, "peak_wind_ms": wind_ms}]}
    )


@pytest.mark.parametrize("wind_ms", [30.0, 40.0, 48.0])
def test_failure_frequency_matches_fragility(wind_ms: float) -> None:
    """n = 4000 assets at one intensity: the failure count is binomial(n, p). A tolerance of
    4 standard deviations, sqrt(p (1-p) / n) <= 0.0079, fails a correct model with
    probability below 1e-4, and catches a wrong median or beta (shifts of >= 0.05)."""
    n = 4000
    assets = [make_asset(f"ict/site/S{i}", "ict", "site", 0.0, 0.0, "city") for i in range(n)]
    failed = len(damage_schedule(_storm_at(wind_ms), assets))
    p = WIND_FRAGILITY["ict/site"].probability(wind_ms)
    assert abs(failed / n - p) <= 4 * math.sqrt(p * (1 - p) / n)


def test_same_damage_for_shared_assets_whatever_else_exists() -> None:
    scenario = _storm_at(40.0)
    shared = [_line(f"L{i}", 10.0 * i) for i in range(200)]
    extra = [make_asset(f"ict/site/S{i}", "ict", "site", 5.0 * i, 3.0, "city") for i in range(50)]
    a = {d.asset_id for d in damage_schedule(scenario, shared)}
    b = {d.asset_id for d in damage_schedule(scenario, list(reversed(shared)) + extra)}
    assert a and a == {x for x in b if x.startswith("power/")}


def test_wind_decays_with_distance_and_timing() -> None:
    storm = StormHazard(kind="storm", track_m=[(0, 0), (10_000, 0)], start_h=6, end_h=8,
                        peak_wind_ms=40, decay_m=4000)
    wind, hour = storm_wind_ms(storm, 5000.0, 4000.0)
    assert wind == pytest.approx(40 * math.exp(-1.0))
    assert hour == pytest.approx(7.0)


def test_incident_log_fails_and_repairs_with_causes() -> None:
    from twin.hazards import Damage

    log = IncidentLog([Damage(600, "power/line/A", "hazard/outage-0", 600, 1200)],
                      {"power": 3600}, {"power/line/A": "power"})
    assert log.advance(0, 300) == [] and not log.failed
    evs = log.advance(600, 300)
    assert [e["kind"] for e in evs] == ["hazard", "failed"]
    assert evs[1]["cause_id"] == evs[0]["event_id"] and evs[1]["coupling"] == "hazard"
    assert log.failed == {"power/line/A": evs[1]["event_id"]}
    assert log.advance(1500, 300) == []
    rep = log.advance(1800, 300)
    assert [e["kind"] for e in rep] == ["repaired"] and rep[0]["cause_id"] == evs[1]["event_id"]
    assert not log.failed


def test_random_failures_are_seeded() -> None:
    s = Scenario.model_validate({"run": {"hours": 24, "seed": 3},
                                 "hazards": [{"kind": "random", "probability": 0.3}]})
    assets = [make_asset(f"power/line/L{i}", "power", "line", 0, 0, "city") for i in range(300)]
    one, two = damage_schedule(s, assets), damage_schedule(s, assets)
    assert one == two
    assert 0.2 < len(one) / 300 < 0.4
    assert np.all(np.diff([d.time_s for d in one]) >= 0)


def test_storm_spares_underground_cables() -> None:
    scenario = _storm_at(60.0)  # far above the median: nearly every exposed line fails
    overhead = [_line(f"O{i}") for i in range(50)]
    cables = [_line(f"C{i}", underground=True) for i in range(50)]
    failed = {d.asset_id for d in damage_schedule(scenario, overhead + cables)}
    assert len(failed) > 40 and all(a.startswith("power/line/O") for a in failed)


def test_hazard_registry_and_models_are_in_step():
    from twin.config import HAZARD_MODELS
    from twin.hazards import FAMILIES, HAZARD_KINDS

    kinds = {m.model_fields["kind"].annotation.__args__[0] for m in HAZARD_MODELS}
    assert kinds == set(HAZARD_KINDS)
    assert all(k.family in FAMILIES for k in HAZARD_KINDS.values())
