"""Degraded runs: a forced power-flow non-convergence and a forced EPANET failure (outcome
events injected into hand-built files) end ``degraded`` with their solver-failure counts in
the file, ``twin run`` warns (exit 0, 3 with --strict, 4 for a failed run), and sweeps and
reports count them apart (share row, statistics with and without flagged pairs, banner)."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace
from typing import Any

import h5py
import pytest

from twin import cli, metrics, results, runner
from twin.events import EXIT_DEGRADED, EXIT_FAILED, EXIT_OK, make_event
from twin.sweep import manifest as mf
from twin.sweep.stats import flag_banner, flag_shares, paired, table


def _finish(hand, tmp_path: Path, name: str, extra: list, baseline: results.Results | None = None,
            series: dict[str, Any] | None = None) -> results.Results:  # type: ignore[no-untyped-def]
    """A hand-built run finished by the runner (metrics, solver failures, status, rename)."""
    partial = tmp_path / f"{name}{results.PARTIAL_SUFFIX}"
    hand.make_file(partial, hand.region(hand.DISTRICTS), series or hand.SERIES, hand.cascade_events() + extra)
    results.set_status(partial, "running")
    return runner._finish(partial, tmp_path / f"{name}.h5", "", 1.0, baseline, hazard_free=False)


def _base(hand, tmp_path: Path, extra: list | None = None) -> results.Results:  # type: ignore[no-untyped-def]
    partial = tmp_path / f"base{results.PARTIAL_SUFFIX}"
    hand.make_file(partial, hand.region(hand.DISTRICTS), hand.BASE, extra or [], hazard_free=True)
    results.set_status(partial, "running")
    return runner._finish(partial, tmp_path / "base.h5", "", 1.0, None, hazard_free=True)


def _solver_failures(path: Path) -> dict[str, int]:
    with h5py.File(path, "r") as f:
        return {k: int(v) for k, v in f["solver_failures"].attrs.items()}


NON_CONVERGENCE = make_event(1800, "power", "power/island/0", "non_convergence", 1, "", "simulator")
EPANET_FAILURE = make_event(3600, "water", "water/network", "hydraulics_unsolved", 1, "", "simulator")


def test_forced_failures_give_degraded_with_counts(tmp_path: Path, hand) -> None:  # type: ignore[no-untyped-def]
    base = _base(hand, tmp_path)
    assert base.status == "complete"
    clean = _finish(hand, tmp_path, "clean", [], base)
    assert clean.status == "complete"
    assert _solver_failures(clean.path) == {"power": 0, "water": 0, "traffic": 0, "ict": 0}

    power = _finish(hand, tmp_path, "power", [NON_CONVERGENCE], base)
    assert power.status == "degraded"
    assert _solver_failures(power.path) == {"power": 1, "water": 0, "traffic": 0, "ict": 0}
    assert power.metrics["solver_failure_steps_power"] == 1.0
    assert results.is_finished(power.path)  # a finished run: reused, never overwritten

    # two water events in one step and one in another: two steps not solved
    second = make_event(3600, "water", "water/watchdog", "stale_solution", 1, "", "simulator")
    third = make_event(5400, "water", "water/network", "hydraulics_unsolved", 1, "", "simulator")
    water = _finish(hand, tmp_path, "water", [EPANET_FAILURE, second, third], base)
    assert water.status == "degraded"
    assert _solver_failures(water.path)["water"] == 2
    assert mf.file_state(water.path)[0] == "degraded"


def test_a_degraded_baseline_degrades_the_run(tmp_path: Path, hand) -> None:  # type: ignore[no-untyped-def]
    base = _base(hand, tmp_path, [NON_CONVERGENCE])
    assert base.status == "degraded"
    run = _finish(hand, tmp_path, "run", [], base)
    assert run.status == "degraded"
    assert _solver_failures(run.path)["power"] == 0  # the run's own solvers solved every step


def test_negative_impact_beyond_tolerance_is_flagged(tmp_path: Path, hand) -> None:  # type: ignore[no-untyped-def]
    reg = hand.region(hand.DISTRICTS)
    worse_base = {**hand.BASE, "power": {**hand.BASE["power"], "served_mw": [9.0] * 4}}  # ENS 2 MWh
    base = results.load(hand.make_file(tmp_path / "b.h5", reg, worse_base, []))
    calm = {**hand.SERIES, "power": {**hand.BASE["power"], "served_mw": [10.0, 10.0, 9.99, 10.0]}}
    run = results.load(hand.make_file(tmp_path / "r.h5", reg, calm, []))
    m, _ = metrics.compute(run, base)
    # ENS excess 0.005 - 2 = -1.995 MWh, below -1 % of the baseline's 2 MWh: flagged
    assert m["energy_not_served_mwh"] == pytest.approx(0.005 - 2.0)
    assert metrics.negative_impacts(m, base) == ["energy_not_served_mwh"]
    assert m["negative_impacts"] == 1.0
    # within the tolerance: -0.01 MWh against a baseline of 2 MWh (1 % = 0.02) is not flagged
    assert metrics.negative_impacts({"energy_not_served_mwh": -0.01}, base) == []
    # less delay than the baseline is a real outcome when the hazard cancelled trips: not flagged
    assert metrics.negative_impacts({"vehicle_delay_h": -50.0, "energy_not_served_mwh": 0.0}, base) == []


def _outcome(config: str, status: str, **m: float) -> runner.RunOutcome:
    return runner.RunOutcome(config, "rid", Path(f"{config}.h5"), status, metrics=dict(m))


@pytest.mark.parametrize(("statuses", "strict", "code"), [
    (["complete", "degraded"], False, EXIT_OK),
    (["complete", "degraded"], True, EXIT_DEGRADED),
    (["complete", "complete"], True, EXIT_OK),
    (["degraded", "failed"], True, EXIT_FAILED),
])
def test_run_warns_and_exits(monkeypatch, capsys, tmp_path: Path, statuses, strict, code) -> None:  # type: ignore[no-untyped-def]
    outcomes = [_outcome(f"c{i}", s, solver_failure_steps_power=3.0 if s == "degraded" else 0.0)
                for i, s in enumerate(statuses)]
    monkeypatch.setattr(runner, "run_scenario", lambda *a, **k: outcomes)
    import twin.config
    import twin.validation

    monkeypatch.setattr(twin.config, "load_scenario",
                        lambda *a, **k: SimpleNamespace(run=SimpleNamespace(configurations=["c0", "c1"], baseline=True),
                                                         hazards=[]))
    monkeypatch.setattr(twin.validation, "check_scenario", lambda *a, **k: None)
    monkeypatch.setattr(runner, "summary_table", lambda o: "table")
    argv = ["run", "scenario.toml", "--out", str(tmp_path), "--workers", "1"] + (["--strict"] if strict else [])
    assert cli.main(argv) == code
    err = capsys.readouterr().err
    if "degraded" in statuses:
        i = statuses.index("degraded")
        assert f"c{i}: WARNING: run degraded (power did not solve 3 steps)" in err


def _row(point: int, seed: int, config: str, status: str, **m: float) -> dict:
    return {"run_id": f"{point}-{seed}-{config}", "configuration": config, "seed": seed, "point": point,
            "params": {}, "status": status, "error": "", "reused": False, "wall_s": 1.0, "metrics": m}


def test_sweep_share_row_and_statistics_with_and_without(tmp_path: Path, hand) -> None:  # type: ignore[no-untyped-def]
    base = _base(hand, tmp_path)
    power = _finish(hand, tmp_path, "power", [NON_CONVERGENCE], base)
    water = _finish(hand, tmp_path, "water", [EPANET_FAILURE], base)
    # Four seeds, two configurations. Seed 3 of "decentralised" is the power run above, seed 4
    # of "centralised" the water run: both degraded, both read back from their files.
    rows = []
    ens_a = [10.0, 12.0, 20.0, 30.0]
    ens_b = [9.0, 10.0, 16.0, 25.0]  # diffs -1, -2, -4, -5
    for seed in range(1, 5):
        rows.append(_row(0, seed, "centralised", "complete", energy_not_served_mwh=ens_a[seed - 1]))
        rows.append(_row(0, seed, "decentralised", "complete", energy_not_served_mwh=ens_b[seed - 1]))
    for r, res in ((rows[5], power), (rows[6], water)):
        status, _, m, _ = mf.file_state(res.path)
        r["status"] = status
        r["metrics"] = {**m, "energy_not_served_mwh": r["metrics"]["energy_not_served_mwh"]}
    assert rows[5]["status"] == rows[6]["status"] == "degraded"

    shares = {s.configuration: s for s in flag_shares(rows)}
    assert (shares["centralised"].degraded, shares["centralised"].n) == (1, 4)
    assert (shares["decentralised"].degraded, shares["decentralised"].n) == (1, 4)
    assert shares["centralised"].degraded_share == 0.25
    assert "1/4 degraded" in flag_banner(list(shares.values()))

    stats_rows = [s for s in paired(rows, ["centralised", "decentralised"])
                  if s.metric == "energy_not_served_mwh"]
    by = {s.flagged_pairs: s for s in stats_rows}
    assert by["included"].n == 4 and by["included"].mean_diff == -3.0
    # seeds 3 and 4 dropped: diffs -1, -2
    assert by["excluded"].n == 2 and by["excluded"].mean_diff == -1.5
    text = table(stats_rows)
    assert "without flagged pairs" in text and "n=2" in text

    header = {"name": "t", "sweep_file": "s.toml", "parameters": [], "configurations": ["centralised", "decentralised"]}
    mf.write_manifest(tmp_path / "sweep", header, rows)
    summary = mf.summary(tmp_path / "sweep")
    assert "8 runs: 6 complete, 2 degraded, 0 failed, 0 pending" in summary
    assert "centralised (all points): degraded 1/4 (25.0%)" in summary
    assert "WARNING: More than 2% of the runs are degraded" in summary


def test_report_banner_and_share_row(tmp_path: Path, hand) -> None:  # type: ignore[no-untyped-def]
    from twin.report.build import write_report

    base = _base(hand, tmp_path)
    _finish(hand, tmp_path, "power", [NON_CONVERGENCE], base)
    _finish(hand, tmp_path, "water", [EPANET_FAILURE], base)
    files = write_report([tmp_path / "power.h5", tmp_path / "water.h5", tmp_path / "base.h5"], tmp_path / "rep")
    assert "2/3 degraded" in files.banner
    page = files.html.read_text()
    assert 'class="banner"' in page and "degraded runs (a solver did not solve a step)" in page
    assert "2/3 (67%)" in page
