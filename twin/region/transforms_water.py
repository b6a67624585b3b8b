"""Configuration transforms of an imported water network: local wells and tanks with the
generated builder's parameters (``twin.models.water.build``), placed so the network still
meets the INP's required pressure over a hazard-free day.

- **Where.** A district gets ``wells_per_town`` (towns) or ``wells_per_village`` (villages)
  wells and, with ``local_tanks``, a tank when it is a town or a village with a well (the
  generated rule). Each goes to one of the district's demand junctions, nearest its centre
  first (a second well to the second nearest, ...).
- **Hydraulic grade.** One hazard-free EPANET day of the imported network gives each
  junction's lowest head over the day, ``hgl_min``.
- **Tank** ``T-<district>``: bottom at ``hgl_min - TANK_MARGIN_M`` (so it floats on the
  network instead of pulling it down), ``TANK_HEIGHT_M`` operating range, starting at the
  day's first head (clamped to its range), volume ``STORAGE_H`` hours of the district's
  average demand, joined to its junction by a 50 m pipe sized like the builder's.
- **Well** ``<district>-<k>``: a groundwater reservoir ``GW-<district>-<k>`` at the junction's
  elevation minus ``WATER_TABLE_DEPTH_M`` (the groundwater head) and a pump to the junction
  with a one-point curve: the district's average demand over its wells at the lift from the
  groundwater head to the junction's mean head plus ``WELL_HEAD_MARGIN_M``. It runs whenever
  powered (no level control). The water importer types it a well (``GW-`` suction).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from pathlib import Path

from twin.region.layout import District
from twin.region.params import ConfigurationParams

TANK_MARGIN_M = 5.0  # tank bottom below the junction's lowest hazard-free head of the day, m
WELL_HEAD_MARGIN_M = 5.0  # a well's design head above the junction's mean head, m
TANK_PIPE_M = 50.0  # length of the pipe joining a local tank to its junction, m


def _hgl(inp: Path, work: Path) -> tuple[dict[str, float], dict[str, float], dict[str, float]]:
    """(lowest, mean, first) head of every junction over one hazard-free day (EPANET)."""
    import wntr

    wn = wntr.network.WaterNetworkModel(str(inp))
    wn.options.time.duration = 24 * 3600
    res = wntr.sim.EpanetSimulator(wn).run_sim(str(work / "hgl"))
    head = res.node["head"]
    cols = [j for j in wn.junction_name_list if j in head]
    return ({j: float(head[j].min()) for j in cols}, {j: float(head[j].mean()) for j in cols},
            {j: float(head[j].iloc[0]) for j in cols})


def water_sites(wn: object, districts: list[District], district_of: Callable[[float, float], str],
                params: ConfigurationParams) -> dict[str, tuple[int, bool, list[str]]]:
    """Per district: (wells, tank?, its demand junctions nearest the centre first)."""
    out = {}
    for d in districts:
        wells = params.wells_per_town if d.kind == "town" else params.wells_per_village if d.kind == "village" else 0
        tank = params.local_tanks and (d.kind == "town" or (d.kind == "village" and wells > 0))
        if not wells and not tank:
            continue
        mine = []
        for name in wn.junction_name_list:  # type: ignore[attr-defined]
            j = wn.get_node(name)  # type: ignore[attr-defined]
            base = sum(max(x.base_value, 0.0) for x in j.demand_timeseries_list)
            x, y = j.coordinates
            if base > 0 and district_of(x, y) == d.id:
                mine.append((math.hypot(x - d.x_m, y - d.y_m), name, base))
        if mine:
            out[d.id] = (wells, tank, [n for _, n, _ in sorted(mine)])
    return out


def transform_water(inp: Path, work: Path, districts: list[District],
                    district_of: Callable[[float, float], str], params: ConfigurationParams) -> Path | None:
    """Add the configuration's wells and tanks to ``inp``; the new INP's path, or None when the
    configuration adds none."""
    import wntr

    from twin.models.water.build import (
        HW_C,
        STORAGE_H,
        TANK_HEIGHT_M,
        WATER_TABLE_DEPTH_M,
        pipe_diameter_m,
    )

    wn = wntr.network.WaterNetworkModel(str(inp))
    sites = water_sites(wn, districts, district_of, params)
    if not sites:
        return None
    hgl_min, hgl_mean, hgl_first = _hgl(inp, work)
    for did, (wells, tank, junctions) in sorted(sites.items()):
        avg = sum(sum(max(x.base_value, 0.0) for x in wn.get_node(j).demand_timeseries_list)
                  for j in junctions)  # m3/s
        if tank:
            j = junctions[0]
            x, y = wn.get_node(j).coordinates
            bottom = hgl_min[j] - TANK_MARGIN_M
            volume = max(50.0, avg * STORAGE_H * 3600.0)
            name = f"T-{did}"
            wn.add_tank(name, elevation=round(bottom, 2),
                        init_level=round(min(TANK_HEIGHT_M, max(0.0, hgl_first[j] - bottom)), 2),
                        min_level=0.0, max_level=TANK_HEIGHT_M,
                        diameter=round(math.sqrt(4 * volume / (math.pi * TANK_HEIGHT_M)), 2),
                        coordinates=(x + 20.0, y + 20.0))
            wn.add_pipe(f"P-{name}", j, name, length=TANK_PIPE_M, diameter=pipe_diameter_m(max(avg, 1e-4)),
                        roughness=HW_C, minor_loss=0.0, initial_status="OPEN")
        for k in range(1, wells + 1):
            j = junctions[(k - 1) % len(junctions)]
            node = wn.get_node(j)
            x, y = node.coordinates
            gw_head = node.elevation - WATER_TABLE_DEPTH_M
            gw, pump = f"GW-{did}-{k}", f"{did}-{k}"
            wn.add_reservoir(gw, base_head=round(gw_head, 2), coordinates=(x - 20.0, y - 20.0))
            q = max(avg / wells, 1e-4)
            wn.add_curve(f"C-{pump}", "HEAD", [(q, round(hgl_mean[j] - gw_head + WELL_HEAD_MARGIN_M, 2))])
            wn.add_pump(pump, gw, j, pump_type="HEAD", pump_parameter=f"C-{pump}", initial_status="OPEN")
    out = work / "water-configuration.inp"
    wntr.network.write_inpfile(wn, str(out), version=2.2)
    return out
