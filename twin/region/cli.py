"""``twin region show`` and ``twin region build``: look at and export a scenario's region."""

from __future__ import annotations

import argparse
import shutil
from pathlib import Path

from twin.config import load_scenario


def _regions(args: argparse.Namespace):  # type: ignore[no-untyped-def]
    from twin.runner import region_for

    scenario = load_scenario(args.scenario, args.set)
    configs = [args.configuration] if args.configuration else scenario.run.configurations
    return [(c, region_for(scenario, c, args.cache)) for c in configs]


def _cmd_show(args: argparse.Namespace) -> int:
    from twin.region.plot import draw_region

    regions = _regions(args)
    for configuration, region in regions:
        out = args.out
        if len(regions) > 1:
            out = out.with_name(f"{out.stem}-{configuration}{out.suffix or '.png'}")
        draw_region(region, out, f"{args.scenario.name}: {configuration}")
        print(out)
    return 0


def _cmd_build(args: argparse.Namespace) -> int:
    for configuration, region in _regions(args):
        target = args.out / configuration
        if target.exists():
            shutil.rmtree(target)
        shutil.copytree(region.root, target)
        print(f"{configuration}: {target} (power.json pandapower, water.inp EPANET, "
              "roads.net.xml SUMO, ict.json networkx, region.json assets and dependencies)")
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    region = sub.add_parser("region", help="show or export the region of a scenario")
    rsub = region.add_subparsers(dest="region_command", required=True)
    for name, func, helptext, default_out in (
        ("show", _cmd_show, "draw the four networks, districts, facilities and dependencies",
         Path("map.png")),
        ("build", _cmd_build, "write each network in its native format", Path("region")),
    ):
        p = rsub.add_parser(name, help=helptext)
        p.add_argument("scenario", type=Path)
        p.add_argument("--out", type=Path, default=default_out)
        p.add_argument("--configuration", help="only this configuration (default: the scenario's)")
        p.add_argument("--set", action="append", default=[], metavar="KEY=VALUE")
        p.add_argument("--cache", type=Path, default=Path("results"),
                       help="folder whose .regions/ caches built regions (default: results)")
        p.set_defaults(func=func)
