"""Benchmark: ``twin report`` on a synthetic sweep manifest of 10,000 runs (metrics only).

Issue 17 asks for <= 30 s on 2 cores. The manifest has two storm strengths (points) x two
configurations x 2,500 seeds, each run with 120 scalar metrics; 1 % of the runs are
degraded. No results files exist, so no figure is drawn: this times what the report reads
from a sweep, the manifest.

    python benchmarks/report_sweep.py [--runs 10000] [--out /tmp/report-bench]
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

import numpy as np

from twin.metrics import HEADLINE


def synthetic_manifest(folder: Path, n_runs: int, n_metrics: int = 120, seed: int = 0) -> None:
    rng = np.random.default_rng(seed)
    names = [k for k, _ in HEADLINE] + [f"metric_{i}" for i in range(n_metrics - len(HEADLINE))]
    configs = ["centralised", "decentralised"]
    per = n_runs // (2 * len(configs))
    runs = []
    for point, wind in enumerate((30.0, 45.0)):
        for s in range(per):
            draw = rng.gamma(2.0, 1.0 + point, size=n_metrics)
            for j, c in enumerate(configs):
                m = dict(zip(names, (draw * (1.0 - 0.2 * j) + rng.normal(0, 0.1, n_metrics)).tolist(), strict=True))
                status = "degraded" if rng.random() < 0.01 else "complete"
                runs.append({"run_id": f"p{point}s{s}{c[0]}", "configuration": c, "seed": s, "point": point,
                             "params": {"hazards[0].peak_wind_ms": wind}, "status": status, "error": "",
                             "reused": False, "wall_s": 1.0, "metrics": m})
    doc = {"format": 1, "name": "bench", "parameters": ["hazards[0].peak_wind_ms"], "configurations": configs,
           "runs": runs}
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "manifest.json").write_text(json.dumps(doc))


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=10_000)
    ap.add_argument("--out", type=Path, default=None)
    args = ap.parse_args()
    root = args.out or Path(tempfile.mkdtemp(prefix="twin-report-bench-"))
    synthetic_manifest(root / "sweep", args.runs)
    from twin.report.build import write_report

    t0 = time.perf_counter()
    files = write_report([root / "sweep"], root / "report")
    dt = time.perf_counter() - t0
    print(f"{args.runs} runs: report in {dt:.1f} s ({files.html})")


if __name__ == "__main__":
    main()
