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

from twin.config import ScenarioError, load_scenario
from twin.region.disruption import DisruptionFileError
from twin.region.importers import RegionImportError

CORE_COMMANDS: tuple[str, ...] = ("run", "validate")  # defined here, need no plug-in
EXIT_OK, EXIT_RUN_FAILED, EXIT_BAD_INPUT, EXIT_INTERRUPTED = 0, 1, 2, 130


class InputError(Exception):
    """Bad input other than a scenario (a missing results file, a bad argument): exit code 2."""


# Subcommands that live with their feature: each module has ``register(subparsers)``, which
# adds its parser(s) with ``set_defaults(func=...)``; a func returns the exit code.
PLUGGED_COMMANDS: tuple[str, ...] = (
    "twin.region.cli", "twin.report.cli", "twin.sweep.cli", "twin.screening.cli",
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
    outcomes = run_scenario(
        scenario, args.out, force=args.force, mode=args.mode, verbose=args.verbose
    )
    print(summary_table(outcomes))
    for o in outcomes:
        note = " (reused; --force to recompute)" if o.reused else ""
        print(f"{o.configuration}: {o.path}{note}")
        if o.error:
            print(f"{o.configuration}: FAILED: {o.error}", file=sys.stderr)
    return EXIT_OK if all(o.status == "complete" for o in outcomes) else EXIT_RUN_FAILED


def build_parser(plugins: bool = True) -> argparse.ArgumentParser:
    """The whole command line; ``plugins=False`` leaves out the plugged subcommands (their
    imports cost ~1 s, which ``twin run`` and ``twin validate`` do not need)."""
    p = argparse.ArgumentParser(prog="twin", description="Digital twin of a region's coupled infrastructure.")
    sub = p.add_subparsers(dest="command", required=True)

    v = sub.add_parser("validate", help="check a scenario or sweep file; list every problem")
    v.add_argument("scenario", type=Path)
    v.add_argument("--set", action="append", default=[], metavar="KEY=VALUE")
    v.set_defaults(func=_cmd_validate)

    r = sub.add_parser("run", help="co-simulate every configuration of a scenario")
    r.add_argument("scenario", type=Path)
    r.add_argument("--out", type=Path, default=Path("results"), help="results folder (default: results)")
    r.add_argument("--seed", type=int, help="override run.seed")
    r.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                   help="override a scenario value, e.g. --set run.hours=6")
    r.add_argument("--force", action="store_true", help="recompute runs whose complete results exist")
    r.add_argument("--mode", choices=["python", "cmd"], default="python",
                   help="simulators in-process (default) or as separate processes")
    r.add_argument("--verbose", action="store_true", help="show simulator logs and progress")
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
