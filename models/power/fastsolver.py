"""A fast power-flow backend: pandapower's own network model, lightsim2grid's Newton-Raphson.

:class:`LightsimSolver` implements :class:`~twin.models.power.solver.PowerFlowSolver`. The
first time it meets a topology (``in_service`` of buses, branches, slacks and generators,
switch positions, generator set-points) it runs the reference, pandapower's full AC power
flow (:class:`~twin.models.power.solver.PandapowerSolver`), and keeps what that run built:
the internal case (``ppc``/``ppci``: every switch, parallel line, auxiliary bus of an open
line switch and transformer model exactly as pandapower models them), its admittance
matrices and lookups. Every later solve of that topology -- the next steps, and the return
to a topology seen before (a line failed and repaired) -- only recomputes the bus
injections from the load, sgen and storage set-points, solves each island with its own
slack by lightsim2grid's KLU Newton-Raphson (C++), starting from that topology's last
solution, and writes the result tables from numpy with pandapower's formulas. So the model
is pandapower's by construction and the results equal a pandapower run within the solver
tolerance (tests: ``tests/power/test_fastsolver.py``, 1e-6 pu / MW on every test grid).

lightsim2grid's own grid converter (``init_from_pandapower``) is not used: it refuses lines
with ``parallel != 1`` and does not model switches; solving pandapower's internal case
sidesteps both (a line with ``parallel = 2`` is one branch of half the impedance there).

Explicit fallback to pandapower (every solve of such a net, counted in ``counts["fallback"]``):
nets with element tables this backend does not write results for (``FALLBACK_TABLES``, e.g.
motors, asymmetric loads, wards, shunts, three-winding transformers), voltage-dependent loads,
and (per topology, counted in ``capture_skipped``) topologies where a bus holds more than
one slack or generator (pandapower shares their power; the fast path does not) or that
pandapower solved without Newton-Raphson. An island with several slacks (each holding its
voltage, as in pandapower) is solved by :func:`newton_multi_slack`, pypower's
Newton-Raphson in numpy.

Static data (line and transformer parameters, element buses) is assumed fixed for a net and
its copies (they share ``MODEL_KEY``); a change in any table's row count rebinds.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass

import numpy as np

from twin.models.power.common import column
from twin.models.power.solver import PandapowerSolver, drop_floating_branches

MODEL_KEY = "_twin_solver_model"  # net key: token of the static model a solver has bound
_TOKENS = itertools.count()
TOL_PU = 1e-10  # Newton-Raphson mismatch tolerance (pandapower's default is 1e-8 MVA)
MAX_ITERATION = 30
# element tables whose presence (any row) sends the whole net to pandapower
FALLBACK_TABLES = ("motor", "asymmetric_load", "asymmetric_sgen", "ward", "xward", "shunt", "trafo3w",
                   "impedance", "dcline", "svc", "tcsc", "ssc", "vsc", "line_dc", "bus_dc", "load_dc",
                   "source_dc", "b2b_vsc", "vsc_stacked", "vsc_bipolar")
PQ_TABLES = (("load", 1.0), ("sgen", -1.0), ("storage", 1.0))  # (table, sign of p_mw in bus demand)
_TOPOLOGY_COLUMNS = (("bus", "in_service"), ("line", "in_service"), ("trafo", "in_service"),
                     ("switch", "closed"), ("ext_grid", "in_service"), ("ext_grid", "vm_pu"),
                     ("ext_grid", "va_degree"), ("gen", "in_service"), ("gen", "p_mw"), ("gen", "vm_pu"))
# ppc column numbers (pandapower.pypower.idx_bus / idx_brch / idx_gen)
_VM, _VA, _PD, _QD = 7, 8, 2, 3
_PF, _QF, _PT, _QT = 13, 14, 15, 16
_F_BUS, _T_BUS = 0, 1
_GEN_BUS, _PG, _QG = 0, 1, 2
_LINE_COLS = ["p_from_mw", "q_from_mvar", "p_to_mw", "q_to_mvar", "pl_mw", "ql_mvar", "i_from_ka",
              "i_to_ka", "i_ka", "vm_from_pu", "va_from_degree", "vm_to_pu", "va_to_degree", "loading_percent"]
_BUS_COLS = ["vm_pu", "va_degree", "p_mw", "q_mvar"]
_PQ_COLS = ["p_mw", "q_mvar"]
_GEN_COLS = ["p_mw", "q_mvar", "va_degree", "vm_pu"]
_TRAFO_COLS = ["p_hv_mw", "q_hv_mvar", "p_lv_mw", "q_lv_mvar", "pl_mw", "ql_mvar", "i_hv_ka", "i_lv_ka",
               "vm_hv_pu", "va_hv_degree", "vm_lv_pu", "va_lv_degree", "loading_percent"]


def _shape(net) -> tuple[int, ...]:  # type: ignore[no-untyped-def]
    """Row counts of the tables the solver reads (a new element means a new model)."""
    return tuple(len(net[t]) for t in ("bus", "line", "trafo", "switch", "load", "sgen", "storage", "ext_grid", "gen"))


def unsupported_reason(net) -> str:  # type: ignore[no-untyped-def]
    """Why this net must be solved by pandapower ("" if the fast path handles it)."""
    for table in FALLBACK_TABLES:
        if table in net and len(net[table]):
            return f"element table {table!r}"
    load = net.load
    for col in ("const_z_p_percent", "const_i_p_percent", "const_z_q_percent", "const_i_q_percent",
                "const_z_percent", "const_i_percent"):
        if col in load and len(load) and np.any(np.nan_to_num(load[col].to_numpy(dtype=float)) != 0):
            return f"voltage-dependent loads (load.{col})"
    return ""


def _mismatch(v: np.ndarray, ibus: np.ndarray, sbus: np.ndarray, pvpq: np.ndarray, pq: np.ndarray) -> np.ndarray:
    """The Newton-Raphson mismatch vector: P at PV and PQ buses, then Q at PQ buses (pu)."""
    mis = v * np.conj(ibus) - sbus
    return np.concatenate([mis[pvpq].real, mis[pq].imag])


def newton_multi_slack(ybus, v0: np.ndarray, sbus: np.ndarray, pv: np.ndarray,  # type: ignore[no-untyped-def]
                       pq: np.ndarray) -> tuple[np.ndarray, bool]:
    """Polar Newton-Raphson (pypower's, as pandapower runs it) for an island with several
    slack buses, each held at its voltage; lightsim2grid's solvers take one slack (or a
    distributed one). Returns (V, converged)."""
    y = ybus.toarray()  # islands here are distribution feeders: dense beats sparse overhead
    v = v0.astype(complex).copy()
    pvpq = np.concatenate([pv, pq]).astype(np.int64)
    pq = pq.astype(np.int64)
    va, vm = np.angle(v), np.abs(v)
    for _ in range(MAX_ITERATION + 1):
        ibus = y @ v
        f = _mismatch(v, ibus, sbus, pvpq, pq)
        if not len(f) or np.max(np.abs(f)) < TOL_PU:
            return v, True
        vn = v / np.abs(v)
        ds_dvm = v[:, None] * np.conj(y * vn[None, :]) + np.diag(np.conj(ibus) * vn)
        ds_dva = 1j * v[:, None] * np.conj(np.diag(ibus) - y * v[None, :])
        jac = np.block([[ds_dva[np.ix_(pvpq, pvpq)].real, ds_dvm[np.ix_(pvpq, pq)].real],
                        [ds_dva[np.ix_(pq, pvpq)].imag, ds_dvm[np.ix_(pq, pq)].imag]])
        try:
            dx = -np.linalg.solve(jac, f)
        except np.linalg.LinAlgError:
            return v, False
        if not np.all(np.isfinite(dx)):
            return v, False
        va[pvpq] += dx[:len(pvpq)]
        vm[pq] += dx[len(pvpq):]
        v = vm * np.exp(1j * va)
    return v, False


def already_solved(ybus, v: np.ndarray, sbus: np.ndarray, pv: np.ndarray, pq: np.ndarray) -> bool:  # type: ignore[no-untyped-def]
    """Whether lightsim2grid's Newton-Raphson would stop before its first iteration and hand
    ``v`` back unchanged: its own test (the largest P mismatch at PV and PQ buses and Q
    mismatch at PQ buses below :data:`TOL_PU`), here with half the tolerance so that
    rounding cannot make the two tests disagree (numpy's and lightsim2grid's largest
    mismatch differ by < 1e-12 of it on the default and city grids). A step whose injections
    moved only by the profiles' rounding (three 5-min steps share a 15-min SimBench slot)
    needs no solve, and a call costs ~0.4 ms on the city grid even when it does not iterate."""
    f = _mismatch(v, ybus @ v, sbus, np.concatenate([pv, pq]), pq)
    return bool(np.max(np.abs(f), initial=0.0) < TOL_PU / 2)  # False for NaN, as lightsim2grid's test


@dataclass
class _Island:
    buses: np.ndarray  # ppci bus positions
    ybus: object  # csc sub-matrix
    ref: np.ndarray  # local positions
    pv: np.ndarray
    pq: np.ndarray
    weights: np.ndarray  # slack weight per local bus (1 at the slack)


@dataclass
class _Topology:
    """What one pandapower full run built for a topology, kept for fast re-solves."""

    ppc_bus_vm: np.ndarray  # ppc bus VM/VA as pandapower left them (NaN where no voltage)
    ppc_bus_va: np.ndarray
    n_i: int  # buses in ppci (the first n_i of ppc)
    ybus: object
    yf: object
    yt: object
    base_mva: float
    islands: list[_Island]
    s_gen: np.ndarray  # ppci generation set-points per bus (pu), for PV buses
    ref: np.ndarray
    refpv: np.ndarray
    gen_bus_i: np.ndarray  # ppci bus of every in-service ppc gen row
    gen_is: np.ndarray  # ppc gen rows in service
    branch_is: np.ndarray
    br_f: np.ndarray  # ppci from/to bus of in-service branches
    br_t: np.ndarray
    branch_res: np.ndarray  # ppc branch PF, QF, PT, QT (n_branch x 4)
    br_from_ppc: np.ndarray  # ppc from/to bus of every branch
    br_to_ppc: np.ndarray
    br_basekv: np.ndarray  # (n_branch x 2) base kV at from/to
    bus_lookup: np.ndarray  # per net.bus position: ppc bus
    pq_rows: dict[str, tuple[np.ndarray, np.ndarray]]  # table -> (ppc bus per row, bus in service)
    gen_ppc_rows: dict[str, np.ndarray]  # "ext_grid"/"gen" -> ppc gen row per element (-1 if out)
    v: np.ndarray  # last solution (ppci)
    is_ref: np.ndarray | None = None  # per in-service gen row: at a slack bus (filled on first use)


@dataclass
class _Written:
    """The result tables the fast path wrote last, and what they are a function of: the
    topology, its solution (the same array object: not re-solved since) and the injections."""

    topo: _Topology
    v: np.ndarray
    pd: np.ndarray
    qd: np.ndarray
    el_p: dict[str, tuple[np.ndarray, np.ndarray]]
    tables: list[tuple[str, list[np.ndarray], object, list[str]]]  # _put arguments, in order

    def holds(self, topo: _Topology, pd: np.ndarray, qd: np.ndarray,
              el_p: dict[str, tuple[np.ndarray, np.ndarray]]) -> bool:
        """Whether writing ``topo``'s current solution with these injections would give
        these tables (bit for bit: the same inputs to the same formulas)."""
        return (self.topo is topo and self.v is topo.v and np.array_equal(self.pd, pd)
                and np.array_equal(self.qd, qd)
                and all(np.array_equal(a, b) for t, pq in el_p.items() for a, b in zip(pq, self.el_p[t], strict=True)))


class LightsimSolver:
    """Pandapower's model, lightsim2grid's KLU Newton-Raphson; see the module docstring.

    ``counts``: ``full`` (pandapower full runs, one per new topology), ``recycled`` (fast
    solves), ``failed``, ``fallback`` (solves handed to pandapower, see ``fallback_reason``).
    """

    name = "lightsim2grid"

    def __init__(self, max_topologies: int = 256) -> None:
        self.counts: dict[str, int] = {"full": 0, "recycled": 0, "failed": 0, "fallback": 0}
        self.reference = PandapowerSolver()
        self.reference.counts = self.counts  # one tally for both paths
        self._topologies: dict[tuple, _Topology | None] = {}
        self.max_topologies = int(max_topologies)
        self.fallback_reason: str | None = None
        self.capture_skipped = 0  # topologies left to pandapower (shared slack or generator bus)
        self._net_id: str | None = None
        self._shape: tuple[int, ...] = ()
        self._arrays: dict[str, object] = {}
        self._frames: dict[str, object] = {}  # result frames this solver made, written in place
        self._written: _Written | None = None

    # ------------------------------------------------------------------ protocol
    def solve(self, net, *, recycle: bool) -> bool:  # type: ignore[no-untyped-def]
        if net.get(MODEL_KEY) is None or net[MODEL_KEY] != self._net_id or self._shape != _shape(net):
            self._bind(net)
        if self.fallback_reason:
            self.counts["fallback"] += 1
            return self.reference.solve(net, recycle=recycle)
        drop_floating_branches(net)
        key = self._key(net)
        topo = self._topologies.get(key)
        if topo is not None and self._fast(net, topo):
            self.counts["recycled"] += 1
            return True
        ok = self.reference.solve(net, recycle=False)
        if ok and key not in self._topologies and len(self._topologies) < self.max_topologies:
            self._topologies[key] = self._capture(net)
        return ok

    def solve_cold(self, net) -> bool:  # type: ignore[no-untyped-def]
        return self.reference.solve_cold(net)

    def reset(self, net) -> None:  # type: ignore[no-untyped-def]
        self.reference.reset(net)

    # ------------------------------------------------------------------ setup
    def _bind(self, net) -> None:  # type: ignore[no-untyped-def]
        """Static arrays of a net; its copies (the protection's trial flows) carry the same
        ``MODEL_KEY`` token and share them and the topologies (static parameters -- line and
        transformer data, element buses -- are assumed fixed for a net and its copies)."""
        if net.get(MODEL_KEY) is None or self._shape != _shape(net):
            net[MODEL_KEY] = f"{id(self)}-{next(_TOKENS)}"
        self._net_id = net[MODEL_KEY]
        self._shape = _shape(net)
        self._topologies = {}
        self._frames = {}
        self._written = None
        self.fallback_reason = unsupported_reason(net) or None
        self._arrays = {
            "bus_pos": {int(b): p for p, b in enumerate(net.bus.index)},
            # net.bus position of each element's bus (static)
            "el_bus": {t: net.bus.index.get_indexer(net[t]["bus"].to_numpy()).astype(np.int64)
                       for t in ("load", "sgen", "storage", "ext_grid", "gen")},
            "line_imax": (net.line["max_i_ka"].to_numpy(dtype=float) * net.line["df"].to_numpy(dtype=float)
                          * net.line["parallel"].to_numpy(dtype=float)),
        }
        if len(net.trafo):
            tr = net.trafo
            self._arrays["trafo_vn"] = np.vstack([tr["vn_hv_kv"].to_numpy(dtype=float),
                                                  tr["vn_lv_kv"].to_numpy(dtype=float)]).T
            self._arrays["trafo_div"] = (tr["sn_mva"].to_numpy(dtype=float) * tr["parallel"].to_numpy(dtype=float)
                                         * tr["df"].to_numpy(dtype=float))

    @staticmethod
    def _key(net) -> tuple:  # type: ignore[no-untyped-def]
        return tuple(column(net[t], c).tobytes() if c in net[t] else b""
                     for t, c in _TOPOLOGY_COLUMNS)

    def _capture(self, net) -> _Topology | None:  # type: ignore[no-untyped-def]
        """Keep what pandapower built in the run just made (None: not for the fast path)."""
        from scipy.sparse.csgraph import connected_components

        ppc = net._ppc
        internal = ppc["internal"]
        if not all(k in internal for k in ("bus", "gen", "branch", "Ybus", "Yf", "Yt", "ref", "pv", "pq")):
            self.capture_skipped += 1  # pandapower bypassed its Newton-Raphson (slack buses only)
            return None
        bus = ppc["bus"]
        ppci_bus = internal["bus"]
        n_i = ppci_bus.shape[0]
        ybus = internal["Ybus"].tocsc()
        ref = np.asarray(internal["ref"], dtype=np.int64)
        pv = np.asarray(internal["pv"], dtype=np.int64)
        gen_is = np.asarray(internal["gen_is"], dtype=bool)
        gen_bus_i = ppc["gen"][gen_is, _GEN_BUS].real.astype(np.int64)
        if len(np.unique(gen_bus_i)) != len(gen_bus_i):
            self.capture_skipped += 1  # two slacks or generators on one bus: pandapower shares their power
            return None
        kind = np.full(n_i, 2)
        kind[ref], kind[pv] = 0, 1
        n_comp, label = connected_components(ybus != 0, directed=False)
        islands = []
        for c in range(n_comp):
            idx = np.flatnonzero(label == c)
            k = kind[idx]
            if int((k == 0).sum()) == 0:
                self.capture_skipped += 1  # no slack: pandapower would not have solved it
                return None
            islands.append(_Island(idx, ybus[idx][:, idx].tocsc(), np.flatnonzero(k == 0).astype(np.int32),
                                   np.flatnonzero(k == 1).astype(np.int32),
                                   np.flatnonzero(k == 2).astype(np.int32), (k == 0).astype(float)))
        base = float(ppc["baseMVA"])
        gen_i = internal["gen"]
        s_gen = np.zeros(n_i, dtype=complex)
        np.add.at(s_gen, gen_i[:, _GEN_BUS].real.astype(np.int64), (gen_i[:, _PG] + 1j * gen_i[:, _QG]) / base)
        branch = ppc["branch"]
        branch_is = np.asarray(internal["branch_is"], dtype=bool)
        br_i = internal["branch"]
        lookup = net._pd2ppc_lookups["bus"]
        bus_idx = net.bus.index.to_numpy()
        bus_lookup = lookup[bus_idx]
        bus_ok = dict(zip(bus_idx.tolist(), net.bus["in_service"].to_numpy(dtype=bool).tolist(), strict=True))
        pq_rows = {}
        for table, _sign in PQ_TABLES:
            b = net[table]["bus"].to_numpy(dtype=np.int64)
            # pandapower counts an element only on an energised bus: in service and connected
            # to a slack (its ppc bus among the first n_i, the ppci); elsewhere its result is 0
            pq_rows[table] = (lookup[b], np.array([bus_ok.get(int(x), False) for x in b], dtype=bool)
                              & (lookup[b] < n_i))
        gen_rows = {}
        for table in ("ext_grid", "gen"):
            rows = np.full(len(net[table]), -1, dtype=np.int64)
            if table in net._pd2ppc_lookups and net._pd2ppc_lookups[table] is not None and len(net[table]):
                on = net._is_elements[table]
                rows[on] = net._pd2ppc_lookups[table][net[table].index.to_numpy()[on]]
            gen_rows[table] = rows
        f_ppc = branch[:, _F_BUS].real.astype(np.int64)
        t_ppc = branch[:, _T_BUS].real.astype(np.int64)
        return _Topology(
            ppc_bus_vm=bus[:, _VM].real.astype(float).copy(), ppc_bus_va=bus[:, _VA].real.astype(float).copy(),
            n_i=n_i, ybus=ybus, yf=internal["Yf"].tocsr(), yt=internal["Yt"].tocsr(), base_mva=base,
            islands=islands, s_gen=s_gen, ref=ref, refpv=np.concatenate([ref, pv]),
            gen_bus_i=gen_bus_i, gen_is=gen_is, branch_is=branch_is,
            br_f=br_i[:, _F_BUS].real.astype(np.int64), br_t=br_i[:, _T_BUS].real.astype(np.int64),
            branch_res=branch[:, [_PF, _QF, _PT, _QT]].real.astype(float).copy(),
            br_from_ppc=f_ppc, br_to_ppc=t_ppc,
            br_basekv=np.vstack([bus[f_ppc, 9].real, bus[t_ppc, 9].real]).T.astype(float),
            bus_lookup=bus_lookup, pq_rows=pq_rows, gen_ppc_rows=gen_rows,
            v=(ppci_bus[:, _VM].real * np.exp(1j * np.deg2rad(ppci_bus[:, _VA].real))).astype(complex),
        )

    # ------------------------------------------------------------------ fast path
    def _fast(self, net, topo: _Topology) -> bool:  # type: ignore[no-untyped-def]
        """Re-solve a known topology with the current injections; False if it did not
        converge (the caller then runs pandapower)."""
        from lightsim2grid.algorithm import NRSing_KLU

        n_ppc = len(topo.ppc_bus_vm)
        pd = np.zeros(n_ppc)
        qd = np.zeros(n_ppc)
        el_p: dict[str, tuple[np.ndarray, np.ndarray]] = {}
        for table, sign in PQ_TABLES:
            tab = net[table]
            if not len(tab):
                el_p[table] = (np.zeros(0), np.zeros(0))
                continue
            rows, bus_ok = topo.pq_rows[table]
            active = np.asarray(column(tab, "in_service"), dtype=bool) & bus_ok
            scale = np.asarray(column(tab, "scaling"), dtype=float) * active
            p = np.asarray(column(tab, "p_mw"), dtype=float) * scale
            q = np.asarray(column(tab, "q_mvar"), dtype=float) * scale
            el_p[table] = (p, q)
            pd += np.bincount(rows, weights=sign * p, minlength=n_ppc)
            qd += np.bincount(rows, weights=sign * q, minlength=n_ppc)
        n_i = topo.n_i
        sbus = topo.s_gen - (pd[:n_i] + 1j * qd[:n_i]) / topo.base_mva
        v = topo.v.copy()
        solver = NRSing_KLU()
        solved = False  # any island re-solved (else v equals topo.v)
        for isl in topo.islands:
            if len(isl.ref) > 1:  # several slacks in one island: each holds its voltage (pandapower's model)
                v_isl, ok = newton_multi_slack(isl.ybus, v[isl.buses], sbus[isl.buses], isl.pv, isl.pq)
                if not ok:
                    return False
                v[isl.buses] = v_isl
                solved = True
                continue
            if already_solved(isl.ybus, v[isl.buses], sbus[isl.buses], isl.pv, isl.pq):
                continue  # the voltages stay as they are (lightsim2grid would return them unchanged)
            ok = solver.compute_pf(isl.ybus, v[isl.buses], sbus[isl.buses], isl.ref, isl.weights, isl.pv, isl.pq,
                                   MAX_ITERATION, TOL_PU)
            if not ok:
                return False
            v[isl.buses] = solver.get_V()
            solver.reset()
            solved = True
        written = self._written
        if not solved and written is not None and written.holds(topo, pd, qd, el_p):
            # nothing moved since the last write (two 5-min steps in three share a 15-min
            # profile slot): put the same tables again instead of recomputing every flow
            for args in written.tables:
                self._put(net, *args)
            net["converged"] = True
            return True
        if solved:
            topo.v = v
        tables = self._write_results(net, topo, topo.v, pd, qd, el_p)
        self._written = _Written(topo, topo.v, pd, qd, el_p, tables)
        return True

    def _write_results(self, net, topo: _Topology, v: np.ndarray, pd: np.ndarray,  # type: ignore[no-untyped-def]
                       qd: np.ndarray, el_p: dict) -> list[tuple[str, list[np.ndarray], object, list[str]]]:
        """pandapower's result formulas (results_bus / results_branch / results_gen) on numpy;
        returns the tables written (``_put``'s arguments) for :class:`_Written`."""
        tables: list[tuple[str, list[np.ndarray], object, list[str]]] = []

        def put(name: str, data: list[np.ndarray], index, columns: list[str]) -> None:  # type: ignore[no-untyped-def]
            tables.append((name, data, index, columns))
            self._put(net, name, data, index, columns)

        base = topo.base_mva
        n_i = topo.n_i
        vm = topo.ppc_bus_vm.copy()
        va = topo.ppc_bus_va.copy()
        vm[:n_i] = np.abs(v)
        va[:n_i] = np.angle(v, deg=True)
        # slack and generator rows: p (slack) and q from the solved injection, plus local demand
        s_calc = v * np.conj(topo.ybus @ v) * base
        n_gen_rows = len(topo.gen_is)
        pg = np.zeros(n_gen_rows)
        qg = np.zeros(n_gen_rows)
        rows_is = np.flatnonzero(topo.gen_is)
        gbus = topo.gen_bus_i
        if topo.is_ref is None:
            topo.is_ref = np.isin(gbus, topo.ref)
        is_ref = topo.is_ref
        pg_set = topo.s_gen[gbus].real * base
        pg[rows_is] = np.where(is_ref, s_calc.real[gbus] + pd[gbus], pg_set)
        qg[rows_is] = s_calc.imag[gbus] + qd[gbus]
        # branch flows
        br = topo.branch_res.copy()
        sf = v[topo.br_f] * np.conj(topo.yf @ v) * base
        st = v[topo.br_t] * np.conj(topo.yt @ v) * base
        br[topo.branch_is] = np.column_stack([sf.real, sf.imag, st.real, st.imag])
        s_ft = np.sqrt(br[:, [0, 2]] ** 2 + br[:, [1, 3]] ** 2)
        with np.errstate(invalid="ignore", divide="ignore"):
            vm_ft = np.column_stack([vm[topo.br_from_ppc], vm[topo.br_to_ppc]]) * topo.br_basekv
            i_ft = s_ft / vm_ft / math.sqrt(3)
        lookups = net._pd2ppc_lookups["branch"]
        arrays = self._arrays
        if "line" in lookups:
            f, t = lookups["line"]
            b = br[f:t]
            i = i_ft[f:t]
            with np.errstate(invalid="ignore"):
                i_ka = np.max(i, axis=1)
            imax = arrays["line_imax"]
            loading = np.full_like(i_ka, np.inf)
            np.divide(i_ka, imax, where=imax != 0, out=loading)
            fb, tb = topo.br_from_ppc[f:t], topo.br_to_ppc[f:t]
            data = [b[:, 0], b[:, 1], b[:, 2], b[:, 3], b[:, 0] + b[:, 2], b[:, 1] + b[:, 3],
                    i[:, 0], i[:, 1], i_ka, vm[fb], va[fb], vm[tb], va[tb], loading * 100]
            put("res_line", data, net["line"].index, _LINE_COLS)
        if "trafo" in lookups:
            f, t = lookups["trafo"]
            b = br[f:t]
            i = i_ft[f:t]
            with np.errstate(invalid="ignore"):
                ld = np.max(i * arrays["trafo_vn"] * math.sqrt(3), axis=1) / arrays["trafo_div"] * 100.0
            fb, tb = topo.br_from_ppc[f:t], topo.br_to_ppc[f:t]
            data = [b[:, 0], b[:, 1], b[:, 2], b[:, 3], b[:, 0] + b[:, 2], b[:, 1] + b[:, 3],
                    i[:, 0], i[:, 1], vm[fb], va[fb], vm[tb], va[tb], ld]
            put("res_trafo", data, net["trafo"].index, _TRAFO_COLS)
        # element results and the bus sums (consumption positive)
        n_bus = len(net.bus)
        bus_p = np.zeros(n_bus)
        bus_q = np.zeros(n_bus)
        el_bus = arrays["el_bus"]
        for table, sign in PQ_TABLES:
            p, q = el_p[table]
            if len(net[table]):
                put(f"res_{table}", [p, q], net[table].index, _PQ_COLS)
                bus_p += np.bincount(el_bus[table], weights=sign * p, minlength=n_bus)
                bus_q += np.bincount(el_bus[table], weights=sign * q, minlength=n_bus)
        for table in ("ext_grid", "gen"):
            tab = net[table]
            if not len(tab):
                continue
            rows = topo.gen_ppc_rows[table]
            on = rows >= 0
            p = np.zeros(len(tab))
            q = np.zeros(len(tab))
            p[on], q[on] = pg[rows[on]], qg[rows[on]]
            if table == "gen":
                gb = topo.bus_lookup[el_bus["gen"]]
                gvm = np.zeros(len(tab))
                gva = np.zeros(len(tab))
                gvm[on], gva[on] = vm[gb[on]], va[gb[on]]
                put("res_gen", [p, q, gva, gvm], tab.index, _GEN_COLS)
            else:
                put("res_ext_grid", [p, q], tab.index, _PQ_COLS)
            bus_p -= np.bincount(el_bus[table], weights=p, minlength=n_bus)
            bus_q -= np.bincount(el_bus[table], weights=q, minlength=n_bus)
        lk = topo.bus_lookup
        res_bus = [vm[lk], va[lk], bus_p, bus_q]  # each a fresh array
        off = ~np.asarray(column(net["bus"], "in_service"), dtype=bool)
        if off.any():
            for c in res_bus:
                c[off] = np.nan
        put("res_bus", res_bus, net["bus"].index, _BUS_COLS)
        net["converged"] = True
        return tables

    def _put(self, net, name: str, data: list[np.ndarray], index, columns: list[str]) -> None:  # type: ignore[no-untyped-def]
        """Write a result table from its columns (``data``, in ``columns`` order): in place
        into the frame this solver made last time, if the net still holds it unchanged (one
        float block of the same shape: a pandas column write costs ~50-100 us, a row of the
        block ~1 us); else a new frame."""
        shape = (len(data[0]), len(data))
        df = self._frames.get(name)
        if df is not None and net.get(name) is df and df.shape == shape:
            blocks = df._mgr.blocks
            if len(blocks) == 1 and blocks[0].values.shape == (shape[1], shape[0]):
                values = blocks[0].values  # one row per column
                for k, col in enumerate(data):
                    values[k] = col
                return
        import pandas as pd

        df = pd.DataFrame(np.array(np.column_stack(data), dtype=float), index=index, columns=columns)
        self._frames[name] = df
        net[name] = df
