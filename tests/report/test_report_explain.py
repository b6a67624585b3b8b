"""`twin explain` returns the true chain of a known three-step cascade (storm -> line -> pump -> tank)."""

from __future__ import annotations

from pathlib import Path

import pytest

from twin import results
from twin.cli import main
from twin.report.explain import ExplainError, explain, format_chain, format_time, parse_time


def test_tank_chain_back_to_the_storm(cascade_file: Path) -> None:
    ex = explain(results.load(cascade_file), "water/tank/T1")
    assert [(e["time_s"], e["asset_id"], e["kind"], e["coupling"]) for e in ex.chain] == [
        (3600, "water/tank/T1", "low_pressure", "water"),
        (1800, "water/pump/P1", "pump_stopped", "power->water"),
        (1800, "power/line/L1", "failed", "hazard"),
        (0, "hazard/storm-0", "hazard", ""),
    ]
    assert ex.complete and ex.recovered_s is None
    assert format_chain(ex, one_line=True) == (
        "01:00 water/tank/T1 low_pressure <- water <- 00:30 water/pump/P1 pump_stopped <- power->water"
        " <- 00:30 power/line/L1 failed <- hazard <- 00:00 hazard/storm-0 hazard"
    )
    text = format_chain(ex)
    assert text.splitlines()[0].split() == ["01:00", "water/tank/T1", "low_pressure"]
    assert "<- power->water" in text and "<- water (inside the water network)" in text


def test_pump_chain_and_recovery(cascade_file: Path) -> None:
    ex = explain(results.load(cascade_file), "water/pump/P1")
    assert [e["asset_id"] for e in ex.chain] == ["water/pump/P1", "power/line/L1", "hazard/storm-0"]
    assert ex.recovered_s == 5400


def test_at_picks_the_failure_in_force(tmp_path: Path, hand) -> None:  # type: ignore[no-untyped-def]
    from twin.events import make_event

    evs = hand.cascade_events()
    storm2 = make_event(7200, "incidents", "hazard/storm-1", "hazard")
    again = make_event(9000, "water", "water/pump/P1", "pump_stopped", 0, storm2["event_id"], "hazard")
    f = hand.make_file(tmp_path / "two.h5", hand.region(hand.DISTRICTS), hand.SERIES, [*evs, storm2, again])
    r = results.load(f)
    assert explain(r, "water/pump/P1").event["time_s"] == 1800
    assert explain(r, "water/pump/P1", parse_time("2h")).event["time_s"] == 1800  # recovered by then
    late = explain(r, "water/pump/P1", parse_time("02:30"))
    assert [e["asset_id"] for e in late.chain] == ["water/pump/P1", "hazard/storm-1"]
    with pytest.raises(ExplainError, match="had not failed by 00:10"):
        explain(r, "water/pump/P1", 600)


def test_broken_chain_is_reported(tmp_path: Path, hand) -> None:  # type: ignore[no-untyped-def]
    from twin.events import make_event

    orphan = make_event(1800, "water", "water/pump/P1", "pump_stopped", 0, "900|power/bus/B9|de-energised",
                        "power->water")
    f = hand.make_file(tmp_path / "o.h5", hand.region(hand.DISTRICTS), hand.SERIES, [orphan])
    ex = explain(results.load(f), "water/pump/P1")
    assert not ex.complete
    assert "900|power/bus/B9|de-energised is not in the event log" in format_chain(ex)


def test_unknown_or_never_failed(cascade_file: Path) -> None:
    r = results.load(cascade_file)
    with pytest.raises(ExplainError, match="no asset 'water/pump/P9'"):
        explain(r, "water/pump/P9")
    with pytest.raises(ExplainError, match="never failed"):
        explain(r, "ict/site/BS1")


@pytest.mark.parametrize(("text", "seconds"), [
    ("12600", 12600), ("12600s", 12600), ("03:30", 12600), ("3:30:15", 12615), ("3.5h", 12600),
    ("26:00", 93600), (".5h", 1800),
])
def test_parse_time(text: str, seconds: int) -> None:
    assert parse_time(text) == seconds


def test_parse_and_format_time_errors() -> None:
    with pytest.raises(ExplainError, match="cannot read time"):
        parse_time("noon")
    assert format_time(12600) == "03:30" and format_time(93615) == "26:00:15"


def test_cli_explain(cascade_file: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["explain", str(cascade_file), "water/tank/T1", "--one-line"]) == 0
    out = capsys.readouterr().out.strip()
    assert out.startswith("01:00 water/tank/T1 low_pressure <- water <- 00:30 water/pump/P1")
    assert main(["explain", str(cascade_file), "water/pump/P1", "--at", "1h"]) == 0
    out = capsys.readouterr().out
    assert out.splitlines()[0] == ("water/pump/P1 pump_stopped at 00:30: 2 steps from its root cause; "
                                   "recovered at 01:30")


def test_cli_explain_bad_input(cascade_file: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["explain", str(cascade_file), "water/pump/NOPE"]) == 2
    assert "no asset 'water/pump/NOPE'" in capsys.readouterr().err
    assert main(["explain", str(tmp_path / "missing.h5"), "water/pump/P1"]) == 2
    assert "no such results file" in capsys.readouterr().err
    assert main(["explain", str(cascade_file), "water/pump/P1", "--at", "soon"]) == 2
    assert "cannot read time" in capsys.readouterr().err
