"""Distribution grids from SimBench for the generated regions (``region.grid = "simbench"``).

SimBench (Meinecke et al., *Energies* 13(12) 3290, 2020; the ``simbench`` package ships the
whole data set, so nothing is downloaded at build time) gives German benchmark MV grids
planned the way a distribution operator plans them: each an HV/MV substation with two
transformers and cable (and overhead) feeders laid as **open rings**, each ring split by a
normally open loop switch, so a feeder that loses its head is fed from its neighbour.

How a region is laid out (docs/power.md, "SimBench grids"):

- the city gets copies of ``1-MV-urban--0-sw``; each town with its villages the smallest
  of ``1-MV-rural--0-sw`` / ``1-MV-semiurb--0-sw`` that carries the group's peak (copies
  of the semi-urban grid when none does). Every copy is one *area* with its own HV/MV
  substation on the region's 110 kV bus (the 110 kV network is the region's ``ext_grid``).
- SimBench's electrical data (line types, lengths, transformers, switches, normal switch
  states) are kept; only the drawing is mapped onto the district (bus coordinates scaled
  into the district's circle) and each bus is given the nearest district.
- households are spread over an area's loads in proportion to SimBench's load ratings,
  at :data:`~twin.models.power.build.HOUSEHOLD_MEAN_KW` each (the simulator applies the
  daily profile); SimBench's own generators (``sgen``) are dropped: what a configuration
  generates is set by :class:`ConfigurationParams`.
- **N-1 design**: :func:`design` finds, per grid code, the largest uniform load scale at
  which (a) every line and transformer is at most :data:`BASE_MAX_LOADING` loaded in the
  normal state, (b) for each loop switch, either feeder losing its head can be picked up by
  closing the loop switch with every branch within its rating and every MV bus at or above
  :data:`N1_MIN_VM_PU`, and (c) either transformer alone (bus couplers closed) carries the
  substation. An area's design peak is that scale times SimBench's load, times
  :data:`DESIGN_MARGIN` for the pumps, ICT sites and signals coupled in later.
- for sizes with ``lv_grids > 0`` that many MV loads of the city (each a SimBench MV/LV
  substation equivalent) are replaced by the SimBench LV grid their profile names
  (``lv_urban6`` -> ``1-LV-urban6--0-sw``), its transformer on the MV bus and its loads
  scaled to the MV load they replace. LV feeders are radial (no N-1, as in practice).

Ids (the contract for the simulator): buses ``power/bus/<district>-<k>``, MV lines and
switches ``power/line/S<a>-<k>`` / ``power/switch/S<a>-<k>`` of area ``a``, LV ones
``LV<n>-<k>``, transformers ``power/trafo/TR<k>`` (HV/MV, with breaker
``power/switch/TR<k>``) and ``power/trafo/LV<n>`` (MV/LV).
"""

from __future__ import annotations

import copy
import json
import logging
import math
import os
import tempfile
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np

from twin.region.assets import make_asset
from twin.region.layout import District

MV_URBAN = "1-MV-urban--0-sw"
MV_SEMIURB = "1-MV-semiurb--0-sw"
MV_RURAL = "1-MV-rural--0-sw"
TOWN_CODES: tuple[str, ...] = (MV_RURAL, MV_SEMIURB)  # smallest first
LV_CODE_OF_PROFILE: dict[str, str] = {
    "lv_rural1": "1-LV-rural1--0-sw", "lv_rural2": "1-LV-rural2--0-sw",
    "lv_rural3": "1-LV-rural3--0-sw", "lv_semiurb4": "1-LV-semiurb4--0-sw",
    "lv_semiurb5": "1-LV-semiurb5--0-sw", "lv_urban6": "1-LV-urban6--0-sw",
}
HV_MIN_KV = 60.0  # buses at or above this are SimBench's HV side (replaced by the region's)
BASE_MAX_LOADING = 0.6  # normal state: branches at most this loaded (planning headroom)
N1_MAX_LOADING = 1.0  # after a transfer: within rating
N1_MIN_VM_PU = 0.95  # after a transfer: MV buses at or above this
log = logging.getLogger(__name__)

DESIGN_MARGIN = 0.9  # share of the N-1 peak given to households (coupled loads come later)


class SimbenchError(RuntimeError):
    """A SimBench grid could not be loaded or designed."""


