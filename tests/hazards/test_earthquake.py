"""Earthquakes: BA08 ground motion by hand, ALA repair rates by hand and over 50 draws,
correlated residuals, HAZUS fragility frequencies, leak/break modes, common random numbers."""

from __future__ import annotations

import math

import numpy as np
import pytest

from twin.config import EarthquakeHazard, Scenario, ScenarioError, validate_data
from twin.earthquake import (
    BREAK_SHARE,
    PIPE_K1,
    ResidualField,
    ala_repair_rate_per_km,
    ba08_median,
    ground_motion,
    pipe_repairs,
)
from twin.hazards import EARTHQUAKE_FRAGILITY, damage_schedule
from twin.region.assets import make_asset


def _quake(**kw: object) -> dict:
    return {"kind": "earthquake", "epicentre_m": [0.0, 0.0], "magnitude": 6.5, "start_h": 1.0, **kw}


def _scenario(seed: int = 7, **kw: object) -> Scenario:
    return Scenario.model_validate({"run": {"hours": 4, "seed": seed}, "hazards": [_quake(**kw)]})


def _pipes(n: int, length_m: float = 500.0, spread_m: float = 12_000.0) -> list[dict]:
    """n pipes on a line from 1 km to 1 km + spread east of the epicentre."""
    return [make_asset(f"water/pipe/P{i}", "water", "pipe", 1000.0 + spread_m * i / n, 300.0, "c",
                       capacity=length_m, capacity_unit="m") for i in range(n)]


def test_ba08_median_by_hand_on_rock() -> None:
    """M 6.5 strike-slip at Rjb = 10 km, Vs30 = 760 m/s (no site term): BA08 eqs. 1-5 with
    the Table 6-7 coefficients written out."""
    r = math.sqrt(10.0**2 + 1.35**2)
    ln_pga = (-0.50350 + 0.28805 * (6.5 - 6.75) - 0.10164 * (6.5 - 6.75) ** 2
              + (-0.66050 + 0.11970 * (6.5 - 4.5)) * math.log(r) - 0.01151 * (r - 1.0))
    assert ba08_median("pga", 6.5, 10.0, 760.0) == pytest.approx(math.exp(ln_pga), rel=1e-12)
    assert math.exp(ln_pga) == pytest.approx(0.1901, abs=2e-4)  # g, by hand: exp(-1.6599)
    r = math.sqrt(10.0**2 + 2.54**2)
    ln_pgv = (5.04727 + 0.18322 * (6.5 - 8.5) - 0.12736 * (6.5 - 8.5) ** 2
              + (-0.87370 + 0.10060 * 2.0) * math.log(r) - 0.00334 * (r - 1.0))
    assert ba08_median("pgv", 6.5, 10.0, 760.0) == pytest.approx(math.exp(ln_pgv), rel=1e-12)
    assert math.exp(ln_pgv) == pytest.approx(13.08, abs=0.01)  # cm/s, by hand: exp(2.5708)


def test_ba08_site_term_by_hand_on_soft_soil() -> None:
    """Vs30 = 250 m/s near a M 7 source (rock PGA > 0.09 g, eq. 8c): F_S = blin ln(V/760)
    + bnl ln(pga4nl / 0.1), bnl from eq. 13b."""
    pga4nl = ba08_median("pga", 7.0, 2.0, 760.0)  # rock, no site term
    assert pga4nl > 0.09
    bnl = (-0.64 + 0.14) * math.log(250 / 300) / math.log(180 / 300) - 0.14
    f_s = -0.36 * math.log(250 / 760) + bnl * math.log(pga4nl / 0.1)
    assert ba08_median("pga", 7.0, 2.0, 250.0) == pytest.approx(pga4nl * math.exp(f_s), rel=1e-12)


def test_ala_repair_rate_by_hand() -> None:
    """ALA (2001): RR = K1 0.00187 PGV[in/s] per 1000 ft. PGV 30 cm/s = 11.811 in/s on cast
    iron (K1 1.0): 0.022087 per 1000 ft = 0.072464 per km (1 km = 3.28084 x 1000 ft)."""
    per_kft = 1.0 * 0.00187 * 30.0 / 2.54
    assert per_kft == pytest.approx(0.022087, abs=1e-6)
    assert ala_repair_rate_per_km(30.0, 1.0) == pytest.approx(per_kft * 3.280840, rel=1e-6)
    assert ala_repair_rate_per_km(30.0, 1.0) == pytest.approx(0.072464, abs=1e-5)
    assert ala_repair_rate_per_km(30.0, PIPE_K1["ductile_iron"]) == pytest.approx(0.5 * 0.072464, abs=1e-5)


