"""A power policy named in a scenario is loaded by control and changes what the grid sheds."""

from __future__ import annotations

from pathlib import Path

from twin import results
from twin.runner import run_configuration


def _shed(path: Path) -> list[tuple[int, str]]:
    return [(e["time_s"], e["asset_id"]) for e in results.load(path).events if e["kind"] == "shed"]


def test_user_policy_from_scenario_changes_what_is_shed(small_scenario, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    # decentralised: town1's microgrid islands when its feeder head is out and cannot carry
    # the whole town, so someone is shed.
    # synthetic profiles: households at their 1.2 kW mean, more than town1's microgrid carries
    # (under SimBench's profiles the small region's microgrid carries its town: nobody shed)
    base = small_scenario(run={"baseline": False}, power={"profiles": "synthetic"})
    base = base.model_copy(update={"hazards": base.hazards[:1]})
    default = run_configuration(base, "decentralised", tmp_path / "default")
    user = base.model_copy(update={"power": base.power.model_copy(
        update={"policy": "user_policies:SacrificeHouseholdsLast"})})
    custom = run_configuration(user, "decentralised", tmp_path / "custom")
    assert default.status == custom.status == "complete", (default.error, custom.error)
    by_default, by_user = _shed(default.path), _shed(custom.path)
    assert by_default and by_user
    first_default = {a for t, a in by_default if t == by_default[0][0]}
    first_user = {a for t, a in by_user if t == by_user[0][0]}
    # the default policy sheds households first and protects pumps and ICT ...
    assert all(a.startswith("power/load/") for a in first_default)
    assert not any(a.startswith(("water/", "ict/")) for _, a in by_default)
    # ... the user's policy sheds pumps or ICT sites first
    assert any(a.startswith(("water/", "ict/")) for a in first_user)
