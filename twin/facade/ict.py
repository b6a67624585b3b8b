"""The ICT layer as mosaik elements: ``twin.facade.ict:IctElements``.

``create(1, "Network", region_dir=DIR)`` opens a built twin region's ``ict.json`` with its
endpoints (the assets that need ICT); ``create(1, "Network", file=PATH)`` opens any
networkx node-link JSON graph (``networkx.node_link_data(g, edges="links")``). Sites are
the graph's nodes (ids as in the file); links are its edges, with the edge's ``id``
attribute as element id or ``ict/link/<a>--<b>`` (sorted ends) where it has none. Node
attributes a plain file may lack get the ICT model's defaults: ``backup_h`` 0 (no battery),
``p_mw`` 0. A plain graph has no endpoints.

A site is powered while its ``powered`` input is 1 (the default); without power it runs
on its battery for ``backup_h`` hours. The logic is :class:`twin.models.ict.network.IctNetwork`,
the code twin's own world steps.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from twin.facade.common import EXTERNAL_CAUSE, ElementModel, ElementSimulator, FacadeError

MODELS = {
    "Site": ElementModel(("failed", "powered"), ("up", "battery[h]", "P[MW]"),
                         "up: 1 unless failed or out of battery; battery[h] left; P[MW]: grid demand"),
    "Link": ElementModel(("failed",), ("up",), "up: 1 unless failed"),
    "Endpoint": ElementModel((), ("reachable",), "reachable: 1 while it reaches its controller"),
}


class IctElements(ElementSimulator):
    """ICT sites, links and endpoints as mosaik entities (see the module docstring)."""

    SECTOR = "ict"
    MODELS = MODELS
    NETWORK_PARAMS = ("region_dir", "file", "seed", "recharge_ratio")

    def __init__(self) -> None:
        super().__init__()
        self.net: Any = None
        self._powered: dict[str, bool] = {}
        self._stepped = False

    def open(self, region_dir: str | None = None, file: str | None = None, seed: int = 0,
             recharge_ratio: float = 1.0) -> dict[str, str]:
        import networkx as nx

        from twin.models.ict.build import load_graph
        from twin.models.ict.network import IctNetwork, endpoints_from_region
        from twin.region.assets import load_region

        if (region_dir is None) == (file is None):
            raise FacadeError("ict Network needs exactly one of region_dir= (a twin region) or file= "
                              "(a networkx node-link JSON graph)")
        if region_dir is not None:
            region = load_region(region_dir)
            graph = load_graph(region.path("ict"))
            endpoints = endpoints_from_region(region, graph)
        else:
            graph = nx.node_link_graph(json.loads(Path(file).read_text()), edges="links")  # type: ignore[arg-type]
            endpoints = {}
        for u, v, data in graph.edges(data=True):
            if not data.get("id"):
                a, b = sorted((str(u), str(v)))
                data["id"] = f"ict/link/{a}--{b}"
        supply = {str(s): f"facade/supply/{s}" for s in graph.nodes}
        self._powered = dict.fromkeys(supply, True)
        self.net = IctNetwork(graph, endpoints, supply, recharge_ratio=recharge_ratio)
        elements = {str(s): "Site" for s in self.net.sites}
        for lid in self.net.links:
            if lid in elements:
                raise FacadeError(f"ICT link id {lid!r} is also a site id; rename one")
            elements[lid] = "Link"
        for e in self.net.endpoints:
            elements.setdefault(e, "Endpoint")
        return elements

    def advance(self, time_s: int, failed: set[str], values: dict[str, dict[str, Any]]) -> None:
        for eid, attrs in values.items():
            if "powered" in attrs:
                self._powered[eid] = bool(attrs["powered"])  # holds until changed
        dead = {f"facade/supply/{s}": EXTERNAL_CAUSE for s, on in self._powered.items() if not on}
        self.net.step(time_s, self.step_s, failed=dict.fromkeys(failed, EXTERNAL_CAUSE), dead_buses=dead)
        self._stepped = True

    def read(self, eid: str, attr: str) -> Any:
        if not self._stepped:
            return None
        net = self.net
        model = self.elements[eid]
        if model == "Endpoint":
            return int(eid in net.reachable)
        if model == "Link":
            return int(eid not in net.links_down)
        if attr == "up":
            return int(eid not in net.sites_down)
        if attr == "battery[h]":
            return float(net.battery_h()[eid])
        return float(net.load_p_mw()[eid])


def main() -> None:
    """Run as a separate process (``cmd:`` in a mosaik sim_config)."""
    import mosaik_api_v3

    mosaik_api_v3.start_simulation(IctElements())


if __name__ == "__main__":
    main()
