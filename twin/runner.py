"""Run one configuration of a scenario end to end: region, baseline, world, metrics, file.

A run's file is written as ``<run_id>.<host>-<pid>.partial.h5`` and renamed to
``<run_id>.h5`` when it reached its horizon (status ``complete``, or ``degraded`` when some
solver did not solve a step or the baseline is degraded: :func:`twin.events.run_status`) or
when it failed (status ``failed`` and the error inside). A finished file with the same id
is reused unless ``force`` is set. One process at a time writes a run id: it holds
``<run_id>.lock`` (:mod:`twin.runlock`); a second one waits and then reuses the finished file.
"""

from __future__ import annotations

import atexit
import logging
import os
import socket
import sys
import time
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from twin import metrics as metrics_mod
from twin import results
from twin.atomic import is_disk_full
from twin.config import Scenario, run_id
from twin.events import run_status, solver_failure_counts
from twin.progress import STEP_REPORTERS, PhaseReporter, QueueReporter, RunProgress
from twin.recorder import ACTIVE
from twin.region.assets import RegionInfo
from twin.region.builder import build_region, region_key
from twin.runlock import DEFAULT_TIMEOUT_S, RunLock

log = logging.getLogger(__name__)

REGION_CACHE = ".regions"
BASELINE_DIR = "baselines"


class BaselineError(RuntimeError):
    """The hazard-free run failed; ``path`` is its (failed) results file."""

    def __init__(self, path: Path, message: str):
        super().__init__(message)
        self.path = path


@dataclass
class RunOutcome:
    """What one configuration's run produced."""

    configuration: str
    run_id: str
    path: Path
    status: str
    error: str = ""
    metrics: dict[str, float] = field(default_factory=dict)
    reused: bool = False
    timings: dict[str, float] = field(default_factory=dict)


def region_for(scenario: Scenario, configuration: str, out_dir: Path) -> RegionInfo:
    """The built region of a configuration: imported from ``[region.files]`` when the
    scenario names files (docs/regions.md), else generated; cached under ``.regions``."""
    if scenario.region.files is not None:
        from twin.region.importers import import_region

        return import_region(
            scenario.region.files, configuration, scenario.params_for(configuration),
            Path(out_dir) / REGION_CACHE, scenario.region.seed,
        )
    return build_region(
        scenario.region.size, scenario.region.seed, configuration,
        scenario.params_for(configuration), Path(out_dir) / REGION_CACHE, scenario.region.grid,
    )


def _execute(
    scenario: Scenario, configuration: str, region: RegionInfo, out_dir: Path, rid: str,
    hazards: bool, mode: Literal["python", "cmd"], verbose: bool,
    step_report: Callable[[float], None] | None = None,
) -> tuple[Path, str, float]:
    """Run the world into a partial file; return (partial path, error, wall seconds).
    ``step_report`` gets the simulated hours after every step (in-process simulators only)."""
    from twin.world import run_world  # mosaik and the simulators load only when running

    partial = own_partial(out_dir, rid)
    attrs = {
        "run_id": rid,
        "configuration": configuration,
        "seed": scenario.run.seed,
        "scenario_toml": (scenario if hazards else scenario.without_hazards()).to_toml(),
        "name": scenario.run.name,
        "step_s": scenario.run.step_s,
        "hours": scenario.run.hours,
        "hazard_free": not hazards or not scenario.hazards,
        "region_key": region.root.name,
    }
    results.start_file(partial, attrs, region)
    start = time.perf_counter()
    error = ""
    if step_report is not None:
        STEP_REPORTERS[str(partial)] = step_report
    try:
        run_world(scenario, region.root, partial, hazards=hazards, mode=mode, verbose=verbose)
    except KeyboardInterrupt:
        results.set_status(partial, "interrupted", "interrupted by the user")
        raise
    except Exception as err:  # the run cannot continue: a failed run, recorded as such
        if is_disk_full(err):
            raise  # the machine's fault, not the run's: no failed file, exit 1
        log.debug("run %s failed", rid, exc_info=True)
        error = f"{type(err).__name__}: {err}"
        recording = ACTIVE.pop(str(partial), None)
        if recording is not None and recording.time_s:
            recording.write(partial)
    finally:
        STEP_REPORTERS.pop(str(partial), None)
    return partial, error, time.perf_counter() - start


def own_partial(out_dir: Path, rid: str) -> Path:
    """This process's partial file of ``rid``: two writers never share one."""
    generic = results.partial_path(out_dir, rid)
    return generic.with_name(f"{rid}.{socket.gethostname()}-{os.getpid()}{results.PARTIAL_SUFFIX}")


