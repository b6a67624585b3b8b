"""Regions from the user's own files (twin/region/importers/): real shipped networks run
coupled, TNTP converts faithfully, bad files are named, proximity picks the nearest bus."""

from __future__ import annotations

import json
import math
import os
import subprocess
from pathlib import Path

import pytest

from twin.cli import main
from twin.config import RegionFiles, ScenarioError, load_scenario, validate_data
from twin.events import EXIT_INPUT as EXIT_BAD_INPUT
from twin.region.importers import (
    RegionImportError,
    Transform,
    import_region,
    read_tntp,
    rename_junctions,
    tntp_plain,
    write_roads,
)
from twin.region.params import params_for

M_PER_DEG_LAT = 111_320.0


def netgenerate_grid(out: Path, number: int = 5, length_m: float = 3000.0) -> Path:
    """A SUMO grid road net with signalised junctions, made by SUMO's own netgenerate."""
    import sumo

    home = Path(sumo.SUMO_HOME)
    subprocess.run(
        [str(home / "bin" / "netgenerate"), "--grid", "--grid.number", str(number),
         "--grid.length", str(length_m), "--default-junction-type", "traffic_light",
         "--no-warnings", "true", "-o", str(out)],
        check=True, capture_output=True, env={**os.environ, "SUMO_HOME": str(home)},
    )
    return out


def write_tntp(folder: Path, nodes: dict[int, tuple[float, float]],
               links: list[tuple[int, int, float]], declared: int | None = None) -> tuple[Path, Path]:
    """A TNTP node file and link file in the standard layout (metadata, ``~`` header, ``;``)."""
    link_file, node_file = folder / "tiny_net.tntp", folder / "tiny_node.tntp"
    rows = [
        f"<NUMBER OF ZONES> {len(nodes)}",
        f"<NUMBER OF NODES> {len(nodes)}",
        "<FIRST THRU NODE> 1",
        f"<NUMBER OF LINKS> {len(links) if declared is None else declared}",
        "<ORIGINAL HEADER>~",
        "<END OF METADATA>",
        "",
        "",
        "~ \tinit_node\tterm_node\tcapacity\tlength\tfree_flow_time\tb\tpower\tspeed\ttoll\tlink_type\t;",
    ]
    rows += [f"\t{a}\t{b}\t3600.0\t{length}\t1.5\t0.15\t4\t0\t0\t1\t;" for a, b, length in links]
    link_file.write_text("\n".join(rows) + "\n")
    node_file.write_text("node\tx\ty\t;\n" + "".join(f"{n}\t{x}\t{y}\t;\n" for n, (x, y) in nodes.items()))
    return link_file, node_file


# A square of four junctions one file unit (km) apart; the roads are longer than the straight
# line (they bend), so a length that survives comes from the file, not from the geometry.
SQUARE = {1: (0.0, 0.0), 2: (1.0, 0.0), 3: (1.0, 1.0), 4: (0.0, 1.0)}
SQUARE_LINKS = [(1, 2, 1.2), (2, 1, 1.2), (2, 3, 1.5), (3, 2, 1.5), (3, 4, 1.1), (4, 3, 1.1),
                (4, 1, 1.3), (1, 4, 1.3), (1, 3, 1.9)]


def test_tntp_converts_with_link_count_and_lengths(tmp_path: Path) -> None:
    import sumolib

    link_file, node_file = write_tntp(tmp_path, SQUARE, SQUARE_LINKS)
    nodes, links = read_tntp(str(link_file), str(node_file), Transform(1000.0, 1000.0), None)
    assert nodes["3"] == (1000.0, 1000.0)
    plain = tntp_plain(nodes, links)  # type: ignore[arg-type]
    rename_junctions(plain, lambda x, y: "d1")
    out = tmp_path / "roads.net.xml"
    write_roads(plain, out, tmp_path, "traffic", str(link_file))
    net = sumolib.net.readNet(str(out))
    edges = {e.getID(): e for e in net.getEdges()}
    assert len(edges) == len(SQUARE_LINKS)
    for k, (a, b, length_km) in enumerate(SQUARE_LINKS, start=1):
        e = edges[f"L{k}"]  # TNTP link k (its row) keeps its id
        assert e.getLength() == pytest.approx(length_km * 1000.0, abs=0.01)
        assert (e.getFromNode().getID(), e.getToNode().getID()) == (f"d1_{a}", f"d1_{b}")


