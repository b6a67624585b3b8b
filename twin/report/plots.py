"""The interactive report's plotly figures, as pure functions of the runs.

Each function returns a ``plotly.graph_objects.Figure``; :mod:`twin.report.interactive`
puts them into one page. What the figures show:

- performance P(t) per sector relative to the baseline (``/metrics/performance/<sector>``),
  configurations overlaid, a min–max band over seeds;
- per configuration the region as a plain scatter in the layout's metres, every asset
  coloured by its hours out (failure to recovery, :func:`outage_hours`), ``customdata`` = the
  asset id, which the page's click handler looks up;
- per configuration the cascade forest of the same run, layered by depth, ``customdata`` =
  ``asset@time_s`` of each event (:func:`forest_key`);
- with several runs per configuration (seeds, sweep points), the distribution of each
  headline metric per configuration.

Displayed numbers are cleaned (:func:`clean`): no ``-0.000``, and impacts that are excess
over the baseline (delays, energy not served, ...) are shown from 0 up.
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence

import networkx as nx
import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from twin.events import RECOVERY_KINDS, is_failure
from twin.metrics import HEADLINE, RECOVERY_LEVEL, SECTORS
from twin.report.analysis import cascade_forest, undoes
from twin.report.collect import Run
from twin.report.explain import format_time
from twin.report.figures import (
    SECTOR_COLOURS,
    _layer_positions,
    _storm_tracks,
    by_configuration,
    configuration_colour,
    representative,
)
from twin.results import Results

SECTOR_LABELS: dict[str, str] = {"power": "Power", "water": "Water", "traffic": "Traffic", "ict": "ICT",
                                 "incidents": "Hazard", "control": "Control"}
ASSET_TYPE_LABELS: dict[str, str] = {
    "trafo": "transformer", "ext_grid": "grid connection", "pv": "PV plant", "plant": "power plant",
    "signal": "traffic signal", "site": "site", "link": "link", "well": "well",
}  # any other type reads as itself (bus, line, load, switch, pipe, junction, ...)
SECTOR_SYMBOLS: dict[str, str] = {"power": "square", "water": "circle", "traffic": "triangle-up",
                                  "ict": "diamond"}
OUTAGE_COLOURSCALE = "YlOrRd"
_EPS = 1e-9


def json_script(value: object) -> str:
    """JSON safe inside a <script> element (no ``</script>`` can end it early)."""
    return json.dumps(value, separators=(",", ":")).replace("<", "\\u003c")


def fig_json(fig: go.Figure) -> str:
    """A figure's JSON for ``Plotly.newPlot``, safe inside a <script> element."""
    return fig.to_json(engine="json").replace("<", "\\u003c")


def clean(values: Sequence[float] | np.ndarray, floor: float | None = None) -> list[float | None]:
    """Plain floats for plotly: tiny values (|v| < 1e-9) and -0.0 become 0.0, nan/inf become
    None (a gap, not a number), and values below ``floor`` become ``floor``."""
    out: list[float | None] = []
    for v in np.asarray(values, float).ravel():
        if not math.isfinite(v):
            out.append(None)
            continue
        v = 0.0 if abs(v) < _EPS else float(v) + 0.0  # + 0.0 turns -0.0 into 0.0
        out.append(max(v, floor) if floor is not None else v)
    return out


def sector_label(sector: str) -> str:
    return SECTOR_LABELS.get(sector, sector.capitalize())


def asset_type_label(asset_type: str) -> str:
    return ASSET_TYPE_LABELS.get(asset_type, asset_type.replace("_", " "))


def run_end_s(r: Results) -> int:
    """The end of the run: the last step's start plus one step (seconds from the start)."""
    if len(r.time_s):
        return int(r.time_s[-1]) + r.step_s
    return int(round(float(r.attrs.get("hours", 0)) * 3600))


