"""The report's section on topological screenings (files with ``mode = "topological"``).

``twin screen`` writes one HDF5 file per configuration next to co-simulation runs; the
report lists them apart: expected cascade size per configuration, the surviving share per
sector, and the assets whose loss cascades furthest.
"""

from __future__ import annotations

import csv
import html
import math
from collections.abc import Callable, Sequence
from pathlib import Path

import h5py
import numpy as np
from matplotlib.figure import Figure

from twin.report.figures import _save, configuration_colour
from twin.screening.results import MODE, ScreeningResult, read_screening

TOP_ASSETS = 10


def is_screening(path: Path) -> bool:
    """True for a file written by ``twin screen`` (root attribute ``mode = "topological"``)."""
    try:
        with h5py.File(path, "r") as f:
            return f.attrs.get("mode") == MODE
    except OSError:
        return False


def load_screenings(paths: Sequence[Path]) -> list[ScreeningResult]:
    return [read_screening(p) for p in paths]


def _mean_ci(values: np.ndarray) -> tuple[float, float]:
    """Mean and the half-width of its 95 % normal interval over the realisations."""
    if len(values) == 0:
        return float("nan"), float("nan")
    half = 1.96 * float(np.std(values, ddof=1)) / np.sqrt(len(values)) if len(values) > 1 else 0.0
    return float(np.mean(values)), half


def _cell(v: float) -> str:
    """Six significant digits; empty (not "nan") where there is no number: no realisation,
    a sector the screening lacks, or the interval of a single realisation."""
    return f"{v:.6g}" if math.isfinite(v) else ""


def write_screening_csv(screens: Sequence[ScreeningResult], path: Path) -> Path:
    """One row per screening: the expected cascade size and mean surviving share per sector."""
    sectors = sorted({s for r in screens for s in r.sectors})
    with path.open("w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["configuration", "run_id", "seed", "realisations", "mean_cascade_size",
                    "mean_cascade_size_ci95", "mean_iterations",
                    *(f"surviving_{s}" for s in sectors)])
        for r in screens:
            mean, ci = _mean_ci(r.cascade_size)
            surv = {s: float(np.mean(r.surviving_fraction[:, i])) if r.realisations else float("nan")
                    for i, s in enumerate(r.sectors)}
            w.writerow([r.configuration, r.run_id, r.seed, r.realisations, _cell(mean),
                        _cell(ci if r.realisations > 1 else math.nan),
                        _cell(float(np.mean(r.iterations)) if r.realisations else math.nan),
                        *(_cell(surv.get(s, math.nan)) for s in sectors)])
    return path


def screening_figure(screens: Sequence[ScreeningResult], path: Path) -> Path:
    """Expected cascade size per configuration (95 % interval), and the most critical assets."""
    fig = Figure(figsize=(11, 4.2), layout="constrained")
    left, right = fig.subplots(1, 2, width_ratios=[1, 2])
    names = [r.configuration for r in screens]
    for i, r in enumerate(screens):
        mean, ci = _mean_ci(r.cascade_size)
        left.bar(i, mean, yerr=ci, color=configuration_colour(r.configuration, names), capsize=4)
    left.set_xticks(range(len(screens)), names, rotation=20)
    left.set_ylabel("expected cascade size (share of assets)")
    left.set_title("Random attacks", fontsize=10)
    width = 0.8 / max(1, len(screens))
    top = screens[0].ranked_assets(TOP_ASSETS) if screens else []
    labels = [a for a, _ in top]
    for j, r in enumerate(screens):
        crit = dict(zip(r.asset_ids, r.criticality.tolist(), strict=True))
        right.barh(np.arange(len(labels)) + j * width, [crit.get(a, np.nan) for a in labels], width,
                   color=configuration_colour(r.configuration, names), label=r.configuration)
    right.set_yticks(np.arange(len(labels)) + width * (len(screens) - 1) / 2, labels, fontsize=7)
    right.invert_yaxis()
    right.set_xlabel("cascade size when lost alone (criticality)")
    right.set_title(f"Most critical assets of {screens[0].configuration}" if screens else "", fontsize=10)
    right.legend(fontsize=8)
    return _save(fig, path)


def screening_html(screens: Sequence[ScreeningResult],
                   table: Callable[[Sequence[str], Sequence[Sequence[str]]], str]) -> list[str]:
    """HTML parts: a table per configuration of its most critical assets."""
    parts = ["<h2>Topological screening</h2>",
             "<p>Cascades on the dependency graph (docs/screening.md); not a co-simulation.</p>"]
    rows = []
    for r in screens:
        mean, ci = _mean_ci(r.cascade_size)
        rows.append([html.escape(r.configuration), str(r.realisations), f"{mean:.4f} ± {ci:.4f}",
                     ", ".join(html.escape(a) for a, _ in r.ranked_assets(5))])
    parts.append(table(["configuration", "realisations", "expected cascade size",
                        "most critical assets"], rows))
    return parts
