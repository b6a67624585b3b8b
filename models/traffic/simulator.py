"""mosaik adapter of the traffic sector: one entity ``traffic`` over one SUMO run.

Model ``Roads``; ``create(1, "Roads", region_dir=..., seed=..., **params)`` with params

- ``region_dir`` (str): a built region folder (``roads.net.xml`` + ``region.json``);
- ``seed`` (int): seeds the demand and SUMO;
- ``mode`` ("meso" | "micro", default "meso"), ``backend`` ("libsumo" | "traci", default
  "libsumo"), ``demand_scale`` (default 0.3), ``car_trips_per_person_day`` (default 1.2),
  ``time_to_teleport_s`` (300), ``stuck_wait_s`` (120), ``rerouting_period_s`` (300),
  ``step_length_s`` (SUMO's own step, 1), ``sumo_args`` (extra SUMO options, name/value
  pairs): see :class:`twin.models.traffic.options.TrafficOptions` and docs/traffic.md.

Inputs (each optional):

- ``failed`` {asset: cause}: ``traffic/road/*`` in it are closed, ``traffic/signal/*`` dark;
- ``dead_buses`` {bus: cause}: a signal whose supplying bus (``power->traffic``) is dead goes
  dark (event ``dark``, coupling ``power->traffic``; ``lit`` when the bus is back);
- ``unsupplied`` {signal: its load's shed event}: a signal whose load power shed on a live
  bus goes dark the same way, with the shed event as cause;
- ``unreachable`` {endpoint: cause} from ICT: the signals cut off from the traffic centre,
  and why (names the cause of their fall-back to fixed time);
- ``commands`` {key: {"value": float, "cause_id": str, ...}} from control (time-shifted):
  ``traffic/signal/<id>`` with value 1 = coordinated control by the traffic-management
  centre; a signal without such a command falls back to fixed time (events ``fixed_time`` /
  ``coordinated``, coupling ``ict->traffic``; the cause of ``fixed_time`` is the command's
  own, or, when no command came because the signal lost its link, the ``unreachable``
  input's cause for it). ``crew/<id>`` with value 1 and ``origin``,
  ``destination`` (edge id, road asset id, any asset id of the region, district or facility
  id) and ``asset`` dispatches a repair crew; value 0 recalls it (docs/traffic.md).

Outputs: ``dark_signals`` {signal: cause}, ``load_p_mw`` {signal: MW, 0 while dark},
``crew_arrivals`` {crew key: trip record} of the trips that ended in the step, ``series``
and ``events`` (docs/architecture.md).
"""

from __future__ import annotations

import logging
import math
import time as wallclock
from pathlib import Path
from typing import Any

import mosaik_api_v3

from twin.adapters import merge_sources
from twin.events import Event, event_id, make_event
from twin.models.power.consumers import supply_cause
from twin.region.assets import is_hospital, load_region

from .access import ACCESS_PERIOD_S, HospitalAccess
from .traffic import (
    CrewTrip,
    StepStats,
    TrafficError,
    TrafficModel,
    TrafficOptions,
    sumo_errors,
)

log = logging.getLogger(__name__)

EID = "traffic"
MODEL = "Roads"
INPUTS = ("failed", "dead_buses", "unsupplied", "commands", "unreachable")
OUTPUTS = ("dark_signals", "load_p_mw", "crew_arrivals", "series", "events")
OPTION_PARAMS = (
    "mode", "backend", "demand_scale", "car_trips_per_person_day", "time_to_teleport_s",
    "stuck_wait_s", "rerouting_period_s", "step_length_s", "sumo_args",
)
NETWORK_ASSET = "traffic/network/roads"
SIGNAL_PREFIX = "traffic/signal/"
ROAD_PREFIX = "traffic/road/"
CREW_PREFIXES = ("crew/", "traffic/crew/")

META: dict[str, Any] = {
    "api_version": "3.0",
    "type": "time-based",
    "models": {
        MODEL: {
            "public": True,
            "params": ["region_dir", "seed", *OPTION_PARAMS],
            "attrs": [*INPUTS, *OUTPUTS],
        }
    },
}


