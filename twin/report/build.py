"""``twin report``: figures, a self-contained HTML page and a CSV of metrics for a set of runs."""

from __future__ import annotations

import base64
import csv
import html
import logging
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from twin.metrics import HEADLINE, SECTORS, is_applicable
from twin.report.collect import Run, discover, load_run
from twin.report.figures import FIGURES, by_configuration, mean_ci
from twin.report.points import (
    by_point_and_configuration,
    group_name,
    metric_groups,
    point_key,
    point_labels,
    variation_figure,
    variation_rows,
)
from twin.report.screening import (
    is_screening,
    load_screenings,
    screening_figure,
    screening_html,
    write_screening_csv,
)
from twin.report.tables import format_number, metric_cell, progress
from twin.screening.results import ScreeningResult
from twin.sweep.stats import FlagShare, flag_banner, flag_shares

log = logging.getLogger(__name__)

POINTS_FIGURE = "points.png"
CAPTIONS = {POINTS_FIGURE: "Headline metrics per parameter point and configuration (mean, 95 % interval over seeds)"}

META_COLUMNS: tuple[str, ...] = ("run_id", "configuration", "seed", "status", "baseline", "path", "point")

# The metrics the report's summary shows, with labels; the CSV and the full table hold all.
SUMMARY_KEYS: tuple[tuple[str, str], ...] = (
    *HEADLINE,
    ("secondary_failures_customers", "secondary service failures, customer-weighted"),
    ("customers_lost_service_secondary", "customers who lost a service (secondary)"),
    ("primary_failures", "primary failures"),
    ("primary_failures_with_service_loss", "primary failures with a service loss below"),
    ("cascade_depth_max", "cascade depth (max, in service failures)"),
    ("cascade_amplification", "cascade amplification (secondary service failures / primary with a service loss)"),
    ("cross_sector_hops", "cross-sector hops (service failures)"),
    ("secondary_failures_all", "secondary failures incl. state changes"),
    ("trips_cancelled", "trips cancelled (simulated)"),
    ("trips_abandoned", "trips abandoned on the way (simulated)"),
    ("trips_unfinished", "trips unfinished at the horizon (simulated)"),
    ("trips_lost_person_h_scaled", "person-hours of trips lost, all vehicles (× 1/demand_scale)"),
    ("saidi_power_h", "SAIDI power (h per household)"),
    ("saifi_power", "SAIFI power (interruptions per household)"),
    ("caidi_power_h", "CAIDI power (h)"),
    ("saidi_water_h", "SAIDI water (h per person)"),
    ("saifi_water", "SAIFI water"),
    ("lost_load_cost_meur", "energy not served at VoLL (M EUR)"),
    *((f"resilience_loss_{s}_h", f"resilience loss {s} (h)") for s in SECTORS),
    *((f"min_performance_{s}", f"minimum performance {s}") for s in SECTORS),
    *((f"time_to_recover_{s}_h", f"time to recover {s} (h)") for s in SECTORS),
    ("equity_rural_minus_urban_h", "rural − urban outage hours per person"),
    ("equity_outage_h_per_person_city", "outage hours per person, cities"),
    ("equity_outage_h_per_person_town", "outage hours per person, towns"),
    ("equity_outage_h_per_person_rural", "outage hours per person, rural"),
    ("equity_rural_urban_ratio", "rural / urban outage per person (urban floored at 0.01 h)"),
    ("equity_gini", "Gini of outage hours per person over districts"),
    ("annual_cost_meur", "annualised cost (M EUR per year, docs/metrics.md)"),
    ("cost_index_meur", "cost proxy (indicative M EUR)"),
)


@dataclass(frozen=True)
class ReportFiles:
    """What ``write_report`` wrote."""

    figures: dict[str, Path]
    html: Path
    csv: Path
    runs: list[Run]
    screenings: list[ScreeningResult] = field(default_factory=list)
    banner: str = ""  # the warning shown atop the HTML when too many runs are flagged
    interactive: Path | None = None  # interactive.html (twin.report.interactive); None without runs
    study: Path | None = None  # study.md of a hazard-ensemble study (twin.report.study_report)


def run_shares(runs: Sequence[Run]) -> list[FlagShare]:
    """Degraded and negative-impact counts per configuration, pooled and per parameter point
    (twin.sweep.stats.flag_shares; points numbered in :func:`by_point_and_configuration` order)."""
    labels = point_labels(runs)
    number = {label: i for i, label in enumerate(dict.fromkeys(labels[point_key(r)] for r in runs))}
    rows = [{"configuration": r.configuration, "point": number[labels[point_key(r)]], "status": r.results.status,
             "metrics": r.metrics} for r in runs]
    return flag_shares(rows, list(by_configuration(runs)))


def metric_columns(runs: Sequence[Run]) -> list[str]:
    """Every metric name any run has, sorted."""
    return sorted({k for r in runs for k in r.metrics})


def _csv_value(v: float | None) -> str:
    if v is None:
        return ""
    return format(float(v), ".10g")


