"""CLI conventions: help on every option of every (plugged) subcommand, `--json` output,
`region show` paths."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from types import SimpleNamespace

import pytest

from twin import cli, runner
from twin.region.cli import map_paths


def _parsers(parser: argparse.ArgumentParser, name: str = "twin"):  # type: ignore[no-untyped-def]
    yield name, parser
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for sub, p in action.choices.items():
                yield from _parsers(p, f"{name} {sub}")


def test_every_option_of_every_subcommand_has_help() -> None:
    missing = []
    names = []
    for name, parser in _parsers(cli.build_parser(plugins=True)):
        names.append(name)
        for action in parser._actions:
            if isinstance(action, argparse._HelpAction | argparse._SubParsersAction | argparse._VersionAction):
                continue
            if not action.help:
                missing.append(f"{name} {action.option_strings or action.dest}")
    assert {"twin run", "twin screen", "twin region show", "twin region build", "twin sweep", "twin report"} <= set(names)
    assert missing == []


def test_run_json_is_one_document_with_null_for_not_meaningful(monkeypatch, capsys, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    outcomes = [runner.RunOutcome("centralised", "abc", tmp_path / "abc.h5", "degraded",
                                  metrics={"energy_not_served_mwh": 2.5, "equity_ratio": float("nan"),
                                           "solver_failure_steps_power": 3.0})]
    monkeypatch.setattr(runner, "run_scenario", lambda *a, **k: outcomes)
    import twin.config
    import twin.validation

    monkeypatch.setattr(twin.config, "load_scenario",
                        lambda *a, **k: SimpleNamespace(run=SimpleNamespace(configurations=["centralised"], baseline=True),
                                                         hazards=[]))
    monkeypatch.setattr(twin.validation, "check_scenario", lambda *a, **k: None)
    assert cli.main(["run", "s.toml", "--out", str(tmp_path), "--json", "--strict"]) == 3
    captured = capsys.readouterr()
    doc = json.loads(captured.out)  # nothing but the document on stdout
    assert doc["exit_code"] == 3
    (run,) = doc["runs"]
    assert run["status"] == "degraded" and run["path"] == str(tmp_path / "abc.h5")
    assert run["metrics"]["energy_not_served_mwh"] == 2.5 and run["metrics"]["equity_ratio"] is None
    assert run["warnings"] == ["run degraded (power did not solve 3 steps); its metrics are flagged"]
    assert "WARNING: run degraded" in captured.err


@pytest.mark.parametrize(("out", "configs", "expected"), [
    (None, ["centralised"], ["results/maps/default-centralised.png"]),
    (None, ["a", "b"], ["results/maps/default-a.png", "results/maps/default-b.png"]),
    ("figs/", ["a", "b"], ["figs/default-a.png", "figs/default-b.png"]),
    ("map.png", ["a"], ["map.png"]),
    ("map.png", ["a", "b"], ["map-a.png", "map-b.png"]),
])
def test_region_show_writes_where_out_says(out: str | None, configs: list[str], expected: list[str]) -> None:
    paths = map_paths(Path("cosim_configs/default.toml"), configs, out, Path("results"))
    assert [str(p) for p in paths] == expected


def test_region_show_into_an_existing_folder(tmp_path: Path) -> None:
    assert map_paths(Path("x.toml"), ["a"], tmp_path, Path("results")) == [tmp_path / "x-a.png"]


def test_screen_json_matches_the_library(tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    """`twin screen --json` prints what screen_region computes on the same region and seed."""
    from twin.config import load_scenario
    from twin.screening.region import screen_region

    argv = ["screen", "cosim_configs/default.toml", "--set", "region.size=small",
            "--set", 'run.configurations=["centralised"]', "--realisations", "30", "--top", "3",
            "--seed", "5", "--out", str(tmp_path), "--json"]
    capsys.readouterr()
    assert cli.main(argv) == 0
    doc = json.loads(capsys.readouterr().out)
    (entry,) = doc["configurations"]
    scenario = load_scenario(Path("cosim_configs/default.toml"), argv[3:6:2])
    region = runner.region_for(scenario, "centralised", tmp_path)
    direct = screen_region(region.root, 30, 5)
    assert doc["seed"] == 5 and doc["realisations"] == 30
    assert entry["mean_cascade_size"] == pytest.approx(direct.mean_cascade_size, rel=1e-12)
    assert [(a["asset"], a["mean_cascade_size"]) for a in entry["top_assets"]] == [
        (a, pytest.approx(v, rel=1e-12)) for a, v in direct.ranked_assets(3)]
    assert Path(entry["path"]).is_file()
