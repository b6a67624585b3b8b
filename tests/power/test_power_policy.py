"""Load shedding order and policy plug-ins, fed into PowerGrid as control would."""

from __future__ import annotations

import pytest

from twin.models.power.grid import PowerGrid
from twin.models.power.policy import DefaultPowerPolicy, PolicyError, load_policy, telemetry_for
from twin.models.power.testgrids import shedding_feeder

FAILED = {"power/line/L1": "0|power/line/L1|failed"}
LOADS = ("power/load/B-1", "water/pump/P1", "power/load/hospital", "ict/site/S1")


class ShedPumpAndIctFirst:
    """A user's policy: keep households, give up the pump and the ICT site first."""

    def __init__(self, keep: str = "household") -> None:
        self.keep = keep

    def decide(self, telemetry: dict) -> dict:
        commands = {}
        for isl in telemetry["islands"]:
            if isl["kind"] == "microgrid" and isl["demand_mw"] > isl["capacity_mw"]:
                for lid in ("water/pump/P1", "ict/site/S1"):
                    commands[lid] = {"value": 0.0, "cause_id": isl["cause_id"]}
        return commands


def _served(res) -> dict[str, float]:
    return {lid: res.series["load_served_mw"][lid] for lid in LOADS}


@pytest.mark.parametrize(
    ("battery_mw", "shed"),
    [
        (1.0, {"power/load/B-1"}),  # 1.4 MW > 1.0: households (0.6) go first
        (0.5, {"power/load/B-1", "ict/site/S1", "power/load/hospital"}),  # then ICT, hospital
    ],
)
def test_default_shedding_order(battery_mw, shed):
    grid = PowerGrid(shedding_feeder(battery_mw), household_profile=False)
    assert grid.step(0).series["served_mw"] == pytest.approx(1.4)
    res = grid.step(300, failed=FAILED)
    served = _served(res)
    assert {lid for lid, p in served.items() if p == 0.0} == shed
    assert res.series["served_mw"] <= battery_mw + 1e-9
    events = {e["asset_id"]: e for e in res.events if e["kind"] == "shed"}
    assert set(events) == shed
    islanded = next(e for e in res.events if e["kind"] == "islanded")
    assert all(e["cause_id"] == islanded["event_id"] and e["coupling"] == "power" for e in events.values())
    assert islanded["cause_id"] == FAILED["power/line/L1"]


def test_configured_shed_order_is_used():
    grid = PowerGrid(shedding_feeder(1.0), household_profile=False,
                     shed_order=("water", "ict", "household", "hospital"))
    grid.step(0)
    served = _served(grid.step(300, failed=FAILED))
    # 1.4 - 0.3 (pump) - 0.2 (ICT) = 0.9 MW fits in 1.0 MW: households keep supply
    assert {lid for lid, p in served.items() if p == 0.0} == {"water/pump/P1", "ict/site/S1"}


def test_custom_policy_loaded_by_spec_changes_what_is_shed():
    outcomes = {}
    for spec in ("twin.models.power.policy:DefaultPowerPolicy", "test_power_policy:ShedPumpAndIctFirst"):
        policy = load_policy(spec)
        grid = PowerGrid(shedding_feeder(1.0), household_profile=False)
        grid.step(0)
        res = grid.step(300, failed=FAILED)
        commands = policy.decide(res.telemetry)  # control sends these, shifted by one step
        res2 = grid.step(600, failed=FAILED, commands=commands)
        outcomes[spec] = {lid for lid, p in _served(res2).items() if p == 0.0}
        if spec.startswith("test_"):
            shed_events = [e for e in res2.events if e["kind"] == "shed"]
            assert {e["asset_id"] for e in shed_events} == {"water/pump/P1", "ict/site/S1"}
            assert all(e["coupling"] == "control" for e in shed_events)
            restored = {e["asset_id"] for e in res2.events if e["kind"] == "restored"}
            assert restored == {"power/load/B-1"}
    assert outcomes["twin.models.power.policy:DefaultPowerPolicy"] == {"power/load/B-1"}
    assert outcomes["test_power_policy:ShedPumpAndIctFirst"] == {"water/pump/P1", "ict/site/S1"}


