"""Paired statistics against hand computations; manifest files; `twin sweep status`."""

from __future__ import annotations

import csv
import json
import math
from pathlib import Path

import pytest

from twin.cli import main
from twin.sweep import manifest as mf
from twin.sweep.stats import flag_shares, group_params, mean_ci, paired, table, to_csv

T_975_3 = 3.182446305284263  # t-table: 97.5 % quantile, 3 degrees of freedom
T_975_1 = 12.706204736174707


def row(point: int, seed: int, config: str, status: str = "complete", **metrics: float) -> dict:
    return {"run_id": f"{point}-{seed}-{config}", "configuration": config, "seed": seed, "point": point,
            "params": {"hazards[0].peak_wind_ms": 30.0 + 10 * point}, "status": status, "error": "",
            "reused": False, "wall_s": 1.0, "metrics": metrics}


def test_mean_ci_by_hand() -> None:
    d = [1.0, 2.0, 4.0, 5.0]  # mean 3, sample variance (4+1+1+4)/3 = 10/3
    mean, sd, lo, hi = mean_ci(d)
    half = T_975_3 * math.sqrt(10 / 3) / 2
    assert mean == 3.0 and sd == pytest.approx(math.sqrt(10 / 3))
    assert (lo, hi) == (pytest.approx(3 - half), pytest.approx(3 + half))
    assert math.isnan(mean_ci([2.0])[2]) and mean_ci([2.0])[0] == 2.0
    assert mean_ci([2.0, 2.0])[2:] == (2.0, 2.0)


def test_paired_differences_over_same_seeds_and_points() -> None:
    ens_a = {(0, 1): 10.0, (0, 2): 12.0, (1, 1): 20.0, (1, 2): 30.0}
    ens_b = {(0, 1): 9.0, (0, 2): 10.0, (1, 1): 16.0, (1, 2): 25.0}  # diffs -1, -2, -4, -5
    rows = [row(p, s, "centralised", energy_not_served_mwh=v) for (p, s), v in ens_a.items()]
    rows += [row(p, s, "decentralised", energy_not_served_mwh=v) for (p, s), v in ens_b.items()]
    rows.append(row(0, 3, "centralised", energy_not_served_mwh=99.0))  # no partner: not paired
    rows.append(row(0, 3, "decentralised", status="failed"))
    both = paired(rows, ["centralised", "decentralised"])
    # no run is flagged: without flagged pairs gives the same numbers
    excluded = [s for s in both if s.flagged_pairs == "excluded"]
    stats_rows = [s for s in both if s.flagged_pairs == "included"]
    assert [(s.n, s.mean_diff) for s in excluded] == [(s.n, s.mean_diff) for s in stats_rows]
    pooled = [s for s in stats_rows if s.scope == "all"]
    assert len(pooled) == 1
    s = pooled[0]
    half = T_975_3 * math.sqrt(10 / 3) / 2
    assert (s.config_a, s.config_b, s.n) == ("centralised", "decentralised", 4)
    assert s.mean_a == 18.0 and s.mean_b == 15.0 and s.mean_diff == -3.0
    assert (s.ci95_low, s.ci95_high) == (pytest.approx(-3 - half), pytest.approx(-3 + half))
    per_point = {s.point: s for s in stats_rows if s.scope == "point"}
    assert per_point[0].mean_diff == -1.5 and per_point[1].mean_diff == -4.5
    # two values, diffs -1 and -2: sd = 1/sqrt(2), half width t(0.975, 1) * sd / sqrt(2) = t / 2
    assert per_point[0].ci95_high == pytest.approx(-1.5 + T_975_1 / 2)

    text = to_csv(stats_rows, {r["point"]: r["params"] for r in rows})
    table = list(csv.DictReader(text.splitlines()))
    assert [t["scope"] for t in table] == ["all", "point", "point"]
    assert table[1]["hazards[0].peak_wind_ms"] == "30.0" and table[0]["hazards[0].peak_wind_ms"] == ""
    assert float(table[2]["mean_diff"]) == -4.5


