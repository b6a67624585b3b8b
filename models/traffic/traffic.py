"""The traffic model: SUMO driven through libsumo (default) or TraCI, without mosaik.

One :class:`TrafficModel` owns one SUMO run. ``advance(until_s)`` inserts the seeded demand of
the interval, calls ``simulationStep(until_s)`` once, and reads back only bulk quantities:
SUMO's own trip statistics (``device.tripinfo.vehicleTripStatistics.*``, ``stats.*``),
variable subscriptions of vehicles and edges (``getAllSubscriptionResults``). No per-vehicle
getter runs in a Python loop; the only per-vehicle calls are the ``add``/``subscribe`` of each
inserted trip and the few calls for repair crews.

Operations the couplings need:

* ``close_road`` / ``reopen_road``: every lane of both directions disallows all vehicle
  classes; routing (demand rerouted every ``rerouting_period_s``, crews at dispatch and at
  every closure) avoids it. At the next ``advance`` the closure is applied to the vehicles
  (:func:`closures.replan`): those whose route it cuts are re-routed at once, those on the
  closed road or cut off from their destination abandon their trip (``StepStats.abandoned``);
  a trip is not started when no open route joins its start and end (``cancelled``).
* ``set_signal_dark`` / ``set_signal_lit``: a dark signal is emulated by the all-``s``
  state (every link "stop, then go if free"), which SUMO turns into an all-way stop; the
  ``off`` program would instead make the junction a priority junction and *raise*
  throughput, because junction types are fixed when the net is built. ``lit`` restores the
  program the signal should run (coordinated or fixed-time).
* ``set_coordinated``: the traffic-management centre's coordinated (actuated) program or the
  local fixed-time fallback.
* ``dispatch_crew``: a repair crew drives the fastest route at the speed limits over the
  open roads and stops at its destination; the arrival time is SUMO's.

Modes: ``meso`` (default; SUMO's mesoscopic queue model with ``--meso-junction-control``,
about 5x faster) or ``micro`` (car following and lane changing). See docs/traffic.md.
"""

from __future__ import annotations

import contextlib
import io
import logging
import math
import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import numpy as np
from traci import constants as tc

from .build import sumo_home
from .closures import Reachability, replan, reroute
from .demand import DEMAND_FILE, DemandModel, DistrictDemand, TableDemand, Trip
from .errors import (  # noqa: F401 (re-exported)
    NotStartedError,
    SumoBusyError,
    TrafficError,
    UnknownPlaceError,
    UnknownRoadError,
    UnknownSignalError,
    sumo_errors,
)
from .network import RoadNetwork
from .options import Backend, Mode, TrafficOptions, sumo_command  # noqa: F401 (re-exported)
from .records import CrewTrip, StepStats

log = logging.getLogger(__name__)

_LIBSUMO_OWNER: list[object] = []  # the model currently running libsumo in this process
_TRIP_STATS = "device.tripinfo.vehicleTripStatistics."
_VEH_VARS = (tc.VAR_WAITING_TIME,)
_MEANDATA_ID = "twin"  # the edgeData the model adds to every run
_MEANDATA_PERIOD_S = 10**9  # one interval for the whole run: its values are running totals
CREW_TYPE = "crew"
FIXED_PROGRAM = "fixed"  # the local fixed-time fallback of every signal
CREW_PARK_S = 3_600.0  # a crew stays parked at its site this long (longer than a step)


def district_demand(net: RoadNetwork, districts: Iterable[dict]) -> list[DistrictDemand]:
    """Demand inputs from the layout's district dicts and the network's street edges."""
    return [
        DistrictDemand(
            id=d["id"], kind=d["kind"], x_m=float(d["x_m"]), y_m=float(d["y_m"]),
            population=int(d["population"]), edges=net.street_edges(d["id"]),
        )
        for d in districts
    ]


