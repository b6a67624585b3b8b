"""Calibration of the topological screening against the co-simulation (single-asset losses).

For one configuration of a scenario, candidate assets are chosen (the top ``K`` by
topological criticality plus a random sample of the rest, stratified by asset class). Each
is co-simulated alone as a scheduled outage (``{kind = "outage"}``) lasting from ``at_h``
to the end of the run, ``hours`` later, and measured against the hazard-free baseline. The
per-asset values and the rank correlations (Spearman, Kendall tau-b) between the two modes
go to CSV files; docs/screening.md ("Calibration against co-simulation") reports them.

The co-simulation's **cascade size** mirrors the screening's: the share of the region's
assets that stopped functioning because of the outage, without being the outaged asset.
An asset counts when it has a failure event (``twin.events.FAILURE_KINDS``, without
``unreachable``: a lost control link has a local fallback, as in the screening's default
``couplings="supply"``) whose chain of causes leads back to the outage. The co-simulation
reports failures only for some asset classes (:data:`OBSERVED_CLASSES`: buses, the plant,
pumps, junctions, ICT sites, signals, and loads when shed; a line, pipe, road or link has no
failure state of its own), so the topological cascade is also given restricted to those
classes (``topo_observed``). ``cosim_cascade_size_all`` counts unreachable endpoints too and
is compared with the screening under ``couplings="all"`` (``topo_all``).

Runs go through :func:`twin.sweep.run_sweep` (a local Dask cluster) when ``workers > 1``,
else one after the other in this process. Both write the same files, with the ids
``twin run`` gives, so a second calibration reuses every complete run::

    python -m twin.screening.calibrate cosim_configs/default.toml --configuration centralised \\
        --top 20 --sample 20 --at-h 6 --hours 6 --workers 2 --out results/calibration
"""

from __future__ import annotations

import argparse
import csv
import logging
import math
import sys
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import tomli_w

from twin.config import Scenario, load_scenario
from twin.events import FAILURE_KINDS, Event
from twin.randomness import stream
from twin.region.params import CONFIGURATIONS

log = logging.getLogger(__name__)

OBSERVED_CLASSES: frozenset[str] = frozenset(
    {"power/bus", "power/plant", "water/pump", "water/junction", "ict/site", "traffic/signal"}
)
EXCLUDED_KINDS: frozenset[str] = frozenset({"unreachable"})
HAZARD_PREFIX = "hazard/"
IMPACTS: tuple[str, ...] = (
    "customer_outage_h", "customer_outage_h_power", "customer_outage_h_water",
    "energy_not_served_mwh", "water_not_served_m3", "vehicle_delay_h", "secondary_failures",
)
# (topological column, co-simulation column) pairs whose rank correlation is reported.
PAIRS: tuple[tuple[str, str], ...] = (
    ("topo_criticality", "cosim_cascade_size"),
    ("topo_observed", "cosim_cascade_size"),
    ("topo_criticality", "customer_outage_h"),
    ("topo_criticality", "energy_not_served_mwh"),
    ("topo_criticality", "water_not_served_m3"),
    ("topo_all", "cosim_cascade_size_all"),
)
SWEEP_FILE = "calibration-sweep.toml"
BASE_FILE = "calibration-base.toml"


class CalibrationError(ValueError):
    """Bad calibration settings (unknown configuration, too short a run, no candidates)."""


def asset_class(asset_id: str) -> str:
    """``power/line/F2-1`` -> ``power/line``."""
    return "/".join(asset_id.split("/")[:2])


# --- the topological side ----------------------------------------------------------------


@dataclass(frozen=True)
class TopologicalCascades:
    """Per asset: the assets its loss alone takes down in the screening model."""

    asset_ids: tuple[str, ...]
    lost: dict[str, frozenset[str]]
    iterations: dict[str, int]
    total: int  # assets functioning in the intact region: the denominator of a cascade size

    def criticality(self, classes: Iterable[str] | None = None) -> dict[str, float]:
        """Cascade size per asset; with ``classes``, only lost assets of those classes count."""
        keep = None if classes is None else frozenset(classes)
        return {a: sum(1 for b in s if keep is None or asset_class(b) in keep) / self.total
                for a, s in self.lost.items()}


