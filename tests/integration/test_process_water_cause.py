"""water -> power: the central plant derated by low process-water pressure names the water
event behind it, so `twin explain` reads plant <- low pressure <- pipe <- hazard."""

from __future__ import annotations

from pathlib import Path

import pytest

import twin
from twin.config import OutageHazard, load_scenario
from twin.models.water.operation import WaterOperation
from twin.runner import region_for, run_configuration

DEFAULT = Path(__file__).resolve().parents[2] / "cosim_configs" / "default.toml"


@pytest.mark.slow
def test_derated_plant_names_the_low_pressure_event(tmp_path: Path) -> None:
    sc = load_scenario(DEFAULT, ['region.size="small"', "run.hours=4", "run.baseline=false",
                                 'run.configurations=["centralised"]'], allow_outside=True)
    region = region_for(sc, "centralised", tmp_path)
    with WaterOperation.from_region(region.root) as op:  # the pipe that feeds the process junction
        pipe = op.link_asset[next(link for link in op.net.link_ids if "process" in op.net.link_nodes(link))]
    sc = sc.model_copy(update={"hazards": [OutageHazard(kind="outage", asset=pipe, at_h=1.0, duration_h=2.0)]})
    out = run_configuration(sc, "centralised", tmp_path)
    assert out.status == "complete", out.error
    r = twin.load(out.path)
    by_id = {e["event_id"]: e for e in r.events}
    (derated,) = [e for e in r.events if e["kind"] == "derated"]
    chain = []
    e = derated
    while e:
        chain.append((e["asset_id"], e["kind"], e["coupling"]))
        e = by_id.get(e["cause_id"])
    assert chain == [("power/plant/central", "derated", "water->power"),
                     ("water/junction/process", "low_pressure", "water"),
                     (pipe, "failed", "hazard"), ("hazard/outage-0", "hazard", "")]
    assert derated["time_s"] == 3600 + sc.run.step_s  # one step after the junction went out (shifted)
