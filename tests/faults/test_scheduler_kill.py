"""The Dask scheduler killed mid-sweep, with real processes: a ``dask scheduler`` and a
``dask worker`` on 127.0.0.1 and ``twin sweep --scheduler`` as a subprocess.

The scheduler gets SIGKILL once the first results file is complete. The sweep must stop
with one line (no traceback) and a non-zero exit, lose no complete file, leave a manifest
that marks exactly the complete files complete, and a rerun against a fresh scheduler
(without ``--force``) must reuse those, compute the rest, and equal serial runs.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
from faultkit import SCENARIO, TWIN, fresh_out, same_results, wait_for

from twin import results
from twin.events import EXIT_ENVIRONMENT
from twin.runner import run_configuration
from twin.sweep import expand, load_sweep, read_manifest

SWEEP = 'name = "kill"\nbase = "base.toml"\nseeds = 3\n'


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_cluster(port: int, log_dir: Path) -> tuple[subprocess.Popen[bytes], subprocess.Popen[bytes]]:
    """A scheduler and one one-thread worker process, each in its own session (killable as a group)."""
    env = {**os.environ, "OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}
    addr = f"tcp://127.0.0.1:{port}"
    sched = subprocess.Popen(
        [sys.executable, "-m", "distributed.cli.dask_scheduler", "--host", "127.0.0.1", "--port", str(port),
         "--no-dashboard"], stdout=subprocess.DEVNULL, stderr=open(log_dir / f"scheduler-{port}.log", "wb"),
        start_new_session=True, env=env)
    wait_for(lambda: _listening(port), 60)
    worker = subprocess.Popen(
        [sys.executable, "-m", "distributed.cli.dask_worker", addr, "--nthreads", "1", "--nworkers", "1",
         "--no-dashboard", "--host", "127.0.0.1"],
        stdout=subprocess.DEVNULL, stderr=open(log_dir / f"worker-{port}.log", "wb"),
        start_new_session=True, env=env)
    return sched, worker


def _listening(port: int) -> bool:
    with socket.socket() as s:
        return s.connect_ex(("127.0.0.1", port)) == 0


def stop(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGKILL)
    proc.wait(30)


@pytest.mark.slow
def test_scheduler_killed_mid_sweep_then_rerun(tmp_path: Path, reference: Path) -> None:
    (tmp_path / "base.toml").write_text(SCENARIO)
    sweep_file = tmp_path / "sweep.toml"
    sweep_file.write_text(SWEEP)
    runs = expand(load_sweep(sweep_file))
    assert len(runs) == 3
    out = fresh_out(tmp_path, reference)  # the reference's cached region: no rebuild in the worker

    port = free_port()
    sched, worker = start_cluster(port, tmp_path)
    cmd = [*TWIN, "sweep", str(sweep_file), "--out", str(out), "--scheduler", f"tcp://127.0.0.1:{port}",
           "--no-progress"]
    try:
        sweep = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        wait_for(lambda: any(results.is_complete(results.final_path(out, r.run_id)) for r in runs)
                 or sweep.poll() is not None, 120)
        assert sweep.poll() is None, sweep.communicate()
        os.killpg(sched.pid, signal.SIGKILL)
        # freeze the worker too: the run it was in must not finish between the sweep's last
        # manifest write and the checks below (what the sweep did is what is checked)
        os.killpg(worker.pid, signal.SIGSTOP)
        killed_at = time.monotonic()
        stdout, stderr = sweep.communicate(timeout=120)
        exit_s = time.monotonic() - killed_at
    finally:
        stop(sched)
        stop(worker)

    # non-zero exit, one line, no traceback
    done = {r.run_id for r in runs if results.is_complete(results.final_path(out, r.run_id))}
    assert 1 <= len(done) < len(runs)  # one worker, runs of seconds: killed with runs left to do
    assert sweep.returncode == EXIT_ENVIRONMENT, (stdout, stderr)
    assert "Traceback" not in stderr + stdout
    lines = stderr.strip().splitlines()
    assert len(lines) == 1, stderr
    assert lines[0].startswith(f"twin: lost the Dask scheduler at tcp://127.0.0.1:{port} mid-sweep; "
                               f"{len(done)} of {len(runs)} runs complete in "), stderr
    assert "rerun the same command" in lines[0]
    assert exit_s < 60, exit_s

    # no data lost; the manifest marks exactly the complete files complete, the rest pending
    for rid in done:
        loaded = results.load(results.final_path(out, rid))
        assert loaded.status == "complete" and loaded.metrics and loaded.series
    doc = read_manifest(out)
    by_id = {row["run_id"]: row for row in doc["runs"]}
    assert sorted(by_id) == sorted(r.run_id for r in runs)
    assert {rid for rid, row in by_id.items() if row["status"] == "complete"} == done
    for rid, row in by_id.items():  # a run lost with the scheduler did not fail: it is still to do
        if rid not in done:
            assert (row["status"], row["error"], row["metrics"]) == ("pending", "", {}), row
        else:
            assert row["metrics"] == pytest.approx(results.load(results.final_path(out, rid)).metrics, nan_ok=True)
    assert doc["counts"] == {"complete": len(done), "degraded": 0, "failed": 0, "pending": len(runs) - len(done)}
    mtimes = {rid: results.final_path(out, rid).stat().st_mtime_ns for rid in done}

    # rerun against a fresh scheduler, no --force: the rest is computed, the complete ones reused
    port = free_port()
    sched, worker = start_cluster(port, tmp_path)
    cmd[cmd.index("--scheduler") + 1] = f"tcp://127.0.0.1:{port}"
    try:
        again = subprocess.run(cmd, capture_output=True, text=True, timeout=180)
    finally:
        stop(sched)
        stop(worker)
    assert again.returncode == 0, again.stderr
    assert f"{len(runs) - len(done)} runs executed, {len(done)} reused" in again.stdout
    assert {rid: results.final_path(out, rid).stat().st_mtime_ns for rid in done} == mtimes
    doc = read_manifest(out)
    assert doc["counts"] == {"complete": len(runs), "degraded": 0, "failed": 0, "pending": 0}

    # identical to uninterrupted serial runs of the same scenarios
    serial = fresh_out(tmp_path / "serial", reference)
    for run in runs:
        outcome = run_configuration(run.scenario, run.configuration, serial)
        assert outcome.run_id == run.run_id and not outcome.reused
        same_results(results.final_path(out, run.run_id), outcome.path)