def cache_dir() -> Path:
    """Where extracted SimBench grids are kept between processes (``$TWIN_SIMBENCH_CACHE``,
    else ``$XDG_CACHE_HOME/twin``, else ``~/.cache/twin``): extracting a grid from the data
    shipped in the package reads its whole CSV data set (3-10 s); reading it back, 0.2 s."""
    env = os.environ.get("TWIN_SIMBENCH_CACHE")
    if env:
        return Path(env)
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "twin"


@lru_cache(maxsize=16)
def _raw(code: str) -> object:
    """The SimBench net of ``code`` from the data shipped in the package (no download)."""
    import pandapower as pp

    try:
        import simbench
    except ImportError as exc:  # a declared dependency: a broken install
        raise SimbenchError("region.grid = 'simbench' needs the simbench package") from exc
    path = cache_dir() / f"simbench-{simbench.__version__}" / f"{code}.json"
    if path.is_file():
        from twin.models.power.netfile import read_net

        return read_net(path)
    net = simbench.get_simbench_net(code)
    net["profiles"] = {}  # a year of 15-min profiles per grid: not used, and slow to copy
    if len(net.bus) == 0:
        raise SimbenchError(f"SimBench code {code!r} gave an empty grid")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, suffix=".json")
        os.close(fd)
        pp.to_json(net, tmp)
        os.replace(tmp, path)
    except OSError as exc:  # a read-only home: extract again next time
        log.warning("cannot cache SimBench grid %s in %s: %s", code, path.parent, exc)
    return net


def sb_net(code: str) -> object:
    """A copy of SimBench grid ``code`` as the region uses it: no generators, loads at the
    region's power factor, one slack."""
    from twin.models.power.build import TAN_PHI

    net = copy.deepcopy(_raw(code))
    net.sgen.drop(net.sgen.index, inplace=True)
    for table in ("storage", "gen", "shunt"):
        net[table].drop(net[table].index, inplace=True)
    net.load["q_mvar"] = net.load["p_mw"] * TAN_PHI
    return net


@dataclass(frozen=True)
class Design:
    """The N-1 design of one SimBench MV grid (see the module docstring)."""

    code: str
    scale: float  # largest uniform scale of SimBench's loads meeting every criterion
    peak_mw: float  # scale x SimBench's load sum: the area's N-1 peak
    base_loading: float  # max branch loading in the normal state at ``scale`` (0..1)
    n1_loading: float  # max branch loading over all transfers at ``scale``
    n1_min_vm_pu: float  # lowest MV voltage over all transfers at ``scale``
    transfers: int  # transfer cases checked (two per loop switch whose sides differ)


def _head_line(graph: object, bus: int, station: set[int]) -> int | None:
    """The first line on the path from ``bus`` to the substation (the feeder head)."""
    import networkx as nx

    try:
        path = nx.shortest_path(graph, bus, target=None)
    except nx.NodeNotFound:
        return None
    best = min((p for b, p in path.items() if b in station), key=len, default=None)
    if best is None or len(best) < 2:
        return None
    for u, v in zip(best[-1::-1], best[-2::-1], strict=False):  # from the station outward
        for key in graph[u][v]:
            if key[0] == "line":
                return int(key[1])
    return None


def transfer_cases(net: object) -> list[tuple[int, int]]:
    """(loop switch, head line to open) for each side of each normally open loop switch."""
    import pandapower.topology as top

    graph = top.create_nxgraph(net, respect_switches=True, multi=True)
    hv_mv = net.bus.loc[net.trafo.hv_bus, "vn_kv"].to_numpy() >= HV_MIN_KV
    station = {int(b) for b in net.trafo.lv_bus[hv_mv]}  # MV side of the HV/MV transformers
    cases = []
    sw = net.switch
    for i in sw.index[(sw.et == "l") & ~sw.closed.astype(bool)]:
        line = int(sw.at[i, "element"])
        heads = {_head_line(graph, int(net.line.at[line, end]), station) for end in ("from_bus", "to_bus")}
        heads.discard(None)
        if len(heads) == 2:  # both sides fed from the station through different heads
            cases += [(int(i), h) for h in sorted(heads)]
    return cases


