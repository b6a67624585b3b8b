"""The shipped storm scenario where protection acts (cosim_configs/storm_overload.toml): a
tie transfer overloads a city feeder, its breaker trips, and the chain from the storm to a
consumer in another sector is what ``twin explain`` shows."""

from __future__ import annotations

from pathlib import Path

import pytest

CONFIG = Path(__file__).resolve().parents[2] / "cosim_configs" / "storm_overload.toml"


@pytest.mark.slow
def test_storm_transfer_trips_a_feeder_and_darkens_consumers(tmp_path: Path) -> None:
    from twin import results
    from twin.config import load_scenario
    from twin.report.explain import explain, format_chain
    from twin.runner import run_scenario

    scenario = load_scenario(CONFIG, ['run.configurations=["centralised"]', "run.baseline=false"])
    (outcome,) = run_scenario(scenario, tmp_path)
    assert outcome.status == "complete", outcome.error
    r = results.load(outcome.path)
    ev = {e["event_id"]: e for e in r.events}
    trips = [e for e in r.events if e["kind"] == "tripped"]
    assert trips and {e["asset_id"] for e in trips} == {"power/switch/F1-1"}
    first = trips[0]
    assert first["coupling"] == "overload" and first["value"] > 1.0  # current over rating
    # the trip's cause is the tie transfer, made to isolate and restore the storm's fault
    tie = ev[first["cause_id"]]
    assert (tie["asset_id"], tie["kind"], tie["value"], tie["coupling"]) == (
        "power/switch/T6", "switched", 1.0, "control")
    fault = ev[tie["cause_id"]]
    assert (fault["asset_id"], fault["kind"]) == ("power/line/F7-1", "failed")
    assert ev[fault["cause_id"]]["kind"] == "hazard"
    assert first["time_s"] > tie["time_s"]  # thermal: the conductor took time to heat up
    # the trip darkens F1's city buses and town3 (fed over the tie), and their consumers
    dark = [e for e in r.events if e["kind"] == "de-energised" and e["cause_id"] == first["event_id"]]
    assert {"power/bus/city-1", "power/bus/town3-1"} <= {e["asset_id"] for e in dark}
    dark_ids = {e["event_id"] for e in dark}
    consumers = [e for e in r.events if e["cause_id"] in dark_ids and e["sector"] != "power"]
    assert {e["coupling"] for e in consumers} >= {"power->water", "power->traffic"}
    pump = next(e for e in consumers if e["asset_id"].startswith("water/pump/"))
    ex = explain(r, pump["asset_id"], at_s=pump["time_s"])
    assert [(e["asset_id"], e["kind"]) for e in ex.chain] == [
        (pump["asset_id"], "pump_stopped"), (ev[pump["cause_id"]]["asset_id"], "de-energised"),
        ("power/switch/F1-1", "tripped"), ("power/switch/T6", "switched"),
        ("power/line/F7-1", "failed"), ("hazard/storm-0", "hazard"),
    ]
    assert ex.complete
    text = format_chain(ex)
    assert "overload (protection tripped the breaker)" in text and "power->water" in text
