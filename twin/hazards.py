"""Hazards turned into damage: pure functions of the scenario, the asset table and the seed.

Failure generation is kept apart from simulation (as in WNTR): :func:`damage_schedule`
returns which asset fails when and why; the incidents simulator only replays it. Each
asset's draw comes from its own stream ``(seed, "<hazard>-<index>", asset id)``, so an asset
present in two configurations suffers the same damage in both (common random numbers).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from twin.config import OutageHazard, RandomHazard, Scenario, StormHazard
from twin.randomness import uniform
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


# Wind fragility per asset class ("sector/type"), intensity = 3-s gust in m/s.
WIND_FRAGILITY: dict[str, Fragility] = {
    "power/line": Fragility(40.0, 0.30, "assumption: overhead MV line section incl. poles and trees"),
    "ict/site": Fragility(48.0, 0.30, "assumption: lattice/monopole telecom mast"),
    "traffic/road": Fragility(36.0, 0.35, "assumption: road closed by fallen roadside trees"),
}


@dataclass(frozen=True)
class Damage:
    """One asset failing at ``time_s`` for ``duration_s`` (None: the sector's repair time)."""

    time_s: int
    asset_id: str
    hazard_id: str  # the root event's asset id, e.g. "hazard/storm-0"
    hazard_time_s: int
    duration_s: int | None


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


def fragility_for(asset: Asset, table: dict[str, Fragility]) -> Fragility | None:
    return table.get(f"{asset['sector']}/{asset['type']}")


def _aligned(time_s: float, step_s: int, horizon_s: int) -> int:
    """Damage takes effect at the start of the exchange step it falls in."""
    return min(int(time_s // step_s) * step_s, max(0, horizon_s - step_s))


def damage_schedule(scenario: Scenario, assets: list[Asset]) -> list[Damage]:
    """Every failure the scenario's hazards cause to these assets, in time order."""
    seed, step, horizon = scenario.run.seed, scenario.run.step_s, scenario.run.horizon_s
    known = {a["id"]: a for a in assets}
    out: list[Damage] = []
    for i, hz in enumerate(scenario.hazards):
        hid = f"hazard/{hz.kind}-{i}"
        if isinstance(hz, OutageHazard):
            if hz.asset not in known:
                raise KeyError(f"hazards[{i}].asset: no asset {hz.asset!r} in this region")
            t = _aligned(hz.at_h * 3600, step, horizon)
            dur = None if hz.duration_h is None else round(hz.duration_h * 3600)
            out.append(Damage(t, hz.asset, hid, t, dur))
        elif isinstance(hz, StormHazard):
            t0 = _aligned(hz.start_h * 3600, step, horizon)
            for a in assets:
                frag = fragility_for(a, WIND_FRAGILITY)
                if frag is None:
                    continue
                wind, hour = storm_wind_ms(hz, a["x_m"], a["y_m"])
                if uniform(seed, f"storm-{i}", a["id"]) < frag.probability(wind):
                    out.append(Damage(_aligned(hour * 3600, step, horizon), a["id"], hid, t0, None))
        elif isinstance(hz, RandomHazard):
            for a in assets:
                if a["sector"] not in hz.sectors or (hz.types and a["type"] not in hz.types):
                    continue
                if uniform(seed, f"random-{i}", a["id"]) < hz.probability:
                    when = uniform(seed, f"random-{i}-time", a["id"]) * horizon
                    out.append(Damage(_aligned(when, step, horizon), a["id"], hid, 0, None))
    out.sort(key=lambda d: (d.time_s, d.asset_id))
    return out
