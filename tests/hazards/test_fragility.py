"""Fragility per asset class and hazard: every class of the built region is covered, buried
pipes never fail from wind, overhead-line wind failure scales with length, docs/hazards.md
equals the code."""

from __future__ import annotations

import math
import re
from pathlib import Path

import pytest

from twin.config import Scenario
from twin.hazards import (
    EARTHQUAKE_FRAGILITY,
    FLOOD_FRAGILITY,
    LINE_REFERENCE_KM,
    NOT_DAMAGED,
    WIND_FRAGILITY,
    WIND_LINE_PER_KM,
    asset_class,
    damage_schedule,
    wind_failure_probability,
)
from twin.region.assets import RegionInfo, make_asset

DOC = Path(__file__).resolve().parents[2] / "docs" / "hazards.md"
TABLES = {"wind": WIND_FRAGILITY, "flood": FLOOD_FRAGILITY, "earthquake": EARTHQUAKE_FRAGILITY}
# classes handled by a rule of their own rather than a per-asset curve
SPECIAL = {"wind": {"power/line"}, "flood": set(), "earthquake": {"water/pipe"}}


def _storm(wind_ms: float, seed: int = 7) -> Scenario:
    """A track through the origin: assets at the origin see exactly the peak wind."""
    return Scenario.model_validate(
        {"run": {"hours": 2, "seed": seed},
         "hazards": [{"kind": "storm", "track_m": [[-1000, 0], [1000, 0]], "start_h": 0,
                      "end_h": 1, "peak_wind_ms": wind_ms}]})


def _line(name: str, length_km: float) -> dict:
    a = make_asset(f"power/line/{name}", "power", "line", 0.0, 0.0, "c")
    a["length_km"] = length_km
    return a


def test_every_asset_class_of_the_region_has_a_curve_or_a_reason_per_hazard(
        small_regions: dict[str, RegionInfo]) -> None:
    """Every class of every configuration (centralised_hardened's generators and N-1
    transformers included) has a curve or a documented reason, per hazard."""
    classes = {asset_class(a) for r in small_regions.values() for a in r.assets}
    assert {"power/pv", "power/microgrid", "power/battery", "water/well", "ict/site", "water/plant",
            "water/generator", "power/trafo"} <= classes
    for hazard, table in TABLES.items():
        exempt = {c.split(" ")[0] for c in NOT_DAMAGED[hazard]}
        missing = classes - set(table) - exempt - SPECIAL[hazard]
        assert not missing, (hazard, missing)
        assert not set(table) & {c for c in NOT_DAMAGED[hazard] if " " not in c}, hazard


def test_buried_pipes_never_fail_from_wind() -> None:
    pipes = [make_asset(f"water/pipe/P{i}", "water", "pipe", 0.0, 0.0, "c", capacity=500.0,
                        capacity_unit="m") for i in range(500)]
    assert damage_schedule(_storm(99.0), pipes) == []
    assert wind_failure_probability(pipes[0], 99.0) == 0.0
    assert "water/pipe" in NOT_DAMAGED["wind"] and "water/pipe" not in WIND_FRAGILITY


def test_generated_lines_carry_their_length(small_regions: dict[str, RegionInfo]) -> None:
    import pandapower as pp

    region = small_regions["centralised"]
    net = pp.from_json(str(region.path("power")))
    lengths = dict(zip(net.line["name"].astype(str), net.line["length_km"].astype(float), strict=True))
    lines = region.assets_of("power", "line")
    assert lines and all(a["length_km"] == pytest.approx(lengths[a["id"]]) for a in lines)


@pytest.mark.parametrize("wind_ms", [36.0, 44.0])
def test_line_wind_failures_per_km_match_for_short_and_long_lines(wind_ms: float) -> None:
    """4000 lines of 1 km and 4000 of 8 km at one gust, over 8 seeds (500 lines each): each
    set fails binomially with P = 1 - (1 - p_km)^L. Tolerance: 4 binomial standard deviations
    of the failure share (<= 0.008); the per-km rate recovered from each set,
    1 - (1 - share)^(1/L), must then equal p_km within the propagated tolerance. A per-section
    (length-blind) curve fails this: both sets would fail equally often."""
    p_km = WIND_LINE_PER_KM.probability(wind_ms)
    for length_km in (1.0, 8.0):
        failed = n = 0
        for seed in range(8):
            lines = [_line(f"L{length_km:g}-{i}", length_km) for i in range(500)]
            failed += len(damage_schedule(_storm(wind_ms, seed), lines))
            n += len(lines)
        p = 1.0 - (1.0 - p_km) ** length_km
        tol = 4 * math.sqrt(p * (1 - p) / n)
        share = failed / n
        assert abs(share - p) <= tol, (length_km, share, p)
        # d(p_km)/d(share) = (1 - share)^(1/L - 1) / L
        slope = (1.0 - p) ** (1.0 / length_km - 1.0) / length_km
        assert abs(1.0 - (1.0 - share) ** (1.0 / length_km) - p_km) <= 1.05 * slope * tol + 1e-9


