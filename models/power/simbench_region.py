"""Lay a generated region's grid out of SimBench grids (``region.grid = "simbench"``).

The grids, their N-1 design and the drawing helpers are in :mod:`.simbench`; this module
copies them into the region's net under the region's ids (the module docstring there
lists them) and decides which grid feeds which district.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from twin.models.power.simbench import (
    DESIGN_MARGIN,
    HV_MIN_KV,
    LV_CODE_OF_PROFILE,
    MV_URBAN,
    TOWN_CODES,
    assign_districts,
    design_of,
    group_circle,
    line_asset,
    place,
    sb_net,
    split_weighted,
)
from twin.region.assets import make_asset
from twin.region.layout import District

LV_RADIUS_M = 150.0  # drawing radius of an LV grid around its MV/LV substation


@dataclass
class _Ids:
    """Counters behind the ids of one region's SimBench elements."""

    buses: dict[str, int] = field(default_factory=dict)
    loads: dict[str, int] = field(default_factory=dict)
    hv_trafos: int = 0
    lv: int = 0

    def bus(self, district: str) -> str:
        self.buses[district] = self.buses.get(district, 0) + 1
        return f"{district}-{self.buses[district]}"

    def load(self, district: str) -> str:
        self.loads[district] = self.loads.get(district, 0) + 1
        return f"{district}-{self.loads[district]}"


