"""``twin report DIR`` on a sweep folder: the numbers from the manifest's metrics alone.

A sweep of thousands of runs cannot be reported by loading every file's series. The
manifest already holds each run's status, parameter point and scalar metrics, so the summary
(point × configuration), the flagged shares and banner, the paired statistics with and
without flagged pairs, the variation across points and ``metrics.csv`` come from it; only
the figures read files: one representative run per point × configuration (the median total
resilience loss), whose files are loaded.
"""

from __future__ import annotations

import csv
import html
import logging
import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from twin.events import FINISHED_STATUSES
from twin.metrics import HEADLINE
from twin.report.points import MetricGroups, group_name, variation_figure, variation_rows
from twin.report.tables import progress

log = logging.getLogger(__name__)


def point_label_of(doc: dict[str, Any]) -> dict[int, str]:
    """Sweep point -> its parameter values as ``key=value, ...`` ("" for a single point)."""
    params: dict[int, dict[str, Any]] = {}
    for r in doc.get("runs", []):
        params.setdefault(int(r["point"]), dict(r.get("params", {})))
    if len(params) < 2:
        return dict.fromkeys(params, "")
    return {p: ", ".join(f"{k}={v!r}" for k, v in v_.items()) or f"point {p}" for p, v_ in params.items()}


def sweep_groups(doc: dict[str, Any]) -> tuple[MetricGroups, list[dict[str, Any]]]:
    """The finished runs' metrics by (point label, configuration), points in order, then the
    sweep's configurations; and the finished rows themselves."""
    labels = point_label_of(doc)
    rows = [r for r in doc.get("runs", []) if r.get("status") in FINISHED_STATUSES]
    configs = list(doc.get("configurations") or dict.fromkeys(r["configuration"] for r in rows))
    groups: MetricGroups = {}
    for p in sorted(labels):
        for c in configs:
            members = sorted((r for r in rows if int(r["point"]) == p and r["configuration"] == c),
                             key=lambda r: r["seed"])
            if members:
                groups[(labels[p], c)] = [dict(r.get("metrics", {})) for r in members]
    return groups, rows


def _representatives(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Per (point, configuration), the run with the median total resilience loss."""
    from twin.report.collect import resilience_loss_total_h

    out = []
    for key in dict.fromkeys((r["point"], r["configuration"]) for r in rows):
        members = sorted((r for r in rows if (r["point"], r["configuration"]) == key),
                         key=lambda r: (resilience_loss_total_h(r.get("metrics", {})), r["seed"]))
        out.append(members[len(members) // 2])
    return out


def write_metrics_csv(doc: dict[str, Any], labels: dict[int, str], path: Path) -> Path:
    """One row per run of the manifest: what ran, its point, status, then every metric."""
    rows = doc.get("runs", [])
    cols = sorted({k for r in rows for k in r.get("metrics", {})})
    with open(path, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["run_id", "configuration", "seed", "status", "point", *cols])
        for r in rows:
            m = r.get("metrics", {})
            cells = ["" if (v := m.get(k)) is None or (isinstance(v, float) and math.isnan(v)) else format(float(v), ".10g")
                     for k in cols]
            w.writerow([r["run_id"], r["configuration"], r["seed"], r["status"], labels.get(int(r["point"]), ""), *cells])
    return path


def write_sweep_report(folder: Path, out_dir: Path, show_progress: bool | None = None,
                       figures_too: bool = True) -> Any:
    """The report of a sweep folder from its manifest (see the module docstring)."""
    from twin.report.build import CAPTIONS, POINTS_FIGURE, ReportFiles, _table, page, summary_table
    from twin.report.collect import load_run
    from twin.report.figures import FIGURES
    from twin.results import final_path, is_complete
    from twin.sweep import stats
    from twin.sweep.manifest import read_manifest

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    doc = read_manifest(folder)
    from twin.report.study_data import is_study

    if is_study(doc):  # a hazard-ensemble study: its own report (twin.report.study_report)
        from twin.report.study_report import write_study_report

        return write_study_report(folder, out)
    labels = point_label_of(doc)
    groups, rows = sweep_groups(doc)
    configs = list(dict.fromkeys(c for _, c in groups))
    shares = stats.flag_shares(rows, configs)
    several = len(labels) > 1
    by = {(s.configuration, s.point): s for s in shares}
    number = {label: p for p, label in labels.items()}
    share = [by[(c, number[p] if several else None)] for p, c in groups]
    header, summary = summary_table(groups, share)
    banner = stats.flag_banner(shares)
    paired = stats.table(stats.paired(rows, configs))

    figures: dict[str, Path] = {}
    runs = []
    if figures_too:
        reps = [final_path(folder, r["run_id"]) for r in _representatives(rows)]
        runs = [load_run(p) for p in progress([p for p in reps if is_complete(p)], len(reps), "loading runs",
                                              enabled=show_progress)]
        if runs:
            for name, (_, draw) in FIGURES.items():
                figures[name] = draw(runs, out / name)
    if several:
        figures[POINTS_FIGURE] = variation_figure(groups, out / POINTS_FIGURE, HEADLINE)
    csv_path = write_metrics_csv(doc, labels, out / "metrics.csv")
    n = len(doc.get("runs", []))
    body = [
        f"<p>Sweep {html.escape(str(doc.get('name', '')))}: {n} runs, {len(rows)} finished. The numbers come "
        "from the sweep's manifest; each figure shows one representative run (median total resilience "
        f'loss) per point and configuration. All metrics: <a href="{csv_path.name}">{csv_path.name}</a>.</p>',
        *([f'<p class="banner"><strong>Warning.</strong> {html.escape(banner)}</p>'] if banner else []),
        "<h2>Summary</h2>", _table(header, summary),
        "<h2>Paired differences</h2>", f"<pre>{html.escape(paired)}</pre>",
    ]
    if several:
        vh, vr = variation_rows(groups, HEADLINE)
        body += ["<h2>Variation across parameter points</h2>",
                 _table([html.escape(h) for h in vh], [[html.escape(c) for c in row] for row in vr])]
    captions = {**{k: v[0] for k, v in FIGURES.items()}, **CAPTIONS}
    html_path = page(out / "report.html", body, figures, captions)
    return ReportFiles(figures, html_path, csv_path, runs, [], banner)


def is_sweep_folder(paths: Sequence[str | Path]) -> Path | None:
    """The folder when ``paths`` is exactly one sweep folder (it has a manifest), else None."""
    from twin.report.collect import SWEEP_MANIFEST

    if len(paths) == 1 and Path(paths[0]).is_dir() and (Path(paths[0]) / SWEEP_MANIFEST).is_file():
        return Path(paths[0])
    return None


__all__ = ["group_name", "is_sweep_folder", "sweep_groups", "write_sweep_report"]
