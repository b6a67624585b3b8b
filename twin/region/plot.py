"""Draw a built region: the four networks, districts, critical facilities and dependencies."""

from __future__ import annotations

import json
from pathlib import Path

from twin.region.assets import RegionInfo

SECTOR_COLOURS: dict[str, str] = {
    "power": "#d62728",
    "water": "#1f77b4",
    "traffic": "#7f7f7f",
    "ict": "#2ca02c",
}


# What the map marks, beyond the networks' lines: (id prefix, marker, colour, size, legend).
ASSET_MARKERS: tuple[tuple[str, str, str, float, str], ...] = (
    ("water/pump/", "^", SECTOR_COLOURS["water"], 40, "pump station"),
    ("water/well/", "v", "#6baed6", 30, "well"),
    ("water/tank/", "s", "#9ecae1", 40, "tank"),
    ("ict/site/", "s", SECTOR_COLOURS["ict"], 18, "ICT site"),
    ("traffic/signal/", "o", "#bbbbbb", 12, "traffic signal"),
    ("power/microgrid/", "D", SECTOR_COLOURS["power"], 30, "microgrid battery"),
)


def network_segments(region: RegionInfo) -> dict[str, list[tuple[tuple[float, float], tuple[float, float]]]]:
    """Line segments (metres) of each sector's network, read from its native file."""
    import networkx as nx
    import sumolib
    import wntr

    from twin.models.power.netfile import read_net

    segs: dict[str, list[tuple[tuple[float, float], tuple[float, float]]]] = {}
    net = read_net(region.path("power"))
    xy = {}
    for b, geo in net.bus.geo.items():
        if isinstance(geo, str) and geo:
            x, y = json.loads(geo)["coordinates"]
            xy[b] = (float(x), float(y))
    segs["power"] = [
        (xy[a], xy[b]) for a, b in zip(net.line.from_bus, net.line.to_bus, strict=True)
        if a in xy and b in xy
    ]
    wn = wntr.network.WaterNetworkModel(str(region.path("water")))
    segs["water"] = [
        (wn.get_node(link.start_node_name).coordinates, wn.get_node(link.end_node_name).coordinates)
        for _, link in wn.links()
    ]
    roads = sumolib.net.readNet(str(region.path("traffic")))
    segs["traffic"] = [
        (e.getFromNode().getCoord(), e.getToNode().getCoord()) for e in roads.getEdges()
    ]
    g = nx.node_link_graph(json.loads(region.path("ict").read_text()), edges="links")
    segs["ict"] = [
        ((g.nodes[a]["x_m"], g.nodes[a]["y_m"]), (g.nodes[b]["x_m"], g.nodes[b]["y_m"]))
        for a, b in g.edges()
    ]
    return segs


def draw_region(region: RegionInfo, out: Path, title: str | None = None) -> Path:
    """Write a PNG map of the region."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.collections import LineCollection

    fig, ax = plt.subplots(figsize=(11, 8), dpi=110)
    for d in region.districts:
        face = "#fff3d6" if d["kind"] == "village" else "#e8e8f4"
        ax.add_patch(plt.Circle((d["x_m"], d["y_m"]), d["radius_m"], color=face, zorder=0))
        ax.annotate(f"{d['id']}\n{d['population']:,}", (d["x_m"], d["y_m"] + d["radius_m"]),
                    ha="center", va="bottom", fontsize=7, color="#444")
    widths = {"traffic": 0.6, "power": 1.2, "water": 1.0, "ict": 0.8}
    for sector, segs in network_segments(region).items():
        ax.add_collection(LineCollection(segs, colors=SECTOR_COLOURS[sector], linewidths=widths[sector],
                                         alpha=0.8, label=sector, zorder=1))
    by_id = {a["id"]: a for a in region.assets}
    dep_segs = [
        ((by_id[d["consumer"]]["x_m"], by_id[d["consumer"]]["y_m"]),
         (by_id[d["supplier"]]["x_m"], by_id[d["supplier"]]["y_m"]))
        for d in region.dependencies if d["consumer"] in by_id and d["supplier"] in by_id
    ]
    ax.add_collection(LineCollection(dep_segs, colors="#9467bd", linewidths=0.6, linestyles=":",
                                     label="dependency", zorder=2))
    for prefix, marker, colour, size, label in ASSET_MARKERS:
        pts = [a for a in region.assets if a["id"].startswith(prefix)]
        if pts:
            ax.scatter([a["x_m"] for a in pts], [a["y_m"] for a in pts], marker=marker, s=size,
                       color=colour, edgecolors="black", linewidths=0.4, zorder=3, label=label)
    facilities = [a for a in region.assets
                  if a["critical"] and a["sector"] == "power" and a["type"] == "load"]
    ax.scatter([a["x_m"] for a in facilities], [a["y_m"] for a in facilities], marker="*", s=160,
               color="gold", edgecolors="black", linewidths=0.6, zorder=4, label="critical facility")
    for a in facilities:
        ax.annotate(a["id"].rsplit("/", 1)[-1], (a["x_m"], a["y_m"]), xytext=(4, -9),
                    textcoords="offset points", fontsize=6)
    ax.set_aspect("equal")
    ax.autoscale()
    ax.set_xlabel("x (m)")
    ax.set_ylabel("y (m)")
    ax.legend(loc="center left", bbox_to_anchor=(1.01, 0.5), fontsize=8, frameon=False)
    ax.set_title(title or f"region ({region.configuration})")
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.tight_layout()
    fig.savefig(out)
    plt.close(fig)
    return out
