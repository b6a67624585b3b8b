"""``twin sweep SWEEP [--out DIR] [--dry-run] ...`` and ``twin sweep status DIR``.

Plugged into ``twin`` through ``twin.cli.PLUGGED_COMMANDS``; heavy imports (Dask, scipy)
happen only when a sweep command runs.
"""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path
from typing import Any

from twin.cli import InputError
from twin.events import EXIT_ENVIRONMENT, EXIT_FAILED, EXIT_OK

SLURM_PBS = ("slurm", "pbs")


def default_out(sweep_path: Path) -> Path:
    return Path("results") / sweep_path.stem


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("target", nargs="+", metavar="SWEEP",
                   help="a sweep file, or `status DIR` to summarise a sweep folder")
    p.add_argument("--out", type=Path, help="sweep folder (default: results/<sweep file name>)")
    p.add_argument("--dry-run", action="store_true", help="list the runs and whether they are done; run nothing")
    p.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                   help="fixed override for every run, e.g. --set run.hours=6")
    p.add_argument("--workers", type=int, help="local cluster: number of worker processes (default: cores)")
    p.add_argument("--scheduler", metavar="tcp://HOST:PORT", help="use an existing Dask cluster")
    p.add_argument("--jobqueue", choices=SLURM_PBS, help="submit Dask workers as batch jobs (dask-jobqueue)")
    j = p.add_argument_group("batch jobs (with --jobqueue)")
    j.add_argument("--jobs", type=int, default=1, help="number of batch jobs (default 1)")
    j.add_argument("--cores", type=int, default=1, help="cores per job = one-thread workers per job (default 1)")
    j.add_argument("--memory", default="4GB", help="memory per job (default 4GB)")
    j.add_argument("--walltime", default="01:00:00", help="wall time per job (default 01:00:00)")
    j.add_argument("--queue", help="partition (Slurm) or queue (PBS)")
    j.add_argument("--account", help="account / project to charge")
    j.add_argument("--venv", default=sys.prefix, help="virtual environment the jobs activate (default: this one)")
    j.add_argument("--job-directive", action="append", default=[], metavar="DIRECTIVE",
                   help="extra #SBATCH/#PBS directive, e.g. --job-directive=--constraint=cpu")
    p.add_argument("--retries", type=int, default=2, help="extra attempts for a run lost with its worker")
    p.add_argument("--mode", choices=["python", "cmd"], default="python", help="simulators in-process or not")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    p.add_argument("--verbose", action="store_true", help="log every failure and the cluster's messages")
    p.add_argument("--json", action="store_true",
                   help="with `status DIR`: print the summary and every run's row as one JSON document")


def jobqueue_options(args: argparse.Namespace, out: Path) -> Any:
    from twin.sweep.execute import JobqueueOptions

    return JobqueueOptions(
        jobs=args.jobs, cores=args.cores, memory=args.memory, walltime=args.walltime, queue=args.queue,
        account=args.account, venv=args.venv, directives=list(args.job_directive),
        log_directory=str((out / "jobqueue-logs").resolve()),
    )


def _status(folder: Path, as_json: bool = False) -> int:
    from twin.sweep.manifest import summary, summary_json
    from twin.sweep.stats import PAIRED_CSV

    try:
        if as_json:
            from twin.cli import print_json

            doc = summary_json(folder)
            doc["paired_csv"] = str(folder / PAIRED_CSV) if (folder / PAIRED_CSV).is_file() else None
            print_json(doc)
            return EXIT_OK
        text = summary(folder)
    except FileNotFoundError as err:
        raise InputError(str(err)) from None
    print(text)
    if (folder / PAIRED_CSV).is_file():
        print(f"paired statistics: {folder / PAIRED_CSV}")
    return EXIT_OK


