"""The statistics of the study report (docs/report.md, "Study report"), as plain functions.

- :func:`bca_mean`: 95 % BCa bootstrap intervals of the mean of paired differences
  (``scipy.stats.bootstrap``, 10,000 resamples), many metrics in one call;
- :func:`wilcoxon_p` and :func:`holm`: the signed-rank test and Holm's step-down correction;
- :func:`stratum_weights`, :func:`exceedance`: expected annual values and loss-exceedance
  frequencies from the ensemble's per-draw annual weights;
- :func:`cost_effectiveness`: annualised extra cost per unit of expected annual avoided loss;
- :func:`crossovers` / :func:`crossover_bootstrap`: interpolated zeros of the paired mean
  difference along one parameter of the sensitivity study.

Every random draw comes from ``np.random.default_rng(BOOTSTRAP_SEED)``, created afresh for
each call, so any single interval can be recomputed alone with numpy and scipy.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass

import numpy as np
from scipy import stats

CONFIDENCE = 0.95
BOOTSTRAP_RESAMPLES = 10_000
BOOTSTRAP_SEED = 20_261_201
CROSSOVER_RESAMPLES = 2_000
WILCOXON_ZERO_METHOD = "wilcox"  # zero differences are dropped (scipy's default)


def _rng() -> np.random.Generator:
    return np.random.default_rng(BOOTSTRAP_SEED)


def bca_mean(diffs: np.ndarray, n_resamples: int = BOOTSTRAP_RESAMPLES) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """Per row of ``diffs`` (metrics × pairs, all finite): the 95 % BCa interval of the mean,
    ``scipy.stats.bootstrap((d,), np.mean, method="BCa", n_resamples=n_resamples,
    rng=np.random.default_rng(BOOTSTRAP_SEED))`` for each row
    (tests/report/test_study_recompute.py checks it). A row with fewer than 3 pairs has no
    interval (note "n < 3"); a row whose differences are all equal has the degenerate
    interval [d, d] (note "every difference equal")."""
    return bca_sum_of_means([np.atleast_2d(np.asarray(diffs, dtype=float))], n_resamples)


def _sum_of_means(*samples: np.ndarray, axis: int = -1) -> np.ndarray:
    return sum(np.mean(x, axis=axis) for x in samples)  # type: ignore[return-value]


def bca_sum_of_means(samples: list[np.ndarray], n_resamples: int = BOOTSTRAP_RESAMPLES
                     ) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """95 % BCa intervals of ``Σ_j mean(samples[j])`` per row (metrics), each sample
    (metrics × n_j) resampled on its own (independent strata, e.g. hazard families):
    ``scipy.stats.bootstrap(samples, statistic, method="BCa")`` row by row, each with a
    fresh ``default_rng(BOOTSTRAP_SEED)`` (Efron & Tibshirani 1993, eq. 14.10-14.15). Rows
    whose every sample is constant get [estimate, estimate]; rows scipy leaves undefined
    are noted."""
    samples = [np.atleast_2d(np.asarray(x, dtype=float)) for x in samples]
    k = samples[0].shape[0]
    low, high = np.full(k, math.nan), np.full(k, math.nan)
    if min(x.shape[1] for x in samples) < 3:
        return low, high, ["n < 3"] * k
    theta = _sum_of_means(*samples)
    flat = np.all([np.ptp(x, axis=1) == 0 for x in samples], axis=0)
    notes = ["every difference equal" if f else "" for f in flat]
    low[flat] = high[flat] = theta[flat]
    for i in np.flatnonzero(~flat):
        # one call per row, each with a fresh generator: a vectorised call over the rows
        # gives other intervals than scipy called on a row alone (measured: up to ~0.1)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # a degenerate row comes back as nan: noted below
            ci = stats.bootstrap([x[i] for x in samples], _sum_of_means, method="BCa",
                                 confidence_level=CONFIDENCE, n_resamples=n_resamples,
                                 rng=_rng()).confidence_interval
        if math.isfinite(ci.low) and math.isfinite(ci.high):
            low[i], high[i] = ci.low, ci.high
        else:
            notes[i] = "BCa undefined"
    return low, high, notes


def wilcoxon_p(d: np.ndarray) -> tuple[float | None, str]:
    """Two-sided Wilcoxon signed-rank p-value of paired differences (zeros dropped, scipy's
    ``method="auto"``); None with the reason when every difference is zero or there are none."""
    d = np.asarray(d, dtype=float)
    if d.size == 0:
        return None, "no pairs"
    if not np.any(d != 0):
        return None, "every difference zero"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        p = float(stats.wilcoxon(d, zero_method=WILCOXON_ZERO_METHOD).pvalue)
    return (p, "") if math.isfinite(p) else (None, "Wilcoxon undefined")


def holm(pvalues: list[float | None]) -> list[float | None]:
    """Holm's step-down adjusted p-values over the tests that have one (None stays None):
    with ``m`` tests and ``p_(1) ≤ … ≤ p_(m)``, ``adj_(i) = max_{j ≤ i} min(1, (m − j + 1) p_(j))``."""
    idx = [i for i, p in enumerate(pvalues) if p is not None]
    m = len(idx)
    out: list[float | None] = [None] * len(pvalues)
    running = 0.0
    for rank, i in enumerate(sorted(idx, key=lambda i: pvalues[i])):  # type: ignore[arg-type, return-value]
        running = max(running, min(1.0, (m - rank) * float(pvalues[i])))  # type: ignore[arg-type]
        out[i] = running
    return out


def stratum_weights(weights: np.ndarray, strata: np.ndarray, usable: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Effective annual weights of the usable draws and the share of the annual rate they cover.

    ``weights`` (draws,) are ``weight_per_year``, ``strata`` (draws,) the stratum of each draw,
    ``usable`` (draws, metrics) which values may be used. A stratum keeps its total weight
    ``W_s = Σ_{i∈s} w_i`` (over every draw of the manifest): its usable draws share it in
    proportion to their own weights, ``w̃_i = w_i · W_s / Σ_{i∈s, usable} w_i`` (a missing or
    excluded draw is taken to be like the rest of its stratum). A stratum without a usable
    draw contributes nothing; ``covered`` is then below 1. Returns (w̃ (draws, metrics), covered (metrics,)).
    """
    w = np.asarray(weights, dtype=float)
    ok = np.asarray(usable, dtype=bool)
    if ok.ndim == 1:
        ok = ok[:, None]
    eff = np.zeros(ok.shape)
    covered = np.zeros(ok.shape[1])
    total = float(w.sum())
    for s in np.unique(strata):
        members = strata == s
        w_s = float(w[members].sum())
        kept = (w[members, None] * ok[members]).sum(axis=0)  # (metrics,)
        scale = np.divide(w_s, kept, out=np.zeros_like(kept), where=kept > 0)
        eff[members] = w[members, None] * ok[members] * scale
        covered += np.where(kept > 0, w_s, 0.0)
    return eff, (covered / total if total > 0 else np.zeros_like(covered))


