"""Time of the whole power step on the default region: pandapower vs lightsim2grid, one run.

Run: ``python benchmarks/bench_power.py [--repeats 3] [--grids simbench synthetic city]``. For
each grid of the default region (SimBench, the default since 2026-12-01, and the
hand-laid 27-bus ``synthetic`` grid the earlier figures were measured on) and the ``city``
region's SimBench grid (2,157 buses: issue 21's ">= 1,000-bus grid"), each
configuration and each backend (``[power] solver``), a :class:`PowerGrid` steps through the
same cases, the backends interleaved per repetition so that a busy machine slows both alike:

- ``steady``: only injections change (48 steps from 06:00);
- ``topology change``: a town feeder head (:data:`FEEDER_HEAD`) fails on even steps and is
  repaired on odd ones, so every step changes topology (islands, and the transfer trials of the ties
  next to the dark buses);
- ``day``: 288 steps of 300 s, with the feeder head failed from 08:00 to 10:00.

The whole ``PowerGrid.step`` is timed (inputs, islands, shedding, batteries, power flow,
protection, series, events, telemetry), not the solver alone. The ratio is
pandapower's median over lightsim2grid's. Times are CPU time of this process
(``time.process_time``): on a shared machine wall time also counts the waits for a core,
which other sessions' work stretches at random; one thread, so CPU time is the step's cost.
- ``trip`` (:func:`_trip_cascade_times`, synthetic grid only: it names its feeders): a step
  with a breaker trip and the power flows after it (centralised, winter evening).

"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

from twin.models.power.grid import PowerGrid
from twin.models.power.testgrids import power_region

STEPS = 48
STEP_S = 300
SOLVERS = ("pandapower", "lightsim2grid")
GRIDS = ("simbench", "synthetic", "city")
# the head of a town feeder on each grid (SimBench: town1's first feeder out of its
# substation; on the city grid it darkens 54 buses)
FEEDER_HEAD = {"simbench": "power/line/S2-1", "synthetic": "power/line/F6-1", "city": "power/line/S2-1"}


def _cases(grid: str) -> dict[str, list[tuple[int, dict]]]:
    t0 = 6 * 3600
    line = FEEDER_HEAD[grid]
    failed = {line: f"0|{line}|failed"}
    return {
        "steady": [(t0 + k * STEP_S, {}) for k in range(STEPS)],
        "topology change": [(t0 + k * STEP_S, failed if k % 2 == 0 else {}) for k in range(STEPS)],
        "day": [(k * STEP_S, failed if 8 * 3600 <= k * STEP_S < 10 * 3600 else {}) for k in range(288)],
    }


def _time(region: Path, solver: str, steps: list[tuple[int, dict]]) -> float:
    """CPU ms: the median of one step over ``steps`` (the sum for a whole day), on a fresh
    grid after one warm-up step."""
    grid = PowerGrid.from_file(region / "power.json", seed=1, step_s=STEP_S, solver=solver)
    grid.step(steps[0][0] - STEP_S)
    times = []
    for t, failed in steps:
        t0 = time.process_time()
        grid.step(t, failed=failed)
        times.append(time.process_time() - t0)
    return statistics.median(times) * 1000 if len(steps) < 288 else sum(times) * 1000


TRIP_T = 18 * 3600  # evening peak (timed steps 18:00 to 19:10)
TRIP_FAULT = "power/line/F7-1"  # town3's overhead feeder head
TRIP_TIE = "power/switch/T6"  # town3 onto city feeder F1 (cosim_configs/storm_overload.toml)
TRIP_BREAKER = "power/switch/F1-1"
TRIP_REPEATS = 8


def _trip_cascade_times(tmp: Path, solver: str = "lightsim2grid") -> tuple[list[float], list[int]]:
    """Steps with a trip cascade on the default grid (centralised, winter, synthetic load
    profiles): the town3 feeder head fails and the tie T6 closes in the same step; with the
    relays' pickup at 1.05 F1's bay (about 1.18 x its rating at the winter evening peak)
    trips instantaneously, so the step runs
    power flow -> trip -> power flow (and the tie trials for the dark group). Each timed
    step is followed by an untimed one that returns the grid to normal. Returns the step
    times and the power flows protection ran in each (its rounds)."""
    region = tmp / "trip"
    if not (region / "power.json").is_file():
        power_region(region, "default", "centralised", grid="synthetic")
    # synthetic profiles, which the case was set up with: with SimBench's (the default since
    # 2026-12-01) F1's winter evening load stays below the pickup and nothing trips
    grid = PowerGrid.from_file(region / "power.json", seed=1, step_s=STEP_S, season="winter",
                               protection={"pickup": 1.05}, solver=solver, profiles="synthetic")
    grid.step(TRIP_T - STEP_S)
    times, rounds = [], []
    for k in range(TRIP_REPEATS):
        t = TRIP_T + 2 * k * STEP_S
        t0 = time.process_time()
        res = grid.step(t, failed={TRIP_FAULT: f"{t}|{TRIP_FAULT}|failed"},
                        commands={TRIP_TIE: {"value": 1.0, "cause_id": ""}})
        times.append(time.process_time() - t0)
        if not [e for e in res.events if e["kind"] == "tripped" and e["asset_id"] == TRIP_BREAKER]:
            raise RuntimeError(f"step {t}: {TRIP_BREAKER} did not trip; the benchmark measures nothing")
        rounds.append(len(grid.protection.protection.rounds))
        grid.step(t + STEP_S, commands={TRIP_TIE: {"value": 0.0, "cause_id": ""},
                                        TRIP_BREAKER: {"value": 1.0, "cause_id": ""}})
    return times, rounds


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--grids", nargs="+", choices=GRIDS, default=list(GRIDS))
    args = ap.parse_args()
    rows = []
    buses: dict[str, int] = {}
    with tempfile.TemporaryDirectory() as tmp:
        for grid in args.grids:
            for configuration in ("centralised", "decentralised"):
                region = (power_region(Path(tmp) / grid / configuration, "city", configuration) if grid == "city"
                          else power_region(Path(tmp) / grid / configuration, "default", configuration, grid=grid))
                buses[grid] = len(PowerGrid.from_file(region / "power.json").net.bus)
                for case, steps in _cases(grid).items():
                    got: dict[str, list[float]] = {s: [] for s in SOLVERS}
                    for _ in range(args.repeats):
                        for solver in SOLVERS:
                            got[solver].append(_time(region, solver, steps))
                    med = {s: statistics.median(v) for s, v in got.items()}
                    rows.append((grid, configuration, case, med["pandapower"], med["lightsim2grid"]))
        if "synthetic" in args.grids:
            trips: dict[str, list[float]] = {s: [] for s in SOLVERS}
            for _ in range(args.repeats):
                for solver in SOLVERS:
                    times, _rounds = _trip_cascade_times(Path(tmp), solver)
                    trips[solver].append(statistics.median(times) * 1000)
            rows.append(("synthetic", "centralised", "trip", statistics.median(trips["pandapower"]),
                         statistics.median(trips["lightsim2grid"])))
    out = sys.stdout
    sizes = ", ".join(f"{g} {n} buses" for g, n in buses.items())
    out.write(f"whole power step ({sizes}; simbench and synthetic: the default region), CPU time, medians of {args.repeats} "
              "interleaved repetitions\n")
    out.write(f"{'grid':<10} {'configuration':<15} {'case':<16} {'pandapower':>11} {'lightsim2grid':>14} {'ratio':>6}\n")
    for grid, conf, case, pp_ms, ls_ms in rows:
        unit = "ms/day" if case == "day" else "ms/step"
        out.write(f"{grid:<10} {conf:<15} {case:<16} {pp_ms:>11.2f} {ls_ms:>14.2f} {pp_ms / ls_ms:>5.1f}x  ({unit})\n")


if __name__ == "__main__":
    main()
