"""A hazard's own damage_seed varies its damage draws and nothing else; fragility_scale
multiplies the medians (issue 18: hazard ensembles and the sensitivity study)."""

from __future__ import annotations

import math

import pytest

from twin.config import Scenario, run_id
from twin.earthquake import pipe_repairs, seismic_failure_probability
from twin.hazards import WIND_FRAGILITY, Fragility, damage_schedule, wind_failure_probability
from twin.models.ict.attacks import AttackSchedule, parse_attack
from twin.region.assets import make_asset
from twin.sweep.execute import baseline_id


def _scenario(**storm: object) -> Scenario:
    hz = {"kind": "storm", "track_m": [[-1000, 0], [1000, 0]], "start_h": 0, "end_h": 1, "peak_wind_ms": 48.0, **storm}
    return Scenario.model_validate({"run": {"hours": 2, "seed": 7}, "hazards": [hz]})


ASSETS = [make_asset(f"ict/site/S{i}", "ict", "site", 0.0, 0.0, "city") for i in range(400)]


def _failed(s: Scenario) -> set[str]:
    return {d.asset_id for d in damage_schedule(s, ASSETS)}


def test_default_damage_seed_is_the_run_seed() -> None:
    assert _failed(_scenario()) == _failed(_scenario(damage_seed=7))


def test_damage_seed_changes_damage_not_the_baseline() -> None:
    a, b = _scenario(damage_seed=1), _scenario(damage_seed=2)
    fa, fb = _failed(a), _failed(b)
    # at the median gust each site fails with p = 1/2 under each seed: independent draws share
    # 400 / 4 = 100 sites (sd 8.7); identical draws would share all ~200
    assert fa != fb and 60 < len(fa & fb) < 140
    assert run_id(a, "centralised") != run_id(b, "centralised")
    assert baseline_id(a, "centralised") == baseline_id(b, "centralised") == baseline_id(_scenario(), "centralised")


def test_fragility_scale_multiplies_the_median() -> None:
    f = Fragility(50.0, 0.3, "test")
    # Phi(ln(50 / 100) / 0.3) = Phi(-2.31049) = 0.010431 (normal table)
    assert f.probability(50.0, 2.0) == pytest.approx(0.010431, abs=2e-6)
    site = ASSETS[0]
    assert wind_failure_probability(site, 60.0, 1.2) == pytest.approx(WIND_FRAGILITY["ict/site"].probability(50.0))
    # a stronger storm, proportionally stronger assets: the same damage draws fail the same sites
    assert _failed(_scenario(fragility_scale=1.25, peak_wind_ms=60.0)) == _failed(_scenario())


def test_earthquake_damage_seed_and_fragility_scale() -> None:
    from twin.config import EarthquakeHazard

    hz = EarthquakeHazard(kind="earthquake", epicentre_m=(0.0, 0.0), magnitude=6.5, start_h=0.0, damage_seed=3)
    pipes = [make_asset(f"water/pipe/P{i}", "water", "pipe", 1000.0 * i, 0.0, "city", capacity=5000.0,
                        capacity_unit="m") for i in range(5)]
    base = Scenario.model_validate({"run": {"hours": 2, "seed": 7}, "hazards": [hz.model_dump()]})
    other = Scenario.model_validate({"run": {"hours": 2, "seed": 7},
                                     "hazards": [{**hz.model_dump(), "damage_seed": 4}]})
    r3 = pipe_repairs(base.hazards[0], 0, 3, pipes)
    assert {p.pgv_cms for p in r3.values()} != {p.pgv_cms for p in pipe_repairs(other.hazards[0], 0, 4, pipes).values()}
    half = Scenario.model_validate({"run": {"hours": 2, "seed": 7},
                                    "hazards": [{**hz.model_dump(), "fragility_scale": 2.0}]}).hazards[0]
    assert pipe_repairs(half, 0, 3, pipes)["water/pipe/P0"].rate_per_km == pytest.approx(
        r3["water/pipe/P0"].rate_per_km / 2.0)
    trafo = make_asset("power/trafo/T1", "power", "trafo", 0.0, 0.0, "city")
    # HAZUS substation median 0.45 g, beta 0.45: at 0.9 g with the median doubled, P = 0.5
    assert seismic_failure_probability(trafo, 0.9, 2.0) == pytest.approx(0.5)
    assert math.isclose(seismic_failure_probability(trafo, 0.45), 0.5)


def test_cyber_damage_seed_drives_the_spread() -> None:
    import networkx as nx

    g = nx.star_graph(60)
    g = nx.relabel_nodes(g, {i: f"ict/site/S{i}" for i in g.nodes})
    for a, b in g.edges:
        g.edges[a, b]["id"] = f"ict/link/{a[9:]}-{b[9:]}"

    def spread(spec_seed: int | None) -> set[str]:
        spec = {"kind": "cyber", "target": "ict/site/S0", "at_h": 0.0, "mode": "false_data",
                "false_value": 0.0, "spread_probability": 0.5}
        if spec_seed is not None:
            spec["damage_seed"] = spec_seed
        attack = parse_attack(spec)
        schedule = AttackSchedule([attack], seed=7)
        schedule.advance(0, 300, g)
        return set(schedule.compromised)

    assert spread(None) == spread(7)
    assert spread(1) != spread(2)
