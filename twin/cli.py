"""The ``twin`` command: a thin layer over the library (twin.run, twin.load, ...).

Exit codes (twin.events): 0 success (degraded runs warn), 1 the environment got in the way
(permissions, a full disk, a file where a folder belongs), 2 bad input (scenario, file,
plug-in), 3 a run degraded under ``--strict``, 4 a run failed, 130 interrupted (143
terminated). Errors are one line naming the path or key and what to do; ``--verbose``
adds the traceback.
"""

from __future__ import annotations

import argparse
import contextlib
import errno
import json
import logging
import math
import os
import signal
import sys
import traceback
import warnings
from importlib import import_module
from pathlib import Path
from typing import Any

import twin
from twin.events import (
    EXIT_DEGRADED,
    EXIT_ENVIRONMENT,
    EXIT_FAILED,
    EXIT_INPUT,
    EXIT_INTERRUPTED,
    EXIT_OK,
    FINISHED_STATUSES,
    SOLVER_FAILURES,
)
from twin.runlock import DEFAULT_TIMEOUT_S, RunLockTimeout

# twin.config and the importers load inside main(), so that Ctrl-C during start-up is a
# message too (and `twin --help` is quick).

CORE_COMMANDS: tuple[str, ...] = ("run", "validate")  # defined here, need no plug-in


class InputError(Exception):
    """Bad input other than a scenario (a missing results file, a bad argument): exit code 2."""


# Subcommands that live with their feature: each module has ``register(subparsers)``, which
# adds its parser(s) with ``set_defaults(func=...)``; a func returns the exit code.
PLUGGED_COMMANDS: tuple[str, ...] = (
    "twin.region.cli", "twin.report.cli", "twin.sweep.cli", "twin.screening.cli", "twin.scaffold",
)


def quiet(verbose: bool) -> None:
    """Hide mosaik's banner and INFO logs and pandapower's numba warning unless --verbose."""
    level = logging.INFO if verbose else logging.WARNING
    logging.basicConfig(level=level, format="%(levelname)s %(name)s: %(message)s")
    for name in ("pandapower", "wntr", "mosaik", "mosaik_api_v3", "numba", "distributed"):
        logging.getLogger(name).setLevel(level if verbose else logging.ERROR)
    # "Task was destroyed but it is pending!" after an error or Ctrl-C is noise, not news
    logging.getLogger("asyncio").setLevel(level if verbose else logging.CRITICAL)
    if not verbose:
        warnings.filterwarnings("ignore")
        try:
            from loguru import logger

            logger.remove()
        except ImportError:
            pass


def _is_sweep_file(path: Path) -> bool:
    """A sweep file names its base scenario; a scenario file does not."""
    from twin.config import ScenarioError, read_toml

    try:
        return "base" in read_toml(path)
    except ScenarioError:
        return False  # load_scenario reports the problem with the file's name


def _cmd_validate(args: argparse.Namespace) -> int:
    from twin.config import load_scenario
    from twin.validation import check_scenario

    if _is_sweep_file(args.scenario):
        from twin.sweep import expand, load_sweep

        runs = expand(load_sweep(args.scenario, args.set))
        seen: set[str] = set()
        regions: dict = {}
        plugin_checks: dict = {}
        for run in runs:  # plug-ins and ids once per distinct scenario (seeds do not matter)
            # each run against its own configuration's region: an ensemble's cyber target
            # "controller:<district>" names a site that exists in that configuration only
            only = run.scenario.model_copy(update={"run": run.scenario.run.model_copy(
                update={"configurations": [run.configuration]})})
            key = only.model_copy(update={"run": only.run.model_copy(update={"seed": 0})})
            if (text := key.model_dump_json()) not in seen:
                seen.add(text)
                check_scenario(only, str(args.scenario), args.out, regions, plugin_checks=plugin_checks)
        print(f"{args.scenario}: ok (a sweep of {len(runs)} runs)")
    else:
        scenario = load_scenario(args.scenario, args.set, args.allow_outside)
        check_scenario(scenario, str(args.scenario), args.out)
        print(f"{args.scenario}: ok")
    return EXIT_OK


