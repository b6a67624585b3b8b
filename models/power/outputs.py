"""What a step reports: the series (units in the names), the down-set and the telemetry.

Part of :class:`~twin.models.power.grid.PowerGrid` (a mixin); reads the state, changes
nothing.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Mapping

import numpy as np

from twin.events import Event
from twin.models.power.common import Island, StepResult, column, memo, seq_sum
from twin.models.power.consumers import SHED_UNSUPPLIED

BALANCE_CACHE_SIZE = 16  # topologies whose branch ends and island masks are kept


def _nansum(values: np.ndarray) -> float:
    """``Series.sum()`` of a float column, bit for bit (pandas sums with NaN set to 0 by
    numpy's own sum), without pandas' reduction machinery (~40 us a call)."""
    values = np.asarray(values, dtype=float)
    return float(np.where(np.isnan(values), 0.0, values).sum())


class LoadTelemetry(Mapping[str, dict]):
    """Telemetry ``loads``: {load id: {demand_mw, served, critical, category, district,
    island}}, each load's dict built on first access. twin's default policy reads the loads
    only for an island short of supply or on a microgrid, so most steps never build them:
    ~2,000 dicts a step were the largest part of the city grid's step. Read-only;
    :meth:`to_dict` gives the plain dict (a policy from outside twin, a separate process)."""

    __slots__ = ("_names", "_columns", "_built")

    def __init__(self, names: list[str], *columns: list) -> None:
        self._names = names
        self._columns = columns  # demand_mw, served, critical, category, district, island
        self._built: dict[str, dict] | None = None

    def to_dict(self) -> dict[str, dict]:
        if self._built is None:
            self._built = {
                name: {"demand_mw": d, "served": ok, "critical": crit, "category": cat, "district": dist,
                       "island": iid}
                for name, d, ok, crit, cat, dist, iid in zip(self._names, *self._columns, strict=True)
            }
        return self._built

    def __getitem__(self, key: str) -> dict:
        return self.to_dict()[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._names)

    def __len__(self) -> int:
        return len(self._names)


def plain_telemetry(telemetry: Mapping) -> dict:
    """``telemetry`` with its ``loads`` as a plain dict (JSON, a user's policy)."""
    out = dict(telemetry)
    loads = out.get("loads")
    if isinstance(loads, LoadTelemetry):
        out["loads"] = loads.to_dict()
    return out


class OutputsMixin:
    """Series, down-set and telemetry of a step."""

    def _result(self, t: int, demand, served, covered, islands: list[Island], events: list[Event],
                converged: bool) -> StepResult:
        net = self.net
        cust = self.load_customers
        live = self._live_mask()
        live_load = live[self._load_bus_pos]
        served_share = np.where(live_load, 1.0 - self.shed_frac, 0.0)
        out = cust * (1.0 - served_share) - covered
        masks = self._district_mask
        d_served = {d: float(served[masks[d]].sum()) for d in self.districts}
        d_demand = {d: float(demand[masks[d]].sum()) for d in self.districts}
        d_out = {d: float(max(0.0, out[masks[d]].sum())) for d in self.districts}
        if len(net.res_line) == len(net.line):
            lp = np.asarray(column(net["res_line"], "loading_percent"), dtype=float)
            loading = dict(zip(self.line_names, np.where(np.isnan(lp), 0.0, lp).tolist(), strict=True))
        else:
            loading = dict.fromkeys(self.line_names, 0.0)
        cap = self._asset_e_max
        energy = self._per_asset(self.energy)
        soc_v = np.divide(energy, cap, out=np.zeros(len(cap)), where=cap > 0)
        soc = dict(zip(self.storage_assets, soc_v.tolist(), strict=True))
        series: dict[str, float | dict[str, float]] = {
            "served_mw": float(served.sum()),
            "demand_mw": float(demand.sum()),
            "district_served_mw": d_served,
            "district_demand_mw": d_demand,
            "customers_out": d_out,
            "bus_energised": dict(zip(self._sorted_bus_names, live[self._sorted_bus_pos].astype(float).tolist(),
                                      strict=True)),
            "load_served_mw": dict(zip(self.load_names, served.tolist(), strict=True)),
            "line_loading_pct": loading,
            "battery_soc": soc,
            "pv_mw": _nansum(column(net["sgen"], "p_mw")) if len(net["sgen"]) else 0.0,
            **self._storage_series(energy),
            **self._island_balance(islands, converged),
        }
        # Down-set: each dead bus -> its own de-energised event, so consumers' events chain
        # through the bus to the fault (docs/architecture.md). Buses dead from the start have
        # no such event and fall back to what killed them.
        dead = {
            self.bus_names[b]: self.dead_event.get(b, self.dead_cause.get(b, ""))
            for b in self._sorted_bus_ids[~live[self._sorted_bus_pos]].tolist()
        }
        switch_closed = self._switch_states()
        telemetry = self._telemetry(t, demand, islands, soc, switch_closed)
        return StepResult(t, dead, switch_closed, series, events, telemetry, converged,
                          self._unsupplied(live_load))

    def _live_mask(self) -> np.ndarray:
        """Per bus position: whether the bus is energised (``energised``, as an array; kept
        while ``energised`` is the same set object, which each step replaces)."""
        held = getattr(self, "_live_mask_held", None)
        if held is None or held[0] is not self.energised:
            mask = np.zeros(len(self._bus_pos_of_index), dtype=bool)
            if self.energised:
                mask[self._bus_pos_of_index[np.fromiter(self.energised, dtype=np.int64)]] = True
            held = (self.energised, mask)
            self._live_mask_held = held
        return held[1]

    def _per_asset(self, values: np.ndarray) -> np.ndarray:
        """Per storage asset (``storage_assets`` order): the sum of ``values`` over its rows,
        as ``values[mask].sum()`` gives it bit for bit (numpy sums fewer than eight elements
        in order, as ``np.bincount`` does; larger assets are summed by mask)."""
        out = np.bincount(self._storage_group, weights=values, minlength=len(self.storage_assets))
        for k, m in self._storage_big:
            out[k] = values[m].sum()
        return out

    def _unsupplied(self, live_load: np.ndarray) -> dict[str, str]:
        """Coupled consumers (loads named by a non-power id) on a live bus whose load is shed
        by at least ``SHED_UNSUPPLIED``: {consumer id: its load's ``shed`` event}."""
        pos = self._coupled_loads
        hit = pos[(live_load[pos] & (self.shed_frac[pos] >= SHED_UNSUPPLIED))]
        return {self.load_names[p]: self.shed_event.get(p, "") for p in hit.tolist()}

    def _island_loads(self, isl: Island) -> np.ndarray:
        """The island's load positions as an array (kept on the island)."""
        a = isl.cache.get("loads")
        if a is None:
            a = isl.cache["loads"] = np.asarray(isl.loads, dtype=np.int64)
        return a

    def _telemetry(self, t: int, demand, islands: list[Island], soc: dict[str, float],
                   switch_closed: dict[str, bool]) -> dict:
        """What the grid reports to control (policy input); see docs/policies.md."""
        net = self.net
        island_of = np.full(len(self.load_names), "", dtype=object)
        isl_out = []
        for k, isl in enumerate(islands):
            if not isl.loads:
                continue
            iid = isl.source or f"dead-{k}"
            island_of[self._island_loads(isl)] = iid
            energy = 0.0
            if isl.kind == "microgrid":
                pos = [int(np.flatnonzero(net.storage.index == s)[0]) for s in isl.microgrids]
                energy = float(sum(self.energy[p] - self.e_min[p] for p in pos))
            isl_out.append({
                "id": iid, "kind": isl.kind,
                "cause_id": self._shortage_cause(isl, self._failed) if isl.kind != "dead" else "",
                "capacity_mw": float(isl.capacity_mw) if math.isfinite(isl.capacity_mw) else -1.0,
                "demand_mw": seq_sum(demand[self._island_loads(isl)]),
                "energy_mwh": energy,
            })
        served = (self._live_mask()[self._load_bus_pos] & (self.shed_frac < 0.5)).tolist()
        loads = LoadTelemetry(self.load_names, demand.tolist(), served, self.load_critical, self.load_category,
                              self.load_district_list, island_of.tolist())
        # the switch and bus maps are the grid's own (read-only, like the branch list): the
        # controller gives a policy from outside twin its own copies (policy.telemetry_for)
        return {
            "time_s": int(t), "step_s": self.step_s, "islands": isl_out, "loads": loads,
            "battery_soc": dict(soc), "switch_closed": switch_closed,
            "switch_normally_closed": self._switch_normal,
            "buses": self._bus_kinds(islands), "branches": self._branch_states(),
        }

    def _switch_states(self) -> dict[str, bool]:
        """{switch: closed}, the same (read-only) dict while no switch moves: rebuilding it
        every step was ~4,500 entries on the city grid."""
        closed = np.asarray(column(self.net["switch"], "closed"), dtype=bool)
        key = closed.tobytes()
        held = getattr(self, "_switch_held", None)
        if held is None or held[0] != key:
            held = (key, dict(zip(self.switch_names, closed.tolist(), strict=True)))
            self._switch_held = held
        return held[1]

    def _bus_kinds(self, islands: list[Island]) -> dict[str, str]:
        """Per bus: its island's kind while energised, else "dead" (in the order the islands
        and their bus sets give); recomputed only when the islands, their kinds or the live
        buses changed, else the same (read-only) dict."""
        kinds = tuple(isl.kind for isl in islands)
        held = getattr(self, "_bus_kind_held", None)
        if held is None or held[0] is not islands or held[1] != kinds or held[2] != self.energised:
            bus_kind: dict[str, str] = {}
            for isl in islands:
                for b in isl.buses:
                    bus_kind[self.bus_names[b]] = isl.kind if b in self.energised else "dead"
            for name in self.bus_names.values():
                bus_kind.setdefault(name, "dead")  # failed (out-of-service) buses
            held = (islands, kinds, self.energised, bus_kind)  # holding the list keeps its id unique
            self._bus_kind_held = held
        return held[3]

    def _branch_states(self) -> list[dict]:
        """Each branch of ``_branches`` with whether it is failed and the failure's event;
        recomputed only when the down-set changed, else the same list (read-only: copying its
        dicts, ~450 on the default grid, every step doubled the garbage collector's runs in a
        run-day; the controller gives a user's policy its own copies,
        :func:`twin.models.power.policy.telemetry_for`)."""
        failed = self._failed
        held = getattr(self, "_branch_held", None)
        if held is None or held[0] != failed:
            held = (dict(failed), [{**br, "failed": br["id"] in failed, "cause_id": failed.get(br["id"], "")}
                                   for br in self._branches])
            self._branch_held = held
        return held[1]

    def _storage_series(self, energy: np.ndarray) -> dict[str, dict[str, float]]:
        """Per storage asset: energy (MWh) and the step's charge and discharge into its cells
        (MW, each >= 0; the SoC moves by charge * eta - discharge / eta over the step);
        ``energy`` is :meth:`_per_asset` of the storage energy."""
        cells = self.cells_p
        assets = self.storage_assets
        return {
            "battery_energy_mwh": dict(zip(assets, energy.tolist(), strict=True)),
            "storage_charge_mw": dict(zip(assets, self._per_asset(np.maximum(cells, 0.0)).tolist(), strict=True)),
            "storage_discharge_mw": dict(zip(assets, self._per_asset(np.maximum(-cells, 0.0)).tolist(),
                                             strict=True)),
        }

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
            a = np.asarray(column(r, col), dtype=float)
            # nan_to_num only when needed: its Python wrapper costs more than the check
            return a if np.isfinite(a).all() else np.nan_to_num(a)

        ext_p, gen_p, sgen_p = res("ext_grid"), res("gen"), res("sgen")
        st_p, load_p = res("storage"), res("load")
        line_pl, trafo_pl = res("line", "pl_mw"), res("trafo", "pl_mw")
        ext_storage = self._ext_storage
        topo = (column(net["switch"], "closed").tobytes(), column(net["line"], "in_service").tobytes(),
                column(net["trafo"], "in_service").tobytes())
        # branch ends and island masks, per topology (the last few kept)
        line_ends, trafo_ends, masks = memo(
            self._balance_cache, topo,
            lambda: (self._connected_ends("line", "from_bus", "to_bus", "l"),
                     self._connected_ends("trafo", "hv_bus", "lv_bus", "t"), {}), BALANCE_CACHE_SIZE)
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
            losses = seq_sum(line_pl[m["line"]]) + seq_sum(trafo_pl[m["trafo"]])
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
        out["line"] = np.array([i for i, ends in enumerate(line_ends) if ends & b], dtype=np.int64)
        out["trafo"] = np.array([i for i, ends in enumerate(trafo_ends) if ends & b], dtype=np.int64)
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
