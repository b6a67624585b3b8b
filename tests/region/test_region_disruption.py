"""Disruption files (twin/region/disruption.py): InfraRisk's layout and twin's, ids mapped
through the importers' id tables, partial damage as documented, the same with the same seed."""

from __future__ import annotations

import math
from pathlib import Path

import pytest
from test_region_import import tiny_files

from twin.config import ScenarioError, load_scenario, validate_data
from twin.hazards import HAZARD_KINDS, Damage, damage_schedule
from twin.randomness import stream, uniform
from twin.region.disruption import DisruptionFileError, read_disruptions
from twin.region.importers import import_region
from twin.region.importers.ids import resolve
from twin.region.params import params_for

# tiny_files: lines AB and BC, pipe P1 and pump PU, TNTP roads L1..L9 (link n = row n)
INFRARISK = """components,time_stamp,fail_perc
P1,3600,50
AB,7200,100
BC,1800,60
T_L3,600,40
"""


def scenario_for(tmp_path: Path, csv_text: str, seed: int = 7, **files: object) -> tuple:
    (tmp_path / "disruption.csv").write_text(csv_text)
    f = tiny_files(tmp_path, 10.0, **files)
    region = import_region(f, "centralised", params_for("centralised"), tmp_path / "cache")
    scenario = validate_data({
        "run": {"hours": 24, "seed": seed, "configurations": ["centralised"]},
        "region": {"files": f.model_dump(mode="json")},
        "hazards": [{"kind": "disruption_file", "path": str(tmp_path / "disruption.csv")}],
    }, "test")
    return scenario, region


def _repair_h(seed: int, asset_id: str, median_h: float, beta: float = 0.5) -> float:
    """twin.hazards.REPAIR_TIME's lognormal by hand: median * exp(beta * z), z its own stream."""
    return median_h * math.exp(beta * float(stream(seed, "repair", asset_id).normal(0.0, 1.0, 1)[0]))


def test_registered_as_a_file_hazard() -> None:
    assert HAZARD_KINDS["disruption_file"].family == "file"


def test_infrarisk_file_gives_the_documented_damage(tmp_path: Path) -> None:
    seed = 7
    scenario, region = scenario_for(tmp_path, INFRARISK, seed)
    got = {d.asset_id: d for d in damage_schedule(scenario, region.assets)}
    root, t0 = "hazard/disruption_file-0", 600  # the hazard starts at the earliest row
    # a pipe at 50 %: a leak of half a break's size, repaired like any pipe damage
    assert got["water/pipe/P1"] == Damage(3600, "water/pipe/P1", root, t0, None, "leak", 0.5)
    # a line at 100 %: failed, the sector's repair time
    assert got["power/line/AB"] == Damage(7200, "power/line/AB", root, t0, None, "failed", 1.0)
    # a line at 60 % and TNTP link 3 at 40 %: out with that probability, for that share of
    # their class's drawn repair time (lines 4 h median, roads 1.5 h; beta 0.5)
    for aid, t, f, median in (("power/line/BC", 1800, 0.6, 4.0), ("traffic/road/L3", 600, 0.4, 1.5)):
        if uniform(seed, "disruption-0", aid) < f:
            dur = round(f * _repair_h(seed, aid, median) * 3600)
            assert got[aid] == Damage(t, aid, root, t0, dur, "failed", f)
        else:
            assert aid not in got
    # identical across runs with the same seed; another seed draws again
    again, _ = scenario_for(tmp_path, INFRARISK, seed)
    assert damage_schedule(again, region.assets) == damage_schedule(scenario, region.assets)


def test_partial_damage_is_an_outage_probability(tmp_path: Path) -> None:
    scenario, region = scenario_for(tmp_path, INFRARISK)
    out = 0
    for seed in range(1, 201):
        s = scenario.model_copy(update={"run": scenario.run.model_copy(update={"seed": seed})})
        out += any(d.asset_id == "power/line/BC" for d in damage_schedule(s, region.assets))
    assert out / 200 == pytest.approx(0.6, abs=0.1)


def test_twin_layout_in_hours_and_a_full_pipe_break(tmp_path: Path) -> None:
    scenario, region = scenario_for(tmp_path, "# twin's own layout\nasset,time_h,fraction\n"
                                               "water/pipe/P1,1.5,1.0\ntraffic/road/L1,2,0\n")
    assert damage_schedule(scenario, region.assets) == [
        Damage(5400, "water/pipe/P1", "hazard/disruption_file-0", 5400, None, "break", 1.0)]


def test_unknown_ids_are_all_listed(tmp_path: Path) -> None:
    scenario, region = scenario_for(tmp_path, INFRARISK + "NOPE1,0,10\nT_L99,0,10\nPU,0,100\n")
    with pytest.raises(DisruptionFileError, match=r"2 unknown component ids \['NOPE1', 'T_L99'\]") as info:
        damage_schedule(scenario, region.assets)
    assert "hazards[0].path" in str(info.value) and str(tmp_path / "disruption.csv") in str(info.value)


def test_ambiguous_names_and_motors_through_the_id_tables() -> None:
    assets = [{"id": "water/junction/10"}, {"id": "water/pump/10"}, {"id": "power/motor/MP1"},
              {"id": "traffic/road/L4"}]
    found, unknown, ambiguous = resolve(["10", "MP1", "T_L4", "L4", "x"], assets,  # type: ignore[arg-type]
                                        {"power/motor/MP1": "water/pump/10"})
    assert found == {"MP1": "water/pump/10", "T_L4": "traffic/road/L4", "L4": "traffic/road/L4"}
    assert unknown == ["x"] and ambiguous == {"10": ["water/junction/10", "water/pump/10"]}


def test_bad_files_are_named(tmp_path: Path) -> None:
    (tmp_path / "d.csv").write_text("who,when\nP1,3\n")
    with pytest.raises(DisruptionFileError, match="expected components,time_stamp,fail_perc or asset,time_h,fraction"):
        read_disruptions(tmp_path / "d.csv")
    (tmp_path / "d.csv").write_text("components,time_stamp,fail_perc\nP1,3,150\n")
    with pytest.raises(DisruptionFileError, match="row 2"):
        read_disruptions(tmp_path / "d.csv")
    scenario = tmp_path / "s.toml"
    scenario.write_text('[[hazards]]\nkind = "disruption_file"\npath = "missing.csv"\n')
    with pytest.raises(ScenarioError) as info:
        load_scenario(scenario)
    assert str(tmp_path / "missing.csv") in str(info.value)


def test_twin_run_exits_2_on_unknown_ids(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    import tomli_w

    from twin.cli import main
    from twin.events import EXIT_INPUT as EXIT_BAD_INPUT

    f = tiny_files(tmp_path, 10.0)
    (tmp_path / "disruption.csv").write_text("asset,time_h,fraction\nNOPE1,1,0.5\n")
    data = {"run": {"hours": 1, "configurations": ["centralised"], "baseline": False},
            "region": {"files": f.model_dump(mode="json", exclude_none=True)},
            "hazards": [{"kind": "disruption_file", "path": "disruption.csv"}]}
    (tmp_path / "s.toml").write_text(tomli_w.dumps(data))
    assert main(["run", str(tmp_path / "s.toml"), "--out", str(tmp_path / "results")]) == EXIT_BAD_INPUT
    err = capsys.readouterr().err
    assert "hazards[0].path" in err and "['NOPE1']" in err and str(tmp_path / "disruption.csv") in err
