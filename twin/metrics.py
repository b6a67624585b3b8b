"""Resilience metrics: pure functions of a results file and its hazard-free baseline.

The definitions, formulas and units are documented in docs/metrics.md; this module is
their one implementation. Impact figures are the excess of the run over the baseline of the
same configuration and seed (a missing baseline counts as a perfect one: zero impact,
performance 1).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable

import numpy as np

from twin.events import ROOT_COUPLINGS, Event, is_failure, solver_failure_counts
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


# --- cascades ----------------------------------------------------------------------------


def failure_events(r: Results) -> list[Event]:
    return [e for e in r.events if is_failure(e["kind"])]


def is_primary(e: Event) -> bool:
    return e["coupling"] in ROOT_COUPLINGS


def secondary_failures(r: Results) -> list[Event]:
    """Failures caused by another event (not directly by a hazard or attack)."""
    return [e for e in failure_events(r) if not is_primary(e)]


def _customers(r: Results) -> dict[str, int]:
    return {str(a): int(c) for a, c in zip(r.assets["id"], r.assets["customers"], strict=True)}


def cascade_depths(events: Iterable[Event]) -> dict[str, int]:
    """Depth of each event in the causal forest: a root hazard is 0, its direct effect 1..."""
    by_id = {e["event_id"]: e for e in events}
    depth: dict[str, int] = {}

    def walk(eid: str) -> int:
        chain: list[str] = []
        cur = eid
        while cur in by_id and cur not in depth and cur not in chain:
            chain.append(cur)
            cur = by_id[cur]["cause_id"]
        base = depth.get(cur, -1) if cur in by_id else -1
        for i, e in enumerate(reversed(chain)):
            depth[e] = base + 1 + i
        return depth[eid]

    for eid in by_id:
        walk(eid)
    return depth


def cross_sector_hops(events: Iterable[Event]) -> int:
    """Causal links between failures of assets of two different sectors (hazard roots
    excluded). The sector is the asset's (its id's prefix), not the simulator's that logged
    the event: an endpoint that loses ICT is still a power, water or traffic asset."""
    evs = list(events)
    by_id = {e["event_id"]: e for e in evs}
    hops = 0
    for e in evs:
        cause = by_id.get(e["cause_id"])
        if (
            cause is not None and is_failure(e["kind"]) and cause["sector"] != "incidents"
            and cause["asset_id"].split("/", 1)[0] != e["asset_id"].split("/", 1)[0]
        ):
            hops += 1
    return hops


def chain(r: Results, event_id: str) -> list[Event]:
    """The causal chain of one event back to its root, effect first."""
    by_id = {e["event_id"]: e for e in r.events}
    out: list[Event] = []
    cur = event_id
    while cur in by_id and all(e["event_id"] != cur for e in out):
        out.append(by_id[cur])
        cur = by_id[cur]["cause_id"]
    return out


# --- equity ------------------------------------------------------------------------------


def gini(values: np.ndarray, weights: np.ndarray) -> float:
    """Weighted Gini coefficient: sum_ij w_i w_j |x_i - x_j| / (2 (sum w)^2 mean_w(x))."""
    x, w = np.asarray(values, float), np.asarray(weights, float)
    if len(x) == 0 or w.sum() <= 0:
        return 0.0
    mean = np.sum(w * x) / w.sum()
    if mean <= 0:
        return 0.0
    diff = np.abs(x[:, None] - x[None, :])
    return float(np.sum(w[:, None] * w[None, :] * diff) / (2.0 * w.sum() ** 2 * mean))


def district_person_outage_h(run: Results, baseline: Results | None) -> dict[str, float]:
    """Person-hours without power or water per district, excess over the baseline, >= 0.

    Power counts households (times the district's persons per household); water counts
    people at junctions already.
    """
    ids = [str(d) for d in run.districts["id"]]
    persons_per_hh = np.array(run.districts["population"], float) / np.maximum(
        np.array(run.districts["households"], float), 1.0)
    out = np.zeros(len(ids))
    for sector, scale in (("power", persons_per_hh), ("water", np.ones(len(ids)))):
        r = customer_outage_by_district(run, sector)
        b = customer_outage_by_district(baseline, sector) if baseline is not None else {}
        out += scale * np.array([r.get(d, 0.0) - b.get(d, 0.0) for d in ids])
    return dict(zip(ids, np.maximum(out, 0.0).tolist(), strict=True))


def equity(run: Results, baseline: Results | None) -> dict[str, float]:
    """Rural-to-urban ratio of outage hours per capita, and the population-weighted Gini of
    per-capita outage hours over districts (see :func:`district_person_outage_h`).

    The ratio is 1 when neither suffered, inf when only rural districts did, nan without a
    rural or without an urban district.
    """
    hours = np.array(list(district_person_outage_h(run, baseline).values()))
    population = np.array(run.districts["population"], float)
    rural = np.array(run.districts["rural"], bool)
    if rural.any() and (~rural).any():
        rural_rate = hours[rural].sum() / max(population[rural].sum(), 1.0)
        urban_rate = hours[~rural].sum() / max(population[~rural].sum(), 1.0)
        if urban_rate == 0:
            ratio = 1.0 if rural_rate == 0 else math.inf
        else:
            ratio = rural_rate / urban_rate
    else:
        ratio = math.nan
    return {
        "equity_rural_urban_ratio": float(ratio),
        "equity_gini": gini(hours / np.maximum(population, 1.0), population),
    }


# --- cost ----------------------------------------------------------------------------------

# Indicative unit costs (M EUR per unit of each cost-proxy quantity): an assumption, only to
# put the configurations' network lengths and assets on one axis.
UNIT_COST_MEUR: dict[str, float] = {
    "line_km": 0.1,
    "pipe_km": 0.5,
    "pv_mw": 0.9,
    "battery_mwh": 0.4,
    "wells": 0.3,
    "pumps": 0.2,
    "tanks": 0.5,
    "ict_sites": 0.15,
    "backup_h_total": 0.005,
}


def cost_index_meur(cost: dict[str, float]) -> float:
    """sum_k UNIT_COST_MEUR[k] * cost[k] over the cost-proxy quantities (M EUR, indicative)."""
    return float(sum(UNIT_COST_MEUR[k] * float(v) for k, v in cost.items() if k in UNIT_COST_MEUR))


# --- flags --------------------------------------------------------------------------------

# A negative impact is flagged when it is below -max(NEGATIVE_ABS_TOLERANCE,
# NEGATIVE_REL_TOLERANCE * the baseline's own total): a run may do slightly better than its
# baseline in some step (load follows other dispatch), but not by more than 1 % of it.
NEGATIVE_REL_TOLERANCE = 0.01
NEGATIVE_ABS_TOLERANCE = 1e-6


def negative_impacts(m: dict[str, float], baseline: Results | None) -> list[str]:
    """The impact metrics of ``m`` below the tolerance (docs/metrics.md, "Flags")."""
    out = []
    for key, total in IMPACT_TOTALS.items():
        base = abs(total(baseline)) if baseline is not None else 0.0
        if key in m and m[key] < -max(NEGATIVE_ABS_TOLERANCE, NEGATIVE_REL_TOLERANCE * base):
            out.append(key)
    return out


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

    customers = _customers(run)
    primary = [e for e in failure_events(run) if is_primary(e)]
    secondary = secondary_failures(run)
    base_secondary = secondary_failures(baseline) if baseline is not None else []
    m["primary_failures"] = float(len(primary))
    m["secondary_failures"] = float(len(secondary) - len(base_secondary))
    m["secondary_failures_customers"] = float(
        sum(customers.get(e["asset_id"], 0) for e in secondary)
        - sum(customers.get(e["asset_id"], 0) for e in base_secondary)
    )
    depths = cascade_depths(run.events)
    fail_depths = [depths[e["event_id"]] for e in failure_events(run)]
    m["cascade_depth_max"] = float(max(fail_depths, default=0))
    m["cascade_amplification"] = len(secondary) / len(primary) if primary else 0.0
    m["cross_sector_hops"] = float(cross_sector_hops(run.events))
    m.update(equity(run, baseline))

    curves: dict[str, np.ndarray] = {}
    step_h = _step_h(run)
    for sector in SECTORS:
        p = performance(run, baseline, sector)
        if p is None:
            continue
        curves[sector] = p
        m[f"resilience_loss_{sector}_h"] = resilience_loss_h(p, step_h)
        m[f"min_performance_{sector}"] = minimum_performance(p)
        ttr, censored = time_to_recover_h(p, step_h)
        m[f"time_to_recover_{sector}_h"] = ttr
        m[f"time_to_recover_{sector}_censored"] = float(censored)
    for k, v in run.cost.items():
        m[f"cost_{k}"] = float(v)
    m["cost_index_meur"] = cost_index_meur(run.cost)
    return m, curves


HEADLINE: tuple[tuple[str, str], ...] = (
    ("energy_not_served_mwh", "energy not served (MWh)"),
    ("water_not_served_m3", "water not served (m³)"),
    ("vehicle_delay_h", "extra vehicle delay (veh·h)"),
    ("customer_outage_h", "customer-outage hours (households)"),
    ("secondary_failures", "secondary failures"),
)
