"""Causes of bus outages after fault isolation and service restoration: a bus that goes dark
names the cut on the path that supplied it in the previous step (a tie closed by
restoration included), not an older fault on its normal feeder (issue 15)."""

from __future__ import annotations

import pytest

pytest.importorskip("pandapower")

from twin.events import event_id  # noqa: E402
from twin.models.power.grid import PowerGrid  # noqa: E402
from twin.models.power.testgrids import tie_feeders  # noqa: E402

F22 = "power/line/F2-2"
T1 = "power/line/T1"
B2 = "power/bus/B2"


def _of(res, kind: str, asset: str) -> list[dict]:
    return [e for e in res.events if e["kind"] == kind and e["asset_id"] == asset]


def _transfer(grid: PowerGrid) -> tuple[dict[str, str], object]:
    """F2-2 fails at 300 s; at 600 s control isolates it and closes the tie T1."""
    grid.step(0)
    failed = {F22: event_id(300, F22, "failed")}
    res = grid.step(300, failed=failed)
    cmd = {"power/switch/F2-2": {"value": 0.0, "cause_id": failed[F22]},
           "power/switch/T1": {"value": 1.0, "cause_id": failed[F22]}}
    return failed, (res, grid.step(600, failed=failed, commands=cmd))


def test_a_failed_tie_after_a_transfer_names_the_tie_not_the_older_fault() -> None:
    grid = PowerGrid(tie_feeders(), household_profile=False)
    failed, (res, res2) = _transfer(grid)
    # F2-2 cuts B2 off (C2 stays on F2-1)
    assert set(res.dead_buses) == {B2}
    assert _of(res, "de-energised", B2)[0]["cause_id"] == failed[F22]
    # the transfer brings B2 back over the tie: its cause is the closing of T1, not the
    # opening of F2-2's switch (which isolates, and energises nothing)
    assert res2.dead_buses == {}
    assert _of(res2, "energised", B2)[0]["cause_id"] == event_id(600, "power/switch/T1", "switched")
    # the tie fails: B2 is cut off the path that fed it, over T1 (F2-2 is still failed, and
    # nearer on B2's normal path, but it cut nothing new)
    failed2 = {**failed, T1: event_id(900, T1, "failed")}
    res3 = grid.step(900, failed=failed2)
    assert set(res3.dead_buses) == {B2}
    dark = _of(res3, "de-energised", B2)
    assert [e["cause_id"] for e in dark] == [failed2[T1]]
    assert res3.dead_buses[B2] == dark[0]["event_id"]
    # the tie repaired: B2 is back with the repair as cause
    res4 = grid.step(1200, failed=failed)
    assert _of(res4, "energised", B2)[0]["cause_id"] == event_id(1200, T1, "repaired")
    # control opens the tie (F2-2 still out): that switching cuts B2 off
    res5 = grid.step(1500, failed=failed, commands={"power/switch/T1": {"value": 0.0, "cause_id": ""}})
    assert [e["cause_id"] for e in _of(res5, "de-energised", B2)] == [
        event_id(1500, "power/switch/T1", "switched")]


def test_a_microgrid_islanded_by_a_failed_tie_names_the_tie() -> None:
    grid = PowerGrid(tie_feeders(microgrid_mwh=2.0), household_profile=False)
    mg = "power/microgrid/v2"
    failed, (res, res2) = _transfer(grid)
    # B2's community battery islands it when F2-2 fails, and reconnects over the tie
    assert res.dead_buses == {} and _of(res, "islanded", mg)[0]["cause_id"] == failed[F22]
    assert _of(res2, "reconnected", mg)
    failed2 = {**failed, T1: event_id(900, T1, "failed")}
    res3 = grid.step(900, failed=failed2)
    assert res3.dead_buses == {}
    assert [e["cause_id"] for e in _of(res3, "islanded", mg)] == [failed2[T1]]


def test_restoration_over_a_tie_that_then_fails_on_the_small_region(tmp_path) -> None:
    """The default policy's fault isolation and restoration on a generated grid: a town
    feeder's head fails, restoration closes a tie, the tie fails."""
    from twin.models.power.policy import restoration_commands
    from twin.models.power.testgrids import power_region

    # the synthetic grid: its town feeder head and ties (SimBench areas have no tie between them)
    grid = PowerGrid.from_file(power_region(tmp_path, "small", "centralised", grid="synthetic") / "power.json",
                               seed=1)
    net, ids = grid.net, grid.bus_names
    head = next(str(n) for n, f, t in zip(net.line["name"], net.line["from_bus"], net.line["to_bus"], strict=True)
                if ids[f] == "power/bus/sub-mv" and ids[t] == "power/bus/town1-1")
    grid.step(0)
    failed = {head: event_id(300, head, "failed")}
    res = grid.step(300, failed=failed)
    town = set(res.dead_buses)
    assert town and all(_of(res, "de-energised", b)[0]["cause_id"] == failed[head] for b in town)
    commands = restoration_commands(res.telemetry)
    ties = [a for a, c in commands.items() if c["value"] == 1.0]
    assert len(ties) == 1 and ties[0].startswith("power/switch/T")
    res2 = grid.step(600, failed=failed, commands=commands)
    assert res2.dead_buses == {}
    closed_tie = event_id(600, ties[0], "switched")
    assert {_of(res2, "energised", b)[0]["cause_id"] for b in town} == {closed_tie}
    tie_line = ties[0].replace("power/switch/", "power/line/")
    failed2 = {**failed, tie_line: event_id(900, tie_line, "failed")}
    res3 = grid.step(900, failed=failed2, commands=restoration_commands(res2.telemetry))
    assert set(res3.dead_buses) == town
    assert {_of(res3, "de-energised", b)[0]["cause_id"] for b in town} == {failed2[tie_line]}
