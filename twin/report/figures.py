"""The report's PNG figures, drawn with matplotlib's object API on the Agg canvas.

No pyplot: nothing global changes, no display is needed. Each function takes the runs of
the report, writes one PNG and returns its path. Runs of the same configuration (several
seeds) are summarised: mean curves with a min–max band, mean points with 95 % intervals;
the map and the cascade graph show one representative run per configuration (the one with
the median total resilience loss).
"""

from __future__ import annotations

import math
import tomllib
from collections.abc import Callable, Sequence
from pathlib import Path

import networkx as nx
import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.patches import Circle, Patch

from twin.metrics import (
    RECOVERY_LEVEL,
    SECTORS,
    UNIT_COST_MEUR,
    cost_index_meur,
    district_classes,
    is_applicable,
)
from twin.region.params import CONFIGURATIONS
from twin.report.analysis import (
    cascade_forest,
    district_outage,
    failed_at,
    group_forest,
    worst_moment,
)
from twin.report.collect import Run, resilience_loss_total_h
from twin.report.explain import format_time
from twin.report.tables import metric_cell

SECTOR_COLOURS: dict[str, str] = {
    "power": "#e6a700", "water": "#1f77b4", "traffic": "#7f3fbf", "ict": "#2ca02c",
    "incidents": "#333333", "control": "#8c564b",
}
SECTOR_MARKERS: dict[str, str] = {"power": "s", "water": "o", "traffic": "^", "ict": "D"}
_PALETTE = ("#1b9e77", "#d95f02", "#7570b3", "#e7298a", "#66a61e", "#e6ab02", "#a6761d", "#666666")
# cost components: colours unlike the configurations' so the two are not confused
_COMPONENT_COLOURS = ("#a6cee3", "#b2df8a", "#fb9a99", "#fdbf6f", "#cab2d6", "#ffff99", "#8dd3c7", "#bebada",
                      "#d9d9d9")
DPI = 110
FULL_FOREST_MAX_NODES = 40  # larger forests are drawn grouped by depth, sector, type and kind


def configuration_colour(name: str, names: Sequence[str]) -> str:
    """The same colour for a configuration in every figure: by its place in CONFIGURATIONS."""
    order = [*CONFIGURATIONS, *sorted(n for n in names if n not in CONFIGURATIONS)]
    return _PALETTE[order.index(name) % len(_PALETTE)] if name in order else _PALETTE[-1]


def by_configuration(runs: Sequence[Run]) -> dict[str, list[Run]]:
    """Runs grouped by configuration, in CONFIGURATIONS order then by name; seeds sorted."""
    groups: dict[str, list[Run]] = {}
    for r in runs:
        groups.setdefault(r.configuration, []).append(r)
    rank = {c: i for i, c in enumerate(CONFIGURATIONS)}
    names = sorted(groups, key=lambda c: (rank.get(c, len(rank)), c))
    return {c: sorted(groups[c], key=lambda r: r.seed) for c in names}


def representative(runs: Sequence[Run]) -> Run:
    """The run with the median total resilience loss (the upper one of an even count)."""
    ranked = sorted(runs, key=lambda r: (resilience_loss_total_h(r.metrics), r.seed))
    return ranked[len(ranked) // 2]


def _save(fig: Figure, path: Path) -> Path:
    FigureCanvasAgg(fig)
    fig.savefig(path, dpi=DPI)
    return path


def _hours(run: Run, n: int) -> np.ndarray:
    t = np.asarray(run.results.time_s[:n], float)
    return t / 3600.0 if len(t) == n else np.arange(n) * run.results.step_s / 3600.0


def performance_figure(runs: Sequence[Run], path: Path) -> Path:
    """P(t) per sector (one panel each), the configurations overlaid."""
    groups = by_configuration(runs)
    sectors = [s for s in SECTORS if any(s in r.curves for r in runs)] or list(SECTORS)
    ncols = 2 if len(sectors) > 1 else 1
    nrows = math.ceil(len(sectors) / ncols)
    fig = Figure(figsize=(6.0 * ncols, 3.4 * nrows), layout="constrained")
    axes = fig.subplots(nrows, ncols, squeeze=False).ravel()
    for ax, sector in zip(axes, sectors, strict=False):
        for name, grp in groups.items():
            curves = [r.curves[sector] for r in grp if sector in r.curves]
            if not curves:
                continue
            n = min(len(c) for c in curves)
            stack = np.array([c[:n] for c in curves], float)
            x = _hours(grp[0], n)
            x = np.append(x, x[-1] + grp[0].results.step_s / 3600.0)  # the last step lasts step_s too
            stack = np.hstack([stack, stack[:, -1:]])
            colour = configuration_colour(name, list(groups))
            label = name if len(curves) == 1 else f"{name} (mean of {len(curves)})"
            ax.step(x, stack.mean(axis=0), where="post", color=colour, lw=1.8, label=label)
            if len(curves) > 1:
                ax.fill_between(x, stack.min(axis=0), stack.max(axis=0), step="post", color=colour,
                                alpha=0.18, lw=0)
        ax.axhline(RECOVERY_LEVEL, color="#999999", ls="--", lw=0.8)
        ax.set_title(f"{sector}", loc="left", fontweight="bold", color=SECTOR_COLOURS.get(sector, "k"))
        ax.set_ylim(-0.02, 1.05)
        ax.set_xlabel("time (h)")
        ax.set_ylabel("performance P(t)")
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8, loc="lower right")
    for ax in axes[len(sectors):]:
        ax.set_visible(False)
    fig.suptitle("Performance relative to the hazard-free baseline (dashed: 95 % recovery level)")
    return _save(fig, path)


