"""The numbers of the study report: per hazard family and configuration (docs/report.md).

Each table is a list of plain dicts (one per CSV row), computed from a :class:`Study`:

- :func:`summary`: n, degraded share, mean, median and P90 of every study metric;
- :func:`paired`: B − A per pair of configurations over the same draws, with BCa intervals,
  Wilcoxon p-values and Holm's correction over the headline set, with and without flagged
  pairs, and the expected annual difference;
- :func:`annual`: expected annual values; :func:`exceedance_rows`: loss-exceedance curves;
- :func:`cost_rows`: cost-effectiveness; :func:`crossover_rows`: the sensitivity study's crossovers.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from twin.report import study_stats as ss
from twin.report.study_data import (
    COST_METRIC,
    CROSSOVER_METRICS,
    HEADLINE_STUDY,
    LOSS_METRICS,
    Study,
    comparisons,
    is_annual,
    pair_key,
)

ALL = "all"  # the family label of sums over every family
FLAG_SCOPES = ("included", "excluded")


def main_runs(study: Study, family: str, configuration: str) -> np.ndarray:
    """Indices of the main-study runs (no sensitivity point) of one family and configuration."""
    return np.array([i for i, r in enumerate(study.rows) if r["configuration"] == configuration
                     and r["ensemble"]["family"] == family and r["ensemble"]["sensitivity_point"] is None], dtype=int)


def flag_shares_of(study: Study, idx: np.ndarray) -> tuple[int, float, float]:
    """(finished runs, degraded share, flagged share) of the runs ``idx``."""
    done = study.finished[idx]
    n = int(done.sum())
    if not n:
        return 0, math.nan, math.nan
    return n, float(study.degraded[idx][done].mean()), float(study.flagged[idx][done].mean())


def summary(study: Study) -> list[dict[str, Any]]:
    """Per family, configuration and metric: n (runs with a value) of the finished runs, how
    many of those the metric is not meaningful in (left out of the statistics, never counted
    as 0), degraded and flagged share of the finished runs, mean, median and P90 over the
    draws (unweighted: the stratified design, not the hazard's distribution; see
    :func:`annual` for that)."""
    out = []
    for f in study.families():
        for c in study.configurations:
            idx = main_runs(study, f, c)
            if not len(idx):
                continue
            runs, deg, flg = flag_shares_of(study, idx)
            for j, m in enumerate(study.metrics):
                x = study.values[idx, j]
                x = x[np.isfinite(x)]
                row: dict[str, Any] = {"family": f, "configuration": c, "metric": m, "runs": runs, "n": len(x),
                                       "not_meaningful": int(study.not_meaningful[idx, j].sum()),
                                       "degraded_share": deg, "flagged_share": flg}
                if len(x):
                    row.update(mean=float(x.mean()), median=float(np.median(x)), p90=float(np.percentile(x, 90)))
                else:
                    row.update(mean=math.nan, median=math.nan, p90=math.nan)
                out.append(row)
    return out


def _slots(study: Study, family: str, a: str, b: str) -> tuple[np.ndarray, np.ndarray]:
    """The main-study runs of A in ``family`` (every status) and the index of B's run of the
    same draw (-1 if B has none)."""
    ia = main_runs(study, family, a)
    of_b = {pair_key(study.rows[i]): i for i in main_runs(study, family, b)}
    ib = np.array([of_b.get(pair_key(study.rows[i]), -1) for i in ia], dtype=int)
    return ia, ib


def _weights(study: Study, idx: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    return (np.array([study.rows[i]["ensemble"]["weight_per_year"] for i in idx], dtype=float),
            np.array([study.rows[i]["ensemble"]["stratum"] for i in idx], dtype=int))


def paired(study: Study) -> list[dict[str, Any]]:
    """B − A over the pairs of each family (main study), per comparison and metric, with and
    without flagged pairs; ``holm_p`` over the headline set (HEADLINE_STUDY × families ×
    comparisons, separately for each flag scope). Also the expected annual difference
    ``Σ w̃ (B − A)`` with a BCa interval (resampling A's draws, docs/report.md) and, under
    family "all", its sum over the families (each family resampled on its own)."""
    out: list[dict[str, Any]] = []
    nm = len(study.metrics)
    annual = np.array([is_annual(m) for m in study.metrics])
    families = study.families()
    for a, b in comparisons(study.configurations):
        z_by_scope: dict[str, list[np.ndarray]] = {s: [] for s in FLAG_SCOPES}
        eav_by_scope: dict[str, list[tuple[np.ndarray, np.ndarray, float]]] = {s: [] for s in FLAG_SCOPES}
        for f in families:
            ia, ib = _slots(study, f, a, b)
            if not len(ia) or not (ib >= 0).any():
                continue
            w, strata = _weights(study, ia)
            has_b = ib >= 0
            xa = study.values[ia]
            xb = np.where(has_b[:, None], study.values[np.where(has_b, ib, 0)], math.nan)
            d = xb - xa
            done = study.finished[ia] & has_b & study.finished[np.where(has_b, ib, 0)]
            na = done[:, None] & (study.not_meaningful[ia] | study.not_meaningful[np.where(has_b, ib, 0)])
            flagged = study.flagged[ia] | np.where(has_b, study.flagged[np.where(has_b, ib, 0)], False)
            degraded = study.degraded[ia] | np.where(has_b, study.degraded[np.where(has_b, ib, 0)], False)
            previous: list[dict[str, Any]] | None = None
            for scope in FLAG_SCOPES:
                usable = np.isfinite(d) & (~flagged[:, None] if scope == "excluded" else True)
                if scope == "excluded" and not (flagged & np.isfinite(d).any(axis=1)).any() and previous:
                    rows = [{**r, "flagged_pairs": scope} for r in previous]  # nothing flagged: same numbers
                    out += rows
                    z_by_scope[scope].append(z_by_scope["included"][-1])
                    eav_by_scope[scope].append(eav_by_scope["included"][-1])
                    continue
                rows = _paired_cells(study, f, a, b, scope, d, xa, xb, usable, flagged, degraded)
                in_scope = na & (~flagged[:, None] if scope == "excluded" else True)
                for j, r in enumerate(rows):
                    r["not_meaningful"] = int(in_scope[:, j].sum())
                eff, covered = ss.stratum_weights(w, strata, usable)
                z = len(ia) * eff * np.where(usable, d, 0.0)  # mean over A's draws = Σ w̃ d
                eav = z.mean(axis=0)
                lo, hi, notes = ss.bca_mean(z.T)
                for j, r in enumerate(rows):
                    ok = annual[j]
                    r.update(eav_diff_per_year=eav[j] if ok else math.nan, eav_low=lo[j] if ok else math.nan,
                             eav_high=hi[j] if ok else math.nan, eav_note=notes[j] if ok else "not annual",
                             rate_covered=covered[j])
                out += rows
                z_by_scope[scope].append(z)
                eav_by_scope[scope].append((eav, covered * float(w.sum()), float(w.sum())))
                previous = rows
        for scope in FLAG_SCOPES:
            zs = z_by_scope[scope]
            if len(zs) < 2:
                continue
            lo, hi, notes = ss.bca_sum_of_means([z.T for z in zs])
            total = sum(e for e, _, _ in eav_by_scope[scope])
            rate = sum(r for _, _, r in eav_by_scope[scope])
            cov = sum(c for _, c, _ in eav_by_scope[scope]) / rate if rate > 0 else np.zeros(nm)
            for j, m in enumerate(study.metrics):
                if annual[j]:
                    out.append({"family": ALL, "config_a": a, "config_b": b, "metric": m, "flagged_pairs": scope,
                                "n": int(sum(z.shape[0] for z in zs)), "eav_diff_per_year": float(total[j]),
                                "eav_low": lo[j], "eav_high": hi[j], "eav_note": notes[j], "rate_covered": cov[j],
                                "headline": False})
    _holm(out)
    return out


def _paired_cells(study: Study, family: str, a: str, b: str, scope: str, d: np.ndarray, xa: np.ndarray,
                  xb: np.ndarray, usable: np.ndarray, flagged: np.ndarray, degraded: np.ndarray) -> list[dict[str, Any]]:
    """One row per metric: mean difference with its BCa interval and the Wilcoxon test; the
    intervals of metrics with the same usable pairs come from one scipy call."""
    nm = d.shape[1]
    low, high = np.full(nm, math.nan), np.full(nm, math.nan)
    notes = [""] * nm
    masks: dict[bytes, list[int]] = {}
    for j in range(nm):
        masks.setdefault(usable[:, j].tobytes(), []).append(j)
    for cols in masks.values():
        mask = usable[:, cols[0]]
        lo, hi, nt = ss.bca_mean(d[mask][:, cols].T)
        low[cols], high[cols] = lo, hi
        for j, note in zip(cols, nt, strict=True):
            notes[j] = note
    rows = []
    for j, m in enumerate(study.metrics):
        mask = usable[:, j]
        dj = d[mask, j]
        p, p_note = ss.wilcoxon_p(dj)
        n = int(mask.sum())
        rows.append({
            "family": family, "config_a": a, "config_b": b, "metric": m, "flagged_pairs": scope, "n": n,
            "degraded_share": float(degraded[mask].mean()) if n else math.nan,
            "flagged_share": float(flagged[mask].mean()) if n else math.nan,
            "mean_a": float(xa[mask, j].mean()) if n else math.nan,
            "mean_b": float(xb[mask, j].mean()) if n else math.nan,
            "mean_diff": float(dj.mean()) if n else math.nan,
            "median_diff": float(np.median(dj)) if n else math.nan,
            "bca_low": low[j], "bca_high": high[j], "bca_note": notes[j] if n else "no pairs",
            "wilcoxon_p": math.nan if p is None else p, "wilcoxon_note": p_note,
            "headline": m in HEADLINE_STUDY,
        })
    return rows


def _holm(rows: list[dict[str, Any]]) -> None:
    """``holm_p`` over the headline rows of each flag scope (tests without a p-value do not count)."""
    for scope in FLAG_SCOPES:
        sel = [r for r in rows if r.get("headline") and r["flagged_pairs"] == scope and r["family"] != ALL]
        ps = [None if not math.isfinite(r["wilcoxon_p"]) else r["wilcoxon_p"] for r in sel]
        for r, p in zip(sel, ss.holm(ps), strict=True):
            r["holm_p"] = math.nan if p is None else p
    for r in rows:
        r.setdefault("holm_p", math.nan)


def _eff(study: Study, idx: np.ndarray, scope: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(values, effective weights, covered) of the runs ``idx`` of one configuration."""
    x = study.values[idx]
    usable = np.isfinite(x)
    if scope == "excluded":
        usable &= ~study.flagged[idx][:, None]
    w, strata = _weights(study, idx)
    eff, covered = ss.stratum_weights(w, strata, usable)
    return x, eff, covered


def annual(study: Study) -> list[dict[str, Any]]:
    """Expected annual value ``Σ_i w̃_i x_i`` per family (main study), configuration and
    metric, with and without flagged runs, and their sum over families ("all")."""
    out: list[dict[str, Any]] = []
    cols = [j for j, m in enumerate(study.metrics) if is_annual(m)]
    for c in study.configurations:
        totals: dict[str, tuple[np.ndarray, np.ndarray, float, int, np.ndarray, np.ndarray]] = {}
        for f in study.families():
            idx = main_runs(study, f, c)
            if not len(idx):
                continue
            runs, deg, _ = flag_shares_of(study, idx)
            rate = float(sum(study.rows[i]["ensemble"]["weight_per_year"] for i in idx))
            nm = study.not_meaningful[idx]
            for scope in FLAG_SCOPES:
                x, eff, covered = _eff(study, idx, scope)
                eav = ss.expected_annual(x, eff)
                kept = ~study.flagged[idx] if scope == "excluded" else np.ones(len(idx), dtype=bool)
                n_value = (np.isfinite(x) & kept[:, None]).sum(axis=0)
                n_na = (nm & kept[:, None]).sum(axis=0)
                t = totals.get(scope)
                totals[scope] = ((eav, covered * rate, rate, runs, n_value, n_na) if t is None else
                                 (t[0] + eav, t[1] + covered * rate, t[2] + rate, t[3] + runs,
                                  t[4] + n_value, t[5] + n_na))
                for j in cols:
                    out.append({"family": f, "configuration": c, "metric": study.metrics[j], "flagged_runs": scope,
                                "runs": runs, "n": int(n_value[j]), "not_meaningful": int(n_na[j]),
                                "degraded_share": deg, "rate_per_year": rate,
                                "eav_per_year": float(eav[j]), "rate_covered": float(covered[j])})
        if len(study.families()) > 1 and totals:
            for scope, (eav, cov, rate, runs, n_value, n_na) in totals.items():
                idx = np.concatenate([main_runs(study, f, c) for f in study.families()])
                _, deg, _ = flag_shares_of(study, idx)
                for j in cols:
                    out.append({"family": ALL, "configuration": c, "metric": study.metrics[j], "flagged_runs": scope,
                                "runs": runs, "n": int(n_value[j]), "not_meaningful": int(n_na[j]),
                                "degraded_share": deg, "rate_per_year": rate,
                                "eav_per_year": float(eav[j]), "rate_covered": float(cov[j] / rate) if rate else 0.0})
    return out


def exceedance_rows(study: Study) -> list[dict[str, Any]]:
    """Loss-exceedance curves of the loss metrics, every finished run included: per family and
    for all families together (their draws pooled: annual frequencies add)."""
    out: list[dict[str, Any]] = []
    metrics = [m for m in LOSS_METRICS if m in study.metrics]
    families = study.families()
    for c in study.configurations:
        pooled: dict[str, list[tuple[np.ndarray, np.ndarray]]] = {m: [] for m in metrics}
        for f in families:
            idx = main_runs(study, f, c)
            if not len(idx):
                continue
            x, eff, _ = _eff(study, idx, "included")
            for m in metrics:
                j = study.column(m)
                pooled[m].append((x[:, j], eff[:, j]))
                out += _curve(f, c, m, x[:, j], eff[:, j])
        if len(families) > 1:
            for m in metrics:
                if pooled[m]:
                    out += _curve(ALL, c, m, np.concatenate([x for x, _ in pooled[m]]),
                                  np.concatenate([w for _, w in pooled[m]]))
    return out


def _curve(family: str, configuration: str, metric: str, x: np.ndarray, w: np.ndarray) -> list[dict[str, Any]]:
    losses, freq = ss.exceedance(x, w)
    return [{"family": family, "configuration": configuration, "metric": metric, "loss": float(v),
             "exceedance_per_year": float(lam), "return_period_years": 1 / lam if lam > 0 else math.nan}
            for v, lam in zip(losses, freq, strict=True)]


def cost_rows(study: Study, paired_rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Cost-effectiveness of B against A per family (and all) and loss metric, every flagged
    pair included: ``ΔC / (−Σ w̃ (B − A))`` with ΔC the mean of B − A of ``annual_cost_meur``
    over the pairs (docs/metrics.md, "Cost-effectiveness")."""
    if COST_METRIC not in study.metrics:
        return []
    by = {(r["family"], r["config_a"], r["config_b"], r["metric"]): r for r in paired_rows
          if r["flagged_pairs"] == "included"}
    out = []
    for (f, a, b, m), r in by.items():
        if m not in LOSS_METRICS:
            continue
        cost = by.get((f, a, b, COST_METRIC))
        if f == ALL:  # the cost difference does not depend on the hazard: mean over every family's pairs
            per = [v for (ff, aa, bb, mm), v in by.items() if (aa, bb, mm) == (a, b, COST_METRIC) and ff != ALL]
            n = sum(v["n"] for v in per)
            dc = sum(v["mean_diff"] * v["n"] for v in per) / n if n else math.nan
        else:
            dc = cost["mean_diff"] if cost else math.nan
        avoided = -r["eav_diff_per_year"]
        ce = ss.cost_effectiveness(dc, avoided, -r["eav_high"], -r["eav_low"])
        out.append({"family": f, "config_a": a, "config_b": b, "metric": m, "n": r["n"],
                    "degraded_share": r.get("degraded_share", _pooled(by, a, b, m, "degraded_share")),
                    "delta_cost_meur_per_year": dc, "avoided_per_year": avoided,
                    "avoided_low": -r["eav_high"], "avoided_high": -r["eav_low"],
                    "ratio_meur_per_unit": math.nan if ce.ratio_meur_per_unit is None else ce.ratio_meur_per_unit,
                    "ratio_eur_per_unit": math.nan if ce.ratio_meur_per_unit is None else ce.ratio_meur_per_unit * 1e6,
                    "status": ce.status, "interval_meur_per_unit": ce.interval})
    return out


def _pooled(by: dict[tuple[str, str, str, str], dict[str, Any]], a: str, b: str, m: str, key: str) -> float:
    """A share pooled over the families' rows of one comparison and metric (weighted by n)."""
    per = [v for (f, aa, bb, mm), v in by.items() if (aa, bb, mm) == (a, b, m) and f != ALL]
    n = sum(v["n"] for v in per)
    return sum(v[key] * v["n"] for v in per if math.isfinite(v[key])) / n if n else math.nan


def sensitivity_points(study: Study) -> dict[tuple[str, int], dict[str, float]]:
    """(family, sensitivity point) -> its numeric parameter values."""
    out: dict[tuple[str, int], dict[str, float]] = {}
    for r in study.rows:
        e = r["ensemble"]
        if e["sensitivity_point"] is not None:
            params = r.get("params") or {}
            out.setdefault((e["family"], e["sensitivity_point"]),
                           {k: float(v) for k, v in params.items()
                            if isinstance(v, int | float) and not isinstance(v, bool)})
    return out


def point_differences(study: Study, family: str, sp: int, a: str, b: str) -> dict[str, np.ndarray]:
    """Per crossover metric, the finite paired differences B − A at one sensitivity point
    (and under ``"_degraded"``, per pair, whether either run is degraded)."""
    def runs(c: str) -> dict[tuple[Any, ...], int]:
        return {pair_key(r): i for i, r in enumerate(study.rows) if r["configuration"] == c
                and r["ensemble"]["family"] == family and r["ensemble"]["sensitivity_point"] == sp}
    ra, rb = runs(a), runs(b)
    keys = [k for k in ra if k in rb]
    out = {"_degraded": np.array([study.degraded[ra[k]] or study.degraded[rb[k]] for k in keys], dtype=bool)}
    for m in CROSSOVER_METRICS:
        if m in study.metrics and keys:
            j = study.column(m)
            d = np.array([study.values[rb[k], j] - study.values[ra[k], j] for k in keys])
            out[m] = d[np.isfinite(d)]
    return out


def crossover_rows(study: Study) -> tuple[list[dict[str, Any]], dict[tuple[str, str, str, str], Any]]:
    """Where the sign of the paired mean difference B − A changes along each varied parameter
    of the sensitivity study (every flagged pair included), and the per-point means (for the
    figures) keyed by (family, A, B, metric)."""
    pts = sensitivity_points(study)
    out: list[dict[str, Any]] = []
    profiles: dict[tuple[str, str, str, str], Any] = {}
    for f in dict.fromkeys(fam for fam, _ in pts):
        sps = sorted(sp for fam, sp in pts if fam == f)
        for a, b in comparisons(study.configurations):
            diffs = {sp: point_differences(study, f, sp, a, b) for sp in sps}
            for m in CROSSOVER_METRICS:
                good = [sp for sp in sps if len(diffs[sp].get(m, ())) >= 2]
                if len(good) < 4:
                    continue
                means = np.array([float(diffs[sp][m].mean()) for sp in good])
                profiles[(f, a, b, m)] = {"points": good, "means": means,
                                          "params": {p: np.array([pts[(f, sp)].get(p, math.nan) for sp in good])
                                                     for p in study.parameters}}
                for p in study.parameters:
                    x = np.array([pts[(f, sp)].get(p, math.nan) for sp in good])
                    keep = np.isfinite(x)
                    if keep.sum() < 4 or np.ptp(x[keep]) == 0:
                        continue
                    cr = ss.crossover_bootstrap(x[keep], [diffs[sp][m] for sp, k in zip(good, keep, strict=True) if k])
                    out.append({"family": f, "config_a": a, "config_b": b, "metric": m, "parameter": p,
                                "points": int(keep.sum()),
                                "pairs": int(sum(len(diffs[sp][m]) for sp, k in zip(good, keep, strict=True) if k)),
                                "degraded_share": float(np.mean(np.concatenate(
                                    [diffs[sp]["_degraded"] for sp, k in zip(good, keep, strict=True) if k]))),
                                "low_value": float(x[keep].min()),
                                "high_value": float(x[keep].max()),
                                "crossovers": ";".join(f"{z:.6g}" for z in cr.zeros),
                                "ci_low": cr.low, "ci_high": cr.high,
                                "share_resamples_with_crossing": cr.share_with_crossing,
                                "reading": _reading(cr, means[keep])})
    return out, profiles


def _reading(cr: ss.Crossover, means: np.ndarray) -> str:
    if cr.zeros:
        return f"ordering changes ({len(cr.zeros)} crossover{'s' if len(cr.zeros) > 1 else ''})"
    means = np.where(np.abs(means) <= ss.ZERO_TOL, 0.0, means)
    if np.all(means == 0):
        return "no difference: B − A = 0 at every point"
    if np.all(means < 0):
        return "no crossover in range: B − A < 0 at every point"
    if np.all(means > 0):
        return "no crossover in range: B − A > 0 at every point"
    if np.all(means <= 0):
        return "no crossover in range: B − A ≤ 0 at every point (0 at some)"
    if np.all(means >= 0):
        return "no crossover in range: B − A ≥ 0 at every point (0 at some)"
    return "no crossover of the binned profile (point means differ in sign, bin means do not)"
