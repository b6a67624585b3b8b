"""Assemble an imported region: read every file, split districts, couple, write the folder."""

from __future__ import annotations

import hashlib
import json
import logging
import tempfile
from importlib import import_module
from pathlib import Path

from twin.config import SHIPPED_POWER_PREFIX, SHIPPED_WATER_PREFIX, RegionFiles
from twin.models.traffic.demand import DEMAND_FILE
from twin.region.assets import SECTOR_FILES, Asset, RegionInfo
from twin.region.builder import cached_region, coupled_loads, write_region_file
from twin.region.importers.common import RegionImportError, Transform, layout_positions
from twin.region.importers.dependencies import couple, read_dependencies
from twin.region.importers.districts import facilities_for, make_districts, nearest_of
from twin.region.importers.ict import read_ict
from twin.region.importers.power import (
    bus_districts,
    drive_motors,
    import_power,
    load_households,
    power_assets,
)
from twin.region.importers.roads import (
    PlainRoads,
    place_roads,
    read_sumo_plain,
    rename_junctions,
    traffic_assets,
    transform_sumo_shapes,
    write_roads,
)
from twin.region.importers.tntp import first_thru_node, read_tntp, tntp_plain, trip_table
from twin.region.importers.water import import_water, reimport_water, water_source
from twin.region.layout import PERSONS_PER_HOUSEHOLD, Layout
from twin.region.params import ConfigurationParams
from twin.region.transforms import transform_power
from twin.region.transforms_water import transform_water

log = logging.getLogger(__name__)

# Bump when the importer changes what it writes, so cached imported regions are rebuilt.
IMPORTER_VERSION = "6"  # 6: backup generators as assets; 5: configuration transforms; 4: TNTP ids, trip tables, motors
FILE_KEYS = ("power", "water", "traffic", "traffic_nodes", "traffic_trips", "ict", "dependencies")


def read_traffic(files: RegionFiles, transform: Transform, work: Path) -> tuple[PlainRoads, str, list[dict]]:
    """The road network as plain XML in the common frame (TNTP converted, SUMO moved), and
    the TNTP links (empty for a SUMO net)."""
    spec = files.traffic
    if spec.lower().endswith(".tntp"):
        nodes, links = read_tntp(spec, files.traffic_nodes, transform, files.tntp_length_m)
        known = {n: p for n, p in nodes.items() if p is not None}
        pos = layout_positions(list(nodes), [(ln["a"], ln["b"]) for ln in links], known,
                               f"traffic ({spec})", (transform.ox, transform.oy))
        return tntp_plain(pos, links, first_thru_node(spec)), spec, links
    plain = read_sumo_plain(spec, work)
    known = {n: transform(*p) for n, p in plain.node_xy().items()}
    transform_sumo_shapes(plain, transform)
    place_roads(plain, known, transform, spec)
    return plain, spec, []


def _spec_bytes(spec: str | None) -> bytes:
    """What a file entry hashes to: its content, or the reference and the package version."""
    if spec is None:
        return b"-"
    if spec.startswith(SHIPPED_POWER_PREFIX):
        import importlib.metadata as md

        return f"{spec}@{md.version('pandapower')}".encode()
    if spec.startswith(SHIPPED_WATER_PREFIX):
        return water_source(spec).read_bytes()
    try:
        return Path(spec).read_bytes()
    except OSError:
        return f"missing:{spec}".encode()


def import_key(files: RegionFiles, configuration: str, params: ConfigurationParams, seed: int) -> str:
    """Cache key: hash of the file contents, transforms, options, configuration and params."""
    h = hashlib.sha256()
    for key in FILE_KEYS:
        h.update(key.encode())
        h.update(hashlib.sha256(_spec_bytes(getattr(files, key))).digest())
    h.update(json.dumps({
        "options": files.model_dump(mode="json", exclude=set(FILE_KEYS)),
        "configuration": configuration, "params": params.model_dump(), "seed": seed,
        "importer": IMPORTER_VERSION,
    }, sort_keys=True).encode())
    return "import-" + h.hexdigest()[:16]


