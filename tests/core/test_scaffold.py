"""``twin init``: the shipped examples land in a folder and validate there."""

from __future__ import annotations

from pathlib import Path

import pytest

from twin.cli import main
from twin.scaffold import InitError, example_names, init

REPO_EXAMPLES = Path(__file__).resolve().parents[2] / "cosim_configs"


def test_every_repository_example_is_shipped():
    on_disk = sorted(str(p.relative_to(REPO_EXAMPLES)) for p in REPO_EXAMPLES.rglob("*")
                     if p.is_file() and p.suffix in (".toml", ".csv", ".tntp", ".json", ".inp", ".xml"))
    assert sorted(example_names()) == on_disk
    assert "default.toml" in on_disk


def test_init_writes_examples_that_validate_and_keeps_existing_files(tmp_path, capsys):
    target = tmp_path / "mine"
    written, kept = init(target)
    assert (target / "default.toml").read_bytes() == (REPO_EXAMPLES / "default.toml").read_bytes()
    assert not kept and len(written) == len(example_names())
    for scenario in sorted(REPO_EXAMPLES.glob("*.toml")):
        assert main(["validate", str(target / scenario.name)]) == 0, scenario.name
    capsys.readouterr()
    (target / "default.toml").write_text("# edited by the user\n")
    written, kept = init(target)
    assert not written and (target / "default.toml").read_text() == "# edited by the user\n"


def test_init_refuses_a_file_in_place_of_the_folder(tmp_path):
    (tmp_path / "f").write_text("x")
    with pytest.raises(InitError, match="not a folder"):
        init(tmp_path / "f")
