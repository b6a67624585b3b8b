"""``twin report DIR`` on a hazard-ensemble study: CSV tables, figures, report.html and study.md.

The numbers are computed by :mod:`twin.report.study` from the manifest alone (no results
file is opened); this module writes them: one CSV per table, the PNG figures of
:mod:`twin.report.study_figures`, a self-contained HTML page and ``study.md``, the material
for docs/study.md (every cell with its n and degraded share, the commit, the command, the
manifest hash and the wall time).
"""

from __future__ import annotations

import csv
import html
import math
from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from twin.report import study as st
from twin.report import study_figures as sf
from twin.report import study_stats as ss
from twin.report.study_data import (
    CROSSOVER_METRICS,
    HEADLINE_STUDY,
    LOSS_METRICS,
    Study,
    load_study,
    manifest_hash,
    metric_label,
    metric_unit,
    write_metrics_csv,
)
from twin.sweep.stats import FLAG_BANNER_SHARE

STUDY_MD = "study.md"
TABLES = ("summary", "paired", "annual", "exceedance", "cost_effectiveness", "crossover")


def fmt(v: Any, digits: int = 4) -> str:
    """A table cell: ``n/a`` for a missing or non-finite number, else 4 significant digits
    (whole numbers with thousands separators from 10,000 on)."""
    if v is None or v == "":
        return "n/a"
    if isinstance(v, str):
        return v
    x = float(v)
    if not math.isfinite(x):
        return "n/a"
    if x == 0:
        return "0"
    if 10 ** digits <= abs(x) < 1e12:
        return f"{x:,.0f}"
    if abs(x) >= 1e12 or abs(x) < 1e-3:
        return f"{x:.{digits - 1}e}"
    return f"{x:.{digits}g}"


def pct(v: float) -> str:
    return "n/a" if not math.isfinite(v) else f"{100 * v:.1f} %"


def write_csv(rows: list[dict[str, Any]], path: Path) -> Path:
    fields = list(dict.fromkeys(k for r in rows for k in r))
    with open(path, "w", newline="") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(fields)
        for r in rows:
            w.writerow(["" if (v := r.get(k)) is None or (isinstance(v, float) and not math.isfinite(v))
                        else (format(float(v) + 0.0, ".10g") if isinstance(v, float) else v) for k in fields])  # + 0.0: no "-0"
    return path


def commit_of(doc: dict[str, Any]) -> str:
    """The manifest's commit (the code that ran the sweep) if it records one, else the git
    commit of the code writing the report, so marked."""
    if doc.get("commit"):
        return str(doc["commit"])
    from twin.results import code_commit

    here = code_commit()
    if here is None:
        return "unknown (not a git checkout; the manifest records none)"
    return f"{here} (of the code writing the report; the manifest records none)"


