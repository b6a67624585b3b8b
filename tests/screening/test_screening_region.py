"""The region adapter on a tiny hand-made region folder (same file formats as a built region),
with cascades computed by hand, plus one check on a region built by the real builder."""

from __future__ import annotations

import json
import logging
import os
import subprocess
from pathlib import Path

import h5py
import networkx as nx
import numpy as np
import pytest

from twin.region.assets import make_asset
from twin.screening.region import (
    RegionScreeningError,
    paired_uniforms,
    region_system,
    screen_region,
)
from twin.screening.results import read_screening, write_screening

STD = "NA2XS2Y 1x95 RM/25 12/20 kV"


def _power(root: Path) -> list[dict]:
    """ext_grid - hv -L1- b1 -L2(S1 closed at b1)- b2 -L3- b3 ; tie L4 b3-hv open at hv (S2);
    island bus m with a grid-forming microgrid, joined to b3 by L5 through open switch S3;
    a home battery (not grid-forming) at b3; PV at b2, a load at b3, a coupled pump load."""
    import pandapower as pp

    net = pp.create_empty_network()
    bus = {n: pp.create_bus(net, 20.0, name=f"power/bus/{n}") for n in ("hv", "b1", "b2", "b3", "m")}
    pp.create_ext_grid(net, bus["hv"], name="power/ext_grid/grid")
    line = {}
    for name, a, b in (("L1", "hv", "b1"), ("L2", "b1", "b2"), ("L3", "b2", "b3"),
                       ("L4", "b3", "hv"), ("L5", "b3", "m")):
        line[name] = pp.create_line(net, bus[a], bus[b], 1.0, STD, name=f"power/line/{name}")
    pp.create_switch(net, bus["b1"], line["L2"], et="l", closed=True, name="power/switch/S1")
    pp.create_switch(net, bus["hv"], line["L4"], et="l", closed=False, name="power/switch/S2")
    pp.create_switch(net, bus["m"], line["L5"], et="l", closed=False, name="power/switch/S3")
    pp.create_sgen(net, bus["b2"], 0.01, name="power/pv/p")
    pp.create_load(net, bus["b3"], 0.1, name="power/load/home")
    pp.create_load(net, bus["b1"], 0.05, name="water/pump/PS1")  # coupled load: another sector's id
    pp.create_storage(net, bus["m"], 0.0, 1.0, name="power/microgrid/m", type="grid_forming")
    pp.create_storage(net, bus["b3"], 0.0, 0.1, name="power/battery/home", type="home")
    pp.to_json(net, str(root / "power.json"))
    ids = ["power/ext_grid/grid", *(f"power/bus/{n}" for n in bus), *(f"power/line/L{i}" for i in range(1, 6)),
           "power/switch/S1", "power/switch/S2", "power/switch/S3", "power/pv/p", "power/load/home",
           "power/microgrid/m", "power/battery/home"]
    return [make_asset(i, "power", i.split("/")[1], 0, 0, "d") for i in ids]


def _water(root: Path) -> list[dict]:
    """reservoir R -pump PS1- J1 -P1- J2 -P2- J3."""
    import wntr

    wn = wntr.network.WaterNetworkModel()
    wn.add_reservoir("R", base_head=50.0, coordinates=(0, 0))
    for i in (1, 2, 3):
        wn.add_junction(f"J{i}", base_demand=0.001, elevation=10.0, coordinates=(100 * i, 0))
    wn.add_curve("C1", "HEAD", [(0.01, 30.0)])
    wn.add_pump("PS1", "R", "J1", pump_type="HEAD", pump_parameter="C1")
    wn.add_pipe("P1", "J1", "J2", length=100, diameter=0.2, roughness=100)
    wn.add_pipe("P2", "J2", "J3", length=100, diameter=0.2, roughness=100)
    wntr.network.write_inpfile(wn, str(root / "water.inp"), units="LPS", version=2.2)
    return [
        make_asset("water/reservoir/R", "water", "reservoir", 0, 0, "d"),
        *(make_asset(f"water/junction/J{i}", "water", "junction", 0, 0, "d") for i in (1, 2, 3)),
        make_asset("water/pump/PS1", "water", "pump", 0, 0, "d", needs_power=True, needs_ict=True),
        make_asset("water/pipe/P1", "water", "pipe", 0, 0, "d"),
        make_asset("water/pipe/P2", "water", "pipe", 0, 0, "d"),
    ]


