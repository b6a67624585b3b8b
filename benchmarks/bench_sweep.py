"""Speed-up of a sweep of real co-simulated runs with 2 Dask workers over 1.

    python benchmarks/bench_sweep.py [--seeds 4] [--hours 12] [--workers 1,2]

The sweep: the default scenario on the small region, the storm moved to the first hour,
both configurations, N seeds: N x 2 runs plus their N x 2 hazard-free baselines. The
regions are built once beforehand and shared, so each measurement is the runs themselves
(and the local cluster's start-up). Every measurement starts from an empty sweep folder.
Both worker counts are measured in the same invocation, so the speed-up is a ratio from
one run; the default work (16 runs of 12 simulated hours) is large enough that worker
start-up (a fresh interpreter importing pandapower, wntr, libsumo) does not dominate.
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SPEEDUP_MIN = 1.6
BUSY_MAX = 0.1  # cores used by other processes above which a 2-core speed-up is not measurable


def sweep_text(seeds: int, hours: float) -> str:
    return f"""
name = "bench"
base = "{ROOT / 'cosim_configs' / 'default.toml'}"
seeds = {seeds}
[set]
"region.size" = "small"
"run.hours" = {hours}
"hazards[0].start_h" = 0.0
"hazards[0].end_h" = {min(hours, 1.0) / 2}
"""


def _machine_busy_s() -> float:
    """CPU-seconds the whole machine has been busy (all processes), from /proc/stat."""
    try:
        fields = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    except (OSError, ValueError):
        return 0.0
    idle = fields[3] + (fields[4] if len(fields) > 4 else 0)
    return (sum(fields[:8]) - idle) / os.sysconf("SC_CLK_TCK")


def _own_cpu_s(children: bool = True) -> float:
    """CPU-seconds of this process and its finished children (the Dask workers, once closed)."""
    import resource

    total = 0.0
    for who in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN) if children else (resource.RUSAGE_SELF,):
        r = resource.getrusage(who)
        total += r.ru_utime + r.ru_stime
    return total


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--seeds", type=int, default=4)
    p.add_argument("--hours", type=float, default=12.0)
    p.add_argument("--workers", default="1,2", help="comma-separated worker counts")
    args = p.parse_args()

    import distributed  # noqa: F401  (imported first: its import resets its loggers)

    from twin.cli import quiet
    from twin.runner import region_for
    from twin.sweep import expand, load_sweep, run_sweep

    quiet(False)
    tmp = Path(tempfile.mkdtemp(prefix="twin-bench-sweep-"))
    sweep_file = tmp / "sweep.toml"
    sweep_file.write_text(sweep_text(args.seeds, args.hours))
    runs = expand(load_sweep(sweep_file))
    regions = tmp / "shared"
    t0 = time.perf_counter()
    for run in {r.configuration: r for r in runs}.values():
        region_for(run.scenario, run.configuration, regions)
    build_s = time.perf_counter() - t0

    rows = []
    loads: list[tuple[int, float]] = []
    cpu: list[tuple[int, float, float]] = []
    for n in [int(w) for w in args.workers.split(",")]:
        out = tmp / f"workers-{n}"
        out.mkdir()
        os.symlink(regions / ".regions", out / ".regions")
        busy0, own0, self0 = _machine_busy_s(), _own_cpu_s(), _own_cpu_s(children=False)
        t0 = time.perf_counter()
        res = run_sweep(sweep_file, out, workers=n, progress=False)
        wall = time.perf_counter() - t0
        others = max(0.0, (_machine_busy_s() - busy0) - (_own_cpu_s() - own0))
        per_run = [r["wall_s"] for r in res.rows if r["wall_s"]]
        rows.append((n, wall, len(res.complete), len(res.failed), len(res.baselines), statistics.mean(per_run)))
        loads.append((n, others / wall))
        cpu.append((n, _own_cpu_s() - own0, _own_cpu_s(children=False) - self0))

    print(f"sweep: {len(runs)} runs ({args.seeds} seeds x 2 configurations, {args.hours} h, small region) "
          f"+ {rows[0][4]} baselines; regions built once in {build_s:.1f} s; {os.cpu_count()} cores")
    print(f"{'workers':>7} {'wall s':>8} {'speed-up':>9} {'runs/min':>9} {'run s (mean)':>13} {'complete':>9} {'failed':>7}")
    base = rows[0][1]
    for n, wall, ok, bad, _, mean_run in rows:
        print(f"{n:>7} {wall:>8.1f} {base / wall:>9.2f} {60 * (ok + bad) / wall:>9.1f} {mean_run:>13.2f} "
              f"{ok:>9} {bad:>7}")
    print("CPU used by other processes on the machine during each measurement (cores busy on average): "
          + ", ".join(f"{n} worker(s): {c:.2f}" for n, c in loads)
          + f". With {os.cpu_count()} cores, anything above ~0.1 takes a share of the second worker's core.")
    print("CPU time of the sweep (workers and this process, which hosts the Dask scheduler): "
          + ", ".join(f"{n} worker(s): {total:.1f} s, of which this process {mine:.1f} s" for n, total, mine in cpu)
          + ".")
    by_n = {n: wall for n, wall, *_ in rows}
    if 1 in by_n and 2 in by_n:
        ratio = by_n[1] / by_n[2]
        busy = max(c for _n, c in loads)
        verdict = "met" if ratio >= SPEEDUP_MIN else "NOT met"
        if busy > BUSY_MAX and ratio < SPEEDUP_MIN:
            verdict += f" (machine busy: other processes used {busy:.2f} of {os.cpu_count()} cores)"
        print("\t".join(("TARGET", "sweep speed-up, 2 workers over 1", f"{ratio:.2f}x", ">= 1.6x", verdict)))


if __name__ == "__main__":
    main()
