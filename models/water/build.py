"""Build the region's water network with wntr and write ``water.inp`` (EPANET 2.2, LPS, PDA).

The network, on the layout's map (metres):

- a treatment plant at the ``water_plant`` facility: a clear-well reservoir ``R-plant`` and the
  plant pump station ``PS1`` lifting into the city's pressure zone, which floats on the
  elevated city tank ``T-city``;
- a transmission main from the city to each anchor town; the terrain rises away from the
  valley city, so every town has a booster pump station ``PS<i+1>`` at its entry, with a
  check-valved bypass (gravity supply at reduced pressure when the booster stops);
- a main from each town on to each of its villages (in the town's pressure zone);
- distribution junctions ``<district>-<n>`` in every district, on a looped ring around a hub
  ``<district>-0``, with base demands from population at ``LITRES_PER_PERSON_DAY`` and a
  daily demand pattern;
- with ``local_tanks``: an elevated tank ``T-<district>`` in every town and every village that
  has a well;
- ``wells_per_town`` / ``wells_per_village`` local wells: a groundwater reservoir
  ``GW-<district>-<n>`` and a well pump ``<district>-<n>`` (asset ``water/well/<district>-<n>``,
  type ``well``; powered and PLC-controlled like a pump station);
- the central power plant's process-water supply junction ``process`` (asset
  ``water/junction/process``), read by the simulator as ``process_pressure_m``;
- with ``pump_backup_h`` > 0, a backup generator ``water/generator/<station>`` at every pump
  station, well and the treatment plant (an asset only: it has no EPANET element).

Pumps' local fallback rule is written into the INP as EPANET simple controls: a level switch
on the pump's tank (open below ``LOW_FRAC``, closed above ``HIGH_FRAC`` of the tank's range);
a pump without a tank has no control and runs whenever powered. The pump's tank is stored as
the pump's EPANET tag (``[TAGS] LINK PS1 T-city``), so the simulator knows it from the INP
alone. Shared elements are added first and in a fixed order, so ids are identical across
configurations.
"""

from __future__ import annotations

import math
from pathlib import Path

import wntr
from wntr.network.controls import Comparison

from twin.randomness import stream
from twin.region.assets import SECTOR_FILES, Asset, make_asset
from twin.region.layout import District, Layout
from twin.region.params import ConfigurationParams

from .network import UNBALANCED_EXTRA_TRIALS

LITRES_PER_PERSON_DAY = 150.0
GENERATOR_BACKED: tuple[str, ...] = ("pump", "well", "plant")  # asset types with a backup generator
# Hourly demand multipliers (residential diurnal curve), normalised to a mean of 1.
_DIURNAL_RAW = [
    0.55, 0.45, 0.40, 0.40, 0.45, 0.65, 1.05, 1.45, 1.50, 1.30, 1.15, 1.10,
    1.15, 1.10, 1.00, 1.00, 1.05, 1.20, 1.40, 1.45, 1.30, 1.10, 0.85, 0.65,
]
DIURNAL: list[float] = [v * len(_DIURNAL_RAW) / sum(_DIURNAL_RAW) for v in _DIURNAL_RAW]
PEAK_FACTOR = max(DIURNAL)

HYDRAULIC_STEP_S = 300
DURATION_S = 168 * 3600  # the longest horizon; the simulator sets its own duration
MINIMUM_PRESSURE_M = 0.0
REQUIRED_PRESSURE_M = 20.0
PRESSURE_EXPONENT = 0.5
PUMP_EFFICIENCY = 0.75  # wire-to-water efficiency used for nominal p_mw (see network.py)
RHO_G = 1000.0 * 9.81  # N/m3

