"""TNTP road networks and trip tables, read as the Transportation Networks for Research
repository (github.com/bstabler/TransportationNetworks) publishes them.

Link file (``*_net.tntp``): metadata tags ``<NUMBER OF ZONES>``, ``<NUMBER OF NODES>``,
``<FIRST THRU NODE>``, ``<NUMBER OF LINKS>``, ``<END OF METADATA>``; lines starting with
``~`` are comments, one of them the column header, whose names may hold spaces
(``~ \tInit node \tTerm node \tCapacity \tLength \tFree Flow Time \tB\tPower\tSpeed limit
\tToll \tType\t;``); data rows end with ``;``. A link's id is its 1-based row number (the
repository's and InfraRisk's convention, ``T_L<n>``) unless the header has a ``Link``/``ID``
column. Trip file (``*_trips.tntp``): ``Origin <zone>`` blocks of ``<destination> : <trips>;``.

Each link becomes one directed SUMO edge ``L<id>`` (its own road asset
``traffic/road/L<id>``), so two links between the same nodes stay two roads.
"""

from __future__ import annotations

import logging
import math
import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from pathlib import Path

from twin.region.importers.common import RegionImportError, Transform
from twin.region.importers.roads import PlainRoads

log = logging.getLogger(__name__)

SIGNAL_MIN_NEIGHBOURS = 4  # TNTP junctions with this many neighbours get a traffic light
VEH_PER_LANE_H = 1800.0  # lanes = capacity (veh/h) / this, rounded, 1..MAX_LANES
MAX_LANES = 4
DEFAULT_SPEED_MS = 13.89  # 50 km/h where a link has no free-flow time
TNTP_COLUMNS = ("init_node", "term_node", "capacity", "length", "free_flow_time", "b",
                "power", "speed", "toll", "link_type")
_ALIASES = {"speed_limit": "speed", "type": "link_type", "link": "link_id", "id": "link_id",
            "link_number": "link_id", "init": "init_node", "term": "term_node",
            "fftt": "free_flow_time", "length_(ft)": "length", "length_(mi)": "length"}
EDGE_PREFIX = "L"  # SUMO edge of TNTP link n: "L<n>"


@dataclass
class TntpFile:
    """What a TNTP file holds: metadata tags, the header's columns, data rows, comments."""

    meta: dict[str, str] = field(default_factory=dict)
    header: list[str] | None = None
    rows: list[tuple[int, list[str]]] = field(default_factory=list)  # (line number, values)


def _column(name: str) -> str:
    key = re.sub(r"\s+", "_", name.strip().lower())
    return _ALIASES.get(key, key)


def _header(line: str) -> list[str]:
    """Column names of a ``~`` header line: tab-separated (names may hold spaces), else
    separated by runs of two or more spaces, else by single spaces."""
    body = line.lstrip("~").replace(";", "")
    cells = body.split("\t") if "\t" in body else re.split(r"\s{2,}", body)
    names = [c for c in (c.strip() for c in cells) if c]
    if len(names) <= 1:
        names = body.split()
    return [_column(n) for n in names]


def read_tntp_file(path: Path, field_name: str) -> TntpFile:
    """Metadata, header and rows of a TNTP file (``~`` comments, ``;`` line ends)."""
    try:
        text = path.read_text()
    except (OSError, UnicodeDecodeError) as err:
        raise RegionImportError(field_name, path, f"cannot read: {err}") from err
    out = TntpFile()
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line:
            continue
        m = re.match(r"<([^>]+)>\s*(.*)", line)
        if m:
            out.meta[m.group(1).strip().upper()] = m.group(2).strip()
            continue
        if line.startswith("~"):
            if out.header is None and re.search(r"init[\s_]*node", line, re.IGNORECASE):
                out.header = _header(line)
            continue  # any other "~" line is a comment
        parts = line.split("~", 1)[0].replace(";", " ").split()
        if parts:
            out.rows.append((number, parts))
    return out


def _declared(meta: dict[str, str], tag: str, found: int, what: str, spec: str | Path) -> None:
    """A count tag that disagrees with the file is a warning naming both numbers."""
    value = meta.get(tag)
    if value is None:
        return
    try:
        declared = float(value)
    except ValueError:
        log.warning("%s: <%s> %r is not a number", spec, tag, value)
        return
    if abs(declared - found) > 1e-6 * max(1.0, abs(found)):
        log.warning("%s: <%s> says %s, the file has %s %s", spec, tag, value, _fmt(found), what)


def _fmt(x: float) -> str:
    return str(int(x)) if float(x).is_integer() else f"{x:g}"