def _storm_tracks(run: Run) -> list[list[list[float]]]:
    try:
        scenario = tomllib.loads(str(run.results.attrs.get("scenario_toml", "")))
    except tomllib.TOMLDecodeError:
        return []
    return [h["track_m"] for h in scenario.get("hazards", []) if h.get("kind") == "storm" and "track_m" in h]


def map_figure(runs: Sequence[Run], path: Path) -> Path:
    """One map per configuration at its worst moment: districts, assets, failed assets by sector."""
    groups = by_configuration(runs)
    n = len(groups)
    first = runs[0].results
    span_x = max(float(np.ptp(first.assets["x_m"])), 1.0)
    span_y = max(float(np.ptp(first.assets["y_m"])), 1.0)
    aspect = min(max(span_x / span_y, 0.5), 4.0)  # width over height of one map
    map_w = 8.0
    fig = Figure(figsize=(map_w + 2.4, n * (map_w / aspect + 0.9)), layout="constrained")
    axes = fig.subplots(n, 1, squeeze=False).ravel()  # maps stacked, legends on the right
    for ax, (name, grp) in zip(axes, groups.items(), strict=True):
        run = representative(grp)
        res = run.results
        i = worst_moment(run.curves)
        t = int(res.time_s[i]) if len(res.time_s) > i else i * res.step_s
        mean_p = np.mean([c[i] for c in run.curves.values() if len(c) > i]) if run.curves else 1.0
        d = res.districts
        classes = district_classes(res)
        for x, y, rad, did in zip(d["x_m"], d["y_m"], d["radius_m"], d["id"], strict=True):
            rural = classes[str(did)] == "rural"
            ax.add_patch(Circle((x / 1000, y / 1000), rad / 1000, fc="#a6d96a" if rural else "#fdae61",
                                alpha=0.25, ec="#555555", lw=0.8))
            ax.annotate(str(did), (x / 1000, (y + rad) / 1000), ha="center", va="bottom", fontsize=7,
                        color="#333333")
        ax.scatter(res.assets["x_m"] / 1000, res.assets["y_m"] / 1000, s=3, c="#bbbbbb", lw=0,
                   label=f"asset ({len(res.assets['id'])})")
        failed = failed_at(res, t)
        pos = {str(a): (x, y) for a, x, y in zip(res.assets["id"], res.assets["x_m"], res.assets["y_m"],
                                                   strict=True)}
        sector_of = dict(zip(map(str, res.assets["id"]), map(str, res.assets["sector"]), strict=True))
        for sector in SECTORS:
            ids = [a for a in failed if sector_of.get(a) == sector]
            if not ids:
                continue
            xy = np.array([pos[a] for a in ids]) / 1000
            ax.scatter(xy[:, 0], xy[:, 1], s=28, c=SECTOR_COLOURS[sector], marker=SECTOR_MARKERS[sector],
                       edgecolors="k", linewidths=0.4, label=f"{sector} failed ({len(ids)})", zorder=3)
        xs_all = np.concatenate([res.assets["x_m"], d["x_m"] - d["radius_m"], d["x_m"] + d["radius_m"]]) / 1000
        ys_all = np.concatenate([res.assets["y_m"], d["y_m"] - d["radius_m"], d["y_m"] + d["radius_m"]]) / 1000
        pad = 0.08 * max(np.ptp(xs_all), np.ptp(ys_all), 1.0)
        ax.set_xlim(xs_all.min() - pad, xs_all.max() + pad)  # the region, whatever else is drawn
        ax.set_ylim(ys_all.min() - pad, ys_all.max() + pad)
        ax.set_aspect("equal", adjustable="box")
        for track in _storm_tracks(run):  # drawn without changing the view; arrow at the region's centre
            xs, ys = np.array([p[0] for p in track]) / 1000, np.array([p[1] for p in track]) / 1000
            ax.plot(xs, ys, ls="--", c="#444444", lw=1.0, label="storm track")
            mid = np.array([xs.mean(), ys.mean()])
            step = np.array([xs[-1] - xs[0], ys[-1] - ys[0]]) * 0.03
            ax.annotate("", xy=tuple(mid + step), xytext=tuple(mid - step), annotation_clip=False,
                        arrowprops={"arrowstyle": "-|>", "color": "#444444", "lw": 1.0})
        ax.set_aspect("equal", adjustable="box")
        ax.set_xlabel("x (km)")
        ax.set_ylabel("y (km)")
        ax.set_title(f"{name}, seed {run.seed}: worst moment {format_time(t)}\n"
                     f"mean performance {mean_p:.2f}, {len(failed)} assets failed", fontsize=10)
        handles, labels = ax.get_legend_handles_labels()
        handles += [Patch(fc="#fdae61", alpha=0.4, ec="#555555"), Patch(fc="#a6d96a", alpha=0.4, ec="#555555")]
        labels += ["urban district", "rural district"]
        ax.legend(handles, labels, fontsize=7, loc="center left", bbox_to_anchor=(1.01, 0.5))
    return _save(fig, path)


