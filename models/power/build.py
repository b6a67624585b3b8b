"""Build the region's MV distribution grid as a pandapower net (``power.json``).

The grid is a realistic radial 20 kV system on the layout's map:

- the transmission connection (``power/ext_grid/grid``) on a 110 kV bus at the substation,
  one or more 110/20 kV transformers (``power/trafo/TR<k>``) feeding the MV busbar;
- a few underground cable feeders through the city (``F1 .. Fc``), several load buses each;
- one overhead feeder per anchor town (``F<c+1> ..``): a line to the town, cables between
  the town's buses, and an overhead branch to each of its villages;
- a normally closed switch at the sending end of every feeder line
  (``power/switch/F<f>-<k>``, same suffix as its line ``power/line/F<f>-<k>``) and normally
  open tie lines with a switch (``power/line/T<k>``, ``power/switch/T<k>``) between the
  ends of neighbouring feeders, so faults can be isolated and load restored by switching;
- protection (models/power/protection.py): the switch of each feeder bay (``F<f>-1``, at the
  MV busbar) is a circuit breaker (``type="CB"``), on overhead feeders with reclosing
  (column ``recloser``); each transformer bay has a breaker ``power/switch/TR<k>`` at its
  110 kV side; all other switches are load-break sectionalisers (``LBS``), which never trip;
- each district's aggregate household load split over the district's load buses
  (``power/load/<district>-<k>``), and the critical facilities (hospital, control centre,
  water plant) as critical loads;
- configuration-dependent assets from :class:`ConfigurationParams`: rooftop PV
  (``power/pv/<district>``) and home batteries (``power/battery/<district>``), aggregated per
  district and spread over its load buses (several pandapower elements share the asset id
  as ``name``); grid-forming community batteries (``power/microgrid/<district>``) that can
  island a district; in ``centralised`` and ``centralised_hardened`` a central plant
  (``power/plant/central``) at the water plant, which needs process water; with
  ``substation_n1`` one transformer more than the peak needs (N-1).

Extra columns in the net's tables carry what the simulator needs and pandapower ignores:
``district``, ``customers`` (households), ``critical``, ``category`` and ``profile`` (loads;
the SimBench profile a load follows, models/power/sbprofiles.py), ``type``
(storage: ``home`` or ``grid_forming``). Every element's ``name`` is its asset id.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass, field
from pathlib import Path

from twin.models.power.sbprofiles import FACILITY_PROFILES, HOUSEHOLD_PROFILES, PEAK_FACTOR
from twin.region.assets import SECTOR_FILES, Asset, make_asset
from twin.region.layout import District, Layout
from twin.region.params import CENTRAL_PLANT_CONFIGURATIONS, ConfigurationParams

log = logging.getLogger(__name__)

HOUSEHOLD_MEAN_KW = 1.2  # mean household demand; the simulator applies a daily profile
POWER_FACTOR = 0.95
TAN_PHI = math.tan(math.acos(POWER_FACTOR))
VN_HV_KV = 110.0
VN_MV_KV = 20.0
EXT_GRID_VM_PU = 1.03

TRAFO_TYPE = "63 MVA 110/20 kV"
TRAFO_SN_MVA = 63.0
TRAFO_MAX_LOADING = 0.6  # transformers sized so that peak load loads them to at most this
CITY_CABLE = "NA2XS2Y 1x240 RM/25 12/20 kV"
TOWN_CABLE = "NA2XS2Y 1x185 RM/25 12/20 kV"
MAIN_OVERHEAD = "243-AL1/39-ST1A 20.0"
VILLAGE_OVERHEAD = "94-AL1/15-ST1A 20.0"
CITY_FEEDER_PEAK_MW = 7.0  # peak load per city cable feeder (cable carries ~14 MVA)
TOWN_CIRCUIT_PEAK_MW = 6.0  # peak load per overhead circuit to a town (voltage drop)

# Critical facilities that are loads of the power grid (mean MW); pumps, ICT sites and
# signals arrive later through add_coupled_loads.
FACILITY_LOADS_MW: dict[str, float] = {"hospital": 0.8, "control_centre": 0.15, "water_plant": 0.4}
FACILITY_CATEGORY: dict[str, str] = {
    "hospital": "hospital", "control_centre": "control", "water_plant": "water",
}

MICROGRID_C_RATE = 0.75  # community battery power per energy, MW per MWh
HOME_BATTERY_C_RATE = 0.5  # home battery power per energy, MW per MWh
CENTRAL_PLANT_SHARE = 0.3  # central plant rating as a share of the region's peak load
CENTRAL_PLANT_MAX_MW = 10.0  # what its dedicated cable feeder carries


class PowerBuildError(RuntimeError):
    """The power grid could not be built or does not solve for this layout."""


@dataclass
class _Builder:
    """Accumulates the net and the asset records while the grid is laid out."""

    layout: Layout
    net: object
    assets: list[Asset] = field(default_factory=list)
    bus_index: dict[str, int] = field(default_factory=dict)
    bus_xy: dict[str, tuple[float, float]] = field(default_factory=dict)
    load_buses: dict[str, list[str]] = field(default_factory=dict)  # district -> bus ids
    feeder_ends: dict[int, list[str]] = field(default_factory=dict)  # feeder -> bus ids

    def bus(self, name: str, x: float, y: float, district: str, vn_kv: float = VN_MV_KV,
            load_bus: bool = True) -> str:
        import pandapower as pp

        bid = f"power/bus/{name}"
        self.bus_index[bid] = pp.create_bus(
            self.net, vn_kv=vn_kv, name=bid, geodata=(round(x, 1), round(y, 1)), type="b",
        )
        self.bus_xy[bid] = (x, y)
        if load_bus:
            self.load_buses.setdefault(district, []).append(bid)
        self.assets.append(make_asset(
            bid, "power", "bus", x, y, district, capacity=vn_kv, capacity_unit="load_bus" if load_bus else "busbar",
        ))
        return bid

    def line(self, lid: str, a: str, b: str, std_type: str, district: str,
             switch: str | None, closed: bool = True, parallel: int = 1, breaker: bool = False) -> None:
        """A line with an optional switch at its sending end; ``breaker``: a circuit breaker
        (a recloser on an overhead line) instead of a load-break switch."""
        import pandapower as pp

        (xa, ya), (xb, yb) = self.bus_xy[a], self.bus_xy[b]
        length_km = max(0.05, math.hypot(xb - xa, yb - ya) / 1000.0 * 1.15)  # routing detour
        idx = pp.create_line(
            self.net, self.bus_index[a], self.bus_index[b], length_km=round(length_km, 3),
            std_type=std_type, name=f"power/line/{lid}", parallel=parallel,
        )
        max_i_ka = float(self.net.line.at[idx, "max_i_ka"]) * parallel
        vn_kv = float(self.net.bus.at[self.bus_index[a], "vn_kv"])
        self.assets.append(make_asset(
            f"power/line/{lid}", "power", "line", (xa + xb) / 2, (ya + yb) / 2, district,
            capacity=round(math.sqrt(3) * vn_kv * max_i_ka, 3), capacity_unit="MVA",
            underground=self.net.line.at[idx, "type"] == "cs",  # pandapower: cs cable, ol overhead
        ))
        self.assets[-1]["length_km"] = round(length_km, 3)  # per-km wind fragility
        if switch is not None:
            overhead = str(self.net.line.at[idx, "type"]) == "ol"
            pp.create_switch(
                self.net, self.bus_index[a], idx, et="l", closed=closed, type="CB" if breaker else "LBS",
                name=f"power/switch/{switch}", recloser=bool(breaker and overhead),
            )
            self.assets.append(make_asset(
                f"power/switch/{switch}", "power", "switch", xa, ya, district,
                capacity=1.0 if closed else 0.0, capacity_unit="closed", needs_ict=True,
            ))


def _district_peak_mw(d: District) -> float:
    return d.households * HOUSEHOLD_MEAN_KW / 1000.0 * PEAK_FACTOR


def _city_feeders(b: _Builder, first_feeder: int, mv: str) -> int:
    """Lay radial cable feeders from the substation through the city; return their count."""
    city = b.layout.district("city")
    sub = b.layout.facility("substation")
    peak = _district_peak_mw(city) + sum(FACILITY_LOADS_MW.values()) * 1.2
    n_feeders = max(2, math.ceil(peak / CITY_FEEDER_PEAK_MW))
    n_buses = 3 if city.radius_m < 2000 else 4
    toward = math.atan2(city.y_m - sub.y_m, city.x_m - sub.x_m)
    reach = 2.0 * city.radius_m
    spread = math.radians(100.0)
    k = 0
    for i in range(n_feeders):
        f = first_feeder + i
        angle = toward + (i - (n_feeders - 1) / 2) * spread / max(1, n_feeders - 1)
        prev = mv
        for j in range(1, n_buses + 1):
            k += 1
            dist = reach * j / n_buses
            bid = b.bus(f"city-{k}", sub.x_m + dist * math.cos(angle), sub.y_m + dist * math.sin(angle), "city")
            b.line(f"F{f}-{j}", prev, bid, CITY_CABLE, "city", switch=f"F{f}-{j}", breaker=j == 1)
            b.feeder_ends.setdefault(f, []).append(bid)
            prev = bid
    return n_feeders


def _town_feeder(b: _Builder, f: int, town: District, mv: str) -> None:
    """One overhead feeder: substation -> town (3 buses on cables) -> each village."""
    sub = b.layout.facility("substation")
    ux, uy = sub.x_m - town.x_m, sub.y_m - town.y_m
    norm = math.hypot(ux, uy) or 1.0
    ux, uy = ux / norm, uy / norm
    r = town.radius_m
    points = [(town.x_m + 0.6 * r * ux, town.y_m + 0.6 * r * uy), (town.x_m, town.y_m),
              (town.x_m - 0.6 * r * ux + 0.3 * r * uy, town.y_m - 0.6 * r * uy - 0.3 * r * ux)]
    feeder_peak = _district_peak_mw(town) + sum(
        _district_peak_mw(v) for v in b.layout.villages_of(town.id)
    )
    circuits = max(1, math.ceil(feeder_peak / TOWN_CIRCUIT_PEAK_MW))
    prev, j = mv, 0
    for k, (x, y) in enumerate(points, start=1):
        j += 1
        bid = b.bus(f"{town.id}-{k}", x, y, town.id)
        b.line(f"F{f}-{j}", prev, bid, MAIN_OVERHEAD if k == 1 else TOWN_CABLE, town.id,
               switch=f"F{f}-{j}", parallel=circuits if k == 1 else 1, breaker=k == 1)
        b.feeder_ends.setdefault(f, []).append(bid)
        prev = bid
    hub = prev
    for village in b.layout.villages_of(town.id):
        j += 1
        bid = b.bus(f"{village.id}-1", village.x_m, village.y_m, village.id)
        b.line(f"F{f}-{j}", hub, bid, VILLAGE_OVERHEAD, village.id, switch=f"F{f}-{j}")
        b.feeder_ends.setdefault(f, []).append(bid)


def _nearest_pair(b: _Builder, group_a: list[str], group_b: list[str]) -> tuple[str, str]:
    best = min(
        ((math.dist(b.bus_xy[x], b.bus_xy[y]), x, y) for x in group_a for y in group_b),
        key=lambda t: (t[0], t[1], t[2]),
    )
    return best[1], best[2]


def _tie_lines(b: _Builder, city_feeders: list[int], town_feeders: list[int]) -> None:
    """Normally open ties: neighbouring city feeder ends, each town to the city, town to town."""
    k = 0
    for fa, fb in zip(city_feeders, city_feeders[1:], strict=False):
        k += 1
        b.line(f"T{k}", b.feeder_ends[fa][-1], b.feeder_ends[fb][-1], CITY_CABLE, "city",
               switch=f"T{k}", closed=False)
    city_buses = [x for f in city_feeders for x in b.feeder_ends[f]]
    for f in town_feeders:
        k += 1
        a, c = _nearest_pair(b, b.feeder_ends[f][:1], city_buses)
        b.line(f"T{k}", a, c, MAIN_OVERHEAD, "city", switch=f"T{k}", closed=False)
    pairs = list(zip(town_feeders, town_feeders[1:], strict=False))
    if len(town_feeders) > 2:
        pairs.append((town_feeders[-1], town_feeders[0]))
    for fa, fb in pairs:
        k += 1
        a, c = _nearest_pair(b, b.feeder_ends[fa], b.feeder_ends[fb])
        district = next(a_["district"] for a_ in b.assets if a_["id"] == a)
        b.line(f"T{k}", a, c, VILLAGE_OVERHEAD, district, switch=f"T{k}", closed=False)


def _nearest_bus(b: _Builder, x: float, y: float, district: str | None = None) -> str:
    candidates = [
        bid for d, buses in b.load_buses.items() if district is None or d == district for bid in buses
    ]
    return min(candidates, key=lambda bid: (math.dist(b.bus_xy[bid], (x, y)), bid))


def _loads(b: _Builder) -> None:
    """Household loads per district (split over its buses) and the critical facilities."""
    _household_loads(b)
    _facility_loads(b)


def _household_loads(b: _Builder) -> None:
    """Each district's households split evenly over its load buses (synthetic grid)."""
    import pandapower as pp

    for d in b.layout.districts:
        buses = [x for x in b.load_buses[d.id] if x.startswith(f"power/bus/{d.id}-")]
        shares = _split(d.households, len(buses))
        for k, (bid, hh) in enumerate(zip(buses, shares, strict=True), start=1):
            p_mw = hh * HOUSEHOLD_MEAN_KW / 1000.0
            lid = f"power/load/{d.id}-{k}"
            pp.create_load(
                b.net, b.bus_index[bid], p_mw=round(p_mw, 6), q_mvar=round(p_mw * TAN_PHI, 6),
                name=lid, district=d.id, customers=int(hh), critical=False, category="household",
                profile=HOUSEHOLD_PROFILES[d.kind],
            )
            x, y = b.bus_xy[bid]
            b.assets.append(make_asset(
                lid, "power", "load", x, y, d.id, customers=hh, capacity=round(p_mw, 6), capacity_unit="MW",
            ))


