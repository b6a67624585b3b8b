"""Paired statistics: configurations compared over the same seeds and parameters.

Runs of two configurations with the same parameter point and seed share their random draws
(common random numbers), so the per-unit difference B - A removes most of the noise. For
each metric and each pair of configurations (in the sweep's order, A before B) we give the
mean difference with a 95 % confidence interval from the t-distribution with n - 1 degrees
of freedom, pooled over the whole sweep and per parameter point.

Degraded runs (a solver did not solve a step) are the severe draws, so dropping them biases a
comparison; keeping them mixes in numbers a solver did not stand behind. Every statistic is
therefore given twice: with every finished pair (``flagged_pairs = "included"``) and without
the pairs in which either run is *flagged* (``"excluded"``): degraded, or with an impact
negative beyond the tolerance of docs/metrics.md (metric ``negative_impacts``). The share of
flagged runs per configuration and parameter point is its own table (:func:`flag_shares`).
"""

from __future__ import annotations

import csv
import io
import math
from dataclasses import asdict, dataclass
from itertools import combinations
from typing import Any

import numpy as np
from scipy import stats

from twin.events import FINISHED_STATUSES
from twin.metrics import HEADLINE

PAIRED_CSV = "paired.csv"
CONFIDENCE = 0.95
# A report or summary warns (a banner) when more than this share of a configuration's runs at
# some parameter point is degraded or has negative impacts.
FLAG_BANNER_SHARE = 0.02


@dataclass(frozen=True)
class PairedStat:
    """Mean difference ``config_b - config_a`` of one metric over n paired units."""

    metric: str
    config_a: str
    config_b: str
    scope: str  # "all" (pooled over points) or "point"
    point: int | None
    flagged_pairs: str  # "included": every finished pair; "excluded": without flagged pairs
    n: int
    mean_a: float
    mean_b: float
    mean_diff: float
    sd_diff: float
    ci95_low: float
    ci95_high: float


def mean_ci(diffs: np.ndarray, confidence: float = CONFIDENCE) -> tuple[float, float, float, float]:
    """(mean, sample sd, low, high): t interval; NaN bounds below two values."""
    d = np.asarray(diffs, dtype=float)
    n = len(d)
    if n == 0:
        return math.nan, math.nan, math.nan, math.nan
    mean = float(d.mean())
    if n < 2:
        return mean, math.nan, math.nan, math.nan
    sd = float(d.std(ddof=1))
    half = float(stats.t.ppf(0.5 + confidence / 2, n - 1)) * sd / math.sqrt(n)
    return mean, sd, mean - half, mean + half


def is_flagged(row: dict[str, Any]) -> bool:
    """A finished run whose numbers need care: degraded, or negative impacts beyond the
    tolerance (metric ``negative_impacts`` > 0)."""
    return row["status"] == "degraded" or row.get("metrics", {}).get("negative_impacts", 0.0) > 0


@dataclass(frozen=True)
class FlagShare:
    """How many of a configuration's finished runs (at one point, or all: ``point`` None)
    are degraded or have negative impacts."""

    configuration: str
    point: int | None
    n: int  # finished runs (complete or degraded)
    degraded: int
    negative: int
    flagged: int  # degraded or negative (a run may be both)

    @property
    def degraded_share(self) -> float:
        return self.degraded / self.n if self.n else 0.0

    @property
    def flagged_share(self) -> float:
        return self.flagged / self.n if self.n else 0.0


def flag_shares(rows: list[dict[str, Any]], configurations: list[str] | None = None) -> list[FlagShare]:
    """Per configuration: pooled over the sweep (point None) and, with several points, per point."""
    done = [r for r in rows if r["status"] in FINISHED_STATUSES]
    configs = configurations or list(dict.fromkeys(r["configuration"] for r in rows))
    points = sorted({r["point"] for r in rows})
    out = []
    for c in configs:
        for point in [None, *(points if len(points) > 1 else [])]:
            sel = [r for r in done if r["configuration"] == c and (point is None or r["point"] == point)]
            neg = [r for r in sel if r.get("metrics", {}).get("negative_impacts", 0.0) > 0]
            out.append(FlagShare(c, point, len(sel), sum(r["status"] == "degraded" for r in sel),
                                 len(neg), sum(is_flagged(r) for r in sel)))
    return out


def flag_banner(shares: list[FlagShare], threshold: float = FLAG_BANNER_SHARE) -> str:
    """A warning naming each configuration (and point) whose flagged share exceeds
    ``threshold``; empty when none does."""
    over = [s for s in shares if s.n and s.flagged_share > threshold]
    if not over:
        return ""
    parts = [f"{s.configuration}{'' if s.point is None else f' (point {s.point})'}: "
             f"{s.degraded}/{s.n} degraded, {s.negative}/{s.n} negative impacts" for s in over]
    return (f"More than {threshold:.0%} of the runs are degraded (a solver did not solve a step) "
            "or show negative impacts beyond the tolerance: " + "; ".join(parts)
            + ". Compare the statistics with and without flagged pairs.")


