"""Issue 18's "Done when": the quick study sweep, then its report, whose paired statistics are
recomputed from metrics.csv with numpy and scipy alone (test_study_recompute.recompute).
Runs once cosim_configs/study_quick.toml (the hazard ensembles) exists; ≤ 10 min on 2 cores."""

from __future__ import annotations

from pathlib import Path

import pytest
from test_study_recompute import recompute

from twin.cli import main

QUICK = Path(__file__).resolve().parents[2] / "cosim_configs" / "study_quick.toml"


@pytest.mark.slow
@pytest.mark.skipif(not QUICK.is_file(), reason="cosim_configs/study_quick.toml (hazard ensembles) not on this branch")
def test_quick_study_sweep_and_report(tmp_path: Path) -> None:
    out, rep = tmp_path / "study", tmp_path / "rep"
    assert main(["sweep", str(QUICK), "--out", str(out), "--no-progress"]) in (0, 1)  # 1: some run failed
    assert main(["report", str(out), "--out", str(rep)]) == 0
    assert (rep / "study.md").is_file() and (rep / "paired.csv").is_file()
    assert recompute(rep) > 0
