"""Trips lost to a hazard and traffic figures scaled to the real demand (docs/metrics.md,
"Trips and scale").

SUMO simulates the share ``traffic.demand_scale`` of the region's car trips (docs/traffic.md),
so every traffic series counts simulated vehicles. Each figure is given per simulated
vehicle (as the series have it) and, beside it, times ``1 / demand_scale``.
"""

from __future__ import annotations

import tomllib

import numpy as np

from twin.results import Results

# Person-hours of a trip that was cancelled or had not arrived by the horizon: the trip's
# usual travel time plus a penalty for the trip forgone, re-planned or waited out. Both are
# assumptions, stated here once: 0.4 h is of the order of a mean car trip in household travel
# surveys (24 min; e.g. MiD 2017 for Germany), 1 h a round figure for the trip not made.
BASE_TRIP_H = 0.4
LOST_TRIP_PENALTY_H = 1.0


def demand_scale(r: Results) -> float:
    """The run's ``traffic.demand_scale`` from its resolved scenario, else the schema default."""
    from twin.config import TrafficSection

    default = float(TrafficSection.model_fields["demand_scale"].default)
    try:
        data = tomllib.loads(str(r.attrs.get("scenario_toml", "")))
    except tomllib.TOMLDecodeError:
        return default
    value = data.get("traffic", {}).get("demand_scale", default)
    return float(value) if float(value) > 0 else default


def _total(r: Results | None, name: str) -> float:
    s = None if r is None else r.series.get("traffic", {}).get(name)
    return 0.0 if s is None else float(np.sum(s))


def _last(r: Results | None, name: str) -> float:
    s = None if r is None else r.series.get("traffic", {}).get(name)
    return 0.0 if s is None or len(s) == 0 else float(np.asarray(s)[-1])


def trip_metrics(run: Results, baseline: Results | None, vehicle_delay_h: float) -> dict[str, float]:
    """Trips cancelled, abandoned on the way and unfinished at the horizon (excess over the
    baseline), the person-hours they stand for, and the delay, each raw and scaled by
    ``1 / demand_scale``."""
    if "traffic" not in run.series:
        return {}
    cancelled = _total(run, "trips_cancelled") - _total(baseline, "trips_cancelled")
    abandoned = _total(run, "trips_abandoned") - _total(baseline, "trips_abandoned")
    unfinished = _last(run, "vehicles_running") - _last(baseline, "vehicles_running")
    lost = cancelled + abandoned + unfinished
    person_h = lost * (BASE_TRIP_H + LOST_TRIP_PENALTY_H)
    scale = 1.0 / demand_scale(run)
    return {
        "demand_scale": 1.0 / scale,
        "trips_cancelled": cancelled,
        "trips_abandoned": abandoned,
        "trips_unfinished": unfinished,
        "trips_lost": lost,
        "trips_lost_person_h": person_h,
        "trips_lost_scaled": lost * scale,
        "trips_lost_person_h_scaled": person_h * scale,
        "vehicle_delay_h_scaled": vehicle_delay_h * scale,
    }
