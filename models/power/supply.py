"""Islands and their supply: which source holds each island, its capacity, shedding to it.

Part of :class:`~twin.models.power.grid.PowerGrid` (a mixin over the grid's state): reads
the net's ``in_service`` columns, the plants' state (``plant_ok``, ``plant_p``) and the
storage energy; writes the hidden slacks (``ext_grid.in_service``) that make a plant or a
community battery the slack of its island.

- an island holding the external grid is limited by its transformers' rating
  (``TRAFO_PF`` MW per MVA) plus the central plant;
- an island holding the central plant runs with the plant as slack, limited by its power;
- an island holding usable grid-forming community batteries runs with the largest as
  slack, limited by their power rating;
- any other island is dead.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from twin.events import Event
from twin.models.power.common import EPS, TRAFO_PF, Island, column, is_hidden_slack, memo, seq_sum

ISLAND_CACHE_SIZE = 64  # topology signatures whose islands are kept


class SupplyMixin:
    """Island detection, supply capacity, local shedding and slack selection."""

    def _current_islands(self, t: int, events: list[Event]) -> tuple[list[Island], dict[int, int]]:
        """The islands (recomputed only when the topology changed) and their bus index;
        records microgrids islanding and running empty. The islands of each signature seen
        are kept (a feeder failed and repaired returns to a known one) and handed out as
        fresh copies: a step may mark its islands dead."""
        sig = self._topology_signature()
        if sig != self._island_sig:
            template, bus_island = memo(self._islands_by_sig, sig, self._islands, ISLAND_CACHE_SIZE)
            self._island_cache = ([replace(isl, microgrids=list(isl.microgrids), loads=list(isl.loads))
                                   for isl in template], bus_island)
            self._island_sig = sig
        islands, bus_island = self._island_cache
        for isl in islands:
            if isl.kind == "microgrid":
                self._record_islanding(t, isl, events)
            elif isl.kind == "dead":
                self._record_exhausted(t, isl, events)
        return islands, bus_island

    def _shed_to_capacity(self, islands: list[Island], inj, failed: dict[str, str], t: int,  # type: ignore[no-untyped-def]
                          events: list[Event]) -> None:
        """Local automatic fallback: shed each live island down to its capacity; a microgrid
        island also down to what its batteries' usable energy delivers over the step. A
        microgrid whose energy cannot carry any of its loads is exhausted: the island drops."""
        dt_h = self.step_s / 3600.0
        for isl in islands:
            if isl.kind == "dead":
                continue
            loads = self._island_loads(isl)
            # PV behind a home inverter leaves the network with its household's load
            pv_island = seq_sum(inj.pv[self._in_island(isl)["sgen"]]) - sum(
                self._home_pv(p, inj.pv) for p in loads[inj.served_frac[loads] <= 0.999].tolist())
            cap = isl.capacity_mw
            if isl.kind == "microgrid":
                cap = min(cap, self._usable_mw(isl, dt_h))
            was_served = bool(np.any(inj.demand[loads] * inj.served_frac[loads] > 0))
            self._shed(isl, inj.demand, inj.served_frac, pv_island, inj.shed_cause, failed, cap, inj.pv)
            if isl.kind == "microgrid" and was_served and not np.any(
                    inj.demand[loads] * inj.served_frac[loads] > 0):
                self._deplete(t, isl, events)

    def _home_pv(self, pos: int, pv: np.ndarray | None) -> float:
        """PV output (MW) of load ``pos``'s homes, behind their inverters (0 without): it
        leaves the network with the load (anti-islanding, or islanded with a backup home)."""
        if pv is None:
            return 0.0
        return float(sum(pv[q] for q in self._pv_of_load.get(pos, ())))

    def _usable_mw(self, isl: Island, dt_h: float) -> float:
        """Mean power the island's community batteries can deliver over one step (MW)."""
        return float(sum(max(0.0, self.energy[self._storage_pos[s]] - self.e_min[self._storage_pos[s]])
                         for s in isl.microgrids)) * self.eta / dt_h

    def _deplete(self, t: int, isl: Island, events: list[Event]) -> None:
        """The island's batteries cannot carry it through this step: it drops (exhausted)."""
        self._depleted.update(isl.microgrids)
        isl.kind = "dead"
        self._record_exhausted(t, isl, events)

    def _topology_signature(self) -> tuple:
        """Everything the islands depend on: when it is unchanged they are reused."""
        net = self.net
        usable = tuple(bool(self.energy[p] > self.e_min[p] + EPS and s not in self._depleted)
                       for p, s in zip(self._microgrid_pos, self.microgrids, strict=True))
        cols = (("bus", "in_service"), ("line", "in_service"), ("trafo", "in_service"), ("switch", "closed"),
                ("ext_grid", "in_service"), ("gen", "in_service"), ("storage", "in_service"))
        return (*(column(net[t], c).tobytes() for t, c in cols), tuple(self.plant_ok), usable,
                self.plant_p.tobytes())

    def _islands(self) -> tuple[list[Island], dict[int, int]]:
        """Connected components and how each is supplied."""
        import pandapower.topology as top

        net = self.net
        mg = top.create_nxgraph(net, respect_switches=True, include_out_of_service=False)
        comps = sorted((set(int(b) for b in c) for c in top.connected_components(mg)), key=min)
        ext_bus = {int(net.ext_grid.at[i, "bus"]) for i in self.main_ext if net.ext_grid.at[i, "in_service"]}
        trafo = net.trafo
        islands: list[Island] = []
        bus_island: dict[int, int] = {}
        for comp in comps:
            if comp & ext_bus:
                isl = Island(comp, "grid", str(net.ext_grid.at[next(
                    i for i in self.main_ext if int(net.ext_grid.at[i, "bus"]) in comp), "name"]))
                in_t = trafo[trafo["in_service"].astype(bool) & trafo["lv_bus"].isin(comp)]
                if len(in_t):
                    isl.capacity_mw = float(in_t["sn_mva"].sum()) * TRAFO_PF
                for pos, g in enumerate(self.plants):
                    if net.gen.at[g, "in_service"] and int(net.gen.at[g, "bus"]) in comp and self.plant_ok[pos]:
                        isl.capacity_mw += self.plant_p[pos]
            else:
                plants = [pos for pos, g in enumerate(self.plants)
                          if net.gen.at[g, "in_service"] and int(net.gen.at[g, "bus"]) in comp and self.plant_ok[pos]]
                mgs = [s for s in self.microgrids
                       if net.storage.at[s, "in_service"] and int(net.storage.at[s, "bus"]) in comp]
                if plants:
                    isl = Island(comp, "plant", str(net.gen.at[self.plants[plants[0]], "name"]),
                                  capacity_mw=float(sum(self.plant_p[p] for p in plants)))
                elif mgs:
                    pos_of = {s: int(np.flatnonzero(net.storage.index == s)[0]) for s in mgs}
                    usable = [s for s in mgs if self.energy[pos_of[s]] > self.e_min[pos_of[s]] + EPS
                              and s not in self._depleted]
                    if usable:
                        usable.sort(key=lambda s: (-self.e_max[pos_of[s]], s))
                        isl = Island(comp, "microgrid", str(net.storage.at[usable[0], "name"]),
                                      capacity_mw=float(sum(self.p_max[pos_of[s]] for s in usable)),
                                      microgrids=usable)
                    else:
                        isl = Island(comp, "dead", "", capacity_mw=0.0, microgrids=mgs)
                else:
                    isl = Island(comp, "dead", "", capacity_mw=0.0)
            isl.loads = [p for p, b in enumerate(net.load["bus"]) if int(b) in comp]
            for b in comp:
                bus_island[b] = len(islands)
            islands.append(isl)
        return islands, bus_island

    def _shed_rank(self, pos: int, demand: np.ndarray) -> tuple:
        cat = self.load_category[pos]
        order = self.shed_order
        rank = order.index(cat) if cat in order else (order.index("other") if "other" in order else len(order))
        return (rank, -float(demand[pos]), self.load_names[pos])

    def _shed(self, isl: Island, demand, served_frac, pv_mw: float, shed_cause: dict[int, str],
              failed: dict[str, str], capacity_mw: float, pv=None) -> None:  # type: ignore[no-untyped-def]
        """Shed whole loads in priority order until the island's net demand fits ``capacity_mw``
        (a household's own PV, behind its inverter, leaves with it: shedding it gains its
        load minus that PV, and a load that gains nothing stays)."""
        loads = self._island_loads(isl)
        need = seq_sum(demand[loads] * served_frac[loads]) - pv_mw
        if need <= capacity_mw + EPS:
            return
        cause = self._shortage_cause(isl, failed)
        for pos in sorted(isl.loads, key=lambda p: self._shed_rank(p, demand)):
            if need <= capacity_mw + EPS:
                break
            gain = demand[pos] * served_frac[pos] - self._home_pv(pos, pv) * (served_frac[pos] > 0.999)
            if served_frac[pos] <= 0 or gain <= 0:
                continue
            need -= gain
            served_frac[pos] = 0.0
            shed_cause.setdefault(pos, cause)

    def _shortage_cause(self, isl: Island, failed: dict[str, str]) -> str:
        net = self.net
        if isl.kind == "microgrid":
            return self.islanded.get(isl.microgrids[0], "")
        # the supply side of the grid island: the transmission connection, then transformers
        order = getattr(self, "_supply_order", None)
        if order is None or order[0] != (len(net.ext_grid), len(net.trafo)):
            # names are static for a net's rows: sorted once, not per island and step
            supply = [n for n in net.ext_grid["name"].astype(str) if not is_hidden_slack(n)]
            order = ((len(net.ext_grid), len(net.trafo)),
                     [*sorted(supply), *sorted(net.trafo["name"].astype(str))])
            self._supply_order = order
        for n in order[1]:
            if n in failed:
                return failed[n]
        for pos in range(len(self.plants)):
            if not self.plant_ok[pos]:
                return self.plant_event.get(pos, "")
        return ""

    def _set_slacks(self, islands: list[Island]) -> set[int]:
        """Switch the hidden slack of each plant/microgrid island on, all others off."""
        net = self.net
        live: set[int] = set()
        ext_on = np.array(column(net["ext_grid"], "in_service"), dtype=bool)  # copies
        gen_on = np.array(column(net["gen"], "in_service"), dtype=bool)
        ext_pos, gen_pos = self._ext_pos, self._gen_pos
        for e in self.slack_of.values():
            ext_on[ext_pos[e]] = False
        gen_names = self._names_np["gen"]
        for g in self.plants:
            gen_on[gen_pos[g]] = bool(self._base_np["gen"][gen_pos[g]]) and str(gen_names[gen_pos[g]]) not in self._failed
        for isl in islands:
            if isl.kind == "plant":
                g = next(g for g in self.plants if str(gen_names[gen_pos[g]]) == isl.source)
                e = self.slack_of[("gen", g)]
                ext_on[ext_pos[e]] = True
                gen_on[gen_pos[g]] = False
                live.add(e)
            elif isl.kind == "microgrid":
                e = self.slack_of[("storage", isl.microgrids[0])]
                ext_on[ext_pos[e]] = True
                live.add(e)
        if (ext_on != np.asarray(column(net["ext_grid"], "in_service"), dtype=bool)).any():
            net.ext_grid["in_service"] = ext_on
        if len(gen_on) and (gen_on != np.asarray(column(net["gen"], "in_service"), dtype=bool)).any():
            net.gen["in_service"] = gen_on
        return live
