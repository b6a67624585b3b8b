"""What road closures do to trips: which trips can still be made, and the vehicles a closure
cuts off (docs/traffic.md, "Road closures").

:class:`Reachability` answers "can a car still get from edge ``a`` to edge ``b``?" over the
open edges and the net's connections (the same graph SUMO's router searches), without SUMO.
:func:`replan` applies a change of the closed roads to the vehicles in a running SUMO: a
vehicle whose remaining route crosses a closed edge is re-routed at once on the current
network; one that is on a closed edge, or whose destination can no longer be reached, is
taken out (its trip is abandoned); a vehicle waiting to be inserted whose trip became
impossible is taken out too (its trip is cancelled). Without this, SUMO keeps such vehicles
waiting in front of the closure (its periodic re-routing keeps the old route when there is
no new one) and teleports them after ``time_to_teleport_s``: model artefacts, not traffic.
"""

from __future__ import annotations

from collections.abc import Container, Iterable
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import breadth_first_order, connected_components

from .network import RoadNetwork

ROUTING_MODE_AGGREGATED = 1  # traci.constants.ROUTING_MODE_AGGREGATED: the rerouting device's times


class Reachability:
    """Which edges can be reached from which over the open edges of a network.

    A route from ``a`` to ``b`` starts on ``a``, ends on ``b`` and turns only where the net
    has a connection (:attr:`RoadNetwork.successors`), as SUMO's router does. The edges
    reachable from an origin are searched once per set of closed edges and kept.
    """

    def __init__(self, net: RoadNetwork) -> None:
        self.ids = tuple(sorted(net.edges))
        self.index = {e: i for i, e in enumerate(self.ids)}
        pairs = [(self.index[a], self.index[b]) for a, succ in net.successors.items() for b in succ]
        arcs = np.array(pairs, dtype=int).reshape(-1, 2)
        self._src, self._dst = arcs[:, 0], arcs[:, 1]
        self._shut = np.zeros(len(self.ids), dtype=bool)
        self._graph = self._build()
        self._from: dict[int, np.ndarray] = {}
        # with nothing closed, a strongly connected net joins every pair of edges (the usual
        # case: one check per inserted trip, ~15,000 a day at the default scale)
        self._strongly_connected = connected_components(self._graph, directed=True, connection="strong")[0] == 1
        self._any_shut = False

    def _build(self) -> csr_matrix:
        keep = ~(self._shut[self._src] | self._shut[self._dst])
        n = len(self.ids)
        return csr_matrix((np.ones(int(keep.sum())), (self._src[keep], self._dst[keep])),
                          shape=(n, n))

    def set_closed(self, edges: Iterable[str]) -> None:
        """The closed edges from now on (every other edge is open)."""
        shut = np.zeros(len(self.ids), dtype=bool)
        shut[[self.index[e] for e in edges]] = True
        if np.array_equal(shut, self._shut):
            return
        self._shut = shut
        self._any_shut = bool(shut.any())
        self._graph = self._build()
        self._from = {}

    def is_open(self, edge: str) -> bool:
        return not self._shut[self.index[edge]]

    def reachable(self, origin: str, destination: str) -> bool:
        """True when a route over open edges leads from ``origin`` to ``destination``."""
        i, j = self.index[origin], self.index[destination]
        if self._strongly_connected and not self._any_shut:
            return True
        if self._shut[i] or self._shut[j]:
            return False
        seen = self._from.get(i)
        if seen is None:
            seen = np.zeros(len(self.ids), dtype=bool)
            seen[breadth_first_order(self._graph, i, directed=True,
                                     return_predecessors=False)] = True
            self._from[i] = seen
        return bool(seen[j])


@dataclass
class Replanned:
    """What one :func:`replan` did (vehicle counts)."""

    rerouted: int = 0  # running vehicles given a new route around the closed edges
    abandoned: int = 0  # running vehicles taken out: on a closed edge, or destination cut off
    cancelled: int = 0  # vehicles not yet inserted taken out: their trip became impossible


def reroute(api: Any, vid: str, meso: bool, routing_mode: int = ROUTING_MODE_AGGREGATED) -> bool:
    """Give a running vehicle the fastest route from where it is to its destination on the
    current network; False when there is none (its route is left as it was).

    Micro: ``rerouteTraveltime``, which starts at the next edge when the vehicle is too close
    to the junction to turn elsewhere. Meso: the route from the vehicle's edge
    (``findRoute``, ``routing_mode`` as SUMO's router knows it; aggregated = the times of
    the rerouting device, as its periodic re-routing uses) set with ``setRoute``, because
    libsumo 1.28 re-routes a mesoscopic vehicle (which has no lane) as if it were being
    inserted: from its departure edge, leaving it on an edge that is not on its route,
    which crashed SUMO in the next step.
    """
    veh = api.vehicle
    if not meso:
        veh.rerouteTraveltime(vid, False)
        return True
    road = veh.getRoadID(vid)
    found = api.simulation.findRoute(road, veh.getRoute(vid)[-1], vType=veh.getTypeID(vid),
                                     routingMode=routing_mode).edges
    if not found:
        return False
    veh.setRoute(vid, list(found))
    return True


def replan(api: Any, reach: Reachability, meso: bool, exempt: Container[str] = ()) -> Replanned:
    """Apply the closed edges of ``reach`` to every vehicle in SUMO (``api``: libsumo or a
    TraCI connection) except those in ``exempt`` (repair crews, routed by their own rule).

    A vehicle on a closed edge is taken out: SUMO's mesoscopic model cannot move it off a
    lane that disallows it, and nothing says on which side of the blockage it is. A vehicle
    whose route ahead crosses a closed edge is re-routed (``rerouteTraveltime`` on the travel
    times of its rerouting device, as its periodic re-routing would) if its destination is
    still reachable, else taken out (:func:`reroute`).
    """
    veh = api.vehicle
    out = Replanned()

    def drop(vid: str) -> None:
        veh.unsubscribe(vid)  # a removed vehicle's subscription breaks the next step
        veh.remove(vid)

    for vid in veh.getIDList():
        if vid in exempt:
            continue
        road = veh.getRoadID(vid)
        route, idx = veh.getRoute(vid), veh.getRouteIndex(vid)
        ahead = route[idx + 1:]
        internal = road.startswith(":")  # micro: on a junction, past route[idx]
        if not internal and not reach.is_open(road):
            drop(vid)
            out.abandoned += 1
            continue
        if all(reach.is_open(e) for e in ahead):
            continue
        start = (ahead[0] if ahead else route[idx]) if internal else road
        if reach.reachable(start, route[-1]) and reroute(api, vid, meso):
            new, k = veh.getRoute(vid), veh.getRouteIndex(vid)
            if all(reach.is_open(e) for e in new[k + 1:]):
                out.rerouted += 1
                continue
        drop(vid)
        out.abandoned += 1
    for vid in api.simulation.getPendingVehicles():
        if vid in exempt:
            continue
        route = veh.getRoute(vid)
        if not reach.reachable(route[0], route[-1]):
            drop(vid)
            out.cancelled += 1
    return out
