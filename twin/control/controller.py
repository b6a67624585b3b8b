"""The SCADA's decisions, without mosaik: what control commands, given what reaches it.

Control sees only the telemetry of endpoints that reach their controller over ICT, and its
commands act only on reachable endpoints; everything else follows its local fallback rule
inside the sector simulator. The decisions themselves are sector logic and plug-ins:
pump scheduling from ``twin.models.water.control`` and the power policy loaded from its
``module:Class`` string.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from twin.events import Event, make_event
from twin.region.assets import RegionInfo

Command = dict[str, Any]  # {"value": float, "cause_id": str}


@dataclass
class Decisions:
    """Commands per sector and the events of decisions that changed."""

    power: dict[str, Command] = field(default_factory=dict)
    water: dict[str, Command] = field(default_factory=dict)
    traffic: dict[str, Command] = field(default_factory=dict)
    events: list[Event] = field(default_factory=list)


class Controller:
    """Remote control of a region: pump schedules, power policy, signal coordination."""

    def __init__(self, region: RegionInfo, power_policy: str | None, water_schedule: bool = True):
        from twin.models.water.control import pump_tanks

        self.region = region
        self.endpoints = {a["id"] for a in region.assets if a["needs_ict"]}
        self.water_schedule = water_schedule
        self.pump_tank = pump_tanks(region)
        self.signals = sorted(a["id"] for a in region.assets_of("traffic", "signal"))
        self.policy = None
        if power_policy:
            from twin.models.power.policy import load_policy

            self.policy = load_policy(power_policy)
        self._last: dict[str, float] = {}

    def decide(
        self,
        time_s: int,
        unreachable: Mapping[str, str],
        tank_level_m: Mapping[str, float],
        pump_on: Mapping[str, bool],
        power_telemetry: Mapping[str, Any] | None,
    ) -> Decisions:
        """Commands for the next step (they arrive one step later: time-shifted)."""
        from twin.models.water.control import schedule_pumps

        d = Decisions()
        reachable = self.endpoints.difference(unreachable)
        if self.water_schedule:
            seen_levels = {
                tank: level for tank, level in tank_level_m.items()
                if tank not in unreachable
            }
            wanted = schedule_pumps(seen_levels, {p: bool(v) for p, v in pump_on.items()},
                                    self.pump_tank)
            for pump, on in sorted(wanted.items()):
                if pump in reachable:
                    d.water[pump] = {"value": 1.0 if on else 0.0, "cause_id": ""}
        if self.policy is not None and power_telemetry:
            for asset, cmd in sorted(self.policy.decide(time_s, dict(power_telemetry)).items()):
                if asset not in self.endpoints or asset in reachable:
                    d.power[asset] = cmd
        for signal in self.signals:
            if signal in reachable:
                d.traffic[signal] = {"value": 1.0, "cause_id": ""}
        for sector, cmds in (("water", d.water), ("power", d.power)):
            for asset, cmd in cmds.items():
                key = f"{sector}:{asset}"
                value = float(cmd["value"])
                if self._last.get(key) != value:
                    self._last[key] = value
                    d.events.append(
                        make_event(time_s, "control", asset, "command", value,
                                   str(cmd.get("cause_id", "")), "control")
                    )
        return d
