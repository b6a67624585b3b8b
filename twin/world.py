"""The mosaik World of one run: which simulators, and every coupling between them.

The couplings table below is the one place where data crossing sectors is declared.
Data going backwards in a loop is time-shifted by one step (DESIGN.md, "Loops").
"""

from __future__ import annotations

import gc
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import mosaik

from twin.config import Scenario

# Simulator name -> (module, class, model, entity id). Modules run in-process (`python:`)
# or as separate processes (`cmd:`), each through its own `main()`.
SIMULATORS: dict[str, tuple[str, str, str, str]] = {
    "Incidents": ("twin.incidents", "IncidentsSim", "Incidents", "incidents"),
    "Power": ("twin.models.power.simulator", "PowerSim", "Grid", "power"),
    "Water": ("twin.models.water.simulator", "WaterSim", "Network", "water"),
    "Traffic": ("twin.models.traffic.simulator", "TrafficSim", "Roads", "traffic"),
    "ICT": ("twin.models.ict.simulator", "IctSim", "Network", "ict"),
    "Control": ("twin.control.simulator", "ControlSim", "Control", "control"),
    "Recorder": ("twin.recorder", "RecorderSim", "Recorder", "recorder"),
}


@dataclass(frozen=True)
class Coupling:
    """``src.src_attr`` feeds ``dst.dst_attr``; ``shifted`` breaks a loop by one step."""

    src: str
    dst: str
    src_attr: str
    dst_attr: str
    shifted: bool = False
    initial: Any = None
    meaning: str = ""


COUPLINGS: tuple[Coupling, ...] = (
    # damage: the incidents simulator is its only writer
    Coupling("incidents", "power", "failed", "failed", meaning="hazard -> power assets"),
    Coupling("incidents", "water", "failed", "failed", meaning="hazard -> water assets"),
    Coupling("incidents", "traffic", "failed", "failed", meaning="hazard -> roads, signals"),
    Coupling("incidents", "ict", "failed", "failed", meaning="hazard/attack -> ICT sites, links"),
    Coupling("incidents", "water", "damage", "damage",
             meaning="how pipes are damaged: leak (small emitter) or break (full-bore emitter)"),
    # power -> consumers
    Coupling("power", "water", "dead_buses", "dead_buses", meaning="pumps need their bus"),
    Coupling("power", "water", "unsupplied", "unsupplied",
             meaning="pumps, wells and the plant whose load is shed on a live bus stop as on a dead bus"),
    Coupling("power", "ict", "dead_buses", "dead_buses", meaning="ICT sites need their bus"),
    Coupling("power", "traffic", "dead_buses", "dead_buses", meaning="signals go dark"),
    Coupling("power", "ict", "unsupplied", "unsupplied", meaning="ICT sites whose load is shed"),
    Coupling("power", "traffic", "unsupplied", "unsupplied", meaning="signals whose load is shed"),
    Coupling("power", "control", "telemetry", "telemetry", meaning="grid telemetry for the power policy"),
    # consumers -> power, shifted (loads of the previous step)
    Coupling("water", "power", "load_p_mw", "load_p_mw", True, {}, "pump electrical demand"),
    Coupling("ict", "power", "load_p_mw", "load_p_mw", True, {}, "ICT site demand"),
    Coupling("traffic", "power", "load_p_mw", "load_p_mw", True, {}, "signal demand"),
    Coupling("water", "power", "process_pressure_m", "process_pressure_m", True, {},
             "process water for the central plant"),
    Coupling("water", "power", "process_cause", "process_cause", True, {},
             "the water event behind the process pressure (the cause of a derated plant)"),
    # telemetry to control
    Coupling("ict", "control", "unreachable", "unreachable", meaning="which endpoints reach their controller"),
    Coupling("ict", "traffic", "unreachable", "unreachable",
             meaning="signals cut off from the traffic centre: the cause of their fixed-time fallback"),
    Coupling("ict", "control", "falsified", "falsified", meaning="endpoints whose telemetry an attack falsifies"),
    Coupling("ict", "control", "false_value", "false_value", meaning="the value they report instead"),
    Coupling("water", "control", "tank_level_m", "tank_level_m", meaning="tank telemetry"),
    Coupling("water", "control", "pump_on", "pump_on", meaning="pump telemetry"),
    Coupling("water", "control", "needs_fuel", "needs_fuel",
             meaning="backup generators running low: refuelling jobs for water crews"),
    # commands from control, shifted
    Coupling("control", "power", "power_commands", "commands", True, {}, "switching, batteries, shedding"),
    Coupling("control", "water", "water_commands", "commands", True, {},
             "pump schedule, and crews' refuelling (refuel/<asset>)"),
    Coupling("control", "traffic", "traffic_commands", "commands", True, {}, "signal coordination, crews"),
    # restoration: damage waiting for crews, crews' arrivals, and their repairs (shifted)
    Coupling("incidents", "control", "needs_crew", "needs_crew", meaning="damage only a crew repairs"),
    Coupling("traffic", "control", "crew_arrivals", "crew_arrivals",
             meaning="crews reach their job through traffic (traffic -> restoration)"),
    Coupling("control", "incidents", "repairs", "repairs", True, {}, "crews' repairs clear the damage"),
)

