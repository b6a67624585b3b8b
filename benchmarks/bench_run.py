"""Wall time of whole runs, split into startup, each simulator's own time and the rest.

Usage: python benchmarks/bench_run.py [--size small|default|large] [--hours H] [--scenario FILE]

"Own time" of a simulator is the time spent inside its adapter's ``step`` and ``get_data``
(its physics plus its thin adapter). "mosaik + coupling + recording" is the world's wall
time minus all of that, the co-simulation overhead. Startup is process start to the first
step: imports, region build or cache hit, world assembly. Each measurement runs in a fresh
process so that imports count.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _child(args: argparse.Namespace) -> None:
    """Runs in a fresh interpreter: one hazard-free run of one configuration, timed."""
    t_start = float(os.environ["TWIN_BENCH_T0"])
    from importlib import import_module

    from twin.config import load_scenario
    from twin.world import SIMULATORS

    own: dict[str, float] = {}
    first_step: list[float] = []

    def timed(cls: type, name: str) -> None:
        for method in ("step", "get_data"):
            orig = getattr(cls, method)

            def wrapper(self, *a, _orig=orig, **kw):  # type: ignore[no-untyped-def]
                if not first_step:
                    first_step.append(time.perf_counter())
                t = time.perf_counter()
                try:
                    return _orig(self, *a, **kw)
                finally:
                    own[name] = own.get(name, 0.0) + time.perf_counter() - t

            setattr(cls, method, wrapper)

    for name, (module, cls, _m, _e) in SIMULATORS.items():
        timed(getattr(import_module(module), cls), name)

    from twin.runner import region_for
    from twin.world import run_world

    overrides = [f"run.hours={args.hours}", f'region.size="{args.size}"',
                 f'run.configurations=["{args.configuration}"]']
    scenario = load_scenario(args.scenario, overrides)
    region = region_for(scenario, args.configuration, Path(args.cache))
    out = Path(tempfile.mkdtemp()) / "bench.h5"
    from twin import results

    results.start_file(out, {"step_s": scenario.run.step_s}, region)
    t_world = time.perf_counter()
    run_world(scenario, region.root, out, hazards=True)
    t_end = time.perf_counter()
    world_s = t_end - first_step[0]
    steps = round(scenario.run.horizon_s / scenario.run.step_s)
    print(json.dumps({
        "startup_s": first_step[0] - t_start,  # perf_counter is system-wide monotonic on Linux
        "assembly_s": first_step[0] - t_world,
        "world_s": world_s,
        "own_s": own,
        "steps": steps,
        "peak_rss_mb": _peak_rss_mb(),
    }))


def _peak_rss_mb() -> float:
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def measure(size: str, hours: float, configuration: str, scenario: Path, cache: Path) -> dict:
    env = dict(os.environ, TWIN_BENCH_T0="0")
    cmd = [sys.executable, __file__, "--child", "--size", size, "--hours", str(hours),
           "--configuration", configuration, "--scenario", str(scenario), "--cache", str(cache)]
    t0 = time.perf_counter()
    env["TWIN_BENCH_T0"] = repr(t0)
    out = subprocess.run(cmd, env=env, capture_output=True, text=True, check=True)
    data = json.loads(out.stdout.strip().splitlines()[-1])
    data["total_s"] = time.perf_counter() - t0
    return data


def report(label: str, d: dict) -> list[str]:
    own = d["own_s"]
    sims = sum(v for k, v in own.items() if k != "Recorder")
    rest = d["world_s"] - sims
    run_s = d["world_s"]
    lines = [f"### {label}", "",
             "| part | seconds | share of run (excl. startup) |", "|---|---|---|",
             f"| startup (process start to first step) | {d['startup_s']:.2f} | |"]
    for k in sorted(own, key=lambda k: -own[k]):
        if k == "Recorder":
            continue
        lines.append(f"| {k} own time | {own[k]:.2f} | {100 * own[k] / run_s:.1f} % |")
    lines.append(f"| mosaik + coupling + recording | {rest:.2f} | {100 * rest / run_s:.1f} % |")
    lines.append(f"| **total wall** | {d['total_s']:.2f} | |")
    lines.append("")
    lines.append(f"Overhead per exchange step: {1000 * rest / d['steps']:.2f} ms over {d['steps']} steps; "
                 f"peak RSS {d['peak_rss_mb']:.0f} MB.")
    lines.append("")
    return lines


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    p.add_argument("--size", default="default")
    p.add_argument("--hours", type=float, default=24.0)
    p.add_argument("--configuration", default="centralised")
    p.add_argument("--scenario", type=Path, default=ROOT / "cosim_configs" / "default.toml")
    p.add_argument("--cache", type=Path, default=Path(tempfile.gettempdir()) / "twin-bench-cache")
    p.add_argument("--no-default", action="store_true", help="skip timing the whole default scenario")
    args = p.parse_args()
    if args.child:
        _child(args)
        return
    cold = measure(args.size, args.hours, args.configuration, args.scenario,
                   Path(tempfile.mkdtemp()))
    warm = measure(args.size, args.hours, args.configuration, args.scenario, args.cache)
    warm = measure(args.size, args.hours, args.configuration, args.scenario, args.cache)
    lines = [f"### One run: {args.size} region, {args.hours:g} h, {args.configuration}, storm on", ""]
    lines += report("cold region cache", cold)
    lines += report("warm region cache", warm)
    if not args.no_default:
        lines += default_scenario(args.scenario)
    print("\n".join(lines))


def default_scenario(scenario: Path) -> list[str]:
    """The README's main command end to end, cold: regions, baselines and runs of every
    configuration the scenario lists."""
    out = Path(tempfile.mkdtemp())
    t0 = time.perf_counter()
    subprocess.run([sys.executable, "-m", "twin.cli", "run", str(scenario), "--out", str(out)],
                   check=True, capture_output=True, text=True)
    took = time.perf_counter() - t0
    return [f"### `twin run {scenario.relative_to(ROOT)}` from a cold cache: {took:.1f} s wall", ""]


if __name__ == "__main__":
    main()
