"""Cost of the traffic sector per simulated day on a region: modes, demand scales, SUMO options.

Run ``python benchmarks/bench_traffic.py`` (options: ``--size``, ``--hours``, ``--modes``,
``--demand-scales``, ``--backend``, ``--step-s``, ``--variants``, ``--repeats``, ``--json``).
It builds the region's road network alone (no other sector), then drives
:class:`TrafficModel` exactly as the mosaik adapter does (one ``advance`` per exchange step)
and prints, per run, the wall and CPU time of start-up and of stepping and what was
simulated. Every (mode, scale, variant) runs ``--repeats`` times, interleaved, so ratios come
from one run of the benchmark; on a shared machine compare the minimum CPU time (wall time
counts the other jobs too).

A variant is ``name=key:value,key:value`` where a key is a :class:`TrafficOptions` field
(``step_length_s:5``) or a SUMO option (``--meso-edgelength:400``); ``base`` is the
defaults. Example::

    python benchmarks/bench_traffic.py --modes meso --demand-scales 1 --repeats 2 \\
        --variants "base=" "edge400=--meso-edgelength:400" "step5=step_length_s:5"
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from twin.models.traffic.testing import make_region
from twin.models.traffic.traffic import TrafficModel, TrafficOptions
from twin.region.assets import load_region

_FIELDS = {f.name: f.type for f in dataclasses.fields(TrafficOptions)}


def parse_variant(spec: str) -> tuple[str, dict[str, Any]]:
    """``name=key:value,...`` -> (name, TrafficOptions keyword arguments)."""
    name, _, body = spec.partition("=")
    kw: dict[str, Any] = {}
    sumo: list[str] = []
    for item in filter(None, body.split(",")):
        key, sep, value = item.partition(":")
        if not sep:
            raise SystemExit(f"variant {spec!r}: {item!r} is not key:value")
        if key.startswith("--"):
            sumo += [key, value]
        elif key in _FIELDS and key not in ("mode", "backend", "sumo_args"):
            kw[key] = float(value)
        else:
            raise SystemExit(f"variant {spec!r}: unknown option {key!r}")
    if sumo:
        kw["sumo_args"] = tuple(sumo)
    return name or "base", kw


def bench(size: str, hours: float, mode: str, demand_scale: float, backend: str,
          step_s: int, region_dir: Path, variant: str = "base",
          options: dict[str, Any] | None = None) -> dict[str, Any]:
    """One run on a built region folder: start-up and stepping time, the traffic simulated."""
    region = load_region(region_dir)
    opts = TrafficOptions(mode=mode, backend=backend, demand_scale=demand_scale,
                          **(options or {}))
    t0, c0 = time.perf_counter(), time.process_time()
    model = TrafficModel(region.path("traffic"), region.districts, 1, opts)
    model.start()
    t1, c1 = time.perf_counter(), time.process_time()
    departed = arrived = teleports = 0
    loss_h = 0.0
    try:
        for k in range(int(hours * 3600 / step_s)):
            st = model.advance((k + 1) * step_s)
            departed += st.departed
            arrived += st.arrived
            teleports += st.teleports
            loss_h += st.time_loss_h
        running = st.vehicles_running
    finally:
        model.close()
    t2, c2 = time.perf_counter(), time.process_time()
    return {
        "size": size, "mode": mode, "backend": backend, "demand_scale": demand_scale,
        "variant": variant, "hours": hours, "startup_s": round(t1 - t0, 3),
        "startup_cpu_s": round(c1 - c0, 3),
        "stepping_s": round(t2 - t1, 3), "stepping_cpu_s": round(c2 - c1, 3),
        "s_per_sim_hour": round((t2 - t1) / hours, 4), "vehicles": departed,
        "arrived": arrived, "running": running, "teleports": teleports,
        "time_loss_h": round(loss_h, 2),
        "roads": len(model.net.edges) // 2, "signals": len(model.net.signals),
    }


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--size", default="default", choices=["small", "default", "large"],
                   help="generated region size")
    p.add_argument("--hours", type=float, default=24.0, help="simulated hours per run")
    p.add_argument("--modes", default="meso,micro", help="comma-separated: meso, micro")
    p.add_argument("--demand-scales", "--demand-scale", default=str(TrafficOptions.demand_scale),
                   help="comma-separated demand scales")
    p.add_argument("--backend", default="libsumo", choices=["libsumo", "traci"])
    p.add_argument("--step-s", type=int, default=300, help="exchange step, s")
    p.add_argument("--variants", nargs="*", default=["base="],
                   help="option variants name=key:value,... (see the module docstring)")
    p.add_argument("--repeats", type=int, default=1, help="runs of each combination")
    p.add_argument("--json", action="store_true", help="print one JSON object per run")
    args = p.parse_args(argv)
    variants = [parse_variant(v) for v in args.variants]
    scales = [float(s) for s in args.demand_scales.split(",")]
    combos = [(m, sc, v) for m in args.modes.split(",") for sc in scales for v in variants]
    out = sys.stdout
    with tempfile.TemporaryDirectory(prefix="bench-traffic-") as tmp:
        t = time.perf_counter()
        make_region(Path(tmp), args.size, 1)
        build_s = time.perf_counter() - t
        if not args.json:
            out.write(f"traffic benchmark: {args.size} region, {args.hours:g} h, step "
                      f"{args.step_s} s, {args.backend}; network build {build_s:.2f} s\n")
            out.write(f"{'mode':<5} {'scale':>5} {'variant':<12} {'start s':>7} {'step s':>7} "
                      f"{'cpu s':>6} {'vehicles':>8} {'arrived':>8} {'telep':>5} "
                      f"{'delay veh-h':>11}\n")
        for _ in range(args.repeats):
            for mode, scale, (name, kw) in combos:
                r = bench(args.size, args.hours, mode, scale, args.backend, args.step_s,
                          Path(tmp), name, kw)
                if args.json:
                    out.write(json.dumps({**r, "build_s": round(build_s, 3)}) + "\n")
                else:
                    out.write(f"{mode:<5} {scale:>5g} {name:<12} {r['startup_s']:>7.2f} "
                              f"{r['stepping_s']:>7.2f} {r['stepping_cpu_s']:>6.2f} "
                              f"{r['vehicles']:>8} {r['arrived']:>8} {r['teleports']:>5} "
                              f"{r['time_loss_h']:>11.2f}\n")
                out.flush()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