def append_net(b: object, sub: object, xy: np.ndarray, district_of: list[str], tag: str,
               outer: dict[int, int], ids: _Ids, households: dict[int, int], lv: bool) -> dict[int, int]:
    """Copy SimBench net ``sub`` into the region's net ``b.net`` (see module docstring).

    ``outer`` maps buses of ``sub`` that are replaced by existing region buses (the HV side
    of an MV grid, the MV bus of an LV grid) to the region's bus index; ``households`` gives
    each load row of ``sub`` its households (rows without households are left out). Returns
    the map from ``sub``'s bus rows to the region's bus indices."""
    import pandapower as pp

    from twin.models.power.build import HOUSEHOLD_MEAN_KW, TAN_PHI

    net = b.net
    rows = [int(r) for r in sub.bus.index if int(r) not in outer]
    pos = {int(r): k for k, r in enumerate(sub.bus.index)}
    has_load = {int(r) for r, n in zip(sub.load.bus, sub.load.index, strict=True) if households.get(int(n), 0) > 0}
    names = [ids.bus(district_of[pos[r]]) for r in rows]
    new = pp.create_buses(
        net, len(rows), vn_kv=[float(sub.bus.at[r, "vn_kv"]) for r in rows],
        name=[f"power/bus/{n}" for n in names], type="b",
        geodata=[(round(float(xy[pos[r], 0]), 1), round(float(xy[pos[r], 1]), 1)) for r in rows],
        district=[district_of[pos[r]] for r in rows],
    )
    bus_map = dict(outer)
    for r, n, i in zip(rows, names, new, strict=True):
        bid, d = f"power/bus/{n}", district_of[pos[r]]
        x, y = float(xy[pos[r], 0]), float(xy[pos[r], 1])
        bus_map[r] = int(i)
        b.bus_index[bid] = int(i)
        b.bus_xy[bid] = (x, y)
        if r in has_load:
            b.load_buses.setdefault(d, []).append(bid)
        b.assets.append(make_asset(bid, "power", "bus", x, y, d, capacity=float(sub.bus.at[r, "vn_kv"]),
                                   capacity_unit="load_bus" if r in has_load else "busbar"))

    def where(r: int) -> tuple[float, float, str]:
        """Position and district of a bus row of ``sub`` (an outer one: its region bus)."""
        if r in outer:
            name = str(net.bus.at[outer[r], "name"])
            x, y = b.bus_xy[name]
            return x, y, _district_of(net, outer[r])
        return float(xy[pos[r], 0]), float(xy[pos[r], 1]), district_of[pos[r]]

    ln = sub.line
    line_map: dict[int, int] = {}
    if len(ln):
        lids = [f"power/line/{tag}-{k}" for k in range(1, len(ln) + 1)]
        created = pp.create_lines_from_parameters(
            net, [bus_map[int(f)] for f in ln.from_bus], [bus_map[int(t)] for t in ln.to_bus],
            length_km=ln.length_km.to_numpy(), r_ohm_per_km=ln.r_ohm_per_km.to_numpy(),
            x_ohm_per_km=ln.x_ohm_per_km.to_numpy(), c_nf_per_km=ln.c_nf_per_km.to_numpy(),
            max_i_ka=ln.max_i_ka.to_numpy(), name=lids, type=ln["type"].astype(str).tolist(),
            parallel=ln.parallel.to_numpy(), g_us_per_km=ln.g_us_per_km.to_numpy(),
            std_type=ln.std_type.astype(str).tolist(),
        )
        for row, lid, idx in zip(ln.index, lids, created, strict=True):
            line_map[int(row)] = int(idx)
            (xa, ya, d), (xb, yb, _) = where(int(ln.at[row, "from_bus"])), where(int(ln.at[row, "to_bus"]))
            b.assets.append(line_asset(lid, net, int(idx), (xa + xb) / 2, (ya + yb) / 2, d))
    trafo_map: dict[int, int] = {}
    tr = sub.trafo
    for row in tr.index:
        if lv:
            tid = f"power/trafo/{tag}"
        else:
            ids.hv_trafos += 1
            tid = f"power/trafo/TR{ids.hv_trafos}"
        hv, lvb = int(tr.at[row, "hv_bus"]), int(tr.at[row, "lv_bus"])
        vn_hv = float(net.bus.at[bus_map[hv], "vn_kv"])
        idx = pp.create_transformer_from_parameters(
            net, bus_map[hv], bus_map[lvb], sn_mva=float(tr.at[row, "sn_mva"]), vn_hv_kv=vn_hv,
            vn_lv_kv=float(tr.at[row, "vn_lv_kv"]), vkr_percent=float(tr.at[row, "vkr_percent"]),
            vk_percent=float(tr.at[row, "vk_percent"]), pfe_kw=float(tr.at[row, "pfe_kw"]),
            i0_percent=float(tr.at[row, "i0_percent"]), shift_degree=float(tr.at[row, "shift_degree"]),
            tap_side=tr.at[row, "tap_side"], tap_neutral=tr.at[row, "tap_neutral"],
            tap_min=tr.at[row, "tap_min"], tap_max=tr.at[row, "tap_max"],
            tap_step_percent=tr.at[row, "tap_step_percent"], tap_pos=tr.at[row, "tap_pos"],
            tap_changer_type="Ratio", name=tid, std_type=str(tr.at[row, "std_type"]),
        )
        trafo_map[int(row)] = int(idx)
        x, y, d = where(lvb)
        b.assets.append(make_asset(tid, "power", "trafo", x, y, d, capacity=float(tr.at[row, "sn_mva"]),
                                   capacity_unit="MVA", critical=not lv))
    _switches(b, sub, tag, bus_map, line_map, trafo_map, outer, where, lv)
    _loads(b, sub, bus_map, households, where, ids, HOUSEHOLD_MEAN_KW, TAN_PHI)
    return bus_map


