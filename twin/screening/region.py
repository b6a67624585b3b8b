"""Region adapter: the four networks and the dependency map of a built region as one
:class:`~twin.screening.engine.InterdependentSystem`, and the screening of a region.

Every asset of ``region.json`` becomes one node of its sector's graph, so that losing any
asset (a bus, a line, a pump, a road, a base station) is a node removal:

- **power** (``power.json``): the bus graph of ``pandapower.topology.create_nxgraph``
  (switch positions respected); each named branch (line, transformer, bus-bus switch) is
  subdivided by a node for its asset; every other named element (load, PV, battery, switch
  on a line, ...) is a leaf on its bus, and a closed line/transformer switch is a
  dependency of its branch. Sources: ``ext_grid`` and ``gen`` elements and grid-forming
  storage (an island without a grid-forming unit has no voltage).
- **water** (``water.inp``): wntr's graph, each pipe/pump/valve subdivided by its node,
  direction ignored. Sources: reservoirs and tanks.
- **traffic** (``roads.net.xml``): the SUMO junction graph via sumolib, each road asset
  (both directions) subdivided by its node, each signal a leaf on its junction (a dark
  junction still passes traffic as an all-way stop). No sources: the giant component.
- **ict** (``ict.json``): the node-link graph, links subdivided. Sources: controller and
  data-centre sites.

Auxiliary nodes (junctions, unnamed elements) carry connectivity but are not counted in
the surviving fractions. An asset of ``region.json`` not found in its sector's file is kept
as a stand-alone node that feeds itself (it still fails through its dependencies).
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Collection, Iterable
from dataclasses import dataclass
from pathlib import Path

import networkx as nx
import numpy as np

from twin.randomness import stream
from twin.region.assets import REGION_FILE, SECTOR_FILES, RegionInfo, load_region
from twin.screening.engine import DependencyLinks, InterdependentSystem, Network, ScreeningError
from twin.screening.results import FORMAT_VERSION, ScreeningResult

log = logging.getLogger(__name__)

SECTORS: tuple[str, ...] = ("power", "water", "traffic", "ict")
# pandapower branch tables that create_nxgraph turns into edges, with their bus columns.
POWER_BRANCHES: dict[str, tuple[str, ...]] = {
    "line": ("from_bus", "to_bus"),
    "trafo": ("hv_bus", "lv_bus"),
    "trafo3w": ("hv_bus", "mv_bus", "lv_bus"),
    "impedance": ("from_bus", "to_bus"),
    "dcline": ("from_bus", "to_bus"),
}
POWER_BUS_ELEMENTS: tuple[str, ...] = (
    "ext_grid", "gen", "storage", "sgen", "load", "motor", "shunt", "ward", "xward", "asymmetric_load",
    "asymmetric_sgen",
)
POWER_SOURCE_ELEMENTS: tuple[str, ...] = ("ext_grid", "gen")
# storage types that form a grid (can feed an island); storage without a ``type`` column
# counts as grid-forming.
GRID_FORMING_STORAGE: tuple[str, ...] = ("grid_forming",)
WATER_NODE_TYPES: frozenset[str] = frozenset({"junction", "tank", "reservoir"})
ICT_SOURCE_ROLES: frozenset[str] = frozenset({"controller", "datacentre"})
# The couplings used by default: supply couplings, without which the consumer stops.
# ICT couplings are control couplings with a local fallback (a pump's level switch, a
# signal's fixed-time plan, a switch that stays where it is); pass couplings="all" to treat
# them as hard dependencies too.
SUPPLY_PREFIXES: tuple[str, ...] = ("power->", "water->")


class RegionScreeningError(ScreeningError):
    """A built region cannot be turned into a screening system (missing file, bad id)."""


def _name(value: object) -> str | None:
    return value if isinstance(value, str) and value else None


def power_graph(path: Path) -> tuple[nx.Graph, set[str], list[tuple[str, str]]]:
    """Bus graph of a built region's ``power.json`` with asset nodes; returns (graph, sources,
    internal deps)."""
    import pandapower.topology as top

    from twin.models.power.netfile import read_net

    net = read_net(path)  # a region's own file: through its read cache
    bus_node = {
        int(i): (_name(n) if _name(n) and str(n).startswith("power/") else f"power/_bus/{int(i)}")
        for i, n in net.bus["name"].items()
    }
    bus_graph = top.create_nxgraph(net, respect_switches=True, multi=True)
    g = nx.Graph()
    g.add_nodes_from(bus_node.values())
    placed: set[tuple[str, int]] = set()
    for u, v, (etype, idx) in bus_graph.edges(keys=True):
        a, b = bus_node[int(u)], bus_node[int(v)]
        name = _name(net[etype].at[idx, "name"]) if "name" in net[etype] else None
        if name and name.startswith("power/"):
            g.add_edge(a, name)
            g.add_edge(name, b)
        else:
            g.add_edge(a, b)
        placed.add((etype, int(idx)))
    sources: set[str] = set()
    open_at: dict[tuple[str, int], set[int]] = {}  # branch -> buses where a switch is open
    if "switch" in net and not net.switch.empty:
        for _, row in net.switch[~net.switch["closed"].astype(bool)].iterrows():
            table = {"l": "line", "t": "trafo", "t3": "trafo3w"}.get(row["et"])
            if table:
                open_at.setdefault((table, int(row["element"])), set()).add(int(row["bus"]))
    for etype, cols in POWER_BRANCHES.items():
        if etype not in net or net[etype].empty:
            continue
        for idx, row in net[etype].iterrows():
            name = _name(row.get("name"))
            if name and name.startswith("power/") and name not in g:
                # cut off by an open switch (a normally open tie): a leaf on the end that
                # still feeds it, the one without the open switch
                ends = [int(row[c]) for c in cols]
                opened = open_at.get((etype, int(idx)), set())
                end = next((b for b in ends if b not in opened), ends[0])
                g.add_edge(name, bus_node[end])
    for etype in POWER_BUS_ELEMENTS:
        if etype not in net or net[etype].empty:
            continue
        for _, row in net[etype].iterrows():
            name = _name(row.get("name"))
            if not name or not name.startswith("power/"):
                continue  # coupled loads carry the consumer's id (another sector's asset)
            source = bool(row.get("in_service", True)) and (
                etype in POWER_SOURCE_ELEMENTS
                or (etype == "storage" and (
                    "type" not in net.storage or row.get("type") in GRID_FORMING_STORAGE))
            )
            if source:  # a source sitting on several buses feeds each of them
                sources.add(name)
                g.add_edge(name, bus_node[int(row["bus"])])
            elif name not in g:
                g.add_edge(name, bus_node[int(row["bus"])])
    deps: list[tuple[str, str]] = []
    if "switch" in net and not net.switch.empty:
        for idx, row in net.switch.iterrows():
            name = _name(row.get("name"))
            if not name or not name.startswith("power/") or ("switch", int(idx)) in placed:
                continue
            if name not in g:
                g.add_edge(name, bus_node[int(row["bus"])])
            if row["et"] in ("l", "t", "t3") and bool(row["closed"]):
                table = {"l": "line", "t": "trafo", "t3": "trafo3w"}[row["et"]]
                branch = _name(net[table].at[int(row["element"]), "name"])
                if branch and branch in g:
                    deps.append((branch, name))
    return g, sources, deps


def water_graph(path: Path, assets: Iterable[dict]) -> tuple[nx.Graph, set[str]]:
    """wntr graph of ``water.inp`` with link nodes; returns (graph, sources)."""
    import wntr

    wn = wntr.network.WaterNetworkModel(str(path))
    node_id: dict[str, str] = {}
    link_id: dict[str, str] = {}
    generators = []
    for a in assets:
        if a["type"] == "generator":  # no EPANET element: a leaf of its station (below)
            generators.append(a["id"])
            continue
        (node_id if a["type"] in WATER_NODE_TYPES else link_id)[a["id"].rsplit("/", 1)[-1]] = a["id"]

    def nid(name: str) -> str:
        return node_id.get(name, f"water/_node/{name}")

    g = nx.Graph()
    g.add_nodes_from(nid(n) for n in wn.node_name_list)
    for name, link in wn.links():
        a, b = nid(link.start_node_name), nid(link.end_node_name)
        lid = link_id.get(name, f"water/_link/{name}")
        g.add_edge(a, lid)
        g.add_edge(lid, b)
    for gen in generators:  # water/generator/<station> hangs on its station's link
        station = link_id.get(gen.rsplit("/", 1)[-1])
        if station is not None:
            g.add_edge(gen, station)
    sources = {nid(n) for n in (*wn.reservoir_name_list, *wn.tank_name_list)}
    return g, sources


def road_graph(path: Path, assets: Iterable[dict]) -> nx.Graph:
    """Junction graph of ``roads.net.xml`` with road and signal nodes."""
    import sumolib

    net = sumolib.net.readNet(str(path), withInternal=False)
    roads = {a["id"].rsplit("/", 1)[-1]: a["id"] for a in assets if a["type"] == "road"}
    signals = {a["id"].rsplit("/", 1)[-1]: a["id"] for a in assets if a["type"] == "signal"}
    g = nx.Graph()
    junction = {n.getID(): f"traffic/_junction/{n.getID()}" for n in net.getNodes()}
    g.add_nodes_from(junction.values())
    pair_road: dict[frozenset[str], str] = {}
    for e in net.getEdges():
        f, t = e.getFromNode().getID(), e.getToNode().getID()
        rid = roads.get(e.getID())
        if rid is not None:
            pair_road[frozenset((f, t))] = rid
    for e in net.getEdges():
        f, t = e.getFromNode().getID(), e.getToNode().getID()
        rid = roads.get(e.getID()) or pair_road.get(frozenset((f, t)))
        if rid is None:
            g.add_edge(junction[f], junction[t])
        else:
            g.add_edge(junction[f], rid)
            g.add_edge(rid, junction[t])
    for name, sid in signals.items():
        if f"traffic/_junction/{name}" in g:
            g.add_edge(sid, f"traffic/_junction/{name}")
    return g


def ict_graph(path: Path) -> tuple[nx.Graph, set[str]]:
    """Node-link graph of ``ict.json`` with link nodes; returns (graph, sources)."""
    data = json.loads(path.read_text())
    raw = nx.node_link_graph(data, edges="links")
    g = nx.Graph()
    g.add_nodes_from(str(n) for n in raw.nodes)
    for a, b, e in raw.edges(data=True):
        lid = _name(e.get("id"))
        if lid:
            g.add_edge(str(a), lid)
            g.add_edge(lid, str(b))
        else:
            g.add_edge(str(a), str(b))
    sources = {str(n) for n, d in raw.nodes(data=True) if d.get("role") in ICT_SOURCE_ROLES}
    return g, sources


@dataclass(frozen=True)
class RegionSystem:
    """A built region as an interdependent system, with the asset table lined up.

    ``asset_ids[j]`` lives in network ``asset_sector[j]`` at node ``asset_node[j]``.
    ``baseline`` is the fixed point without any removal: assets not functioning even then
    (an open tie line, a PV unit on an island without a grid-forming unit) are left out of
    every fraction, so an intact region has surviving fraction 1 in every sector.
    """

    info: RegionInfo
    system: InterdependentSystem
    asset_ids: tuple[str, ...]
    asset_sector: tuple[str, ...]
    asset_node: np.ndarray
    baseline: dict[str, np.ndarray]
    couplings: tuple[str, ...]

    def removal(self, asset_mask: np.ndarray) -> dict[str, np.ndarray]:
        """Per-network removal masks for a bool mask over the asset table."""
        out = {net.name: np.zeros(net.n, dtype=bool) for net in self.system.networks}
        for sector in out:
            sel = asset_mask & (np.asarray(self.asset_sector) == sector)
            out[sector][self.asset_node[sel]] = True
        return out

    def asset_functional(self, functional: dict[str, np.ndarray]) -> np.ndarray:
        """Bool per asset from per-network masks."""
        out = np.zeros(len(self.asset_ids), dtype=bool)
        sectors = np.asarray(self.asset_sector)
        for name, mask in functional.items():
            sel = sectors == name
            out[sel] = mask[self.asset_node[sel]]
        return out


def _select_couplings(info: RegionInfo, couplings: str | Collection[str]) -> tuple[str, ...]:
    present = sorted({d["coupling"] for d in info.dependencies})
    if couplings == "supply":
        return tuple(c for c in present if c.startswith(SUPPLY_PREFIXES))
    if couplings == "all":
        return tuple(present)
    if isinstance(couplings, str):
        raise RegionScreeningError(f"couplings must be 'supply', 'all' or a list, got {couplings!r}")
    return tuple(sorted(set(couplings)))


def region_system(region_dir: str | Path, couplings: str | Collection[str] = "supply") -> RegionSystem:
    """Read a built region folder into a :class:`RegionSystem`."""
    root = Path(region_dir)
    if not (root / REGION_FILE).is_file():
        raise RegionScreeningError(f"{root} is not a built region (no {REGION_FILE})")
    info = load_region(root)
    for sector, fname in SECTOR_FILES.items():
        if not (root / fname).is_file():
            raise RegionScreeningError(f"built region {root} lacks {fname} ({sector})")
    by_sector = {s: [a for a in info.assets if a["sector"] == s] for s in SECTORS}
    graphs: dict[str, tuple[nx.Graph, set[str] | None]] = {}
    internal: list[tuple[str, str]] = []
    pg, psrc, internal = power_graph(root / SECTOR_FILES["power"])
    graphs["power"] = (pg, psrc)
    graphs["water"] = water_graph(root / SECTOR_FILES["water"], by_sector["water"])
    graphs["traffic"] = (road_graph(root / SECTOR_FILES["traffic"], by_sector["traffic"]), None)
    graphs["ict"] = ict_graph(root / SECTOR_FILES["ict"])

    networks: list[Network] = []
    for sector in SECTORS:
        g, sources = graphs[sector]
        missing = [a["id"] for a in by_sector[sector] if a["id"] not in g]
        if missing:
            log.warning("%d %s assets not in %s, kept as self-fed nodes (first: %s)",
                        len(missing), sector, SECTOR_FILES[sector], missing[0])
            g.add_nodes_from(missing)
            if sources is not None:
                sources = sources | set(missing)
        ids = [a["id"] for a in by_sector[sector]]
        networks.append(Network.from_networkx(sector, g, sources=sources, counted=ids))

    system_nets = {n.name: n for n in networks}
    index = {n.name: {node: i for i, node in enumerate(n.node_ids or ())} for n in networks}
    asset_ids = tuple(a["id"] for s in SECTORS for a in by_sector[s])
    asset_sector = tuple(a["sector"] for s in SECTORS for a in by_sector[s])
    asset_node = np.array([index[s][i] for s, i in zip(asset_sector, asset_ids, strict=True)], dtype=np.int64)
    sector_of = dict(zip(asset_ids, asset_sector, strict=True))

    chosen = _select_couplings(info, couplings)
    grouped: dict[tuple[str, str, str], tuple[list[int], list[int]]] = {}
    for d in info.dependencies:
        if d["coupling"] not in chosen:
            continue
        for end in (d["consumer"], d["supplier"]):
            if end not in sector_of:
                raise RegionScreeningError(f"dependency {d} names unknown asset {end!r}")
        cs, ss = sector_of[d["consumer"]], sector_of[d["supplier"]]
        ci, si = grouped.setdefault((cs, ss, d["coupling"]), ([], []))
        ci.append(index[cs][d["consumer"]])
        si.append(index[ss][d["supplier"]])
    for consumer, supplier in internal:  # a closed switch carries its line
        ci, si = grouped.setdefault(("power", "power", "power"), ([], []))
        ci.append(index["power"][consumer])
        si.append(index["power"][supplier])
    links = [
        DependencyLinks(cs, ss, np.array(ci, dtype=np.int64), np.array(si, dtype=np.int64),
                        "many-to-one", coupling)
        for (cs, ss, coupling), (ci, si) in sorted(grouped.items())
    ]
    system = InterdependentSystem([system_nets[s] for s in SECTORS], links)
    baseline = system.cascade().functional
    return RegionSystem(info, system, asset_ids, asset_sector, asset_node, baseline, chosen)


def _uint64(gen: np.random.Generator, size: int | None = None) -> np.ndarray:
    return gen.integers(0, np.iinfo(np.uint64).max, size=size, dtype=np.uint64, endpoint=True)


def _mix64(x: np.ndarray) -> np.ndarray:
    """splitmix64 finaliser: a bijective scramble of 64-bit words (vectorised)."""
    x = x.copy()
    with np.errstate(over="ignore"):
        x ^= x >> np.uint64(30)
        x *= np.uint64(0xBF58476D1CE4E5B9)
        x ^= x >> np.uint64(27)
        x *= np.uint64(0x94D049BB133111EB)
        x ^= x >> np.uint64(31)
    return x


def paired_uniforms(seed: int, asset_ids: Iterable[str], realisation: int) -> np.ndarray:
    """One uniform per asset for one realisation, a function of (seed, asset id, realisation)
    only: two configurations that share an asset draw the same number for it (common random
    numbers). Built from ``stream(seed, "screen", asset_id)`` and
    ``stream(seed, "screen", f"realisation-{i}")`` through a 64-bit mixer."""
    keys = asset_keys(seed, asset_ids)
    return _uniforms(keys, realisation_key(seed, realisation))


def asset_keys(seed: int, asset_ids: Iterable[str]) -> np.ndarray:
    """The per-asset 64-bit keys behind :func:`paired_uniforms`."""
    return np.array([_uint64(stream(seed, "screen", a)) for a in asset_ids], dtype=np.uint64)


def realisation_key(seed: int, realisation: int) -> np.uint64:
    """The per-realisation 64-bit key behind :func:`paired_uniforms`."""
    return np.uint64(_uint64(stream(seed, "screen", f"realisation-{realisation}")))


def _uniforms(keys: np.ndarray, rkey: np.uint64) -> np.ndarray:
    return (_mix64(keys ^ rkey) >> np.uint64(11)).astype(np.float64) / float(1 << 53)


def _region_hash(root: Path) -> str:
    h = hashlib.sha256()
    for fname in (REGION_FILE, *SECTOR_FILES.values()):
        h.update(fname.encode())
        h.update((root / fname).read_bytes())
    return h.hexdigest()


def screen_region(
    region_dir: str | Path,
    realisations: int,
    seed: int,
    *,
    attack_fraction: float = 0.02,
    attack_sectors: Collection[str] | None = None,
    couplings: str | Collection[str] = "supply",
    criticality: bool = True,
) -> ScreeningResult:
    """Screen a built region: random-attack realisations and single-asset criticality.

    Realisation i removes each asset (of ``attack_sectors``, default all) whose paired
    uniform is below ``attack_fraction`` and runs the cascade to its fixed point. With
    ``criticality``, every asset is also lost alone; its criticality is the cascade size
    that follows (a single loss is deterministic in this model, so the mean over
    realisations is that one value). The cascade size is the share of the region's assets
    (functioning when intact) that stop functioning without having been removed.
    ``couplings`` selects the dependency couplings treated as hard ("supply": the power and
    water supply couplings; "all"; or a list of coupling names).
    """
    if realisations < 0:
        raise RegionScreeningError(f"realisations must be >= 0, got {realisations}")
    if not 0.0 <= attack_fraction <= 1.0:
        raise RegionScreeningError(f"attack_fraction must lie in [0, 1], got {attack_fraction}")
    root = Path(region_dir)
    rs = region_system(root, couplings)
    sectors = np.asarray(rs.asset_sector)
    base = rs.asset_functional(rs.baseline)
    total = int(base.sum())
    sector_total = {s: int((base & (sectors == s)).sum()) for s in SECTORS}
    attackable = np.ones(len(rs.asset_ids), dtype=bool)
    if attack_sectors is not None:
        unknown = set(attack_sectors) - set(SECTORS)
        if unknown:
            raise RegionScreeningError(f"unknown attack sectors {sorted(unknown)}")
        attackable = np.isin(sectors, list(attack_sectors))

    def outcome(removed_assets: np.ndarray) -> tuple[np.ndarray, float, int]:
        result = rs.system.cascade(rs.removal(removed_assets))
        up = rs.asset_functional(result.functional) & base
        frac = np.array([(up & (sectors == s)).sum() / sector_total[s] if sector_total[s] else 1.0
                         for s in SECTORS])
        secondary = int((base & ~up & ~removed_assets).sum())
        return frac, secondary / total if total else 0.0, result.iterations

    keys = asset_keys(seed, rs.asset_ids)
    surviving = np.zeros((realisations, len(SECTORS)))
    iterations = np.zeros(realisations, dtype=np.int64)
    cascade = np.zeros(realisations)
    n_removed = np.zeros(realisations, dtype=np.int64)
    for i in range(realisations):
        removed = attackable & (_uniforms(keys, realisation_key(seed, i)) < attack_fraction)
        surviving[i], cascade[i], iterations[i] = outcome(removed)
        n_removed[i] = int(removed.sum())

    n_assets = len(rs.asset_ids)
    crit = np.full(n_assets, np.nan)
    crit_iter = np.zeros(n_assets, dtype=np.int64)
    if criticality:
        for j in range(n_assets):
            one = np.zeros(n_assets, dtype=bool)
            one[j] = True
            _, crit[j], crit_iter[j] = outcome(one)

    params = {
        "attack_fraction": float(attack_fraction),
        "attack_sectors": sorted(attack_sectors) if attack_sectors is not None else list(SECTORS),
        "couplings": list(rs.couplings),
        "criticality": bool(criticality),
    }
    region_hash = _region_hash(root)
    run_id = hashlib.sha256(json.dumps(
        {"mode": "topological", "format_version": FORMAT_VERSION, "region": region_hash,
         "realisations": realisations, "seed": seed, "params": params},
        sort_keys=True).encode()).hexdigest()[:16]
    return ScreeningResult(
        run_id=run_id,
        seed=int(seed),
        status="complete",
        configuration=rs.info.configuration,
        region_hash=region_hash,
        params=params,
        sectors=SECTORS,
        surviving_fraction=surviving,
        iterations=iterations,
        cascade_size=cascade,
        n_removed=n_removed,
        asset_ids=rs.asset_ids,
        asset_sectors=rs.asset_sector,
        criticality=crit,
        criticality_iterations=crit_iter,
    )