def _layer_positions(g: nx.DiGraph) -> dict[object, tuple[float, float]]:
    """x = depth; within a depth, nodes ordered by the mean height of their causes."""
    layers: dict[int, list[object]] = {}
    for n, a in g.nodes(data=True):
        layers.setdefault(int(a["depth"]), []).append(n)
    pos: dict[object, tuple[float, float]] = {}
    for depth in sorted(layers):
        nodes = layers[depth]

        def key(n: object) -> tuple[float, str]:
            ys = [pos[p][1] for p in g.predecessors(n) if p in pos]
            return (float(np.mean(ys)) if ys else 0.0, str(n))

        nodes.sort(key=key, reverse=True)
        k = len(nodes)
        for j, n in enumerate(nodes):
            pos[n] = (float(depth), (k - 1) / 2.0 - j)
    return pos


def _node_label(g: nx.DiGraph, n: object, grouped: bool) -> str:
    a = g.nodes[n]
    if grouped:
        return f"{a['asset_class']} {a['kind']} ×{a['count']}"
    return f"{format_time(a['time_s'])} {a['asset_id'].split('/', 1)[-1]} {a['kind']}"


def cascade_figure(runs: Sequence[Run], path: Path) -> Path:
    """The causal forest of one run per configuration, layered by cascade depth, coloured by sector."""
    groups = by_configuration(runs)
    graphs = []
    for name, grp in groups.items():
        run = representative(grp)
        g = cascade_forest(run.results)
        grouped = g.number_of_nodes() > FULL_FOREST_MAX_NODES
        graphs.append((name, run, group_forest(g) if grouped else g, grouped, g.number_of_nodes()))
    def widest_layer(g: nx.DiGraph) -> int:
        sizes: dict[int, int] = {}
        for _, a in g.nodes(data=True):
            sizes[a["depth"]] = sizes.get(a["depth"], 0) + 1
        return max(sizes.values(), default=1)

    heights = [max(2.2, 0.42 * widest_layer(g) + 1.2) for _, _, g, _, _ in graphs]
    fig = Figure(figsize=(12.0, sum(heights) + 0.8), layout="constrained")
    axes = fig.subplots(len(graphs), 1, squeeze=False, height_ratios=heights).ravel()
    for ax, (name, run, g, grouped, n_events) in zip(axes, graphs, strict=True):
        ax.set_axis_off()
        m = run.metrics
        ax.set_title(
            f"{name}, seed {run.seed}: {n_events} events; depth max {m.get('cascade_depth_max', 0):.0f}, "
            f"amplification {metric_cell(m, 'cascade_amplification')}, "
            f"cross-sector hops {m.get('cross_sector_hops', 0):.0f}"
            + (" (grouped by depth, sector, asset class, kind)" if grouped else ""), fontsize=10, loc="left", pad=4)
        if g.number_of_nodes() == 0:
            ax.text(0.5, 0.5, "no failures", ha="center", va="center", transform=ax.transAxes)
            continue
        pos = _layer_positions(g)
        colours = [SECTOR_COLOURS.get(a["sector"], "#999999") for _, a in g.nodes(data=True)]
        sizes = [60 + 25 * math.sqrt(a.get("count", 1)) for _, a in g.nodes(data=True)]
        widths = [0.6 + 0.4 * math.sqrt(a.get("count", 1)) for _, _, a in g.edges(data=True)]
        nx.draw_networkx_edges(g, pos, ax=ax, width=widths, edge_color="#888888", arrows=True, arrowsize=8,
                               node_size=sizes)
        nx.draw_networkx_nodes(g, pos, ax=ax, node_color=colours, node_size=sizes, edgecolors="k",
                               linewidths=0.4)
        for n, (x, y) in pos.items():
            ax.text(x, y + 0.16, _node_label(g, n, grouped), fontsize=6.5, va="bottom", ha="center",
                    bbox={"fc": "white", "ec": "none", "alpha": 0.6, "pad": 0.3})
        cross = {(u, v): a["coupling"] for u, v, a in g.edges(data=True)
                 if "->" in a["coupling"] or a["coupling"] == "hazard"}
        nx.draw_networkx_edge_labels(g, pos, edge_labels=cross, ax=ax, font_size=6, font_color="#444444",
                                     bbox={"fc": "white", "ec": "none", "alpha": 0.7, "pad": 0.5})
        depth_max = max(int(a["depth"]) for _, a in g.nodes(data=True))
        half = max(abs(y) for _, y in pos.values())
        ax.set_xlim(-0.6, depth_max + 0.6)
        ax.set_ylim(-half - 0.6, half + 1.1)
        for d in range(depth_max + 1):
            ax.text(d, half + 0.8, f"depth {d}", ha="center", va="bottom", fontsize=7, color="#666666")
    handles = [Patch(color=c, label=s) for s, c in SECTOR_COLOURS.items() if s != "control"]
    fig.legend(handles=handles, loc="outside lower center", ncols=len(handles), fontsize=8)
    return _save(fig, path)