def test_pipe_repairs_per_km_match_the_ala_rate_over_50_draws() -> None:
    """50 seeded earthquakes on 1000 pipes of 0.5 km: given the drawn PGV at each pipe, the
    repairs are Poisson with mean sum(RR L). The total over all draws, N, is then Poisson(L)
    with L = the summed expectation (~1700 here): |N - L| <= 4 sqrt(L) (about 10 % of L)
    fails a correct model with probability < 1e-4, and catches a rate off by 20 % or a
    per-1000-ft/per-km mix-up (a factor 3.28).
    The break share is binomial(N, 0.2): tolerance 4 sqrt(0.16 / N) <= 0.04."""
    pipes = _pipes(1000)
    hz = EarthquakeHazard.model_validate(_quake())
    total, expected, breaks = 0, 0.0, 0
    for seed in range(50):
        reps = pipe_repairs(hz, 0, seed, pipes)
        for pipe in pipes:
            r = reps[pipe["id"]]
            total += r.leaks + r.breaks
            breaks += r.breaks
            # ALA by hand: K1 (cast iron 1.0) x 0.00187 x PGV[in/s] per 1000 ft, x length in kft
            expected += 1.0 * 0.00187 * (r.pgv_cms / 2.54) * (pipe["capacity"] / 304.8)
    assert expected > 1200  # enough repairs for the check to be tight
    assert abs(total - expected) <= 4 * math.sqrt(expected)
    assert abs(breaks / total - BREAK_SHARE) <= 4 * math.sqrt(BREAK_SHARE * (1 - BREAK_SHARE) / total)


def test_pipes_get_leak_or_break_damage_from_their_repairs() -> None:
    sc = _scenario(seed=3, magnitude=7.0)
    pipes = _pipes(300)
    reps = pipe_repairs(sc.hazards[0], 0, 3, pipes)
    modes = {d.asset_id: d.mode for d in damage_schedule(sc, pipes)}
    want = {p: ("break" if r.breaks else "leak") for p, r in reps.items() if r.leaks + r.breaks}
    assert modes == want
    assert {"leak", "break"} <= set(modes.values())
    assert all(d.time_s == 3600 and d.hazard_id == "hazard/earthquake-0" for d in damage_schedule(sc, pipes))


def test_point_assets_fail_with_the_hazus_curve() -> None:
    """Median ground motion (no residuals) at 4000 pump stations at one distance: the failure
    count is binomial(n, p) with p the HAZUS curve at BA08's PGA; tolerance 4 sd <= 0.008."""
    sc = _scenario(residuals=False, magnitude=7.0, vs30_m_s=760.0)
    n = 4000
    pumps = [make_asset(f"water/pump/S{i}", "water", "pump", 2000.0, 0.0, "c") for i in range(n)]
    pga = ba08_median("pga", 7.0, 2.0, 760.0)
    assert ground_motion(sc.hazards[0], 0, 7, pumps[:1])["water/pump/S0"].pga_g == pytest.approx(pga)
    p = EARTHQUAKE_FRAGILITY["water/pump"].probability(pga)
    assert 0.1 < p < 0.9
    failed = len(damage_schedule(sc, pumps))
    assert abs(failed / n - p) <= 4 * math.sqrt(p * (1 - p) / n)


def test_underground_cables_and_roads_do_not_fail_from_shaking() -> None:
    sc = _scenario(magnitude=7.5)
    cable = make_asset("power/line/C1", "power", "line", 500.0, 0.0, "c", underground=True)
    road = make_asset("traffic/road/R1", "traffic", "road", 500.0, 0.0, "c")
    trafo = make_asset("power/trafo/T1", "power", "trafo", 500.0, 0.0, "c")
    hit = {d.asset_id for d in damage_schedule(sc, [cable, road, trafo])}
    assert hit == {"power/trafo/T1"}  # ~1 g at 0.5 km: the substation fails (p > 0.95)


