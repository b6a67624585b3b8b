"""``interactive.html``: one self-contained page of zoomable plotly figures for a report's runs.

The page works offline: plotly.js is embedded once (``plotly.offline.get_plotlyjs``), the
figures are JSON drawn by ``Plotly.newPlot``, and nothing is fetched. It holds

- ``performance``: P(t) per sector relative to the baseline, configurations overlaid;
- ``map-<configuration>``: the region of the configuration's representative run, assets
  coloured by hours out; clicking an asset shows its ``twin explain`` chain in the side panel
  (the chains of every failed asset are precomputed into a JSON blob, ``#twin-chains``);
- ``forest-<configuration>``: the same run's cascade forest by depth; clicking an event shows
  ``twin explain ASSET --at TIME`` (blob key ``asset@time_s``);
- ``distributions``: with several runs per configuration, the headline metrics' spread.

Every plot is a ``div.twin-plot`` whose ``data-plot`` names it; the page registers
``window.twinShowChain(configuration, key)`` (key: an asset id or ``asset@time_s``), which the
maps' and forests' ``plotly_click`` calls.
"""

from __future__ import annotations

import dataclasses
import html
import json
import logging
from collections.abc import Sequence
from pathlib import Path

from plotly.offline import get_plotlyjs

from twin.events import Event, is_failure
from twin.report.analysis import cascade_forest
from twin.report.collect import Run
from twin.report.explain import ExplainError, explain, format_chain, format_time, headline
from twin.report.plots import (
    distributions_plot,
    fig_json,
    forest_key,
    forest_plot,
    has_distributions,
    json_script,
    map_plot,
    performance_plot,
    representatives,
)
from twin.results import Results

log = logging.getLogger(__name__)

INTERACTIVE_HTML = "interactive.html"
PAGE_BUDGET_BYTES = 10 * 1024 * 1024  # the default scenario's page is about 5 MB; beyond this, say so
PLOTLY_CONFIG: dict[str, bool] = {"displaylogo": False, "responsive": True, "scrollZoom": True}


def explain_text(r: Results, asset_id: str, at_s: int | None = None) -> str:
    """What ``twin explain RUN ASSET [--at AT]`` prints: the headline, then the chain."""
    ex = explain(r, asset_id, at_s)
    return f"{headline(ex)}\n{format_chain(ex)}"


class _Explainer:
    """Explains assets of one run on copies of the results that hold only the asset's own
    events and their causes (all :func:`twin.report.explain.explain` reads), so explaining
    every failed asset stays linear in the event log."""

    def __init__(self, r: Results) -> None:
        self.r = r
        self.by_id = {e["event_id"]: e for e in r.events}
        self.order = {eid: i for i, eid in enumerate(self.by_id)}  # the log's order, as explain sees it
        self.own: dict[str, list[Event]] = {}
        for e in r.events:
            self.own.setdefault(e["asset_id"], []).append(e)

    def failed(self, asset_id: str) -> bool:
        return any(is_failure(e["kind"]) for e in self.own.get(asset_id, []))

    def text(self, asset_id: str, at_s: int | None = None) -> str:
        keep: dict[str, Event] = {}
        for e in self.own.get(asset_id, []):
            cur: Event | None = e
            while cur is not None and cur["event_id"] not in keep:
                keep[cur["event_id"]] = cur
                cur = self.by_id.get(cur["cause_id"])
        sub = dataclasses.replace(self.r, events=sorted(keep.values(), key=lambda e: self.order[e["event_id"]]))
        try:
            return explain_text(sub, asset_id, at_s)
        except ExplainError as err:  # not for a failed asset; shown rather than dropped
            return str(err)


def chains(r: Results) -> dict[str, str]:
    """The ``twin explain`` text of every asset of the asset table that failed in the run."""
    ex = _Explainer(r)
    return {a: ex.text(a) for a in map(str, r.assets["id"]) if ex.failed(a)}


def forest_chains(r: Results) -> dict[str, str]:
    """Per node of the cascade forest (:func:`twin.report.plots.forest_key`), what
    ``twin explain RUN ASSET --at TIME`` prints; a root cause that is no failure (the hazard
    itself) says so."""
    ex = _Explainer(r)
    out: dict[str, str] = {}
    for _, a in cascade_forest(r).nodes(data=True):
        key = forest_key(a["asset_id"], a["time_s"])
        if key in out:
            continue
        if is_failure(a["kind"]):
            out[key] = ex.text(a["asset_id"], int(a["time_s"]))
        else:
            out[key] = f"{a['asset_id']} {a['kind']} at {format_time(a['time_s'])}: a root cause of the cascade"
    return out


_CSS = """
body{font-family:system-ui,sans-serif;margin:1.5em auto;max-width:1400px;color:#222;padding:0 1em}
.twin-plot{width:100%;min-height:300px}
.maps{display:flex;gap:1em;align-items:flex-start}
.maps .map-list{flex:1 1 auto;min-width:0}
#chain-panel{flex:0 0 420px;position:sticky;top:1em;border:1px solid #ccc;background:#fafafa;
  padding:0.6em 0.8em;max-height:90vh;overflow:auto}
#chain-text{white-space:pre-wrap;overflow-wrap:anywhere;font-size:12px;line-height:1.35}
.note{color:#555;font-size:0.9em}
"""

