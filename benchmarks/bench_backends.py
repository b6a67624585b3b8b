"""Power-flow backends on the default region's grid: pandapower, lightsim2grid, power-grid-model.

Run: ``python benchmarks/bench_backends.py [--configuration decentralised]``.

One day of 288 load levels (the household profile) on the built grid, solved three ways in
one process, interleaved per repetition:

- ``pandapower``: ``runpp(recycle=bus_pq, init="results")`` (today's steady step solver);
- ``lightsim2grid``: :class:`twin.models.power.fastsolver.LightsimSolver` (pandapower's
  internal case, lightsim2grid's KLU Newton-Raphson, result tables written from numpy), and
  its Newton-Raphson alone;
- ``power-grid-model``: the same internal case as PGM nodes, ``generic_branch`` es (per-unit
  branch data of pandapower's case in ohm on the to-side base), ``sym_load`` s and a
  ``source`` per slack; one ``calculate_power_flow`` per level and one batch of all 288.
  PGM has no voltage-controlled generator (PV bus), so the grid is measured without the
  central plant (``decentralised`` by default); the largest voltage difference to pandapower
  is reported, not asserted. power-grid-model is not a project dependency (only this
  benchmark uses it): ``pip install power-grid-model==1.12.110`` (1.13 needs Python 3.12);
  without it those rows are left out.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np

from twin.models.power.profiles import household_factor
from twin.models.power.testgrids import power_region

LEVELS = 288


def _levels() -> list[float]:
    return [household_factor(k * 300) for k in range(LEVELS)]


def _pandapower(net, base_p, levels) -> tuple[float, np.ndarray]:  # type: ignore[no-untyped-def]
    import pandapower as pp

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        pp.runpp(net, init="dc", numba=False, lightsim2grid=False)
        t0 = time.perf_counter()
        for f in levels:
            net.load["p_mw"] = base_p * f
            pp.runpp(net, numba=False, lightsim2grid=False, recycle={"bus_pq": True, "trafo": False, "gen": False},
                     init="results")
        dt = time.perf_counter() - t0
    return dt, net.res_bus["vm_pu"].to_numpy(dtype=float).copy()


def _lightsim(net, base_p, levels) -> tuple[float, float, np.ndarray]:  # type: ignore[no-untyped-def]
    from lightsim2grid.algorithm import NRSing_KLU

    from twin.models.power.fastsolver import LightsimSolver

    solver = LightsimSolver()
    solver.solve(net, recycle=False)
    t0 = time.perf_counter()
    for f in levels:
        net.load["p_mw"] = base_p * f
        solver.solve(net, recycle=True)
    dt = time.perf_counter() - t0
    vm = net.res_bus["vm_pu"].to_numpy(dtype=float).copy()
    topo = next(iter(solver._topologies.values()))
    isl = topo.islands[0]
    v0 = topo.v[isl.buses]
    s = -np.ones(len(v0), dtype=complex) * 0.01
    nr = NRSing_KLU()
    t0 = time.perf_counter()
    for _ in levels:
        nr.compute_pf(isl.ybus, v0.copy(), s, isl.ref, isl.weights, isl.pv, isl.pq, 30, 1e-10)
        nr.reset()
    return dt, time.perf_counter() - t0, vm


def _pgm(net, base_p, levels) -> tuple[float, float, float]:  # type: ignore[no-untyped-def]
    """Per-level and batch time of power-grid-model, and its largest |vm| difference to
    pandapower at the last level."""
    import pandapower as pp
    from power_grid_model import (
        CalculationMethod,
        ComponentType,
        DatasetType,
        PowerGridModel,
        initialize_array,
    )

    net.load["p_mw"] = base_p * levels[-1]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        pp.runpp(net, init="dc", numba=False, lightsim2grid=False)
    ppci = net._ppc["internal"]
    bus, br, gen = ppci["bus"], ppci["branch"], ppci["gen"]
    base_mva = float(ppci["baseMVA"])
    n = len(bus)
    node = initialize_array(DatasetType.input, ComponentType.node, n)
    node["id"] = np.arange(n)
    node["u_rated"] = bus[:, 9].real * 1e3
    gb = initialize_array(DatasetType.input, ComponentType.generic_branch, len(br))
    gb["id"] = n + np.arange(len(br))
    gb["from_node"] = br[:, 0].real.astype(int)
    gb["to_node"] = br[:, 1].real.astype(int)
    gb["from_status"] = gb["to_status"] = 1
    z_base = (bus[gb["to_node"], 9].real ** 2) / base_mva
    gb["r1"] = br[:, 2].real * z_base
    gb["x1"] = br[:, 3].real * z_base
    gb["g1"] = 0.0
    gb["b1"] = br[:, 4].real / z_base
    tap = br[:, 8].real
    gb["k"] = np.where(tap == 0, 1.0, tap)
    gb["theta"] = np.deg2rad(br[:, 9].real)
    gb["sn"] = 1e8
    load = initialize_array(DatasetType.input, ComponentType.sym_load, n)
    load["id"] = n + len(br) + np.arange(n)
    load["node"] = np.arange(n)
    load["status"] = 1
    load["type"] = 0  # constant power
    load["p_specified"] = bus[:, 2].real * 1e6
    load["q_specified"] = bus[:, 3].real * 1e6
    refs = gen[:, 0].real.astype(int)
    src = initialize_array(DatasetType.input, ComponentType.source, len(refs))
    src["id"] = n + len(br) + n + np.arange(len(refs))
    src["node"] = refs
    src["status"] = 1
    src["u_ref"] = bus[refs, 7].real
    src["u_ref_angle"] = np.deg2rad(bus[refs, 8].real)
    src["sk"] = 1e20
    model = PowerGridModel({ComponentType.node: node, ComponentType.generic_branch: gb,
                            ComponentType.sym_load: load, ComponentType.source: src})
    res = model.calculate_power_flow(calculation_method=CalculationMethod.newton_raphson, error_tolerance=1e-10)
    lookup = net._pd2ppc_lookups["bus"][net.bus.index.to_numpy()]
    ok = lookup < n
    diff = float(np.nanmax(np.abs(res[ComponentType.node]["u_pu"][lookup[ok]]
                                  - net.res_bus["vm_pu"].to_numpy(dtype=float)[ok])))
    # the day: per-level loads (PD of the households scale; the rest is small) as updates
    pd0 = load["p_specified"].copy()
    qd0 = load["q_specified"].copy()
    t0 = time.perf_counter()
    for f in levels:
        upd = initialize_array(DatasetType.update, ComponentType.sym_load, n)
        upd["id"] = load["id"]
        upd["p_specified"] = pd0 * f / levels[-1]
        upd["q_specified"] = qd0 * f / levels[-1]
        model.update(update_data={ComponentType.sym_load: upd})
        model.calculate_power_flow(calculation_method=CalculationMethod.newton_raphson, error_tolerance=1e-10)
    per_level = time.perf_counter() - t0
    batch = initialize_array(DatasetType.update, ComponentType.sym_load, (len(levels), n))
    batch["id"] = load["id"]
    batch["p_specified"] = np.outer(np.array(levels) / levels[-1], pd0)
    batch["q_specified"] = np.outer(np.array(levels) / levels[-1], qd0)
    t0 = time.perf_counter()
    model.calculate_power_flow(update_data={ComponentType.sym_load: batch},
                               calculation_method=CalculationMethod.newton_raphson, error_tolerance=1e-10)
    return per_level, time.perf_counter() - t0, diff


def main() -> None:
    import pandapower as pp

    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--configuration", default="decentralised")
    ap.add_argument("--repeats", type=int, default=3)
    args = ap.parse_args()
    levels = _levels()
    rows: dict[str, list[float]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        region = power_region(Path(tmp), "default", args.configuration)
        source = pp.from_json(str(region / "power.json"))
        base_p = source.load["p_mw"].to_numpy(dtype=float).copy()
        for _ in range(args.repeats):
            t_pp, vm_pp = _pandapower(pp.from_json(str(region / "power.json")), base_p, levels)
            t_ls, t_nr, vm_ls = _lightsim(pp.from_json(str(region / "power.json")), base_p, levels)
            measured = [("pandapower runpp (recycled)", t_pp), ("lightsim2grid solver (results tables)", t_ls),
                        ("lightsim2grid Newton-Raphson alone", t_nr)]
            try:
                t_pgm, t_batch, diff = _pgm(pp.from_json(str(region / "power.json")), base_p, levels)
                measured += [("power-grid-model per level", t_pgm), ("power-grid-model one batch", t_batch)]
            except ImportError:
                diff = float("nan")  # power-grid-model not installed
            for k, v in measured:
                rows.setdefault(k, []).append(v / LEVELS * 1000)
            eq = float(np.nanmax(np.abs(vm_pp - vm_ls)))
    print(f"default region ({args.configuration}, {len(source.bus)} buses), {LEVELS} load levels, "
          f"median of {args.repeats} (ms per solve)")
    base = statistics.median(rows["pandapower runpp (recycled)"])
    for k, v in rows.items():
        m = statistics.median(v)
        print(f"  {k:<40} {m:8.3f}   {base / m:6.1f}x")
    pgm = "not installed" if diff != diff else f"{diff:.2e} pu"
    print(f"  max |vm| lightsim2grid - pandapower: {eq:.2e} pu; power-grid-model - pandapower: {pgm}")


if __name__ == "__main__":
    main()
