"""Events and causes: what changed this step (buses, loads, microgrids) and why.

Part of :class:`~twin.models.power.grid.PowerGrid` (a mixin); owns the outage state carried
between steps: ``energised`` (live buses), ``dead_cause`` / ``dead_event`` (per dead bus,
what de-energised it and its own event), ``shed_frac`` / ``shed_event`` (per load),
``islanded`` / ``exhausted`` (per microgrid). The table of causes is in docs/power.md.
"""

from __future__ import annotations

import networkx as nx
import numpy as np

from twin.events import Event, event_id, make_event
from twin.models.power.common import EPS, Island


class CausesMixin:
    """State-change events with their causes."""

    def _record_islanding(self, t: int, isl: Island, events: list[Event]) -> None:
        """Record islanding of the microgrids now forming an island."""
        for s in isl.microgrids:
            if s not in self.islanded:
                name = str(self.net.storage.at[s, "name"])
                cause = self._path_cause(int(self.net.storage.at[s, "bus"]))
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
                elif b in self.protection.protection.dark_cause:  # a breaker tripped this step
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
        for s in list(self._depleted):  # recharged on the grid: usable again
            b = int(self.net.storage.at[s, "bus"])
            if b in bus_island and islands[bus_island[b]].kind in ("grid", "plant"):
                self._depleted.discard(s)

    def _restore_cause(self, t: int, b: int, islands: list[Island], bus_island: dict[int, int],
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
                coupling = ("control" if pos in commanded else
                            "voltage_collapse" if pos in self._collapse_shed else "power")
                ev = make_event(t, "power", name, "shed", float(now), cause, coupling)
                self.shed_event[pos] = ev["event_id"]
                events.append(ev)
            elif now < before - EPS and now <= EPS:
                events.append(make_event(t, "power", name, "restored", 1.0,
                                         self.shed_event.pop(pos, ""), "power"))
        self.shed_frac = new
