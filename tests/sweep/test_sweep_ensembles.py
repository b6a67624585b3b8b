"""Hazard ensembles in sweep files: expansion, stratum weights, determinism, pairing, one
baseline per configuration, the manifest's ``ensemble`` dict, and the study files' sizes."""

from __future__ import annotations

import csv
import json
import math
import os
from collections import Counter, defaultdict
from pathlib import Path

import h5py
import numpy as np
import pytest
from scipy.stats import qmc

from twin import results
from twin.config import Scenario, run_id
from twin.randomness import stream
from twin.sweep import expand, load_sweep, run_sweep, summary
from twin.sweep.ensembles import ENSEMBLE_FIELDS, GPD, GutenbergRichter, _storm_track
from twin.sweep.execute import baseline_id
from twin.sweep.spec import Range, latin_hypercube

ROOT = Path(__file__).resolve().parents[2]
DEFAULT = ROOT / "cosim_configs" / "default.toml"
STUDY = ROOT / "cosim_configs" / "study.toml"
QUICK = ROOT / "cosim_configs" / "study_quick.toml"

SWEEP = '''
base = "default.toml"
configurations = ["centralised", "decentralised"]
sample_seed = 3
[set]
"region.size" = "small"

[[ensembles]]
family = "windstorm"
n = 6
annual_rate_per_year = 0.6
rate_source = "test"
strata = [0.0, 0.5, 0.9, 1.0]
allocation = [1, 2, 3]
[ensembles.hazard]
kind = "storm"
track_m = [[-10000.0, 0.0], [10000.0, 0.0]]
start_h = 2.0
end_h = 4.0
peak_wind_ms = 30.0
[ensembles.intensity]
field = "peak_wind_ms"
unit = "m/s"
source = "test"
distribution = { dist = "gpd", threshold = 25.0, scale = 116.8, power = 2.0 }
[ensembles.vary]
"track.offset_m" = { dist = "uniform", low = -5000.0, high = 5000.0 }
"decay_m" = { dist = "uniform", low = 3000.0, high = 6000.0 }

[[ensembles]]
family = "cyber"
n = 2
annual_rate_per_year = 0.1
rate_source = "test"
[ensembles.hazard]
kind = "cyber"
target = "controller:town1"
at_h = 1.0
mode = "takedown"
[ensembles.intensity]
field = "spread_probability"
unit = "1"
source = "test"
distribution = { dist = "uniform", low = 0.0, high = 0.5 }
'''


def write(tmp_path: Path, text: str = SWEEP) -> Path:
    (tmp_path / "default.toml").write_text(DEFAULT.read_text())
    p = tmp_path / "sweep.toml"
    p.write_text(text)
    return p


def test_expansion_one_point_per_draw_with_its_weight(tmp_path: Path) -> None:
    runs = expand(load_sweep(write(tmp_path)))
    assert len(runs) == (6 + 2) * 2
    assert all(set(r.ensemble) == set(ENSEMBLE_FIELDS) for r in runs)
    wind = [r for r in runs if r.ensemble["family"] == "windstorm" and r.configuration == "centralised"]
    # hand-computed: w = rate * p_h / n_h = 0.6 * 0.5 / 1, 0.6 * 0.4 / 2, 0.6 * 0.1 / 3
    assert [r.ensemble["stratum"] for r in wind] == [0, 1, 1, 2, 2, 2]
    assert [r.ensemble["weight_per_year"] for r in wind] == pytest.approx([0.3, 0.12, 0.12, 0.02, 0.02, 0.02])
    assert sum(r.ensemble["weight_per_year"] for r in wind) == pytest.approx(0.6)
    assert [r.ensemble["stratum_probability"] for r in wind] == pytest.approx([0.5, 0.4, 0.4, 0.1, 0.1, 0.1])
    # the gust at the stratum edges (by hand): sqrt(25^2 + 116.8 ln(1 / (1 - q)))
    edges = [25.0, math.sqrt(625 + 116.8 * math.log(2)), math.sqrt(625 + 116.8 * math.log(10)), math.inf]
    for r in wind:
        h = r.ensemble["stratum"]
        assert edges[h] <= r.ensemble["intensity"] <= edges[h + 1]
        hz = r.scenario.hazards[0]
        assert hz.peak_wind_ms == pytest.approx(r.ensemble["intensity"])
        assert hz.damage_seed is not None and 3000 <= hz.decay_m <= 6000
        assert r.ensemble["draw"] == wind.index(r) and r.ensemble["sensitivity_point"] is None
    # the two stratum-1 draws fall in its two halves (sub-stratified)
    q = [1 - math.exp(-(r.ensemble["intensity"] ** 2 - 625) / 116.8) for r in wind[1:3]]
    assert 0.5 <= q[0] <= 0.7 <= q[1] <= 0.9