def topological_cascades(region_dir: str | Path, couplings: str = "supply") -> TopologicalCascades:
    """Every single-asset loss of a built region through the screening engine (the same
    cascade and denominator as ``screen_region(...).criticality``), keeping the lost set."""
    from twin.screening.region import region_system

    rs = region_system(region_dir, couplings)
    base = rs.asset_functional(rs.baseline)
    ids = np.asarray(rs.asset_ids)
    n = len(ids)
    lost: dict[str, frozenset[str]] = {}
    iterations: dict[str, int] = {}
    for j in range(n):
        one = np.zeros(n, dtype=bool)
        one[j] = True
        out = rs.system.cascade(rs.removal(one))
        up = rs.asset_functional(out.functional) & base
        lost[rs.asset_ids[j]] = frozenset(ids[base & ~up & ~one].tolist())
        iterations[rs.asset_ids[j]] = int(out.iterations)
    return TopologicalCascades(rs.asset_ids, lost, iterations, int(base.sum()))


def select_candidates(criticality: Mapping[str, float], top: int, sample: int, seed: int = 0,
                      exclude: Iterable[str] = ()) -> list[tuple[str, str]]:
    """``(asset id, stratum)`` pairs: the ``top`` most critical assets (ties in id order),
    then ``sample`` of the rest drawn round-robin over asset classes (each class in its own
    random order, from ``stream(seed, "calibrate-sample", class)``), so small classes (pumps,
    tanks, ICT sites) are represented next to the 360 roads."""
    if top < 0 or sample < 0:
        raise CalibrationError("top and sample must be >= 0")
    skip = set(exclude)
    ranked = sorted((a for a in criticality if a not in skip), key=lambda a: (-criticality[a], a))
    chosen = [(a, "top") for a in ranked[:top]]
    rest = ranked[top:]
    by_class: dict[str, list[str]] = {}
    for a in sorted(rest):
        by_class.setdefault(asset_class(a), []).append(a)
    queues = {}
    for cls, members in by_class.items():
        order = stream(seed, "calibrate-sample", cls).permutation(len(members))
        queues[cls] = [members[i] for i in order]
    classes = sorted(queues)
    class_order = [classes[i] for i in stream(seed, "calibrate-sample", "classes").permutation(len(classes))]
    picked: list[str] = []
    while len(picked) < sample and any(queues.values()):
        for cls in class_order:
            if queues[cls] and len(picked) < sample:
                picked.append(queues[cls].pop(0))
    return chosen + [(a, "sample") for a in picked]


# --- the co-simulation side --------------------------------------------------------------


def caused_by_hazard(events: Sequence[Event]) -> set[str]:
    """Ids of the events whose chain of causes reaches a hazard's root event (an event of an
    asset ``hazard/...``), the root included."""
    by_id = {e["event_id"]: e for e in events}
    memo: dict[str, bool] = {}

    def reaches(eid: str) -> bool:
        path: list[str] = []
        cur = eid
        verdict = False
        while cur and cur in by_id and cur not in memo and cur not in path:
            path.append(cur)
            if by_id[cur]["asset_id"].startswith(HAZARD_PREFIX):
                verdict = True
                break
            cur = by_id[cur]["cause_id"]
        else:
            verdict = memo.get(cur, False)
        for p in path:
            memo[p] = verdict
        return verdict

    return {eid for eid in by_id if reaches(eid)}


def cascade_assets(events: Sequence[Event], primary: Iterable[str], known: Iterable[str] | None = None,
                   exclude_kinds: Iterable[str] = EXCLUDED_KINDS,
                   classes: Iterable[str] | None = None) -> set[str]:
    """Assets that stopped functioning because of the hazard: a failure event (kind in
    ``FAILURE_KINDS`` minus ``exclude_kinds``) caused, transitively, by the hazard root. The
    ``primary`` (outaged) assets, ids not in ``known`` (``traffic/network``...) and, with
    ``classes``, assets of other classes are left out."""
    caused = caused_by_hazard(events)
    failing = FAILURE_KINDS - frozenset(exclude_kinds)
    skip = set(primary)
    keep = None if known is None else set(known)
    cls = None if classes is None else frozenset(classes)
    return {
        e["asset_id"] for e in events
        if e["event_id"] in caused and e["kind"] in failing and e["asset_id"] not in skip
        and (keep is None or e["asset_id"] in keep) and (cls is None or asset_class(e["asset_id"]) in cls)
    }


