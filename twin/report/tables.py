"""Terminal output: aligned tables of metrics (``progress`` is twin.progress.iterate).

Used by ``twin report`` and ``twin run`` (``metrics_table`` takes the ``(name, metrics)``
pairs any caller has).
"""

from __future__ import annotations

import io
import math
from collections.abc import Sequence
from typing import TypeVar

from twin.metrics import HEADLINE, is_applicable
from twin.progress import iterate as progress  # noqa: F401  (the report modules' progress bar)

T = TypeVar("T")


def format_number(v: float | int | str | None, decimals: int = 1) -> str:
    """A readable cell: thousands separators, ``-`` for missing/nan, ``inf`` for infinity.

    Values below 10 in magnitude get two more decimals so ratios and fractions stay visible.
    """
    if v is None:
        return "-"
    if isinstance(v, str):
        return v
    x = float(v)
    if math.isnan(x):
        return "-"
    if math.isinf(x):
        return "inf" if x > 0 else "-inf"
    if x == int(x) and abs(x) < 1e15:
        return f"{int(x):,}"
    d = decimals + 2 if abs(x) < 10 else decimals
    return f"{x:,.{d}f}"


def format_table(rows: Sequence[Sequence[object]], header: Sequence[str] | None = None,
                 align: str | None = None) -> str:
    """Rows as aligned columns (rich's table layout, plain text: no colour, no wrapping),
    a rule under the header.

    ``align`` has one letter per column, ``l`` or ``r``; by default the first column is
    left-aligned and the others right-aligned (numbers). Numbers go through
    :func:`format_number`.
    """
    from rich import box
    from rich.console import Console
    from rich.table import Table

    cells = [[format_number(c) if not isinstance(c, str) else c for c in row] for row in rows]
    if not cells and header is None:
        return ""
    ncol = max(len(r) for r in [*cells, list(header or [])])
    align = align or ("l" + "r" * (ncol - 1))
    table = Table(box=box.SIMPLE_HEAD, show_edge=False, pad_edge=False, padding=(0, 1, 0, 0),
                  show_header=header is not None, header_style="")
    head = list(header or [""] * ncol) + [""] * (ncol - len(header or []))
    for name, a in zip(head, align, strict=True):
        table.add_column(name, justify="left" if a == "l" else "right", no_wrap=True)
    for r in cells:
        table.add_row(*(r + [""] * (ncol - len(r))))
    buf = io.StringIO()
    Console(file=buf, width=100_000, color_system=None, force_terminal=False, highlight=False).print(table)
    return "\n".join(line.rstrip() for line in buf.getvalue().splitlines())


def metric_cell(m: dict[str, float], key: str) -> str:
    """One metric as a cell: "n/a" when the run flags it not applicable (``<key>_applicable``
    is 0: docs/metrics.md), "-" when absent."""
    if key in m and not is_applicable(m, key):
        return "n/a"
    return format_number(m.get(key))


def metrics_table(runs: Sequence[tuple[str, dict[str, float]]],
                  keys: Sequence[tuple[str, str]] = HEADLINE,
                  status: Sequence[str] | None = None) -> str:
    """Metrics side by side: one row per metric (``(key, label)``), one column per run."""
    header = ["", *(name for name, _ in runs)]
    rows: list[list[object]] = [[label, *(metric_cell(m, key) for _, m in runs)] for key, label in keys]
    if status is not None:
        rows.append(["status", *status])
    return format_table(rows, header)
