"""Utility reliability indices (IEEE 1366) for power and their water analogues, and the
cost of energy not served at the value of lost load (docs/metrics.md, "Utility indices").

The series give, per district and step, how many customers are out (``customers_out``), not
who: interruptions are followed as cohorts, first out first restored, within a district
(:func:`interruptions`). The total of their durations equals the customer-outage hours of
the same series exactly; the cohort rule only decides which interruptions are sustained.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass

import numpy as np

from twin.results import Results

# IEEE 1366-2012, 2.29 and 2.42: a momentary interruption lasts at most 5 min, a sustained
# one longer. With the default 300-s step an interruption must last two steps to be sustained.
SUSTAINED_S = 300.0

# Value of lost load per customer class, EUR per MWh not served (docs/metrics.md):
# residential: EU-28 average household VoLL, 8.7 EUR/kWh (Shivakumar et al. 2017, "Valuing
# blackouts and lost leisure", Energy Research & Social Science 34:39-48);
# non_residential (critical facilities: hospital, control centre, water plant): 20,000
# EUR/MWh, the lower end of the sectoral VoLLs for the Dutch regulator ACM (Ecorys 2022,
# "The value of lost load in the Netherlands", 20-105 kEUR/MWh);
# infrastructure (loads of pumps, ICT sites, signals): 0, because what their outage costs is
# measured where it lands (water not served, dark signals, unreachable endpoints).
VOLL_EUR_PER_MWH: dict[str, float] = {"residential": 8_700.0, "non_residential": 20_000.0, "infrastructure": 0.0}


@dataclass(frozen=True)
class Interruption:
    """``customers`` of one district out from ``start_s`` for ``duration_s``."""

    district: str
    start_s: float
    duration_s: float
    customers: float


def interruptions(out: np.ndarray, districts: list[str], step_s: float) -> list[Interruption]:
    """Cohorts of customers out, per district, restored first out first back.

    ``out`` is the ``(T, D)`` series of customers out. A rise at step ``t`` opens a cohort of
    the added customers at ``t · step_s``; a fall closes the oldest cohorts first (a cohort may
    close in parts). Cohorts still open at the horizon last until ``T · step_s``.
    """
    out = np.atleast_2d(np.asarray(out, float))
    found: list[Interruption] = []
    n_steps = out.shape[0]
    for j, d in enumerate(districts):
        open_: deque[list[float]] = deque()  # [start_s, customers]
        prev = 0.0
        for t in range(n_steps):
            now = max(0.0, float(out[t, j]))
            if now > prev:
                open_.append([t * step_s, now - prev])
            elif now < prev:
                back = prev - now
                while back > 1e-9 and open_:
                    start, n = open_[0]
                    k = min(n, back)
                    found.append(Interruption(d, start, t * step_s - start, k))
                    back -= k
                    if n - k <= 1e-9:
                        open_.popleft()
                    else:
                        open_[0][1] = n - k
            prev = now
        found += [Interruption(d, start, n_steps * step_s - start, n) for start, n in open_]
    return found


def reliability(r: Results | None, sector: str, served: float) -> dict[str, float]:
    """Sustained and momentary customer interruptions and customer-hours of one run:
    ``{"sustained": N, "momentary": M, "customer_h": Σ n · duration (sustained only)}``."""
    zero = {"sustained": 0.0, "momentary": 0.0, "customer_h": 0.0}
    if r is None or "customers_out" not in r.series.get(sector, {}) or served <= 0:
        return zero
    events = interruptions(r.series[sector]["customers_out"], r.columns[sector]["customers_out"], r.step_s)
    sustained = [i for i in events if i.duration_s > SUSTAINED_S]
    return {
        "sustained": float(sum(i.customers for i in sustained)),
        "momentary": float(sum(i.customers for i in events if i.duration_s <= SUSTAINED_S)),
        "customer_h": float(sum(i.customers * i.duration_s for i in sustained) / 3600.0),
    }


def customers_served(r: Results, sector: str) -> float:
    """N_T: power, the households of every load (``power/load/*``); water, the people at
    every junction (``water/junction/*``), both from the asset table."""
    kind = {"power": "load", "water": "junction"}[sector]
    ok = (np.asarray(r.assets["sector"]) == sector) & (np.asarray(r.assets["type"]) == kind)
    return float(np.sum(np.asarray(r.assets["customers"], float)[ok]))


def utility_indices(run: Results, baseline: Results | None) -> dict[str, float | None]:
    """SAIDI, SAIFI, CAIDI, MAIFI per sector as excess over the baseline; None = not applicable:
    every index without customers (N_T = 0) or without the run's ``customers_out`` series (the
    file cannot say who was out: not "nobody"), CAIDI when the excess SAIFI is not positive or
    the excess SAIDI is negative (no mean duration of extra interruptions to speak of)."""
    out: dict[str, float | None] = {}
    for sector in ("power", "water"):
        n_t = customers_served(run, sector)
        if n_t <= 0 or "customers_out" not in run.series.get(sector, {}):
            for k in ("saidi", "saifi", "caidi", "maifi"):
                out[f"{k}_{sector}" + ("_h" if k in ("saidi", "caidi") else "")] = None
            continue
        r, b = reliability(run, sector, n_t), reliability(baseline, sector, n_t)
        saidi = (r["customer_h"] - b["customer_h"]) / n_t
        saifi = (r["sustained"] - b["sustained"]) / n_t
        out[f"saidi_{sector}_h"] = saidi
        out[f"saifi_{sector}"] = saifi
        out[f"caidi_{sector}_h"] = saidi / saifi if saifi > 0 and saidi >= 0 else None
        out[f"maifi_{sector}"] = (r["momentary"] - b["momentary"]) / n_t
    return out


def load_class(load_id: str, customers: float) -> str:
    """``residential`` for a household load (``power/load/*`` with customers), ``non_residential``
    for another ``power/`` load (critical facilities), ``infrastructure`` for the coupled load
    of a pump, ICT site or signal (named by its consumer's id)."""
    if load_id.startswith("power/"):
        return "residential" if customers > 0 else "non_residential"
    return "infrastructure"


def energy_not_served_by_class(run: Results, baseline: Results | None) -> dict[str, float] | None:
    """MWh not served per customer class: per load, ``Σ_t max(0, served_base − served_run) · Δh``
    from the series ``load_served_mw``; None without a baseline of the same loads and steps."""
    name = "load_served_mw"
    if baseline is None or name not in run.series.get("power", {}) or name not in baseline.series.get("power", {}):
        return None
    cols, bcols = run.columns["power"][name], baseline.columns["power"][name]
    s, bs = run.series["power"][name], baseline.series["power"][name]
    if cols != bcols or s.shape != bs.shape:
        return None
    customers = {str(a): float(c) for a, c in zip(run.assets["id"], run.assets["customers"], strict=True)}
    short = np.sum(np.maximum(0.0, bs - s), axis=0) * run.step_s / 3600.0
    out = dict.fromkeys(VOLL_EUR_PER_MWH, 0.0)
    for load, mwh in zip(cols, short, strict=True):
        out[load_class(load, customers.get(load, 0.0))] += float(mwh)
    return out


def lost_load_metrics(run: Results, baseline: Results | None) -> dict[str, float | None]:
    """Energy not served per class and its cost at the value of lost load (M EUR)."""
    by_class = energy_not_served_by_class(run, baseline)
    out: dict[str, float | None] = {}
    for c in VOLL_EUR_PER_MWH:
        out[f"energy_not_served_{c}_mwh"] = None if by_class is None else by_class[c]
    out["lost_load_cost_meur"] = (None if by_class is None else
                                  sum(by_class[c] * VOLL_EUR_PER_MWH[c] for c in by_class) / 1e6)
    return out
