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
from functools import lru_cache

import numpy as np
from scipy import special, stats

CONFIDENCE = 0.95
BOOTSTRAP_RESAMPLES = 10_000
BOOTSTRAP_SEED = 20_261_201
CROSSOVER_RESAMPLES = 2_000
WILCOXON_ZERO_METHOD = "wilcox"  # zero differences are dropped (scipy's default)


def _rng() -> np.random.Generator:
    return np.random.default_rng(BOOTSTRAP_SEED)


def bca_mean(diffs: np.ndarray, n_resamples: int = BOOTSTRAP_RESAMPLES) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """Per row of ``diffs`` (metrics × pairs, all finite): the 95 % BCa interval of the mean.

    Resampling pairs is resampling their differences, so each row's interval is that of
    ``scipy.stats.bootstrap((d,), np.mean, method="BCa", n_resamples=n_resamples,
    rng=np.random.default_rng(BOOTSTRAP_SEED))`` (tests/report/test_study_recompute.py checks
    it), computed here with the same resample indices as a matrix product, so that many
    metrics and cells cost milliseconds. A row with fewer than 3 pairs has no interval (note
    "n < 3"); a row whose differences are all equal has the degenerate interval [d, d]
    (note "every difference equal")."""
    return bca_sum_of_means([np.atleast_2d(np.asarray(diffs, dtype=float))], n_resamples)


@lru_cache(maxsize=8)
def _counts(ns: tuple[int, ...], n_resamples: int) -> tuple[np.ndarray, ...]:
    """How often each observation appears in each resample (resamples × n), per sample, for
    the indices scipy.stats.bootstrap draws from a fresh ``default_rng(BOOTSTRAP_SEED)``:
    ``rng.integers(0, n_j, (n_resamples, n_j))`` for each sample in turn."""
    rng = _rng()
    out = []
    for n in ns:
        idx = rng.integers(0, n, (n_resamples, n))
        flat = (np.arange(n_resamples)[:, None] * n + idx).ravel()
        dtype = np.uint8 if n < 256 else (np.uint16 if n < 65_536 else np.uint32)  # a count is at most n
        out.append(np.bincount(flat, minlength=n_resamples * n).reshape(n_resamples, n).astype(dtype))
    return tuple(out)


def _quantile_rows(values: np.ndarray, q: np.ndarray) -> np.ndarray:
    """Per row, the linear-interpolation quantile ``q[row]`` (numpy's default method)."""
    srt = np.sort(values, axis=1)
    h = (values.shape[1] - 1) * np.clip(q, 0.0, 1.0)
    lo = np.floor(h).astype(int)
    hi = np.minimum(lo + 1, values.shape[1] - 1)
    rows = np.arange(values.shape[0])
    return srt[rows, lo] + (h - lo) * (srt[rows, hi] - srt[rows, lo])  # type: ignore[no-any-return]


def bca_sum_of_means(samples: list[np.ndarray], n_resamples: int = BOOTSTRAP_RESAMPLES
                     ) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """95 % BCa intervals of ``Σ_j mean(samples[j])`` per row (metrics), each sample
    (metrics × n_j) resampled on its own (independent strata, e.g. hazard families), as
    ``scipy.stats.bootstrap(samples, statistic, method="BCa")`` computes them (Efron &
    Tibshirani 1993, eq. 14.10–14.15): bias correction ``z0`` from the share of resampled
    statistics below the estimate, acceleration ``a`` from the jackknife of every sample."""
    samples = [np.asarray(s, dtype=float) for s in samples]
    k = samples[0].shape[0]
    ns = tuple(s.shape[1] for s in samples)
    low, high = np.full(k, math.nan), np.full(k, math.nan)
    if min(ns) < 3:
        return low, high, ["n < 3"] * k
    theta = sum(s.mean(axis=1) for s in samples)
    counts = _counts(ns, n_resamples)
    theta_b = sum((s @ c.T.astype(float)) / n for s, c, n in zip(samples, counts, ns, strict=True))  # (k, resamples)
    below = (theta_b < theta[:, None]).sum(axis=1) + (theta_b <= theta[:, None]).sum(axis=1)
    z0 = special.ndtri(below / (2 * n_resamples))
    nums, dens = np.zeros(k), np.zeros(k)
    for s, n in zip(samples, ns, strict=True):
        others = theta - s.mean(axis=1)
        jack = (s.sum(axis=1, keepdims=True) - s) / (n - 1) + others[:, None]  # leave one out
        u = (n - 1) * (jack.mean(axis=1, keepdims=True) - jack)
        nums += (u**3).sum(axis=1) / n**3
        dens += (u**2).sum(axis=1) / n**2
    flat = np.all([np.ptp(s, axis=1) == 0 for s in samples], axis=0)
    with np.errstate(invalid="ignore", divide="ignore"):
        a = nums / (6 * dens**1.5)
        z_alpha = float(special.ndtri((1 - CONFIDENCE) / 2))
        q1 = special.ndtr(z0 + (z0 + z_alpha) / (1 - a * (z0 + z_alpha)))
        q2 = special.ndtr(z0 + (z0 - z_alpha) / (1 - a * (z0 - z_alpha)))
    ok = np.isfinite(q1) & np.isfinite(q2) & ~flat
    low[ok] = _quantile_rows(theta_b[ok], q1[ok])
    high[ok] = _quantile_rows(theta_b[ok], q2[ok])
    notes = ["" if ok[i] else "BCa undefined" for i in range(k)]
    for i in np.flatnonzero(flat):
        low[i] = high[i] = theta[i]
        notes[i] = "every difference equal"
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
    ratio_meur_per_unit: float | None  # None when not meaningful
    status: str  # "ok", "dominant" (B cheaper and avoids loss) or "not meaningful: ..."
    interval: str  # the ratio's interval from the avoided loss's interval, as text


