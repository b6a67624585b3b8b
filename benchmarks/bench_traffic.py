"""Cost of the traffic sector per simulated hour on a region, mesoscopic and microscopic.

Run ``python benchmarks/bench_traffic.py`` (options: ``--size``, ``--hours``, ``--modes``,
``--demand-scale``, ``--backend``, ``--step-s``, ``--json``). It builds the region's road
network alone (no other sector), then drives :class:`TrafficModel` exactly as the mosaik
adapter does (one ``advance`` per exchange step) and prints, per mode, the wall time of
start-up and of stepping, the cost per simulated hour, and what was simulated.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

from twin.models.traffic.testing import make_region
from twin.models.traffic.traffic import TrafficModel, TrafficOptions
from twin.region.assets import load_region


def bench(size: str, hours: float, mode: str, demand_scale: float, backend: str,
          step_s: int, region_dir: Path) -> dict[str, float | str]:
    """One run on a built region folder: start-up and stepping time, the traffic simulated."""
    region = load_region(region_dir)
    t0 = time.perf_counter()
    model = TrafficModel(region.path("traffic"), region.districts, 1,
                         TrafficOptions(mode=mode, backend=backend, demand_scale=demand_scale))
    model.start()
    t1 = time.perf_counter()
    departed = arrived = 0
    loss_h = 0.0
    try:
        for k in range(int(hours * 3600 / step_s)):
            st = model.advance((k + 1) * step_s)
            departed += st.departed
            arrived += st.arrived
            loss_h += st.time_loss_h
    finally:
        model.close()
    t2 = time.perf_counter()
    return {
        "size": size, "mode": mode, "backend": backend, "demand_scale": demand_scale,
        "hours": hours, "startup_s": round(t1 - t0, 3), "stepping_s": round(t2 - t1, 3),
        "s_per_sim_hour": round((t2 - t1) / hours, 4), "vehicles": departed,
        "arrived": arrived, "time_loss_h": round(loss_h, 2),
        "roads": len(model.net.edges) // 2, "signals": len(model.net.signals),
    }


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--size", default="default", choices=["small", "default", "large"])
    p.add_argument("--hours", type=float, default=24.0)
    p.add_argument("--modes", default="meso,micro")
    p.add_argument("--demand-scale", type=float, default=0.1)
    p.add_argument("--backend", default="libsumo", choices=["libsumo", "traci"])
    p.add_argument("--step-s", type=int, default=300)
    p.add_argument("--json", action="store_true", help="print one JSON object per mode")
    args = p.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="bench-traffic-") as tmp:
        t = time.perf_counter()
        make_region(Path(tmp), args.size, 1)
        build_s = time.perf_counter() - t
        rows = [bench(args.size, args.hours, m, args.demand_scale, args.backend, args.step_s,
                      Path(tmp)) for m in args.modes.split(",")]
    out = sys.stdout
    if args.json:
        for r in rows:
            out.write(json.dumps({**r, "build_s": round(build_s, 3)}) + "\n")
        return 0
    out.write(f"traffic benchmark: {args.size} region, {args.hours:g} h, step {args.step_s} s, "
              f"demand scale {args.demand_scale:g}, {args.backend}; "
              f"network build {build_s:.2f} s\n")
    out.write(f"{'mode':<6} {'startup s':>9} {'stepping s':>10} {'s/sim h':>8} "
              f"{'vehicles':>8} {'delay veh-h':>11}\n")
    for r in rows:
        out.write(f"{r['mode']:<6} {r['startup_s']:>9.3f} {r['stepping_s']:>10.3f} "
                  f"{r['s_per_sim_hour']:>8.4f} {r['vehicles']:>8} {r['time_loss_h']:>11.2f}\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
