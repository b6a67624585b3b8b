"""Configuration transforms of an imported region (twin/region/transforms.py): PV and home
batteries on the stated share of household loads, microgrids in the anchor towns (and
villages where stated), costs that follow, and a microgrid that islands its town."""

from __future__ import annotations

from pathlib import Path

import pytest
from test_region_import import SQUARE, SQUARE_LINKS, TINY_INP, write_tntp

from twin.config import RegionFiles
from twin.region.importers import import_region
from twin.region.params import params_for

# Three places: the city at C (1000, 1000) with 0.6 MW of homes = 500 households, a town at
# D (8000, 0) with 0.18 MW = 150 households (30 % of the city: a town), a village at
# E (0, 8000) with 0.06 MW = 50 households (10 %: a village). Its own customers column for
# the village load: 45 households.
LOADS = {"C": 0.6, "D": 0.18, "E": 0.06}
HOUSEHOLDS = {"C": 500, "D": 150, "E": 45}


def three_place_grid(path: Path) -> Path:
    import pandapower as pp

    net = pp.create_empty_network()
    cable = "NA2XS2Y 1x185 RM/25 12/20 kV"
    a = pp.create_bus(net, 20.0, name="A", geodata=(0.0, 0.0))
    c = pp.create_bus(net, 20.0, name="C", geodata=(1000.0, 1000.0))
    d = pp.create_bus(net, 20.0, name="D", geodata=(8000.0, 0.0))
    e = pp.create_bus(net, 20.0, name="E", geodata=(0.0, 8000.0))
    pp.create_ext_grid(net, a, name="grid")
    pp.create_line(net, a, c, 1.4, cable, name="AC")
    pp.create_line(net, a, d, 8.0, cable, name="AD")
    pp.create_line(net, a, e, 8.0, cable, name="AE")
    for bus, name in ((c, "C"), (d, "D"), (e, "E")):
        pp.create_load(net, bus, p_mw=LOADS[name], q_mvar=0.0, name=f"homes{name}")
    net.load["customers"] = [0, 0, HOUSEHOLDS["E"]]  # only the village's count is in the file
    pp.to_json(net, str(path))
    return path


def files(tmp_path: Path) -> RegionFiles:
    (tmp_path / "tiny.inp").write_text(TINY_INP)
    link_file, node_file = write_tntp(tmp_path, SQUARE, SQUARE_LINKS)
    return RegionFiles(
        power=str(three_place_grid(tmp_path / "grid.json")), water=str(tmp_path / "tiny.inp"),
        traffic=str(link_file), traffic_nodes=str(node_file), districts=3,
        transforms={"water": {"scale": 10.0}, "traffic": {"scale": 1000.0}},
    )


def _build(tmp_path: Path, configuration: str, **overrides: object):  # type: ignore[no-untyped-def]
    import pandapower as pp

    region = import_region(files(tmp_path), configuration, params_for(configuration, overrides),
                           tmp_path / "cache")
    return region, pp.from_json(str(region.path("power")))


def _district_of_bus(region, name: str) -> str:  # type: ignore[no-untyped-def]
    return next(a["district"] for a in region.assets if a["id"] == f"power/bus/{name}")


