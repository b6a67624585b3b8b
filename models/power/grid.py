"""The power grid as a time-stepped domain model around a pandapower net (no mosaik here).

:class:`PowerGrid` loads ``power.json`` and, each step, applies damage (failed asset ids),
switch positions, coupled loads (pumps, ICT sites, signals) and commands, finds the
islands with pandapower's topology tools, decides how each island is supplied, runs the AC
power flow and reports what was served, which buses are dead and why, and the events of
every state change.

Islands:

- an island holding the external grid runs normally, limited by its transformers'
  rating (plus the central plant): beyond that, load is shed;
- an island holding the central plant (centralised configuration) runs with the plant as
  slack, limited by its available power (low process-water pressure trips it);
- an island holding grid-forming community batteries (``power/microgrid/*``) runs with
  the largest one as slack while they have energy; its load is shed down to the batteries'
  power rating, and when the energy is exhausted the island drops;
- any other island is de-energised (pandapower leaves buses without a slack at NaN).

Prosumers: PV follows :mod:`twin.models.power.profiles`; home batteries keep state of
charge with round-trip efficiency in one of three modes (``self_consumption``,
``backup`` keeping ``reserve_share`` for outages, ``grid_support`` discharging at the
evening peak). While its bus is dead, a prosumer household supplies itself from PV and its
battery as long as they cover its demand: that is the resilience a prosumer buys.

Speed: while only injections change, the power flow reuses the previous solution
(``recycle`` with ``init="results"``); a topology change costs a full run (``init="dc"``).
"""

from __future__ import annotations

import logging
import math
import warnings
from dataclasses import dataclass, field
from pathlib import Path

import networkx as nx
import numpy as np

from twin.events import Event, event_id, make_event
from twin.models.power.profiles import household_factor, pv_factor

log = logging.getLogger(__name__)

SLACK_SUFFIX = "#slack"  # hidden ext_grids that make a grid-forming unit the island's slack
BATTERY_MODES: tuple[str, ...] = ("self_consumption", "backup", "grid_support")
DEFAULT_SHED_ORDER: tuple[str, ...] = (
    "household", "traffic", "other", "control", "ict", "hospital", "water",
)
PEAK_PROFILE = 1.2  # household profile factor from which grid-support batteries discharge
TRAFO_PF = 0.95  # MW per MVA of transformer rating counted as supply capacity
EPS = 1e-9


class PowerGridError(RuntimeError):
    """The power model was given something it cannot use (unknown file, bad command)."""


@dataclass
class StepResult:
    """What one step produced; all values are JSON-serialisable."""

    time_s: int
    dead_buses: dict[str, str]
    switch_closed: dict[str, bool]
    series: dict[str, float | dict[str, float]]
    events: list[Event]
    telemetry: dict
    converged: bool


@dataclass
class _Island:
    buses: set[int]
    kind: str  # "grid", "plant", "microgrid", "dead"
    source: str  # asset id of the slack unit ("" for dead islands)
    capacity_mw: float = math.inf
    microgrids: list[int] = field(default_factory=list)  # storage indices
    loads: list[int] = field(default_factory=list)


def _names(table) -> list[str]:
    return [str(n) for n in table["name"]]