def _max_loading(net: object) -> float:
    lines = net.res_line.loading_percent[net.line.in_service].max() if len(net.line) else 0.0
    trafos = net.res_trafo.loading_percent[net.trafo.in_service].max() if len(net.trafo) else 0.0
    return float(np.nanmax([lines, trafos])) / 100.0


def _min_mv_vm(net: object) -> float:
    mv = (net.bus.vn_kv < HV_MIN_KV) & (net.bus.vn_kv >= 1.0)
    return float(net.res_bus.vm_pu[mv].min())


def check_n1(net: object, scale: float, cases: list[tuple[int, int]]) -> tuple[float, float, float]:
    """(normal-state max branch loading, worst loading over the transfers and HV/MV
    transformer outages, lowest MV voltage over them) with loads times ``scale``, all from
    pandapower power flows; ``net`` is changed during the check and restored."""
    import pandapower as pp

    p0, q0 = net.load["p_mw"].copy(), net.load["q_mvar"].copy()
    net.load["p_mw"] = p0 * scale
    net.load["q_mvar"] = q0 * scale
    try:
        pp.runpp(net, init="dc", numba=False)
        base = _max_loading(net)
        worst, vmin = 0.0, 2.0
        outages: list[tuple[str, int, int | None]] = [("line", h, s) for s, h in cases]
        couplers = net.switch.index[(net.switch.et == "b") & ~net.switch.closed.astype(bool)
                                    & (net.switch.type == "CB")]
        hv_mv = net.trafo.index[net.bus.loc[net.trafo.hv_bus, "vn_kv"].to_numpy() >= HV_MIN_KV]
        if len(hv_mv) > 1:
            outages += [("trafo", int(t), None) for t in hv_mv]
        for kind, element, switch in outages:
            closing = [switch] if switch is not None else list(couplers)
            net[kind].at[element, "in_service"] = False
            net.switch.loc[closing, "closed"] = True
            try:
                pp.runpp(net, init="dc", numba=False)
                worst = max(worst, _max_loading(net))
                vmin = min(vmin, _min_mv_vm(net))
            except pp.LoadflowNotConverged:
                worst, vmin = math.inf, 0.0
            finally:
                net[kind].at[element, "in_service"] = True
                net.switch.loc[closing, "closed"] = False
    finally:
        net.load["p_mw"], net.load["q_mvar"] = p0, q0
    return base, worst, vmin


@lru_cache(maxsize=8)
def design(code: str) -> Design:
    """The N-1 design of SimBench MV grid ``code``: see the module docstring. Loading is
    near-linear in load, so the scale where the loading limits are met is the upper bound;
    below it the voltage limit is met by bisection (to 1 % of the scale)."""
    net = sb_net(code)
    cases = transfer_cases(net)

    def ok(scale: float) -> tuple[bool, tuple[float, float, float]]:
        r = check_n1(net, scale, cases)
        return r[0] <= BASE_MAX_LOADING and r[1] <= N1_MAX_LOADING and r[2] >= N1_MIN_VM_PU, r

    _, (base, worst, _) = ok(1.0)
    hi = min(BASE_MAX_LOADING / base, N1_MAX_LOADING / worst)
    for _ in range(3):  # losses grow with the square of load: step just under the bound
        good, result = ok(hi)
        if good:
            break
        hi *= 0.98
    lo = 0.0
    if not good:
        lo_result = None
        while hi - lo > 0.01 * hi:
            mid = 0.5 * (lo + hi)
            good, r = ok(mid)
            if good:
                lo, lo_result = mid, r
            else:
                hi = mid
        if lo_result is None:
            raise SimbenchError(f"SimBench grid {code!r}: no load scale meets the N-1 criteria")
        hi, result = lo, lo_result
    return Design(code, round(hi, 4), round(hi * float(net.load.p_mw.sum()), 3),
                  round(result[0], 4), round(result[1], 4), round(result[2], 4), len(cases))


# design() of each MV grid, computed once (it takes ~35 s); tests/power/test_simbench.py
# recomputes it (slow) and asserts equality. Regenerate: python -m twin.models.power.simbench
DESIGNS: dict[str, Design] = {
    MV_URBAN: Design(MV_URBAN, 0.5815, 28.903, 0.4671, 0.9513, 0.9609, 18),
    MV_RURAL: Design(MV_RURAL, 0.6406, 11.053, 0.3367, 0.4966, 0.9505, 8),
    MV_SEMIURB: Design(MV_SEMIURB, 0.3908, 12.365, 0.3416, 0.6354, 0.9508, 14),
}


