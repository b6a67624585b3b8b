"""The control (SCADA) simulator: the only writer of commands; mosaik plumbing only."""

from __future__ import annotations

from typing import Any

import mosaik_api_v3

from twin.adapters import merge_sources
from twin.control.controller import Controller, Decisions
from twin.events import Event
from twin.region.assets import load_region

META = {
    "api_version": "3.0",
    "type": "time-based",
    "models": {
        "Control": {
            "public": True,
            "params": ["region_dir", "seed", "power_policy", "power_policy_params", "shed_order",
                       "water_schedule", "restoration"],
            "attrs": [
                "unreachable", "falsified", "false_value", "tank_level_m", "pump_on", "telemetry",
                "needs_crew", "crew_arrivals", "needs_fuel",
                "power_commands", "water_commands", "traffic_commands", "repairs", "series", "events",
            ],
            "trigger": [],
        }
    },
}


class ControlSim(mosaik_api_v3.Simulator):
    """mosaik adapter of :class:`Controller`."""

    def __init__(self) -> None:
        super().__init__(META)
        self.step_s = 300
        self.controller: Controller | None = None
        self.decisions = Decisions()

    def init(self, sid: str, time_resolution: float = 1.0, step_s: int = 300, **_: Any) -> dict:
        self.step_s = int(step_s)
        return self.meta

    def create(self, num: int, model: str, region_dir: str, seed: int = 0,
               power_policy: str | None = None, water_schedule: bool = True,
               power_policy_params: dict[str, Any] | None = None,
               shed_order: list[str] | None = None,
               restoration: dict[str, Any] | None = None) -> list[dict]:
        """``restoration``: the scenario's ``[restoration]`` table to run repair crews
        (``[repair] mode = "crews"``), or None for none."""
        if num != 1 or self.controller is not None:
            raise ValueError("ControlSim supports exactly one entity")
        self.controller = Controller(load_region(region_dir), power_policy, water_schedule,
                                     power_policy_params, shed_order, seed, restoration)
        return [{"eid": "control", "type": model}]

    def step(self, time: int, inputs: dict, max_advance: int | None = None) -> int:
        assert self.controller is not None
        data = inputs.get("control", {})
        telemetry = merge_sources(data.get("telemetry")) or None
        self.decisions = self.controller.decide(
            int(time), merge_sources(data.get("unreachable")), merge_sources(data.get("tank_level_m")),
            merge_sources(data.get("pump_on")), telemetry, merge_sources(data.get("falsified")),
            merge_sources(data.get("false_value")), merge_sources(data.get("needs_crew")),
            merge_sources(data.get("crew_arrivals")), self.step_s,
            merge_sources(data.get("needs_fuel")),
        )
        return int(time) + self.step_s

    def get_data(self, outputs: dict) -> dict:
        d = self.decisions
        events: list[Event] = d.events
        data = {
            "power_commands": d.power,
            "water_commands": d.water,
            "traffic_commands": d.traffic,
            "repairs": d.repairs,
            "series": {"commands_power": float(len(d.power)), "commands_water": float(len(d.water)),
                       "commands_traffic": float(len(d.traffic)), **d.crew_series},
            "events": events,
        }
        return {"control": {a: data[a] for a in outputs.get("control", []) if a in data}}


def main() -> None:
    mosaik_api_v3.start_simulation(ControlSim())


if __name__ == "__main__":
    main()
