"""What the traffic model needs to know about a built road network, read from ``roads.net.xml``.

Naming follows :mod:`twin.models.traffic.build`: node ``<district>_<i>_<j>``, edge ``a-b``
and its opposite ``b-a``, road asset ``traffic/road/<forward edge>``, signal asset
``traffic/signal/<tls id>``.
"""

from __future__ import annotations

import math
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field, fields
from pathlib import Path


@dataclass(frozen=True)
class EdgeInfo:
    """One directed (non-internal) SUMO edge."""

    id: str
    from_node: str
    to_node: str
    length_m: float
    speed_ms: float
    lanes: tuple[str, ...]

    @property
    def free_flow_s(self) -> float:
        """Travel time at the speed limit (what the crew router minimises)."""
        return self.length_m / self.speed_ms

    @property
    def reverse_id(self) -> str:
        return f"{self.to_node}-{self.from_node}"


def node_district(node_id: str) -> str:
    """District of a node id ``<district>_<i>_<j>``."""
    return node_id.split("_", 1)[0]


@dataclass(frozen=True)
class RoadNetwork:
    """Edges, junction positions and traffic lights of a SUMO net (no SUMO needed)."""

    edges: dict[str, EdgeInfo]
    nodes: dict[str, tuple[float, float]]  # junction id -> (x_m, y_m)
    signals: tuple[str, ...]  # tls ids (= junction ids of signalised nodes)
    # edge -> the edges a vehicle may turn into from it (the net's connections; no U-turn
    # at signalised junctions, netconvert's --no-turnarounds.tls)
    successors: dict[str, tuple[str, ...]] = field(default_factory=dict)

    @classmethod
    def read(cls, net_file: str | Path, cache: bool = False) -> RoadNetwork:
        """The network of a SUMO net file; ``cache`` keeps it parsed beside the file
        (:func:`twin.filecache.read_cached`, for twin's own region folders: the XML of the
        default region's 2-MB net takes ~50 ms, the pickle 3-10 ms)."""
        if cache:
            from twin.filecache import read_cached

            return read_cached(net_file, cls._parse, _READ_VERSION)
        return cls._parse(Path(net_file).read_bytes())

    @classmethod
    def _parse(cls, data: bytes) -> RoadNetwork:
        root = ET.fromstring(data)
        edges: dict[str, EdgeInfo] = {}
        for e in root.iter("edge"):
            if e.get("function") == "internal":
                continue
            lanes = e.findall("lane")
            edges[e.get("id")] = EdgeInfo(
                id=e.get("id"), from_node=e.get("from"), to_node=e.get("to"),
                length_m=float(lanes[0].get("length")),
                speed_ms=max(float(ln.get("speed")) for ln in lanes),
                lanes=tuple(ln.get("id") for ln in lanes),
            )
        nodes = {
            j.get("id"): (float(j.get("x")), float(j.get("y")))
            for j in root.iter("junction")
            if j.get("type") != "internal"
        }
        signals = tuple(sorted(t.get("id") for t in root.iter("tlLogic")))
        succ: dict[str, set[str]] = {}
        for c in root.iter("connection"):
            a, b = c.get("from"), c.get("to")
            if a in edges and b in edges:
                succ.setdefault(a, set()).add(b)
        successors = {e: tuple(sorted(succ.get(e, ()))) for e in edges}
        return cls(edges=edges, nodes=nodes, signals=signals, successors=successors)

    def road_of(self, edge_id: str) -> str:
        """Road name (forward edge id) that an edge belongs to."""
        e = self.edges[edge_id]
        return edge_id if edge_id < e.reverse_id or e.reverse_id not in self.edges else e.reverse_id

    def edges_of_road(self, road: str) -> list[str]:
        """Both directed edges of a road name (or of any of its edge ids)."""
        if road not in self.edges:
            raise KeyError(f"unknown road {road!r}")
        rev = self.edges[road].reverse_id
        return [road, rev] if rev in self.edges else [road]

    def district_of_edge(self, edge_id: str) -> str:
        """District of a street edge; a connector between districts gets its origin's."""
        return node_district(self.edges[edge_id].from_node)

    def street_edges(self, district: str) -> tuple[str, ...]:
        """Edges with both ends inside one district (where its trips start and end)."""
        return tuple(
            sorted(
                e.id for e in self.edges.values()
                if node_district(e.from_node) == district == node_district(e.to_node)
            )
        )

    def midpoint(self, edge_id: str) -> tuple[float, float]:
        e = self.edges[edge_id]
        (x1, y1), (x2, y2) = self.nodes[e.from_node], self.nodes[e.to_node]
        return (x1 + x2) / 2.0, (y1 + y2) / 2.0

    def nearest_edges(self, x_m: float, y_m: float, k: int = 5) -> list[str]:
        """The ``k`` edges whose midpoints are closest to a point (ties broken by id)."""
        ranked = sorted(
            self.edges, key=lambda eid: (math.hypot(*(a - b for a, b in zip(
                self.midpoint(eid), (x_m, y_m), strict=True))), eid)
        )
        return ranked[:k]


# What a cached RoadNetwork was read with: the fields of the classes (a changed class reads
# the XML again) and the reading itself (bump when :meth:`RoadNetwork._parse` changes).
_READ_VERSION = "1:" + ";".join(",".join(f.name for f in fields(c)) for c in (EdgeInfo, RoadNetwork))
