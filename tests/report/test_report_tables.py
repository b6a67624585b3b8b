"""Terminal tables align and format numbers readably; progress stays silent off a terminal."""

from __future__ import annotations

import math

import pytest

from twin.report.figures import mean_ci
from twin.report.tables import format_number, format_table, metrics_table


@pytest.mark.parametrize(("value", "text"), [
    (None, "-"), (math.nan, "-"), (math.inf, "inf"), (3.0, "3"), (1234567.0, "1,234,567"),
    (0.123456, "0.123"), (12.345, "12.3"), (-2.5, "-2.500"), ("ok", "ok"),
])
def test_format_number(value: object, text: str) -> None:
    assert format_number(value) == text  # type: ignore[arg-type]


def test_format_table_aligns_columns() -> None:
    text = format_table([["energy", 1.5, 1200.0], ["water", None, 3.0]], header=["", "a", "bb"])
    assert text.splitlines() == [
        "            a     bb",
        "─" * 20,  # rich's rule under the header
        "energy  1.500  1,200",
        "water       -      3",
    ]


def test_metrics_table_side_by_side() -> None:
    text = metrics_table([("centralised", {"x": 2.0}), ("decentralised", {})], keys=[("x", "thing (u)")],
                         status=["complete", "failed"])
    lines = text.splitlines()
    assert lines[0].split() == ["centralised", "decentralised"]
    assert lines[2].split() == ["thing", "(u)", "2", "-"]
    assert lines[3].split() == ["status", "complete", "failed"]
    assert len({len(line) for line in lines[:2]}) == 1  # header and rule equally wide


def test_mean_ci() -> None:
    mean, half = mean_ci([1.0, 2.0, 3.0])
    assert mean == 2.0 and half == pytest.approx(1.96 * 1.0 / math.sqrt(3))
    assert mean_ci([5.0]) == (5.0, 0.0)
    assert mean_ci([math.nan, 4.0]) == (4.0, 0.0)  # nan (e.g. no rural district) is left out


def test_format_table_never_wraps_or_colours() -> None:
    """A long label stays on one line whatever the terminal width; no escape codes."""
    label = "x" * 300
    text = format_table([[label, 1.0]], header=["metric", "value"])
    assert text.splitlines()[2].startswith(label) and "\x1b" not in text
    assert format_table([]) == ""