LOW_FRAC = 0.30  # level switch: pump opens below this share of the tank's range
HIGH_FRAC = 0.95  # ... and closes above this share
TANK_HEIGHT_M = 8.0  # operating range of every elevated tank
CITY_TANK_BASE_M = 35.0  # city tank bottom above the city centre's ground
LOCAL_TANK_BASE_M = 30.0  # town / village tank bottom above the district's ground
WATER_TABLE_DEPTH_M = 15.0  # groundwater head below ground at a well
PROCESS_DEMAND_M3S = 0.002  # the central power plant's process / cooling water
# Distribution tank volume, hours of the average demand it serves: half a day, the minimum of
# North Carolina's rule 15A NCAC 18C .0805(c) (elevated plus ground storage at least one-half
# day's supply of the average daily demand); the Ten States Standards (Recommended Standards
# for Water Works, 7.0.1) ask for one day where storage provides no fire protection.
# The value lives in ConfigurationParams.tank_storage_h (a scenario may change it per configuration).
STORAGE_H: float = ConfigurationParams.model_fields["tank_storage_h"].default
# The treatment plant: raw water -> flow control valve (the plant, its production) -> clear
# well -> plant pump PS1. These three are operating assumptions, not standards: treatment
# capacity 2.5 x the average demand (above what PS1 draws while it runs, about 2.3 x, so the
# clear well stays full in normal operation and EPANET throttles the inflow at the top), a
# clear well of 2 h of average demand (contact time and equalisation), 0.1 kWh per m3
# treated (process power only; the pumps are separate loads).
PRODUCTION_FACTOR = 2.5
CLEARWELL_H = 2.0
CLEARWELL_HEIGHT_M = 5.0
TREATMENT_KWH_PER_M3 = 0.1
PLANT = "WTP"
DIAMETERS_M = (0.1, 0.15, 0.2, 0.25, 0.3, 0.4, 0.5, 0.6, 0.8, 1.0)
HW_C = 120.0
MAX_GRADIENT = 0.002  # m/m headloss at the design flow when sizing a pipe

PLANT_PUMP = "PS1"
PROCESS_JUNCTION = "process"


def elevation_m(layout: Layout, x_m: float, y_m: float) -> float:
    """Ground elevation: a valley city, terrain rising gently outwards, seeded undulation."""
    rng = stream(layout.seed, "water-build", "terrain")
    px, py = rng.uniform(0, 2 * math.pi, size=2)
    r = math.hypot(x_m, y_m)
    return round(50.0 + 0.002 * r + 3.0 * math.sin(x_m / 1500.0 + px) * math.cos(y_m / 1700.0 + py), 2)


def demand_m3s(population: float) -> float:
    """Average demand of a population, m3/s."""
    return population * LITRES_PER_PERSON_DAY / 1000.0 / 86400.0


def hw_gradient(q_m3s: float, d_m: float, c: float = HW_C) -> float:
    """Hazen-Williams headloss per metre of pipe (SI)."""
    return 10.67 * abs(q_m3s) ** 1.852 / (c**1.852 * d_m**4.87)


def pipe_diameter_m(q_m3s: float) -> float:
    """Smallest standard diameter whose headloss at ``q_m3s`` stays under MAX_GRADIENT."""
    for d in DIAMETERS_M:
        if hw_gradient(q_m3s, d) <= MAX_GRADIENT:
            return d
    return DIAMETERS_M[-1]


def pump_power_mw(flow_m3s: float, head_m: float, efficiency: float = PUMP_EFFICIENCY) -> float:
    """Electrical power of a pump: rho g Q H / efficiency, in MW."""
    return RHO_G * max(flow_m3s, 0.0) * max(head_m, 0.0) / efficiency / 1e6


