"""`twin report` writes every figure, an HTML page that embeds each of them, and one CSV row per run."""

from __future__ import annotations

import base64
import csv
import re
from pathlib import Path
from types import SimpleNamespace

import pytest

from twin import metrics, results
from twin.cli import main
from twin.config import Scenario, run_id
from twin.events import make_event
from twin.report.build import write_report
from twin.report.collect import ReportInputError, discover, find_baseline, load_run
from twin.report.figures import FIGURES

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def _publish(hand: SimpleNamespace, path: Path, configuration: str, series: dict, events: list,  # type: ignore[type-arg]
             baseline: Path | None, cost: dict[str, float], **attrs: object) -> Path:
    """Like the runner: write the file, its metrics against the baseline, status complete."""
    hand.make_file(path, hand.region(hand.DISTRICTS, cost), series, events, configuration=configuration, **attrs)
    run = results.load(path)
    base = results.load(baseline) if baseline is not None else None
    m, curves = metrics.compute(run, base)
    results.write_metrics(path, m, curves)
    return path


@pytest.fixture
def folder(tmp_path: Path, hand: SimpleNamespace) -> Path:
    """Two configurations with their baselines, plus files a report must skip."""
    out = tmp_path / "results"
    bdir = out / "baselines"
    bdir.mkdir(parents=True)
    costs = {"centralised": {"line_km": 20.0, "pipe_km": 6.0},
             "decentralised": {"line_km": 24.0, "pipe_km": 7.0, "pv_mw": 3.0, "battery_mwh": 6.0, "wells": 3.0}}
    milder = make_event(1800, "power", "power/line/L1", "failed", 1, "0|hazard/storm-0|hazard", "hazard")
    storm = make_event(0, "incidents", "hazard/storm-0", "hazard")
    for config, events in (("centralised", hand.cascade_events()), ("decentralised", [storm, milder])):
        b = _publish(hand, bdir / f"base-{config}.h5", config, hand.BASE, [], None, costs[config],
                     hazard_free=True)
        _publish(hand, out / f"run-{config}.h5", config, hand.SERIES, events, b, costs[config])
    # a partial file and a failed run: never part of a report
    hand.make_file(out / "x.partial.h5", hand.region(hand.DISTRICTS), hand.SERIES, [])
    failed = hand.make_file(out / "failed.h5", hand.region(hand.DISTRICTS), hand.SERIES, [])
    results.set_status(failed, "failed", "boom")
    return out


def test_discover_skips_baselines_partials_and_failed(folder: Path) -> None:
    assert [p.name for p in discover([folder])] == ["run-centralised.h5", "run-decentralised.h5"]
    assert len(discover([folder, folder / "run-centralised.h5"])) == 2  # no duplicates
    with pytest.raises(ReportInputError, match="not a complete"):
        discover([folder / "failed.h5"])
    with pytest.raises(ReportInputError, match="no such file"):
        discover([folder / "nope"])
    with pytest.raises(ReportInputError, match="no complete results file"):
        discover([folder.parent])


def test_baseline_found_by_scan_and_by_id(folder: Path, hand: SimpleNamespace) -> None:
    run = load_run(folder / "run-decentralised.h5")
    assert run.baseline is not None and run.baseline.path.name == "base-decentralised.h5"
    # by id: the runner's name for the baseline, recomputed from the run's scenario
    scenario = Scenario()
    rid = run_id(scenario.without_hazards(), "centralised")
    other = folder.parent / "other"
    (other / "baselines").mkdir(parents=True)
    hand.make_file(other / "baselines" / f"{rid}.h5", hand.region(hand.DISTRICTS), hand.BASE, [],
                   hazard_free=True, region_key="elsewhere")
    hand.make_file(other / "r.h5", hand.region(hand.DISTRICTS), hand.SERIES, [],
                   scenario_toml=scenario.to_toml())
    base = find_baseline(results.load(other / "r.h5"))
    assert base is not None and base.path.name == f"{rid}.h5"


