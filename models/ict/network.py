"""ICT domain model without mosaik: site power and batteries, element state, reachability.

A site is down when the incidents simulator reports it failed (damage or a take-down
attack), or when its power bus has been dead for longer than its battery lasts. A link is
down when it failed; a link with a down end carries nothing. An endpoint (a ``needs_ict``
asset of another sector) is reachable while a path of up sites and up links joins its access
site to its controller (:func:`twin.models.ict.build.controller_site`).

Reachability is kept incrementally: the connected components of the up-graph are stored,
and a change of a site or link recomputes only the components it touches; only endpoints
whose access site or controller lies in a touched component are re-evaluated.
:func:`bfs_reachable` recomputes everything from scratch (the reference for tests).
"""

from __future__ import annotations

import logging
from collections import deque
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from itertools import count

import networkx as nx

from twin.events import Event, make_event
from twin.models.ict.build import controller_site
from twin.models.power.consumers import supply_cause
from twin.region.assets import RegionInfo

log = logging.getLogger(__name__)

SITE_UP, SITE_DOWN, SITE_COMPROMISED = 1, 0, 2


class IctRegionError(ValueError):
    """The built region and the ICT graph disagree (unknown site, missing controller...)."""


@dataclass(frozen=True)
class Endpoint:
    """A remotely controlled asset of another sector and where it talks to."""

    id: str
    sector: str
    district: str
    site: str  # its access site (nearest base station or edge node)
    controller: str  # the controller site it must reach


def link_index(graph: nx.Graph) -> dict[str, tuple[str, str]]:
    """Link asset id -> its two site ids (sorted)."""
    out: dict[str, tuple[str, str]] = {}
    for u, v, e in graph.edges(data=True):
        a, b = sorted((u, v))
        out[e["id"]] = (a, b)
    return out


def endpoints_from_region(region: RegionInfo, graph: nx.Graph) -> dict[str, Endpoint]:
    """Every endpoint of the region: consumer of an ``ict-><sector>`` dependency.

    The controller follows the one rule in ``controller_site`` with the configuration the
    graph was built for; an endpoint outside every district uses its access site's district.
    """
    assets = {a["id"]: a for a in region.assets}
    parents: dict[str, str] = dict(graph.graph.get("parents", {}))
    configuration = str(graph.graph.get("configuration", region.configuration))
    edge_control = bool(graph.graph.get("edge_control", False))
    out: dict[str, Endpoint] = {}
    for dep in sorted(region.dependencies, key=lambda d: d["consumer"]):
        if not dep["coupling"].startswith("ict->"):
            continue
        eid, site = dep["consumer"], dep["supplier"]
        if site not in graph:
            raise IctRegionError(f"endpoint {eid!r} depends on unknown ICT site {site!r}")
        asset = assets.get(eid)
        sector = asset["sector"] if asset else dep["coupling"].split("->", 1)[1]
        district = asset["district"] if asset else ""
        if district not in parents:
            district = graph.nodes[site]["district"]
        ctrl = controller_site(
            configuration, edge_control, district, parents.get(district, ""), sector
        )
        if ctrl not in graph:
            raise IctRegionError(f"controller {ctrl!r} of endpoint {eid!r} is not in the ICT graph")
        out[eid] = Endpoint(eid, sector, district, site, ctrl)
    return out


def bfs_reachable(
    graph: nx.Graph,
    endpoints: Mapping[str, Endpoint],
    down_sites: Iterable[str],
    down_links: Iterable[str],
) -> set[str]:
    """Reachable endpoints recomputed from scratch with networkx (the reference)."""
    dead_sites, dead_links = set(down_sites), set(down_links)
    up = nx.Graph()
    up.add_nodes_from(n for n in graph if n not in dead_sites)
    up.add_edges_from(
        (u, v) for u, v, e in graph.edges(data=True)
        if e["id"] not in dead_links and u in up and v in up
    )
    comps: dict[str, set[str]] = {}
    out: set[str] = set()
    for ep in endpoints.values():
        if ep.controller not in up or ep.site not in up:
            continue
        if ep.controller not in comps:
            comps[ep.controller] = nx.node_connected_component(up, ep.controller)
        if ep.site in comps[ep.controller]:
            out.add(ep.id)
    return out