def _roads(root: Path, tmp: Path) -> list[dict]:
    """A - B - C, both directions, a traffic light at B, built by netconvert."""
    import sumo

    (tmp / "r.nod.xml").write_text(
        '<nodes><node id="A" x="0" y="0" type="priority"/>'
        '<node id="B" x="200" y="0" type="traffic_light"/>'
        '<node id="C" x="400" y="0" type="priority"/></nodes>')
    (tmp / "r.edg.xml").write_text(
        "<edges>" + "".join(
            f'<edge id="{a}-{b}" from="{a}" to="{b}" numLanes="1" speed="13.9"/>'
            for a, b in (("A", "B"), ("B", "A"), ("B", "C"), ("C", "B"))) + "</edges>")
    binary = Path(sumo.SUMO_HOME) / "bin" / "netconvert"
    subprocess.run(
        [str(binary), "--node-files", str(tmp / "r.nod.xml"), "--edge-files", str(tmp / "r.edg.xml"),
         "--output-file", str(root / "roads.net.xml"), "--no-warnings", "true"],
        check=True, capture_output=True, env={**os.environ, "SUMO_HOME": sumo.SUMO_HOME},
    )
    return [
        make_asset("traffic/road/A-B", "traffic", "road", 0, 0, "d"),
        make_asset("traffic/road/B-C", "traffic", "road", 0, 0, "d"),
        make_asset("traffic/signal/B", "traffic", "signal", 0, 0, "d", needs_power=True, needs_ict=True),
    ]


def _ict(root: Path) -> list[dict]:
    """Data and control centre DCC - BS1 - BS2 (access sites)."""
    g = nx.Graph()
    g.add_node("ict/site/DCC", role="datacentre")
    g.add_node("ict/site/BS1", role="access")
    g.add_node("ict/site/BS2", role="access")
    g.add_edge("ict/site/DCC", "ict/site/BS1", id="ict/link/BS1-DCC")
    g.add_edge("ict/site/BS1", "ict/site/BS2", id="ict/link/BS1-BS2")
    (root / "ict.json").write_text(json.dumps(nx.node_link_data(g, edges="links")))
    return [make_asset(i, "ict", i.split("/")[1], 0, 0, "d", needs_power=i.startswith("ict/site"))
            for i in ("ict/site/DCC", "ict/site/BS1", "ict/site/BS2", "ict/link/BS1-DCC",
                      "ict/link/BS1-BS2")]


DEPENDENCIES = [
    ("water/pump/PS1", "power/bus/b1", "power->water"),
    ("traffic/signal/B", "power/bus/b2", "power->traffic"),
    ("ict/site/DCC", "power/bus/hv", "power->ict"),
    ("ict/site/BS1", "power/bus/b2", "power->ict"),
    ("ict/site/BS2", "power/bus/m", "power->ict"),
    ("power/switch/S1", "ict/site/BS1", "ict->power"),
    ("water/pump/PS1", "ict/site/BS2", "ict->water"),
]


