"""Protection of the MV grid: breakers that trip on overload, and cold-load pickup.

Relays sit at circuit breakers (pandapower switches of ``type == "CB"`` on a line or a
transformer, placed by the region builder at feeder and transformer bays) and measure the
current of the branch the breaker sits on, as a ratio ``x = I / I_r`` of its rating
(pandapower's ``loading_percent / 100``). Load-break switches (``LBS``) never trip.

- Thermal relay (IEC 60255-149 style): a first-order thermal state ``theta`` per relay,
  ``d theta / dt = (x**2 - theta) / tau``, 1 = the steady state at rated current. Over one
  exchange step of ``dt`` s with the step's flow held, ``theta(dt) = x**2 + (theta0 - x**2)
  * exp(-dt / tau)``; the breaker trips when that exceeds ``theta_trip``. ``tau`` per cable,
  overhead line and transformer (docs/power.md, Protection, gives the sources).
- Instantaneous relay: a trip when ``x`` exceeds ``pickup`` (default 1.5).

Within one step, :meth:`Protection.settle` iterates power flow -> trips -> power flow until
nothing trips, at most ``max_iterations`` rounds of trips (then the event
``protection_limit``). The thermal state starts the step where the last one ended and is
committed from the final flow. A breaker opened on overload is an event ``tripped``
(coupling ``overload``) whose cause is the event that moved the flow onto the branch:
a trip of the previous round, else the recorded cause of the branch's overload.

:class:`ColdLoad` raises the load of customers re-energised after an outage of at least
``cold_load_min_outage_s`` to ``k`` times its pre-outage value, decaying to 1 with time
constant ``tau``: ``f(t) = 1 + (k - 1) exp(-(t - t_restore) / tau)``.

:func:`transfer_trials` runs the trial power flow of each tie transfer the restoration
policy may make, for the policy's headroom check (models/power/policy.py).

:class:`GridProtection` is the glue to :class:`twin.models.power.grid.PowerGrid`: the step
calls its four hooks (marked ``# protection hook`` there).
"""

from __future__ import annotations

import copy
import math
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from twin.config import ProtectionSection
from twin.events import Event, event_id, make_event
from twin.models.power.common import column, event_time, is_hidden_slack, set_column

MV_KV = (1.0, 36.0)  # nominal voltages counted as medium voltage (IEC 60038 bands)


@dataclass(frozen=True)
class Relay:
    """One breaker's overload relay: the switch it opens and the branch it measures."""

    switch: int  # net.switch index
    name: str  # the breaker's asset id
    table: str  # "line" or "trafo"
    element: int  # index in that table
    branch: str  # the branch's asset id
    bus: int  # the bus the breaker sits at
    tau_s: float


def thermal_state(theta0: np.ndarray, x: np.ndarray, dt_s: float, tau_s: np.ndarray) -> np.ndarray:
    """First-order thermal state after ``dt_s`` at current ratio ``x`` (exact solution)."""
    decay = np.exp(-dt_s / tau_s)
    return x * x + (theta0 - x * x) * decay


def relays_of(net: Any, opts: ProtectionSection) -> list[Relay]:
    """A relay for every circuit breaker on a line or transformer, in switch order."""
    out: list[Relay] = []
    sw = net.switch
    if "type" not in sw.columns:
        return out
    for i in sw.index:
        et = str(sw.at[i, "et"])
        if str(sw.at[i, "type"]) != "CB" or et not in ("l", "t"):
            continue
        el = int(sw.at[i, "element"])
        if et == "l":
            table = "line"
            overhead = str(net.line.at[el, "type"]) == "ol"
            tau = opts.tau_overhead_s if overhead else opts.tau_cable_s
        else:
            table, tau = "trafo", opts.tau_trafo_s
        out.append(Relay(int(i), str(sw.at[i, "name"]), table, el, str(net[table].at[el, "name"]),
                         int(sw.at[i, "bus"]), float(tau)))
    return out


