"""The power builder: grids that solve in every configuration, ids as the contract says."""

from __future__ import annotations

import pandapower as pp
import pytest

from twin.models.power.build import PEAK_FACTOR, add_coupled_loads, build
from twin.region.layout import make_layout
from twin.region.params import CONFIGURATIONS, params_for


def _radial(net) -> bool:
    """Whether the energised topology (switches as they stand) is a tree once closed
    bus-bus switches merge their buses and parallel branches count once."""
    import networkx as nx
    import pandapower.topology as top

    graph = top.create_nxgraph(net, respect_switches=True, multi=True)
    couplers = nx.Graph()
    couplers.add_nodes_from(graph.nodes)
    couplers.add_edges_from((u, v) for u, v, k in graph.edges(keys=True) if k[0] == "switch")
    rep = {n: min(c) for c in nx.connected_components(couplers) for n in c}
    tree = nx.Graph()
    tree.add_nodes_from(set(rep.values()))
    tree.add_edges_from((rep[u], rep[v]) for u, v, k in graph.edges(keys=True) if k[0] != "switch")
    return nx.is_tree(tree)


@pytest.mark.parametrize("grid", ["simbench", "synthetic"])
@pytest.mark.parametrize("configuration", CONFIGURATIONS)
def test_small_grid_solves_at_peak(tmp_path, configuration, grid):
    layout = make_layout("small", seed=1, grid=grid)
    assets = build(layout, params_for(configuration), configuration, tmp_path)
    net = pp.from_json(str(tmp_path / "power.json"))
    household = net.load["category"] == "household"
    net.load.loc[household, "p_mw"] *= PEAK_FACTOR
    pp.runpp(net, numba=False)
    assert net.converged
    assert net.res_bus["vm_pu"].between(0.9, 1.1).all()
    # every named element is an asset, and every asset id is unique
    ids = [a["id"] for a in assets]
    assert len(ids) == len(set(ids))
    for table in ("bus", "line", "trafo", "switch", "load", "ext_grid"):
        assert set(net[table]["name"]) <= set(ids), table
    # households: the district's households all hang on its loads
    for d in layout.districts:
        mask = (net.load["district"] == d.id) & household
        assert int(net.load.loc[mask, "customers"].sum()) == d.households
    # a bus counts the customers of the loads hanging on it (customer-weighted failures)
    by_id = {a["id"]: a for a in assets}
    for bus_idx, bus_name in net.bus["name"].items():
        on_bus = net.load.loc[net.load["bus"] == bus_idx, "customers"].sum()
        assert by_id[bus_name]["customers"] == int(on_bus), bus_name
    # radial in normal operation: with closed bus couplers merging busbars and branches in
    # parallel between the same two buses counted once (the transformers of a SimBench
    # substation, the N-1 substation of centralised_hardened), the grid is a tree
    assert _radial(net)
    trafo_links = {tuple(sorted(p)) for p in zip(net.trafo["hv_bus"], net.trafo["lv_bus"], strict=True)}
    if configuration == "centralised_hardened" and grid == "synthetic":
        assert len(net.trafo) == len(trafo_links) + 1  # one transformer more than needed
    assert (~net.switch["closed"]).sum() >= 2  # normally open ties exist


def test_configurations_differ_in_prosumers_and_microgrids(tmp_path):
    layout = make_layout("small", seed=1)
    nets = {}
    for c in CONFIGURATIONS:
        build(layout, params_for(c), c, tmp_path / c)
        nets[c] = pp.from_json(str(tmp_path / c / "power.json"))
    assert len(nets["centralised"].sgen) == 0 and len(nets["centralised"].storage) == 0
    assert list(nets["centralised"].gen["name"]) == ["power/plant/central"]
    dec = nets["decentralised"]
    share = params_for("decentralised").prosumer_share
    pv_kw = params_for("decentralised").pv_kw_per_household
    expected_pv = sum(round(d.households * share) for d in layout.districts) * pv_kw / 1000
    assert dec.sgen["p_mw"].sum() == pytest.approx(expected_pv, rel=1e-6)
    grid_forming = dec.storage[dec.storage["type"] == "grid_forming"]
    towns_villages = [d for d in layout.districts if d.kind != "city"]
    assert sorted(grid_forming["name"]) == sorted(f"power/microgrid/{d.id}" for d in towns_villages)
    kwh = params_for("decentralised").community_battery_kwh_per_household
    town1 = layout.district("town1")
    e = grid_forming.loc[grid_forming["name"] == "power/microgrid/town1", "max_e_mwh"].item()
    assert e == pytest.approx(town1.households * kwh / 1000)
    anchor = nets["anchor_towns"].storage
    assert not anchor["name"].str.startswith("power/microgrid/village").any()
    # shared assets keep their ids across configurations
    assert set(nets["centralised"].line["name"]) == set(dec.line["name"])


def test_add_coupled_loads(tmp_path):
    layout = make_layout("small", seed=1)
    build(layout, params_for("centralised"), "centralised", tmp_path)
    add_coupled_loads(tmp_path, [("water/pump/PS1", "power/bus/water_plant", 0.25, True),
                                 ("ict/site/BS1", "power/bus/town1-2", 0.01, True)])
    net = pp.from_json(str(tmp_path / "power.json"))
    pump = net.load[net.load["name"] == "water/pump/PS1"].iloc[0]
    assert pump["p_mw"] == 0.25 and bool(pump["critical"]) and pump["category"] == "water"
    assert net.bus.at[pump["bus"], "name"] == "power/bus/water_plant"
    site = net.load[net.load["name"] == "ict/site/BS1"].iloc[0]
    assert site["district"] == "town1"
    with pytest.raises(KeyError):
        add_coupled_loads(tmp_path, [("water/pump/PS2", "power/bus/nowhere", 0.1, True)])


@pytest.mark.parametrize("size", ["default", "large"])
@pytest.mark.parametrize("configuration", CONFIGURATIONS)
def test_larger_grids_solve(size, configuration):
    from twin.models.power.build import build_net, check_net

    net, _ = build_net(make_layout(size, seed=1), params_for(configuration), configuration)
    check_net(net)  # raises PowerBuildError unless it converges in 0.9..1.1 pu at peak
