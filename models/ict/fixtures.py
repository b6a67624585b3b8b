"""A small built region with the ICT network only, for tests and the benchmark.

The real region builder (twin/region/builder.py) maps endpoints and power by proximity; this
fixture mimics it without the other sectors: per district a few endpoints (switch RTUs,
a pump PLC, signal controllers, prosumer gateways) attached to their nearest access site,
and every site fed from one bus per district (``power/bus/<district>``).
"""

from __future__ import annotations

import json
import math
import sys
from pathlib import Path
from typing import Any

import mosaik_api_v3

from twin.models.ict.build import build
from twin.region.assets import REGION_FILE, Asset, Dependency, make_asset
from twin.region.layout import make_layout
from twin.region.params import params_for

ENDPOINT_KINDS: tuple[tuple[str, str], ...] = (
    ("power", "switch"), ("power", "gateway"), ("water", "pump"), ("traffic", "signal"),
)


def district_bus(district: str) -> str:
    """The fixture's power bus of a district."""
    return f"power/bus/{district}"


def make_ict_region(
    out_dir: str | Path,
    size: str = "small",
    configuration: str = "centralised",
    seed: int = 1,
    endpoints_per_kind: int = 1,
    overrides: dict | None = None,
) -> Path:
    """Write ``ict.json`` and ``region.json`` (ICT assets, endpoints, dependencies)."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    layout = make_layout(size, seed)
    params = params_for(configuration, overrides)
    ict_assets = build(layout, params, configuration, out)
    access = [a for a in ict_assets if a["type"] == "site" and a["capacity_unit"] == "access"]
    assets: list[Asset] = list(ict_assets)
    deps: list[Dependency] = []
    for d in layout.districts:
        for sector, kind in ENDPOINT_KINDS:
            for k in range(endpoints_per_kind):
                ang = 2.0 * math.pi * (ENDPOINT_KINDS.index((sector, kind)) + 0.37 * k) / 4.0
                x = d.x_m + 0.5 * d.radius_m * math.cos(ang)
                y = d.y_m + 0.5 * d.radius_m * math.sin(ang)
                a = make_asset(f"{sector}/{kind}/{d.id}-{k + 1}", sector, kind, x, y, d.id,
                               needs_ict=True)
                assets.append(a)
                near = min(access, key=lambda s: (math.hypot(s["x_m"] - x, s["y_m"] - y), s["id"]))
                deps.append(Dependency(consumer=a["id"], supplier=near["id"],
                                       coupling=f"ict->{sector}"))
    for a in ict_assets:
        if a["type"] == "site":
            deps.append(Dependency(consumer=a["id"], supplier=district_bus(a["district"]),
                                   coupling="power->ict"))
    region = {
        "configuration": configuration,
        "params": params.model_dump(),
        "layout": layout.to_dict(),
        "assets": assets,
        "dependencies": deps,
        "cost": {},
    }
    (out / REGION_FILE).write_text(json.dumps(region, indent=1))
    return out


# ----- tiny mosaik simulators to drive IctSim in a World (tests, benchmark) ---------------

SCRIPT_META = {
    "api_version": "3.0",
    "type": "time-based",
    "models": {"Script": {"public": True, "params": ["script"],
                          "attrs": ["failed", "dead_buses"], "trigger": []}},
}
COLLECT_META = {
    "api_version": "3.0",
    "type": "time-based",
    "models": {"Collector": {"public": True, "params": ["name"], "attrs": [], "any_inputs": True,
                             "trigger": []}},
}
# Collector name -> {time_s: {attr: value}}: where in-process collectors leave their data.
COLLECTED: dict[str, dict[int, dict[str, Any]]] = {}


class ScriptSim(mosaik_api_v3.Simulator):
    """Outputs ``failed`` and ``dead_buses`` from a script {str(time_s): {attr: dict}}.

    A state holds until the next scripted time (like the incidents and power simulators).
    """

    def __init__(self) -> None:
        super().__init__(SCRIPT_META)
        self.step_s = 300
        self.script: dict[int, dict[str, dict[str, str]]] = {}
        self.now: dict[str, dict[str, str]] = {"failed": {}, "dead_buses": {}}

    def init(self, sid: str, time_resolution: float = 1.0, step_s: int = 300, **_: Any):
        self.step_s = int(step_s)
        return self.meta

    def create(self, num: int, model: str, script: dict[str, dict] | None = None) -> list[dict]:
        self.script = {int(t): v for t, v in (script or {}).items()}
        return [{"eid": "script", "type": model}]

    def step(self, time: int, inputs: dict, max_advance: int | None = None) -> int:
        if time in self.script:
            self.now = {"failed": {}, "dead_buses": {}, **self.script[time]}
        return time + self.step_s

    def get_data(self, outputs: dict[str, list[str]]) -> dict:
        return {"script": {a: dict(self.now[a]) for a in outputs.get("script", [])}}


class CollectorSim(mosaik_api_v3.Simulator):
    """Stores every input it receives per step into ``COLLECTED[name]``."""

    def __init__(self) -> None:
        super().__init__(COLLECT_META)
        self.step_s = 300
        self.name = ""

    def init(self, sid: str, time_resolution: float = 1.0, step_s: int = 300, **_: Any):
        self.step_s = int(step_s)
        return self.meta

    def create(self, num: int, model: str, name: str = "default") -> list[dict]:
        self.name = name
        COLLECTED[name] = {}
        return [{"eid": "collector", "type": model}]

    def step(self, time: int, inputs: dict, max_advance: int | None = None) -> int:
        got: dict[str, Any] = {}
        for attr, sources in inputs.get("collector", {}).items():
            for _src, value in sorted(sources.items()):
                got[attr] = value
        COLLECTED[self.name][time] = got
        return time + self.step_s


def run_ict_world(
    region_dir: str | Path,
    script: dict[int, dict[str, dict[str, str]]],
    until_s: int,
    step_s: int = 300,
    outputs: tuple[str, ...] = ("unreachable", "sites_down", "events"),
    mode: str = "python",
    **ict_params: Any,
) -> dict[int, dict[str, Any]]:
    """Run IctSim in a mosaik World fed by :class:`ScriptSim`; return its outputs per step."""
    import mosaik  # lazily: the fixture module is also used without a World

    ict = (
        {"cmd": f"{sys.executable} -m twin.models.ict.simulator %(addr)s"}
        if mode == "cmd" else {"python": "twin.models.ict.simulator:IctSim"}
    )
    name = f"ict-{id(script)}"
    config = {
        "Script": {"python": "twin.models.ict.fixtures:ScriptSim"},
        "ICT": ict,
        "Collector": {"python": "twin.models.ict.fixtures:CollectorSim"},
    }
    with mosaik.World(config, time_resolution=1.0, skip_greetings=True,
                      configure_logging=False) as world:
        src = world.start("Script", step_s=step_s).Script.create(
            1, script={str(t): v for t, v in script.items()})[0]
        net = world.start("ICT", step_s=step_s).Network.create(
            1, region_dir=str(region_dir), **ict_params)[0]
        col = world.start("Collector", step_s=step_s).Collector.create(1, name=name)[0]
        world.connect(src, net, "failed", "dead_buses")
        world.connect(net, col, *outputs)
        world.run(until=until_s, print_progress=False)
    return COLLECTED.pop(name)
