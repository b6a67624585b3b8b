"""``twin explain`` and ``twin report``: plugged into twin.cli through ``register``."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from twin.cli import InputError
from twin.events import EXIT_OK


def _cmd_explain(args: argparse.Namespace) -> int:
    from twin.report.explain import ExplainError, explain, format_chain, headline, parse_time
    from twin.results import ResultsError, load

    try:
        at_s = parse_time(args.at) if args.at is not None else None
        ex = explain(load(args.run), args.asset, at_s)
    except (ExplainError, ResultsError) as err:
        raise InputError(str(err)) from None
    print(format_chain(ex, one_line=True) if args.one_line else f"{headline(ex)}\n{format_chain(ex)}")
    return EXIT_OK


def _cmd_report(args: argparse.Namespace) -> int:
    from twin.report.build import write_report
    from twin.report.collect import ReportInputError
    from twin.report.tables import metrics_table
    from twin.results import ResultsError

    try:
        files = write_report(args.paths, args.out, show_progress=None)
    except (ReportInputError, ResultsError) as err:
        raise InputError(str(err)) from None
    if files.study is not None:  # a hazard-ensemble study: no runs were loaded
        if files.banner:
            print(f"WARNING: {files.banner}", file=sys.stderr)
        print(f"study report: {files.study}, {files.html}, {files.interactive}, {files.csv} and the tables as CSV, "
              f"{len(files.figures)} figures in {Path(args.out)}")
        return EXIT_OK
    if args.table:
        print(metrics_table([(r.label, r.metrics) for r in files.runs],
                            status=[r.results.status for r in files.runs]))
    if files.banner:
        print(f"WARNING: {files.banner}", file=sys.stderr)
    n, k = len(files.runs), len(files.screenings)
    screens = f" and {k} screening{'s' if k != 1 else ''}" if k else ""
    page = f", {files.interactive}" if files.interactive else ""  # the interactive page
    print(f"{n} run{'s' if n != 1 else ''}{screens}: {files.html}{page}, {files.csv}, "
          f"{len(files.figures)} figures in {Path(args.out)}")
    return EXIT_OK


def register(sub: argparse._SubParsersAction) -> None:
    """Add ``explain`` and ``report`` to the ``twin`` command."""
    e = sub.add_parser("explain", help="why did an asset fail: the chain of causes back to the hazard")
    e.add_argument("run", type=Path, metavar="RUN.h5", help="a run's results file")
    e.add_argument("asset", metavar="ASSET", help="asset id, e.g. water/pump/PS2")
    e.add_argument("--at", metavar="TIME",
                   help="explain the failure in force at TIME (seconds, HH:MM or hours like 6.5h); "
                        "default: the asset's first failure")
    e.add_argument("--one-line", action="store_true", help="the chain on one line")
    e.set_defaults(func=_cmd_explain)

    r = sub.add_parser("report", help="figures, an HTML report and a CSV of metrics for runs or folders")
    r.add_argument("paths", nargs="+", type=Path, metavar="PATH",
                   help="results files, or folders of them (baselines and partial files are skipped)")
    r.add_argument("--out", type=Path, required=True, metavar="DIR", help="folder for the report")
    r.add_argument("--no-table", dest="table", action="store_false",
                   help="do not print the summary table")
    r.set_defaults(func=_cmd_report)