def test_three_configurations_differ_as_documented(tmp_path: Path) -> None:
    central, cnet = _build(tmp_path, "centralised")
    kinds = {d["id"]: d["kind"] for d in central.districts}
    town, village = _district_of_bus(central, "D"), _district_of_bus(central, "E")
    city = _district_of_bus(central, "C")
    assert (kinds[city], kinds[town], kinds[village]) == ("city", "town", "village")
    loads = {a["id"]: a["customers"] for a in central.assets if a["type"] == "load"}
    assert loads == {f"power/load/homes{n}": HOUSEHOLDS[n] for n in LOADS}  # the file's count wins
    assert len(cnet.sgen) == 0 and len(cnet.storage) == 0  # centralised: as imported
    assert central.cost["pv_mw"] == 0 and central.cost["battery_mwh"] == 0

    for configuration, share, mg in (("decentralised", 0.4, {town, village}), ("anchor_towns", 0.2, {town})):
        region, net = _build(tmp_path, configuration)
        p = params_for(configuration)
        assert (p.prosumer_share, p.pv_kw_per_household, p.battery_kwh_per_household) == (share, 4.0, 8.0)
        prosumers = {n: round(HOUSEHOLDS[n] * share) for n in LOADS}
        # PV and a home battery on every household load's bus, for the stated share
        for n in LOADS:
            bus = int(net.bus.index[net.bus.name == f"power/bus/{n}"][0])
            d = _district_of_bus(region, n)
            pv = net.sgen[net.sgen.bus == bus]
            assert list(pv.name) == [f"power/pv/{d}"]
            assert float(pv.p_mw.iloc[0]) == pytest.approx(prosumers[n] * 4.0 / 1000)
            home = net.storage[(net.storage.bus == bus) & (net.storage.type == "home")]
            assert float(home.max_e_mwh.iloc[0]) == pytest.approx(prosumers[n] * 8.0 / 1000)
        # microgrids where stated: towns in both, villages only when decentralised
        micro = net.storage[net.storage.type == "grid_forming"]
        assert set(micro.district) == mg
        for _, row in micro.iterrows():
            hh = next(x["households"] for x in region.districts if x["id"] == row.district)
            assert row.max_e_mwh == pytest.approx(hh * 3.0 / 1000)
        assert {a["id"] for a in region.assets if a["type"] == "microgrid"} == {f"power/microgrid/{d}" for d in mg}
        # costs follow the unit costs
        n_pro = sum(prosumers.values())
        community = sum(x["households"] for x in region.districts if x["id"] in mg) * 3.0 / 1000
        assert region.cost["pv_mw"] == pytest.approx(n_pro * 4.0 / 1000)
        assert region.cost["battery_mwh"] == pytest.approx(n_pro * 8.0 / 1000 + community)
        # the new assets are remotely controlled through the ICT layer like generated ones
        ict = region.suppliers("ict->power")
        assert all(a["id"] in ict for a in region.assets if a["type"] in ("pv", "battery", "microgrid"))

    # a user-defined variant: the same transforms with other numbers
    custom, net = _build(tmp_path, "decentralised", prosumer_share=1.0, microgrid_villages=False)
    assert custom.cost["pv_mw"] == pytest.approx(sum(HOUSEHOLDS.values()) * 4.0 / 1000)
    assert set(net.storage[net.storage.type == "grid_forming"].district) == {town}


def test_the_town_microgrid_islands_when_its_line_fails(tmp_path: Path) -> None:
    from twin.models.power.grid import PowerGrid

    region, _ = _build(tmp_path, "anchor_towns")
    town, village = _district_of_bus(region, "D"), _district_of_bus(region, "E")
    grid = PowerGrid.from_file(region.path("power"), household_profile=False)
    ok = grid.step(12 * 3600)
    assert ok.converged and not ok.dead_buses
    out = grid.step(12 * 3600 + 300, failed={"power/line/AD": "e1", "power/line/AE": "e2"})
    assert "power/bus/E" in out.dead_buses  # the village has no microgrid in anchor_towns
    assert "power/bus/D" not in out.dead_buses  # the town's community battery holds it
    assert town != village


