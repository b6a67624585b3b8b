"""Performance curves, impact totals and flags: the series-based core of the metrics.

Definitions in docs/metrics.md. Impact figures are the excess of the run over the baseline
of the same configuration and seed (a missing baseline counts as a perfect one: zero impact,
performance 1). A metric that has no meaningful value for a run (a ratio without a
denominator, a class of districts the region lacks) is stored as NaN together with
``<name>_applicable = 0`` (:func:`set_applicable`) and printed "n/a", never 0 or inf.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np

from twin.region.layout import PERSONS_PER_HOUSEHOLD
from twin.results import Results

SECTORS = ("power", "water", "traffic", "ict")
RECOVERY_LEVEL = 0.95


# --- helpers -----------------------------------------------------------------------------


def _step_h(r: Results) -> float:
    return r.step_s / 3600.0


def _series(r: Results | None, sector: str, name: str) -> np.ndarray | None:
    if r is None:
        return None
    return r.series.get(sector, {}).get(name)


def _ratio(num: np.ndarray, den: np.ndarray) -> np.ndarray:
    """num / den, 1 where nothing is demanded."""
    num, den = np.asarray(num, float), np.asarray(den, float)
    out = np.ones_like(den)
    mask = den > 1e-12
    out[mask] = num[mask] / den[mask]
    return np.clip(out, 0.0, 1.0)


APPLICABLE_SUFFIX = "_applicable"


def set_applicable(m: dict[str, float], key: str, value: float | None) -> None:
    """``m[key] = value`` with ``m[key + "_applicable"] = 1``; ``value`` None: NaN and 0."""
    m[key] = math.nan if value is None else float(value)
    m[key + APPLICABLE_SUFFIX] = 0.0 if value is None else 1.0


def metric_value(m: dict[str, Any], key: str) -> float:
    """A run's metric as a finite float, else NaN: missing, None, not a number, not finite,
    or flagged not applicable. Where reports and sweep statistics read a metric."""
    v = m.get(key)
    if v is None or m.get(key + APPLICABLE_SUFFIX, 1.0) == 0:
        return math.nan
    try:
        f = float(v)
    except (TypeError, ValueError):
        return math.nan
    return f if math.isfinite(f) else math.nan


def is_applicable(m: dict[str, float], key: str) -> bool:
    """False when the metric is flagged not applicable (or is NaN)."""
    v = m.get(key)
    return m.get(key + APPLICABLE_SUFFIX, 1.0) != 0.0 and v is not None and not math.isnan(v)


# --- performance curves ------------------------------------------------------------------


def raw_performance(r: Results, sector: str) -> np.ndarray | None:
    """P(t) of one run on its own, or None if the sector was not simulated.

    power: served / demanded load; water: delivered / required demand (pressure-driven);
    ict: endpoints reaching their controller / all endpoints; traffic: 1 / travel-time index.
    """
    if sector == "power":
        s, d = _series(r, "power", "served_mw"), _series(r, "power", "demand_mw")
    elif sector == "water":
        s, d = _series(r, "water", "delivered_m3s"), _series(r, "water", "required_m3s")
    elif sector == "ict":
        s, d = _series(r, "ict", "endpoints_reachable"), _series(r, "ict", "endpoints_total")
    elif sector == "traffic":
        tti = _series(r, "traffic", "travel_time_index")
        if tti is None:
            return None
        return _ratio(np.ones_like(tti), np.maximum(tti, 1e-9))
    else:
        raise ValueError(f"unknown sector {sector!r}")
    if s is None or d is None:
        return None
    return _ratio(s, d)


# The series whose total is what a sector's P(t) divides by (traffic's 1 / TTI always has one).
DEMAND_SERIES: dict[str, str] = {"power": "demand_mw", "water": "required_m3s", "ict": "endpoints_total"}


def has_demand(r: Results, sector: str) -> bool:
    """Whether anything was demanded of the sector in some step: without, P(t) = 1 throughout
    says nothing (no load, no water demand, no ICT endpoint), and its resilience loss,
    minimum performance and time to recover are not meaningful (rather than a perfect 0 / 1)."""
    name = DEMAND_SERIES.get(sector)
    if name is None:
        return True
    d = _series(r, sector, name)
    return d is not None and bool(np.any(np.asarray(d, float) > 1e-12))


def performance(run: Results, baseline: Results | None, sector: str) -> np.ndarray | None:
    """P(t) in [0, 1] relative to the baseline: min(1, P_run(t) / P_baseline(t))."""
    p = raw_performance(run, sector)
    if p is None:
        return None
    b = raw_performance(baseline, sector) if baseline is not None else None
    if b is None or len(b) != len(p):
        return p
    return _ratio(p, b)


def resilience_loss_h(p: np.ndarray, step_h: float) -> float:
    """Area above the performance curve, in hours of total loss: sum (1 - P) * dt."""
    return float(np.sum(1.0 - np.asarray(p, float)) * step_h)


def minimum_performance(p: np.ndarray) -> float:
    return float(np.min(p)) if len(p) else 1.0


def time_to_recover_h(p: np.ndarray, step_h: float, level: float = RECOVERY_LEVEL) -> tuple[float, bool]:
    """Hours from the first step below ``level`` until P is back at or above it for good.

    0 if P never dropped below ``level``. If it is still below at the end, the time to the
    horizon is returned with ``censored = True``.
    """
    p = np.asarray(p, float)
    below = np.flatnonzero(p < level)
    if below.size == 0:
        return 0.0, False
    first, last = below[0], below[-1]
    if last == len(p) - 1:
        return float((len(p) - first) * step_h), True
    return float((last + 1 - first) * step_h), False


# --- impact totals -----------------------------------------------------------------------


def energy_not_served_mwh(r: Results) -> float:
    """sum over steps of max(0, demand_mw - served_mw) * step_h."""
    s, d = _series(r, "power", "served_mw"), _series(r, "power", "demand_mw")
    if s is None or d is None:
        return 0.0
    return float(np.sum(np.maximum(0.0, d - s)) * _step_h(r))


def water_not_served_m3(r: Results) -> float:
    """sum over steps of max(0, required_m3s - delivered_m3s) * step_s."""
    s, d = _series(r, "water", "delivered_m3s"), _series(r, "water", "required_m3s")
    if s is None or d is None:
        return 0.0
    return float(np.sum(np.maximum(0.0, d - s)) * r.step_s)


def vehicle_delay_h(r: Results) -> float:
    """Vehicle-hours of time loss: sum of the traffic series ``time_loss_h``."""
    t = _series(r, "traffic", "time_loss_h")
    return 0.0 if t is None else float(np.sum(t))


def customer_outage_by_district(r: Results, sector: str) -> dict[str, float]:
    """Customer-hours without service per district: sum_t customers_out(t, d) * step_h."""
    c = _series(r, sector, "customers_out")
    if c is None:
        return {}
    cols = r.columns[sector]["customers_out"]
    totals = np.sum(c, axis=0) * _step_h(r)
    return {d: float(v) for d, v in zip(cols, totals, strict=True)}


def customer_outage_h(r: Results, sector: str) -> float:
    return float(sum(customer_outage_by_district(r, sector).values()))


# Impact metrics (excess over the baseline) and the totals they are the excess of.
IMPACT_TOTALS: dict[str, Callable[[Results], float]] = {
    "energy_not_served_mwh": energy_not_served_mwh,
    "water_not_served_m3": water_not_served_m3,
    "vehicle_delay_h": vehicle_delay_h,
    "customer_outage_h_power": lambda r: customer_outage_h(r, "power"),
    "customer_outage_h_water": lambda r: customer_outage_h(r, "water") / PERSONS_PER_HOUSEHOLD,
}


# --- flags --------------------------------------------------------------------------------

# A negative impact is flagged when it is below -max(NEGATIVE_ABS_TOLERANCE,
# NEGATIVE_REL_TOLERANCE * the baseline's own total): a run may do slightly better than its
# baseline in some step (load follows other dispatch), but not by more than 1 % of it.
NEGATIVE_REL_TOLERANCE = 0.01
NEGATIVE_ABS_TOLERANCE = 1e-6


# Vehicle delay is not flagged: a hazard that closes roads cancels and abandons trips
# (trips_lost), and the fewer vehicles left on the network can lose less time than the
# baseline's full traffic, so a negative excess delay is a real outcome, read with trips_lost.
FLAGGED_IMPACTS: tuple[str, ...] = tuple(k for k in IMPACT_TOTALS if k != "vehicle_delay_h")


def negative_impacts(m: dict[str, float], baseline: Results | None) -> list[str]:
    """The impact metrics of ``m`` (those in FLAGGED_IMPACTS) below the tolerance
    (docs/metrics.md, "Run status and flags")."""
    out = []
    for key in FLAGGED_IMPACTS:
        total = IMPACT_TOTALS[key]
        base = abs(total(baseline)) if baseline is not None else 0.0
        if key in m and m[key] < -max(NEGATIVE_ABS_TOLERANCE, NEGATIVE_REL_TOLERANCE * base):
            out.append(key)
    return out


