"""A hazard still going at the horizon damages nothing after it: the damage of a shorter run
is exactly the longer run's damage before its horizon (it used to be moved into the last
step, all at once: 107 roads closed at 06:55 in a 7-h default run, and a gridlock)."""

from __future__ import annotations

from twin.config import Scenario
from twin.hazards import damage_schedule
from twin.region.assets import make_asset

# sites spread along the track, so the storm reaches them over its two hours
ASSETS = [make_asset(f"ict/site/S{i}", "ict", "site", -10_000.0 + 50.0 * i, 0.0, "city") for i in range(400)]


def _schedule(hours: float) -> list[tuple[int, str]]:
    hz = {"kind": "storm", "track_m": [[-10_000, 0], [10_000, 0]], "start_h": 1.0, "end_h": 3.0,
          "peak_wind_ms": 55.0, "decay_m": 5000.0}
    s = Scenario.model_validate({"run": {"hours": hours, "seed": 3, "step_s": 300}, "hazards": [hz]})
    return [(d.time_s, d.asset_id) for d in damage_schedule(s, ASSETS)]


def test_a_shorter_horizon_cuts_the_damage_instead_of_piling_it_up() -> None:
    full, cut = _schedule(4.0), _schedule(2.0)
    assert cut == [d for d in full if d[0] < 2 * 3600]
    assert any(t >= 2 * 3600 for t, _ in full)  # the storm did damage after 2 h in the long run
    last = [a for t, a in cut if t == 2 * 3600 - 300]
    assert len(last) == sum(1 for t, _ in full if t == 2 * 3600 - 300)  # no pile-up in the last step
