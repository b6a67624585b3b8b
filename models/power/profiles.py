"""Time profiles of the power sector: household demand over the day, PV output, seasons and
the storm's overcast.

The household profile is normalised to a daily mean of 1.0 in the default season, so a
load's nominal ``p_mw`` in ``power.json`` is its mean demand there. PV follows a clear-sky
daylight curve times a seeded cloud factor that changes every hour and is the same for
every configuration of a region (common random numbers: one stream per (seed, purpose,
hour)). Under a storm's wind field the sky is overcast: the cloud factor is
``STORM_CLOUD_FACTOR`` instead (see :func:`storm_overcast`).

Seasons (``run.season``; docs/power.md, "Seasons and storm clouds"): the default
``equinox`` is the profile the twin always had (12 h of daylight from 06:00 to 18:00 solar
time, clear-sky peak 1.0, household demand x 1.0); ``summer`` and ``winter`` change the
daylight hours, the clear-sky peak and the daily household energy.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from twin.randomness import stream

# Hourly household demand (start of each hour), residential shape with morning and
# evening peaks; normalised below to a mean of exactly 1.0.
_HOURLY = np.array([
    0.55, 0.50, 0.48, 0.47, 0.48, 0.55, 0.75, 1.00, 1.05, 0.95, 0.90, 0.92,
    0.98, 0.95, 0.90, 0.92, 1.05, 1.30, 1.55, 1.60, 1.45, 1.20, 0.95, 0.70,
])
HOURLY_HOUSEHOLD: np.ndarray = _HOURLY / _HOURLY.mean()
CLOUD_MIN = 0.3  # lowest cloud factor (overcast hour)


@dataclass(frozen=True)
class Season:
    """Daylight (solar time, h), clear-sky PV peak over the equinox peak, household
    daily energy over the equinox's."""

    sunrise_h: float
    sunset_h: float
    pv_peak: float
    load: float


# Latitude 51 deg N (central Germany). Day length from cos(w0) = -tan(lat) tan(decl) at the
# solstices (decl +-23.44 deg): 16.3 h and 7.7 h. Clear-sky noon peak on a 35-deg south roof
# relative to the equinox: cos(incidence) times Meinel's beam transmittance 0.7^(AM^0.678)
# (air mass AM = 1/sin(elevation)): summer 0.99 x 0.68, winter 0.77 x 0.42, equinox
# 0.96 x 0.61, i.e. 1.15 and 0.55. Household daily energy: winter 1.2, summer 0.85 of the
# equinox day, an assumption in the direction of the seasons of the BDEW H0 standard load
# profile (not fitted to it).
SEASONS: dict[str, Season] = {
    "equinox": Season(6.0, 18.0, 1.0, 1.0),
    "summer": Season(3.85, 20.15, 1.15, 0.85),
    "winter": Season(8.15, 15.85, 0.55, 1.2),
}
DEFAULT_SEASON = "equinox"
SUNRISE_H = SEASONS[DEFAULT_SEASON].sunrise_h
SUNSET_H = SEASONS[DEFAULT_SEASON].sunset_h

# Overcast under a storm: Kasten & Czeplak (1980), Solar Energy 24, 177-189, global
# irradiance G = G_clear (1 - 0.75 (N/8)^3.4) for cloud cover N octas; N = 8 gives 0.25.
STORM_CLOUD_FACTOR = 0.25
# The storm's wind field covers a point while the gust there, peak x exp(-d / decay_m) from
# the storm centre's current position, is at least gale force (Beaufort 8, 17.2 m/s).
STORM_FIELD_MS = 17.2


def season(name: str) -> Season:
    """The season called ``name`` (ValueError naming the choices otherwise)."""
    if name not in SEASONS:
        raise ValueError(f"unknown season {name!r}; choose one of {sorted(SEASONS)}")
    return SEASONS[name]


def household_factor(time_s: float, season_name: str = DEFAULT_SEASON) -> float:
    """Household demand over its (equinox) daily mean at ``time_s`` (linear between hourly
    points), times the season's daily energy."""
    h = (time_s / 3600.0) % 24.0
    i = int(h)
    frac = h - i
    shape = HOURLY_HOUSEHOLD[i] * (1 - frac) + HOURLY_HOUSEHOLD[(i + 1) % 24] * frac
    return float(shape * season(season_name).load)


def daylight_factor(time_s: float, season_name: str = DEFAULT_SEASON) -> float:
    """Clear-sky PV output over the equinox peak: a half sine between the season's sunrise
    and sunset scaled by its peak, else 0."""
    s = season(season_name)
    h = (time_s / 3600.0) % 24.0
    if h <= s.sunrise_h or h >= s.sunset_h:
        return 0.0
    return s.pv_peak * math.sin(math.pi * (h - s.sunrise_h) / (s.sunset_h - s.sunrise_h))


def cloud_factor(seed: int, time_s: float) -> float:
    """Seeded cloud factor in [CLOUD_MIN, 1] for the hour containing ``time_s``."""
    return _hourly_cloud(int(seed), int(time_s // 3600))


@functools.lru_cache(maxsize=4096)
def _hourly_cloud(seed: int, hour: int) -> float:
    """One draw per (seed, hour), kept: seeding a stream costs more than a power step."""
    return float(CLOUD_MIN + (1 - CLOUD_MIN) * stream(seed, "power-clouds", str(hour)).random())


def pv_factor(seed: int, time_s: float, season_name: str = DEFAULT_SEASON,
              overcast: bool = False) -> float:
    """PV output over rated power at ``time_s``: daylight times clouds (the storm's
    ``STORM_CLOUD_FACTOR`` when ``overcast``)."""
    day = daylight_factor(time_s, season_name)
    if day == 0.0:
        return 0.0
    return day * (STORM_CLOUD_FACTOR if overcast else cloud_factor(seed, time_s))


def storm_centre(storm: Mapping, time_s: float) -> tuple[float, float] | None:
    """Where the storm's centre is at ``time_s`` (m), None before ``start_h`` and after
    ``end_h``: it moves along ``track_m`` at constant speed (as in twin/hazards.py)."""
    t0, t1 = float(storm["start_h"]) * 3600.0, float(storm["end_h"]) * 3600.0
    if not t0 <= time_s <= t1:
        return None
    (ax, ay), (bx, by) = storm["track_m"]
    f = (time_s - t0) / (t1 - t0) if t1 > t0 else 0.0
    return ax + f * (bx - ax), ay + f * (by - ay)


def storm_overcast(storms: Sequence[Mapping], x_m: float, y_m: float, time_s: float) -> bool:
    """Whether a storm's wind field (gust >= ``STORM_FIELD_MS``) covers (x, y) at ``time_s``."""
    for st in storms:
        c = storm_centre(st, time_s)
        if c is None:
            continue
        gust = float(st["peak_wind_ms"]) * math.exp(-math.hypot(x_m - c[0], y_m - c[1]) / float(st["decay_m"]))
        if gust >= STORM_FIELD_MS:
            return True
    return False
