"""Small grids shipped as functions, for tests, examples and benchmarks (pandapower style)."""

from __future__ import annotations

import json
from pathlib import Path

from twin.region.assets import REGION_FILE, SECTOR_FILES


def power_region(out_dir: str | Path, size: str = "small", configuration: str = "centralised",
                 seed: int = 1, grid: str | None = None) -> Path:
    """A region folder holding only the power sector: ``power.json`` and ``region.json``.

    The full region builder adds the other sectors and the coupled loads; this is enough
    for :class:`~twin.models.power.grid.PowerGrid` and :class:`~twin.models.power.simulator.PowerSim`.
    ``grid``: ``synthetic`` or ``simbench`` (None: the size's own); tests that name the
    synthetic grid's feeders (``power/line/F1-2``) pass ``synthetic``.
    """
    from twin.models.power.build import build
    from twin.region.layout import make_layout
    from twin.region.params import params_for

    out_dir = Path(out_dir)
    layout = make_layout(size, seed=seed, grid=grid)  # type: ignore[arg-type]
    params = params_for(configuration)
    assets = build(layout, params, configuration, out_dir)
    (out_dir / REGION_FILE).write_text(json.dumps({
        "configuration": configuration, "params": params.model_dump(), "layout": layout.to_dict(),
        "assets": assets, "dependencies": [], "cost": {},
    }))
    return out_dir


def lossless_island_feeder(load_mw: float = 0.5, battery_mwh: float = 1.0, battery_mw: float = 2.0):
    """Grid -- line L1 -- bus B (grid-forming battery) -- lossless line L2 -- bus C (load).

    Both lines have zero resistance, so when ``power/line/L1`` fails the battery delivers
    exactly ``load_mw`` (no losses, no reactive load) and lasts ``battery_mwh / load_mw``
    hours: the hand computation of the islanding test.
    """
    import pandapower as pp

    net = pp.create_empty_network(name="lossless-island")
    a = pp.create_bus(net, 20.0, name="power/bus/A", geodata=(0.0, 0.0))
    b = pp.create_bus(net, 20.0, name="power/bus/B", geodata=(1000.0, 0.0))
    c = pp.create_bus(net, 20.0, name="power/bus/C", geodata=(2000.0, 0.0))
    pp.create_ext_grid(net, a, vm_pu=1.0, name="power/ext_grid/grid")
    for name, f, t in (("power/line/L1", a, b), ("power/line/L2", b, c)):
        pp.create_line_from_parameters(net, f, t, length_km=1.0, r_ohm_per_km=0.0, x_ohm_per_km=0.1,
                                       c_nf_per_km=0.0, max_i_ka=0.4, name=name)
    pp.create_load(net, c, p_mw=load_mw, q_mvar=0.0, name="power/load/C", district="village",
                   customers=100, critical=False, category="household")
    pp.create_storage(net, b, p_mw=0.0, max_e_mwh=battery_mwh, soc_percent=100.0, min_e_mwh=0.0,
                      max_p_mw=battery_mw, min_p_mw=-battery_mw, name="power/microgrid/village",
                      type="grid_forming", district="village", customers=100)
    return net


def _grid_line_bus(name: str):  # type: ignore[no-untyped-def]
    """External grid at bus A -- lossless line L1 (1 km) -- bus B; returns (net, B)."""
    import pandapower as pp

    net = pp.create_empty_network(name=name)
    a = pp.create_bus(net, 20.0, name="power/bus/A", geodata=(0.0, 0.0))
    b = pp.create_bus(net, 20.0, name="power/bus/B", geodata=(1000.0, 0.0))
    pp.create_ext_grid(net, a, vm_pu=1.0, name="power/ext_grid/grid")
    pp.create_line_from_parameters(net, a, b, length_km=1.0, r_ohm_per_km=0.0, x_ohm_per_km=0.1,
                                   c_nf_per_km=0.0, max_i_ka=0.4, name="power/line/L1")
    return net, b