def design_of(code: str) -> Design:
    """The N-1 design of an MV grid: from :data:`DESIGNS`, else computed now."""
    return DESIGNS[code] if code in DESIGNS else design(code)


def _xy(net: object) -> np.ndarray:
    """Bus coordinates in metres (equirectangular around the grid's mean point)."""
    pts = np.array([json.loads(g)["coordinates"] if isinstance(g, str) else [np.nan, np.nan]
                    for g in net.bus["geo"]], dtype=float)
    pts[np.isnan(pts[:, 0])] = np.nanmean(pts, axis=0)
    lon0, lat0 = pts.mean(axis=0)
    return np.column_stack([(pts[:, 0] - lon0) * 111_320.0 * math.cos(math.radians(lat0)),
                            (pts[:, 1] - lat0) * 110_540.0])


def place(net: object, centre: tuple[float, float], radius_m: float) -> np.ndarray:
    """SimBench's drawing scaled into the circle (centre, radius_m): one (x, y) per bus."""
    xy = _xy(net)
    reach = float(np.percentile(np.hypot(xy[:, 0], xy[:, 1]), 95)) or 1.0
    xy = xy * (radius_m / reach)
    return xy + np.asarray(centre, dtype=float)


def assign_districts(xy: np.ndarray, districts: list[District], load_rows: np.ndarray) -> list[str]:
    """Each bus's district: the nearest in units of district radius; every district gets at
    least one bus that carries a load (``load_rows``: positions of such buses)."""
    score = np.array([[math.hypot(x - d.x_m, y - d.y_m) / d.radius_m for d in districts] for x, y in xy])
    choice = score.argmin(axis=1)
    for k in range(len(districts)):
        if (choice[load_rows] == k).any():
            continue
        counts = np.bincount(choice[load_rows], minlength=len(districts))
        free = [r for r in load_rows if counts[choice[r]] > 1]
        if not free:
            raise SimbenchError(f"too few load buses for {len(districts)} districts")
        best = min(free, key=lambda r: (score[r, k], r))
        choice[best] = k
    return [districts[int(k)].id for k in choice]


def group_circle(districts: list[District]) -> tuple[tuple[float, float], float]:
    """A circle around a town and its villages (centre, radius in metres)."""
    if len(districts) == 1:
        d = districts[0]
        return (d.x_m, d.y_m), d.radius_m
    cx = sum(d.x_m for d in districts) / len(districts)
    cy = sum(d.y_m for d in districts) / len(districts)
    return (cx, cy), max(math.hypot(d.x_m - cx, d.y_m - cy) + d.radius_m for d in districts)


def line_asset(lid: str, net: object, idx: int, x: float, y: float, district: str) -> dict:
    """The asset record of a line: its MVA rating at its voltage, cable or overhead, length."""
    vn = float(net.bus.at[int(net.line.at[idx, "from_bus"]), "vn_kv"])
    max_i = float(net.line.at[idx, "max_i_ka"]) * int(net.line.at[idx, "parallel"])
    length = float(net.line.at[idx, "length_km"])
    asset = make_asset(lid, "power", "line", x, y, district,
                       capacity=round(math.sqrt(3) * vn * max_i, 3), capacity_unit="MVA",
                       underground=str(net.line.at[idx, "type"]) == "cs")
    asset["length_km"] = round(length, 3)
    return asset


def split_weighted(total: int, weights: list[float]) -> list[int]:
    """``total`` split over ``weights`` by largest remainder (sums to ``total`` exactly)."""
    w = np.asarray(weights, dtype=float)
    if total <= 0 or len(w) == 0:
        return [0] * len(w)
    if w.sum() <= 0:
        w = np.ones_like(w)
    raw = total * w / w.sum()
    out = np.floor(raw).astype(int)
    for i in np.argsort(-(raw - out), kind="stable")[: total - int(out.sum())]:
        out[i] += 1
    return [int(v) for v in out]


if __name__ == "__main__":  # print the DESIGNS table from a fresh computation
    for _code in (MV_URBAN, MV_RURAL, MV_SEMIURB):
        print(design(_code))
