"""``twin screen SCENARIO``: topological cascade screening of every configuration."""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from twin.config import load_scenario


def _cmd_screen(args: argparse.Namespace) -> int:
    from twin.runner import region_for
    from twin.screening.region import screen_region
    from twin.screening.results import write_screening

    scenario = load_scenario(args.scenario, args.set)
    seed = scenario.run.seed if args.seed is None else args.seed
    rows = []
    for configuration in scenario.run.configurations:
        region = region_for(scenario, configuration, args.out)
        t0 = time.perf_counter()
        result = screen_region(region.root, args.realisations, seed,
                               attack_fraction=args.attack_fraction, couplings=args.couplings)
        elapsed = time.perf_counter() - t0
        path = write_screening(result, args.out / f"screen-{result.run_id}.h5")
        rows.append((configuration, result, elapsed, path))
    rows.sort(key=lambda r: r[1].mean_cascade_size)
    if args.json:
        from twin.cli import print_json

        print_json({"seed": seed, "realisations": args.realisations, "configurations": [
            {"configuration": c, "mean_cascade_size": r.mean_cascade_size, "seconds": t, "path": p,
             "top_assets": [{"asset": a, "mean_cascade_size": v} for a, v in r.ranked_assets(args.top)]}
            for c, r, t, p in rows]})
        return 0
    print(f"{'configuration':<16}{'mean cascade':>14}{'seconds':>10}  file")
    for configuration, result, elapsed, path in rows:
        print(f"{configuration:<16}{result.mean_cascade_size:>14.4f}{elapsed:>10.2f}  {path}")
    for configuration, result, _elapsed, _path in rows:
        print(f"\n{configuration}: assets whose loss cascades furthest "
              "(worth a full co-simulation as an outage scenario)")
        for asset, size in result.ranked_assets(args.top):
            print(f"  {size:8.4f}  {asset}")
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("screen", help="fast topological cascade screening of a scenario's region")
    p.add_argument("scenario", type=Path, help="scenario file (TOML) whose region is screened")
    p.add_argument("--out", type=Path, default=Path("results"),
                   help="results folder: region cache and screen-<id>.h5 files (default: results)")
    p.add_argument("--realisations", type=int, default=1000,
                   help="random attack realisations per configuration (default 1000)")
    p.add_argument("--attack-fraction", type=float, default=0.02,
                   help="share of assets removed at random in each realisation")
    p.add_argument("--couplings", default="supply", choices=["supply", "all"],
                   help="dependencies treated as hard (see docs/screening.md)")
    p.add_argument("--seed", type=int, help="seed of the realisations (default: the scenario's run.seed)")
    p.add_argument("--top", type=int, default=10, help="assets listed per configuration (default 10)")
    p.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                   help="override a scenario value, e.g. --set region.size=small (repeatable)")
    p.add_argument("--json", action="store_true",
                   help="print the results as one JSON document on stdout for scripts")
    p.set_defaults(func=_cmd_screen)
