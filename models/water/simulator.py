"""mosaik adapter of the water sector: one entity ``water`` over a stepped EPANET network.

Model ``Network``; ``create(1, "Network", region_dir=..., seed=..., **params)`` with params

- ``region_dir`` (str): a built region folder (``water.inp`` + ``region.json``); a folder with
  only ``water.inp`` also works (ids derived from EPANET names, no power suppliers);
- ``inp`` (str, optional): use this INP instead of the region's ``water.inp``;
- ``seed`` (int): the scenario seed; backup generators' start failures are drawn from it;
- ``pump_backup_h`` (float): backup generator fuel per pump, well and plant, hours at full
  load (default: the region's configuration parameter, else 0);
- ``generator_start_failure`` (float): probability a generator fails to start on demand
  (default 0.03, :data:`twin.models.water.supply.GENERATOR_START_FAILURE`);
- ``refuel_request_frac`` (float): a generator asks for a refuelling crew (output
  ``needs_fuel``) when its fuel is down to this share of a full tank (default 0.5);
- ``minimum_pressure_m``, ``required_pressure_m``, ``pressure_exponent`` (float or None):
  pressure-driven demand (default None: the INP's; a value that differs from the INP's is
  an ``option_overridden`` event and a log warning, and switches a demand-driven INP to PDA);
- ``pipe_break`` ("closed" | "leak" | "leak_then_closed"), ``leak_area_frac``, ``isolate_after_h``,
  ``junction_leak_area_m2``: damage model (see operation.py);
- ``efficiency`` (float): pump wire-to-water efficiency (default 0.75);
- ``split_pipes`` (bool): split every pipe so leaks sit inside it (default True);
- ``hours`` (float): the horizon, sets EPANET's duration (default 169 h);
- ``process_plants`` (list[str]): power plants fed by the ``process`` junction
  (default ``["power/plant/central"]``).

Inputs: ``failed``, ``dead_buses``, ``commands`` (pumps, valves, and ``refuel/<asset>`` from
crews), ``unsupplied`` (power: consumers shed on a
live bus, {consumer id: shed event}), ``damage`` (incidents: {asset: {"mode", "fraction"}}); outputs: ``load_p_mw``, ``tank_level_m``,
``pump_on``, ``process_pressure_m``, ``process_cause`` {plant: the water event behind its
process pressure}, ``needs_fuel`` {asset: event}, ``series``, ``events`` (docs/architecture.md). The rules
live in :mod:`twin.models.water.operation`; this module is plumbing only.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import mosaik_api_v3

from twin.adapters import merge_sources
from twin.events import Event, make_event
from twin.region.assets import REGION_FILE, SECTOR_FILES

from .integrity import NETWORK_ASSET
from .network import WaterNetworkError
from .operation import StepOutput, WaterOperation

logger = logging.getLogger(__name__)

EID = "water"
INPUTS = ("failed", "dead_buses", "commands", "unsupplied", "damage")
OUTPUTS = ("load_p_mw", "tank_level_m", "pump_on", "process_pressure_m", "process_cause", "needs_fuel", "series",
           "events")

META: dict[str, Any] = {
    "api_version": "3.0",
    "type": "time-based",
    "models": {
        "Network": {
            "public": True,
            "params": [
                "region_dir", "inp", "seed", "pump_backup_h", "generator_start_failure",
                "refuel_request_frac",
                "minimum_pressure_m",
                "required_pressure_m", "pressure_exponent", "pipe_break", "leak_area_frac", "isolate_after_h", "junction_leak_area_m2",
                "efficiency", "hours", "process_plants", "split_pipes",
            ],
            "attrs": [*INPUTS, *OUTPUTS],
        }
    },
}


class WaterSimError(RuntimeError):
    """Misuse of the water simulator (second entity, unknown model, bad time resolution)."""




class WaterSim(mosaik_api_v3.Simulator):
    """The water sector under mosaik; see the module docstring."""

    def __init__(self) -> None:
        super().__init__(META)
        self.step_s = 300
        self.op: WaterOperation | None = None
        self.out: StepOutput | None = None
        self.error: str = ""

    def init(self, sid: str, time_resolution: float = 1.0, step_s: int = 300,
             **sim_params: Any) -> dict[str, Any]:
        if float(time_resolution) != 1.0:
            raise WaterSimError(f"water simulator needs time_resolution=1 s, got {time_resolution}")
        if int(step_s) <= 0 or int(step_s) % 60:
            raise WaterSimError(f"step_s must be a positive multiple of 60 s, got {step_s}")
        self.sid = sid
        self.step_s = int(step_s)
        return self.meta

    def create(self, num: int, model: str, region_dir: str = "", seed: int = 0,
               **params: Any) -> list[dict[str, Any]]:
        if model != "Network":
            raise WaterSimError(f"unknown model {model!r}; the water simulator has 'Network'")
        if num != 1 or self.op is not None:
            raise WaterSimError("the water simulator has exactly one entity")
        params["seed"] = int(seed)
        unknown = sorted(set(params) - set(META["models"]["Network"]["params"]))
        if unknown:
            raise WaterSimError(
                f"unknown water parameter(s) {unknown}; known: {META['models']['Network']['params']}"
            )
        inp = params.pop("inp", None)
        hours = params.pop("hours", None)
        if hours is not None:
            params["duration_s"] = int(float(hours) * 3600) + 2 * self.step_s
        if "process_plants" in params:
            params["process_plants"] = list(params["process_plants"])
        root = Path(region_dir) if region_dir else None
        if root is not None and (root / REGION_FILE).is_file() and inp is None:
            self.op = WaterOperation.from_region(root, step_s=self.step_s, **params)
        else:
            path = Path(inp) if inp else (root / SECTOR_FILES["water"] if root else None)
            if path is None:
                raise WaterSimError("create() needs region_dir or inp")
            self.op = WaterOperation(path, step_s=self.step_s, **params)
        return [{"eid": EID, "type": model}]

    def step(self, time: int, inputs: dict[str, dict[str, Any]], max_advance: int) -> int:
        if self.op is None:
            raise WaterSimError("step() before create()")
        data = inputs.get(EID, {})
        failed = merge_sources(data.get("failed"))
        dead = merge_sources(data.get("dead_buses"))
        commands = merge_sources(data.get("commands"))
        unsupplied = merge_sources(data.get("unsupplied"))
        damage = merge_sources(data.get("damage"))
        if self.error:
            self._hold(time, [])
            return time + self.step_s
        try:
            self.out = self.op.step(time, failed, dead, commands, unsupplied, damage)
        except WaterNetworkError as exc:  # an outcome, not a crash: hold the last state
            self.error = str(exc)
            logger.warning("water simulator stopped solving at t=%s s: %s", time, exc)
            ev = make_event(time, "water", NETWORK_ASSET, "simulator_error", float(exc.code),
                            "", "simulator")
            self._hold(time, [ev])
        return time + self.step_s

    def _hold(self, time: int, events: list[Event]) -> None:
        if self.out is None:
            self.out = StepOutput({}, {}, {}, {}, {}, events)
        else:
            self.out = StepOutput(self.out.load_p_mw, self.out.tank_level_m, self.out.pump_on,
                                  self.out.process_pressure_m, self.out.series, events,
                                  self.out.needs_fuel, self.out.process_cause)

    def get_data(self, outputs: dict[str, list[str]]) -> dict[str, dict[str, Any]]:
        data: dict[str, dict[str, Any]] = {}
        for eid, attrs in outputs.items():
            if eid != EID:
                raise WaterSimError(f"unknown entity {eid!r}")
            out = self.out
            values: dict[str, Any] = {}
            for attr in attrs:
                if attr not in OUTPUTS:
                    raise WaterSimError(f"{attr!r} is not an output of the water simulator")
                values[attr] = getattr(out, attr) if out is not None else (
                    [] if attr == "events" else {}
                )
            data[eid] = values
        return data

    def finalize(self) -> None:
        if self.op is not None:
            self.op.close()


def main() -> None:
    """Run the water simulator as a separate process (mosaik ``cmd:``)."""
    mosaik_api_v3.start_simulation(WaterSim(), "twin water simulator (EPANET 2.2 via wntr)")


if __name__ == "__main__":
    main()
