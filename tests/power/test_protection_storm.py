"""Storm faults on overhead lines as utilities see them: most are transient (cleared by the
feeder's recloser within the step), the rest permanent; and protection options validated."""

from __future__ import annotations

from pathlib import Path

import pytest

from twin.cli import main
from twin.config import Scenario
from twin.hazards import damage_schedule
from twin.incidents import IncidentLog
from twin.randomness import uniform
from twin.region.assets import make_asset


def _lines(n: int) -> list:
    lines = [make_asset(f"power/line/O{k}", "power", "line", 0.0, 100.0 * k, "town") for k in range(n)]
    for a in lines:
        a["length_km"] = 6.0  # the reference section of twin.hazards.LINE_REFERENCE_KM
    return lines


def _scenario(share: float | None = None) -> Scenario:
    power = {} if share is None else {"protection": {"transient_share": share}}
    return Scenario.model_validate({
        "run": {"hours": 6, "seed": 7}, "power": power,
        "hazards": [{"kind": "storm", "track_m": [[0, -1000], [0, 50000]], "start_h": 1, "end_h": 3,
                     "peak_wind_ms": 80.0, "decay_m": 1.0e6}],
    })


def test_storm_faults_split_into_transient_and_permanent_by_each_lines_own_draw() -> None:
    lines = _lines(200)
    sched = damage_schedule(_scenario(), lines)
    assert len(sched) > 150  # 80 m/s gusts against a 40 m/s median: nearly every section faults
    transient = {d.asset_id for d in sched if d.mode == "transient"}
    for d in sched:  # each line's own stream decides, against the default share 0.75
        assert (d.asset_id in transient) == (uniform(7, "storm-0-transient", d.asset_id) < 0.75)
        assert d.duration_s == (0 if d.mode == "transient" else None)
    assert 0.65 < len(transient) / len(sched) < 0.85
    # common random numbers: a line's fate does not depend on which other lines exist
    half = {d.asset_id: d.mode for d in damage_schedule(_scenario(), lines[::2])}
    assert all(half[d.asset_id] == d.mode for d in sched if d.asset_id in half)
    # share 0: every fault is permanent (the previous behaviour)
    assert {d.mode for d in damage_schedule(_scenario(0.0), lines)} == {"failed"}


def test_transient_fault_is_reclosed_without_an_outage() -> None:
    lines = _lines(40)
    sched = damage_schedule(_scenario(), lines)
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
