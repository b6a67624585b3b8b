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

    def probability(self, intensity: float) -> float:
        if intensity <= 0:
            return 0.0
        z = math.log(intensity / self.median) / self.beta
        return 0.5 * (1.0 + math.erf(z / math.sqrt(2.0)))


# Wind fragility per asset class ("sector/type"), intensity = 3-s gust in m/s. A line
# section stands for its poles or towers and the trees along it (our grids have no separate
# pole or tower assets); an ICT site for its mast; a road for the trees that fall across it.
WIND_FRAGILITY: dict[str, Fragility] = {
    "power/line": Fragility(40.0, 0.30, "assumption: overhead MV line section incl. poles and trees"),
    "ict/site": Fragility(48.0, 0.30, "assumption: lattice/monopole telecom mast"),
    "traffic/road": Fragility(36.0, 0.35, "assumption: road closed by fallen roadside trees"),
}

# Depth-damage fragility per asset class, intensity = water depth above ground in m.
FLOOD_FRAGILITY: dict[str, Fragility] = {
    "power/trafo": Fragility(1.0, 0.40, "assumption: substation transformer, control cabinets and bushings ~0.5-1.5 m above grade"),
    "power/bus": Fragility(1.2, 0.40, "assumption: MV switchgear / ground-mounted substation of the bus"),
    "water/pump": Fragility(1.0, 0.40, "assumption: pump station motors and controls at floor level"),
    "water/well": Fragility(1.5, 0.40, "assumption: wellhead and its pump controls"),
    "ict/site": Fragility(0.8, 0.50, "assumption: ground-level equipment cabinet and power supply of the site"),
    "traffic/road": Fragility(0.3, 0.30, "assumption: median at 0.3 m, the depth at which Pregnolato et al. (2017, Transp. Res. D 55) find roads impassable to cars"),
    "traffic/signal": Fragility(0.6, 0.40, "assumption: signal controller cabinet at grade"),
}


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


DAMAGE_MODES: tuple[str, ...] = ("failed", "leak", "break")


@dataclass(frozen=True)
class Damage:
    """One asset failing at ``time_s`` for ``duration_s`` (None: the sector's repair time).

    ``mode`` says how it fails: ``failed`` (out of service; a pipe then follows the water
    model's ``pipe_break`` rule), ``leak`` or ``break`` (pipes: a small or a large emitter on
    a node inside the pipe, docs/water.md). ``fraction`` in (0, 1] is partial damage where the
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
    return table.get(f"{asset['sector']}/{asset['type']}")


def _aligned(time_s: float, step_s: int, horizon_s: int) -> int:
    """Damage takes effect at the start of the exchange step it falls in."""
    return min(int(time_s // step_s) * step_s, max(0, horizon_s - step_s))


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
    seed, step, horizon = scenario.run.seed, scenario.run.step_s, scenario.run.horizon_s
    t0 = _aligned(hz.start_h * 3600, step, horizon)
    out = []
    for a in assets:
        frag = fragility_for(a, WIND_FRAGILITY)
        if frag is None or a.get("underground", False):  # wind does not reach cables
            continue
        wind, hour = storm_wind_ms(hz, a["x_m"], a["y_m"])
        if uniform(seed, f"storm-{i}", a["id"]) < frag.probability(wind):
            out.append(Damage(_aligned(hour * 3600, step, horizon), a["id"], hazard_id(hz, i), t0, None))
    return out


@register_hazard("flood", "flood")
def _flood_damage(hz: FloodHazard, i: int, scenario: Scenario, assets: list[Asset]) -> list[Damage]:
    seed, step, horizon = scenario.run.seed, scenario.run.step_s, scenario.run.horizon_s
    t0 = _aligned(hz.start_h * 3600, step, horizon)
    out = []
    for a in assets:
        frag = fragility_for(a, FLOOD_FRAGILITY)
        if frag is None:
            continue
        depth = flood_depth_m(hz, a["x_m"], a["y_m"])
        if uniform(seed, f"flood-{i}", a["id"]) < frag.probability(depth):
            # flooded roads reopen when the water recedes; other assets need repair
            dur = None
            if a["sector"] == "traffic" and a["type"] == "road" and hz.end_h is not None:
                dur = max(0, round(hz.end_h * 3600) - t0)
            out.append(Damage(t0, a["id"], hazard_id(hz, i), t0, dur))
    return out


@register_hazard("random", "equipment")
def _random_damage(hz: RandomHazard, i: int, scenario: Scenario, assets: list[Asset]) -> list[Damage]:
    seed, step, horizon = scenario.run.seed, scenario.run.step_s, scenario.run.horizon_s
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
    out.sort(key=lambda d: (d.time_s, d.asset_id))
    return out


# Kinds registered in their own modules (imported last: they use the registry above).
import twin.region.disruption  # noqa: E402, F401  (disruption_file)
