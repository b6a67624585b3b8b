"""Which results files a report covers, each run with its hazard-free baseline and metrics.

``twin report PATH...`` takes files and folders. A folder contributes every complete
``*.h5`` directly in it (never the ``baselines/`` cache, ``*.partial.h5`` files, or files
whose status is not ``complete``). A folder that another tool describes with an index is read
by a finder registered in :data:`FOLDER_FINDERS` (a sweep's ``manifest.json`` by
:func:`sweep_runs`): the first finder that returns a list wins, the plain folder scan is the
fallback.
"""

from __future__ import annotations

import json
import logging
import tomllib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from twin import metrics as metrics_mod
from twin.metrics import cost_index_meur, is_applicable
from twin.results import PARTIAL_SUFFIX, Results, ResultsError, is_finished, load

log = logging.getLogger(__name__)

BASELINE_DIR = "baselines"  # as twin.runner.BASELINE_DIR (not imported: runner pulls in the builder)


class ReportInputError(ValueError):
    """A path given to the report is missing, or holds no complete results file."""


# A finder maps a folder to the run files it holds, or None if the folder is not its kind.
FolderFinder = Callable[[Path], list[Path] | None]


def _scan_folder(folder: Path) -> list[Path]:
    return sorted(p for p in folder.glob("*.h5")
                  if not p.name.endswith(PARTIAL_SUFFIX) and is_finished(p))


SWEEP_MANIFEST = "manifest.json"  # as twin.sweep.manifest.MANIFEST_JSON


def sweep_runs(folder: Path) -> list[Path] | None:
    """The complete run files a sweep's ``manifest.json`` lists (``runs[*].run_id``, next to it),
    in manifest order; None for a folder without a manifest."""
    path = folder / SWEEP_MANIFEST
    if not path.is_file():
        return None
    try:
        rows = json.loads(path.read_text()).get("runs", [])
    except (OSError, ValueError, AttributeError) as err:
        raise ReportInputError(f"{path}: unreadable sweep manifest ({err})") from None
    files = [folder / f"{r['run_id']}.h5" for r in rows if isinstance(r, dict) and "run_id" in r]
    return [f for f in files if is_finished(f)]


FOLDER_FINDERS: list[FolderFinder] = [sweep_runs]


def discover(paths: list[str | Path]) -> list[Path]:
    """The complete run files named by ``paths`` (files or folders), without duplicates."""
    found: list[Path] = []
    for raw in paths:
        p = Path(raw)
        if p.is_dir():
            files = next((f for f in (finder(p) for finder in FOLDER_FINDERS) if f is not None), None)
            files = _scan_folder(p) if files is None else files
            if not files:
                raise ReportInputError(f"{p}: no complete results file (*.h5) in this folder")
        elif p.is_file():
            if not is_finished(p):
                raise ReportInputError(f"{p}: not a complete twin results file")
            files = [p]
        else:
            raise ReportInputError(f"{p}: no such file or folder")
        for f in files:
            if f.resolve() not in {g.resolve() for g in found}:
                found.append(f)
    return found


def _quiet_scenario(r: Results) -> dict | None:
    """The run's resolved scenario without its hazards (what its baseline ran), or None."""
    try:
        data = tomllib.loads(str(r.attrs.get("scenario_toml", "")))
    except tomllib.TOMLDecodeError:
        return None
    if not data:
        return None
    data["hazards"] = []
    return data


def _same_world(run: Results, base: Results) -> bool:
    """Same configuration, seed, step, horizon and region, and (when both files carry it) the
    same scenario once the run's hazards are taken away."""
    keys = ("configuration", "seed", "step_s", "hours", "region_key")
    if not all(str(run.attrs.get(k)) == str(base.attrs.get(k)) for k in keys):
        return False
    a, b = _quiet_scenario(run), _quiet_scenario(base)
    return a is None or b is None or a == b


def _baseline_by_id(run: Results, folder: Path) -> Path | None:
    """The baseline's run id recomputed from the run's resolved scenario (as the runner names it)."""
    try:
        from twin.config import run_id, validate_data

        scenario = validate_data(tomllib.loads(str(run.attrs["scenario_toml"])), str(run.path))
        rid = run_id(scenario.without_hazards(), str(run.attrs["configuration"]))
    except Exception as err:  # an old or foreign file: fall back to the scan
        log.debug("cannot recompute the baseline id of %s: %s", run.path, err)
        return None
    p = folder / f"{rid}.h5"
    return p if is_finished(p) else None


def find_baseline(run: Results) -> Results | None:
    """The hazard-free run of the same configuration and seed next to ``run``, if cached.

    Looked up in ``<run folder>/baselines/``: by the run id the runner gives it, else any
    complete hazard-free file of the same configuration, seed, step, horizon and region whose
    scenario is the run's without hazards (files from an older schema still match by the scan).
    """
    if run.attrs.get("hazard_free"):
        return None
    folder = Path(run.path).parent / BASELINE_DIR
    if not folder.is_dir():
        return None
    p = _baseline_by_id(run, folder)
    if p is not None:
        return load(p)
    for cand in _scan_folder(folder):
        try:
            base = load(cand)
        except ResultsError:
            continue
        if base.attrs.get("hazard_free") and _same_world(run, base):
            return base
    return None


@dataclass
class Run:
    """One run of a report: the file, its baseline, its metrics and its performance curves."""

    results: Results
    baseline: Results | None
    metrics: dict[str, float] = field(default_factory=dict)
    curves: dict[str, np.ndarray] = field(default_factory=dict)

    @property
    def configuration(self) -> str:
        return str(self.results.attrs.get("configuration", "?"))

    @property
    def seed(self) -> int:
        return int(self.results.attrs.get("seed", 0))

    @property
    def run_id(self) -> str:
        return str(self.results.attrs.get("run_id", Path(self.results.path).stem))

    @property
    def label(self) -> str:
        return f"{self.configuration} (seed {self.seed})"


def load_run(path: Path) -> Run:
    """Read a run; metrics and curves from its ``metrics`` group, computed if it has none."""
    res = load(path)
    base = find_baseline(res)
    if res.metrics and res.performance:
        m, curves = dict(res.metrics), dict(res.performance)
    else:
        m, curves = metrics_mod.compute(res, base)  # no baseline: a perfect one (docs/metrics.md)
    m.setdefault("cost_index_meur", cost_index_meur(res.cost))
    return Run(res, base, m, curves)


# Indicative unit costs (million EUR) that fold the /cost attributes into one number. A
# proxy to rank configurations, not an estimate: roads are shared by every configuration
# and left out; backup_h_total is generator-hours of fuel over all backed-up assets.
def resilience_loss_total_h(m: dict[str, float]) -> float:
    """Sum of the sectors' resilience losses (sector-hours of total loss), over the sectors
    where it is meaningful (something was demanded of them: twin.metrics.has_demand)."""
    return float(sum(v for k, v in m.items() if k.startswith("resilience_loss_") and k.endswith("_h")
                     and is_applicable(m, k)))
