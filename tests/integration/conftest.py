"""Small coupled worlds shared by the integration tests (each runs once per session)."""

from __future__ import annotations

from pathlib import Path

import pytest

from twin.config import Scenario, validate_data

STEP_S = 300


def small_scenario(**sections: dict) -> Scenario:
    """The small region for two simulated hours: a line outage feeding a booster pump's bus
    from 0.5 h to 1.5 h, and a storm crossing the city."""
    data: dict = {
        "run": {"hours": 2, "seed": 5, "configurations": ["centralised", "decentralised"]},
        "region": {"size": "small", "grid": "synthetic"},  # the outage names synthetic feeder F4
        "hazards": [
            {"kind": "outage", "asset": "power/line/F4-1", "at_h": 0.5, "duration_h": 1.0},
            {"kind": "storm", "track_m": [[-6000.0, -3000.0], [6000.0, 3000.0]], "start_h": 0.25,
             "end_h": 1.25, "peak_wind_ms": 45.0, "decay_m": 3000.0},
        ],
    }
    for key, value in sections.items():
        data.setdefault(key, {}).update(value)
    return validate_data(data, "integration")


@pytest.fixture(name="small_scenario", scope="session")
def _small_scenario_fixture():  # type: ignore[no-untyped-def]
    """The factory :func:`small_scenario`, for tests (test modules cannot import conftest)."""
    return small_scenario


@pytest.fixture(scope="session")
def region_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("regions")


@pytest.fixture(scope="session")
def small_runs(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list]:
    from twin.runner import run_scenario

    out = tmp_path_factory.mktemp("small")
    return out, run_scenario(small_scenario(), out)
