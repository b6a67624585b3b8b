"""Remote pump control goes over ICT: a cut path leaves the pump on its local rule, and a
false tank reading injected by an attack makes the schedule run the pump the wrong way."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from twin import results
from twin.config import validate_data
from twin.models.water.testing import plain_epanet
from twin.runner import run_configuration

PUMP = "water/pump/PS1"  # the treatment plant's pump, filling the city tank; its PLC uses BS3
SITE = "ict/site/BS3"


def run(tmp: Path, name: str, hazards: list[dict]) -> results.Results:
    scenario = validate_data({"run": {"hours": 6, "seed": 5, "baseline": False},
                              "region": {"size": "small"}, "hazards": hazards}, name)
    out = run_configuration(scenario, "centralised", tmp / name)
    assert out.status == "complete", out.error
    return results.load(out.path)


def test_cut_plc_path_means_local_rule(tmp_path: Path) -> None:
    remote = run(tmp_path, "remote", [])
    cut = run(tmp_path, "cut", [{"kind": "outage", "asset": SITE, "at_h": 0, "duration_h": 6}])
    # with the path up the SCADA commands the pump; with it cut, never
    assert remote.series["control"]["commands_water"].sum() > 0
    assert cut.series["control"]["commands_water"].sum() == 0
    assert all(e["kind"] != "command" for e in cut.events if e["asset_id"] == PUMP)
    unreachable = [e for e in cut.events if e["asset_id"] == PUMP and e["kind"] == "unreachable"]
    assert unreachable and unreachable[0]["cause_id"].endswith(f"{SITE}|failed")
    # on its local rule (the level switch written into the INP) the whole network equals a
    # plain EPANET run of the same INP; under remote control it does not
    inp = tmp_path / "cut" / ".regions" / cut.attrs["region_key"] / "water.inp"
    ref = plain_epanet(inp, 6.0, prefix=tmp_path / "ref")

    def worst(res: results.Results) -> float:
        levels = res.series["water"]["tank_level_m"]
        cols = res.columns["water"]["tank_level_m"]
        return max(abs(levels[k, j] - ref.loc[int(t), c.split("/")[-1]])
                   for j, c in enumerate(cols) for k, t in enumerate(res.time_s))

    assert worst(cut) < 0.01
    assert worst(remote) > 0.05
    on_cut, on_remote = cut.column("water", "pump_on", PUMP), remote.column("water", "pump_on", PUMP)
    assert np.flatnonzero(on_cut == 0)[0] > np.flatnonzero(on_remote == 0)[0]  # local rule fills higher


def test_false_tank_reading_runs_the_pump_the_wrong_way(tmp_path: Path) -> None:
    truth = run(tmp_path, "truth", [])
    # from 2 h the plant's PLC site reports the city tank empty
    lie = run(tmp_path, "lie", [{"kind": "cyber", "target": SITE, "at_h": 2, "mode": "false_data",
                                 "false_value": 0.0}])
    k = int(2 * 3600 / 300)
    on_truth, on_lie = truth.column("water", "pump_on", PUMP), lie.column("water", "pump_on", PUMP)
    np.testing.assert_array_equal(on_truth[:k], on_lie[:k])
    # the truth says the tank is full enough: pump off; the lie makes control run it
    assert on_truth[k + 2:].sum() == 0 and on_lie[k + 2:].all()
    level = lie.column("water", "tank_level_m", "water/tank/T-city")
    assert level[-1] > truth.column("water", "tank_level_m", "water/tank/T-city")[-1] + 0.5
    # the event log names the attack as the root cause of the pump's wrong start
    by_id = {e["event_id"]: e for e in lie.events}
    started = [e for e in lie.events if e["asset_id"] == PUMP and e["kind"] == "pump_on"
               and e["time_s"] >= 2 * 3600]
    assert started
    cause = by_id[started[0]["cause_id"]]
    while cause["cause_id"]:
        cause = by_id[cause["cause_id"]]
    assert (cause["asset_id"], cause["kind"], cause["coupling"]) == (SITE, "compromised", "attack")
