"""Hazards turned into damage: pure functions of the scenario, the asset table and the seed.

Failure generation is kept apart from simulation (as in WNTR): :func:`damage_schedule`
returns which asset fails when and why; the incidents simulator only replays it. Each
asset's draw comes from its own stream ``(seed, "<hazard>-<index>", asset id)``, so an asset
present in two configurations suffers the same damage in both (common random numbers).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from statistics import NormalDist
from typing import Any

from twin.config import FloodHazard, OutageHazard, RandomHazard, Scenario, StormHazard
from twin.randomness import stream, uniform
from twin.region.assets import Asset


@dataclass(frozen=True)
class Fragility:
    """Lognormal fragility: P(fail | intensity) = Phi(ln(intensity / median) / beta)."""

    median: float
    beta: float
    source: str

    def probability(self, intensity: float, scale: float = 1.0) -> float:
        """P(fail) at ``intensity``; ``scale`` multiplies the median (a hazard's
        ``fragility_scale``: > 1 hardens the asset)."""
        if intensity <= 0:
            return 0.0
        z = math.log(intensity / (self.median * scale)) / self.beta
        return 0.5 * (1.0 + math.erf(z / math.sqrt(2.0)))


# Fragility tables: one lognormal curve per asset class ("sector/type") and hazard, the
# intensity measure fixed per table (FRAGILITY_MEASURE). Classes a hazard cannot plausibly
# damage are listed in NOT_DAMAGED with the reason, so every class of a built region is
# accounted for per hazard (a test checks it); docs/hazards.md prints them all.

# Wind, intensity = 3-s gust in m/s. An ICT site stands for its mast; a road for the trees
# that fall across it. Overhead lines are per km (WIND_LINE_PER_KM), not per section.
WIND_FRAGILITY: dict[str, Fragility] = {
    "ict/site": Fragility(48.0, 0.30, "assumption: lattice/monopole telecom mast"),
    "traffic/road": Fragility(36.0, 0.35, "assumption: road closed by fallen roadside trees"),
    "power/pv": Fragility(50.0, 0.30, "assumption: rooftop PV array torn off (uplift), panels rated for ~2.4 kPa wind load; the district's array fails as one asset"),
    "traffic/signal": Fragility(50.0, 0.30, "assumption: signal mast arm and heads"),
}

# Overhead MV line, per km of line: a section of length L km fails with
# P = 1 - (1 - p_km(gust))^L, the series-system rule for a line's independent towers/spans
# (Panteli et al. 2017, IEEE Trans. Power Syst. 32(5)). The per-km median is calibrated so
# that a section of LINE_REFERENCE_KM (the mean overhead section of the default region,
# 6.0 km) keeps the former per-section median of 40 m/s: p_km(40) = 1 - 0.5^(1/6).
LINE_REFERENCE_KM = 6.0
WIND_LINE_PER_KM = Fragility(57.9, 0.30, "assumption: 1 km of overhead MV line incl. poles and trees along it, calibrated so that a 6 km section has its median at 40 m/s; spans combined in series as the towers and spans of a line in Panteli et al. (2017, IEEE Trans. Power Syst. 32(5), 3747-3757)")

# Depth-damage fragility per asset class, intensity = water depth above ground in m.
FLOOD_FRAGILITY: dict[str, Fragility] = {
    "power/trafo": Fragility(1.0, 0.40, "assumption: substation transformer, control cabinets and bushings ~0.5-1.5 m above grade"),
    "power/bus": Fragility(1.2, 0.40, "assumption: MV switchgear / ground-mounted substation of the bus"),
    "power/pv": Fragility(0.5, 0.50, "assumption: the array's inverters, in basements and garages of the homes"),
    "power/battery": Fragility(0.4, 0.50, "assumption: home batteries in basements and utility rooms"),
    "power/microgrid": Fragility(0.8, 0.40, "assumption: community battery container on a pad, racks and converter ~0.3-1 m above grade"),
    "power/plant": Fragility(1.2, 0.40, "assumption: central plant's generator, switchgear and auxiliaries at grade"),
    "water/pump": Fragility(1.0, 0.40, "assumption: pump station motors and controls at floor level"),
    "water/well": Fragility(1.5, 0.40, "assumption: wellhead and its pump controls"),
    "water/generator": Fragility(0.6, 0.40, "assumption: skid-mounted standby diesel set at grade, alternator, control panel and day tank ~0.3-0.9 m above grade"),
    "water/plant": Fragility(1.0, 0.40, "assumption: treatment plant's filters, dosing and controls at grade (the plant is its clear well water/reservoir/R-plant)"),
    "ict/site": Fragility(0.8, 0.50, "assumption: ground-level equipment cabinet and power supply of the site (also edge controllers)"),
    "traffic/road": Fragility(0.3, 0.30, "assumption: median at 0.3 m, the depth at which Pregnolato et al. (2017, Transp. Res. D 55) find roads impassable to cars"),
    "traffic/signal": Fragility(0.6, 0.40, "assumption: signal controller cabinet at grade"),
}

# Earthquake, intensity = PGA in g, at the HAZUS "extensive" damage state (the state HAZUS
# restores in days to weeks; we take it as out of service until repaired). Medians and
# betas: HAZUS-MH MR4 Earthquake Technical Manual (FEMA 2003), ch. 8. Buried pipes follow
# ALA (2001) repair rates on PGV instead (twin/earthquake.py).
EARTHQUAKE_FRAGILITY: dict[str, Fragility] = {
    "power/trafo": Fragility(0.45, 0.45, "HAZUS-MH MR4 (FEMA 2003) sec. 8.6: low-voltage substation, anchored components, extensive"),
    "power/bus": Fragility(0.45, 0.45, "HAZUS-MH MR4 (FEMA 2003) sec. 8.6: low-voltage substation, anchored components, extensive (busbars and the MV/LV substations of load buses)"),
    "power/line": Fragility(0.72, 0.15, "HAZUS-MH MR4 (FEMA 2003) sec. 8.6: distribution circuit, seismically designed components, extensive (overhead only)"),
    "power/switch": Fragility(0.72, 0.15, "HAZUS-MH MR4 (FEMA 2003) sec. 8.6: distribution circuit, seismically designed components, extensive (pole-mounted switch)"),
    "power/plant": Fragility(0.48, 0.50, "HAZUS-MH MR4 (FEMA 2003) sec. 8.6: small generation plant, anchored components, extensive"),
    "power/microgrid": Fragility(0.45, 0.45, "assumption by analogy: HAZUS low-voltage substation, anchored (battery racks and converter on a pad)"),
    "power/pv": Fragility(0.80, 0.60, "assumption: rooftop arrays and inverters fail with their buildings' extensive damage (order of HAZUS low-code buildings)"),
    "power/battery": Fragility(0.90, 0.60, "assumption: wall-mounted home batteries, unanchored equipment"),
    "water/pump": Fragility(0.66, 0.65, "HAZUS-MH MR4 (FEMA 2003) sec. 8.1: small pumping plant, extensive"),
    "water/well": Fragility(0.72, 0.65, "HAZUS-MH MR4 (FEMA 2003) sec. 8.1: well, extensive"),
    "water/generator": Fragility(0.60, 0.60, "assumption: standby diesel set on vibration isolators (it shifts and tears its fuel and cable connections); HAZUS has no curve for the generator alone"),
    "water/tank": Fragility(1.15, 0.50, "HAZUS-MH MR4 (FEMA 2003) sec. 8.1: elevated steel tank, extensive"),
    "water/plant": Fragility(0.95, 0.60, "HAZUS-MH MR4 (FEMA 2003) sec. 8.1: small water treatment plant, anchored components, extensive"),
    "ict/site": Fragility(0.62, 0.70, "HAZUS-MH MR4 (FEMA 2003) sec. 8.7: communication central office, anchored components, extensive (masts, routers, data centre, edge controllers)"),
}

# Intensity measure of each table (docs/hazards.md column).
FRAGILITY_MEASURE: dict[str, str] = {
    "wind": "3-s gust, m/s", "flood": "depth above ground, m", "earthquake": "PGA, g",
}

# Asset classes a hazard does not damage directly, and why (they can still fail through
# their suppliers: a pipe without power, a road whose signal is dark).
NOT_DAMAGED: dict[str, dict[str, str]] = {
    "wind": {
        "water/pipe": "buried", "water/junction": "buried node", "water/reservoir": "ground-level basin or aquifer",
        "water/tank": "elevated tanks are designed for wind (EN 1991-1-4); no failure in storms",
        "water/pump": "pump house", "water/well": "well house", "water/valve": "buried",
        "water/generator": "inside its station's building or a weatherproof enclosure",
        "power/bus": "indoor switchgear; fails through its lines", "power/trafo": "substation; fails through its lines",
        "power/switch": "counted in its line's per-km fragility", "power/load": "a demand, not equipment",
        "power/ext_grid": "transmission connection outside the region",
        "power/battery": "indoor", "power/microgrid": "enclosed container on a pad",
        "power/plant": "building", "water/plant": "buildings and basins", "power/line (underground)": "cable",
        "ict/link": "buried fibre or radio; its end sites carry the wind fragility",
    },
    "flood": {
        "water/pipe": "buried; scour needs flow velocity, which the flood model does not have",
        "water/junction": "buried node", "water/reservoir": "groundwater or open basin (the plant's clear well is water/plant)",
        "water/tank": "elevated", "water/valve": "buried",
        "power/line": "poles and watertight cables stand in water", "power/switch": "pole-mounted",
        "power/load": "a demand, not equipment", "power/ext_grid": "transmission connection outside the region",
        "ict/link": "watertight fibre",
    },
    "earthquake": {
        "water/junction": "a node of buried pipes (the pipes carry the ALA repair rate)",
        "water/reservoir": "groundwater or open basin (the plant's clear well is water/plant)",
        "water/valve": "buried; counted in its pipe's repairs",
        "power/line (underground)": "MV cables: damage concentrates in ground failure (PGD), which is not modelled",
        "power/load": "a demand, not equipment", "power/ext_grid": "transmission connection outside the region",
        "ict/link": "buried fibre: damage concentrates in ground failure (PGD), not modelled",
        "traffic/road": "HAZUS roads fail from ground failure (PGD) only, not modelled",
        "traffic/signal": "no shaking fragility; fails through its power supply",
    },
}

# The treatment plant is not an asset of its own: its clear well stands for it.
PLANT_ASSETS: frozenset[str] = frozenset({"water/reservoir/R-plant"})


def asset_class(asset: Asset) -> str:
    """The fragility class of an asset: ``sector/type``; the treatment plant's clear well is
    ``water/plant``."""
    return "water/plant" if asset["id"] in PLANT_ASSETS else f"{asset['sector']}/{asset['type']}"


def line_length_km(asset: Asset) -> float:
    """Length of a power line (km): ``length_km`` of the generated grid, or the imported
    grid's ``capacity`` in km."""
    if "length_km" in asset:
        return float(asset["length_km"])  # type: ignore[typeddict-item]
    if asset.get("capacity_unit") == "km":
        return float(asset["capacity"])
    raise KeyError(f"asset {asset['id']!r} carries no line length (length_km); rebuild the region")