def _run_pf(net: Any) -> bool:
    """A full AC power flow (DC start, then flat); False if it does not converge."""
    import pandapower as pp

    net._ppc = None
    for init in ("dc", "flat"):
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                pp.runpp(net, numba=False, lightsim2grid=False, max_iteration=30, init=init)
            return True
        except pp.LoadflowNotConverged:
            continue
    return False


@dataclass
class Protection:
    """Relays with their thermal state and the breakers they hold open; see the module doc."""

    net: Any
    step_s: int
    opts: ProtectionSection = field(default_factory=ProtectionSection)

    def __post_init__(self) -> None:
        self.relays = relays_of(self.net, self.opts) if self.opts.enabled else []
        self.tau = np.array([r.tau_s for r in self.relays], dtype=float)
        self.theta = np.full(len(self.relays), math.nan)  # nan: not yet seen (warm start)
        self.tripped: dict[int, str] = {}  # switch index -> its tripped event
        self.tripped_at: dict[int, int] = {}
        self.overload_cause: dict[int, str] = {}  # relay position -> cause while x > 1
        self._rounds: list[list[np.ndarray]] = []  # per power flow of the last step: line, trafo p_from_mw
        self.dark_cause: dict[int, str] = {}  # bus -> the trip of this step that de-energised it
        # static lookups as arrays: per-element pandas access in the step costs more than the flow
        net = self.net
        self._sw_pos = net.switch.index.get_indexer([r.switch for r in self.relays]).astype(np.int64)
        self._relays_of = {tab: (np.array([k for k, r in enumerate(self.relays) if r.table == tab], dtype=np.int64),
                                 np.array([r.element for r in self.relays if r.table == tab], dtype=np.int64))
                           for tab in ("line", "trafo")}
        self._branch_names = {tab: [str(n) for n in net[tab]["name"]] for tab in ("line", "trafo")}
        self._positions: dict[tuple[int, int], tuple[Any, Any, np.ndarray]] = {}

    def _closed(self) -> np.ndarray:
        """Whether each relay's breaker is closed now."""
        return np.asarray(column(self.net["switch"], "closed"), dtype=bool)[self._sw_pos]

    def _column(self, res: Any, col: str, index: Any) -> np.ndarray:
        """``res[col]`` at the rows ``index`` (NaN where a row is missing); the row positions
        are kept while both indexes are the same objects (result tables written in place)."""
        if col not in res or not len(res):
            return np.full(len(index), math.nan)
        held = self._positions.get((id(res.index), id(index)))
        if held is None or held[0] is not res.index or held[1] is not index:
            if len(self._positions) > 64:
                self._positions.clear()
            held = (res.index, index, res.index.get_indexer(index))
            self._positions[(id(res.index), id(index))] = held
        pos = held[2]
        vals = np.asarray(column(res, col), dtype=float)
        return np.where(pos >= 0, vals[np.maximum(pos, 0)], math.nan)

    def ratios(self) -> np.ndarray:
        """Current over rating of every relay's branch from the net's results (0 if dead)."""
        out = np.zeros(len(self.relays))
        closed = self._closed()
        for table, (ks, elements) in self._relays_of.items():
            if not len(ks):
                continue
            v = self._column(self.net[f"res_{table}"], "loading_percent", elements)
            out[ks] = np.where(closed[ks] & ~np.isnan(v), v / 100.0, 0.0)
        return out

    def _live_buses(self) -> set[int]:
        vm = self.net.res_bus["vm_pu"]
        return set(vm.index[~np.isnan(vm.to_numpy(dtype=float))].tolist())

    @property
    def rounds(self) -> list[dict[str, float]]:
        """Per power flow of the last step (the first, then one after each round of trips):
        {branch: active power at its from / HV end, MW}; built when read (tests, benchmarks)."""
        out = []
        for arrays in self._rounds:
            flows: dict[str, float] = {}
            for table, v in zip(("line", "trafo"), arrays, strict=True):
                flows.update(zip(self._branch_names[table], np.where(np.isnan(v), 0.0, v).tolist(), strict=True))
            out.append(flows)
        return out

    def _record_round(self) -> None:
        net = self.net
        self._rounds.append([self._column(net[f"res_{table}"], "p_from_mw" if table == "line" else "p_hv_mw",
                                          net[table].index) for table in ("line", "trafo")])

    def settle(self, t: int, run_pf: Callable[[], bool], cause_of: Callable[[Relay], str],
               events: list[Event]) -> tuple[bool, dict[int, str]]:
        """Trip breakers until nothing trips; return (converged, {switch: tripped event}).

        Opens the tripped breakers in ``net.switch`` and calls ``run_pf`` after each round;
        ``cause_of(relay)`` names the event behind a first-round overload.
        """
        self._rounds = []
        self.dark_cause = {}
        if not self.relays:
            return True, {}
        x0 = self.ratios()
        theta0 = np.where(np.isnan(self.theta), x0 * x0, self.theta)  # warm start in steady state
        opened: dict[int, str] = {}
        previous: list[str] = []
        converged = True
        for rnd in range(self.opts.max_iterations + 1):
            self._record_round()
            x = x0 if rnd == 0 else self.ratios()  # the first round's flow is the one just read
            theta = thermal_state(theta0, x, self.step_s, self.tau)
            closed = self._closed()
            tripping = closed & ((x > self.opts.pickup) | (theta > self.opts.theta_trip))
            trips = np.flatnonzero(tripping).tolist()
            normal = (x <= 1.0) & ~tripping
            for k in np.flatnonzero(~normal).tolist():  # in relay order: cause_of has effects
                if k not in self.overload_cause:
                    self.overload_cause[k] = previous[0] if previous else cause_of(self.relays[k])
            if self.overload_cause:
                for k in np.flatnonzero(normal).tolist():
                    self.overload_cause.pop(k, None)
            if not trips:
                break
            if rnd == self.opts.max_iterations:
                events.append(make_event(t, "power", "power/grid", "protection_limit", float(rnd),
                                         previous[0] if previous else "", "simulator"))
                break
            previous = []
            for k in trips:
                r = self.relays[k]
                ev = make_event(t, "power", r.name, "tripped", float(x[k]),
                                self.overload_cause.pop(k, ""), "overload")
                events.append(ev)
                self.net.switch.at[r.switch, "closed"] = False
                opened[r.switch] = ev["event_id"]
                self.tripped[r.switch] = ev["event_id"]
                self.tripped_at[r.switch] = t
                previous.append(ev["event_id"])
            live = self._live_buses()
            if not run_pf():
                converged = False
                x = np.zeros(len(self.relays))
                theta = thermal_state(theta0, x, self.step_s, self.tau)
                break
            for b in live - self._live_buses():
                self.dark_cause.setdefault(b, previous[0])
        self.theta = theta
        return converged, opened


