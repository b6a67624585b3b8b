"""What a step reports: the series (units in the names), the down-set and the telemetry.

Part of :class:`~twin.models.power.grid.PowerGrid` (a mixin); reads the state, changes
nothing.
"""

from __future__ import annotations

import math

import numpy as np

from twin.events import Event
from twin.models.power.common import Island, StepResult
from twin.models.power.consumers import SHED_UNSUPPLIED


class OutputsMixin:
    """Series, down-set and telemetry of a step."""

    def _result(self, t: int, demand, served, covered, islands: list[Island], events: list[Event],
                converged: bool) -> StepResult:
        net = self.net
        cust = self.load_customers
        live_load = np.array([b in self.energised for b in self.load_bus])
        served_share = np.where(live_load, 1.0 - self.shed_frac, 0.0)
        out = cust * (1.0 - served_share) - covered
        masks = self._district_mask
        d_served = {d: float(served[masks[d]].sum()) for d in self.districts}
        d_demand = {d: float(demand[masks[d]].sum()) for d in self.districts}
        d_out = {d: float(max(0.0, out[masks[d]].sum())) for d in self.districts}
        loading = {}
        if len(net.res_line) == len(net.line):
            lp = net.res_line["loading_percent"].tolist()
            loading = {n: (0.0 if math.isnan(v) else float(v)) for n, v in zip(self.line_names, lp, strict=True)}
        else:
            loading = {n: 0.0 for n in self.line_names}
        soc = {}
        for a in self.storage_assets:
            m = self._storage_mask[a]
            cap = float(self.e_max[m].sum())
            soc[a] = float(self.energy[m].sum() / cap) if cap > 0 else 0.0
        series: dict[str, float | dict[str, float]] = {
            "served_mw": float(served.sum()),
            "demand_mw": float(demand.sum()),
            "district_served_mw": d_served,
            "district_demand_mw": d_demand,
            "customers_out": d_out,
            "bus_energised": {self.bus_names[b]: float(b in self.energised) for b in sorted(self.bus_names)},
            "load_served_mw": {n: float(v) for n, v in zip(self.load_names, served, strict=True)},
            "line_loading_pct": loading,
            "battery_soc": soc,
            "pv_mw": float(net.sgen["p_mw"].sum()) if len(net.sgen) else 0.0,
            **self._storage_series(),
            **self._island_balance(islands, converged),
        }
        # Down-set: each dead bus -> its own de-energised event, so consumers' events chain
        # through the bus to the fault (docs/architecture.md). Buses dead from the start have
        # no such event and fall back to what killed them.
        dead = {
            self.bus_names[b]: self.dead_event.get(b, self.dead_cause.get(b, ""))
            for b in sorted(self.bus_names) if b not in self.energised
        }
        switch_closed = {n: bool(c) for n, c in zip(self.switch_names, net.switch["closed"].tolist(), strict=True)}
        telemetry = self._telemetry(t, demand, islands, soc, switch_closed)
        return StepResult(t, dead, switch_closed, series, events, telemetry, converged,
                          self._unsupplied())

    def _unsupplied(self) -> dict[str, str]:
        """Coupled consumers (loads named by a non-power id) on a live bus whose load is shed
        by at least ``SHED_UNSUPPLIED``: {consumer id: its load's ``shed`` event}."""
        return {
            name: self.shed_event.get(pos, "")
            for pos, name in enumerate(self.load_names)
            if not name.startswith("power/") and self.load_bus[pos] in self.energised
            and self.shed_frac[pos] >= SHED_UNSUPPLIED
        }

    def _telemetry(self, t: int, demand, islands: list[Island], soc: dict[str, float],
                   switch_closed: dict[str, bool]) -> dict:
        """What the grid reports to control (policy input); see docs/policies.md."""
        net = self.net
        island_of_load: dict[int, str] = {}
        isl_out = []
        for k, isl in enumerate(islands):
            if not isl.loads:
                continue
            iid = isl.source or f"dead-{k}"
            for p in isl.loads:
                island_of_load[p] = iid
            energy = 0.0
            if isl.kind == "microgrid":
                pos = [int(np.flatnonzero(net.storage.index == s)[0]) for s in isl.microgrids]
                energy = float(sum(self.energy[p] - self.e_min[p] for p in pos))
            isl_out.append({
                "id": iid, "kind": isl.kind,
                "cause_id": self._shortage_cause(isl, self._failed) if isl.kind != "dead" else "",
                "capacity_mw": float(isl.capacity_mw) if math.isfinite(isl.capacity_mw) else -1.0,
                "demand_mw": float(sum(demand[p] for p in isl.loads)),
                "energy_mwh": energy,
            })
        energised = self.energised
        loads = {
            name: {"demand_mw": float(d), "served": b in energised and shed < 0.5, "critical": crit,
                   "category": cat, "district": dist, "island": island_of_load.get(pos, "")}
            for pos, (name, d, b, shed, crit, cat, dist) in enumerate(zip(
                self.load_names, demand.tolist(), self.load_bus, self.shed_frac.tolist(), self.load_critical,
                self.load_category, self.load_district_list, strict=True))
        }
        bus_kind: dict[str, str] = {}
        for isl in islands:
            for b in isl.buses:
                bus_kind[self.bus_names[b]] = isl.kind if b in self.energised else "dead"
        for name in self.bus_names.values():
            bus_kind.setdefault(name, "dead")  # failed (out-of-service) buses
        failed = self._failed
        branches = [{**br, "failed": br["id"] in failed, "cause_id": failed.get(br["id"], "")}
                    for br in self._branches]
        return {
            "time_s": int(t), "step_s": self.step_s, "islands": isl_out, "loads": loads,
            "battery_soc": dict(soc), "switch_closed": dict(switch_closed),
            "switch_normally_closed": dict(self._switch_normal),
            "buses": bus_kind, "branches": branches,
        }

    def _storage_series(self) -> dict[str, dict[str, float]]:
        """Per storage asset: energy (MWh) and the step's charge and discharge into its cells
        (MW, each >= 0; the SoC moves by charge * eta - discharge / eta over the step)."""
        cells = self.cells_p
        out: dict[str, dict[str, float]] = {"battery_energy_mwh": {}, "storage_charge_mw": {},
                                            "storage_discharge_mw": {}}
        for a in self.storage_assets:
            m = self._storage_mask[a]
            out["battery_energy_mwh"][a] = float(self.energy[m].sum())
            out["storage_charge_mw"][a] = float(np.maximum(cells[m], 0.0).sum())
            out["storage_discharge_mw"][a] = float(np.maximum(-cells[m], 0.0).sum())
        return out

    def _island_balance(self, islands: list[Island], converged: bool) -> dict[str, dict[str, float]]:
        """Each live island's energy balance from the power-flow results, keyed by its
        source (external grid, plant or slack community battery; 0 while not a source):
        generation (external grid, plants, PV; MW) + storage discharge = load + storage
        charge + losses (``res_line.pl_mw + res_trafo.pl_mw``); ``island_mismatch_mw`` is
        what is left (a check, never used as losses)."""
        net = self.net
        names = ("generation", "load", "storage_charge", "storage_discharge", "losses", "mismatch")
        out = {f"island_{n}_mw": dict.fromkeys(self._island_keys, 0.0) for n in names}
        if not converged or not len(net.res_bus):
            return out

        def res(table: str, col: str = "p_mw") -> np.ndarray:
            r = net[f"res_{table}"]
            if len(r) != len(net[table]) or col not in r:
                return np.zeros(len(net[table]))
            a = r[col].to_numpy(dtype=float)
            # nan_to_num only when needed: its Python wrapper costs more than the check
            return a if np.isfinite(a).all() else np.nan_to_num(a)

        ext_p, gen_p, sgen_p = res("ext_grid"), res("gen"), res("sgen")
        st_p, load_p = res("storage"), res("load")
        line_pl, trafo_pl = res("line", "pl_mw"), res("trafo", "pl_mw")
        ext_storage = np.isin(net.ext_grid.index, list(self._slack_storage))
        topo = (net.switch["closed"].to_numpy().tobytes(), net.line["in_service"].to_numpy().tobytes(),
                net.trafo["in_service"].to_numpy().tobytes())
        cache = getattr(self, "_balance_cache", None)
        if cache is None or cache[0] != topo:  # branch ends and island masks, per topology
            cache = (topo, self._connected_ends("line", "from_bus", "to_bus", "l"),
                     self._connected_ends("trafo", "hv_bus", "lv_bus", "t"), {})
            self._balance_cache = cache
        _, line_ends, trafo_ends, masks = cache
        for isl in islands:
            if isl.kind == "dead" or isl.source not in self._island_keys:
                continue
            b = isl.buses
            held = masks.get(id(b))
            if held is None or held[0] is not b or held[1] != len(b):
                held = (b, len(b), self._island_masks(b, line_ends, trafo_ends))
                masks[id(b)] = held
            m = held[2]
            ext_in = m["ext_grid"]
            mg = ext_p[ext_in & ext_storage]
            gen = float(ext_p[ext_in & ~ext_storage].sum() + gen_p[m["gen"]].sum() + sgen_p[m["sgen"]].sum())
            st = st_p[m["storage"]]
            charge = float(np.maximum(st, 0.0).sum() + np.maximum(-mg, 0.0).sum())
            discharge = float(np.maximum(-st, 0.0).sum() + np.maximum(mg, 0.0).sum())
            load = float(load_p[m["load"]].sum())
            losses = float(sum(line_pl[i] for i in m["line"]) + sum(trafo_pl[i] for i in m["trafo"]))
            k = isl.source
            out["island_generation_mw"][k] = gen
            out["island_load_mw"][k] = load
            out["island_storage_charge_mw"][k] = charge
            out["island_storage_discharge_mw"][k] = discharge
            out["island_losses_mw"][k] = losses
            out["island_mismatch_mw"][k] = gen + discharge - load - charge - losses
        return out

    def _island_masks(self, b: set[int], line_ends: list[set[int]], trafo_ends: list[set[int]]) -> dict:
        """Which elements sit in the island of buses ``b`` (masks), and which branches touch
        it at a connected end (positions, in order)."""
        net = self.net

        def on(buses) -> np.ndarray:  # type: ignore[no-untyped-def]
            return np.fromiter((int(x) in b for x in buses), dtype=bool, count=len(buses))

        out = {t: on(net[t]["bus"]) for t in ("ext_grid", "gen", "sgen", "storage", "load")}
        out["line"] = [i for i, ends in enumerate(line_ends) if ends & b]
        out["trafo"] = [i for i, ends in enumerate(trafo_ends) if ends & b]
        return out

    def _connected_ends(self, table: str, a: str, b: str, et: str) -> list[set[int]]:
        """Per branch, the end buses it is connected at (an open switch at an end cuts it)."""
        net = self.net
        sw = net.switch
        open_at = {(int(e), int(bus)) for e, bus, t, c in zip(sw["element"], sw["bus"], sw["et"], sw["closed"],
                                                               strict=True) if t == et and not c}
        out = []
        for i, fa, fb, ok in zip(net[table].index, net[table][a], net[table][b], net[table]["in_service"],
                                 strict=True):
            if not ok:
                out.append(set())
                continue
            out.append({int(x) for x in (fa, fb) if (int(i), int(x)) not in open_at})
        return out
