"""Protection on the default generated region: no trip without a hazard (design headroom)."""

from __future__ import annotations

from pathlib import Path

import pytest

pytest.importorskip("pandapower")


@pytest.mark.slow
@pytest.mark.parametrize("conf", ["centralised", "decentralised", "anchor_towns"])
def test_hazard_free_day_of_the_default_region_has_no_trip(tmp_path: Path, conf: str) -> None:
    """24 h of the power model on the full default region (coupled loads at their nominal
    power): every step converges, no breaker trips, and every relay stays below its rating
    with room (measured maxima: feeder heads <= 0.54, the plant's feeder 0.75 in the
    centralised configuration, the transformer 0.70)."""
    from twin.models.power.grid import PowerGrid
    from twin.region.builder import build_region
    from twin.region.params import params_for

    region = build_region("default", 1, conf, params_for(conf), tmp_path)
    grid = PowerGrid.from_file(region.path("power"), seed=1, step_s=300)
    prot = grid.protection.protection
    assert {r.name for r in prot.relays} >= {"power/switch/TR1", "power/switch/F1-1"}
    worst = 0.0
    for t in range(0, 86400, 300):
        res = grid.step(t)
        assert res.converged and not res.dead_buses, t
        assert not [e for e in res.events if e["kind"] in ("tripped", "protection_limit")], t
        worst = max(worst, float(prot.ratios().max()))
    assert 0.3 < worst < 0.8
    assert float(prot.theta.max()) < 0.7