def _facility_loads(b: _Builder) -> None:
    """The critical facilities as critical loads: the water plant on its own bus, the
    others on the nearest load bus of their district."""
    import pandapower as pp

    for fid, p_mw in FACILITY_LOADS_MW.items():
        fac = b.layout.facility(fid)
        if fid == "water_plant":
            bid = "power/bus/water_plant"
        else:
            bid = _nearest_bus(b, fac.x_m, fac.y_m, fac.district)
        lid = f"power/load/{fid}"
        pp.create_load(
            b.net, b.bus_index[bid], p_mw=p_mw, q_mvar=round(p_mw * TAN_PHI, 6), name=lid,
            district=fac.district, customers=0, critical=True, category=FACILITY_CATEGORY[fid],
            profile=FACILITY_PROFILES[fid],
        )
        b.assets.append(make_asset(
            lid, "power", "load", fac.x_m, fac.y_m, fac.district, capacity=p_mw,
            capacity_unit="MW", critical=True,
        ))


def _split(total: int, parts: int) -> list[int]:
    base, rest = divmod(total, parts)
    return [base + (1 if i < rest else 0) for i in range(parts)]


def _prosumers(b: _Builder, params: ConfigurationParams) -> None:
    """Rooftop PV and home batteries per district, spread over its load buses."""
    import pandapower as pp

    if params.prosumer_share <= 0:
        return
    households = b.net.load[b.net.load.category == "household"].groupby("bus")["customers"].sum().to_dict()
    pv: list[tuple[int, float, str, str, int]] = []  # created at once: thousands of buses in a city
    batteries: list[tuple[int, float, float, str, str, int]] = []
    for d in b.layout.districts:
        prosumers = round(d.households * params.prosumer_share)
        if prosumers == 0:
            continue
        buses = [x for x in b.load_buses[d.id] if x.startswith(f"power/bus/{d.id}-")]
        if b.layout.grid == "simbench":  # households differ from bus to bus: follow them
            from twin.models.power.simbench import split_weighted

            shares = split_weighted(prosumers, [households.get(b.bus_index[x], 0) for x in buses])
        else:
            shares = _split(prosumers, len(buses))
        x, y = d.x_m, d.y_m
        pv_mw = prosumers * params.pv_kw_per_household / 1000.0
        e_mwh = prosumers * params.battery_kwh_per_household / 1000.0
        for bid, n in zip(buses, shares, strict=True):
            if n == 0:
                continue
            if pv_mw > 0:
                pv.append((b.bus_index[bid], round(n * params.pv_kw_per_household / 1000.0, 6),
                           f"power/pv/{d.id}", d.id, int(n)))
            if e_mwh > 0:
                e = n * params.battery_kwh_per_household / 1000.0
                batteries.append((b.bus_index[bid], round(e, 6), round(e * HOME_BATTERY_C_RATE, 6),
                                  f"power/battery/{d.id}", d.id, int(n)))
        if pv_mw > 0:
            b.assets.append(make_asset(
                f"power/pv/{d.id}", "power", "pv", x, y, d.id, customers=prosumers,
                capacity=round(pv_mw, 6), capacity_unit="MW", needs_ict=True,
            ))
        if e_mwh > 0:
            b.assets.append(make_asset(
                f"power/battery/{d.id}", "power", "battery", x, y, d.id, customers=prosumers,
                capacity=round(e_mwh, 6), capacity_unit="MWh", needs_ict=True,
            ))
    if pv:
        bus, p_mw, name, district, customers = (list(c) for c in zip(*pv, strict=True))
        pp.create_sgens(b.net, bus, p_mw=p_mw, sn_mva=p_mw, name=name, type="PV", district=district,
                        customers=customers)
    if batteries:
        bus, e, p_max, name, district, customers = (list(c) for c in zip(*batteries, strict=True))
        pp.create_storages(b.net, bus, p_mw=0.0, max_e_mwh=e, soc_percent=100.0, min_e_mwh=0.0,
                           max_p_mw=p_max, min_p_mw=[-p for p in p_max], name=name, type="home",
                           district=district, customers=customers)


