"""twin report lists topological screenings apart from co-simulation runs."""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import pytest

from twin.report.build import write_report
from twin.screening.results import ScreeningResult, write_screening


def _screening(configuration: str, sizes: list[float]) -> ScreeningResult:
    n = len(sizes)
    return ScreeningResult(
        run_id=f"s-{configuration}", seed=1, status="complete", configuration=configuration,
        region_hash="x", params={}, sectors=("power", "water"),
        surviving_fraction=np.tile([0.9, 0.8], (n, 1)), iterations=np.full(n, 2),
        cascade_size=np.array(sizes), n_removed=np.ones(n, dtype=int),
        asset_ids=("power/bus/A", "water/pump/P1"), asset_sectors=("power", "water"),
        criticality=np.array([0.5, 0.1]), criticality_iterations=np.array([2, 1]),
    )


def test_report_includes_screenings(tmp_path: Path, hand) -> None:  # type: ignore[no-untyped-def]
    runs = tmp_path / "runs"
    runs.mkdir()
    hand.make_file(runs / "r.h5", hand.region(hand.DISTRICTS), hand.SERIES, hand.cascade_events())
    write_screening(_screening("centralised", [0.1, 0.3]), runs / "screen-c.h5")
    write_screening(_screening("decentralised", [0.05, 0.05]), runs / "screen-d.h5")
    files = write_report([runs], tmp_path / "out", show_progress=False)
    assert len(files.runs) == 1 and [s.configuration for s in files.screenings] == [
        "centralised", "decentralised"]
    assert (tmp_path / "out" / "screening.png").is_file()
    rows = list(csv.DictReader((tmp_path / "out" / "screening.csv").open()))
    assert [r["configuration"] for r in rows] == ["centralised", "decentralised"]
    assert float(rows[0]["mean_cascade_size"]) == pytest.approx(0.2)
    assert float(rows[0]["surviving_water"]) == pytest.approx(0.8)
    page = (tmp_path / "out" / "report.html").read_text()
    assert "Topological screening" in page and 'data-file="screening.png"' in page
    # a folder of screenings alone still makes a report
    only = tmp_path / "only"
    only.mkdir()
    write_screening(_screening("centralised", [0.1]), only / "screen-c.h5")
    assert write_report([only], tmp_path / "out2", show_progress=False).screenings


def test_screening_csv_leaves_no_number_empty(tmp_path: Path) -> None:
    from dataclasses import replace

    from twin.report.screening import write_screening_csv

    one = _screening("centralised", [0.4])  # one realisation: no interval (it printed 0)
    other = replace(_screening("decentralised", [0.1, 0.3]), sectors=("power", "ict"),
                    surviving_fraction=np.tile([0.9, 0.7], (2, 1)))
    rows = list(csv.DictReader(write_screening_csv([one, other], tmp_path / "s.csv").open()))
    assert rows[0]["mean_cascade_size"] == "0.4" and rows[0]["mean_cascade_size_ci95"] == ""
    assert rows[0]["surviving_ict"] == "" and rows[1]["surviving_water"] == ""  # not "nan"
    assert float(rows[1]["mean_cascade_size_ci95"]) == pytest.approx(1.96 * np.std([0.1, 0.3], ddof=1) / np.sqrt(2))
    assert "nan" not in (tmp_path / "s.csv").read_text()