def outage_intervals(r: Results) -> dict[str, list[tuple[int, int | None]]]:
    """Per asset of the asset table, the intervals it was out: from a failure event to the
    recovery that ends its last open failure (:func:`twin.report.analysis.undoes`), ``None``
    as the end of an outage still open at the end of the run. Overlapping failures of one asset
    (dark and unreachable at once) make one interval."""
    known = set(map(str, r.assets["id"]))
    open_: dict[str, set[str]] = {}
    start: dict[str, int] = {}
    out: dict[str, list[tuple[int, int | None]]] = {}
    for e in sorted(r.events, key=lambda e: e["time_s"]):  # stable: log order within a step
        a = e["asset_id"]
        if a not in known:
            continue
        kinds = open_.setdefault(a, set())
        if is_failure(e["kind"]):
            if not kinds:
                start[a] = int(e["time_s"])
            kinds.add(e["kind"])
        elif e["kind"] in RECOVERY_KINDS and kinds:
            kinds -= {k for k in kinds if undoes(e["kind"], k)}
            if not kinds:
                out.setdefault(a, []).append((start.pop(a), int(e["time_s"])))
    for a, s in start.items():
        out.setdefault(a, []).append((s, None))
    return out


def outage_hours(r: Results) -> dict[str, float]:
    """Hours each asset was out (sum of :func:`outage_intervals`, open ones to the end of the
    run); assets that never failed are absent."""
    end = run_end_s(r)
    return {a: sum(((e if e is not None else end) - s) for s, e in iv) / 3600.0
            for a, iv in outage_intervals(r).items()}


def _hours_axis(run: Run, n: int) -> np.ndarray:
    t = np.asarray(run.results.time_s[:n], float)
    x = t / 3600.0 if len(t) == n else np.arange(n) * run.results.step_s / 3600.0
    return np.append(x, x[-1] + run.results.step_s / 3600.0) if n else x  # the last step lasts step_s


def performance_plot(runs: Sequence[Run]) -> go.Figure:
    """P(t) per sector (one panel each, shared time axis), configurations overlaid: the mean
    over seeds as a step line and, with several seeds, the min–max band."""
    groups = by_configuration(runs)
    sectors = [s for s in SECTORS if any(s in r.curves for r in runs)] or list(SECTORS)
    ncols = 2 if len(sectors) > 1 else 1
    nrows = math.ceil(len(sectors) / ncols)
    fig = make_subplots(rows=nrows, cols=ncols, shared_xaxes=True, vertical_spacing=0.12,
                        subplot_titles=[sector_label(s) for s in sectors])
    for i, sector in enumerate(sectors):
        row, col = i // ncols + 1, i % ncols + 1
        for name, grp in groups.items():
            curves = [r.curves[sector] for r in grp if sector in r.curves and len(r.curves[sector])]
            if not curves:
                continue
            n = min(len(c) for c in curves)
            stack = np.array([c[:n] for c in curves], float)
            stack = np.hstack([stack, stack[:, -1:]])
            x = clean(_hours_axis(grp[0], n))
            colour = configuration_colour(name, list(groups))
            label = name if len(curves) == 1 else f"{name} (mean of {len(curves)} runs)"
            if len(curves) > 1:
                fig.add_trace(go.Scatter(x=x, y=clean(stack.max(axis=0)), mode="lines", line={"width": 0,
                              "shape": "hv"}, hoverinfo="skip", showlegend=False, legendgroup=name), row, col)
                fig.add_trace(go.Scatter(x=x, y=clean(stack.min(axis=0)), mode="lines", fill="tonexty",
                              line={"width": 0, "shape": "hv"}, fillcolor=colour, opacity=0.2,
                              hoverinfo="skip", showlegend=False, legendgroup=name), row, col)
            fig.add_trace(go.Scatter(
                x=x, y=clean(stack.mean(axis=0)), mode="lines", name=label, legendgroup=name,
                showlegend=i == 0, line={"color": colour, "width": 2, "shape": "hv"},
                hovertemplate=f"{name}<br>%{{x:.2f}} h: P = %{{y:.3f}}<extra>{sector_label(sector)}</extra>",
            ), row, col)
        fig.add_hline(y=RECOVERY_LEVEL, line={"dash": "dash", "color": "#999999", "width": 1}, row=row, col=col)
    fig.update_yaxes(range=[-0.02, 1.05], title_text="performance P(t)")
    fig.update_xaxes(title_text="time (h)", showticklabels=True)
    fig.update_layout(title="Performance relative to the hazard-free baseline (dashed: 95 % recovery level)",
                      height=320 * nrows + 80, hovermode="closest", legend={"title": "configuration"},
                      margin={"t": 80, "l": 60, "r": 20, "b": 40})
    return fig