def shedding_feeder(battery_mw: float = 1.0, battery_mwh: float = 10.0):
    """Grid -- line L1 -- bus B with a microgrid battery (default 1.0 MW, 10 MWh) and four loads.

    Loads on B: households 0.6 MW, a pump (``water/pump/P1``) 0.3 MW, the hospital 0.3 MW,
    an ICT site (``ict/site/S1``) 0.2 MW: 1.4 MW against 1.0 MW once L1 fails, so some
    load must go, in the shedding order.
    """
    import pandapower as pp

    net, b = _grid_line_bus("shedding")
    for name, p, crit, cat, cust in (
        ("power/load/B-1", 0.6, False, "household", 500), ("water/pump/P1", 0.3, True, "water", 0),
        ("power/load/hospital", 0.3, True, "hospital", 0), ("ict/site/S1", 0.2, True, "ict", 0),
    ):
        pp.create_load(net, b, p_mw=p, q_mvar=0.0, name=name, district="town", customers=cust,
                       critical=crit, category=cat)
    pp.create_storage(net, b, p_mw=0.0, max_e_mwh=battery_mwh, soc_percent=100.0, min_e_mwh=0.0,
                      max_p_mw=battery_mw, min_p_mw=-battery_mw, name="power/microgrid/town", type="grid_forming",
                      district="town", customers=500)
    return net


def shed_household_microgrid(community_mwh: float = 0.5, community_mw: float = 0.25,
                              households: int = 300, prosumers: int = 60, pv_kw: float = 5.0):
    """Grid -- lossless line L1 -- bus B (community battery, hospital 0.2 MW) -- lossless
    line L2 -- bus C (``households`` x 1.2 kW, of which ``prosumers`` own ``pv_kw`` of PV
    and a half-empty 8 kWh / 4 kW home battery).

    Once L1 fails, the island's load exceeds the community battery's ``community_mw``: the
    households are shed, the hospital stays. The shed homes' PV and batteries run behind
    their inverters, so the community battery carries only the hospital and lasts
    ``community_mwh / 0.2`` hours at round-trip efficiency 1 (were the home batteries to
    charge through the network, as much as their PV surplus would come on top).
    """
    import pandapower as pp

    net, b = _grid_line_bus("shed-household-microgrid")
    c = pp.create_bus(net, 20.0, name="power/bus/C", geodata=(2000.0, 0.0))
    pp.create_line_from_parameters(net, b, c, length_km=1.0, r_ohm_per_km=0.0, x_ohm_per_km=0.1,
                                   c_nf_per_km=0.0, max_i_ka=0.4, name="power/line/L2")
    pp.create_load(net, b, p_mw=0.2, q_mvar=0.0, name="power/load/hospital", district="town",
                   customers=0, critical=True, category="hospital")
    pp.create_load(net, c, p_mw=households * 1.2e-3, q_mvar=0.0, name="power/load/C-1", district="town",
                   customers=households, critical=False, category="household")
    pp.create_sgen(net, c, p_mw=prosumers * pv_kw * 1e-3, name="power/pv/town", type="PV", district="town",
                   customers=prosumers)
    pp.create_storage(net, c, p_mw=0.0, max_e_mwh=prosumers * 8e-3, soc_percent=50.0, min_e_mwh=0.0,
                      max_p_mw=prosumers * 4e-3, min_p_mw=-prosumers * 4e-3, name="power/battery/town",
                      type="home", district="town", customers=prosumers)
    pp.create_storage(net, b, p_mw=0.0, max_e_mwh=community_mwh, soc_percent=100.0, min_e_mwh=0.0,
                      max_p_mw=community_mw, min_p_mw=-community_mw, name="power/microgrid/town",
                      type="grid_forming", district="town", customers=households)
    return net


