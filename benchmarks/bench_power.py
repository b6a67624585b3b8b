"""Time per power step on the default grid: steady (only injections change) vs topology change.

Run: ``python benchmarks/bench_power.py``. Steady steps reuse the previous solution
(``recycle`` + ``init="results"``); topology-change steps alternate a feeder line between
failed and repaired, so every step needs island detection and a full power flow; trip
steps (:func:`_trip_cascade_times`) add a breaker trip and the power flows after it.
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


TRIP_T = 18 * 3600  # evening peak (timed steps 18:00 to 19:10)
TRIP_FAULT = "power/line/F7-1"  # town3's overhead feeder head
TRIP_TIE = "power/switch/T6"  # town3 onto city feeder F1 (cosim_configs/storm_overload.toml)
TRIP_BREAKER = "power/switch/F1-1"
TRIP_REPEATS = 8


def _trip_cascade_times(tmp: Path) -> tuple[list[float], list[int]]:
    """Steps with a trip cascade on the default grid (centralised, winter): the town3 feeder
    head fails and the tie T6 closes in the same step; with the relays' pickup at 1.05 F1's
    bay (about 1.18 x its rating at the winter evening peak) trips instantaneously, so the step runs
    power flow -> trip -> power flow (and the tie trials for the dark group). Each timed
    step is followed by an untimed one that returns the grid to normal. Returns the step
    times and the power flows protection ran in each (its rounds)."""
    region = power_region(tmp / "trip", "default", "centralised")
    grid = PowerGrid.from_file(region / "power.json", seed=1, step_s=STEP_S, season="winter",
                               protection={"pickup": 1.05})
    grid.step(TRIP_T - STEP_S)
    times, rounds = [], []
    for k in range(TRIP_REPEATS):
        t = TRIP_T + 2 * k * STEP_S
        t0 = time.perf_counter()
        res = grid.step(t, failed={TRIP_FAULT: f"{t}|{TRIP_FAULT}|failed"},
                        commands={TRIP_TIE: {"value": 1.0, "cause_id": ""}})
        times.append(time.perf_counter() - t0)
        if not [e for e in res.events if e["kind"] == "tripped" and e["asset_id"] == TRIP_BREAKER]:
            raise RuntimeError(f"step {t}: {TRIP_BREAKER} did not trip; the benchmark measures nothing")
        rounds.append(len(grid.protection.protection.rounds))
        grid.step(t + STEP_S, commands={TRIP_TIE: {"value": 0.0, "cause_id": ""},
                                        TRIP_BREAKER: {"value": 1.0, "cause_id": ""}})
    return times, rounds


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
        trip, rounds = _trip_cascade_times(Path(tmp))
        rows.append(("centralised", n_bus, f"trip ({max(rounds)} flows)", statistics.median(trip) * 1000,
                     max(trip) * 1000))
    out = sys.stdout
    out.write(f"power step time, default grid, {STEPS} steps of {STEP_S} s each\n")
    out.write(f"{'configuration':<15} {'buses':>5} {'case':<16} {'median ms':>10} {'max ms':>8}\n")
    for conf, n_bus, case, med, mx in rows:
        out.write(f"{conf:<15} {n_bus:>5} {case:<16} {med:>10.1f} {mx:>8.1f}\n")


if __name__ == "__main__":
    main()