def test_report_writes_every_figure_html_and_csv(folder: Path, tmp_path: Path) -> None:
    out = tmp_path / "report"
    files = write_report([folder], out, show_progress=False)
    assert set(files.figures) == set(FIGURES)
    page = files.html.read_text()
    for name, path in files.figures.items():
        data = path.read_bytes()
        assert data.startswith(PNG_MAGIC) and len(data) > 5000, name
        assert f'data-file="{name}"' in page
        assert base64.b64encode(data).decode() in page  # embedded: the page stands alone
    assert len(re.findall(r'<img src="data:image/png;base64,', page)) == len(FIGURES)
    assert 'href="metrics.csv"' in page
    with open(files.csv) as f:
        rows = list(csv.DictReader(f))
    assert [r["configuration"] for r in rows] == ["centralised", "decentralised"]
    stored = results.load(folder / "run-centralised.h5").metrics
    for key, value in stored.items():  # every metric of the file is a column, with its value
        assert float(rows[0][key]) == pytest.approx(value, nan_ok=True), key
    assert float(rows[0]["energy_not_served_mwh"]) == pytest.approx(3.0)
    assert float(rows[1]["secondary_failures"]) == 0.0
    assert float(rows[0]["cost_index_meur"]) == pytest.approx(20 * 0.1 + 6 * 0.5)
    assert rows[0]["baseline"].endswith("base-centralised.h5")


def test_cli_report(folder: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "cli-report"
    assert main(["report", str(folder), "--out", str(out)]) == 0
    text = capsys.readouterr().out
    assert "centralised (seed 1)" in text and "energy not served (MWh)" in text
    assert sorted(p.name for p in out.iterdir()) == sorted([*FIGURES, "report.html", "interactive.html", "metrics.csv"])
    assert main(["report", str(tmp_path / "missing"), "--out", str(out)]) == 2
    assert "no such file or folder" in capsys.readouterr().err


def test_report_over_seeds(tmp_path: Path, hand: SimpleNamespace) -> None:
    """Two seeds of one configuration: mean ± 95 % interval in the summary, one CSV row each."""
    out = tmp_path / "seeds"
    out.mkdir()
    light = {**hand.SERIES, "power": {**hand.SERIES["power"], "served_mw": [10.0, 8.0, 10.0, 10.0]}}
    for seed, series in ((1, hand.SERIES), (2, light)):
        _publish(hand, out / f"s{seed}.h5", "centralised", series, hand.cascade_events(), None,
                 {"line_km": 1.0}, seed=seed)
    files = write_report([out], tmp_path / "rep", show_progress=False)
    # energy not served: seed 1 (4 + 2) * .5 = 3 MWh, seed 2 2 * .5 = 1 MWh -> 2 ± 1.96 * sqrt(2) / sqrt(2)
    assert "centralised (n=2)" in files.html.read_text()
    assert "<td>energy not served (MWh)</td><td>2 ± 1.960</td>" in files.html.read_text()
    with open(files.csv) as f:
        assert [r["seed"] for r in csv.DictReader(f)] == ["1", "2"]


def test_baseline_scan_matches_the_scenario(tmp_path: Path, hand: SimpleNamespace) -> None:
    """Of two hazard-free files of the same configuration and seed, the one whose scenario is
    the run's without hazards is its baseline."""
    bdir = tmp_path / "baselines"
    bdir.mkdir()
    run_toml = 'hazards = [{ kind = "storm", peak_wind_ms = 40.0 }]\n[repair]\nhours = 6.0\n'
    for name, toml in (("a-stale", "hazards = []\n[repair]\nhours = 3.0\n"),
                       ("b-match", "hazards = []\n[repair]\nhours = 6.0\n")):
        hand.make_file(bdir / f"{name}.h5", hand.region(hand.DISTRICTS), hand.BASE, [], hazard_free=True,
                       scenario_toml=toml)
    hand.make_file(tmp_path / "r.h5", hand.region(hand.DISTRICTS), hand.SERIES, [], scenario_toml=run_toml)
    base = find_baseline(results.load(tmp_path / "r.h5"))
    assert base is not None and base.path.name == "b-match.h5"


def test_sweep_folder_by_its_manifest(folder: Path) -> None:
    """A folder with a sweep manifest gives the complete runs it lists, in its order."""
    import json

    rows = [{"run_id": "run-decentralised", "status": "complete"}, {"run_id": "failed", "status": "failed"},
            {"run_id": "not-yet", "status": "pending"}, {"run_id": "run-centralised", "status": "complete"}]
    (folder / "manifest.json").write_text(json.dumps({"format": 1, "runs": rows}))
    assert [p.name for p in discover([folder])] == ["run-decentralised.h5", "run-centralised.h5"]
    (folder / "manifest.json").write_text("{not json")
    with pytest.raises(ReportInputError, match="unreadable sweep manifest"):
        discover([folder])
