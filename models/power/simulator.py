"""mosaik adapter of the power grid: plumbing only, the physics is in :mod:`.grid`.

One model ``Grid`` with one entity, eid ``power``. Create it with
``create(1, "Grid", region_dir=str, seed=int, **params)``; the optional parameters are
those of :class:`twin.models.power.grid.PowerGrid`: ``battery_efficiency`` (round trip,
default 0.9), ``reserve_share`` (backup reserve, default: the region's
``battery_reserve_share``), ``battery_mode`` (``self_consumption``, ``backup``,
``grid_support``; default ``backup``), ``shed_order`` (load categories shed first to last;
default ``household, traffic, other, control, ict, hospital, water``) and
``pressure_threshold_m`` (central plant trips below it, default 20 m) and ``protection``
(the ``[power.protection]`` options as a dict, :class:`twin.config.ProtectionSection`),
``backup_capable_share`` and ``backup_kw_per_household`` (default: the region's), ``season``
(``run.season``), ``storms`` (the storm hazards as dicts; PV is overcast under them) and
``solver`` (the power-flow backend by name, ``pandapower`` or ``lightsim2grid``; default
:data:`twin.models.power.solver.DEFAULT_SOLVER`) and ``profiles`` (``simbench`` or
``synthetic``; default :data:`twin.models.power.sbprofiles.DEFAULT_PROFILES`).

Inputs (dicts keyed by asset id; several sources are merged): ``failed`` {asset: cause
event}, ``load_p_mw`` {consumer: MW}, ``commands`` {asset: {"value", "cause_id"}},
``process_pressure_m`` {plant: m}, ``process_cause`` {plant: the water event behind that
pressure, named as the cause of a ``derated`` plant}. Outputs: ``dead_buses`` {bus: cause event},
``unsupplied`` {consumer: its load's shed event} (load shed >= 50 % on a live bus),
``switch_closed`` {switch: bool}, ``series``, ``events``, and ``telemetry`` (the input of
power policies, see docs/policies.md).
"""

from __future__ import annotations

import logging
from typing import Any

import mosaik_api_v3

from twin.adapters import merge_sources
from twin.region.assets import load_region

log = logging.getLogger(__name__)

META = {
    "api_version": "3.0",
    "type": "time-based",
    "models": {
        "Grid": {
            "public": True,
            "params": [
                "region_dir", "seed", "battery_efficiency", "reserve_share", "battery_mode",
                "shed_order", "pressure_threshold_m", "protection", "backup_capable_share",
                "backup_kw_per_household", "season", "storms", "solver", "profiles",
            ],
            "attrs": [
                "failed", "load_p_mw", "commands", "process_pressure_m", "process_cause",
                "dead_buses", "unsupplied", "switch_closed", "series", "events", "telemetry",
            ],
            "trigger": [],
        },
    },
}

INPUTS = ("failed", "load_p_mw", "commands", "process_pressure_m", "process_cause")
OUTPUTS = ("dead_buses", "unsupplied", "switch_closed", "series", "events", "telemetry")




class PowerSim(mosaik_api_v3.Simulator):
    """The power sector as one mosaik entity, eid ``power``."""

    def __init__(self, separate_process: bool = False) -> None:
        super().__init__(META)
        self.separate_process = separate_process  # outputs travel as JSON: plain dicts only
        self.eid = "power"
        self.step_s = 300
        self.grid = None
        self.result = None

    def init(self, sid: str, time_resolution: float = 1.0, step_s: int = 300, **sim_params: Any):
        if float(time_resolution) != 1.0:
            raise ValueError(f"power simulator needs time_resolution 1.0 s, got {time_resolution}")
        self.step_s = int(step_s)
        return self.meta

    def create(self, num: int, model: str, region_dir: str = "", seed: int = 0, **params: Any):
        from twin.models.power.grid import PowerGrid

        if num != 1 or model != "Grid" or self.grid is not None:
            raise ValueError("the power simulator has exactly one entity: create(1, 'Grid', ...)")
        region = load_region(region_dir)
        params.setdefault("reserve_share", float(region.params.get("battery_reserve_share", 0.3)))
        for key in ("backup_capable_share", "backup_kw_per_household"):  # regions built before: the default
            if key in region.params:
                params.setdefault(key, float(region.params[key]))
        self.grid = PowerGrid.from_file(region.path("power"), seed=int(seed), step_s=self.step_s, **params)
        return [{"eid": self.eid, "type": model}]

    def step(self, time: int, inputs: dict, max_advance: int) -> int:
        got = inputs.get(self.eid, {})
        merged = {name: merge_sources(got.get(name, {})) for name in INPUTS}
        self.result = self.grid.step(
            time, failed=merged["failed"], load_p_mw=merged["load_p_mw"],
            commands=merged["commands"], process_pressure_m=merged["process_pressure_m"] or None,
            process_cause=merged["process_cause"] or None,
        )
        return time + self.step_s

    def get_data(self, outputs: dict) -> dict:
        data: dict = {}
        for eid, attrs in outputs.items():
            if eid != self.eid:
                raise ValueError(f"unknown entity {eid!r}")
            data[eid] = {}
            for attr in attrs:
                if attr not in OUTPUTS:
                    raise ValueError(f"power has no output {attr!r}")
                data[eid][attr] = self._output(attr)
        return data

    def _output(self, attr: str) -> Any:
        r = self.result
        if r is None:
            return {} if attr != "events" else []
        if attr == "telemetry" and self.separate_process:
            from twin.models.power.outputs import plain_telemetry

            return plain_telemetry(r.telemetry)
        return {
            "dead_buses": r.dead_buses, "unsupplied": r.unsupplied, "switch_closed": r.switch_closed,
            "series": r.series,
            "events": r.events, "telemetry": r.telemetry,
        }[attr]


def main() -> None:
    """Run as a separate process (``cmd:`` in a mosaik sim_config)."""
    mosaik_api_v3.start_simulation(PowerSim(separate_process=True))


if __name__ == "__main__":
    main()