def write_csv(runs: Sequence[Run], path: Path) -> Path:
    """One row per run: what ran, then every metric (empty where a run lacks one)."""
    cols = metric_columns(runs)
    labels = point_labels(runs)
    with open(path, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow([*META_COLUMNS, *cols])
        for r in runs:
            meta = [r.run_id, r.configuration, r.seed, r.results.status,
                    "" if r.baseline is None else str(r.baseline.path), str(r.results.path),
                    labels[point_key(r)]]
            w.writerow([*meta, *(_csv_value(r.metrics.get(k)) for k in cols)])
    return path


def _cell(v: float, ci: float = 0.0, censored: bool = False) -> str:
    text = format_number(v)
    if ci and math.isfinite(ci):
        text += f" ± {format_number(ci)}"
    if censored:
        text += " (censored)"
    return html.escape(text)


def summary_table(groups: dict[tuple[str, str], list[dict[str, float]]],
                  shares: Sequence[FlagShare]) -> tuple[list[str], list[list[str]]]:
    """The summary from the metrics of each (point label, configuration) group, in order, and
    the flag shares of each group (same order): the mean over seeds (± 95 % interval)."""
    header = ["metric", *(html.escape(group_name(p, c, len(g))) for (p, c), g in groups.items())]
    rows = [
        ["degraded runs (a solver did not solve a step)",
         *(f"{sh.degraded}/{sh.n} ({sh.degraded_share:.0%})" for sh in shares)],
        ["runs with negative impacts beyond the tolerance", *(f"{sh.negative}/{sh.n}" for sh in shares)],
    ]
    every = [m for grp in groups.values() for m in grp]
    for key, label in SUMMARY_KEYS:
        if not any(key in m for m in every):
            continue
        row = [html.escape(label)]
        for grp in groups.values():
            values = [m[key] for m in grp if key in m and is_applicable(m, key)]
            has = sum(key in m for m in grp)
            if not values and has:
                row.append("n/a (not meaningful)")
                continue
            mean, ci = mean_ci(values or [math.nan])
            flag = key.replace("_h", "_censored") if key.startswith("time_to_recover_") else ""
            censored = bool(flag) and any(m.get(flag, 0.0) for m in grp)
            # a mean over fewer runs than have the metric says so: the others are not meaningful
            note = f" ({len(values)} of {has} runs; {has - len(values)} not meaningful)" if values and len(values) < has else ""
            row.append(_cell(mean, ci, censored) + html.escape(note))
        rows.append(row)
    return header, rows


def _summary_rows(runs: Sequence[Run]) -> tuple[list[str], list[list[str]]]:
    """One column per parameter point × configuration (runs of different hazards are never
    pooled): the mean over seeds (± 95 % interval when several)."""
    groups = by_point_and_configuration(runs)
    labels = point_labels(runs)
    number = {label: i for i, label in enumerate(dict.fromkeys(labels[point_key(r)] for r in runs))}
    several = len(number) > 1
    shares = {(sh.configuration, sh.point): sh for sh in run_shares(runs)}
    share = [shares[(c, number[p] if several else None)] for p, c in groups]
    return summary_table({k: [r.metrics for r in g] for k, g in groups.items()}, share)


def _table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    head = "".join(f"<th>{h}</th>" for h in header)
    body = "".join("<tr>" + "".join(f"<td>{c}</td>" for c in row) + "</tr>" for row in rows)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


_CSS = """
body{font-family:system-ui,sans-serif;margin:2em auto;max-width:1200px;color:#222;padding:0 1em}
table{border-collapse:collapse;margin:1em 0;font-size:0.9em}
th,td{border:1px solid #ccc;padding:3px 8px;text-align:right}
th:first-child,td:first-child{text-align:left}
figure{margin:2em 0}figure img{max-width:100%;border:1px solid #eee}
figcaption{font-weight:bold;margin-bottom:0.5em}
details{margin:1em 0}
.banner{background:#fde8e8;border:1px solid #c33;padding:0.6em 1em}
"""


def _figure_html(name: str, fig_path: Path, caption: str) -> str:
    data = base64.b64encode(Path(fig_path).read_bytes()).decode("ascii")
    return (f'<figure id="fig-{Path(name).stem}"><figcaption>{html.escape(caption)}</figcaption>'
            f'<img src="data:image/png;base64,{data}" alt="{html.escape(caption)}" data-file="{html.escape(name)}">'
            "</figure>")


def page(path: Path, body: Sequence[str], figures: dict[str, Path], captions: dict[str, str]) -> Path:
    """A self-contained HTML page: ``body`` then every figure embedded as a data URI."""
    parts = ["<!DOCTYPE html>", '<html lang="en"><head><meta charset="utf-8">',
             "<title>twin report</title>", f"<style>{_CSS}</style></head><body>", "<h1>twin report</h1>",
             *body, *(_figure_html(n, f, captions.get(n, n)) for n, f in figures.items()), "</body></html>"]
    path.write_text("\n".join(parts), encoding="utf-8")
    return path


def write_html(runs: Sequence[Run], figures: dict[str, Path], csv_path: Path, path: Path,
               screenings: Sequence[ScreeningResult] = (), banner: str = "") -> Path:
    """A single HTML file with every figure embedded as a data URI (it can be mailed alone);
    ``banner`` (if any) is a warning above everything else."""
    run_rows = [[html.escape(r.configuration), str(r.seed), html.escape(r.run_id), html.escape(r.results.status),
                 "yes" if r.baseline is not None else "no (impact = the run's own totals)",
                 html.escape(str(r.results.path))] for r in runs]
    header, rows = _summary_rows(runs)
    parts = [
        "<!DOCTYPE html>", '<html lang="en"><head><meta charset="utf-8">',
        "<title>twin report</title>", f"<style>{_CSS}</style></head><body>",
        "<h1>twin report</h1>",
        f"<p>{len(runs)} run{'s' if len(runs) != 1 else ''}. Impacts are the excess over the hazard-free "
        "baseline of the same configuration and seed; definitions in docs/metrics.md. "
        f'All metrics of every run: <a href="{html.escape(csv_path.name)}">{html.escape(csv_path.name)}</a>.</p>',
        *([f'<p class="banner"><strong>Warning.</strong> {html.escape(banner)}</p>'] if banner else []),
        "<h2>Runs</h2>",
        _table(["configuration", "seed", "run id", "status", "baseline", "file"], run_rows),
        "<h2>Summary</h2>", _table(header, rows),
    ]
    if len(point_labels(runs)) > 1:
        vh, vr = variation_rows(metric_groups(runs), HEADLINE)
        parts += ["<h2>Variation across parameter points</h2>",
                  "<p>Each parameter point is a different world (hazard, parameters): its runs are "
                  "paired on the seed, never pooled with another point's.</p>",
                  _table([html.escape(h) for h in vh], [[html.escape(c) for c in row] for row in vr])]
    for name, fig_path in figures.items():
        caption = FIGURES[name][0] if name in FIGURES else CAPTIONS.get(name, name)
        data = base64.b64encode(Path(fig_path).read_bytes()).decode("ascii")
        anchor = Path(name).stem
        parts.append(
            f'<figure id="fig-{anchor}"><figcaption>{html.escape(caption)}</figcaption>'
            f'<img src="data:image/png;base64,{data}" alt="{html.escape(caption)}" data-file="{html.escape(name)}">'
            "</figure>"
        )
    if screenings:
        parts += screening_html(screenings, _table)
    all_cols = metric_columns(runs)
    full = [[html.escape(k), *(html.escape(metric_cell(r.metrics, k)) for r in runs)] for k in all_cols]
    parts += [
        "<details><summary>Every metric of every run</summary>",
        _table(["metric", *(html.escape(r.label) for r in runs)], full), "</details>",
        "</body></html>",
    ]
    path.write_text("\n".join(parts), encoding="utf-8")
    return path


def write_report(paths: Sequence[str | Path], out_dir: str | Path, show_progress: bool | None = None) -> ReportFiles:
    """Load the runs named by ``paths``, then write the figures, ``report.html`` and ``metrics.csv``.
    A single sweep folder is reported from its manifest (twin.report.sweep)."""
    from twin.report.sweep import is_sweep_folder, write_sweep_report

    folder = is_sweep_folder(paths)
    if folder is not None:
        return write_sweep_report(folder, Path(out_dir), show_progress)  # type: ignore[no-any-return]
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    found = discover(list(paths))
    screen_files = [p for p in found if is_screening(p)]  # twin screen's files, reported apart
    files = [p for p in found if p not in screen_files]
    runs = [load_run(p) for p in progress(files, len(files), "loading runs", enabled=show_progress)]
    runs = [r for grp in by_configuration(runs).values() for r in grp]  # configurations in their usual order
    figures: dict[str, Path] = {}
    if runs:
        for name, (_, draw) in progress(FIGURES.items(), len(FIGURES), "drawing figures",
                                        enabled=show_progress):
            figures[name] = draw(runs, out / name)
            log.info("wrote %s", figures[name])
    if len(point_labels(runs)) > 1:
        figures[POINTS_FIGURE] = variation_figure(metric_groups(runs), out / POINTS_FIGURE, HEADLINE)
    screenings = load_screenings(screen_files)
    if screenings:
        figures["screening.png"] = screening_figure(screenings, out / "screening.png")
        write_screening_csv(screenings, out / "screening.csv")
    csv_path = write_csv(runs, out / "metrics.csv")
    banner = flag_banner(run_shares(runs)) if runs else ""
    html_path = write_html(runs, figures, csv_path, out / "report.html", screenings, banner)
    files = ReportFiles(figures, html_path, csv_path, runs, screenings, banner)
    return _with_interactive(files, out)


def _with_interactive(files: ReportFiles, out: Path) -> ReportFiles:
    """Hook: the interactive page (twin.report.interactive) next to the static one."""
    from dataclasses import replace

    from twin.report.interactive import INTERACTIVE_HTML, write_interactive

    if not files.runs:
        return files
    return replace(files, interactive=write_interactive(files.runs, out / INTERACTIVE_HTML))
