"""Time per power step on the default grid: steady (only injections change) vs topology change.

Run: ``python benchmarks/bench_power.py``. Steady steps reuse the previous solution
(``recycle`` + ``init="results"``); topology-change steps alternate a feeder line between
failed and repaired, so every step needs island detection and a full power flow.
"""

from __future__ import annotations

import statistics
import sys
import tempfile
import time
from pathlib import Path

from twin.models.power.grid import PowerGrid
from twin.models.power.testgrids import power_region

STEPS = 48
STEP_S = 300


LINE = "power/line/F6-1"  # head of a town feeder on the default grid


def _toggle(k: int) -> dict[str, str]:
    """Fail the line on even steps, repair it on odd ones: every step changes topology."""
    return {LINE: f"0|{LINE}|failed"} if k % 2 == 0 else {}


def _time_steps(grid: PowerGrid, failed_at) -> list[float]:
    times = []
    for k in range(STEPS):
        t0 = time.perf_counter()
        grid.step(3600 * 6 + k * STEP_S, failed=failed_at(k))
        times.append(time.perf_counter() - t0)
    return times


def main() -> None:
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for configuration in ("centralised", "decentralised"):
            region = power_region(Path(tmp) / configuration, "default", configuration)
            grid = PowerGrid.from_file(region / "power.json", seed=1, step_s=STEP_S)
            grid.step(0)  # warm-up: imports, first full run
            steady = _time_steps(grid, lambda k: {})
            topo = _time_steps(grid, _toggle)
            n_bus = len(grid.net.bus)
            for case, times in (("steady", steady), ("topology change", topo)):
                rows.append((configuration, n_bus, case, statistics.median(times) * 1000,
                             max(times) * 1000))
    out = sys.stdout
    out.write(f"power step time, default grid, {STEPS} steps of {STEP_S} s each\n")
    out.write(f"{'configuration':<15} {'buses':>5} {'case':<16} {'median ms':>10} {'max ms':>8}\n")
    for conf, n_bus, case, med, mx in rows:
        out.write(f"{conf:<15} {n_bus:>5} {case:<16} {med:>10.1f} {mx:>8.1f}\n")


if __name__ == "__main__":
    main()