class Reachability:
    """Connected components of the up-graph, updated only where a site or link changed."""

    def __init__(self, graph: nx.Graph, endpoints: Mapping[str, Endpoint]):
        self.graph = graph
        self.endpoints = dict(endpoints)
        self._links = link_index(graph)
        self._adj: dict[str, list[tuple[str, str]]] = {
            n: sorted((nb, graph.edges[n, nb]["id"]) for nb in graph.neighbors(n)) for n in graph
        }
        self._by_site: dict[str, list[str]] = {}
        for ep in self.endpoints.values():
            self._by_site.setdefault(ep.site, []).append(ep.id)
            self._by_site.setdefault(ep.controller, []).append(ep.id)
        self.down_sites: set[str] = set()
        self.down_links: set[str] = set()
        self._ids = count()
        self._comp: dict[str, int] = {}
        self._members: dict[int, set[str]] = {}
        self._relabel(set(graph.nodes))
        self.reachable: set[str] = {e for e in self.endpoints if self._joined(self.endpoints[e])}
        self.touched_last = len(graph)

    def _joined(self, ep: Endpoint) -> bool:
        c = self._comp.get(ep.site)
        return c is not None and c == self._comp.get(ep.controller)

    def _relabel(self, nodes: set[str]) -> None:
        """Recompute components over ``nodes`` (closed under up-adjacency by construction)."""
        for n in nodes:
            c = self._comp.pop(n, None)
            if c is not None:
                self._members.pop(c, None)
        for start in sorted(nodes):
            if start in self.down_sites or start in self._comp:
                continue
            cid = next(self._ids)
            members = {start}
            self._comp[start] = cid
            queue = deque([start])
            while queue:
                n = queue.popleft()
                for nb, lid in self._adj[n]:
                    if nb in members or nb in self.down_sites or lid in self.down_links:
                        continue
                    members.add(nb)
                    self._comp[nb] = cid
                    queue.append(nb)
            self._members[cid] = members

    def update(self, down_sites: Iterable[str], down_links: Iterable[str]) -> set[str]:
        """Set the down elements; return the endpoints whose reachability changed."""
        new_sites, new_links = set(down_sites), set(down_links)
        changed_sites = new_sites ^ self.down_sites
        changed_links = new_links ^ self.down_links
        if not changed_sites and not changed_links:
            self.touched_last = 0
            return set()
        touched_comps: set[int] = set()
        seeds: set[str] = set()
        for s in changed_sites:
            seeds.add(s)
            for n in (s, *(nb for nb, _ in self._adj[s])):
                if n in self._comp:
                    touched_comps.add(self._comp[n])
        for lid in changed_links:
            for n in self._links[lid]:
                seeds.add(n)
                if n in self._comp:
                    touched_comps.add(self._comp[n])
        region = set(seeds)
        for c in touched_comps:
            region |= self._members[c]
        self.down_sites, self.down_links = new_sites, new_links
        self._relabel(region)
        self.touched_last = len(region)
        changed: set[str] = set()
        for n in region:
            for e in self._by_site.get(n, ()):
                now = self._joined(self.endpoints[e])
                if now != (e in self.reachable):
                    changed.add(e)
                    if now:
                        self.reachable.add(e)
                    else:
                        self.reachable.discard(e)
        return changed

    def component_of(self, site: str) -> set[str]:
        """Up sites connected to ``site`` (empty if it is down)."""
        c = self._comp.get(site)
        return set(self._members[c]) if c is not None else set()

    def path_elements(
        self, src: str, dst: str, down_sites: set[str], down_links: set[str]
    ) -> list[str]:
        """Sites and link ids of a shortest path src -> dst over the given up-state ([] if none).

        Neighbours are visited in sorted order, so the path is deterministic.
        """
        if src in down_sites or dst in down_sites:
            return []
        parent: dict[str, tuple[str, str] | None] = {src: None}
        queue = deque([src])
        while queue:
            n = queue.popleft()
            if n == dst:
                break
            for nb, lid in self._adj[n]:
                if nb in parent or nb in down_sites or lid in down_links:
                    continue
                parent[nb] = (n, lid)
                queue.append(nb)
        if dst not in parent:
            return []
        out = [dst]
        node = dst
        while parent[node] is not None:
            prev, lid = parent[node]  # type: ignore[misc]
            out += [lid, prev]
            node = prev
        return out[::-1]