def test_residual_field_has_unit_variance_and_the_exponential_correlation() -> None:
    """2000 independent fields (seeds): at h = 0, range/3 and range the sample correlation
    should be 1, e^-1 and e^-3. The standard error of a correlation near rho is about
    (1 - rho^2) / sqrt(n) <= 0.023; tolerance 4 of them (0.09). Mean and variance: 4 sd."""
    n, rng_km = 2000, 9.0
    a, b, c = np.empty(n), np.empty(n), np.empty(n)
    for s in range(n):
        f = ResidualField(s, "t", rng_km)
        a[s], b[s], c[s] = f.at("a", 0.0, 0.0), f.at("b", 3000.0, 0.0), f.at("c", 0.0, 9000.0)
    assert abs(a.mean()) <= 4 / math.sqrt(n)
    assert abs(a.var() - 1.0) <= 4 * math.sqrt(2 / n)
    assert abs(np.corrcoef(a, b)[0, 1] - math.exp(-1.0)) <= 0.09
    assert abs(np.corrcoef(a, c)[0, 1] - math.exp(-3.0)) <= 0.09


def test_residuals_widen_the_motion_by_ba08_sigma() -> None:
    """Over 400 earthquakes, ln(PGA / median) at one site has sd sqrt(sigma^2 + tau^2) =
    0.5654 (BA08 Table 8); the sd of a sample of 400 has a standard error ~0.02; tol. 4 of them."""
    site = [make_asset("ict/site/S", "ict", "site", 5000.0, 0.0, "c")]
    hz = EarthquakeHazard.model_validate(_quake())
    med = ba08_median("pga", 6.5, 5.0, 400.0)
    z = [math.log(ground_motion(hz, 0, s, site)["ict/site/S"].pga_g / med) for s in range(400)]
    assert abs(float(np.std(z)) - math.hypot(0.502, 0.260)) <= 4 * 0.5654 / math.sqrt(800)
    assert abs(float(np.mean(z))) <= 4 * 0.5654 / math.sqrt(400)


@pytest.mark.parametrize("correlation_km", [8.5, 0.0])
def test_damage_is_deterministic_and_paired_across_asset_sets(correlation_km: float) -> None:
    sc = _scenario(seed=11, magnitude=6.8, correlation_km=correlation_km)
    shared = _pipes(200) + [make_asset(f"power/bus/B{i}", "power", "bus", 800.0 * i, 500.0, "c")
                            for i in range(20)]
    extra = [make_asset(f"ict/site/X{i}", "ict", "site", 700.0 * i, -900.0, "c") for i in range(30)]
    one = damage_schedule(sc, shared)
    assert one == damage_schedule(sc, shared)
    both = damage_schedule(sc, list(reversed(extra + shared)))
    assert len(one) >= 10
    assert [d for d in both if not d.asset_id.startswith("ict/")] == one
    assert damage_schedule(_scenario(seed=12, magnitude=6.8, correlation_km=correlation_km), shared) != one


@pytest.mark.parametrize(("key", "value"), [("magnitude", 8.6), ("vs30_m_s", 90.0),
                                            ("pipe_material", "bamboo"), ("depth_km", -1.0)])
def test_out_of_range_parameters_name_the_key(key: str, value: object) -> None:
    with pytest.raises(ScenarioError) as err:
        validate_data({"hazards": [_quake(**{key: value})]}, "quake.toml")
    assert any(p.startswith(f"hazards[0].{key}") for p in err.value.problems), err.value.problems


def test_shipped_earthquake_scenario_validates() -> None:
    from pathlib import Path

    from twin.config import load_scenario

    sc = load_scenario(Path(__file__).resolve().parents[2] / "cosim_configs" / "earthquake.toml")
    assert [h.kind for h in sc.hazards] == ["earthquake"]


def test_shared_assets_of_the_built_region_meet_the_same_earthquake(small_regions: dict) -> None:
    """The real small region, centralised vs decentralised: an asset with the same id at the
    same place gets the same damage (time, mode) in both, and the shaking hits every sector."""
    sc = _scenario(seed=6, magnitude=6.8, vs30_m_s=250.0)
    pos = {c: {a["id"]: (a["x_m"], a["y_m"]) for a in r.assets} for c, r in small_regions.items()}
    shared = {a for a, xy in pos["centralised"].items() if pos["decentralised"].get(a) == xy}
    dmg = {c: {d.asset_id: (d.time_s, d.mode) for d in damage_schedule(sc, r.assets)}
           for c, r in small_regions.items()}
    hit = {a for a in shared if a in dmg["centralised"]}
    assert len(hit) >= 10 and {a.split("/")[0] for a in hit} >= {"power", "water"}
    assert {a: dmg["centralised"][a] for a in hit} == {a: dmg["decentralised"][a] for a in shared
                                                       if a in dmg["decentralised"]}