def _cmd_run(args: argparse.Namespace) -> int:
    from twin.runner import run_scenario, summary_table

    overrides = list(args.set)
    if args.seed is not None:
        overrides.append(f"run.seed={args.seed}")
    from twin.config import load_scenario
    from twin.runner import default_workers, parallel_tasks, worker_pool
    from twin.validation import check_scenario

    scenario = load_scenario(args.scenario, overrides, args.allow_outside)

    tasks = parallel_tasks(scenario)  # no more workers than runs and baselines to give them
    workers = 1 if args.verbose else min(args.workers, tasks) if args.workers else default_workers(tasks)
    # with workers, one pool builds the regions side by side for the check, then runs them
    with worker_pool(workers) if workers > 1 else contextlib.nullcontext() as pool:
        check_scenario(scenario, str(args.scenario), args.out, pool=pool)  # every input problem before any run
        outcomes = run_scenario(
            scenario, args.out, force=args.force, mode=args.mode, verbose=args.verbose,
            workers=workers, lock_timeout_s=args.lock_timeout, pool=pool,
        )
    code = run_exit_code([o.status for o in outcomes], strict=args.strict)
    if args.json:
        print_json({"exit_code": code, "runs": [outcome_json(o) for o in outcomes]})
    else:
        print(summary_table(outcomes))
    for o in outcomes:
        note = " (reused; --force to recompute)" if o.reused else ""
        if not args.json:
            print(f"{o.configuration}: {o.path}{note}")
        if o.error:
            print(f"{o.configuration}: FAILED: {o.error}", file=sys.stderr)
        for warning in run_warnings(o):
            print(f"{o.configuration}: WARNING: {warning}", file=sys.stderr)
    return code


def json_value(value: Any) -> Any:
    """``value`` with nan/inf floats as null (JSON has no such numbers; a metric that is
    not meaningful is null, its ``*_applicable`` flag says why) and paths as strings."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {str(k): json_value(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [json_value(v) for v in value]
    if isinstance(value, Path):
        return str(value)
    if hasattr(value, "item"):  # numpy scalars
        return json_value(value.item())
    return value


def print_json(document: dict[str, Any]) -> None:
    """One JSON document on stdout (``--json``), for scripts."""
    print(json.dumps(json_value(document), indent=2, sort_keys=False, allow_nan=False))


def outcome_json(o: Any) -> dict[str, Any]:
    """A run's outcome for ``twin run --json``."""
    return {"configuration": o.configuration, "run_id": o.run_id, "path": o.path, "status": o.status,
            "error": o.error, "reused": o.reused, "warnings": run_warnings(o), "metrics": o.metrics}


def run_warnings(outcome: Any) -> list[str]:
    """Why a finished run's numbers need care: a degraded run (steps some solver did not
    solve, or a degraded baseline) and impacts below the negative tolerance (docs/metrics.md)."""
    out = []
    m = outcome.metrics
    if outcome.status == "degraded":
        steps = {k.removeprefix("solver_failure_steps_"): int(v) for k, v in m.items()
                 if k.startswith("solver_failure_steps_") and v}
        first = failure_detail(outcome.path) if steps else {}
        why = ", ".join(f"{s} did not solve {n} step{'s' if n != 1 else ''}{first.get(s, '')}"
                        for s, n in steps.items())
        out.append(f"run degraded ({why or 'its baseline is degraded'}); its metrics are flagged")
    if m.get("negative_impacts", 0) > 0:
        out.append(f"{int(m['negative_impacts'])} impact metric(s) negative beyond the tolerance")
    return out


def failure_detail(path: str | Path | None) -> dict[str, str]:
    """{solver: " [<n> <kind>, ...; first on <asset> at <hh:mm>, value <v>]"} of a
    results file's solver-failure events (``SOLVER_FAILURES``), the first of each solver:
    what a degraded run's warning names so that the reason is visible without opening the
    file. Empty when the file cannot be read (the warning then says only how many steps)."""
    if path is None or not Path(path).is_file():
        return {}
    try:
        events = twin.load(path).events
    except Exception:  # noqa: BLE001 - a detail of a warning never fails the command
        return {}
    first: dict[str, dict] = {}
    counts: dict[str, dict[str, int]] = {}
    for e in events:
        kind = e["kind"]
        if kind not in SOLVER_FAILURES:
            continue
        solver = SOLVER_FAILURES[kind] or e["sector"]
        first.setdefault(solver, e)
        by_kind = counts.setdefault(solver, {})
        by_kind[kind] = by_kind.get(kind, 0) + 1
    out = {}
    for solver, e in first.items():
        t = int(e["time_s"])
        kinds = ", ".join(f"{n} {k}" for k, n in sorted(counts[solver].items()))
        out[solver] = (f" [{kinds}; first on {e['asset_id']} at {t // 3600:02d}:{t % 3600 // 60:02d},"
                       f" value {float(e['value']):.6g}]")
    return out


