"""Sweep files: expansion, run ids shared with `twin run`, sampling, errors naming file and key."""

from __future__ import annotations

import copy
import tomllib
from pathlib import Path

import numpy as np
import pytest

from twin.cli import main
from twin.config import load_scenario, run_id, validate_data
from twin.sweep import SweepError, expand, load_sweep
from twin.sweep.spec import (
    LatinHypercubeSection,
    RandomSection,
    draw_latin_hypercube,
    draw_random,
    set_dotted,
)

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "cosim_configs" / "sweep_example.toml"
DEFAULT = ROOT / "cosim_configs" / "default.toml"


def write_sweep(tmp_path: Path, text: str) -> Path:
    (tmp_path / "default.toml").write_text(DEFAULT.read_text())
    p = tmp_path / "sweep.toml"
    p.write_text('base = "default.toml"\n' + text)
    return p


def test_example_sweep_expands_to_the_documented_runs() -> None:
    sweep = load_sweep(EXAMPLE)
    runs = expand(sweep)
    assert len(runs) == 3 * 2 * 3 * 2  # wind x prosumer share x seeds x configurations
    assert len({r.run_id for r in runs}) == len(runs)
    assert sweep.seeds() == [2, 3, 4]  # the base scenario's seed (cosim_configs/default.toml) and the next two
    assert {r.configuration for r in runs} == {"centralised", "decentralised"}
    winds = sorted({r.scenario.hazards[0].peak_wind_ms for r in runs})  # type: ignore[union-attr]
    assert winds == [30.0, 42.0, 55.0]
    assert all(r.scenario.region.size == "small" and r.scenario.run.hours == 12 for r in runs)


def test_run_ids_are_those_twin_run_gives(tmp_path: Path) -> None:
    p = write_sweep(tmp_path, """
configurations = ["centralised", "anchor_towns"]
seeds = [3, 11]
[set]
"region.size" = "small"
"run.hours" = 7
[grid]
"region.configurations.decentralised.prosumer_share" = [0.1, 0.5]
"hazards[0].peak_wind_ms" = [35.0]
""")
    runs = expand(p)
    assert len(runs) == 2 * 2 * 2
    for r in runs:
        share = r.params["region.configurations.decentralised.prosumer_share"]
        scenario = load_scenario(tmp_path / "default.toml", [
            'region.size="small"', "run.hours=7", f"run.seed={r.seed}",
            f"region.configurations.decentralised.prosumer_share={share}"])
        storm = scenario.hazards[0].model_copy(update={"peak_wind_ms": 35.0})
        scenario = validate_data({**scenario.model_dump(), "hazards": [storm.model_dump()]}, "x")
        assert r.run_id == run_id(scenario, r.configuration)
        assert r.scenario == scenario


def test_seed_count_starts_at_the_base_seed_and_one_seed_is_the_base_run(tmp_path: Path) -> None:
    p = write_sweep(tmp_path, "seeds = 1\n")
    runs = expand(p)
    base = load_scenario(DEFAULT)
    assert [(r.configuration, r.seed) for r in runs] == [(c, base.run.seed) for c in base.run.configurations]
    assert [r.run_id for r in runs] == [run_id(base, c) for c in base.run.configurations]


def test_cli_set_overrides_every_run(tmp_path: Path) -> None:
    p = write_sweep(tmp_path, "seeds = 2\n")
    runs = expand(load_sweep(p, ["run.hours=7"]))  # the base's storm starts at 6 h
    assert {r.scenario.run.hours for r in runs} == {7.0}


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("bogus = 1\n", "sweep.toml: bogus: unknown key"),
        ("seeds = [1, 1]\n", "sweep.toml: seeds: seeds must not repeat"),
        ("seeds = 0\n", "a seed count must be at least 1"),
        ("configurations = ['central']\n", "configurations[0]: Input should be"),
        ("[grid]\n\"run.hourz\" = [1]\n", 'sweep.toml: grid."run.hourz": unknown key'),
        ("[grid]\n\"hazards[0].peak_wind_ms\" = [50.0, 300.0]\n",
         'sweep.toml: grid."hazards[0].peak_wind_ms": Input should be less than or equal to 100 '
         "(with hazards[0].peak_wind_ms = 300.0)"),
        ("[grid]\n\"hazards[3].peak_wind_ms\" = [50.0]\n", 'grid."hazards[3].peak_wind_ms": '),
        ("[grid]\n\"run.seed\" = [1, 2]\n", "sweep.toml: grid.\"run.seed\": is set by `seeds`"),
        ("[grid]\n\"run.hours\" = []\n", "run.hours: give at least one value"),
        ("[grid]\n\"run..hours\" = [1]\n", "sweep.toml: grid.\"run..hours\": 'run..hours' is not a dotted key"),
        ("[set]\n\"run.hours\" = 2\n[grid]\n\"run.hours\" = [1]\n", "run.hours appears in both set and grid"),
        ("[random]\nn = 3\n[random.params]\n\"run.hours\" = { dist = \"uniform\", low = 5 }\n",
         'random.params."run.hours".high: Field required'),
        ("[random]\nn = 3\n[random.params]\n\"run.hours\" = { dist = \"gauss\", low = 5 }\n",
         'random.params."run.hours": Input tag \'gauss\' found using \'dist\' does not match'),
        ("[latin_hypercube]\nn = 2\n[latin_hypercube.params]\n\"run.hours\" = { low = 5, high = 1 }\n",
         "high must exceed low"),
    ],
)
def test_errors_name_the_sweep_file_and_key(tmp_path: Path, text: str, words: str, capsys) -> None:
    p = write_sweep(tmp_path, text)
    with pytest.raises(SweepError) as err:
        expand(load_sweep(p))
    assert words in err.value.report()
    assert main(["sweep", str(p), "--dry-run"]) == 2
    assert words in capsys.readouterr().err


