"""Operating a water network through time: power, backup generators, damage, commands, events.

:class:`WaterOperation` is the domain logic behind the mosaik adapter (and usable without
mosaik). Each exchange step it takes the sets the other simulators send — damaged assets
(``failed``), de-energised buses (``dead_buses``), pump and valve ``commands`` — applies them
to a :class:`~twin.models.water.network.WaterNetwork`, solves, and returns the outputs of the
contract (docs/architecture.md) plus the step's events.

Rules (documented in docs/water.md):

- A pump (station or well) is *powered* while its bus (``power->water`` supplier) is not in
  ``dead_buses`` and its own load is not in ``unsupplied`` (shed on a live bus), or while
  its backup generator has fuel. A shed pump behaves exactly like one on a dead bus, its
  cause being the load's ``shed`` event (recovery: the load's ``restored`` event). The generator holds
  ``pump_backup_h`` hours of fuel and burns it only during steps in which the bus is dead;
  at half a tank it asks for a crew (output ``needs_fuel``), whose refuelling arrives as the
  command ``refuel/<asset>``. A pump that loses power is forced off and emits
  ``pump_stopped`` (cause: the bus's event in ``dead_buses``, coupling ``power->water``);
  when power returns it emits ``pump_started`` and restarts under its local rule.
- A damaged pump, pipe, junction, tank or reservoir (``failed``): a pump is forced off; a pipe
  or valve is closed (``pipe_break="closed"``, crews isolate it at once), leaks through an
  emitter on the node splitting it (``pipe_break="leak"``), or leaks until crews close its
  valves ``isolate_after_h`` hours later (``pipe_break="leak_then_closed"``, an ``isolated``
  event); a junction leaks; a tank or reservoir is
  isolated (its links closed). Repair (the asset leaving ``failed``) undoes it.
- ``commands`` {asset: {"value", "cause_id"}}: a pump runs (value >= 0.5) or stops as
  commanded while the command is present; a pipe or valve is closed (value < 0.5) or opened.
  A pump without a command follows its local fallback rule: its own EPANET controls (for built
  regions a level switch on its tank; a pump without a tank runs whenever powered).
- A demand junction whose delivered demand is below half its requirement is "out"
  (``low_pressure`` event, its people count in ``customers_out``). Its cause is the active
  outage (pump stopped, plant stopped, asset damaged, tank drained) that carried the largest
  share of its supply on the last solution before that outage began, traced through the
  flows (:mod:`twin.models.water.causes`); with no outage active the event has coupling
  ``simulator`` and no cause.
- Integrity: :mod:`twin.models.water.integrity` checks every step's solution
  (``hydraulics_unsolved``, ``stale_solution``, ``pressure_outlier``, ``epanet_warning``,
  ``option_overridden``).
- Production: a treatment plant (asset type ``plant``: the flow control valve that feeds
  the plant's clear well) produces while powered and not damaged; without power its valve
  closes (``production_stopped``, cause the power event) and the clear well drains through
  the plant pump. A well's stop and restart are ``production_stopped`` /
  ``production_started`` (a pump station's ``pump_stopped`` / ``pump_started``). Power,
  generators and fuel: :mod:`twin.models.water.supply`.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from twin.events import Event, event_id, make_event
from twin.region.assets import Asset, load_region

from .causes import CauseTracer
from .control import pump_asset_id
from .damage import BREAK_AREA_FRAC, DamageMixin  # noqa: F401 - re-exported
from .integrity import NETWORK_ASSET, IntegrityWatch  # noqa: F401 - re-exported
from .network import CONTROL_VALVES, EN_PUMP, WaterNetwork
from .supply import GENERATOR_START_FAILURE, REFUEL_REQUEST_FRAC, PowerSupply
from .trace import FlowTrace

logger = logging.getLogger(__name__)

SECTOR = "water"
DEFAULT_PROCESS_PLANTS: tuple[str, ...] = ("power/plant/central",)
PROCESS_JUNCTION = "process"
OUT_SHARE = 0.5  # a junction delivering under half its requirement counts its people as out
NEGATIVE_PRESSURE_M = -0.01  # tolerance below which a demand junction's pressure is negative
PERSON_M3S = 0.150 / 86400.0  # to estimate people from demand on foreign networks
PIPE_BREAKS: tuple[str, ...] = ("closed", "leak", "leak_then_closed")
DRAINED_M = 1e-3  # a tank below this level is empty (EPANET stops drawing from it)
REFILLED_M = 0.05  # ... and holds water again above this one
REFUEL_PREFIX = "refuel/"  # command key of a crew's refuelling: "refuel/<asset id>"


class WaterOperationError(ValueError):
    """A bad parameter for the water operation."""


@dataclass
class PumpState:
    """What the operation knows about one pump (station or well)."""

    asset_id: str
    name: str
    district: str
    supply: PowerSupply
    available: bool = True  # powered and not damaged
    down_event: str = ""  # pump_stopped / production_stopped event id while unavailable
    forced_reason: str = ""  # "outage" | "command" | ""

    @property
    def is_well(self) -> bool:
        return self.asset_id.startswith("water/well/")


@dataclass
class PlantState:
    """A treatment plant: the flow control valve from raw water into its clear well."""

    asset_id: str
    link: str  # EPANET id of the valve
    district: str
    design_m3s: float  # production at full capacity
    supply: PowerSupply
    producing: bool = True
    down_event: str = ""  # production_stopped event id while stopped


@dataclass
class StepOutput:
    """The contract outputs of one step."""

    load_p_mw: dict[str, float]
    tank_level_m: dict[str, float]
    pump_on: dict[str, bool]
    process_pressure_m: dict[str, float]
    series: dict[str, Any]
    events: list[Event] = field(default_factory=list)
    # generators asking for a refuelling crew: {asset: its backup_started / fuel_exhausted event}
    needs_fuel: dict[str, str] = field(default_factory=dict)
    # why the process pressure is what it is: {plant: the process junction's low_pressure
    # event while it is out, else the outage that carries most of its supply, else ""}
    process_cause: dict[str, str] = field(default_factory=dict)


class WaterOperation(DamageMixin):
    """See the module docstring. ``assets`` and ``power_suppliers`` come from the region;
    without them ids are derived from EPANET names and pumps have no bus."""

    def __init__(
        self,
        inp_path: str | Path,
        *,
        assets: list[Asset] | None = None,
        power_suppliers: Mapping[str, str] | None = None,
        step_s: int = 300,
        duration_s: int = 169 * 3600,
        pump_backup_h: float = 0.0,
        generator_start_failure: float = GENERATOR_START_FAILURE,
        refuel_request_frac: float = REFUEL_REQUEST_FRAC,
        seed: int = 0,
        efficiency: float = 0.75,
        minimum_pressure_m: float | None = None,
        required_pressure_m: float | None = None,
        pressure_exponent: float | None = None,
        pipe_break: str = "closed",
        leak_area_frac: float = 0.1,
        isolate_after_h: float = 2.0,
        junction_leak_area_m2: float = 0.005,
        process_plants: tuple[str, ...] | list[str] = DEFAULT_PROCESS_PLANTS,
        work_dir: str | Path | None = None,
        split_pipes: bool = True,
    ) -> None:
        if pipe_break not in PIPE_BREAKS:
            raise WaterOperationError(f"pipe_break must be one of {PIPE_BREAKS}, got {pipe_break!r}")
        if isolate_after_h < 0:
            raise WaterOperationError(f"isolate_after_h must be >= 0, got {isolate_after_h}")
        if pump_backup_h < 0:
            raise WaterOperationError(f"pump_backup_h must be >= 0, got {pump_backup_h}")
        if not 0 <= refuel_request_frac <= 1:
            raise WaterOperationError(
                f"refuel_request_frac must be in [0, 1], got {refuel_request_frac}")
        self.refuel_request_frac = float(refuel_request_frac)
        self.net = WaterNetwork(
            inp_path, step_s=step_s, duration_s=duration_s, efficiency=efficiency,
            work_dir=work_dir, minimum_pressure_m=minimum_pressure_m,
            required_pressure_m=required_pressure_m, pressure_exponent=pressure_exponent,
            split_pipes=split_pipes,
        )
        self.step_s = int(step_s)
        self.pipe_break = pipe_break
        self.leak_area_frac = float(leak_area_frac)
        self.isolate_after_s = round(float(isolate_after_h) * 3600)
        self._leaking_pipes: dict[str, int] = {}  # pipe asset -> failure time (leak_then_closed)
        self.junction_leak_area_m2 = float(junction_leak_area_m2)
        net = self.net
        by_id = {a["id"]: a for a in assets or [] if a["sector"] == SECTOR}
        suppliers = dict(power_suppliers or {})

        # EPANET name -> asset id, and back
        split_node = {node: pipe for pipe, (node, _) in net.split.items()}
        second_half = {half: pipe for pipe, (_, half) in net.split.items()}
        self.node_asset: dict[str, str] = {}
        for n in net.junctions:
            # a pipe's mid node belongs to the pipe (its leaks, its outlier events)
            self.node_asset[n] = (f"water/pipe/{split_node[n]}" if n in split_node
                                  else f"water/junction/{n}")
        for n in net.tanks:
            self.node_asset[n] = f"water/tank/{n}"
        for n in net.reservoirs:
            self.node_asset[n] = f"water/reservoir/{n}"
        self.link_asset: dict[str, str] = {}
        for lid in net.link_ids:
            kind = net.link_type[lid]
            if kind == EN_PUMP:
                aid = pump_asset_id(lid, net.link_nodes(lid)[0])
                if aid not in by_id and f"water/pump/{lid}" in by_id:
                    aid = f"water/pump/{lid}"
            elif kind in CONTROL_VALVES:
                aid = f"water/plant/{lid}" if f"water/plant/{lid}" in by_id else (
                    f"water/valve/{lid}")
            else:
                aid = f"water/pipe/{second_half.get(lid, lid)}"
            self.link_asset[lid] = aid
        self.asset_node = {v: k for k, v in self.node_asset.items() if k not in split_node}
        self.asset_link = {v: k for k, v in self.link_asset.items() if k not in second_half}

        def district_of(aid: str) -> str:
            return by_id[aid]["district"] if aid in by_id else "network"

        def supply(aid: str) -> PowerSupply:
            return PowerSupply(aid, suppliers.get(aid), float(pump_backup_h) * 3600.0,
                               float(by_id[aid]["p_mw"]) if aid in by_id else 0.0,
                               start_failure=generator_start_failure, seed=int(seed))

        self.pumps: dict[str, PumpState] = {}
        for name in net.pumps:
            aid = self.link_asset[name]
            self.pumps[aid] = PumpState(aid, name, district_of(aid), supply(aid))
        self.plants: dict[str, PlantState] = {}
        for lid, aid in self.link_asset.items():
            if aid.startswith("water/plant/"):
                self.plants[aid] = PlantState(aid, lid, district_of(aid),
                                              float(by_id[aid]["capacity"]), supply(aid))
        self.net.watch_links([p.link for p in self.plants.values()])
        # backup generator assets (water/generator/<station>) -> their station's supply
        self.generators: dict[str, PowerSupply] = {
            f"water/generator/{aid.rsplit('/', 1)[-1]}": x.supply
            for aid, x in [*self.pumps.items(), *self.plants.items()]}
        self.people: dict[str, int] = {}
        self.district: dict[str, str] = {}
        for j in net.demand_junctions:
            aid = self.node_asset[j]
            self.district[aid] = district_of(aid)
            if aid in by_id:
                self.people[aid] = int(by_id[aid]["customers"])
            else:
                self.people[aid] = round(net.base_demand_m3s[j] / PERSON_M3S)
        self.districts = sorted(set(self.district.values()))
        self._tank_district = {self.node_asset[n]: district_of(self.node_asset[n])
                               for n in net.tanks}
        self._drained: dict[str, str] = {}  # tank asset -> its drained event id
        self.process_plants = list(process_plants) if PROCESS_JUNCTION in net.junctions else []

        self._failed: dict[str, str] = {}
        self._mode: dict[str, str] = {}  # failed asset -> damage mode (failed, leak, break)
        self._emitters_closed: set[str] = set()
        self._isolated: set[str] = set()  # broken pipes closed by crews after leaking
        self._link_closers: dict[str, set[str]] = {}
        self._leaks: dict[str, dict[str, float]] = {}  # node -> {cause asset: area}
        self._pump_failed: dict[str, str] = {}  # pump asset -> failure event id
        self._commands_links: set[str] = set()
        # active outages and the hydraulic cause attribution (causes.py)
        net.read_flow_vector = True
        self.causes = CauseTracer(FlowTrace(
            len(net.node_ids), net.link_end_indices(),
            {net.node_index(n) - 1 for n in [*net.tanks, *net.reservoirs]}))
        self._ran_in: dict[str, list[float] | None] = {}  # pump -> last solution it ran in
        self._out: set[str] = set()
        self._low_event: dict[str, str] = {}  # junction out -> its low_pressure event id
        self._negative: set[str] = set()
        self._pump_on_prev: dict[str, bool] = {}
        self._watch = IntegrityWatch(self.net, self.node_asset)

    @classmethod
    def from_region(cls, region_dir: str | Path, **kwargs: Any) -> WaterOperation:
        """Open the ``water.inp`` of a built region with its assets and power suppliers;
        ``pump_backup_h`` defaults to the region's configuration parameter."""
        region = load_region(region_dir)
        kwargs.setdefault("pump_backup_h", float(region.params.get("pump_backup_h", 0.0)))
        return cls(region.path("water"), assets=region.assets,
                   power_suppliers=region.suppliers("power->water"), **kwargs)

    # --- one step -----------------------------------------------------------------------------
    def step(
        self,
        t_s: int,
        failed: Mapping[str, str] | None = None,
        dead_buses: Mapping[str, str] | None = None,
        commands: Mapping[str, Mapping[str, Any]] | None = None,
        unsupplied: Mapping[str, str] | None = None,
        damage: Mapping[str, Mapping[str, Any]] | None = None,
    ) -> StepOutput:
        """Apply this step's inputs, solve at ``t_s`` and return the outputs and events.

        ``unsupplied`` {consumer id: its load's shed event} is the power output of consumers
        shed on a live bus; only the water ones matter here. ``damage`` {asset: {"mode",
        "fraction"}} (incidents) says how a failed pipe is damaged: ``leak``, ``break`` or
        ``failed`` (absent: ``failed``, handled by ``pipe_break``)."""
        failed = {k: v for k, v in (failed or {}).items() if k.startswith("water/")}
        dead = dict(dead_buses or {})
        shed = dict(unsupplied or {})
        commands = dict(commands or {})
        events: list[Event] = []

        def emit(aid: str, kind: str, value: float, cause: str, coupling: str) -> Event:
            ev = make_event(t_s, SECTOR, aid, kind, value, cause, coupling)
            events.append(ev)
            return ev

        # damage and repair
        for aid in sorted(set(self._failed) - set(failed)):
            cause = self._failed.pop(aid)
            self._apply_damage(aid, cause, on=False)
            self._isolated.discard(aid)
            self._leaking_pipes.pop(aid, None)
            self._mode.pop(aid, None)
            self.causes.remove(cause or f"failed:{aid}")
        for aid in sorted(set(failed) - set(self._failed)):
            self._failed[aid] = failed[aid]
            self._mode[aid] = str((damage or {}).get(aid, {}).get("mode", "failed"))
            self._apply_damage(aid, failed[aid], on=True)
            if aid not in self.generators:  # a generator's damage is no outage by itself
                self.causes.add(failed[aid] or f"failed:{aid}", t_s, self._district_of_asset(aid),
                                *self._elements(aid), ref=self._ran_in.get(aid))
            if aid in self.asset_link and (self.pipe_break == "leak_then_closed"
                                           or self._mode[aid] == "break"):
                self._leaking_pipes[aid] = t_s
        # crews close the valves around a leaking pipe (leak_then_closed)
        for aid, t_fail in sorted(self._leaking_pipes.items()):
            if t_s - t_fail >= self.isolate_after_s:
                self._apply_damage(aid, self._failed[aid], on=False)  # the leak stops
                self._isolated.add(aid)
                self._apply_damage(aid, self._failed[aid], on=True)  # ... the pipe is closed
                del self._leaking_pipes[aid]
                emit(aid, "isolated", 0.0, self._failed[aid], "water")

        # crews that refuelled a generator (command "refuel/<asset>", from control)
        for key, cmd in sorted(commands.items()):
            supply = self._supply(key.removeprefix(REFUEL_PREFIX)) if key.startswith(
                REFUEL_PREFIX) else None
            if supply is not None and float(cmd.get("value", 1.0)) >= 0.5:
                supply.refuel(str(cmd.get("cause_id", "")), emit)

        # link commands (crews / remote valves)
        link_cmds = {a: c for a, c in commands.items() if a in self.asset_link and a not in self.pumps}
        for aid in sorted(self._commands_links - set(link_cmds)):
            self._reopen(self.asset_link[aid], "command")
        self._commands_links = set()
        for aid, cmd in sorted(link_cmds.items()):
            if float(cmd.get("value", 1.0)) < 0.5:
                self._close(self.asset_link[aid], "command")
                self._commands_links.add(aid)
            else:
                self._reopen(self.asset_link[aid], "command")

        # pumps: power, generator, damage, commands
        for aid, ps in self.pumps.items():
            powered, why = ps.supply.update(dead, shed, emit)
            damaged = aid in self._pump_failed
            available = powered and not damaged
            if ps.available and not available:
                if not powered:
                    stopped = "production_stopped" if ps.is_well else "pump_stopped"
                    ev = emit(aid, stopped, 0.0, why, "power->water")
                    ps.down_event = ev["event_id"]
                    self.causes.add(ps.down_event, t_s, ps.district, *self._elements(aid),
                                    ref=self._ran_in.get(aid))
                else:
                    ps.down_event = self._pump_failed.get(aid, "")
            elif not ps.available and available:
                if ps.down_event in self.causes and ps.down_event.endswith(
                        ("|pump_stopped", "|production_stopped")):
                    emit(aid, "production_started" if ps.is_well else "pump_started", 1.0,
                         self._power_back_cause(t_s, ps.supply), "power->water")
                    self.causes.remove(ps.down_event)
                ps.down_event = ""
            ps.available = available
            cmd = commands.get(aid)
            if not available:
                self.net.set_pump(ps.name, False)
                ps.forced_reason = "outage"
            elif cmd is not None:
                self.net.set_pump(ps.name, float(cmd.get("value", 1.0)) >= 0.5)
                ps.forced_reason = "command"
            elif ps.forced_reason:
                # back to the local rule: restart after an outage, and a pump without a rule
                # of its own (no EPANET controls) runs whenever powered
                has_rule = bool(self.net.suspended_controls(ps.name))
                restart = ps.forced_reason == "outage" or not has_rule
                self.net.release_pump(ps.name, on=True if restart else None)
                ps.forced_reason = ""

        self._step_plants(t_s, dead, shed, emit)

        snap = self.net.step(t_s)

        # generators burn fuel in proportion to their load
        for ps in self.pumps.values():
            ps.supply.burn(snap.pump_p_mw[ps.name], self.step_s, emit)
        plant_p = {aid: self._plant_p_mw(pl, snap.watched_flow_m3s[pl.link])
                   for aid, pl in self.plants.items()}
        for aid, pl in self.plants.items():
            pl.supply.burn(plant_p[aid], self.step_s, emit)

        self._tank_events(t_s, snap.tank_level_m, emit)

        # operational pump switching (local rule or commands); a pump EPANET stops because
        # its suction tank ran empty names the tank's drained event
        pump_on = {aid: bool(snap.pump_on[ps.name]) for aid, ps in self.pumps.items()}
        for aid, on in pump_on.items():
            prev = self._pump_on_prev.get(aid)
            if prev is not None and prev != on and self.pumps[aid].available:
                cmd = commands.get(aid)
                cause, coupling = (str(cmd.get("cause_id", "")), "control") if cmd else ("", "policy")
                suction = self.node_asset.get(self.net.link_nodes(self.pumps[aid].name)[0], "")
                if not on and not cmd and suction in self._drained:
                    cause, coupling = self._drained[suction], "water"
                emit(aid, "pump_on" if on else "pump_off", 1.0 if on else 0.0, cause, coupling)
        self._pump_on_prev = pump_on

        # junction service and pressure
        req = {self.node_asset[j]: v for j, v in snap.required_m3s.items()}
        dlv = {self.node_asset[j]: v for j, v in snap.delivered_m3s.items()}
        pres = {self.node_asset[j]: snap.pressure_m[j] for j in self.net.demand_junctions}
        for aid in sorted(req):
            out = req[aid] > 0 and dlv[aid] < OUT_SHARE * req[aid]
            if out and aid not in self._out:
                cause, coupling = self._attribute(self.asset_node[aid], self.district[aid])
                self._low_event[aid] = emit(aid, "low_pressure", pres[aid], cause, coupling)["event_id"]
                self._out.add(aid)
            elif not out and aid in self._out:
                emit(aid, "pressure_ok", pres[aid], "", "water")
                self._out.discard(aid)
            neg = pres[aid] < NEGATIVE_PRESSURE_M
            if neg and aid not in self._negative:
                emit(aid, "negative_pressure", pres[aid], "", "simulator")
                self._negative.add(aid)
            elif not neg:
                self._negative.discard(aid)
        self._watch.check(t_s, snap, emit)
        closed = set(snap.emitters_closed)
        for j in sorted(closed - self._emitters_closed):
            emit(self.node_asset[j], "emitter_closed", snap.pressure_m[j], "", "simulator")
        self._emitters_closed = closed
        # the reference solution of every outage that begins at the next step
        self.causes.reference = snap.flow_vector
        for aid, ps in self.pumps.items():  # the last solution each pump ran in
            if snap.pump_flow_m3s[ps.name] > 0:
                self._ran_in[aid] = snap.flow_vector

        tank_level = {self.node_asset[n]: v for n, v in snap.tank_level_m.items()}
        load = {
            aid: (0.0 if ps.supply.on_generator else snap.pump_p_mw[ps.name])
            for aid, ps in self.pumps.items()
        }
        load.update({aid: 0.0 if pl.supply.on_generator else plant_p[aid]
                     for aid, pl in self.plants.items()})
        process, process_cause = {}, {}
        if self.process_plants:
            process_cause = dict.fromkeys(self.process_plants, self._process_cause())
            p = snap.pressure_m[PROCESS_JUNCTION]
            process = {plant: p for plant in self.process_plants}

        d_req = {d: 0.0 for d in self.districts}
        d_dlv = {d: 0.0 for d in self.districts}
        d_out = {d: 0.0 for d in self.districts}
        for aid in req:
            d = self.district[aid]
            d_req[d] += req[aid]
            d_dlv[d] += dlv[aid]
            if aid in self._out:
                d_out[d] += self.people[aid]
        series: dict[str, Any] = {
            "required_m3s": sum(req.values()),
            "delivered_m3s": sum(dlv.values()),
            "leak_m3s": sum(snap.leak_m3s.values()),
            "district_required_m3s": d_req,
            "district_delivered_m3s": d_dlv,
            "customers_out": d_out,
            "tank_level_m": tank_level,
            "pump_on": {aid: 1.0 if on else 0.0 for aid, on in pump_on.items()},
            "pump_flow_m3s": {aid: snap.pump_flow_m3s[ps.name] for aid, ps in self.pumps.items()},
            "pump_p_mw": {aid: snap.pump_p_mw[ps.name] for aid, ps in self.pumps.items()},
            "pump_powered": {aid: 1.0 if ps.available else 0.0 for aid, ps in self.pumps.items()},
            "fuel_h": {aid: x.supply.fuel_s / 3600.0
                       for aid, x in [*self.pumps.items(), *self.plants.items()]},
            "plant_flow_m3s": {aid: snap.watched_flow_m3s[pl.link]
                               for aid, pl in self.plants.items()},
            "plant_producing": {aid: 1.0 if pl.producing else 0.0
                                for aid, pl in self.plants.items()},
            "junction_pressure_m": pres,
            "junction_required_m3s": req,
            "junction_delivered_m3s": dlv,
        }
        needs_fuel = {aid: ev for aid, x in [*self.pumps.items(), *self.plants.items()]
                      if (ev := x.supply.fuel_request(self.refuel_request_frac))}
        return StepOutput(load, tank_level, pump_on, process, series, events, needs_fuel, process_cause)

    def _supply(self, aid: str) -> PowerSupply | None:
        """The power supply (grid and generator) of a pump, well or plant."""
        if aid in self.pumps:
            return self.pumps[aid].supply
        return self.plants[aid].supply if aid in self.plants else None

    def _tank_events(self, t_s: int, levels: Mapping[str, float], emit: Any) -> None:
        """``drained`` when a tank runs empty (cause: the outage the attribution rule names,
        e.g. the plant's production_stopped for its clear well), ``refilled`` when it holds
        water again (cause: its drained event). A drained tank is an active outage."""
        for n, level in levels.items():
            aid = self.node_asset[n]
            if level < DRAINED_M and aid not in self._drained:
                cause, coupling = self._attribute(n, self._tank_district[aid])
                ev = emit(aid, "drained", level, cause, coupling)
                self._drained[aid] = ev["event_id"]
                self.causes.add(ev["event_id"], t_s, self._tank_district[aid],
                                nodes=[self.net.node_index(n) - 1])
            elif level > REFILLED_M and aid in self._drained:
                drained = self._drained.pop(aid)
                self.causes.remove(drained)
                emit(aid, "refilled", level, drained, "water")

    def _step_plants(self, t_s: int, dead: Mapping[str, str], shed: Mapping[str, str],
                     emit: Any) -> None:
        """Treatment plants produce while powered: their valve closes without power."""
        for aid, pl in self.plants.items():
            powered, why = pl.supply.update(dead, shed, emit)
            if pl.producing and not powered:
                ev = emit(aid, "production_stopped", 0.0, why, "power->water")
                pl.down_event = ev["event_id"]
                self.causes.add(pl.down_event, t_s, pl.district, *self._elements(aid))
                self._close(pl.link, "power")
            elif not pl.producing and powered:
                emit(aid, "production_started", 1.0, self._power_back_cause(t_s, pl.supply),
                     "power->water")
                self.causes.remove(pl.down_event)
                pl.down_event = ""
                self._reopen(pl.link, "power")
            pl.producing = powered

    @staticmethod
    def _plant_p_mw(pl: PlantState, flow_m3s: float) -> float:
        """A plant's electrical load: its nominal power in proportion to its production."""
        if pl.design_m3s <= 0:
            return pl.supply.nominal_mw if pl.producing else 0.0
        return pl.supply.nominal_mw * max(flow_m3s, 0.0) / pl.design_m3s

    @staticmethod
    def _power_back_cause(t_s: int, supply: PowerSupply) -> str:
        """The power event that gave an asset its supply back: its bus ``energised`` or its
        load ``restored`` (the load's name is the consumer id), at this step; a generator
        started again after refuelling: its ``backup_started``."""
        if supply.on_generator:
            return supply.started
        if supply.loss == "shed":
            return event_id(t_s, supply.asset_id, "restored")
        return event_id(t_s, supply.bus, "energised") if supply.bus else ""

    def _district_of_asset(self, aid: str) -> str:
        if aid in self.pumps:
            return self.pumps[aid].district
        return self.district.get(aid, "")

    def _process_cause(self) -> str:
        """The water event behind the central plant's process pressure (StepOutput.process_cause)."""
        aid = self.node_asset[PROCESS_JUNCTION]
        if aid in self._out:
            return self._low_event.get(aid, "")
        if not self.causes.active:
            return ""
        return self._attribute(PROCESS_JUNCTION, self.district.get(aid, "network"))[0]

    def _attribute(self, node: str, district: str) -> tuple[str, str]:
        """The cause of a junction going out or a tank draining (EPANET node id): the active
        outage that carried the largest share of its supply (causes.py)."""
        return self.causes.attribute(self.net.node_index(node) - 1, district)

    def _elements(self, aid: str) -> tuple[list[int], list[int]]:
        """0-based (link, node) indices an asset's outage takes out of the supply: a pump's
        or valve's link, both halves of a split pipe, a junction's or tank's node."""
        net = self.net
        if aid in self.pumps:
            return [net.link_index(self.pumps[aid].name) - 1], []
        if aid in self.asset_link:
            link = self.asset_link[aid]
            links = [link] + ([net.split[link][1]] if link in net.split else [])
            return [net.link_index(lid) - 1 for lid in links], []
        if aid in self.asset_node:
            return [], [net.node_index(self.asset_node[aid]) - 1]
        return [], []

    def close(self) -> None:
        """Free EPANET and delete the private folder."""
        self.net.close()

    def __enter__(self) -> WaterOperation:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