class _Builder:
    """Accumulates the wntr model and the asset records in a deterministic order."""

    def __init__(self, layout: Layout) -> None:
        self.layout = layout
        self.wn = wntr.network.WaterNetworkModel()
        self.assets: list[Asset] = []
        self.n_pipes = 0
        self.district_of: dict[str, str] = {}

    def z(self, x: float, y: float) -> float:
        return elevation_m(self.layout, x, y)

    def junction(self, name: str, x: float, y: float, district: str, people: float = 0.0,
                 base_m3s: float | None = None, pattern: str = "diurnal",
                 critical: bool = False) -> None:
        base = demand_m3s(people) if base_m3s is None else base_m3s
        self.wn.add_junction(name, base_demand=base, demand_pattern=pattern if base > 0 else None,
                             elevation=self.z(x, y), coordinates=(x, y))
        self.district_of[name] = district
        self.assets.append(make_asset(
            f"water/junction/{name}", "water", "junction", x, y, district,
            customers=round(people), capacity=base, capacity_unit="m3/s", critical=critical,
        ))

    def pipe(self, a: str, b: str, q_design_m3s: float, check_valve: bool = False,
             name: str | None = None) -> str:
        self.n_pipes += 1
        name = name or f"P{self.n_pipes}"
        na, nb = self.wn.get_node(a), self.wn.get_node(b)
        (xa, ya), (xb, yb) = na.coordinates, nb.coordinates
        length = max(10.0, math.hypot(xb - xa, yb - ya))
        d = pipe_diameter_m(q_design_m3s)
        self.wn.add_pipe(name, a, b, length=round(length, 1), diameter=d, roughness=HW_C,
                         minor_loss=0.0, initial_status="OPEN", check_valve=check_valve)
        self.assets.append(make_asset(
            f"water/pipe/{name}", "water", "pipe", (xa + xb) / 2, (ya + yb) / 2,
            self.district_of.get(a, ""), capacity=round(length, 1), capacity_unit="m",
        ))
        return name

    def tank(self, name: str, x: float, y: float, district: str, base_elev: float,
             avg_m3s: float, hours: float = STORAGE_H, height_m: float = TANK_HEIGHT_M) -> None:
        volume = max(50.0, avg_m3s * hours * 3600.0)
        diameter = math.sqrt(4 * volume / (math.pi * height_m))
        self.wn.add_tank(name, elevation=round(base_elev, 2), init_level=0.75 * height_m,
                         min_level=0.0, max_level=height_m, diameter=round(diameter, 2),
                         coordinates=(x, y))
        self.district_of[name] = district
        self.assets.append(make_asset(
            f"water/tank/{name}", "water", "tank", x, y, district,
            capacity=round(volume, 1), capacity_unit="m3", critical=True,
        ))

    def reservoir(self, name: str, x: float, y: float, district: str, head: float) -> None:
        self.wn.add_reservoir(name, base_head=round(head, 2), coordinates=(x, y))
        self.district_of[name] = district
        self.assets.append(make_asset(f"water/reservoir/{name}", "water", "reservoir", x, y, district))

    def pump(self, name: str, kind: str, a: str, b: str, q_m3s: float, head_m: float,
             district: str, tank: str | None) -> None:
        curve = f"C-{name}"
        self.wn.add_curve(curve, "HEAD", [(q_m3s, head_m)])
        self.wn.add_pump(name, a, b, pump_type="HEAD", pump_parameter=curve, initial_status="OPEN")
        pump = self.wn.get_link(name)
        if tank is not None:
            pump.tag = tank
            t = self.wn.get_node(tank)
            span = t.max_level - t.min_level
            for label, frac, cmp, status in (
                ("open", LOW_FRAC, Comparison.le, wntr.network.LinkStatus.Open),
                ("close", HIGH_FRAC, Comparison.ge, wntr.network.LinkStatus.Closed),
            ):
                cond = wntr.network.controls.ValueCondition(t, "level", cmp, t.min_level + frac * span)
                act = wntr.network.controls.ControlAction(pump, "status", status)
                self.wn.add_control(f"{name}-{label}", wntr.network.controls.Control(cond, act))
        x, y = self.wn.get_node(b).coordinates
        self.assets.append(make_asset(
            f"water/{kind}/{name}", "water", kind, x, y, district,
            capacity=q_m3s, capacity_unit="m3/s", critical=True, needs_power=True,
            p_mw=round(pump_power_mw(q_m3s, head_m), 4), needs_ict=True,
        ))


