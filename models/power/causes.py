"""Events and causes: what changed this step (buses, loads, microgrids) and why.

Part of :class:`~twin.models.power.grid.PowerGrid` (a mixin); owns the outage state carried
between steps: ``energised`` (live buses), ``dead_cause`` / ``dead_event`` (per dead bus,
what de-energised it and its own event), ``shed_frac`` / ``shed_event`` (per load),
``islanded`` / ``exhausted`` (per microgrid), and the previous step's supply topology
(``_prev_failed``, ``_prev_closed``: what the live buses were fed through, so a bus that goes
dark names the cut on the path that actually supplied it). The table of causes is in
docs/power.md.
"""

from __future__ import annotations

import networkx as nx
import numpy as np

from twin.events import Event, event_id, make_event
from twin.models.power.common import EPS, Island, column, event_time, memo

_SOURCE = "source"  # the node behind every external grid in the supply tree
TREE_CACHE_SIZE = 16  # states whose supply trees (and cause graphs) are kept


class CausesMixin:
    """State-change events with their causes."""

    def _record_islanding(self, t: int, isl: Island, events: list[Event]) -> None:
        """Record islanding of the microgrids now forming an island."""
        for s in isl.microgrids:
            if s not in self.islanded:
                name = str(self.net.storage.at[s, "name"])
                b = int(self.net.storage.at[s, "bus"])
                cause = self._cut_cause(b) or self._path_cause(b)
                ev = make_event(t, "power", name, "islanded", 1.0, cause, "power")
                self.islanded[s] = ev["event_id"]
                events.append(ev)

    def _record_exhausted(self, t: int, isl: Island, events: list[Event]) -> None:
        """Record the microgrids of a dead island as exhausted (once per outage)."""
        for s in isl.microgrids:
            if s not in self.exhausted:
                ev = make_event(t, "power", str(self.net.storage.at[s, "name"]), "exhausted", 0.0,
                                self.islanded.get(s, ""), "power")
                self.exhausted[s] = ev["event_id"]
                events.append(ev)

    def _cut_cause(self, bus: int) -> str:
        """What cut ``bus`` off the path that supplied it in the previous step: walking that
        path from the bus to its source, the first bus now failed or bus pair whose branches
        are now all failed or open (their failure event, else the event that opened the
        switch; the most recent of several). The path is intact in the previous step, so the
        cut is new since then: after a transfer over a tie, a failure of the tie names the
        tie, not the older fault the transfer worked around. "" when the bus was not
        supplied in the previous step or nothing on its path is cut."""
        parent, entries = self._supply_tree()
        if bus not in parent:
            return ""
        failed = self._failed
        closed_now = self.net.switch["closed"].to_numpy(dtype=bool)
        node = bus
        while node != _SOURCE:
            name = self.bus_names.get(node, "")
            if name in failed:
                return failed[name]
            up = parent[node]
            if up is None:  # the supplying unit's own bus
                return ""
            cuts = []
            for asset, switches in entries[frozenset((node, up))]:  # the branches live then
                if asset in failed:
                    cuts.append(failed[asset])
                    continue
                shut = [s for s in switches if not closed_now[s]]
                if not shut:
                    break  # this branch still connects the pair: no cut here
                s = shut[0]
                cuts.append(failed.get(self.switch_names[s], self.switch_event.get(s, "")))
            else:
                cuts = [c for c in cuts if c]
                if cuts:
                    return max(cuts, key=lambda c: (event_time(c), c))
            node = up
        return ""

    def _supply_tree(self) -> tuple[dict, dict]:
        """The previous step's supply topology as a breadth-first tree: {bus: the next bus
        towards its source, ``_SOURCE`` behind an external grid, None at a plant or
        grid-forming battery that fed an island} over the buses live then, and per bus pair
        the branches live between them then as (asset id, switch positions). Built once per
        step, and only when a bus goes dark or a microgrid islands."""
        if self._tree_cache is not None:
            return self._tree_cache
        # the tree depends only on the previous step's live buses, down-set and switch
        # positions: kept per such state (a feeder failed again finds its tree)
        key = (frozenset(self.energised), tuple(sorted(self._prev_failed.items())), self._prev_closed.tobytes())
        self._tree_cache = memo(self._trees, key, self._build_supply_tree, TREE_CACHE_SIZE)
        return self._tree_cache

    def _build_supply_tree(self) -> tuple[dict, dict]:
        """The supply tree of :meth:`_supply_tree`, built from the previous step's state."""
        net = self.net
        live = self.energised
        failed, closed = self._prev_failed, self._prev_closed
        on_branch: dict[tuple[str, int], list[int]] = {}
        adj: dict[object, set] = {}
        entries: dict[frozenset, list[tuple[str, list[int]]]] = {}
        sw = net.switch
        for p, (et, el) in enumerate(zip(sw["et"].tolist(), sw["element"].tolist(), strict=True)):
            if et in ("l", "t"):
                on_branch.setdefault(("line" if et == "l" else "trafo", int(el)), []).append(p)

        def link(a: int, b: int, asset: str, switches: list[int], up: bool) -> None:
            if not (up and a in live and b in live):
                return
            entries.setdefault(frozenset((a, b)), []).append((asset, switches))
            adj.setdefault(a, set()).add(b)
            adj.setdefault(b, set()).add(a)

        for table, fb, tb in (("line", "from_bus", "to_bus"), ("trafo", "hv_bus", "lv_bus")):
            names = self._names_np[table]
            for k, (i, a, b) in enumerate(zip(net[table].index, net[table][fb], net[table][tb], strict=True)):
                if not self._base_np[table][k]:
                    continue
                sws = on_branch.get((table, int(i)), [])
                up = names[k] not in failed and all(closed[s] for s in sws)
                link(int(a), int(b), str(names[k]), sws, up)
        for p, (et, a, b) in enumerate(zip(sw["et"].tolist(), sw["bus"].tolist(), sw["element"].tolist(),
                                           strict=True)):
            if et == "b":
                link(int(a), int(b), "", [p], bool(closed[p]))
        parent: dict[object, object] = {}
        frontier: list = []
        for i, name, bus in zip(net.ext_grid.index, net.ext_grid["name"].astype(str), net.ext_grid["bus"],
                                strict=True):
            b = int(bus)
            if i in self.main_ext and name not in failed and b in live:
                entries.setdefault(frozenset((b, _SOURCE)), []).append((name, []))
                if b not in parent:
                    parent[b] = _SOURCE
                    frontier.append(b)
        self._bfs(adj, parent, frontier)
        units = [int(net.gen.at[g, "bus"]) for g in self.plants]
        units += [int(net.storage.at[s, "bus"]) for s in self.microgrids]
        for b in units:  # islands fed by a plant or a community battery
            if b in live and b not in parent:
                parent[b] = None
                self._bfs(adj, parent, [b])
        return parent, entries

    @staticmethod
    def _bfs(adj: dict, parent: dict, frontier: list) -> None:
        """Extend the tree ``parent`` breadth-first from ``frontier`` (in place)."""
        while frontier:
            nxt = []
            for a in frontier:
                for b in sorted(adj.get(a, ())):
                    if b not in parent:
                        parent[b] = a
                        nxt.append(b)
            frontier = nxt

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
        """Buses and branches ignoring damage; normally open switches never moved are cut.
        Built again only when the switch positions or the set of switches control moved
        changed (the rest is static): a dark step asks it once per dead bus, and each
        build reads ~2,000 table cells."""
        key = (self.switch_pos.to_numpy(dtype=bool).tobytes(), frozenset(self.switch_event))
        return memo(self._cause_graphs, key, self._build_cause_graph, TREE_CACHE_SIZE)

    def _build_cause_graph(self):
        """The graph of :meth:`_cause_graph`, built from the net and the switch state."""
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

    def _bus_events(self, t: int, live: set[int], failed: dict[str, str], islands: list[Island],
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
        for b in sorted(self.energised ^ live):  # the buses that changed, in bus order
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
                elif b in self.protection.protection.dark_cause:  # a breaker tripped this step
                    cause, coupling = self.protection.protection.dark_cause[b], "power"
                else:
                    cause, coupling = self._cut_cause(b) or self._path_cause(b), "power"
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
        self._prev_failed = dict(failed)  # the supply topology of this step, for the next
        self._prev_closed = np.array(column(self.net["switch"], "closed"), dtype=bool)  # a copy
        self._tree_cache = None  # built from the snapshot above when next needed
        self._nc_cause = {}
        # microgrids back on the grid: forget their islanding
        for s in list(self.islanded):
            b = int(self.net.storage.at[s, "bus"])
            if b in bus_island and islands[bus_island[b]].kind in ("grid", "plant"):
                events.append(make_event(t, "power", str(self.net.storage.at[s, "name"]), "reconnected",
                                         1.0, self.islanded.pop(s), "power"))
                self.exhausted.pop(s, None)
        for s in list(self._depleted):  # recharged on the grid: usable again
            b = int(self.net.storage.at[s, "bus"])
            if b in bus_island and islands[bus_island[b]].kind in ("grid", "plant"):
                self._depleted.discard(s)

    def _restore_cause(self, t: int, b: int, islands: list[Island], bus_island: dict[int, int],
                       events: list[Event]) -> str:
        """Why bus ``b`` is live again: the repair (incidents' ``repaired`` event, same step)
        of an asset touching its island, else a switching this step (fault isolation and
        restoration, a crew's reclosing; the first closing, else the first), else what had
        de-energised it."""
        net = self.net
        island = islands[bus_island[b]].buses if b in bus_island else {b}
        for asset in self._repaired_now:
            touched = self._touched.get(asset)
            if touched is None:  # names and end buses are static: looked up once per asset
                touched = set()
                for table, cols in (("line", ("from_bus", "to_bus")), ("trafo", ("hv_bus", "lv_bus")),
                                    ("bus", ()), ("ext_grid", ("bus",))):
                    rows = net[table].index[net[table]["name"] == asset]
                    for i in rows:
                        touched |= {int(net[table].at[i, c]) for c in cols} if cols else {int(i)}
                self._touched[asset] = touched
            if not touched.isdisjoint(island):
                return event_id(t, asset, "repaired")
        switched = [e for e in events if e["kind"] in ("switched", "reclosed")]
        closing = [e for e in switched if e["value"] >= 0.5]  # an opening energises nothing
        return (closing or switched)[0]["event_id"] if switched else self.dead_cause.get(b, "")

    def _shed_events(self, t: int, served_frac, load_live, shed_cause: dict[int, str],
                     commanded: set[int], events: list[Event]) -> None:
        """Shed / restored events for loads on live buses; a dead bus keeps the load's last state."""
        new = np.where(load_live, 1.0 - served_frac, self.shed_frac)
        old = self.shed_frac
        moved = np.flatnonzero((new > old + EPS) | ((new < old - EPS) & (new <= EPS)))
        for pos in moved.tolist():  # only loads whose state changed, in load order
            name = self.load_names[pos]
            before, now = self.shed_frac[pos], new[pos]
            if now > before + EPS:
                cause = shed_cause.get(pos, "")
                coupling = ("control" if pos in commanded else
                            "voltage_collapse" if pos in self._collapse_shed else "power")
                ev = make_event(t, "power", name, "shed", float(now), cause, coupling)
                self.shed_event[pos] = ev["event_id"]
                events.append(ev)
            elif now < before - EPS and now <= EPS:
                events.append(make_event(t, "power", name, "restored", 1.0,
                                         self.shed_event.pop(pos, ""), "power"))
        self.shed_frac = new

