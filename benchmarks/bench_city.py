"""The `city` region (issue 21): time to build each configuration, and the time of one
coupled exchange step (all simulators under mosaik, the shipped cosim_configs/city.toml).

Usage: python benchmarks/bench_city.py [--hours H]

Build: ``build_region`` of each configuration into an empty region cache, in this process
(the SimBench grids come from the disk cache after the first build on a machine; the line
says whether it was warm). Step: ``bench_run.measure`` runs ``H`` hours (the storm moved into them) of the
``centralised`` configuration in a fresh process on the region just built (warm region
cache) and splits its wall time into simulators' own time; the step time is the world's
wall time over its steps.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SCENARIO = ROOT / "cosim_configs" / "city.toml"


def build_times(cache: Path) -> list[tuple[str, float, int, int, int]]:
    """(configuration, build s, power buses, water junctions, road edges) per configuration."""
    import pandapower as pp
    import sumolib
    import wntr

    from twin.region.builder import build_region
    from twin.region.params import CONFIGURATIONS, params_for
    from twin.runner import REGION_CACHE

    rows = []
    for conf in CONFIGURATIONS:
        t0 = time.perf_counter()
        region = build_region("city", 1, conf, params_for(conf), cache / REGION_CACHE)
        dt = time.perf_counter() - t0
        rows.append((conf, dt, len(pp.from_json(str(region.path("power"))).bus),
                     len(wntr.network.WaterNetworkModel(str(region.path("water"))).junction_name_list),
                     len(sumolib.net.readNet(str(region.path("traffic"))).getEdges())))
    return rows


def step_time(cache: Path, hours: float) -> dict:
    """One coupled run of ``hours`` of the city's centralised configuration (bench_run),
    with the scenario's storm moved into the first ``hours`` (validation refuses a hazard
    outside the horizon)."""
    import re

    sys.path.insert(0, str(ROOT / "benchmarks"))
    from bench_run import measure

    text = SCENARIO.read_text()
    text = re.sub(r"(?m)^start_h = .*$", f"start_h = {0.25 * hours}", text)
    text = re.sub(r"(?m)^end_h = .*$", f"end_h = {0.75 * hours}", text)
    scenario = cache / "city-bench.toml"
    scenario.write_text(text)
    return measure("city", hours, "centralised", scenario, cache)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--hours", type=float, default=1.0)
    args = p.parse_args()
    from twin.models.power.simbench import cache_dir

    warm = any(cache_dir().glob("simbench-*/*.json"))
    cache = Path(tempfile.mkdtemp(prefix="twin-bench-city-"))
    try:
        rows = build_times(cache)
        run = step_time(cache, args.hours)
    finally:
        shutil.rmtree(cache, ignore_errors=True)
    out = [f"city region build (SimBench disk cache {'warm' if warm else 'cold'}), seed 1", "",
           "| configuration | build s | power buses | water junctions | road edges |", "|---|---|---|---|---|"]
    out += [f"| {c} | {dt:.1f} | {b} | {j} | {e} |" for c, dt, b, j, e in rows]
    steps = max(1, int(run["steps"]))
    own = {k: v / steps * 1000 for k, v in run["own_s"].items()}
    out += ["", f"coupled run: {args.hours:g} h of `centralised` ({steps} steps of 300 s), "
            f"startup {run['startup_s']:.1f} s (warm region cache), world {run['world_s']:.1f} s",
            f"one step: {run['world_s'] / steps * 1000:.0f} ms wall, of which (ms per step) "
            + ", ".join(f"{k} {v:.0f}" for k, v in sorted(own.items(), key=lambda kv: -kv[1])),
            f"peak memory {run['peak_rss_mb']:.0f} MB"]
    print("\n".join(out))


if __name__ == "__main__":
    main()