def cost_effectiveness(delta_cost: float, avoided: float, avoided_low: float = math.nan,
                       avoided_high: float = math.nan) -> CostEffectiveness:
    """``ΔC / avoided`` (M EUR per year over loss units per year = M EUR per unit avoided).

    Not meaningful when the avoided loss is ≤ 0 (B avoids nothing, or loses more); "dominant"
    when B costs no more and avoids loss. The interval maps the avoided loss's interval
    ``[lo, hi]`` through ``ΔC / ·`` for ΔC > 0: ``[ΔC/hi, ΔC/lo]``, unbounded above when
    ``lo ≤ 0`` (the loss avoided may be nil)."""
    if not math.isfinite(avoided) or not math.isfinite(delta_cost):
        return CostEffectiveness(delta_cost, avoided, None, "not meaningful: missing values", "")
    if avoided <= 0:
        return CostEffectiveness(delta_cost, avoided, None,
                                 "not meaningful: no expected annual loss avoided (avoided ≤ 0)", "")
    ratio = delta_cost / avoided
    if delta_cost <= 0:
        return CostEffectiveness(delta_cost, avoided, ratio, "dominant", "")
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


def crossovers(xs: np.ndarray, ms: np.ndarray) -> list[float]:
    """Zeros of the piecewise-linear profile through (xs, ms), xs increasing: a bin mean of
    exactly 0, or linear interpolation between two bins whose means differ in sign."""
    out: list[float] = []
    for i in range(len(xs)):
        if ms[i] == 0:
            out.append(float(xs[i]))
        elif i + 1 < len(xs) and ms[i] * ms[i + 1] < 0:
            out.append(float(xs[i] - ms[i] * (xs[i + 1] - xs[i]) / (ms[i + 1] - ms[i])))
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
    sign = np.sign(bms)
    found = np.zeros(resamples, dtype=bool)
    nearest = np.full(resamples, math.nan)
    target = zeros[0] if zeros else math.nan
    for i in range(bins):
        hits = sign[:, i] == 0
        z = np.where(hits, xs[i], math.nan)
        if i + 1 < bins:
            cross = sign[:, i] * sign[:, i + 1] < 0
            with np.errstate(invalid="ignore", divide="ignore"):
                zi = xs[i] - bms[:, i] * (xs[i + 1] - xs[i]) / (bms[:, i + 1] - bms[:, i])
            z = np.where(cross & ~hits, zi, z)
        have = np.isfinite(z)
        found |= have
        if math.isfinite(target):
            better = have & (~np.isfinite(nearest) | (np.abs(z - target) < np.abs(nearest - target)))
            nearest = np.where(better, z, nearest)
    share = float(found.mean())
    if zeros and np.isfinite(nearest).any():
        lo, hi = np.percentile(nearest[np.isfinite(nearest)], [2.5, 97.5])
        return Crossover(zeros, float(lo), float(hi), share)
    return Crossover(zeros, math.nan, math.nan, share)