def test_default_policy_stretches_a_microgrid_for_critical_loads():
    # 2 MWh for 1.4 MW of demand lasts 1.4 h; with min_hours 4 the policy keeps 0.5 MW:
    # households (0.6) and nothing protected go; pump, hospital and ICT (0.8) stay because
    # they are protected, even though that exceeds 0.5 MW.
    policy = DefaultPowerPolicy(min_hours=4.0)
    grid = PowerGrid(shedding_feeder(2.0, 2.0), household_profile=False)
    grid.step(0)
    res = grid.step(300, failed=FAILED)
    assert _served(res)["power/load/B-1"] == pytest.approx(0.6)  # capacity suffices: no local shedding
    commands = policy.decide(res.telemetry)
    assert set(commands) == {"power/load/B-1"}
    res2 = grid.step(600, failed=FAILED, commands=commands)
    assert _served(res2) == pytest.approx(
        {"power/load/B-1": 0.0, "water/pump/P1": 0.3, "power/load/hospital": 0.3, "ict/site/S1": 0.2})


def test_load_policy_errors():
    with pytest.raises(PolicyError, match="module:Class"):
        load_policy("no_colon")
    with pytest.raises(PolicyError, match="cannot import"):
        load_policy("no.such.module:X")
    with pytest.raises(PolicyError, match="has no class"):
        load_policy("twin.models.power.policy:Missing")
    with pytest.raises(PolicyError, match="parameters"):
        load_policy("twin.models.power.policy:DefaultPowerPolicy", bogus=1)


def test_restoration_isolates_the_fault_and_closes_a_tie(tmp_path):
    from twin.models.power.policy import restoration_commands
    from twin.models.power.testgrids import power_region

    region = power_region(tmp_path, "small", "centralised", grid="synthetic")
    grid = PowerGrid.from_file(region / "power.json", seed=1)
    net = grid.net
    ids = {i: n for i, n in net.bus["name"].items()}
    head = next(str(n) for n, f, t in zip(net.line["name"], net.line["from_bus"], net.line["to_bus"], strict=True)
                if ids[f] == "power/bus/sub-mv" and ids[t] == "power/bus/town1-1")
    failed = {head: f"0|{head}|failed"}
    grid.step(0)
    res = grid.step(300, failed=failed)
    town1 = {"power/bus/town1-1", "power/bus/town1-2", "power/bus/town1-3", "power/bus/village1a-1"}
    assert set(res.dead_buses) == town1
    commands = restoration_commands(res.telemetry)
    head_switch = head.replace("power/line/", "power/switch/")
    assert commands[head_switch] == {"value": 0.0, "cause_id": failed[head]}
    ties = [a for a, c in commands.items() if c["value"] == 1.0]
    assert len(ties) == 1 and ties[0].startswith("power/switch/T")
    res2 = grid.step(600, failed=failed, commands=commands)
    assert res2.dead_buses == {}
    assert res2.converged
    energised = [e for e in res2.events if e["kind"] == "energised"]
    assert {e["asset_id"] for e in energised} == town1
    # the grid stays radial: the energised topology is a forest (no loop through the tie)
    import networkx as nx
    import pandapower.topology as top

    assert nx.is_forest(nx.Graph(top.create_nxgraph(grid.net, respect_switches=True)))
    # after repair the crew recloses the isolating switch (local rule) and, one step later,
    # the policy opens the tie again: back to normal, nothing goes dark
    res3 = grid.step(900, failed={}, commands=restoration_commands(res2.telemetry))
    assert res3.switch_closed[head_switch] is True
    back = restoration_commands(res3.telemetry)
    assert back == {ties[0]: {"value": 0.0, "cause_id": ""}}
    res4 = grid.step(1200, failed={}, commands=back)
    assert res4.dead_buses == {}
    assert res4.switch_closed == res4.telemetry["switch_normally_closed"]
    assert restoration_commands(res4.telemetry) == {}


