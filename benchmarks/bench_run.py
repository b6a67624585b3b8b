"""Wall time of a simulated day on each region size, split into startup, each simulator's own
time and the co-simulation overhead; overhead per exchange step; days per core-hour; peak
memory; and the whole default scenario.

Usage: python benchmarks/bench_run.py [--sizes small,default,large] [--hours H] [--scenario FILE]

The fixed demand is the default scenario's (cosim_configs/default.toml): the configuration
``centralised``, the morning storm on, run.seed 42, region seed 1, SUMO mesoscopic at
``demand_scale = 0.1`` of the region's daily trips, the built-in daily household profile
and seeded clouds, the water demand patterns of the built network. Only ``region.size``
changes; the demand each size actually got (vehicles, MW, m³/s) is printed with it.

"Own time" of a simulator is the time spent inside its adapter's ``step`` and ``get_data``
(its physics plus its thin adapter). The co-simulation overhead is the world's wall time
minus the simulators' own time: mosaik's scheduling and data passing, the recorder's
``step`` and the writing of the results file (both also shown on their own). Startup is
process start to the first step: interpreter, imports, region build (cold cache) or cache
hit (warm), world assembly. Each measurement runs in a fresh process so that imports count.
Days per core-hour: simulated days per hour of one core, from the whole run (startup
included), by wall time and by the process's CPU time (the machine may be shared).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SECTORS = ("Power", "Water", "Traffic", "ICT", "Control", "Incidents")
OVERHEAD_MAX_SHARE = 0.10
OVERHEAD_MAX_MS = 2.0
STARTUP_COLD_MAX_S = 5.0
STARTUP_WARM_MAX_S = 3.0
PEAK_MAX_MB = 1024.0
DEFAULT_SCENARIO_MAX_S = 120.0


def _child(args: argparse.Namespace) -> None:
    """Runs in a fresh interpreter: one run of one configuration, timed."""
    t_start = float(os.environ["TWIN_BENCH_T0"])
    from importlib import import_module

    import twin.cli  # noqa: F401  (what `twin run` imports before it starts)
    from twin.config import load_scenario
    from twin.world import SIMULATORS

    own: dict[str, float] = {}
    own_cpu: dict[str, float] = {}
    first_step: list[float] = []
    first_cpu: list[float] = []

    def timed(cls: type, name: str) -> None:
        # finalize closes SUMO / EPANET: the simulator's own work; the recorder's is the file
        for method in ("step", "get_data", "finalize"):
            orig = getattr(cls, method)
            key = "write" if (name == "Recorder" and method == "finalize") else name

            def wrapper(self, *a, _orig=orig, _key=key, **kw):  # type: ignore[no-untyped-def]
                if not first_step:
                    first_step.append(time.perf_counter())
                    first_cpu.append(time.process_time())
                t, c = time.perf_counter(), time.process_time()
                try:
                    return _orig(self, *a, **kw)
                finally:
                    own[_key] = own.get(_key, 0.0) + time.perf_counter() - t
                    own_cpu[_key] = own_cpu.get(_key, 0.0) + time.process_time() - c

            setattr(cls, method, wrapper)

    for name, (module, cls, _m, _e) in SIMULATORS.items():
        timed(getattr(import_module(module), cls), name)

    from twin import results
    from twin.runner import region_for
    from twin.world import run_world

    overrides = [f"run.hours={args.hours}", f'region.size="{args.size}"',
                 f'run.configurations=["{args.configuration}"]']
    scenario = load_scenario(args.scenario, overrides)
    region = region_for(scenario, args.configuration, Path(args.cache))
    out = Path(tempfile.mkdtemp()) / "bench.h5"
    results.start_file(out, {"step_s": scenario.run.step_s}, region)
    t_world = time.perf_counter()
    run_world(scenario, region.root, out, hazards=True)
    t_end = time.perf_counter()
    world_cpu = time.process_time() - first_cpu[0]
    cpu = _cpu_s()
    print(json.dumps({
        "startup_s": first_step[0] - t_start,  # perf_counter is system-wide monotonic on Linux
        "assembly_s": first_step[0] - t_world,
        "world_s": t_end - first_step[0],
        "own_s": own,
        "own_cpu_s": own_cpu,
        "world_cpu_s": world_cpu,
        "steps": round(scenario.run.horizon_s / scenario.run.step_s),
        "hours": scenario.run.hours,
        "peak_rss_mb": _peak_rss_mb(),
        "cpu_s": cpu,
        "t_end": t_end,
        "demand": _demand(out),
        "assets": {s: sum(1 for a in region.assets if a["sector"] == s)
                   for s in ("power", "water", "traffic", "ict")},
    }))
    shutil.rmtree(out.parent, ignore_errors=True)


def _demand(path: Path) -> dict[str, float]:
    """What the run simulated: vehicles, mean power demand, mean water demand."""
    import h5py
    import numpy as np

    out: dict[str, float] = {}
    with h5py.File(path, "r") as f:
        for key, name, how in (("vehicles", "series/traffic/arrived", "sum"),
                               ("power_demand_mw", "series/power/demand_mw", "mean"),
                               ("water_required_m3s", "series/water/required_m3s", "mean")):
            if name in f:
                arr = np.asarray(f[name][()], dtype=float)
                out[key] = float(arr.sum() if how == "sum" else arr.mean())
    return out


def _cpu_s() -> float:
    import resource

    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def _peak_rss_mb() -> float:
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def measure(size: str, hours: float, configuration: str, scenario: Path, cache: Path) -> dict:
    env = dict(os.environ, TWIN_BENCH_T0="0")
    cmd = [sys.executable, __file__, "--child", "--size", size, "--hours", str(hours),
           "--configuration", configuration, "--scenario", str(scenario), "--cache", str(cache)]
    t0 = time.perf_counter()
    env["TWIN_BENCH_T0"] = repr(t0)
    out = subprocess.run(cmd, env=env, capture_output=True, text=True)
    if out.returncode:
        raise RuntimeError(f"benchmark run ({size}) failed:\n{out.stderr[-3000:]}")
    data = json.loads(out.stdout.strip().splitlines()[-1])
    data["total_s"] = time.perf_counter() - t0
    data["size"] = size
    return data


def split(d: dict) -> dict[str, float]:
    """Derived figures of one measurement."""
    own = d["own_s"]
    sims = sum(own.get(k, 0.0) for k in SECTORS)
    rest = d["world_s"] - sims
    rest_cpu = d["world_cpu_s"] - sum(d["own_cpu_s"].get(k, 0.0) for k in SECTORS)
    days = d["hours"] / 24.0
    return {
        "overhead_cpu_s": rest_cpu,
        "overhead_cpu_share": rest_cpu / d["world_cpu_s"],
        "overhead_cpu_ms": 1000 * rest_cpu / d["steps"],
        "sims_s": sims,
        "overhead_s": rest,
        "overhead_share": rest / d["world_s"],
        "overhead_ms": 1000 * rest / d["steps"],
        "recorder_s": own.get("Recorder", 0.0),
        "write_s": own.get("write", 0.0),
        "mosaik_s": rest - own.get("Recorder", 0.0) - own.get("write", 0.0),
        "days_per_core_h_wall": days * 3600 / d["total_s"],
        "days_per_core_h_cpu": days * 3600 / d["cpu_s"],
    }


def size_table(cold: dict, warm: dict) -> list[str]:
    """One region size: the split of a simulated day, cold and warm region cache."""
    c, w = split(cold), split(warm)
    a = warm["assets"]
    dm = warm["demand"]
    lines = [
        f"### `{warm['size']}` region ({a['power']} power, {a['water']} water, {a['traffic']} traffic, "
        f"{a['ict']} ICT assets)", "",
        f"Demand simulated: {dm.get('vehicles', 0):.0f} vehicles arrived, "
        f"{dm.get('power_demand_mw', 0):.2f} MW mean power demand, "
        f"{1000 * dm.get('water_required_m3s', 0):.1f} L/s mean water demand; "
        f"{warm['steps']} exchange steps of {3600 * warm['hours'] / warm['steps']:.0f} s.", "",
        "| part | cold cache, s | warm cache, s | share of the run excl. startup (warm) |",
        "|---|---|---|---|",
        f"| startup (process start to first step) | {cold['startup_s']:.2f} | {warm['startup_s']:.2f} | |",
    ]
    for k in SECTORS:
        lines.append(f"| {k} own time | {cold['own_s'].get(k, 0):.2f} | {warm['own_s'].get(k, 0):.2f} | "
                     f"{100 * warm['own_s'].get(k, 0) / warm['world_s']:.1f} % |")
    for key, label in (("mosaik_s", "mosaik (scheduling, data passing)"),
                       ("recorder_s", "recorder step"), ("write_s", "results file written")):
        lines.append(f"| &nbsp;&nbsp;overhead: {label} | {c[key]:.2f} | {w[key]:.2f} | "
                     f"{100 * w[key] / warm['world_s']:.1f} % |")
    lines += [
        f"| **co-simulation overhead** | {c['overhead_s']:.2f} | {w['overhead_s']:.2f} | "
        f"**{100 * w['overhead_share']:.1f} %** |",
        f"| run excl. startup | {cold['world_s']:.2f} | {warm['world_s']:.2f} | 100 % |",
        f"| **total wall (process start to exit)** | {cold['total_s']:.2f} | {warm['total_s']:.2f} | |",
        "",
        f"Overhead per exchange step: {c['overhead_ms']:.2f} ms cold, {w['overhead_ms']:.2f} ms warm. "
        f"In CPU time (the machine may be shared): overhead {w['overhead_cpu_s']:.2f} s of "
        f"{warm['world_cpu_s']:.2f} s = {100 * w['overhead_cpu_share']:.1f} %, {w['overhead_cpu_ms']:.2f} ms "
        f"per step (warm); Power {warm['own_cpu_s'].get('Power', 0):.2f} s, "
        f"Traffic {warm['own_cpu_s'].get('Traffic', 0):.2f} s. "
        f"Peak RSS {cold['peak_rss_mb']:.0f} MB cold, {warm['peak_rss_mb']:.0f} MB warm. "
        f"Simulated days per core-hour (warm): {w['days_per_core_h_wall']:.0f} by wall time, "
        f"{w['days_per_core_h_cpu']:.0f} by CPU time.",
        "",
    ]
    return lines


def summary(rows: list[tuple[dict, dict]]) -> list[str]:
    lines = ["### All sizes (warm cache unless marked)", "",
             "| region | startup cold s | startup warm s | run excl. startup s | Power s | Water s | "
             "Traffic s | ICT s | overhead s | overhead % | overhead ms/step | overhead % (CPU) | "
             "overhead ms/step (CPU) | days/core-h | peak MB |",
             "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|"]
    for cold, warm in rows:
        w = split(warm)
        o = warm["own_s"]
        lines.append(
            f"| {warm['size']} | {cold['startup_s']:.2f} | {warm['startup_s']:.2f} | {warm['world_s']:.2f} | "
            f"{o.get('Power', 0):.2f} | {o.get('Water', 0):.2f} | {o.get('Traffic', 0):.2f} | {o.get('ICT', 0):.2f} | "
            f"{w['overhead_s']:.2f} | {100 * w['overhead_share']:.1f} | {w['overhead_ms']:.2f} | "
            f"{100 * w['overhead_cpu_share']:.1f} | {w['overhead_cpu_ms']:.2f} | "
            f"{w['days_per_core_h_wall']:.0f} | {max(cold['peak_rss_mb'], warm['peak_rss_mb']):.0f} |")
    lines.append("")
    return lines


def targets(rows: dict[str, tuple[dict, dict]], default_s: float | None) -> list[str]:
    """Target lines for run.py's summary: TARGET<TAB>name<TAB>measured<TAB>limit<TAB>met."""
    out = []

    def add(name: str, measured: str, limit: str, met: bool) -> None:
        out.append("\t".join(("TARGET", name, measured, limit, "met" if met else "NOT met")))

    if "small" in rows:
        w = split(rows["small"][1])
        add("co-simulation overhead per exchange step, small",
            f"{w['overhead_ms']:.2f} ms wall ({w['overhead_cpu_ms']:.2f} ms CPU)",
            f"<= {OVERHEAD_MAX_MS:g} ms", w["overhead_ms"] <= OVERHEAD_MAX_MS)
    for size, (_cold, warm) in rows.items():
        w = split(warm)
        add(f"co-simulation overhead share of the run excl. startup, {size}",
            f"{100 * w['overhead_share']:.1f} % wall ({100 * w['overhead_cpu_share']:.1f} % CPU)",
            f"<= {100 * OVERHEAD_MAX_SHARE:g} %",
            w["overhead_share"] <= OVERHEAD_MAX_SHARE)
    if "default" in rows:
        cold, warm = rows["default"]
        add("startup, cold region cache, default", f"{cold['startup_s']:.2f} s", f"<= {STARTUP_COLD_MAX_S:g} s",
            cold["startup_s"] <= STARTUP_COLD_MAX_S)
        add("startup, warm region cache, default", f"{warm['startup_s']:.2f} s", f"<= {STARTUP_WARM_MAX_S:g} s",
            warm["startup_s"] <= STARTUP_WARM_MAX_S)
        peak = max(cold["peak_rss_mb"], warm["peak_rss_mb"])
        add("peak memory per run, default", f"{peak:.0f} MB", f"<= {PEAK_MAX_MB:g} MB", peak <= PEAK_MAX_MB)
    if default_s is not None:
        add("default scenario (`twin run cosim_configs/default.toml`, cold)", f"{default_s:.1f} s",
            f"< {DEFAULT_SCENARIO_MAX_S:g} s", default_s < DEFAULT_SCENARIO_MAX_S)
    return out