def shares_table(shares: list[FlagShare]) -> str:
    """Printable rows: degraded and negative-impact share per configuration and point."""
    lines = ["flagged runs (share of finished runs)"]
    for s in shares:
        where = "all points" if s.point is None else f"point {s.point}"
        lines.append(f"  {s.configuration} ({where}): degraded {s.degraded}/{s.n} "
                     f"({s.degraded_share:.1%}), negative impacts {s.negative}/{s.n}")
    return "\n".join(lines)


def paired(rows: list[dict[str, Any]], configurations: list[str]) -> list[PairedStat]:
    """Paired differences from manifest rows (finished runs only), each with and without the
    pairs in which either run is flagged (:func:`is_flagged`). Vectorised over units: one
    (units × metrics) array per configuration, so 10,000-run sweeps take seconds."""
    units: dict[tuple[int, int], dict[str, dict[str, Any]]] = {}
    for r in rows:
        if r["status"] in FINISHED_STATUSES:
            units.setdefault((r["point"], r["seed"]), {})[r["configuration"]] = r
    metric_keys = sorted({k for u in units.values() for r in u.values() for k in r.get("metrics", {})})
    col = {k: i for i, k in enumerate(metric_keys)}
    points = sorted({p for p, _ in units})
    scopes: list[tuple[str, int | None]] = [("all", None)] + ([("point", p) for p in points] if len(points) > 1 else [])
    out: list[PairedStat] = []
    for a, b in combinations(configurations, 2):
        keys = [k for k in sorted(units) if a in units[k] and b in units[k]]
        if not keys:
            continue
        unit_point = np.array([p for p, _ in keys])
        flagged = np.array([is_flagged(units[k][a]) or is_flagged(units[k][b]) for k in keys])
        va = np.full((len(keys), len(metric_keys)), np.nan)
        vb = np.full_like(va, np.nan)
        for i, k in enumerate(keys):
            for arr, config in ((va, a), (vb, b)):
                for name, v in units[k][config].get("metrics", {}).items():
                    arr[i, col[name]] = np.nan if v is None else v
        both = np.isfinite(va) & np.isfinite(vb)
        for j, metric in enumerate(metric_keys):
            for scope, point in scopes:
                in_scope = both[:, j] if point is None else both[:, j] & (unit_point == point)
                for which in ("included", "excluded"):
                    mask = in_scope if which == "included" else in_scope & ~flagged
                    if not mask.any():
                        continue
                    xa, xb = va[mask, j], vb[mask, j]
                    mean, sd, lo, hi = mean_ci(xb - xa)
                    out.append(PairedStat(metric, a, b, scope, point, which, int(mask.sum()), float(xa.mean()),
                                          float(xb.mean()), mean, sd, lo, hi))
    return out


def to_csv(stats_rows: list[PairedStat], point_params: dict[int, dict[str, Any]]) -> str:
    """paired.csv: one row per metric, pair and scope; parameter columns for point rows."""
    params = list(dict.fromkeys(k for p in point_params.values() for k in p))
    fields = list(PairedStat.__dataclass_fields__)
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(fields[:6] + params + fields[6:])
    for s in stats_rows:
        row = asdict(s)
        values = point_params.get(s.point, {}) if s.point is not None else {}
        cells = [row[f] for f in fields]
        cells = ["" if isinstance(c, float) and math.isnan(c) else ("" if c is None else c) for c in cells]
        w.writerow(cells[:6] + [values.get(p, "") for p in params] + cells[6:])
    return buf.getvalue()


def _num(v: float) -> str:
    """Three significant digits, without exponents for the sizes metrics have."""
    if math.isnan(v):
        return "nan"
    return f"{v:,.0f}" if abs(v) >= 100 else f"{v:.3g}"


EXCLUDED_LABEL = "  without flagged pairs"


def table(stats_rows: list[PairedStat], metrics: tuple[str, ...] | None = None) -> str:
    """Printable table of the pooled differences of the headline metrics (or those given),
    each with every pair and, below it, without flagged pairs when that changes n."""
    keys = metrics or tuple(k for k, _ in HEADLINE)
    labels = dict(HEADLINE)
    rows = [s for s in stats_rows if s.scope == "all" and s.metric in keys]
    rows.sort(key=lambda s: (s.config_a, s.config_b, keys.index(s.metric), s.flagged_pairs != "included"))
    n_all = {(s.config_a, s.config_b, s.metric): s.n for s in rows if s.flagged_pairs == "included"}
    rows = [s for s in rows if s.flagged_pairs == "included" or n_all.get((s.config_a, s.config_b, s.metric)) != s.n]
    if not rows:
        return "paired differences: no metric with complete runs of two configurations"
    label_w = max([len(labels.get(s.metric, s.metric)) for s in rows] + [len(EXCLUDED_LABEL)]) + 2
    lines = []
    pair = None
    for s in rows:
        if (s.config_a, s.config_b) != pair:
            pair = (s.config_a, s.config_b)
            lines.append(f"{s.config_b} - {s.config_a} (mean difference, 95 % CI, paired over seeds and parameters)")
        ci = "" if math.isnan(s.ci95_low) else f"[{_num(s.ci95_low)}, {_num(s.ci95_high)}]"
        label = labels.get(s.metric, s.metric)
        if s.flagged_pairs == "excluded":
            label = EXCLUDED_LABEL
        lines.append(f"  {label.ljust(label_w)}{_num(s.mean_diff):>12}  {ci:<24} n={s.n}")
    return "\n".join(lines)
