"""Resilience metrics: pure functions of a results file and its hazard-free baseline.

The definitions, formulas and units are documented in docs/metrics.md; this package is their
one implementation: :mod:`twin.metrics.core` (performance curves, impact totals, flags),
:mod:`~twin.metrics.cascades`, :mod:`~twin.metrics.equity`, :mod:`~twin.metrics.cost`,
:mod:`~twin.metrics.access` (access to a hospital and to an emergency call).
:func:`compute` gathers them all; every name used elsewhere is importable from here.
"""

from __future__ import annotations

import numpy as np

from twin.events import solver_failure_counts
from twin.metrics.access import (
    ACCESS_TIME_S,
    HOSPITAL_BACKUP_H,
    SERVICES,
    access_metrics,
    access_share,
    emergency_call_share,
    hospital_access_share,
    hospital_working,
)
from twin.metrics.cascades import (
    cascade_depths,
    cascade_metrics,
    chain,
    children_of,
    cross_sector_hops,
    customers_lost,
    customers_of,
    failure_events,
    is_primary,
    lost_below,
    secondary_failures,
    secondary_service_failures,
    service_depths,
    service_failures,
    service_hops,
    subtree,
    weighted_service_failures,
)
from twin.metrics.core import (
    APPLICABLE_SUFFIX,
    IMPACT_TOTALS,
    NEGATIVE_ABS_TOLERANCE,
    NEGATIVE_REL_TOLERANCE,
    RECOVERY_LEVEL,
    SECTORS,
    customer_outage_by_district,
    customer_outage_h,
    energy_not_served_mwh,
    has_demand,
    is_applicable,
    metric_value,
    minimum_performance,
    negative_impacts,
    performance,
    raw_performance,
    resilience_loss_h,
    set_applicable,
    time_to_recover_h,
    vehicle_delay_h,
    water_not_served_m3,
)
from twin.metrics.cost import (
    DISCOUNT_RATE,
    UNIT_COST_MEUR,
    UNIT_COSTS,
    UnitCost,
    annualised_cost,
    annuity_factor,
    cost_index_meur,
    cost_quantities,
)
from twin.metrics.equity import (
    RATIO_FLOOR_H,
    URBANISATION_CLASSES,
    district_classes,
    district_person_outage_h,
    equity,
    gini,
    rural_urban_ratio,
    urbanisation,
)
from twin.metrics.indices import (
    SUSTAINED_S,
    VOLL_EUR_PER_MWH,
    customers_served,
    energy_not_served_by_class,
    interruptions,
    lost_load_metrics,
    utility_indices,
)
from twin.metrics.trips import BASE_TRIP_H, LOST_TRIP_PENALTY_H, demand_scale, trip_metrics
from twin.results import Results

# --- all metrics -------------------------------------------------------------------------


def compute(run: Results, baseline: Results | None) -> tuple[dict[str, float], dict[str, np.ndarray]]:
    """Every scalar metric of a run, and its performance curves (relative to the baseline)."""
    m: dict[str, float] = {
        key: total(run) - (total(baseline) if baseline is not None else 0.0)
        for key, total in IMPACT_TOTALS.items()
    }
    m["customer_outage_h"] = m["customer_outage_h_power"] + m["customer_outage_h_water"]
    m["negative_impacts"] = float(len(negative_impacts(m, baseline)))
    for solver, n in solver_failure_counts(run.events).items():
        m[f"solver_failure_steps_{solver}"] = float(n)

    for key, value in cascade_metrics(run, baseline).items():
        if key.startswith("cascade_amplification"):
            set_applicable(m, key, value)
        else:
            m[key] = float(value)  # type: ignore[arg-type]
    for key, value in equity(run, baseline).items():
        if key.startswith("equity_districts_"):
            m[key] = float(value)  # type: ignore[arg-type]
        else:
            set_applicable(m, key, value)
    m.update(trip_metrics(run, baseline, m["vehicle_delay_h"]))
    for key, value in {**utility_indices(run, baseline), **lost_load_metrics(run, baseline)}.items():
        set_applicable(m, key, value)
    for key, value in access_metrics(run, baseline).items():
        set_applicable(m, key, value)

    curves: dict[str, np.ndarray] = {}
    step_h = run.step_s / 3600.0
    for sector in SECTORS:
        p = performance(run, baseline, sector)
        if p is None:
            continue
        curves[sector] = p
        ok = has_demand(run, sector)
        ttr, censored = time_to_recover_h(p, step_h)
        set_applicable(m, f"resilience_loss_{sector}_h", resilience_loss_h(p, step_h) if ok else None)
        set_applicable(m, f"min_performance_{sector}", minimum_performance(p) if ok else None)
        set_applicable(m, f"time_to_recover_{sector}_h", ttr if ok else None)
        m[f"time_to_recover_{sector}_censored"] = float(censored and ok)
    for k, v in run.cost.items():
        m[f"cost_{k}"] = float(v)
    m["cost_index_meur"] = cost_index_meur(run.cost)
    for key, value in annualised_cost(run).items():
        set_applicable(m, key, value)
    return m, curves


HEADLINE: tuple[tuple[str, str], ...] = (
    ("energy_not_served_mwh", "energy not served (MWh)"),
    ("water_not_served_m3", "water not served (m³)"),
    ("vehicle_delay_h", "extra vehicle delay (simulated veh·h)"),
    ("vehicle_delay_h_scaled", "extra vehicle delay, all vehicles (veh·h, × 1/demand_scale)"),
    ("trips_lost_scaled", "trips cancelled, abandoned or unfinished, all vehicles (× 1/demand_scale)"),
    ("customer_outage_h", "customer-outage hours (households)"),
    ("secondary_failures", "secondary service failures"),
)

__all__ = [
    "ACCESS_TIME_S", "HOSPITAL_BACKUP_H", "SERVICES", "access_metrics", "access_share",
    "emergency_call_share", "hospital_access_share", "hospital_working",
    "APPLICABLE_SUFFIX", "HEADLINE", "IMPACT_TOTALS", "NEGATIVE_ABS_TOLERANCE", "NEGATIVE_REL_TOLERANCE",
    "RATIO_FLOOR_H", "URBANISATION_CLASSES", "district_classes", "urbanisation",
    "BASE_TRIP_H", "LOST_TRIP_PENALTY_H", "demand_scale", "trip_metrics",
    "lost_below", "weighted_service_failures", "DISCOUNT_RATE", "UNIT_COSTS", "UnitCost", "annualised_cost", "annuity_factor", "cost_quantities",
    "RECOVERY_LEVEL", "SECTORS", "SUSTAINED_S", "VOLL_EUR_PER_MWH", "customers_served",
    "energy_not_served_by_class", "interruptions", "lost_load_metrics", "utility_indices", "UNIT_COST_MEUR", "Results", "cascade_depths", "cascade_metrics", "chain",
    "children_of", "compute", "cost_index_meur", "cross_sector_hops", "customer_outage_by_district",
    "customer_outage_h", "customers_lost", "customers_of", "district_person_outage_h", "energy_not_served_mwh",
    "equity", "failure_events", "has_demand", "gini", "rural_urban_ratio", "is_applicable", "is_primary", "metric_value", "minimum_performance",
    "negative_impacts", "performance", "raw_performance", "resilience_loss_h", "secondary_failures",
    "secondary_service_failures", "service_depths", "service_failures", "service_hops", "set_applicable",
    "subtree", "time_to_recover_h", "vehicle_delay_h", "water_not_served_m3",
]
