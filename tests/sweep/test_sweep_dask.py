"""Sweeps on a real Dask cluster (scheduler and 2 process workers over TCP on 127.0.0.1).

The function executed per run is a small, cheap, real model (``toy_run``): storm damage of
50 poles from the scenario's storm and per-pole random draws of the run's seed, written
as a results file with the twin layout's attributes and ``metrics`` group. It shows the
Dask machinery (ids, resume, failures, dead workers, baselines) in seconds; the real
co-simulation runs through the same code in test_sweep_real.py.
"""

from __future__ import annotations

import json
import math
import os
import signal
import time
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

import h5py
import numpy as np
import pytest
from distributed import Client, LocalCluster

from twin import results
from twin.config import Scenario, run_id
from twin.randomness import stream
from twin.sweep import expand, load_sweep, read_manifest, run_sweep
from twin.sweep.execute import baseline_id

BASE = """
[run]
hours = 2
seed = 7
configurations = ["centralised", "decentralised"]

[region]
size = "small"

[[hazards]]
kind = "storm"
track_m = [[-5000.0, 0.0], [5000.0, 0.0]]
start_h = 0.5
end_h = 1.5
peak_wind_ms = 40.0
decay_m = 3000.0
"""

SWEEP = """
name = "toy"
base = "base.toml"
seeds = 3
[grid]
"hazards[0].peak_wind_ms" = [30.0, 45.0]
"""

FRAGILITY_MS = {"centralised": 30.0, "decentralised": 34.0, "anchor_towns": 32.0}


@dataclass
class ToyOutcome:
    status: str
    error: str = ""
    metrics: dict[str, float] = field(default_factory=dict)


def _log(log_path: str | None, text: str) -> None:
    if log_path:
        with open(log_path, "a") as f:
            f.write(text + "\n")


def toy_metrics(scenario: Scenario, configuration: str) -> dict[str, float]:
    """Poles on a line across the track; a pole fails if its gust exceeds its fragility."""
    storm = scenario.hazards[0]
    distance_m = np.linspace(0.0, 6000.0, 50)
    rng = stream(scenario.run.seed, "toy/gust")  # shared by the configurations: paired draws
    gust = rng.uniform(0.8, 1.2, 50) * storm.peak_wind_ms * np.exp(-distance_m / storm.decay_m)  # type: ignore[union-attr]
    failed = gust > FRAGILITY_MS[configuration]
    return {
        "primary_failures": float(failed.sum()),
        "energy_not_served_mwh": float(0.25 * failed.sum() * scenario.run.hours),
        "peak_gust_ms": float(gust.max()),
    }


def toy_run(scenario: Scenario, configuration: str, out_dir: Path, *, sleep_s: float = 0.0,
            log_path: str | None = None, fail_above_ms: float = math.inf,
            need_baseline: bool = False) -> ToyOutcome:
    """Write a results file the way the runner does (partial, then renamed when complete)."""
    rid = run_id(scenario, configuration)
    _log(log_path, f"start {rid} {os.getpid()}")
    if need_baseline:
        bfile = results.final_path(out_dir / "baselines", baseline_id(scenario, configuration))
        if not results.is_complete(bfile):
            raise RuntimeError("baseline missing when the run started")
    time.sleep(sleep_s)
    wind = scenario.hazards[0].peak_wind_ms  # type: ignore[union-attr]
    if wind > fail_above_ms:
        raise ValueError(f"toy: peak wind {wind} m/s above {fail_above_ms}")
    metrics = toy_metrics(scenario, configuration)
    partial_file = results.partial_path(out_dir, rid)
    out_dir.mkdir(parents=True, exist_ok=True)
    with h5py.File(partial_file, "w") as f:
        f.attrs.update(format_version=results.FORMAT_VERSION, status="complete", error="", run_id=rid,
                       configuration=configuration, seed=scenario.run.seed, scenario_toml=scenario.to_toml())
        g = f.create_group("metrics")
        for k, v in metrics.items():
            g.create_dataset(k, data=v)
    results.publish(partial_file, results.final_path(out_dir, rid))
    _log(log_path, f"done {rid} {os.getpid()}")
    return ToyOutcome("complete", "", metrics)


def toy_baseline(scenario: Scenario, configuration: str, out_dir: Path, *, log_path: str | None = None) -> None:
    bid = baseline_id(scenario, configuration)
    _log(log_path, f"baseline {bid} {os.getpid()}")
    time.sleep(0.2)  # long enough for a second worker to collide if it were allowed to
    path = results.final_path(out_dir / "baselines", bid)
    path.parent.mkdir(parents=True, exist_ok=True)
    with h5py.File(path, "w") as f:
        f.attrs.update(format_version=results.FORMAT_VERSION, status="complete", error="")


def executions(log_path: Path, word: str = "done") -> list[str]:
    if not log_path.exists():
        return []
    return [line.split()[1] for line in log_path.read_text().splitlines() if line.startswith(word + " ")]


@pytest.fixture(scope="module")
def cluster():
    with LocalCluster(host="127.0.0.1", protocol="tcp", n_workers=2, processes=True, threads_per_worker=1,
                      dashboard_address=None) as c:
        yield c


