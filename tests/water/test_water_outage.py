"""A long outage of the central pumps: tanks drain, pressure falls, delivery drops — and in
the decentralised configuration the towns' wells and tanks carry them through."""

from __future__ import annotations

from pathlib import Path

from twin.models.water.operation import WaterOperation
from twin.models.water.testing import bus_of, make_test_region

STEP_S = 300
CENTRAL = ("water/pump/PS1", "water/pump/PS2", "water/pump/PS3")
K_DEAD = 12  # the central pumps lose power at 1 h, for the rest of the day


def run_outage(tmp: Path, configuration: str) -> list[dict]:
    region = make_test_region(tmp / configuration, "small", configuration)
    rows = []
    with WaterOperation.from_region(region, pump_backup_h=0.0) as op:
        for k in range(24 * 3600 // STEP_S):
            dead = {bus_of(p): "3600|power/bus/x|de-energised" for p in CENTRAL} if k >= K_DEAD else {}
            rows.append(op.step(k * STEP_S, {}, dead, {}).series)
    return rows


def share(row: dict, district: str) -> float:
    return row["district_delivered_m3s"][district] / row["district_required_m3s"][district]


def test_wells_and_local_tanks_carry_towns(tmp_path: Path) -> None:
    central = run_outage(tmp_path, "centralised")
    decentral = run_outage(tmp_path, "decentralised")
    n = len(central)
    # before the outage both deliver everything
    for rows in (central, decentral):
        assert all(share(rows[k], d) > 0.999 for k in range(K_DEAD) for d in rows[k]["district_required_m3s"])
    # the city tank drains once its pump stops, and then the city goes dry in both
    lvl_c = [r["tank_level_m"]["water/tank/T-city"] for r in central]
    assert lvl_c[K_DEAD + 12] < lvl_c[K_DEAD]
    assert min(lvl_c) < 0.01
    k_empty_c = next(k for k in range(n) if lvl_c[k] < 0.01)
    lvl_d = [r["tank_level_m"]["water/tank/T-city"] for r in decentral]
    k_empty_d = next(k for k in range(n) if lvl_d[k] < 0.01)
    # the towns' own supply relieves the city tank: it lasts longer
    assert k_empty_d > k_empty_c
    last = n - 1
    assert share(central[last], "city") < 0.01 and share(decentral[last], "city") < 0.01
    for town in ("town1", "town2", "village1a", "village2a"):
        assert share(central[last], town) < 0.01  # centralised: nothing left
        assert share(decentral[last], town) > 0.99  # decentralised: wells + tanks
    assert sum(central[last]["customers_out"].values()) > sum(decentral[last]["customers_out"].values())
    assert all(r["pump_on"]["water/pump/PS1"] == 0.0 for r in central[K_DEAD:])
