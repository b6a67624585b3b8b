"""The ICT element facade: a hand-made graph with a hand-computed battery ride-through, and
a built region whose endpoints match twin's own ICT adapter on the same inputs."""

from __future__ import annotations

import json
from pathlib import Path

import networkx as nx
import pytest

from twin.facade import FacadeError
from twin.facade.ict import IctElements
from twin.models.ict.fixtures import make_ict_region

STEP_S = 900


def _graph_file(tmp_path: Path) -> Path:
    """core -- a -- b; site b has a 1-h battery, a none."""
    g = nx.Graph()
    g.add_node("core", kind="core")
    g.add_node("a", p_mw=0.002)
    g.add_node("b", backup_h=1.0, p_mw=0.003)
    g.add_edge("core", "a")
    g.add_edge("a", "b", id="ict/link/ab")
    path = tmp_path / "ict.json"
    path.write_text(json.dumps(nx.node_link_data(g, edges="links")))
    return path


def test_battery_rides_through_exactly_its_hours(tmp_path: Path) -> None:
    sim = IctElements()
    sim.init("ICT-0", step_s=STEP_S)
    (net,) = sim.create(1, "Network", file=str(_graph_file(tmp_path)))
    assert {c["eid"]: c["type"] for c in net["children"]} == {
        "a": "Site", "b": "Site", "core": "Site", "ict/link/a--core": "Link", "ict/link/ab": "Link"}
    up = []
    for t in range(0, 2 * 3600, STEP_S):  # both sites lose power at t = 0
        sim.step(t, {"a": {"powered": {"grid": 0}}, "b": {"powered": {"grid": 0}}})
        d = sim.get_data({"a": ["up"], "b": ["up", "battery[h]", "P[MW]"]})
        up.append((t, d["a"]["up"], d["b"]["up"], d["b"]["battery[h]"], d["b"]["P[MW]"]))
    # a has no battery: down from the first step; b drains 0.25 h a step and is down once
    # a step starts with it empty, i.e. at 1 h, when its grid demand drops to 0
    assert [u[1] for u in up] == [0] * 8
    assert [u[2] for u in up] == [1, 1, 1, 1, 0, 0, 0, 0]
    assert [u[3] for u in up][:4] == pytest.approx([0.75, 0.5, 0.25, 0.0])
    assert up[0][4] == pytest.approx(0.003) and up[4][4] == 0.0
    sim.step(2 * 3600, {"ict/link/ab": {"failed": {"storm": 1}}, "b": {"powered": {"grid": 1}}})
    assert sim.get_data({"ict/link/ab": ["up"], "b": ["up"]}) == {"ict/link/ab": {"up": 0}, "b": {"up": 1}}
    with pytest.raises(FacadeError, match="no input 'powered'"):
        sim.step(3 * 3600, {"ict/link/ab": {"powered": {"grid": 1}}})


def test_region_endpoints_equal_twins_adapter(tmp_path: Path) -> None:
    from twin.models.ict.simulator import IctSim

    region = make_ict_region(tmp_path / "r")
    facade = IctElements()
    facade.init("ICT-0", step_s=STEP_S)
    (net,) = facade.create(1, "Network", region_dir=str(region))
    endpoints = [c["eid"] for c in net["children"] if c["type"] == "Endpoint"]
    sites = [c["eid"] for c in net["children"] if c["type"] == "Site"]
    assert endpoints and sites
    own = IctSim()
    own.init("ICT", step_s=STEP_S)
    own.create(1, "Network", region_dir=str(region))
    cut = sites[len(sites) // 2]
    for t in (0, STEP_S):
        facade.step(t, {cut: {"failed": {"x": 1}}})
        own.step(t, {"ict": {"failed": {"incidents": {cut: "ev"}}}})
    mine = facade.get_data({e: ["reachable"] for e in endpoints})
    theirs = own.get_data({"ict": ["unreachable"]})["ict"]["unreachable"]
    assert {e for e in endpoints if not mine[e]["reachable"]} == set(theirs)