# Wind faults on overhead lines have two damage states drawn from one uniform per section
# (the HAZUS way of stacking damage states on one draw, FEMA 2003 ch. 8): a *fault* (the
# line trips: a branch or a swinging conductor touches it) with WIND_LINE_PER_KM, and
# *permanent damage* (a tree on the line, a broken pole or conductor) with the same curve at
# a higher median. The damage median follows from the transient share of faults in ordinary
# windy weather (`power.protection.transient_share`, 70-80 % per IEEE C37.104), which we
# anchor at TRANSIENT_REFERENCE_GUST_MS, the storm ensemble's event threshold: there
# P(damage) = (1 - share) P(fault) per km. In stronger wind, more faults are damage: the
# conditional transient share falls with the gust (docs/power.md, "Transient storm faults").
TRANSIENT_REFERENCE_GUST_MS = 25.0


def line_damage_median_ratio(transient_share: float) -> float:
    """Median of the permanent-damage curve over the fault curve's (per km), so that at
    TRANSIENT_REFERENCE_GUST_MS a fault is transient with ``transient_share``; inf when every
    fault is transient, 1 when none is."""
    if transient_share >= 1.0:
        return math.inf
    if transient_share <= 0.0:
        return 1.0
    curve, g0 = WIND_LINE_PER_KM, TRANSIENT_REFERENCE_GUST_MS
    p_damage = (1.0 - transient_share) * curve.probability(g0)
    z = NormalDist().inv_cdf(p_damage)
    return g0 / math.exp(z * curve.beta) / curve.median


