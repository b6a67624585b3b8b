"""TNTP files as the Transportation Networks for Research repository publishes them (the
layout of SiouxFalls_net.tntp / SiouxFalls_trips.tntp / SiouxFalls_node.tntp): column names
with spaces, metadata tags, ``~`` comments, link ids, directed links, zones below
``<FIRST THRU NODE>``, and the trip table becoming SUMO routes."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import pytest
from test_region_import import TINY_INP, tiny_grid

from twin.config import RegionFiles
from twin.region.importers import RegionImportError, Transform, import_region, read_tntp
from twin.region.importers.tntp import read_trips
from twin.region.params import params_for

# Six junctions 1 km apart in two rows: 1 2 3 (y = 0) and 4 5 6 (y = 1). Nodes 1 and 6 are
# zone centroids (FIRST THRU NODE 2 means nodes below 2 are zones; 6 is a zone too but also
# a through node, as in the repository where zones are 1..NUMBER OF ZONES).
NET = """<NUMBER OF ZONES> 6
<NUMBER OF NODES> 6
<FIRST THRU NODE> 2
<NUMBER OF LINKS> 15
<ORIGINAL HEADER>~
<END OF METADATA>


~ Written in the style of SiouxFalls_net.tntp: tab-separated, names with spaces.
~ 	Init node 	Term node 	Capacity 	Length 	Free Flow Time 	B	Power	Speed limit 	Toll 	Type	;
	1	2	3600.0	1.2	1.44	0.15	4	0	0	1	;
	2	1	3600.0	1.2	1.44	0.15	4	0	0	1	;
	2	3	1800.0	1.0	1.2	0.15	4	0	0	1	;
	3	2	1800.0	1.0	1.2	0.15	4	0	0	1	;
	1	4	5400.0	1.1	1.32	0.15	4	0	0	1	;
	4	1	5400.0	1.1	1.32	0.15	4	0	0	1	;
	2	5	1800.0	1.0	1.2	0.15	4	0	0	1	;
	5	2	1800.0	1.0	1.2	0.15	4	0	0	1	;
	3	6	1800.0	1.0	1.2	0.15	4	0	0	1	;
	6	3	1800.0	1.0	1.2	0.15	4	0	0	1	;
~ a comment between rows
	4	5	1800.0	1.0	1.2	0.15	4	0	0	1	;
	5	4	1800.0	1.0	1.2	0.15	4	0	0	1	;
	5	6	1800.0	1.0	1.2	0.15	4	0	0	1	;
	6	5	900.0	1.3	3.0	0.15	4	0	0	1	;
"""
NODES = """Node	X	Y	;
1	0	0	;
2	1	0	;
3	2	0	;
4	0	1	;
5	1	1	;
6	2	1	;
"""
TRIPS = """<NUMBER OF ZONES> 6
<TOTAL OD FLOW> 408.0
<END OF METADATA>


Origin 	1
    1 :      0.0;     6 :    240.0;
Origin 	2
    5 :     48.0;
Origin 	6
    1 :    120.0;     6 :      0.0;
