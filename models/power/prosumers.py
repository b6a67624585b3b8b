"""Prosumers and storage: home batteries by mode, microgrid set-points, energy bookkeeping.

Part of :class:`~twin.models.power.grid.PowerGrid` (a mixin); owns the storage state
``energy`` (MWh per storage element) between ``e_min`` and ``e_max``, with one-way
efficiency ``eta`` on charge and discharge.

Modes of home batteries: ``self_consumption`` (cover the prosumers' net load, charge from
surplus PV), ``backup`` (the same, keeping ``reserve_share`` for outages), ``grid_support``
(discharge at full power in the evening peak down to the reserve). While its bus is dead
(or its load shed) a prosumer household supplies itself from PV and battery as long as
they cover its demand.
"""

from __future__ import annotations

import math

import numpy as np

from twin.models.power.common import BATTERY_MODES, EPS, PEAK_PROFILE, Island
from twin.models.power.profiles import household_factor


class ProsumerMixin:
    """Home batteries, community batteries and their state of charge."""

    def _dispatch_homes(self, t: int, modes: dict[str, int], inj) -> None:  # type: ignore[no-untyped-def]
        """Home batteries, element by element; a household whose load the network does not
        fully serve runs on its own PV and battery if they cover its demand (then served
        and not out), else its battery idles."""
        net = self.net
        peak = household_factor(t) >= PEAK_PROFILE  # evening peak: grid-support batteries discharge
        dt_h = self.step_s / 3600.0
        demand, served_frac, pv, st_p = inj.demand, inj.served_frac, inj.pv, inj.st_p
        st_on = net.storage["in_service"].to_numpy(dtype=bool)
        for s_pos, s in enumerate(net.storage.index):
            if int(s) not in self.home_load:
                continue
            lp = self.home_load[int(s)]
            n = self.storage_customers[s_pos]
            mode = BATTERY_MODES[modes.get(self.storage_names[s_pos], BATTERY_MODES.index(self.default_mode))]
            if lp is None or not st_on[s_pos]:
                continue
            share = n / max(1.0, float(self.load_customers[lp]))
            pros_load = demand[lp] * share
            pros_pv = sum(pv[p] for p in self._pv_of_load.get(lp, ()))
            grid_ok = served_frac[lp] > 0.999
            if grid_ok:
                st_p[s_pos] = self._home_battery(s_pos, mode, pros_load, pros_pv, True, peak, dt_h)
                inj.st_cells[s_pos] = st_p[s_pos]
                continue
            # islanded household systems (bus dead or load shed): behind the inverter, PV and
            # battery cover the prosumers' unserved share or trip; they never exchange power
            # with the network (a shed home must not charge from a microgrid or the grid)
            need = pros_load * (1 - served_frac[lp])
            p = self._home_battery(s_pos, mode, need, pros_pv, False, peak, dt_h)
            supply = pros_pv - p
            if supply + EPS >= need and need > 0:
                inj.self_served[lp] += need
                inj.covered_customers[lp] += n * (1 - served_frac[lp])
                surplus = supply - need
                if surplus > 0 and p < 0:
                    p = min(0.0, p + surplus)
            else:
                p = 0.0
            inj.st_cells[s_pos] = p
            st_p[s_pos] = 0.0
            for q in self._pv_of_load.get(lp, ()):
                inj.pv_grid[q] = 0.0

    def _dispatch_microgrids(self, islands: list[Island], bus_island: dict[int, int], inj) -> None:  # type: ignore[no-untyped-def]
        """Community batteries: idle charging on the grid, energy sharing in an island."""
        dt_h = self.step_s / 3600.0
        for pos, s in enumerate(self.net.storage.index):
            if s in self.microgrids:
                inj.st_p[pos] = self._microgrid_setpoint(pos, s, islands, bus_island, dt_h)
        self._share_island_load(islands, inj.demand * inj.served_frac, inj.pv_grid, inj.st_p, dt_h)
        for pos in self._microgrid_pos:
            inj.st_cells[pos] = inj.st_p[pos]
        self._curtail_to_room(islands, inj, dt_h)

    def _curtail_to_room(self, islands: list[Island], inj, dt_h: float) -> None:  # type: ignore[no-untyped-def]
        """PV that the island's slack battery could not store is curtailed (before the flow;
        losses only lower what the slack absorbs)."""
        for isl in islands:
            if isl.kind != "microgrid":
                continue
            slack = self._storage_pos[isl.microgrids[0]]
            in_isl = self._in_island(isl)
            surplus = float(inj.pv_grid[in_isl["sgen"]].sum() - (inj.demand * inj.served_frac)[in_isl["load"]].sum()
                            - inj.st_p[in_isl["storage"]].sum())
            room = max(0.0, (self.e_max[slack] - self.energy[slack]) / (self.eta * dt_h))
            pv_total = float(inj.pv_grid[in_isl["sgen"]].sum())
            if surplus > room and pv_total > 0:
                keep = max(0.0, 1.0 - (surplus - room) / pv_total)
                inj.pv_grid[in_isl["sgen"]] *= keep

    def _in_island(self, isl: Island) -> dict[str, np.ndarray]:
        """Masks of the load, sgen, storage elements on the island's buses."""
        net = self.net
        return {t: np.array([int(b) in isl.buses for b in net[t]["bus"]], dtype=bool)
                for t in ("load", "sgen", "storage")}

    def _home_battery(self, pos: int, mode: str, load_mw: float, pv_mw: float, grid_ok: bool,
                      peak: bool, dt_h: float) -> float:
        """Storage power (MW, + charging) of one home battery element for this step."""
        e, e_max = self.energy[pos], self.e_max[pos]
        floor = self.e_min[pos]
        if grid_ok and mode in ("backup", "grid_support"):
            floor = max(floor, self.reserve_share * e_max)
        room_mw = max(0.0, (e_max - e) / (self.eta * dt_h))
        avail_mw = max(0.0, (e - floor) * self.eta / dt_h)
        pmax = self.p_max[pos]
        net_mw = load_mw - pv_mw
        if net_mw < 0:
            p = min(-net_mw, pmax, room_mw)
        elif grid_ok and mode == "grid_support" and not peak:
            p = 0.0
        elif grid_ok and mode == "grid_support":
            p = -min(pmax, avail_mw)
        else:
            p = -min(net_mw, pmax, avail_mw)
        return float(p)

    def _microgrid_setpoint(self, pos: int, s: int, islands: list[Island], bus_island: dict[int, int],
                            dt_h: float) -> float:
        """Grid-connected community batteries recharge gently; slack ones are set by the flow."""
        net = self.net
        b = int(net.storage.at[s, "bus"])
        isl = islands[bus_island[b]] if b in bus_island else None
        if isl is None or not net.storage.at[s, "in_service"]:
            return 0.0
        if isl.kind in ("grid", "plant"):
            room = max(0.0, (self.e_max[pos] - self.energy[pos]) / (self.eta * dt_h))
            return float(min(0.25 * self.p_max[pos], room))
        return 0.0

    def _share_island_load(self, islands: list[Island], load_mw, pv_mw, st_p, dt_h: float) -> None:
        """Non-slack community batteries of an island carry their energy share of its net load."""
        net = self.net
        for isl in islands:
            if isl.kind != "microgrid" or len(isl.microgrids) < 2:
                continue
            in_isl = np.array([int(b) in isl.buses for b in net.load["bus"]], dtype=bool)
            pv_in = np.array([int(b) in isl.buses for b in net.sgen["bus"]], dtype=bool)
            st_in = np.array([int(b) in isl.buses for b in net.storage["bus"]], dtype=bool)
            net_mw = float(load_mw[in_isl].sum() - pv_mw[pv_in].sum() + st_p[st_in].sum())
            pos = [int(np.flatnonzero(net.storage.index == s)[0]) for s in isl.microgrids]
            usable = np.array([max(0.0, self.energy[p] - self.e_min[p]) for p in pos])
            if usable.sum() <= 0:
                continue
            for k, p in enumerate(pos[1:], start=1):
                st_p[p] = -max(0.0, min(self.p_max[p], usable[k] * self.eta / dt_h,
                                        net_mw * usable[k] / usable.sum()))

    def _update_energy(self, islands: list[Island], st_cells: np.ndarray, dt_h: float) -> None:
        """State of charge: the power into each battery's cells (``st_cells``, + charging)
        for PQ batteries, the slack output for grid-forming ones; one-way efficiency ``eta``
        on each side. Records the step's charge and discharge (MW) per element."""
        net = self.net
        slack_p: dict[int, float] = {}
        for isl in islands:
            if isl.kind == "microgrid":
                e = self.slack_of[("storage", isl.microgrids[0])]
                p = float(net.res_ext_grid.at[e, "p_mw"]) if len(net.res_ext_grid) else math.nan
                slack_p[isl.microgrids[0]] = 0.0 if math.isnan(p) else p
        self.cells_p = np.zeros(len(net.storage))
        for pos, s in enumerate(net.storage.index):
            charge = float(st_cells[pos])
            if int(s) in slack_p:
                charge = -slack_p[int(s)]  # ext_grid p > 0 means the battery delivers
            self.cells_p[pos] = charge
            if charge >= 0:
                self.energy[pos] += charge * dt_h * self.eta
            else:
                self.energy[pos] += charge * dt_h / self.eta
            self.energy[pos] = max(0.0, min(self.e_max[pos], self.energy[pos]))