def test_quantile_functions_by_hand() -> None:
    gr = GutenbergRichter(dist="gutenberg_richter", b=1.0, m_min=5.0, m_max=7.0)
    # F(m) = (1 - 10^-(m - 5)) / (1 - 10^-2): F^-1(0.5) = 5 - log10(1 - 0.5 * 0.99) = 5.29671
    assert gr.ppf(np.array([0.5]))[0] == pytest.approx(5.29671, abs=1e-5)
    assert gr.ppf(np.array([1.0 - 1e-12]))[0] == pytest.approx(7.0, abs=1e-6)
    gpd = GPD(dist="gpd", threshold=0.0, scale=0.434)
    assert gpd.ppf(np.array([0.9]))[0] == pytest.approx(0.434 * math.log(10))


def test_storm_track_offset_and_bearing() -> None:
    hz = {"track_m": [[-10000.0, 0.0], [10000.0, 0.0]]}  # eastwards through the origin
    # 3 km to the right of an eastward track is 3 km south; the length stays 20 km
    assert _storm_track(hz, 3000.0, None) == [[-10000.0, -3000.0], [10000.0, -3000.0]]
    (ax, ay), (bx, by) = _storm_track(hz, 0.0, 0.0)  # northwards
    assert (ax, ay, bx, by) == pytest.approx((0.0, -10000.0, 0.0, 10000.0))


def test_draws_are_deterministic_and_follow_sample_seed(tmp_path: Path) -> None:
    a = [(r.run_id, r.ensemble) for r in expand(load_sweep(write(tmp_path)))]
    b = [(r.run_id, r.ensemble) for r in expand(load_sweep(write(tmp_path)))]
    assert a == b
    other = expand(load_sweep(write(tmp_path, SWEEP.replace("sample_seed = 3", "sample_seed = 4"))))
    assert {r.ensemble["intensity"] for r in other}.isdisjoint({e["intensity"] for _, e in a})


def test_pairing_same_draw_for_every_configuration(tmp_path: Path) -> None:
    runs = expand(load_sweep(write(tmp_path)))
    by_point: dict[int, dict[str, object]] = defaultdict(dict)
    for r in runs:
        by_point[r.point][r.configuration] = r
    for pair in by_point.values():
        c, d = pair["centralised"], pair["decentralised"]
        assert c.ensemble == d.ensemble  # type: ignore[attr-defined]
        hc, hd = c.scenario.hazards[0].model_dump(), d.scenario.hazards[0].model_dump()  # type: ignore[attr-defined]
        if hc["kind"] == "cyber":  # the role resolves per configuration: the district's controller
            assert hc.pop("target") == "ict/site/DCC" and hd.pop("target") == "ict/site/ECtown1"
        assert hc == hd


def test_one_baseline_per_configuration(tmp_path: Path) -> None:
    runs = expand(load_sweep(write(tmp_path)))
    ids = {(r.configuration, baseline_id(r.scenario, r.configuration)) for r in runs}
    assert len(ids) == 2  # every draw shares its configuration's hazard-free run
    assert len({r.run_id for r in runs}) == len(runs)


def _toy_run(scenario: Scenario, configuration: str, out_dir: Path):  # type: ignore[no-untyped-def]
    from types import SimpleNamespace

    rid = run_id(scenario, configuration)
    metrics = {"x": float(len(scenario.hazards))}
    part = results.partial_path(out_dir, rid)
    with h5py.File(part, "w") as f:
        f.attrs.update(format_version=results.FORMAT_VERSION, status="complete", error="", run_id=rid,
                       configuration=configuration, seed=scenario.run.seed, scenario_toml=scenario.to_toml())
        f.create_group("metrics").create_dataset("x", data=metrics["x"])
    results.publish(part, results.final_path(out_dir, rid))
    return SimpleNamespace(status="complete", error="", metrics=metrics)


def _toy_baseline(scenario: Scenario, configuration: str, out_dir: Path) -> None:
    path = results.final_path(out_dir / "baselines", baseline_id(scenario, configuration))
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(out_dir / "baselines.log", "a") as f:
        f.write(f"{path.name} {os.getpid()}\n")
    with h5py.File(path, "w") as f:
        f.attrs.update(format_version=results.FORMAT_VERSION, status="complete", error="")