def _drop_stale_partials(out_dir: Path, rid: str) -> None:
    """Partial files of ``rid`` left by interrupted writers (called holding the run's lock)."""
    for p in Path(out_dir).glob(f"{rid}.*{results.PARTIAL_SUFFIX}"):
        p.unlink(missing_ok=True)
    results.partial_path(out_dir, rid).unlink(missing_ok=True)


def _finish(partial: Path, final: Path, error: str, wall_s: float,
            baseline: results.Results | None, hazard_free: bool) -> results.Results:
    """Metrics, solver failures, status and the atomic rename. A hazard-free run is its own
    baseline; a run whose scenario disabled baselines is measured against a perfect one
    (None). The status is ``degraded`` when a solver failed a step of this run or the
    baseline is degraded, else ``complete``."""
    if error:
        results.set_status(partial, "failed", error, wall_time_s=wall_s)
        results.publish(partial, final)
        return results.load(final)
    run = results.load(partial)
    m, curves = metrics_mod.compute(run, run if hazard_free else baseline)
    status = run_status(run.events, None if hazard_free or baseline is None else baseline.status)
    results.write_outcome(partial, m, curves, solver_failure_counts(run.events), status, wall_time_s=wall_s)
    results.publish(partial, final)
    return results.load(final)


def baseline_for(
    scenario: Scenario, configuration: str, region: RegionInfo, out_dir: Path,
    mode: Literal["python", "cmd"] = "python", verbose: bool = False,
    lock_timeout_s: float = DEFAULT_TIMEOUT_S, step_report: Callable[[float], None] | None = None,
) -> results.Results:
    """The hazard-free run of this configuration and seed, computed once and cached."""
    quiet = scenario.without_hazards()
    rid = run_id(quiet, configuration)
    bdir = Path(out_dir) / BASELINE_DIR
    final = results.final_path(bdir, rid)
    if results.is_finished(final):
        return results.load(final)
    bdir.mkdir(parents=True, exist_ok=True)
    with RunLock(bdir, rid, lock_timeout_s):
        if results.is_finished(final):  # another process computed it while we waited
            return results.load(final)
        _drop_stale_partials(bdir, rid)
        partial, error, wall = _execute(quiet, configuration, region, bdir, rid, False, mode, verbose,
                                        step_report)
        res = _finish(partial, final, error, wall, None, hazard_free=True)
    if error:
        raise BaselineError(final, f"baseline of {configuration} failed: {error}")
    return res


def run_configuration(
    scenario: Scenario, configuration: str, out_dir: str | Path = "results", *,
    force: bool = False, mode: Literal["python", "cmd"] = "python", verbose: bool = False,
    lock_timeout_s: float = DEFAULT_TIMEOUT_S, progress: PhaseReporter | None = None,
    baseline_last: bool = False,
) -> RunOutcome:
    """Run (or reuse) one configuration and return its outcome. Holds the run id's lock
    while it computes; a process that had to wait for another reuses its complete file.
    ``progress`` hears each phase (region, baseline, run, done) and the simulated hours.
    ``baseline_last`` runs the world before fetching the baseline, which another worker is
    then computing meanwhile (:func:`run_scenario` with workers); the results are the same."""
    report: PhaseReporter = progress or (lambda configuration, phase, hours: None)
    outcome = _run_or_reuse(scenario, configuration, Path(out_dir), force, mode, verbose, lock_timeout_s, report,
                            baseline_last)
    report(configuration, "done" if outcome.status != "failed" else "failed", None)
    return outcome


def _run_or_reuse(scenario: Scenario, configuration: str, out_dir: Path, force: bool,
                  mode: Literal["python", "cmd"], verbose: bool, lock_timeout_s: float,
                  report: PhaseReporter, baseline_last: bool) -> RunOutcome:
    rid = run_id(scenario, configuration)
    final = results.final_path(out_dir, rid)
    if results.is_finished(final) and not force:
        res = results.load(final)
        return RunOutcome(configuration, rid, final, res.status, metrics=res.metrics, reused=True)
    out_dir.mkdir(parents=True, exist_ok=True)
    with RunLock(out_dir, rid, lock_timeout_s) as lock:
        if results.is_finished(final) and (not force or lock.contended):
            res = results.load(final)  # written by the process we waited for
            return RunOutcome(configuration, rid, final, res.status, metrics=res.metrics, reused=True)
        _drop_stale_partials(out_dir, rid)
        return _compute(scenario, configuration, out_dir, rid, final, mode, verbose, lock_timeout_s, report,
                        baseline_last)