def test_per_km_curve_keeps_the_reference_section_median() -> None:
    """Calibration: a LINE_REFERENCE_KM (6 km) section fails with 0.5 at 40 m/s."""
    assert wind_failure_probability(_line("R", LINE_REFERENCE_KM), 40.0) == pytest.approx(0.5, abs=2e-3)
    assert wind_failure_probability(_line("S", 1.0), 40.0) < wind_failure_probability(_line("T", 12.0), 40.0)


def test_lines_without_a_length_are_refused() -> None:
    bare = make_asset("power/line/X", "power", "line", 0.0, 0.0, "c")
    with pytest.raises(KeyError, match="length_km"):
        damage_schedule(_storm(40.0), [bare])
    imported = make_asset("power/line/Y", "power", "line", 0.0, 0.0, "c", capacity=3.0, capacity_unit="km")
    assert wind_failure_probability(imported, 40.0) == pytest.approx(1 - (1 - WIND_LINE_PER_KM.probability(40.0)) ** 3)


def test_every_curve_names_a_source_or_is_an_assumption() -> None:
    for table in (*TABLES.values(), {"line": WIND_LINE_PER_KM}):
        for cls, f in table.items():
            assert f.source.startswith("assumption") or re.search(r"\(\w*.*\d{4}", f.source), cls


def _rows() -> list[list[str]]:
    return [[c.strip() for c in line.strip().strip("|").split("|")]
            for line in DOC.read_text().splitlines() if line.startswith("| ")]


def test_docs_list_every_fragility_as_the_code_has_it() -> None:
    rows = [r for r in _rows() if len(r) == 6 and r[0] in TABLES and r[2] != "—"]
    documented = {(r[0], r[1].strip("`")): (float(r[2]), float(r[3]), r[5]) for r in rows}
    code = {(h, c): (f.median, f.beta, f.source) for h, t in TABLES.items() for c, f in t.items()}
    code[("wind", "power/line` per km")] = (WIND_LINE_PER_KM.median, WIND_LINE_PER_KM.beta, WIND_LINE_PER_KM.source)
    assert documented == code


def test_docs_list_every_exempt_class_and_the_k1_table() -> None:
    from twin.earthquake import PIPE_K1

    rows = _rows()
    exempt = {(r[0], r[1].strip("`")): r[2] for r in rows if len(r) == 3 and r[0] in TABLES}
    assert exempt == {(h, c): why for h, d in NOT_DAMAGED.items() for c, why in d.items()}
    k1 = {r[0].strip("`"): float(r[2]) for r in rows if len(r) == 3 and r[0].strip("`") in PIPE_K1}
    assert k1 == PIPE_K1


def test_the_treatment_plant_floods_and_shakes_as_water_plant_groundwater_does_not() -> None:
    """The plant's clear well is class water/plant; a groundwater reservoir has no curve. At
    4 m of water P(plant) = Phi(ln(4 / 1.0) / 0.4) > 0.9997; at 3 g Phi(ln(3 / 0.95) / 0.6) > 0.97."""
    plant = make_asset("water/reservoir/R-plant", "water", "reservoir", 0.0, 0.0, "c")
    gw = make_asset("water/reservoir/GW-town1-1", "water", "reservoir", 0.0, 0.0, "c")
    assert asset_class(plant) == "water/plant" and asset_class(gw) == "water/reservoir"
    assert FLOOD_FRAGILITY["water/plant"].probability(4.0) > 0.9997
    assert EARTHQUAKE_FRAGILITY["water/plant"].probability(3.0) > 0.97
    sq = [[-100.0, -100.0], [100.0, -100.0], [100.0, 100.0], [-100.0, 100.0]]
    flood = Scenario.model_validate({"run": {"hours": 2, "seed": 1}, "hazards": [
        {"kind": "flood", "polygons_m": [sq], "depth_m": 4.0, "start_h": 0.0}]})
    assert [d.asset_id for d in damage_schedule(flood, [plant, gw])] == ["water/reservoir/R-plant"]
