"""Solving the islands: the power flow through the solver interface, with reuse while the
topology holds, and per-island isolation when the whole net does not converge.

Part of :class:`~twin.models.power.grid.PowerGrid` (a mixin); the backend is
``self.solver`` (:class:`~twin.models.power.solver.PowerFlowSolver`).
"""

from __future__ import annotations

from twin.events import Event, make_event
from twin.models.power.common import Island


class FlowMixin:
    """The power flow of one step over the islands that have a source."""

    def _solve(self, islands: list[Island], inj, t: int, events: list[Event]) -> bool:  # type: ignore[no-untyped-def]
        """Write the step's set-points into the net and run the power flow; islands that
        fail become dead (and the islands are recomputed next step)."""
        net = self.net
        live_slack = self._set_slacks(islands)
        net.load["p_mw"] = inj.demand * inj.served_frac
        net.load["q_mvar"] = inj.demand * inj.served_frac * inj.qratio
        net.sgen["p_mw"] = inj.pv_grid
        net.storage["p_mw"] = inj.st_p
        for pos, g in enumerate(self.plants):
            net.gen.at[g, "p_mw"] = self.plant_p[pos] if self.plant_ok[pos] else 0.0
        converged, bad = self._run(islands, live_slack, t, events)
        for isl in bad:
            isl.kind = "dead"
        if bad:
            self._island_sig = None
        return converged

    def _run(self, islands: list[Island], live_slack: set[int], t: int,
             events: list[Event]) -> tuple[bool, list[Island]]:
        """AC power flow with reuse, retries and per-island isolation on failure; returns
        (converged, the islands that failed and are now dead)."""
        net = self.net
        if not any(isl.kind != "dead" for isl in islands):
            self._clear_results()
            return True, []
        key = tuple(
            net[tab][c].to_numpy(dtype=float).tobytes()
            for tab, c in (("bus", "in_service"), ("line", "in_service"), ("trafo", "in_service"),
                           ("switch", "closed"), ("ext_grid", "in_service"), ("gen", "in_service"),
                           ("gen", "p_mw"))
        )
        recycle = key == self.topology_key and self.last_converged
        self.topology_key = key
        if self.solver.solve(net, recycle=recycle):
            self.last_converged = True
            return True, []
        self.last_converged = False
        bad = self._isolate_failures(islands, t, events)
        if all(isl.kind == "dead" for isl in islands):
            self._clear_results()
            return False, bad
        if self.solver.solve_cold(net):
            return True, bad
        for isl in islands:
            if isl.kind != "dead" and isl not in bad:
                bad.append(isl)
                self._non_convergence_event(isl, t, events)
        return False, bad

    def _clear_results(self) -> None:
        """No island to solve: every result is NaN (dead), and the next run starts afresh."""
        self.solver.reset(self.net)
        self.topology_key = None
        self.last_converged = False

    def _non_convergence_event(self, isl: Island, t: int, events: list[Event]) -> str:
        ev = make_event(t, "power", isl.source or "power/grid", "non_convergence", 0.0, "", "simulator")
        events.append(ev)
        for b in isl.buses:
            self.dead_cause.setdefault(b, ev["event_id"])
            self._nc_cause[b] = ev["event_id"]
        return ev["event_id"]

    def _isolate_failures(self, islands: list[Island], t: int, events: list[Event]) -> list[Island]:
        """Solve each live island alone; de-energise those that do not converge."""
        net = self.net
        self._nc_cause = {}
        saved = net.bus["in_service"].copy()
        bad: list[Island] = []
        live = [isl for isl in islands if isl.kind != "dead"]
        for isl in live:
            others = [b for o in live if o is not isl for b in o.buses]
            net.bus.loc[others, "in_service"] = False
            if not self.solver.solve_cold(net):
                bad.append(isl)
            net.bus["in_service"] = saved
        for isl in bad:
            self._non_convergence_event(isl, t, events)
            net.bus.loc[sorted(isl.buses), "in_service"] = False
            isl.kind = "dead"
        self.topology_key = None
        return bad