def test_missing_base_is_named(tmp_path: Path) -> None:
    p = tmp_path / "s.toml"
    p.write_text('base = "nowhere.toml"\n')
    with pytest.raises(SweepError, match=r"s.toml: base: cannot read .*nowhere.toml"):
        load_sweep(p)


def test_random_draws_are_seeded_and_per_parameter() -> None:
    two = RandomSection.model_validate({"n": 200, "params": {
        "a.x": {"dist": "uniform", "low": 2.0, "high": 5.0},
        "a.k": {"dist": "integer", "low": 1, "high": 3},
        "a.c": {"dist": "choice", "values": ["x", "y"]},
        "a.l": {"dist": "loguniform", "low": 1.0, "high": 100.0},
        "a.n": {"dist": "normal", "mean": 0.0, "sd": 1.0, "low": -1.0},
    }})
    pts = draw_random(two, 7)
    assert pts == draw_random(two, 7)
    assert pts != draw_random(two, 8)
    x = np.array([p["a.x"] for p in pts])
    assert x.min() >= 2.0 and x.max() <= 5.0 and abs(x.mean() - 3.5) < 0.25
    assert {p["a.k"] for p in pts} == {1, 2, 3} and all(isinstance(p["a.k"], int) for p in pts)
    assert {p["a.c"] for p in pts} == {"x", "y"}
    logs = np.log10([p["a.l"] for p in pts])
    assert logs.min() >= 0 and logs.max() <= 2 and abs(np.median(logs) - 1.0) < 0.2
    assert min(p["a.n"] for p in pts) == -1.0  # clipped
    one = RandomSection.model_validate({"n": 200, "params": {"a.x": {"dist": "uniform", "low": 2.0, "high": 5.0}}})
    assert [p["a.x"] for p in draw_random(one, 7)] == list(x)  # adding parameters leaves a.x alone


def test_latin_hypercube_puts_one_point_in_each_stratum() -> None:
    n = 10
    sec = LatinHypercubeSection.model_validate({"n": n, "params": {
        "a.x": {"low": 0.0, "high": 50.0}, "a.y": {"low": 1.0, "high": 1000.0, "log": True},
        "a.k": {"low": 1, "high": 10, "integer": True}}})
    pts = draw_latin_hypercube(sec, 3)
    assert sorted(int(p["a.x"] // 5.0) for p in pts) == list(range(n))
    assert sorted(int(np.log10(p["a.y"]) // 0.3) for p in pts) == list(range(n))
    assert sorted(p["a.k"] for p in pts) == list(range(1, 11))
    assert pts == draw_latin_hypercube(sec, 3) and pts != draw_latin_hypercube(sec, 4)


def test_points_are_the_product_of_grid_random_and_hypercube(tmp_path: Path) -> None:
    p = write_sweep(tmp_path, """
configurations = ["centralised"]
[grid]
"hazards[0].peak_wind_ms" = [30.0, 40.0]
[random]
n = 3
[random.params]
"repair.hours.power" = { dist = "uniform", low = 2.0, high = 10.0 }
[latin_hypercube]
n = 2
[latin_hypercube.params]
"hazards[0].decay_m" = { low = 2000.0, high = 8000.0 }
""")
    runs = expand(p)
    assert len(runs) == 2 * 3 * 2
    assert len({r.point for r in runs}) == 12
    assert len({tuple(sorted(r.params.items())) for r in runs}) == 12
    assert {r.params["hazards[0].peak_wind_ms"] for r in runs} == {30.0, 40.0}
    assert len({r.params["repair.hours.power"] for r in runs}) == 3


def test_set_dotted_creates_tables_and_indexes_lists() -> None:
    data = tomllib.loads(DEFAULT.read_text())
    before = copy.deepcopy(data)
    set_dotted(data, "region.configurations.anchor_towns.prosumer_share", 0.3)
    set_dotted(data, "hazards[0].track_m[1][0]", 1.0)
    assert data["region"]["configurations"]["anchor_towns"] == {"prosumer_share": 0.3}
    assert data["hazards"][0]["track_m"][1] == [1.0, before["hazards"][0]["track_m"][1][1]]
    with pytest.raises(ValueError, match="no item"):
        set_dotted(data, "hazards[2].peak_wind_ms", 1.0)


def test_dry_run_lists_runs(tmp_path: Path, capsys) -> None:
    assert main(["sweep", str(EXAMPLE), "--dry-run", "--out", str(tmp_path)]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0].startswith("storm-x-pv: 36 runs = 6 parameter points x 3 seeds x 2 configurations; 0 complete")
    ids = {r.run_id for r in expand(EXAMPLE)}
    listed = {line.split()[0] for line in out[2:]}
    assert listed == ids
