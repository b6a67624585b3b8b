"""Benchmark: ``twin report`` on a synthetic hazard-ensemble study of 4,000 runs (manifest only).

Four configurations × (300 windstorm + 4 × 100 other draws) + a sensitivity study of 30
Latin-hypercube points × 10 draws, each run with ~120 scalar metrics, 2 % degraded: the
shape of cosim_configs/study.toml. Times each part of the report (CPU and wall).

    python benchmarks/report_study.py [--out /tmp/study-bench]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "report"))

from study_fixture import write_study  # noqa: E402

from twin.report import study as st  # noqa: E402
from twin.report.study_data import load_study  # noqa: E402
from twin.report.study_report import write_study_report  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", type=Path, default=None)
    args = ap.parse_args()
    root = args.out or Path(tempfile.mkdtemp(prefix="study-bench-"))
    folder = write_study(root / "sweep", {"windstorm": 300, "flood": 100, "earthquake": 100, "equipment": 100,
                                          "cyber": 100}, sensitivity=(30, 10), degraded_share=0.02, extra_metrics=100)
    study = load_study(folder)
    print(f"{len(study.rows)} runs, {len(study.all_metrics)} metrics each")
    for name, fn in (("summary", lambda: st.summary(study)), ("paired", lambda: st.paired(study)),
                     ("annual", lambda: st.annual(study)), ("exceedance", lambda: st.exceedance_rows(study)),
                     ("crossover", lambda: st.crossover_rows(study))):
        c, w = time.process_time(), time.perf_counter()
        fn()
        print(f"  {name:<11} {time.process_time() - c:6.2f} s CPU {time.perf_counter() - w:6.2f} s wall")
    c, w = time.process_time(), time.perf_counter()
    write_study_report(folder, root / "rep")
    print(f"whole report (tables, CSVs, figures, study.md, report.html): {time.process_time() - c:.2f} s CPU, "
          f"{time.perf_counter() - w:.2f} s wall")


if __name__ == "__main__":
    main()
