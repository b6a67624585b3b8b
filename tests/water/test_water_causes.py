"""Causes traced through the hydraulics (docs/water.md, "Causes"): a junction whose service
drops names the stopped element that carried the largest share of its supply on the last
solution before it stopped, checked against EPANET's own water-quality TRACE."""

from __future__ import annotations

from pathlib import Path

import pytest
import wntr

from twin.models.water.operation import WaterOperation
from twin.models.water.trace import FlowTrace

STEP_S = 300


def two_supply_inp(path: Path) -> Path:
    """Junction C gets most of its water from pump P1 (through A, a short wide main) and the
    rest from pump P2 (through B, a long narrow one); pump P3 feeds junction F only."""
    wn = wntr.network.WaterNetworkModel()
    wn.add_curve("pc", "HEAD", [(0.010, 40.0)])  # 10 L/s at 40 m (m3/s, m)
    wn.add_pattern("flat", [1.0])
    for r in ("R1", "R2", "R3"):
        wn.add_reservoir(r, base_head=0.0)
    for j, demand in (("A", 0.0), ("B", 0.0), ("C", 0.008), ("E", 0.0), ("F", 0.004)):
        wn.add_junction(j, base_demand=demand, elevation=0.0, demand_pattern="flat")
    wn.add_pump("P1", "R1", "A", "HEAD", "pc")
    wn.add_pump("P2", "R2", "B", "HEAD", "pc")
    wn.add_pump("P3", "R3", "E", "HEAD", "pc")
    wn.add_pipe("AC", "A", "C", length=100.0, diameter=0.3, roughness=120)
    wn.add_pipe("BC", "B", "C", length=6000.0, diameter=0.075, roughness=120)
    wn.add_pipe("EF", "E", "F", length=200.0, diameter=0.15, roughness=120)
    wn.options.hydraulic.demand_model = "PDA"
    wn.options.hydraulic.minimum_pressure = 0.0
    wn.options.hydraulic.required_pressure = 20.0
    wn.options.time.duration = 6 * 3600
    wn.options.time.hydraulic_timestep = STEP_S
    wn.options.time.report_timestep = STEP_S
    wn.options.time.pattern_timestep = 3600
    wntr.network.write_inpfile(wn, str(path), units="LPS", version=2.2)
    return path


def epanet_trace(inp: Path, node: str, at: str, work: Path) -> float:
    """Share of the water at ``at`` that passed through ``node``: a plain EPANET run with
    water-quality TRACE (steady after 24 h of constant demand), in 0..1."""
    wn = wntr.network.WaterNetworkModel(str(inp))
    wn.options.quality.parameter = "TRACE"
    wn.options.quality.trace_node = node
    wn.options.time.duration = 24 * 3600  # the long main takes ~7 h to flush
    wn.options.time.quality_timestep = 60
    res = wntr.sim.EpanetSimulator(wn).run_sim(file_prefix=str(work / f"trace-{node}"))
    return float(res.node["quality"][at].iloc[-1]) / 100.0


def test_flow_trace_by_hand() -> None:
    """Two sources mixing at node 2 (3 and 1 L/s), then on to node 3; tank 4 is a barrier."""
    #  0 --l0 (3)--> 2 --l2 (4)--> 3 ;  1 --l1 (1)--> 2 ; 3 --l3 (4)--> 4 (tank) --l4 (2)--> 5
    trace = FlowTrace(6, [(0, 2), (1, 2), (2, 3), (3, 4), (4, 5)], {0, 1, 4})
    flows = [0.003, 0.001, 0.004, 0.004, 0.002]
    s = trace.shares(flows, links=[0])
    assert s[2] == pytest.approx(0.75) and s[3] == pytest.approx(0.75)
    assert s[4] == pytest.approx(0.75)  # arriving at the tank...
    assert s[5] == 0.0  # ... but what leaves it is stored water
    assert trace.shares(flows, nodes=[4])[5] == 1.0
    # a reversed flow is followed the other way: node 3 now feeds node 2
    s = trace.shares([0.0, 0.0, -0.004, 0.0, 0.0], nodes=[3])
    assert s[2] == 1.0 and s[0] == 0.0


