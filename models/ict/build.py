"""Build the region's communication network (ICT graph) for one configuration.

Every district gets access sites (base stations; several in the city); towns and the city
get an aggregation router; villages hang on their anchor town's router by radio. The data
and control centre (``DCC``) sits at the layout's ``control_centre`` facility and the
traffic-management centre (``TMC``) at ``tmc``. The backhaul is a star around the city
router; ``params.ict_meshing`` adds that share of extra (redundant) links, and
``params.edge_control`` adds edge controllers: one per district (``decentralised``) or one
per anchor town and the city (``anchor_towns``, villages use their town's controller).

Access sites are shared by every configuration (same ids, same places), so paired
comparisons see the same base stations; controllers and extra links differ.

The graph's nodes are site asset ids (``ict/site/<name>``), its edges carry the link asset
id in ``id``. Graph-level attributes record the controller rule's inputs.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import networkx as nx

from twin.randomness import stream, uniform
from twin.region.assets import SECTOR_FILES, Asset, make_asset
from twin.region.layout import District, Layout
from twin.region.params import ConfigurationParams, core_backup_h

SITE_PREFIX = "ict/site/"
LINK_PREFIX = "ict/link/"
DCC_ID = "ict/site/DCC"
TMC_ID = "ict/site/TMC"

# Nominal electrical demand per site role, MW (a macro base station draws a few kW, a small
# data centre tens of kW).
ROLE_P_MW: dict[str, float] = {
    "access": 0.003,
    "router": 0.01,
    "controller": 0.02,
    "datacentre": 0.05,
    "tmc": 0.02,
}
# Asset capacity_unit per role: "access" is what the region builder maps endpoints onto.
ROLE_UNIT: dict[str, str] = {
    "access": "access",
    "controller": "access",
    "router": "router",
    "datacentre": "datacentre",
    "tmc": "tmc",
}


# Roles whose backup is ``params.ict_core_backup_h`` (central offices in FCC 07-177's terms);
# access sites and edge controllers have ``params.ict_backup_h``.
CORE_ROLES: frozenset[str] = frozenset({"router", "datacentre", "tmc"})


def site_backup_h(role: str, params: ConfigurationParams) -> float:
    """Backup hours of a site of ``role`` under ``params``."""
    return core_backup_h(params) if role in CORE_ROLES else float(params.ict_backup_h)


class IctBuildError(ValueError):
    """The layout lacks something the ICT network needs (e.g. the control-centre facility)."""


def site_id(name: str) -> str:
    return f"{SITE_PREFIX}{name}"


def short(asset_id: str) -> str:
    """The last part of an asset id (``ict/site/BS3`` -> ``BS3``)."""
    return asset_id.rsplit("/", 1)[-1]


def link_id(a: str, b: str) -> str:
    """Link asset id between two site ids, in the given order (``ict/link/BS3-ARcity``)."""
    return f"{LINK_PREFIX}{short(a)}-{short(b)}"


def router_id(district_id: str) -> str:
    return site_id(f"AR{district_id}")


def edge_id(district_id: str) -> str:
    return site_id(f"EC{district_id}")


def controller_site(
    configuration: str, edge_control: bool, district: str, parent: str = "", sector: str = ""
) -> str:
    """The controller site serving an endpoint: the one rule, used by builder and simulator.

    - no edge control (``centralised``): the data and control centre; traffic signals are
      coordinated by the traffic-management centre;
    - edge control in ``anchor_towns``: the anchor town's edge controller (a village uses its
      parent town's; the city its own);
    - edge control otherwise (``decentralised``): the edge controller of the endpoint's own
      district.
    """
    if not edge_control:
        return TMC_ID if sector == "traffic" else DCC_ID
    if configuration == "anchor_towns":
        return edge_id(parent or district)
    return edge_id(district)


def access_count(d: District) -> int:
    """Base stations per district: one per ~5000 people in the city (3..10), 1-2 elsewhere."""
    if d.kind == "city":
        return max(3, min(10, round(d.population / 5000)))
    if d.kind == "town":
        return 2 if d.population >= 4000 else 1
    return 1


def _dist_m(a: tuple[float, float], b: tuple[float, float]) -> float:
    return round(math.hypot(a[0] - b[0], a[1] - b[1]), 1)


class _Builder:
    """Accumulates sites and links on a graph, then turns them into asset records."""

    def __init__(self, layout: Layout, params: ConfigurationParams, configuration: str):
        self.layout = layout
        self.params = params
        self.configuration = configuration
        self.g = nx.Graph()

    def site(self, sid: str, role: str, x: float, y: float, district: str) -> str:
        self.g.add_node(
            sid, role=role, x_m=round(float(x), 1), y_m=round(float(y), 1), district=district,
            backup_h=site_backup_h(role, self.params), p_mw=ROLE_P_MW[role],
        )
        return sid

    def pos(self, sid: str) -> tuple[float, float]:
        n = self.g.nodes[sid]
        return (n["x_m"], n["y_m"])

    def link(self, a: str, b: str, medium: str, backbone: bool) -> None:
        if a == b or self.g.has_edge(a, b):
            return
        self.g.add_edge(
            a, b, id=link_id(a, b), medium=medium, length_m=_dist_m(self.pos(a), self.pos(b)),
            backbone=backbone,
        )

    def maybe_link(self, a: str, b: str, medium: str) -> None:
        """An optional redundant link, kept with probability ``ict_meshing`` (per-link draw)."""
        if a == b or self.g.has_edge(a, b):
            return
        draw = uniform(self.layout.seed, "ict-build", link_id(a, b))
        if draw < self.params.ict_meshing:
            self.link(a, b, medium, backbone=False)


def _place_access(b: _Builder, d: District, counter: list[int]) -> list[str]:
    """Base stations of one district on a ring at 0.6 of its radius (one at the centre)."""
    n = access_count(d)
    rng = stream(b.layout.seed, "ict-build", f"access/{d.id}")
    offset = float(rng.uniform(0.0, 2.0 * math.pi))
    ids = []
    for k in range(n):
        counter[0] += 1
        ring = 0.2 if n == 1 else 0.6
        a = offset + 2.0 * math.pi * k / n
        x, y = d.x_m + ring * d.radius_m * math.cos(a), d.y_m + ring * d.radius_m * math.sin(a)
        ids.append(b.site(site_id(f"BS{counter[0]}"), "access", x, y, d.id))
    return ids


def build_graph(layout: Layout, params: ConfigurationParams, configuration: str) -> nx.Graph:
    """The communication graph for a layout and configuration (no files written)."""
    try:
        cc = layout.facility("control_centre")
        tmc = layout.facility("tmc")
    except KeyError as err:
        raise IctBuildError(f"layout has no facility {err.args[0]!r} for the ICT network") from err
    b = _Builder(layout, params, configuration)
    city = next((d for d in layout.districts if d.kind == "city"), None)
    if city is None:
        raise IctBuildError("layout has no city district: the ICT backbone hub lives there")

    hub = b.site(router_id(city.id), "router", city.x_m, city.y_m, city.id)
    dcc = b.site(DCC_ID, "datacentre", cc.x_m, cc.y_m, cc.district)
    tmc_site = b.site(TMC_ID, "tmc", tmc.x_m, tmc.y_m, tmc.district)
    b.link(dcc, hub, "fibre", True)
    b.link(tmc_site, hub, "fibre", True)

    counter = [0]
    access: dict[str, list[str]] = {}
    routers: dict[str, str] = {city.id: hub}
    for d in layout.districts:
        access[d.id] = _place_access(b, d, counter)
        if d.kind == "town":
            routers[d.id] = b.site(router_id(d.id), "router", d.x_m, d.y_m, d.id)
            b.link(routers[d.id], hub, "fibre", True)  # star backhaul to the city hub

    # Access: city and town base stations by fibre to their router, villages by radio to
    # their anchor town's router.
    for d in layout.districts:
        up = routers.get(d.id) or routers.get(d.parent) or hub
        medium = "radio" if d.kind == "village" else "fibre"
        for s in access[d.id]:
            b.link(s, up, medium, True)

    # Edge controllers: wherever the controller rule points.
    if params.edge_control:
        for d in layout.districts:
            ctrl = controller_site(configuration, True, d.id, d.parent)
            if ctrl in b.g:
                continue
            owner = layout.district(short(ctrl)[2:])
            anchor = routers.get(owner.id) or access[owner.id][0]
            ax, ay = b.pos(anchor)
            off = 0.1 * owner.radius_m
            b.site(ctrl, "controller", ax + off, ay + off, owner.id)
            b.link(ctrl, anchor, "fibre", True)

    # Redundancy: each candidate link is kept with probability ict_meshing.
    towns = sorted(layout.towns, key=lambda t: math.atan2(t.y_m, t.x_m))
    if len(towns) > 1:
        for i, t in enumerate(towns):
            nxt = towns[(i + 1) % len(towns)]
            if nxt.id != t.id:
                b.maybe_link(*sorted((routers[t.id], routers[nxt.id])), "fibre")
    for d in layout.districts:
        ring = access[d.id]
        if len(ring) > 1:
            for i, s in enumerate(ring):
                b.maybe_link(*sorted((s, ring[(i + 1) % len(ring)])), "fibre")
    all_access = [(s, d) for d in layout.districts for s in access[d.id]]
    for d in layout.districts:
        if d.kind == "village":
            s = access[d.id][0]
            others = [o for o, od in all_access if od.id not in (d.id, d.parent)]
            if others:
                near = min(others, key=lambda o: (_dist_m(b.pos(s), b.pos(o)), o))
                b.maybe_link(*sorted((s, near)), "radio")
        if d.kind == "town":
            city_bs = access[city.id]
            near = min(city_bs, key=lambda o: (_dist_m(b.pos(routers[d.id]), b.pos(o)), o))
            b.maybe_link(*sorted((routers[d.id], near)), "radio")
    b.maybe_link(*sorted((dcc, tmc_site)), "fibre")

    b.g.graph.update(
        configuration=configuration,
        edge_control=bool(params.edge_control),
        control_centre=DCC_ID,
        tmc=TMC_ID,
        parents={d.id: d.parent for d in layout.districts},
    )
    return b.g


def graph_assets(g: nx.Graph) -> list[Asset]:
    """Asset records of the graph's sites and links."""
    assets: list[Asset] = []
    for sid, n in g.nodes(data=True):
        assets.append(
            make_asset(
                sid, "ict", "site", n["x_m"], n["y_m"], n["district"],
                capacity=n["backup_h"], capacity_unit=ROLE_UNIT[n["role"]],
                critical=n["role"] in ("datacentre", "tmc", "controller"),
                needs_power=True, p_mw=n["p_mw"],
            )
        )
    for a, b, e in g.edges(data=True):
        na, nb = g.nodes[a], g.nodes[b]
        assets.append(
            make_asset(
                e["id"], "ict", "link", (na["x_m"] + nb["x_m"]) / 2, (na["y_m"] + nb["y_m"]) / 2,
                na["district"], capacity=e["length_m"], capacity_unit="m",
            )
        )
    return assets


def write_graph(g: nx.Graph, path: Path) -> None:
    """Write node-link JSON (sorted, so the same graph gives the same bytes)."""
    data = nx.node_link_data(g, edges="links")
    data["nodes"] = sorted(data["nodes"], key=lambda n: n["id"])
    data["links"] = sorted(data["links"], key=lambda e: e["id"])
    path.write_text(json.dumps(data, indent=1, sort_keys=True))


def load_graph(path: str | Path) -> nx.Graph:
    """Read ``ict.json`` (a file, or a built region folder containing it)."""
    path = Path(path)
    if path.is_dir():
        path = path / SECTOR_FILES["ict"]
    data = json.loads(path.read_text())
    return nx.node_link_graph(data, edges="links")


def build(
    layout: Layout, params: ConfigurationParams, configuration: str, out_dir: Path
) -> list[Asset]:
    """Sector builder (docs/architecture.md): write ``ict.json``, return the ICT assets."""
    g = build_graph(layout, params, configuration)
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    write_graph(g, out_dir / SECTOR_FILES["ict"])
    return graph_assets(g)
