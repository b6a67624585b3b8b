"""The power grid as mosaik elements: ``twin.facade.power:PowerElements``.

``create(1, "Network", region_dir=DIR)`` opens a built twin region's ``power.json``;
``create(1, "Network", file=PATH)`` opens any pandapower JSON net. Elements are the
net's buses, lines, transformers, loads, PV (``sgen``), batteries (``storage``) and
switches, with their names as ids (a missing or repeated name becomes
``power/<table>/<position>`` / ``name#<position>``, :func:`~twin.facade.common.unique_names`).
Elements of a plain file get the grid model's defaults (``models/power/grid.py``):
category ``other``, customers 0, district ``region``; PV follows the daylight profile of
the grid model scaled to the element's ``p_mw``; loads that are not households hold their
``p_mw`` unless a ``P[MW]`` input sets it.

The physics is :class:`twin.models.power.grid.PowerGrid`, the same code twin's own world
steps, so values equal twin's run of the same inputs (tested).
"""

from __future__ import annotations

from typing import Any

from twin.facade.common import (
    EXTERNAL_CAUSE,
    ElementModel,
    ElementSimulator,
    FacadeError,
    number,
    unique_names,
)

# pandapower table -> element model
TABLES = {"bus": "Bus", "line": "Line", "trafo": "Trafo", "load": "Load", "sgen": "PV",
          "storage": "Battery", "switch": "Switch"}

MODELS = {
    "Bus": ElementModel(("failed",), ("energised", "Vm[pu]"),
                        "energised: 1 if the bus is live; Vm[pu]: voltage magnitude (None when dead)"),
    "Line": ElementModel(("failed",), ("loading[%]",), "loading[%]: current over rating"),
    "Trafo": ElementModel(("failed",), ("loading[%]",), "loading[%]: apparent power over rating"),
    "Load": ElementModel(("P[MW]",), ("P[MW]", "demand[MW]", "served"),
                         "input P[MW]: demand setpoint (not for household loads, which follow the "
                         "profile); outputs: served power, demand, served 1/0"),
    "PV": ElementModel(("failed",), ("P[MW]",), "P[MW]: active power fed in"),
    "Battery": ElementModel(("failed",), ("P[MW]", "soc"),
                            "P[MW]: charging (+) / discharging (-) power; soc: state of charge 0..1"),
    "Switch": ElementModel(("closed", "failed"), ("closed",),
                           "input closed: 1 close, 0 open (persistent until changed)"),
}

GRID_PARAMS = ("battery_efficiency", "reserve_share", "battery_mode", "shed_order", "pressure_threshold_m",
               "household_profile", "protection")


class PowerElements(ElementSimulator):
    """Power grid elements as mosaik entities (see the module docstring)."""

    SECTOR = "power"
    MODELS = MODELS
    NETWORK_PARAMS = ("region_dir", "file", "seed", *GRID_PARAMS)

    def __init__(self) -> None:
        super().__init__()
        self.grid: Any = None
        self.result: Any = None
        self._index: dict[str, tuple[str, int]] = {}  # element id -> (table, row label)

    def open(self, region_dir: str | None = None, file: str | None = None, seed: int = 0,
             **grid_params: Any) -> dict[str, str]:
        import pandapower as pp

        from twin.models.power.grid import PowerGrid
        from twin.models.power.netfile import read_net
        from twin.region.assets import load_region

        if (region_dir is None) == (file is None):
            raise FacadeError("power Network needs exactly one of region_dir= (a twin region) or file= "
                              "(a pandapower JSON net)")
        if region_dir is not None:
            region = load_region(region_dir)
            grid_params.setdefault("reserve_share", float(region.params.get("battery_reserve_share", 0.3)))
            path = region.path("power")
            net = read_net(path)  # a region's own file: through its read cache
        else:
            path = file
            net = pp.from_json(str(path))  # the user's file, read as it is
        elements: dict[str, str] = {}
        names_by_table: dict[str, list[str]] = {}
        for table in TABLES:
            names = unique_names(list(net[table]["name"]), f"power/{table}")
            names_by_table[table] = names
            net[table]["name"] = names
        for table in ("ext_grid", "gen"):  # not elements, but the grid model keys islands by name
            net[table]["name"] = unique_names(list(net[table]["name"]), f"power/{table}")
        # storage rows may share a name (one district's home batteries): one element each name
        taken: set[str] = set()
        for table, model in TABLES.items():
            for label, name in zip(net[table].index, names_by_table[table], strict=True):
                if table == "storage" and name in elements:
                    continue
                if name in taken:
                    raise FacadeError(f"{path}: element id {name!r} is used by two tables; rename one")
                taken.add(name)
                elements[name] = model
                self._index[name] = (table, int(label))
        self.grid = PowerGrid(net, seed=int(seed), step_s=self.step_s, **grid_params)
        return elements

    def advance(self, time_s: int, failed: set[str], values: dict[str, dict[str, Any]]) -> None:
        grid = self.grid
        load_p: dict[str, float] = {}
        commands: dict[str, dict[str, Any]] = {}
        for eid, attrs in values.items():
            if "P[MW]" in attrs:
                pos = grid.load_names.index(eid)
                if grid.household[pos]:
                    raise FacadeError(f"power load {eid!r} is a household load: it follows the daily "
                                      "profile and takes no P[MW] setpoint")
                load_p[eid] = float(attrs["P[MW]"])
            if "closed" in attrs:
                commands[eid] = {"value": 1 if attrs["closed"] else 0, "cause_id": ""}
        self.result = grid.step(time_s, failed=dict.fromkeys(failed, EXTERNAL_CAUSE), load_p_mw=load_p, commands=commands)

    def read(self, eid: str, attr: str) -> Any:
        r = self.result
        table, label = self._index[eid]
        net = self.grid.net
        if r is None:  # before the first step
            return None
        s = r.series
        if table == "bus":
            live = bool(s["bus_energised"].get(eid, 0.0))
            if attr == "energised":
                return int(live)
            return number(net.res_bus.at[label, "vm_pu"]) if live else None
        if table in ("line", "trafo"):
            res = net[f"res_{table}"]
            return number(res.at[label, "loading_percent"]) if label in res.index else None
        if table == "load":
            if attr == "P[MW]":
                return float(s["load_served_mw"][eid])
            load = r.telemetry["loads"][eid]
            return float(load["demand_mw"]) if attr == "demand[MW]" else int(bool(load["served"]))
        if table == "sgen":
            return number(net.res_sgen.at[label, "p_mw"]) if label in net.res_sgen.index else 0.0
        if table == "storage":
            if attr == "soc":
                return number(s["battery_soc"].get(eid))
            rows = net.storage.index[net.storage["name"] == eid]
            return float(sum(number(net.res_storage.at[i, "p_mw"]) or 0.0 for i in rows if i in net.res_storage.index))
        return int(bool(r.switch_closed[eid]))  # switch


def main() -> None:
    """Run as a separate process (``cmd:`` in a mosaik sim_config)."""
    import mosaik_api_v3

    mosaik_api_v3.start_simulation(PowerElements())


if __name__ == "__main__":
    main()
