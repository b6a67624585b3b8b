"""The runs of a hazard-ensemble study, read from a sweep's manifest (docs/report.md).

Every manifest row of an ensemble run carries ``ensemble`` = {``family``, ``draw``,
``stratum``, ``stratum_probability``, ``annual_rate_per_year``, ``weight_per_year``,
``intensity``, ``intensity_unit``, ``sensitivity_point``}. Runs of different configurations
with the same family, sensitivity point, draw and sweep point are one *pair* (they met the
same hazard through common random numbers). Rows with ``sensitivity_point`` None form the
main study; the others the Latin-hypercube sensitivity study, whose varied parameters are
the row's ``params``.
"""

from __future__ import annotations

import csv
import hashlib
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from twin.events import FINISHED_STATUSES
from twin.metrics import APPLICABLE_SUFFIX, metric_value
from twin.report.collect import ReportInputError
from twin.sweep.manifest import MANIFEST_JSON, read_manifest

ENSEMBLE_KEYS: dict[str, tuple[type, ...]] = {
    "family": (str,), "draw": (int,), "stratum": (int,), "stratum_probability": (int, float),
    "annual_rate_per_year": (int, float), "weight_per_year": (int, float), "intensity": (int, float),
    "intensity_unit": (str,), "sensitivity_point": (int, type(None)),
}
FAMILIES: tuple[str, ...] = ("windstorm", "flood", "earthquake", "equipment", "cyber")
REFERENCE = "centralised"
HARDENED = "centralised_hardened"

# (metric, label, unit, annual): the study's metrics in table order; `annual` marks those whose
# expected annual value is meaningful (a sum over events: not a maximum, ratio or a cost).
STUDY_METRICS: tuple[tuple[str, str, str, bool], ...] = (
    ("energy_not_served_mwh", "energy not served", "MWh", True),
    ("water_not_served_m3", "water not served", "m³", True),
    ("customer_outage_h", "customer-outage hours", "household·h", True),
    ("saidi_power_h", "SAIDI power", "h per household", True),
    ("saidi_water_h", "SAIDI water", "h per person", True),
    ("secondary_failures", "secondary service failures", "count", True),
    ("cascade_amplification", "secondary service failures per primary", "1", False),
    ("cascade_depth_max", "cascade depth", "service failures", False),
    ("cross_sector_hops", "cross-sector hops", "count", True),
    ("equity_outage_h_per_person_city", "outage hours per person, cities", "h", True),
    ("equity_outage_h_per_person_town", "outage hours per person, towns", "h", True),
    ("equity_outage_h_per_person_urban", "outage hours per person, urban", "h", True),
    ("equity_outage_h_per_person_rural", "outage hours per person, rural", "h", True),
    ("equity_rural_minus_urban_h", "rural − urban outage hours per person", "h", True),
    ("lost_load_cost_meur", "energy not served at VoLL", "M EUR", True),
    ("annual_cost_meur", "annualised cost", "M EUR/yr", False),
)
ACCESS_PREFIX = "access_"  # essential-service access metrics, included when present
COST_METRIC = "annual_cost_meur"
# The headline set over which Holm's correction runs: every family × comparison × these.
HEADLINE_STUDY: tuple[str, ...] = (
    "energy_not_served_mwh", "water_not_served_m3", "customer_outage_h", "secondary_failures",
    "cascade_depth_max", "cross_sector_hops", "equity_rural_minus_urban_h",
)
# Loss metrics with expected annual values, exceedance curves and cost-effectiveness.
LOSS_METRICS: tuple[str, ...] = ("energy_not_served_mwh", "water_not_served_m3", "customer_outage_h")
CROSSOVER_METRICS: tuple[str, ...] = ("customer_outage_h", "energy_not_served_mwh", "water_not_served_m3",
                                      "secondary_failures")