def outage_sweep(base: Scenario, configuration: str, assets: Sequence[str], at_h: float, hours: float,
                 out_dir: Path) -> Path:
    """Write the sweep (and its base scenario, hazards removed) that co-simulates each asset's
    outage from ``at_h`` to the end of a run of ``at_h + hours`` hours; return its path."""
    if hours <= 0 or at_h < 0:
        raise CalibrationError("hours must be > 0 and at_h >= 0")
    if not assets:
        raise CalibrationError("no candidate assets")
    out_dir.mkdir(parents=True, exist_ok=True)
    quiet = base.without_hazards()
    (out_dir / BASE_FILE).write_text(quiet.to_toml())
    spec = {
        "name": f"calibration-{configuration}",
        "base": BASE_FILE,
        "configurations": [configuration],
        "seeds": [base.run.seed],
        "set": {
            "run.hours": at_h + hours,
            "hazards": [{"kind": "outage", "asset": assets[0], "at_h": at_h, "duration_h": hours}],
        },
        "grid": {"hazards[0].asset": list(assets)},
    }
    path = out_dir / SWEEP_FILE
    path.write_text(tomli_w.dumps(spec))
    return path


def run_outages(sweep_path: Path, out_dir: Path, workers: int) -> dict[str, tuple[str, str]]:
    """Run (or reuse) every outage of the sweep; return {asset: (run id, status)}."""
    from twin.sweep.spec import expand, load_sweep

    sweep = load_sweep(sweep_path)
    runs = expand(sweep)
    if workers > 1:
        from twin.sweep.execute import run_sweep

        res = run_sweep(sweep, out_dir, workers=workers, progress=False)
        status = {r["run_id"]: r["status"] for r in res.rows}
    else:
        from twin.runner import run_configuration

        status = {}
        for run in runs:
            outcome = run_configuration(run.scenario, run.configuration, out_dir)
            status[run.run_id] = outcome.status
    return {run.params["hazards[0].asset"]: (run.run_id, status.get(run.run_id, "pending")) for run in runs}


# --- correlations ------------------------------------------------------------------------


@dataclass(frozen=True)
class Correlation:
    """Rank correlation of two columns over the assets where both are finite."""

    x: str
    y: str
    n: int
    spearman: float
    spearman_p: float
    kendall: float
    kendall_p: float


def rank_correlation(x: Sequence[float], y: Sequence[float], x_name: str = "x", y_name: str = "y") -> Correlation:
    """Spearman's rho and Kendall's tau-b (ties handled) with their p-values (scipy.stats);
    NaN when fewer than 3 pairs or either side is constant."""
    from scipy import stats

    xa, ya = np.asarray(x, float), np.asarray(y, float)
    ok = np.isfinite(xa) & np.isfinite(ya)
    xa, ya = xa[ok], ya[ok]
    n = int(len(xa))
    if n < 3 or np.ptp(xa) == 0 or np.ptp(ya) == 0:
        return Correlation(x_name, y_name, n, math.nan, math.nan, math.nan, math.nan)
    rho = stats.spearmanr(xa, ya)
    tau = stats.kendalltau(xa, ya)
    return Correlation(x_name, y_name, n, float(rho.statistic), float(rho.pvalue),
                       float(tau.statistic), float(tau.pvalue))


# --- the calibration ---------------------------------------------------------------------


