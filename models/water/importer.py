"""Any EPANET ``.inp`` as a twin water network: ``water.inp`` (LPS, EPANET 2.2, PDA) plus asset
records, so foreign networks (Net1, Net3, ky10 shipped with wntr, or a utility's model) run
through the same simulator as built regions.

The importer keeps the network, its controls, patterns and demand options (demand model,
minimum and required pressure, pressure exponent) as they are and changes only what the twin
relies on: flow units (LPS, so pressures are metres), an explicit duration, and a hydraulic
and report step that divides the exchange step. Pressure bounds given to :func:`import_inp`
make the network pressure-driven with them (the caller's choice, logged); the scenario's
``[water]`` values are applied, and reported, at run time instead (docs/water.md). Asset ids are ``water/<type>/<EPANET id>``; a pump whose
suction node is a ``GW-`` reservoir is a well.
"""

from __future__ import annotations

import logging
import math
from pathlib import Path

import wntr

from twin.region.assets import SECTOR_FILES, Asset, make_asset

from .build import LITRES_PER_PERSON_DAY, pump_power_mw
from .control import pump_asset_id

logger = logging.getLogger(__name__)

_SHIPPED = ("Net1", "Net2", "Net3", "Net6", "ky4", "ky10")


class InpImportError(ValueError):
    """A foreign INP that cannot be used (missing file, unreadable network)."""


def shipped_inp(name: str) -> Path:
    """Path of an example network shipped with wntr (``Net1``, ``Net3``, ``ky10``...)."""
    if name not in _SHIPPED:
        raise InpImportError(f"wntr ships {', '.join(_SHIPPED)}; no {name!r}")
    return Path(wntr.__file__).parent / "library" / "networks" / f"{name}.inp"


def _pump_design(wn: wntr.network.WaterNetworkModel, name: str) -> tuple[float, float]:
    """(design flow m3/s, nominal MW) of a pump: the curve's middle point, or its power."""
    pump = wn.get_link(name)
    if pump.pump_type == "POWER":
        p_mw = float(pump.power) / 1e6
        return 0.0, p_mw
    points = pump.get_pump_curve().points
    q, h = points[len(points) // 2] if len(points) > 1 else points[0]
    return float(q), pump_power_mw(float(q), float(h))


def import_inp(
    src: str | Path,
    out_dir: str | Path,
    *,
    step_s: int = 300,
    hours: float = 168.0,
    minimum_pressure_m: float | None = None,
    required_pressure_m: float | None = None,
    district: str = "network",
) -> list[Asset]:
    """Write ``out_dir/water.inp`` from a foreign INP and return its asset records.

    Every asset is placed in ``district`` (a foreign network has no district map); the
    people at a junction are estimated from its base demand at 150 L/person/day. The INP's
    demand options are kept unless ``minimum_pressure_m`` or ``required_pressure_m`` is given
    (then the network is pressure-driven with them).
    """
    src = Path(src)
    if not src.is_file():
        raise InpImportError(f"no INP file at {src}")
    try:
        wn = wntr.network.WaterNetworkModel(str(src))
    except Exception as exc:  # wntr raises many types for bad files
        raise InpImportError(f"cannot read {src}: {exc}") from exc
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    opts = wn.options
    hyd_opts = opts.hydraulic
    if minimum_pressure_m is not None or required_pressure_m is not None:
        old = (hyd_opts.demand_model, hyd_opts.minimum_pressure, hyd_opts.required_pressure)
        hyd_opts.demand_model = "PDA"
        if minimum_pressure_m is not None:
            hyd_opts.minimum_pressure = float(minimum_pressure_m)
        if required_pressure_m is not None:
            hyd_opts.required_pressure = float(required_pressure_m)
        logger.warning("importing %s: demand options %s set to %s", src, old, (
            "PDA", hyd_opts.minimum_pressure, hyd_opts.required_pressure))
    opts.time.duration = int(hours * 3600)
    hyd = int(opts.time.hydraulic_timestep) or step_s
    hyd = math.gcd(hyd, int(step_s))
    opts.time.hydraulic_timestep = hyd
    opts.time.report_timestep = hyd
    opts.time.quality_timestep = min(int(opts.time.quality_timestep) or hyd, hyd)
    opts.quality.parameter = "NONE"

    assets: list[Asset] = []

    def xy(node: str) -> tuple[float, float]:
        c = wn.get_node(node).coordinates
        return (float(c[0]), float(c[1])) if c is not None else (0.0, 0.0)

    for name in wn.junction_name_list:
        j = wn.get_node(name)
        base = sum(max(d.base_value, 0.0) for d in j.demand_timeseries_list)
        people = round(base * 86400.0 * 1000.0 / LITRES_PER_PERSON_DAY)
        assets.append(make_asset(f"water/junction/{name}", "water", "junction", *xy(name),
                                 district, customers=people, capacity=base, capacity_unit="m3/s"))
    for name in wn.tank_name_list:
        t = wn.get_node(name)
        volume = math.pi * t.diameter**2 / 4 * (t.max_level - t.min_level)
        assets.append(make_asset(f"water/tank/{name}", "water", "tank", *xy(name), district,
                                 capacity=round(volume, 1), capacity_unit="m3", critical=True))
    for name in wn.reservoir_name_list:
        assets.append(make_asset(f"water/reservoir/{name}", "water", "reservoir", *xy(name),
                                 district))
    for name in wn.pipe_name_list:
        p = wn.get_link(name)
        (xa, ya), (xb, yb) = xy(p.start_node_name), xy(p.end_node_name)
        assets.append(make_asset(f"water/pipe/{name}", "water", "pipe", (xa + xb) / 2,
                                 (ya + yb) / 2, district, capacity=round(p.length, 1),
                                 capacity_unit="m"))
    for name in wn.valve_name_list:
        v = wn.get_link(name)
        assets.append(make_asset(f"water/valve/{name}", "water", "valve", *xy(v.end_node_name),
                                 district))
    for name in wn.pump_name_list:
        pump = wn.get_link(name)
        aid = pump_asset_id(name, pump.start_node_name)
        q, p_mw = _pump_design(wn, name)
        assets.append(make_asset(aid, "water", aid.split("/")[1], *xy(pump.end_node_name),
                                 district, capacity=q, capacity_unit="m3/s", critical=True,
                                 needs_power=True, p_mw=round(p_mw, 4), needs_ict=True))
    wntr.network.write_inpfile(wn, str(out / SECTOR_FILES["water"]), units="LPS", version=2.2)
    return assets