@pytest.fixture
def sweep_file(tmp_path: Path) -> Path:
    (tmp_path / "base.toml").write_text(BASE)
    p = tmp_path / "sweep.toml"
    p.write_text(SWEEP)
    return p


def test_sweep_on_tcp_cluster_equals_serial_run(cluster: LocalCluster, sweep_file: Path, tmp_path: Path) -> None:
    assert cluster.scheduler_address.startswith("tcp://127.0.0.1:")
    log_path = tmp_path / "log.txt"
    out = tmp_path / "dask"
    res = run_sweep(sweep_file, out, scheduler=cluster.scheduler_address,
                    run_fn=partial(toy_run, log_path=str(log_path)), progress=False)
    runs = expand(load_sweep(sweep_file))
    assert len(runs) == 2 * 3 * 2 and len(res.complete) == 12 and not res.failed
    # every run executed in a worker process, none in this one, both workers used
    pids = {line.split()[2] for line in log_path.read_text().splitlines()}
    assert str(os.getpid()) not in pids and len(pids) == 2
    # the serial reference: the same function called directly, in order, in this process
    serial = tmp_path / "serial"
    for r in runs:
        toy_run(r.scenario, r.configuration, serial)
    for r in runs:
        a, b = results.final_path(out, r.run_id), results.final_path(serial, r.run_id)
        with h5py.File(a) as fa, h5py.File(b) as fb:
            assert dict(fa.attrs) == dict(fb.attrs)
            assert {k: fa["metrics"][k][()] for k in fa["metrics"]} == {k: fb["metrics"][k][()] for k in fb["metrics"]}
    # the manifest holds the same metrics, per run id, with the parameters
    doc = read_manifest(out)
    by_id = {row["run_id"]: row for row in doc["runs"]}
    for r in runs:
        row = by_id[r.run_id]
        assert row["metrics"] == toy_metrics(r.scenario, r.configuration)
        assert row["params"] == {"hazards[0].peak_wind_ms": r.scenario.hazards[0].peak_wind_ms}
        assert (row["configuration"], row["seed"], row["status"]) == (r.configuration, r.seed, "complete")
    assert doc["seeds"] == [7, 8, 9]
    assert (out / "manifest.csv").read_text().count("\n") == 13
    assert (out / "paired.csv").is_file()


