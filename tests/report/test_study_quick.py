"""Issue 18's "Done when": the quick study sweep, then its report, whose paired statistics are
recomputed from metrics.csv with numpy and scipy alone (test_study_recompute.recompute).
About 5-7 min on a quiet 2-core machine (224 runs of the small region)."""

from __future__ import annotations

from pathlib import Path

import pytest
from test_study_recompute import recompute

from twin.cli import main

QUICK = Path(__file__).resolve().parents[2] / "cosim_configs" / "study_quick.toml"


@pytest.mark.slow
def test_quick_study_sweep_and_report(tmp_path: Path) -> None:
    out, rep = tmp_path / "study", tmp_path / "rep"
    assert main(["sweep", str(QUICK), "--out", str(out), "--no-progress"]) == 0  # every run finished
    assert main(["report", str(out), "--out", str(rep)]) == 0
    assert (rep / "study.md").is_file() and (rep / "paired.csv").is_file()
    assert recompute(rep) > 0
