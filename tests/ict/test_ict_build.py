"""The ICT builder: topology per configuration, determinism, assets and the controller rule."""

from __future__ import annotations

import math

import networkx as nx
import pytest

from twin.models.ict.build import (
    DCC_ID,
    TMC_ID,
    build,
    build_graph,
    controller_site,
    edge_id,
    load_graph,
    router_id,
)
from twin.region.layout import make_layout
from twin.region.params import CONFIGURATIONS, params_for

LAYOUT = make_layout("small", 1)


def graph(configuration: str, **overrides: object):
    return build_graph(LAYOUT, params_for(configuration, overrides), configuration)


def access_sites(g: nx.Graph) -> dict[str, tuple[float, float, str]]:
    return {n: (d["x_m"], d["y_m"], d["district"]) for n, d in g.nodes(data=True)
            if d["role"] == "access"}


def test_same_inputs_give_same_file(tmp_path):
    a, b = tmp_path / "a", tmp_path / "b"
    build(LAYOUT, params_for("decentralised"), "decentralised", a)
    build(LAYOUT, params_for("decentralised"), "decentralised", b)
    assert (a / "ict.json").read_bytes() == (b / "ict.json").read_bytes()


def test_centralised_is_a_star_around_the_city_hub():
    g = graph("centralised")
    assert nx.is_tree(g)
    hub = router_id("city")
    for t in LAYOUT.towns:
        assert g.has_edge(router_id(t.id), hub)
    assert g.has_edge(DCC_ID, hub) and g.has_edge(TMC_ID, hub)
    cc, tmc = LAYOUT.facility("control_centre"), LAYOUT.facility("tmc")
    assert (g.nodes[DCC_ID]["x_m"], g.nodes[DCC_ID]["y_m"]) == (round(cc.x_m, 1), round(cc.y_m, 1))
    assert (g.nodes[TMC_ID]["x_m"], g.nodes[TMC_ID]["y_m"]) == (round(tmc.x_m, 1), round(tmc.y_m, 1))
    assert not [n for n, d in g.nodes(data=True) if d["role"] == "controller"]


def test_every_district_has_access_and_the_city_several():
    g = graph("centralised")
    per = {d.id: 0 for d in LAYOUT.districts}
    for _x, _y, d in access_sites(g).values():
        per[d] += 1
    assert min(per.values()) >= 1
    assert per["city"] >= 3


def test_access_sites_are_shared_by_every_configuration():
    sites = [access_sites(graph(c)) for c in CONFIGURATIONS]
    assert sites[0] == sites[1] == sites[2]


def test_edge_controllers_per_district_or_per_anchor_town():
    dec = {n for n, d in graph("decentralised").nodes(data=True) if d["role"] == "controller"}
    anc = {n for n, d in graph("anchor_towns").nodes(data=True) if d["role"] == "controller"}
    assert dec == {edge_id(d.id) for d in LAYOUT.districts}
    assert anc == {edge_id("city")} | {edge_id(t.id) for t in LAYOUT.towns}


def test_controller_rule():
    assert controller_site("centralised", False, "village1a", "town1", "water") == DCC_ID
    assert controller_site("centralised", False, "town1", "", "traffic") == TMC_ID
    assert controller_site("decentralised", True, "village1a", "town1", "water") == edge_id(
        "village1a")
    assert controller_site("anchor_towns", True, "village1a", "town1", "power") == edge_id("town1")
    assert controller_site("anchor_towns", True, "city", "", "power") == edge_id("city")


def test_meshing_adds_nested_extra_links():
    extra = {}
    for share in (0.0, 0.3, 0.6, 1.0):
        g = graph("decentralised", ict_meshing=share)
        extra[share] = {e["id"] for *_, e in g.edges(data=True) if not e["backbone"]}
    assert extra[0.0] == set()
    assert extra[0.3] <= extra[0.6] <= extra[1.0]
    assert len(extra[1.0]) > len(extra[0.3])
    # at share 1 every town ring link exists
    assert graph("centralised", ict_meshing=1.0).has_edge(router_id("town1"), router_id("town2"))


@pytest.mark.parametrize("size", ["small", "default", "large"])
@pytest.mark.parametrize("configuration", CONFIGURATIONS)
def test_graph_is_connected(size, configuration):
    g = build_graph(make_layout(size, 3), params_for(configuration), configuration)
    assert nx.is_connected(g)


def test_assets_and_file_roundtrip(tmp_path):
    params = params_for("anchor_towns")
    assets = build(LAYOUT, params, "anchor_towns", tmp_path)
    g = load_graph(tmp_path)
    by_id = {a["id"]: a for a in assets}
    assert set(g.nodes) == {a for a in by_id if a.startswith("ict/site/")}
    for n, d in g.nodes(data=True):
        a = by_id[n]
        assert a["needs_power"] and 0.002 <= a["p_mw"] <= 0.05
        assert d["backup_h"] == params.ict_backup_h
        assert (a["capacity_unit"] == "access") == (d["role"] in ("access", "controller"))
    for u, v, e in g.edges(data=True):
        a = by_id[e["id"]]
        assert a["type"] == "link" and e["medium"] in ("fibre", "radio")
        du, dv = g.nodes[u], g.nodes[v]
        assert e["length_m"] == pytest.approx(
            math.hypot(du["x_m"] - dv["x_m"], du["y_m"] - dv["y_m"]), abs=0.1)
    assert len(assets) == g.number_of_nodes() + g.number_of_edges()
