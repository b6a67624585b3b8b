"""Equity across districts: outage hours per person, urban against rural (docs/metrics.md)."""

from __future__ import annotations

import math

import numpy as np

from twin.metrics.core import customer_outage_by_district
from twin.results import Results


def gini(values: np.ndarray, weights: np.ndarray) -> float | None:
    """Weighted Gini coefficient: sum_ij w_i w_j |x_i - x_j| / (2 (sum w)^2 mean_w(x)).

    None (not meaningful) with fewer than two weighted values, or when the weighted mean is
    not positive: the formula is then 0/0, and "nobody had an outage" is not "the outage was
    shared evenly" (docs/metrics.md, "Equity").
    """
    x, w = np.asarray(values, float), np.asarray(weights, float)
    if int(np.sum(w > 0)) < 2:
        return None
    mean = np.sum(w * x) / w.sum()
    if mean <= 0:
        return None
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


# Eurostat's degree of urbanisation (DEGURBA; Eurostat 2021, "Applying the degree of
# urbanisation", methodological manual, ch. 2): urban centres (cities) have >= 1,500
# inhabitants per km2 and >= 50,000 inhabitants; urban clusters (towns and semi-dense areas)
# >= 300 per km2 and >= 5,000; the rest is rural. Applied to a district's mean density over
# its disc (population / (pi radius^2)); anchor towns (kind "town") are towns.
CITY_DENSITY_PER_KM2 = 1_500.0
CITY_MIN_POPULATION = 50_000
TOWN_DENSITY_PER_KM2 = 300.0
TOWN_MIN_POPULATION = 5_000
URBANISATION_CLASSES: tuple[str, ...] = ("city", "town", "rural")
# Floor of the urban outage hours per person in the rural/urban ratio: below 0.01 h (36 s)
# per person the urban districts count as barely touched, and the ratio stays finite. When
# rural and urban districts are both below it, there is no outage to compare: not meaningful.
RATIO_FLOOR_H = 0.01


def urbanisation(kind: str, population: float, radius_m: float) -> str:
    """``city``, ``town`` or ``rural`` by the DEGURBA thresholds above."""
    area_km2 = math.pi * (max(float(radius_m), 1.0) / 1000.0) ** 2
    density = float(population) / area_km2
    if density >= CITY_DENSITY_PER_KM2 and population >= CITY_MIN_POPULATION:
        return "city"
    if (density >= TOWN_DENSITY_PER_KM2 and population >= TOWN_MIN_POPULATION) or kind == "town":
        return "town"
    return "rural"


def district_classes(r: Results) -> dict[str, str]:
    """District id -> its degree of urbanisation."""
    d = r.districts
    return {str(i): urbanisation(str(k), float(p), float(rad))
            for i, k, p, rad in zip(d["id"], d["kind"], d["population"], d["radius_m"], strict=True)}


def equity(run: Results, baseline: Results | None) -> dict[str, float | None]:
    """Outage hours per person by degree of urbanisation, rural minus urban (the headline),
    the floored rural/urban ratio and the population-weighted Gini over districts; None
    where a class the metric needs is absent (docs/metrics.md, "Equity")."""
    hours = district_person_outage_h(run, baseline)
    classes = district_classes(run)
    population = {str(i): float(p) for i, p in zip(run.districts["id"], run.districts["population"], strict=True)}

    def rate(members: list[str]) -> float | None:
        pop = sum(population[d] for d in members)
        return sum(hours[d] for d in members) / pop if members and pop > 0 else None

    by_class = {c: [d for d, k in classes.items() if k == c] for c in URBANISATION_CLASSES}
    out: dict[str, float | None] = {}
    for c in URBANISATION_CLASSES:
        out[f"equity_districts_{c}"] = float(len(by_class[c]))
        out[f"equity_outage_h_per_person_{c}"] = rate(by_class[c])
    urban, rural = rate(by_class["city"] + by_class["town"]), rate(by_class["rural"])
    out["equity_outage_h_per_person_urban"] = urban
    both = urban is not None and rural is not None
    out["equity_rural_minus_urban_h"] = rural - urban if both else None  # type: ignore[operator]
    out["equity_rural_urban_ratio"] = rural_urban_ratio(rural, urban) if both else None  # type: ignore[arg-type]
    ids = list(hours)
    x = np.array([hours[d] / max(population[d], 1.0) for d in ids])
    w = np.array([population[d] for d in ids])
    out["equity_gini"] = gini(x, w)
    return out


def rural_urban_ratio(rural_h: float, urban_h: float) -> float | None:
    """rural / max(urban, RATIO_FLOOR_H) in outage hours per person; None (not meaningful)
    when both are below the floor: with no outage on either side (0/0) the ratio would
    print 0, "rural suffered nothing compared with urban", when neither suffered."""
    if rural_h < RATIO_FLOOR_H and urban_h < RATIO_FLOOR_H:
        return None
    return rural_h / max(urban_h, RATIO_FLOOR_H)