def wind_damage_probability(asset: Asset, gust_ms: float, fragility_scale: float = 1.0,
                            transient_share: float = 0.0) -> float:
    """P(permanent damage) of an asset in a gust (m/s): for an overhead line the damage
    state above its fault (per km, series rule); for every other class its failure
    probability (their failures are all permanent)."""
    if asset_class(asset) != "power/line" or asset.get("underground", False):
        return wind_failure_probability(asset, gust_ms, fragility_scale)
    ratio = line_damage_median_ratio(transient_share)
    if math.isinf(ratio):
        return 0.0
    p_km = WIND_LINE_PER_KM.probability(gust_ms, fragility_scale * ratio)
    return 1.0 - (1.0 - p_km) ** line_length_km(asset)


def wind_failure_probability(asset: Asset, gust_ms: float, fragility_scale: float = 1.0) -> float:
    """P(fail) of an asset in a gust (m/s): per km for overhead lines, per asset otherwise;
    0 for classes wind does not damage and for anything ``underground``. ``fragility_scale``
    multiplies the medians."""
    if asset.get("underground", False):  # wind does not reach cables
        return 0.0
    cls = asset_class(asset)
    if cls == "power/line":
        p_km = WIND_LINE_PER_KM.probability(gust_ms, fragility_scale)
        return 1.0 - (1.0 - p_km) ** line_length_km(asset)
    frag = WIND_FRAGILITY.get(cls)
    return 0.0 if frag is None else frag.probability(gust_ms, fragility_scale)


