"""Service failures against state changes, on a hand-built two-level causal chain in which
some dependents kept their service (values computed by hand below)."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import pytest

from twin import metrics, results
from twin.events import make_event
from twin.region.assets import make_asset


def _region() -> SimpleNamespace:
    a = [
        make_asset("power/line/L1", "power", "line", 0, 0, "city"),
        make_asset("power/bus/B1", "power", "bus", 0, 0, "city", customers=100),  # households
        make_asset("water/pump/P1", "water", "pump", 0, 0, "city", customers=40),  # people it supplies
        make_asset("water/pump/P2", "water", "pump", 0, 0, "city", customers=60),
        make_asset("water/junction/J1", "water", "junction", 0, 0, "city", customers=30),
        make_asset("water/tank/T1", "water", "tank", 0, 0, "city"),
        make_asset("traffic/road/E1", "traffic", "road", 0, 0, "city"),
    ]
    return SimpleNamespace(
        assets=a, dependencies=[], cost={},
        layout={"districts": [{"id": "city", "kind": "city", "x_m": 0.0, "y_m": 0.0, "radius_m": 900.0,
                               "population": 400, "households": 200, "parent": ""}]})


def _events() -> list:
    """storm -> L1 failed -> B1 de-energised (100 households)
                             -> P1 stopped (40) -> J1 low pressure (30), twice; T1 low (0)
                             -> P2 unreachable: a state change, P2 keeps pumping (60 kept service)
       storm -> road E1 closed: a primary failure without dependents."""
    storm = make_event(0, "incidents", "hazard/storm-0", "hazard")
    line = make_event(600, "power", "power/line/L1", "failed", 1, storm["event_id"], "hazard")
    road = make_event(600, "traffic", "traffic/road/E1", "closed", 1, storm["event_id"], "hazard")
    bus = make_event(600, "power", "power/bus/B1", "de-energised", 1, line["event_id"], "power")
    p1 = make_event(600, "water", "water/pump/P1", "pump_stopped", 0, bus["event_id"], "power->water")
    p2 = make_event(900, "water", "water/pump/P2", "unreachable", 1, bus["event_id"], "ict->water")
    j1 = make_event(1200, "water", "water/junction/J1", "low_pressure", 1, p1["event_id"], "water")
    j1_ok = make_event(1800, "water", "water/junction/J1", "pressure_ok", 1, j1["event_id"], "water")
    j1_again = make_event(2400, "water", "water/junction/J1", "low_pressure", 1, p1["event_id"], "water")
    t1 = make_event(1200, "water", "water/tank/T1", "low_pressure", 1, p1["event_id"], "water")
    return [storm, line, road, bus, p1, p2, j1, j1_ok, j1_again, t1]


@pytest.fixture
def run(tmp_path: Path) -> results.Results:
    series = {"power": {"served_mw": [1.0] * 4, "demand_mw": [1.0] * 4}}
    path = tmp_path / "chain.h5"
    results.start_file(path, {"step_s": 1800, "run_id": "chain", "configuration": "centralised",
                              "seed": 1, "hours": 2.0, "hazard_free": False}, _region())
    results.write_series(path, [0, 1800, 3600, 5400], series)
    results.write_events(path, _events())
    results.set_status(path, "complete")
    return results.load(path)


def test_customer_weighting_through_a_two_level_chain(run: results.Results) -> None:
    m, _ = metrics.compute(run, None)
    # service failures: B1, P1, J1, J1 again, T1 (P2 unreachable and the line/road are state changes)
    assert m["secondary_failures"] == 5
    # each weighted by the customers who lost a service in its subtree, once per asset and service:
    # B1: 100 (power) + P1 40 + J1 30 (counted once, though it failed twice) + T1 0 = 170;
    # P1: 40 + 30 = 70; J1: 30; J1 again: 30; T1: 0.  P2's 60 kept their service.
    assert m["secondary_failures_customers"] == 170 + 70 + 30 + 30 + 0
    # the customers who lost a service by any secondary failure, each once per service
    assert m["customers_lost_service_secondary"] == 170
    # 2 primaries (line, road); only the line has service failures below it: 5 / 1
    assert m["primary_failures"] == 2
    assert m["primary_failures_with_service_loss"] == 1
    assert m["cascade_amplification"] == pytest.approx(5.0)
    assert m["cascade_amplification_applicable"] == 1.0
    # J1 <- P1 <- B1: three service failures on the chain (the line is a state change)
    assert m["cascade_depth_max"] == 3
    # P1 (water) caused by B1 (power); P2 crosses too but kept its service
    assert m["cross_sector_hops"] == 1
    # the old counts, state changes included: B1, P1, P2, J1, J1, T1
    assert m["secondary_failures_all"] == 6
    assert m["secondary_failures_all_customers"] == 100 + 40 + 60 + 30 + 30 + 0
    assert m["cascade_amplification_all"] == pytest.approx(6 / 2)
    assert m["cascade_depth_max_all"] == 4  # storm 0, line 1, bus 2, pump 3, junction 4
    assert m["cross_sector_hops_all"] == 2


def test_subtree_and_depths(run: results.Results) -> None:
    customers = metrics.customers_of(run)
    kids = metrics.children_of(run.events)
    bus = next(e for e in run.events if e["asset_id"] == "power/bus/B1")
    below = {e["asset_id"] for e in metrics.subtree(bus, kids)}
    assert below == {"power/bus/B1", "water/pump/P1", "water/pump/P2", "water/junction/J1", "water/tank/T1"}
    assert metrics.customers_lost(metrics.subtree(bus, kids), customers) == 170
    # the chain walk the metric uses gives the same as the subtree, for every event
    lost = metrics.lost_below(run.events, customers)
    for e in run.events:
        by_walk = sum(customers[a] for a, _ in lost.get(e["event_id"], ()))
        assert by_walk == metrics.customers_lost(metrics.subtree(e, kids), customers), e["event_id"]
    # without customers a de-energised bus is a state change; pumps and junctions stay service failures
    assert [e["asset_id"] for e in metrics.service_failures(run, {})] == [
        "water/pump/P1", "water/junction/J1", "water/junction/J1", "water/tank/T1"]
    depths = metrics.service_depths(run.events, customers)
    assert sorted(depths.values()) == [1, 2, 3, 3, 3]