def _switches(b: object, sub: object, tag: str, bus_map: dict[int, int], line_map: dict[int, int],
              trafo_map: dict[int, int], outer: dict[int, int], where: object, lv: bool) -> None:
    """SimBench's switches with their types and normal states; the HV bus coupler (both
    ends on the region's HV bus) is left out, the HV side breaker of a transformer is
    ``power/switch/TR<k>``; a breaker on an overhead line recloses."""
    import pandapower as pp

    net, sw = b.net, sub.switch
    rows: list[tuple[int, int, str, bool, str, str, bool]] = []
    k = 0
    for row in sw.index:
        bus, et, element = int(sw.at[row, "bus"]), str(sw.at[row, "et"]), int(sw.at[row, "element"])
        if et == "b" and bus in outer and element in outer:
            continue
        target = {"b": bus_map, "l": line_map, "t": trafo_map}[et].get(element)
        if target is None:
            continue
        kind = str(sw.at[row, "type"]) if isinstance(sw.at[row, "type"], str) else "LBS"
        if et == "t" and bus in outer and not lv:
            sid = str(net.trafo.at[target, "name"]).replace("/trafo/", "/switch/")
        else:
            k += 1
            sid = f"power/switch/{tag}-{k}"
        closed = bool(sw.at[row, "closed"])
        overhead = et == "l" and str(net.line.at[target, "type"]) == "ol"
        rows.append((bus_map[bus], target, et, closed, kind, sid, bool(kind == "CB" and overhead)))
        x, y, d = where(bus)
        b.assets.append(make_asset(sid, "power", "switch", x, y, d, capacity=1.0 if closed else 0.0,
                                   capacity_unit="closed", needs_ict=True))
    if rows:
        buses, elements, ets, closed, kinds, names, reclosers = (list(c) for c in zip(*rows, strict=True))
        pp.create_switches(net, buses, elements, et=ets, closed=closed, type=kinds, name=names,
                           recloser=reclosers)


def _loads(b: object, sub: object, bus_map: dict[int, int], households: dict[int, int], where: object,
           ids: _Ids, mean_kw: float, tan_phi: float) -> None:
    """One household load per SimBench load row that got households."""
    import pandapower as pp

    rows = [int(r) for r in sub.load.index if households.get(int(r), 0) > 0]
    if not rows:
        return
    buses, names, districts, p_mw, hhs, profiles = [], [], [], [], [], []
    for row in rows:
        hh, bus = households[row], int(sub.load.at[row, "bus"])
        x, y, d = where(bus)
        lid = f"power/load/{ids.load(d)}"
        p = round(hh * mean_kw / 1000.0, 6)
        buses.append(bus_map[bus])
        names.append(lid)
        districts.append(d)
        p_mw.append(p)
        hhs.append(int(hh))
        profiles.append(str(sub.load.at[row, "profile"]))  # SimBench's own (models/power/sbprofiles.py)
        b.assets.append(make_asset(lid, "power", "load", x, y, d, customers=hh, capacity=p, capacity_unit="MW"))
    pp.create_loads(b.net, buses, p_mw=p_mw, q_mvar=[round(p * tan_phi, 6) for p in p_mw], name=names,
                    district=districts, customers=hhs, critical=[False] * len(rows),
                    category=["household"] * len(rows), profile=profiles)

def _district_of(net: object, bus: int) -> str:
    """A region bus's district: its ``district`` column, else ``city`` (the substation)."""
    if "district" in net.bus and isinstance(net.bus.at[bus, "district"], str):
        return str(net.bus.at[bus, "district"])
    return "city"


def choose_grid(codes: tuple[str, ...], peak_mw: float) -> tuple[str, int]:
    """The smallest grid whose design peak carries ``peak_mw``, else copies of the largest."""
    for code in codes:
        if peak_mw <= design_of(code).peak_mw * DESIGN_MARGIN:
            return code, 1
    cap = design_of(codes[-1]).peak_mw * DESIGN_MARGIN
    return codes[-1], max(1, math.ceil(peak_mw / cap))


def _sub_circle(centre: tuple[float, float], radius: float, c: int, n: int) -> tuple[tuple[float, float], float]:
    """Copy ``c`` of ``n`` of a grid over one district: a sector of its circle."""
    if n == 1:
        return centre, radius
    a = 2.0 * math.pi * c / n
    return (centre[0] + 0.5 * radius * math.cos(a), centre[1] + 0.5 * radius * math.sin(a)), 0.5 * radius


