"""Cyber attacks: spread along links, false data, take-downs, and their causal chain."""

from __future__ import annotations

import networkx as nx
import pytest

from twin.models.ict.attacks import (
    AttackSchedule,
    AttackSpecError,
    falsified_endpoints,
    parse_attack,
    parse_attacks,
    spread_attack,
)
from twin.models.ict.build import build_graph, load_graph
from twin.models.ict.fixtures import make_ict_region, run_ict_world
from twin.models.ict.network import endpoints_from_region
from twin.randomness import uniform
from twin.region.assets import load_region
from twin.region.layout import make_layout
from twin.region.params import params_for

SEED = 7
G = build_graph(make_layout("small", 1), params_for("decentralised"), "decentralised")
START = "ict/site/BS1"


def test_probability_zero_stays_on_first_site():
    assert spread_attack(G, START, 0.0, SEED) == [START]


def test_probability_one_takes_the_connected_component():
    assert spread_attack(G, START, 1.0, SEED) == sorted(G.nodes)
    # with the city router down, the component of BS1 over up sites and links is smaller
    down = {"ict/site/ARcity"}
    up = G.subgraph(n for n in G if n not in down)
    got = spread_attack(G, START, 1.0, SEED, down_sites=down)
    assert got == sorted(nx.node_connected_component(up, START))
    assert len(got) < G.number_of_nodes() - 1
    cut = {e["id"] for *_, e in G.edges(START, data=True)}
    assert spread_attack(G, START, 1.0, SEED, down_links=cut) == [START]


@pytest.mark.parametrize("p", [0.3, 0.6])
def test_spread_is_the_component_of_vulnerable_sites(p):
    vulnerable = {n for n in G if uniform(SEED, "attack-spread", n) < p} | {START}
    expected = nx.node_connected_component(G.subgraph(vulnerable), START)
    assert spread_attack(G, START, p, SEED) == sorted(expected)
    assert spread_attack(G, START, p, SEED) == spread_attack(G, START, p, SEED)


def test_attack_spec_errors():
    ok = {"kind": "cyber", "target": START, "at_h": 6, "mode": "false_data", "false_value": 0.5}
    a = parse_attack(ok)
    assert (a.at_s, a.mode, a.false_value, a.duration_s) == (21600, "false_data", 0.5, None)
    for bad in ({**ok, "mode": "ddos"}, {**ok, "target": "power/bus/x"}, {**ok, "colour": 1},
                {**ok, "spread_probability": 1.5}, {"kind": "cyber", "target": START}):
        with pytest.raises(AttackSpecError):
            parse_attack(bad)
    assert parse_attacks([{"kind": "storm"}, ok]) == [a]


def test_falsified_endpoints():
    sites = {"water/pump/a": "ict/site/BS1", "water/pump/b": "ict/site/BS2"}
    comp = {"ict/site/BS1": "A|x"}
    assert falsified_endpoints(comp, sites) == {"water/pump/a": "A|x"}
    assert falsified_endpoints(comp, sites, reachable=["water/pump/b"]) == {}


def test_takedown_schedule_and_end():
    attack = parse_attack({"kind": "cyber", "target": START, "at_h": 1, "mode": "takedown",
                           "spread_probability": 1.0, "duration_h": 1})
    sched = AttackSchedule([attack], SEED, handle_takedowns=True)
    assert sched.advance(3300, 300, G) == []  # due at 3600: not in [3300, 3600)
    ev = sched.advance(3600, 300, G)
    root = ev[0]
    assert (root["asset_id"], root["coupling"], root["cause_id"]) == (START, "attack", "")
    assert set(sched.taken_down) == set(G.nodes)
    assert all(e["cause_id"] == root["event_id"] and e["coupling"] == "ict" for e in ev[1:])
    assert sched.taken_down[START] == root["event_id"]
    assert {sched.taken_down[e["asset_id"]] for e in ev[1:]} == {e["event_id"] for e in ev[1:]}
    assert sched.advance(6900, 300, G) == []
    ev = sched.advance(7200, 300, G)
    assert {e["kind"] for e in ev} == {"repaired"} and sched.taken_down == {}
    # without handle_takedowns the incidents simulator owns take-downs
    assert AttackSchedule([attack], SEED).advance(3600, 300, G) == []


def test_false_data_attack_through_the_simulator(tmp_path):
    root = make_ict_region(tmp_path, "small", "centralised")
    region = load_region(root)
    g = load_graph(root)
    eps = endpoints_from_region(region, g)
    pump = "water/pump/town1-1"
    target = eps[pump].site
    attacks = [{"kind": "cyber", "target": target, "at_h": 0.5, "mode": "false_data",
                "false_value": 0.1, "duration_h": 0.5}]
    out = run_ict_world(root, {0: {}}, 5400, seed=SEED, attacks=attacks,
                        outputs=("compromised", "falsified", "false_value", "events", "series"))
    root_id = f"1800|{target}|compromised"
    assert out[1500]["compromised"] == {}
    assert out[1800]["compromised"] == {target: root_id}
    served = sorted(e for e, ep in eps.items() if ep.site == target)
    assert pump in served
    assert out[1800]["falsified"] == dict.fromkeys(served, root_id)
    assert out[1800]["false_value"] == dict.fromkeys(served, 0.1)
    (ev,) = out[1800]["events"]
    assert (ev["event_id"], ev["coupling"], ev["cause_id"]) == (root_id, "attack", "")
    assert out[1800]["series"]["site_state"][target] == 2.0
    assert out[3300]["compromised"] == {target: root_id}
    assert out[3600]["compromised"] == {} and out[3600]["falsified"] == {}
    (end,) = out[3600]["events"]
    assert (end["kind"], end["asset_id"], end["cause_id"]) == ("restored", target, root_id)


def test_takedown_handled_by_ict_cuts_endpoints_with_attack_as_root(tmp_path):
    root = make_ict_region(tmp_path, "small", "centralised")
    attacks = [{"kind": "cyber", "target": "ict/site/ARtown2", "at_h": 0, "mode": "takedown"}]
    out = run_ict_world(root, {0: {}}, 600, seed=SEED, attacks=attacks, handle_takedowns=True)
    root_id = "0|ict/site/ARtown2|failed"
    assert out[0]["sites_down"] == {"ict/site/ARtown2": root_id}
    assert out[0]["unreachable"]
    assert set(out[0]["unreachable"].values()) == {root_id}
    assert all(e["cause_id"] == root_id for e in out[0]["events"] if e["kind"] == "unreachable")
