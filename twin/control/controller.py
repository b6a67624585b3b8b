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
    repairs: dict[str, str] = field(default_factory=dict)  # asset -> crew_finished event
    crew_series: dict[str, float] = field(default_factory=dict)


def _takes(spec: str, argument: str) -> bool:
    """True if the plug-in class named by ``module:Class`` accepts ``argument``."""
    import inspect
    from importlib import import_module

    module, _, name = spec.partition(":")
    try:
        cls = getattr(import_module(module), name)
        return argument in inspect.signature(cls).parameters
    except (ImportError, AttributeError, TypeError, ValueError):
        return False  # load_policy reports a bad spec with a clear error


class Controller:
    """Remote control of a region: pump schedules, power policy, signal coordination."""

    def __init__(self, region: RegionInfo, power_policy: str | None, water_schedule: bool = True,
                 power_policy_params: Mapping[str, Any] | None = None,
                 shed_order: list[str] | None = None, seed: int = 0,
                 restoration: Mapping[str, Any] | None = None):
        """``restoration`` (the scenario's ``[restoration]`` table) turns on repair crews
        (:class:`twin.control.crews.CrewManager`); without it there are none."""
        from twin.models.water.control import pump_tanks

        self.region = region
        self.endpoints = {a["id"] for a in region.assets if a["needs_ict"]}
        self.water_schedule = water_schedule
        self.pump_tank, self.tank_thresholds = pump_tanks(region.path("water"))
        self.signals = sorted(a["id"] for a in region.assets_of("traffic", "signal"))
        self.policy = None
        if power_policy:
            from twin.models.power.policy import load_policy

            params = dict(power_policy_params or {})
            if shed_order is not None and "shed_order" not in params and _takes(power_policy, "shed_order"):
                params["shed_order"] = list(shed_order)
            self.policy = load_policy(power_policy, **params)
        self.policy_spec = power_policy or ""
        self.asset_ids = {a["id"] for a in region.assets}
        self._last: dict[str, float] = {}
        self.crews = None
        if restoration is not None:
            from twin.control.crews import CrewManager

            self.crews = CrewManager(region, seed, **dict(restoration))

    def decide(
        self,
        time_s: int,
        unreachable: Mapping[str, str],
        tank_level_m: Mapping[str, float],
        pump_on: Mapping[str, bool],
        power_telemetry: Mapping[str, Any] | None,
        falsified: Mapping[str, str] | None = None,
        false_value: Mapping[str, float] | None = None,
        needs_crew: Mapping[str, str] | None = None,
        crew_arrivals: Mapping[str, Mapping[str, Any]] | None = None,
        step_s: int = 300,
        needs_fuel: Mapping[str, str] | None = None,
    ) -> Decisions:
        """Commands for the next step (they arrive one step later: time-shifted).

        ``falsified`` {endpoint: attack event} and ``false_value`` {endpoint: value} come from
        the ICT layer: a tank reading whose telemetry path is compromised is replaced by the
        attacker's value, and every command decided on it names the attack as its cause.
        With crews, ``needs_crew`` {asset: failure} and ``crew_arrivals`` (traffic) drive the
        crews; a switch command that cannot reach its switch over ICT becomes a crew's job,
        and the crew carries it out by hand on site; ``needs_fuel`` {generator's asset: event}
        (water) are refuelling jobs for water crews, whose work reaches water as the command
        ``refuel/<asset>`` (by hand: no ICT needed).
        """
        from twin.models.water.control import schedule_pumps

        d = Decisions()
        falsified, false_value = falsified or {}, false_value or {}
        reachable = self.endpoints.difference(unreachable)
        if self.water_schedule:
            levels: dict[str, float] = {}
            lie: dict[str, str] = {}  # tank -> attack event behind its reading
            for tank, level in tank_level_m.items():
                if tank in unreachable:
                    continue
                source = tank if tank in falsified else next(
                    (p for p, t in self.pump_tank.items() if t == tank and p in falsified), None)
                if source is not None and source in false_value:
                    levels[tank], lie[tank] = float(false_value[source]), falsified[source]
                else:
                    levels[tank] = level
            wanted = schedule_pumps(levels, self.pump_tank, self.tank_thresholds,
                                    {p: bool(v) for p, v in pump_on.items()})
            for pump, on in sorted(wanted.items()):
                if pump in reachable:
                    cause = lie.get(self.pump_tank.get(pump, ""), "")
                    d.water[pump] = {"value": 1.0 if on else 0.0, "cause_id": cause}
        blocked: dict[str, Command] = {}
        if self.policy is not None and power_telemetry:
            closed = power_telemetry.get("switch_closed", {})
            from twin.models.power.policy import telemetry_for

            commands = self.policy.decide(telemetry_for(self.policy, power_telemetry))  # shape checked by load_policy
            unknown = sorted(set(commands) - self.asset_ids)
            if unknown:
                from twin.models.power.policy import PolicyError

                raise PolicyError(f"policy {self.policy_spec}.decide() returned a command for {unknown[0]!r}, "
                                  "which is no asset of the region")
            for asset, cmd in sorted(commands.items()):
                if asset not in self.endpoints or asset in reachable:
                    d.power[asset] = cmd
                elif asset.startswith("power/switch/") and asset in closed \
                        and bool(closed[asset]) != (float(cmd["value"]) >= 0.5):
                    blocked[asset] = cmd
        if self.crews is not None:
            off_grid = sorted(b for b, kind in (power_telemetry or {}).get("buses", {}).items()
                              if kind != "grid")
            crew = self.crews.step(time_s, step_s, needs_crew or {}, crew_arrivals or {},
                                   blocked, off_grid, needs_fuel or {})
            d.power.update(crew.switching)  # by hand, on site: no ICT needed
            for asset, done in crew.refuels.items():
                d.water[f"refuel/{asset}"] = {"value": 1.0, "cause_id": done}
            d.traffic.update(crew.trips)
            d.repairs = crew.repairs
            d.events.extend(crew.events)
            d.crew_series = self.crews.series()
        for signal in self.signals:
            if signal in reachable:
                d.traffic[signal] = {"value": 1.0, "cause_id": ""}
        for sector, cmds in (("water", d.water), ("power", d.power)):
            for asset, cmd in cmds.items():
                if asset.startswith("refuel/"):
                    continue  # a crew's work, already an event (crew_finished)
                key = f"{sector}:{asset}"
                value = float(cmd["value"])
                if self._last.get(key) != value:
                    self._last[key] = value
                    cause = str(cmd.get("cause_id", ""))
                    d.events.append(
                        make_event(time_s, "control", asset, "command", value, cause,
                                   "ict->control" if cause else "control")
                    )
        return d
