"""The water network as mosaik elements: ``twin.facade.water:WaterElements``.

``create(1, "Network", region_dir=DIR)`` opens a built twin region's ``water.inp`` with its
assets; ``create(1, "Network", file=PATH)`` opens any EPANET INP (``wntr:Net3`` names a
network shipped with wntr). Element ids are twin's asset ids of the EPANET elements
(``water/junction/<name>``, ``water/tank/<name>``, ``water/pipe/<name>``,
``water/pump/<name>`` — ``water/well/<name>`` for a pump drawing from a ``GW-``
reservoir —, ``water/valve/<name>``, ``water/plant/<name>``). Elements of a plain INP get
the water model's defaults (``models/water/operation.py``): people from base demand,
district ``network``, no backup generator.

A pump or plant runs while its ``powered`` input is 1 (default: powered); connect it to
the ``energised`` output of a bus of the power facade to couple the two. The physics is
:class:`twin.models.water.operation.WaterOperation`, the code twin's own world steps; its
pressures equal a plain EPANET run of the same input (tested).
"""

from __future__ import annotations

from typing import Any

from twin.facade.common import EXTERNAL_CAUSE, ElementModel, ElementSimulator, FacadeError, number

MODELS = {
    "Junction": ElementModel((), ("pressure[m]", "demand[m3/s]", "delivered[m3/s]"),
                             "pressure at the node; demand required and delivered (pressure-driven)"),
    "Tank": ElementModel((), ("level[m]",), "water level above the tank bottom"),
    "Reservoir": ElementModel((), (), "a fixed-head source"),
    "Pipe": ElementModel(("failed",), (), "failed: the pipe is closed (or leaks, per the model's pipe_break)"),
    "Valve": ElementModel(("failed",), (), "failed: the valve is closed"),
    "Pump": ElementModel(("failed", "powered"), ("on", "flow[m3/s]", "P[MW]"),
                         "powered: 1 while its supply is live; on: running; P[MW]: electrical draw"),
    "Plant": ElementModel(("failed", "powered"), ("producing", "flow[m3/s]"),
                          "treatment plant: produces while powered and not failed"),
}

KIND_MODEL = {"junction": "Junction", "tank": "Tank", "reservoir": "Reservoir", "pipe": "Pipe",
              "valve": "Valve", "pump": "Pump", "well": "Pump", "plant": "Plant"}

OPERATION_PARAMS = ("minimum_pressure_m", "required_pressure_m", "pressure_exponent", "pipe_break",
                    "pump_backup_h", "duration_s")


class WaterElements(ElementSimulator):
    """Water network elements as mosaik entities (see the module docstring)."""

    SECTOR = "water"
    MODELS = MODELS
    NETWORK_PARAMS = ("region_dir", "file", "seed", *OPERATION_PARAMS)

    def __init__(self) -> None:
        super().__init__()
        self.op: Any = None
        self.out: Any = None
        self._powered: dict[str, bool] = {}

    def open(self, region_dir: str | None = None, file: str | None = None, seed: int = 0,
             **params: Any) -> dict[str, str]:
        from twin.models.water.operation import WaterOperation
        from twin.region.assets import load_region
        from twin.region.importers.water import water_source

        if (region_dir is None) == (file is None):
            raise FacadeError("water Network needs exactly one of region_dir= (a twin region) or file= "
                              "(an EPANET INP, or wntr:<name>)")
        assets = None
        if region_dir is not None:
            region = load_region(region_dir)
            params.setdefault("pump_backup_h", float(region.params.get("pump_backup_h", 0.0)))
            path, assets = region.path("water"), region.assets
        else:
            path = water_source(str(file))
        # The INP is opened once; then each pump and plant gets a supply of its own, which
        # the `powered` input switches (a supply's bus is read only when the model steps).
        op = WaterOperation(path, assets=assets, step_s=self.step_s, seed=int(seed), **params)
        elements = {aid: KIND_MODEL[aid.split("/")[1]]
                    for aid in [*op.node_asset.values(), *op.link_asset.values()]
                    if aid.split("/")[1] in KIND_MODEL}
        for aid, unit in [*op.pumps.items(), *op.plants.items()]:
            unit.supply.bus = _supply(aid)
        self._powered = {aid: True for aid, m in elements.items() if m in ("Pump", "Plant")}
        self.op = op
        return dict(sorted(elements.items()))

    def advance(self, time_s: int, failed: set[str], values: dict[str, dict[str, Any]]) -> None:
        for eid, attrs in values.items():
            if "powered" in attrs:
                self._powered[eid] = bool(attrs["powered"])  # holds until changed
        dead = {_supply(aid): EXTERNAL_CAUSE for aid, on in self._powered.items() if not on}
        self.out = self.op.step(time_s, failed=dict.fromkeys(failed, EXTERNAL_CAUSE), dead_buses=dead)

    def finalize(self) -> None:
        if self.op is not None:
            self.op.close()

    def read(self, eid: str, attr: str) -> Any:
        if self.out is None:
            return None
        s = self.out.series
        if attr == "pressure[m]":  # every junction, not only those with demand (the series')
            return number(self.op.net.last.pressure_m[self.op.asset_node[eid]])
        key = {
            "demand[m3/s]": "junction_required_m3s",
            "delivered[m3/s]": "junction_delivered_m3s", "level[m]": "tank_level_m", "on": "pump_on",
            "P[MW]": "pump_p_mw", "producing": "plant_producing",
        }.get(attr)
        if attr == "flow[m3/s]":
            key = "plant_flow_m3s" if self.elements[eid] == "Plant" else "pump_flow_m3s"
        values = s.get(key, {})
        if attr in ("demand[m3/s]", "delivered[m3/s]"):
            return float(values.get(eid, 0.0))  # a junction without demand asks for none
        value = number(values.get(eid))
        return int(value) if attr in ("on", "producing") and value is not None else value


def _supply(aid: str) -> str:
    """The pseudo bus behind a pump's or plant's ``powered`` input."""
    return f"facade/supply/{aid}"


def main() -> None:
    """Run as a separate process (``cmd:`` in a mosaik sim_config)."""
    import mosaik_api_v3

    mosaik_api_v3.start_simulation(WaterElements())


if __name__ == "__main__":
    main()