def expected_annual(values: np.ndarray, eff_weights: np.ndarray) -> np.ndarray:
    """``Σ_i w̃_i · x_i`` per metric (columns); unusable values (weight 0) may be NaN."""
    x = np.where(eff_weights > 0, np.nan_to_num(np.asarray(values, dtype=float)), 0.0)
    return (eff_weights * x).sum(axis=0)  # type: ignore[no-any-return]


def exceedance(values: np.ndarray, eff_weights: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The loss-exceedance curve of one metric: the distinct losses ``x_k`` in decreasing order
    and their annual exceedance frequency ``λ(x_k) = Σ_{i: x_i ≥ x_k} w̃_i`` (per year); draws
    with weight 0 are left out. Several families: concatenate their draws (rates add)."""
    x = np.asarray(values, dtype=float)
    w = np.asarray(eff_weights, dtype=float)
    keep = (w > 0) & np.isfinite(x)
    x, w = x[keep], w[keep]
    losses = np.unique(x)[::-1]
    order = np.argsort(-x, kind="stable")
    cum = np.cumsum(w[order])
    # for each distinct loss, the cumulative weight of every draw with x ≥ it
    last = np.searchsorted(-x[order], -losses, side="right") - 1
    return losses, cum[last]


@dataclass(frozen=True)
class CostEffectiveness:
    """Annualised extra cost of B per unit of expected annual loss B avoids against A."""

    delta_cost_meur_per_year: float
    avoided_per_year: float
    ratio_meur_per_unit: float | None  # None when not meaningful, and when B is dominant
    status: str  # "ok", "dominant" (B costs no more and avoids loss) or "not meaningful: ..."
    interval: str  # the ratio's interval from the avoided loss's interval, as text


def cost_effectiveness(delta_cost: float, avoided: float, avoided_low: float = math.nan,
                       avoided_high: float = math.nan) -> CostEffectiveness:
    """``ΔC / avoided`` (M EUR per year over loss units per year = M EUR per unit avoided).

    Not meaningful when the avoided loss is ≤ 0 (B avoids nothing, or loses more); "dominant"
    when B costs no more and avoids loss, without a ratio: a ratio ≤ 0 does not rank (B
    saving 1 M EUR/yr for 0.1 units avoided would read −10, "better" than saving the same for
    100 units, −0.01), so ΔC and the avoided loss are the numbers to read. The interval maps the avoided loss's interval
    ``[lo, hi]`` through ``ΔC / ·`` for ΔC > 0: ``[ΔC/hi, ΔC/lo]``, unbounded above when
    ``lo ≤ 0`` (the loss avoided may be nil)."""
    if not math.isfinite(avoided) or not math.isfinite(delta_cost):
        return CostEffectiveness(delta_cost, avoided, None, "not meaningful: missing values", "")
    if avoided <= 0:
        return CostEffectiveness(delta_cost, avoided, None,
                                 "not meaningful: no expected annual loss avoided (avoided ≤ 0)", "")
    if delta_cost <= 0:
        return CostEffectiveness(delta_cost, avoided, None, "dominant", "")
    ratio = delta_cost / avoided
    interval = ""
    if math.isfinite(avoided_low) and math.isfinite(avoided_high):
        if avoided_low > 0:
            interval = f"[{_g(delta_cost / avoided_high)}, {_g(delta_cost / avoided_low)}]"
        elif avoided_high > 0:
            interval = f"[{_g(delta_cost / avoided_high)}, unbounded] (avoided-loss interval includes 0)"
        else:
            interval = "none (avoided-loss interval ≤ 0)"
    return CostEffectiveness(delta_cost, avoided, ratio, "ok", interval)


def _g(v: float) -> str:
    return f"{v:.4g}"


def n_bins(points: int) -> int:
    """Equal-count bins of the crossover profile: about 5 points each, 2 to 6 bins."""
    return max(2, min(6, points // 5))


def bin_profile(x: np.ndarray, m: np.ndarray, bins: int) -> tuple[np.ndarray, np.ndarray]:
    """The points sorted by ``x`` in ``bins`` equal-count bins: (mean x, mean m) per bin.
    ``m`` may carry leading resample axes (..., points)."""
    order = np.argsort(np.asarray(x, dtype=float), kind="stable")
    groups = np.array_split(order, bins)
    xs = np.array([float(np.mean(np.asarray(x)[g])) for g in groups])
    ms = np.stack([np.asarray(m)[..., g].mean(axis=-1) for g in groups], axis=-1)
    return xs, ms


# A mean paired difference this small (in the metric's unit: MWh, m³, household-h, count) is
# the rounding of totals summed in another order (B and A equal), not a difference: the
# study's hardened-vs-centralised energy profile had bins of ±1e-17 MWh that made a crossover.
ZERO_TOL = 1e-9


def crossovers(xs: np.ndarray, ms: np.ndarray) -> list[float]:
    """Zeros of the piecewise-linear profile through (xs, ms), xs increasing, where the sign
    changes: linear interpolation between two neighbouring bins of opposite sign, or the mean
    x of a run of bins of 0 (within :data:`ZERO_TOL`) between a negative and a positive bin.
    A bin of 0 next to bins of one sign only (or a profile that is 0 everywhere) orders
    nothing differently, so it is no crossover."""
    out: list[float] = []
    nonzero = [i for i in range(len(xs)) if abs(ms[i]) > ZERO_TOL]
    for i, j in zip(nonzero, nonzero[1:], strict=False):
        if ms[i] * ms[j] > 0:
            continue
        if j == i + 1:
            out.append(float(xs[i] - ms[i] * (xs[j] - xs[i]) / (ms[j] - ms[i])))
        else:
            out.append(float(np.mean(xs[i + 1:j])))
    return out


@dataclass(frozen=True)
class Crossover:
    """Where the paired mean difference B − A changes sign along one parameter."""

    zeros: list[float]
    low: float  # percentile interval of the zero (the one nearest the estimate), NaN if none
    high: float
    share_with_crossing: float  # share of bootstrap resamples whose profile has a zero


def crossover_bootstrap(x: np.ndarray, diffs: list[np.ndarray], resamples: int = CROSSOVER_RESAMPLES) -> Crossover:
    """The crossover along parameter values ``x`` (points,) of the per-point mean of
    ``diffs[k]`` (the paired differences at point k), with a 95 % percentile interval from
    resampling pairs within every point (``resamples`` times, BOOTSTRAP_SEED)."""
    x = np.asarray(x, dtype=float)
    means = np.array([float(np.mean(d)) for d in diffs])
    bins = n_bins(len(x))
    xs, ms = bin_profile(x, means, bins)
    zeros = crossovers(xs, ms)
    rng = _rng()
    boot = np.empty((resamples, len(diffs)))
    for k, d in enumerate(diffs):
        d = np.asarray(d, dtype=float)
        boot[:, k] = d[rng.integers(0, len(d), (resamples, len(d)))].mean(axis=1)
    _, bms = bin_profile(x, boot, bins)
    target = zeros[0] if zeros else math.nan
    found = np.zeros(resamples, dtype=bool)
    nearest = np.full(resamples, math.nan)
    for r in range(resamples):
        z = crossovers(xs, bms[r])
        found[r] = bool(z)
        if z and math.isfinite(target):
            nearest[r] = min(z, key=lambda v: abs(v - target))
    share = float(found.mean())
    if zeros and np.isfinite(nearest).any():
        lo, hi = np.percentile(nearest[np.isfinite(nearest)], [2.5, 97.5])
        return Crossover(zeros, float(lo), float(hi), share)
    return Crossover(zeros, math.nan, math.nan, share)
