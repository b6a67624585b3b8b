"""Treatment and production need power; backup generators burn fuel in proportion to their
load and may fail to start (issue 16, item 3; no mosaik)."""

from __future__ import annotations

from pathlib import Path

import pytest

from twin.models.water.build import CLEARWELL_H, CLEARWELL_HEIGHT_M, PRODUCTION_FACTOR
from twin.models.water.operation import WaterOperation
from twin.models.water.supply import PowerSupply, SupplyError
from twin.models.water.testing import bus_of, make_test_region
from twin.randomness import stream
from twin.region.assets import load_region

STEP_S = 300
PLANT = "water/plant/WTP"
CLEARWELL = "water/tank/T-clearwell"
DEAD = "600|power/bus/B-WTP|de-energised"


@pytest.fixture(scope="module")
def central(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_test_region(tmp_path_factory.mktemp("prod"), "small", "centralised")


def run(region: Path, n: int, dead, **kwargs) -> list:
    with WaterOperation.from_region(region, **kwargs) as op:
        return [op.step(k * STEP_S, {}, dead(k), {}) for k in range(n)]


def test_plant_asset_and_clear_well(central: Path) -> None:
    region = load_region(central)
    plant = next(a for a in region.assets if a["id"] == PLANT)
    assert plant["type"] == "plant" and plant["needs_power"] and plant["p_mw"] > 0
    assert region.suppliers("power->water")[PLANT] == bus_of(PLANT)
    tank = next(a for a in region.assets if a["id"] == CLEARWELL)
    # the clear well holds CLEARWELL_H hours of the production's average demand
    avg = plant["capacity"] / PRODUCTION_FACTOR
    assert tank["capacity"] == pytest.approx(avg * CLEARWELL_H * 3600, rel=0.01)


def test_plant_without_power_stops_and_its_clear_well_drains(central: Path) -> None:
    k_dead, k_back, n = 2, 60, 72  # 4 h 50 min without power
    outs = run(central, n, lambda k: {bus_of(PLANT): DEAD} if k_dead <= k < k_back else {})
    events = [(k, e["asset_id"], e["kind"], e["cause_id"], e["coupling"])
              for k, o in enumerate(outs) for e in o.events if e["asset_id"] == PLANT]
    back = f"{k_back * STEP_S}|{bus_of(PLANT)}|energised"
    assert events == [(k_dead, PLANT, "production_stopped", DEAD, "power->water"),
                      (k_back, PLANT, "production_started", back, "power->water")]
    flow = [o.series["plant_flow_m3s"][PLANT] for o in outs]
    design = outs[0].series["plant_flow_m3s"][PLANT]
    assert design > 0 and all(abs(f) < 1e-9 for f in flow[k_dead:k_back])
    assert all(o.load_p_mw[PLANT] == 0.0 for o in outs[k_dead:k_back])
    level = [o.tank_level_m[CLEARWELL] for o in outs]
    # no production: the level never rises, and PS1 empties the clear well
    rises = [(k, level[k], level[k + 1]) for k in range(k_dead, k_back - 1)
             if level[k + 1] > level[k] + 1e-6]
    assert not rises, rises
    k_empty = next(k for k in range(k_dead, k_back) if level[k] < 1e-3)
    # ... at the rate PS1 draws: the volume it held over PS1's mean flow in between
    q = [o.series["pump_flow_m3s"]["water/pump/PS1"] for o in outs]
    drawn = sum((q[k] + q[k + 1]) / 2 * STEP_S for k in range(k_dead, k_empty - 1))
    tank_m2 = next(a for a in load_region(central).assets
                   if a["id"] == CLEARWELL)["capacity"] / CLEARWELL_HEIGHT_M
    assert drawn == pytest.approx((level[k_dead] - level[k_empty - 1]) * tank_m2, rel=0.01)
    # afterwards PS1 cannot pump, and the city lives on its tank
    assert all(outs[k].series["pump_flow_m3s"]["water/pump/PS1"] < 1e-6
               for k in range(k_empty + 1, k_back))
    assert flow[k_back] == pytest.approx(design, rel=1e-3) and level[-1] > level[k_back]
    # the chain: bus -> production_stopped -> clear well drained -> PS1 off -> refilled
    stopped = f"{k_dead * STEP_S}|{PLANT}|production_stopped"
    drained = f"{k_empty * STEP_S}|{CLEARWELL}|drained"
    chain = {(e["asset_id"], e["kind"]): (k, e["cause_id"], e["coupling"])
             for k, o in enumerate(outs) for e in o.events}
    assert chain[(CLEARWELL, "drained")] == (k_empty, stopped, "water")
    assert chain[("water/pump/PS1", "pump_off")] == (k_empty, drained, "water")
    k_refilled, cause, _ = chain[(CLEARWELL, "refilled")]
    assert k_refilled > k_back and cause == drained


def test_generator_burns_fuel_in_proportion_to_load(central: Path) -> None:
    pump, bus_ev = "water/pump/PS1", "600|power/bus/B-PS1|de-energised"
    outs = run(central, 24, lambda k: {bus_of(pump): bus_ev} if k >= 2 else {},
               pump_backup_h=1.0, generator_start_failure=0.0)
    p_nom = next(a for a in load_region(central).assets if a["id"] == pump)["p_mw"]
    fuel = 3600.0
    for k in range(2, 24):
        p = outs[k].series["pump_p_mw"][pump]
        fuel = max(0.0, fuel - STEP_S * p / p_nom)
        assert outs[k].series["fuel_h"][pump] == pytest.approx(fuel / 3600.0, abs=1e-12)
        if fuel == 0.0:
            break
    k_dry = k
    kinds = [(k, e["kind"]) for k, o in enumerate(outs) for e in o.events if e["asset_id"] == pump]
    assert (2, "backup_started") in kinds and (k_dry, "fuel_exhausted") in kinds
    stop = [e for o in outs[k_dry + 1:k_dry + 2] for e in o.events if e["kind"] == "pump_stopped"]
    assert stop and stop[0]["cause_id"] == f"{k_dry * STEP_S}|{pump}|fuel_exhausted"
    # a pump off by its level switch burns nothing while on the generator
    idle = [k for k in range(3, k_dry) if outs[k].series["pump_p_mw"][pump] == 0.0]
    for k in idle:
        assert outs[k].series["fuel_h"][pump] == outs[k - 1].series["fuel_h"][pump]


def test_generator_start_failure(central: Path) -> None:
    pump, bus_ev = "water/pump/PS1", "600|power/bus/B-PS1|de-energised"
    outs = run(central, 4, lambda k: {bus_of(pump): bus_ev} if k >= 2 else {},
               pump_backup_h=8.0, generator_start_failure=1.0)
    ev = [(e["kind"], e["cause_id"]) for o in outs for e in o.events if e["asset_id"] == pump]
    failed = f"{2 * STEP_S}|{pump}|start_failed"
    assert ev == [("start_failed", bus_ev), ("pump_stopped", failed)]
    with pytest.raises(SupplyError):
        PowerSupply("x", None, 0.0, 0.0, start_failure=1.5)


def test_start_failures_follow_the_seeded_stream() -> None:
    """Each generator's first start draws stream(seed, "generator-start", asset) once: it
    fails exactly when that draw is below the probability; over 2,000 generators about 3 %."""
    def emit(aid: str, kind: str, value: float, cause: str, coupling: str) -> dict:
        return {"event_id": f"0|{aid}|{kind}", "kind": kind}

    fails = 0
    for i in range(2000):
        aid = f"water/pump/G{i}"
        s = PowerSupply(aid, "bus", 3600.0, 1.0, seed=7)
        powered, why = s.update({"bus": "ev"}, {}, emit)
        expected = float(stream(7, "generator-start", aid).random()) < 0.03
        assert powered is not expected and (why == f"0|{aid}|start_failed") is expected
        fails += expected
    assert 0.03 * 2000 - 3 * (2000 * 0.03 * 0.97) ** 0.5 < fails < 0.03 * 2000 + 3 * (
        2000 * 0.03 * 0.97) ** 0.5
