"""Run every benchmark and write benchmarks/RESULTS.md (machine, date, commit, numbers).

Usage: python benchmarks/run.py [--only NAME ...] [--out FILE]

Each ``bench_*.py`` runs in its own process and prints Markdown; this script stitches the
outputs together under a header that says where and when they were measured, and gathers
the lines ``TARGET<TAB>name<TAB>measured<TAB>limit<TAB>met`` that benchmarks print into one
table of the issue's targets. Ratios are measured within one benchmark run (the machines
are shared and noisy). Hand-written notes after ``NOTES_MARK`` in RESULTS.md are kept.
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
# Everything after this line in RESULTS.md is hand-written analysis, kept across reruns.
NOTES_MARK = "<!-- notes: written by hand, kept by run.py -->"
ORDER = ("bench_run", "bench_profile", "bench_power", "bench_day", "bench_water", "bench_traffic", "bench_ict",
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


def _markdown(text: str) -> str:
    """A benchmark's output as Markdown: plain-text tables go into a code block."""
    lines = text.strip().splitlines()
    if any(line.startswith("|") for line in lines):
        return "\n".join(lines)
    return "```\n" + "\n".join(lines) + "\n```"


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--only", nargs="*", help="benchmark names, e.g. bench_run bench_power")
    p.add_argument("--out", type=Path, default=HERE / "RESULTS.md")
    args = p.parse_args()
    names = [n for n in ORDER if (HERE / f"{n}.py").is_file() and (not args.only or n in args.only)]
    started = time.perf_counter()
    sections: list[str] = []
    targets: list[list[str]] = []
    for name in names:
        t0 = time.perf_counter()
        out = subprocess.run([sys.executable, str(HERE / f"{name}.py")], capture_output=True, text=True)
        took = time.perf_counter() - t0
        sections.append(f"## {name} ({took:.0f} s)")
        sections.append("")
        if out.returncode:
            sections.append(f"FAILED (exit {out.returncode}):\n\n```\n{out.stderr[-3000:]}\n```")
        else:
            body = []
            for line in out.stdout.strip().splitlines():
                if line.startswith("TARGET\t"):
                    targets.append(line.split("\t")[1:] + [name])
                else:
                    body.append(line)
            sections.append(_markdown("\n".join(body)))
        sections.append("")
        print(f"{name}: {'ok' if not out.returncode else 'FAILED'} in {took:.0f} s", file=sys.stderr)
    total = time.perf_counter() - started
    parts = [
        "# Benchmark results",
        "",
        f"Measured {datetime.now(UTC):%Y-%m-%d %H:%M} UTC on {machine()}, commit `{commit()}`,",
        f"with `python benchmarks/run.py` ({'only ' + ' '.join(names) + ', ' if args.only else ''}"
        f"{total / 60:.1f} minutes in all). The machine may be shared: compare ratios within one",
        "benchmark rather than absolute times across runs; CPU-time figures are given beside wall times.",
        "",
    ]
    if targets:
        parts += ["## Targets (issue 11), measured in this run", "",
                  "| target | measured | limit | | benchmark |", "|---|---|---|---|---|"]
        parts += [f"| {t[0]} | {t[1]} | {t[2]} | **{t[3]}** | {t[4]} |" for t in targets]
        parts.append("")
    parts += sections
    notes = ""
    if args.out.is_file() and NOTES_MARK in args.out.read_text():
        notes = args.out.read_text().split(NOTES_MARK, 1)[1]
    parts += [NOTES_MARK + notes.rstrip("\n")] if notes.strip() else []
    args.out.write_text("\n".join(parts) + "\n")
    print(args.out)


if __name__ == "__main__":
    main()
