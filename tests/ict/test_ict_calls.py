"""Emergency-call paths: a working access site serving the district, joined to the DCC."""

from __future__ import annotations

import networkx as nx
import pytest

from twin.models.ict.calls import answer_sites, call_frac, serving_sites
from twin.models.ict.fixtures import district_bus, make_ict_region, run_ict_world

STEP = 300


def test_call_share_by_district_on_a_tree(tmp_path):
    """Small centralised region (a tree, 1 h batteries): the town router ARtown1 failing cuts
    town1 and village1a (whose radio hangs on it); the city bus dying takes the core (ARcity,
    DCC) down once their batteries are empty, and then nobody can call."""
    root = make_ict_region(tmp_path, "small", "centralised", overrides={"ict_backup_h": 1.0})
    script = {0: {}, 600: {"failed": {"ict/site/ARtown1": "F|ar"}},
              1200: {"failed": {"ict/site/ARtown1": "F|ar"},
                     "dead_buses": {district_bus("city"): "B|c"}}}
    out = run_ict_world(root, script, 3 * 3600, outputs=("series",), seed=1)
    frac = {t: v["series"]["district_emergency_call_frac"] for t, v in out.items()}
    assert set(frac[0].values()) == {1.0}
    assert frac[600]["town1"] == 0.0 and frac[600]["village1a"] == 0.0
    assert frac[600]["town2"] == 1.0 and frac[600]["city"] == 1.0
    # every city site (DCC and ARcity included) hangs on the city bus: after the 1-h
    # battery the whole core is down and nobody can call
    assert frac[1200 + 3600 - STEP]["city"] == 1.0
    assert set(frac[1200 + 3600].values()) == {0.0}


def test_plain_functions_on_a_hand_built_graph():
    g = nx.Graph()
    g.add_node("DCC", role="datacentre", district="a", x_m=0.0, y_m=0.0)
    for n, d, x in (("A1", "a", 0.0), ("A2", "a", 10.0), ("B1", "b", 100.0)):
        g.add_node(n, role="access", district=d, x_m=x, y_m=0.0)
    g.add_node("EC", role="controller", district="c", x_m=300.0, y_m=0.0)
    g.add_edges_from([("DCC", "A1"), ("DCC", "A2"), ("DCC", "B1")])
    districts = [{"id": "a", "x_m": 0, "y_m": 0}, {"id": "b", "x_m": 100, "y_m": 0},
                 {"id": "c", "x_m": 290, "y_m": 0}]
    serving = serving_sites(g, districts)
    assert serving == {"a": ("A1", "A2"), "b": ("B1",), "c": ("B1",)}  # c: nearest base station
    assert answer_sites(g) == ("DCC",)
    up = g.copy()
    up.remove_node("A2")

    def comp(site: str) -> set[str]:
        return set(nx.node_connected_component(up, site)) if site in up else set()

    assert call_frac(serving, ["DCC"], comp) == pytest.approx({"a": 0.5, "b": 1.0, "c": 1.0})
    assert call_frac({"x": ()}, ["DCC"], comp) == {"x": 0.0}
