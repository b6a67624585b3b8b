"""The event vocabulary: every kind classified, solver failures counted per solver."""

import pytest

from twin.events import (
    CUSTOMER_SERVICE_KINDS,
    FAILURE_KINDS,
    KINDS,
    RECOVERY_KINDS,
    SERVICE_FAILURE_KINDS,
    STATE_CHANGE_KINDS,
    EventError,
    is_service_failure,
    make_event,
    run_status,
    solver_failure_counts,
)


def test_failure_classes_partition_the_failure_kinds():
    assert SERVICE_FAILURE_KINDS | CUSTOMER_SERVICE_KINDS | STATE_CHANGE_KINDS == FAILURE_KINDS
    assert not SERVICE_FAILURE_KINDS & STATE_CHANGE_KINDS
    assert not FAILURE_KINDS & RECOVERY_KINDS
    assert {"unreachable", "fixed_time"} <= STATE_CHANGE_KINDS  # telemetry loss is no outage


def test_unknown_kind_is_refused():
    with pytest.raises(EventError, match="classify"):
        make_event(0, "power", "power/bus/x", "exploded")
    assert "tripped" in KINDS


def test_service_failure_depends_on_customers_for_buses_and_loads():
    bus = make_event(0, "power", "power/bus/a", "de-energised", 0.0, "x", "power")
    pump = make_event(0, "water", "water/pump/P1", "pump_stopped", 0.0, "y", "power->water")
    lost = make_event(0, "ict", "water/pump/P1", "unreachable", 0.0, "z", "ict")
    assert is_service_failure(bus, {"power/bus/a": 120})
    assert not is_service_failure(bus, {"power/bus/a": 0})
    assert is_service_failure(pump, {})
    assert not is_service_failure(lost, {"water/pump/P1": 5})


def test_solver_failures_count_distinct_steps_per_solver_and_degrade_the_run():
    evs = [
        make_event(300, "power", "power/grid", "non_convergence", 0.0, "", "simulator"),
        make_event(300, "power", "power/ext_grid/x", "non_convergence", 0.0, "", "simulator"),
        make_event(600, "water", "water/network", "hydraulics_unsolved", 1.0, "", "simulator"),
        make_event(900, "traffic", "traffic/network", "simulator_error", 1.0, "", "simulator"),
        make_event(900, "water", "water/network", "epanet_warning", 3.0, "", "simulator"),
    ]
    assert solver_failure_counts(evs) == {"power": 1, "water": 1, "traffic": 1, "ict": 0}
    assert run_status(evs) == "degraded"
    assert run_status(evs[-1:]) == "complete"
    assert run_status([], baseline_status="degraded") == "degraded"
