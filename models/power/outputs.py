"""What a step reports: the series (units in the names), the down-set and the telemetry.

Part of :class:`~twin.models.power.grid.PowerGrid` (a mixin); reads the state, changes
nothing.
"""

from __future__ import annotations

import math

import numpy as np

from twin.events import Event
from twin.models.power.common import Island, StepResult


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
        return StepResult(t, dead, switch_closed, series, events, telemetry, converged)

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
        loads = {}
        demand_l = demand.tolist()
        shed_l = self.shed_frac.tolist()
        for pos, name in enumerate(self.load_names):
            loads[name] = {
                "demand_mw": float(demand_l[pos]),
                "served": bool(self.load_bus[pos] in self.energised and shed_l[pos] < 0.5),
                "critical": self.load_critical[pos],
                "category": self.load_category[pos],
                "district": self.load_district_list[pos],
                "island": island_of_load.get(pos, ""),
            }
        bus_kind: dict[str, str] = {}
        for isl in islands:
            for b in isl.buses:
                bus_kind[self.bus_names[b]] = isl.kind if b in self.energised else "dead"
        for name in self.bus_names.values():
            bus_kind.setdefault(name, "dead")  # failed (out-of-service) buses
        branches = [
            {**br, "failed": br["id"] in self._failed, "cause_id": self._failed.get(br["id"], "")}
            for br in self._branches
        ]
        return {
            "time_s": int(t), "step_s": self.step_s, "islands": isl_out, "loads": loads,
            "battery_soc": dict(soc), "switch_closed": dict(switch_closed),
            "switch_normally_closed": dict(self._switch_normal),
            "buses": bus_kind, "branches": branches,
        }