class TrafficModel:
    """One SUMO run over a built road network, advanced by exchange steps."""

    def __init__(
        self,
        net_file: str | Path,
        districts: Iterable[dict] = (),
        seed: int = 0,
        options: TrafficOptions | None = None,
        places: dict[str, tuple[float, float]] | None = None,
        cache_network: bool = False,
    ) -> None:
        self.net_file = Path(net_file)
        self.net = RoadNetwork.read(self.net_file, cache=cache_network)  # cached in region folders
        self.seed = seed
        self.options = options or TrafficOptions()
        self.districts = [d["id"] for d in districts] if districts else []
        dd = district_demand(self.net, districts) if districts else []
        self.demand: DemandModel | TableDemand | None = (
            DemandModel(dd, seed, self.options.demand_scale, self.options.car_trips_per_person_day)
            if dd and self.options.demand_scale > 0 else None
        )
        table = self.net_file.parent / DEMAND_FILE  # an imported trip table replaces the model
        if table.is_file() and self.options.demand_scale > 0:
            self.demand = TableDemand.read(table, seed, self.options.demand_scale)
        self.places: dict[str, tuple[float, float]] = dict(places or {})
        self._s: Any = None  # libsumo module or traci connection
        self._label = ""
        self._tmp: Path | None = None
        self._edge_district = {e: self.net.district_of_edge(e) for e in self.net.edges}
        self.reach = Reachability(self.net)  # over the open roads; follows the closures
        self._reset()

    def _reset(self) -> None:
        """The state of a fresh SUMO run (a restarted model starts over at 0 s)."""
        self._extra_trips: list[Trip] = []
        self._closed: set[str] = set()  # closed road names
        self.reach.set_closed(())
        self._replan_due = False  # roads closed since the last advance: apply to vehicles
        # trip statistics of vehicles the model took out (abandoned trips): SUMO counts a
        # removed vehicle as a finished trip, the model does not
        self._removed = dict.fromkeys(("arrived", "loss_ended_s", "travel_ended_s"), 0.0)
        self._lane_allowed: dict[str, tuple[str, ...]] = {}
        self._dark: set[str] = set()
        self._coordinated: dict[str, bool] = dict.fromkeys(self.net.signals, True)
        self._programs: dict[str, dict[bool, str]] = {}
        self._crews: dict[str, CrewTrip] = {}  # vehicle id -> trip, en route
        self._crew_count = 0
        self._prev: dict[str, float] = {}
        self._now_s = 0.0
        self._begin_s = 0.0

    # ----------------------------------------------------------------- lifecycle
    def sumo_command(self, additional_file: Path | None = None) -> list[str]:
        """The SUMO command line of this run (:func:`options.sumo_command`)."""
        return sumo_command(self.options, self.net_file, self.seed, additional_file)

    def start(self) -> TrafficModel:
        """Launch SUMO. libsumo: one per process, restartable after ``close()``."""
        if self._s is not None:
            return self
        os.environ.setdefault("SUMO_HOME", str(sumo_home()))
        if self._programs:  # it ran before: start over (trips added before a first start stay)
            self._reset()
        self._tmp = Path(tempfile.mkdtemp(prefix="twin-traffic-"))  # private to this run
        additional = self._tmp / "edgedata.add.xml"
        additional.write_text(
            f'<additional>\n    <edgeData id="{_MEANDATA_ID}" period="{_MEANDATA_PERIOD_S}" '
            f'file="{os.devnull}"/>\n</additional>\n'
        )
        cmd = self.sumo_command(additional)
        if self.options.backend == "libsumo":
            if _LIBSUMO_OWNER:
                raise SumoBusyError(
                    "libsumo already runs a SUMO in this process; close it or use backend='traci'"
                )
            import libsumo

            libsumo.start(cmd)
            _LIBSUMO_OWNER.append(self)
            self._s = libsumo
        else:
            self._s = self._start_traci(cmd)
        self._setup()
        return self

    def _start_traci(self, cmd: list[str]) -> Any:
        """SUMO as a TraCI server in its own process; poll for it every 50 ms, quietly."""
        import traci
        from sumolib.miscutils import getFreeSocketPort

        port = getFreeSocketPort()
        proc = subprocess.Popen([*cmd, "--remote-port", str(port)], stdout=subprocess.DEVNULL,
                                stderr=subprocess.PIPE)
        self._label = f"twin-traffic-{id(self)}"
        try:
            with contextlib.redirect_stdout(io.StringIO()):  # traci prints its retries
                return traci.connect(port, numRetries=600, proc=proc, waitBetweenRetries=0.05,
                                     label=self._label)
        except sumo_errors() as exc:
            proc.kill()
            err = proc.communicate()[1].decode(errors="replace").strip()
            raise TrafficError(f"SUMO did not start: {err or exc}") from exc

    @staticmethod
    def close_stale_libsumo() -> bool:
        """Close a libsumo run left open in this process (e.g. by an aborted World).

        Returns True if one was closed. A mosaik World runs one traffic simulator, so a
        libsumo owner that is still open when a new one is created is a leftover.
        """
        stale = list(_LIBSUMO_OWNER)
        for model in stale:
            log.warning("closing a libsumo run left open in this process")
            model.close()
        return bool(stale)

    def close(self) -> None:
        """Stop SUMO (safe to call twice)."""
        if self._s is None:
            return
        try:
            self._s.close()
        finally:
            if self in _LIBSUMO_OWNER:
                _LIBSUMO_OWNER.remove(self)
            self._s = None
            if self._tmp is not None:
                shutil.rmtree(self._tmp, ignore_errors=True)
                self._tmp = None

    def __enter__(self) -> TrafficModel:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def sumo(self) -> Any:
        """The running SUMO API (libsumo module or TraCI connection)."""
        if self._s is None:
            raise NotStartedError("the traffic model is not running; call start() first")
        return self._s

    @property
    def now_s(self) -> float:
        return self._now_s

    def _setup(self) -> None:
        s = self._s
        s.vehicletype.copy("DEFAULT_VEHTYPE", CREW_TYPE)
        s.vehicletype.setSpeedDeviation(CREW_TYPE, 0.0)
        s.vehicletype.setSpeedFactor(CREW_TYPE, 1.0)
        for tls in self.net.signals:
            self._programs[tls] = self._add_fixed_time_program(tls)
        self._md_edges = list(s.meandata.getIDs(_MEANDATA_ID))
        self._md_len_km = np.array([self.net.edges[e].length_m / 1000.0 for e in self._md_edges])
        index = {d: i for i, d in enumerate(self.districts)}
        other = len(self.districts)  # edges of no listed district are counted apart
        self._md_district = np.array(
            [index.get(self._edge_district[e], other) for e in self._md_edges], dtype=int)
        self._prev_spent = np.zeros(len(self._md_edges))
        self._prev_lost = np.zeros(len(self._md_edges))
        for edge in self.net.edges.values():
            for lane in edge.lanes:
                self._lane_allowed[lane] = tuple(s.lane.getAllowed(lane))
        self._prev = self._totals()
        self._now_s = self._begin_s = float(s.simulation.getTime())

    def _add_fixed_time_program(self, tls: str) -> dict[bool, str]:
        """Add the fixed-time fallback of a signal; return {coordinated?: program id}.

        The net's program (actuated, built by netconvert) is the coordinated control of the
        traffic-management centre; the fallback runs the same phases at their default
        durations without detector feedback (type static).
        """
        s = self._s
        base = s.trafficlight.getProgram(tls)
        logic = next(lg for lg in s.trafficlight.getAllProgramLogics(tls) if lg.programID == base)
        if self.options.backend == "libsumo":
            import libsumo as api
        else:
            import traci as api
        phases = [api.trafficlight.Phase(p.duration, p.state, p.duration, p.duration)
                  for p in logic.phases]
        s.trafficlight.setProgramLogic(tls, api.trafficlight.Logic(FIXED_PROGRAM, 0, 0, phases))
        s.trafficlight.setProgram(tls, base)
        return {True: base, False: FIXED_PROGRAM}

    # ----------------------------------------------------------------- demand
    def add_trips(self, trips: Iterable[Trip]) -> None:
        """Extra trips (tests, scenarios) inserted when their departure comes."""
        self._extra_trips += list(trips)
        self._extra_trips.sort(key=lambda t: (t.depart_s, t.id))

    def _insert(self, trips: list[Trip]) -> int:
        """Add the trips to SUMO; return how many were cancelled (no open route)."""
        s = self.sumo
        errors = sumo_errors()
        cancelled = 0
        for tr in trips:
            if not self.reach.reachable(tr.from_edge, tr.to_edge):
                cancelled += 1  # start or end street closed, or cut off: no trip
                continue
            rid = f"r.{tr.id}"
            try:
                s.route.add(rid, [tr.from_edge, tr.to_edge])  # two edges: routed at insertion
                s.vehicle.add(tr.id, rid, depart=f"{max(tr.depart_s, self._now_s):.1f}",
                              departLane="best", departSpeed="max")
            except errors as exc:
                log.debug("trip %s not inserted: %s", tr.id, exc)
                cancelled += 1
                continue
            s.vehicle.subscribe(tr.id, list(_VEH_VARS))
        return cancelled

    # ----------------------------------------------------------------- stepping
    def _totals(self) -> dict[str, float]:
        p = self.sumo.simulation.getParameter
        count = float(p("", _TRIP_STATS + "count"))
        off = self._removed
        return {
            "arrived": count - off["arrived"],
            "loss_ended_s": count * float(p("", _TRIP_STATS + "timeLoss")) - off["loss_ended_s"],
            "travel_ended_s": float(p("", _TRIP_STATS + "totalTravelTime")) - off["travel_ended_s"],
            "inserted": float(p("", "stats.vehicles.inserted")),
            "teleports": float(p("", "stats.teleports.total")),
        }

    def _apply_closures(self) -> tuple[int, int]:
        """Re-route or take out the vehicles the roads closed since the last step cut off
        (:func:`closures.replan`); return (abandoned, cancelled). The trips taken out are
        kept out of SUMO's trip statistics, which count a removed vehicle as arrived."""
        if not self._replan_due:
            return 0, 0
        self._replan_due = False
        before = self._totals()
        done = replan(self.sumo, self.reach, self.options.mode == "meso", exempt=self._crews)
        after = self._totals()
        for key in self._removed:
            self._removed[key] += after[key] - before[key]
        if done.rerouted or done.abandoned or done.cancelled:
            log.debug("closures at %.0f s: %d re-routed, %d abandoned, %d cancelled",
                      self._now_s, done.rerouted, done.abandoned, done.cancelled)
        return done.abandoned, done.cancelled

    def advance(self, until_s: float) -> StepStats:
        """Insert the demand of ``[now, until_s)``, run SUMO to ``until_s``, measure the step."""
        s = self.sumo
        start = self._now_s
        if until_s <= start:
            raise ValueError(f"advance to {until_s} s: the model is already at {start} s")
        abandoned, cancelled = self._apply_closures()
        trips = self.demand.trips_between(start, until_s) if self.demand else []
        while self._extra_trips and self._extra_trips[0].depart_s < until_s:
            trips.append(self._extra_trips.pop(0))
        cancelled += self._insert(trips)
        s.simulationStep(float(until_s))
        self._now_s = float(s.simulation.getTime())
        stats = self._measure(start)
        stats.cancelled, stats.abandoned = cancelled, abandoned
        return stats

    def _edge_totals(self) -> tuple[np.ndarray, np.ndarray]:
        """Vehicle-seconds spent and lost on every edge since the start (SUMO's edgeData).

        The edgeData interval never ends during a run, so its values are running totals:
        ``density`` (veh/km averaged since the start) times length and elapsed time gives
        the vehicle-seconds; ``timeLoss`` is the time lost against free flow, accrued while
        vehicles drive (in meso as in micro).
        """
        md = self.sumo.meandata
        elapsed = self._now_s - self._begin_s
        if elapsed <= 0:
            return np.zeros(len(self._md_edges)), np.zeros(len(self._md_edges))
        dens = np.nan_to_num(np.asarray(md.getAttributeValues(_MEANDATA_ID, "density"), float))
        lost = np.nan_to_num(np.asarray(md.getAttributeValues(_MEANDATA_ID, "timeLoss"), float))
        return dens * self._md_len_km * elapsed, lost

    def _measure(self, start: float) -> StepStats:
        s = self.sumo
        totals = self._totals()
        prev, self._prev = self._prev, totals
        spent, lost = self._edge_totals()
        d_spent, d_lost = spent - self._prev_spent, lost - self._prev_lost
        self._prev_spent, self._prev_lost = spent, lost
        n = len(self.districts)
        by_spent = np.bincount(self._md_district, weights=d_spent, minlength=n + 1)[:n]
        by_lost = np.bincount(self._md_district, weights=d_lost, minlength=n + 1)[:n]
        veh = s.vehicle.getAllSubscriptionResults()
        stuck_s = self.options.stuck_wait_s
        stuck = sum(1 for v in veh.values() if v.get(tc.VAR_WAITING_TIME, 0.0) >= stuck_s)
        d_travel = totals["travel_ended_s"] - prev["travel_ended_s"]
        d_loss_ended = totals["loss_ended_s"] - prev["loss_ended_s"]
        free = d_travel - d_loss_ended
        stats = StepStats(
            start_s=start, end_s=self._now_s,
            time_loss_h=max(0.0, float(d_lost.sum())) / 3600.0,
            travel_time_index=d_travel / free if d_travel > 0 and free > 0 else 1.0,
            vehicles_running=int(s.vehicle.getIDCount()),
            departed=int(totals["inserted"] - prev["inserted"]),
            arrived=int(round(totals["arrived"] - prev["arrived"])),
            teleports=int(totals["teleports"] - prev["teleports"]),
            stuck=stuck,
            district_travel_time_index={
                d: (float(by_spent[i] / (by_spent[i] - by_lost[i]))
                    if by_spent[i] > 1e-9 and by_spent[i] - by_lost[i] > 1e-9 else 1.0)
                for i, d in enumerate(self.districts)
            },
            district_time_loss_h={
                d: max(0.0, float(by_lost[i])) / 3600.0 for i, d in enumerate(self.districts)
            },
        )
        stats.crews_finished = self._check_crews()
        return stats

    def edge_travel_times(self) -> dict[str, float]:
        """Current travel time (s) of every edge: SUMO's estimate for the last step
        (``edge.getTraveltime``: length over the mean speed of the vehicles on it, free flow
        on an empty edge). One getter per edge: call it every few steps, not every step."""
        get = self.sumo.edge.getTraveltime
        return {e: float(get(e)) for e in self.net.edges}

    # ----------------------------------------------------------------- roads
    @property
    def closed_roads(self) -> frozenset[str]:
        return frozenset(self._closed)

    def _road(self, road: str) -> str:
        road = road.removeprefix("traffic/road/")
        if road not in self.net.edges:
            raise UnknownRoadError(f"unknown road {road!r}")
        return self.net.road_of(road)

    def close_road(self, road: str) -> None:
        """Close both directions of a road to every vehicle class."""
        road = self._road(road)
        if road in self._closed:
            return
        for edge in self.net.edges_of_road(road):
            for lane in self.net.edges[edge].lanes:
                self.sumo.lane.setDisallowed(lane, ["all"])
        self._closed.add(road)
        self.reach.set_closed(e for r in self._closed for e in self.net.edges_of_road(r))
        self._replan_due = True
        self._reroute_crews()

    def reopen_road(self, road: str) -> None:
        """Give a closed road back its original permissions."""
        road = self._road(road)
        if road not in self._closed:
            return
        for edge in self.net.edges_of_road(road):
            for lane in self.net.edges[edge].lanes:
                self.sumo.lane.setAllowed(lane, list(self._lane_allowed[lane]))
        self._closed.discard(road)
        self.reach.set_closed(e for r in self._closed for e in self.net.edges_of_road(r))
        self._reroute_crews()

    def edge_open(self, edge: str) -> bool:
        return self.net.road_of(edge) not in self._closed

    # ----------------------------------------------------------------- signals
    @property
    def dark_signals(self) -> frozenset[str]:
        return frozenset(self._dark)

    def _signal(self, tls: str) -> str:
        tls = tls.removeprefix("traffic/signal/")
        if tls not in self._coordinated:
            raise UnknownSignalError(f"unknown traffic light {tls!r}")
        return tls

    def set_signal_dark(self, tls: str) -> None:
        """Emulate a dark signal: every link 's' (stop, then go) = an all-way stop."""
        tls = self._signal(tls)
        n = len(self.sumo.trafficlight.getRedYellowGreenState(tls))
        self.sumo.trafficlight.setRedYellowGreenState(tls, "s" * n)
        self._dark.add(tls)

    def set_signal_lit(self, tls: str) -> None:
        """Power is back: run the program the signal should run."""
        tls = self._signal(tls)
        self._dark.discard(tls)
        self.sumo.trafficlight.setProgram(tls, self._programs[tls][self._coordinated[tls]])

    def set_coordinated(self, tls: str, coordinated: bool) -> None:
        """Coordinated control from the TMC (True) or the local fixed-time fallback (False)."""
        tls = self._signal(tls)
        if self._coordinated[tls] == coordinated:
            return
        self._coordinated[tls] = coordinated
        if tls not in self._dark:
            self.sumo.trafficlight.setProgram(tls, self._programs[tls][coordinated])

    def coordinated(self, tls: str) -> bool:
        return self._coordinated[self._signal(tls)]

    # ----------------------------------------------------------------- crews
    def place_edges(self, place: str) -> list[str]:
        """Candidate edges for a crew origin/destination, best first.

        ``place`` is an edge id, a road asset id (``traffic/road/<edge>``), or a key of
        ``places`` (asset ids, district ids, facility ids -> position), mapped to the
        nearest edges.
        """
        name = place.removeprefix("traffic/road/")
        if name in self.net.edges:  # the edge, its opposite, then the streets around it
            own = [name, *[e for e in self.net.edges_of_road(self.net.road_of(name)) if e != name]]
            near = self.net.nearest_edges(*self.net.midpoint(name), k=8)
            return own + [e for e in near if e not in own]
        if place in self.places:
            return self.net.nearest_edges(*self.places[place], k=8)
        raise UnknownPlaceError(f"crew place {place!r} is neither an edge nor a known place")

    def fastest_route(self, origin_edge: str, destination_edge: str) -> tuple[tuple[str, ...], float]:
        """Fastest route at the speed limits over open roads (SUMO's router): edges, seconds."""
        r = self.sumo.simulation.findRoute(
            origin_edge, destination_edge, vType=CREW_TYPE, routingMode=tc.ROUTING_MODE_DEFAULT,
        )
        edges = tuple(r.edges)
        return edges, (sum(self.net.edges[e].free_flow_s for e in edges) if edges else math.inf)

    def dispatch_crew(self, crew: str, origin: str, destination: str, asset: str = "",
                      cause_id: str = "") -> CrewTrip:
        """Send a crew from ``origin`` to ``destination`` now; returns its trip record."""
        s = self.sumo
        self._crew_count += 1
        vid = f"crew.{crew.replace('/', '_')}.{self._crew_count}"
        origins = [e for e in self.place_edges(origin) if self.edge_open(e)]
        dests = [e for e in self.place_edges(destination) if self.edge_open(e)]
        trip = CrewTrip(crew=crew, asset=asset, origin_edge=origins[0] if origins else "",
                        destination_edge=dests[0] if dests else "", cause_id=cause_id,
                        vehicle_id=vid, dispatched_s=self._now_s)
        best: tuple[tuple[str, ...], float] = ((), math.inf)
        for o in origins[:3]:  # the nearest open edges first; the first pair with a route
            for d in dests[:3]:
                best = self.fastest_route(o, d)
                if best[0]:
                    break
            if best[0]:
                break
        if not best[0]:
            trip.status = "no_route"
            return trip
        trip.route, trip.free_flow_s = best
        trip.origin_edge, trip.destination_edge = best[0][0], best[0][-1]
        s.route.add(f"r.{vid}", list(best[0]))
        s.vehicle.add(vid, f"r.{vid}", typeID=CREW_TYPE, depart="now", departPos="0")
        dest = self.net.edges[trip.destination_edge]
        # the crew parks at its destination (off the lane, so it blocks nobody) long enough
        # for the next exchange to see the arrival; then it leaves on its own. Removing a
        # stopped vehicle crashes mesoscopic SUMO 1.28, so the model never does.
        s.vehicle.setStop(vid, dest.id, pos=max(0.1, dest.length_m - 1.0), laneIndex=0,
                          duration=CREW_PARK_S, flags=tc.STOP_PARKING)
        # crews are seen by their own subscription: their delay counts when their trip ends
        s.vehicle.subscribe(vid, [tc.VAR_ROAD_ID])
        self._crews[vid] = trip
        return trip

    def cancel_crew(self, crew: str) -> None:
        """Recall a crew that is still driving."""
        for vid, trip in list(self._crews.items()):
            if trip.crew == crew:
                self._remove(vid)
                trip.status = "cancelled"
                del self._crews[vid]

    def _remove(self, vid: str) -> None:
        # drop the subscription first: a removed vehicle's subscription breaks (or crashes)
        # the next simulationStep
        self.sumo.vehicle.unsubscribe(vid)
        self.sumo.vehicle.remove(vid)

    def crews_en_route(self) -> list[CrewTrip]:
        return list(self._crews.values())

    def _reroute_crews(self) -> None:
        for vid in self._crews:
            try:
                reroute(self.sumo, vid, self.options.mode == "meso", tc.ROUTING_MODE_DEFAULT)
            except Exception as exc:  # not yet inserted: routed at insertion instead
                log.debug("reroute of crew %s failed: %s", vid, exc)

    def _check_crews(self) -> list[CrewTrip]:
        finished: list[CrewTrip] = []
        s = self.sumo
        if not self._crews:
            return finished
        veh = s.vehicle.getAllSubscriptionResults()
        pending = set(s.simulation.getPendingVehicles())
        for vid, trip in list(self._crews.items()):
            if vid not in veh:
                if vid in pending:
                    continue  # not inserted yet
                trip.status, trip.arrival_s = "arrived", self._now_s  # gone (teleport to end)
            else:
                # few crews: a per-crew query is fine (meso reports no stop state, only stops)
                stops = s.vehicle.getStops(vid, 1)
                if not stops or stops[0].arrival < 0:
                    continue
                trip.status, trip.arrival_s = "arrived", float(stops[0].arrival)
                s.vehicle.unsubscribe(vid)
            finished.append(trip)
            del self._crews[vid]
        return finished