@dataclass
class CalibrationResult:
    """Per-asset rows (one dict each, the CSV's columns) and the rank correlations."""

    configuration: str
    rows: list[dict[str, Any]]
    correlations: list[Correlation]
    settings: dict[str, Any] = field(default_factory=dict)

    def write(self, out_dir: Path) -> tuple[Path, Path]:
        """``calibration-<configuration>.csv`` and ``correlations-<configuration>.csv``."""
        out_dir.mkdir(parents=True, exist_ok=True)
        rows_path = out_dir / f"calibration-{self.configuration}.csv"
        with rows_path.open("w", newline="") as f:
            w = csv.DictWriter(f, fieldnames=list(self.rows[0]))
            w.writeheader()
            w.writerows(self.rows)
        corr_path = out_dir / f"correlations-{self.configuration}.csv"
        with corr_path.open("w", newline="") as f:
            w = csv.writer(f)
            w.writerow(["configuration", "x", "y", "n", "spearman", "spearman_p", "kendall", "kendall_p"])
            for c in self.correlations:
                w.writerow([self.configuration, c.x, c.y, c.n, c.spearman, c.spearman_p, c.kendall, c.kendall_p])
        return rows_path, corr_path


def measure(topo: TopologicalCascades, outages: Mapping[str, tuple[str, str]], strata: Mapping[str, str],
            out_dir: Path, configuration: str, topo_all: TopologicalCascades | None = None) -> CalibrationResult:
    """Per-asset rows from the finished outage runs and the correlations of :data:`PAIRS`.
    ``topo_all`` (the screening with ``couplings="all"``) fills ``topo_all``, to compare with
    the co-simulated cascade that counts unreachable endpoints too."""
    from twin import results

    crit = topo.criticality()
    crit_all = topo_all.criticality() if topo_all is not None else {}
    observed = topo.criticality(OBSERVED_CLASSES)
    rows: list[dict[str, Any]] = []
    for asset, (rid, status) in outages.items():
        row: dict[str, Any] = {
            "configuration": configuration, "asset_id": asset, "class": asset_class(asset),
            "stratum": strata.get(asset, ""), "topo_criticality": crit[asset], "topo_observed": observed[asset],
            "topo_iterations": topo.iterations[asset], "topo_lost": len(topo.lost[asset]),
            "topo_all": crit_all.get(asset, math.nan),
            "status": status, "run_id": rid,
        }
        path = results.final_path(out_dir, rid)
        if status == "complete" and results.is_complete(path):
            run = results.load(path)
            known = [str(a) for a in run.assets["id"]]
            lost = cascade_assets(run.events, [asset], known)
            row["cosim_lost"] = len(lost)
            row["cosim_cascade_size"] = len(lost) / topo.total
            row["cosim_cascade_size_all"] = len(cascade_assets(run.events, [asset], known, exclude_kinds=())) / topo.total
            for k in IMPACTS:
                row[k] = float(run.metrics.get(k, math.nan))
            row["cosim_lost_classes"] = " ".join(sorted({asset_class(a) for a in lost}))
        else:
            row.update({"cosim_lost": math.nan, "cosim_cascade_size": math.nan,
                        "cosim_cascade_size_all": math.nan, **dict.fromkeys(IMPACTS, math.nan),
                        "cosim_lost_classes": ""})
        rows.append(row)
    for col in ("topo_criticality", "cosim_cascade_size", "customer_outage_h"):
        for r, q in zip(rows, percentile_ranks([r[col] for r in rows]), strict=True):
            r[f"rank_{col}"] = q
    for r in rows:
        r["rank_gap"] = r["rank_topo_criticality"] - r["rank_cosim_cascade_size"]
    correlations = [rank_correlation([r[x] for r in rows], [r[y] for r in rows], x, y) for x, y in PAIRS]
    return CalibrationResult(configuration, rows, correlations)


def percentile_ranks(values: Sequence[float]) -> list[float]:
    """Average ranks scaled to [0, 1] (0 the smallest, 1 the largest; ties share their mean
    rank; NaN stays NaN): the scale on which two modes' rankings are compared row by row."""
    from scipy.stats import rankdata

    v = np.asarray(values, float)
    out = np.full(len(v), np.nan)
    ok = np.isfinite(v)
    if ok.sum() > 1:
        out[ok] = (rankdata(v[ok]) - 1.0) / (ok.sum() - 1.0)
    elif ok.sum() == 1:
        out[ok] = 0.5
    return out.tolist()