def run_stops(inp: Path, stops: list[list[str]]) -> tuple[list[dict], dict[str, float]]:
    """Step the network, killing the buses of the pumps listed per step; the events and the
    outage shares of the attribution made when C went out."""
    buses = {f"water/pump/{p}": f"power/bus/{p}" for p in ("P1", "P2", "P3")}
    events: list[dict] = []
    shares: dict[str, float] = {}
    with WaterOperation(inp, power_suppliers=buses, duration_s=2 * 3600,
                        split_pipes=False) as op:
        dead: dict[str, str] = {}
        for k, stop in enumerate(stops):
            for p in stop:
                dead[f"power/bus/{p}"] = f"{k * STEP_S}|power/bus/{p}|de-energised"
            out = op.step(k * STEP_S, {}, dict(dead), {})
            events += out.events
            if any(e["asset_id"] == "water/junction/C" and e["kind"] == "low_pressure"
                   for e in out.events):
                shares = dict(op.causes.last_shares)
    return events, shares


@pytest.fixture(scope="module")
def network(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, float, float]:
    """The INP and EPANET's TRACE shares of C's water through A (P1) and B (P2)."""
    work = tmp_path_factory.mktemp("causes")
    inp = two_supply_inp(work / "two.inp")
    p1, p2 = epanet_trace(inp, "A", "C", work), epanet_trace(inp, "B", "C", work)
    assert p1 > 0.8 and p2 < 0.2  # the network does what it is built for
    assert p1 + p2 == pytest.approx(1.0, abs=1e-3)
    return inp, p1, p2


def test_stopped_pump_carrying_most_supply_is_the_cause(network: tuple[Path, float, float]) -> None:
    """P3 stops at 300 s, P2 at 600 s, P1 at 900 s. The earliest-outage rule would name P3
    or P2; the trace names P1, which carried all of C's water once P2 had stopped."""
    inp, _, p2 = network
    events, shares = run_stops(inp, [[], ["P3"], ["P2"], ["P1"], []])
    low = {e["asset_id"]: e for e in events if e["kind"] == "low_pressure"}
    # F goes out when P3, its only supply, stops
    assert low["water/junction/F"]["cause_id"] == "300|water/pump/P3|pump_stopped"
    # C keeps its service when P2 stops, and goes out when P1 stops
    assert "water/junction/C" not in {e["asset_id"] for e in events
                                      if e["kind"] == "low_pressure" and e["time_s"] < 900}
    assert low["water/junction/C"]["time_s"] == 900
    assert low["water/junction/C"]["cause_id"] == "900|water/pump/P1|pump_stopped"
    assert low["water/junction/C"]["coupling"] == "water"
    # each outage is scored on the solution before it began: P1's after P2 had stopped
    assert shares["900|water/pump/P1|pump_stopped"] == pytest.approx(1.0)
    assert shares["600|water/pump/P2|pump_stopped"] == pytest.approx(p2, abs=5e-3)
    assert shares["300|water/pump/P3|pump_stopped"] == 0.0


def test_shares_equal_epanet_trace(network: tuple[Path, float, float]) -> None:
    """P1 and P2 stop together: each is scored by its share of C's water on the solution
    before, which equals EPANET's own TRACE of its discharge node; P1 (~90 %) is named."""
    inp, p1, p2 = network
    events, shares = run_stops(inp, [[], [], ["P1", "P2"], []])
    (ev,) = [e for e in events if e["asset_id"] == "water/junction/C" and e["kind"] == "low_pressure"]
    assert ev["cause_id"] == "600|water/pump/P1|pump_stopped"
    assert shares["600|water/pump/P1|pump_stopped"] == pytest.approx(p1, abs=5e-3)
    assert shares["600|water/pump/P2|pump_stopped"] == pytest.approx(p2, abs=5e-3)


def test_no_outage_on_the_path_falls_back_to_the_district_rule(tmp_path: Path) -> None:
    """An outage that began at the first step has no solution before it: the earliest
    active outage is named, as without tracing."""
    inp = two_supply_inp(tmp_path / "two.inp")
    buses = {"water/pump/P1": "power/bus/P1", "water/pump/P2": "power/bus/P2"}
    dead = {"power/bus/P1": "0|power/bus/P1|de-energised",
            "power/bus/P2": "0|power/bus/P2|de-energised"}
    with WaterOperation(inp, power_suppliers=buses, duration_s=3600, split_pipes=False) as op:
        out = op.step(0, {}, dead, {})
    (ev,) = [e for e in out.events if e["kind"] == "low_pressure"]
    assert ev["cause_id"] == "0|water/pump/P1|pump_stopped"  # earliest, then by id
