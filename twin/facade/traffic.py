"""Roads and traffic signals as mosaik elements: ``twin.facade.traffic:TrafficElements``.

``create(1, "Network", region_dir=DIR)`` opens a built twin region's ``roads.net.xml`` with
its demand (districts, or an imported trip table); ``create(1, "Network", file=PATH)`` opens
any SUMO ``.net.xml``, whose only traffic is the ``trips`` given (a list of
``{"id", "depart_s", "from", "to"}`` with edge ids; none by default). Element ids are twin's
asset ids: ``traffic/road/<road>`` for a road (its forward edge id; closing it closes both
directions, as the traffic model does) and ``traffic/signal/<tls id>`` for a signalised
junction. The logic is :class:`twin.models.traffic.traffic.TrafficModel` (SUMO through
libsumo by default: one SUMO per process, so run a second traffic facade as ``cmd:``).
"""

from __future__ import annotations

from typing import Any

from twin.facade.common import ElementModel, ElementSimulator, FacadeError, number

MODELS = {
    "Road": ElementModel(("failed",), ("open", "vehicles", "speed[m/s]", "travel_time[s]"),
                         "failed: closed in both directions; open 1/0; vehicles on it (both "
                         "directions); their mean speed (the free speed when empty); SUMO's current "
                         "travel time of the slower direction"),
    "Signal": ElementModel(("failed", "powered"), ("dark",),
                           "dark (all-way stop) while failed or unpowered"),
}

OPTION_PARAMS = ("mode", "backend", "demand_scale", "car_trips_per_person_day", "time_to_teleport_s",
                 "stuck_wait_s", "rerouting_period_s", "step_length_s")


class TrafficElements(ElementSimulator):
    """Roads and signals of a SUMO network as mosaik entities (see the module docstring)."""

    SECTOR = "traffic"
    MODELS = MODELS
    NETWORK_PARAMS = ("region_dir", "file", "seed", "trips", *OPTION_PARAMS)

    def __init__(self) -> None:
        super().__init__()
        self.model: Any = None
        self._powered: dict[str, bool] = {}
        self._stepped = False

    def open(self, region_dir: str | None = None, file: str | None = None, seed: int = 0,
             trips: list[dict[str, Any]] | None = None, **options: Any) -> dict[str, str]:
        from twin.models.traffic.demand import Trip
        from twin.models.traffic.traffic import TrafficModel, TrafficOptions
        from twin.region.assets import load_region

        if (region_dir is None) == (file is None):
            raise FacadeError("traffic Network needs exactly one of region_dir= (a twin region) or file= "
                              "(a SUMO .net.xml)")
        opts = TrafficOptions(**options)
        if region_dir is not None:
            region = load_region(region_dir)
            self.model = TrafficModel(region.path("traffic"), region.districts, int(seed), opts, cache_network=True)
        else:
            self.model = TrafficModel(str(file), (), int(seed), opts)
        net = self.model.net
        given = []
        for k, tr in enumerate(trips or []):
            try:
                given.append(Trip(str(tr.get("id", f"facade.{k}")), float(tr["depart_s"]), str(tr["from"]),
                                  str(tr["to"]), "", ""))
            except KeyError as err:
                raise FacadeError(f"trip {k} has no {err.args[0]!r} (needs depart_s, from, to)") from None
            for end in (given[-1].from_edge, given[-1].to_edge):
                if end not in net.edges:
                    raise FacadeError(f"trip {k}: the network has no edge {end!r}")
        if opts.backend == "libsumo":
            TrafficModel.close_stale_libsumo()
        self.model.start()
        self.model.add_trips(given)
        elements = dict.fromkeys(sorted(f"traffic/road/{net.road_of(e)}" for e in net.edges), "Road")
        for tls in net.signals:
            elements[f"traffic/signal/{tls}"] = "Signal"
            self._powered[f"traffic/signal/{tls}"] = True
        return elements

    def advance(self, time_s: int, failed: set[str], values: dict[str, dict[str, Any]]) -> None:
        model = self.model
        for eid, attrs in values.items():
            if "powered" in attrs:
                self._powered[eid] = bool(attrs["powered"])  # holds until changed
        closed = {eid.removeprefix("traffic/road/") for eid in failed if self.elements[eid] == "Road"}
        for road in sorted(closed - model.closed_roads):
            model.close_road(road)
        for road in sorted(model.closed_roads - closed):
            model.reopen_road(road)
        dark = {eid.removeprefix("traffic/signal/") for eid, on in self._powered.items()
                if not on or eid in failed}
        for tls in sorted(dark - model.dark_signals):
            model.set_signal_dark(tls)
        for tls in sorted(model.dark_signals - dark):
            model.set_signal_lit(tls)
        model.advance(time_s + self.step_s)
        self._stepped = True

    def read(self, eid: str, attr: str) -> Any:
        if not self._stepped:
            return None
        model = self.model
        if self.elements[eid] == "Signal":
            return int(eid.removeprefix("traffic/signal/") in model.dark_signals)
        edges = model.net.edges_of_road(eid.removeprefix("traffic/road/"))
        if attr == "open":
            return int(model.edge_open(edges[0]))
        sumo = model.sumo.edge
        if attr == "travel_time[s]":
            return number(max(sumo.getTraveltime(e) for e in edges))
        counts = [int(sumo.getLastStepVehicleNumber(e)) for e in edges]
        if attr == "vehicles":
            return sum(counts)
        speeds = [float(sumo.getLastStepMeanSpeed(e)) for e in edges]
        if sum(counts) == 0:  # SUMO reports the free speed of an empty edge
            return number(sum(speeds) / len(speeds))
        return number(sum(c * v for c, v in zip(counts, speeds, strict=True)) / sum(counts))

    def finalize(self) -> None:
        if self.model is not None:
            self.model.close()


def main() -> None:
    """Run as a separate process (``cmd:`` in a mosaik sim_config)."""
    import mosaik_api_v3

    mosaik_api_v3.start_simulation(TrafficElements())


if __name__ == "__main__":
    main()