class IctNetwork:
    """Site power, battery, up/down/compromised state and endpoint reachability over time.

    ``step`` applies one exchange step ``[t, t + step_s)`` and returns the events of the step.
    Battery: while a site's bus is dead it runs on its battery, which holds ``backup_h`` hours
    and drains by the step length per step; the site goes down at the first step that starts
    with an empty battery (so exactly ``backup_h`` after the bus died, rounded up to a
    step). While powered, the battery recharges ``recharge_ratio`` hours per hour.
    """

    def __init__(
        self,
        graph: nx.Graph,
        endpoints: Mapping[str, Endpoint],
        site_bus: Mapping[str, str] | None = None,
        recharge_ratio: float = 1.0,
    ):
        if recharge_ratio < 0:
            raise ValueError(f"recharge_ratio must be >= 0, got {recharge_ratio}")
        self.graph = graph
        self.endpoints = dict(endpoints)
        self.sites: list[str] = sorted(graph.nodes)
        self.links: dict[str, tuple[str, str]] = link_index(graph)
        unknown = sorted(set(site_bus or {}) - set(self.sites))
        if unknown:
            raise IctRegionError(f"power->ict dependency for unknown ICT sites: {unknown[:5]}")
        self.site_bus: dict[str, str] = dict(site_bus or {})
        self.recharge_ratio = float(recharge_ratio)
        self.backup_s: dict[str, float] = {
            s: float(graph.nodes[s].get("backup_h", 0.0)) * 3600.0 for s in self.sites
        }
        self.battery_s: dict[str, float] = dict(self.backup_s)
        self.reach = Reachability(graph, self.endpoints)
        self.sites_down: dict[str, str] = {}  # site -> cause event id
        self.links_down: dict[str, str] = {}  # link -> cause event id
        self.unreachable: dict[str, str] = {}  # endpoint -> cause event id
        self.compromised: dict[str, str] = {}  # site -> attack event id
        self._power_out: dict[str, str] = {}  # site -> de-energised bus event (battery empty)
        self._power_event: dict[str, str] = {}  # site -> its own power "down" event id
        self._reason: dict[str, str] = {}  # down site -> "failed" | "power"
        self._on_battery: set[str] = set()
        self._districts = sorted({ep.district for ep in self.endpoints.values()})
        for n in self.sites:
            d = graph.nodes[n].get("district", "")
            if d and d not in self._districts:
                self._districts.append(d)
        self._districts.sort()
        # each district's endpoints (static), for the reachable share of every step
        self._district_endpoints: dict[str, frozenset[str]] = {
            d: frozenset(ep.id for ep in self.endpoints.values() if ep.district == d) for d in self._districts}

    # ----- one step -------------------------------------------------------------------
    def step(
        self,
        time_s: int,
        step_s: int,
        failed: Mapping[str, str] | None = None,
        dead_buses: Mapping[str, str] | None = None,
        unsupplied: Mapping[str, str] | None = None,
    ) -> list[Event]:
        """Apply failures (ICT element -> cause), dead buses (bus -> cause) and sites whose
        load power shed (site -> its ``shed`` event; as if their bus were dead) at ``time_s``."""
        failed = failed or {}
        dead_buses = dead_buses or {}
        events: list[Event] = []
        self._advance_batteries(step_s, dead_buses, unsupplied or {})

        old_sites, old_links = set(self.sites_down), set(self.links_down)
        old_down, old_links_down = dict(self.sites_down), dict(self.links_down)
        new_down: dict[str, str] = {}
        reasons: dict[str, str] = {}
        for s in self.sites:
            if s in failed:
                new_down[s], reasons[s] = failed[s], "failed"
            elif s in self._power_out:
                if self._reason.get(s) != "power":  # battery just ran out (or repaired)
                    ev = make_event(time_s, "ict", s, "down", 0.0, self._power_out[s], "power->ict")
                    events.append(ev)
                    self._power_event[s] = ev["event_id"]
                new_down[s], reasons[s] = self._power_event[s], "power"
        for s in sorted(set(self._reason) - set(reasons)):
            if self._reason[s] == "power":  # back up because its bus is energised again
                events.append(make_event(time_s, "ict", s, "up", 1.0, "", "power->ict"))
        self.sites_down, self._reason = new_down, reasons
        self.links_down = {lid: failed[lid] for lid in sorted(self.links) if lid in failed}

        changed = self.reach.update(self.sites_down, self.links_down)
        for e in sorted(changed):
            if e in self.reach.reachable:
                self.unreachable.pop(e, None)
                events.append(make_event(time_s, "ict", e, "reachable", 1.0, "", "ict"))
            else:
                cause = self._cause(self.endpoints[e], old_sites, old_links)
                self.unreachable[e] = cause
                events.append(make_event(time_s, "ict", e, "unreachable", 0.0, cause, "ict"))
        if self.unreachable and (old_down != self.sites_down or old_links_down != self.links_down):
            # An endpoint still cut while the element that cut it came back: name a current
            # cause in the output (no event: its state did not change).
            current = set(self.sites_down.values()) | set(self.links_down.values())
            for e, cause in self.unreachable.items():
                if cause not in current:
                    self.unreachable[e] = self._cause(self.endpoints[e], set(), set())
        return events

    def _advance_batteries(self, step_s: int, dead_buses: Mapping[str, str],
                           unsupplied: Mapping[str, str]) -> None:
        for s in self.sites:
            cause = supply_cause(s, self.site_bus.get(s), dead_buses, unsupplied)
            if cause or s in unsupplied:
                self._on_battery.add(s)
                if self.battery_s[s] <= 0.0:
                    self._power_out.setdefault(s, cause)
                self.battery_s[s] = max(0.0, self.battery_s[s] - step_s)
            else:
                self._on_battery.discard(s)
                self._power_out.pop(s, None)
                self.battery_s[s] = min(
                    self.backup_s[s], self.battery_s[s] + step_s * self.recharge_ratio
                )

    def _cause(self, ep: Endpoint, old_sites: set[str], old_links: set[str]) -> str:
        """The cause of the down element that cuts the endpoint.

        The first down element, from the endpoint's side, on its shortest path over the
        previous up-state (the path it used before this step); if it had none, on its
        shortest path over the whole graph. Deterministic (sorted neighbours).
        """
        for dead_sites, dead_links in ((old_sites, old_links), (set(), set())):
            path = self.reach.path_elements(ep.site, ep.controller, dead_sites, dead_links)
            for el in path:
                if el in self.sites_down:
                    return self.sites_down[el]
                if el in self.links_down:
                    return self.links_down[el]
        return ""

    # ----- attacks (false data) -------------------------------------------------------
    def set_compromised(self, sites: Mapping[str, str]) -> None:
        """The sites currently compromised by false-data attacks (site -> attack event id)."""
        unknown = sorted(set(sites) - set(self.sites))
        if unknown:
            raise IctRegionError(f"cannot compromise unknown ICT sites {unknown[:5]}")
        self.compromised = dict(sites)

    # ----- views ----------------------------------------------------------------------
    @property
    def reachable(self) -> set[str]:
        return set(self.reach.reachable)

    def site_state(self, site: str) -> int:
        """1 up, 0 down, 2 up but compromised."""
        if site in self.sites_down:
            return SITE_DOWN
        return SITE_COMPROMISED if site in self.compromised else SITE_UP

    def load_p_mw(self) -> dict[str, float]:
        """Grid demand per site: nominal while up, 0 while down."""
        return {
            s: 0.0 if s in self.sites_down else float(self.graph.nodes[s].get("p_mw", 0.0))
            for s in self.sites
        }

    def district_reachable_frac(self) -> dict[str, float]:
        """Share of each district's endpoints that reach their controller (1.0 if none)."""
        reachable = self.reach.reachable
        return {d: (len(ids & reachable) / len(ids) if ids else 1.0) for d, ids in self._district_endpoints.items()}

    def battery_h(self) -> dict[str, float]:
        return {s: self.battery_s[s] / 3600.0 for s in self.sites}

    def on_battery(self) -> set[str]:
        return set(self._on_battery)
