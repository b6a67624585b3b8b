"""Hydraulics integrity: no step reuses a stale solution (issue 16, item 1)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import wntr

from twin.events import run_status, solver_failure_counts
from twin.models.water.importer import import_inp, shipped_inp
from twin.models.water.network import EN_STATUS, UNBALANCED_EXTRA_TRIALS, WaterNetwork
from twin.models.water.operation import NETWORK_ASSET, WaterOperation

STEP_S = 300
# pipes around Net3's tanks and the Lake pump's discharge: closing them cuts the tanks off
CLOSED = ("20", "40", "50", "101")
K_FAIL, K_REPAIR, N = 5, 20, 30
K_CHECK = K_REPAIR + 1  # the repair step itself is the unbalanced one


@pytest.fixture(scope="module")
def stop_inp(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Net3 in LPS with ``UNBALANCED STOP`` and a tight solver budget (``TRIALS 5``): closing
    and reopening the pipes above leaves a step unbalanced (EPANET warning 1), the published
    case of DESIGN.md where EPANET halts and returns the same solution ever after."""
    out = tmp_path_factory.mktemp("net3stop")
    import_inp(shipped_inp("Net3"), out, step_s=STEP_S, hours=3, minimum_pressure_m=0.0,
               required_pressure_m=20.0)
    text = (out / "water.inp").read_text()
    text = re.sub(r"(?im)^\s*UNBALANCED\s.*$", " UNBALANCED STOP", text)
    text = re.sub(r"(?im)^\s*TRIALS\s.*$", " TRIALS 5", text)
    assert "UNBALANCED STOP" in text and "TRIALS 5" in text
    path = out / "stop.inp"
    path.write_text(text)
    return path


def fresh_pressures(inp: Path, net: WaterNetwork, t_s: int, tanks: dict[str, float],
                    prefix: Path) -> dict[str, float]:
    """One fresh EPANET run (through wntr) of the INP in the state the stepped network is in
    at ``t_s``: its tank levels and link statuses as initial values, patterns at ``t_s``."""
    wn = wntr.network.WaterNetworkModel(str(inp))
    for name, level in tanks.items():
        wn.get_node(name).init_level = level
    for lid in net.link_ids:
        if lid not in wn.link_name_list:  # the second half of a split pipe
            continue
        is_open = net._link(net.link_index(lid), EN_STATUS) > 0.5
        wn.get_link(lid).initial_status = (wntr.network.LinkStatus.Open if is_open
                                           else wntr.network.LinkStatus.Closed)
    wn.options.time.pattern_start = t_s
    wn.options.time.duration = 0
    res = wntr.sim.EpanetSimulator(wn).run_sim(file_prefix=str(prefix))
    row = res.node["pressure"].iloc[0]
    return {j: float(row[j]) for j in net.junctions if j in row.index}  # not split nodes


def test_unbalanced_stop_is_overridden_and_pressures_follow_the_network(
        stop_inp: Path, tmp_path: Path) -> None:
    failed = {f"water/pipe/{p}": f"0|water/pipe/{p}|failed" for p in CLOSED}
    outs, snaps = [], []
    with WaterOperation(stop_inp, duration_s=N * STEP_S + STEP_S) as op:
        for k in range(N):
            outs.append(op.step(k * STEP_S, failed if K_FAIL <= k < K_REPAIR else {}))
            snaps.append(op.net.last)
            if k == K_CHECK:
                fresh = fresh_pressures(stop_inp, op.net, k * STEP_S, snaps[-1].tank_level_m,
                                        tmp_path / "fresh")
        events = [e for o in outs for e in o.events]
    kinds = [(e["time_s"], e["asset_id"], e["kind"], e["value"]) for e in events]
    assert (0, "water/option/unbalanced", "option_overridden",
            float(UNBALANCED_EXTRA_TRIALS)) in kinds
    # the case is not trivial: EPANET did report an unbalanced step, and it is a solver failure
    unsolved = [e for e in events if e["kind"] == "hydraulics_unsolved"]
    assert unsolved and all(e["value"] in (1.0, 2.0) for e in unsolved)
    assert solver_failure_counts(events)["water"] == len({e["time_s"] for e in unsolved})
    assert run_status(events) == "degraded"
    assert not [e for e in events if e["kind"] == "stale_solution"]
    # pressures follow the closures and the repair (under STOP they froze)
    p = [[s.pressure_m[j] for j in op.net.junctions] for s in snaps]
    assert p[K_FAIL] != p[K_FAIL - 1] and p[K_REPAIR] != p[K_REPAIR - 1]
    assert all(p[k] != p[k - 1] for k in range(K_REPAIR, N))
    # after the repair, the step equals a fresh EPANET run of the repaired state
    assert snaps[K_CHECK].solved
    worst = max(abs(snaps[K_CHECK].pressure_m[j] - fresh[j]) for j in fresh)
    assert worst < 1e-3


