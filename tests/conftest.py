"""Hand-built results files shared by the metric and report tests (tests/core, tests/report).

The tiny scenario: a storm fails line L1 at 00:30, the pump P1 it feeds stops (power->water)
and tank T1 runs low half an hour later (water); L1 and P1 are back at 01:30, T1 never. Two
districts: a city (200 households) and a village v1 (50 households).
"""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from twin import results
from twin.events import Event, make_event
from twin.region.assets import make_asset

STEP = 1800  # half an hour: step_h = 0.5


def region(districts: list[tuple[str, str, int]], cost: dict[str, float] | None = None) -> SimpleNamespace:
    """Assets at known places (metres), the given districts as (id, kind, households)."""
    d0 = districts[0][0]
    d1 = districts[-1][0]
    return SimpleNamespace(
        assets=[
            make_asset("power/line/L1", "power", "line", 1000, 0, d0),
            make_asset("power/bus/B1", "power", "bus", 2000, 0, d0),
            make_asset("power/load/L1", "power", "load", 2100, 100, d0, customers=100),
            make_asset("water/pump/P1", "water", "pump", 3000, 500, d1, customers=40),
            make_asset("water/tank/T1", "water", "tank", 4000, 500, d1),
            make_asset("ict/site/BS1", "ict", "site", 0, 2000, d0),
        ],
        layout={"districts": [
            {"id": d, "kind": k, "x_m": 3000.0 * i, "y_m": 0.0, "radius_m": 800.0, "population": 2 * h,
             "households": h, "parent": ""} for i, (d, k, h) in enumerate(districts)]},
        dependencies=[{"consumer": "water/pump/P1", "supplier": "power/bus/B1", "coupling": "power->water"}],
        cost=cost if cost is not None else {"line_km": 12.5, "pipe_km": 4.0, "pv_mw": 0.0, "wells": 0.0},
    )


def make_file(path: Path, reg: SimpleNamespace, series: dict[str, Any], events: list[Event],
              **attrs: Any) -> Path:
    """A complete results file as the runner writes it (metrics left to the caller)."""
    n = len(next(iter(next(iter(series.values())).values())))
    base_attrs = {"step_s": STEP, "run_id": path.stem, "configuration": "centralised", "seed": 1,
                  "hours": n * STEP / 3600, "region_key": "test", "hazard_free": False, "scenario_toml": ""}
    results.start_file(path, {**base_attrs, **attrs}, reg)
    results.write_series(path, [i * STEP for i in range(n)], series)
    results.write_events(path, events)
    results.set_status(path, "complete")
    return path


def cascade_events() -> list[Event]:
    """storm -> line L1 (hazard) -> pump P1 (power->water) -> tank T1 (water); L1 and P1 come back."""
    storm = make_event(0, "incidents", "hazard/storm-0", "hazard")
    line = make_event(1800, "power", "power/line/L1", "failed", 1, storm["event_id"], "hazard")
    pump = make_event(1800, "water", "water/pump/P1", "pump_stopped", 0, line["event_id"], "power->water")
    tank = make_event(3600, "water", "water/tank/T1", "low_pressure", 1, pump["event_id"], "water")
    line_up = make_event(5400, "power", "power/line/L1", "repaired", 1, line["event_id"], "repair")
    pump_up = make_event(5400, "water", "water/pump/P1", "pump_started", 1, line_up["event_id"], "power->water")
    return [storm, line, pump, tank, line_up, pump_up]


SERIES: dict[str, Any] = {
    "power": {
        "served_mw": [10.0, 6.0, 8.0, 10.0],
        "demand_mw": [10.0, 10.0, 10.0, 10.0],
        "customers_out": [{"city": 0.0, "v1": 0.0}, {"city": 50.0, "v1": 20.0},
                          {"city": 10.0, "v1": 20.0}, {"city": 0.0, "v1": 0.0}],
    },
    "water": {
        "delivered_m3s": [1.0, 1.0, 0.5, 0.9],
        "required_m3s": [1.0, 1.0, 1.0, 1.0],
        "customers_out": [{"city": 0.0, "v1": 0.0}, {"city": 0.0, "v1": 0.0},
                          {"city": 0.0, "v1": 30.0}, {"city": 0.0, "v1": 0.0}],
    },
    "traffic": {"time_loss_h": [1.0, 3.0, 2.0, 1.0], "travel_time_index": [1.0, 2.0, 1.25, 1.0]},
    "ict": {"endpoints_reachable": [4.0, 2.0, 4.0, 4.0], "endpoints_total": [4.0, 4.0, 4.0, 4.0]},
}

BASE: dict[str, Any] = {
    "power": {"served_mw": [10.0] * 4, "demand_mw": [10.0] * 4,
              "customers_out": [{"city": 0.0, "v1": 0.0}] * 4},
    "water": {"delivered_m3s": [1.0, 1.0, 1.0, 0.9], "required_m3s": [1.0] * 4,
              "customers_out": [{"city": 0.0, "v1": 0.0}] * 4},
    "traffic": {"time_loss_h": [1.0] * 4, "travel_time_index": [1.0] * 4},
    "ict": {"endpoints_reachable": [4.0] * 4, "endpoints_total": [4.0] * 4},
}

DISTRICTS = [("city", "city", 200), ("v1", "village", 50)]


@pytest.fixture
def cascade_file(tmp_path: Path) -> Path:
    """The tiny three-step cascade, without a metrics group."""
    return make_file(tmp_path / "cascade.h5", region(DISTRICTS), SERIES, cascade_events())


@pytest.fixture
def hand() -> SimpleNamespace:
    """The helpers above for test modules (test files cannot import a conftest reliably)."""
    return SimpleNamespace(region=region, make_file=make_file, cascade_events=cascade_events,
                           SERIES=SERIES, BASE=BASE, DISTRICTS=DISTRICTS, STEP=STEP)
