"""``twin region show`` and ``twin region build``: look at and export a scenario's region."""

from __future__ import annotations

import argparse
import shutil
from pathlib import Path

from twin.config import load_scenario
from twin.filecache import SUFFIX as READ_CACHE_SUFFIX


def _regions(args: argparse.Namespace):  # type: ignore[no-untyped-def]
    from twin.runner import region_for

    scenario = load_scenario(args.scenario, args.set)
    configs = [args.configuration] if args.configuration else scenario.run.configurations
    return [(c, region_for(scenario, c, args.cache)) for c in configs]


def map_paths(scenario: Path, configurations: list[str], out: str | Path | None, results_dir: Path) -> list[Path]:
    """Where ``region show`` draws each configuration's map: ``out`` as given for one
    configuration (a folder, existing or written with a trailing slash, gets
    ``<scenario>-<configuration>.png`` inside); for several, ``-<configuration>`` is added to
    the file name; without ``--out``, ``<results>/maps/<scenario>-<configuration>.png``."""
    if out is None or Path(out).is_dir() or str(out).endswith(("/", "\\")):
        folder = Path(out) if out is not None else results_dir / "maps"
        return [folder / f"{scenario.stem}-{c}.png" for c in configurations]
    out = Path(out)
    if len(configurations) == 1:
        return [out]
    return [out.with_name(f"{out.stem}-{c}{out.suffix or '.png'}") for c in configurations]


def _cmd_show(args: argparse.Namespace) -> int:
    from twin.region.plot import draw_region

    regions = _regions(args)
    paths = map_paths(args.scenario, [c for c, _ in regions], args.out, args.cache)
    for (configuration, region), out in zip(regions, paths, strict=True):
        out.parent.mkdir(parents=True, exist_ok=True)
        draw_region(region, out, f"{args.scenario.name}: {configuration}")
        print(out)
    return 0


def _cmd_build(args: argparse.Namespace) -> int:
    for configuration, region in _regions(args):
        target = (Path(args.out) if args.out is not None else args.cache / "region") / configuration
        if target.exists():
            shutil.rmtree(target)
        # the nets' read caches (twin.models.power.netfile) are not part of the region
        shutil.copytree(region.root, target, ignore=shutil.ignore_patterns(f"*{READ_CACHE_SUFFIX}"))
        print(f"{configuration}: {target} (power.json pandapower, water.inp EPANET, "
              "roads.net.xml SUMO, ict.json networkx, region.json assets and dependencies)")
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    region = sub.add_parser("region", help="show or export the region of a scenario")
    rsub = region.add_subparsers(dest="region_command", required=True)
    for name, func, helptext, out_help in (
        ("show", _cmd_show, "draw the four networks, districts, facilities and dependencies",
         "PNG file, or a folder for <scenario>-<configuration>.png (default: RESULTS/maps/)"),
        ("build", _cmd_build, "write each network in its native format",
         "folder that gets one subfolder per configuration (default: RESULTS/region)"),
    ):
        p = rsub.add_parser(name, help=helptext)
        p.add_argument("scenario", type=Path, help="scenario file (TOML) whose region is built")
        p.add_argument("--out", default=None, help=out_help)  # a str: a trailing "/" means a folder
        p.add_argument("--configuration", help="only this configuration (default: the scenario's)")
        p.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                       help="override a scenario value, e.g. --set region.size=small (repeatable)")
        p.add_argument("--cache", type=Path, default=Path("results"), metavar="RESULTS",
                       help="results folder: its .regions/ caches built regions (default: results)")
        p.set_defaults(func=func)