def mean_ci(values: Sequence[float]) -> tuple[float, float]:
    """Mean and half-width of its normal 95 % interval (0 for one value)."""
    v = np.asarray([x for x in values if np.isfinite(x)], float)
    if len(v) == 0:
        return math.nan, 0.0
    half = 1.96 * v.std(ddof=1) / math.sqrt(len(v)) if len(v) > 1 else 0.0
    return float(v.mean()), float(half)


def mean_of_applicable(metrics: Sequence[dict[str, float]], key: str, form: str) -> str:
    """The mean of ``key`` over the runs where it is meaningful, formatted by ``form``, with
    "(k of n runs)" when it is not meaningful in some; "n/a (not meaningful in any run)"
    when in none (a not-applicable value is left out, never averaged in as 0)."""
    values = [m[key] for m in metrics if key in m and is_applicable(m, key)]
    if not values:
        return "n/a (not meaningful in any run)"
    text = form.format(mean_ci(values)[0])
    return text if len(values) == len(metrics) else f"{text} ({len(values)} of {len(metrics)} runs)"


def equity_figure(runs: Sequence[Run], path: Path) -> Path:
    """Customer-outage hours per household by district (excess over baseline), urban then rural."""
    groups = by_configuration(runs)
    kind_rank = {"city": 0, "town": 1, "rural": 2}
    rows: dict[str, tuple[bool, int, str]] = {}  # every district of any run: cities, towns, rural
    for r in runs:
        for did, cls in district_classes(r.results).items():
            rows.setdefault(did, (cls == "rural", kind_rank[cls], did))
    districts = sorted(rows, key=lambda k: rows[k])
    rural = [rows[k][0] for k in districts]
    fig = Figure(figsize=(max(7.0, 0.9 * len(districts) * max(1, len(groups)) / 2 + 3), 4.6), layout="constrained")
    ax = fig.subplots()
    width = 0.8 / max(1, len(groups))
    x = np.arange(len(districts))
    for j, (name, grp) in enumerate(groups.items()):
        per_run = []
        for r in grp:
            hh = {o.district: o.per_capita_h for o in district_outage(r.results, r.baseline)}
            per_run.append([hh.get(d, math.nan) for d in districts])
        arr = np.array(per_run, float)
        seen = np.maximum((~np.isnan(arr)).sum(axis=0), 1)  # a district missing from a run is left out
        mean = np.nansum(arr, axis=0) / seen
        diff = mean_of_applicable([r.metrics for r in grp], "equity_rural_minus_urban_h", "{:+.2f} h")
        gini = mean_of_applicable([r.metrics for r in grp], "equity_gini", "{:.2f}")
        label = f"{name}: rural − urban {diff} per person, Gini {gini}"
        ax.bar(x - 0.4 + width * (j + 0.5), mean, width, color=configuration_colour(name, list(groups)),
               label=label, edgecolor="k", linewidth=0.3)
    if any(rural) and not all(rural):
        first_rural = rural.index(True)
        ax.axvspan(first_rural - 0.5, len(districts) - 0.5, color="#a6d96a", alpha=0.15, lw=0)
        ax.text(first_rural - 0.4, 1.0, "rural", transform=ax.get_xaxis_transform(), va="top", fontsize=8,
                color="#3a7d00")
        ax.text(-0.4, 1.0, "urban", transform=ax.get_xaxis_transform(), va="top", fontsize=8, color="#b35900")
    ax.set_xticks(x, districts, rotation=30, ha="right", fontsize=8)
    ax.set_ylabel("outage hours per person")
    ax.set_title("Outage per person by district (power + water, excess over the baseline)", fontsize=10)
    ax.grid(axis="y", alpha=0.3)
    ax.set_ylim(0, max(ax.get_ylim()[1], 1e-6) * 1.1)
    fig.legend(fontsize=8, loc="outside lower center", ncols=min(3, max(1, len(groups))))
    return _save(fig, path)