def tie_feeders(microgrid_mwh: float = 0.0):
    """Two radial feeders from bus A (external grid) and a normally open tie between their ends::

        A -F1-1- D1 -F1-2- B1 (1 MW) ~T1 (open)~ B2 (1 MW) -F2-2- C2 -F2-1- A

    Each line has a switch at its sending end named like the line (``power/switch/F2-2`` at
    C2, ``power/switch/T1`` at B1: normally open). B2's feeder F2 can be cut at F2-2 and B2
    fed over the tie from feeder 1 (fault isolation and service restoration); over the tie
    B2 is four branches from A, one more than over its own feeder. With
    ``microgrid_mwh`` > 0 a grid-forming community battery (``power/microgrid/v2``, 2 MW)
    sits at B2 and islands it when it loses the grid.
    """
    import pandapower as pp

    net = pp.create_empty_network(name="tie-feeders")
    bus = {n: pp.create_bus(net, 20.0, name=f"power/bus/{n}", geodata=xy)
           for n, xy in (("A", (0.0, 0.0)), ("D1", (0.0, 1000.0)), ("B1", (1000.0, 1000.0)),
                         ("C2", (1000.0, -1000.0)), ("B2", (2000.0, 0.0)))}
    pp.create_ext_grid(net, bus["A"], vm_pu=1.0, name="power/ext_grid/grid")
    for name, f, t, closed in (("F1-1", "A", "D1", True), ("F1-2", "D1", "B1", True), ("F2-1", "A", "C2", True),
                               ("F2-2", "C2", "B2", True), ("T1", "B1", "B2", False)):
        line = pp.create_line_from_parameters(
            net, bus[f], bus[t], length_km=1.0, r_ohm_per_km=0.1, x_ohm_per_km=0.1, c_nf_per_km=0.0,
            max_i_ka=0.4, name=f"power/line/{name}")
        pp.create_switch(net, bus[f], line, et="l", closed=closed, type="LBS", name=f"power/switch/{name}")
    for n, district in (("B1", "v1"), ("B2", "v2")):
        pp.create_load(net, bus[n], p_mw=1.0, q_mvar=0.0, name=f"power/load/{n}", district=district,
                       customers=100, critical=False, category="household")
    if microgrid_mwh > 0:
        pp.create_storage(net, bus["B2"], p_mw=0.0, max_e_mwh=microgrid_mwh, soc_percent=100.0,
                          min_e_mwh=0.0, max_p_mw=2.0, min_p_mw=-2.0, name="power/microgrid/v2",
                          type="grid_forming", district="v2", customers=100)
    return net


def prosumer_feeder(households: int = 100, prosumers: int = 40, load_kw: float = 1.2,
                    pv_kw: float = 4.0, battery_kwh: float = 8.0, battery_kw: float = 4.0):
    """Grid -- line L1 -- bus B with a household load, rooftop PV and home batteries.

    ``prosumers`` of the ``households`` own ``pv_kw`` of PV and a ``battery_kwh`` battery
    (full at the start, ``battery_kw`` power each), aggregated as one sgen and one storage.
    """
    import pandapower as pp

    net, b = _grid_line_bus("prosumers")
    pp.create_load(net, b, p_mw=households * load_kw / 1000, q_mvar=0.0, name="power/load/B-1",
                   district="village", customers=households, critical=False, category="household")
    pp.create_sgen(net, b, p_mw=prosumers * pv_kw / 1000, name="power/pv/village", type="PV",
                   district="village", customers=prosumers)
    e = prosumers * battery_kwh / 1000
    pp.create_storage(net, b, p_mw=0.0, max_e_mwh=e, soc_percent=100.0, min_e_mwh=0.0,
                      max_p_mw=prosumers * battery_kw / 1000, min_p_mw=-prosumers * battery_kw / 1000,
                      name="power/battery/village", type="home", district="village", customers=prosumers)
    return net


__all__ = ["SECTOR_FILES", "lossless_island_feeder", "power_region", "prosumer_feeder",
           "shed_household_microgrid", "shedding_feeder", "tie_feeders"]