def _plant(b: _Builder, x: float, y: float, z: float, total_avg: float) -> None:
    """Raw water ``R-raw`` -> plant ``WTP`` (a flow control valve at the production capacity,
    asset ``water/plant/WTP``, powered) -> clear well ``T-clearwell`` (the suction of PS1)."""
    q = total_avg * PRODUCTION_FACTOR
    b.reservoir("R-raw", x - 60.0, y - 60.0, "city", z + CLEARWELL_HEIGHT_M + 10.0)
    b.junction("plant-in", x - 40.0, y - 40.0, "city")
    b.junction("plant-treated", x - 20.0, y - 20.0, "city")
    b.pipe("R-raw", "plant-in", q)
    b.wn.add_valve(PLANT, "plant-in", "plant-treated", diameter=pipe_diameter_m(q),
                   valve_type="FCV", minor_loss=0.0, initial_setting=q, initial_status="ACTIVE")
    b.tank("T-clearwell", x, y, "city", z, total_avg, hours=CLEARWELL_H,
           height_m=CLEARWELL_HEIGHT_M)
    b.pipe("plant-treated", "T-clearwell", q)
    b.assets.append(make_asset(
        f"water/plant/{PLANT}", "water", "plant", x - 30.0, y - 30.0, "city", capacity=q,
        capacity_unit="m3/s", critical=True, needs_power=True,
        p_mw=round(q * TREATMENT_KWH_PER_M3 * 3600.0 / 1000.0, 4),
    ))


def _ring(b: _Builder, d: District, n: int, people_total: int, base_m3s: float) -> str:
    """Hub ``<d>-0`` and ``n`` demand junctions on a looped ring; returns the hub."""
    hub = f"{d.id}-0"
    b.junction(hub, d.x_m, d.y_m, d.id)
    q_ring = base_m3s * PEAK_FACTOR * 1.2
    names = []
    for k in range(n):
        a = 2 * math.pi * k / n + 0.3
        x = d.x_m + 0.6 * d.radius_m * math.cos(a)
        y = d.y_m + 0.6 * d.radius_m * math.sin(a)
        name = f"{d.id}-{k + 1}"
        people = people_total // n + (1 if k < people_total % n else 0)
        b.junction(name, x, y, d.id, people=people)
        names.append(name)
    for k, name in enumerate(names):
        b.pipe(hub, name, q_ring / max(1, n) * 1.5)
        if n > 2:
            b.pipe(name, names[(k + 1) % n], q_ring / n)
    return hub


def _junction_count(d: District, layout: Layout | None = None) -> int:
    """Demand junctions of a district's ring: one per ``water_people_per_junction`` people,
    at most ``water_max_junctions`` (the region size's, twin/region/layout.py)."""
    spec = layout.spec if layout is not None else None
    per, most = (spec.water_people_per_junction, spec.water_max_junctions) if spec else (1500.0, 12)
    return max(2, min(most, round(d.population / per) + 1)) if d.kind != "village" else 2


