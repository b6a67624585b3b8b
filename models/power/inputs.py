"""Inputs of a step: commands, process water pressure, coupled loads, damage, reclosing.

Part of :class:`~twin.models.power.grid.PowerGrid` (a mixin); writes the persistent switch
positions (``switch_pos``, ``switch_event``, ``_isolated``), the plants' state and the
net's ``in_service`` columns.
"""

from __future__ import annotations

import logging

import numpy as np

from twin.events import Event, event_id, make_event
from twin.models.power.common import BATTERY_MODES, PowerGridError, column
from twin.models.power.solver import drop_floating_branches

log = logging.getLogger(__name__)


class InputsMixin:
    """Commands, local rules and damage applied to the net."""

    def _apply_commands(self, t: int, commands: dict[str, dict], events: list[Event]):
        """Split commands by target; switches move (persistently), the rest act this step."""
        net = self.net
        load_frac = np.ones(len(net.load))
        load_cause: dict[int, str] = {}
        modes: dict[str, int] = {}
        pv_cap: dict[str, float] = {}
        sw_by_name, load_by_name = self._switches_by_name, self._loads_by_name
        for asset, cmd in sorted(commands.items()):
            try:
                value = float(cmd["value"])
            except (KeyError, TypeError, ValueError) as exc:
                raise PowerGridError(f"command for {asset!r} needs a numeric 'value': {cmd!r}") from exc
            cause = str(cmd.get("cause_id", ""))
            if asset in sw_by_name:
                closed = value >= 0.5
                for i in sw_by_name[asset]:
                    branch = self._switch_branch.get(i, "")
                    if not closed and branch in self._failed:
                        self._isolated[i] = branch
                    if bool(self.switch_pos.at[i]) != closed:
                        self.switch_pos.at[i] = closed
                        ev = make_event(t, "power", asset, "switched", 1.0 if closed else 0.0, cause, "control")
                        events.append(ev)
                        self.switch_event[i] = ev["event_id"]
            elif asset in load_by_name:
                for pos in load_by_name[asset]:
                    load_frac[pos] = min(1.0, max(0.0, value))
                    if load_frac[pos] < 1.0:
                        load_cause[pos] = cause
            elif asset.startswith(("power/battery/", "power/microgrid/")):
                mode = int(round(value))
                if not 0 <= mode < len(BATTERY_MODES):
                    raise PowerGridError(f"battery mode for {asset!r} must be 0, 1 or 2, got {value}")
                modes[asset] = mode
            elif asset.startswith("power/pv/"):
                pv_cap[asset] = value
            else:
                log.debug("ignoring command for unknown asset %s", asset)
        return load_frac, modes, pv_cap, load_cause

    def _crew_recloses(self, t: int, failed: dict[str, str], events: list[Event]) -> None:
        """Local rule: a switch opened to isolate its own failed branch is closed by the crew
        that repairs the branch (the tie closed meanwhile stays until control normalises)."""
        net = self.net
        for i, branch in list(self._isolated.items()):
            if branch in failed:
                continue
            del self._isolated[i]
            if not self.switch_pos.at[i] and self._switch_normal[str(net.switch.at[i, "name"])]:
                self.switch_pos.at[i] = True
                ev = make_event(t, "power", str(net.switch.at[i, "name"]), "switched", 1.0,
                                event_id(t, branch, "repaired"), "repair")
                events.append(ev)
                self.switch_event[i] = ev["event_id"]

    def _apply_pressure(self, t: int, pressure: dict[str, float] | None, events: list[Event],
                        causes: dict[str, str] | None = None) -> None:
        """Trip the central plant while its process water pressure is below threshold; the
        ``derated`` event names the water event behind the low pressure (``causes``, by
        plant or junction as ``pressure`` is keyed; "" when water names none)."""
        if not pressure or not self.plants:
            return
        low = min(float(v) for v in pressure.values()) < self.pressure_threshold_m
        causes = causes or {}
        for pos, g in enumerate(self.plants):
            name = str(self.net.gen.at[g, "name"])
            if low and self.plant_ok[pos]:
                self.plant_ok[pos] = False
                cause = causes.get(name) or next((c for _, c in sorted(causes.items()) if c), "")
                ev = make_event(t, "power", name, "derated", 0.0, cause, "water->power")
                self.plant_event[pos] = ev["event_id"]
                events.append(ev)
            elif not low and not self.plant_ok[pos]:
                self.plant_ok[pos] = True
                events.append(make_event(t, "power", name, "restored", 1.0, self.plant_event.pop(pos, ""), "water->power"))

    def _apply_load_inputs(self, load_p_mw: dict[str, float]) -> None:
        for pos, n in enumerate(self.load_names):
            if n in load_p_mw and not self.household[pos]:
                self.load_p_in[pos] = max(0.0, float(load_p_mw[n]))

    def _apply_damage(self, failed: dict[str, str]) -> None:
        net = self.net

        def down(table: str) -> np.ndarray:
            names = self._names_np[table]
            if not failed:
                return np.zeros(len(names), dtype=bool)
            return np.fromiter((n in failed for n in names), dtype=bool, count=len(names))

        write = self._set_bool_column if self._damage_applied else (
            lambda tab, col, values: tab.__setitem__(col, values))
        for table in ("bus", "line", "trafo", "gen", "sgen", "storage"):
            write(net[table], "in_service", self._base_np[table] & ~down(table))
        main = self._main_ext_mask
        ext = np.array(column(net["ext_grid"], "in_service"), dtype=bool)  # a copy
        ext[main] = (self.base_ext_in_service.to_numpy(dtype=bool) & ~down("ext_grid"))[main]
        write(net.ext_grid, "in_service", ext)
        write(net.switch, "closed", self.switch_pos.to_numpy(dtype=bool) & ~down("switch"))
        drop_floating_branches(net)  # here too, so the topology stays the same between steps
        self._damage_applied = True
