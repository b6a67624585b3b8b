"""Where the time of the default run goes: a cProfile of one run, grouped by who does the work.

Usage: python benchmarks/bench_profile.py [--size default] [--hours 24] [--configuration centralised]

One run of the default scenario's configuration (warm region cache, storm on) under
cProfile, from the start of the World to the results file. Each function's own time
(tottime) is put into a group by the file it lives in: the simulators' own work (pandapower's
Newton-Raphson and its results tables, SUMO, EPANET, networkx), their adapters (twin's
domain classes around them), pandas bookkeeping, mosaik and asyncio, the recorder and the
results file. cProfile adds a fixed cost per Python call, so pure-Python parts look larger
than they are; use the groups to see what to cut, bench_run for the real split.
"""

from __future__ import annotations

import argparse
import cProfile
import pstats
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

# (group, substrings of the file path), first match wins
GROUPS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("pandapower Newton-Raphson (power flow)", ("pandapower/pypower", "pandapower/pf/", "lightsim2grid")),
    ("pandapower results tables", ("pandapower/results",)),
    ("pandapower other (options, ppc build, topology)", ("pandapower/",)),
    ("SUMO (libsumo)", ("libsumo", "traci", "sumolib")),
    ("EPANET / wntr", ("wntr/",)),
    ("networkx", ("networkx/",)),
    ("scipy sparse", ("scipy/",)),
    ("pandas (tables)", ("pandas/",)),
    ("numpy", ("numpy/",)),
    ("power adapter and grid model", ("models/power/",)),
    ("water adapter and model", ("models/water/",)),
    ("traffic adapter and model", ("models/traffic/",)),
    ("ICT adapter and model", ("models/ict/",)),
    ("control", ("twin/control/",)),
    ("incidents and hazards", ("twin/incidents", "twin/hazards")),
    ("recorder and results file", ("twin/recorder", "twin/results", "h5py/")),
    ("events", ("twin/events",)),
    ("mosaik", ("mosaik",)),
    ("asyncio", ("asyncio/",)),
)


# (label, file substring, function name): inclusive (cumulative) time of the entry points
ENTRY_POINTS: tuple[tuple[str, str, str], ...] = (
    ("mosaik World.run (every step of every simulator)", "mosaik/scenario.py", "run"),
    ("Power adapter step", "models/power/simulator.py", "step"),
    ("  pandapower runpp", "pandapower/run.py", "runpp"),
    ("    Newton-Raphson", "pandapower/pf/run_newton_raphson_pf.py", "_run_newton_raphson_pf"),
    ("    results into pandas tables", "pandapower/powerflow.py", "_ppci_to_net"),
    ("  grid model: step result and telemetry", "models/power/outputs.py", "_result"),
    ("  grid model: damage applied", "models/power/inputs.py", "_apply_damage"),
    ("Traffic adapter step", "models/traffic/simulator.py", "step"),
    ("  SUMO simulationStep", "libsumo/__init__.py", "simulationStep"),
    ("Water adapter step", "models/water/simulator.py", "step"),
    ("ICT adapter step", "models/ict/simulator.py", "step"),
    ("Control step", "twin/control/simulator.py", "step"),
    ("Incidents step", "twin/incidents.py", "step"),
    ("Recorder step", "twin/recorder.py", "step"),
    ("Recorder finalize (results file)", "twin/recorder.py", "finalize"),
    ("mosaik scheduler: progress bookkeeping", "mosaik/scheduler.py", "advance_progress"),
    ("mosaik scheduler: waiting for inputs", "mosaik/scheduler.py", "wait_for_dependencies"),
    ("mosaik scheduler: input data", "mosaik/scheduler.py", "get_input_data"),
    ("mosaik scheduler: outputs", "mosaik/scheduler.py", "get_outputs"),
)


def group_of(filename: str, func: str) -> str:
    if filename == "~":  # a builtin: libsumo's C++ calls are SUMO's own work
        return "SUMO (libsumo)" if "libsumo" in func else "builtins (called from everywhere)"
    for name, keys in GROUPS:
        if any(k in filename for k in keys):
            return name
    return "other (json, stdlib)"


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--size", default="default")
    p.add_argument("--hours", type=float, default=24.0)
    p.add_argument("--configuration", default="centralised")
    p.add_argument("--top", type=int, default=15)
    args = p.parse_args()

    from twin import results
    from twin.cli import quiet
    from twin.config import load_scenario
    from twin.runner import region_for
    from twin.world import run_world

    quiet(False)
    scenario = load_scenario(ROOT / "cosim_configs" / "default.toml",
                             [f'region.size="{args.size}"', f"run.hours={args.hours}",
                              f'run.configurations=["{args.configuration}"]'])
    tmp = Path(tempfile.mkdtemp(prefix="twin-bench-profile-"))
    region = region_for(scenario, args.configuration, tmp)
    out = tmp / "profile.h5"
    results.start_file(out, {"step_s": scenario.run.step_s}, region)
    prof = cProfile.Profile()
    prof.enable()
    run_world(scenario, region.root, out, hazards=True)
    prof.disable()

    stats = pstats.Stats(prof)
    total = sum(v[2] for v in stats.stats.values())  # type: ignore[attr-defined]
    by_group: dict[str, float] = {}
    entry: dict[str, float] = {}
    for (filename, _line, func), (_cc, _nc, tt, ct, _callers) in stats.stats.items():  # type: ignore[attr-defined]
        g = group_of(filename, func)
        by_group[g] = by_group.get(g, 0.0) + tt
        for label, key, name in ENTRY_POINTS:
            if key in filename and func == name:
                entry[label] = entry.get(label, 0.0) + ct
    print(f"cProfile of one run: `{args.size}` region, {args.hours:g} h, `{args.configuration}`, storm on; "
          f"{total:.1f} s of profiled time (world assembly, run and results file).")
    print()
    print("| entry point (inclusive time) | seconds | share |")
    print("|---|---|---|")
    for label, _key, _name in ENTRY_POINTS:
        if label in entry:
            shown = label.replace("  ", "&nbsp;&nbsp;")
            print(f"| {shown} | {entry[label]:.2f} | {100 * entry[label] / total:.1f} % |")
    print()
    print("| group (own time of the functions in it) | seconds | share |")
    print("|---|---|---|")
    for g, t in sorted(by_group.items(), key=lambda kv: -kv[1]):
        print(f"| {g} | {t:.2f} | {100 * t / total:.1f} % |")
    print()
    print(f"Top {args.top} functions by own time:")
    print()
    print("| function | calls | own s | cumulative s |")
    print("|---|---|---|---|")
    rows = sorted(stats.stats.items(), key=lambda kv: -kv[1][2])[: args.top]  # type: ignore[attr-defined]
    for (filename, line, func), (_cc, nc, tt, ct, _callers) in rows:
        short = filename.split("site-packages/")[-1].split("/work/main/")[-1]
        print(f"| `{short}:{line}({func})` | {nc} | {tt:.2f} | {ct:.2f} |")


if __name__ == "__main__":
    main()