def default_scenario(scenario: Path) -> float:
    """The README's main command end to end, cold: regions, baselines and runs of every
    configuration the scenario lists."""
    out = Path(tempfile.mkdtemp())
    t0 = time.perf_counter()
    subprocess.run([sys.executable, "-m", "twin.cli", "run", str(scenario), "--out", str(out)],
                   check=True, capture_output=True, text=True)
    took = time.perf_counter() - t0
    shutil.rmtree(out, ignore_errors=True)
    return took


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    p.add_argument("--size", default="default", help=argparse.SUPPRESS)
    p.add_argument("--sizes", default="small,default,large")
    p.add_argument("--hours", type=float, default=24.0)
    p.add_argument("--configuration", default="centralised")
    p.add_argument("--scenario", type=Path, default=ROOT / "cosim_configs" / "default.toml")
    p.add_argument("--cache", type=Path, default=None, help=argparse.SUPPRESS)
    p.add_argument("--no-default", action="store_true", help="skip timing the whole default scenario")
    args = p.parse_args()
    if args.child:
        _child(args)
        return
    rows: dict[str, tuple[dict, dict]] = {}
    lines = [f"One run per region size: {args.hours:g} h, configuration `{args.configuration}`, "
             f"the scenario `{args.scenario.relative_to(ROOT) if args.scenario.is_relative_to(ROOT) else args.scenario}` "
             "(storm on). Cold: an empty region cache (the region is built); warm: the cache the "
             "cold run filled.", ""]
    for size in [s for s in args.sizes.split(",") if s]:
        cache = Path(tempfile.mkdtemp(prefix="twin-bench-cache-"))
        cold = measure(size, args.hours, args.configuration, args.scenario, cache)
        warm = measure(size, args.hours, args.configuration, args.scenario, cache)
        shutil.rmtree(cache, ignore_errors=True)
        rows[size] = (cold, warm)
        lines += size_table(cold, warm)
    lines += summary(list(rows.values()))
    default_s = None
    if not args.no_default:
        default_s = default_scenario(args.scenario)
        lines += [f"### The default scenario: `twin run {args.scenario.name}` from a cold cache", "",
                  f"{default_s:.1f} s wall: both configurations and their hazard-free baselines, "
                  "regions built, default region, 24 h.", ""]
    lines += targets(rows, default_s)
    print("\n".join(lines))


if __name__ == "__main__":
    main()
