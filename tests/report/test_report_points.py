"""Runs of two storm strengths are two parameter points, never one pooled group."""

from __future__ import annotations

import csv
from pathlib import Path

from twin import metrics, results
from twin.report.build import write_report
from twin.report.collect import load_run
from twin.report.points import by_point_and_configuration, point_labels


def _toml(wind: float, seed: int) -> str:
    return (f'[run]\nseed = {seed}\nhours = 2.0\n\n[[hazards]]\nkind = "storm"\npeak_wind_ms = {wind}\n')


def _run(hand, tmp_path: Path, name: str, config: str, wind: float, seed: int, outage: float) -> Path:  # type: ignore[no-untyped-def]
    series = {"power": {"served_mw": [10.0, 10.0 - outage, 10.0, 10.0], "demand_mw": [10.0] * 4,
                        "customers_out": [{"city": 0.0, "v1": 0.0}] * 4}}
    path = hand.make_file(tmp_path / f"{name}.h5", hand.region(hand.DISTRICTS), series, [],
                          configuration=config, seed=seed, scenario_toml=_toml(wind, seed))
    m, curves = metrics.compute(results.load(path), None)
    results.write_metrics(path, m, curves)
    return path


def test_two_storm_strengths_are_two_groups(tmp_path: Path, hand) -> None:  # type: ignore[no-untyped-def]
    files = []
    for wind, outage in ((30.0, 1.0), (45.0, 4.0)):
        for seed in (1, 2):
            for config, extra in (("centralised", 0.0), ("decentralised", -0.5)):
                files.append(_run(hand, tmp_path, f"{config}-{wind:.0f}-{seed}", config, wind, seed,
                                  outage + extra + 0.1 * seed))
    runs = [load_run(p) for p in files]
    labels = set(point_labels(runs).values())
    assert labels == {"hazards[0].peak_wind_ms=30.0", "hazards[0].peak_wind_ms=45.0"}
    groups = by_point_and_configuration(runs)
    assert {k: len(v) for k, v in groups.items()} == {
        ("hazards[0].peak_wind_ms=30.0", "centralised"): 2, ("hazards[0].peak_wind_ms=30.0", "decentralised"): 2,
        ("hazards[0].peak_wind_ms=45.0", "centralised"): 2, ("hazards[0].peak_wind_ms=45.0", "decentralised"): 2}

    rep = write_report(files, tmp_path / "rep")
    page = rep.html.read_text()
    # four columns, n = 2 each, not two pooled columns of n = 4
    assert "centralised @ hazards[0].peak_wind_ms=30.0 (n=2)" in page
    assert "decentralised @ hazards[0].peak_wind_ms=45.0 (n=2)" in page
    assert "(n=4)" not in page
    assert "Variation across parameter points" in page and "points.png" in rep.figures
    # energy not served, centralised at 45 m/s: (4.1 + 4.2) / 2 MW for half an hour each
    assert f"{(4.1 + 4.2) / 2 * 0.5:.3f}" in page
    rows = list(csv.DictReader(rep.csv.read_text().splitlines()))
    assert {r["point"] for r in rows} == labels


def test_sweep_folder_report_from_the_manifest(tmp_path: Path, hand) -> None:  # type: ignore[no-untyped-def]
    import json

    folder = tmp_path / "sweep"
    folder.mkdir()
    rows = []
    for point, wind in enumerate((30.0, 45.0)):
        for seed in (1, 2):
            for config in ("centralised", "decentralised"):
                name = f"{config}-{wind:.0f}-{seed}"
                path = _run(hand, folder, name, config, wind, seed, 1.0 + point + 0.1 * seed)
                m = results.load(path).metrics
                status = "degraded" if (point, seed, config) == (1, 2, "decentralised") else "complete"
                rows.append({"run_id": name, "configuration": config, "seed": seed, "point": point,
                             "params": {"hazards[0].peak_wind_ms": wind}, "status": status, "error": "",
                             "metrics": m})
    (folder / "manifest.json").write_text(json.dumps(
        {"format": 1, "name": "two-storms", "configurations": ["centralised", "decentralised"], "runs": rows}))
    rep = write_report([folder], tmp_path / "rep")
    page = rep.html.read_text()
    assert "centralised @ hazards[0].peak_wind_ms=45.0 (n=2)" in page and "(n=4)" not in page
    # one representative file per point x configuration drawn, not every file
    assert len(rep.runs) == 4 and "performance.png" in rep.figures and "points.png" in rep.figures
    # the degraded run: 1 of 2 at its point, a banner, and the paired table without it
    assert "1/2 (50%)" in page and 'class="banner"' in page
    assert "without flagged pairs" in page
    table = list(csv.DictReader(rep.csv.read_text().splitlines()))
    assert len(table) == 8 and {t["status"] for t in table} == {"complete", "degraded"}