def damage_seed(hazard: Any, scenario: Scenario) -> int:
    """Seed of a hazard's damage draws: its ``damage_seed``, else ``run.seed`` (so a scenario
    without one behaves as before). Hazard ensembles vary it per draw: the day (demand,
    weather, traffic, all on run.seed) stays, only the hazard's draws change."""
    own = getattr(hazard, "damage_seed", None)
    return scenario.run.seed if own is None else int(own)


@dataclass(frozen=True)
class RepairTime:
    """Lognormal repair (or clearing) time of one asset class, hours on site."""

    median_h: float
    beta: float
    source: str

    def draw_h(self, seed: int, asset_id: str, occurrence: int = 0) -> float:
        """The ``occurrence``-th repair time of ``asset_id``: its own stream, so common
        random numbers hold across configurations."""
        draws = stream(seed, "repair", asset_id).normal(0.0, 1.0, occurrence + 1)
        return float(self.median_h * math.exp(self.beta * draws[occurrence]))


# Repair times on site per asset class (travel comes from the traffic simulator).
REPAIR_TIME: dict[str, RepairTime] = {
    "power/line": RepairTime(4.0, 0.5, "assumption: re-string a span / replace a pole"),
    "power/switch": RepairTime(3.0, 0.5, "assumption: replace a pole-mounted switch"),
    "power/bus": RepairTime(8.0, 0.5, "assumption: dry out and test switchgear"),
    "power/trafo": RepairTime(24.0, 0.6, "assumption: dry out or swap a substation transformer"),
    "water/pump": RepairTime(8.0, 0.5, "assumption: motor or controls of a pump station"),
    "water/pipe": RepairTime(6.0, 0.5, "assumption: main break repair"),
    "water/well": RepairTime(8.0, 0.5, "assumption: well pump and controls"),
    "water/generator": RepairTime(12.0, 0.5, "assumption: bring in and connect a rental generator in place of a damaged standby set"),
    "ict/site": RepairTime(4.0, 0.5, "assumption: mast, radio or power unit of a site"),
    "ict/link": RepairTime(3.0, 0.5, "assumption: splice a fibre / realign a link"),
    "traffic/road": RepairTime(1.5, 0.5, "assumption: clear fallen trees from a road"),
    "traffic/signal": RepairTime(3.0, 0.5, "assumption: signal head or controller"),
}
DEFAULT_REPAIR = RepairTime(4.0, 0.5, "assumption: any other asset")


def repair_time_h(seed: int, asset: Asset, median_h: dict[str, float] | None = None,
                  occurrence: int = 0) -> float:
    """Drawn repair time of ``asset`` (hours): its class's lognormal, median overridable."""
    cls = f"{asset['sector']}/{asset['type']}"
    rt = REPAIR_TIME.get(cls, DEFAULT_REPAIR)
    if median_h and cls in median_h:
        rt = RepairTime(float(median_h[cls]), rt.beta, "scenario")
    return rt.draw_h(seed, asset["id"], occurrence)


DAMAGE_MODES: tuple[str, ...] = ("failed", "leak", "break", "transient")


