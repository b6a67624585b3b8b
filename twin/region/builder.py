"""Build a region folder: layout, four sector networks, dependency map and cost proxy.

Built regions are cached by the hash of what they are built from, so a sweep or a second
run reuses them (building the SUMO net and the pandapower net takes seconds).
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
from collections.abc import Callable
from importlib import import_module
from pathlib import Path

import numpy as np

from twin.region.assets import REGION_FILE, Asset, Dependency, RegionInfo, load_region
from twin.region.layout import Layout, make_layout
from twin.region.params import ConfigurationParams

SECTOR_ORDER: tuple[str, ...] = ("power", "water", "traffic", "ict")
# Bump when a builder changes what it writes, so cached regions are rebuilt.
BUILDER_VERSION = "6"  # 2: assets carry `underground`; 3: buses count their customers; 4: lines carry `length_km`; 5: generators, N-1 trafos, core ICT backup; 6: region.grid (SimBench)


class RegionBuildError(RuntimeError):
    """A sector builder failed or produced an inconsistent region."""


def _nearest(points: np.ndarray, candidates: np.ndarray) -> np.ndarray:
    """Index of the nearest candidate for each point (Euclidean, metres)."""
    d2 = ((points[:, None, :] - candidates[None, :, :]) ** 2).sum(axis=2)
    return np.argmin(d2, axis=1)


def map_dependencies(assets: list[Asset]) -> list[Dependency]:
    """Couple by proximity: powered assets to the nearest load bus, endpoints to the nearest
    ICT access site. Ties go to the first candidate in id order (deterministic)."""
    deps: list[Dependency] = []

    def couple(consumers: list[Asset], suppliers: list[Asset], source: str) -> None:
        if not consumers:
            return
        if not suppliers:
            raise RegionBuildError(f"no {source} supplier for {len(consumers)} assets")
        suppliers = sorted(suppliers, key=lambda a: a["id"])
        idx = _nearest(
            np.array([[a["x_m"], a["y_m"]] for a in consumers]),
            np.array([[a["x_m"], a["y_m"]] for a in suppliers]),
        )
        for a, i in zip(consumers, idx, strict=True):
            deps.append(
                Dependency(consumer=a["id"], supplier=suppliers[i]["id"],
                           coupling=f"{source}->{a['sector']}")
            )

    buses = [a for a in assets if a["id"].startswith("power/bus/") and a["capacity_unit"] == "load_bus"]
    sites = [a for a in assets if a["id"].startswith("ict/site/") and a["capacity_unit"] == "access"]
    couple([a for a in assets if a["needs_power"] and a["sector"] != "power"], buses, "power")
    couple([a for a in assets if a["needs_ict"]], sites, "ict")
    return deps


def coupled_loads(assets: list[Asset], deps: list[Dependency]) -> list[tuple[str, str, float, bool]]:
    """One grid load per powered consumer. Pumps and ICT sites count as critical loads."""
    by_id = {a["id"]: a for a in assets}
    out = []
    for d in deps:
        if not d["coupling"].startswith("power->"):
            continue
        a = by_id[d["consumer"]]
        critical = a["critical"] or a["sector"] in ("water", "ict")
        out.append((a["id"], d["supplier"], a["p_mw"], critical))
    return out


def road_length_m(net_xml: Path) -> float:
    """Sum of the road edges' lengths (m) of a SUMO network: what
    ``sum(e.getLength() for e in sumolib.net.readNet(net_xml).getEdges())`` gives (normal
    edges, no ``function``; an edge's length is its first lane's), in the same order, from
    one streaming pass instead of sumolib's whole network model (2.7 s of the city's build)."""
    import xml.etree.ElementTree as ET

    total = 0.0
    edge_normal, first_lane = False, False
    for event, el in ET.iterparse(str(net_xml), events=("start", "end")):
        if event == "start":
            if el.tag == "edge":
                edge_normal, first_lane = el.get("function", "") == "", True
            elif el.tag == "lane" and edge_normal and first_lane:
                total += float(el.get("length"))
                first_lane = False
        elif el.tag in ("edge", "junction", "connection"):
            edge_normal = False
            el.clear()
    return total


def cost_proxy(root: Path, assets: list[Asset]) -> dict[str, float]:
    """What a configuration costs in network length and assets (a proxy, not money)."""
    import wntr

    from twin.models.power.netfile import read_net

    net = read_net(root / "power.json")
    wn = wntr.network.WaterNetworkModel(str(root / "water.inp"))
    cap = {}
    for a in assets:
        key = f"{a['sector']}/{a['type']}|{a['capacity_unit']}"
        cap[key] = cap.get(key, 0.0) + a["capacity"]
    return {
        "line_km": float(net.line.length_km.sum()),
        "pipe_km": float(sum(p.length for _, p in wn.pipes()) / 1000.0),
        "road_km": road_length_m(root / "roads.net.xml") / 1000.0,
        "pv_mw": float(net.sgen.loc[net.sgen.name.str.startswith("power/pv/"), "p_mw"].sum()),
        "battery_mwh": float(net.storage.max_e_mwh.sum()) if len(net.storage) else 0.0,
        "wells": float(sum(1 for a in assets if a["id"].startswith("water/well/"))),
        "pumps": float(len(wn.pump_name_list)),
        "tanks": float(len(wn.tank_name_list)),
        "ict_sites": float(sum(1 for a in assets if a["id"].startswith("ict/site/"))),
        "backup_h_total": float(
            sum(a["capacity"] for a in assets if a["capacity_unit"] == "backup_h")
        ),
    }


def build_region_into(
    out_dir: Path, layout: Layout, configuration: str, params: ConfigurationParams
) -> RegionInfo:
    """Run the four sector builders into ``out_dir`` and write region.json."""
    out_dir.mkdir(parents=True, exist_ok=True)
    assets: list[Asset] = []
    for sector in SECTOR_ORDER:
        builder = import_module(f"twin.models.{sector}.build")
        try:
            assets.extend(builder.build(layout, params, configuration, out_dir))
        except Exception as err:  # a builder bug must name the sector
            raise RegionBuildError(f"{sector} builder failed: {err}") from err
    ids = [a["id"] for a in assets]
    if len(ids) != len(set(ids)):
        dup = sorted({i for i in ids if ids.count(i) > 1})
        raise RegionBuildError(f"duplicate asset ids: {dup[:5]}")
    deps = map_dependencies(assets)
    import_module("twin.models.power.build").add_coupled_loads(out_dir, coupled_loads(assets, deps))
    return write_region_file(out_dir, configuration, params, layout, assets, deps)


def write_region_file(
    out_dir: Path, configuration: str, params: ConfigurationParams, layout: Layout,
    assets: list[Asset], deps: list[Dependency], **extra: object,
) -> RegionInfo:
    """Write region.json (with the cost proxy measured from the native files) and read it back."""
    data = {
        "configuration": configuration,
        "params": params.model_dump(),
        "layout": layout.to_dict(),
        "assets": assets,
        "dependencies": deps,
        "cost": cost_proxy(out_dir, assets),
        **extra,
    }
    (out_dir / REGION_FILE).write_text(json.dumps(data, indent=1, sort_keys=True))
    return load_region(out_dir)


def region_key(size: str, seed: int, configuration: str, params: ConfigurationParams,
               grid: str | None = None) -> str:
    payload = json.dumps(
        {"size": size, "seed": seed, "configuration": configuration,
         "params": params.model_dump(), "builder": BUILDER_VERSION,
         "grid": make_layout(size, seed, grid).grid},
        sort_keys=True,
    )
    return hashlib.sha256(payload.encode()).hexdigest()[:16]


def cached_region(target: Path, fill: Callable[[Path], object]) -> RegionInfo:
    """The region folder ``target`` if complete, else filled by ``fill(folder)`` in a
    temporary folder and renamed into place, so a half-built region never looks cached and
    two processes building the same region at once both end up with one complete copy."""
    if (target / REGION_FILE).is_file():
        return load_region(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=".building-", dir=target.parent))
    mask = os.umask(0)
    os.umask(mask)
    tmp.chmod(0o777 & ~mask)  # mkdtemp makes 0700: follow the umask like the other folders
    try:
        fill(tmp)
        try:
            os.rename(tmp, target)
        except OSError:  # built concurrently by another process: keep theirs
            shutil.rmtree(tmp, ignore_errors=True)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return load_region(target)


def build_region(
    size: str, seed: int, configuration: str, params: ConfigurationParams, cache_dir: Path,
    grid: str | None = None,
) -> RegionInfo:
    """The built region for these inputs, from the cache or built now (atomically).
    ``grid``: ``synthetic`` or ``simbench`` power grid; None takes the size's own."""
    return cached_region(
        Path(cache_dir) / region_key(size, seed, configuration, params, grid),
        lambda folder: build_region_into(folder, make_layout(size, seed, grid), configuration, params),
    )
