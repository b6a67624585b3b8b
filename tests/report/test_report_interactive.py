"""The interactive page's data: hours out per asset (hand-computed), the precomputed explain
chains (equal to ``twin explain``), clean numbers and labels, and the sweep distributions."""

from __future__ import annotations

import json
import re
from pathlib import Path
from types import SimpleNamespace

import pytest

from twin import metrics, results
from twin.events import make_event
from twin.report.build import write_report
from twin.report.collect import load_run
from twin.report.interactive import chains, explain_text, forest_chains
from twin.report.plots import (
    clean,
    distributions_plot,
    map_plot,
    outage_hours,
    outage_intervals,
    performance_plot,
)


def _file(tmp_path: Path, hand: SimpleNamespace, name: str = "run.h5", seed: int = 1,
          series: dict | None = None) -> Path:
    """The tiny cascade plus an ICT site that is down and unreachable at once (0:00-1:30), then
    down again from 1:40 to the end of the run (2:00)."""
    storm = hand.cascade_events()[0]
    down = make_event(0, "ict", "ict/site/BS1", "down", 1, storm["event_id"], "hazard")
    unreach = make_event(1800, "ict", "ict/site/BS1", "unreachable", 1, down["event_id"], "ict")
    up = make_event(3600, "ict", "ict/site/BS1", "up", 1, down["event_id"], "repair")  # still unreachable
    reach = make_event(5400, "ict", "ict/site/BS1", "reachable", 1, up["event_id"], "ict")
    again = make_event(6000, "ict", "ict/site/BS1", "down", 1, storm["event_id"], "hazard")
    events = [*hand.cascade_events(), down, unreach, up, reach, again]
    path = hand.make_file(tmp_path / name, hand.region(hand.DISTRICTS), series or hand.SERIES, events, seed=seed)
    m, curves = metrics.compute(results.load(path), None)
    results.write_metrics(path, m, curves)
    return path


def test_outage_hours_by_hand(tmp_path: Path, hand: SimpleNamespace) -> None:
    r = results.load(_file(tmp_path, hand))
    # 4 steps of 30 min: the run ends at 2:00 (7200 s)
    assert outage_intervals(r) == {
        "power/line/L1": [(1800, 5400)], "water/pump/P1": [(1800, 5400)], "water/tank/T1": [(3600, None)],
        "ict/site/BS1": [(0, 5400), (6000, None)],
    }
    hours = outage_hours(r)
    assert hours == pytest.approx({"power/line/L1": 1.0, "water/pump/P1": 1.0, "water/tank/T1": 1.0,
                                   "ict/site/BS1": 1.5 + 1200 / 3600})
    assert "hazard/storm-0" not in hours and "power/bus/B1" not in hours  # not an asset; never out


def test_chains_are_twin_explain(tmp_path: Path, hand: SimpleNamespace, capsys: pytest.CaptureFixture[str]) -> None:
    from twin.cli import main

    path = _file(tmp_path, hand)
    r = results.load(path)
    blob = chains(r)
    assert sorted(blob) == ["ict/site/BS1", "power/line/L1", "water/pump/P1", "water/tank/T1"]
    for asset, text in blob.items():
        assert text == explain_text(r, asset)  # the copy with only the asset's causes explains alike
        capsys.readouterr()
        assert main(["explain", str(path), asset]) == 0
        assert capsys.readouterr().out == text + "\n"
    assert blob["water/tank/T1"].splitlines()[-1].split() == ["00:00", "hazard/storm-0", "hazard"]
    forest = forest_chains(r)  # every event of the forest: twin explain ASSET --at TIME
    assert sorted(forest) == ["hazard/storm-0@0", "ict/site/BS1@0", "ict/site/BS1@1800", "ict/site/BS1@6000",
                              "power/line/L1@1800", "water/pump/P1@1800", "water/tank/T1@3600"]
    assert forest["hazard/storm-0@0"] == "hazard/storm-0 hazard at 00:00: a root cause of the cascade"
    for key in ("ict/site/BS1@1800", "ict/site/BS1@6000", "water/tank/T1@3600"):
        asset, at = key.split("@")
        capsys.readouterr()
        assert main(["explain", str(path), asset, "--at", at]) == 0
        assert capsys.readouterr().out == forest[key] + "\n"
    assert forest["ict/site/BS1@1800"] != forest["ict/site/BS1@6000"]


