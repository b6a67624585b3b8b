"""Run every benchmark and write benchmarks/RESULTS.md (machine, date, commit, numbers).

Usage: python benchmarks/run.py [--only NAME ...] [--out FILE]

Each ``bench_*.py`` runs in its own process and prints Markdown; this script stitches the
outputs together under a header that says where and when they were measured. Ratios are
measured within one benchmark run (the machines are shared and noisy).
"""

from __future__ import annotations

import argparse
import os
import platform
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

HERE = Path(__file__).resolve().parent
ORDER = ("bench_run", "bench_power", "bench_water", "bench_traffic", "bench_ict",
         "bench_screening", "bench_sweep")


def machine() -> str:
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem = ""
    try:
        kb = int(Path("/proc/meminfo").read_text().split()[1])
        mem = f", {kb / 1024 / 1024:.0f} GiB"
    except (OSError, ValueError, IndexError):
        pass
    return f"{cpu}, {os.cpu_count()} cores{mem}, Python {platform.python_version()}, {platform.system()}"


def commit() -> str:
    try:
        return subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=HERE, capture_output=True,
                              text=True, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--only", nargs="*", help="benchmark names, e.g. bench_run bench_power")
    p.add_argument("--out", type=Path, default=HERE / "RESULTS.md")
    args = p.parse_args()
    names = [n for n in ORDER if (HERE / f"{n}.py").is_file() and (not args.only or n in args.only)]
    parts = [
        "# Benchmark results",
        "",
        f"Measured {datetime.now(UTC):%Y-%m-%d %H:%M} UTC on {machine()}, commit `{commit()}`,",
        "with `python benchmarks/run.py`. The machine is shared: compare ratios within one",
        "benchmark, not absolute times across runs.",
        "",
    ]
    for name in names:
        t0 = time.perf_counter()
        out = subprocess.run([sys.executable, str(HERE / f"{name}.py")], capture_output=True, text=True)
        took = time.perf_counter() - t0
        parts.append(f"## {name} ({took:.0f} s)")
        parts.append("")
        if out.returncode:
            parts.append(f"FAILED (exit {out.returncode}):\n\n```\n{out.stderr[-3000:]}\n```")
        else:
            parts.append(out.stdout.strip())
        parts.append("")
        print(f"{name}: {'ok' if not out.returncode else 'FAILED'} in {took:.0f} s", file=sys.stderr)
    args.out.write_text("\n".join(parts) + "\n")
    print(args.out)


if __name__ == "__main__":
    main()