_SCRIPT = """
(function () {
  "use strict";
  var CHAINS = JSON.parse(document.getElementById("twin-chains").textContent);
  var FIGURES = JSON.parse(document.getElementById("twin-figures").textContent);
  var CONFIG = JSON.parse(document.getElementById("twin-plotly-config").textContent);
  var title = document.getElementById("chain-title");
  var text = document.getElementById("chain-text");
  // key: an asset id (a map point: its first failure) or "asset@time_s" (a forest event)
  function twinShowChain(configuration, key) {
    var entry = (CHAINS[configuration] || {})[key];
    var at = key.lastIndexOf("@"), assetId = at > 0 ? key.slice(0, at) : key;
    title.textContent = assetId + " \\u2014 " + configuration;
    text.textContent = entry === undefined ? assetId + " never failed in this run" : entry;
    return text.textContent;
  }
  window.twinShowChain = twinShowChain;
  document.querySelectorAll(".twin-plot").forEach(function (gd) {
    var fig = FIGURES[gd.dataset.plot];
    Plotly.newPlot(gd, fig.data, fig.layout, CONFIG).then(function () {
      if (gd.dataset.configuration === undefined) { return; }
      gd.on("plotly_click", function (ev) {
        var p = ev && ev.points && ev.points[0];
        if (p && typeof p.customdata === "string") { twinShowChain(gd.dataset.configuration, p.customdata); }
      });
    });
  });
})();
"""


def build_page(runs: Sequence[Run]) -> str:
    """The page's HTML for ``runs`` (the report's runs, in its order)."""
    figures: dict[str, str] = {"performance": fig_json(performance_plot(runs))}
    blob: dict[str, dict[str, str]] = {}
    maps: list[tuple[str, str]] = []  # (plot name, configuration)
    for name, run in representatives(runs).items():
        plot = f"map-{name}"
        figures[plot] = fig_json(map_plot(run))
        figures[f"forest-{name}"] = fig_json(forest_plot(run))
        blob[name] = {**chains(run.results), **forest_chains(run.results)}
        maps.append((plot, name))
    if has_distributions(runs):
        figures["distributions"] = fig_json(distributions_plot(runs))
    n = len(runs)
    map_divs = "".join(
        f'<div class="twin-plot twin-map" id="plot-{html.escape(p)}" data-plot="{html.escape(p)}" '
        f'data-configuration="{html.escape(c)}"></div>'
        f'<div class="twin-plot twin-forest" id="plot-forest-{html.escape(c)}" data-plot="forest-{html.escape(c)}" '
        f'data-configuration="{html.escape(c)}"></div>' for p, c in maps)
    parts = [
        "<!DOCTYPE html>", '<html lang="en"><head><meta charset="utf-8">',
        "<title>twin report (interactive)</title>", f"<style>{_CSS}</style></head><body>",
        "<h1>twin report (interactive)</h1>",
        f'<p class="note">{n} run{"s" if n != 1 else ""}. Drag to zoom, double-click to reset, click legend '
        "entries to hide or show them. Impacts are the excess over the hazard-free baseline of the same "
        "configuration and seed; definitions in docs/metrics.md. This page needs no network.</p>",
        "<h2>Performance</h2>",
        '<div class="twin-plot" id="plot-performance" data-plot="performance"></div>',
        "<h2>Region and cascades</h2>",
        '<p class="note">Each configuration\'s map shows the run with the median total resilience loss. '
        "Assets are placed in the layout's metres; colour is the hours an asset was out (from a failure to "
        "its recovery, to the end of the run if it never recovered). Click an asset for the chain of causes "
        "that made it fail (<code>twin explain</code> of its first failure). Below each map, the run's "
        "cascade forest by depth: click an event for its chain (<code>twin explain --at</code> its time).</p>",
        '<div class="maps"><div class="map-list">', map_divs, "</div>",
        '<aside id="chain-panel"><h3 id="chain-title">Chain of causes</h3>'
        '<pre id="chain-text">Click a failed asset on a map.</pre></aside></div>',
    ]
    if "distributions" in figures:
        parts += ["<h2>Distributions over runs</h2>",
                  '<p class="note">One point per run (seeds, sweep points); impacts below the baseline '
                  "are shown as 0.</p>",
                  '<div class="twin-plot" id="plot-distributions" data-plot="distributions"></div>']
    figures_json = "{" + ",".join(f"{json.dumps(k)}:{v}" for k, v in figures.items()) + "}"
    parts += [
        f'<script type="application/json" id="twin-chains">{json_script(blob)}</script>',
        f'<script type="application/json" id="twin-figures">{figures_json}</script>',
        f'<script type="application/json" id="twin-plotly-config">{json_script(PLOTLY_CONFIG)}</script>',
        f"<script>{get_plotlyjs()}</script>",
        f"<script>{_SCRIPT}</script>",
        "</body></html>",
    ]
    return "\n".join(parts)


def write_interactive(runs: Sequence[Run], path: Path) -> Path:
    """Write :func:`build_page` to ``path`` (UTF-8) and return it; a page over
    :data:`PAGE_BUDGET_BYTES` is written but logged as a warning (slow to open and to mail)."""
    path.write_text(build_page(runs), encoding="utf-8")
    size = path.stat().st_size
    if size > PAGE_BUDGET_BYTES:
        log.warning("%s is %.1f MB (budget %.0f MB): fewer configurations per report keep it small",
                    path, size / 1e6, PAGE_BUDGET_BYTES / 1e6)
    return path
