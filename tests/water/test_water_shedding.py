"""Power's ``unsupplied`` on the water side: a pump or well whose load is shed on a live bus
stops as if its bus were dead, with the shed event as its cause (no mosaik)."""

from __future__ import annotations

from pathlib import Path

import pytest

from twin.events import event_id
from twin.models.water.operation import WaterOperation
from twin.models.water.testing import bus_of, make_test_region

STEP_S = 300
PUMP = "water/pump/PS1"
SHED = "600|water/pump/PS1|shed"
K_SHED, K_BACK, N = 2, 8, 10


@pytest.fixture(scope="module")
def region(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_test_region(tmp_path_factory.mktemp("shed"), "small", "decentralised")


def run(region: Path, unsupplied, dead=lambda k: {}, backup_h: float = 0.0) -> list:
    with WaterOperation.from_region(region, pump_backup_h=backup_h,
                                    generator_start_failure=0.0) as op:
        return [op.step(k * STEP_S, {}, dead(k), {}, unsupplied(k)) for k in range(N)]


def shed_pumps(*pumps: str):
    return lambda k: {p: SHED for p in pumps} if K_SHED <= k < K_BACK else {}


def test_shed_pump_stops_like_a_dead_bus(region: Path) -> None:
    shed = run(region, shed_pumps(PUMP))
    dead = run(region, lambda k: {},
               dead=lambda k: {bus_of(PUMP): SHED} if K_SHED <= k < K_BACK else {})
    stops = [(k, e["cause_id"], e["coupling"]) for k, o in enumerate(shed) for e in o.events
             if e["asset_id"] == PUMP and e["kind"] == "pump_stopped"]
    assert stops == [(K_SHED, SHED, "power->water")]
    starts = [(k, e["cause_id"]) for k, o in enumerate(shed) for e in o.events
              if e["asset_id"] == PUMP and e["kind"] == "pump_started"]
    # back when power restores the load (its load's name is the pump's id)
    assert starts == [(K_BACK, event_id(K_BACK * STEP_S, PUMP, "restored"))]
    for k in range(K_SHED, K_BACK):
        assert shed[k].pump_on[PUMP] is False and shed[k].load_p_mw[PUMP] == 0.0
        assert shed[k].series["pump_powered"][PUMP] == 0.0
    assert shed[K_BACK].pump_on[PUMP] is True and shed[K_BACK].load_p_mw[PUMP] > 0.0
    # hydraulically identical to the same pump on a dead bus
    for a, b in zip(shed, dead, strict=True):
        assert a.series["junction_pressure_m"] == b.series["junction_pressure_m"]
        assert a.tank_level_m == b.tank_level_m


def test_shed_well_and_generator(region: Path) -> None:
    """A shed well is stopped too; a pump with backup fuel runs on its generator, which
    starts for the shed event and draws nothing from the grid."""
    well = "water/well/town1-1"
    outs = run(region, shed_pumps(well, PUMP), backup_h=1.0)
    well_stops = [(k, e["cause_id"]) for k, o in enumerate(outs) for e in o.events
                  if e["asset_id"] == well and e["kind"] in ("pump_stopped", "backup_started")]
    assert well_stops == [(K_SHED, SHED)]  # backup_started: wells have generators too
    gen = [(k, e["kind"], e["cause_id"], e["coupling"]) for k, o in enumerate(outs)
           for e in o.events if e["asset_id"] == PUMP]
    assert (K_SHED, "backup_started", SHED, "power->water") in gen
    assert all(kind != "pump_stopped" for _, kind, _, _ in gen)
    assert all(outs[k].load_p_mw[PUMP] == 0.0 for k in range(K_SHED, K_BACK))
    # fuel burns while shed (in proportion to load: test_water_production), not after
    assert outs[K_BACK - 1].series["fuel_h"][PUMP] < 1.0
    assert outs[K_BACK].load_p_mw[PUMP] > 0.0 and outs[K_BACK].series["fuel_h"][PUMP] == (
        outs[K_BACK - 1].series["fuel_h"][PUMP])


def test_dead_bus_takes_precedence(region: Path) -> None:
    """A pump both on a dead bus and shed names the bus: that is what cut it off."""
    bus_ev = "600|power/bus/B-PS1|de-energised"
    outs = run(region, shed_pumps(PUMP),
               dead=lambda k: {bus_of(PUMP): bus_ev} if K_SHED <= k < K_BACK else {})
    stops = [e["cause_id"] for o in outs for e in o.events
             if e["asset_id"] == PUMP and e["kind"] == "pump_stopped"]
    assert stops == [bus_ev]
