"""Cascade explanation and the comparison report over results files.

- :func:`explain` / :func:`format_chain`: why an asset failed, back to the hazard;
- :func:`write_report`: PNG figures, a self-contained HTML page and a CSV of metrics;
- :func:`format_table` / :func:`metrics_table`: terminal output.

Importing this package does not import matplotlib; the figures load it when drawn.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from twin.report.explain import ExplainError, Explanation, explain, format_chain, format_time, parse_time
from twin.report.tables import format_number, format_table, metrics_table, progress

if TYPE_CHECKING:
    from twin.report.build import ReportFiles


def write_report(paths: Any, out_dir: Any, show_progress: bool | None = None) -> ReportFiles:
    """See :func:`twin.report.build.write_report`."""
    from twin.report.build import write_report as _write

    return _write(paths, out_dir, show_progress)


__all__ = [
    "ExplainError", "Explanation", "explain", "format_chain", "format_time", "parse_time",
    "format_number", "format_table", "metrics_table", "progress", "write_report",
]
