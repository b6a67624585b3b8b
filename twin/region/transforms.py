"""Configuration transforms of an imported region: what a configuration's build-time
parameters (:class:`~twin.region.params.ConfigurationParams`) add to the user's grid, with the
same parameters, element conventions and cost accounting as the generated builders
(``twin.models.power.build``).

- **Prosumers.** Each household load (an MV load stands for an MV/LV substation: households =
  ``p_mw × scaling / 1.2 kW``, or the file's ``customers`` column) gets rooftop PV
  (``pv_kw_per_household``) and home batteries (``battery_kwh_per_household``, C-rate
  ``HOME_BATTERY_C_RATE``) for ``round(households × prosumer_share)`` prosumers, on the
  load's bus. Elements carry the district's asset id as ``name`` (``power/pv/<district>``,
  ``power/battery/<district>``), one asset per district, as in generated regions.
- **Microgrids.** Anchor towns (districts of kind ``town``: at least a quarter of the city's
  population, docs/regions.md "Districts") when ``microgrid_towns``, villages when
  ``microgrid_villages``: a grid-forming community battery (``power/microgrid/<district>``,
  ``community_battery_kwh_per_household`` × the district's households, C-rate
  ``MICROGRID_C_RATE``) at the district's load bus nearest its centre.

``centralised`` (prosumer share 0, no microgrids) leaves the grid as imported. Wells and tanks:
:mod:`twin.region.transforms_water`; edge controllers: the generated ICT layer reads the same
parameters, and :func:`twin.region.importers.ict.add_edge_controllers` adds them to a user's
ICT graph.
"""

from __future__ import annotations

import math
from typing import Any

from twin.region.assets import Asset, make_asset
from twin.region.layout import District
from twin.region.params import ConfigurationParams


def _bus_index(net: Any) -> dict[str, int]:
    return {str(n): int(i) for i, n in net.bus["name"].items()}


def _free_id(base: str, taken: set[str]) -> str:
    """``base``, or ``base-2``, ``base-3`` ... when the imported grid already uses it."""
    aid, k = base, 1
    while aid in taken:
        k += 1
        aid = f"{base}-{k}"
    taken.add(aid)
    return aid


def add_prosumers(net: Any, assets: list[Asset], params: ConfigurationParams) -> list[Asset]:
    """Rooftop PV and home batteries on ``prosumer_share`` of every household load."""
    import pandapower as pp

    from twin.models.power.build import HOME_BATTERY_C_RATE

    if params.prosumer_share <= 0:
        return []
    taken = {a["id"] for a in assets}
    bus_xy = {a["id"]: (a["x_m"], a["y_m"]) for a in assets if a["type"] == "bus"}
    per_district: dict[str, dict[str, Any]] = {}
    bus_name = {i: n for n, i in _bus_index(net).items()}
    for i in net.load.index:
        if str(net.load.at[i, "category"]) != "household":
            continue
        n = round(int(net.load.at[i, "customers"]) * params.prosumer_share)
        if n <= 0:
            continue
        d = str(net.load.at[i, "district"])
        acc = per_district.setdefault(d, {"n": 0, "xy": [], "rows": []})
        acc["n"] += n
        bus = int(net.load.at[i, "bus"])
        acc["xy"].append(bus_xy[bus_name[bus]])
        acc["rows"].append((bus, n))
    out: list[Asset] = []
    for d, acc in sorted(per_district.items()):
        pv_id = _free_id(f"power/pv/{d}", taken)
        bat_id = _free_id(f"power/battery/{d}", taken)
        for bus, n in acc["rows"]:
            kw = n * params.pv_kw_per_household
            if kw > 0:
                pp.create_sgen(net, bus, p_mw=round(kw / 1000.0, 6), sn_mva=round(kw / 1000.0, 6),
                               name=pv_id, type="PV", district=d, customers=int(n))
            e = n * params.battery_kwh_per_household / 1000.0
            if e > 0:
                pp.create_storage(net, bus, p_mw=0.0, max_e_mwh=round(e, 6), soc_percent=100.0,
                                  min_e_mwh=0.0, max_p_mw=round(e * HOME_BATTERY_C_RATE, 6),
                                  min_p_mw=-round(e * HOME_BATTERY_C_RATE, 6), name=bat_id,
                                  type="home", district=d, customers=int(n))
        x = sum(p[0] for p in acc["xy"]) / len(acc["xy"])
        y = sum(p[1] for p in acc["xy"]) / len(acc["xy"])
        pv_mw = acc["n"] * params.pv_kw_per_household / 1000.0
        e_mwh = acc["n"] * params.battery_kwh_per_household / 1000.0
        if pv_mw > 0:
            out.append(make_asset(pv_id, "power", "pv", x, y, d, customers=acc["n"],
                                  capacity=round(pv_mw, 6), capacity_unit="MW", needs_ict=True))
        if e_mwh > 0:
            out.append(make_asset(bat_id, "power", "battery", x, y, d, customers=acc["n"],
                                  capacity=round(e_mwh, 6), capacity_unit="MWh", needs_ict=True))
    return out


def microgrid_districts(districts: list[District], params: ConfigurationParams) -> list[District]:
    """The districts that get a community microgrid under these parameters."""
    return [d for d in districts
            if (d.kind == "town" and params.microgrid_towns) or (d.kind == "village" and params.microgrid_villages)]


def add_microgrids(net: Any, assets: list[Asset], districts: list[District],
                   params: ConfigurationParams) -> list[Asset]:
    """A grid-forming community battery in each microgrid district, at its central load bus."""
    import pandapower as pp

    from twin.models.power.build import MICROGRID_C_RATE, POWER_FACTOR

    if params.community_battery_kwh_per_household <= 0:
        return []
    taken = {a["id"] for a in assets}
    index = _bus_index(net)
    out: list[Asset] = []
    for d in microgrid_districts(districts, params):
        buses = [a for a in assets if a["type"] == "bus" and a["capacity_unit"] == "load_bus"
                 and a["district"] == d.id]
        if not buses:
            continue
        bus = min(buses, key=lambda a: (math.hypot(a["x_m"] - d.x_m, a["y_m"] - d.y_m), a["id"]))
        e_mwh = d.households * params.community_battery_kwh_per_household / 1000.0
        p_max = e_mwh * MICROGRID_C_RATE
        aid = _free_id(f"power/microgrid/{d.id}", taken)
        pp.create_storage(net, index[bus["id"]], p_mw=0.0, max_e_mwh=round(e_mwh, 6), soc_percent=100.0,
                          min_e_mwh=round(0.05 * e_mwh, 6), max_p_mw=round(p_max, 6),
                          min_p_mw=-round(p_max, 6), sn_mva=round(p_max / POWER_FACTOR, 6), name=aid,
                          type="grid_forming", district=d.id, customers=int(d.households))
        out.append(make_asset(aid, "power", "microgrid", bus["x_m"], bus["y_m"], d.id,
                              customers=d.households, capacity=round(e_mwh, 6), capacity_unit="MWh",
                              critical=True, needs_ict=True))
    return out


def transform_power(net: Any, assets: list[Asset], districts: list[District],
                    params: ConfigurationParams) -> list[Asset]:
    """Everything the configuration adds to the imported grid (module docstring)."""
    added = add_prosumers(net, assets, params)
    return added + add_microgrids(net, assets + added, districts, params)