@pytest.fixture(scope="module")
def region(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("region")
    work = tmp_path_factory.mktemp("work")
    assets = [*_power(root), *_water(root), *_roads(root, work), *_ict(root)]
    data = {
        "configuration": "centralised", "params": {}, "layout": {"districts": []}, "cost": {},
        "assets": assets,
        "dependencies": [{"consumer": c, "supplier": s, "coupling": k} for c, s, k in DEPENDENCIES],
    }
    (root / "region.json").write_text(json.dumps(data))
    return root


def lost_alone(rs, asset: str) -> tuple[set[str], int]:
    """Assets not functioning after ``asset`` alone is lost (itself excluded), and iterations."""
    mask = np.array([a == asset for a in rs.asset_ids])
    out = rs.system.cascade(rs.removal(mask))
    up = rs.asset_functional(out.functional)
    return {a for a, u in zip(rs.asset_ids, up, strict=True) if not u} - {asset}, out.iterations


def test_graphs_and_baseline(region: Path) -> None:
    rs = region_system(region)
    nets = rs.system.by_name
    # power: 5 buses + 5 lines + 3 switches + 5 elements; the coupled pump load is not a node
    assert nets["power"].n == 18
    assert "water/pump/PS1" not in nets["power"].node_ids
    sources = {nets["power"].node_ids[i] for i in np.flatnonzero(nets["power"].sources)}
    assert sources == {"power/ext_grid/grid", "power/microgrid/m"}  # the home battery is not
    assert {nets["water"].node_ids[i] for i in np.flatnonzero(nets["water"].sources)} == {"water/reservoir/R"}
    assert nets["traffic"].sources is None
    # water: 4 nodes + 3 links; traffic: 3 junctions + 2 roads + 1 signal; ict: 3 sites + 2 links
    assert (nets["water"].n, nets["traffic"].n, nets["ict"].n) == (7, 6, 5)
    # the intact region functions everywhere: the island m is fed by its microgrid
    assert rs.asset_functional(rs.baseline).all()
    assert rs.couplings == ("power->ict", "power->traffic", "power->water")


def test_hand_computed_cascade_of_feeder_line(region: Path) -> None:
    """Losing L1 cuts b1..b3 from the grid (the tie L4 is open at hv), so the pump, the
    signal and BS1 lose power; the junctions behind the pump lose the reservoir. The open
    ties L4 and L5 hang on b3 (the end without the open switch) and go with it; the open
    switches S2 (at hv) and S3 (at the island bus m) stay. BS2 keeps its power from the
    island but reaches the data centre only through BS1, so it and its link are cut off."""
    rs = region_system(region)
    lost, iterations = lost_alone(rs, "power/line/L1")
    assert lost == {
        "power/bus/b1", "power/bus/b2", "power/bus/b3", "power/line/L2", "power/line/L3",
        "power/switch/S1", "power/pv/p", "power/load/home", "power/battery/home",
        "power/line/L4", "power/line/L5",
        "water/pump/PS1", "water/junction/J1", "water/junction/J2", "water/junction/J3",
        "water/pipe/P1", "water/pipe/P2",
        "traffic/signal/B",
        "ict/site/BS1", "ict/site/BS2", "ict/link/BS1-BS2",
    }
    # round 1: power connectivity, then pump/signal/BS1 lose power;
    # round 2: water and ICT connectivity lose what hung on them; round 3: nothing new
    assert iterations == 2


def test_hand_computed_small_cascades(region: Path) -> None:
    rs = region_system(region)
    assert lost_alone(rs, "power/pv/p") == (set(), 0)  # a leaf: nothing hangs on it
    # the island's only source: bus m, the switch S3 on it and BS2 (powered from m) go;
    # the tie L5 hangs on b3 and the link BS1-BS2 on BS1, which still reach their sources
    lost, _ = lost_alone(rs, "power/microgrid/m")
    assert lost == {"power/bus/m", "power/switch/S3", "ict/site/BS2"}
    # roads have no source: losing A-B leaves the giant component B-C (with the signal)
    lost, _ = lost_alone(rs, "traffic/road/A-B")
    assert lost == set()
    lost, _ = lost_alone(rs, "traffic/road/B-C")
    assert lost == set()  # only junction C is cut off, and a junction is not an asset
    # the closed switch S1 carries its line L2: losing it is losing L2
    assert lost_alone(rs, "power/switch/S1")[0] == lost_alone(rs, "power/line/L2")[0] | {"power/line/L2"} - {"power/switch/S1"}


def test_all_couplings_add_control_dependencies(region: Path) -> None:
    """With couplings="all", S1 needs BS1 (ict->power): losing BS1 opens S1, which cuts L2."""
    rs = region_system(region, couplings="all")
    lost, _ = lost_alone(rs, "ict/site/BS1")
    assert {"power/switch/S1", "power/line/L2", "power/bus/b2", "traffic/signal/B", "water/pump/PS1"} <= lost
    rs_supply = region_system(region)
    assert lost_alone(rs_supply, "ict/site/BS1")[0] == {"ict/site/BS2", "ict/link/BS1-BS2"}


def test_screen_region_criticality_and_realisations(region: Path) -> None:
    res = screen_region(region, realisations=50, seed=3, attack_fraction=0.1)
    n = len(res.asset_ids)
    rs = region_system(region)
    for asset in ("power/line/L1", "power/microgrid/m", "power/pv/p"):
        j = res.asset_ids.index(asset)
        assert res.criticality[j] == pytest.approx(len(lost_alone(rs, asset)[0]) / n)
    assert res.ranked_assets(1)[0][0] in {"power/bus/hv", "power/ext_grid/grid", "power/line/L1"}
    assert res.surviving_fraction.shape == (50, 4)
    assert ((res.surviving_fraction >= 0) & (res.surviving_fraction <= 1)).all()
    # the realisations remove what the paired draws say
    for i in (0, 7):
        u = paired_uniforms(3, res.asset_ids, i)
        assert res.n_removed[i] == int((u < 0.1).sum())
    # nothing attacked: nothing lost; everything attacked: nothing survives
    calm = screen_region(region, realisations=3, seed=3, attack_fraction=0.0, criticality=False)
    assert (calm.surviving_fraction == 1).all() and (calm.cascade_size == 0).all()
    assert (calm.iterations == 0).all() and np.isnan(calm.criticality).all()
    storm = screen_region(region, realisations=2, seed=3, attack_fraction=1.0, criticality=False)
    assert (storm.surviving_fraction == 0).all() and (storm.n_removed == n).all()


def test_screen_region_is_deterministic_and_paired(region: Path) -> None:
    a = screen_region(region, realisations=20, seed=5, attack_fraction=0.2, criticality=False)
    b = screen_region(region, realisations=20, seed=5, attack_fraction=0.2, criticality=False)
    c = screen_region(region, realisations=20, seed=6, attack_fraction=0.2, criticality=False)
    assert a.run_id == b.run_id != c.run_id
    assert np.array_equal(a.surviving_fraction, b.surviving_fraction)
    assert not np.array_equal(a.n_removed, c.n_removed)
    # an asset's draw does not depend on which other assets exist
    ids = list(a.asset_ids)
    full = paired_uniforms(5, ids, 4)
    sub = paired_uniforms(5, ids[::3], 4)
    assert np.array_equal(full[::3], sub)
    assert 0.0 <= full.min() and full.max() < 1.0


def test_hdf5_round_trip_readable_with_h5py(region: Path, tmp_path: Path) -> None:
    res = screen_region(region, realisations=10, seed=2, attack_fraction=0.2)
    path = write_screening(res, tmp_path / "screen.h5")
    with h5py.File(path, "r") as f:
        assert f.attrs["mode"] == "topological"
        assert f.attrs["run_id"] == res.run_id and f.attrs["status"] == "complete"
        assert int(f.attrs["seed"]) == 2 and int(f.attrs["format_version"]) == 1
        assert list(f["realisations/surviving_fraction"].attrs["columns"]) == ["power", "water", "traffic", "ict"]
        assert f["realisations/iterations"].shape == (10,)
        assert f["assets/id"][0].decode() == res.asset_ids[0]
        assert np.array_equal(f["assets/criticality"][()], res.criticality)
    back = read_screening(path)
    assert back.asset_ids == res.asset_ids and back.params == res.params
    assert np.array_equal(back.surviving_fraction, res.surviving_fraction)
    assert not list(tmp_path.glob(".*.tmp"))


def test_errors_are_specific(region: Path, tmp_path: Path) -> None:
    with pytest.raises(RegionScreeningError, match="not a built region"):
        region_system(tmp_path)
    with pytest.raises(RegionScreeningError, match="attack_fraction"):
        screen_region(region, realisations=1, seed=0, attack_fraction=2.0)
    with pytest.raises(RegionScreeningError, match="couplings"):
        region_system(region, couplings="some")


def test_built_small_region_maps_every_asset(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    """A region from the real builder: every asset is found in its sector's file and the
    intact region functions everywhere; the decentralised configuration cascades less."""
    from twin.region.builder import build_region
    from twin.region.params import params_for

    means = {}
    for conf in ("centralised", "decentralised"):
        info = build_region("small", 1, conf, params_for(conf), tmp_path)
        with caplog.at_level(logging.WARNING, logger="twin.screening.region"):
            rs = region_system(info.root)
        assert not caplog.records
        assert rs.asset_functional(rs.baseline).all()
        means[conf] = screen_region(info.root, realisations=100, seed=1, criticality=False).mean_cascade_size
    assert means["decentralised"] < means["centralised"]
