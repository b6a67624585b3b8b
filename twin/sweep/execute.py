"""Running a sweep on Dask: a local cluster by default, any scheduler or HPC batch system on request.

Every run executes in a worker process through an injectable function (default:
:func:`twin.runner.run_configuration`). The hazard-free baselines the runs need are
computed first, once each, as their own tasks, and the runs that need one depend on it, so
two workers never compute the same baseline. A run that raises is recorded as failed with
its message; a run lost with its worker is rescheduled by Dask (and ``retries`` more times).
Runs whose complete results file exists are skipped: an interrupted sweep resumes.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import os
import signal
import socket
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, Protocol

from twin import progress as twin_progress
from twin import results
from twin.config import Scenario, run_id
from twin.events import FINISHED_STATUSES
from twin.sweep import manifest as mf
from twin.sweep import stats
from twin.sweep.ensembles import ensemble_header
from twin.sweep.spec import Sweep, SweepRun, expand, load_sweep

log = logging.getLogger(__name__)

BASELINE_DIR = "baselines"  # as twin.runner.BASELINE_DIR (imported lazily there)
WORKER_ENV: dict[str, str] = {
    "OMP_NUM_THREADS": "1",
    "OPENBLAS_NUM_THREADS": "1",
    "MKL_NUM_THREADS": "1",
    "VECLIB_MAXIMUM_THREADS": "1",
    "NUMEXPR_NUM_THREADS": "1",
}
MANIFEST_EVERY_S = 2.0


class SweepClusterError(RuntimeError):
    """The cluster could not be reached or created (bad address, missing dask-jobqueue)."""


class SchedulerLostError(RuntimeError):
    """The scheduler went away mid-sweep. The manifest is written (unfinished runs pending,
    complete files complete); rerunning the same command completes the rest."""


def _scheduler_lost(err: BaseException, client: Any) -> bool:
    """A task cancelled because the client lost its scheduler (not a failure of the run)."""
    return getattr(err, "reason", None) == "scheduler-connection-lost" or client.status != "running"


class Outcome(Protocol):
    """What a run function returns (``twin.runner.RunOutcome`` has these)."""

    status: str
    error: str
    metrics: dict[str, float]


RunFn = Callable[[Scenario, str, Path], Outcome]
BaselineFn = Callable[[Scenario, str, Path], Any]


# --- the functions executed in workers ---------------------------------------------------


def default_run(scenario: Scenario, configuration: str, out_dir: Path,
                mode: Literal["python", "cmd"] = "python") -> Outcome:
    """One real co-simulated run (reused if its complete file exists)."""
    from twin.runner import run_configuration

    return run_configuration(scenario, configuration, out_dir, mode=mode)


def default_baseline(scenario: Scenario, configuration: str, out_dir: Path,
                     mode: Literal["python", "cmd"] = "python") -> None:
    """The cached hazard-free run of this configuration and seed (twin.runner.baseline_for)."""
    from twin.runner import baseline_for, region_for

    region = region_for(scenario, configuration, out_dir)
    baseline_for(scenario, configuration, region, out_dir, mode)


def needs_baseline(scenario: Scenario) -> bool:
    return bool(scenario.hazards) and scenario.run.baseline


def baseline_id(scenario: Scenario, configuration: str) -> str:
    """The id ``twin.runner.baseline_for`` gives the hazard-free run."""
    return run_id(scenario.without_hazards(), configuration)


_WORKER_QUIET = False
# One run at a time per worker process, even on a worker with several threads: libsumo allows
# one SUMO per process, and a run is single-threaded anyway.
_RUN_LOCK = threading.Lock()


def _quiet_worker() -> None:
    """Workers are as quiet as the CLI (mosaik banner, pandapower warnings), once per process."""
    global _WORKER_QUIET
    if not _WORKER_QUIET:
        from twin.cli import quiet

        quiet(False)
        _WORKER_QUIET = True


def _error_text(err: BaseException) -> str:
    return f"{type(err).__name__}: {err}"


def baseline_task(baseline_fn: BaselineFn, scenario: Scenario, configuration: str, out_dir: str) -> dict[str, Any]:
    """Compute one baseline; an exception becomes a failed status (the runs needing it fail)."""
    _quiet_worker()
    try:
        with _RUN_LOCK:
            baseline_fn(scenario, configuration, Path(out_dir))
    except Exception as err:
        log.debug("baseline of %s failed", configuration, exc_info=True)
        return {"status": "failed", "error": _error_text(err)}
    return {"status": "complete", "error": ""}


def run_task(run_fn: RunFn, scenario: Scenario, configuration: str, out_dir: str,
             baseline: dict[str, Any] | None = None) -> dict[str, Any]:
    """Execute one run; anything it raises is returned as a failed status with the message."""
    _quiet_worker()
    start = time.perf_counter()
    where = {"host": socket.gethostname(), "pid": os.getpid()}
    if baseline is not None and baseline["status"] != "complete":
        return {"status": "failed", "error": f"baseline failed: {baseline['error']}", "metrics": {},
                "wall_s": 0.0, **where}
    try:
        with _RUN_LOCK:
            outcome = run_fn(scenario, configuration, Path(out_dir))
    except Exception as err:
        log.debug("run of %s failed", configuration, exc_info=True)
        return {"status": "failed", "error": _error_text(err), "metrics": {},
                "wall_s": time.perf_counter() - start, **where}
    status = outcome.status if outcome.status in FINISHED_STATUSES else "failed"
    error = outcome.error or ("" if status != "failed" else f"run ended with status {outcome.status}")
    return {"status": status, "error": error, "metrics": {k: float(v) for k, v in outcome.metrics.items()},
            "wall_s": time.perf_counter() - start, **where}


# --- clusters ----------------------------------------------------------------------------


@dataclass
class JobqueueOptions:
    """Dask workers submitted as batch jobs: each job runs ``cores`` one-thread workers."""

    jobs: int = 1
    cores: int = 1
    memory: str = "4GB"
    walltime: str = "01:00:00"
    queue: str | None = None
    account: str | None = None
    venv: str = field(default_factory=lambda: sys.prefix)
    directives: list[str] = field(default_factory=list)
    log_directory: str | None = None


def make_jobqueue_cluster(kind: Literal["slurm", "pbs"], options: JobqueueOptions,
                          scheduler_host: str | None = None) -> Any:
    """A dask-jobqueue cluster (not yet scaled). ``scheduler_host`` pins the scheduler's address."""
    try:
        import dask_jobqueue
    except ImportError:
        raise SweepClusterError(
            "--jobqueue needs dask-jobqueue, an optional extra: pip install 'twin[jobqueue]'") from None
    cls = {"slurm": dask_jobqueue.SLURMCluster, "pbs": dask_jobqueue.PBSCluster}[kind]
    venv = Path(options.venv)
    prologue = [f"source {venv / 'bin' / 'activate'}"]
    prologue += [f"export {k}={v}" for k, v in WORKER_ENV.items()]
    kwargs: dict[str, Any] = {
        "cores": options.cores,
        "processes": options.cores,  # one single-threaded worker per core
        "memory": options.memory,
        "walltime": options.walltime,
        "queue": options.queue,
        "account": options.account,
        "python": str(venv / "bin" / "python"),
        "job_script_prologue": prologue,
        "job_extra_directives": list(options.directives),
        "log_directory": options.log_directory,
        "dashboard_address": None,
        "job_name": "twin-worker",
    }
    if scheduler_host is not None:
        kwargs["scheduler_options"] = {"host": scheduler_host}
    return cls(**kwargs)


