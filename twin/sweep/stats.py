"""Paired statistics: configurations compared over the same seeds and parameters.

Runs of two configurations with the same parameter point and seed share their random draws
(common random numbers), so the per-unit difference B - A removes most of the noise. For
each metric and each pair of configurations (in the sweep's order, A before B) we give the
mean difference with a 95 % confidence interval from the t-distribution with n - 1 degrees
of freedom, pooled over the whole sweep and per group (:func:`group_of`): per parameter
point, or for hazard-ensemble runs per family and sensitivity point, whose draws are the
paired units (a single draw is not a group: its "interval" would be over n = 1).

A value that is not meaningful (NaN, or ``<name>_applicable = 0``) is left out of its pair,
never taken as 0, and the pairs left out so are counted (``not_meaningful``).

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
from twin.metrics import APPLICABLE_SUFFIX, HEADLINE, metric_value

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
    scope: str  # "all" (pooled), "point" (one parameter point) or "ensemble" (see group_of)
    point: int | None
    group: str  # the group's label ("" for "all"; "point <p>"; "<family>[ sensitivity point <j>][ @ k=v, ...]")
    flagged_pairs: str  # "included": every finished pair; "excluded": without flagged pairs
    n: int
    not_meaningful: int  # finished pairs left out because the metric is not meaningful in either run
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


def group_of(row: dict[str, Any], sensitivity_points: bool = True) -> tuple[str, int | None, str]:
    """(scope, point, label) of the group a manifest row's statistics are given for.

    An ordinary sweep's parameter point: ``("point", p, "point <p>")``. A hazard-ensemble run
    is one draw, a paired unit, and every draw is its own sweep point; its group is its family
    (``"ensemble"``, None, ``"windstorm"``), with the sensitivity study's point
    (``"windstorm sensitivity point 3"``; with ``sensitivity_points`` False all of them as
    ``"windstorm (sensitivity)"``) and, when the ensemble is crossed with grid or random
    points, their values (``"windstorm @ k=v"``).
    """
    e = row.get("ensemble")
    if not isinstance(e, dict):
        return "point", int(row["point"]), f"point {row['point']}"
    label = str(e["family"])
    sp = e.get("sensitivity_point")
    if sp is not None:
        return "ensemble", None, label + (f" sensitivity point {sp}" if sensitivity_points else " (sensitivity)")
    params = row.get("params") or {}
    return "ensemble", None, label + (" @ " + ", ".join(f"{k}={v!r}" for k, v in params.items()) if params else "")


def group_params(rows: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """Group label -> the parameter values its rows share (the sensitivity point's values,
    a grid point's values); a key whose value differs within the group is left out."""
    out: dict[str, dict[str, Any]] = {}
    differ: dict[str, set[str]] = {}
    for r in rows:
        _, _, label = group_of(r)
        params = r.get("params") or {}
        known = out.setdefault(label, dict(params))
        for k in list(known):
            if params.get(k, known[k]) != known[k] or k not in params:
                differ.setdefault(label, set()).add(k)
    return {g: {k: v for k, v in p.items() if k not in differ.get(g, set())} for g, p in out.items()}


def is_flagged(row: dict[str, Any]) -> bool:
    """A finished run whose numbers need care: degraded, or negative impacts beyond the
    tolerance (metric ``negative_impacts`` > 0)."""
    return row["status"] == "degraded" or row.get("metrics", {}).get("negative_impacts", 0.0) > 0


@dataclass(frozen=True)
class FlagShare:
    """How many of a configuration's finished runs (at one point, in one ensemble group, or
    all: ``point`` None and ``group`` "") are degraded or have negative impacts."""

    configuration: str
    point: int | None
    n: int  # finished runs (complete or degraded)
    degraded: int
    negative: int
    flagged: int  # degraded or negative (a run may be both)
    group: str = ""  # "point <p>", an ensemble family ("windstorm", "windstorm (sensitivity)"), "" pooled

    @property
    def degraded_share(self) -> float:
        return self.degraded / self.n if self.n else 0.0

    @property
    def flagged_share(self) -> float:
        return self.flagged / self.n if self.n else 0.0


def flag_shares(rows: list[dict[str, Any]], configurations: list[str] | None = None) -> list[FlagShare]:
    """Per configuration: pooled over the sweep (point None) and, with several groups, per
    group: a parameter point, or an ensemble's family (its draws together, the sensitivity
    study's points together: :func:`group_of` without sensitivity points)."""
    done = [r for r in rows if r["status"] in FINISHED_STATUSES]
    configs = configurations or list(dict.fromkeys(r["configuration"] for r in rows))
    groups = list(dict.fromkeys(group_of(r, sensitivity_points=False) for r in sorted(rows, key=lambda r: r["point"])))
    out = []
    for c in configs:
        for group in [None, *(groups if len(groups) > 1 else [])]:
            sel = [r for r in done if r["configuration"] == c
                   and (group is None or group_of(r, sensitivity_points=False) == group)]
            neg = [r for r in sel if r.get("metrics", {}).get("negative_impacts", 0.0) > 0]
            point, label = (None, "") if group is None else (group[1], group[2])
            out.append(FlagShare(c, point, len(sel), sum(r["status"] == "degraded" for r in sel),
                                 len(neg), sum(is_flagged(r) for r in sel), label))
    return out


def flag_banner(shares: list[FlagShare], threshold: float = FLAG_BANNER_SHARE) -> str:
    """A warning naming each configuration (and point) whose flagged share exceeds
    ``threshold``; empty when none does."""
    over = [s for s in shares if s.n and s.flagged_share > threshold]
    if not over:
        return ""
    parts = [f"{s.configuration}{f' ({s.group})' if s.group else ''}: "
             f"{s.degraded}/{s.n} degraded, {s.negative}/{s.n} negative impacts" for s in over]
    return (f"More than {threshold:.0%} of the runs are degraded (a solver did not solve a step) "
            "or show negative impacts beyond the tolerance: " + "; ".join(parts)
            + ". Compare the statistics with and without flagged pairs.")


def shares_table(shares: list[FlagShare]) -> str:
    """Printable rows: degraded and negative-impact share per configuration and point."""
    lines = ["flagged runs (share of finished runs)"]
    for s in shares:
        where = s.group or "all points"
        lines.append(f"  {s.configuration} ({where}): degraded {s.degraded}/{s.n} "
                     f"({s.degraded_share:.1%}), negative impacts {s.negative}/{s.n}")
    return "\n".join(lines)


def paired(rows: list[dict[str, Any]], configurations: list[str]) -> list[PairedStat]:
    """Paired differences from manifest rows (finished runs only), each with and without the
    pairs in which either run is flagged (:func:`is_flagged`), pooled and per group
    (:func:`group_of`, when there is more than one). A unit is a (point, seed): one draw of an
    ensemble. The ``<name>_applicable`` flags are not metrics of their own: they only mark
    values as not meaningful. Vectorised over units: one (units × metrics) array per
    configuration, so 10,000-run sweeps take seconds."""
    units: dict[tuple[int, int], dict[str, dict[str, Any]]] = {}
    for r in rows:
        if r["status"] in FINISHED_STATUSES:
            units.setdefault((r["point"], r["seed"]), {})[r["configuration"]] = r
    metric_keys = sorted({k for u in units.values() for r in u.values() for k in r.get("metrics", {})
                          if not k.endswith(APPLICABLE_SUFFIX)})
    group_of_unit = {k: group_of(next(iter(u.values()))) for k, u in units.items()}
    groups = list(dict.fromkeys(group_of_unit[k] for k in sorted(units)))
    scopes: list[tuple[str, int | None, str]] = [("all", None, "")] + (groups if len(groups) > 1 else [])
    out: list[PairedStat] = []
    for a, b in combinations(configurations, 2):
        keys = [k for k in sorted(units) if a in units[k] and b in units[k]]
        if not keys:
            continue
        unit_group = np.array([group_of_unit[k][2] for k in keys])
        flagged = np.array([is_flagged(units[k][a]) or is_flagged(units[k][b]) for k in keys])
        va = np.full((len(keys), len(metric_keys)), np.nan)
        vb = np.full_like(va, np.nan)
        present = np.zeros(va.shape, dtype=bool)  # in both runs (a metric a run lacks is missing)
        for i, k in enumerate(keys):
            ma, mb = units[k][a].get("metrics", {}), units[k][b].get("metrics", {})
            for j, name in enumerate(metric_keys):
                va[i, j], vb[i, j] = metric_value(ma, name), metric_value(mb, name)
                present[i, j] = name in ma and name in mb
        both = np.isfinite(va) & np.isfinite(vb)
        na = present & ~both
        selected = [np.ones(len(keys), dtype=bool) if scope == "all" else unit_group == label
                    for scope, _, label in scopes]
        for j, metric in enumerate(metric_keys):
            for (scope, point, label), sel in zip(scopes, selected, strict=True):
                for which in ("included", "excluded"):
                    keep = sel if which == "included" else sel & ~flagged
                    mask = keep & both[:, j]
                    if not mask.any():
                        continue
                    xa, xb = va[mask, j], vb[mask, j]
                    mean, sd, lo, hi = mean_ci(xb - xa)
                    out.append(PairedStat(metric, a, b, scope, point, label, which, int(mask.sum()),
                                          int((keep & na[:, j]).sum()), float(xa.mean()), float(xb.mean()),
                                          mean, sd, lo, hi))
    return out


def to_csv(stats_rows: list[PairedStat], point_params: dict[int, dict[str, Any]],
           groups: dict[str, dict[str, Any]] | None = None) -> str:
    """paired.csv: one row per metric, pair and scope; parameter columns for point rows (from
    ``point_params``) and ensemble groups (from ``groups``, :func:`group_params`)."""
    groups = groups or {}
    params = list(dict.fromkeys([k for p in point_params.values() for k in p]
                                + [k for p in groups.values() for k in p]))
    fields = list(PairedStat.__dataclass_fields__)
    lead = fields.index("flagged_pairs")
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(fields[:lead] + params + fields[lead:])
    for s in stats_rows:
        row = asdict(s)
        values = (point_params.get(s.point, {}) if s.scope == "point" and s.point is not None
                  else groups.get(s.group, {}) if s.scope == "ensemble" else {})
        cells = [row[f] for f in fields]
        cells = ["" if isinstance(c, float) and math.isnan(c) else ("" if c is None else c) for c in cells]
        w.writerow(cells[:lead] + [values.get(p, "") for p in params] + cells[lead:])
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
        na = f" ({s.not_meaningful} not meaningful, left out)" if s.not_meaningful else ""
        lines.append(f"  {label.ljust(label_w)}{_num(s.mean_diff):>12}  {ci:<24} n={s.n}{na}")
    return "\n".join(lines)
