"""Study statistics on cases computed by hand: expected annual values and exceedance
frequencies of a 3-draw ensemble, cost-effectiveness (incl. the not-meaningful case), Holm's
correction, crossover interpolation on a linear case, and bad manifests."""

from __future__ import annotations

import csv
import json
import math
from pathlib import Path

import numpy as np
import pytest
from study_fixture import CROSS_AT, SHARE_PARAM, run_row, write_manifest, write_study

from twin.cli import main
from twin.report import study_stats as ss
from twin.report.study_report import write_study_report

# One family (windstorm, 1 per year): stratum 0 has probability 1/2 and two draws (weight
# 0.25 per year each), stratum 1 probability 1/2 and one draw (weight 0.5 per year).
DRAWS = ((0, 0.25), (0, 0.25), (1, 0.5))
OUTAGE = {"centralised": (10.0, 0.0, 40.0), "decentralised": (4.0, 0.0, 20.0), "anchor_towns": (20.0, 0.0, 60.0),
          "centralised_hardened": (8.0, 0.0, 30.0)}
COST = {"centralised": 10.0, "decentralised": 12.0, "anchor_towns": 11.0, "centralised_hardened": 9.0}


def _three_draws(folder: Path, degraded: tuple[str, int] | None = None) -> Path:
    rows = []
    for c, losses in OUTAGE.items():
        for draw, ((stratum, w), loss) in enumerate(zip(DRAWS, losses, strict=True)):
            status = "degraded" if degraded == (c, draw) else "complete"
            rows.append(run_row(c, "windstorm", draw, stratum, w,
                                {"customer_outage_h": loss, "energy_not_served_mwh": loss / 100,
                                 "annual_cost_meur": COST[c]}, status=status))
    return write_manifest(folder, rows, list(OUTAGE))


def _csv(path: Path) -> list[dict[str, str]]:
    return list(csv.DictReader(path.open()))


def test_expected_annual_value_and_exceedance_by_hand(tmp_path: Path) -> None:
    rep = tmp_path / "rep"
    write_study_report(_three_draws(tmp_path / "sweep", degraded=("decentralised", 0)), rep)
    eav = {(r["configuration"], r["flagged_runs"]): float(r["eav_per_year"]) for r in _csv(rep / "annual.csv")
           if r["metric"] == "customer_outage_h" and r["family"] == "windstorm"}
    assert eav[("centralised", "included")] == pytest.approx(0.25 * 10 + 0.25 * 0 + 0.5 * 40)  # 22.5
    assert eav[("decentralised", "included")] == pytest.approx(0.25 * 4 + 0.5 * 20)  # 11
    # without the degraded draw 0: stratum 0 keeps its 0.5 per year on draw 1 (loss 0)
    assert eav[("decentralised", "excluded")] == pytest.approx(0.5 * 0 + 0.5 * 20)  # 10
    curve = {float(r["loss"]): float(r["exceedance_per_year"]) for r in _csv(rep / "exceedance.csv")
             if r["configuration"] == "centralised" and r["metric"] == "customer_outage_h"}
    assert curve == pytest.approx({40.0: 0.5, 10.0: 0.75, 0.0: 1.0})
    rp = {float(r["loss"]): float(r["return_period_years"]) for r in _csv(rep / "exceedance.csv")
          if r["configuration"] == "centralised" and r["metric"] == "customer_outage_h"}
    assert rp[40.0] == pytest.approx(2.0)
    diff = {r["config_b"]: float(r["eav_diff_per_year"]) for r in _csv(rep / "paired.csv")
            if r["metric"] == "customer_outage_h" and r["flagged_pairs"] == "included" and r["config_a"] == "centralised"}
    assert diff["decentralised"] == pytest.approx(11.0 - 22.5)


