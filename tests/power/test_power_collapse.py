"""The reviewed non-convergence case: no island goes dark because a power flow diverged."""

from __future__ import annotations

from pathlib import Path

import pytest

CONFIG = Path(__file__).resolve().parents[2] / "cosim_configs" / "default.toml"


@pytest.mark.slow
def test_reviewed_case_has_no_dark_islands_from_non_convergence(tmp_path):
    from twin import results
    from twin.config import load_scenario
    from twin.runner import run_scenario

    scenario = load_scenario(CONFIG, [
        "run.hours=14", 'region.size="small"', "run.baseline=false",
        'run.configurations=["decentralised"]',
        "region.configurations.decentralised.prosumer_share=1.0",
        "region.configurations.decentralised.pv_kw_per_household=5000",
    ])
    (outcome,) = run_scenario(scenario, tmp_path)
    assert outcome.status == "complete", outcome.error
    res = results.load(outcome.path)
    power = [e for e in res.events if e["sector"] == "power"]
    assert not [e for e in power if e["kind"] == "non_convergence"]
    assert not [e for e in power if e["coupling"] == "simulator"]  # no bus dark from it
    # the flows did need help: PV was curtailed in 10 % blocks at daytime steps
    curtailed = res.series["power"]["pv_curtailed_collapse_mw"]
    assert curtailed.max() > 0