def read_tntp(link_file: str, node_file: str | None, transform: Transform,
              length_m: float | None) -> tuple[dict[str, tuple[float, float] | None], list[dict]]:
    """TNTP nodes (frame coordinates, or None without a node file) and links: ``id``, ``a``,
    ``b``, ``length_m``, ``speed_ms`` (length over free-flow time in minutes), ``lanes``
    (capacity at ``VEH_PER_LANE_H``), ``zone_only`` (``a`` or ``b`` below ``<FIRST THRU NODE>``)."""
    path = Path(link_file)
    if not path.is_file():
        raise RegionImportError("traffic", link_file, "no such file")
    tf = read_tntp_file(path, "traffic")
    cols = tf.header or list(TNTP_COLUMNS)
    need = ("init_node", "term_node", "length")
    if any(c not in cols for c in need):
        raise RegionImportError("traffic", link_file,
                                f"link header {cols} lacks {[c for c in need if c not in cols]}")
    unit = length_m if length_m is not None else transform.sx
    links: list[dict] = []
    for k, (line, parts) in enumerate(tf.rows, start=1):
        if len(parts) < len(need):
            raise RegionImportError("traffic", link_file, f"line {line}: {len(parts)} columns")
        rec = dict(zip(cols, parts, strict=False))
        if any(c not in rec for c in need):
            raise RegionImportError("traffic", link_file, f"line {line}: {len(parts)} columns, no "
                                    f"{[c for c in need if c not in rec]}")
        a, b = rec["init_node"], rec["term_node"]
        length = _number(rec, "length", link_file, line) * unit
        cap = _number(rec, "capacity", link_file, line)
        fft = _number(rec, "free_flow_time", link_file, line)
        if length <= 0:
            raise RegionImportError("traffic", link_file, f"line {line} ({a}->{b}) has length {length}")
        speed = length / (fft * 60.0) if fft > 0 else DEFAULT_SPEED_MS
        links.append({"id": str(rec.get("link_id", k)), "a": a, "b": b, "length_m": length,
                      "speed_ms": min(36.1, max(2.78, speed)),
                      "lanes": min(MAX_LANES, max(1, round(cap / VEH_PER_LANE_H))) if cap > 0 else 1})
    if not links:
        raise RegionImportError("traffic", link_file, "no links")
    ids = [ln["id"] for ln in links]
    if len(set(ids)) != len(ids):
        raise RegionImportError("traffic", link_file, f"repeated link ids {sorted({i for i in ids if ids.count(i) > 1})[:5]}")
    _declared(tf.meta, "NUMBER OF LINKS", len(links), "links", link_file)
    nodes: dict[str, tuple[float, float] | None] = {}
    for ln in links:
        nodes.setdefault(ln["a"], None)
        nodes.setdefault(ln["b"], None)
    _declared(tf.meta, "NUMBER OF NODES", len(nodes), "nodes", link_file)
    first_thru = _first_thru(tf.meta)
    for ln in links:
        ln["zone_only"] = _is_zone(ln["a"], first_thru) or _is_zone(ln["b"], first_thru)
    if node_file:
        npath = Path(node_file)
        if not npath.is_file():
            raise RegionImportError("traffic_nodes", node_file, "no such file")
        for line, parts in read_tntp_file(npath, "traffic_nodes").rows:
            if parts[0].lower() == "node":
                continue  # a header line without "~"
            if len(parts) < 3:
                raise RegionImportError("traffic_nodes", node_file, f"line {line}: {len(parts)} columns, "
                                        "expected node, x, y")
            try:
                nodes[parts[0]] = transform(float(parts[1]), float(parts[2]))
            except ValueError as err:
                raise RegionImportError("traffic_nodes", node_file, f"line {line}: node {parts[0]}: x {parts[1]!r} "
                                        f"or y {parts[2]!r} is not a number") from err
    return nodes, links


def _number(rec: dict[str, str], column: str, link_file: str, line: int) -> float:
    """The finite number in ``column`` of a link row (0 when the column is absent or empty)."""
    text = rec.get(column, "") or "0"
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not math.isfinite(value):
        raise RegionImportError("traffic", link_file, f"line {line}: {column} {text!r} is not a finite number")
    return value


def _first_thru(meta: dict[str, str]) -> int:
    try:
        return int(float(meta.get("FIRST THRU NODE", "1")))
    except ValueError:
        return 1


def _is_zone(node: str, first_thru: int) -> bool:
    """A node numbered below ``<FIRST THRU NODE>`` is a zone centroid: trips start and end
    there, nothing drives through it."""
    return node.isdigit() and int(node) < first_thru


def first_thru_node(link_file: str) -> int:
    return _first_thru(read_tntp_file(Path(link_file), "traffic").meta)