def calibrate(scenario: Scenario, configuration: str, out_dir: str | Path, *, top: int = 20, sample: int = 20,
              at_h: float = 6.0, hours: float = 6.0, workers: int = 1, sample_seed: int = 0,
              couplings: str = "supply", assets: Sequence[str] | None = None) -> CalibrationResult:
    """Calibrate one configuration: candidates (or the given ``assets``), one outage run each,
    the per-asset rows and the rank correlations. Runs land in ``out_dir/<configuration>/``."""
    from twin.runner import region_for

    if configuration not in CONFIGURATIONS:
        raise CalibrationError(f"unknown configuration {configuration!r} (one of {', '.join(CONFIGURATIONS)})")
    run_dir = Path(out_dir).resolve() / configuration
    t0 = time.perf_counter()
    region = region_for(scenario, configuration, run_dir)
    topo = topological_cascades(region.root, couplings)
    topo_all = topological_cascades(region.root, "all") if couplings != "all" else topo
    if assets is None:
        chosen = select_candidates(topo.criticality(), top, sample, sample_seed)
    else:
        unknown = [a for a in assets if a not in topo.lost]
        if unknown:
            raise CalibrationError(f"assets not in the {configuration} region: {unknown}")
        chosen = [(a, "given") for a in assets]
    strata = dict(chosen)
    log.info("%s: %d candidates, topology in %.1f s", configuration, len(chosen), time.perf_counter() - t0)
    sweep_path = outage_sweep(scenario, configuration, [a for a, _ in chosen], at_h, hours, run_dir)
    t1 = time.perf_counter()
    outages = run_outages(sweep_path, run_dir, workers)
    result = measure(topo, outages, strata, run_dir, configuration, topo_all)
    result.settings = {"top": top, "sample": sample, "at_h": at_h, "hours": hours, "couplings": couplings,
                       "sample_seed": sample_seed, "runs_s": time.perf_counter() - t1,
                       "assets_total": topo.total, "region": region.root.name}
    return result


def _fmt(v: float) -> str:
    return "nan" if not math.isfinite(v) else f"{v:+.3f}"


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m twin.screening.calibrate", description=__doc__.split("\n\n")[0])
    p.add_argument("scenario", type=Path)
    p.add_argument("--configuration", action="append", dest="configurations",
                   help="configuration to calibrate (repeatable; default: the scenario's run.configurations)")
    p.add_argument("--top", type=int, default=20, help="most critical assets by topology")
    p.add_argument("--sample", type=int, default=20, help="assets sampled from the rest, stratified by class")
    p.add_argument("--sample-seed", type=int, default=0)
    p.add_argument("--asset", action="append", dest="assets", help="calibrate exactly these assets (repeatable)")
    p.add_argument("--at-h", type=float, default=6.0, help="outage start, hours after midnight (run start)")
    p.add_argument("--hours", type=float, default=6.0, help="outage length = hours simulated after its start")
    p.add_argument("--couplings", default="supply", choices=["supply", "all"])
    p.add_argument("--workers", type=int, default=2, help="Dask workers (1: run in this process)")
    p.add_argument("--out", type=Path, default=Path("results/calibration"))
    p.add_argument("--set", action="append", default=[], metavar="KEY=VALUE")
    p.add_argument("--verbose", action="store_true")
    args = p.parse_args(argv)
    from twin.cli import quiet

    if args.workers > 1:
        import distributed  # noqa: F401  (it sets its loggers' levels on import: quiet them after)
    quiet(args.verbose)
    scenario = load_scenario(args.scenario, args.set)
    for configuration in args.configurations or scenario.run.configurations:
        res = calibrate(scenario, configuration, args.out, top=args.top, sample=args.sample, at_h=args.at_h,
                        hours=args.hours, workers=args.workers, sample_seed=args.sample_seed,
                        couplings=args.couplings, assets=args.assets)
        rows_path, corr_path = res.write(args.out)
        failed = sum(r["status"] != "complete" for r in res.rows)
        print(f"{configuration}: {len(res.rows)} assets ({failed} failed runs), runs {res.settings['runs_s']:.0f} s;"
              f" {rows_path}")
        print(f"  {'topological':<18}{'co-simulation':<24}{'n':>4}{'spearman':>10}{'kendall':>10}")
        for c in res.correlations:
            print(f"  {c.x:<18}{c.y:<24}{c.n:>4}{_fmt(c.spearman):>10}{_fmt(c.kendall):>10}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