def _microgrids(b: _Builder, params: ConfigurationParams) -> None:
    """A grid-forming community battery in each microgrid district, at its central bus."""
    import pandapower as pp

    for d in b.layout.districts:
        wanted = (d.kind == "town" and params.microgrid_towns) or (
            d.kind == "village" and params.microgrid_villages
        )
        if not wanted or params.community_battery_kwh_per_household <= 0:
            continue
        e_mwh = d.households * params.community_battery_kwh_per_household / 1000.0
        bid = _nearest_bus(b, d.x_m, d.y_m, d.id)
        p_max = e_mwh * MICROGRID_C_RATE
        pp.create_storage(
            b.net, b.bus_index[bid], p_mw=0.0, max_e_mwh=round(e_mwh, 6), soc_percent=100.0,
            min_e_mwh=round(0.05 * e_mwh, 6), max_p_mw=round(p_max, 6), min_p_mw=-round(p_max, 6),
            sn_mva=round(p_max / POWER_FACTOR, 6), name=f"power/microgrid/{d.id}",
            type="grid_forming", district=d.id, customers=int(d.households),
        )
        x, y = b.bus_xy[bid]
        b.assets.append(make_asset(
            f"power/microgrid/{d.id}", "power", "microgrid", x, y, d.id, customers=d.households,
            capacity=round(e_mwh, 6), capacity_unit="MWh", critical=True, needs_ict=True,
        ))


