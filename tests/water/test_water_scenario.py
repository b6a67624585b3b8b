"""The shipped plant-flood scenario leaves households without water in the centralised
configuration, and `twin explain` reads the chain hazard -> power -> pump or plant -> tank
drained -> low pressure at a junction with households.

Kept small: the scenario runs on the small region (its flood square moved onto that region's
plant substation), centralised only, without a baseline, for 16 h instead of 72 h (the city
tank drains about 11 h after the flood, and the repair comes later); the default-region
figures are in docs/water.md.
"""

from __future__ import annotations

from pathlib import Path

import pytest

import twin
from twin.config import load_scenario
from twin.region.layout import make_layout
from twin.report.explain import explain, format_chain
from twin.runner import run_scenario

SCENARIO = Path(__file__).parents[2] / "cosim_configs" / "plant_flood_72h.toml"


@pytest.mark.slow
def test_plant_flood_drains_tanks_and_leaves_households_dry(tmp_path: Path) -> None:
    sc = load_scenario(SCENARIO, ['region.size="small"', "run.hours=16",
                                  'run.configurations=["centralised"]', "run.baseline=false"])
    assert load_scenario(SCENARIO).run.hours >= 72  # the shipped scenario is three days
    plant = next(f for f in make_layout("small", sc.region.seed).to_dict()["facilities"]
                 if f["id"] == "water_plant")
    x, y, h = plant["x_m"], plant["y_m"], 15.0
    flood = sc.hazards[0].model_copy(update={"polygons_m": [[
        (x - h, y - h), (x + h, y - h), (x + h, y + h), (x - h, y + h)]]})
    sc = sc.model_copy(update={"hazards": [flood]})
    (outcome,) = run_scenario(sc, tmp_path)
    r = twin.load(outcome.path)
    people = {str(a): int(c) for a, c in zip(r.assets["id"], r.assets["customers"], strict=True)}
    low = [e for e in r.events if e["kind"] == "low_pressure" and people.get(e["asset_id"], 0) > 0]
    assert low, "no household junction lost its water"
    assert float(r.series["water"]["customers_out"].sum(axis=1).max()) > 0  # people without water
    # the chain of a city junction, read by `twin explain`
    junction = next(e["asset_id"] for e in low if e["asset_id"].startswith("water/junction/city-"))
    ex = explain(r, junction)
    kinds = [(e["asset_id"], e["kind"]) for e in ex.chain]
    text = format_chain(ex)
    assert ex.complete, text
    assert kinds[0] == (junction, "low_pressure")
    assert kinds[-1] == ("hazard/flood-0", "hazard")
    drained = [a for a, k in kinds if k == "drained"]
    assert drained and drained[0].startswith("water/tank/"), text
    stopped = [a for a, k in kinds if k in ("pump_stopped", "production_stopped")]
    assert stopped and stopped[0] in ("water/pump/PS1", "water/plant/WTP"), text
    power = [(a, k) for a, k in kinds if a.startswith("power/")]
    assert ("power/bus/water_plant", "de-energised") in power, text
    assert ("power/bus/water_plant", "failed") in power, text
    # in that order: junction <- tank <- pump/plant <- power <- hazard
    first = {k: next(i for i, (_, kk) in enumerate(kinds) if kk == k)
             for k in ("low_pressure", "drained", "de-energised", "hazard")}
    i_stop = next(i for i, (a, _) in enumerate(kinds) if a == stopped[0])
    assert first["low_pressure"] < first["drained"] < i_stop < first["de-energised"] < first["hazard"]
    couplings = {e["kind"]: e["coupling"] for e in ex.chain}
    assert couplings["drained"] == "water" and couplings["low_pressure"] == "water"
