"""Cost per exchange step of the water sector on Net3, ky10 and the built default region.

Run: ``python benchmarks/bench_water.py [--hours H] [--step-s S]``. For each network it
prints the mean wall time per exchange step of the bare stepped EPANET
(``WaterNetwork.step``), of the full domain step (``WaterOperation.step``: inputs, events,
series, on the network with every pipe split for leaks), the same without reading every
link's flow for cause tracing (``read_flow_vector = False``, as before tracing), one
complete-mixing share computation on a solution (what an outage costs once, when a junction
or tank it may have caused goes out; docs/water.md, "Causes"), and of one plain EPANET run of
the same horizon divided by its steps, plus the time to open each.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import wntr

from twin.models.water.importer import import_inp, shipped_inp
from twin.models.water.network import WaterNetwork
from twin.models.water.operation import WaterOperation
from twin.models.water.testing import make_test_region


def bench(name: str, inp: Path, hours: float, step_s: int, work: Path) -> str:
    n = int(hours * 3600 // step_s)
    t0 = time.perf_counter()
    with WaterNetwork(inp, step_s=step_s, duration_s=n * step_s + step_s) as net:
        t_open = time.perf_counter() - t0
        t0 = time.perf_counter()
        for k in range(n):
            net.step(k * step_s)
        t_net = (time.perf_counter() - t0) / n
        size = f"{len(net.node_ids)} nodes, {len(net.link_ids)} links, {len(net.pumps)} pumps"
    t0 = time.perf_counter()
    with WaterOperation(inp, step_s=step_s, duration_s=n * step_s + step_s) as op:
        t_op_open = time.perf_counter() - t0  # includes splitting every pipe (leak nodes)
        t0 = time.perf_counter()
        for k in range(n):
            snap_flows = op.causes.reference
            op.step(k * step_s)
        t_op = (time.perf_counter() - t0) / n
        flows = op.causes.reference or snap_flows or []
        reps = 20
        t0 = time.perf_counter()
        for _ in range(reps):
            op.causes.trace.shares(flows, links=[0])
        t_trace = (time.perf_counter() - t0) / reps
    with WaterOperation(inp, step_s=step_s, duration_s=n * step_s + step_s) as op:
        op.net.read_flow_vector = False  # no cause tracing: the operation as before it
        t0 = time.perf_counter()
        for k in range(n):
            op.step(k * step_s)
        t_plain = (time.perf_counter() - t0) / n
    wn = wntr.network.WaterNetworkModel(str(inp))
    wn.options.time.duration = n * step_s
    t0 = time.perf_counter()
    wntr.sim.EpanetSimulator(wn).run_sim(file_prefix=str(work / f"full-{name}"))
    t_full = (time.perf_counter() - t0) / n
    return (f"{name:8s} {size:40s} open {t_open * 1e3:7.1f} ms (operation {t_op_open * 1e3:7.1f}"
            f" ms) | per step: stepped {t_net * 1e3:6.2f} ms, with operation {t_op * 1e3:6.2f}"
            f" ms (pipes split; {t_plain * 1e3:6.2f} ms without tracing flows), one trace"
            f" {t_trace * 1e3:6.2f} ms, full run {t_full * 1e3:6.2f} ms")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--hours", type=float, default=24.0)
    parser.add_argument("--step-s", type=int, default=300)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-water-") as tmp:
        work = Path(tmp)
        print(f"water sector, {args.hours:g} h at {args.step_s} s exchange steps")
        for name in ("Net3", "ky10"):
            out = work / name
            import_inp(shipped_inp(name), out, step_s=args.step_s, hours=args.hours,
                       minimum_pressure_m=0.0, required_pressure_m=20.0)
            print(bench(name, out / "water.inp", args.hours, args.step_s, work))
        region = make_test_region(work / "region", "default", "decentralised")
        print(bench("default", region / "water.inp", args.hours, args.step_s, work))


if __name__ == "__main__":
    main()