def _dry_run(sweep: Any, out: Path) -> int:
    from twin import results
    from twin.sweep.spec import expand

    runs = expand(sweep)
    keys = sweep.parameter_keys()
    done = [results.is_finished(results.final_path(out, r.run_id)) for r in runs]
    points = len({r.point for r in runs})
    print(f"{sweep.name}: {len(runs)} runs = {points} parameter points x {len(sweep.seeds())} seeds x "
          f"{len({r.configuration for r in runs})} configurations; {sum(done)} complete in {out}")
    ens = ["family", "draw", "stratum", "intensity"] if any(r.ensemble for r in runs) else []
    header = ["run_id", "configuration", "seed", *ens, *keys, "done"]
    table = [[r.run_id, r.configuration, str(r.seed),
              *(f"{(r.ensemble or {}).get(k, '')}" if k != "intensity" or not r.ensemble
                else f"{r.ensemble['intensity']:.4g} {r.ensemble['intensity_unit']}" for k in ens),
              *(f"{r.params.get(k)!r}" for k in keys),
              "yes" if d else "-"] for r, d in zip(runs, done, strict=True)]
    widths = [max(len(h), *(len(row[i]) for row in table)) for i, h in enumerate(header)]
    print("  ".join(h.ljust(w) for h, w in zip(header, widths, strict=True)).rstrip())
    for row in table:
        print("  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip())
    return EXIT_OK


def _check_plugins(sweep: Any, path: Path) -> None:
    """Every distinct plug-in setting of the sweep loads, before a cluster starts (region ids
    need the region, which `twin validate SWEEP` builds; the sweep writes nothing before its
    scheduler answers)."""
    from twin.config import ScenarioError
    from twin.sweep.spec import expand
    from twin.validation import plugin_problems

    seen: set[str] = set()
    problems: list[str] = []
    for run in expand(sweep):
        s = run.scenario
        key = repr((s.power.policy, s.power.policy_params, s.power.shed_order,
                    s.restoration.dispatch, s.restoration.dispatch_params))
        if key not in seen:
            seen.add(key)
            problems += [p for p in plugin_problems(s) if p not in problems]
    if problems:
        raise ScenarioError(str(path), problems)


def cmd_sweep(args: argparse.Namespace) -> int:
    if args.target[0] == "status" and len(args.target) == 2 and not Path("status").is_file():
        return _status(Path(args.target[1]), args.json)
    if len(args.target) != 1:
        raise InputError("usage: twin sweep SWEEP [options] | twin sweep status DIR")
    from twin.sweep.spec import load_sweep

    path = Path(args.target[0])
    sweep = load_sweep(path, args.set)
    out = args.out or default_out(path)
    if args.dry_run:
        return _dry_run(sweep, out)
    _check_plugins(sweep, path)

    import distributed  # noqa: F401  (its import resets its loggers: quiet them again)

    from twin.cli import quiet
    from twin.sweep import stats
    from twin.sweep.execute import SchedulerLostError, SweepClusterError, run_sweep
    from twin.sweep.manifest import MANIFEST_CSV, summary

    quiet(args.verbose)
    if not args.verbose:  # a lost scheduler is reported in one line, not by the client's reconnect logs
        for name in ("distributed", "distributed.client"):  # dask's config sets the client's own level
            logging.getLogger(name).setLevel(logging.CRITICAL)

    try:
        result = run_sweep(
            sweep, out, scheduler=args.scheduler, jobqueue=args.jobqueue,
            jobqueue_options=jobqueue_options(args, out) if args.jobqueue else None,
            workers=args.workers, retries=args.retries, mode=args.mode,
            progress=False if args.no_progress else None,
        )
    except SweepClusterError as err:
        raise InputError(str(err)) from None
    except SchedulerLostError as err:
        print(f"twin: {err}", file=sys.stderr)
        return EXIT_ENVIRONMENT
    print(f"{len(result.executed)} runs executed, {len(result.reused)} reused")
    print(summary(out))
    print(stats.table(result.paired))
    print(f"manifest: {out / MANIFEST_CSV}; paired statistics: {out / stats.PAIRED_CSV}")
    return EXIT_OK if not result.failed else EXIT_FAILED


def register(subparsers: Any) -> None:
    """Add ``twin sweep`` to the ``twin`` command."""
    p = subparsers.add_parser(
        "sweep", help="run a sweep file on Dask (resumable); `twin sweep status DIR` summarises one",
        description="Run every run of a sweep file on Dask: a local cluster by default, "
                    "--scheduler for an existing one, --jobqueue for Slurm/PBS. "
                    "`twin sweep status DIR` summarises a sweep folder.",
    )
    add_arguments(p)
    p.set_defaults(func=cmd_sweep)
