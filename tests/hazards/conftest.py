"""Built small regions and a session results folder shared by the hazard and restoration tests."""

from __future__ import annotations

from pathlib import Path

import pytest

from twin.config import Scenario, validate_data
from twin.region.assets import RegionInfo

STEP_S = 300


def crew_scenario(hours: float, hazards: list[dict], **sections: dict) -> Scenario:
    """The small region with repair crews, no baseline, seed 5."""
    data: dict = {
        "run": {"hours": hours, "seed": 5, "configurations": ["centralised"], "baseline": False},
        "region": {"size": "small", "grid": "synthetic"},  # the restoration tests name its feeders
        "repair": {"mode": "crews"},
        "restoration": {"crews": {"power": 1, "water": 0, "ict": 0, "traffic": 0}},
        "hazards": hazards,
    }
    for key, value in sections.items():
        data.setdefault(key, {}).update(value)
    return validate_data(data, "hazards-test")


@pytest.fixture(name="crew_scenario", scope="session")
def _crew_scenario_fixture():  # type: ignore[no-untyped-def]
    return crew_scenario


@pytest.fixture(scope="session")
def hz_out(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One results folder for the session, so built regions are cached once."""
    return tmp_path_factory.mktemp("hazards")


@pytest.fixture(scope="session")
def small_regions(hz_out: Path) -> dict[str, RegionInfo]:
    """The real built small region in every configuration."""
    from twin.region.params import CONFIGURATIONS
    from twin.runner import region_for

    sc = crew_scenario(1, [])
    return {c: region_for(sc, c, hz_out) for c in CONFIGURATIONS}