def tntp_plain(nodes: dict[str, tuple[float, float]], links: list[dict],
               first_thru: int = 1) -> PlainRoads:
    """Plain SUMO XML for TNTP links: one directed edge ``L<id>`` per link with its own
    length; at a zone centroid (below ``first_thru``) every through movement is deleted."""
    neighbours: dict[str, set[str]] = {}
    for ln in links:
        neighbours.setdefault(ln["a"], set()).add(ln["b"])
        neighbours.setdefault(ln["b"], set()).add(ln["a"])
    nod = ET.Element("nodes")
    for n, (x, y) in nodes.items():
        signal = len(neighbours.get(n, ())) >= SIGNAL_MIN_NEIGHBOURS and not _is_zone(n, first_thru)
        ET.SubElement(nod, "node", id=n, x=f"{x:.2f}", y=f"{y:.2f}",
                      type="traffic_light" if signal else "priority")
    edg = ET.Element("edges")
    for ln in links:
        ET.SubElement(edg, "edge", id=f"{EDGE_PREFIX}{ln['id']}", attrib={"from": ln["a"], "to": ln["b"]},
                      numLanes=str(ln["lanes"]), speed=f"{ln['speed_ms']:.2f}",
                      length=f"{ln['length_m']:.2f}")
    con = None
    zones = {n for n in nodes if _is_zone(n, first_thru)}
    if zones:
        con = ET.Element("connections")
        for z in sorted(zones):
            for i in (ln for ln in links if ln["b"] == z):
                for o in (ln for ln in links if ln["a"] == z):
                    ET.SubElement(con, "delete", attrib={"from": f"{EDGE_PREFIX}{i['id']}",
                                                         "to": f"{EDGE_PREFIX}{o['id']}"})
    return PlainRoads(nod=ET.ElementTree(nod), edg=ET.ElementTree(edg),
                      con=ET.ElementTree(con) if con is not None else None)


def read_trips(trips_file: str, zones: set[str]) -> list[tuple[str, str, float]]:
    """(origin zone, destination zone, trips) of a TNTP trip table, zero entries and
    ``o == d`` dropped. ``<TOTAL OD FLOW>`` and ``<NUMBER OF ZONES>`` that disagree with the
    table are warnings naming both numbers; a zone that is not a node is an error."""
    path = Path(trips_file)
    if not path.is_file():
        raise RegionImportError("traffic_trips", trips_file, "no such file")
    try:
        text = path.read_text()
    except (OSError, UnicodeDecodeError) as err:
        raise RegionImportError("traffic_trips", trips_file, f"cannot read: {err}") from err
    meta: dict[str, str] = {}
    origin: str | None = None
    od: list[tuple[str, str, float]] = []
    total = 0.0
    seen: set[str] = set()
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.split("~", 1)[0].strip()
        if not line:
            continue
        m = re.match(r"<([^>]+)>\s*(.*)", line)
        if m:
            meta[m.group(1).strip().upper()] = m.group(2).strip()
            continue
        m = re.match(r"origin\s+(\S+)", line, re.IGNORECASE)
        if m:
            origin = m.group(1)
            seen.add(origin)
            continue
        pairs = re.findall(r"(\S+)\s*:\s*([-+0-9.eE]+)", line)
        if not pairs:
            raise RegionImportError("traffic_trips", trips_file, f"line {number}: expected '<zone> : <trips>;'")
        if origin is None:
            raise RegionImportError("traffic_trips", trips_file, f"line {number}: trips before any 'Origin'")
        for dest, value in pairs:
            trips = float(value)
            if trips < 0:
                raise RegionImportError("traffic_trips", trips_file, f"line {number}: negative trips {value}")
            total += trips
            seen.add(dest)
            if trips > 0 and dest != origin:
                od.append((origin, dest, trips))
    unknown = sorted(seen - zones, key=lambda z: (len(z), z))
    if unknown:
        raise RegionImportError("traffic_trips", trips_file, f"zones that are not nodes of the road network: {unknown}")
    _declared(meta, "TOTAL OD FLOW", total, "trips", trips_file)
    _declared(meta, "NUMBER OF ZONES", len(seen), "zones", trips_file)
    return od


def trip_table(trips_file: str, links: list[dict], district_of_node: dict[str, str],
               period: str) -> dict:
    """The trip table the traffic model reads (``twin.models.traffic.demand.TableDemand``):
    per zone its district and the edges leaving (``depart``) and entering (``arrive``) it."""
    zones: dict[str, dict] = {}
    for n, d in district_of_node.items():
        zones[n] = {"district": d, "depart": [], "arrive": []}
    for ln in links:
        zones[ln["a"]]["depart"].append(f"{EDGE_PREFIX}{ln['id']}")
        zones[ln["b"]]["arrive"].append(f"{EDGE_PREFIX}{ln['id']}")
    od = read_trips(trips_file, set(zones))
    used = {z for o, d, _ in od for z in (o, d)}
    return {"source": str(trips_file), "period": period, "od": [list(r) for r in od],
            "zones": {z: v for z, v in zones.items() if z in used}}