def cost_figure(runs: Sequence[Run], path: Path) -> Path:
    """Resilience loss against the cost proxy, one point per configuration, and the cost breakdown."""

    groups = by_configuration(runs)
    fig = Figure(figsize=(11.0, 4.6), layout="constrained")
    ax, bx = fig.subplots(1, 2, width_ratios=[1.3, 1.0])
    for name, grp in groups.items():
        colour = configuration_colour(name, list(groups))
        cost, cost_ci = mean_ci([cost_index_meur(r.results.cost) for r in grp])
        loss, loss_ci = mean_ci([resilience_loss_total_h(r.metrics) for r in grp])
        ax.errorbar([cost], [loss], xerr=[cost_ci], yerr=[loss_ci], fmt="o", ms=9, color=colour, capsize=4,
                    mec="k", mew=0.5)
        ax.annotate(f"{name}" + (f" (n={len(grp)})" if len(grp) > 1 else ""), (cost, loss),
                    textcoords="offset points", xytext=(8, 6), fontsize=9)
    ax.set_xlabel("cost proxy (indicative M EUR)")
    ax.set_ylabel("resilience loss, sum over sectors (h)")
    ax.set_title("Resilience against cost (lower left is better)", fontsize=10)
    ax.grid(alpha=0.3)
    ax.margins(0.25)
    ax.set_xlim(left=0)
    ax.set_ylim(bottom=0)
    names = list(groups)
    keys = [k for k in UNIT_COST_MEUR if any(k in grp[0].results.cost for grp in groups.values())]
    bottom = np.zeros(len(names))
    cmap = [_COMPONENT_COLOURS[i % len(_COMPONENT_COLOURS)] for i in range(len(keys))]
    for k, c in zip(keys, cmap, strict=True):
        vals = np.array([UNIT_COST_MEUR[k] * float(groups[n][0].results.cost.get(k, 0.0)) for n in names])
        bx.bar(names, vals, bottom=bottom, label=k, color=c, edgecolor="k", linewidth=0.3)
        bottom += vals
    bx.set_ylabel("indicative M EUR")
    bx.set_title("Cost proxy by component", fontsize=10)
    bx.set_ylim(0, max(float(bottom.max()), 1e-9) * 1.35)  # room for the legend
    bx.legend(fontsize=7, ncols=3, loc="upper center")
    bx.tick_params(axis="x", labelsize=8)
    return _save(fig, path)


FigureFn = Callable[[Sequence[Run], Path], Path]
FIGURES: dict[str, tuple[str, FigureFn]] = {
    "performance.png": ("Performance curves per sector, configurations overlaid", performance_figure),
    "map.png": ("The region at its worst moment, failed assets by sector", map_figure),
    "cascade.png": ("The cascade: causal forest of failures by depth", cascade_figure),
    "equity.png": ("Equity: outage per household by district, urban and rural", equity_figure),
    "cost.png": ("Resilience against the cost of each configuration", cost_figure),
}