def test_watchdog_flags_a_frozen_solution(stop_inp: Path) -> None:
    """A solver that keeps returning the previous solution is caught by the watchdog,
    independent of EPANET's return codes, once the network or the demands changed; the same
    pressures with nothing changed (same network, same demand period) are no failure."""
    with WaterOperation(stop_inp, duration_s=20 * STEP_S) as op:
        first = op.step(0)
        frozen = op.net.last
        real_step = op.net.step

        def frozen_step(t_s: int):
            real_step(t_s)
            return type(frozen)(**{**frozen.__dict__, "time_s": t_s, "warnings": []})

        op.net.step = frozen_step  # type: ignore[method-assign]
        same = op.step(STEP_S)  # nothing changed: Net3's demand period is 1 h
        broken = op.step(2 * STEP_S, {"water/pipe/101": "600|water/pipe/101|failed"})
        hour = [op.step(k * STEP_S, {"water/pipe/101": "600|water/pipe/101|failed"})
                for k in range(3, 13)]
    assert not [e for e in [*first.events, *same.events] if e["kind"] == "stale_solution"]
    assert run_status([*first.events, *same.events]) == "complete"
    stale = [e for e in broken.events if e["kind"] == "stale_solution"]
    assert [(e["time_s"], e["asset_id"]) for e in stale] == [(2 * STEP_S, NETWORK_ASSET)]
    assert run_status([*first.events, *broken.events]) == "degraded"
    # with the network unchanged since, only the step at 1 h (new demand period) is flagged
    flagged = [e["time_s"] for o in hour for e in o.events if e["kind"] == "stale_solution"]
    assert flagged == [3600]


def test_pressure_outlier(tmp_path: Path) -> None:
    """A junction 30 m above its source (demand-driven) has -30 m: not a meaningful result."""
    wn = wntr.network.WaterNetworkModel()
    wn.add_reservoir("R", base_head=50.0, coordinates=(0, 0))
    wn.add_junction("J1", base_demand=0.004, elevation=80.0, coordinates=(1, 0))
    wn.add_pipe("P1", "R", "J1", length=10.0, diameter=1.0, roughness=130)
    wn.options.time.duration = 3600
    inp = tmp_path / "outlier.inp"
    wntr.network.write_inpfile(wn, str(inp), units="LPS", version=2.2)
    with WaterOperation(inp) as op:
        out = op.step(0)
    ev = [e for e in out.events if e["kind"] == "pressure_outlier"]
    assert [e["asset_id"] for e in ev] == ["water/junction/J1"]
    assert ev[0]["value"] == pytest.approx(-30.0, abs=1e-3)
    assert run_status(out.events) == "degraded"


def test_stepping_past_the_duration_raises(stop_inp: Path) -> None:
    """Past EPANET's duration there is no solution; the last one is not handed out again."""
    from twin.models.water.network import WaterNetworkError

    with WaterNetwork(stop_inp, step_s=STEP_S, duration_s=STEP_S) as net:
        net.step(0)
        net.step(STEP_S)
        with pytest.raises(WaterNetworkError, match="past the hydraulic duration"):
            net.step(2 * STEP_S)


def test_negative_pressure_without_delivery_is_no_solver_failure(tmp_path: Path) -> None:
    """The same junction 30 m above its source under pressure-driven demand delivers
    nothing: a physical outcome (negative_pressure), not a pressure_outlier."""
    wn = wntr.network.WaterNetworkModel()
    wn.add_reservoir("R", base_head=50.0, coordinates=(0, 0))
    wn.add_junction("J1", base_demand=0.004, elevation=80.0, coordinates=(1, 0))
    wn.add_pipe("P1", "R", "J1", length=10.0, diameter=1.0, roughness=130)
    wn.options.time.duration = 3600
    inp = tmp_path / "pdd.inp"
    wntr.network.write_inpfile(wn, str(inp), units="LPS", version=2.2)
    with WaterOperation(inp, minimum_pressure_m=0.0, required_pressure_m=20.0) as op:
        out = op.step(0)
    kinds = {e["kind"] for e in out.events}
    assert "pressure_outlier" not in kinds and "negative_pressure" in kinds
    assert out.series["junction_delivered_m3s"]["water/junction/J1"] == pytest.approx(0.0, abs=1e-9)
    assert run_status(out.events) == "complete"