def md_table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    def esc(c: str) -> str:
        return str(c).replace("|", "\\|")
    lines = ["| " + " | ".join(esc(h) for h in header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(esc(c) for c in row) + " |" for row in rows]
    return "\n".join(lines)


def html_table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    head = "".join(f"<th>{html.escape(h)}</th>" for h in header)
    body = "".join("<tr>" + "".join(f"<td>{html.escape(c)}</td>" for c in row) + "</tr>" for row in rows)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _label(m: str) -> str:
    unit = metric_unit(m)
    return f"{metric_label(m)} ({unit})" if unit else metric_label(m)


def runs_over(n: int, runs: int, not_meaningful: int, unit: str = "runs") -> str:
    """How many runs (pairs) a statistic is over: ``n=5`` when every one has a value, else
    ``n=3 of 5 runs, 2 not meaningful`` (a not-meaningful value is left out, never taken as 0)."""
    if n == runs and not not_meaningful:
        return f"n={n}"
    return f"n={n} of {runs} {unit}" + (f", {not_meaningful} not meaningful" if not_meaningful else "")


def summary_tables(study: Study, rows: list[dict[str, Any]]) -> list[tuple[str, list[str], list[list[str]]]]:
    """Per family: metrics × configurations, each cell ``mean / median / P90 (n, degraded share)``."""
    out = []
    for f in study.families():
        configs = [c for c in study.configurations if any(r["family"] == f and r["configuration"] == c for r in rows)]
        by = {(r["configuration"], r["metric"]): r for r in rows if r["family"] == f}
        body = []
        for m in study.metrics:
            cells = [_label(m)]
            for c in configs:
                r = by.get((c, m))
                cells.append("n/a" if r is None else
                             f"{fmt(r['mean'])} / {fmt(r['median'])} / {fmt(r['p90'])} "
                             f"({runs_over(r['n'], r['runs'], r.get('not_meaningful', 0))}, "
                             f"{pct(r['degraded_share'])} degraded)")
            body.append(cells)
        out.append((f, ["metric: mean / median / P90", *configs], body))
    return out


def _ci(lo: float, hi: float, note: str) -> str:
    if math.isfinite(lo) and math.isfinite(hi):
        return f"[{fmt(lo)}, {fmt(hi)}]" + (f" ({note})" if note else "")
    return f"n/a ({note})" if note else "n/a"


def _p(p: float, note: str = "") -> str:
    if not math.isfinite(p):
        return f"n/a ({note})" if note else "n/a"
    return f"{p:.3g}" if p >= 1e-4 else f"{p:.1e}"


def _na_pairs(r: dict[str, Any]) -> str:
    """``; k pairs not meaningful`` when the metric is not meaningful in either run of k pairs."""
    k = int(r.get("not_meaningful", 0))
    return f"; {k} pair{'s' if k != 1 else ''} not meaningful (left out)" if k else ""


def paired_tables(rows: list[dict[str, Any]]) -> list[tuple[str, list[str], list[list[str]]]]:
    """Per family: one row per comparison and metric, with and without flagged pairs."""
    out = []
    families = [f for f in dict.fromkeys(r["family"] for r in rows) if f != st.ALL]
    for f in families:
        inc = [r for r in rows if r["family"] == f and r["flagged_pairs"] == "included"]
        exc = {(r["config_a"], r["config_b"], r["metric"]): r for r in rows
               if r["family"] == f and r["flagged_pairs"] == "excluded"}
        body = []
        for r in inc:
            e = exc.get((r["config_a"], r["config_b"], r["metric"]))
            without = "n/a" if e is None else (f"{fmt(e['mean_diff'])} {_ci(e['bca_low'], e['bca_high'], e['bca_note'])} "
                                               f"(n={e['n']}{_na_pairs(e)}), p={_p(e['wilcoxon_p'], e['wilcoxon_note'])}")
            body.append([f"{r['config_b']} − {r['config_a']}", _label(r["metric"]) + (" *" if r["headline"] else ""),
                         f"{r['n']} ({pct(r['degraded_share'])} degraded, {pct(r['flagged_share'])} flagged)"
                         + _na_pairs(r),
                         fmt(r["mean_diff"]),
                         _ci(r["bca_low"], r["bca_high"], r["bca_note"]), _p(r["wilcoxon_p"], r["wilcoxon_note"]),
                         _p(r["holm_p"]) if r["headline"] else "", without])
        out.append((f, ["B − A", "metric (* headline)", "n pairs (degraded, flagged share)", "mean B − A", "95 % BCa",
                        "Wilcoxon p", "Holm p", "without flagged pairs: mean [BCa] (n), p"], body))
    return out


def annual_tables(study: Study, rows: list[dict[str, Any]], paired_rows: list[dict[str, Any]]
                  ) -> list[tuple[str, list[str], list[list[str]]]]:
    """Per family (and all): expected annual value per configuration (n, degraded share, the
    share of the annual rate covered), then the paired expected annual differences."""
    out = []
    for f in dict.fromkeys(r["family"] for r in rows):
        inc = [r for r in rows if r["family"] == f and r["flagged_runs"] == "included"]
        exc = {(r["configuration"], r["metric"]): r for r in rows if r["family"] == f and r["flagged_runs"] == "excluded"}
        configs = list(dict.fromkeys(r["configuration"] for r in inc))
        metrics = list(dict.fromkeys(r["metric"] for r in inc))
        by = {(r["configuration"], r["metric"]): r for r in inc}
        body = []
        for m in metrics:
            cells = [_label(m) + " per year"]
            for c in configs:
                r, e = by[(c, m)], exc.get((c, m))
                cells.append(f"{fmt(r['eav_per_year'])} ({runs_over(r.get('n', r['runs']), r['runs'], r.get('not_meaningful', 0))}, "
                             f"{pct(r['degraded_share'])} degraded"
                             + ("" if r["rate_covered"] >= 1 - 1e-9 else f", {pct(r['rate_covered'])} of the rate")
                             + (f"; without flagged {fmt(e['eav_per_year'])}" if e and e["eav_per_year"] != r["eav_per_year"] else "")
                             + ")")
            body.append(cells)
        rate = inc[0]["rate_per_year"] if inc else math.nan
        out.append((f"{f} (annual rate {fmt(rate)} per year)", ["metric", *configs], body))
    diff = [r for r in paired_rows if r["flagged_pairs"] == "included" and r["metric"] in LOSS_METRICS
            and math.isfinite(r.get("eav_diff_per_year", math.nan))]
    body = [[r["family"], f"{r['config_b']} − {r['config_a']}", _label(r["metric"]) + " per year",
             str(r["n"]), fmt(r["eav_diff_per_year"]), _ci(r["eav_low"], r["eav_high"], r["eav_note"]),
             pct(r["rate_covered"])] for r in diff]
    out.append(("paired expected annual differences", ["family", "B − A", "metric", "draws", "Σ w̃ (B − A)",
                                                       "95 % BCa", "rate covered"], body))
    return out


RETURN_PERIODS_Y: tuple[float, ...] = (1.0, 10.0, 100.0)


def return_period_loss(losses: list[float], freqs: list[float], period_y: float) -> str:
    """The largest loss whose annual exceedance frequency is at least ``1 / period_y``: ``0``
    when the hazard's events (with any loss) are rarer than that, ``> x_max`` when even the
    largest drawn loss is exceeded more often (the return period lies beyond the draws)."""
    f = 1.0 / period_y
    pts = sorted(zip(losses, freqs, strict=True))
    if not pts or pts[0][1] < f:
        return "0"
    if pts[-1][1] >= f:
        return f"> {fmt(pts[-1][0])}"
    return fmt(max(x for x, lam in pts if lam >= f))


def return_period_table(rows: list[dict[str, Any]], n_by: dict[tuple[str, str], tuple[int, float]]
                        ) -> tuple[list[str], list[list[str]]]:
    """Per family, configuration and loss metric: the loss at each of RETURN_PERIODS_Y."""
    curves: dict[tuple[str, str, str], tuple[list[float], list[float]]] = {}
    for r in rows:
        xs, fs = curves.setdefault((r["family"], r["configuration"], r["metric"]), ([], []))
        xs.append(r["loss"])
        fs.append(r["exceedance_per_year"])
    header = ["family", "configuration", "metric", "n (degraded)",
              *(f"{p:g}-year loss" for p in RETURN_PERIODS_Y)]
    body = []
    for (f, c, m), (xs, fs) in curves.items():
        n, deg = n_by.get((f, c), (0, math.nan))
        body.append([f, c, _label(m), f"{n} ({pct(deg)})", *(return_period_loss(xs, fs, p) for p in RETURN_PERIODS_Y)])
    return header, body


def cost_table(rows: list[dict[str, Any]]) -> tuple[list[str], list[list[str]]]:
    header = ["family", "B vs A", "loss", "n pairs (degraded)", "ΔC (M EUR/yr)", "avoided per year [95 % BCa]", "M EUR per unit avoided",
              "EUR per unit", "interval (M EUR per unit)", "status"]
    body = [[r["family"], f"{r['config_b']} vs {r['config_a']}", _label(r["metric"]),
             f"{r['n']} ({pct(r['degraded_share'])})", fmt(r["delta_cost_meur_per_year"]),
             f"{fmt(r['avoided_per_year'])} {_ci(r['avoided_low'], r['avoided_high'], '')}",
             fmt(r["ratio_meur_per_unit"]) if r["status"] == "ok" else _no_ratio(r["status"]),
             fmt(r["ratio_eur_per_unit"]) if r["status"] == "ok" else _no_ratio(r["status"]),
             r["interval_meur_per_unit"] or "", r["status"]] for r in rows]
    return header, body


def _no_ratio(status: str) -> str:
    """The ratio cell of a row without one: B dominant (no ratio ranks) or not meaningful."""
    return "none: B dominant (costs no more, avoids loss)" if status == "dominant" else "not meaningful"


def crossover_table(rows: list[dict[str, Any]]) -> tuple[list[str], list[list[str]]]:
    header = ["family", "B − A", "metric", "parameter", "points, pairs (degraded)", "range", "crossover(s)", "95 % interval",
              "resamples with a crossing", "reading"]
    body = [[r["family"], f"{r['config_b']} − {r['config_a']}", metric_label(r["metric"]), r["parameter"],
             f"{r['points']}, {r['pairs']} ({pct(r['degraded_share'])})",
             f"{fmt(r['low_value'])} – {fmt(r['high_value'])}",
             ", ".join(fmt(float(z)) for z in r["crossovers"].split(";")) if r["crossovers"] else "none",
             _ci(r["ci_low"], r["ci_high"], ""), pct(r["share_resamples_with_crossing"]), r["reading"]] for r in rows]
    return header, body


def banner(study: Study) -> str:
    """A warning naming each family and configuration whose flagged share exceeds 2 %."""
    over = []
    for f in study.families():
        for c in study.configurations:
            idx = st.main_runs(study, f, c)
            if len(idx):
                n, deg, flg = st.flag_shares_of(study, idx)
                if n and flg > FLAG_BANNER_SHARE:
                    over.append(f"{f} / {c}: {pct(flg)} flagged ({pct(deg)} degraded)")
    if not over:
        return ""
    return (f"More than {FLAG_BANNER_SHARE:.0%} of the runs are degraded or show negative impacts in: "
            + "; ".join(over) + ". Read the paired statistics with and without flagged pairs.")


def provenance(study: Study, out: Path) -> list[tuple[str, str]]:
    doc = study.doc
    counts = Counter(r["status"] for r in study.rows)
    finished = counts.get("complete", 0) + counts.get("degraded", 0)
    timed = [float(r["wall_s"]) for r in study.rows
             if r["status"] in ("complete", "degraded") and r.get("wall_s") not in (None, "")]
    wall = sum(timed)
    draws = {f: len({(r["ensemble"]["draw"], r.get("point")) for r in study.rows if r["ensemble"]["family"] == f
                     and r["ensemble"]["sensitivity_point"] is None}) for f in study.families()}
    sens = {r["ensemble"]["sensitivity_point"] for r in study.rows if r["ensemble"]["sensitivity_point"] is not None}
    elapsed = doc.get("wall_s") or doc.get("elapsed_s")
    return [
        ("sweep", f"{doc.get('name', '?')} ({doc.get('sweep_file', '?')})"),
        ("commit", commit_of(doc)),
        ("command", f"twin sweep {doc.get('sweep_file', 'SWEEP')} --out {study.folder} && "
                    f"twin report {study.folder} --out {out}"),
        ("manifest", f"{study.folder / 'manifest.json'}, sha256 {manifest_hash(study.folder)}, updated {doc.get('updated_utc', '?')}"),
        ("runs", f"{len(study.rows)}: " + ", ".join(f"{counts.get(s, 0)} {s}" for s in ("complete", "degraded", "failed", "pending"))),
        ("configurations", ", ".join(study.configurations)),
        ("draws per configuration (main study)", ", ".join(f"{f} {n}" for f, n in draws.items())),
        ("sensitivity study", f"{len(sens)} Latin-hypercube points over {', '.join(study.parameters) or '-'}"),
        ("wall time", (f"sweep {fmt(float(elapsed) / 3600)} h; " if elapsed else "")
         + f"Σ run wall time {fmt(wall / 3600)} h over {len(timed)} of {finished} finished runs"
         + (f" ({finished - len(timed)} without a recorded wall time)" if len(timed) < finished else "")
         + (f" ({fmt(len(timed) / (wall / 3600))} runs per core-hour)" if wall > 0 else "")),
        ("statistics", f"paired BCa bootstrap, {ss.BOOTSTRAP_RESAMPLES:,} resamples, seed {ss.BOOTSTRAP_SEED}; "
                       f"Wilcoxon signed-rank (zeros dropped), Holm over the headline set "
                       f"({', '.join(HEADLINE_STUDY)}) × families × comparisons, flagged pairs included; "
                       f"crossover intervals: percentile bootstrap, {ss.CROSSOVER_RESAMPLES:,} resamples"),
    ]


def write_study_report(folder: Path, out_dir: Path) -> Any:
    """Compute and write the study report of a sweep folder whose runs carry ``ensemble``."""
    from twin.report.build import ReportFiles, page

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    study = load_study(folder)
    csv_path = write_metrics_csv(study, out / "metrics.csv")
    summ = st.summary(study)
    pair = st.paired(study)
    ann = st.annual(study)
    exc = st.exceedance_rows(study)
    cost = st.cost_rows(study, pair)
    cross, profiles = st.crossover_rows(study)
    for name, rows in zip(TABLES, (summ, pair, ann, exc, cost, cross), strict=True):
        write_csv(rows, out / f"{name}.csv")

    figures: dict[str, Path] = {}
    drawn = {
        "distributions.png": sf.distributions(study, out / "distributions.png"),
        "paired.png": sf.paired_figure(pair, out / "paired.png", tuple(m for m in HEADLINE_STUDY if m in study.metrics)[:4]),
        "exceedance.png": sf.exceedance_figure(exc, out / "exceedance.png"),
    }
    captions = dict(sf.CAPTIONS)
    for m in CROSSOVER_METRICS[:2]:
        drawn[f"crossover_{m}.png"] = sf.crossover_figure(profiles, cross, out / f"crossover_{m}.png", m)
        captions[f"crossover_{m}.png"] = f"{sf.CAPTIONS['crossover.png']} ({metric_label(m)})"
    drawn["crossover_map.png"] = sf.crossover_map(profiles, out / "crossover_map.png", CROSSOVER_METRICS[0])
    figures = {k: v for k, v in drawn.items() if v is not None}

    warn = banner(study)
    prov = provenance(study, out)
    sections = _sections(study, summ, pair, ann, exc, cost, cross)
    md = [f"# Study report: {study.doc.get('name', '')}", "",
          *(f"- **{k}**: {v}" for k, v in prov), "",
          *([f"> **Warning.** {warn}", ""] if warn else []),
          "Impacts are the excess over each configuration's hazard-free baseline (docs/metrics.md). "
          "B − A < 0: B lost less. Definitions of every statistic: docs/report.md, \"Study report\".", ""]
    body = [f"<p>{html.escape(study.doc.get('name', ''))}: every table is also a CSV in this folder; "
            f'all runs: <a href="{csv_path.name}">{csv_path.name}</a>.</p>',
            "<ul>" + "".join(f"<li><b>{html.escape(k)}</b>: {html.escape(v)}</li>" for k, v in prov) + "</ul>",
            *([f'<p class="banner"><strong>Warning.</strong> {html.escape(warn)}</p>'] if warn else [])]
    for title, tables in sections:
        md += [f"## {title}", ""]
        body.append(f"<h2>{html.escape(title)}</h2>")
        for sub, header, rows in tables:
            if sub:
                md += [f"### {sub}", ""]
                body.append(f"<h3>{html.escape(sub)}</h3>")
            md += [md_table(header, rows) if rows else "(none)", ""]
            body.append(html_table(header, rows) if rows else "<p>(none)</p>")
    md += ["## Figures", ""] + [f"- `{name}`: {captions.get(name, name)}" for name in figures] + [""]
    (out / STUDY_MD).write_text("\n".join(md), encoding="utf-8")
    html_path = page(out / "report.html", body, figures, captions)
    from twin.report.study_interactive import STUDY_INTERACTIVE_HTML, write_study_interactive

    live = write_study_interactive(study, pair, exc, out / STUDY_INTERACTIVE_HTML, profiles)
    return ReportFiles(figures, html_path, csv_path, [], [], warn, interactive=live, study=out / STUDY_MD)


def _sections(study: Study, summ: list[dict[str, Any]], pair: list[dict[str, Any]], ann: list[dict[str, Any]],
              exc: list[dict[str, Any]], cost: list[dict[str, Any]], cross: list[dict[str, Any]]
              ) -> list[tuple[str, list[Any]]]:
    n_by = {(r["family"], r["configuration"]): (r["runs"], r["degraded_share"]) for r in ann
            if r["flagged_runs"] == "included"}
    rh, rb = return_period_table(exc, n_by)
    ch, cb = cost_table(cost)
    xh, xb = crossover_table(cross)
    return [
        ("Per hazard family and configuration", summary_tables(study, summ)),
        ("Paired differences", paired_tables(pair)),
        ("Expected annual values", annual_tables(study, ann, pair)),
        ("Loss by return period (from the exceedance curves, exceedance.png)", [("", rh, rb)]),
        ("Cost-effectiveness", [("", ch, cb)]),
        ("Crossovers of the sensitivity study", [("", xh, xb)]),
    ]