def test_stratum_weights_cover_a_missing_stratum() -> None:
    w, strata = np.array([0.25, 0.25, 0.5]), np.array([0, 0, 1])
    eff, covered = ss.stratum_weights(w, strata, np.array([True, True, False]))
    assert eff[:, 0] == pytest.approx([0.25, 0.25, 0.0]) and covered[0] == pytest.approx(0.5)
    losses, freq = ss.exceedance(np.array([3.0, 3.0, 1.0]), np.array([0.1, 0.2, 0.3]))
    assert losses.tolist() == [3.0, 1.0] and freq == pytest.approx([0.3, 0.6])


def test_cost_effectiveness_by_hand(tmp_path: Path) -> None:
    rep = tmp_path / "rep"
    write_study_report(_three_draws(tmp_path / "sweep"), rep)
    ce = {(r["config_a"], r["config_b"]): r for r in _csv(rep / "cost_effectiveness.csv")
          if r["metric"] == "customer_outage_h" and r["family"] == "windstorm"}
    ok = ce[("centralised", "decentralised")]  # 2 M EUR/yr more for 22.5 − 11 = 11.5 h/yr avoided
    assert ok["status"] == "ok"
    assert float(ok["delta_cost_meur_per_year"]) == pytest.approx(2.0)
    assert float(ok["avoided_per_year"]) == pytest.approx(11.5)
    assert float(ok["ratio_meur_per_unit"]) == pytest.approx(2.0 / 11.5)
    worse = ce[("centralised", "anchor_towns")]  # EAV 35 > 22.5: avoids nothing
    assert worse["status"].startswith("not meaningful") and worse["ratio_meur_per_unit"] == ""
    cheap = ce[("centralised", "centralised_hardened")]  # 1 M EUR/yr less and 5.5 h/yr avoided
    # dominant: no ratio (it was -1 / 5.5, a negative ratio that does not rank); ΔC and avoided stand
    assert cheap["status"] == "dominant" and cheap["ratio_meur_per_unit"] == ""
    assert float(cheap["delta_cost_meur_per_year"]) == pytest.approx(-1.0)
    assert float(cheap["avoided_per_year"]) == pytest.approx(5.5)
    text = (rep / "study.md").read_text()
    assert "not meaningful" in text and "inf" not in text.replace("info", "")


def test_cost_effectiveness_function() -> None:
    r = ss.cost_effectiveness(2.0, 4.0, 1.0, 8.0)
    assert r.ratio_meur_per_unit == pytest.approx(0.5) and r.interval == "[0.25, 2]"
    assert ss.cost_effectiveness(2.0, 4.0, -1.0, 8.0).interval.startswith("[0.25, unbounded]")
    for avoided in (0.0, -3.0):
        nm = ss.cost_effectiveness(2.0, avoided)
        assert nm.ratio_meur_per_unit is None and nm.status.startswith("not meaningful")
    for cheaper in (0.0, -1.0):  # costs no more, avoids 4 units: dominant, and no ratio ≤ 0
        dom = ss.cost_effectiveness(cheaper, 4.0)
        assert dom.status == "dominant" and dom.ratio_meur_per_unit is None


def test_holm_by_hand() -> None:
    # m = 3: 0.01·3 = 0.03; 0.03·2 = 0.06; 0.04·1 = 0.04 → raised to 0.06 (monotone)
    assert ss.holm([0.01, 0.04, 0.03, None]) == pytest.approx([0.03, 0.06, 0.06, None])
    assert ss.holm([0.5, 0.9]) == pytest.approx([1.0, 1.0])