class TrafficSimError(RuntimeError):
    """Misuse of the traffic simulator (second entity, unknown model, bad time base)."""




# Gridlock (a result, not a solver failure; docs/traffic.md, "Gridlock and teleports"): at
# the step's end at least this share of the running vehicles, and at least this many, have
# waited stuck_wait_s or longer. Closures cannot cause it (vehicles cut off by a closure are
# re-routed or take their trip off the road), so it is a jam on roads where routes exist.
# Fewer stuck vehicles are ordinary congestion, counted in the `stuck` series.
GRIDLOCK_SHARE = 0.25
GRIDLOCK_MIN_VEHICLES = 20
# Teleport limit (a step SUMO did not simulate faithfully; the run is degraded): SUMO
# teleported at least this share of the vehicles on the road out of jams within the step,
# and at least this many. A teleported vehicle skips the rest of its queue, so its delay is
# cut at time_to_teleport_s; beyond a tenth of the traffic that bias exceeds the sampling
# noise of the simulated demand (about 1 / sqrt(n) for n vehicles, 10 % at 100).
TELEPORT_LIMIT_SHARE = 0.1
TELEPORT_LIMIT_MIN_VEHICLES = 20


def is_gridlock(stuck: int, running: int) -> bool:
    """True when the stuck vehicles are a gridlock rather than congestion."""
    return stuck >= GRIDLOCK_MIN_VEHICLES and stuck >= GRIDLOCK_SHARE * max(running, 1)


def is_teleport_limit(teleports: int, running: int) -> bool:
    """True when SUMO teleported so many vehicles in a step (against those ``running`` at
    its end) that the step's traffic figures are not a simulation of its jams."""
    return (teleports >= TELEPORT_LIMIT_MIN_VEHICLES
            and teleports >= TELEPORT_LIMIT_SHARE * max(running, 1))


