"""``interactive.html`` of the study report: zoomable plotly figures, offline (plotly.js embedded).

- ``exceedance-<metric>``: loss-exceedance curves, one panel per family (and all), log frequency;
- ``paired-<metric>``: the paired mean differences with their BCa intervals per family and comparison;
- ``distributions-<metric>``: a box per family and configuration with every draw (hover names the run);
- ``crossover-customer_outage_h``: with a sensitivity study, the paired mean difference per point
  along each varied parameter, one row per comparison.

Every plot is a ``div.twin-plot`` whose ``data-plot`` names it, as in twin.report.interactive.
"""

from __future__ import annotations

import html
import json
import math
from pathlib import Path
from typing import Any

import plotly.graph_objects as go
from plotly.offline import get_plotlyjs
from plotly.subplots import make_subplots

from twin.report.figures import configuration_colour
from twin.report.interactive import PLOTLY_CONFIG
from twin.report.plots import fig_json, json_script
from twin.report.study import ALL
from twin.report.study_data import CROSSOVER_METRICS, LOSS_METRICS, Study, metric_label, metric_unit

STUDY_INTERACTIVE_HTML = "interactive.html"

_SCRIPT = """
(function () {
  "use strict";
  var FIGURES = JSON.parse(document.getElementById("twin-figures").textContent);
  var CONFIG = JSON.parse(document.getElementById("twin-plotly-config").textContent);
  document.querySelectorAll(".twin-plot").forEach(function (gd) {
    var fig = FIGURES[gd.dataset.plot];
    Plotly.newPlot(gd, fig.data, fig.layout, CONFIG);
  });
})();
"""


def _title(m: str) -> str:
    return f"{metric_label(m)} ({metric_unit(m)})"


def exceedance_plot(rows: list[dict[str, Any]], metric: str) -> go.Figure:
    families = list(dict.fromkeys(r["family"] for r in rows if r["metric"] == metric))
    configs = list(dict.fromkeys(r["configuration"] for r in rows))
    fig = make_subplots(rows=1, cols=len(families), subplot_titles=families, shared_yaxes=True)
    for j, f in enumerate(families, start=1):
        for c in configs:
            pts = sorted((r["loss"], r["exceedance_per_year"]) for r in rows
                         if (r["family"], r["metric"], r["configuration"]) == (f, metric, c) and r["loss"] > 0)
            if pts:
                fig.add_trace(go.Scatter(x=[p[0] for p in pts], y=[p[1] for p in pts], mode="lines",
                                         line={"shape": "vh", "color": configuration_colour(c, configs)}, name=c,
                                         legendgroup=c, showlegend=j == 1), row=1, col=j)
        fig.update_yaxes(type="log", row=1, col=j)
    fig.update_layout(title=f"{_title(metric)}: annual exceedance frequency (per year)", height=360,
                      margin={"t": 70, "l": 60, "r": 20, "b": 40})
    return fig


def _finite(v: float) -> float | None:
    return v if math.isfinite(v) else None


def paired_plot(rows: list[dict[str, Any]], metric: str) -> go.Figure:
    cells = [r for r in rows if r["metric"] == metric and r["family"] != ALL and r["flagged_pairs"] == "included"
             and math.isfinite(r["mean_diff"])]
    fig = go.Figure()
    configs = list(dict.fromkeys(r["config_b"] for r in cells))
    for b in configs:
        sel = [r for r in cells if r["config_b"] == b]
        y = [f"{r['family']}: {r['config_b']} − {r['config_a']}" for r in sel]
        # no interval (a single pair, tied differences): no bar, not a bar of width 0 that reads as certainty
        lo = [_finite(r["mean_diff"] - r["bca_low"]) for r in sel]
        hi = [_finite(r["bca_high"] - r["mean_diff"]) for r in sel]
        fig.add_trace(go.Scatter(x=[r["mean_diff"] for r in sel], y=y, mode="markers", name=b,
                                 marker={"color": configuration_colour(b, configs)},
                                 error_x={"type": "data", "symmetric": False, "array": hi, "arrayminus": lo},
                                 customdata=[[r["n"], _finite(r["wilcoxon_p"]), _finite(r["holm_p"]),
                                              r.get("not_meaningful", 0),
                                              "" if math.isfinite(r["bca_low"]) else f"no interval: {r['bca_note'] or 'n/a'}"]
                                             for r in sel],
                                 hovertemplate="%{y}<br>mean %{x:.4g} %{customdata[4]}<br>n=%{customdata[0]} "
                                               "(%{customdata[3]} not meaningful), "
                                               "Wilcoxon p=%{customdata[1]:.3g}, Holm p=%{customdata[2]:.3g}"))
    fig.add_vline(x=0.0, line={"color": "#888", "width": 1})
    fig.update_layout(title=f"{_title(metric)}: paired difference B − A (95 % BCa)",
                      height=120 + 22 * max(1, len(cells)), margin={"l": 320, "t": 50, "r": 20, "b": 40})
    fig.update_yaxes(autorange="reversed")
    return fig