class ColdLoad:
    """Cold-load pickup factors of the loads (positions of ``net.load``); see the module doc."""

    def __init__(self, n_loads: int, opts: ProtectionSection) -> None:
        self.k = float(opts.cold_load_factor)
        self.tau_s = float(opts.cold_load_tau_s)
        self.min_outage_s = float(opts.cold_load_min_outage_s)
        self.dead_since = np.full(n_loads, math.nan)
        self.restored_at = np.full(n_loads, math.nan)
        self.cause: dict[int, str] = {}  # load position -> the event that re-energised it
        self._pending = np.zeros(n_loads, dtype=bool)

    def factor(self, t: int, live: np.ndarray) -> np.ndarray:
        """Load multiplier for this step of loads that are ``live`` (supplied) before the flow."""
        f = np.ones(len(live))
        if self.k == 1.0:
            return f
        self._pending = live & ~np.isnan(self.dead_since) & (t - self.dead_since >= self.min_outage_s)
        active = live & ~np.isnan(self.restored_at)
        f[active] = 1.0 + (self.k - 1.0) * np.exp(-(t - self.restored_at[active]) / self.tau_s)
        f[self._pending] = self.k
        return f

    def trial_factor(self, t: int, step_s: int) -> np.ndarray:
        """The multiplier a load would get if re-energised at the next step."""
        f = np.ones(len(self.dead_since))
        due = ~np.isnan(self.dead_since) & (t + step_s - self.dead_since >= self.min_outage_s)
        f[due] = self.k
        return f

    def pending(self) -> list[int]:
        """Loads picked up cold in the current step (before :meth:`commit`)."""
        return [int(p) for p in np.flatnonzero(self._pending)]

    def commit(self, t: int, live: np.ndarray, causes: dict[int, str]) -> None:
        """End of step: ``live`` loads after protection; ``causes`` of this step's pickups."""
        picked = self._pending & live
        self.restored_at[picked] = t
        for p in np.flatnonzero(picked):
            self.cause[int(p)] = causes.get(int(p), "")
        expired = ~np.isnan(self.restored_at) & (t - self.restored_at > 5 * self.tau_s)
        self.restored_at[~live | expired] = math.nan
        for p in np.flatnonzero(~live | expired):
            self.cause.pop(int(p), None)
        self.dead_since[live] = math.nan
        self.dead_since[~live & np.isnan(self.dead_since)] = t
        self._pending[:] = False


