"""Damage applied to the water network: closing pipes and valves, leaks through emitters,
isolated tanks and forced-off pumps (docs/water.md, "Damage"). A mixin of
:class:`twin.models.water.operation.WaterOperation`, which owns the state it uses."""

from __future__ import annotations

import logging
import math
from typing import TYPE_CHECKING

from .network import CONTROL_VALVES

if TYPE_CHECKING:
    from .network import WaterNetwork

logger = logging.getLogger(__name__)

# a pipe the incidents simulator reports with mode "break" leaks through an orifice of the
# full pipe section (a circumferential break); "leak" through leak_area_frac of it
BREAK_AREA_FRAC = 1.0


class DamageMixin:
    """Damage and repair of pumps, pipes, valves, junctions, tanks and reservoirs."""

    net: WaterNetwork
    pumps: dict
    pipe_break: str
    leak_area_frac: float
    junction_leak_area_m2: float
    asset_link: dict[str, str]
    asset_node: dict[str, str]
    link_asset: dict[str, str]
    _link_closers: dict[str, set[str]]
    _leaks: dict[str, dict[str, float]]
    _pump_failed: dict[str, str]
    _mode: dict[str, str]
    _isolated: set[str]

    def _close(self, link: str, reason: str) -> None:
        """Close a pipe or valve for one reason (damage, isolation, command); pumps are
        handled by the pump logic, never here."""
        closers = self._link_closers.setdefault(link, set())
        if not closers:
            self.net.close_link(link)
        closers.add(reason)

    def _reopen(self, link: str, reason: str) -> None:
        closers = self._link_closers.get(link, set())
        closers.discard(reason)
        if not closers and link in self._link_closers:
            del self._link_closers[link]
            self.net.open_link(link)

    def _set_leak(self, node: str, reason: str, area: float | None) -> None:
        leaks = self._leaks.setdefault(node, {})
        if area is None:
            leaks.pop(reason, None)
        else:
            leaks[reason] = area
        self.net.set_leak(node, sum(leaks.values()))

    def _leak_node(self, link: str) -> str | None:
        """The node inside a split pipe, else its upstream junction."""
        if link in self.net.split:
            return self.net.split[link][0]
        a, b = self.net.link_nodes(link)
        for n in (a, b):
            if n in self.net.junctions:
                return n
        return None

    def _apply_damage(self, aid: str, cause: str, on: bool) -> None:
        """Apply (``on``) or undo the damage of one asset."""
        if aid in self.generators:
            self.generators[aid].damaged = cause or f"failed:{aid}" if on else ""
            return
        if aid in self.pumps:
            if on:
                self._pump_failed[aid] = cause
            else:
                self._pump_failed.pop(aid, None)
            return
        if aid in self.asset_link:
            link = self.asset_link[aid]
            mode = self._mode.get(aid, "failed")
            leaking = (mode in ("leak", "break") or self.pipe_break != "closed") and (
                aid not in self._isolated)
            if leaking and self.net.link_type[link] not in CONTROL_VALVES:
                node = self._leak_node(link)
                if node is not None:
                    d = self.net.link_diameter_m(link)
                    frac = BREAK_AREA_FRAC if mode == "break" else self.leak_area_frac
                    area = frac * math.pi * d * d / 4.0
                    self._set_leak(node, aid, area if on else None)
                    return
            (self._close if on else self._reopen)(link, aid)
            return
        if aid in self.asset_node:
            node = self.asset_node[aid]
            if node in self.net.junctions:
                self._set_leak(node, aid, self.junction_leak_area_m2 if on else None)
                return
            for link in self.net.link_ids:  # tank / reservoir: isolate it
                if node in self.net.link_nodes(link):
                    if link in self.net.pumps:
                        pid = self.link_asset[link]
                        if on:
                            self._pump_failed[pid] = cause
                        else:
                            self._pump_failed.pop(pid, None)
                    else:
                        (self._close if on else self._reopen)(link, aid)
            return
        logger.debug("water: ignoring damage of unknown asset %s", aid)
