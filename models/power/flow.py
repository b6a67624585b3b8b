"""Solving the islands: the power flow through the solver interface, with reuse while the
topology holds, and per-island isolation when the whole net does not converge.

Part of :class:`~twin.models.power.grid.PowerGrid` (a mixin); the backend is
``self.solver`` (:class:`~twin.models.power.solver.PowerFlowSolver`).
"""

from __future__ import annotations

import numpy as np

from twin.events import Event, make_event
from twin.models.power.common import Island, column, set_column

COLLAPSE_BLOCKS = 10  # a non-converging island sheds its load in blocks of 1/10
MAX_REFITS = 20  # re-solves per step to keep slack batteries within their energy
ENERGY_TOL_MWH = 1e-9  # energy a slack battery may go beyond its bounds in one step (rounding)


class FlowMixin:
    """The power flow of one step over the islands that have a source."""

    def _solve(self, islands: list[Island], inj, t: int, events: list[Event],  # type: ignore[no-untyped-def]
               failed: dict[str, str]) -> bool:
        """Write the step's set-points into the net and run the power flow; then keep every
        slack community battery within its energy (shed the next load when the losses made
        it overdraw, curtail PV when it cannot store the surplus) and solve again. Islands
        that fail become dead (and the islands are recomputed next step)."""
        self._collapse_shed = set()
        inj.pickup = self.protection.pickup_factor(self, t, inj.served_frac)
        converged, bad = self._write_and_run(islands, inj, t, events, isolate=False)
        if not converged:
            converged = self._shed_for_convergence(islands, inj, t, failed)
        if not converged:  # shedding did not help: the islands that still fail go dark
            converged, bad = self._write_and_run(islands, inj, t, events)
        for _ in range(MAX_REFITS):
            if not converged or not self._refit_microgrids(islands, inj, t, events, failed):
                break
            converged, more = self._write_and_run(islands, inj, t, events)
            bad += more
        if converged:  # protection: trips after a converged flow, iterated (models/power/protection.py)
            converged = self.protection.after_flow(self, t, events, inj.served_frac)
        for isl in bad:
            isl.kind = "dead"
        if bad:
            self._island_sig = None
        return converged

    def _write_and_run(self, islands: list[Island], inj, t: int,  # type: ignore[no-untyped-def]
                       events: list[Event], isolate: bool = True) -> tuple[bool, list[Island]]:
        net = self.net
        live_slack = self._set_slacks(islands)
        set_column(net.load, "p_mw", inj.demand * inj.served_frac * inj.pickup)
        set_column(net.load, "q_mvar", inj.demand * inj.served_frac * inj.pickup * inj.qratio)
        set_column(net.sgen, "p_mw", inj.pv_grid)
        set_column(net.storage, "p_mw", inj.st_p)
        if self.plants:  # every generator is a plant, in row order (PowerGrid._prepare)
            set_column(net.gen, "p_mw", np.where(self.plant_ok, self.plant_p, 0.0))
        return self._run(islands, live_slack, t, events, isolate)

    def _shed_for_convergence(self, islands: list[Island], inj, t: int,  # type: ignore[no-untyped-def]
                              failed: dict[str, str]) -> bool:
        """The power flow did not converge: in each island that fails on its own, shed 10 %
        blocks of its load in shed order (of its PV fed in, where the island exports) and
        solve again, up to the whole of it. Returns whether it converged; if not, every
        set-point is as before and the caller de-energises what still fails."""
        failing = self._failing_islands(islands)
        if not failing:
            return False
        saved = (inj.served_frac.copy(), inj.pv_grid.copy(), inj.st_p.copy(), inj.st_cells.copy(),
                 dict(inj.shed_cause))
        base = {id(isl): (inj.demand * inj.served_frac).copy() for isl in failing}
        for k in range(1, COLLAPSE_BLOCKS + 1):
            for isl in failing:
                self._shed_block(isl, inj, base[id(isl)], k / COLLAPSE_BLOCKS, saved[1], failed)
            converged, _ = self._write_and_run(islands, inj, t, [], isolate=False)
            if converged:
                return True
        inj.served_frac[:], inj.pv_grid[:], inj.st_p[:], inj.st_cells[:] = saved[:4]
        inj.shed_cause.clear()
        inj.shed_cause.update(saved[4])
        inj.pv_collapse_mw.clear()
        self._collapse_shed = set()
        return False

    def _shed_block(self, isl: Island, inj, base_load: np.ndarray, share: float,  # type: ignore[no-untyped-def]
                    base_pv: np.ndarray, failed: dict[str, str]) -> None:
        """Cut ``share`` of the island's load (its loads in shed order, partly if need be),
        or of its PV where the island's PV exceeds its load."""
        pv_in = self._in_island(isl)["sgen"]
        load_mw = float(sum(base_load[p] for p in isl.loads))
        if float(base_pv[pv_in].sum()) > load_mw:
            inj.pv_grid[pv_in] = base_pv[pv_in] * (1.0 - share)
            inj.pv_collapse_mw[id(isl)] = float(base_pv[pv_in].sum()) * share
            return
        cut = share * load_mw
        cause = self._shortage_cause(isl, failed)
        for pos in sorted(isl.loads, key=lambda p: self._shed_rank(p, inj.demand)):
            if base_load[pos] <= 0:
                continue
            take = min(cut, base_load[pos])
            cut -= take
            frac = (base_load[pos] - take) / inj.demand[pos]
            if frac < inj.served_frac[pos] - 1e-12:
                inj.served_frac[pos] = frac
                inj.shed_cause.setdefault(pos, cause)
                self._collapse_shed.add(pos)
                self._off_network_home(pos, inj)
            if cut <= 0:
                break

    def _off_network_home(self, pos: int, inj) -> None:  # type: ignore[no-untyped-def]
        """A load no longer fully served: its home systems idle, off the network."""
        for s_pos, s in enumerate(self.net.storage.index):
            if self.home_load.get(int(s)) == pos:
                inj.st_p[s_pos] = 0.0
                inj.st_cells[s_pos] = 0.0
        for q in self._pv_of_load.get(pos, ()):
            inj.pv_grid[q] = 0.0

    def _failing_islands(self, islands: list[Island]) -> list[Island]:
        """The live islands whose power flow does not converge on its own."""
        net = self.net
        saved = net.bus["in_service"].copy()
        live = [isl for isl in islands if isl.kind != "dead"]
        bad = []
        for isl in live:
            others = [b for o in live if o is not isl for b in o.buses]
            net.bus.loc[others, "in_service"] = False
            if not self.solver.solve_cold(net):
                bad.append(isl)
            net.bus["in_service"] = saved
        self.topology_key = None
        return bad

    def _refit_microgrids(self, islands: list[Island], inj, t: int, events: list[Event],  # type: ignore[no-untyped-def]
                          failed: dict[str, str]) -> bool:
        """Adjust islands whose slack battery went beyond its energy in the flow just run;
        returns whether anything changed (then the flow must run again)."""
        net = self.net
        dt_h = self.step_s / 3600.0
        changed = False
        for isl in islands:
            if isl.kind != "microgrid":
                continue
            s = isl.microgrids[0]
            pos = self._storage_pos[s]
            p = float(net.res_ext_grid.at[self.slack_of[("storage", s)], "p_mw"])  # + delivering
            usable = self.energy[pos] - self.e_min[pos]
            room = self.e_max[pos] - self.energy[pos]
            if p > 0 and p * dt_h / self.eta > usable + ENERGY_TOL_MWH:
                self._shed_next(t, isl, inj, events, failed)
                changed = True
            elif p < 0 and -p * dt_h * self.eta > room + ENERGY_TOL_MWH:
                in_isl = self._in_island(isl)["sgen"]
                pv_total = float(inj.pv_grid[in_isl].sum())
                excess = -p - room / (dt_h * self.eta)
                if pv_total > 0:
                    inj.pv_grid[in_isl] *= max(0.0, 1.0 - excess / pv_total)
                    changed = True
        return changed

    def _shed_next(self, t: int, isl: Island, inj, events: list[Event],  # type: ignore[no-untyped-def]
                   failed: dict[str, str]) -> None:
        """Shed the island's next load in shed order (its home system then idles, off the
        network); with nothing left to shed the island is exhausted."""
        served = [p for p in isl.loads if inj.served_frac[p] > 0 and inj.demand[p] > 0]
        if not served:
            self._deplete(t, isl, events)
            return
        pos = min(served, key=lambda p: self._shed_rank(p, inj.demand))
        inj.served_frac[pos] = 0.0
        inj.shed_cause.setdefault(pos, self._shortage_cause(isl, failed))
        self._off_network_home(pos, inj)

    def _run(self, islands: list[Island], live_slack: set[int], t: int,
             events: list[Event], isolate: bool = True) -> tuple[bool, list[Island]]:
        """AC power flow with reuse, retries and per-island isolation on failure; returns
        (converged, the islands that failed and are now dead)."""
        net = self.net
        if not any(isl.kind != "dead" for isl in islands):
            self._clear_results()
            return True, []
        key = tuple(
            np.asarray(column(net[tab], c), dtype=float).tobytes()
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
        if not isolate:
            return False, []
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
        bad = self._failing_islands(islands)
        for isl in bad:
            self._non_convergence_event(isl, t, events)
            net.bus.loc[sorted(isl.buses), "in_service"] = False
            isl.kind = "dead"
        self.topology_key = None
        return bad