@dataclass
class Study:
    """The ensemble runs of one sweep folder, as arrays over runs (manifest order)."""

    folder: Path
    doc: dict[str, Any]
    rows: list[dict[str, Any]]
    configurations: list[str]
    metrics: list[str]  # study metrics present, in table order (access metrics last)
    values: np.ndarray  # (runs, metrics): NaN where missing, not applicable or not finished
    all_metrics: list[str]  # every scalar metric of any run (for metrics.csv)
    parameters: list[str]  # the sensitivity study's varied parameters
    # (runs, metrics): a finished run whose metric is not meaningful (``<name>_applicable = 0``,
    # or stored as None / NaN / inf); a metric the run lacks altogether is missing, not this
    not_meaningful: np.ndarray = field(default_factory=lambda: np.zeros((0, 0), dtype=bool))

    @property
    def finished(self) -> np.ndarray:
        return np.array([r["status"] in FINISHED_STATUSES for r in self.rows], dtype=bool)

    @property
    def flagged(self) -> np.ndarray:
        """Degraded, or negative impacts beyond the tolerance (twin.sweep.stats.is_flagged)."""
        return np.array([r["status"] == "degraded" or (r.get("metrics") or {}).get("negative_impacts", 0.0) > 0
                         for r in self.rows], dtype=bool)

    @property
    def degraded(self) -> np.ndarray:
        return np.array([r["status"] == "degraded" for r in self.rows], dtype=bool)

    def ens(self, key: str) -> list[Any]:
        return [r["ensemble"][key] for r in self.rows]

    def families(self) -> list[str]:
        present = list(dict.fromkeys(self.ens("family")))
        return [f for f in FAMILIES if f in present] + [f for f in present if f not in FAMILIES]

    def column(self, metric: str) -> int:
        return self.metrics.index(metric)


def metric_label(metric: str) -> str:
    for key, label, _, _ in STUDY_METRICS:
        if key == metric:
            return label
    return metric.replace("_", " ")


def metric_unit(metric: str) -> str:
    for key, _, unit, _ in STUDY_METRICS:
        if key == metric:
            return unit
    return "person·h" if metric.endswith("_person_h") else ("h per person" if "_per_person_" in metric else "")


def is_annual(metric: str) -> bool:
    """Whether an expected annual value of the metric means something (sums over events)."""
    for key, _, _, annual in STUDY_METRICS:
        if key == metric:
            return annual
    return metric.startswith(ACCESS_PREFIX)


def is_study(doc: dict[str, Any]) -> bool:
    """A sweep whose runs carry hazard-ensemble draws."""
    return any(isinstance(r.get("ensemble"), dict) for r in doc.get("runs", []))


def _check(path: Path, row: dict[str, Any]) -> None:
    ens = row.get("ensemble")
    where = f"{path}: run {row.get('run_id', '?')}"
    if not isinstance(ens, dict):
        raise ReportInputError(f"{where}: key 'ensemble' missing (every run of an ensemble study needs one)")
    for key, types in ENSEMBLE_KEYS.items():
        if key not in ens:
            raise ReportInputError(f"{where}: key 'ensemble.{key}' missing")
        v = ens[key]
        if isinstance(v, bool) or not isinstance(v, types):
            raise ReportInputError(f"{where}: key 'ensemble.{key}' is {v!r}, expected {' or '.join(t.__name__ for t in types)}")
    if not (ens["weight_per_year"] >= 0 and math.isfinite(ens["weight_per_year"])):
        raise ReportInputError(f"{where}: key 'ensemble.weight_per_year' must be finite and ≥ 0, got {ens['weight_per_year']!r}")


def is_not_meaningful(m: dict[str, Any], key: str) -> bool:
    """The run has the metric but flags it not applicable or stores no finite number for it."""
    if key not in m and key + APPLICABLE_SUFFIX not in m:
        return False
    return math.isnan(metric_value(m, key))


