"""Prosumers and storage: home batteries by mode, microgrid set-points, energy bookkeeping.

Part of :class:`~twin.models.power.grid.PowerGrid` (a mixin); owns the storage state
``energy`` (MWh per storage element) between ``e_min`` and ``e_max``, with one-way
efficiency ``eta`` on charge and discharge.

Modes of home batteries: ``self_consumption`` (cover the prosumers' net load, charge from
surplus PV), ``backup`` (the same, keeping ``reserve_share`` for outages), ``grid_support``
(discharge at full power in the evening peak down to the reserve). While its bus is dead
(or its load shed) only a backup-capable prosumer household (``backup_capable_share`` of
each element, split off as its own storage row) supplies itself from PV and battery, up
to its inverter's backup rating; the others' PV trips with the grid (anti-islanding), and
every home system reconnects ``PV_RECONNECT_S`` after the network returns.
"""

from __future__ import annotations

import math

import numpy as np

from twin.models.power.common import (
    BATTERY_MODES,
    EPS,
    PEAK_PROFILE,
    PV_RECONNECT_S,
    Island,
    PowerGridError,
    column,
)
from twin.models.power.profiles import household_factor


class ProsumerMixin:
    """Home batteries, community batteries and their state of charge."""

    def _split_home_batteries(self) -> None:
        """Split each home-battery element of ``n`` households into a backup-capable one
        (``n * backup_share`` households, energy and power scaled alike; column ``backup``
        True) and the rest, so the two keep their own state of charge: only the backup-capable
        homes draw their batteries while the network is away. Rows keep the asset id."""
        import pandas as pd

        st = self.net.storage
        done = self.net.get("backup_capable_share_split") if hasattr(self.net, "get") else None
        if done is not None:  # this net object was split already (by an earlier PowerGrid)
            if abs(float(done) - self.backup_share) > EPS:
                raise PowerGridError(f"this net's home batteries were split at backup_capable_share "
                                     f"{done}; build a fresh net for {self.backup_share}")
            return
        self.net["backup_capable_share_split"] = self.backup_share
        st["backup"] = st["type"] == "grid_forming"  # irrelevant for community batteries
        st["customers"] = st["customers"].astype(float)
        s = self.backup_share
        homes = [i for i in st.index if st.at[i, "type"] != "grid_forming"]
        if s >= 1.0:
            st.loc[homes, "backup"] = True
            return
        if s <= 0.0 or not homes:
            return
        scaled = ("customers", "max_e_mwh", "min_e_mwh", "max_p_mw", "min_p_mw", "sn_mva")
        cols = [c for c in scaled if c in st.columns]
        extra = st.loc[homes].copy()
        extra[cols] = extra[cols] * s
        extra["backup"] = True
        st.loc[homes, cols] = st.loc[homes, cols] * (1.0 - s)
        extra.index = range(int(st.index.max()) + 1, int(st.index.max()) + 1 + len(extra))
        self.net.storage = pd.concat([st, extra])

    def _sgen_positions(self) -> list[tuple[float, float]]:
        """(x, y) in metres of each sgen's bus (``bus.geo`` GeoJSON; NaN where it has none, so
        no storm covers it)."""
        import json

        geo = self.net.bus["geo"] if "geo" in self.net.bus.columns else None
        out = []
        for b in self.net.sgen["bus"]:
            try:
                x, y = json.loads(geo.at[int(b)])["coordinates"][:2]  # type: ignore[union-attr]
                out.append((float(x), float(y)))
            except (AttributeError, TypeError, KeyError, ValueError):
                out.append((math.nan, math.nan))
        return out

    def _dispatch_homes(self, t: int, modes: dict[str, int], inj) -> None:  # type: ignore[no-untyped-def]
        """Home systems, element by element. While the network fully serves its load, a home
        battery runs its mode; its PV feeds in. Otherwise (bus dead, load shed) every PV
        inverter leaves the network (anti-islanding) and only the backup-capable homes island:
        they serve their own load up to ``backup_mw`` each from PV and battery (served
        and, as far as served, not out); the others' PV and battery idle. After the network
        returns, the homes' PV and batteries stay off it for ``PV_RECONNECT_S``
        (IEEE 1547-2018 enter-service delay) while the network serves their whole load.

        The served homes are computed as arrays (:meth:`_home_batteries`; ~800 elements on
        the SimBench grid), the islanded ones element by element, in storage order."""
        net = self.net
        peak = household_factor(t) >= PEAK_PROFILE  # evening peak: grid-support batteries discharge
        dt_h = self.step_s / 3600.0
        demand, served_frac, pv, st_p = inj.demand, inj.served_frac, inj.pv, inj.st_p
        held = self._reconnect_hold(t, served_frac)
        h = self._home_arrays()
        pos, lp = h["pos"], h["lp"]
        if len(pos):
            active = np.asarray(column(net["storage"], "in_service"), dtype=bool)[pos]
            if held:
                active &= ~np.isin(lp, np.fromiter(held, dtype=int, count=len(held)))
            mode = np.full(len(pos), BATTERY_MODES.index(self.default_mode))
            for name, m in modes.items():
                mode[h["names"] == name] = m
            home_pv = np.zeros(len(pos))
            for k in range(h["pv_idx"].shape[1]):  # in order, as a sum over each load's PV
                home_pv = home_pv + np.where(h["pv_idx"][:, k] >= 0, pv[np.maximum(h["pv_idx"][:, k], 0)], 0.0)
            pros_load = demand[lp] * h["n"] / h["load_customers"]
            pros_pv = home_pv * h["n"] / h["home_customers"]
            on_grid = active & (served_frac[lp] > 0.999)
            if on_grid.any():
                p = self._home_batteries(pos[on_grid], mode[on_grid], pros_load[on_grid], pros_pv[on_grid],
                                         peak, dt_h)
                st_p[pos[on_grid]] = p
                inj.st_cells[pos[on_grid]] = p
            for k in np.flatnonzero(active & ~on_grid):
                # off the network: behind the inverter; they never exchange power with the
                # network (a shed home must not charge from a microgrid or the grid)
                s_pos, load = int(pos[k]), int(lp[k])
                if not self.storage_backup[s_pos]:
                    continue  # anti-islanding: PV and battery trip with the grid
                n = self.storage_customers[s_pos]
                out_share = 1.0 - served_frac[load]
                target = min(pros_load[k] * out_share, n * out_share * self.backup_mw)
                served, p_in = self._islanded_home(s_pos, target, pros_pv[k] * out_share, dt_h)
                inj.self_served[load] += served
                if target > EPS:
                    inj.covered_customers[load] += n * out_share * served / target
                inj.st_cells[s_pos] = p_in
        pv_pos, pv_lp = h["pv_pos"], h["pv_lp"]  # PV behind a household's meter, and its load
        off = served_frac[pv_lp] <= 0.999
        if held:
            off |= np.isin(pv_lp, np.fromiter(held, dtype=int, count=len(held)))
        inj.pv_grid[pv_pos[off]] = 0.0

    def _home_arrays(self) -> dict[str, np.ndarray]:
        """Static arrays of the home-battery elements with a household load, in storage
        order: storage position, load position, asset id, households, the load's and the
        homes' household counts (floored as the dispatch divides by them) and the load's
        PV positions (padded with -1); also every household PV position with its load, and
        the loads with PV or a home battery. Built once."""
        h = getattr(self, "_homes_static", None)
        if h is None:
            st = self.net.storage
            rows = [(p, self.home_load.get(int(s))) for p, s in enumerate(st.index)]
            rows = [(p, lp) for p, lp in rows if lp is not None]
            pos = np.array([p for p, _ in rows], dtype=int)
            lp = np.array([q for _, q in rows], dtype=int)
            width = max((len(self._pv_of_load.get(int(q), ())) for q in lp), default=0)
            pv_idx = np.full((len(lp), width), -1, dtype=int)
            for k, q in enumerate(lp):
                pvs = self._pv_of_load.get(int(q), ())
                pv_idx[k, :len(pvs)] = pvs
            h = {
                "pos": pos, "lp": lp, "pv_idx": pv_idx,
                "names": np.array([self.storage_names[p] for p in pos], dtype=object),
                "n": np.array([self.storage_customers[p] for p in pos], dtype=float),
                "load_customers": np.array([max(1.0, float(self.load_customers[q])) for q in lp], dtype=float),
                "home_customers": np.array([max(EPS, self._home_customers[int(q)]) for q in lp], dtype=float),
                # every PV position behind a household load, and that load (in load order)
                "pv_pos": np.array([q for pvs in self._pv_of_load.values() for q in pvs], dtype=int),
                "pv_lp": np.array([lp_ for lp_, pvs in self._pv_of_load.items() for _ in pvs], dtype=int),
                # the loads with PV or a home battery
                "prosumer_loads": np.array(sorted(self._pv_of_load.keys() | self._homes_of_load), dtype=int),
            }
            self._homes_static = h
        return h

    def _reconnect_hold(self, t: int, served_frac: np.ndarray) -> set[int]:
        """Loads whose home systems wait out the reconnection delay this step: off the
        network at the end of an earlier step, fully served now, for less than
        ``PV_RECONNECT_S`` (rounded up to whole steps)."""
        held = set()
        for lp in list(self._home_off):
            if served_frac[lp] <= 0.999:
                self._home_back_t.pop(lp, None)
                continue
            back = self._home_back_t.setdefault(lp, t)
            if t < back + PV_RECONNECT_S:
                held.add(lp)
            else:
                self._home_off.discard(lp)
                del self._home_back_t[lp]
        return held

    def _note_home_outages(self, served_frac: np.ndarray) -> None:
        """After the step's flow: loads with PV or home batteries that the network did not
        fully serve have their inverters off the network (they reconnect after the delay)."""
        prosumers = self._home_arrays()["prosumer_loads"]
        for lp in prosumers[served_frac[prosumers] <= 0.999].tolist():
            self._home_off.add(lp)
            self._home_back_t.pop(lp, None)

    def _islanded_home(self, pos: int, target_mw: float, pv_mw: float, dt_h: float) -> tuple[float, float]:
        """A backup-capable home system alone: (load served, power into the battery), MW.
        It serves ``target_mw`` as far as PV plus what the battery can deliver over the step
        (down to its minimum, no reserve kept) cover it; surplus PV charges the battery."""
        e, e_max = self.energy[pos], self.e_max[pos]
        pmax = self.p_max[pos]
        avail = min(pmax, max(0.0, (e - self.e_min[pos]) * self.eta / dt_h))
        served = min(target_mw, pv_mw + avail)
        if pv_mw >= served:
            room = max(0.0, (e_max - e) / (self.eta * dt_h))
            return served, float(min(pv_mw - served, pmax, room))
        return served, float(-(served - pv_mw))

    def _dispatch_microgrids(self, islands: list[Island], bus_island: dict[int, int], inj) -> None:  # type: ignore[no-untyped-def]
        """Community batteries: idle charging on the grid, energy sharing in an island."""
        dt_h = self.step_s / 3600.0
        on = np.asarray(column(self.net["storage"], "in_service"), dtype=bool)
        for pos, s in zip(self._microgrid_pos, self.microgrids, strict=True):  # in storage order
            inj.st_p[pos] = self._microgrid_setpoint(pos, s, islands, bus_island, dt_h, bool(on[pos]))
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
        """Masks of the load, sgen, storage elements on the island's buses (kept on the
        island: element buses are static; read them, do not write them)."""
        held = isl.cache.get("in")
        if held is None:
            on = np.zeros(len(self._bus_pos_of_index), dtype=bool)  # by bus index
            if isl.buses:
                on[np.fromiter(isl.buses, dtype=np.int64)] = True
            held = isl.cache["in"] = {t: on[self._element_bus[t]] for t in ("load", "sgen", "storage")}
        return held

    def _home_batteries(self, pos: np.ndarray, mode: np.ndarray, load_mw: np.ndarray, pv_mw: np.ndarray,
                        peak: bool, dt_h: float) -> np.ndarray:
        """Storage power (MW, + charging) of grid-served home-battery elements ``pos`` in
        modes ``mode`` (indices of ``BATTERY_MODES``) for this step: surplus PV charges
        (within power and room); otherwise self-consumption and backup cover the net load
        (backup down to ``reserve_share``), grid support idles outside the evening peak
        and discharges at full power in it, down to the reserve."""
        e, e_max, floor = self.energy[pos], self.e_max[pos], self.e_min[pos]
        grid_support = mode == BATTERY_MODES.index("grid_support")
        keep = grid_support | (mode == BATTERY_MODES.index("backup"))
        floor = np.where(keep, np.maximum(floor, self.reserve_share * e_max), floor)
        room_mw = np.maximum(0.0, (e_max - e) / (self.eta * dt_h))
        avail_mw = np.maximum(0.0, (e - floor) * self.eta / dt_h)
        pmax = self.p_max[pos]
        net_mw = load_mw - pv_mw
        cover = -np.minimum(np.minimum(net_mw, pmax), avail_mw)
        support = -np.minimum(pmax, avail_mw) if peak else np.zeros(len(pos))
        return np.where(net_mw < 0, np.minimum(np.minimum(-net_mw, pmax), room_mw),
                        np.where(grid_support, support, cover))

    def _microgrid_setpoint(self, pos: int, s: int, islands: list[Island], bus_island: dict[int, int],
                            dt_h: float, in_service: bool) -> float:
        """Grid-connected community batteries recharge gently; slack ones are set by the flow."""
        b = int(self._element_bus["storage"][pos])
        isl = islands[bus_island[b]] if b in bus_island else None
        if isl is None or not in_service:
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
        charge = np.array(st_cells, dtype=float)  # a copy
        for s, p in slack_p.items():
            charge[self._storage_pos[int(s)]] = -p  # ext_grid p > 0 means the battery delivers
        self.cells_p = charge
        self.energy += np.where(charge >= 0, charge * dt_h * self.eta, charge * dt_h / self.eta)
        np.clip(self.energy, 0.0, self.e_max, out=self.energy)
