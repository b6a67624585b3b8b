"""Whether a coupled consumer (pump, ICT site, signal, facility) has power, for the sectors
that consume it: its bus dead (``dead_buses``) or its load shed on a live bus
(``unsupplied``) both mean no supply, each with the power event that caused it."""

from __future__ import annotations

from collections.abc import Mapping

SHED_UNSUPPLIED = 0.5  # a consumer whose load is shed at least this share is unsupplied


def supply_cause(consumer: str, bus: str | None, dead_buses: Mapping[str, str],
                 unsupplied: Mapping[str, str] | None = None) -> str:
    """The power event that leaves ``consumer`` without supply ("" while supplied): its
    bus's ``de-energised`` event, else its load's ``shed`` event."""
    if bus and bus in dead_buses:
        return dead_buses[bus]
    return (unsupplied or {}).get(consumer, "")
