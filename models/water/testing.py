"""Helpers for water tests and benchmarks: a stand-alone region folder, a schedule simulator
that plays inputs at given times, and a collector that keeps what the water entity outputs.

The region folder has the real ``water.inp`` and asset records of :func:`build`, with one
placeholder bus per powered asset (``power/bus/B-<pump name>``), so the water sector can be
tested without the power builder.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import mosaik_api_v3
import pandas as pd

from twin.region.assets import REGION_FILE
from twin.region.layout import make_layout
from twin.region.params import params_for

from .build import build


def bus_of(pump_asset_id: str) -> str:
    """The placeholder bus of a powered water asset in a test region."""
    return "power/bus/B-" + pump_asset_id.split("/")[-1]


def make_test_region(out_dir: str | Path, size: str = "small", configuration: str = "centralised",
                     seed: int = 1, overrides: dict | None = None) -> Path:
    """Build the water network of a layout into ``out_dir`` with a ``region.json``."""
    out = Path(out_dir)
    layout = make_layout(size, seed)
    params = params_for(configuration, overrides)
    assets = build(layout, params, configuration, out)
    deps = [
        {"consumer": a["id"], "supplier": bus_of(a["id"]), "coupling": "power->water"}
        for a in assets if a["needs_power"]
    ]
    (out / REGION_FILE).write_text(json.dumps({
        "configuration": configuration, "params": params.model_dump(),
        "layout": layout.to_dict(), "assets": assets, "dependencies": deps, "cost": {},
    }))
    return out


class ScheduleSim(mosaik_api_v3.Simulator):
    """One entity ``schedule`` whose outputs follow a list of timed entries.

    ``create(1, "Schedule", entries=[[t_from, t_to, attr, {key: value}], ...])``: during
    ``[t_from, t_to)`` the dict is merged into output ``attr`` (else ``{}``).
    """

    ATTRS = ("failed", "dead_buses", "commands")

    def __init__(self) -> None:
        super().__init__({
            "api_version": "3.0", "type": "time-based",
            "models": {"Schedule": {"public": True, "params": ["entries"], "attrs": list(self.ATTRS)}},
        })
        self.entries: list[list[Any]] = []
        self.time = 0
        self.step_s = 300

    def init(self, sid: str, time_resolution: float = 1.0, step_s: int = 300, **_: Any) -> dict:
        self.step_s = int(step_s)
        return self.meta

    def create(self, num: int, model: str, entries: list | None = None) -> list[dict]:
        self.entries = list(entries or [])
        return [{"eid": "schedule", "type": model}]

    def step(self, time: int, inputs: dict, max_advance: int) -> int:
        self.time = time
        return time + self.step_s

    def get_data(self, outputs: dict) -> dict:
        values: dict[str, dict] = {attr: {} for attr in self.ATTRS}
        for t_from, t_to, attr, data in self.entries:
            if t_from <= self.time < t_to:
                values[attr].update(data)
        return {"schedule": {a: values[a] for a in outputs.get("schedule", [])}}


class CollectorSim(mosaik_api_v3.Simulator):
    """One entity ``collector`` that keeps every input it gets, per time, in ``RESULTS[key]``."""

    RESULTS: dict[str, list[tuple[int, dict]]] = {}
    ATTRS = ("load_p_mw", "tank_level_m", "pump_on", "process_pressure_m", "series", "events")

    def __init__(self) -> None:
        super().__init__({
            "api_version": "3.0", "type": "event-based",
            "models": {"Collector": {"public": True, "params": ["key"], "attrs": list(self.ATTRS),
                                     "any_inputs": True}},
        })
        self.key = "default"

    def create(self, num: int, model: str, key: str = "default") -> list[dict]:
        self.key = key
        self.RESULTS[key] = []
        return [{"eid": "collector", "type": model}]

    def step(self, time: int, inputs: dict, max_advance: int) -> None:
        row: dict[str, Any] = {}
        for attr, sources in inputs.get("collector", {}).items():
            for value in sources.values():
                row[attr] = value
        self.RESULTS[self.key].append((time, row))
        return None

    def get_data(self, outputs: dict) -> dict:
        return {}


def plain_epanet(inp: str | Path, hours: float,
                 pump_closed: dict[str, tuple[int, int | None]] | None = None,
                 prefix: str | Path | None = None) -> pd.DataFrame:
    """Pressures and tank levels (m) of one plain EPANET run of ``inp`` through wntr, the
    reference the stepped and coupled runs are checked against. ``pump_closed`` {EPANET pump
    name: (t_from_s, t_to_s or None)} closes pumps with time controls."""
    import wntr
    from wntr.network.controls import Control, ControlAction, SimTimeCondition

    inp = Path(inp)
    wn = wntr.network.WaterNetworkModel(str(inp))
    wn.options.time.duration = int(hours * 3600)
    for pump, (t0, t1) in (pump_closed or {}).items():
        link = wn.get_link(pump)
        wn.add_control(f"{pump}-off", Control(SimTimeCondition(wn, "=", t0),
                                              ControlAction(link, "status", 0)))
        if t1 is not None:
            wn.add_control(f"{pump}-on", Control(SimTimeCondition(wn, "=", t1),
                                                 ControlAction(link, "status", 1)))
    res = wntr.sim.EpanetSimulator(wn).run_sim(file_prefix=str(prefix or inp.parent / "full"))
    return res.node["pressure"]