@pytest.mark.slow
def test_the_imported_example_runs_all_three_configurations(tmp_path: Path) -> None:
    """cosim_configs/imported_net3_oberrhein.toml: three configurations, TNTP trips, a
    disruption file (its ids all map), an hour each end to end."""
    from twin import results
    from twin.config import load_scenario
    from twin.events import SOLVER_FAILURES
    from twin.hazards import damage_schedule
    from twin.runner import region_for, run_configuration

    example = Path(__file__).resolve().parents[2] / "cosim_configs" / "imported_net3_oberrhein.toml"
    # one hour: the example's hazards come later, which is allowed here on purpose
    scenario = load_scenario(example, ["run.hours=1", "run.baseline=false"], allow_outside=True)
    assert scenario.run.configurations == ["centralised", "decentralised", "anchor_towns"]
    pv = {}
    for configuration in scenario.run.configurations:
        region = region_for(scenario, configuration, tmp_path)
        pv[configuration] = region.cost["pv_mw"]
        assert (region.root / "demand.json").is_file()
        full = scenario.model_copy(update={"run": scenario.run.model_copy(update={"hours": 24})})
        damaged = {d.asset_id for d in damage_schedule(full, region.assets)}
        assert {"water/pipe/101", "power/line/Line_40"} <= damaged
        outcome = run_configuration(scenario, configuration, tmp_path)
        # Net3's junction 10 (on the suction side of pump 10, no demand) can dip just below
        # -10 m under the example's PDA settings: a negative_pressure event, not a solver
        # failure (it delivers nothing); no solver failure is accepted.
        evs = results.load(outcome.path).events
        bad = {(e["kind"], e["asset_id"]) for e in evs if e["kind"] in SOLVER_FAILURES}
        assert outcome.status == "complete" and not bad, (outcome.error, bad)
    assert pv["decentralised"] > pv["anchor_towns"] > pv["centralised"]


# Water for the three places (coordinates in metres): a reservoir at A feeding the city (JC,
# JC2), the town (JD, JD2) and the village (JE), demand following a daily pattern.
PLACES_INP = """[TITLE]
three places
[JUNCTIONS]
 JC   10  2.0  1
 JC2  10  1.0  1
 JD   10  1.0  1
 JD2  12  0.5  1
 JE   10  0.5  1
[RESERVOIRS]
 R   75
[PIPES]
 P1  R   JC   1500  200  120  0  Open
 P2  JC  JC2  300   150  120  0  Open
 P3  R   JD   8000  150  120  0  Open
 P4  JD  JD2  300   100  120  0  Open
 P5  R   JE   8000  100  120  0  Open
[PATTERNS]
 1  0.5 0.5 0.5 0.6 0.8 1.2 1.5 1.6 1.4 1.2 1.1 1.1
 1  1.1 1.0 1.0 1.1 1.3 1.5 1.4 1.2 1.0 0.8 0.6 0.5
[TIMES]
 Pattern Timestep 1:00
[COORDINATES]
 R    0     0
 JC   1000  1000
 JC2  1200  1000
 JD   8000  0
 JD2  8200  0
 JE   0     8000
[OPTIONS]
 Units LPS
 Headloss H-W
[END]
"""


def _day_pressures(inp: Path, work: Path):  # type: ignore[no-untyped-def]
    """Pressure at every demand junction over a hazard-free day (standalone EPANET, PDA as in
    the INP twin writes), and the lowest head of each junction."""
    import wntr

    wn = wntr.network.WaterNetworkModel(str(inp))
    wn.options.time.duration = 24 * 3600
    res = wntr.sim.EpanetSimulator(wn).run_sim(str(work))
    demand = [j for j in wn.junction_name_list
              if sum(d.base_value for d in wn.get_node(j).demand_timeseries_list) > 0]
    return res.node["pressure"][demand], res.node["head"], wn