def build(layout: Layout, params: ConfigurationParams, configuration: str, out_dir: Path,
          *, minimum_pressure_m: float = MINIMUM_PRESSURE_M,
          required_pressure_m: float = REQUIRED_PRESSURE_M) -> list[Asset]:
    """Build the water network for one configuration and write ``water.inp`` into ``out_dir``."""
    del configuration  # topology follows params alone (wells, tanks)
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    b = _Builder(layout)
    wn = b.wn
    wn.add_pattern("diurnal", DIURNAL)
    wn.add_pattern("const", [1.0])
    city = layout.district("city")
    plant = layout.facility("water_plant")
    sub = layout.facility("substation")

    def zone_people(town: District) -> float:
        return town.population + sum(v.population for v in layout.villages_of(town.id))

    total_people = sum(d.population for d in layout.districts)
    total_avg = demand_m3s(total_people) + PROCESS_DEMAND_M3S

    # --- shared elements, fixed order ------------------------------------------------------
    city_hub = _ring(b, city, _junction_count(city, layout), city.population, demand_m3s(city.population))
    b.junction(PROCESS_JUNCTION, sub.x_m, sub.y_m, "city", base_m3s=PROCESS_DEMAND_M3S,
               pattern="const", critical=True)
    b.pipe(city_hub, PROCESS_JUNCTION, PROCESS_DEMAND_M3S * 3)
    z_city = b.z(city.x_m, city.y_m)
    tank_x, tank_y = city.x_m - 0.3 * city.radius_m, city.y_m + 0.5 * city.radius_m
    b.tank("T-city", tank_x, tank_y, "city", z_city + CITY_TANK_BASE_M, total_avg, hours=params.tank_storage_h)
    b.pipe("T-city", city_hub, total_avg * PEAK_FACTOR * 1.5)
    z_plant = b.z(plant.x_m, plant.y_m)
    _plant(b, plant.x_m, plant.y_m, z_plant, total_avg)
    b.junction("plant-out", plant.x_m + 30.0, plant.y_m + 30.0, "city")
    q_ps1 = total_avg * 1.8
    b.pipe("plant-out", city_hub, q_ps1)
    city_top = z_city + CITY_TANK_BASE_M + TANK_HEIGHT_M
    head_ps1 = city_top + 6.0 + hw_gradient(q_ps1, pipe_diameter_m(q_ps1)) * 1500 - (z_plant + 2.0)
    b.pump(PLANT_PUMP, "pump", "T-clearwell", "plant-out", q_ps1, round(head_ps1, 1), "city",
           "T-city")
    city_mid = z_city + CITY_TANK_BASE_M + 0.5 * TANK_HEIGHT_M

    # towns: main, booster with bypass, town ring, villages
    boosters: list[tuple[District, str, str, float, float]] = []
    for i, town in enumerate(layout.towns):
        q_zone = demand_m3s(zone_people(town)) * PEAK_FACTOR * 1.3
        dx, dy = town.x_m - city.x_m, town.y_m - city.y_m
        dist = math.hypot(dx, dy)
        ux, uy = dx / dist, dy / dist
        ex, ey = town.x_m - ux * 1.2 * town.radius_m, town.y_m - uy * 1.2 * town.radius_m
        suction, discharge = f"{town.id}-in", f"{town.id}-ps"
        b.junction(suction, ex, ey, town.id)
        b.junction(discharge, ex + ux * 20.0, ey + uy * 20.0, town.id)
        main = b.pipe(city_hub, suction, q_zone)
        main_loss = hw_gradient(q_zone, wn.get_link(main).diameter) * wn.get_link(main).length
        hub = _ring(b, town, _junction_count(town, layout), town.population, demand_m3s(town.population))
        b.pipe(discharge, hub, q_zone)
        b.pipe(suction, discharge, q_zone, check_valve=True)  # bypass when the booster stops
        vil_top = max([b.z(v.x_m, v.y_m) for v in layout.villages_of(town.id)] or [0.0])
        z_town = b.z(town.x_m, town.y_m)
        target = max(z_town + LOCAL_TANK_BASE_M + TANK_HEIGHT_M, vil_top + 36.0) + 4.0
        head = max(10.0, target - (city_mid - main_loss))
        boosters.append((town, suction, discharge, q_zone, head))
        for v in layout.villages_of(town.id):
            q_v = demand_m3s(v.population) * PEAK_FACTOR * 1.3
            vhub = _ring(b, v, _junction_count(v, layout), v.population, demand_m3s(v.population))
            b.pipe(hub, vhub, q_v)
        del i

    # --- configuration-specific elements ---------------------------------------------------
    local_tank: dict[str, str] = {}
    for town in layout.towns:
        members = [town, *layout.villages_of(town.id)]
        for d in members:
            wells = params.wells_per_town if d.kind == "town" else params.wells_per_village
            if params.local_tanks and (d.kind == "town" or wells > 0):
                name = f"T-{d.id}"
                x, y = d.x_m + 0.4 * d.radius_m, d.y_m - 0.4 * d.radius_m
                serves = zone_people(d) if d.kind == "town" else d.population
                base = b.z(d.x_m, d.y_m) + LOCAL_TANK_BASE_M
                if d.kind == "village":  # floats on its town's zone, just below the town tank
                    base = min(base, b.z(town.x_m, town.y_m) + LOCAL_TANK_BASE_M - 1.0)
                b.tank(name, x, y, d.id, base, demand_m3s(serves), hours=params.tank_storage_h)
                b.pipe(name, f"{d.id}-0", demand_m3s(serves) * PEAK_FACTOR * 1.5)
                local_tank[d.id] = name

    # pumps in the fixed order: boosters first (shared), then wells
    for i, (town, suction, discharge, q_zone, head) in enumerate(boosters):
        b.pump(f"PS{i + 2}", "pump", suction, discharge, q_zone, round(head, 1), town.id,
               local_tank.get(town.id))
    for town in layout.towns:
        for d in [town, *layout.villages_of(town.id)]:
            wells = params.wells_per_town if d.kind == "town" else params.wells_per_village
            if wells <= 0:
                continue
            z_d = b.z(d.x_m, d.y_m)
            q_well = max(0.002, 0.8 * demand_m3s(d.population) / wells)
            gw_head = z_d - WATER_TABLE_DEPTH_M
            zone_top = z_d + LOCAL_TANK_BASE_M + TANK_HEIGHT_M + 6.0
            for n in range(1, wells + 1):
                a = 2 * math.pi * n / (wells + 1) + 1.0
                x = d.x_m + 0.8 * d.radius_m * math.cos(a)
                y = d.y_m + 0.8 * d.radius_m * math.sin(a)
                gw, well = f"GW-{d.id}-{n}", f"{d.id}-{n}"
                b.reservoir(gw, x, y, d.id, gw_head)
                b.junction(f"{d.id}-w{n}", x + 10.0, y + 10.0, d.id)
                b.pipe(f"{d.id}-w{n}", f"{d.id}-0", q_well * 1.5)
                b.pump(well, "well", gw, f"{d.id}-w{n}", q_well, round(zone_top - gw_head, 1),
                       d.id, local_tank.get(d.id))

    opts = wn.options
    opts.hydraulic.demand_model = "PDA"
    opts.hydraulic.minimum_pressure = minimum_pressure_m
    opts.hydraulic.required_pressure = required_pressure_m
    opts.hydraulic.pressure_exponent = PRESSURE_EXPONENT
    opts.hydraulic.pattern = None
    # wntr writes UNBALANCED STOP by default, which halts EPANET for good (network.py)
    opts.hydraulic.unbalanced = "CONTINUE"
    opts.hydraulic.unbalanced_value = UNBALANCED_EXTRA_TRIALS
    opts.time.duration = DURATION_S
    opts.time.hydraulic_timestep = HYDRAULIC_STEP_S
    opts.time.pattern_timestep = 3600
    opts.time.report_timestep = HYDRAULIC_STEP_S
    opts.time.quality_timestep = HYDRAULIC_STEP_S
    opts.quality.parameter = "NONE"
    wntr.network.write_inpfile(wn, str(out_dir / SECTOR_FILES["water"]), units="LPS", version=2.2)
    return [*b.assets, *generator_assets(b.assets, params)]


def generator_assets(assets: list[Asset], params: ConfigurationParams) -> list[Asset]:
    """A backup generator ``water/generator/<station>`` beside each powered water asset (pump
    station, well, treatment plant) when ``params.pump_backup_h`` > 0: its ``p_mw`` is the
    station's nominal power (the generator is sized for it), its capacity the hours of fuel
    (unit ``backup_h``). The water simulator runs the station on it while its bus is dead
    (docs/water.md, "Power"); a damaged generator does not start."""
    if params.pump_backup_h <= 0:
        return []
    return [
        make_asset(
            f"water/generator/{a['id'].rsplit('/', 1)[-1]}", "water", "generator", a["x_m"], a["y_m"],
            a["district"], capacity=float(params.pump_backup_h), capacity_unit="backup_h",
            critical=True, p_mw=a["p_mw"],
        )
        for a in assets if a["type"] in GENERATOR_BACKED
    ]
