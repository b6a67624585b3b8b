"""CrewManager without mosaik: a job's life, a blocked crew clearing its way, policy errors."""

from __future__ import annotations

import math

import pytest

from twin.control.crews import DETOUR, CrewManager
from twin.control.dispatch import DispatchError
from twin.hazards import repair_time_h
from twin.region.assets import RegionInfo

LINE = "power/line/F2-3"
FAILED = {LINE: f"1800|{LINE}|failed"}


def _manager(region: RegionInfo, **kwargs) -> CrewManager:  # type: ignore[no-untyped-def]
    return CrewManager(region, 5, {"power": 1}, **kwargs)


def test_dispatch_travel_work_and_repair_report(small_regions: dict[str, RegionInfo]) -> None:
    region = small_regions["centralised"]
    mgr = _manager(region)
    step = mgr.step(1800, 300, FAILED, {})
    (ev,) = step.events
    assert (ev["kind"], ev["cause_id"], ev["coupling"]) == ("crew_dispatched", FAILED[LINE], "control")
    assert step.trips == {"crew/power-1": {"value": 1.0, "origin": "substation", "destination": LINE,
                                           "asset": LINE, "cause_id": ev["event_id"]}}
    assert mgr.step(2100, 300, FAILED, {}).trips == {}  # driving: no second trip
    arrival = {"crew/power-1": {"asset": LINE, "status": "arrived", "arrival_s": 2222.0}}
    assert mgr.step(2400, 300, FAILED, arrival).events == []
    asset = next(a for a in region.assets if a["id"] == LINE)
    done_s = 2222.0 + 3600 * repair_time_h(5, asset)
    report_t = math.ceil(done_s / 300) * 300  # first step at or after the work is done
    assert mgr.step(report_t - 300, 300, FAILED, {}).repairs == {}
    step = mgr.step(report_t, 300, FAILED, {})
    (fin,) = step.events
    assert (fin["kind"], fin["time_s"], fin["cause_id"]) == ("crew_finished", int(done_s), f"2222|{LINE}|crew_arrived")
    assert step.repairs == {LINE: fin["event_id"]}
    # until incidents clears it, the repaired asset is no new job
    assert mgr.step(report_t + 300, 300, FAILED, {}).trips == {}
    assert mgr.series()["crews_idle"] == 1.0


def test_a_crew_without_an_open_route_clears_its_way(small_regions: dict[str, RegionInfo]) -> None:
    region = small_regions["centralised"]
    mgr = _manager(region, blocked_speed_kmh=5.0)
    mgr.step(1800, 300, FAILED, {})
    blocked = {"crew/power-1": {"asset": LINE, "status": "no_route"}}
    assert mgr.step(2100, 300, FAILED, blocked).events == []
    fac = {f["id"]: (f["x_m"], f["y_m"]) for f in region.layout["facilities"]}
    asset = next(a for a in region.assets if a["id"] == LINE)
    eta = 2100 + 3.6 * DETOUR * math.dist(fac["substation"], (asset["x_m"], asset["y_m"])) / 5.0
    t = math.ceil(eta / 300) * 300
    assert all(e["kind"] != "crew_arrived" for e in mgr.step(t - 300, 300, FAILED, {}).events)
    (arr,) = mgr.step(t, 300, FAILED, {}).events
    assert (arr["kind"], arr["time_s"], arr["cause_id"], arr["coupling"]) == (
        "crew_arrived", int(eta), f"2100|{LINE}|crew_blocked", "traffic->restoration")
    # with blocked_speed_kmh = 0 the crew gives the job back and it waits an hour
    mgr = _manager(region, blocked_speed_kmh=0.0)
    mgr.step(1800, 300, FAILED, {})
    assert mgr.step(2100, 300, FAILED, blocked).trips == {"crew/power-1": {"value": 0.0, "cause_id": ""}}
    assert mgr.step(2100 + 3600, 300, FAILED, {}).trips["crew/power-1"]["destination"] == LINE


class _Greedy:
    def assign(self, time_s, crews, jobs):  # type: ignore[no-untyped-def]
        return {"power-1": "water/pump/PS1"}


def test_impossible_assignments_and_bad_specs_raise(small_regions: dict[str, RegionInfo]) -> None:
    region = small_regions["centralised"]
    mgr = _manager(region)
    mgr.policy = _Greedy()
    with pytest.raises(DispatchError, match="no open job"):
        mgr.step(1800, 300, FAILED, {})
    for spec, msg in (("nomodule", "must look like"), ("no_such_module_x:Y", "cannot import"),
                      ("twin.control.dispatch:Nope", "has no class")):
        with pytest.raises(DispatchError, match=msg):
            _manager(region, dispatch=spec)
    with pytest.raises(DispatchError, match="depot"):
        CrewManager(region, 5, {"power": 1}, depots={"power": ["atlantis"]})
