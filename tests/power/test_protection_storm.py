"""Storm faults on overhead lines as utilities see them: in ordinary wind most are transient
(cleared by the feeder's recloser within the step), in strong storms most are permanent
damage; and protection options validated."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from scipy.stats import lognorm, norm

from twin.cli import main
from twin.config import Scenario
from twin.hazards import WIND_LINE_PER_KM, damage_schedule, wind_damage_probability, wind_failure_probability
from twin.incidents import IncidentLog
from twin.randomness import uniform
from twin.region.assets import make_asset


def _lines(n: int) -> list:
    lines = [make_asset(f"power/line/O{k}", "power", "line", 0.0, 100.0 * k, "town") for k in range(n)]
    for a in lines:
        a["length_km"] = 6.0  # the reference section of twin.hazards.LINE_REFERENCE_KM
    return lines


def _scenario(share: float | None = None, gust_ms: float = 80.0) -> Scenario:
    power = {} if share is None else {"protection": {"transient_share": share}}
    return Scenario.model_validate({
        "run": {"hours": 6, "seed": 7}, "power": power,
        "hazards": [{"kind": "storm", "track_m": [[0, -1000], [0, 50000]], "start_h": 1, "end_h": 3,
                     "peak_wind_ms": gust_ms, "decay_m": 1.0e9}],
    })


def _section_p(gust_ms: float, median_km: float, length_km: float = 6.0) -> float:
    """P that a section of ``length_km`` reaches a state whose per-km curve is lognormal with
    ``median_km`` and the wind curve's beta (series rule), by scipy, not by twin."""
    p_km = float(lognorm(s=WIND_LINE_PER_KM.beta, scale=median_km).cdf(gust_ms))
    return 1.0 - (1.0 - p_km) ** length_km


def _damage_median_km(share: float) -> float:
    """The damage curve's per-km median for a transient share at 25 m/s, solved by hand:
    P_damage(25) = (1 - share) P_fault(25) on the per-km curves."""
    fault = WIND_LINE_PER_KM
    p_damage = (1.0 - share) * float(lognorm(s=fault.beta, scale=fault.median).cdf(25.0))
    return 25.0 / float(np.exp(fault.beta * norm.ppf(p_damage)))


def test_the_transient_share_holds_at_25_ms_and_falls_with_the_gust() -> None:
    m_damage = _damage_median_km(0.75)
    assert m_damage > WIND_LINE_PER_KM.median
    per_km = lambda g, m: float(lognorm(s=WIND_LINE_PER_KM.beta, scale=m).cdf(g))  # noqa: E731
    assert 1 - per_km(25.0, m_damage) / per_km(25.0, WIND_LINE_PER_KM.median) == pytest.approx(0.75)
    line = _lines(1)[0]
    shares = []
    for gust in (25.0, 30.0, 36.0, 42.0, 48.0, 60.0):
        p_fault = wind_failure_probability(line, gust)
        p_damage = wind_damage_probability(line, gust, 1.0, 0.75)
        assert p_fault == pytest.approx(_section_p(gust, WIND_LINE_PER_KM.median), rel=1e-9)
        assert p_damage == pytest.approx(_section_p(gust, m_damage), rel=1e-9)
        shares.append(1 - p_damage / p_fault)
    assert shares[0] == pytest.approx(0.75, abs=0.01)  # a 6-km section: nearly the per-km share
    assert all(a > b for a, b in zip(shares, shares[1:], strict=False))  # storms damage more
    assert shares[-1] < 0.1  # hurricane-force gusts: almost every fault is damage


def test_storm_faults_split_into_transient_and_permanent_by_each_lines_own_draw() -> None:
    lines = _lines(400)
    m_damage = _damage_median_km(0.75)
    for gust in (36.0, 80.0):
        sched = damage_schedule(_scenario(gust_ms=gust), lines)
        p_fault, p_damage = _section_p(gust, WIND_LINE_PER_KM.median), _section_p(gust, m_damage)
        for d in sched:  # one draw per line: fault below P(fault), damage below P(damage)
            u = uniform(7, "storm-0", d.asset_id)
            assert u < p_fault
            assert (d.mode == "failed") == (u < p_damage)
            assert d.duration_s == (0 if d.mode == "transient" else None)
        faulted = {d.asset_id for d in sched}
        assert faulted == {a["id"] for a in lines if uniform(7, "storm-0", a["id"]) < p_fault}
        transient = sum(d.mode == "transient" for d in sched) / len(sched)
        assert transient == pytest.approx(1 - p_damage / p_fault, abs=0.08)
    # common random numbers: a line's fate does not depend on which other lines exist
    half = {d.asset_id: d.mode for d in damage_schedule(_scenario(), lines[::2])}
    assert all(half[d.asset_id] == d.mode for d in damage_schedule(_scenario(), lines) if d.asset_id in half)
    # share 0: every fault is permanent; share 1: every fault is cleared by the recloser
    assert {d.mode for d in damage_schedule(_scenario(0.0), lines)} == {"failed"}
    assert {d.mode for d in damage_schedule(_scenario(1.0), lines)} == {"transient"}


def test_transient_fault_is_reclosed_without_an_outage() -> None:
    lines = _lines(80)
    sched = damage_schedule(_scenario(gust_ms=36.0), lines)
    log = IncidentLog(sched, {"power": 6 * 3600}, {a["id"]: "power" for a in lines})
    events = [e for t in range(0, 6 * 3600, 300) for e in log.advance(t, 300)]
    transient = sorted(d.asset_id for d in sched if d.mode == "transient")
    assert transient
    for asset in transient:
        mine = [e for e in events if e["asset_id"] == asset]
        assert [e["kind"] for e in mine] == ["transient_fault", "reclosed"]
        assert mine[1]["cause_id"] == mine[0]["event_id"] and mine[1]["coupling"] == "protection"
        assert mine[0]["coupling"] == "hazard" and mine[0]["time_s"] == mine[1]["time_s"]
        assert asset not in log.failed
    permanent = {d.asset_id for d in sched if d.mode == "failed"}
    assert {e["asset_id"] for e in events if e["kind"] == "failed"} == permanent


@pytest.mark.parametrize(("body", "key"), [
    ("[power.protection]\npickupp = 1.5\n", "power.protection.pickupp"),
    ("[power.protection]\ntau_cable_s = -60\n", "power.protection.tau_cable_s"),
    ("[power.protection]\ncold_load_tau_s = 0\n", "power.protection.cold_load_tau_s"),
    ("[power.protection]\npickup = -1.5\n", "power.protection.pickup"),
    ("[power.protection]\ntransient_share = 1.2\n", "power.protection.transient_share"),
])
def test_bad_protection_options_exit_2_with_file_and_key(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                                         body: str, key: str) -> None:
    path = tmp_path / "bad.toml"
    path.write_text(body)
    assert main(["validate", str(path)]) == 2
    assert f"{path}: {key}:" in capsys.readouterr().err