def _compute(scenario: Scenario, configuration: str, out_dir: Path, rid: str, final: Path,
             mode: Literal["python", "cmd"], verbose: bool, lock_timeout_s: float,
             report: PhaseReporter, baseline_last: bool) -> RunOutcome:
    timings: dict[str, float] = {}
    report(configuration, "region", None)
    t0 = time.perf_counter()
    region = region_for(scenario, configuration, out_dir)
    timings["region_s"] = time.perf_counter() - t0
    from twin.region.disruption import check_disruption_files

    check_disruption_files(scenario, region.assets)  # a bad disruption file is bad input

    def fetch_baseline() -> results.Results:
        t0 = time.perf_counter()
        report(configuration, "baseline", None)
        res = baseline_for(scenario, configuration, region, out_dir, mode, verbose, lock_timeout_s,
                           lambda h: report(configuration, "baseline", h))
        report(configuration, "baseline", scenario.run.hours)  # done, whether computed or reused
        timings["baseline_s"] = time.perf_counter() - t0
        return res

    baseline = None
    wants_baseline = needs_baseline(scenario)
    if wants_baseline and not baseline_last:
        try:
            baseline = fetch_baseline()
        except BaselineError as err:
            return RunOutcome(configuration, rid, err.path, "failed", str(err), timings=timings)
    report(configuration, "run", None)
    partial, error, wall = _execute(scenario, configuration, region, out_dir, rid,
                                    True, mode, verbose, lambda h: report(configuration, "run", h))
    timings["run_s"] = wall
    if wants_baseline and baseline_last and not error:
        try:
            baseline = fetch_baseline()
        except BaselineError as err:  # as if the run had waited for it: no run file
            partial.unlink(missing_ok=True)
            return RunOutcome(configuration, rid, err.path, "failed", str(err), timings=timings)
    res = _finish(partial, final, error, wall, baseline, hazard_free=not scenario.hazards)
    return RunOutcome(configuration, rid, final, res.status, error, res.metrics, timings=timings)


def needs_baseline(scenario: Scenario) -> bool:
    """Whether each configuration's run is measured against a hazard-free baseline run."""
    return bool(scenario.hazards and scenario.run.baseline)


def parallel_tasks(scenario: Scenario) -> int:
    """How many tasks :func:`run_scenario` can run side by side: each configuration's run,
    and its baseline (:func:`needs_baseline`)."""
    n = len(scenario.run.configurations)
    return 2 * n if needs_baseline(scenario) else n


def default_workers(n_tasks: int) -> int:
    """One worker process per task (:func:`parallel_tasks`), up to the cores this process may use."""
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        cores = os.cpu_count() or 1
    return max(1, min(cores, n_tasks))


def _init_worker() -> None:
    """Each worker process's set-up: the workers share the cores, no BLAS threads on top;
    and a quick exit when the pool shuts it down (:func:`_exit_without_teardown`)."""
    for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ.setdefault(var, "1")
    atexit.register(_exit_without_teardown)


def _exit_without_teardown() -> None:
    """A worker's last act, once the pool has shut it down: flush the logs and the standard
    streams (Python's and C's, where SUMO writes; already flushed on the way here, flushed
    again in case a handler wrote) and leave. Python's own teardown would free
    every object the worker's worlds left in its modules one by one (~0.5 s a world, 1 s of
    the default ``twin run`` that the pool's shutdown waited for); everything a run writes
    is closed by then (results files, SUMO, EPANET's and SUMO's temporary folders)."""
    import ctypes

    logging.shutdown()
    for stream in (sys.stdout, sys.stderr):
        if stream is not None:
            stream.flush()
    ctypes.CDLL(None).fflush(None)
    os._exit(0)


def worker_pool(workers: int) -> ProcessPoolExecutor:
    """``workers`` spawned processes (each has its own SUMO and mosaik) for the regions'
    builds (:func:`twin.validation.check_scenario`) and then the runs (:func:`run_scenario`):
    the builds run side by side instead of one after the other in this process, and the
    runs find the workers started, their imports done."""
    import multiprocessing

    return ProcessPoolExecutor(max_workers=workers, mp_context=multiprocessing.get_context("spawn"),
                               initializer=_init_worker)


def region_in_worker(args: tuple) -> RegionInfo:  # type: ignore[type-arg]
    """:func:`region_for` in a worker process (top level, so it pickles)."""
    scenario, configuration, out_dir = args
    return region_for(scenario, configuration, out_dir)


def _run_in_worker(args: tuple) -> RunOutcome:  # type: ignore[type-arg]
    """One configuration's run in a worker process (top level, so it pickles); its baseline
    is fetched after the world, a :func:`_baseline_in_worker` computing it meanwhile."""
    scenario, configuration, out_dir, force, mode, lock_timeout_s, progress = args
    return run_configuration(scenario, configuration, out_dir, force=force, mode=mode,
                             lock_timeout_s=lock_timeout_s, progress=progress, baseline_last=True)


