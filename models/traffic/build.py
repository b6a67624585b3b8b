"""Build the region's road network with SUMO's own netconvert.

Every district gets a street grid sized by its radius (the city's is the biggest), jittered
by a seeded stream so that shortest paths are unique; the city is joined to every anchor
town by a two-lane road, each town to its villages by a rural road, and neighbouring towns
(three or more) by a ring road. Junctions where two arterials (even rows and columns) of a
city or town grid cross are signalised (SUMO type ``traffic_light``); all others are
priority junctions.

Naming (the contract for the simulator): a node is ``<district>_<i>_<j>``; the edge from
node ``a`` to node ``b`` is ``a-b`` and its opposite direction ``b-a``. One road asset
``traffic/road/a-b`` covers both directions (a storm closes the road, not one lane); a
signal asset ``traffic/signal/<node>`` is the traffic light of that node (its SUMO tls id).
"""

from __future__ import annotations

import logging
import math
import os
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path
from xml.sax.saxutils import quoteattr

from twin.randomness import stream
from twin.region.assets import SECTOR_FILES, Asset, make_asset
from twin.region.layout import Layout
from twin.region.params import ConfigurationParams

log = logging.getLogger(__name__)

GRID_SPACING_M = 400.0  # target block length of a district's street grid
JITTER_SHARE = 0.15  # node positions move by up to this share of the block length
SIGNAL_P_MW = 0.002  # electrical demand of one signalised junction (controller and heads)

# (lanes, speed m/s, priority) per road class
ARTERIAL = (2, 13.89, 3)  # 50 km/h, two lanes each way
LOCAL = (1, 11.11, 1)  # 40 km/h
CITY_TOWN = (2, 22.22, 5)  # 80 km/h
TOWN_VILLAGE = (1, 19.44, 4)  # 70 km/h
TOWN_TOWN = (1, 22.22, 4)  # 80 km/h


class SumoNotFoundError(RuntimeError):
    """The eclipse-sumo package (SUMO binaries) is not installed."""


class NetconvertError(RuntimeError):
    """netconvert rejected the generated plain network."""


def sumo_home() -> Path:
    """SUMO_HOME of the ``eclipse-sumo`` package (never a system install)."""
    try:
        import sumo  # the eclipse-sumo wheel
    except ImportError as exc:  # pragma: no cover - declared dependency
        raise SumoNotFoundError("the 'eclipse-sumo' package is required for traffic") from exc
    return Path(sumo.SUMO_HOME)


def sumo_binary(name: str) -> Path:
    """Path of a SUMO binary (``sumo``, ``netconvert``...) inside the eclipse-sumo package."""
    path = sumo_home() / "bin" / name
    if not path.exists():
        raise SumoNotFoundError(f"{path} not found in the eclipse-sumo package")
    return path


@dataclass(frozen=True)
class _Node:
    id: str
    x_m: float
    y_m: float
    district: str
    signal: bool


@dataclass(frozen=True)
class _Road:
    id: str  # forward edge id "a-b"; the reverse edge is "b-a"
    a: str
    b: str
    lanes: int
    speed_ms: float
    priority: int
    district: str


def grid_size(radius_m: float) -> int:
    """Nodes per side of a district's street grid (at least 2)."""
    return max(2, round(2.0 * radius_m / GRID_SPACING_M) + 1)


def _grid(layout: Layout, district: dict | object) -> tuple[list[_Node], list[_Road]]:
    d = district
    n = grid_size(d.radius_m)
    spacing = 2.0 * d.radius_m / (n - 1)
    rng = stream(layout.seed, "traffic-build", f"grid/{d.id}")
    jitter = rng.uniform(-JITTER_SHARE, JITTER_SHARE, size=(n, n, 2)) * spacing
    signalised = d.kind in ("city", "town")
    nodes: list[_Node] = []
    for i in range(n):
        for j in range(n):
            interior = 0 < i < n - 1 and 0 < j < n - 1
            nodes.append(
                _Node(
                    id=f"{d.id}_{i}_{j}",
                    x_m=round(d.x_m - d.radius_m + i * spacing + float(jitter[i, j, 0]), 2),
                    y_m=round(d.y_m - d.radius_m + j * spacing + float(jitter[i, j, 1]), 2),
                    district=d.id,
                    signal=signalised and interior and i % 2 == 0 and j % 2 == 0,
                )
            )
    roads: list[_Road] = []
    for i in range(n):
        for j in range(n):
            a = f"{d.id}_{i}_{j}"
            if i + 1 < n:  # along x: the street of row j
                cls = ARTERIAL if (d.kind != "village" and j % 2 == 0) else LOCAL
                b = f"{d.id}_{i + 1}_{j}"
                roads.append(_Road(f"{a}-{b}", a, b, *cls, d.id))
            if j + 1 < n:  # along y: the street of column i
                cls = ARTERIAL if (d.kind != "village" and i % 2 == 0) else LOCAL
                b = f"{d.id}_{i}_{j + 1}"
                roads.append(_Road(f"{a}-{b}", a, b, *cls, d.id))
    return nodes, roads


def _boundary_towards(nodes: list[_Node], x_m: float, y_m: float) -> _Node:
    """The node of a grid closest to a point (where a road to that point leaves)."""
    return min(nodes, key=lambda nd: (math.hypot(nd.x_m - x_m, nd.y_m - y_m), nd.id))