class TrafficSim(mosaik_api_v3.Simulator):
    """The traffic sector under mosaik; see the module docstring."""

    def __init__(self) -> None:
        super().__init__(META)
        self.step_s = 300
        self.model: TrafficModel | None = None
        self.signal_bus: dict[str, str] = {}  # signal asset -> bus asset
        self.signal_p_mw: dict[str, float] = {}
        self.dark: dict[str, str] = {}  # signal asset -> cause event id
        self.dark_by_power: set[str] = set()
        self.closed: dict[str, str] = {}  # road asset -> cause event id
        self.coordinated: dict[str, bool] = {}
        self.trips: dict[tuple[str, str, str], CrewTrip] = {}
        self.first_step = True
        self.stats: StepStats | None = None
        self.events: list[Event] = []
        self.arrivals: dict[str, dict[str, Any]] = {}
        self.error = ""
        self._prev_stuck = 0
        self.access: HospitalAccess | None = None
        self.access_series: dict[str, dict[str, float]] = {}
        self.access_updated_s = -math.inf
        self.access_closed: frozenset[str] = frozenset()
        self.access_cost_s = 0.0  # wall time spent on hospital access (s), for the docs
        self.access_updates = 0

    # ------------------------------------------------------------- mosaik API
    def init(self, sid: str, time_resolution: float = 1.0, step_s: int = 300,
             **sim_params: Any) -> dict[str, Any]:
        if float(time_resolution) != 1.0:
            raise TrafficSimError(f"traffic needs time_resolution=1 s, got {time_resolution}")
        if int(step_s) <= 0:
            raise TrafficSimError(f"step_s must be positive, got {step_s}")
        self.sid = sid
        self.step_s = int(step_s)
        return self.meta

    def create(self, num: int, model: str, region_dir: str = "", seed: int = 0,
               **params: Any) -> list[dict[str, Any]]:
        if model != MODEL:
            raise TrafficSimError(f"unknown model {model!r}; the traffic simulator has {MODEL!r}")
        if num != 1 or self.model is not None:
            raise TrafficSimError("the traffic simulator has exactly one entity")
        unknown = set(params) - set(OPTION_PARAMS)
        if unknown:
            raise TrafficSimError(f"unknown traffic parameters {sorted(unknown)}")
        region = load_region(Path(region_dir))
        options = TrafficOptions(**params)
        places: dict[str, tuple[float, float]] = {
            a["id"]: (a["x_m"], a["y_m"]) for a in region.assets
        }
        places.update({d["id"]: (d["x_m"], d["y_m"]) for d in region.districts})
        places.update({f["id"]: (f["x_m"], f["y_m"]) for f in region.layout.get("facilities", [])})
        self.model = TrafficModel(region.path("traffic"), region.districts, int(seed), options,
                                  places=places, cache_network=True)
        if options.backend == "libsumo":
            TrafficModel.close_stale_libsumo()  # a previous World that ended without finalize
        self.model.start()
        hospitals = {a["id"]: (a["x_m"], a["y_m"]) for a in region.assets if is_hospital(a["id"])}
        if hospitals:
            self.access = HospitalAccess(self.model.net, region.districts, hospitals)
        suppliers = region.suppliers("power->traffic")
        for a in region.assets_of("traffic", "signal"):
            self.signal_p_mw[a["id"]] = float(a["p_mw"])
            if a["id"] in suppliers:
                self.signal_bus[a["id"]] = suppliers[a["id"]]
            self.coordinated[a["id"]] = True
        return [{"eid": EID, "type": MODEL}]

    def step(self, time: int, inputs: dict[str, dict[str, Any]], max_advance: int) -> int:
        if self.model is None:
            raise TrafficSimError("step() before create()")
        data = inputs.get(EID, {})
        self.events = []
        self.arrivals = {}
        if not self.error:
            try:
                self._apply_failures(time, merge_sources(data.get("failed")),
                                     merge_sources(data.get("dead_buses")),
                                     merge_sources(data.get("unsupplied")))
                if "commands" in data:
                    self._apply_commands(time, merge_sources(data.get("commands")),
                                         merge_sources(data.get("unreachable")))
                self.stats = self.model.advance(time + self.step_s)
                self._report(time, self.stats)
                self._update_access(time)
            except (TrafficError, *sumo_errors()) as exc:  # SUMO trouble: an outcome
                self.error = str(exc)
                self.stats = None  # from here on the series report no traffic
                log.warning("traffic simulator stopped at t=%s s: %s", time, exc)
                self.events.append(make_event(time, "traffic", NETWORK_ASSET, "simulator_error",
                                              1.0, "", "simulator"))
        self.first_step = False
        return time + self.step_s

    def get_data(self, outputs: dict[str, list[str]]) -> dict[str, dict[str, Any]]:
        data: dict[str, dict[str, Any]] = {}
        for eid, attrs in outputs.items():
            if eid != EID:
                raise TrafficSimError(f"unknown entity {eid!r}")
            values: dict[str, Any] = {}
            for attr in attrs:
                if attr == "dark_signals":
                    values[attr] = dict(sorted(self.dark.items()))
                elif attr == "load_p_mw":
                    values[attr] = {
                        s: (0.0 if s in self.dark else p) for s, p in sorted(self.signal_p_mw.items())
                    }
                elif attr == "crew_arrivals":
                    values[attr] = dict(self.arrivals)
                elif attr == "series":
                    values[attr] = self._series()
                elif attr == "events":
                    values[attr] = list(self.events)
                else:
                    raise TrafficSimError(f"unknown attribute {attr!r}")
            data[eid] = values
        return data

    def finalize(self) -> None:
        if self.model is not None:
            self.model.close()

    # ------------------------------------------------------------- plumbing
    def _apply_failures(self, time: int, failed: dict[str, str], dead: dict[str, str],
                        unsupplied: dict[str, str] | None = None) -> None:
        m = self.model
        assert m is not None
        roads = {a: c for a, c in failed.items() if a.startswith(ROAD_PREFIX)}
        for road, cause in sorted(roads.items()):
            if road not in self.closed:
                m.close_road(road)
                self.closed[road] = cause
        for road in sorted(set(self.closed) - set(roads)):
            m.reopen_road(road)
            del self.closed[road]
        for sig in sorted(self.signal_p_mw):
            bus = self.signal_bus.get(sig, "")
            if sig in failed:  # damage explains the dark state from now on (no 'lit' later)
                cause, by_power = failed[sig], False
                self.dark_by_power.discard(sig)
            elif supply_cause(sig, bus, dead, unsupplied):  # bus dead or load shed
                cause, by_power = supply_cause(sig, bus, dead, unsupplied), True
            else:
                cause, by_power = "", False
            if cause and sig not in self.dark:
                m.set_signal_dark(sig)
                self.dark[sig] = cause
                if by_power:
                    self.dark_by_power.add(sig)
                    self.events.append(make_event(time, "traffic", sig, "dark", 0.0, cause,
                                                  "power->traffic"))
            elif not cause and sig in self.dark:
                m.set_signal_lit(sig)
                del self.dark[sig]
                if sig in self.dark_by_power:
                    self.dark_by_power.discard(sig)
                    self.events.append(make_event(time, "traffic", sig, "lit", 1.0,
                                                  event_id(time, bus, "energised"),
                                                  "power->traffic"))

    def _apply_commands(self, time: int, commands: dict[str, Any],
                        unreachable: dict[str, str] | None = None) -> None:
        """Signals coordinated while commanded, else fixed time (the cause: the command's, or
        why the signal is unreachable); crew trips."""
        m = self.model
        assert m is not None
        if not self.first_step:  # before control's first word, keep the initial state
            for sig in sorted(self.coordinated):
                cmd = commands.get(sig)
                want = bool(cmd is not None and float(cmd.get("value", 0.0)) >= 0.5)
                if want != self.coordinated[sig]:
                    self.coordinated[sig] = want
                    m.set_coordinated(sig, want)
                    cause = str(cmd.get("cause_id", "")) if cmd else str((unreachable or {}).get(sig, ""))
                    self.events.append(make_event(
                        time, "traffic", sig, "coordinated" if want else "fixed_time",
                        1.0 if want else 0.0, cause, "ict->traffic"))
        for key, cmd in sorted(commands.items()):
            if key.startswith(CREW_PREFIXES) and isinstance(cmd, dict):
                self._crew_command(time, key, cmd)

    def _crew_command(self, time: int, key: str, cmd: dict[str, Any]) -> None:
        m = self.model
        assert m is not None
        crew = key.split("/", 1)[1] if key.startswith("crew/") else key.split("/", 2)[2]
        if float(cmd.get("value", 1.0)) < 0.5:
            m.cancel_crew(crew)
            for k in [k for k in self.trips if k[0] == key]:
                del self.trips[k]
            return
        ident = (key, str(cmd.get("asset", "")), str(cmd.get("destination", "")))
        if ident in self.trips:  # control may repeat a command: one trip per (crew, job)
            return
        for k in [k for k in self.trips if k[0] == key]:  # a new job replaces the old one
            m.cancel_crew(crew)
            del self.trips[k]
        try:
            trip = m.dispatch_crew(crew, str(cmd.get("origin", "")), ident[2], ident[1],
                                   str(cmd.get("cause_id", "")))
        except TrafficError as exc:
            log.warning("crew %s: %s", key, exc)
            self.arrivals[key] = {"asset": ident[1], "status": "no_route", "error": str(exc)}
            return
        self.trips[ident] = trip
        if trip.status == "no_route":
            self.arrivals[key] = trip.to_dict()
            self.events.append(make_event(time, "traffic", ident[1] or key, "crew_blocked", 0.0,
                                          trip.cause_id, "traffic->restoration"))

    def _report(self, time: int, stats: StepStats) -> None:
        if stats.teleports:
            self.events.append(make_event(time, "traffic", NETWORK_ASSET, "teleport",
                                          float(stats.teleports), "", "simulator"))
        if is_teleport_limit(stats.teleports, stats.vehicles_running):
            self.events.append(make_event(time, "traffic", NETWORK_ASSET, "teleport_limit",
                                          float(stats.teleports), "", "simulator"))
        jammed = is_gridlock(stats.stuck, stats.vehicles_running)
        if jammed and not self._prev_stuck:
            self.events.append(make_event(time, "traffic", NETWORK_ASSET, "gridlock",
                                          float(stats.stuck), "", "simulator"))
        self._prev_stuck = int(jammed)
        by_vehicle = {t.vehicle_id: k for k, t in self.trips.items()}
        for trip in stats.crews_finished:
            ident = by_vehicle.get(trip.vehicle_id)
            if ident is None:
                continue
            self.arrivals[ident[0]] = trip.to_dict()
            self.events.append(make_event(int(trip.arrival_s), "traffic", trip.asset or ident[0],
                                          "crew_arrived", trip.travel_time_s, trip.cause_id,
                                          "traffic->restoration"))

    def _update_access(self, time: int) -> None:
        """Hospital access on SUMO's current edge times, every ``ACCESS_PERIOD_S`` and at
        once when the closed roads change (docs/traffic.md, "Access to hospitals")."""
        m = self.model
        if self.access is None or m is None:
            return
        closed = m.closed_roads
        if time - self.access_updated_s < ACCESS_PERIOD_S and closed == self.access_closed:
            return
        t0 = wallclock.perf_counter()
        result = self.access.compute(m.edge_travel_times(), closed)
        self.access_series = {
            "hospital_reach_frac": {f"{d}|{h}": a.reach_frac for (d, h), a in sorted(result.items())},
            "hospital_travel_time_s": {f"{d}|{h}": (a.centre_s if math.isfinite(a.centre_s) else math.nan)
                                       for (d, h), a in sorted(result.items())},
        }
        self.access_updated_s, self.access_closed = time, closed
        self.access_cost_s += wallclock.perf_counter() - t0
        self.access_updates += 1

    def _series(self) -> dict[str, Any]:
        st = self.stats
        m = self.model
        districts = m.districts if m else []
        if st is None:
            return {
                "time_loss_h": 0.0, "travel_time_index": 1.0, "vehicles_running": 0.0,
                "departed": 0.0, "arrived": 0.0, "teleports": 0.0, "stuck": 0.0,
                "trips_cancelled": 0.0, "trips_abandoned": 0.0,
                "signals_dark": float(len(self.dark)), "roads_closed": float(len(self.closed)),
                "crews_en_route": 0.0,
                "district_travel_time_index": dict.fromkeys(districts, 1.0),
                "district_time_loss_h": dict.fromkeys(districts, 0.0),
                **self.access_series,
            }
        return {
            "time_loss_h": float(st.time_loss_h),
            "travel_time_index": float(st.travel_time_index),
            "vehicles_running": float(st.vehicles_running),
            "departed": float(st.departed),
            "arrived": float(st.arrived),
            "teleports": float(st.teleports),
            "stuck": float(st.stuck),
            "trips_cancelled": float(st.cancelled),
            "trips_abandoned": float(st.abandoned),
            "signals_dark": float(len(self.dark)),
            "roads_closed": float(len(self.closed)),
            "crews_en_route": float(len(m.crews_en_route()) if m else 0),
            "district_travel_time_index": {
                d: float(st.district_travel_time_index.get(d, 1.0)) for d in districts
            },
            "district_time_loss_h": {
                d: float(st.district_time_loss_h.get(d, 0.0)) for d in districts
            },
            **self.access_series,
        }


def main() -> None:
    """Run the traffic simulator as a separate process (mosaik ``cmd:``)."""
    mosaik_api_v3.start_simulation(TrafficSim(), "twin traffic simulator (SUMO)")


if __name__ == "__main__":
    main()