def _baseline_in_worker(args: tuple) -> None:  # type: ignore[type-arg]
    """One configuration's baseline in a worker process, beside its run; nothing when the
    run is finished and will be reused (it needs no baseline then). A failed baseline is
    left to the run, which finds it unfinished, computes it again and reports it."""
    scenario, configuration, out_dir, force, mode, lock_timeout_s, progress = args
    if not force and results.is_finished(results.final_path(Path(out_dir), run_id(scenario, configuration))):
        return
    region = region_for(scenario, configuration, out_dir)
    report = (lambda h: progress(configuration, "baseline", h)) if progress is not None else None
    try:
        baseline_for(scenario, configuration, region, Path(out_dir), mode, False, lock_timeout_s, report)
    except BaselineError:
        log.debug("baseline of %s failed in its worker; the run reports it", configuration)


def run_scenario(
    scenario: Scenario, out_dir: str | Path = "results", *, force: bool = False,
    mode: Literal["python", "cmd"] = "python", verbose: bool = False, workers: int = 1,
    lock_timeout_s: float = DEFAULT_TIMEOUT_S, show_progress: bool | None = None,
    pool: ProcessPoolExecutor | None = None,
) -> list[RunOutcome]:
    """Every configuration the scenario lists, each with its own baseline.

    ``show_progress`` draws one labelled bar per configuration (twin.progress; ``None``:
    only on a terminal, never with ``verbose``, whose simulator logs would tear it).

    ``workers > 1`` runs every configuration's baseline and then every run (each run
    fetches its baseline after its own world) in that many worker processes (``spawn``:
    each has its own SUMO and mosaik). Every configuration has
    its own region and baseline (and each run id its lock: a baseline is computed once), so
    the results equal the serial order's; outcomes come back in the scenario's order. ``pool`` (:func:`worker_pool`, kept open by the caller) runs
    them in its workers instead of ``workers`` new ones.
    """
    configurations = list(scenario.run.configurations)
    workers = max(1, min(int(workers), parallel_tasks(scenario)))
    bars = RunProgress(configurations, scenario.run.hours, needs_baseline(scenario),
                       enabled=False if verbose else show_progress)
    try:
        if workers == 1 and pool is None:
            report = bars.report if bars.enabled else None
            return [
                run_configuration(scenario, c, out_dir, force=force, mode=mode, verbose=verbose,
                                  lock_timeout_s=lock_timeout_s, progress=report)
                for c in configurations
            ]
        return _run_parallel(scenario, configurations, Path(out_dir), force, mode, lock_timeout_s, workers, bars,
                             pool)
    finally:
        bars.close()


def _run_parallel(scenario: Scenario, configurations: list[str], out_dir: Path, force: bool,
                  mode: Literal["python", "cmd"], lock_timeout_s: float, workers: int,
                  bars: RunProgress, pool: ProcessPoolExecutor | None) -> list[RunOutcome]:
    """The configurations in ``workers`` spawned processes (or ``pool``'s); their progress
    reaches ``bars`` through a queue read by a thread of this process."""
    import multiprocessing

    manager = multiprocessing.get_context("spawn").Manager() if bars.enabled else None
    queue = manager.Queue() if manager is not None else None
    relay = bars.relay(queue) if queue is not None else None
    progress = QueueReporter(queue) if queue is not None else None
    baselines = needs_baseline(scenario)

    def submit(executor: ProcessPoolExecutor) -> list[RunOutcome]:
        # the baselines first, then the runs (each fetches its baseline after its own world):
        # no run waits at the end for a baseline that started after it
        args = [(scenario, c, out_dir, force, mode, lock_timeout_s, progress) for c in configurations]
        side = [executor.submit(_baseline_in_worker, a) for a in args] if baselines else []
        runs = [executor.submit(_run_in_worker, a) for a in args]
        outcomes = [f.result() for f in runs]
        for f in side:
            f.result()  # an error other than a failed baseline (a full disk, say) is raised here
        return outcomes

    try:
        if pool is not None:
            return submit(pool)
        with worker_pool(workers) as own:
            return submit(own)
    finally:
        if queue is not None and relay is not None and manager is not None:
            queue.put(None)
            relay.join(timeout=5)
            manager.shutdown()


def summary_table(outcomes: list[RunOutcome]) -> str:
    """Side-by-side table of the headline metrics, one column per configuration."""
    from twin.report.tables import metrics_table

    return metrics_table([(o.configuration, o.metrics) for o in outcomes],
                         status=[o.status for o in outcomes])


__all__ = ["RunOutcome", "run_configuration", "run_scenario", "summary_table", "region_key"]