def import_region_into(
    out_dir: Path, files: RegionFiles, configuration: str, params: ConfigurationParams, seed: int = 1,
) -> RegionInfo:
    """Turn the files into a built region folder (docs/architecture.md, "Built region")."""
    import pandapower as pp

    from twin.models.ict.build import build_graph, graph_assets, write_graph
    from twin.models.water.build import generator_assets

    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    tf = {s: Transform.of(files.transforms.get(s)) for s in ("power", "water", "traffic", "ict")}  # type: ignore[call-overload]
    with tempfile.TemporaryDirectory(prefix="twin-import-") as tmp:
        work = Path(tmp)
        power = import_power(files.power, tf["power"])
        water_assets = import_water(files.water, tf["water"], out_dir, work)
        plain, tspec, tntp_links = read_traffic(files, tf["traffic"], work)

        # districts over the demand points of all networks
        net = power.net
        demand = [(*power.bus_xy[int(net.load.at[i, "bus"])], load_households(net, int(i)) * PERSONS_PER_HOUSEHOLD)
                  for i in net.load.index]
        if not demand or sum(p for *_, p in demand) <= 0:
            demand = [(a["x_m"], a["y_m"], float(a["customers"])) for a in water_assets
                      if a["type"] == "junction"]
        demand += [(x, y, 0.0) for x, y in plain.node_xy().values()]
        districts, centres = make_districts(demand, files.districts)
        district_of = nearest_of(centres, [d.id for d in districts])

        assets: list[Asset] = power_assets(power, district_of)
        assets += transform_power(net, assets, districts, params)
        wells_tanks = transform_water(out_dir / SECTOR_FILES["water"], work, districts, district_of, params)
        if wells_tanks is not None:
            water_assets = reimport_water(wells_tanks, out_dir, files.water)
        for a in water_assets:
            a["district"] = district_of(a["x_m"], a["y_m"])
        water_assets += generator_assets(water_assets, params)
        assets += water_assets

        node_district = {n: district_of(*xy) for n, xy in plain.node_xy().items()}
        rename_junctions(plain, district_of)
        tls_nodes: dict[str, list[tuple[float, float]]] = {}
        for n in plain.nod.getroot().iter("node"):
            tl = n.get("tl") or (n.get("id") if n.get("type", "").startswith("traffic_light") else None)
            if tl:
                tls_nodes.setdefault(tl, []).append((float(n.get("x")), float(n.get("y"))))
        write_roads(plain, out_dir / SECTOR_FILES["traffic"], work, "traffic", tspec)
        assets += traffic_assets(out_dir / SECTOR_FILES["traffic"], tls_nodes)
        if files.traffic_trips:
            table = trip_table(files.traffic_trips, tntp_links, node_district, files.traffic_trips_period)
            (out_dir / DEMAND_FILE).write_text(json.dumps(table, indent=1, sort_keys=True))

        layout = Layout(size="imported", seed=seed, districts=tuple(districts),
                        facilities=facilities_for(districts, assets, water_assets))
        parents = {d.id: d.parent for d in districts}
        if files.ict:
            graph = read_ict(files.ict, tf["ict"], district_of, params, configuration, parents)
        else:
            log.info("no ICT file: generating the ICT network over the imported region")
            graph = build_graph(layout, params, configuration)
        write_graph(graph, out_dir / SECTOR_FILES["ict"])
        assets += graph_assets(graph)

        ids = [a["id"] for a in assets]
        if len(ids) != len(set(ids)):
            dup = sorted({i for i in ids if ids.count(i) > 1})
            raise RegionImportError("power", files.power, f"duplicate asset ids {dup[:5]}")
        given = read_dependencies(files.dependencies, assets) if files.dependencies else []
        try:
            deps, drives = drive_motors(net, assets, couple(assets, given))
        except ValueError as err:
            raise RegionImportError("dependencies", files.dependencies or "", str(err)) from err
        pp.to_json(net, str(out_dir / SECTOR_FILES["power"]))
        import_module("twin.models.power.build").add_coupled_loads(out_dir, coupled_loads(assets, deps))
        bus_districts(out_dir, assets)
        return write_region_file(out_dir, configuration, params, layout, assets, deps,
                                 source=files.model_dump(mode="json"), drives=drives)


def import_region(
    files: RegionFiles, configuration: str, params: ConfigurationParams, cache_dir: Path, seed: int = 1,
) -> RegionInfo:
    """The imported region for these files, from the cache or built now (atomically)."""
    return cached_region(
        Path(cache_dir) / import_key(files, configuration, params, seed),
        lambda folder: import_region_into(folder, files, configuration, params, seed),
    )