def _central_plant(b: _Builder) -> None:
    """Central generation at the water plant (it needs process water: water -> power)."""
    import pandapower as pp

    peak = sum(_district_peak_mw(d) for d in b.layout.districts)
    p_mw = round(min(CENTRAL_PLANT_MAX_MW, CENTRAL_PLANT_SHARE * peak), 3)
    bid = "power/bus/water_plant"
    pp.create_gen(
        b.net, b.bus_index[bid], p_mw=p_mw, vm_pu=1.0, sn_mva=round(p_mw / 0.85, 3),
        max_p_mw=p_mw, min_p_mw=0.0, max_q_mvar=p_mw * 0.6, min_q_mvar=-p_mw * 0.6,
        name="power/plant/central", district="city",
    )
    x, y = b.bus_xy[bid]
    b.assets.append(make_asset(
        "power/plant/central", "power", "plant", x, y, "city", capacity=p_mw, capacity_unit="MW",
        critical=True, needs_ict=True,
    ))


def build_net(layout: Layout, params: ConfigurationParams, configuration: str) -> tuple[object, list[Asset]]:
    """Lay out the grid for one layout and configuration; return (net, assets).
    ``layout.grid`` chooses hand-laid feeders (``synthetic``) or SimBench grids."""
    import pandapower as pp

    net = pp.create_empty_network(name=f"twin-{layout.size}-{configuration}", f_hz=50.0)
    b = _Builder(layout=layout, net=net)
    sub = layout.facility("substation")
    hv = b.bus("hv", sub.x_m, sub.y_m, "city", vn_kv=VN_HV_KV, load_bus=False)
    mv = b.bus("sub-mv", sub.x_m + 20.0, sub.y_m, "city", load_bus=False) if layout.grid == "synthetic" else ""
    pp.create_ext_grid(net, b.bus_index[hv], vm_pu=EXT_GRID_VM_PU, name="power/ext_grid/grid")
    b.assets.append(make_asset(
        "power/ext_grid/grid", "power", "ext_grid", sub.x_m, sub.y_m, "city", critical=True,
        capacity=0.0, capacity_unit="MVA",
    ))
    if layout.grid == "simbench":
        _simbench_grid(b, hv)
    else:
        _synthetic_grid(b, hv, mv, params)
    _prosumers(b, params)
    _microgrids(b, params)
    if configuration in CENTRAL_PLANT_CONFIGURATIONS:
        _central_plant(b)
        _plant_voltage(net)
    _bus_customers(b)
    return net, b.assets