MUTABLE_COLUMNS = (("bus", "in_service"), ("line", "in_service"), ("trafo", "in_service"),
                   ("ext_grid", "in_service"), ("gen", "in_service"), ("gen", "p_mw"), ("sgen", "in_service"),
                   ("sgen", "p_mw"), ("storage", "in_service"), ("storage", "p_mw"), ("load", "in_service"),
                   ("load", "p_mw"), ("load", "q_mvar"), ("switch", "closed"))
"""The columns a PowerGrid step changes in its net (everything else is fixed for a run)."""


def refresh_copy(copy_: Any, net: Any) -> bool:
    """Bring a copy of ``net`` made earlier up to date (``MUTABLE_COLUMNS``); False if the
    tables no longer match (then make a new copy)."""
    for table, _col in MUTABLE_COLUMNS:
        if len(copy_[table]) != len(net[table]) or not copy_[table].index.equals(net[table].index):
            return False
    for table, col in MUTABLE_COLUMNS:
        if col in net[table]:
            set_column(copy_[table], col, net[table][col].to_numpy().copy())
    return True


def tie_candidates(telemetry: dict) -> list[dict]:
    """The branches a tie transfer could close now (see :func:`transfer_trials`), in the
    telemetry's branch order."""
    buses = telemetry.get("buses", {})
    closed = telemetry.get("switch_closed", {})
    normal = telemetry.get("switch_normally_closed", {})
    open_points = {s for s, c in closed.items() if not c and not normal.get(s, True)}  # normally open, open
    return [
        br for br in telemetry.get("branches", [])
        if not br["failed"] and not open_points.isdisjoint(br["switches"])
        and (buses.get(br["from"]) == "grid") != (buses.get(br["to"]) == "grid")
    ]


