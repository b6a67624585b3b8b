"""Small helpers every mosaik adapter shares (the plumbing, never sector logic)."""

from __future__ import annotations

from typing import Any


def merge_sources(values: dict[str, Any] | None) -> dict[str, Any]:
    """Merge the dicts that several sources sent for one input attribute.

    mosaik delivers an input as ``{source full id: value}``; an attribute such as
    ``load_p_mw`` arrives from water, ICT and traffic at once. Sources are merged in sorted
    order so the result never depends on connection order; empty values are skipped.
    """
    merged: dict[str, Any] = {}
    for src in sorted(values or {}):
        value = values[src]  # type: ignore[index]
        if isinstance(value, dict):
            merged.update(value)
    return merged