def _simbench_grid(b: _Builder, hv: str) -> None:
    """SimBench areas (models/power/simbench_region.py), the water plant's cable feeder from
    the first city substation and the critical facilities."""
    import pandapower as pp

    from twin.models.power.simbench_region import lay_simbench

    mv = lay_simbench(b, hv)
    plant = b.layout.facility("water_plant")
    vn_kv = float(b.net.bus.at[b.bus_index[mv], "vn_kv"])
    wp = b.bus("water_plant", plant.x_m, plant.y_m, plant.district, vn_kv=vn_kv)
    # the plant's feeder carries the central plant (10 MW at most): parallel cables at 10 kV
    i_ka = float(pp.load_std_type(b.net, CITY_CABLE, "line")["max_i_ka"])
    parallel = max(1, math.ceil(CENTRAL_PLANT_MAX_MW / (TRAFO_MAX_LOADING * math.sqrt(3) * vn_kv * i_ka)))
    b.line("WP-1", mv, wp, CITY_CABLE, plant.district, switch="WP-1", breaker=True, parallel=parallel)
    _facility_loads(b)


def _synthetic_grid(b: _Builder, hv: str, mv: str, params: ConfigurationParams) -> None:
    """The hand-laid grid: transformers (one more with ``substation_n1``), city cable
    feeders, the water plant's feeder, one overhead feeder per town, the households and
    facilities, and the normally open ties."""
    import pandapower as pp

    layout, net = b.layout, b.net
    sub = layout.facility("substation")
    peak = sum(_district_peak_mw(d) for d in layout.districts) + sum(FACILITY_LOADS_MW.values())
    n_trafos = max(1, math.ceil(peak / (TRAFO_SN_MVA * TRAFO_MAX_LOADING)))
    if params.substation_n1:  # N-1: the others carry the peak when any one is out
        n_trafos += 1
    for k in range(1, n_trafos + 1):
        tr = pp.create_transformer(net, b.bus_index[hv], b.bus_index[mv], std_type=TRAFO_TYPE,
                                   name=f"power/trafo/TR{k}")
        pp.create_switch(net, b.bus_index[hv], tr, et="t", closed=True, type="CB", name=f"power/switch/TR{k}",
                         recloser=False)
        b.assets.append(make_asset(
            f"power/switch/TR{k}", "power", "switch", sub.x_m, sub.y_m, "city",
            capacity=1.0, capacity_unit="closed", needs_ict=True,
        ))
        b.assets.append(make_asset(
            f"power/trafo/TR{k}", "power", "trafo", sub.x_m, sub.y_m, "city",
            capacity=TRAFO_SN_MVA, capacity_unit="MVA", critical=True,
        ))
    n_city = _city_feeders(b, 1, mv)
    city_feeders = list(range(1, n_city + 1))
    plant = layout.facility("water_plant")
    wp = b.bus("water_plant", plant.x_m, plant.y_m, plant.district)
    f_plant = n_city + 1
    b.line(f"F{f_plant}-1", mv, wp, CITY_CABLE, plant.district, switch=f"F{f_plant}-1", breaker=True)
    b.feeder_ends[f_plant] = [wp]
    town_feeders = []
    for i, town in enumerate(layout.towns):
        f = n_city + 2 + i
        _town_feeder(b, f, town, mv)
        town_feeders.append(f)
    _loads(b)
    _tie_lines(b, [*city_feeders, f_plant], town_feeders)