def test_failed_run_is_recorded_and_sweep_continues(cluster: LocalCluster, sweep_file: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    res = run_sweep(sweep_file, out, scheduler=cluster.scheduler_address,
                    run_fn=partial(toy_run, fail_above_ms=40.0), progress=False)
    assert len(res.failed) == 6 and len(res.complete) == 6
    rows = read_manifest(out)["runs"]
    for row in rows:
        wind = row["params"]["hazards[0].peak_wind_ms"]
        if wind > 40:
            assert row["status"] == "failed"
            assert row["error"] == "ValueError: toy: peak wind 45.0 m/s above 40.0"
            assert row["metrics"] == {}
        else:
            assert row["status"] == "complete" and row["error"] == ""
    csv_text = (out / "manifest.csv").read_text()
    assert csv_text.count("ValueError: toy: peak wind 45.0 m/s above 40.0") == 6


def test_interrupted_sweep_resumes_with_only_missing_runs(cluster: LocalCluster, sweep_file: Path,
                                                          tmp_path: Path) -> None:
    out = tmp_path / "out"
    log_path = tmp_path / "log.txt"
    runs = expand(load_sweep(sweep_file))
    # leftovers of the last two runs that must not count as finished: a partial file, a failed one
    stale, failed_before = runs[-1].run_id, runs[-2].run_id
    out.mkdir()
    results.partial_path(out, stale).write_bytes(b"half a file")
    with h5py.File(results.final_path(out, failed_before), "w") as f:
        f.attrs.update(format_version="1.0", status="failed", error="old failure")

    seen: list[str] = []

    def interrupt_after_three(row: dict[str, Any]) -> None:
        seen.append(row["run_id"])
        if len(seen) == 3:
            raise KeyboardInterrupt

    fn = partial(toy_run, sleep_s=0.3, log_path=str(log_path))
    with pytest.raises(KeyboardInterrupt):
        run_sweep(sweep_file, out, scheduler=cluster.scheduler_address, run_fn=fn, progress=False,
                  on_result=interrupt_after_three)
    time.sleep(0.5)  # tasks already running when the sweep stopped finish on their workers
    first = executions(log_path)
    assert 3 <= len(first) < len(runs)
    doc = read_manifest(out)
    assert sum(r["status"] == "complete" for r in doc["runs"]) >= 3
    assert sum(r["status"] == "pending" for r in doc["runs"]) >= 1
    complete_before = {r.run_id for r in runs if results.is_complete(results.final_path(out, r.run_id))}
    mtimes = {rid: results.final_path(out, rid).stat().st_mtime_ns for rid in complete_before}
    assert stale not in first and failed_before not in first  # Dask runs tasks in submission order

    res = run_sweep(sweep_file, out, scheduler=cluster.scheduler_address, run_fn=fn, progress=False)
    second = executions(log_path)[len(first):]
    assert sorted(second) == sorted(set(r.run_id for r in runs) - complete_before)
    assert sorted(res.executed) == sorted(second) and sorted(res.reused) == sorted(complete_before)
    assert len(res.complete) == len(runs)
    assert {rid: results.final_path(out, rid).stat().st_mtime_ns for rid in complete_before} == mtimes
    assert not results.partial_path(out, stale).exists()
    assert {stale, failed_before} <= set(second)

    # a third time: nothing to do, no cluster needed
    res = run_sweep(sweep_file, out, scheduler="tcp://127.0.0.1:1", run_fn=fn, progress=False)
    assert res.executed == [] and len(res.reused) == len(runs)


def test_baselines_computed_once_before_their_runs(cluster: LocalCluster, sweep_file: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    log_path = tmp_path / "log.txt"
    res = run_sweep(sweep_file, out, scheduler=cluster.scheduler_address,
                    run_fn=partial(toy_run, need_baseline=True), baseline_fn=partial(toy_baseline, log_path=str(log_path)),
                    progress=False)
    assert not res.failed, res.failed  # toy_run raises if its baseline is not there yet
    computed = executions(log_path, "baseline")
    # hazard-free runs do not depend on the storm's strength: one per configuration and seed
    assert len(computed) == len(set(computed)) == 2 * 3
    assert sorted(res.baselines) == sorted(computed)


def test_killed_worker_still_completes(sweep_file: Path, tmp_path: Path) -> None:
    """SIGKILL a worker process in the middle of a run: the run is rescheduled, the sweep completes."""
    out = tmp_path / "out"
    log_path = tmp_path / "log.txt"
    killed: list[int] = []

    def kill_a_busy_worker(row: dict[str, Any]) -> None:
        if killed:
            return
        time.sleep(0.1)
        lines = [ln.split() for ln in log_path.read_text().splitlines()]
        finished = {rid for word, rid, _ in lines if word == "done"}
        busy = [int(pid) for word, rid, pid in lines if word == "start" and rid not in finished]
        if busy:  # a worker in the middle of a run
            os.kill(busy[0], signal.SIGKILL)
            killed.append(busy[0])

    with LocalCluster(host="127.0.0.1", protocol="tcp", n_workers=2, processes=True, threads_per_worker=1,
                      dashboard_address=None) as cl:
        res = run_sweep(sweep_file, out, scheduler=cl.scheduler_address,
                        run_fn=partial(toy_run, sleep_s=0.4, log_path=str(log_path)),
                        progress=False, on_result=kill_a_busy_worker)
    assert killed
    assert len(res.complete) == 12 and not res.failed
    lines = [ln.split() for ln in log_path.read_text().splitlines()]
    lost = {rid for word, rid, pid in lines if word == "start" and int(pid) == killed[0]} - {
        rid for word, rid, pid in lines if word == "done" and int(pid) == killed[0]}
    assert len(lost) == 1, "the killed worker was running a run"
    for rid in lost:  # ... which another worker then completed
        assert any(w == "done" and r == rid and int(p) != killed[0] for w, r, p in lines)
    assert all(results.is_complete(results.final_path(out, r["run_id"])) for r in res.rows)


def test_local_cluster_workers_have_one_blas_thread(tmp_path: Path) -> None:
    from twin.sweep import WORKER_ENV, connect

    with connect(workers=1) as client:
        env = client.run(lambda: {k: os.environ.get(k) for k in WORKER_ENV})
        info = client.scheduler_info()
    assert list(env.values()) == [WORKER_ENV]
    assert [w["nthreads"] for w in info["workers"].values()] == [1]
    assert all(addr.startswith("tcp://127.0.0.1:") for addr in info["workers"])


def test_one_run_at_a_time_on_a_worker_with_two_threads(sweep_file: Path, tmp_path: Path) -> None:
    log_path = tmp_path / "log.txt"
    with LocalCluster(host="127.0.0.1", protocol="tcp", n_workers=1, processes=True, threads_per_worker=2,
                      dashboard_address=None) as cl:
        res = run_sweep(sweep_file, tmp_path / "out", scheduler=cl.scheduler_address,
                        run_fn=partial(toy_run, sleep_s=0.1, log_path=str(log_path)), progress=False)
    assert len(res.complete) == 12
    words = [line.split()[0] for line in log_path.read_text().splitlines()]
    assert words == ["start", "done"] * 12  # never two runs at once in the process


def test_existing_client_is_used_and_left_open(cluster: LocalCluster, sweep_file: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    with Client(cluster) as client:
        run_sweep(sweep_file, out, client=client, run_fn=toy_run, progress=False)
        assert client.status == "running"
    doc = json.loads((out / "manifest.json").read_text())
    assert doc["counts"] == {"complete": 12, "degraded": 0, "failed": 0, "pending": 0}
    assert doc["parameters"] == ["hazards[0].peak_wind_ms"]
    assert doc["configurations"] == ["centralised", "decentralised"]
