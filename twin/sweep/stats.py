"""Paired statistics: configurations compared over the same seeds and parameters.

Runs of two configurations with the same parameter point and seed share their random draws
(common random numbers), so the per-unit difference B - A removes most of the noise. For
each metric and each pair of configurations (in the sweep's order, A before B) we give the
mean difference with a 95 % confidence interval from the t-distribution with n - 1 degrees
of freedom, pooled over the whole sweep and per parameter point.
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

from twin.metrics import HEADLINE

PAIRED_CSV = "paired.csv"
CONFIDENCE = 0.95


@dataclass(frozen=True)
class PairedStat:
    """Mean difference ``config_b - config_a`` of one metric over n paired units."""

    metric: str
    config_a: str
    config_b: str
    scope: str  # "all" (pooled over points) or "point"
    point: int | None
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


def paired(rows: list[dict[str, Any]], configurations: list[str]) -> list[PairedStat]:
    """Paired differences from manifest rows (only complete runs count)."""
    units: dict[tuple[int, int], dict[str, dict[str, float]]] = {}
    for r in rows:
        if r["status"] == "complete":
            units.setdefault((r["point"], r["seed"]), {})[r["configuration"]] = r.get("metrics", {})
    metric_keys = sorted({k for u in units.values() for m in u.values() for k in m})
    points = sorted({p for p, _ in units})
    out: list[PairedStat] = []
    for a, b in combinations(configurations, 2):
        for metric in metric_keys:
            for scope, point in [("all", None)] + ([("point", p) for p in points] if len(points) > 1 else []):
                va, vb = [], []
                for (p, _seed), by_config in sorted(units.items()):
                    if point is not None and p != point:
                        continue
                    x, y = by_config.get(a, {}).get(metric), by_config.get(b, {}).get(metric)
                    if x is None or y is None or not (math.isfinite(x) and math.isfinite(y)):
                        continue
                    va.append(x)
                    vb.append(y)
                if not va:
                    continue
                mean, sd, lo, hi = mean_ci(np.array(vb) - np.array(va))
                out.append(PairedStat(metric, a, b, scope, point, len(va), float(np.mean(va)),
                                      float(np.mean(vb)), mean, sd, lo, hi))
    return out


def to_csv(stats_rows: list[PairedStat], point_params: dict[int, dict[str, Any]]) -> str:
    """paired.csv: one row per metric, pair and scope; parameter columns for point rows."""
    params = list(dict.fromkeys(k for p in point_params.values() for k in p))
    fields = list(PairedStat.__dataclass_fields__)
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(fields[:5] + params + fields[5:])
    for s in stats_rows:
        row = asdict(s)
        values = point_params.get(s.point, {}) if s.point is not None else {}
        cells = [row[f] for f in fields]
        cells = ["" if isinstance(c, float) and math.isnan(c) else ("" if c is None else c) for c in cells]
        w.writerow(cells[:5] + [values.get(p, "") for p in params] + cells[5:])
    return buf.getvalue()


def _num(v: float) -> str:
    """Three significant digits, without exponents for the sizes metrics have."""
    if math.isnan(v):
        return "nan"
    return f"{v:,.0f}" if abs(v) >= 100 else f"{v:.3g}"


def table(stats_rows: list[PairedStat], metrics: tuple[str, ...] | None = None) -> str:
    """Printable table of the pooled differences of the headline metrics (or those given)."""
    keys = metrics or tuple(k for k, _ in HEADLINE)
    labels = dict(HEADLINE)
    rows = [s for s in stats_rows if s.scope == "all" and s.metric in keys]
    rows.sort(key=lambda s: (s.config_a, s.config_b, keys.index(s.metric)))
    if not rows:
        return "paired differences: no metric with complete runs of two configurations"
    label_w = max(len(labels.get(s.metric, s.metric)) for s in rows) + 2
    lines = []
    pair = None
    for s in rows:
        if (s.config_a, s.config_b) != pair:
            pair = (s.config_a, s.config_b)
            lines.append(f"{s.config_b} - {s.config_a} (mean difference, 95 % CI, paired over seeds and parameters)")
        ci = "" if math.isnan(s.ci95_low) else f"[{_num(s.ci95_low)}, {_num(s.ci95_high)}]"
        lines.append(f"  {labels.get(s.metric, s.metric).ljust(label_w)}{_num(s.mean_diff):>12}  {ci:<24} n={s.n}")
    return "\n".join(lines)