def _plant_voltage(net: object) -> None:
    """Set the central plant's voltage setpoint to its bus voltage at mean load when it injects
    its power at unity power factor: a fixed 1.0 pu made it absorb up to 14 Mvar (beyond its
    reactive limits, which the power flow does not enforce) and overload its own feeder."""
    import pandapower as pp

    trial = _copy(net)
    trial.gen["in_service"] = False
    for g in net.gen.index:
        pp.create_sgen(trial, int(net.gen.at[g, "bus"]), p_mw=float(net.gen.at[g, "p_mw"]), q_mvar=0.0)
    pp.runpp(trial, init="dc", numba=False)
    for g in net.gen.index:
        net.gen.at[g, "vm_pu"] = round(float(trial.res_bus.at[int(net.gen.at[g, "bus"]), "vm_pu"]), 4)


def _bus_customers(b: _Builder) -> None:
    """A bus's customers are the households of the loads on it, so a bus that goes dark
    weighs what it cuts off in customer-weighted failure counts."""
    households = {a["id"]: a["customers"] for a in b.assets if a["type"] == "load"}
    per_bus: dict[str, int] = {}
    for name, bus in zip(b.net.load["name"], b.net.load["bus"], strict=True):
        bus_id = str(b.net.bus.at[int(bus), "name"])
        per_bus[bus_id] = per_bus.get(bus_id, 0) + households.get(str(name), 0)
    for a in b.assets:
        if a["type"] == "bus":
            a["customers"] = per_bus.get(a["id"], 0)


