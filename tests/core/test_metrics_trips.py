"""Trips lost and traffic scaled to the real demand, on hand-built files (by hand below)."""

from __future__ import annotations

from pathlib import Path

import pytest

from twin import metrics, results


def _traffic(cancelled: list[float], running: list[float], loss: list[float],
             abandoned: list[float] | None = None) -> dict:
    n = len(cancelled)
    traffic = {"time_loss_h": loss, "travel_time_index": [1.0] * n, "trips_cancelled": cancelled,
               "vehicles_running": running}
    if abandoned is not None:
        traffic["trips_abandoned"] = abandoned
    return {"power": {"served_mw": [1.0] * n, "demand_mw": [1.0] * n}, "traffic": traffic}


def test_trips_lost_and_scaled(tmp_path: Path, hand) -> None:  # type: ignore[no-untyped-def]
    reg = hand.region(hand.DISTRICTS)
    toml = "[traffic]\ndemand_scale = 0.2\n"
    run = results.load(hand.make_file(tmp_path / "r.h5", reg, _traffic([0, 3, 2, 0], [5, 9, 8, 7], [1, 2, 2, 1],
                                                                        [0, 1, 1, 0]),
                                      [], scenario_toml=toml))
    base = results.load(hand.make_file(tmp_path / "b.h5", reg, _traffic([0, 0, 0, 0], [5, 6, 5, 4], [1, 1, 1, 1]),
                                       [], scenario_toml=toml))
    m, _ = metrics.compute(run, base)
    assert m["demand_scale"] == 0.2
    assert m["trips_cancelled"] == 5  # 3 + 2, none in the baseline
    assert m["trips_abandoned"] == 2  # given up on the way; the baseline has no such series
    assert m["trips_unfinished"] == 7 - 4  # still on the road at the horizon
    assert m["trips_lost"] == 10
    assert m["trips_lost_person_h"] == pytest.approx(10 * (0.4 + 1.0))
    # scaled by 1 / 0.2 = 5 beside the raw figures
    assert m["trips_lost_scaled"] == pytest.approx(50)
    assert m["trips_lost_person_h_scaled"] == pytest.approx(5 * 10 * 1.4)
    assert m["vehicle_delay_h"] == pytest.approx(2.0)
    assert m["vehicle_delay_h_scaled"] == pytest.approx(10.0)


def test_default_demand_scale_without_a_scenario(tmp_path: Path, hand) -> None:  # type: ignore[no-untyped-def]
    run = results.load(hand.make_file(tmp_path / "r.h5", hand.region(hand.DISTRICTS),
                                      _traffic([1, 0], [0, 0], [0.5, 0.5]), []))
    m, _ = metrics.compute(run, None)
    assert m["demand_scale"] == 0.3  # twin.config.TrafficSection's default
    assert m["trips_lost_scaled"] == pytest.approx(1 / 0.3)  # one trip lost, x 1/0.3
    assert m["vehicle_delay_h_scaled"] == pytest.approx(1 / 0.3)  # 1 veh-h, x 1/0.3