def map_plot(run: Run) -> go.Figure:
    """The region of one run in the layout's metres: districts as circles, assets that never
    failed in grey, failed assets coloured by their hours out (one colour scale for all
    sectors, symbol by sector). ``customdata`` of every point is its asset id."""
    res = run.results
    a = res.assets
    ids = np.asarray(list(map(str, a["id"])))
    sectors = np.asarray(list(map(str, a["sector"])))
    types = np.asarray(list(map(str, a["type"])))
    hours = outage_hours(res)
    open_at_end = {k for k, iv in outage_intervals(res).items() if iv and iv[-1][1] is None}
    fig = go.Figure()
    d = res.districts
    for x, y, rad, did, rural in zip(d["x_m"], d["y_m"], d["radius_m"], d["id"], d["rural"], strict=True):
        fig.add_shape(type="circle", x0=float(x - rad), y0=float(y - rad), x1=float(x + rad), y1=float(y + rad),
                      line={"color": "#777777", "width": 1}, fillcolor="#a6d96a" if rural else "#fdae61",
                      opacity=0.18, layer="below")
        fig.add_annotation(x=float(x), y=float(y + rad), text=str(did), showarrow=False, yanchor="bottom",
                           font={"size": 10, "color": "#444444"})
    quiet = np.array([i not in hours for i in ids], bool)
    fig.add_trace(go.Scatter(
        x=clean(a["x_m"][quiet]), y=clean(a["y_m"][quiet]), mode="markers", name="asset, never out",
        marker={"size": 4, "color": "#c8c8c8"}, customdata=ids[quiet].tolist(),
        text=[f"{i}<br>{sector_label(s)} {asset_type_label(t)}" for i, s, t in
              zip(ids[quiet], sectors[quiet], types[quiet], strict=True)],
        hovertemplate="%{text}<br>never out<extra></extra>"))
    hmax = max(hours.values(), default=0.0) or 1.0
    for sector in SECTORS:
        sel = np.array([i in hours and s == sector for i, s in zip(ids, sectors, strict=True)], bool)
        if not sel.any():
            continue
        h = [hours[i] for i in ids[sel]]
        note = ["; still out at the end of the run" if i in open_at_end else "" for i in ids[sel]]
        fig.add_trace(go.Scatter(
            x=clean(a["x_m"][sel]), y=clean(a["y_m"][sel]), mode="markers",
            name=f"{sector_label(sector)}, out ({int(sel.sum())})",
            marker={"size": 10, "symbol": SECTOR_SYMBOLS.get(sector, "circle"), "color": clean(h, floor=0.0),
                    "colorscale": OUTAGE_COLOURSCALE, "cmin": 0.0, "cmax": hmax,
                    "line": {"color": "#333333", "width": 0.6},
                    "colorbar": {"title": {"text": "hours out"}, "x": 1.02, "len": 0.7, "y": 0.35}},
            customdata=ids[sel].tolist(),
            text=[f"{i}<br>{sector_label(sector)} {asset_type_label(t)}<br>out {hh:.2f} h{n}"
                  for i, t, hh, n in zip(ids[sel], types[sel], h, note, strict=True)],
            hovertemplate="%{text}<br>click: why it failed<extra></extra>"))
    for track in _storm_tracks(run):
        fig.add_trace(go.Scatter(x=[p[0] for p in track], y=[p[1] for p in track], mode="lines",
                                 name="storm track", line={"dash": "dash", "color": "#444444", "width": 1},
                                 hoverinfo="skip"))
    xs = np.concatenate([a["x_m"], d["x_m"] - d["radius_m"], d["x_m"] + d["radius_m"]])
    ys = np.concatenate([a["y_m"], d["y_m"] - d["radius_m"], d["y_m"] + d["radius_m"]])
    pad = 0.05 * max(float(np.ptp(xs)), float(np.ptp(ys)), 1.0)
    n_out = len(hours)
    fig.update_xaxes(title_text="x (m)", range=[float(xs.min() - pad), float(xs.max() + pad)])
    fig.update_yaxes(title_text="y (m)", range=[float(ys.min() - pad), float(ys.max() + pad)],
                     scaleanchor="x", scaleratio=1)
    fig.update_layout(
        title=f"{run.configuration}, seed {run.seed}: {n_out} asset{'s' if n_out != 1 else ''} out at some time "
              "(colour: hours out); click an asset for its chain of causes",
        height=640, hovermode="closest", clickmode="event", dragmode="zoom",
        legend={"orientation": "h", "y": -0.12}, margin={"t": 60, "l": 60, "r": 20, "b": 40})
    return fig


