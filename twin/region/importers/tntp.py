"""TNTP road networks (the Transportation Networks for Research repository's format)."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from pathlib import Path

from twin.region.importers.common import RegionImportError, Transform
from twin.region.importers.roads import PlainRoads

SIGNAL_MIN_NEIGHBOURS = 4  # TNTP junctions with this many neighbours get a traffic light
TNTP_COLUMNS = ("init_node", "term_node", "capacity", "length", "free_flow_time", "b",
                "power", "speed", "toll", "link_type")


def _tntp_rows(path: Path, field_name: str) -> tuple[dict[str, str], list[str] | None, list[list[str]]]:
    """(metadata, header columns, data rows) of a TNTP file (``~`` headers, ``;`` line ends)."""
    meta: dict[str, str] = {}
    header: list[str] | None = None
    rows: list[list[str]] = []
    try:
        text = path.read_text()
    except (OSError, UnicodeDecodeError) as err:
        raise RegionImportError(field_name, path, f"cannot read: {err}") from err
    for raw in text.splitlines():
        line = raw.strip()
        if not line:
            continue
        m = re.match(r"<([^>]+)>\s*(.*)", line)
        if m:
            meta[m.group(1).strip().upper()] = m.group(2).strip()
            continue
        if line.startswith("~"):
            header = [c.lower() for c in line.lstrip("~").replace(";", " ").split()]
            continue
        parts = line.rstrip(";").replace(";", " ").split()
        if parts:
            rows.append(parts)
    return meta, header, rows


def read_tntp(link_file: str, node_file: str | None, transform: Transform,
              length_m: float | None) -> tuple[dict[str, tuple[float, float] | None], list[dict]]:
    """TNTP nodes (file coordinates or None) and links (ids, lengths in metres, lanes, speed)."""
    path = Path(link_file)
    if not path.is_file():
        raise RegionImportError("traffic", link_file, "no such file")
    meta, header, rows = _tntp_rows(path, "traffic")
    cols = header or list(TNTP_COLUMNS)
    need = ("init_node", "term_node", "length")
    if any(c not in cols for c in need):
        raise RegionImportError("traffic", link_file, f"link header lacks {[c for c in need if c not in cols]}")
    unit = length_m if length_m is not None else transform.sx
    links = []
    for k, parts in enumerate(rows, start=1):
        if len(parts) < len(need):
            raise RegionImportError("traffic", link_file, f"link row {k} has {len(parts)} columns")
        rec = dict(zip(cols, parts, strict=False))
        try:
            a, b = rec["init_node"], rec["term_node"]
            length = float(rec["length"]) * unit
            cap = float(rec.get("capacity", 0) or 0)
            fft = float(rec.get("free_flow_time", 0) or 0)
        except ValueError as err:
            raise RegionImportError("traffic", link_file, f"link row {k}: {err}") from err
        if length <= 0:
            raise RegionImportError("traffic", link_file, f"link row {k} ({a}->{b}) has length {length}")
        speed = length / (fft * 60.0) if fft > 0 else 13.89  # free-flow time in minutes
        links.append({"a": a, "b": b, "length_m": length, "speed_ms": min(36.1, max(2.78, speed)),
                      "lanes": min(4, max(1, round(cap / 1800.0))) if cap > 0 else 1})
    declared = meta.get("NUMBER OF LINKS")
    if declared is not None and declared.isdigit() and int(declared) != len(links):
        raise RegionImportError("traffic", link_file,
                                f"<NUMBER OF LINKS> says {declared}, the file has {len(links)} links")
    if not links:
        raise RegionImportError("traffic", link_file, "no links")
    nodes: dict[str, tuple[float, float] | None] = {}
    for ln in links:
        nodes.setdefault(ln["a"], None)
        nodes.setdefault(ln["b"], None)
    if node_file:
        npath = Path(node_file)
        if not npath.is_file():
            raise RegionImportError("traffic_nodes", node_file, "no such file")
        _, nheader, nrows = _tntp_rows(npath, "traffic_nodes")
        for k, parts in enumerate(nrows, start=1):
            if parts[0].lower() == "node":
                continue  # a header line without "~"
            try:
                nodes[parts[0]] = transform(float(parts[1]), float(parts[2]))
            except (ValueError, IndexError) as err:
                raise RegionImportError("traffic_nodes", node_file, f"node row {k}: {err}") from err
    return nodes, links


def tntp_plain(nodes: dict[str, tuple[float, float]], links: list[dict]) -> PlainRoads:
    """Plain SUMO XML for TNTP links: one directed edge per link with its own length."""
    neighbours: dict[str, set[str]] = {}
    for ln in links:
        neighbours.setdefault(ln["a"], set()).add(ln["b"])
        neighbours.setdefault(ln["b"], set()).add(ln["a"])
    nod = ET.Element("nodes")
    for n, (x, y) in nodes.items():
        kind = "traffic_light" if len(neighbours.get(n, ())) >= SIGNAL_MIN_NEIGHBOURS else "priority"
        ET.SubElement(nod, "node", id=n, x=f"{x:.2f}", y=f"{y:.2f}", type=kind)
    edg = ET.Element("edges")
    seen: dict[str, int] = {}
    for ln in links:
        eid = f"{ln['a']}-{ln['b']}"
        seen[eid] = seen.get(eid, 0) + 1
        if seen[eid] > 1:
            eid = f"{eid}-{seen[eid]}"
        ET.SubElement(edg, "edge", id=eid, attrib={"from": ln["a"], "to": ln["b"]},
                      numLanes=str(ln["lanes"]), speed=f"{ln['speed_ms']:.2f}",
                      length=f"{ln['length_m']:.2f}")
    return PlainRoads(nod=ET.ElementTree(nod), edg=ET.ElementTree(edg))
