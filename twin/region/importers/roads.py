"""Road networks as netconvert plain XML: a SUMO net read, moved into the common frame and
its junctions renamed by district, written back with netconvert; the road and signal assets."""

from __future__ import annotations

import os
import subprocess
import xml.etree.ElementTree as ET
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from twin.region.assets import Asset, make_asset
from twin.region.importers.common import RegionImportError, Transform, layout_positions

NETCONVERT_IMPORT_OPTIONS: tuple[str, ...] = (
    "--offset.disable-normalization", "true",
    "--geometry.remove", "false",
    "--junctions.join", "false",
    "--tls.guess", "false",
    "--tls.default-type", "actuated",
    "--no-turnarounds.tls", "true",
    "--write-metadata", "false",
    "--xml-validation", "never",
    "--no-warnings", "true",
)



@dataclass
class PlainRoads:
    """A road network as netconvert plain XML trees (nodes, edges, connections, signals)."""

    nod: ET.ElementTree
    edg: ET.ElementTree
    con: ET.ElementTree | None = None
    tll: ET.ElementTree | None = None
    typ: ET.ElementTree | None = None

    def node_xy(self) -> dict[str, tuple[float, float]]:
        return {n.get("id"): (float(n.get("x")), float(n.get("y"))) for n in self.nod.getroot().iter("node")}

    def edge_pairs(self) -> list[tuple[str, str]]:
        return [(e.get("from"), e.get("to")) for e in self.edg.getroot().iter("edge")]


def _sumo_home() -> Path:
    from twin.models.traffic.build import sumo_home

    return sumo_home()


def _netconvert(args: list[str], field_name: str, spec: str) -> None:
    from twin.models.traffic.build import sumo_binary

    cmd = [str(sumo_binary("netconvert")), *args]
    env = {**os.environ, "SUMO_HOME": str(_sumo_home())}
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env, check=False)
    if proc.returncode != 0:
        errors = [ln.strip() for ln in proc.stderr.splitlines() if ln.strip().startswith("Error")]
        errors = [e for e in errors if "Quitting" not in e] or [proc.stderr.strip()[-300:]]
        more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
        raise RegionImportError(field_name, spec, f"netconvert failed: {errors[0][:300]}{more}")


def read_sumo_plain(spec: str, work: Path) -> PlainRoads:
    """A SUMO net as plain XML (netconvert ``--plain-output-prefix``), to rename and move it."""
    path = Path(spec)
    if not path.is_file():
        raise RegionImportError("traffic", spec, "no such file")
    try:
        ET.parse(path)
    except ET.ParseError as err:
        raise RegionImportError("traffic", spec, f"not valid XML: {err}") from err
    prefix = work / "plain"
    _netconvert(["-s", str(path), "--plain-output-prefix", str(prefix),
                 "--offset.disable-normalization", "true", "--no-warnings", "true"], "traffic", spec)

    def tree(ext: str) -> ET.ElementTree | None:
        f = Path(f"{prefix}.{ext}.xml")
        return ET.parse(f) if f.is_file() else None

    nod, edg = tree("nod"), tree("edg")
    if nod is None or edg is None or not list(edg.getroot().iter("edge")):
        raise RegionImportError("traffic", spec, "the SUMO network has no edges")
    return PlainRoads(nod=nod, edg=edg, con=tree("con"), tll=tree("tll"), typ=tree("typ"))


def place_roads(plain: PlainRoads, known: dict[str, tuple[float, float]], transform: Transform,
                spec: str) -> None:
    """Set every plain node's position in the common frame (laid out where missing)."""
    pos = layout_positions(list(plain.node_xy()), plain.edge_pairs(), known, f"traffic ({spec})",
                           (transform.ox, transform.oy))
    for n in plain.nod.getroot().iter("node"):
        x, y = pos[n.get("id")]
        n.set("x", f"{x:.2f}")
        n.set("y", f"{y:.2f}")


def transform_sumo_shapes(plain: PlainRoads, transform: Transform) -> None:
    """Move edge shapes and custom lengths of a plain SUMO net into the common frame."""
    for n in plain.nod.getroot().iter("node"):
        if n.get("shape"):
            n.attrib.pop("shape")  # netconvert recomputes junction shapes
    for loc in list(plain.nod.getroot().iter("location")):
        plain.nod.getroot().remove(loc)
    for e in plain.edg.getroot().iter("edge"):
        for el in (e, *e.iter("lane")):
            shape = el.get("shape")
            if shape:
                pts = [transform(*map(float, p.split(",")[:2])) for p in shape.split()]
                el.set("shape", " ".join(f"{x:.2f},{y:.2f}" for x, y in pts))
            if el.get("length"):
                el.set("length", f"{float(el.get('length')) * transform.sx:.2f}")