@dataclass(frozen=True)
class Damage:
    """One asset failing at ``time_s`` for ``duration_s`` (None: the sector's repair time).

    ``mode`` says how it fails: ``failed`` (out of service; a pipe then follows the water
    model's ``pipe_break`` rule), ``leak`` or ``break`` (pipes: a small or a large emitter on
    a node inside the pipe, docs/water.md), ``transient`` (an overhead line fault its
    feeder's recloser clears within the step: no outage, docs/power.md). ``fraction`` in (0, 1] is partial damage where the
    sector models it (a leak's size relative to a break); 1 elsewhere.
    """

    time_s: int
    asset_id: str
    hazard_id: str  # the root event's asset id, e.g. "hazard/storm-0"
    hazard_time_s: int
    duration_s: int | None
    mode: str = "failed"
    fraction: float = 1.0


def _closest_approach(
    x: float, y: float, a: tuple[float, float], b: tuple[float, float]
) -> tuple[float, float]:
    """Distance (m) from (x, y) to segment a-b and the fraction along it where it is closest."""
    dx, dy = b[0] - a[0], b[1] - a[1]
    length2 = dx * dx + dy * dy
    frac = 0.0 if length2 == 0 else max(0.0, min(1.0, ((x - a[0]) * dx + (y - a[1]) * dy) / length2))
    px, py = a[0] + frac * dx, a[1] + frac * dy
    return math.hypot(x - px, y - py), frac


def storm_wind_ms(storm: StormHazard, x_m: float, y_m: float) -> tuple[float, float]:
    """Peak gust at a point (m/s) and the hour the storm centre passes closest."""
    dist, frac = _closest_approach(x_m, y_m, storm.track_m[0], storm.track_m[1])
    hour = storm.start_h + frac * (storm.end_h - storm.start_h)
    return storm.peak_wind_ms * math.exp(-dist / storm.decay_m), hour


def _inside(x: float, y: float, polygon: list[tuple[float, float]]) -> bool:
    """Ray casting: is (x, y) inside the polygon (boundary counts as inside on one side)."""
    inside = False
    n = len(polygon)
    for k in range(n):
        (x1, y1), (x2, y2) = polygon[k], polygon[(k + 1) % n]
        if (y1 > y) != (y2 > y) and x < x1 + (y - y1) * (x2 - x1) / (y2 - y1):
            inside = not inside
    return inside


def flood_depth_m(flood: FloodHazard, x_m: float, y_m: float) -> float:
    """Water depth at a point (m): the deepest polygon containing it, 0 outside."""
    return max((d for poly, d in zip(flood.polygons_m, flood.depths(), strict=True)
                if _inside(x_m, y_m, [tuple(p) for p in poly])), default=0.0)


def fragility_for(asset: Asset, table: dict[str, Fragility]) -> Fragility | None:
    """The asset's curve in ``table`` (by :func:`asset_class`), None if it has none."""
    return table.get(asset_class(asset))


