"""The traffic element facade: a plain SUMO net with given trips behaves as twin's traffic
model stepped directly with the same closures and dark signals (same code, same SUMO seed:
equal values), and a closed road empties while its detour fills."""

from __future__ import annotations

from pathlib import Path

import pytest

from twin.facade import FacadeError
from twin.facade.traffic import TrafficElements
from twin.models.traffic.demand import Trip
from twin.models.traffic.testing import make_region
from twin.models.traffic.traffic import TrafficModel, TrafficOptions

STEP_S = 300


@pytest.fixture(scope="module")
def net_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    region = make_region(tmp_path_factory.mktemp("roads"))
    return region.path("traffic")


def _trips(a: str, b: str) -> list[dict]:
    """A steady stream from edge a to edge b: one car every 6 s for 30 min."""
    return [{"id": f"car{k}", "depart_s": 6.0 * k, "from": a, "to": b} for k in range(300)]


def test_facade_equals_the_traffic_model_on_the_same_inputs(net_file: Path) -> None:
    facade = TrafficElements()
    facade.init("Traffic-0", step_s=STEP_S)
    (net,) = facade.create(1, "Network", file=str(net_file), seed=3)
    roads = sorted(c["eid"] for c in net["children"] if c["type"] == "Road")
    signals = sorted(c["eid"] for c in net["children"] if c["type"] == "Signal")
    edges = sorted(facade.model.net.edges)
    route, _ = facade.model.fastest_route(edges[0], edges[-1])
    assert len(route) >= 4, route
    on_route = list(dict.fromkeys(f"traffic/road/{facade.model.net.road_of(e)}" for e in route[1:-1]))
    trips = _trips(route[0], route[-1])
    facade.finalize()

    facade = TrafficElements()
    facade.init("Traffic-0", step_s=STEP_S)
    facade.create(1, "Network", file=str(net_file), seed=3, trips=trips)
    closed, dark = on_route[1], signals[0] if signals else None  # early on the route: busy from the start
    watch = sorted({closed, *on_route, roads[0]})
    mine = []
    for t in range(0, 6 * STEP_S, STEP_S):
        inputs: dict = {}
        if 2 * STEP_S <= t < 4 * STEP_S:
            inputs[closed] = {"failed": {"storm": 1}}
        if dark is not None and t >= STEP_S:
            inputs[dark] = {"powered": {"grid": 0}}
        facade.step(t, inputs)
        mine.append(facade.get_data({r: ["open", "vehicles", "speed[m/s]", "travel_time[s]"] for r in watch}
                                    | ({dark: ["dark"]} if dark else {})))
    facade.finalize()

    model = TrafficModel(net_file, (), 3, TrafficOptions())
    road_edges = {r: model.net.edges_of_road(r.removeprefix("traffic/road/")) for r in watch}
    model.start()
    model.add_trips([Trip(t["id"], t["depart_s"], t["from"], t["to"], "", "") for t in trips])
    theirs = []
    road = closed.removeprefix("traffic/road/")
    for t in range(0, 6 * STEP_S, STEP_S):
        if t == 2 * STEP_S:
            model.close_road(road)
        if t == 4 * STEP_S:
            model.reopen_road(road)
        if dark is not None and t == STEP_S:
            model.set_signal_dark(dark.removeprefix("traffic/signal/"))
        model.advance(t + STEP_S)
        e = model.sumo.edge
        row = {}
        for r in watch:
            n = [e.getLastStepVehicleNumber(x) for x in road_edges[r]]
            v = [e.getLastStepMeanSpeed(x) for x in road_edges[r]]
            row[r] = {"open": int(model.edge_open(road_edges[r][0])), "vehicles": sum(n),
                      "speed[m/s]": sum(a * b for a, b in zip(n, v, strict=True)) / sum(n) if sum(n) else sum(v) / len(v),
                      "travel_time[s]": max(e.getTraveltime(x) for x in road_edges[r])}
        if dark is not None:
            row[dark] = {"dark": int(dark.removeprefix("traffic/signal/") in model.dark_signals)}
        theirs.append(row)
    model.close()
    assert mine == theirs
    assert [m[closed]["open"] for m in mine] == [1, 1, 0, 0, 1, 1]
    # no car enters a closed road; those on it when it closed abandon their trip
    # (docs/traffic.md, "Road closures"), so it is empty while it is closed
    assert mine[2][closed]["vehicles"] == mine[3][closed]["vehicles"] == 0
    assert mine[1][closed]["vehicles"] > 0  # the stream used the road before it closed
    if dark is not None:
        assert [m[dark]["dark"] for m in mine] == [0, 1, 1, 1, 1, 1]


def test_bad_trips_are_errors(net_file: Path) -> None:
    facade = TrafficElements()
    facade.init("Traffic-0", step_s=STEP_S)
    with pytest.raises(FacadeError, match="no edge 'nowhere'"):
        facade.create(1, "Network", file=str(net_file), trips=[{"depart_s": 0, "from": "nowhere", "to": "x"}])
    with pytest.raises(FacadeError, match="has no 'to'"):
        facade.create(1, "Network", file=str(net_file), trips=[{"depart_s": 0, "from": "nowhere"}])
