"""docs/restoration.md lists every default repair time as the code has them (fragility curves:
tests/hazards/test_fragility.py against docs/hazards.md)."""

from __future__ import annotations

import re
from pathlib import Path

from twin.hazards import REPAIR_TIME

DOC = Path(__file__).resolve().parents[2] / "docs" / "restoration.md"


def _rows() -> list[list[str]]:
    return [[c.strip() for c in line.strip().strip("|").split("|")]
            for line in DOC.read_text().splitlines() if line.startswith("| ")]


def _num(text: str) -> float:
    return float(re.sub(r"[^0-9.]", "", text))


def test_repair_time_table_matches_the_code() -> None:
    documented = {r[0].strip("`"): (_num(r[1]), _num(r[2])) for r in _rows()
                  if len(r) == 4 and r[0].startswith("`") and "/" in r[0] and r[1][:1].isdigit()}
    assert documented == {k: (t.median_h, t.beta) for k, t in REPAIR_TIME.items()}


def test_the_shipped_scenarios_validate_and_use_crews() -> None:
    from twin.config import FloodHazard, StormHazard, load_scenario

    root = DOC.parents[1] / "cosim_configs"
    storm = load_scenario(root / "storm_72h.toml")
    flood = load_scenario(root / "flood.toml")
    assert storm.run.hours == 72 and storm.repair.mode == flood.repair.mode == "crews"
    assert any(isinstance(h, StormHazard) for h in storm.hazards)
    assert any(isinstance(h, FloodHazard) for h in flood.hazards)