def transfer_trials(net: Any, telemetry: dict, load_p_mw: np.ndarray, load_q_mvar: np.ndarray,
                    solve: Callable[[Any], bool] = _run_pf,
                    base: Any | None = None, candidates: list[dict] | None = None) -> dict[str, dict[str, Any]]:
    """Trial power flow of each tie transfer restoration could make now.

    A candidate is a healthy branch with an open, normally open switch between a bus on the
    main grid and one that is not. Its trial closes that switch with every load off the
    main grid at ``load_p_mw`` / ``load_q_mvar`` (what would be picked up) and grid-forming
    units off (their islands join the grid); ``solve(net)`` runs a full power flow (default
    pandapower's, :func:`_run_pf`). ``base``: a copy of ``net`` to reuse, brought up to date
    with :func:`refresh_copy` (default: a fresh deep copy; either way ``net`` is untouched).
    ``candidates``: :func:`tie_candidates` of ``telemetry`` if already known.
    Returns {branch id: {"converged", "max_loading_pct", "max_loading_branch", "min_vm_pu",
    "min_vm_bus"}}.
    """
    buses = telemetry.get("buses", {})
    if candidates is None:
        candidates = tie_candidates(telemetry)
    out: dict[str, dict[str, Any]] = {}
    if not candidates:
        return out
    if base is None or not refresh_copy(base, net):
        base = copy.deepcopy(net)
    bus_name = dict(zip(base.bus.index.tolist(), base.bus["name"].astype(str).tolist(), strict=True))
    off = np.array([buses.get(bus_name[int(b)]) != "grid" for b in base.load["bus"]], dtype=bool)
    set_column(base.load, "p_mw", np.where(off, load_p_mw, base.load["p_mw"].to_numpy(dtype=float)))
    set_column(base.load, "q_mvar", np.where(off, load_q_mvar, base.load["q_mvar"].to_numpy(dtype=float)))
    hidden = base.ext_grid["name"].map(is_hidden_slack).to_numpy(dtype=bool)
    set_column(base.ext_grid, "in_service", base.ext_grid["in_service"].to_numpy(dtype=bool) & ~hidden)
    mv = base.bus.index[(base.bus["vn_kv"] >= MV_KV[0]) & (base.bus["vn_kv"] <= MV_KV[1])]
    trial = base
    names = trial.switch["name"].astype(str)
    for br in sorted(candidates, key=lambda b: b["id"]):
        rows = names.isin(br["switches"]).to_numpy()
        before = trial.switch["closed"].to_numpy(dtype=bool).copy()
        set_column(trial.switch, "closed", before | rows)
        ok = solve(trial)
        set_column(trial.switch, "closed", before)
        if not ok:
            out[br["id"]] = {"converged": False}
            continue
        worst, where = -1.0, ""
        for table in ("line", "trafo"):  # the first most loaded branch, lines before transformers
            lp = trial[f"res_{table}"]["loading_percent"]
            vals = np.where(np.isnan(lp.to_numpy(dtype=float)), -np.inf, lp.to_numpy(dtype=float))
            if len(vals) and vals[int(np.argmax(vals))] > worst:
                k = int(np.argmax(vals))
                worst, where = float(vals[k]), str(trial[table].at[lp.index[k], "name"])
        vm = trial.res_bus["vm_pu"].reindex(mv).dropna()
        low = int(vm.idxmin()) if len(vm) else -1
        out[br["id"]] = {
            "converged": True, "max_loading_pct": worst, "max_loading_branch": where,
            "min_vm_pu": float(vm.min()) if len(vm) else 1.0,
            "min_vm_bus": str(trial.bus.at[low, "name"]) if low >= 0 else "",
        }
    return out