def _attach_lv(b: object, mv_bus: int, district: str, households: int, profile: str, ids: _Ids) -> None:
    """Replace an MV load by the SimBench LV grid its profile names, fed from ``mv_bus``."""
    lvn = sb_net(LV_CODE_OF_PROFILE[profile])
    ids.lv += 1
    name = str(b.net.bus.at[mv_bus, "name"])
    xy = place(lvn, b.bus_xy[name], LV_RADIUS_M)
    outer = {int(r): mv_bus for r in lvn.bus.index[lvn.bus.vn_kv >= 1.0]}
    shares = split_weighted(households, lvn.load.p_mw.tolist())
    append_net(b, lvn, xy, [district] * len(lvn.bus), f"LV{ids.lv}", outer, ids,
               dict(zip((int(n) for n in lvn.load.index), shares, strict=True)), lv=True)


def _pick_lv(sub: object, households: dict[int, int], wanted: int) -> list[int]:
    """``wanted`` load rows standing for an LV grid, evenly spread over the grid's loads."""
    cands = [int(n) for n in sub.load.index
             if str(sub.load.at[n, "profile"]).startswith("lv_") and households.get(int(n), 0) > 0
             and str(sub.load.at[n, "profile"]) in LV_CODE_OF_PROFILE]
    k = min(wanted, len(cands))
    return [cands[int(i * len(cands) / k)] for i in range(k)] if k else []


def lay_simbench(b: object, hv_bid: str) -> str:
    """Lay the region's grid from SimBench areas on HV bus ``hv_bid``; return the bus id of
    the first city substation's MV side (where the water plant's feeder starts)."""
    from twin.models.power.build import FACILITY_LOADS_MW, _district_peak_mw, _split

    layout = b.layout
    spec = layout.spec
    ids = _Ids()
    hv = b.bus_index[hv_bid]
    lv_left = spec.lv_grids if spec is not None else 0
    city = layout.district("city")
    groups: list[tuple[list[District], tuple[str, ...]]] = [([city], (MV_URBAN,))]
    groups += [([t, *layout.villages_of(t.id)], TOWN_CODES) for t in layout.towns]
    area, first_mv = 0, ""
    for districts, codes in groups:
        peak = sum(_district_peak_mw(d) for d in districts)
        if districts[0].kind == "city":
            peak += sum(FACILITY_LOADS_MW.values())
        code, copies = choose_grid(codes, peak)
        centre, radius = group_circle(districts)
        per_copy = {d.id: _split(d.households, copies) for d in districts}
        for c in range(copies):
            area += 1
            sub = sb_net(code)
            xy = place(sub, *_sub_circle(centre, radius, c, copies))
            pos = {int(r): k for k, r in enumerate(sub.bus.index)}
            load_rows = np.array(sorted({pos[int(r)] for r in sub.load.bus}))
            district_of = assign_districts(xy, districts, load_rows)
            households: dict[int, int] = {}
            for d in districts:
                rows = [int(n) for n, bus in zip(sub.load.index, sub.load.bus, strict=True)
                        if district_of[pos[int(bus)]] == d.id]
                shares = split_weighted(per_copy[d.id][c], sub.load.p_mw.loc[rows].tolist())
                households.update(zip(rows, shares, strict=True))
            lv_rows = []
            if districts[0].kind == "city" and lv_left > 0:
                lv_rows = _pick_lv(sub, households, math.ceil(lv_left / (copies - c)))
                lv_left -= len(lv_rows)
            lv_households = {n: households.pop(n) for n in lv_rows}
            outer = {int(r): hv for r in sub.bus.index[sub.bus.vn_kv >= HV_MIN_KV]}
            bus_map = append_net(b, sub, xy, district_of, f"S{area}", outer, ids, households, lv=False)
            if not first_mv:
                first_mv = str(b.net.bus.at[bus_map[int(sub.trafo.lv_bus.iloc[0])], "name"])
            for n, hh in lv_households.items():
                bus = int(sub.load.at[n, "bus"])
                _attach_lv(b, bus_map[bus], district_of[pos[bus]], hh, str(sub.load.at[n, "profile"]), ids)
    return first_mv