def run_exit_code(statuses: list[str], strict: bool = False) -> int:
    """4 if a run failed, 3 if one degraded under ``--strict``, else 0 (docs/architecture.md)."""
    if any(s not in FINISHED_STATUSES for s in statuses):
        return EXIT_FAILED
    if strict and any(s == "degraded" for s in statuses):
        return EXIT_DEGRADED
    return EXIT_OK


def build_parser(plugins: bool = True) -> argparse.ArgumentParser:
    """The whole command line; ``plugins=False`` leaves out the plugged subcommands (their
    imports cost ~1 s, which ``twin run`` and ``twin validate`` do not need)."""
    p = argparse.ArgumentParser(prog="twin", description="Digital twin of a region's coupled infrastructure.")
    p.add_argument("--version", action="version", version=f"%(prog)s {twin.__version__}")
    sub = p.add_subparsers(dest="command", required=True)

    v = sub.add_parser("validate", help="check a scenario or sweep file; list every problem")
    v.add_argument("scenario", type=Path, help="scenario or sweep file (TOML)")
    v.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                   help="override a scenario value before checking, e.g. --set run.hours=12 (repeatable)")
    v.add_argument("--out", type=Path, default=Path("results"),
                   help="results folder whose region cache is used (default: results)")
    v.add_argument("--allow-outside", action="store_true",
                   help="hazards starting after the horizon are a warning, not an error")
    v.add_argument("--verbose", action="store_true", help="show tracebacks")
    v.set_defaults(func=_cmd_validate)

    r = sub.add_parser("run", help="co-simulate every configuration of a scenario")
    r.add_argument("scenario", type=Path, help="scenario file (TOML)")
    r.add_argument("--out", type=Path, default=Path("results"), help="results folder (default: results)")
    r.add_argument("--seed", type=int, help="override run.seed")
    r.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                   help="override a scenario value, e.g. --set run.hours=6")
    r.add_argument("--force", action="store_true", help="recompute runs whose complete results exist")
    r.add_argument("--mode", choices=["python", "cmd"], default="python",
                   help="simulators in-process (default) or as separate processes")
    r.add_argument("--allow-outside", action="store_true",
                   help="hazards starting after the horizon are a warning, not an error")
    r.add_argument("--lock-timeout", type=float, default=DEFAULT_TIMEOUT_S, metavar="S",
                   help="seconds to wait for another process writing the same run (default 6 h)")
    r.add_argument("--verbose", action="store_true", help="show simulator logs and progress (runs serially)")
    r.add_argument("--workers", type=int, default=0, metavar="N",
                   help="region builds, runs and their baselines in N worker processes (default: one per run "
                        "and baseline, up to the cores; 1: all in this process)")
    r.add_argument("--strict", action="store_true",
                   help="exit with code 3 if a run is degraded (a solver did not solve a step)")
    r.add_argument("--json", action="store_true",
                   help="print the outcome as one JSON document on stdout (status, paths, metrics) for scripts")
    r.set_defaults(func=_cmd_run)

    for module in PLUGGED_COMMANDS if plugins else ():
        import_module(module).register(sub)
    return p


def _command(argv: list[str]) -> str:
    """The subcommand named on the command line ('' when there is none yet)."""
    return next((a for a in argv if not a.startswith("-")), "")


_ADVICE = {
    errno.EACCES: "check its permissions or choose another folder (--out)",
    errno.EPERM: "check its permissions or choose another folder (--out)",
    errno.EROFS: "the filesystem is read-only: choose another folder (--out)",
    errno.ENOSPC: "the disk is full: free space or choose another folder (--out)",
    errno.EDQUOT: "the disk quota is exceeded: free space or choose another folder (--out)",
    errno.ENOTDIR: "a file is where a folder is expected: remove it or choose another folder (--out)",
    errno.EEXIST: "a file is where a folder is expected: remove it or choose another folder (--out)",
    errno.EISDIR: "a folder is where a file is expected: give a file",
    errno.ENOENT: "check the path",
}


