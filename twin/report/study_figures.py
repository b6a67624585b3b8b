"""The study report's PNG figures (matplotlib object API on the Agg canvas, no pyplot).

Each function takes the study (or its tables) and writes one PNG: the distributions of the
loss metrics per family and configuration, the paired differences with their BCa intervals,
the loss-exceedance curves, and the crossover profiles and map of the sensitivity study.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from twin.report.figures import DPI, configuration_colour
from twin.report.study import ALL
from twin.report.study_data import LOSS_METRICS, Study, metric_label, metric_unit

DISTRIBUTION_METRICS: tuple[str, ...] = (*LOSS_METRICS, "secondary_failures")
CAPTIONS: dict[str, str] = {
    "distributions.png": "Distributions over the draws (main study) per hazard family and configuration: box = quartiles, whiskers = 5–95 %, dots = every draw",
    "paired.png": "Paired differences B − A (mean over the draws, 95 % BCa interval; hollow: without flagged pairs); left of 0: B lost less",
    "exceedance.png": "Loss-exceedance curves: annual frequency with which a draw's loss is at least x (per year, log scale), from the ensemble weights",
    "crossover.png": "Sensitivity study: paired mean difference B − A per Latin-hypercube point along each varied parameter; line: the binned profile, band: 95 % interval of the crossover",
    "crossover_map.png": "Crossover map: the sensitivity points in the two parameters that vary most with the difference, coloured by the paired mean difference B − A (blue: B better)",
}


def _save(fig: Figure, path: Path, left: float = 0.08, bottom_in: float = 0.5, wspace: float = 0.35) -> Path:
    """Fixed margins, bottom and top in inches (constrained layout costs seconds on grids of many panels)."""
    h = fig.get_figheight()
    fig.subplots_adjust(left=left, right=0.98, bottom=bottom_in / h, top=1 - 0.55 / h, wspace=wspace, hspace=0.45)
    FigureCanvasAgg(fig)
    fig.savefig(path, dpi=DPI)
    return path


def _short(name: str) -> str:
    return name.rsplit(".", 1)[-1]


def distributions(study: Study, path: Path) -> Path | None:
    metrics = [m for m in DISTRIBUTION_METRICS if m in study.metrics]
    families = study.families()
    if not metrics or not families:
        return None
    fig = Figure(figsize=(3.2 * len(metrics), 2.4 * len(families) + 0.6))
    axes = fig.subplots(len(families), len(metrics), squeeze=False)
    for i, f in enumerate(families):
        for j, m in enumerate(metrics):
            ax = axes[i][j]
            col = study.column(m)
            data, names = [], []
            for c in study.configurations:
                sel = [k for k, r in enumerate(study.rows) if r["configuration"] == c
                       and r["ensemble"]["family"] == f and r["ensemble"]["sensitivity_point"] is None]
                x = study.values[sel, col]
                data.append(x[np.isfinite(x)])
                names.append(c)
            pos = np.arange(len(data))
            keep = [k for k, d in enumerate(data) if len(d)]
            if keep:
                ax.boxplot([data[k] for k in keep], positions=pos[keep], whis=(5, 95), showfliers=False, widths=0.6)
            for k in keep:
                jitter = (np.random.default_rng(k).random(len(data[k])) - 0.5) * 0.3
                ax.scatter(pos[k] + jitter, data[k], s=3, alpha=0.35,
                           color=configuration_colour(names[k], names))
            ax.set_xticks(pos, [n.replace("_", "\n") for n in names], fontsize=6)
            ax.tick_params(axis="y", labelsize=7)
            if i == 0:
                ax.set_title(f"{metric_label(m)} ({metric_unit(m)})", fontsize=8)
            if j == 0:
                ax.set_ylabel(f, fontsize=9)
    return _save(fig, path)


def paired_figure(rows: list[dict[str, Any]], path: Path, metrics: tuple[str, ...]) -> Path | None:
    cells = [r for r in rows if r["family"] != ALL and r["metric"] in metrics]
    families = list(dict.fromkeys(r["family"] for r in cells))
    metrics = tuple(m for m in metrics if any(r["metric"] == m for r in cells))
    if not cells:
        return None
    comps = list(dict.fromkeys((r["config_a"], r["config_b"]) for r in cells))
    fig = Figure(figsize=(2.6 * len(metrics) + 3.4, 0.35 * len(comps) * len(families) + 1.2))
    axes = fig.subplots(1, len(metrics), squeeze=False)[0]
    labels = [f"{f}: {b} − {a}" for f in families for a, b in comps]
    for j, m in enumerate(metrics):
        ax = axes[j]
        for y, (f, (a, b)) in enumerate((f, c) for f in families for c in comps):
            for scope, off, face in (("included", 0.0, None), ("excluded", 0.18, "none")):
                r = next((r for r in cells if (r["family"], r["config_a"], r["config_b"], r["metric"],
                                               r["flagged_pairs"]) == (f, a, b, m, scope)), None)
                if r is None or not math.isfinite(r["mean_diff"]):
                    continue
                colour = configuration_colour(b, [a, b])
                lo, hi = r["bca_low"], r["bca_high"]
                if math.isfinite(lo) and math.isfinite(hi):
                    ax.plot([lo, hi], [y + off] * 2, color=colour, lw=1.4)
                ax.scatter([r["mean_diff"]], [y + off], color=colour, s=14, facecolors=face, zorder=3)
        ax.axvline(0.0, color="#888", lw=0.8)
        ax.set_yticks(range(len(labels)), labels if j == 0 else [""] * len(labels), fontsize=7)
        ax.invert_yaxis()
        ax.set_title(f"{metric_label(m)} ({metric_unit(m)})", fontsize=8)
        ax.tick_params(axis="x", labelsize=7)
    return _save(fig, path, left=3.3 / (2.6 * len(metrics) + 3.4), wspace=0.12)


def exceedance_figure(rows: list[dict[str, Any]], path: Path) -> Path | None:
    if not rows:
        return None
    families = list(dict.fromkeys(r["family"] for r in rows))
    metrics = list(dict.fromkeys(r["metric"] for r in rows))
    configs = list(dict.fromkeys(r["configuration"] for r in rows))
    fig = Figure(figsize=(3.4 * len(metrics), 2.5 * len(families) + 0.6))
    axes = fig.subplots(len(families), len(metrics), squeeze=False)
    for i, f in enumerate(families):
        for j, m in enumerate(metrics):
            ax = axes[i][j]
            for c in configs:
                pts = [(r["loss"], r["exceedance_per_year"]) for r in rows
                       if (r["family"], r["metric"], r["configuration"]) == (f, m, c) and r["loss"] > 0]
                if pts:
                    x, y = zip(*sorted(pts), strict=True)
                    ax.step(x, y, where="pre", color=configuration_colour(c, configs), lw=1.2, label=c)
            ax.set_yscale("log")
            ax.tick_params(labelsize=7)
            if i == 0:
                ax.set_title(f"{metric_label(m)} ({metric_unit(m)})", fontsize=8)
            if j == 0:
                ax.set_ylabel(f"{f}\nper year", fontsize=8)
    handles, labels = axes[0][0].get_legend_handles_labels()
    if handles:
        fig.legend(handles, labels, loc="lower center", ncols=len(configs), fontsize=7)
    return _save(fig, path, bottom_in=0.8)


def crossover_figure(profiles: dict[tuple[str, str, str, str], Any], crossings: list[dict[str, Any]],
                     path: Path, metric: str) -> Path | None:
    keys = [k for k in profiles if k[3] == metric]
    if not keys:
        return None
    params = list(profiles[keys[0]]["params"])
    fig = Figure(figsize=(3.0 * len(params), 2.2 * len(keys) + 0.6))
    axes = fig.subplots(len(keys), len(params), squeeze=False)
    from twin.report.study_stats import bin_profile, n_bins

    for i, key in enumerate(keys):
        f, a, b, _ = key
        prof = profiles[key]
        for j, p in enumerate(params):
            ax = axes[i][j]
            x = prof["params"][p]
            keep = np.isfinite(x)
            ax.scatter(x[keep], prof["means"][keep], s=8, color=configuration_colour(b, [a, b]))
            if keep.sum() >= 4:
                xs, ms = bin_profile(x[keep], prof["means"][keep], n_bins(int(keep.sum())))
                ax.plot(xs, ms, color="#333", lw=1)
            ax.axhline(0.0, color="#888", lw=0.8)
            c = next((c for c in crossings if (c["family"], c["config_a"], c["config_b"], c["metric"],
                                                c["parameter"]) == (f, a, b, metric, p)), None)
            if c and c["crossovers"]:
                for z in c["crossovers"].split(";"):
                    ax.axvline(float(z), color="#c33", lw=1)
                if math.isfinite(c["ci_low"]):
                    ax.axvspan(c["ci_low"], c["ci_high"], color="#c33", alpha=0.15)
            ax.tick_params(labelsize=7)
            if i == len(keys) - 1:
                ax.set_xlabel(_short(p), fontsize=8)
            if j == 0:
                ax.set_ylabel(f"{b} − {a}\n({f})", fontsize=7)
    fig.suptitle(f"{metric_label(metric)} ({metric_unit(metric)}): paired mean difference per point", fontsize=9)
    return _save(fig, path, left=0.6 / fig.get_figwidth() * 2)


def crossover_map(profiles: dict[tuple[str, str, str, str], Any], path: Path, metric: str) -> Path | None:
    keys = [k for k in profiles if k[3] == metric]
    if not keys or len(profiles[keys[0]]["params"]) < 2:
        return None
    fig = Figure(figsize=(3.3 * len(keys), 3.2))
    axes = fig.subplots(1, len(keys), squeeze=False)[0]
    for ax, key in zip(axes, keys, strict=True):
        prof = profiles[key]
        m = prof["means"]
        strength = {p: abs(_corr(v, m)) for p, v in prof["params"].items()}
        px, py = sorted(strength, key=lambda p: -strength[p])[:2]
        lim = float(np.nanmax(np.abs(m))) or 1.0
        sc = ax.scatter(prof["params"][px], prof["params"][py], c=m, cmap="coolwarm", vmin=-lim, vmax=lim, s=30,
                        edgecolors="#333", linewidths=0.3)
        ax.set_xlabel(_short(px), fontsize=8)
        ax.set_ylabel(_short(py), fontsize=8)
        ax.set_title(f"{key[2]} − {key[1]} ({key[0]})", fontsize=8)
        ax.tick_params(labelsize=7)
        fig.colorbar(sc, ax=ax, shrink=0.8).ax.tick_params(labelsize=6)
    fig.suptitle(f"{metric_label(metric)}: paired mean difference B − A per sensitivity point", fontsize=9)
    return _save(fig, path)


def _corr(x: np.ndarray, y: np.ndarray) -> float:
    keep = np.isfinite(x) & np.isfinite(y)
    if keep.sum() < 3 or np.ptp(x[keep]) == 0 or np.ptp(y[keep]) == 0:
        return 0.0
    return float(np.corrcoef(x[keep], y[keep])[0, 1])