def load_study(folder: Path) -> Study:
    """The study of a sweep folder; ReportInputError naming the file and key on bad rows."""
    folder = Path(folder)
    doc = read_manifest(folder)
    path = folder / MANIFEST_JSON
    rows = list(doc.get("runs", []))
    for r in rows:
        _check(path, r)
    seen: dict[tuple[Any, ...], str] = {}
    for r in rows:
        key = (r["configuration"], *pair_key(r))
        if key in seen:
            raise ReportInputError(f"{path}: runs {seen[key]} and {r['run_id']} are the same configuration, "
                                   f"family, sensitivity point, draw and point (keys 'ensemble.draw', 'point')")
        seen[key] = r["run_id"]
    configs = list(doc.get("configurations") or dict.fromkeys(r["configuration"] for r in rows))
    every = sorted({k for r in rows for k in (r.get("metrics") or {})})
    present = set(every)
    metrics = [k for k, *_ in STUDY_METRICS if k in present]
    metrics += [k for k in every if k.startswith(ACCESS_PREFIX) and not k.endswith(APPLICABLE_SUFFIX)]
    values = np.full((len(rows), len(metrics)), math.nan)
    not_meaningful = np.zeros((len(rows), len(metrics)), dtype=bool)
    for i, r in enumerate(rows):
        if r["status"] in FINISHED_STATUSES:
            m = r.get("metrics") or {}
            values[i] = [metric_value(m, k) for k in metrics]
            not_meaningful[i] = [is_not_meaningful(m, k) for k in metrics]
    params = list(dict.fromkeys(k for r in rows if r["ensemble"]["sensitivity_point"] is not None
                                for k in (r.get("params") or {})))
    return Study(folder, doc, rows, configs, metrics, values, every, params, not_meaningful)


def pair_key(row: dict[str, Any]) -> tuple[Any, ...]:
    """What makes runs of different configurations one pair: the same hazard draw."""
    e = row["ensemble"]
    return (e["family"], e["sensitivity_point"], e["draw"], row.get("point"))


def comparisons(configurations: list[str]) -> list[tuple[str, str]]:
    """(reference A, alternative B): every configuration against ``centralised`` (else the
    first), and decentralised / anchor_towns against ``centralised_hardened`` when present."""
    ref = REFERENCE if REFERENCE in configurations else configurations[0]
    out = [(ref, c) for c in configurations if c != ref]
    if HARDENED in configurations and HARDENED != ref:
        out += [(HARDENED, c) for c in ("decentralised", "anchor_towns") if c in configurations]
    return out


def manifest_hash(folder: Path) -> str:
    """SHA-256 of DIR/manifest.json as it was read."""
    return hashlib.sha256((Path(folder) / MANIFEST_JSON).read_bytes()).hexdigest()


def _cell(v: Any) -> Any:
    if v is None or (isinstance(v, float) and not math.isfinite(v)):
        return ""
    if isinstance(v, float):
        return repr(v)  # every digit: metrics.csv recomputes the report exactly (ties included)
    return v


META = ("run_id", "configuration", "seed", "point", "family", "draw", "stratum", "stratum_probability",
        "annual_rate_per_year", "weight_per_year", "intensity", "intensity_unit", "sensitivity_point")


def write_metrics_csv(study: Study, path: Path) -> Path:
    """REP/metrics.csv: one row per run of the manifest: what ran and with which ensemble
    draw and weights, the sensitivity parameters, its status, then every scalar metric."""
    with open(path, "w", newline="") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow([*META, *study.parameters, "status", "flagged", *study.all_metrics])
        for r, flagged in zip(study.rows, study.flagged, strict=True):
            e = r["ensemble"]
            m = r.get("metrics") or {}
            sens = e["sensitivity_point"] is not None
            done = r["status"] in FINISHED_STATUSES
            w.writerow([_cell(r.get(k, e.get(k))) for k in META]
                       + [_cell((r.get("params") or {}).get(p)) if sens else "" for p in study.parameters]
                       + [r["status"], "true" if flagged and done else "false"]
                       + [_cell(m.get(k)) if done else "" for k in study.all_metrics])
    return path
