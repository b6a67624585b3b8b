"""A degraded run's warning names why: each solver's failure kinds and where the first one
happened, read from the results file (twin/cli.py ``failure_detail``)."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

from twin import runner
from twin.cli import run_warnings
from twin.events import make_event


def test_degraded_warning_names_the_first_failure(tmp_path: Path, hand: SimpleNamespace) -> None:
    events = [*hand.cascade_events(),
              make_event(1800, "water", "water/junction/J7", "pressure_outlier", -12.5, "", "simulator"),
              make_event(3600, "water", "water/network/epanet", "hydraulics_unsolved", 1.0, "", "simulator"),
              make_event(5400, "water", "water/junction/J7", "pressure_outlier", -11.0, "", "simulator")]
    path = hand.make_file(tmp_path / "run.h5", hand.region(hand.DISTRICTS), hand.SERIES, events)
    outcome = runner.RunOutcome("centralised", "run", path, "degraded",
                                metrics={"solver_failure_steps_water": 3.0, "solver_failure_steps_power": 0.0})
    assert run_warnings(outcome) == [
        "run degraded (water did not solve 3 steps [1 hydraulics_unsolved, 2 pressure_outlier; "
        "first on water/junction/J7 at 00:30, value -12.5]); its metrics are flagged"]


def test_degraded_warning_without_a_readable_file_counts_steps(tmp_path: Path) -> None:
    outcome = runner.RunOutcome("centralised", "run", tmp_path / "gone.h5", "degraded",
                                metrics={"solver_failure_steps_power": 2.0})
    assert run_warnings(outcome) == ["run degraded (power did not solve 2 steps); its metrics are flagged"]