def test_wells_and_tanks_keep_the_required_pressure(tmp_path: Path) -> None:
    (tmp_path / "places.inp").write_text(PLACES_INP)
    f = RegionFiles.model_validate({**files(tmp_path).model_dump(), "water": str(tmp_path / "places.inp"),
                                    "transforms": {"traffic": {"scale": 1000.0}}})
    central = import_region(f, "centralised", params_for("centralised"), tmp_path / "cache")
    p0, head0, _ = _day_pressures(central.path("water"), tmp_path / "c")
    assert float(p0.min().min()) >= 20.0  # the imported network meets the required 20 m
    town, village = _district_of_bus(central, "D"), _district_of_bus(central, "E")
    for configuration, wells, tanks in (
        ("anchor_towns", {f"{town}-1": "JD", f"{town}-2": "JD2"}, {town}),
        ("decentralised", {f"{town}-1": "JD", f"{village}-1": "JE"}, {town, village}),
    ):
        region = import_region(f, configuration, params_for(configuration), tmp_path / "cache")
        ids = {a["id"] for a in region.assets}
        assert {i for i in ids if i.startswith("water/well/")} == {f"water/well/{w}" for w in wells}
        assert {i for i in ids if i.startswith("water/tank/")} == {f"water/tank/T-{d}" for d in tanks}
        assert set(region.suppliers("power->water")) >= {f"water/well/{w}" for w in wells}
        assert (region.cost["wells"], region.cost["tanks"]) == (len(wells), len(tanks))
        p, _, wn = _day_pressures(region.path("water"), tmp_path / configuration)
        for w, j in wells.items():
            assert wn.get_link(w).end_node_name == j
            assert wn.get_node(f"GW-{w}").base_head == pytest.approx(wn.get_node(j).elevation - 15.0)
        for d in tanks:  # bottom at the junction's lowest hazard-free head minus 5 m
            j = "JD" if d == town else "JE"
            assert wn.get_node(f"T-{d}").elevation == pytest.approx(float(head0[j].min()) - 5.0, abs=0.01)
        assert float(p.min().min()) >= 20.0, p.min()  # still the required pressure, all day


def test_edge_controllers_join_a_users_ict_graph(tmp_path: Path) -> None:
    import json

    graph = {"directed": False, "multigraph": False, "graph": {}, "nodes": [
        {"id": "DCC", "x": 1000, "y": 900, "role": "datacentre"},
        {"id": "BSC", "x": 1000, "y": 1000}, {"id": "BSD", "x": 8000, "y": 100},
        {"id": "BSE", "x": 100, "y": 8000}],
        "links": [{"source": "DCC", "target": b} for b in ("BSC", "BSD", "BSE")]}
    (tmp_path / "ict.json").write_text(json.dumps(graph))
    f = RegionFiles.model_validate({**files(tmp_path).model_dump(), "ict": str(tmp_path / "ict.json")})
    expected = {"centralised": set(), "anchor_towns": {"city", "town"},
                "decentralised": {"city", "town", "village"}}
    for configuration, kinds in expected.items():
        region = import_region(f, configuration, params_for(configuration), tmp_path / "cache")
        by_kind = {d["kind"]: d["id"] for d in region.districts}
        ctrl = {a["id"]: a for a in region.assets_of("ict", "site") if a["capacity_unit"] == "controller"
                or a["id"].startswith("ict/site/EC")}
        assert set(ctrl) == {f"ict/site/EC{by_kind[k]}" for k in kinds}
        g = json.loads(region.path("ict").read_text())
        assert g["graph"]["edge_control"] is bool(kinds)
        links = {(lk["source"], lk["target"]) for lk in g["links"]} | {(lk["target"], lk["source"]) for lk in g["links"]}
        for cid, a in ctrl.items():  # each beside an access site of its own district
            assert any((cid, s) in links and s.startswith("ict/site/BS") for s in
                       (x["id"] for x in region.assets_of("ict", "site") if x["district"] == a["district"]))
    # and the decentralised region with its controllers runs
    from twin.config import validate_data
    from twin.runner import run_configuration

    scenario = validate_data({"run": {"hours": 1, "configurations": ["decentralised"], "baseline": False},
                              "region": {"files": f.model_dump(mode="json")}}, "test")
    outcome = run_configuration(scenario, "decentralised", tmp_path / "results")
    assert outcome.status == "complete", outcome.error