def test_manifest_is_written_atomically_and_summarised(tmp_path: Path, capsys) -> None:
    rows = [row(0, 1, "centralised", a=1.0), row(0, 1, "decentralised", status="failed"),
            row(0, 2, "centralised", status="pending")]
    rows[1]["error"] = "ValueError: boom"
    header = {"name": "t", "sweep_file": "s.toml", "parameters": ["hazards[0].peak_wind_ms"],
              "configurations": ["centralised", "decentralised"]}
    mf.write_manifest(tmp_path, header, rows)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["manifest.csv", "manifest.json"]  # no temporaries
    doc = json.loads((tmp_path / "manifest.json").read_text())
    assert doc["counts"] == {"complete": 1, "degraded": 0, "failed": 1, "pending": 1}
    table = list(csv.DictReader((tmp_path / "manifest.csv").read_text().splitlines()))
    assert [t["status"] for t in table] == ["complete", "failed", "pending"]
    assert table[0]["a"] == "1.0" and table[1]["a"] == "" and table[1]["error"] == "ValueError: boom"
    assert main(["sweep", "status", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "3 runs: 1 complete, 0 degraded, 1 failed, 1 pending" in out
    assert "0-1-decentralised decentralised seed 1: ValueError: boom" in out
    assert main(["sweep", "status", str(tmp_path / "nothing")]) == 2
    assert "no manifest.json" in capsys.readouterr().err




def test_status_as_json(tmp_path: Path, capsys) -> None:
    """`twin sweep status DIR --json`: the same counts as the text, as one JSON document;
    a share over no finished run is null, not 0."""
    rows = [row(0, 1, "centralised", a=1.0), row(0, 1, "decentralised", status="failed"),
            row(0, 2, "centralised", status="degraded", a=float("nan"))]
    header = {"name": "t", "sweep_file": "s.toml", "parameters": [], "configurations": ["centralised", "decentralised"]}
    mf.write_manifest(tmp_path, header, rows)
    capsys.readouterr()
    assert main(["sweep", "status", str(tmp_path), "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["counts"] == {"complete": 1, "degraded": 1, "failed": 1, "pending": 0}
    assert doc["configurations"]["decentralised"] == {"complete": 0, "degraded": 0, "failed": 1, "pending": 0}
    pooled = {f["configuration"]: f for f in doc["flagged"] if f["point"] is None}
    assert pooled["centralised"]["n"] == 2 and pooled["centralised"]["degraded_share"] == 0.5
    assert pooled["decentralised"]["n"] == 0 and pooled["decentralised"]["degraded_share"] is None
    assert [r["run_id"] for r in doc["runs"]] == ["0-1-centralised", "0-1-decentralised", "0-2-centralised"]
    assert doc["runs"][2]["metrics"]["a"] is None  # nan is null in JSON


def _draw(family: str, draw: int, point: int, config: str, sens: int | None = None, **metrics: float) -> dict:
    r = row(point, 1, config, **metrics)
    r["params"] = {"repair.hours.power": 4.0 + sens} if sens is not None else {}
    r["ensemble"] = {"family": family, "draw": draw, "stratum": 0, "stratum_probability": 1.0,
                     "annual_rate_per_year": 1.0, "weight_per_year": 0.5, "intensity": 30.0,
                     "intensity_unit": "m/s", "sensitivity_point": sens}
    return r


def test_ensemble_draws_are_paired_units_grouped_by_family_and_sensitivity_point() -> None:
    # every draw is its own sweep point: windstorm draws at points 0, 1; flood at 2, 3;
    # sensitivity point 0 with draws at points 4, 5 and point 1 at points 6, 7
    a = {0: 10.0, 1: 20.0, 2: 5.0, 3: 7.0, 4: 1.0, 5: 3.0, 6: 2.0, 7: 2.0}
    b = {0: 8.0, 1: 14.0, 2: 5.0, 3: 6.0, 4: 1.0, 5: 1.0, 6: 4.0, 7: 6.0}  # diffs -2 -6 | 0 -1 | 0 -2 | 2 4
    where = {0: ("windstorm", 0, None), 1: ("windstorm", 1, None), 2: ("flood", 0, None), 3: ("flood", 1, None),
             4: ("windstorm", 0, 0), 5: ("windstorm", 1, 0), 6: ("windstorm", 0, 1), 7: ("windstorm", 1, 1)}
    rows = [_draw(f, d, p, c, s, customer_outage_h=v[p]) for c, v in (("centralised", a), ("decentralised", b))
            for p, (f, d, s) in where.items()]
    stats_rows = [s for s in paired(rows, ["centralised", "decentralised"]) if s.flagged_pairs == "included"]
    groups = {s.group: (s.scope, s.n, s.mean_diff) for s in stats_rows}
    # no group per draw (it was one "point" row per draw, each n = 1)
    assert groups == {"": ("all", 8, pytest.approx(-5 / 8)),
                      "windstorm": ("ensemble", 2, -4.0), "flood": ("ensemble", 2, -0.5),
                      "windstorm sensitivity point 0": ("ensemble", 2, -1.0),
                      "windstorm sensitivity point 1": ("ensemble", 2, 3.0)}
    assert not [s for s in stats_rows if s.scope == "point"]
    # the sensitivity point's parameters fill their column in paired.csv
    text = to_csv(stats_rows, {r["point"]: r["params"] for r in rows}, group_params(rows))
    table = {t["group"]: t for t in csv.DictReader(text.splitlines())}
    assert table["windstorm sensitivity point 1"]["repair.hours.power"] == "5.0"
    assert table["windstorm"]["repair.hours.power"] == "" and table["windstorm"]["point"] == ""
    # flag shares: pooled and per family (the sensitivity study as one), not per draw
    shares = {(s.configuration, s.group): s.n for s in flag_shares(rows, ["centralised"])}
    assert shares == {("centralised", ""): 8, ("centralised", "windstorm"): 2, ("centralised", "flood"): 2,
                      ("centralised", "windstorm (sensitivity)"): 4}


def test_not_meaningful_values_are_left_out_and_counted() -> None:
    nan = math.nan
    amp_a, amp_b = (2.0, nan, 3.0, nan), (1.0, 1.0, nan, nan)  # meaningful in both only at seed 1
    rows = [row(0, s + 1, c, cascade_amplification=v, cascade_amplification_applicable=float(v == v))
            for c, vals in (("centralised", amp_a), ("decentralised", amp_b)) for s, v in enumerate(vals)]
    rows.append(row(0, 9, "centralised", other=1.0))  # lacks the metric: missing, not "not meaningful"
    rows.append(row(0, 9, "decentralised", other=1.0))
    rows[0]["metrics"]["cascade_amplification_applicable"] = 0.0  # a value flagged not applicable is not used
    stats_rows = [s for s in paired(rows, ["centralised", "decentralised"])
                  if s.metric == "cascade_amplification" and s.flagged_pairs == "included"]
    assert stats_rows == []  # no pair left with both values (seed 1's A value is flagged)
    rows[0]["metrics"]["cascade_amplification_applicable"] = 1.0
    (s,) = [s for s in paired(rows, ["centralised", "decentralised"])
            if s.metric == "cascade_amplification" and s.flagged_pairs == "included"]
    assert (s.n, s.not_meaningful, s.mean_diff) == (1, 3, -1.0)
    # the flags are not metrics of their own
    assert not [s for s in paired(rows, ["centralised", "decentralised"]) if s.metric.endswith("_applicable")]
    assert "n=1 (3 not meaningful, left out)" in table(paired(rows, ["centralised", "decentralised"]),
                                                        ("cascade_amplification",))