def environment_message(err: OSError) -> str:
    """One line: the path, what went wrong and what to do."""
    where = f"{err.filename}: " if err.filename is not None else ""
    advice = _ADVICE.get(err.errno or 0, "")
    return f"twin: {where}{err.strerror or err}" + (f"; {advice}" if advice else "")


class Terminated(KeyboardInterrupt):
    """SIGTERM, raised like Ctrl-C so that runs record ``interrupted`` and release their locks."""


_SIGNALLED: list[int] = []  # SIGTERM seen (an exception raised in a destructor can be lost)


def _on_sigterm(signum: int, frame: object) -> None:
    _SIGNALLED.append(signum)
    raise Terminated()


def _unraisable(hook: sys.UnraisableHookArgs) -> None:
    """A signal's exception that landed in a destructor or weakref callback, where Python
    can only print and drop it: remember it (main() stops after the command) and print
    nothing; any other unraisable exception goes to Python's default hook."""
    if isinstance(hook.exc_value, KeyboardInterrupt):
        _SIGNALLED.append(signal.SIGTERM if isinstance(hook.exc_value, Terminated) else signal.SIGINT)
        return
    sys.__unraisablehook__(hook)


def _handled_interrupt() -> None:
    """Forget that a KeyboardInterrupt passed through embedded code (libsumo, mosaik's loop):
    CPython remembers that in a flag and would kill the process with SIGINT at exit even
    though twin handled the interrupt. Running any code through PyRun_SimpleString resets it."""
    try:
        import ctypes

        ctypes.pythonapi.PyRun_SimpleString(b"pass")
    except (ImportError, AttributeError, OSError):
        pass


def _broken_pipe() -> int:
    """The reader of stdout went away (``| head``): stop quietly."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):
        pass
    return EXIT_OK


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    try:
        return _main(argv)
    except KeyboardInterrupt:  # during start-up: nothing written yet
        _handled_interrupt()
        print("interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED


def _main(argv: list[str]) -> int:
    from twin.config import ScenarioError
    from twin.region.importers.common import InputFileError

    args = build_parser(plugins=_command(argv) not in CORE_COMMANDS).parse_args(argv)
    verbose = getattr(args, "verbose", False)
    quiet(verbose)
    if signal.getsignal(signal.SIGTERM) is signal.SIG_DFL:
        signal.signal(signal.SIGTERM, _on_sigterm)
    if sys.unraisablehook is sys.__unraisablehook__:
        sys.unraisablehook = _unraisable

    def explain(message: str, code: int) -> int:
        if verbose:
            traceback.print_exc()
        print(message, file=sys.stderr)
        return code

    try:
        code = args.func(args)
        sys.stdout.flush()  # a closed pipe (`| head`) shows here, not at interpreter exit
        if _SIGNALLED:  # the signal's exception was swallowed on its way: still stop as asked
            raise Terminated() if signal.SIGTERM in _SIGNALLED else KeyboardInterrupt()
        return code
    except ScenarioError as err:
        return explain(err.report(), EXIT_INPUT)
    except (InputError, InputFileError) as err:  # region files, disruption files
        return explain(f"twin: {err}", EXIT_INPUT)
    except UnicodeDecodeError as err:
        return explain(f"twin: not UTF-8 text ({err}); save the file as UTF-8", EXIT_INPUT)
    except RunLockTimeout as err:
        return explain(f"twin: {err}", EXIT_ENVIRONMENT)
    except BrokenPipeError:
        return _broken_pipe()
    except OSError as err:
        return explain(environment_message(err), EXIT_ENVIRONMENT)
    except Terminated:
        _handled_interrupt()
        print("terminated: unfinished runs are left as *.partial.h5; rerun to complete them", file=sys.stderr)
        return 128 + signal.SIGTERM
    except KeyboardInterrupt:
        _handled_interrupt()
        print("interrupted: unfinished runs are left as *.partial.h5; rerun to complete them", file=sys.stderr)
        return EXIT_INTERRUPTED


if __name__ == "__main__":
    sys.exit(main())