def test_repair_crew_recloses_an_isolating_switch_without_control(tmp_path):
    from twin.models.power.policy import restoration_commands
    from twin.models.power.testgrids import power_region

    region = power_region(tmp_path, "small", "centralised", grid="synthetic")
    grid = PowerGrid.from_file(region / "power.json", seed=1)
    line = "power/line/F4-1"
    failed = {line: f"0|{line}|failed"}
    grid.step(0)
    res = grid.step(300, failed=failed)
    isolate = {a: c for a, c in restoration_commands(res.telemetry).items() if c["value"] == 0.0}
    assert isolate == {"power/switch/F4-1": {"value": 0.0, "cause_id": failed[line]}}
    res = grid.step(600, failed=failed, commands=isolate)  # control then loses contact
    assert res.switch_closed["power/switch/F4-1"] is False
    assert res.dead_buses
    res = grid.step(900, failed={})  # repaired, no command
    assert res.switch_closed["power/switch/F4-1"] is True
    ev = next(e for e in res.events if e["asset_id"] == "power/switch/F4-1")
    assert (ev["kind"], ev["value"], ev["coupling"]) == ("switched", 1.0, "repair")
    assert res.dead_buses == {}


def test_restoration_picks_per_dark_group_the_first_tie_that_holds() -> None:
    """Hand-made telemetry: L1 failed cuts buses a, b (one group, joined by a healthy closed
    branch) and c (a group of its own). Group {a, b} has three ties to the grid: T1 (open
    switch at the grid end, written grid -> b), T2 (a -> grid) and T0, whose trial would
    overload; group {c} has T3. With the transfer check the groups close T1 and T3 (first by
    id among the ties that hold), without it T0; a tie whose switches are all closed, or
    that joins two dark buses, is no candidate."""
    from twin.models.power.policy import restoration_commands

    def br(bid: str, f: str, t: str, sw: list[str], failed: bool = False, cause: str = "") -> dict:
        return {"id": bid, "from": f, "to": t, "switches": sw, "failed": failed, "cause_id": cause}

    telemetry = {
        "buses": {"g": "grid", "h": "grid", "a": "dead", "b": "dead", "c": "dead"},
        "branches": [
            br("L1", "g", "a", ["s-L1"], failed=True, cause="ev1"),
            br("L2", "a", "b", ["s-L2"]),
            br("T2", "a", "h", ["s-T2"]),
            br("T1", "g", "b", ["s-T1"]),
            br("T0", "b", "h", ["s-T0"]),
            br("T3", "c", "g", ["s-T3a", "s-T3b"]),
            br("T4", "c", "h", ["s-T4"]),  # its switch is closed: not a tie to close
            br("T5", "b", "c", ["s-T5"]),  # dark to dark: not a tie
        ],
        "switch_closed": {"s-L1": True, "s-L2": True, "s-T2": False, "s-T1": False, "s-T0": False,
                          "s-T3a": True, "s-T3b": False, "s-T4": True, "s-T5": False},
        "transfer_trials": {"T0": {"converged": True, "max_loading_pct": 130.0, "min_vm_pu": 0.97},
                            "T1": {"converged": True, "max_loading_pct": 80.0, "min_vm_pu": 0.97},
                            "T2": {"converged": False}},
    }
    checked = restoration_commands(telemetry, check_transfers=True)
    assert checked == {
        "s-L1": {"value": 0.0, "cause_id": "ev1"},  # isolate the fault
        "s-T1": {"value": 1.0, "cause_id": "ev1"},  # T0 overloads, T2 does not converge
        "s-T3b": {"value": 1.0, "cause_id": ""},  # only the open switch of T3
    }
    unchecked = restoration_commands(telemetry, check_transfers=False)
    assert unchecked["s-T0"] == {"value": 1.0, "cause_id": "ev1"} and "s-T1" not in unchecked
    assert unchecked["s-T3b"]["value"] == 1.0 and "s-T4" not in unchecked and "s-T5" not in unchecked


class MarksBranches:
    """A user's policy that writes into the telemetry it is given."""

    def decide(self, telemetry: dict) -> dict:
        for br in telemetry["branches"]:
            br["failed"] = True
        return {}