"""
N_ROWS = 14  # data rows of NET (its tag says 15)


def files(tmp_path: Path, **extra: object) -> RegionFiles:
    (tmp_path / "net.tntp").write_text(NET)
    (tmp_path / "node.tntp").write_text(NODES)
    (tmp_path / "trips.tntp").write_text(TRIPS)
    (tmp_path / "tiny.inp").write_text(TINY_INP)
    return RegionFiles.model_validate({
        "power": str(tiny_grid(tmp_path / "grid.json")), "water": str(tmp_path / "tiny.inp"),
        "traffic": str(tmp_path / "net.tntp"), "traffic_nodes": str(tmp_path / "node.tntp"),
        "traffic_trips": str(tmp_path / "trips.tntp"),
        "transforms": {"water": {"scale": 10.0}, "traffic": {"scale": 1000.0}}, **extra,
    })


def test_published_link_file_reads_with_ids_lanes_and_a_count_warning(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    (tmp_path / "net.tntp").write_text(NET)
    (tmp_path / "node.tntp").write_text(NODES)
    with caplog.at_level(logging.WARNING, logger="twin.region.importers"):
        nodes, links = read_tntp(str(tmp_path / "net.tntp"), str(tmp_path / "node.tntp"),
                                 Transform(1000.0, 1000.0), None)
    assert any("<NUMBER OF LINKS> says 15, the file has 14 links" in r.getMessage() for r in caplog.records)
    assert len(links) == N_ROWS and [ln["id"] for ln in links] == [str(k) for k in range(1, 15)]
    assert nodes["6"] == (2000.0, 1000.0)
    by_id = {ln["id"]: ln for ln in links}
    # link 5 (1 -> 4): 5400 veh/h at 1800 veh/h per lane = 3 lanes; 1.1 km in 1.32 min
    assert (by_id["5"]["a"], by_id["5"]["b"], by_id["5"]["lanes"]) == ("1", "4", 3)
    assert by_id["5"]["speed_ms"] == pytest.approx(1100.0 / (1.32 * 60))
    assert by_id["14"]["lanes"] == 1 and by_id["14"]["length_m"] == pytest.approx(1300.0)
    # the link's own length unit wins over the transform when given
    _, links_m = read_tntp(str(tmp_path / "net.tntp"), None, Transform(1000.0, 1000.0), 500.0)
    assert links_m[0]["length_m"] == pytest.approx(600.0)


def test_trip_table_reads_and_checks_zones(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    (tmp_path / "trips.tntp").write_text(TRIPS)
    od = read_trips(str(tmp_path / "trips.tntp"), {str(n) for n in range(1, 7)})
    assert od == [("1", "6", 240.0), ("2", "5", 48.0), ("6", "1", 120.0)]
    (tmp_path / "bad.tntp").write_text(TRIPS.replace("408.0", "400.0") + "Origin 9\n 7 : 5.0;\n")
    with pytest.raises(RegionImportError, match=r"not nodes of the road network: \['7', '9'\]") as info:
        read_trips(str(tmp_path / "bad.tntp"), {str(n) for n in range(1, 7)})
    assert "region.files.traffic_trips" in str(info.value)
    (tmp_path / "off.tntp").write_text(TRIPS.replace("408.0", "400.0"))
    with caplog.at_level(logging.WARNING, logger="twin.region.importers"):
        read_trips(str(tmp_path / "off.tntp"), {str(n) for n in range(1, 7)})
    assert any("<TOTAL OD FLOW> says 400.0, the file has 408 trips" in r.getMessage() for r in caplog.records)


def test_published_tntp_imports_directed_with_ids_and_zones_closed_to_through_traffic(tmp_path: Path) -> None:
    import sumolib

    region = import_region(files(tmp_path), "centralised", params_for("centralised"), tmp_path / "cache")
    net = sumolib.net.readNet(str(region.path("traffic")), withConnections=True)
    edges = {e.getID(): e for e in net.getEdges()}
    assert set(edges) == {f"L{k}" for k in range(1, 15)}
    # directed links kept: each link is its own road asset, 1 -> 2 and 2 -> 1 apart
    roads = {a["id"] for a in region.assets_of("traffic", "road")}
    assert roads == {f"traffic/road/L{k}" for k in range(1, 15)}
    assert edges["L1"].getFromNode().getID().endswith("_1") and edges["L2"].getFromNode().getID().endswith("_2")
    assert edges["L5"].getLaneNumber() == 3 and edges["L1"].getLength() == pytest.approx(1200.0, abs=0.01)
    # node 1 is a zone (below FIRST THRU NODE 2): no movement from a link into it to one out of it
    into_1 = [e for e in edges.values() if e.getToNode().getID().endswith("_1")]
    assert into_1 and all(not e.getOutgoing() for e in into_1)
    # node 5 is a through node: 4 -> 5 continues
    assert edges["L11"].getOutgoing()
    table = json.loads((region.root / "demand.json").read_text())
    assert table["od"] == [["1", "6", 240.0], ["2", "5", 48.0], ["6", "1", 120.0]]
    assert table["zones"]["1"]["depart"] == ["L1", "L5"] and table["zones"]["6"]["arrive"] == ["L9", "L13"]


def _expected(per_day: float, hours: int) -> int:
    from twin.models.traffic.demand import HOURLY_PROFILE

    return round(per_day * sum(HOURLY_PROFILE[:hours]))  # counts from midnight to `hours`


@pytest.mark.parametrize(("scale", "period"), [(0.5, "day"), (0.2, "peak_hour")])
def test_trips_become_sumo_routes_counted(tmp_path: Path, scale: float, period: str) -> None:
    from twin.models.traffic.demand import HOURLY_PROFILE
    from twin.models.traffic.traffic import TrafficModel, TrafficOptions

    region = import_region(files(tmp_path, traffic_trips_period=period), "centralised",
                           params_for("centralised"), tmp_path / "cache")
    per_day = 1.0 if period == "day" else 1.0 / max(HOURLY_PROFILE)
    hours = 9
    expected = sum(_expected(t * per_day * scale, hours) for t in (240.0, 48.0, 120.0))
    assert expected > 20
    with TrafficModel(region.path("traffic"), region.districts, 3,
                      TrafficOptions(demand_scale=scale)) as model:
        trips = model.demand.trips_between(0.0, hours * 3600.0)
        assert len(trips) == expected
        # origins and destinations are the zones' own links
        assert {t.from_edge for t in trips if ".1-6-" in t.id} <= {"L1", "L5"}
        assert {t.to_edge for t in trips if ".1-6-" in t.id} <= {"L9", "L13"}
        stats = model.advance(hours * 3600.0)
        # every trip with a route became a SUMO vehicle; a trip from a dead-end link (L2 and
        # L6 have no onward connection in the net) has none, by sumolib's own router, and is
        # cancelled instead of jamming SUMO
        import sumolib

        net = sumolib.net.readNet(str(region.path("traffic")))
        unroutable = sum(net.getShortestPath(net.getEdge(t.from_edge), net.getEdge(t.to_edge))[0] is None
                         for t in trips)
        assert 0 < unroutable < expected
        assert stats.departed == expected - unroutable
        assert stats.cancelled == unroutable
    # the same seed gives the same trips
    with TrafficModel(region.path("traffic"), region.districts, 3,
                      TrafficOptions(demand_scale=scale)) as again:
        assert again.demand.trips_between(0.0, hours * 3600.0) == trips
