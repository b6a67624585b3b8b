"""Disruption files: damage read from a CSV instead of drawn from a hazard model.

Two layouts, told apart by the header:

- InfraRisk's: ``components,time_stamp,fail_perc`` (time in seconds from the start, damage
  in percent);
- twin's own: ``asset,time_h,fraction`` (hours, 0..1).

Component names are asset ids or the names of the user's files, mapped through the importers'
id tables (:func:`twin.region.importers.ids.resolve`); a name that maps to no asset, or to
more than one, is an error listing every such name. Partial damage (fraction *f*) per asset
type (docs/regions.md, "Disruption files"):

- a pipe: ``f < 1`` leaks (``Damage(mode="leak", fraction=f)``, the leak's size relative to a
  break), ``f = 1`` breaks (``mode="break"``); repaired like any pipe damage;
- every other asset (lines, roads, pumps, sites, ...), which the sectors model as up or
  down: out with probability *f* (``uniform(seed, "disruption-<i>", asset)``), for *f* times
  its class's drawn repair time (``twin.hazards.repair_time_h``, stream ``repair``), then
  back in service without a crew; ``f = 1`` fails it like any hazard (repair time or crews).
"""

from __future__ import annotations

import csv
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from twin.config import Scenario
from twin.hazards import Damage, _aligned, hazard_id, register_hazard, repair_time_h
from twin.randomness import uniform
from twin.region.assets import Asset
from twin.region.importers.common import InputFileError

LAYOUTS: dict[str, tuple[str, str, str, float, float]] = {
    # name: (component column, time column, damage column, seconds per time unit, damage unit)
    "infrarisk": ("components", "time_stamp", "fail_perc", 1.0, 100.0),
    "twin": ("asset", "time_h", "fraction", 3600.0, 1.0),
}


class DisruptionFileError(InputFileError):
    """A disruption file that cannot be read or names components the region lacks."""


@dataclass(frozen=True)
class Disruption:
    """One row: a component damaged by ``fraction`` (0..1) at ``time_s``."""

    component: str
    time_s: float
    fraction: float
    line: int


def read_disruptions(path: str | Path, key: str = "hazards") -> list[Disruption]:
    """The rows of a disruption CSV in either layout (``#`` lines are comments)."""
    path = Path(path)
    try:
        lines = [ln for ln in path.read_text().splitlines() if ln.strip() and not ln.lstrip().startswith("#")]
    except (OSError, UnicodeDecodeError) as err:
        raise DisruptionFileError(key, path, f"cannot read: {err}") from err
    rows = list(csv.reader(lines))
    if not rows:
        raise DisruptionFileError(key, path, "empty")
    header = [c.strip().lower() for c in rows[0]]
    layout = next((n for n, (c, t, d, _, _) in LAYOUTS.items() if {c, t, d} <= set(header)), None)
    if layout is None:
        want = " or ".join(",".join(v[:3]) for v in LAYOUTS.values())
        raise DisruptionFileError(key, path, f"header {','.join(header)!r}: expected {want}")
    comp, tcol, dcol, t_unit, d_unit = LAYOUTS[layout]
    ci, ti, di = header.index(comp), header.index(tcol), header.index(dcol)
    out = []
    for k, row in enumerate(rows[1:], start=2):
        if len(row) <= max(ci, ti, di):
            raise DisruptionFileError(key, path, f"row {k}: {len(row)} columns, expected {comp},{tcol},{dcol}")
        name = row[ci].strip()
        values = {}
        for col, i, unit in ((tcol, ti, t_unit), (dcol, di, d_unit)):
            try:
                values[col] = float(row[i]) * unit if col == tcol else float(row[i]) / unit
            except ValueError as err:
                raise DisruptionFileError(key, path, f"row {k}: {col} {row[i].strip()!r} is not a number") from err
            if not math.isfinite(values[col]):
                raise DisruptionFileError(key, path, f"row {k}: {col} {row[i].strip()!r} is not a finite number")
        t, f = values[tcol], values[dcol]
        if t < 0:
            raise DisruptionFileError(key, path, f"row {k}: {tcol} {row[ti].strip()} is negative")
        if not 0.0 <= f <= 1.0:
            top = "1" if d_unit == 1.0 else "100"
            raise DisruptionFileError(key, path, f"row {k}: {dcol} {row[di].strip()} is outside 0..{top}")
        out.append(Disruption(name, t, f, k))
    return out


def damage_of(asset: Asset, fraction: float, time_s: int, seed: int, index: int, root: str,
              root_time_s: int, repair_median_h: dict[str, float] | None = None) -> Damage | None:
    """The damage a fraction does to one asset (module docstring); None when it does none."""
    if fraction <= 0:
        return None
    if asset["sector"] == "water" and asset["type"] == "pipe":
        mode = "leak" if fraction < 1 else "break"
        return Damage(time_s, asset["id"], root, root_time_s, None, mode=mode, fraction=fraction)
    if fraction >= 1:
        return Damage(time_s, asset["id"], root, root_time_s, None)
    if uniform(seed, f"disruption-{index}", asset["id"]) >= fraction:
        return None
    out_s = round(fraction * repair_time_h(seed, asset, repair_median_h) * 3600.0)
    return Damage(time_s, asset["id"], root, root_time_s, max(1, out_s), fraction=fraction)


def check_disruption_files(scenario: Scenario, assets: list[Asset]) -> None:
    """Read every ``disruption_file`` hazard against the region before a run starts, so a bad
    file is an input error (exit 2) rather than a failed run."""
    for i, hz in enumerate(scenario.hazards):
        if hz.kind == "disruption_file":
            _disruption_damage(hz, i, scenario, assets)


@register_hazard("disruption_file", "file")
def _disruption_damage(hz: Any, i: int, scenario: Scenario, assets: list[Asset]) -> list[Damage]:
    from twin.region.importers.ids import motor_drives, resolve

    key = f"hazards[{i}].path"
    rows = read_disruptions(hz.path, key)
    files = scenario.region.files
    drives = motor_drives(files.dependencies if files is not None else None, assets)
    found, unknown, ambiguous = resolve([r.component for r in rows], assets, drives)
    if unknown or ambiguous:
        parts = [f"{len(unknown)} unknown component ids {unknown}"] if unknown else []
        parts += [f"{n!r} names {c}" for n, c in ambiguous.items()]
        raise DisruptionFileError(key, hz.path, "; ".join(parts))
    step, horizon = scenario.run.step_s, scenario.run.horizon_s
    by_id = {a["id"]: a for a in assets}
    root, root_t = hazard_id(hz, i), _aligned(min(r.time_s for r in rows), step, horizon) if rows else 0
    out = []
    for r in rows:
        d = damage_of(by_id[found[r.component]], r.fraction, _aligned(r.time_s, step, horizon),
                      scenario.run.seed, i, root, root_t, scenario.restoration.repair_median_h)
        if d is not None:
            out.append(d)
    return out