# Impact metrics that are an excess over the baseline: shown from 0 up (a value below 0 is
# noise of a run doing better than its baseline; docs/metrics.md flags large ones).
EXCESS_METRICS: frozenset[str] = frozenset({"energy_not_served_mwh", "water_not_served_m3", "vehicle_delay_h",
                                            "customer_outage_h"})


def has_distributions(runs: Sequence[Run]) -> bool:
    """True when some configuration has several runs (seeds or sweep points) to show spread."""
    return any(len(g) > 1 for g in by_configuration(runs).values())


def distributions_plot(runs: Sequence[Run]) -> go.Figure:
    """One panel per headline metric: each configuration's runs as a box with every run a point."""
    groups = by_configuration(runs)
    metrics = [(k, label) for k, label in HEADLINE if any(k in r.metrics for r in runs)]
    ncols = 2 if len(metrics) > 1 else 1
    nrows = max(1, math.ceil(len(metrics) / ncols))
    fig = make_subplots(rows=nrows, cols=ncols, subplot_titles=[label for _, label in metrics],
                        vertical_spacing=0.14)
    for i, (key, label) in enumerate(metrics):
        row, col = i // ncols + 1, i % ncols + 1
        for name, grp in groups.items():
            vals = [r.metrics[key] for r in grp if key in r.metrics]
            if not vals:
                continue
            fig.add_trace(go.Box(
                y=clean(vals, floor=0.0 if key in EXCESS_METRICS else None), name=name,
                legendgroup=name, showlegend=i == 0, boxpoints="all", jitter=0.4, pointpos=0,
                marker={"color": configuration_colour(name, list(groups))},
                text=[r.label for r in grp if key in r.metrics],
                hovertemplate=f"%{{text}}<br>{label}: %{{y:.3f}}<extra></extra>"), row, col)
        fig.update_yaxes(rangemode="tozero" if key in EXCESS_METRICS else "normal", row=row, col=col)
    fig.update_layout(title="Headline metrics per configuration, one point per run",
                      height=300 * nrows + 80, legend={"title": "configuration"},
                      margin={"t": 80, "l": 60, "r": 20, "b": 40})
    return fig


def representatives(runs: Sequence[Run]) -> dict[str, Run]:
    """Per configuration the run its map shows (the median total resilience loss)."""
    return {name: representative(grp) for name, grp in by_configuration(runs).items()}


def forest_key(asset_id: str, time_s: int) -> str:
    """The key of a forest node's chain in the page's blob: ``asset@time_s``."""
    return f"{asset_id}@{int(time_s)}"


FOREST_ROWS = 40  # a depth with more events wraps into side-by-side columns
FOREST_ROW_PX = 16