def test_tntp_link_count_mismatch_is_a_warning_naming_both_numbers(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    link_file, node_file = write_tntp(tmp_path, SQUARE, SQUARE_LINKS, declared=12)
    with caplog.at_level("WARNING", logger="twin.region.importers"):
        _, links = read_tntp(str(link_file), str(node_file), Transform(), None)
    assert len(links) == len(SQUARE_LINKS)
    assert any(str(link_file) in r.getMessage() and "<NUMBER OF LINKS> says 12, the file has 9 links"
               in r.getMessage() for r in caplog.records)


TINY_INP = """[TITLE]
tiny
[JUNCTIONS]
 J   10   0.5
 K   10   0.5
[RESERVOIRS]
 R   0
[PIPES]
 P1  J  K  1000  300  100  0  Open
[PUMPS]
 PU  R  J  HEAD 1
[CURVES]
 1  1  50
[COORDINATES]
 R  0   0
 J  90  95
 K  95  95
[OPTIONS]
 Units LPS
 Headloss H-W
[END]
"""


def tiny_grid(path: Path) -> Path:
    """Buses A (0, 0) with the external grid, B (1000, 0), C (1000, 1000); lines A-B-C."""
    import pandapower as pp

    net = pp.create_empty_network()
    a = pp.create_bus(net, 20.0, name="A", geodata=(0.0, 0.0))
    b = pp.create_bus(net, 20.0, name="B", geodata=(1000.0, 0.0))
    c = pp.create_bus(net, 20.0, name="C", geodata=(1000.0, 1000.0))
    pp.create_ext_grid(net, a, name="grid")
    pp.create_line(net, a, b, 1.0, "NA2XS2Y 1x185 RM/25 12/20 kV", name="AB")
    pp.create_line(net, b, c, 1.0, "NA2XS2Y 1x185 RM/25 12/20 kV", name="BC")
    pp.create_load(net, c, p_mw=0.5, name="homes")
    pp.to_json(net, str(path))
    return path


def tiny_files(tmp_path: Path, water_scale: float, **extra: object) -> RegionFiles:
    (tmp_path / "tiny.inp").write_text(TINY_INP)
    link_file, node_file = write_tntp(tmp_path, SQUARE, SQUARE_LINKS)
    return RegionFiles(
        power=str(tiny_grid(tmp_path / "grid.json")), water=str(tmp_path / "tiny.inp"),
        traffic=str(link_file), traffic_nodes=str(node_file),
        transforms={"water": {"scale": water_scale}, "traffic": {"scale": 1000.0}}, **extra,
    )


def test_proximity_couples_the_pump_to_the_nearest_bus(tmp_path: Path) -> None:
    # The pump sits at its delivery junction J, file (90, 95). Scaled by 10 it is at
    # (900, 950): distances to A, B, C are 1308, 955 and 112 m, so C. Unscaled it is at
    # (90, 95): 131 m from A, 914 m from B, so A.
    region = import_region(tiny_files(tmp_path, 10.0), "centralised", params_for("centralised"),
                           tmp_path / "cache")
    power = region.suppliers("power->water")
    assert power == {"water/pump/PU": "power/bus/C"}
    pump = next(a for a in region.assets if a["id"] == "water/pump/PU")
    assert (pump["x_m"], pump["y_m"]) == (900.0, 950.0)
    # every ICT site and signal is coupled to a bus, every endpoint to an access site
    consumers = {a["id"] for a in region.assets if a["needs_power"] and a["sector"] != "power"}
    assert consumers == set(region.suppliers("power->ict")) | set(power) | set(
        region.suppliers("power->traffic"))
    (tmp_path / "u").mkdir()
    unscaled = import_region(tiny_files(tmp_path / "u", 1.0), "centralised", params_for("centralised"),
                             tmp_path / "cache")
    assert unscaled.suppliers("power->water") == {"water/pump/PU": "power/bus/A"}
    assert unscaled.root != region.root  # the transform is part of the cache key
    # the grid carries the pump as a load on C, with names that are asset ids
    import pandapower as pp

    net = pp.from_json(str(region.path("power")))
    pump_load = net.load[net.load.name == "water/pump/PU"]
    assert len(pump_load) == 1 and net.bus.at[int(pump_load.bus.iloc[0]), "name"] == "power/bus/C"
    assert set(net.bus.name) == {"power/bus/A", "power/bus/B", "power/bus/C"}


def test_dependency_file_overrides_proximity(tmp_path: Path) -> None:
    deps = tmp_path / "deps.csv"
    deps.write_text("consumer,supplier,coupling\nwater/pump/PU,power/bus/B,power->water\n")
    region = import_region(tiny_files(tmp_path, 10.0, dependencies=str(deps)), "centralised",
                           params_for("centralised"), tmp_path / "cache")
    assert region.suppliers("power->water") == {"water/pump/PU": "power/bus/B"}
    assert region.suppliers("ict->water")  # the pump's PLC still couples by proximity
    deps.write_text("water/pump/PU,power/bus/Z\n")
    with pytest.raises(RegionImportError, match="line 1: unknown asset id 'power/bus/Z'") as info:
        import_region(tiny_files(tmp_path, 10.0, dependencies=str(deps)), "centralised",
                      params_for("centralised"), tmp_path / "cache")
    assert str(deps) in str(info.value)


def test_missing_and_broken_files_are_named(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    scenario = tmp_path / "s.toml"
    scenario.write_text('[region.files]\npower = "nope.json"\nwater = "wntr:Net3"\ntraffic = "roads.net.xml"\n')
    with pytest.raises(ScenarioError) as info:
        load_scenario(scenario)
    text = str(info.value)
    assert "region.files" in text and str(tmp_path / "nope.json") in text
    assert str(tmp_path / "roads.net.xml") in text  # every problem at once
    assert main(["validate", str(scenario)]) == EXIT_BAD_INPUT

    # present but broken: the importer names the field and the file; the CLI exits 2
    (tmp_path / "nope.json").write_text("{ this is not a pandapower net")
    netgenerate_grid(tmp_path / "roads.net.xml", 3, 200.0)
    capsys.readouterr()
    code = main(["region", "build", str(scenario), "--out", str(tmp_path / "out"),
                 "--configuration", "centralised", "--cache", str(tmp_path / "cache")])
    err = capsys.readouterr().err
    assert code == EXIT_BAD_INPUT
    assert "region.files.power" in err and str(tmp_path / "nope.json") in err

    (tmp_path / "bad.inp").write_text("[JUNCTIONS]\n J1 not-a-number\n[END]\n")
    files = RegionFiles(power="pandapower:mv_oberrhein", water=str(tmp_path / "bad.inp"),
                        traffic=str(tmp_path / "roads.net.xml"))
    with pytest.raises(RegionImportError, match="region.files.water") as winfo:
        import_region(files, "centralised", params_for("centralised"), tmp_path / "cache")
    assert str(tmp_path / "bad.inp") in str(winfo.value)


def oberrhein_transform() -> dict[str, float]:
    """mv_oberrhein's lon/lat into metres, its south-west corner at the origin (Net3's frame)."""
    import pandapower.networks as pn

    net = pn.mv_oberrhein()
    xy = [json.loads(g)["coordinates"] for g in net.bus.geo]
    lon0, lat0 = min(p[0] for p in xy), min(p[1] for p in xy)
    lat_mid = sum(p[1] for p in xy) / len(xy)
    m_lon = M_PER_DEG_LAT * math.cos(math.radians(lat_mid))
    return {"scale": m_lon, "scale_y": M_PER_DEG_LAT, "offset_x_m": -lon0 * m_lon,
            "offset_y_m": -lat0 * M_PER_DEG_LAT}


def test_net3_with_mv_oberrhein_and_a_netgenerate_grid_runs_an_hour(tmp_path: Path) -> None:
    from twin.runner import region_for, run_configuration

    roads = netgenerate_grid(tmp_path / "roads.net.xml")  # 12 km x 12 km, 3 km blocks
    scenario = validate_data({
        "run": {"hours": 1, "configurations": ["centralised"], "baseline": False},
        "region": {"files": {
            "power": "pandapower:mv_oberrhein", "water": "wntr:Net3", "traffic": str(roads),
            "districts": 3,
            # Net3's coordinates span about 45 x 31 units: 300 m each puts it on the same
            # 13 km x 9 km ground as the grid (14 km x 16 km) and the roads (12 km x 12 km)
            "transforms": {"power": oberrhein_transform(), "water": {"scale": 300.0}},
        }},
    }, "test")
    region = region_for(scenario, "centralised", tmp_path / "results")
    buses = [a for a in region.assets if a["id"].startswith("power/bus/")]
    assert len(buses) == 179
    assert all(-1.0 <= b["x_m"] <= 14_500 and -1.0 <= b["y_m"] <= 16_500 for b in buses)
    # both Net3 pumps couple to the bus nearest to them (brute force over the load buses)
    load_buses = [b for b in buses if b["capacity_unit"] == "load_bus"]
    supplier = region.suppliers("power->water")
    pumps = [a for a in region.assets if a["id"].startswith("water/pump/")]
    assert len(pumps) == 2
    for p in pumps:
        nearest = min(load_buses, key=lambda b: (math.hypot(b["x_m"] - p["x_m"], b["y_m"] - p["y_m"]), b["id"]))
        assert supplier[p["id"]] == nearest["id"]
    signals = region.assets_of("traffic", "signal")
    assert len(signals) == 25 and set(region.suppliers("power->traffic")) == {s["id"] for s in signals}
    # three districts, the most populous the city; people = households behind the loads
    # (MW x scaling / 1.2 kW) x 2.2 persons
    import pandapower.networks as pn

    oberrhein = pn.mv_oberrhein()
    people = float((oberrhein.load.p_mw * oberrhein.load.scaling).sum()) * 1000 / 1.2 * 2.2
    assert len(region.districts) == 3 and region.districts[0]["kind"] == "city"
    assert sum(d["population"] for d in region.districts) == pytest.approx(people, abs=3)
    assert region.districts[0]["population"] == max(d["population"] for d in region.districts)

    outcome = run_configuration(scenario, "centralised", tmp_path / "results")
    assert outcome.status == "complete", outcome.error
    from twin import results

    run = results.load(outcome.path)
    served = run.series["power"]["served_mw"]
    assert len(served) == 12 and min(served) > 0  # one hour of 5-minute steps, grid live
    assert max(run.series["traffic"]["vehicles_running"]) > 0


CASE4_M = """function mpc = case4
%CASE4  Four buses, no coordinates (MATPOWER cases carry none).
mpc.version = '2';
mpc.baseMVA = 100;
mpc.bus = [
	1	3	0	0	0	0	1	1	0	20	1	1.1	0.9;
	2	1	2	0.5	0	0	1	1	0	20	1	1.1	0.9;
	3	1	1.5	0.4	0	0	1	1	0	20	1	1.1	0.9;
	4	1	1	0.3	0	0	1	1	0	20	1	1.1	0.9;
];
mpc.gen = [
	1	0	0	100	-100	1.02	100	1	100	0;
];
mpc.branch = [
	1	2	0.01	0.02	0	20	20	20	0	0	1	-360	360;
	2	3	0.01	0.02	0	20	20	20	0	0	1	-360	360;
	2	4	0.01	0.02	0	20	20	20	0	0	1	-360	360;
];
"""


def test_matpower_case_without_coordinates_gets_a_layout_and_a_warning(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    pytest.importorskip("matpowercaseframes")
    case = tmp_path / "case4.m"
    case.write_text(CASE4_M)
    files = RegionFiles.model_validate({**tiny_files(tmp_path, 10.0).model_dump(), "power": str(case)})
    with caplog.at_level("WARNING", logger="twin.region.importers"):
        region = import_region(files, "centralised", params_for("centralised"), tmp_path / "cache")
    assert any("power" in r.message and "4 of 4 nodes have no coordinates" in r.getMessage()
               for r in caplog.records)
    buses = {a["id"]: a for a in region.assets if a["id"].startswith("power/bus/")}
    assert len(buses) == 4 and len({(b["x_m"], b["y_m"]) for b in buses.values()}) == 4
    # the laid-out lines average 500 m (bus 2 is the hub of 1, 3 and 4)
    hub = buses["power/bus/bus1"]
    spokes = [math.hypot(b["x_m"] - hub["x_m"], b["y_m"] - hub["y_m"]) for k, b in buses.items() if k != hub["id"]]
    assert sum(spokes) / 3 == pytest.approx(500.0, rel=0.01)
    # households behind the loads: 2 + 1.5 + 1 MW at 1.2 kW each
    loads = [a for a in region.assets if a["id"].startswith("power/load/") and a["customers"]]
    assert sum(a["customers"] for a in loads) == round(2000 / 1.2) + round(1500 / 1.2) + round(1000 / 1.2)
    pump = next(a for a in region.assets if a["id"] == "water/pump/PU")
    nearest = min(buses.values(), key=lambda b: (math.hypot(b["x_m"] - pump["x_m"], b["y_m"] - pump["y_m"]), b["id"]))
    assert region.suppliers("power->water")["water/pump/PU"] == nearest["id"]


def test_sumo_net_moves_into_the_frame_with_its_signals(tmp_path: Path) -> None:
    import sumolib

    roads = netgenerate_grid(tmp_path / "grid.net.xml", 3, 200.0)  # junctions at 0, 200, 400
    files = RegionFiles.model_validate({
        **tiny_files(tmp_path, 10.0).model_dump(), "traffic": str(roads), "traffic_nodes": None,
        "transforms": {"water": {"scale": 10.0}, "traffic": {"scale": 2.0, "offset_x_m": 100.0,
                                                             "offset_y_m": -50.0}},
    })
    region = import_region(files, "centralised", params_for("centralised"), tmp_path / "cache")
    net = sumolib.net.readNet(str(region.path("traffic")))
    original = sumolib.net.readNet(str(roads))
    for node in original.getNodes():
        x, y = node.getCoord()
        moved = net.getNode(f"district1_{node.getID()}")
        assert moved.getCoord() == pytest.approx((2 * x + 100.0, 2 * y - 50.0), abs=0.01)
    assert len(net.getEdges()) == len(original.getEdges())
    tls = {t.getID() for t in net.getTrafficLights()}
    assert len(tls) == len(original.getTrafficLights()) == 9
    assert {a["id"] for a in region.assets_of("traffic", "signal")} == {f"traffic/signal/{t}" for t in tls}
    assert set(region.suppliers("power->traffic")) == {f"traffic/signal/{t}" for t in tls}


def test_user_ict_graph_is_used_and_checked(tmp_path: Path) -> None:
    ict = tmp_path / "ict.json"
    graph = {"directed": False, "multigraph": False, "graph": {}, "nodes": [
        {"id": "DCC", "x": 500, "y": 500, "role": "datacentre"},
        {"id": "TMC", "x": 520, "y": 500, "role": "tmc"},
        {"id": "BS1", "x": 0, "y": 0}, {"id": "BS2", "x": 1000, "y": 1000, "backup_h": 2.0}],
        "links": [{"source": "DCC", "target": "BS1"}, {"source": "DCC", "target": "BS2"},
                  {"source": "DCC", "target": "TMC"}]}
    ict.write_text(json.dumps(graph))
    region = import_region(tiny_files(tmp_path, 10.0, ict=str(ict)), "centralised",
                           params_for("centralised"), tmp_path / "cache")
    sites = {a["id"]: a for a in region.assets_of("ict", "site")}
    assert set(sites) == {"ict/site/DCC", "ict/site/TMC", "ict/site/BS1", "ict/site/BS2"}
    assert sites["ict/site/BS2"]["capacity"] == 2.0  # its own backup hours
    assert sites["ict/site/BS1"]["capacity"] == params_for("centralised").ict_backup_h
    # the pump at (900, 950) reaches the ICT network through the nearest access site, BS2
    assert region.suppliers("ict->water") == {"water/pump/PU": "ict/site/BS2"}
    graph["nodes"] = graph["nodes"][1:]
    graph["links"] = []
    ict.write_text(json.dumps(graph))
    with pytest.raises(RegionImportError, match="no data and control centre") as info:
        import_region(tiny_files(tmp_path, 10.0, ict=str(ict)), "centralised",
                      params_for("centralised"), tmp_path / "cache")
    assert "region.files.ict" in str(info.value) and str(ict) in str(info.value)