class GridProtection:
    """Protection and cold-load pickup hooked into a PowerGrid step (the grid is passed in).

    Reads and writes these PowerGrid attributes: ``net``, ``step_s``, ``switch_pos``,
    ``switch_event``, ``energised``, ``bus_names``, ``load_bus``, ``load_names``, ``base_p``,
    ``base_q``, ``_repaired_now``, ``_failed``, ``_switch_branch``, ``topology_key``,
    ``_island_sig``.
    """

    def __init__(self, grid: Any, options: ProtectionSection | dict | None = None) -> None:
        if options is None:
            opts = ProtectionSection()
        elif isinstance(options, ProtectionSection):
            opts = options
        else:
            opts = ProtectionSection.model_validate(options)
        self.opts = opts
        self.protection = Protection(grid.net, grid.step_s, opts)
        self.cold = ColdLoad(len(grid.net.load), opts)
        self._events: list[Event] = []
        self._fallback: dict[str, str] = {}  # pickup event -> what re-energised the load
        from twin.models.power.solver import make_solver

        # trial flows run on copies of the net: a solver of the grid's kind, with its own tally
        self._trial_solver = make_solver(getattr(grid.solver, "name", "pandapower"))
        self._trial_net: Any = None
        self._candidates_held: tuple | None = None

    # hook 1: after control commands, before damage and switch positions are applied
    def start_step(self, grid: Any, t: int, events: list[Event]) -> None:
        """Tripped breakers come back: remotely closed by control, or by a crew after
        ``crew_reclose_s`` (not while the breaker's own branch is failed); either is a
        ``reclosed`` event of the breaker."""
        prot = self.protection
        prot.dark_cause = {}
        for sw in sorted(prot.tripped):
            trip = prot.tripped[sw]
            name = str(grid.net.switch.at[sw, "name"])
            if bool(grid.switch_pos.at[sw]):
                cause, coupling = grid.switch_event.get(sw, trip), "control"
            elif (t - prot.tripped_at[sw] >= self.opts.crew_reclose_s
                  and grid._switch_branch.get(sw, "") not in grid._failed):  # not onto a fault
                grid.switch_pos.at[sw] = True
                cause, coupling = trip, "repair"
            else:
                continue
            ev = make_event(t, "power", name, "reclosed", 1.0, cause, coupling)
            events.append(ev)
            grid.switch_event[sw] = ev["event_id"]
            del prot.tripped[sw], prot.tripped_at[sw]

    # hook 2: the load injected into the power flow
    def pickup_factor(self, grid: Any, t: int, served_frac: np.ndarray) -> np.ndarray:
        """Cold-load multiplier per load for this step's power flow."""
        return self.cold.factor(t, np.asarray(served_frac) > 0)

    # hook 3: after a converged power flow
    def after_flow(self, grid: Any, t: int, events: list[Event], served_frac: np.ndarray) -> bool:
        """Trip overloaded breakers (iterating power flows); return whether the flow converged."""
        net = grid.net
        self._events = events
        converged, opened = self.protection.settle(t, lambda: grid.solver.solve(net, recycle=False),
                                                   self._cause_of(grid, t), events)
        for sw, ev in opened.items():
            grid.switch_pos.at[sw] = False
            grid.switch_event[sw] = ev
        if opened:
            grid.topology_key = None
            grid._island_sig = None
        if len(net.res_bus):
            vm = self.protection._column(net.res_bus, "vm_pu", net.bus.index)  # NaN: no voltage, or no row
            live = (np.asarray(served_frac) > 0) & ~np.isnan(vm[grid._load_bus_pos])
        else:
            live = np.zeros(len(grid.load_bus), dtype=bool)
        causes = {p: self._pickup_event(grid, t, p) for p in self.cold.pending()}
        # a pickup whose trip kept it dark has no energised event: name what re-energised it
        picked = {causes[p] for p in causes if live[p]}
        fix = {e: f for e, f in self._fallback.items() if e not in picked and f}
        for ev in events:
            if ev["kind"] == "tripped" and ev["cause_id"] in fix:
                ev["cause_id"] = fix[ev["cause_id"]]
        prot = self.protection
        prot.overload_cause = {k: fix.get(c, c) for k, c in prot.overload_cause.items()}
        self._fallback = {}
        self.cold.commit(t, live, causes)
        return converged

    @staticmethod
    def _pickup_event(grid: Any, t: int, p: int) -> str:
        """The event a cold-load pickup of load ``p`` at ``t`` shows as: its bus energised, or
        (a load shed on a live bus) the load restored."""
        b = grid.load_bus[p]
        if b not in grid.energised:
            return event_id(t, grid.bus_names[b], "energised")
        return event_id(t, grid.load_names[p], "restored")

    # hook 4: what control sees
    def annotate(self, grid: Any, t: int, demand: np.ndarray, telemetry: dict) -> None:
        """Add ``tripped`` {breaker: event} and ``transfer_trials`` to the telemetry."""
        net = grid.net
        telemetry["tripped"] = {str(net.switch.at[sw, "name"]): ev
                                for sw, ev in sorted(self.protection.tripped.items())}
        f = self.cold.trial_factor(t, grid.step_s)
        qratio = np.divide(grid.base_q, grid.base_p, out=np.zeros_like(grid.base_p), where=grid.base_p > 0)
        if self._trial_net is None:
            self._trial_net = copy.deepcopy(net)  # refreshed per step (refresh_copy), not copied again
        telemetry["transfer_trials"] = transfer_trials(
            net, telemetry, demand * f, demand * f * qratio,
            lambda trial: self._trial_solver.solve(trial, recycle=False), base=self._trial_net,
            candidates=self._candidates(telemetry))

    def _candidates(self, telemetry: dict) -> list[dict]:
        """:func:`tie_candidates` of the telemetry, recomputed only when the switch map, bus
        map or branch list it depends on changed. The grid hands out the same (read-only)
        objects while they are unchanged and new ones when they change, so the tuple
        comparison (identity first, element by element) is cheap in a steady step."""
        key = (telemetry.get("switch_closed", {}), telemetry.get("buses", {}), telemetry.get("branches", []))
        held = self._candidates_held
        if held is None or held[0] != key:
            held = (key, tie_candidates(telemetry))
            self._candidates_held = held
        return held[1]  # equal to this step's (unfailed branches: static fields, failed False, no cause)

    def _cause_of(self, grid: Any, t: int) -> Callable[[Relay], str]:
        """The event behind a first-round overload of a relay's branch, in this order:
        a tie closed this step in the branch's island, a cold-load pickup there, the most
        recent failure of an asset touching the island ("" if none: load alone grew)."""
        net = grid.net
        cache: dict[str, Any] = {}

        def component(bus: int) -> set[int]:
            if "graph" not in cache:
                import pandapower.topology as top

                cache["graph"] = top.create_nxgraph(net, respect_switches=True, include_out_of_service=False)
            import networkx as nx

            g = cache["graph"]
            return set(nx.node_connected_component(g, bus)) if bus in g else set()

        def cause_of(relay: Relay) -> str:
            comp = component(relay.bus)
            names = net.switch["name"].astype(str)
            for ev in self._events:
                if ev["kind"] in ("switched", "reclosed") and ev["value"] >= 0.5:
                    rows = net.switch.index[names == ev["asset_id"]]
                    if any(int(net.switch.at[i, "bus"]) in comp for i in rows):
                        return ev["event_id"]
            for p in [*self.cold.pending(), *sorted(self.cold.cause)]:
                if grid.load_bus[p] not in comp:
                    continue
                if p in self.cold.cause:  # picked up in an earlier step: its energised event
                    return self.cold.cause[p]
                # picked up this step: its energised (or restored) event, or, should the trip
                # keep it dark, what re-energised it (a repair, a switching): see after_flow
                pickup = self._pickup_event(grid, t, p)
                now = [event_id(t, a, "repaired") for a in grid._repaired_now]
                now += [e["event_id"] for e in self._events if e["kind"] in ("switched", "reclosed")]
                self._fallback[pickup] = now[0] if now else ""
                return pickup
            near = [(a, e) for a, e in grid._failed.items() if _ends(net, a) & comp]
            near.sort(key=lambda kv: (-event_time(kv[1]), kv[1]))
            return near[0][1] if near else ""

        return cause_of


def _ends(net: Any, asset: str) -> set[int]:
    """The buses a failed asset touches (a bus itself, a line's or transformer's ends)."""
    out: set[int] = set()
    for table, cols in (("bus", ()), ("line", ("from_bus", "to_bus")), ("trafo", ("hv_bus", "lv_bus"))):
        for i in net[table].index[net[table]["name"].astype(str) == asset]:
            out |= {int(net[table].at[i, c]) for c in cols} if cols else {int(i)}
    return out
