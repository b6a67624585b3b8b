"""IncidentLog in crews mode: damage waits for a crew; the crew's work is the repair's cause."""

from __future__ import annotations

import pytest

from twin.hazards import Damage
from twin.incidents import IncidentLog


def test_crews_mode_waits_for_the_crew_and_names_its_work() -> None:
    schedule = [Damage(600, "power/line/A", "hazard/storm-0", 0, None),
                Damage(600, "traffic/road/E1", "hazard/flood-1", 0, 1800)]
    sectors = {"power/line/A": "power", "traffic/road/E1": "traffic"}
    log = IncidentLog(schedule, {"power": 3600}, sectors, mode="crews")
    failed = {e["asset_id"]: e for e in log.advance(600, 300) if e["kind"] == "failed"}
    assert set(log.failed) == set(failed) == {"power/line/A", "traffic/road/E1"}
    assert log.needs_crew == {"power/line/A": failed["power/line/A"]["event_id"]}
    # a fixed-mode repair time passes: nothing comes back; the flooded road reopens by itself
    events = log.advance(4200, 300)
    assert [(e["asset_id"], e["kind"], e["cause_id"]) for e in events] == [
        ("traffic/road/E1", "repaired", failed["traffic/road/E1"]["event_id"])]
    assert set(log.failed) == {"power/line/A"}
    crew_event = "4500|power/line/A|crew_finished"
    (rep,) = log.advance(4800, 300, {"power/line/A": crew_event})
    assert (rep["kind"], rep["cause_id"], rep["coupling"], rep["time_s"]) == (
        "repaired", crew_event, "repair", 4800)
    assert not log.failed and not log.needs_crew
    # a report for an asset that is not failed changes nothing
    assert log.advance(5100, 300, {"power/line/A": crew_event}) == []


def test_fixed_mode_is_unchanged_and_unknown_modes_are_refused() -> None:
    log = IncidentLog([Damage(0, "power/line/A", "hazard/storm-0", 0, None)], {"power": 3600},
                      {"power/line/A": "power"})
    log.advance(0, 300)
    assert log.needs_crew == {}
    assert [e["kind"] for e in log.advance(3600, 300)] == ["repaired"]
    with pytest.raises(ValueError, match="repair mode"):
        IncidentLog([], {}, {}, mode="magic")