def test_clean_numbers() -> None:
    assert clean([-0.0, -1e-12, 0.5, float("nan"), float("inf")]) == [0.0, 0.0, 0.5, None, None]
    assert [str(v) for v in clean([-0.0, -1e-12])] == ["0.0", "0.0"]  # no negative zero left
    assert clean([-0.4, 2.0], floor=0.0) == [0.0, 2.0]


def test_map_colours_assets_by_hours_out(tmp_path: Path, hand: SimpleNamespace) -> None:
    fig = map_plot(load_run(_file(tmp_path, hand)))
    by_name = {t.name: t for t in fig.data}
    quiet = by_name["asset, never out"]
    assert sorted(quiet.customdata) == ["power/bus/B1", "power/load/L1"]
    ict = by_name["ICT, out (1)"]
    assert list(ict.customdata) == ["ict/site/BS1"] and list(ict.x) == [0.0] and list(ict.y) == [2000.0]
    assert list(ict.marker.color) == pytest.approx([1.5 + 1200 / 3600])
    assert "still out at the end of the run" in ict.text[0]
    assert list(by_name["Water, out (2)"].marker.color) == pytest.approx([1.0, 1.0])
    assert fig.layout.yaxis.scaleanchor == "x"  # metres on both axes, no tiles


def test_labels_are_human(tmp_path: Path, hand: SimpleNamespace) -> None:
    run = load_run(_file(tmp_path, hand))
    names = [t.name for t in performance_plot([run]).data if t.showlegend is not False]
    assert names == ["centralised"]
    titles = [a.text for a in performance_plot([run]).layout.annotations]
    assert titles == ["Power", "Water", "Traffic", "ICT"]
    for fig in (performance_plot([run]), map_plot(run)):
        text = fig.to_json()
        assert not re.search(r"-0\.0+\b(?!\d)", text.replace("-0.02", ""))  # the y range starts at -0.02
        assert "_mw" not in text and "_km" not in text


def test_distributions_over_seeds(tmp_path: Path, hand: SimpleNamespace) -> None:
    """Two seeds: one box per headline metric for the configuration, a point per run; the page
    then has the distributions plot, with one seed alone it has none."""
    out = tmp_path / "seeds"
    out.mkdir()
    light = {**hand.SERIES, "power": {**hand.SERIES["power"], "served_mw": [10.0, 8.0, 10.0, 10.0]}}
    runs = [load_run(_file(out, hand, f"s{s}.h5", s, series)) for s, series in ((1, hand.SERIES), (2, light))]
    fig = distributions_plot(runs)
    ens = [t for t in fig.data if t.xaxis == "x"]  # first panel: energy not served
    assert fig.layout.annotations[0].text == "energy not served (MWh)"
    # energy not served without a baseline: seed 1 (4 + 2) * 0.5 = 3 MWh, seed 2 2 * 0.5 = 1 MWh
    assert [list(t.y) for t in ens] == [[3.0, 1.0]] and ens[0].name == "centralised"
    files = write_report([out], tmp_path / "rep", show_progress=False)
    page = files.interactive.read_text()
    assert 'data-plot="distributions"' in page
    figures = json.loads(re.search(r'id="twin-figures">(.*?)</script>', page, re.S)[1])
    assert sorted(figures) == ["distributions", "forest-centralised", "map-centralised", "performance"]
    one = write_report([out / "s1.h5"], tmp_path / "rep1", show_progress=False)
    assert 'data-plot="distributions"' not in one.interactive.read_text()


def test_study_paired_plot_draws_no_interval_where_there_is_none() -> None:
    import math

    from twin.report.study_interactive import paired_plot

    base = {"metric": "m", "flagged_pairs": "included", "mean_diff": 1.0, "config_a": "a", "config_b": "b",
            "wilcoxon_p": math.nan, "holm_p": math.nan}
    rows = [{**base, "family": "windstorm", "bca_low": math.nan, "bca_high": math.nan, "bca_note": "one pair",
             "n": 1, "not_meaningful": 2},
            {**base, "family": "flood", "bca_low": 0.5, "bca_high": 2.0, "bca_note": "", "n": 4}]
    trace = paired_plot(rows, "m").data[0]
    # the draw without a BCa interval gets no error bar (it got one of width 0: a certain value)
    assert tuple(trace.error_x.array) == (None, 1.0) and tuple(trace.error_x.arrayminus) == (None, 0.5)
    assert list(trace.customdata[0][3:]) == [2, "no interval: one pair"]
