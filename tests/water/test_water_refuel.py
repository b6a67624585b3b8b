"""Crews refuel backup generators through the road network (docs/water.md, "Refuelling").

Unit: a generator asks for fuel at half a tank and a refuelled one that had run dry starts
again. Coupled (small region, centralised with 1 h of backup fuel (at full load) at every pump, 7 h, one
water crew): the bus of booster PS2 is down from 1 h to 7.5 h. With open roads the crew
reaches PS2 before it runs dry and the generator keeps running; with the roads around PS2
closed until 5.5 h (and crews that wait for an open route) it runs dry at the time its
burn gives, PS2 stops, and the crew that finally gets through starts it again.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import twin
from twin.config import Scenario
from twin.models.traffic.network import RoadNetwork
from twin.models.water.supply import PowerSupply
from twin.region.assets import load_region
from twin.runner import run_scenario

STEP_S = 300
PUMP = "water/pump/PS2"
BUS = "power/bus/town1-1"


class Emitter:
    def __init__(self) -> None:
        self.events: list[tuple[str, str, str]] = []

    def __call__(self, aid: str, kind: str, value: float, cause: str, coupling: str) -> dict:
        self.events.append((kind, cause, coupling))
        return {"event_id": f"{aid}|{kind}|{len(self.events)}"}


def test_fuel_request_and_refuel_after_running_dry() -> None:
    emit = Emitter()
    g = PowerSupply("water/pump/X", "power/bus/b", fuel_s=3600.0, nominal_mw=1.0, start_failure=0.0)
    dead = {"power/bus/b": "bus-down"}
    assert g.update(dead, {}, emit) == (True, "")
    assert g.fuel_request(0.5) == ""  # a full tank
    g.burn(1.0, 1500, emit)  # 2100 s left: above half
    assert g.fuel_request(0.5) == ""
    g.burn(0.5, 600, emit)  # half load: 300 s burnt, 1800 s left = half a tank
    assert g.fuel_request(0.5) == g.started != ""
    g.burn(1.0, 1800, emit)
    assert g.fuel_s == 0.0 and emit.events[-1][0] == "fuel_exhausted"
    assert g.update(dead, {}, emit) == (False, g.exhausted)
    assert g.fuel_request(0.5) == g.exhausted  # a dry generator still asks
    g.refuel("crew-done", emit)
    assert emit.events[-1] == ("refuelled", "crew-done", "repair") and g.fuel_s == 3600.0
    powered, _ = g.update(dead, {}, emit)  # a new start attempt
    assert powered and emit.events[-1][0] == "backup_started" and g.on_generator
    assert g.update({}, {}, emit) == (True, "") and g.fuel_request(0.0) == ""  # grid back


def _scenario(closed_roads: list[str]) -> Scenario:
    hazards = [{"kind": "outage", "asset": BUS, "at_h": 1.0, "duration_h": 6.5}]
    hazards += [{"kind": "outage", "asset": road, "at_h": 0.5, "duration_h": 5.0}
                for road in closed_roads]
    return Scenario.model_validate({
        "run": {"name": "refuel", "hours": 7, "step_s": STEP_S, "seed": 5,
                "configurations": ["centralised"], "baseline": False},
        "region": {"size": "small", "seed": 1, "grid": "synthetic",  # PS2 on bus town1-1
                   "configurations": {"centralised": {"pump_backup_h": 1.0}}},
        "repair": {"mode": "crews"},
        "restoration": {"crews": {"water": 1}, "blocked_speed_kmh": 0.0, "refuel_h": 0.5},
        "hazards": hazards,
    })


def _run(tmp: Path, closed_roads: list[str]) -> twin.Results:
    (outcome,) = run_scenario(_scenario(closed_roads), tmp)
    assert outcome.status in ("complete", "degraded"), outcome.error
    return twin.load(outcome.path)


def _pump_events(r: twin.Results, kinds: set[str]) -> list[dict]:
    return [e for e in r.events if e["asset_id"] == PUMP and e["kind"] in kinds]


def _burn_dry_time(r: twin.Results, start_s: int, fuel_s: float, p_nom: float) -> int:
    """When the recorded pump power, burnt from ``start_s`` at step_s x p / p_nom per step,
    empties a tank of ``fuel_s`` full-load seconds (the rule of docs/water.md)."""
    p = r.column("water", "pump_p_mw", PUMP)
    for k, t in enumerate(r.time_s):
        if t >= start_s:
            fuel_s -= STEP_S * p[k] / p_nom
            if fuel_s <= 1e-9:
                return int(t)
    raise AssertionError("the generator never ran dry")


@pytest.mark.slow
def test_crew_keeps_the_generator_running_unless_its_roads_are_closed(tmp_path: Path) -> None:
    open_run = _run(tmp_path / "open", [])
    region = load_region(next((tmp_path / "open" / ".regions").iterdir()))
    pump = next(a for a in region.assets if a["id"] == PUMP)
    roads = RoadNetwork.read(region.path("traffic"))
    near = roads.nearest_edges(pump["x_m"], pump["y_m"], k=8)  # where traffic sends the crew
    closed = sorted({f"traffic/road/{roads.road_of(e)}" for e in near})

    # open roads: dispatched at half a tank, refuelled before it runs dry, never stops
    fuel = open_run.column("water", "fuel_h", PUMP)
    (started,) = _pump_events(open_run, {"backup_started"})
    assert started["time_s"] == 3600
    k_half = int(np.argmax(fuel <= 0.5))
    dispatched = [e for e in open_run.events if e["kind"] == "crew_dispatched" and e["asset_id"] == PUMP]
    assert dispatched[0]["time_s"] == int(open_run.time_s[k_half])
    assert dispatched[0]["cause_id"] == started["event_id"]
    refuelled = _pump_events(open_run, {"refuelled"})[0]  # later ones at the next half tank
    finished = next(e for e in open_run.events if e["event_id"] == refuelled["cause_id"])
    arrived = next(e for e in open_run.events if e["event_id"] == finished["cause_id"])
    assert (finished["kind"], arrived["kind"], arrived["coupling"]) == (
        "crew_finished", "crew_arrived", "traffic->restoration")
    assert finished["time_s"] == pytest.approx(arrived["time_s"] + 1800, abs=1)  # refuel_h on site
    assert not _pump_events(open_run, {"fuel_exhausted", "pump_stopped"})
    k_ref = int(np.searchsorted(open_run.time_s, refuelled["time_s"]))
    assert 1.0 - STEP_S / 3600 - 1e-9 <= fuel[k_ref] <= 1.0  # a full tank, less one step's burn
    assert open_run.column("water", "pump_powered", PUMP).min() == 1.0

    # roads closed around PS2 until 5.5 h: the crew finds no route and waits
    shut = _run(tmp_path / "closed", closed)
    assert any(e["kind"] == "crew_blocked" and e["asset_id"] == PUMP for e in shut.events)
    (dry,) = _pump_events(shut, {"fuel_exhausted"})
    assert dry["time_s"] == _burn_dry_time(shut, 3600, 3600.0, float(pump["p_mw"]))
    (stop,) = _pump_events(shut, {"pump_stopped"})
    assert stop["time_s"] == dry["time_s"] + STEP_S and stop["cause_id"] == dry["event_id"]
    refuelled = _pump_events(shut, {"refuelled"})[0]
    assert refuelled["time_s"] > 5.5 * 3600 > dry["time_s"]  # only once the roads reopened
    (back,) = _pump_events(shut, {"pump_started"})
    assert back["time_s"] == refuelled["time_s"] and back["time_s"] < 7.5 * 3600  # before the grid
    restart = next(e for e in shut.events if e["event_id"] == back["cause_id"])
    assert restart["kind"] == "backup_started"