def rename_junctions(plain: PlainRoads, district_of: Callable[[float, float], str]) -> dict[str, str]:
    """Prefix every junction (and its traffic light) with its district: ``<district>_<id>``."""
    xy = plain.node_xy()
    new = {n: f"{district_of(*p)}_{n}" for n, p in xy.items()}
    tls_new: dict[str, str] = {}
    for n in plain.nod.getroot().iter("node"):
        tl = n.get("tl")
        if tl:
            tls_new.setdefault(tl, f"{district_of(*xy[n.get('id')])}_{tl}")
            n.set("tl", tls_new[tl])
        elif n.get("type", "").startswith("traffic_light"):
            tls_new.setdefault(n.get("id"), new[n.get("id")])
        n.set("id", new[n.get("id")])
    edge_new: dict[str, str] = {}
    for e in plain.edg.getroot().iter("edge"):
        a, b, eid = e.get("from"), e.get("to"), e.get("id")
        if eid == f"{a}-{b}" or eid.startswith(f"{a}-{b}-"):  # "a-b" names follow their nodes
            edge_new[eid] = f"{new[a]}-{new[b]}{eid[len(a) + len(b) + 1:]}"
            e.set("id", edge_new[eid])
        e.set("from", new[a])
        e.set("to", new[b])
    for r in plain.edg.getroot().iter("roundabout"):
        r.set("nodes", " ".join(new.get(x, x) for x in r.get("nodes", "").split()))
        r.set("edges", " ".join(edge_new.get(x, x) for x in r.get("edges", "").split()))
    for tree in (plain.tll, plain.con):
        if tree is None:
            continue
        for el in tree.getroot().iter():
            if el.tag in ("connection", "delete", "prohibition"):
                for attr in ("from", "to"):
                    if el.get(attr) in edge_new:
                        el.set(attr, edge_new[el.get(attr)])
            if el.tag == "tlLogic" and el.get("id") in tls_new:
                el.set("id", tls_new[el.get("id")])
            if el.get("tl") in tls_new:
                el.set("tl", tls_new[el.get("tl")])
            if el.tag == "crossing" and el.get("node") in new:
                el.set("node", new[el.get("node")])
    return tls_new


def write_roads(plain: PlainRoads, out: Path, work: Path, field_name: str, spec: str) -> None:
    """netconvert the plain files into ``roads.net.xml`` (comment header dropped: byte-stable)."""
    args = []
    for flag, tree, ext in (("-n", plain.nod, "nod"), ("-e", plain.edg, "edg"), ("-x", plain.con, "con"),
                            ("-i", plain.tll, "tll"), ("-t", plain.typ, "typ")):
        if tree is None:
            continue
        f = work / f"twin.{ext}.xml"
        tree.write(f, encoding="UTF-8", xml_declaration=True)
        args += [flag, str(f)]
    _netconvert([*args, "-o", str(out), *NETCONVERT_IMPORT_OPTIONS], field_name, spec)
    text = out.read_text()
    start, net_at = text.find("<!--"), text.find("<net")
    if start != -1 and start < net_at:
        end = text.find("-->", start)
        text = text[:start] + text[end + 3:].lstrip("\n")
        out.write_text(text)


def traffic_assets(net_file: Path, tls_nodes: dict[str, list[tuple[float, float]]]) -> list[Asset]:
    """Signal and road assets of the written net (ids by the traffic sector's naming)."""
    from twin.models.traffic.build import SIGNAL_P_MW
    from twin.models.traffic.network import RoadNetwork, node_district

    roads = RoadNetwork.read(net_file)
    assets: list[Asset] = []
    for tls in roads.signals:
        pts = tls_nodes.get(tls) or ([roads.nodes[tls]] if tls in roads.nodes else [(0.0, 0.0)])
        x, y = float(np.mean([p[0] for p in pts])), float(np.mean([p[1] for p in pts]))
        assets.append(make_asset(f"traffic/signal/{tls}", "traffic", "signal", x, y, node_district(tls),
                                 capacity=1.0, capacity_unit="junction", needs_power=True,
                                 p_mw=SIGNAL_P_MW, needs_ict=True))
    for road in sorted({roads.road_of(e) for e in roads.edges}):
        x, y = roads.midpoint(road)
        assets.append(make_asset(f"traffic/road/{road}", "traffic", "road", x, y,
                                 roads.district_of_edge(road), capacity=round(roads.edges[road].length_m, 1),
                                 capacity_unit="length_m"))
    return assets