def forest_positions(g: nx.DiGraph) -> dict[object, tuple[float, float]]:
    """x = depth, y = the order of :func:`twin.report.figures._layer_positions`; a depth of more
    than :data:`FOREST_ROWS` events wraps into columns within 0.7 of a depth, so markers stay apart."""
    layers: dict[int, list[object]] = {}
    for n, _ in sorted(_layer_positions(g).items(), key=lambda kv: -kv[1][1]):
        layers.setdefault(int(g.nodes[n]["depth"]), []).append(n)
    pos: dict[object, tuple[float, float]] = {}
    for depth, nodes in layers.items():
        rows = min(len(nodes), FOREST_ROWS)
        cols = math.ceil(len(nodes) / rows)
        for j, n in enumerate(nodes):
            col, row = divmod(j, rows)
            pos[n] = (depth + (col - (cols - 1) / 2) * 0.7 / max(cols, 1), (rows - 1) / 2 - row)
    return pos


def forest_plot(run: Run) -> go.Figure:
    """The causal forest of one run, layered by cascade depth (x) and coloured by sector:
    every failure event and its causes, edges cause -> effect. ``customdata`` of a node is
    :func:`forest_key` of its asset and time, which the page's click handler looks up."""
    g = cascade_forest(run.results)
    fig = go.Figure()
    if g.number_of_nodes() == 0:
        fig.add_annotation(text="no failures", showarrow=False, x=0.5, y=0.5, xref="paper", yref="paper")
        fig.add_trace(go.Scatter(x=[], y=[], mode="markers", name="no failures"))
    pos = forest_positions(g)
    ex: list[float | None] = []
    ey: list[float | None] = []
    for u, v in g.edges():
        ex += [pos[u][0], pos[v][0], None]
        ey += [pos[u][1], pos[v][1], None]
    if ex:
        fig.add_trace(go.Scatter(x=ex, y=ey, mode="lines", name="caused", hoverinfo="skip",
                                 line={"color": "#aaaaaa", "width": 1}))
    coupling = {v: a["coupling"] for _, v, a in g.edges(data=True)}
    for sector in (*SECTORS, "incidents", "control"):
        nodes = [n for n, a in g.nodes(data=True) if a["sector"] == sector]
        if not nodes:
            continue
        attrs = [g.nodes[n] for n in nodes]
        labels = [f"{format_time(a['time_s'])} {a['asset_id']} {a['kind']}"
                  + (f"<br>via {coupling[n]}" if n in coupling else "<br>root cause")
                  for n, a in zip(nodes, attrs, strict=True)]
        fig.add_trace(go.Scatter(
            x=[pos[n][0] for n in nodes], y=[pos[n][1] for n in nodes], mode="markers",
            name=f"{sector_label(sector)} ({len(nodes)})",
            marker={"size": 9, "color": SECTOR_COLOURS.get(sector, "#999999"),
                    "line": {"color": "#333333", "width": 0.5}},
            customdata=[forest_key(a["asset_id"], a["time_s"]) for a in attrs], text=labels,
            hovertemplate="%{text}<br>click: why it failed<extra></extra>"))
    rows = min(FOREST_ROWS, max((sum(1 for _, a in g.nodes(data=True) if a["depth"] == d)
                                 for d in {a["depth"] for _, a in g.nodes(data=True)}), default=1))
    depth_max = max((int(a["depth"]) for _, a in g.nodes(data=True)), default=0)
    fig.update_xaxes(title_text="cascade depth (0: root cause)", tickmode="linear", dtick=1,
                     range=[-0.5, depth_max + 0.5], zeroline=False)
    fig.update_yaxes(visible=False)
    fig.update_layout(
        title=f"{run.configuration}, seed {run.seed}: {g.number_of_nodes()} events in the cascade forest; "
              "click an event for its chain of causes",
        height=max(320, 160 + FOREST_ROW_PX * rows), hovermode="closest", clickmode="event",
        legend={"orientation": "h", "y": -0.15}, margin={"t": 60, "l": 40, "r": 20, "b": 40})
    return fig
