"""Real co-simulated runs through the sweep machinery: 2 Dask workers over TCP vs a serial run."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest
from distributed import LocalCluster

from twin import results
from twin.runner import run_configuration
from twin.sweep import expand, load_sweep, read_manifest, run_sweep

ROOT = Path(__file__).resolve().parents[2]

# Half an hour of the small region, with the storm moved to the start so it does damage.
SWEEP = f"""
name = "real-tiny"
base = "{ROOT / 'cosim_configs' / 'default.toml'}"
seeds = 1
[set]
"region.size" = "small"
"run.hours" = 0.5
"hazards[0].start_h" = 0.0
"hazards[0].end_h" = 0.25
"""


@pytest.mark.slow
def test_real_sweep_on_two_tcp_workers_equals_serial_runs(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    sweep_file = tmp_path / "sweep.toml"
    sweep_file.write_text(SWEEP)
    out = tmp_path / "dask"
    with LocalCluster(host="127.0.0.1", protocol="tcp", n_workers=2, processes=True, threads_per_worker=1,
                      dashboard_address=None) as cluster:
        res = run_sweep(sweep_file, out, scheduler=cluster.scheduler_address, progress=False)
    runs = expand(load_sweep(sweep_file))
    assert len(runs) == 2
    assert len(res.complete) == 2, res.failed
    # one hazard-free baseline per configuration, computed as its own task
    assert len(res.baselines) == 2
    assert len(list((out / "baselines").glob("*.h5"))) == 2

    # serial reference: run_configuration in this process, sharing the built regions and baselines
    serial = tmp_path / "serial"
    serial.mkdir()
    os.symlink(out / ".regions", serial / ".regions")
    os.symlink(out / "baselines", serial / "baselines")
    doc = read_manifest(out)
    expected = results.code_commit() or f"twin {results.versions()['twin']} (installed, not a git checkout)"
    assert doc["commit"] == expected  # the code that ran it
    rows = {r["run_id"]: r for r in doc["runs"]}
    for run in runs:
        outcome = run_configuration(run.scenario, run.configuration, serial)
        assert outcome.run_id == run.run_id and outcome.status == "complete" and not outcome.reused
        a = results.load(results.final_path(out, run.run_id))
        b = results.load(outcome.path)
        for other in (b.metrics, rows[run.run_id]["metrics"]):  # NaN is "not applicable": equal
            assert a.metrics.keys() == other.keys()
            np.testing.assert_array_equal(np.array(list(a.metrics.values())),
                                          np.array([other[k] for k in a.metrics]))
        assert a.events == b.events
        for sector, series in b.series.items():
            for name, values in series.items():
                np.testing.assert_array_equal(a.series[sector][name], values, err_msg=f"{sector}/{name}")
    assert rows[runs[0].run_id]["metrics"]["primary_failures"] > 0  # the storm did hit
    assert any(s.metric == "energy_not_served_mwh" and s.n == 1 for s in res.paired)

    # the command line on the finished sweep: nothing to run, the summary and the paired table
    from twin.cli import main

    assert main(["sweep", str(sweep_file), "--out", str(out), "--no-progress"]) == 0
    printed = capsys.readouterr().out
    assert "0 runs executed, 2 reused" in printed
    assert "2 runs: 2 complete, 0 degraded, 0 failed, 0 pending" in printed
    assert "decentralised - centralised (mean difference, 95 % CI" in printed
