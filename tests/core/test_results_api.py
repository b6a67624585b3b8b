"""The package API around results: twin.load and the lazily exported Results, the version
from the installed metadata, and --version / option help of the core command line."""

from __future__ import annotations

import argparse
from importlib import metadata
from pathlib import Path

import pytest

import twin
from twin import cli, results

V1 = Path(__file__).parents[1] / "data" / "results_v1.h5"


def test_public_names() -> None:
    assert twin.Results is results.Results and twin.ResultsError is results.ResultsError
    assert isinstance(twin.load(V1), twin.Results)
    with pytest.raises(twin.ResultsError, match="no such results file"):
        twin.load(V1.with_name("missing.h5"))
    with pytest.raises(AttributeError):
        twin.nothing_like_this  # noqa: B018


def test_version_is_the_installed_one(capsys: pytest.CaptureFixture[str]) -> None:
    assert twin.__version__ == metadata.version("twin")
    with pytest.raises(SystemExit) as stop:
        cli.main(["--version"])
    assert stop.value.code == 0 and capsys.readouterr().out.strip() == f"twin {twin.__version__}"


def test_core_options_have_help() -> None:
    parser = cli.build_parser(plugins=False)
    sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    missing = [f"{name} {'/'.join(a.option_strings) or a.dest}"
               for name, p in sub.choices.items() for a in p._actions if not a.help]
    assert missing == []
