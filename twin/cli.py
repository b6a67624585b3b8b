"""The ``twin`` command: a thin layer over the library (twin.run, twin.load, ...).

Exit codes: 0 success, 1 a run failed, 2 bad input (scenario, file), 130 interrupted.
"""

from __future__ import annotations

import argparse
import logging
import sys
import warnings
from importlib import import_module
from pathlib import Path
from typing import Any

import twin
from twin.config import ScenarioError, load_scenario
from twin.events import EXIT_DEGRADED, EXIT_FAILED, FINISHED_STATUSES
from twin.region.disruption import DisruptionFileError
from twin.region.importers import RegionImportError

CORE_COMMANDS: tuple[str, ...] = ("run", "validate")  # defined here, need no plug-in
EXIT_OK, EXIT_RUN_FAILED, EXIT_BAD_INPUT, EXIT_INTERRUPTED = 0, 1, 2, 130


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
    for name in ("pandapower", "wntr", "mosaik", "mosaik_api_v3", "numba", "distributed", "asyncio"):
        logging.getLogger(name).setLevel(level if verbose else logging.ERROR)
    if not verbose:
        warnings.filterwarnings("ignore")
        try:
            from loguru import logger

            logger.remove()
        except ImportError:
            pass


def _is_sweep_file(path: Path) -> bool:
    """A sweep file names its base scenario; a scenario file does not."""
    import tomllib

    try:
        return "base" in tomllib.loads(path.read_text())
    except (OSError, tomllib.TOMLDecodeError):
        return False  # load_scenario reports the problem with the file's name


def _cmd_validate(args: argparse.Namespace) -> int:
    if _is_sweep_file(args.scenario):
        from twin.sweep import expand, load_sweep

        runs = expand(load_sweep(args.scenario, args.set))
        print(f"{args.scenario}: ok (a sweep of {len(runs)} runs)")
    else:
        load_scenario(args.scenario, args.set)
        print(f"{args.scenario}: ok")
    return EXIT_OK


def _cmd_run(args: argparse.Namespace) -> int:
    from twin.runner import run_scenario, summary_table

    overrides = list(args.set)
    if args.seed is not None:
        overrides.append(f"run.seed={args.seed}")
    scenario = load_scenario(args.scenario, overrides)
    from twin.runner import default_workers

    workers = args.workers if args.workers else default_workers(len(scenario.run.configurations))
    outcomes = run_scenario(
        scenario, args.out, force=args.force, mode=args.mode, verbose=args.verbose,
        workers=1 if args.verbose else workers,
    )
    print(summary_table(outcomes))
    for o in outcomes:
        note = " (reused; --force to recompute)" if o.reused else ""
        print(f"{o.configuration}: {o.path}{note}")
        if o.error:
            print(f"{o.configuration}: FAILED: {o.error}", file=sys.stderr)
        for warning in run_warnings(o):
            print(f"{o.configuration}: WARNING: {warning}", file=sys.stderr)
    return run_exit_code([o.status for o in outcomes], strict=args.strict)


def run_warnings(outcome: Any) -> list[str]:
    """Why a finished run's numbers need care: a degraded run (steps some solver did not
    solve, or a degraded baseline) and impacts below the negative tolerance (docs/metrics.md)."""
    out = []
    m = outcome.metrics
    if outcome.status == "degraded":
        steps = {k.removeprefix("solver_failure_steps_"): int(v) for k, v in m.items()
                 if k.startswith("solver_failure_steps_") and v}
        why = ", ".join(f"{s} did not solve {n} step{'s' if n != 1 else ''}" for s, n in steps.items())
        out.append(f"run degraded ({why or 'its baseline is degraded'}); its metrics are flagged")
    if m.get("negative_impacts", 0) > 0:
        out.append(f"{int(m['negative_impacts'])} impact metric(s) negative beyond the tolerance")
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
                   help="override a scenario value before checking, e.g. --set run.hours=6 (repeatable)")
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
    r.add_argument("--verbose", action="store_true", help="show simulator logs and progress (runs serially)")
    r.add_argument("--workers", type=int, default=0, metavar="N",
                   help="configurations run in N worker processes (default: one per configuration, up to the cores)")
    r.add_argument("--strict", action="store_true",
                   help="exit with code 3 if a run is degraded (a solver did not solve a step)")
    r.set_defaults(func=_cmd_run)

    for module in PLUGGED_COMMANDS if plugins else ():
        import_module(module).register(sub)
    return p


def _command(argv: list[str]) -> str:
    """The subcommand named on the command line ('' when there is none yet)."""
    return next((a for a in argv if not a.startswith("-")), "")


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    args = build_parser(plugins=_command(argv) not in CORE_COMMANDS).parse_args(argv)
    quiet(getattr(args, "verbose", False))
    try:
        return args.func(args)
    except ScenarioError as err:
        print(err.report(), file=sys.stderr)
        return EXIT_BAD_INPUT
    except InputError as err:
        print(f"twin: {err}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except (RegionImportError, DisruptionFileError) as err:
        print(f"twin: {err}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except KeyboardInterrupt:
        print("interrupted: unfinished runs are left as *.partial.h5", file=sys.stderr)
        return EXIT_INTERRUPTED


if __name__ == "__main__":
    sys.exit(main())