def test_crossover_on_a_linear_case() -> None:
    x = np.linspace(0.0, 1.0, 20)
    diffs = [np.full(10, 3.0 * (v - 0.37)) for v in x]  # B − A = 3 (x − 0.37) at every draw
    cr = ss.crossover_bootstrap(x, diffs)
    assert cr.zeros == pytest.approx([0.37])
    assert cr.low == pytest.approx(0.37) and cr.high == pytest.approx(0.37) and cr.share_with_crossing == 1.0
    none = ss.crossover_bootstrap(x, [np.full(10, 1.0 + v) for v in x])
    assert none.zeros == [] and math.isnan(none.low) and none.share_with_crossing == 0.0
    # two binned means, one exactly zero, give the zero at that bin's mean x
    assert ss.crossovers(np.array([0.0, 1.0, 2.0]), np.array([-1.0, 0.0, 1.0])) == [1.0]
    # a run of zero bins between the signs: its mean x
    assert ss.crossovers(np.array([0.0, 1.0, 2.0, 3.0]), np.array([-1.0, 0.0, 0.0, 2.0])) == [1.5]
    # zero bins that change no ordering are no crossover: at an end, between bins of one sign,
    # or everywhere (B equals A: the 2026-12-01 study had "5 crossovers" of such profiles)
    assert ss.crossovers(np.array([0.0, 1.0, 2.0]), np.array([0.0, -1.0, -2.0])) == []
    assert ss.crossovers(np.array([0.0, 1.0, 2.0]), np.array([-1.0, 0.0, -2.0])) == []
    assert ss.crossovers(np.zeros(3) + np.arange(3), np.zeros(3)) == []
    # rounding noise of equal totals is 0: no crossover between +1e-17 and a real loss
    assert ss.crossovers(np.array([0.0, 1.0, 2.0]), np.array([1e-17, -0.5, -1.0])) == []
    equal = ss.crossover_bootstrap(x, [np.zeros(10) for _ in x])
    assert equal.zeros == [] and equal.share_with_crossing == 0.0 and math.isnan(equal.low)
    touching = ss.crossover_bootstrap(x, [np.full(10, min(0.0, v - 0.3)) for v in x])  # < 0 below 0.3, then 0
    assert touching.zeros == [] and touching.share_with_crossing == 0.0


def test_crossover_of_the_sensitivity_study(tmp_path: Path) -> None:
    rep = tmp_path / "rep"
    write_study_report(write_study(tmp_path / "sweep", {"windstorm": 12}, sensitivity=(20, 4)), rep)
    rows = {(r["config_a"], r["config_b"], r["metric"], r["parameter"]): r for r in _csv(rep / "crossover.csv")}
    r = rows[("centralised", "decentralised", "customer_outage_h", SHARE_PARAM)]
    assert float(r["crossovers"]) == pytest.approx(CROSS_AT)  # the fixture's linear difference
    assert (rep / "crossover_customer_outage_h.png").is_file() and (rep / "crossover_map.png").is_file()
    assert 'data-plot="crossover-customer_outage_h"' in (rep / "interactive.html").read_text()


