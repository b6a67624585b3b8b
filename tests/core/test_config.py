"""Scenario validation: every problem named with file and dotted key; CLI exit code 2."""

from __future__ import annotations

from pathlib import Path

import pytest

from twin.cli import main
from twin.config import ScenarioError, load_scenario, run_id

ROOT = Path(__file__).resolve().parents[2]


def write(tmp_path: Path, text: str) -> Path:
    p = tmp_path / "s.toml"
    p.write_text(text)
    return p


def test_default_scenario_validates() -> None:
    s = load_scenario(ROOT / "cosim_configs" / "default.toml")
    assert s.run.step_s == 300
    assert set(s.run.configurations) == {"centralised", "decentralised"}
    assert s.hazards, "the default scenario has a storm"


@pytest.mark.parametrize(
    ("text", "key", "words"),
    [
        ("[run]\nbogus = 1\n", "run.bogus", "unknown key"),
        ("[run]\nhours = 'long'\n", "run.hours", "valid number"),
        ("[run]\nhours = 500\n", "run.hours", "less than or equal to 168"),
        ("[run]\nstep_s = 90\n", "run.step_s", "multiple of 60"),
        ("[region]\nsize = 'huge'\n", "region.size", "small"),
        ("[[hazards]]\nkind = 'storm'\ntrack_m = [[0, 0], [1, 1]]\nstart_h = 1\nend_h = 2\npeak_wind_ms = 300\n",
         "hazards[0].peak_wind_ms", "less than or equal to 100"),
        ("[[hazards]]\nkind = 'outage'\nasset = 'power/line/x'\nat_h = 1\ncolour = 2\n", "hazards[0].colour",
         "unknown key"),
    ],
)
def test_bad_values_name_file_and_key(tmp_path: Path, text: str, key: str, words: str) -> None:
    path = write(tmp_path, text)
    with pytest.raises(ScenarioError) as info:
        load_scenario(path)
    report = info.value.report()
    assert str(path) in report
    assert f"{key}:" in report
    assert words in report


def test_every_problem_reported_at_once(tmp_path: Path) -> None:
    path = write(tmp_path, "[run]\nbogus = 1\nhours = -1\n[water]\nfoo = 2\n")
    with pytest.raises(ScenarioError) as info:
        load_scenario(path)
    keys = [p.split(":")[0] for p in info.value.problems]
    assert sorted(keys) == ["run.bogus", "run.hours", "water.foo"]


def test_cli_validate_exit_codes(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["validate", str(ROOT / "cosim_configs" / "default.toml")]) == 0
    bad = write(tmp_path, "[run]\nhours = 'x'\n")
    assert main(["validate", str(bad)]) == 2
    err = capsys.readouterr().err
    assert f"{bad}: run.hours:" in err
    assert main(["validate", str(tmp_path / "missing.toml")]) == 2
    assert "missing.toml: cannot read file" in capsys.readouterr().err


def test_set_overrides_and_run_id(tmp_path: Path) -> None:
    path = write(tmp_path, "[run]\nhours = 2\n")
    a = load_scenario(path)
    b = load_scenario(path, ["run.hours=3", "traffic.mode=\"micro\""])
    assert b.run.hours == 3 and b.traffic.mode == "micro"
    assert run_id(a, "centralised") == run_id(load_scenario(path), "centralised")
    assert run_id(a, "centralised") != run_id(a, "decentralised")
    assert run_id(a, "centralised") != run_id(b, "centralised")
    with pytest.raises(ScenarioError, match="run.hours"):
        load_scenario(path, ["run.hours=1000"])


def test_scenario_reference_is_current() -> None:
    from twin.config import scenario_reference

    assert (ROOT / "docs" / "scenario.md").read_text() == scenario_reference(), (
        "regenerate with: python -m twin.config > docs/scenario.md"
    )


@pytest.mark.parametrize("path", sorted((ROOT / "cosim_configs").glob("*.toml")), ids=lambda p: p.name)
def test_shipped_scenarios_validate(path: Path) -> None:
    import tomllib

    if "base" in tomllib.loads(path.read_text()):  # a sweep file: checked by tests/sweep
        pytest.skip("sweep file")
    load_scenario(path)


def test_cli_validates_sweep_files_as_sweeps(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["validate", str(ROOT / "cosim_configs" / "sweep_example.toml")]) == 0
    assert "a sweep of" in capsys.readouterr().out
