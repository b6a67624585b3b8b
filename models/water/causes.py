"""The water outages active in a run and which of them caused a junction's (or a tank's)
loss of service, traced through the hydraulics (docs/water.md, "Causes").

An *outage* is an event that takes an element out of the supply: a pump that stopped (no
power, no fuel, a failed start), a plant that stopped producing, a damaged pump, pipe,
valve, junction or tank, a tank that drained. Each outage keeps the link flows of the last
solved step *before* it began (its reference solution; for a pump that was idle then, under
its level switch, the last solution in which it ran), and the elements it took out (links
and nodes). When a junction drops below its service share, or a tank drains, every active
outage is scored by the share of the water arriving there that passed through its elements
on its reference solution (:class:`twin.models.water.trace.FlowTrace`); the cause is the
outage with the largest share, the most recent one among equal shares (it is the closer
link of a chain: a drained tank before the pump that stopped filling it).

With no outage on the supply path (every share 0, e.g. a leak on a neighbouring main that
lowers the pressure of the whole zone, or outages that began at the first step, before any
solution), the rule falls back to the earliest active outage in the same district, then
anywhere; with no outage at all the event has no cause (coupling ``simulator``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from .trace import FlowTrace

# shares closer than this are equal (floating-point noise of the mixing sums)
SHARE_TOLERANCE = 1e-6


@dataclass
class Outage:
    """One active outage: when, where, which elements, on which reference solution."""

    time_s: int
    district: str
    links: tuple[int, ...]
    nodes: tuple[int, ...]
    ref: list[float] | None
    _shares: list[float] | None = field(default=None, repr=False)

    def share_at(self, trace: FlowTrace, node: int) -> float:
        """Share of the water arriving at ``node`` that passed through this outage's
        elements on its reference solution (0 without one); computed once, then cached."""
        if self.ref is None or not (self.links or self.nodes):
            return 0.0
        if self._shares is None:
            self._shares = trace.shares(self.ref, links=self.links, nodes=self.nodes)
        return self._shares[node]


class CauseTracer:
    """Active outages and the attribution rule of the module docstring."""

    def __init__(self, trace: FlowTrace) -> None:
        self.trace = trace
        self.active: dict[str, Outage] = {}
        # link flows of the last solved step: the reference of an outage that begins now
        self.reference: list[float] | None = None
        self.last_shares: dict[str, float] = {}  # outage id -> share, of the last attribution

    def __contains__(self, outage_id: object) -> bool:
        return outage_id in self.active

    def add(self, outage_id: str, time_s: int, district: str,
            links: Sequence[int] = (), nodes: Sequence[int] = (),
            ref: list[float] | None = None) -> None:
        """Register an outage beginning at ``time_s``; its reference solution is ``ref``
        when given (a pump idle at the last step: the last solution in which it ran), else
        :attr:`reference`."""
        self.active[outage_id] = Outage(int(time_s), district, tuple(links), tuple(nodes),
                                        self.reference if ref is None else ref)

    def remove(self, outage_id: str) -> None:
        self.active.pop(outage_id, None)

    def attribute(self, node: int, district: str) -> tuple[str, str]:
        """(cause event id, coupling) of a loss of service at ``node`` (0-based index)."""
        if not self.active:
            self.last_shares = {}
            return "", "simulator"
        shares = {oid: o.share_at(self.trace, node) for oid, o in self.active.items()}
        self.last_shares = shares
        best = max(self.active, key=lambda oid: (
            round(shares[oid] / SHARE_TOLERANCE), self.active[oid].time_s, oid))
        if shares[best] <= SHARE_TOLERANCE:  # nothing on its supply path: by district
            best = min(self.active, key=lambda oid: (
                self.active[oid].district != district, self.active[oid].time_s, oid))
        return ("" if best.startswith("failed:") else best), "water"
