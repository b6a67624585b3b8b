"""Runs grouped by what varies: parameter point × configuration (docs/report.md).

Runs of different hazards are not replicates. A run's *point* is its resolved scenario with
the seed taken away (``run.seed``, ``run.name``): runs of one point differ only in seed and
configuration, so they pair on the seed; runs of two storm strengths fall into two points.
This needs nothing but the files, so it works for sweeps and for any folder of runs alike.
A point is labelled by the scenario values in which it differs from the others.
"""

from __future__ import annotations

import hashlib
import json
import math
import tomllib
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from twin.report.collect import Run

SEED_KEYS: tuple[str, ...] = ("run.seed", "run.name")  # what replicates of one point may differ in


def _flatten(data: Any, prefix: str = "") -> dict[str, Any]:
    """Nested tables and lists as dotted keys: ``hazards[0].peak_wind_ms``."""
    out: dict[str, Any] = {}
    if isinstance(data, dict):
        for k, v in data.items():
            out.update(_flatten(v, f"{prefix}.{k}" if prefix else str(k)))
    elif isinstance(data, list) and any(isinstance(v, dict | list) for v in data):
        for i, v in enumerate(data):
            out.update(_flatten(v, f"{prefix}[{i}]"))
    else:
        out[prefix] = data
    return out


def scenario_values(run: Run) -> dict[str, Any]:
    """The run's resolved scenario as dotted keys, without the seed keys ({} if it has none)."""
    try:
        data = tomllib.loads(str(run.results.attrs.get("scenario_toml", "")))
    except tomllib.TOMLDecodeError:
        data = {}
    flat = _flatten(data)
    for k in SEED_KEYS:
        flat.pop(k, None)
    return flat


def point_key(run: Run) -> str:
    """A short hash of the run's scenario without its seed: equal for runs of one point."""
    text = json.dumps(scenario_values(run), sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:12]


def point_labels(runs: Sequence[Run]) -> dict[str, str]:
    """Point key -> a label naming the values that differ between points ("" for one point)."""
    values: dict[str, dict[str, Any]] = {}
    for r in runs:
        values.setdefault(point_key(r), scenario_values(r))
    if len(values) < 2:
        return dict.fromkeys(values, "")
    keys = sorted({k for v in values.values() for k in v})
    differ = [k for k in keys if len({json.dumps(v.get(k), default=str) for v in values.values()}) > 1]
    return {p: ", ".join(f"{k}={v.get(k)!r}" for k in differ) or p for p, v in values.items()}


def by_point_and_configuration(runs: Sequence[Run]) -> dict[tuple[str, str], list[Run]]:
    """Runs grouped by (point label, configuration), points in first-seen order, then
    configurations in the report's usual order; seeds sorted."""
    from twin.report.figures import by_configuration

    labels = point_labels(runs)
    order = list(dict.fromkeys(labels[point_key(r)] for r in runs))
    out: dict[tuple[str, str], list[Run]] = {}
    for label in order:
        members = [r for r in runs if labels[point_key(r)] == label]
        for config, grp in by_configuration(members).items():
            out[(label, config)] = grp
    return out


def group_name(point: str, configuration: str, n: int) -> str:
    """A column header: ``configuration @ point (n=..)``."""
    text = configuration if not point else f"{configuration} @ {point}"
    return f"{text} (n={n})" if n > 1 else text


MetricGroups = dict[tuple[str, str], list[dict[str, float]]]  # (point label, configuration) -> metrics


def metric_groups(runs: Sequence[Run]) -> MetricGroups:
    return {k: [r.metrics for r in g] for k, g in by_point_and_configuration(runs).items()}


def variation_rows(groups: MetricGroups, keys: Sequence[tuple[str, str]]) -> tuple[list[str], list[list[str]]]:
    """The variation across points: one row per (metric, point), one column per
    configuration, each cell the mean over the point's seeds (± the 95 % half-width)."""
    from twin.report.figures import mean_ci
    from twin.report.tables import format_number

    points = list(dict.fromkeys(p for p, _ in groups))
    configs = list(dict.fromkeys(c for _, c in groups))
    header = ["metric", "point", *configs]
    rows = []
    for key, label in keys:
        if not any(key in m for g in groups.values() for m in g):
            continue
        for p in points:
            row = [label, p]
            for c in configs:
                mean, ci = mean_ci([m.get(key, math.nan) for m in groups.get((p, c), [])])
                row.append("-" if math.isnan(mean) else format_number(mean) + (f" ± {format_number(ci)}" if ci else ""))
            rows.append(row)
    return header, rows


def variation_figure(groups: MetricGroups, path: Path, keys: Sequence[tuple[str, str]]) -> Path:
    """One panel per metric: its mean per point (x) and configuration (line), 95 % bars."""
    from matplotlib.figure import Figure

    from twin.report.figures import _save, configuration_colour, mean_ci

    points = list(dict.fromkeys(p for p, _ in groups))
    configs = list(dict.fromkeys(c for _, c in groups))
    keys = [(k, label) for k, label in keys if any(k in m for g in groups.values() for m in g)]
    fig = Figure(figsize=(4.2 * max(1, len(keys)), 3.8), layout="constrained")
    axes = np.atleast_1d(fig.subplots(1, max(1, len(keys)), squeeze=False).ravel())
    x = np.arange(len(points))
    for ax, (key, label) in zip(axes, keys, strict=False):
        for c in configs:
            stats = [mean_ci([m.get(key, math.nan) for m in groups.get((p, c), [])]) for p in points]
            ax.errorbar(x, [s[0] for s in stats], yerr=[s[1] for s in stats], marker="o", capsize=3,
                        color=configuration_colour(c, configs), label=c)
        ax.set_title(label, fontsize=9)
        ax.set_xticks(x, [p if len(p) < 28 else p[:25] + "…" for p in points], rotation=20, fontsize=7, ha="right")
    axes[0].legend(fontsize=8)
    return _save(fig, path)