def plan_network(layout: Layout) -> tuple[list[_Node], list[_Road]]:
    """Nodes and roads of the region (pure Python; netconvert turns them into a SUMO net)."""
    nodes: list[_Node] = []
    roads: list[_Road] = []
    grids: dict[str, list[_Node]] = {}
    for d in layout.districts:
        g_nodes, g_roads = _grid(layout, d)
        grids[d.id] = g_nodes
        nodes += g_nodes
        roads += g_roads

    def connect(d1: object, d2: object, cls: tuple[int, float, int]) -> None:
        a = _boundary_towards(grids[d1.id], d2.x_m, d2.y_m)
        b = _boundary_towards(grids[d2.id], d1.x_m, d1.y_m)
        roads.append(_Road(f"{a.id}-{b.id}", a.id, b.id, *cls, d1.id))

    city = next(d for d in layout.districts if d.kind == "city")
    towns = layout.towns
    for t in towns:
        connect(city, t, CITY_TOWN)
        for v in layout.villages_of(t.id):
            connect(t, v, TOWN_VILLAGE)
    if len(towns) >= 3:
        ordered = sorted(towns, key=lambda t: math.atan2(t.y_m - city.y_m, t.x_m - city.x_m))
        for k, t in enumerate(ordered):
            connect(t, ordered[(k + 1) % len(ordered)], TOWN_TOWN)
    return nodes, roads


def _plain_xml(nodes: list[_Node], roads: list[_Road]) -> tuple[str, str]:
    nod = ['<nodes>']
    for nd in nodes:
        kind = "traffic_light" if nd.signal else "priority"
        nod.append(
            f'    <node id={quoteattr(nd.id)} x="{nd.x_m:.2f}" y="{nd.y_m:.2f}" type="{kind}"/>'
        )
    nod.append('</nodes>\n')
    edg = ['<edges>']
    for r in roads:
        for eid, fr, to in ((r.id, r.a, r.b), (f"{r.b}-{r.a}", r.b, r.a)):
            edg.append(
                f'    <edge id={quoteattr(eid)} from={quoteattr(fr)} to={quoteattr(to)} '
                f'numLanes="{r.lanes}" speed="{r.speed_ms:.2f}" priority="{r.priority}"/>'
            )
    edg.append('</edges>\n')
    return "\n".join(nod), "\n".join(edg)


NETCONVERT_OPTIONS: tuple[str, ...] = (
    "--offset.disable-normalization", "true",  # keep the layout's metres
    "--no-turnarounds.tls", "true",
    "--tls.default-type", "actuated",  # the TMC's adaptive program; fixed time is derived
    "--tls.guess", "false",
    "--junctions.join", "false",
    "--geometry.remove", "false",
    "--no-internal-links", "false",
    "--write-metadata", "false",
    "--xml-validation", "never",
    "--no-warnings", "true",
)


def write_net(nodes: list[_Node], roads: list[_Road], net_file: Path) -> None:
    """Run netconvert on the plain nodes/edges; the output has no timestamp (byte-stable)."""
    nod, edg = _plain_xml(nodes, roads)
    with tempfile.TemporaryDirectory(prefix="twin-net-") as tmp:
        nod_file, edg_file = Path(tmp) / "roads.nod.xml", Path(tmp) / "roads.edg.xml"
        nod_file.write_text(nod)
        edg_file.write_text(edg)
        cmd = [
            str(sumo_binary("netconvert")), "--node-files", str(nod_file),
            "--edge-files", str(edg_file), "--output-file", str(net_file),
            *NETCONVERT_OPTIONS,
        ]
        env = {**os.environ, "SUMO_HOME": str(sumo_home())}
        proc = subprocess.run(cmd, capture_output=True, text=True, env=env, check=False)
        if proc.returncode != 0:
            raise NetconvertError(f"netconvert failed ({proc.returncode}): {proc.stderr.strip()}")
    _strip_header(net_file)


def _strip_header(net_file: Path) -> None:
    """Drop netconvert's comment header (date, absolute input paths) so builds are identical."""
    text = net_file.read_text()
    start = text.find("<!--")
    end = text.find("-->", start)
    if start != -1 and end != -1 and start < text.find("<net"):
        text = text[:start] + text[end + 3:].lstrip("\n")
    net_file.write_text(text)


def build(
    layout: Layout, params: ConfigurationParams, configuration: str, out_dir: Path
) -> list[Asset]:
    """Write ``roads.net.xml`` into ``out_dir``; return the signal and road assets.

    The road network is the same in every configuration (roads are not what the
    configurations differ in), so signal and road ids are shared across configurations.
    """
    del params, configuration  # same roads in every configuration
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    nodes, roads = plan_network(layout)
    write_net(nodes, roads, out_dir / SECTOR_FILES["traffic"])
    by_id = {nd.id: nd for nd in nodes}
    assets: list[Asset] = []
    for nd in nodes:
        if nd.signal:
            assets.append(
                make_asset(
                    f"traffic/signal/{nd.id}", "traffic", "signal", nd.x_m, nd.y_m, nd.district,
                    capacity=1.0, capacity_unit="junction", needs_power=True,
                    p_mw=SIGNAL_P_MW, needs_ict=True,
                )
            )
    for r in roads:
        a, b = by_id[r.a], by_id[r.b]
        length_m = math.hypot(a.x_m - b.x_m, a.y_m - b.y_m)
        assets.append(
            make_asset(
                f"traffic/road/{r.id}", "traffic", "road", (a.x_m + b.x_m) / 2,
                (a.y_m + b.y_m) / 2, r.district, capacity=round(length_m, 1),
                capacity_unit="length_m",
            )
        )
    log.debug("road network: %d nodes, %d roads", len(nodes), len(roads))
    return assets