def test_bad_ensemble_names_the_file_and_key(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    folder = _three_draws(tmp_path / "sweep")
    doc = json.loads((folder / "manifest.json").read_text())
    del doc["runs"][1]["ensemble"]["weight_per_year"]
    (folder / "manifest.json").write_text(json.dumps(doc))
    assert main(["report", str(folder), "--out", str(tmp_path / "rep")]) == 2
    err = capsys.readouterr().err
    assert "manifest.json" in err and "ensemble.weight_per_year" in err


def test_loss_by_return_period_by_hand() -> None:
    from twin.report.study_report import return_period_loss

    # the 3-draw curve of the centralised configuration: λ(40) = 0.5, λ(10) = 0.75, λ(0) = 1.0
    losses, freqs = [40.0, 10.0, 0.0], [0.5, 0.75, 1.0]
    assert return_period_loss(losses, freqs, 1.0) == "0"  # λ ≥ 1 only at loss 0
    assert return_period_loss(losses, freqs, 1.5) == "10"  # λ ≥ 2/3: losses 10 and 0
    assert return_period_loss(losses, freqs, 10.0) == "> 40"  # 0.1 per year lies beyond the draws
    assert return_period_loss([5.0], [0.05], 10.0) == "0"  # events rarer than once in 10 years


def test_not_meaningful_values_are_counted_not_zeroed(tmp_path: Path) -> None:
    # secondary failures per primary: meaningful only in draw 2 (draws 0 and 1 had no primary
    # failure with a service loss below it); centralised 3, decentralised 1 in draw 2
    amp = {"centralised": 3.0, "decentralised": 1.0}
    rows = []
    for c in amp:
        for draw, (stratum, w) in enumerate(DRAWS):
            m = {"customer_outage_h": OUTAGE[c][draw], "cascade_amplification": math.nan,
                 "cascade_amplification_applicable": 0.0}
            if draw == 2:
                m.update(cascade_amplification=amp[c], cascade_amplification_applicable=1.0)
            rows.append(run_row(c, "windstorm", draw, stratum, w, m))
    rep = tmp_path / "rep"
    write_study_report(write_manifest(tmp_path / "sweep", rows, list(amp)), rep)
    summary = {r["configuration"]: r for r in _csv(rep / "summary.csv") if r["metric"] == "cascade_amplification"}
    # the mean over the one meaningful draw, 3.0 (1.0 if the two n/a draws counted as 0)
    assert float(summary["centralised"]["mean"]) == pytest.approx(3.0)
    assert (summary["centralised"]["n"], summary["centralised"]["runs"], summary["centralised"]["not_meaningful"]) == ("1", "3", "2")
    pair = next(r for r in _csv(rep / "paired.csv") if r["metric"] == "cascade_amplification"
                and r["flagged_pairs"] == "included")
    assert float(pair["mean_diff"]) == pytest.approx(1.0 - 3.0)
    assert (pair["n"], pair["not_meaningful"]) == ("1", "2")
    text = (rep / "study.md").read_text()
    assert "n=1 of 3 runs, 2 not meaningful" in text
    assert "2 pairs not meaningful (left out)" in text
    # a metric meaningful everywhere says just n
    assert "(n=3, 0.0 % degraded)" in text


def test_runs_per_core_hour_counts_only_runs_with_a_wall_time(tmp_path: Path) -> None:
    """A run without a recorded wall time (reused by a resumed sweep before manifests kept it)
    is left out of runs per core-hour, and said so: counting it as 0 s inflated the rate
    (the 2026-12-01 study report printed 2,050 runs per core-hour)."""
    from twin.report.study_data import load_study
    from twin.report.study_report import provenance

    folder = write_study(tmp_path / "sweep", {"windstorm": 10})  # 40 runs of 1.0 s
    doc = json.loads((folder / "manifest.json").read_text())
    for r in doc["runs"][:10]:
        r["wall_s"] = None
    (folder / "manifest.json").write_text(json.dumps(doc))
    wall = dict(provenance(load_study(folder), tmp_path / "rep"))["wall time"]
    assert "over 30 of 40 finished runs (10 without a recorded wall time)" in wall
    assert "(3600 runs per core-hour)" in wall  # 30 runs in 30 s


def test_crossover_readings_name_ties_as_ties() -> None:
    """The reading of a profile without a crossover: equal everywhere (rounding noise
    included) is "no difference", zero at some points and one sign elsewhere says so."""
    from twin.report.study import _reading

    none = ss.Crossover([], math.nan, math.nan, 0.0)
    assert _reading(none, np.array([0.0, 1e-17, -2e-16])) == "no difference: B − A = 0 at every point"
    assert _reading(none, np.array([0.0, -0.5, -1.0])) == "no crossover in range: B − A ≤ 0 at every point (0 at some)"
    assert _reading(none, np.array([-0.1, -0.5])) == "no crossover in range: B − A < 0 at every point"
    assert _reading(none, np.array([0.2, -0.5, 0.1])).startswith("no crossover of the binned profile")
    assert _reading(ss.Crossover([0.4], 0.3, 0.5, 0.9), np.array([1.0, -1.0])) == "ordering changes (1 crossover)"