def check_net(net: object) -> None:
    """Raise PowerBuildError unless the net solves at peak load with voltages in 0.9..1.1 pu."""
    import pandapower as pp

    trial = _copy(net)
    household = trial.load["category"] == "household"
    trial.load.loc[household, "p_mw"] *= PEAK_FACTOR
    trial.load.loc[household, "q_mvar"] *= PEAK_FACTOR
    trial.sgen["p_mw"] = 0.0
    try:
        pp.runpp(trial, init="dc", numba=False)
    except pp.LoadflowNotConverged as exc:
        raise PowerBuildError(f"built grid {net.name!r} does not converge at peak load") from exc
    vm = trial.res_bus.vm_pu
    if vm.isna().any() or vm.min() < 0.9 or vm.max() > 1.1:
        raise PowerBuildError(
            f"built grid {net.name!r} voltages out of band at peak: {vm.min():.3f}..{vm.max():.3f} pu"
        )


def _copy(net: object) -> object:
    import copy

    return copy.deepcopy(net)


def build(layout: Layout, params: ConfigurationParams, configuration: str, out_dir: Path) -> list[Asset]:
    """Write ``power.json`` for the layout and configuration into ``out_dir``; return the assets."""
    import pandapower as pp

    net, assets = build_net(layout, params, configuration)
    check_net(net)
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    pp.to_json(net, str(out_dir / SECTOR_FILES["power"]))
    log.debug("power grid: %d buses, %d lines, %d loads", len(net.bus), len(net.line), len(net.load))
    return assets


def add_coupled_loads(out_dir: Path, loads: list[tuple[str, str, float, bool]]) -> None:
    """Add one load per (consumer_id, bus_asset_id, p_mw, critical) to ``power.json``.

    The load's ``name`` is the consumer's asset id (e.g. ``water/pump/PS1``); its power is
    set each step by the coupling (``load_p_mw`` input). ``category`` is the consumer's
    sector (``water``, ``ict``, ``traffic``), which the default shedding order uses.
    """
    import pandapower as pp

    path = Path(out_dir) / SECTOR_FILES["power"]
    net = pp.from_json(str(path))
    by_name = {str(n): int(i) for i, n in net.bus["name"].items()}
    existing = set(net.load["name"].astype(str))
    for consumer_id, bus_id, p_mw, critical in loads:
        if bus_id not in by_name:
            raise KeyError(f"coupled load {consumer_id!r}: no power bus {bus_id!r}")
        if consumer_id in existing:
            raise ValueError(f"coupled load {consumer_id!r} already in {path}")
        district = _district_of_bus(net, bus_id)
        pp.create_load(
            net, by_name[bus_id], p_mw=float(p_mw), q_mvar=round(float(p_mw) * TAN_PHI, 6),
            name=consumer_id, district=district, customers=0, critical=bool(critical),
            category=consumer_id.split("/", 1)[0],
        )
        existing.add(consumer_id)
    pp.to_json(net, str(path))


def _district_of_bus(net: object, bus_id: str) -> str:
    """The district of a bus asset id (``power/bus/town1-2`` -> ``town1``)."""
    name = bus_id.rsplit("/", 1)[-1]
    if name in ("hv", "sub-mv", "water_plant"):
        return "city"
    return name.rsplit("-", 1)[0]