def test_sweep_computes_each_baseline_once_and_writes_the_ensemble_columns(tmp_path: Path) -> None:
    from distributed import Client, LocalCluster

    out = tmp_path / "out"
    out.mkdir()
    with LocalCluster(n_workers=1, processes=False, dashboard_address=":0") as cluster, Client(cluster) as client:
        res = run_sweep(write(tmp_path), out, client=client, run_fn=_toy_run, baseline_fn=_toy_baseline,
                        progress=False)
    assert not res.failed and len(res.rows) == 16
    assert len((out / "baselines.log").read_text().splitlines()) == 2 == len(res.baselines)
    doc = json.loads((out / "manifest.json").read_text())
    assert all(set(r["ensemble"]) == set(ENSEMBLE_FIELDS) for r in doc["runs"])
    assert [e["family"] for e in doc["ensembles"]] == ["windstorm", "cyber"]
    with open(out / "manifest.csv") as f:
        rows = list(csv.DictReader(f))
    assert {f"ensemble.{k}" for k in ENSEMBLE_FIELDS} <= set(rows[0])
    weights: Counter[tuple[str, str]] = Counter()
    for r in rows:
        weights[(r["configuration"], r["ensemble.family"])] += float(r["ensemble.weight_per_year"])
    assert weights == pytest.approx({("centralised", "windstorm"): 0.6, ("decentralised", "windstorm"): 0.6,
                                     ("centralised", "cyber"): 0.1, ("decentralised", "cyber"): 0.1})
    text = summary(out)  # counts per family, not one line per draw
    assert "point / configuration" not in text and "(point " not in text
    assert [line.split()[-4] for line in text.splitlines() if line.startswith("windstorm / ")] == ["6", "6"]


def test_latin_hypercube_is_scipys_per_dimension() -> None:
    pts = latin_hypercube({"a": Range(low=0.0, high=10.0)}, 8, 5)
    u = qmc.LatinHypercube(d=1, rng=stream(5, "sweep/latin_hypercube", "a")).random(8)[:, 0]
    assert [p["a"] for p in pts] == pytest.approx(list(10.0 * u))
    assert sorted(int(p["a"] // (10.0 / 8)) for p in pts) == list(range(8))


def _per_configuration(runs: list, family: str, sensitivity: bool = False) -> Counter[str]:
    return Counter(r.configuration for r in runs if r.ensemble and r.ensemble["family"] == family
                   and (r.ensemble["sensitivity_point"] is not None) == sensitivity)


def test_study_file_has_enough_paired_draws() -> None:
    """The full study: >= 200 paired windstorm draws and >= 100 of every other family per
    configuration, and >= 30 sensitivity points x >= 10 draws (issue 18)."""
    sweep = load_sweep(STUDY)
    runs = expand(sweep)
    configurations = set(sweep.spec.configurations or [])
    assert {"centralised", "decentralised", "anchor_towns"} <= configurations
    for family, least in (("windstorm", 200), ("flood", 100), ("earthquake", 100), ("equipment", 100), ("cyber", 100)):
        counts = _per_configuration(runs, family)
        assert set(counts) == configurations and min(counts.values()) >= least, (family, counts)
        draws = {(r.ensemble["draw"], r.point) for r in runs if r.ensemble["family"] == family
                 and r.ensemble["sensitivity_point"] is None}
        assert len(draws) >= least  # distinct draws, each met by every configuration
    sens = [r for r in runs if r.ensemble["sensitivity_point"] is not None]
    points = Counter(r.ensemble["sensitivity_point"] for r in sens if r.configuration == "centralised")
    assert len(points) >= 30 and min(points.values()) >= 10
    assert all(r.ensemble["family"] == "windstorm" and r.params for r in sens)


def test_quick_study_has_the_same_structure() -> None:
    runs = expand(load_sweep(QUICK))
    for family in ("windstorm", "flood", "earthquake", "equipment", "cyber"):
        assert set(_per_configuration(runs, family).values()) == {10}
    assert set(_per_configuration(runs, "windstorm", sensitivity=True).values()) == {6}


@pytest.mark.parametrize(("edit", "message"), [
    (('kind = "storm"', 'kind = "flood"'), 'hazard.kind: \'flood\' is not a kind of family windstorm'),
    (("allocation = [1, 2, 3]", "allocation = [1, 2, 2]"), "allocation: counts sum to 5, not n = 6"),
    (("strata = [0.0, 0.5, 0.9, 1.0]", "strata = [0.0, 0.9, 0.5, 1.0]"), "strata: edges must increase"),
    (('field = "peak_wind_ms"', 'field = "peak_gust"'), "unknown key"),
])
def test_bad_ensemble_names_the_key(tmp_path: Path, edit: tuple[str, str], message: str) -> None:
    from twin.sweep import SweepError

    with pytest.raises(SweepError) as err:
        expand(load_sweep(write(tmp_path, SWEEP.replace(*edit, 1))))
    assert message in str(err.value) and str(tmp_path / "sweep.toml") in err.value.report()
