"""Repair crews, without mosaik: jobs, dispatch, travel through traffic, work on site.

Control owns the crews. Each step :meth:`CrewManager.step` takes the damage waiting for a
crew (from incidents), the crews' arrivals (from traffic) and the switch commands control
could not send over ICT, and returns the crew trips for traffic, the repairs for incidents,
the switch commands crews carry out by hand, and the events. A job's life:

``failed`` (incidents) → ``crew_dispatched`` (control, cause = the failure, coupling
``control``) → ``crew_arrived`` (traffic, cause = the dispatch, ``traffic->restoration``) →
``crew_finished`` (control, cause = the arrival, ``repair``) → ``repaired`` (incidents, cause
= ``crew_finished``, ``repair``), or for a switch the ``switched`` event of power, or for
a backup generator running low (water's ``needs_fuel``) the ``refuelled`` event of water.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from twin.control.dispatch import DispatchError, load_dispatch_policy
from twin.events import Event, event_id, make_event
from twin.hazards import DEFAULT_REPAIR, REPAIR_TIME, repair_time_h
from twin.region.assets import Asset, RegionInfo

log = logging.getLogger(__name__)

SECTORS: tuple[str, ...] = ("power", "water", "ict", "traffic")
DEFAULT_DEPOTS: dict[str, tuple[str, ...]] = {
    "power": ("substation",), "water": ("water_plant",), "ict": ("control_centre",),
    "traffic": ("tmc",),
}
RETRY_S = 3600  # a job with no route is offered again after this long (blocked_speed_kmh = 0)
DETOUR = 1.3  # road distance over straight-line distance, for crews clearing their way
Command = dict[str, Any]


@dataclass
class Crew:
    """One crew; ``position`` is a place traffic understands (facility, district or asset id)."""

    id: str
    sector: str
    depot: str
    position: str
    state: str = "idle"  # idle | driving | clearing (no open route) | working
    job: str = ""
    dispatch_event: str = ""
    arrival_event: str = ""
    done_s: float = 0.0
    eta_s: float = 0.0  # arrival of a crew clearing its way
    blocked_s: float = 0.0  # when it found no open route


@dataclass
class Job:
    """Work waiting for (or given to) a crew: repair a failed asset, or operate a switch."""

    asset: str
    sector: str
    kind: str  # "repair" | "switch" | "refuel"
    since_s: int
    cause_id: str
    value: float = 0.0  # wanted switch position (switch jobs)
    retry_s: int = 0


@dataclass
class CrewStep:
    """What crews do in one step."""

    trips: dict[str, Command] = field(default_factory=dict)  # traffic commands "crew/<id>"
    repairs: dict[str, str] = field(default_factory=dict)  # asset -> crew_finished event
    switching: dict[str, Command] = field(default_factory=dict)  # switch -> command by hand
    refuels: dict[str, str] = field(default_factory=dict)  # generator's asset -> crew_finished
    events: list[Event] = field(default_factory=list)


class CrewManager:
    """Crews per sector at depots, a dispatch policy, and drawn repair times."""

    def __init__(self, region: RegionInfo, seed: int, crews: Mapping[str, int],
                 depots: Mapping[str, list[str]] | None = None,
                 dispatch: str = "twin.control.dispatch:DefaultDispatchPolicy",
                 dispatch_params: Mapping[str, Any] | None = None,
                 repair_median_h: Mapping[str, float] | None = None,
                 manual_switching_h: float = 0.25, manual_switching: bool = True,
                 blocked_speed_kmh: float = 5.0, refuel_h: float = 0.5) -> None:
        self.region = region
        self.seed = int(seed)
        self.assets: dict[str, Asset] = {a["id"]: a for a in region.assets}
        self.policy = load_dispatch_policy(dispatch, **dict(dispatch_params or {}))
        self.dispatch = dispatch  # its module:Class, named when its assignment is impossible
        self.repair_median_h = dict(repair_median_h or {})
        self.manual_switching_h = float(manual_switching_h)
        self.manual_switching = bool(manual_switching)
        self.blocked_speed_kmh = float(blocked_speed_kmh)
        self.refuel_h = float(refuel_h)
        self._places = self._place_table()
        self.crews: dict[str, Crew] = {}
        for sector in SECTORS:
            places = list((depots or {}).get(sector) or self._default_depot(sector))
            for p in places:
                if p not in self._places:
                    raise DispatchError(f"depot {p!r} of {sector} crews is no facility, district or asset")
            for k in range(int(crews.get(sector, 0))):
                cid = f"{sector}-{k + 1}"
                depot = places[k % len(places)]
                self.crews[cid] = Crew(cid, sector, depot, depot)
        self.jobs: dict[str, Job] = {}
        self._occurrence: dict[str, int] = {}
        self._reported: set[str] = set()  # repairs reported, not yet cleared by incidents
        self._switched: dict[str, int] = {}  # switch operated by hand -> until when to wait for it
        self._refuelled: dict[str, int] = {}  # generator refuelled -> until when to wait for it
        self._bus_own: dict[str, tuple[int, bool]] = {}  # bus -> its own loads' customers, critical
        self._customers, self._critical = self._impact_table()

    # -- places and impact ---------------------------------------------------------------

    def _place_table(self) -> dict[str, tuple[float, float]]:
        places = {a["id"]: (a["x_m"], a["y_m"]) for a in self.region.assets}
        for d in self.region.districts:
            places[d["id"]] = (d["x_m"], d["y_m"])
        for f in self.region.layout.get("facilities", []):
            places[f["id"]] = (f["x_m"], f["y_m"])
        return places

    def _default_depot(self, sector: str) -> list[str]:
        found = [p for p in DEFAULT_DEPOTS[sector] if p in self._places]
        return found or [self.region.districts[0]["id"]]

    def _impact_table(self) -> tuple[dict[str, int], dict[str, bool]]:
        """Customers and critical loads each asset's failure cuts off (what its repair brings
        back): power branches and buses by the normal radial supply tree of the grid;
        other assets by their own customers and the assets depending on them."""
        customers = {a["id"]: int(a["customers"]) for a in self.region.assets}
        critical = {a["id"]: bool(a["critical"]) for a in self.region.assets}
        try:
            self._power_impact(customers, critical)
        except Exception as err:  # noqa: BLE001 - an unreadable grid only loses the ranking
            log.warning("no power supply tree for dispatch: %s", err)
        dependants: dict[str, list[str]] = {}
        for d in self.region.dependencies:
            dependants.setdefault(d["supplier"], []).append(d["consumer"])
        for supplier, consumers in dependants.items():
            if supplier.startswith("power/"):
                continue  # the supply tree already counts coupled loads
            customers[supplier] = customers.get(supplier, 0) + sum(customers.get(c, 0) for c in consumers)
            critical[supplier] = critical.get(supplier, False) or any(critical.get(c, False) for c in consumers)
        return customers, critical

    def _power_impact(self, customers: dict[str, int], critical: dict[str, bool]) -> None:
        import networkx as nx

        from twin.models.power.netfile import read_net

        net = read_net(self.region.path("power"))
        graph = nx.Graph()
        graph.add_nodes_from(int(b) for b in net.bus.index)
        open_lines = {int(r.element) for r in net.switch.itertuples() if r.et == "l" and not r.closed}
        branch_of_switch = {str(r.name): f"l{int(r.element)}" for r in net.switch.itertuples() if r.et == "l"}
        names: dict[str, str] = {}
        for i, r in net.line.iterrows():
            names[f"l{i}"] = str(r["name"])
            if i not in open_lines:
                graph.add_edge(int(r.from_bus), int(r.to_bus), branch=f"l{i}")
        for i, r in net.trafo.iterrows():
            names[f"t{i}"] = str(r["name"])
            graph.add_edge(int(r.hv_bus), int(r.lv_bus), branch=f"t{i}")
        roots = [int(b) for b in net.ext_grid.bus]
        bus_cust: dict[int, int] = {}
        bus_crit: dict[int, bool] = {}
        for r in net.load.itertuples():
            b = int(r.bus)
            c = getattr(r, "customers", 0)
            bus_cust[b] = bus_cust.get(b, 0) + (0 if c != c else int(c))  # NaN -> 0
            bus_crit[b] = bus_crit.get(b, False) or bool(getattr(r, "critical", False) is True)
        tree = nx.bfs_tree(graph, roots[0]) if roots else nx.DiGraph()

        def below(bus: int) -> tuple[int, bool]:
            sub = {bus} | nx.descendants(tree, bus) if bus in tree else {bus}
            return sum(bus_cust.get(b, 0) for b in sub), any(bus_crit.get(b, False) for b in sub)

        branch_impact: dict[str, tuple[int, bool]] = {}
        for u, v, data in graph.edges(data=True):
            child = v if tree.has_edge(u, v) else u if tree.has_edge(v, u) else None
            if child is not None:
                branch_impact[data["branch"]] = below(child)
        for key, (c, k) in branch_impact.items():
            customers[names[key]], critical[names[key]] = c, k
        for sw, key in branch_of_switch.items():
            if key in branch_impact:
                customers[sw], critical[sw] = branch_impact[key]
        for b, r in net.bus.iterrows():
            customers[str(r["name"])], critical[str(r["name"])] = below(int(b))
            self._bus_own[str(r["name"])] = (bus_cust.get(int(b), 0), bus_crit.get(int(b), False))

    def work_h(self, asset: str, kind: str) -> float:
        """Expected hours on site (the median), as the dispatch policy sees it."""
        if kind == "switch":
            return self.manual_switching_h
        if kind == "refuel":
            return self.refuel_h
        a = self.assets.get(asset)
        cls = f"{a['sector']}/{a['type']}" if a else ""
        return float(self.repair_median_h.get(cls, REPAIR_TIME.get(cls, DEFAULT_REPAIR).median_h))

    # -- one step ------------------------------------------------------------------------

    def step(self, time_s: int, step_s: int, needs_crew: Mapping[str, str],
             arrivals: Mapping[str, Mapping[str, Any]],
             blocked_switches: Mapping[str, Command] | None = None,
             off_grid_buses: list[str] | None = None,
             needs_fuel: Mapping[str, str] | None = None) -> CrewStep:
        """Advance the crews over ``[time_s, time_s + step_s)``.

        ``needs_crew`` {asset: failure event} is the damage waiting for a crew;
        ``blocked_switches`` {switch: command} the switch commands control could not send over
        ICT; ``off_grid_buses`` the buses off the main grid, whose customers closing a tie by
        hand brings back; ``needs_fuel`` {asset: event} the backup generators (water) asking
        for fuel, refuelling jobs for water crews (``refuel_h`` on site).
        """
        out = CrewStep()
        self._pending_events: list[Event] = []
        self._recalls: list[str] = []
        blocked = dict(blocked_switches or {}) if self.manual_switching else {}
        self._arrivals(time_s, arrivals)
        out.events.extend(self._pending_events)
        fuel = dict(needs_fuel or {})
        self._finish(time_s, step_s, needs_crew, blocked, out)
        self._update_jobs(time_s, needs_crew, blocked, fuel)
        own = [self._bus_own.get(b, (0, False)) for b in off_grid_buses or []]
        self._dispatch(time_s, out, (sum(c for c, _ in own), any(k for _, k in own)))
        for key in self._recalls:
            out.trips.setdefault(key, {"value": 0.0, "cause_id": ""})
        return out

    def _arrivals(self, time_s: int, arrivals: Mapping[str, Mapping[str, Any]]) -> None:
        for key, trip in sorted(arrivals.items()):
            crew = self.crews.get(key.removeprefix("crew/"))
            if crew is None or crew.state != "driving" or trip.get("asset") != crew.job:
                continue
            job = self.jobs.get(crew.job)
            if trip.get("status") == "arrived":
                arrival_s = float(trip.get("arrival_s", time_s))
                crew.state = "working"
                crew.position = crew.job
                crew.arrival_event = event_id(int(arrival_s), crew.job, "crew_arrived")
                kind = job.kind if job else "repair"
                crew.done_s = arrival_s + 3600.0 * self._work_drawn_h(crew.job, kind)
            elif self.blocked_speed_kmh > 0:  # no open route: clear the way there, slowly
                (x0, y0), (x1, y1) = self._places[crew.position], self._places.get(crew.job, (0.0, 0.0))
                dist_m = DETOUR * ((x1 - x0) ** 2 + (y1 - y0) ** 2) ** 0.5
                crew.state, crew.blocked_s = "clearing", float(time_s)
                crew.eta_s = time_s + 3.6 * dist_m / self.blocked_speed_kmh
                crew.arrival_event = event_id(time_s, crew.job, "crew_blocked")
            else:  # no route: the job waits, the crew stays where it was
                self._recalls.append(key)  # traffic forgets the trip, so it can be sent again
                crew.state, crew.job = "idle", ""
                if job is not None:
                    job.retry_s = time_s + RETRY_S
        for crew in sorted(self.crews.values(), key=lambda c: c.id):
            if crew.state == "clearing" and crew.eta_s <= time_s:
                ev = make_event(int(crew.eta_s), "control", crew.job, "crew_arrived",
                                crew.eta_s - crew.blocked_s, crew.arrival_event, "traffic->restoration")
                self._pending_events.append(ev)
                job = self.jobs.get(crew.job)
                crew.state, crew.position, crew.arrival_event = "working", crew.job, ev["event_id"]
                crew.done_s = crew.eta_s + 3600.0 * self._work_drawn_h(crew.job, job.kind if job else "repair")

    def _work_drawn_h(self, asset: str, kind: str) -> float:
        if kind == "switch":
            return self.manual_switching_h
        if kind == "refuel":
            return self.refuel_h
        a = self.assets.get(asset)
        if a is None:
            return DEFAULT_REPAIR.median_h
        n = self._occurrence.get(asset, 0)
        self._occurrence[asset] = n + 1
        return repair_time_h(self.seed, a, self.repair_median_h, n)

    def _finish(self, time_s: int, step_s: int, needs_crew: Mapping[str, str],
                blocked: Mapping[str, Command], out: CrewStep) -> None:
        for crew in sorted(self.crews.values(), key=lambda c: c.id):
            if crew.state != "working" or crew.done_s > time_s:
                continue  # work done by the step's start is reported in this step
            job = self.jobs.pop(crew.job, None)
            ev = make_event(int(crew.done_s), "control", crew.job, "crew_finished", 1.0,
                            crew.arrival_event, "repair")
            out.events.append(ev)
            if job is not None and job.kind == "switch":
                cmd = blocked.get(crew.job)
                if cmd is not None and float(cmd["value"]) == job.value:
                    out.switching[crew.job] = {"value": job.value, "cause_id": ev["event_id"]}
                    self._switched[crew.job] = time_s + 2 * step_s
            elif job is not None and job.kind == "refuel":
                out.refuels[crew.job] = ev["event_id"]
                # the command reaches water one step later, its needs_fuel the step after
                self._refuelled[crew.job] = time_s + 2 * step_s
            elif crew.job in needs_crew:
                out.repairs[crew.job] = ev["event_id"]
                self._reported.add(crew.job)
            crew.state, crew.job, crew.done_s = "idle", "", 0.0

    def _update_jobs(self, time_s: int, needs_crew: Mapping[str, str],
                     blocked: Mapping[str, Command], needs_fuel: Mapping[str, str]) -> None:
        busy = {c.job for c in self.crews.values() if c.job}
        staffed = {c.sector for c in self.crews.values()}
        self._reported &= set(needs_crew)  # incidents cleared the others
        for asset, cause in needs_crew.items():
            sector = asset.split("/", 1)[0]
            if sector in staffed and asset not in self.jobs and asset not in self._reported:
                self.jobs[asset] = Job(asset, sector, "repair", time_s, str(cause))
        self._refuelled = {a: t for a, t in self._refuelled.items() if t > time_s}
        if "water" in staffed:
            for asset, cause in sorted(needs_fuel.items()):
                if asset not in self.jobs and asset not in self._refuelled:
                    self.jobs[asset] = Job(asset, "water", "refuel", time_s, str(cause))
        # a switch operated by hand shows its new position two steps later (command shifted)
        self._switched = {sw: t for sw, t in self._switched.items() if sw in blocked and t > time_s}
        for sw, cmd in blocked.items():
            if sw in self._switched:
                continue
            job = self.jobs.get(sw)
            value = float(cmd["value"])
            if job is None or (job.kind == "switch" and job.value != value and sw not in busy):
                if job is None and sw in needs_crew:
                    continue  # a failed switch is repaired first
                self.jobs[sw] = Job(sw, "power", "switch", time_s, str(cmd.get("cause_id", "")), value)
        for asset in list(self.jobs):
            job = self.jobs[asset]
            still = (asset in needs_crew if job.kind == "repair" else
                     asset in needs_fuel if job.kind == "refuel" else asset in blocked)
            if not still and asset not in busy:
                del self.jobs[asset]

    def _dispatch(self, time_s: int, out: CrewStep, off_grid: tuple[int, bool]) -> None:
        idle = [c for c in self.crews.values() if c.state == "idle"]
        busy = {c.job for c in self.crews.values() if c.job}
        open_jobs = [j for j in self.jobs.values() if j.asset not in busy and j.retry_s <= time_s]
        if not idle or not open_jobs:
            return
        crews = [{"id": c.id, "sector": c.sector, "position": c.position,
                  "x_m": self._places[c.position][0], "y_m": self._places[c.position][1]}
                 for c in sorted(idle, key=lambda c: c.id)]
        jobs = []
        for j in sorted(open_jobs, key=lambda j: (j.since_s, j.asset)):
            x, y = self._places.get(j.asset, (0.0, 0.0))
            if j.kind == "switch" and j.value >= 0.5:
                customers, critical = off_grid  # closing a tie brings back the dead buses
            elif j.kind == "switch":
                customers, critical = 0, False  # opening alone restores nobody
            else:
                customers, critical = self._customers.get(j.asset, 0), self._critical.get(j.asset, False)
            jobs.append({"asset": j.asset, "sector": j.sector, "kind": j.kind, "since_s": j.since_s,
                         "cause_id": j.cause_id, "x_m": x, "y_m": y, "critical": bool(critical),
                         "customers": int(customers), "work_h": self.work_h(j.asset, j.kind)})
        chosen = self.policy.assign(int(time_s), crews, jobs)
        who = f"dispatch policy {self.dispatch}.assign()"
        by_asset = {j.asset: j for j in open_jobs}
        taken: set[str] = set()
        for cid, asset in sorted(chosen.items()):
            crew = self.crews.get(cid)
            job = by_asset.get(asset)
            if crew is None or crew.state != "idle":
                raise DispatchError(f"{who} assigned {asset!r} to {cid!r}, which is not an idle crew")
            if job is None or asset in taken:
                raise DispatchError(f"{who} assigned {cid!r} to {asset!r}, which is no open job (or taken twice)")
            if job.sector != crew.sector:
                raise DispatchError(f"{who} sent {crew.sector} crew {cid!r} to {asset!r}, a {job.sector} job")
            taken.add(asset)
            ev = make_event(time_s, "control", asset, "crew_dispatched", 1.0, job.cause_id, "control")
            out.events.append(ev)
            crew.state, crew.job, crew.dispatch_event = "driving", asset, ev["event_id"]
            if crew.position == asset:  # already on site: no drive
                crew.state, crew.arrival_event = "working", ev["event_id"]
                crew.done_s = time_s + 3600.0 * self._work_drawn_h(asset, job.kind)
                continue
            out.trips[f"crew/{cid}"] = {"value": 1.0, "origin": crew.position, "destination": asset,
                                        "asset": asset, "cause_id": ev["event_id"]}

    def series(self) -> dict[str, float]:
        """Crew counts by state and open jobs, for the recorder."""
        states = [c.state for c in self.crews.values()]
        busy = {c.job for c in self.crews.values() if c.job}
        return {"crews_idle": float(states.count("idle")),
                "crews_driving": float(states.count("driving") + states.count("clearing")),
                "crews_working": float(states.count("working")),
                "jobs_open": float(sum(1 for j in self.jobs if j not in busy))}
