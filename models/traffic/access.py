"""Road access to hospitals on the current edge travel times, without SUMO or mosaik.

:class:`HospitalAccess` works on a :class:`~twin.models.traffic.network.RoadNetwork` and a
mapping ``edge id -> travel time (s)``: the traffic model reads the times from SUMO
(:meth:`TrafficModel.edge_travel_times`) and the adapter turns the result into the series
``hospital_reach_frac`` and ``hospital_travel_time_s`` (docs/traffic.md, "Access to
hospitals").

Conventions, the same as SUMO's router (``simulation.findRoute``) so that the two can be
compared: a trip starts on an origin edge and ends on a destination edge, turns only where
the net has a connection, and its travel time is the sum of the times of every edge of the
route, the first and the last included; turning movements and junctions cost nothing.
People live on their district's street edges, spread evenly (as the demand model spreads
trip origins); a closed edge is no origin and no part of any route.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

import numpy as np
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import dijkstra

from .network import RoadNetwork

# The access norm: a hospital of basic emergency care within 30 minutes by car. The German
# Federal Joint Committee (G-BA) uses it to define the hospitals a region cannot do without:
# "Regelungen für die Vereinbarung von Sicherstellungszuschlägen gemäß § 136c Absatz 3
# SGB V" (G-BA, 24 Nov 2016, § 3: more than 5,000 people would need more than 30 car-minutes
# to the next suitable hospital); the same 30 minutes is the planning threshold of the
# BBSR's hospital accessibility indicator.
ACCESS_TIME_S = 1_800.0
# How often the travel times are recomputed (s of simulated time). Between two updates the
# series repeat the last values; a change in the closed roads triggers an update at once.
ACCESS_PERIOD_S = 900


@dataclass(frozen=True)
class Access:
    """Road access of one district to one hospital at one moment."""

    reach_frac: float  # share of the district's street edges within ACCESS_TIME_S
    centre_s: float  # travel time from the district's centre edge, s (math.inf: no route)


def open_edges(net: RoadNetwork, closed_roads: Iterable[str]) -> set[str]:
    """Edges of the network that are not on a closed road (both directions close)."""
    shut = {e for road in closed_roads for e in net.edges_of_road(net.road_of(road))}
    return set(net.edges) - shut


def predecessors(net: RoadNetwork) -> dict[str, tuple[str, ...]]:
    """Edge -> the edges that may turn into it (the net's connections reversed)."""
    preds: dict[str, list[str]] = {}
    for a, succ in net.successors.items():
        for b in succ:
            preds.setdefault(b, []).append(a)
    return {b: tuple(sorted(p)) for b, p in preds.items()}


class HospitalAccess:
    """Access of every district to every hospital, the fixed parts computed once.

    ``districts``: dicts with ``id``, ``x_m``, ``y_m``; ``hospitals``: {hospital id: (x_m,
    y_m)}. A hospital is reached on the open edge nearest its position (midpoints, ties by
    id); a district's people are spread evenly over its street edges
    (:meth:`RoadNetwork.street_edges`; one on a closed road reaches nothing), and its centre
    is the street edge nearest the district's centre. A district without street edges has
    ``reach_frac`` 0 and no centre time.
    """

    def __init__(self, net: RoadNetwork, districts: Iterable[Mapping],
                 hospitals: Mapping[str, tuple[float, float]], limit_s: float = ACCESS_TIME_S):
        self.net = net
        self.limit_s = float(limit_s)
        self.streets: dict[str, tuple[str, ...]] = {}
        self.centre: dict[str, str] = {}
        for d in districts:
            did = str(d["id"])
            self.streets[did] = net.street_edges(did)
            near = _ranked(net, float(d["x_m"]), float(d["y_m"]), set(self.streets[did]))
            self.centre[did] = near[0] if near else ""
        self.hospital_edges = {h: _ranked(net, x, y, set(net.edges)) for h, (x, y) in hospitals.items()}
        preds = predecessors(net)
        # the reversed edge graph as sparse arrays: arc (b -> a) for each connection a -> b,
        # weighted by the time of a, the edge left (scipy's Dijkstra, ~10x the pure Python)
        self._order = sorted(net.edges)
        self._index = {e: i for i, e in enumerate(self._order)}
        arcs = [(self._index[b], self._index[a]) for b, ps in preds.items() for a in ps]
        self._rows = np.array([r for r, _ in arcs], dtype=np.int64)
        self._cols = np.array([c for _, c in arcs], dtype=np.int64)
        self._street_index = {d: np.array([self._index[e] for e in st], dtype=np.int64)
                              for d, st in self.streets.items()}

    def _graph(self, times: Mapping[str, float], usable: set[str]) -> tuple[np.ndarray, csr_matrix]:
        """Edge times in ``_order`` (inf where closed) and the reversed edge graph."""
        t = np.array([float(times[e]) if e in usable else math.inf for e in self._order])
        keep = np.isfinite(t[self._cols]) & np.isfinite(t[self._rows])
        n = len(self._order)
        return t, csr_matrix((t[self._cols][keep], (self._rows[keep], self._cols[keep])), shape=(n, n))

    def _dist(self, t: np.ndarray, graph: csr_matrix, destination: str) -> np.ndarray:
        """Travel time from every edge to ``destination`` (inf: closed or no route).

        Dijkstra backwards over the edge graph of the net's connections: the time from edge
        ``e`` is ``t[e]`` plus the least time from one of its successors, down to
        ``t[destination]`` for the destination itself.
        """
        if not destination or not math.isfinite(t[self._index[destination]]):
            return np.full(len(t), math.inf)
        d = dijkstra(graph, indices=self._index[destination]) + t[self._index[destination]]
        d[~np.isfinite(t)] = math.inf
        return d

    def times_to(self, times: Mapping[str, float], closed_roads: Iterable[str],
                 destination: str) -> dict[str, float]:
        """{edge: travel time (s) to ``destination``} over the open edges; edges without a
        route are absent."""
        t, graph = self._graph(times, open_edges(self.net, closed_roads))
        d = self._dist(t, graph, destination)
        return {e: float(d[i]) for i, e in enumerate(self._order) if math.isfinite(d[i])}

    def compute(self, times: Mapping[str, float],
                closed_roads: Iterable[str]) -> dict[tuple[str, str], Access]:
        """{(district, hospital): Access} on the edge times ``times`` (s) with the roads
        ``closed_roads`` (road names or edge ids) removed."""
        usable = open_edges(self.net, closed_roads)
        t, graph = self._graph(times, usable)
        out: dict[tuple[str, str], Access] = {}
        for h, ranked in self.hospital_edges.items():
            d = self._dist(t, graph, next((e for e in ranked if e in usable), ""))
            for did, idx in self._street_index.items():
                share = float(np.mean(d[idx] <= self.limit_s)) if len(idx) else 0.0
                centre = float(d[self._index[self.centre[did]]]) if self.centre[did] else math.inf
                out[(did, h)] = Access(share, centre)
        return out


def _ranked(net: RoadNetwork, x_m: float, y_m: float, among: set[str]) -> list[str]:
    """Edges of ``among`` by distance of their midpoint from a position (ties by id)."""
    return sorted(among, key=lambda e: (math.dist(net.midpoint(e), (x_m, y_m)), e))