RECORDED: tuple[str, ...] = ("incidents", "power", "water", "traffic", "ict", "control")


def sim_config(mode: Literal["python", "cmd"] = "python") -> dict[str, dict[str, str]]:
    """mosaik sim_config: in-process by default, or one process per simulator."""
    cfg = {}
    for name, (module, cls, _model, _eid) in SIMULATORS.items():
        if mode == "cmd" and name != "Recorder":
            cfg[name] = {"cmd": f"{sys.executable} -m {module} %(addr)s"}
        else:
            cfg[name] = {"python": f"{module}:{cls}"}
    return cfg


def create_params(scenario: Scenario, region_dir: Path, out_path: Path, hazards: bool) -> dict[str, dict]:
    """Keyword arguments of each simulator's ``create`` call."""
    seed = scenario.run.seed
    region = str(region_dir)
    run_scenario = scenario if hazards else scenario.without_hazards()
    return {
        "Incidents": {"region_dir": region, "scenario_toml": run_scenario.to_toml()},
        "Power": {"region_dir": region, "seed": seed, **scenario.power.grid_options(),
                  "season": scenario.run.season,  # storms dim PV under their wind field
                  "storms": [h.model_dump() for h in run_scenario.hazards if h.kind == "storm"]},
        "Water": {"region_dir": region, "seed": seed, "hours": scenario.run.hours,
                  "minimum_pressure_m": scenario.water.minimum_pressure_m,
                  "required_pressure_m": scenario.water.required_pressure_m},
        "Traffic": {"region_dir": region, "seed": seed, **scenario.traffic.model_dump()},
        "ICT": {"region_dir": region, "seed": seed, "attacks": run_scenario.cyber_attacks(),
                "handle_takedowns": True},
        "Control": {"region_dir": region, "seed": seed, "power_policy": scenario.power.policy,
                    "power_policy_params": scenario.power.policy_params,
                    "shed_order": scenario.power.shed_order,
                    "restoration": (scenario.restoration.model_dump()
                                    if scenario.repair.mode == "crews" else None),
                    **scenario.control.model_dump()},
        "Recorder": {"out_path": str(out_path)},
    }


def run_world(
    scenario: Scenario,
    region_dir: Path,
    out_path: Path,
    hazards: bool = True,
    mode: Literal["python", "cmd"] = "python",
    verbose: bool = False,
) -> None:
    """Assemble and run the World; the recorder writes series and events into ``out_path``."""
    step_s = scenario.run.step_s
    params = create_params(scenario, region_dir, out_path, hazards)
    entities = {}
    with mosaik.World(
        sim_config(mode), time_resolution=1.0, skip_greetings=not verbose,
        configure_logging=verbose,
    ) as world:
        for name, (_module, _cls, model, eid) in SIMULATORS.items():
            factory = world.start(name, step_s=step_s)
            (entity,) = getattr(factory, model).create(1, **params[name])
            entities[eid] = entity
        for c in COUPLINGS:
            kwargs: dict[str, Any] = {}
            if c.shifted:
                kwargs = {"time_shifted": True, "initial_data": {c.src_attr: c.initial}}
            world.connect(entities[c.src], entities[c.dst], (c.src_attr, c.dst_attr), **kwargs)
        for eid in RECORDED:
            world.connect(entities[eid], entities["recorder"], "series", "events")
        # twin's own labelled bars (twin.progress) show progress; mosaik's only with --verbose.
        # lazy_stepping=False: every simulator steps as soon as its inputs are there instead
        # of also waiting for its successors; every coupling loop is closed (shifted), so none
        # runs more than a step ahead and results are the same; mosaik's waiting bookkeeping
        # costs 1-3 % less of a run-day in-process (benchmarks/RESULTS.md)
        # Everything built so far (the simulators' models, SUMO's and pandapower's tables:
        # ~270,000 objects) lives as long as the run: frozen, the cyclic garbage collector
        # stops walking it in every full collection (0.14 s each on the default region).
        gc.freeze()
        try:
            world.run(until=scenario.run.horizon_s, print_progress=verbose, lazy_stepping=False)
        finally:
            gc.unfreeze()  # collectable again once the run is over (a sweep worker runs many)