def distributions_plot(study: Study, metric: str) -> go.Figure:
    j = study.column(metric)
    fig = go.Figure()
    for c in study.configurations:
        sel = [i for i, r in enumerate(study.rows) if r["configuration"] == c
               and r["ensemble"]["sensitivity_point"] is None and math.isfinite(study.values[i, j])]
        fig.add_trace(go.Box(x=[study.rows[i]["ensemble"]["family"] for i in sel], y=[study.values[i, j] for i in sel],
                             name=c, boxpoints="all", jitter=0.4, pointpos=0, marker={"size": 3},
                             text=[study.rows[i]["run_id"] for i in sel],
                             line={"color": configuration_colour(c, study.configurations)}))
    fig.update_layout(title=f"{_title(metric)} over the draws", boxmode="group", height=380,
                      margin={"t": 50, "l": 60, "r": 20, "b": 40})
    return fig


def crossover_plot(profiles: dict[tuple[str, str, str, str], Any], metric: str) -> go.Figure | None:
    """Per comparison (rows) and varied parameter (columns), the paired mean difference at each
    sensitivity point (hover: the point's parameter values)."""
    keys = [k for k in profiles if k[3] == metric]
    if not keys:
        return None
    params = list(profiles[keys[0]]["params"])
    fig = make_subplots(rows=len(keys), cols=len(params), shared_yaxes="rows",
                        column_titles=[p.rsplit(".", 1)[-1] for p in params],
                        row_titles=[f"{k[2]} − {k[1]} ({k[0]})" for k in keys])
    for i, key in enumerate(keys, start=1):
        prof = profiles[key]
        text = [", ".join(f"{p.rsplit('.', 1)[-1]}={prof['params'][p][n]:.4g}" for p in params)
                for n in range(len(prof["points"]))]
        for j, p in enumerate(params, start=1):
            fig.add_trace(go.Scatter(x=[_finite(float(v)) for v in prof["params"][p]], y=prof["means"].tolist(),
                                     mode="markers", text=text, showlegend=False,
                                     marker={"color": configuration_colour(key[2], [key[1], key[2]])}), row=i, col=j)
            fig.add_hline(y=0.0, line={"color": "#888", "width": 1}, row=i, col=j)
    fig.update_layout(title=f"{_title(metric)}: paired mean difference B − A per sensitivity point",
                      height=140 + 220 * len(keys), margin={"t": 80, "l": 60, "r": 160, "b": 40})
    return fig


def write_study_interactive(study: Study, paired_rows: list[dict[str, Any]], exceedance: list[dict[str, Any]],
                            path: Path, profiles: dict[tuple[str, str, str, str], Any] | None = None) -> Path:
    """The offline page of the study's figures (see the module docstring)."""
    figures: dict[str, str] = {}
    for m in (m for m in LOSS_METRICS if m in study.metrics):
        figures[f"exceedance-{m}"] = fig_json(exceedance_plot(exceedance, m))
        figures[f"paired-{m}"] = fig_json(paired_plot(paired_rows, m))
        figures[f"distributions-{m}"] = fig_json(distributions_plot(study, m))
    for m in CROSSOVER_METRICS[:1]:
        cross = crossover_plot(profiles or {}, m)
        if cross is not None:
            figures[f"crossover-{m}"] = fig_json(cross)
    divs = "".join(f'<div class="twin-plot" id="plot-{html.escape(k)}" data-plot="{html.escape(k)}"></div>'
                   for k in figures)
    figures_json = "{" + ",".join(f"{json.dumps(k)}:{v}" for k, v in figures.items()) + "}"
    parts = ["<!DOCTYPE html>", '<html lang="en"><head><meta charset="utf-8">',
             "<title>twin study report (interactive)</title>",
             "<style>body{font-family:system-ui,sans-serif;margin:1.5em auto;max-width:1400px;padding:0 1em}"
             ".twin-plot{width:100%;min-height:300px}</style></head><body>",
             f"<h1>Study {html.escape(str(study.doc.get('name', '')))} (interactive)</h1>",
             "<p>Drag to zoom, double-click to reset, click legend entries to hide or show them. The tables "
             "are in report.html and study.md. This page needs no network.</p>", divs,
             f'<script type="application/json" id="twin-figures">{figures_json}</script>',
             f'<script type="application/json" id="twin-plotly-config">{json_script(PLOTLY_CONFIG)}</script>',
             f"<script>{get_plotlyjs()}</script>", f"<script>{_SCRIPT}</script>", "</body></html>"]
    path.write_text("\n".join(parts), encoding="utf-8")
    return path
