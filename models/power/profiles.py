"""Time profiles of the power sector: household demand over the day and PV output.

The household profile is normalised to a daily mean of 1.0, so a load's nominal ``p_mw``
in ``power.json`` is its mean demand. PV follows a clear-sky daylight curve times a seeded
cloud factor that changes every hour and is the same for every configuration of a region
(common random numbers: one stream per (seed, purpose, hour)).
"""

from __future__ import annotations

import functools
import math

import numpy as np

from twin.randomness import stream

# Hourly household demand (start of each hour), residential shape with morning and
# evening peaks; normalised below to a mean of exactly 1.0.
_HOURLY = np.array([
    0.55, 0.50, 0.48, 0.47, 0.48, 0.55, 0.75, 1.00, 1.05, 0.95, 0.90, 0.92,
    0.98, 0.95, 0.90, 0.92, 1.05, 1.30, 1.55, 1.60, 1.45, 1.20, 0.95, 0.70,
])
HOURLY_HOUSEHOLD: np.ndarray = _HOURLY / _HOURLY.mean()
SUNRISE_H = 6.0
SUNSET_H = 18.0
CLOUD_MIN = 0.3  # lowest cloud factor (overcast hour)


def household_factor(time_s: float) -> float:
    """Household demand over its daily mean at ``time_s`` (linear between hourly points)."""
    h = (time_s / 3600.0) % 24.0
    i = int(h)
    frac = h - i
    return float(HOURLY_HOUSEHOLD[i] * (1 - frac) + HOURLY_HOUSEHOLD[(i + 1) % 24] * frac)


def daylight_factor(time_s: float) -> float:
    """Clear-sky PV output over peak: a half sine between sunrise and sunset, else 0."""
    h = (time_s / 3600.0) % 24.0
    if h <= SUNRISE_H or h >= SUNSET_H:
        return 0.0
    return math.sin(math.pi * (h - SUNRISE_H) / (SUNSET_H - SUNRISE_H))


def cloud_factor(seed: int, time_s: float) -> float:
    """Seeded cloud factor in [CLOUD_MIN, 1] for the hour containing ``time_s``."""
    return _hourly_cloud(int(seed), int(time_s // 3600))


@functools.lru_cache(maxsize=4096)
def _hourly_cloud(seed: int, hour: int) -> float:
    """One draw per (seed, hour), kept: seeding a stream costs more than a power step."""
    return float(CLOUD_MIN + (1 - CLOUD_MIN) * stream(seed, "power-clouds", str(hour)).random())


def pv_factor(seed: int, time_s: float) -> float:
    """PV output over rated power at ``time_s`` (daylight times clouds)."""
    day = daylight_factor(time_s)
    return 0.0 if day == 0.0 else day * cloud_factor(seed, time_s)
