"""The AC power-flow backend behind a small interface, so a faster one can plug in.

:class:`PowerFlowSolver` is what :class:`~twin.models.power.grid.PowerGrid` needs from a
backend: solve the net as it stands (its ``in_service`` columns, switch positions and
set-points), either reusing the previous solution when only injections changed
(``recycle=True``) or from scratch, and say whether it converged; write the results into
the pandapower result tables (``res_bus``, ``res_line``, ``res_trafo``, ``res_ext_grid``),
NaN for buses without voltage; and reset those tables when nothing is solved.

:class:`PandapowerSolver` is the reference (pandapower's Newton-Raphson, numba off and
lightsim2grid off, so installing lightsim2grid does not change it);
:class:`~twin.models.power.fastsolver.LightsimSolver` solves pandapower's own internal case
with lightsim2grid's C++ Newton-Raphson and falls back to pandapower where it must.
:func:`make_solver` builds either by name (``[power] solver`` in the scenario).
"""

from __future__ import annotations

import warnings
from typing import Protocol, runtime_checkable

import numpy as np

MAX_ITERATION = 30  # Newton-Raphson iterations before a run counts as not converged
SOLVERS: tuple[str, ...] = ("pandapower", "lightsim2grid")  # names accepted by make_solver
DEFAULT_SOLVER = "lightsim2grid"  # measured ~equal results, faster (docs/power.md, benchmarks/RESULTS.md)


@runtime_checkable
class PowerFlowSolver(Protocol):
    """A power-flow backend; ``counts`` tallies ``full``, ``recycled`` and ``failed`` runs."""

    counts: dict[str, int]

    def solve(self, net, *, recycle: bool) -> bool:  # type: ignore[no-untyped-def]
        """Solve ``net``; ``recycle`` allows reusing the last solution (only injections
        changed since). Returns whether it converged (results valid only then)."""
        ...

    def solve_cold(self, net) -> bool:  # type: ignore[no-untyped-def]
        """One attempt from scratch (used to test islands one by one after a failure)."""
        ...

    def reset(self, net) -> None:  # type: ignore[no-untyped-def]
        """No island to solve: every result NaN, and the next solve starts from scratch."""
        ...


def drop_floating_branches(net) -> int:  # type: ignore[no-untyped-def]
    """Take out of service every in-service line or transformer cut off at both ends (each
    end at an out-of-service bus or behind an open switch); returns how many.

    Such a branch carries nothing in any model, but pandapower gives its cut ends auxiliary
    buses, and after heavy damage (the study's strongest earthquakes: a substation's busbar
    and the feeder buses beyond it failed, a loop point open) those can leave Newton-Raphson
    without a solution for the whole net. Called before every solve; with every bus in
    service it does nothing (the common case, so results there are untouched).
    """
    bus_on = net.bus["in_service"].to_numpy(dtype=bool)
    if bus_on.all():
        return 0
    sw = net.switch
    open_sw = ~sw["closed"].to_numpy(dtype=bool)
    dropped = 0
    for table, et, ends in (("line", "l", ("from_bus", "to_bus")), ("trafo", "t", ("hv_bus", "lv_bus"))):
        tab = net[table]
        on = tab["in_service"].to_numpy(dtype=bool)
        if not on.any():
            continue
        end_bus = [tab[c].to_numpy() for c in ends]
        cut = [~bus_on[net.bus.index.get_indexer(b)] for b in end_bus]
        mine = open_sw & (sw["et"].to_numpy() == et)
        if mine.any():
            pos = tab.index.get_indexer(sw["element"].to_numpy()[mine])
            at = sw["bus"].to_numpy()[mine]
            known = pos >= 0
            for k in (0, 1):
                hit = known & (at == end_bus[k][np.where(known, pos, 0)])
                cut[k][pos[hit]] = True
        floating = on & cut[0] & cut[1]
        if floating.any():
            tab["in_service"] = on & ~floating
            dropped += int(floating.sum())
    return dropped


class PandapowerSolver:
    """pandapower's AC power flow: recycled runs with ``init="results"`` while only
    injections change (2-4x faster); a full run tries ``init="dc"``, then ``init="flat"``."""

    name = "pandapower"

    def __init__(self) -> None:
        self.counts: dict[str, int] = {"full": 0, "recycled": 0, "failed": 0}

    def solve(self, net, *, recycle: bool) -> bool:  # type: ignore[no-untyped-def]
        import pandapower as pp
        from pandapower.auxiliary import _internal_stored

        if drop_floating_branches(net):
            recycle = False  # the branch set changed
        if recycle and _internal_stored(net):
            try:
                self._runpp(net, recycle={"bus_pq": True, "trafo": False, "gen": False})
                self.counts["recycled"] += 1
                return True
            except pp.LoadflowNotConverged:
                pass
        net._ppc = None  # a topology change needs a full run
        for init in ("dc", "flat"):
            try:
                self._runpp(net, init=init)  # stores the internals that recycled runs reuse
                self.counts["full"] += 1
                return True
            except pp.LoadflowNotConverged:
                continue
        self.counts["failed"] += 1
        return False

    def solve_cold(self, net) -> bool:  # type: ignore[no-untyped-def]
        import pandapower as pp

        drop_floating_branches(net)
        try:
            self._runpp(net, init="dc")
            return True
        except pp.LoadflowNotConverged:
            return False

    def reset(self, net) -> None:  # type: ignore[no-untyped-def]
        from pandapower.results import reset_results

        reset_results(net, mode="pf")
        for table in ("res_bus", "res_line", "res_ext_grid"):
            net[table] = net[table].reindex(net[table[4:]].index)

    @staticmethod
    def _runpp(net, **kwargs) -> None:  # type: ignore[no-untyped-def]
        import pandapower as pp

        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            pp.runpp(net, numba=False, lightsim2grid=False, max_iteration=MAX_ITERATION, **kwargs)


def make_solver(name: str = DEFAULT_SOLVER) -> PowerFlowSolver:
    """The power-flow backend called ``name`` (one of :data:`SOLVERS`)."""
    if name == "pandapower":
        return PandapowerSolver()
    if name == "lightsim2grid":
        from twin.models.power.fastsolver import LightsimSolver

        return LightsimSolver()
    raise ValueError(f"unknown power-flow solver {name!r}; choose one of {SOLVERS}")