@contextmanager
def _workers_ignore_ctrl_c() -> Iterator[None]:
    """Start worker processes with SIGINT ignored (inherited): Ctrl-C reaches the whole process
    group, and only this process should handle it, by cancelling and closing the cluster."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)


@contextmanager
def connect(
    scheduler: str | None = None,
    jobqueue: Literal["slurm", "pbs"] | None = None,
    workers: int | None = None,
    jobqueue_options: JobqueueOptions | None = None,
    client: Any = None,
) -> Iterator[Any]:
    """A dask.distributed Client: ``client`` itself (left open), one to ``scheduler``, to a
    jobqueue cluster, or to a new local cluster.

    The local cluster has ``workers`` process workers (default: one per core), one thread
    each, with BLAS threads set to 1, and listens on 127.0.0.1 only.
    """
    from distributed import Client, LocalCluster

    if client is not None:
        yield client
        return
    cluster: Any = None
    try:
        if scheduler and jobqueue:
            raise SweepClusterError("give either --scheduler or --jobqueue, not both")
        if scheduler:
            try:
                client = Client(scheduler, timeout="20s")
            except (OSError, TimeoutError) as err:
                raise SweepClusterError(f"cannot connect to the Dask scheduler at {scheduler}: {err}") from None
        elif jobqueue:
            opts = jobqueue_options or JobqueueOptions()
            cluster = make_jobqueue_cluster(jobqueue, opts)
            cluster.scale(jobs=opts.jobs)
            client = Client(cluster)
        else:
            with _workers_ignore_ctrl_c():
                cluster = LocalCluster(
                    n_workers=workers or os.cpu_count() or 1, threads_per_worker=1, processes=True,
                    host="127.0.0.1", protocol="tcp", dashboard_address=None, env=dict(WORKER_ENV),
                    silence_logs=logging.ERROR,
                )
            client = Client(cluster)
        try:
            yield client
        finally:
            client.close()
    finally:
        if cluster is not None:
            cluster.close()


# --- progress ----------------------------------------------------------------------------


class Progress:
    """One labelled bar over the whole sweep on stderr (twin.progress: only on a terminal
    unless forced), counting finished runs and showing how many failed."""

    def __init__(self, total: int, enabled: bool | None = None) -> None:
        self.failed = 0
        self._bar = twin_progress.bar(total, "sweep", enabled=enabled, unit="run")
        self._bar.set_postfix_str("0 failed", refresh=False)

    def update(self, failed: bool) -> None:
        self.failed += int(failed)
        self._bar.set_postfix_str(f"{self.failed} failed", refresh=False)
        self._bar.update(1)

    def draw(self) -> None:
        self._bar.refresh()

    def close(self) -> None:
        self._bar.close()


# --- the sweep ---------------------------------------------------------------------------


@dataclass
class SweepResult:
    """What a sweep produced: the manifest rows, what ran this time, the paired statistics."""

    out_dir: Path
    rows: list[dict[str, Any]]
    executed: list[str]
    reused: list[str]
    baselines: list[str]
    paired: list[stats.PairedStat]

    @property
    def failed(self) -> list[dict[str, Any]]:
        return [r for r in self.rows if r["status"] == "failed"]

    @property
    def complete(self) -> list[dict[str, Any]]:
        return [r for r in self.rows if r["status"] in FINISHED_STATUSES]


def _row(run: SweepRun, status: str, error: str, metrics: dict[str, float], reused: bool,
         wall_s: float | None = None) -> dict[str, Any]:
    row = {"run_id": run.run_id, "configuration": run.configuration, "seed": run.seed, "point": run.point,
           "params": dict(run.params), "status": status, "error": error, "reused": reused,
           "wall_s": wall_s, "metrics": metrics}
    if run.ensemble is not None:  # ensemble and sensitivity runs: the draw's weight (docs/sweeps.md)
        row["ensemble"] = dict(run.ensemble)
    return row


def _resumed_commit(out: Path, now: str, runs_now: bool = True) -> str:
    """The manifest's commit when a sweep with finished runs is resumed: the code running
    now, and the code of the earlier runs where that differs, as the previous manifest
    records it ("not recorded" when it has none, is missing or is damaged: the earlier runs
    are not attributed to the code running now). With nothing left to run (``runs_now``
    False) the code running now ran nothing: the earlier record stands."""
    try:
        before = str(mf.read_manifest(out).get("commit") or "")
    except (OSError, ValueError):
        before = ""
    if not runs_now:
        return before or "not recorded (every run had finished earlier)"
    if before == now or before.startswith(f"{now};"):
        return before
    return f"{now}; runs finished earlier: {before or 'not recorded'}"


def _header(sweep: Sweep, runs: list[SweepRun]) -> dict[str, Any]:
    extra: dict[str, Any] = {}
    if sweep.spec.ensembles:
        extra["ensembles"] = ensemble_header(sweep.spec.ensembles)
    if sweep.spec.sensitivity:
        extra["sensitivity"] = sweep.spec.sensitivity.model_dump()
    from twin.results import code_commit, versions

    return {**extra,
        "name": sweep.name,
        "commit": code_commit() or f"twin {versions().get('twin', 'unknown')} (installed, not a git checkout)",
        "sweep_file": str(sweep.path),
        "base": str(sweep.base_path),
        "parameters": sweep.parameter_keys(),
        "configurations": list(dict.fromkeys(r.configuration for r in runs)),
        "seeds": sweep.seeds(),
        "overrides": sweep.overrides,
    }


def finish(out_dir: Path, header: dict[str, Any], rows: list[dict[str, Any]]) -> list[stats.PairedStat]:
    """Write the manifest and paired.csv; return the paired statistics."""
    mf.write_manifest(out_dir, header, rows)
    pairs = stats.paired(rows, header["configurations"])
    point_params = {r["point"]: r["params"] for r in rows}
    mf.write_atomic(out_dir / stats.PAIRED_CSV, stats.to_csv(pairs, point_params, stats.group_params(rows)))
    return pairs


def run_sweep(
    sweep: Sweep | str | Path,
    out_dir: str | Path,
    *,
    scheduler: str | None = None,
    jobqueue: Literal["slurm", "pbs"] | None = None,
    jobqueue_options: JobqueueOptions | None = None,
    workers: int | None = None,
    run_fn: RunFn | None = None,
    baseline_fn: BaselineFn | None = None,
    retries: int = 2,
    progress: bool | None = None,
    on_result: Callable[[dict[str, Any]], None] | None = None,
    overrides: list[str] | None = None,
    mode: Literal["python", "cmd"] = "python",
    client: Any = None,
) -> SweepResult:
    """Run every missing run of a sweep on Dask; write DIR/manifest.{json,csv} and DIR/paired.csv.

    ``run_fn(scenario, configuration, out_dir)`` executes one run in a worker and returns an
    object with ``status``, ``error`` and ``metrics`` (default: the real co-simulation). With
    the default, baselines are computed first by ``baseline_fn``; a custom ``run_fn`` gets
    baselines only if a ``baseline_fn`` is given too. ``on_result`` is called in this
    process with each finished row (a KeyboardInterrupt from it interrupts the sweep like
    Ctrl-C). ``client`` is an existing ``distributed.Client`` to use (left open); without it,
    ``scheduler`` or ``jobqueue``, a local cluster of ``workers`` processes is started and
    closed again. A scheduler lost mid-sweep raises ``SchedulerLostError`` once the manifest is
    written (runs not yet reported left pending).
    """
    if not isinstance(sweep, Sweep):
        sweep = load_sweep(sweep, overrides)
    out = Path(out_dir).resolve()  # workers may start elsewhere (PBS jobs start in $HOME)
    runs = expand(sweep)
    header = _header(sweep, runs)
    if run_fn is None:
        run_fn = functools.partial(default_run, mode=mode)
        baseline_fn = baseline_fn or functools.partial(default_baseline, mode=mode)

    rows: dict[str, dict[str, Any]] = {}
    pending: list[SweepRun] = []
    for run in runs:
        state = mf.file_state(results.final_path(out, run.run_id))
        if state.status in FINISHED_STATUSES:
            rows[run.run_id] = _row(run, state.status, "", state.metrics, reused=True, wall_s=state.wall_s)
        else:
            rows[run.run_id] = _row(run, "pending", "", {}, reused=False)
            pending.append(run)
    reused = [rid for rid, r in rows.items() if r["reused"]]
    if reused:
        header["commit"] = _resumed_commit(out, header["commit"], runs_now=bool(pending))
    log.info("sweep %s: %d runs, %d complete already, %d to run", sweep.name, len(runs), len(reused), len(pending))

    executed: list[str] = []
    baselines: dict[str, tuple[Scenario, str]] = {}
    if baseline_fn is not None:
        for run in pending:
            if needs_baseline(run.scenario):
                bid = baseline_id(run.scenario, run.configuration)
                if bid not in baselines and not results.is_finished(results.final_path(out / BASELINE_DIR, bid)):
                    baselines[bid] = (run.scenario, run.configuration)

    lost = ""  # why the scheduler was lost mid-sweep, if it was
    if pending:
        token = uuid.uuid4().hex[:8]
        bar = Progress(len(pending), progress)
        with connect(scheduler, jobqueue, workers, jobqueue_options, client) as client:
            # nothing is written into the folder before the scheduler is reached
            out.mkdir(parents=True, exist_ok=True)
            mf.write_manifest(out, header, list(rows.values()))
            bfutures = {
                bid: client.submit(baseline_task, baseline_fn, sc, cfg, str(out),
                                   key=f"twin-baseline-{bid}-{token}", retries=retries, pure=False)
                for bid, (sc, cfg) in baselines.items()
            }
            futures = {}
            for run in pending:
                bfut = bfutures.get(baseline_id(run.scenario, run.configuration)) if bfutures else None
                fut = client.submit(run_task, run_fn, run.scenario, run.configuration, str(out), bfut,
                                    key=f"twin-run-{run.run_id}-{token}", retries=retries, pure=False)
                futures[fut.key] = (fut, run)
            from distributed import as_completed

            last_write = time.monotonic()
            try:
                bar.draw()
                for fut in as_completed([f for f, _ in futures.values()]):
                    run = futures[fut.key][1]
                    try:
                        res = fut.result()
                    except (Exception, asyncio.CancelledError) as err:  # KilledWorker, lost scheduler
                        if _scheduler_lost(err, client):  # the run did not fail: it stays pending
                            lost = f"lost the Dask scheduler{' at ' + scheduler if scheduler else ''} mid-sweep"
                            break
                        res = {"status": "failed", "error": _error_text(err), "metrics": {}, "wall_s": None}
                        state = mf.file_state(results.final_path(out, run.run_id))
                        if state.status in FINISHED_STATUSES:  # the run finished; only its report got lost
                            res = {"status": state.status, "error": "", "metrics": state.metrics,
                                   "wall_s": state.wall_s}
                    row = _row(run, res["status"], res["error"], res["metrics"], False, res.get("wall_s"))
                    rows[run.run_id] = row
                    executed.append(run.run_id)
                    bar.update(row["status"] == "failed")
                    if row["status"] == "failed":
                        log.warning("run %s (%s, seed %d) failed: %s", run.run_id, run.configuration,
                                    run.seed, row["error"])
                    if time.monotonic() - last_write > MANIFEST_EVERY_S:
                        mf.write_manifest(out, header, list(rows.values()))
                        last_write = time.monotonic()
                    if on_result is not None:
                        on_result(row)
            except KeyboardInterrupt:
                client.cancel([f for f, _ in futures.values()] + list(bfutures.values()))
                mf.write_manifest(out, header, list(rows.values()))
                raise
            finally:
                bar.close()
    out.mkdir(parents=True, exist_ok=True)
    pairs = finish(out, header, list(rows.values()))  # rows are refreshed from the files
    if lost:
        doc = mf.read_manifest(out)
        raise SchedulerLostError(
            f"{lost}; {doc['counts']['complete']} of {len(runs)} runs complete in {out}; "
            "rerun the same command (against a running scheduler) to complete the rest")
    return SweepResult(out, list(rows.values()), executed, reused, list(baselines), pairs)
