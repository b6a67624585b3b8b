"""Water networks: EPANET INP (or ``wntr:<name>``) through the water sector's INP importer,
moved into the common frame."""

from __future__ import annotations

from pathlib import Path

from twin.config import SHIPPED_WATER_PREFIX
from twin.region.assets import Asset
from twin.region.importers.common import RegionImportError, Transform, layout_positions


def water_source(spec: str) -> Path:
    """The INP file behind a ``water`` entry (``wntr:Net3`` is shipped with wntr)."""
    from twin.models.water.importer import InpImportError, shipped_inp

    if spec.startswith(SHIPPED_WATER_PREFIX):
        try:
            return shipped_inp(spec[len(SHIPPED_WATER_PREFIX):])
        except InpImportError as err:
            raise RegionImportError("water", spec, str(err)) from err
    path = Path(spec)
    if not path.is_file():
        raise RegionImportError("water", spec, "no such file")
    return path


# Numeric fields of INP sections (0-based positions after the id) and the links' sections.
INP_NUMBERS: dict[str, dict[int, str]] = {
    "JUNCTIONS": {1: "elevation", 2: "demand"}, "RESERVOIRS": {1: "head"},
    "TANKS": {1: "elevation", 2: "initial level", 3: "minimum level", 4: "maximum level", 5: "diameter"},
    "PIPES": {3: "length", 4: "diameter", 5: "roughness"},
}
INP_NODES = ("JUNCTIONS", "RESERVOIRS", "TANKS")
INP_LINKS = ("PIPES", "PUMPS", "VALVES")


def inp_problem(path: Path) -> str | None:
    """The first problem of an INP file that EPANET would report without naming it: bytes
    that are not UTF-8, a field that is not a number, a link to a node no section defines,
    no nodes at all. ``[SECTION] line N: ...``."""
    try:
        text = path.read_bytes().decode("utf-8")
    except UnicodeDecodeError as err:
        return f"not UTF-8 text (byte {err.start}); save it as UTF-8"
    section, nodes, links = "", set(), []
    for n, raw in enumerate(text.splitlines(), start=1):
        line = raw.split(";")[0].strip()
        if not line:
            continue
        if line.startswith("["):
            section = line.strip("[] ").upper()
            continue
        parts = line.split()
        if section in INP_NODES:
            nodes.add(parts[0])
        for i, name in INP_NUMBERS.get(section, {}).items():
            if i < len(parts):
                try:
                    float(parts[i])
                except ValueError:
                    return f"[{section}] line {n}: {parts[0]} {name} {parts[i]!r} is not a number"
        if section in INP_LINKS and len(parts) >= 3:
            links.append((section, n, parts))
    for section, n, parts in links:
        for end in parts[1:3]:
            if end not in nodes:
                return (f"[{section}] line {n}: {parts[0]} ends at {end!r}, which no [JUNCTIONS], "
                        "[RESERVOIRS] or [TANKS] line defines")
    if not nodes:
        return "no nodes: [JUNCTIONS], [RESERVOIRS] and [TANKS] are empty or missing"
    return None


def import_water(spec: str, transform: Transform, out_dir: Path, work: Path) -> list[Asset]:
    """Write ``water.inp`` through the water sector's INP importer, in the common frame."""
    import wntr

    from twin.models.water.importer import InpImportError, import_inp

    src = water_source(spec)
    problem = inp_problem(src)
    if problem:
        raise RegionImportError("water", spec, problem)
    try:
        wn = wntr.network.WaterNetworkModel(str(src))
    except Exception as err:  # wntr raises many types for bad files
        raise RegionImportError("water", spec, f"not a readable EPANET network: {err}") from err
    coords = {n: wn.get_node(n).coordinates for n in wn.node_name_list}
    given = {n: (float(c[0]), float(c[1])) for n, c in coords.items() if c is not None}
    if len(set(given.values())) <= 1 and len(coords) > 1:
        given = {}  # all at one point: EPANET's default when [COORDINATES] is missing
    known = {n: transform(*c) for n, c in given.items()}
    edges = [(link.start_node_name, link.end_node_name) for _, link in wn.links()]
    pos = layout_positions(list(coords), edges, known, f"water ({spec})", (transform.ox, transform.oy))
    if not transform.identity or len(known) < len(coords):
        for n, (x, y) in pos.items():
            wn.get_node(n).coordinates = (x, y)
        for _, link in wn.links():  # vertices would keep the file's frame
            link.vertices = [transform(*v) for v in link.vertices] if known else []
        src = work / "water-frame.inp"
        wntr.network.write_inpfile(wn, str(src), version=2.2)
    try:
        return import_inp(src, out_dir, district="")
    except InpImportError as err:
        raise RegionImportError("water", spec, str(err)) from err


def reimport_water(src: Path, out_dir: Path, spec: str) -> list[Asset]:
    """Write ``water.inp`` again from a transformed network (twin/region/transforms_water.py)."""
    from twin.models.water.importer import InpImportError, import_inp

    try:
        return import_inp(src, out_dir, district="")
    except InpImportError as err:
        raise RegionImportError("water", spec, str(err)) from err