def _aligned(time_s: float, step_s: int, horizon_s: int) -> int:
    """Damage takes effect at the start of the exchange step it falls in (``horizon_s`` is
    unused here: damage at or after the horizon is dropped by :func:`damage_schedule`, never
    moved into the last step)."""
    return int(time_s // step_s) * step_s


@dataclass(frozen=True)
class HazardKind:
    """One entry of the hazard registry: which family a kind belongs to (the study's hazard
    ensembles are per family) and the function turning one hazard into damage."""

    kind: str
    family: str
    damage: Callable[[Any, int, Scenario, list[Asset]], list[Damage]]


# The hazard registry: kind (the ``kind`` key of a ``[[hazards]]`` table, a pydantic model
# in twin/config.py) -> its family and damage function. Add a kind with @register_hazard
# next to its model in HAZARD_MODELS; a test keeps the two in step.
HAZARD_KINDS: dict[str, HazardKind] = {}
FAMILIES: tuple[str, ...] = ("windstorm", "flood", "earthquake", "equipment", "cyber", "scheduled", "file")


def register_hazard(kind: str, family: str):  # type: ignore[no-untyped-def]
    """Decorator: register ``fn(hazard, index, scenario, assets) -> list[Damage]`` for ``kind``."""
    if family not in FAMILIES:
        raise ValueError(f"unknown hazard family {family!r}; choose one of {FAMILIES}")

    def wrap(fn):  # type: ignore[no-untyped-def]
        HAZARD_KINDS[kind] = HazardKind(kind, family, fn)
        return fn

    return wrap


def hazard_id(hazard: Any, index: int) -> str:
    """The root event's asset id of the ``index``-th hazard, e.g. ``hazard/storm-0``."""
    return f"hazard/{hazard.kind}-{index}"


@register_hazard("outage", "scheduled")
def _outage_damage(hz: OutageHazard, i: int, scenario: Scenario, assets: list[Asset]) -> list[Damage]:
    step, horizon = scenario.run.step_s, scenario.run.horizon_s
    if hz.asset not in {a["id"] for a in assets}:
        raise KeyError(f"hazards[{i}].asset: no asset {hz.asset!r} in this region")
    t = _aligned(hz.at_h * 3600, step, horizon)
    dur = None if hz.duration_h is None else round(hz.duration_h * 3600)
    return [Damage(t, hz.asset, hazard_id(hz, i), t, dur)]


@register_hazard("storm", "windstorm")
def _storm_damage(hz: StormHazard, i: int, scenario: Scenario, assets: list[Asset]) -> list[Damage]:
    seed, step, horizon = damage_seed(hz, scenario), scenario.run.step_s, scenario.run.horizon_s
    t0 = _aligned(hz.start_h * 3600, step, horizon)
    share = scenario.power.protection.transient_share
    out = []
    for a in assets:
        wind, hour = storm_wind_ms(hz, a["x_m"], a["y_m"])
        p = wind_failure_probability(a, wind, hz.fragility_scale)
        if p <= 0 or (u := uniform(seed, f"storm-{i}", a["id"])) >= p:
            continue
        # the same draw decides whether the fault is permanent damage or transient (a
        # recloser clears it within the step); only overhead lines have transient faults
        transient = u >= wind_damage_probability(a, wind, hz.fragility_scale, share)
        out.append(Damage(_aligned(hour * 3600, step, horizon), a["id"], hazard_id(hz, i), t0,
                          0 if transient else None, "transient" if transient else "failed"))
    return out


@register_hazard("flood", "flood")
def _flood_damage(hz: FloodHazard, i: int, scenario: Scenario, assets: list[Asset]) -> list[Damage]:
    seed, step, horizon = damage_seed(hz, scenario), scenario.run.step_s, scenario.run.horizon_s
    t0 = _aligned(hz.start_h * 3600, step, horizon)
    out = []
    for a in assets:
        frag = fragility_for(a, FLOOD_FRAGILITY)
        if frag is None:
            continue
        depth = flood_depth_m(hz, a["x_m"], a["y_m"])
        if uniform(seed, f"flood-{i}", a["id"]) < frag.probability(depth, hz.fragility_scale):
            # flooded roads reopen when the water recedes; other assets need repair
            dur = None
            if a["sector"] == "traffic" and a["type"] == "road" and hz.end_h is not None:
                dur = max(0, round(hz.end_h * 3600) - t0)
            out.append(Damage(t0, a["id"], hazard_id(hz, i), t0, dur))
    return out


@register_hazard("random", "equipment")
def _random_damage(hz: RandomHazard, i: int, scenario: Scenario, assets: list[Asset]) -> list[Damage]:
    seed, step, horizon = damage_seed(hz, scenario), scenario.run.step_s, scenario.run.horizon_s
    out = []
    for a in assets:
        if a["sector"] not in hz.sectors or (hz.types and a["type"] not in hz.types):
            continue
        if uniform(seed, f"random-{i}", a["id"]) < hz.probability:
            when = uniform(seed, f"random-{i}-time", a["id"]) * horizon
            out.append(Damage(_aligned(when, step, horizon), a["id"], hazard_id(hz, i), 0, None))
    return out


@register_hazard("cyber", "cyber")
def _cyber_damage(hz: Any, i: int, scenario: Scenario, assets: list[Asset]) -> list[Damage]:
    """Cyber attacks act inside the ICT simulator (models/ict/attacks.py), not as damage."""
    return []


def damage_schedule(scenario: Scenario, assets: list[Asset]) -> list[Damage]:
    """Every failure the scenario's hazards cause to these assets, in time order."""
    out: list[Damage] = []
    for i, hz in enumerate(scenario.hazards):
        out.extend(HAZARD_KINDS[hz.kind].damage(hz, i, scenario, assets))
    # a storm still raging at the horizon damages nothing after it: those failures fall
    # outside the run (they used to be moved into its last step, all at once)
    out = [d for d in out if d.time_s < scenario.run.horizon_s]
    out.sort(key=lambda d: (d.time_s, d.asset_id))
    return out


# Kinds registered in their own modules (imported last: they use the registry above).
import twin.region.disruption  # noqa: E402, F401  (disruption_file)
from twin import earthquake as _earthquake  # noqa: E402, F401  (earthquake)
