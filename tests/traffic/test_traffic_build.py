"""The road network builder: SUMO loads it, assets match it, builds are byte-identical."""

from __future__ import annotations

from pathlib import Path

import pytest
import sumolib

from twin.models.traffic.build import build, grid_size, sumo_binary
from twin.models.traffic.network import RoadNetwork
from twin.models.traffic.traffic import TrafficModel, TrafficOptions
from twin.region.layout import make_layout
from twin.region.params import params_for


@pytest.fixture(scope="module")
def small(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[dict]]:
    out = tmp_path_factory.mktemp("net")
    assets = build(make_layout("small", 1), params_for("centralised"), "centralised", out)
    return out / "roads.net.xml", assets


def test_sumo_comes_from_the_eclipse_sumo_package() -> None:
    import sumo

    assert Path(sumo_binary("netconvert")).is_relative_to(Path(sumo.SUMO_HOME))


def test_build_is_byte_identical(small: tuple[Path, list[dict]], tmp_path: Path) -> None:
    net, assets = small
    again = build(make_layout("small", 1), params_for("decentralised"), "decentralised", tmp_path)
    assert (tmp_path / "roads.net.xml").read_bytes() == net.read_bytes()
    assert again == assets  # the same roads and signals in every configuration


def test_assets_match_the_sumo_network(small: tuple[Path, list[dict]]) -> None:
    net_file, assets = small
    net = sumolib.net.readNet(str(net_file))  # SUMO's own reader, independent of ours
    tls = sorted(t.getID() for t in net.getTrafficLights())
    signals = sorted(a["id"].removeprefix("traffic/signal/") for a in assets if a["type"] == "signal")
    assert signals == tls and len(tls) > 0
    for t in tls:
        assert net.getNode(t).getType() == "traffic_light"
    roads = [a for a in assets if a["type"] == "road"]
    edges = {e.getID() for e in net.getEdges()}
    assert len(edges) == 2 * len(roads)  # every road has both directions
    for a in roads:
        fwd = a["id"].removeprefix("traffic/road/")
        frm, to = fwd.split("-")
        assert fwd in edges and f"{to}-{frm}" in edges
    sig = next(a for a in assets if a["type"] == "signal")
    assert sig["needs_power"] and sig["needs_ict"] and 0 < sig["p_mw"] < 0.01


def test_grid_sized_by_radius(small: tuple[Path, list[dict]]) -> None:
    net = RoadNetwork.read(small[0])
    layout = make_layout("small", 1)
    for d in layout.districts:
        n = grid_size(d.radius_m)
        assert sum(1 for nd in net.nodes if nd.startswith(f"{d.id}_")) == n * n
    city, village = layout.district("city"), layout.district("village1a")
    assert grid_size(city.radius_m) > grid_size(village.radius_m)
    # the layout's frame is kept (no offset normalisation): the city grid surrounds (0, 0)
    xs = [xy[0] for nd, xy in net.nodes.items() if nd.startswith("city_")]
    assert min(xs) < 0 < max(xs)


def test_network_loads_in_sumo(small: tuple[Path, list[dict]]) -> None:
    with TrafficModel(small[0], [], 0, TrafficOptions(mode="micro")) as model:
        ids = {e for e in model.sumo.edge.getIDList() if not e.startswith(":")}
        assert ids == set(model.net.edges)
        assert sorted(model.sumo.trafficlight.getIDList()) == list(model.net.signals)


def test_the_cached_network_equals_the_xml_and_follows_edits(small: tuple[Path, list[dict]], tmp_path: Path) -> None:
    net_file = tmp_path / "roads.net.xml"
    net_file.write_bytes(small[0].read_bytes())
    plain = RoadNetwork.read(net_file)
    cache = net_file.with_name(net_file.name + ".pickle")
    assert not cache.exists()  # a plain read writes nothing beside the file
    first = RoadNetwork.read(net_file, cache=True)
    assert cache.is_file()
    second = RoadNetwork.read(net_file, cache=True)  # from the pickle
    assert first == plain and second == plain and len(plain.edges) > 50 and plain.signals
    edge = next(iter(plain.edges.values()))
    text = net_file.read_text().replace(f'length="{edge.length_m:.2f}"', 'length="1234.50"', 1)
    assert text != net_file.read_text()
    net_file.write_text(text)  # an edited file is read again
    assert RoadNetwork.read(net_file, cache=True) == RoadNetwork.read(net_file)
    assert RoadNetwork.read(net_file, cache=True) != plain
