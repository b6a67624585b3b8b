"""A sweep's manifest names the code that ran it (twin.results.code_commit), also when resumed
by other code, so that a study report prints the commit of its runs."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from twin.report.study_report import commit_of
from twin.results import code_commit
from twin.sweep.execute import _resumed_commit
from twin.sweep.manifest import MANIFEST_JSON

ROOT = Path(__file__).resolve().parents[2]


def _git_head() -> str | None:
    try:
        return subprocess.run(["git", "-C", str(ROOT), "rev-parse", "HEAD"], capture_output=True, text=True,
                              check=True).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return None


def test_code_commit_is_the_checkout_head() -> None:
    head = _git_head()
    if head is None:
        pytest.skip("the tests do not run from a git checkout")
    got = code_commit()
    assert got is not None and got.split(" ")[0] == head


def test_resumed_sweep_names_both_commits(tmp_path: Path) -> None:
    # finished runs but no manifest saying which code ran them: not attributed to "bbb"
    assert _resumed_commit(tmp_path, "bbb") == "bbb; runs finished earlier: not recorded"
    (tmp_path / MANIFEST_JSON).write_text(json.dumps({"runs": []}))  # a manifest from before the field
    assert _resumed_commit(tmp_path, "bbb") == "bbb; runs finished earlier: not recorded"
    (tmp_path / MANIFEST_JSON).write_text(json.dumps({"commit": "aaa", "runs": []}))
    assert _resumed_commit(tmp_path, "aaa") == "aaa"
    assert _resumed_commit(tmp_path, "bbb") == "bbb; runs finished earlier: aaa"
    (tmp_path / MANIFEST_JSON).write_text(json.dumps({"commit": "bbb; runs finished earlier: aaa", "runs": []}))
    assert _resumed_commit(tmp_path, "bbb") == "bbb; runs finished earlier: aaa"  # resumed again
    (tmp_path / MANIFEST_JSON).write_text("{not json")
    assert _resumed_commit(tmp_path, "ccc") == "ccc; runs finished earlier: not recorded"
    # nothing left to run: the code resuming ran nothing, the earlier record stands
    assert _resumed_commit(tmp_path, "ccc", runs_now=False) == "not recorded (every run had finished earlier)"
    (tmp_path / MANIFEST_JSON).write_text(json.dumps({"commit": "aaa", "runs": []}))
    assert _resumed_commit(tmp_path, "ccc", runs_now=False) == "aaa"


def test_report_prints_the_manifests_commit_not_its_own() -> None:
    assert commit_of({"commit": "aaa"}) == "aaa"
    own = commit_of({})
    assert own.startswith("unknown") or "of the code writing the report" in own
