"""Calibration of the topological screening against the co-simulation: the cascade read off a
hand-built event log, the rank correlations against hand values and scipy, the candidate
choice, and the whole machinery on the ``small`` region with a 1 h horizon."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from scipy import stats

from twin import results
from twin.config import load_scenario
from twin.events import make_event
from twin.screening.calibrate import (
    OBSERVED_CLASSES,
    CalibrationError,
    asset_class,
    calibrate,
    cascade_assets,
    caused_by_hazard,
    percentile_ranks,
    rank_correlation,
    select_candidates,
    topological_cascades,
)
from twin.screening.region import screen_region

DEFAULT = Path(__file__).resolve().parents[2] / "cosim_configs" / "default.toml"


def _log() -> list:
    """hazard -> line L failed -> bus B de-energised -> pump P stopped -> junction J low
    pressure; B -> switch S unreachable; B energised again later (a recovery, not a failure);
    a pump Q stopped by control with no cause (baseline behaviour); a gridlock of the network."""
    root = make_event(0, "incidents", "hazard/outage-0", "hazard", 1.0, "", "")
    fail = make_event(0, "incidents", "power/line/L", "failed", 0.0, root["event_id"], "hazard")
    bus = make_event(0, "power", "power/bus/B", "de-energised", 0.0, fail["event_id"], "power")
    pump = make_event(300, "water", "water/pump/P", "pump_stopped", 0.0, bus["event_id"], "power->water")
    junc = make_event(600, "water", "water/junction/J", "low_pressure", 12.0, pump["event_id"], "water")
    sw = make_event(300, "ict", "power/switch/S", "unreachable", 0.0, bus["event_id"], "ict")
    back = make_event(900, "power", "power/bus/B", "energised", 1.0, bus["event_id"], "power")
    other = make_event(300, "water", "water/pump/Q", "pump_stopped", 0.0, "", "control")
    jam = make_event(600, "traffic", "traffic/network", "gridlock", 0.0, "", "simulator")
    # listed out of causal order on purpose
    return [junc, sw, back, other, jam, pump, bus, fail, root]


def test_cascade_of_a_hand_built_event_log() -> None:
    events = _log()
    caused = caused_by_hazard(events)
    assert "300|water/pump/Q|pump_stopped" not in caused
    assert "600|water/junction/J|low_pressure" in caused
    known = ["power/line/L", "power/bus/B", "water/pump/P", "water/junction/J", "power/switch/S", "water/pump/Q"]
    assert cascade_assets(events, ["power/line/L"], known) == {"power/bus/B", "water/pump/P", "water/junction/J"}
    # with the control losses counted too
    assert cascade_assets(events, ["power/line/L"], known, exclude_kinds=()) == {
        "power/bus/B", "water/pump/P", "water/junction/J", "power/switch/S"}
    # restricted to classes; the outaged asset itself never counts
    assert cascade_assets(events, ["power/bus/B"], known, classes={"power/bus", "water/pump"}) == {"water/pump/P"}
    assert cascade_assets(events, ["power/line/L"], known=None) == {"power/bus/B", "water/pump/P", "water/junction/J"}


def test_cause_loops_do_not_hang() -> None:
    a = make_event(0, "power", "power/bus/A", "de-energised", 0.0, "0|power/bus/B|de-energised", "power")
    b = make_event(0, "power", "power/bus/B", "de-energised", 0.0, "0|power/bus/A|de-energised", "power")
    assert caused_by_hazard([a, b]) == set()


def test_rank_correlation_against_hand_values_and_scipy() -> None:
    # no ties: d = (-1, 1, -1, 1, 0), sum d^2 = 4, rho = 1 - 6*4 / (5*24) = 0.8;
    # of the 10 pairs only (1,2) and (3,4) are discordant: tau = (8 - 2) / 10 = 0.6
    c = rank_correlation([1, 2, 3, 4, 5], [2, 1, 4, 3, 5], "a", "b")
    assert (c.x, c.y, c.n) == ("a", "b", 5)
    assert c.spearman == pytest.approx(0.8)
    assert c.kendall == pytest.approx(0.6)
    # ties (many zero cascades, as in the calibration) and a NaN that is left out
    x = [0.0, 0.0, 0.0, 0.1, 0.2, 0.3, 0.05, np.nan]
    y = [0.0, 1.0, 0.0, 3.0, 2.0, 5.0, 0.0, 4.0]
    c = rank_correlation(x, y)
    assert c.n == 7
    assert c.spearman == pytest.approx(stats.spearmanr(x[:7], y[:7]).statistic)
    assert c.kendall == pytest.approx(stats.kendalltau(x[:7], y[:7]).statistic)
    assert c.spearman_p == pytest.approx(stats.spearmanr(x[:7], y[:7]).pvalue)
    assert np.isnan(rank_correlation([1, 2, 3], [4, 4, 4]).spearman)
    # ranks 1.5, 1.5, 3, 4 of four values scaled to [0, 1]
    assert percentile_ranks([0.0, 0.0, 1.0, 3.0]) == pytest.approx([1 / 6, 1 / 6, 2 / 3, 1.0])
    assert np.isnan(percentile_ranks([np.nan, 2.0])[0]) and percentile_ranks([np.nan, 2.0])[1] == 0.5


def test_candidates_top_then_stratified_sample() -> None:
    crit = {"power/bus/a": 0.3, "power/bus/b": 0.3, "power/line/c": 0.2, "power/line/d": 0.0,
            "traffic/road/e": 0.0, "traffic/road/f": 0.0, "traffic/road/g": 0.0, "water/pump/h": 0.0}
    chosen = select_candidates(crit, 2, 3, seed=5)
    assert chosen[:2] == [("power/bus/a", "top"), ("power/bus/b", "top")]  # tie in id order
    sample = [a for a, s in chosen if s == "sample"]
    assert len(sample) == 3 and len(set(sample)) == 3
    # round-robin over the classes left (power/line, traffic/road, water/pump): one of each
    assert sorted(a.split("/")[1] for a in sample) == ["line", "pump", "road"]
    assert select_candidates(crit, 2, 3, seed=5) == chosen
    assert len(select_candidates(crit, 2, 100)) == len(crit)
    with pytest.raises(CalibrationError):
        select_candidates(crit, -1, 0)


@pytest.mark.slow
def test_calibration_on_the_small_region(tmp_path: Path) -> None:
    scenario = load_scenario(DEFAULT, ['region.size="small"'])
    from twin.runner import region_for

    region = region_for(scenario, "centralised", tmp_path / "centralised")
    topo = topological_cascades(region.root)
    # the same numbers as the screening itself
    screen = screen_region(region.root, 0, 1)
    crit = topo.criticality()
    assert [crit[a] for a in screen.asset_ids] == pytest.approx(list(screen.criticality))
    top = screen.ranked_assets(1)[0][0]
    zero = sorted(a for a, c in crit.items() if c == 0 and a.startswith("water/pipe/"))[0]
    assets = [top, zero, "ict/site/DCC"]

    res = calibrate(scenario, "centralised", tmp_path, at_h=0.0, hours=1.0, workers=1, assets=assets)
    rows = {r["asset_id"]: r for r in res.rows}
    assert set(rows) == set(assets) and all(r["status"] == "complete" for r in rows.values())
    r = rows[top]
    assert r["stratum"] == "given" and r["topo_criticality"] == pytest.approx(crit[top])
    assert r["cosim_lost"] > 0 and r["customer_outage_h"] > 0
    assert r["cosim_cascade_size"] == pytest.approx(r["cosim_lost"] / topo.total)

    # the cascade read off the events agrees with the run's own bus series: every bus that is
    # de-energised at the last step of the outage run (and energised in the baseline) is in it
    run = results.load(results.final_path(tmp_path / "centralised", r["run_id"]))
    base_files = list((tmp_path / "centralised" / "baselines").glob("*.h5"))
    assert len(base_files) == 1
    base = results.load(base_files[0])
    cols = run.columns["power"]["bus_energised"]
    dead = {c for c, v, b in zip(cols, run.series["power"]["bus_energised"][-1],
                                 base.series["power"]["bus_energised"][-1], strict=True) if v == 0 and b == 1}
    lost = cascade_assets(run.events, [top], [str(a) for a in run.assets["id"]])
    assert dead - {top}, "the top asset's outage de-energises buses"
    assert dead - {top} <= lost
    # a bus the co-simulation lost is topologically lost too (physics can only add survivors
    # through batteries and switching, never remove connectivity)
    assert {a for a in lost if a.startswith("power/bus/")} <= topo.lost[top]
    # the co-simulation reports failures of the observed classes (and shed loads) only
    assert {asset_class(a) for a in lost} <= set(OBSERVED_CLASSES) | {"power/load"}
    # a pipe whose loss cuts nothing in the topology cuts nothing in the co-simulation either
    assert rows[zero]["cosim_lost"] == 0

    rows_csv, corr_csv = res.write(tmp_path)
    assert rows_csv.read_text().count("\n") == 4
    assert corr_csv.read_text().splitlines()[0].startswith("configuration,x,y,n,spearman")