def test_the_branch_list_is_shared_between_steps_and_copied_for_a_users_policy():
    grid = PowerGrid(shedding_feeder(1.0), household_profile=False)
    first = grid.step(0).telemetry["branches"]
    again = grid.step(300).telemetry["branches"]
    assert again is first and not any(br["failed"] for br in first)  # same down-set: the same list
    faulted = grid.step(600, failed=FAILED).telemetry["branches"]
    assert faulted is not first and {br["id"] for br in faulted if br["failed"]} == {"power/line/L1"}
    builtin = load_policy("twin.models.power.policy:DefaultPowerPolicy")
    assert telemetry_for(builtin, {"branches": faulted})["branches"] is faulted  # twin's own: read only
    user = load_policy("test_power_policy:MarksBranches")
    given = telemetry_for(user, {"branches": faulted, "loads": {}})
    assert given["branches"] == faulted and all(a is not b for a, b in zip(given["branches"], faulted, strict=True))
    user.decide(given)
    assert {br["id"] for br in grid.step(900, failed=FAILED).telemetry["branches"] if br["failed"]} == {
        "power/line/L1"}  # the grid's own list untouched


class WritesEverything:
    """A user's policy that changes every map of the telemetry it is given."""

    def decide(self, telemetry: dict) -> dict:
        for key in ("switch_closed", "switch_normally_closed", "buses"):
            for k in list(telemetry[key]):
                telemetry[key][k] = "changed"
        for ld in telemetry["loads"].values():
            ld["demand_mw"] = -1.0
        return {}


def test_a_users_policy_gets_plain_maps_of_its_own_and_the_grids_stay_as_they_were():
    grid = PowerGrid(shedding_feeder(1.0), household_profile=False)
    tel = grid.step(0).telemetry
    again = grid.step(300).telemetry
    # unchanged switch positions and bus kinds: the grid hands out the same read-only maps
    assert again["switch_closed"] is tel["switch_closed"] and again["buses"] is tel["buses"]
    loads = again["loads"]
    assert not isinstance(loads, dict) and set(loads) == set(grid.load_names)
    assert {lid: ld["demand_mw"] for lid, ld in loads.items()} == pytest.approx(
        dict(zip(grid.load_names, grid._demand(300).tolist(), strict=True)))
    before = {k: dict(again[k]) for k in ("switch_closed", "switch_normally_closed", "buses")}
    user = load_policy("test_power_policy:WritesEverything")
    given = telemetry_for(user, again)
    assert type(given["loads"]) is dict and given["loads"] == dict(loads.items())
    user.decide(given)
    assert {k: dict(again[k]) for k in before} == before  # the grid's own maps untouched
    nxt = grid.step(600).telemetry
    assert all(ld["demand_mw"] >= 0 for ld in nxt["loads"].values())


class NoLoads(dict):
    """Telemetry loads that fail the test when read."""

    def items(self):  # type: ignore[override]
        raise AssertionError("the loads were read")


def test_the_default_policy_reads_the_loads_only_for_an_island_short_of_supply_or_a_microgrid():
    grid = PowerGrid(shedding_feeder(1.0), household_profile=False)
    tel = dict(grid.step(0).telemetry)
    (main,) = tel["islands"]
    # the island's demand is the grid's left-to-right sum of its loads' demand, bit for bit
    assert main["demand_mw"] == sum(ld["demand_mw"] for ld in tel["loads"].values() if ld["island"] == main["id"])
    policy = DefaultPowerPolicy()
    for capacity in (-1.0, 2.0 * main["demand_mw"]):  # unlimited, or more than the demand
        isl = {**main, "capacity_mw": capacity}
        expected = policy.decide({**tel, "islands": [isl]})
        assert policy.decide({**tel, "islands": [isl], "loads": NoLoads()}) == expected  # nothing to shed
    short = {**main, "capacity_mw": 0.5 * main["demand_mw"]}
    assert any(cmd["value"] == 0.0 for cmd in policy.decide({**tel, "islands": [short]}).values())
    with pytest.raises(AssertionError, match="the loads were read"):
        policy.decide({**tel, "islands": [short], "loads": NoLoads()})
    islanded = dict(grid.step(300, failed=FAILED).telemetry)
    assert any(isl["kind"] == "microgrid" for isl in islanded["islands"])
    with pytest.raises(AssertionError, match="the loads were read"):
        policy.decide({**islanded, "loads": NoLoads()})
