"""Equity across districts: outage hours per person, urban against rural (docs/metrics.md)."""

from __future__ import annotations

import math

import numpy as np

from twin.metrics.core import customer_outage_by_district
from twin.results import Results


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