class PowerGrid:
    """A pandapower distribution grid stepped in time; see the module docstring.

    Parameters: ``seed`` (cloud variability), ``step_s`` (step length, s),
    ``battery_efficiency`` (round trip, 0..1), ``reserve_share`` (backup-mode reserve),
    ``battery_mode`` (default mode of home batteries), ``shed_order`` (load categories,
    shed first to last; loads of categories not listed count as ``other``),
    ``pressure_threshold_m`` (process water pressure below which the central plant trips),
    ``household_profile`` (apply the daily profile to household loads; off for test feeders).
    """

    def __init__(
        self,
        net,
        *,
        seed: int = 0,
        step_s: int = 300,
        battery_efficiency: float = 0.9,
        reserve_share: float = 0.3,
        battery_mode: str = "backup",
        shed_order: tuple[str, ...] | list[str] = DEFAULT_SHED_ORDER,
        pressure_threshold_m: float = 20.0,
        household_profile: bool = True,
        protection: dict | None = None,
    ) -> None:
        if battery_mode not in BATTERY_MODES:
            raise PowerGridError(f"unknown battery mode {battery_mode!r}; choose one of {BATTERY_MODES}")
        if not 0 < battery_efficiency <= 1:
            raise PowerGridError(f"battery_efficiency must be in (0, 1], got {battery_efficiency}")
        self.net = net
        self.seed = int(seed)
        self.step_s = int(step_s)
        self.eta = math.sqrt(battery_efficiency)  # one-way efficiency
        self.reserve_share = float(reserve_share)
        self.default_mode = battery_mode
        self.shed_order = tuple(shed_order)
        self.pressure_threshold_m = float(pressure_threshold_m)
        self.household_profile = bool(household_profile)
        self._prepare()
        from twin.models.power.protection import GridProtection  # protection hook: relays, cold load

        self.protection = GridProtection(self, protection)

    @classmethod
    def from_file(cls, path: str | Path, **kwargs) -> PowerGrid:
        """Load ``power.json`` (a pandapower JSON net whose names are asset ids)."""
        import pandapower as pp

        path = Path(path)
        if not path.exists():
            raise PowerGridError(f"no power grid file at {path}")
        return cls(pp.from_json(str(path)), **kwargs)

    # ------------------------------------------------------------------ setup
    def _prepare(self) -> None:
        import pandapower as pp

        net = self.net
        for table, col, default in (
            ("load", "category", "other"), ("load", "critical", False), ("load", "district", "region"),
            ("load", "customers", 0), ("storage", "type", "home"), ("storage", "customers", 0),
            ("sgen", "district", "region"), ("storage", "district", "region"),
        ):
            if col not in net[table].columns:
                net[table][col] = default
            missing = net[table][col].isna()
            if missing.any():
                net[table].loc[missing, col] = default
        # hidden slacks for grid-forming units (plants, community batteries), off by default
        self.main_ext = [i for i, n in net.ext_grid["name"].items() if not str(n).endswith(SLACK_SUFFIX)]
        self.plants = list(net.gen.index)
        self.microgrids = [i for i in net.storage.index if net.storage.at[i, "type"] == "grid_forming"]
        self.homes = [i for i in net.storage.index if net.storage.at[i, "type"] != "grid_forming"]
        existing = {str(n) for n in net.ext_grid["name"]}
        self.slack_of: dict[tuple[str, int], int] = {}
        for table, idxs in (("gen", self.plants), ("storage", self.microgrids)):
            for i in idxs:
                name = f"{net[table].at[i, 'name']}{SLACK_SUFFIX}#{i}"
                if name not in existing:
                    pp.create_ext_grid(net, int(net[table].at[i, "bus"]), vm_pu=1.0, name=name, in_service=False)
                self.slack_of[(table, i)] = int(net.ext_grid.index[net.ext_grid["name"] == name][0])
        self.bus_names = {int(i): str(n) for i, n in net.bus["name"].items()}
        self.load_names = _names(net.load)
        self.base_in_service = {
            t: net[t]["in_service"].astype(bool).copy()
            for t in ("bus", "line", "trafo", "gen", "sgen", "storage", "load")
        }
        self.base_ext_in_service = net.ext_grid["in_service"].astype(bool).copy()
        self.switch_pos = net.switch["closed"].astype(bool).copy()  # persistent positions
        self.switch_event: dict[int, str] = {}  # last control event that moved a switch
        self.base_p = net.load["p_mw"].astype(float).to_numpy().copy()
        self.base_q = net.load["q_mvar"].astype(float).to_numpy().copy()
        self.load_p_in = self.base_p.copy()  # demand of coupled loads, from the coupling
        self.household = (net.load["category"] == "household").to_numpy()
        self.pv_rated = net.sgen["p_mw"].astype(float).to_numpy().copy()
        st = net.storage
        self.e_max = st["max_e_mwh"].astype(float).to_numpy()
        self.e_min = st["min_e_mwh"].fillna(0.0).astype(float).to_numpy()
        soc = st["soc_percent"].fillna(100.0).astype(float).to_numpy()
        self.energy = self.e_max * soc / 100.0
        pmax = st["max_p_mw"].astype(float).to_numpy() if "max_p_mw" in st else np.full(len(st), np.nan)
        self.p_max = np.where(np.isnan(pmax), self.e_max, pmax)
        self.plant_p = net.gen["p_mw"].astype(float).to_numpy().copy()
        self.plant_ok = np.ones(len(net.gen), dtype=bool)
        self.plant_event: dict[int, str] = {}
        # home battery and PV elements that belong to a household load (same bus and district)
        key_to_load = {
            (int(net.load.at[i, "bus"]), str(net.load.at[i, "district"])): pos
            for pos, i in enumerate(net.load.index) if self.household[pos]
        }
        self.home_load = {
            int(s): key_to_load.get((int(st.at[s, "bus"]), str(st.at[s, "district"])))
            for s in self.homes
        }
        self.pv_load = {
            int(g): key_to_load.get((int(net.sgen.at[g, "bus"]), str(net.sgen.at[g, "district"])))
            for g in net.sgen.index
        }
        self.districts = sorted({str(d) for d in net.load["district"]})
        self._branches = self._branch_table()
        self._switch_branch: dict[int, str] = {}  # switch index -> the line/trafo it sits on
        for i in net.switch.index:
            et = str(net.switch.at[i, "et"])
            if et in ("l", "t"):
                table = "line" if et == "l" else "trafo"
                self._switch_branch[int(i)] = str(net[table].at[int(net.switch.at[i, "element"]), "name"])
        self._isolated: dict[int, str] = {}  # switch opened to isolate its failed branch
        self._switch_normal = {str(n): bool(c) for n, c in zip(net.switch["name"], net.switch["closed"], strict=True)}
        self.storage_assets = sorted({str(n) for n in st["name"]})
        # state carried between steps
        self.energised: set[int] = set(self.bus_names)
        self.dead_cause: dict[int, str] = {}  # bus -> what de-energised it (cause of its event)
        self.dead_event: dict[int, str] = {}  # bus -> its own de-energised event (the down-set value)
        self.shed_frac = np.zeros(len(net.load))
        self.shed_event: dict[int, str] = {}  # load position -> its last "shed" event
        self.islanded: dict[int, str] = {}  # microgrid storage index -> "islanded" event id
        self.exhausted: dict[int, str] = {}  # microgrid storage index -> "exhausted" event id
        self.topology_key: tuple | None = None
        self.last_converged = False
        self.pf_count = {"full": 0, "recycled": 0, "failed": 0}
        self._nc_cause: dict[int, str] = {}  # bus -> non-convergence event of this step
        self._failed: dict[str, str] = {}  # the current down-set
        self._island_sig: tuple | None = None
        self._island_cache: tuple[list[_Island], dict[int, int]] = ([], {})
        self._static_columns()

    def _static_columns(self) -> None:
        """Columns that never change during a run, read once as plain arrays and lists:
        per-element pandas lookups inside the step cost more than the power flow itself."""
        net = self.net
        self._names_np = {t: net[t]["name"].astype(str).to_numpy()
                          for t in ("bus", "line", "trafo", "gen", "sgen", "storage", "ext_grid", "switch")}
        self._base_np = {t: s.to_numpy(dtype=bool) for t, s in self.base_in_service.items()}
        self._main_ext_mask = net.ext_grid.index.isin(self.main_ext)
        self.load_bus = [int(b) for b in net.load["bus"]]
        self.load_district = net.load["district"].astype(str).to_numpy()
        self.load_customers = net.load["customers"].astype(float).to_numpy()
        self.load_critical = [bool(c) for c in net.load["critical"]]
        self.load_category = [str(c) for c in net.load["category"]]
        self.load_district_list = [str(d) for d in self.load_district]
        self._district_mask = {d: self.load_district == d for d in self.districts}
        self.sgen_names = [str(n) for n in net.sgen["name"]]
        self.sgen_bus = [int(b) for b in net.sgen["bus"]]
        self._pv_of_load: dict[int, list[int]] = {}  # load position -> its PV positions, in order
        for p, g in enumerate(net.sgen.index):
            lp = self.pv_load.get(int(g))
            if lp is not None:
                self._pv_of_load.setdefault(lp, []).append(p)
        self.storage_names = [str(n) for n in net.storage["name"]]
        self.storage_customers = [float(c) for c in net.storage["customers"]]
        self._storage_mask = {a: self._names_np["storage"] == a for a in self.storage_assets}
        self.line_names = [str(n) for n in net.line["name"]]
        self.switch_names = [str(n) for n in net.switch["name"]]
        self._damage_applied = False

    @staticmethod
    def _set_bool_column(table, col: str, values: np.ndarray) -> None:
        """Write a boolean column only when it changes (a pandas column write costs ~0.1 ms)."""
        if not np.array_equal(table[col].to_numpy(), values):
            table[col] = values

    def _branch_table(self) -> list[dict]:
        """Lines and transformers with their end buses and switches (static telemetry)."""
        net = self.net
        on: dict[tuple[str, int], list[str]] = {}
        for i in net.switch.index:
            et = str(net.switch.at[i, "et"])
            if et in ("l", "t"):
                key = ("line" if et == "l" else "trafo", int(net.switch.at[i, "element"]))
                on.setdefault(key, []).append(str(net.switch.at[i, "name"]))
        out = []
        for table, fb, tb in (("line", "from_bus", "to_bus"), ("trafo", "hv_bus", "lv_bus")):
            for i in net[table].index:
                out.append({
                    "id": str(net[table].at[i, "name"]), "from": self.bus_names[int(net[table].at[i, fb])],
                    "to": self.bus_names[int(net[table].at[i, tb])], "switches": sorted(on.get((table, int(i)), [])),
                })
        return out

    # ------------------------------------------------------------------ step
    def step(
        self,
        time_s: int,
        failed: dict[str, str] | None = None,
        load_p_mw: dict[str, float] | None = None,
        commands: dict[str, dict] | None = None,
        process_pressure_m: dict[str, float] | None = None,
    ) -> StepResult:
        """Advance over ``[time_s, time_s + step_s)`` and report the state.

        ``failed`` is the full current down-set {asset id: cause event id}; ``load_p_mw``
        sets coupled loads by consumer id; ``commands`` ({asset id: {"value", "cause_id"}})
        move switches (1 closed, 0 open; persistent), set the served share of a load (0..1)
        or the mode of a battery (0 self-consumption, 1 backup, 2 grid support) or the
        maximum share of a PV plant for this step; ``process_pressure_m`` is the water
        pressure at the central plant.
        """
        t = int(time_s)
        failed = dict(failed or {})
        self._repaired_now = sorted(set(self._failed) - set(failed))  # came back this step
        self._failed = failed
        events: list[Event] = []
        net = self.net
        load_frac, modes, pv_cap, load_cause = self._apply_commands(t, commands or {}, events)
        self._apply_pressure(t, process_pressure_m, events)
        self._apply_load_inputs(load_p_mw or {})
        self._crew_recloses(t, failed, events)
        self.protection.start_step(self, t, events)  # protection hook: tripped breakers reclosed
        self._apply_damage(failed)
        sig = self._topology_signature()
        if sig != self._island_sig:
            self._island_cache = self._islands()
            self._island_sig = sig
        islands, bus_island = self._island_cache
        for isl in islands:
            if isl.kind == "microgrid":
                self._record_islanding(t, isl, events)
            elif isl.kind == "dead":
                for s in isl.microgrids:
                    if s not in self.exhausted:
                        ev = make_event(t, "power", str(net.storage.at[s, "name"]), "exhausted", 0.0,
                                        self.islanded.get(s, ""), "power")
                        self.exhausted[s] = ev["event_id"]
                        events.append(ev)
        # ---- injections
        hh = household_factor(t) if self.household_profile else 1.0
        peak = household_factor(t) >= PEAK_PROFILE  # evening peak: grid-support batteries discharge
        demand = np.where(self.household, self.base_p * hh, self.load_p_in)
        demand = np.maximum(demand, 0.0)
        qratio = np.divide(self.base_q, self.base_p, out=np.zeros_like(self.base_p), where=self.base_p > 0)
        pvf = pv_factor(self.seed, t)
        pv = self.pv_rated * pvf
        if pv_cap:
            pv *= np.array([min(1.0, max(0.0, pv_cap.get(n, 1.0))) for n in self.sgen_names])
        pv[~net.sgen["in_service"].to_numpy(dtype=bool)] = 0.0
        load_bus = self.load_bus
        load_live = np.array([b in bus_island and islands[bus_island[b]].kind != "dead"
                              for b in load_bus], dtype=bool)
        served_frac = np.where(load_live, load_frac, 0.0)
        # ---- shedding to each island's capacity (local automatic fallback)
        shed_cause = dict(load_cause)
        for isl in islands:
            if isl.kind == "dead":
                continue
            pv_island = sum(pv[p] for p, b in enumerate(self.sgen_bus) if b in isl.buses)
            self._shed(isl, demand, served_frac, pv_island, shed_cause, failed)
        # ---- home batteries (per element), then microgrids
        dt_h = self.step_s / 3600.0
        st_p = np.zeros(len(net.storage))
        self_served = np.zeros(len(net.load))  # MW served by prosumers' own PV + battery
        covered_customers = np.zeros(len(net.load))
        pv_grid = pv.copy()
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
            st_p[s_pos] = self._home_battery(s_pos, mode, pros_load, pros_pv, grid_ok, peak, dt_h)
            if not grid_ok:
                # islanded household systems: PV + battery cover the prosumers or trip
                supply = pros_pv - st_p[s_pos]
                if supply + EPS >= pros_load and pros_load > 0:
                    self_served[lp] += pros_load * (1 - served_frac[lp])
                    covered_customers[lp] += n * (1 - served_frac[lp])
                    surplus = supply - pros_load
                    if surplus > 0 and st_p[s_pos] < 0:
                        st_p[s_pos] = min(0.0, st_p[s_pos] + surplus)
                else:
                    st_p[s_pos] = 0.0
                for p in self._pv_of_load.get(lp, ()):
                    pv_grid[p] = 0.0 if served_frac[lp] <= 0 else pv_grid[p]
        # ---- microgrids: sharing, idle charging
        for pos, s in enumerate(net.storage.index):
            if s in self.microgrids:
                st_p[pos] = self._microgrid_setpoint(pos, s, islands, bus_island, dt_h)
        self._share_island_load(islands, demand * served_frac, pv_grid, st_p)
        # ---- write injections and run
        live_slack = self._set_slacks(islands)
        clp = self.protection.pickup_factor(self, t, served_frac)  # protection hook: cold-load pickup
        net.load["p_mw"] = demand * served_frac * clp
        net.load["q_mvar"] = demand * served_frac * clp * qratio
        net.sgen["p_mw"] = pv_grid
        net.storage["p_mw"] = st_p
        for pos, g in enumerate(self.plants):
            net.gen.at[g, "p_mw"] = self.plant_p[pos] if self.plant_ok[pos] else 0.0
        converged, bad = self._run(islands, live_slack, t, events)
        if converged:  # protection hook: trips after a converged power flow (models/power/protection.py)
            converged = self.protection.after_flow(self, t, events, served_frac)
        for isl in bad:
            isl.kind = "dead"
        if bad:
            self._island_sig = None
        # ---- energy bookkeeping for microgrid slacks
        self._update_energy(islands, st_p, dt_h)
        # ---- outcomes
        live_buses = set()
        for isl in islands:
            if isl.kind != "dead":
                live_buses |= isl.buses
        if converged and len(net.res_bus):
            vm = dict(zip(net.res_bus.index.tolist(), net.res_bus["vm_pu"].tolist(), strict=True))
            live_buses = {b for b in live_buses if not math.isnan(float(vm.get(b, math.nan)))}
        self._bus_events(t, live_buses, failed, islands, bus_island, events)
        live_mask = np.array([b in live_buses for b in load_bus], dtype=bool)
        served = np.where(live_mask, demand * served_frac, 0.0) + self_served
        self._shed_events(t, served_frac, live_mask, shed_cause, set(load_cause), events)
        result = self._result(t, demand, served, covered_customers, islands, events, converged)
        self.protection.annotate(self, t, demand, result.telemetry)  # protection hook: trips, trials
        return result

    # ------------------------------------------------------------------ pieces
    def _apply_commands(self, t: int, commands: dict[str, dict], events: list[Event]):
        """Split commands by target; switches move (persistently), the rest act this step."""
        net = self.net
        load_frac = np.ones(len(net.load))
        load_cause: dict[int, str] = {}
        modes: dict[str, int] = {}
        pv_cap: dict[str, float] = {}
        sw_by_name: dict[str, list[int]] = {}
        for i, n in net.switch["name"].items():
            sw_by_name.setdefault(str(n), []).append(int(i))
        load_by_name: dict[str, list[int]] = {}
        for pos, n in enumerate(self.load_names):
            load_by_name.setdefault(n, []).append(pos)
        for asset, cmd in sorted(commands.items()):
            try:
                value = float(cmd["value"])
            except (KeyError, TypeError, ValueError) as exc:
                raise PowerGridError(f"command for {asset!r} needs a numeric 'value': {cmd!r}") from exc
            cause = str(cmd.get("cause_id", ""))
            if asset in sw_by_name:
                closed = value >= 0.5
                for i in sw_by_name[asset]:
                    branch = self._switch_branch.get(i, "")
                    if not closed and branch in self._failed:
                        self._isolated[i] = branch
                    if bool(self.switch_pos.at[i]) != closed:
                        self.switch_pos.at[i] = closed
                        ev = make_event(t, "power", asset, "switched", 1.0 if closed else 0.0, cause, "control")
                        events.append(ev)
                        self.switch_event[i] = ev["event_id"]
            elif asset in load_by_name:
                for pos in load_by_name[asset]:
                    load_frac[pos] = min(1.0, max(0.0, value))
                    if load_frac[pos] < 1.0:
                        load_cause[pos] = cause
            elif asset.startswith(("power/battery/", "power/microgrid/")):
                mode = int(round(value))
                if not 0 <= mode < len(BATTERY_MODES):
                    raise PowerGridError(f"battery mode for {asset!r} must be 0, 1 or 2, got {value}")
                modes[asset] = mode
            elif asset.startswith("power/pv/"):
                pv_cap[asset] = value
            else:
                log.debug("ignoring command for unknown asset %s", asset)
        return load_frac, modes, pv_cap, load_cause

    def _crew_recloses(self, t: int, failed: dict[str, str], events: list[Event]) -> None:
        """Local rule: a switch opened to isolate its own failed branch is closed by the crew
        that repairs the branch (the tie closed meanwhile stays until control normalises)."""
        net = self.net
        for i, branch in list(self._isolated.items()):
            if branch in failed:
                continue
            del self._isolated[i]
            if not self.switch_pos.at[i] and self._switch_normal[str(net.switch.at[i, "name"])]:
                self.switch_pos.at[i] = True
                ev = make_event(t, "power", str(net.switch.at[i, "name"]), "switched", 1.0,
                                event_id(t, branch, "repaired"), "repair")
                events.append(ev)
                self.switch_event[i] = ev["event_id"]

    def _apply_pressure(self, t: int, pressure: dict[str, float] | None, events: list[Event]) -> None:
        """Trip the central plant while its process water pressure is below threshold."""
        if not pressure or not self.plants:
            return
        low = min(float(v) for v in pressure.values()) < self.pressure_threshold_m
        for pos, g in enumerate(self.plants):
            name = str(self.net.gen.at[g, "name"])
            if low and self.plant_ok[pos]:
                self.plant_ok[pos] = False
                ev = make_event(t, "power", name, "derated", 0.0, "", "water->power")
                self.plant_event[pos] = ev["event_id"]
                events.append(ev)
            elif not low and not self.plant_ok[pos]:
                self.plant_ok[pos] = True
                events.append(make_event(t, "power", name, "restored", 1.0, self.plant_event.pop(pos, ""), "water->power"))

    def _apply_load_inputs(self, load_p_mw: dict[str, float]) -> None:
        for pos, n in enumerate(self.load_names):
            if n in load_p_mw and not self.household[pos]:
                self.load_p_in[pos] = max(0.0, float(load_p_mw[n]))

    def _apply_damage(self, failed: dict[str, str]) -> None:
        net = self.net

        def down(table: str) -> np.ndarray:
            names = self._names_np[table]
            if not failed:
                return np.zeros(len(names), dtype=bool)
            return np.fromiter((n in failed for n in names), dtype=bool, count=len(names))

        write = self._set_bool_column if self._damage_applied else (
            lambda tab, col, values: tab.__setitem__(col, values))
        for table in ("bus", "line", "trafo", "gen", "sgen", "storage"):
            write(net[table], "in_service", self._base_np[table] & ~down(table))
        main = self._main_ext_mask
        ext = net.ext_grid["in_service"].to_numpy(dtype=bool).copy()
        ext[main] = (self.base_ext_in_service.to_numpy(dtype=bool) & ~down("ext_grid"))[main]
        write(net.ext_grid, "in_service", ext)
        write(net.switch, "closed", self.switch_pos.to_numpy(dtype=bool) & ~down("switch"))
        self._damage_applied = True

    def _topology_signature(self) -> tuple:
        """Everything the islands depend on: when it is unchanged they are reused."""
        net = self.net
        pos = [int(np.flatnonzero(net.storage.index == s)[0]) for s in self.microgrids]
        usable = tuple(bool(self.energy[p] > self.e_min[p] + EPS) for p in pos)
        return (
            net.bus["in_service"].to_numpy().tobytes(), net.line["in_service"].to_numpy().tobytes(),
            net.trafo["in_service"].to_numpy().tobytes(), net.switch["closed"].to_numpy().tobytes(),
            net.ext_grid["in_service"].to_numpy().tobytes(), net.gen["in_service"].to_numpy().tobytes(),
            net.storage["in_service"].to_numpy().tobytes(), tuple(self.plant_ok), usable,
        )

    def _islands(self) -> tuple[list[_Island], dict[int, int]]:
        """Connected components and how each is supplied."""
        import pandapower.topology as top

        net = self.net
        mg = top.create_nxgraph(net, respect_switches=True, include_out_of_service=False)
        comps = sorted((set(int(b) for b in c) for c in top.connected_components(mg)), key=min)
        ext_bus = {int(net.ext_grid.at[i, "bus"]) for i in self.main_ext if net.ext_grid.at[i, "in_service"]}
        trafo = net.trafo
        islands: list[_Island] = []
        bus_island: dict[int, int] = {}
        for comp in comps:
            if comp & ext_bus:
                isl = _Island(comp, "grid", str(net.ext_grid.at[next(
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
                    isl = _Island(comp, "plant", str(net.gen.at[self.plants[plants[0]], "name"]),
                                  capacity_mw=float(sum(self.plant_p[p] for p in plants)))
                elif mgs:
                    pos_of = {s: int(np.flatnonzero(net.storage.index == s)[0]) for s in mgs}
                    usable = [s for s in mgs if self.energy[pos_of[s]] > self.e_min[pos_of[s]] + EPS]
                    if usable:
                        usable.sort(key=lambda s: (-self.e_max[pos_of[s]], s))
                        isl = _Island(comp, "microgrid", str(net.storage.at[usable[0], "name"]),
                                      capacity_mw=float(sum(self.p_max[pos_of[s]] for s in usable)),
                                      microgrids=usable)
                    else:
                        isl = _Island(comp, "dead", "", capacity_mw=0.0, microgrids=mgs)
                else:
                    isl = _Island(comp, "dead", "", capacity_mw=0.0)
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

    def _shed(self, isl: _Island, demand, served_frac, pv_mw: float, shed_cause: dict[int, str],
              failed: dict[str, str]) -> None:
        """Shed whole loads in priority order until the island's net demand fits its capacity."""
        need = float(sum(demand[p] * served_frac[p] for p in isl.loads)) - pv_mw
        if need <= isl.capacity_mw + EPS:
            return
        cause = self._shortage_cause(isl, failed)
        for pos in sorted(isl.loads, key=lambda p: self._shed_rank(p, demand)):
            if need <= isl.capacity_mw + EPS:
                break
            if served_frac[pos] <= 0:
                continue
            need -= demand[pos] * served_frac[pos]
            served_frac[pos] = 0.0
            shed_cause.setdefault(pos, cause)

    def _shortage_cause(self, isl: _Island, failed: dict[str, str]) -> str:
        net = self.net
        if isl.kind == "microgrid":
            return self.islanded.get(isl.microgrids[0], "")
        # the supply side of the grid island: the transmission connection, then transformers
        supply = [n for n in net.ext_grid["name"].astype(str) if not n.endswith(SLACK_SUFFIX)]
        for n in [*sorted(supply), *sorted(net.trafo["name"].astype(str))]:
            if n in failed:
                return failed[n]
        for pos in range(len(self.plants)):
            if not self.plant_ok[pos]:
                return self.plant_event.get(pos, "")
        return ""

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

    def _record_islanding(self, t: int, isl: _Island, events: list[Event]) -> None:
        """Record islanding of the microgrids now forming an island."""
        for s in isl.microgrids:
            if s not in self.islanded:
                name = str(self.net.storage.at[s, "name"])
                cause = self._path_cause(int(self.net.storage.at[s, "bus"]))
                ev = make_event(t, "power", name, "islanded", 1.0, cause, "power")
                self.islanded[s] = ev["event_id"]
                events.append(ev)

    def _microgrid_setpoint(self, pos: int, s: int, islands: list[_Island], bus_island: dict[int, int],
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

    def _share_island_load(self, islands: list[_Island], load_mw, pv_mw, st_p) -> None:
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
                st_p[p] = -max(0.0, min(self.p_max[p], net_mw * usable[k] / usable.sum()))

    def _set_slacks(self, islands: list[_Island]) -> set[int]:
        """Switch the hidden slack of each plant/microgrid island on, all others off."""
        net = self.net
        live: set[int] = set()
        ext_on = net.ext_grid["in_service"].to_numpy(dtype=bool).copy()
        gen_on = net.gen["in_service"].to_numpy(dtype=bool).copy()
        ext_pos = {e: p for p, e in enumerate(net.ext_grid.index)}
        gen_pos = {g: p for p, g in enumerate(net.gen.index)}
        for e in self.slack_of.values():
            ext_on[ext_pos[e]] = False
        for g in self.plants:
            gen_on[gen_pos[g]] = bool(self.base_in_service["gen"].at[g]) and str(
                net.gen.at[g, "name"]) not in self._failed
        for isl in islands:
            if isl.kind == "plant":
                g = next(g for g in self.plants if str(net.gen.at[g, "name"]) == isl.source)
                e = self.slack_of[("gen", g)]
                ext_on[ext_pos[e]] = True
                gen_on[gen_pos[g]] = False
                live.add(e)
            elif isl.kind == "microgrid":
                e = self.slack_of[("storage", isl.microgrids[0])]
                ext_on[ext_pos[e]] = True
                live.add(e)
        if (ext_on != net.ext_grid["in_service"].to_numpy(dtype=bool)).any():
            net.ext_grid["in_service"] = ext_on
        if len(gen_on) and (gen_on != net.gen["in_service"].to_numpy(dtype=bool)).any():
            net.gen["in_service"] = gen_on
        return live

    def _run(self, islands: list[_Island], live_slack: set[int], t: int,
             events: list[Event]) -> tuple[bool, list[_Island]]:
        """AC power flow with reuse, retries and per-island isolation on failure."""
        import pandapower as pp

        net = self.net
        if not any(isl.kind != "dead" for isl in islands):
            self._clear_results()
            return True, []
        key = tuple(
            net[t][c].to_numpy(dtype=float).tobytes()
            for t, c in (("bus", "in_service"), ("line", "in_service"), ("trafo", "in_service"),
                         ("switch", "closed"), ("ext_grid", "in_service"), ("gen", "in_service"), ("gen", "p_mw"))
        )
        from pandapower.auxiliary import _internal_stored

        if key == self.topology_key and self.last_converged and _internal_stored(net):
            try:
                self._runpp(recycle={"bus_pq": True, "trafo": False, "gen": False})
                self.pf_count["recycled"] += 1
                return True, []
            except pp.LoadflowNotConverged:
                pass
        self.topology_key = key
        net._ppc = None  # a topology change needs a full run
        for init in ("dc", "flat"):
            try:
                self._runpp(init=init)  # stores the internals that the recycled runs reuse
                self.pf_count["full"] += 1
                self.last_converged = True
                return True, []
            except pp.LoadflowNotConverged:
                continue
        self.pf_count["failed"] += 1
        self.last_converged = False
        bad = self._isolate_failures(islands, t, events)
        if all(isl.kind == "dead" for isl in islands):
            self._clear_results()
            return False, bad
        try:
            self._runpp(init="dc")
            return True, bad
        except pp.LoadflowNotConverged:
            for isl in islands:
                if isl.kind != "dead" and isl not in bad:
                    bad.append(isl)
                    self._non_convergence_event(isl, t, events)
            return False, bad

    def _clear_results(self) -> None:
        """No island to solve: every result is NaN (dead), and the next run starts afresh."""
        from pandapower.results import reset_results

        reset_results(self.net, mode="pf")
        for table in ("res_bus", "res_line", "res_ext_grid"):
            src = table[4:]
            self.net[table] = self.net[table].reindex(self.net[src].index)
        self.topology_key = None
        self.last_converged = False

    def _runpp(self, **kwargs) -> None:
        import pandapower as pp

        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            pp.runpp(self.net, numba=False, max_iteration=30, **kwargs)

    def _non_convergence_event(self, isl: _Island, t: int, events: list[Event]) -> str:
        ev = make_event(t, "power", isl.source or "power/grid", "non_convergence", 0.0, "", "simulator")
        events.append(ev)
        for b in isl.buses:
            self.dead_cause.setdefault(b, ev["event_id"])
            self._nc_cause[b] = ev["event_id"]
        return ev["event_id"]

    def _isolate_failures(self, islands: list[_Island], t: int, events: list[Event]) -> list[_Island]:
        """Solve each live island alone; de-energise those that do not converge."""
        import pandapower as pp

        net = self.net
        self._nc_cause = {}
        saved = net.bus["in_service"].copy()
        bad: list[_Island] = []
        live = [isl for isl in islands if isl.kind != "dead"]
        for isl in live:
            others = [b for o in live if o is not isl for b in o.buses]
            net.bus.loc[others, "in_service"] = False
            try:
                self._runpp(init="dc")
            except pp.LoadflowNotConverged:
                bad.append(isl)
            net.bus["in_service"] = saved
        for isl in bad:
            self._non_convergence_event(isl, t, events)
            net.bus.loc[sorted(isl.buses), "in_service"] = False
            isl.kind = "dead"
        self.topology_key = None
        return bad

    def _update_energy(self, islands: list[_Island], st_p: np.ndarray, dt_h: float) -> None:
        """State of charge: storage setpoints for PQ batteries, slack output for grid-forming."""
        net = self.net
        slack_p: dict[int, float] = {}
        for isl in islands:
            if isl.kind == "microgrid":
                e = self.slack_of[("storage", isl.microgrids[0])]
                p = float(net.res_ext_grid.at[e, "p_mw"]) if len(net.res_ext_grid) else math.nan
                slack_p[isl.microgrids[0]] = 0.0 if math.isnan(p) else p
        for pos, s in enumerate(net.storage.index):
            charge = float(st_p[pos])
            if int(s) in slack_p:
                charge = -slack_p[int(s)]  # ext_grid p > 0 means the battery delivers
            if charge >= 0:
                self.energy[pos] += charge * dt_h * self.eta
            else:
                self.energy[pos] += charge * dt_h / self.eta
            self.energy[pos] = min(self.e_max[pos], max(min(self.e_min[pos], self.energy[pos]), self.energy[pos]))
            self.energy[pos] = max(0.0, min(self.e_max[pos], self.energy[pos]))

    def _path_cause(self, bus: int) -> str:
        """The failed element (or control switching) that cuts ``bus`` off its normal supply."""
        graph, assets_on = self._cause_graph()
        target = "source"
        if bus not in graph or not nx.has_path(graph, bus, target):
            return ""
        path = nx.shortest_path(graph, bus, target)
        for a, b in zip(path, path[1:], strict=False):
            bname = self.bus_names.get(a, "")
            if bname in self._failed:
                return self._failed[bname]
            if b == target:
                break
            for asset, sw in assets_on[frozenset((a, b))]:
                if asset in self._failed:
                    return self._failed[asset]
                if sw is not None and sw in self.switch_event and not self.net.switch.at[sw, "closed"]:
                    return self.switch_event[sw]
        return ""

    def _cause_graph(self):
        """Buses and branches ignoring damage; normally open switches never moved are cut."""
        net = self.net
        g = nx.Graph()
        g.add_nodes_from(self.bus_names)
        assets_on: dict[frozenset, list[tuple[str, int | None]]] = {}
        sw = net.switch
        blocked: dict[tuple[str, int], list[int]] = {}
        for i in sw.index:
            if sw.at[i, "et"] in ("l", "t"):
                blocked.setdefault(("line" if sw.at[i, "et"] == "l" else "trafo", int(sw.at[i, "element"])), []).append(int(i))
        for table, fb, tb in (("line", "from_bus", "to_bus"), ("trafo", "hv_bus", "lv_bus")):
            for i in net[table].index:
                if not self.base_in_service[table].at[i]:
                    continue
                sws = blocked.get((table, int(i)), [])
                if any(not self.switch_pos.at[s] and s not in self.switch_event for s in sws):
                    continue
                a, b = int(net[table].at[i, fb]), int(net[table].at[i, tb])
                g.add_edge(a, b)
                entry = assets_on.setdefault(frozenset((a, b)), [])
                entry.append((str(net[table].at[i, "name"]), None))
                entry.extend((str(sw.at[s, "name"]), s) for s in sws)
        for i in sw.index:
            if sw.at[i, "et"] == "b" and (self.switch_pos.at[i] or i in self.switch_event):
                a, b = int(sw.at[i, "bus"]), int(sw.at[i, "element"])
                g.add_edge(a, b)
                assets_on.setdefault(frozenset((a, b)), []).append((str(sw.at[i, "name"]), int(i)))
        for i in self.main_ext:
            g.add_edge(int(net.ext_grid.at[i, "bus"]), "source")
        return g, assets_on

    def _bus_events(self, t: int, live: set[int], failed: dict[str, str], islands: list[_Island],
                    bus_island: dict[int, int], events: list[Event]) -> None:
        self._failed = failed
        exhausted_cause: dict[int, str] = {}
        for s, ev_id in self.exhausted.items():
            b = int(self.net.storage.at[s, "bus"])
            if b in bus_island:
                for bb in islands[bus_island[b]].buses:
                    exhausted_cause[bb] = ev_id
        for pos, g in enumerate(self.plants):  # a tripped plant was its island's only source
            b = int(self.net.gen.at[g, "bus"])
            if not self.plant_ok[pos] and b in bus_island and islands[bus_island[b]].kind == "dead":
                for bb in islands[bus_island[b]].buses:
                    exhausted_cause.setdefault(bb, self.plant_event.get(pos, ""))
        for b in sorted(self.bus_names):
            was = b in self.energised
            now = b in live
            if was and not now:
                name = self.bus_names[b]
                if name in failed:
                    cause, coupling = failed[name], "power"
                elif b in self._nc_cause:
                    cause, coupling = self._nc_cause[b], "simulator"
                elif b in exhausted_cause:
                    cause, coupling = exhausted_cause[b], "power"
                elif b in self.protection.protection.dark_cause:  # protection hook: a trip this step
                    cause, coupling = self.protection.protection.dark_cause[b], "power"
                else:
                    cause, coupling = self._path_cause(b), "power"
                ev = make_event(t, "power", name, "de-energised", 0.0, cause, coupling)
                events.append(ev)
                self.dead_cause[b] = cause
                self.dead_event[b] = ev["event_id"]
            elif now and not was:
                self.dead_event.pop(b, None)
                cause = self._restore_cause(t, b, islands, bus_island, events)
                self.dead_cause.pop(b, None)
                events.append(make_event(t, "power", self.bus_names[b], "energised", 1.0, cause, "power"))
        self.energised = live
        self._nc_cause = {}
        # microgrids back on the grid: forget their islanding
        for s in list(self.islanded):
            b = int(self.net.storage.at[s, "bus"])
            if b in bus_island and islands[bus_island[b]].kind in ("grid", "plant"):
                events.append(make_event(t, "power", str(self.net.storage.at[s, "name"]), "reconnected",
                                         1.0, self.islanded.pop(s), "power"))
                self.exhausted.pop(s, None)

    def _restore_cause(self, t: int, b: int, islands: list[_Island], bus_island: dict[int, int],
                       events: list[Event]) -> str:
        """Why bus ``b`` is live again: the repair (incidents' ``repaired`` event, same step)
        of an asset touching its island, else a switching this step (fault isolation and
        restoration, a crew's reclosing), else what had de-energised it."""
        net = self.net
        island = set(islands[bus_island[b]].buses) if b in bus_island else {b}
        for asset in self._repaired_now:
            touched: set[int] = set()
            for table, cols in (("line", ("from_bus", "to_bus")), ("trafo", ("hv_bus", "lv_bus")),
                                ("bus", ()), ("ext_grid", ("bus",))):
                rows = net[table].index[net[table]["name"] == asset]
                for i in rows:
                    touched |= {int(net[table].at[i, c]) for c in cols} if cols else {int(i)}
            if touched & island:
                return event_id(t, asset, "repaired")
        switched = [e for e in events if e["kind"] in ("switched", "reclosed")]
        return switched[0]["event_id"] if switched else self.dead_cause.get(b, "")

    def _shed_events(self, t: int, served_frac, load_live, shed_cause: dict[int, str],
                     commanded: set[int], events: list[Event]) -> None:
        """Shed / restored events for loads on live buses; a dead bus keeps the load's last state."""
        new = np.where(load_live, 1.0 - served_frac, self.shed_frac)
        for pos, name in enumerate(self.load_names):
            before, now = self.shed_frac[pos], new[pos]
            if now > before + EPS:
                cause = shed_cause.get(pos, "")
                coupling = "control" if pos in commanded else "power"
                ev = make_event(t, "power", name, "shed", float(now), cause, coupling)
                self.shed_event[pos] = ev["event_id"]
                events.append(ev)
            elif now < before - EPS and now <= EPS:
                events.append(make_event(t, "power", name, "restored", 1.0,
                                         self.shed_event.pop(pos, ""), "power"))
        self.shed_frac = new

    def _result(self, t: int, demand, served, covered, islands: list[_Island], events: list[Event],
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

    def _telemetry(self, t: int, demand, islands: list[_Island], soc: dict[str, float],
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
