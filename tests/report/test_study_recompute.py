"""The study report's paired statistics, recomputed from its metrics.csv with numpy and scipy
alone (no twin statistics code; the CSVs carry 10 significant digits, hence rel=1e-7): mean differences, 95 % BCa intervals (scipy.stats.bootstrap,
10,000 resamples, seed 20261201 as study.md states), Wilcoxon p-values and Holm's correction."""

from __future__ import annotations

import csv
import math
from pathlib import Path

import numpy as np
import pytest
from scipy import stats
from study_fixture import write_study

from twin.cli import main

SEED = 20_261_201  # the seed study.md prints
HEADLINE = ("energy_not_served_mwh", "water_not_served_m3", "customer_outage_h", "secondary_failures",
            "cascade_depth_max", "cross_sector_hops", "equity_rural_minus_urban_h")
COMPARISONS = [("centralised", "centralised_hardened"), ("centralised", "decentralised"),
               ("centralised", "anchor_towns"), ("centralised_hardened", "decentralised"),
               ("centralised_hardened", "anchor_towns")]


def _num(v: str) -> float:
    return float(v) if v != "" else math.nan


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory) -> Path:
    tmp = tmp_path_factory.mktemp("study")
    folder = write_study(tmp / "sweep", {"windstorm": 40, "flood": 24}, degraded_share=0.06, seed=5)
    assert main(["report", str(folder), "--out", str(tmp / "rep")]) == 0
    return tmp / "rep"


def test_paired_differences_intervals_and_p_values(report: Path) -> None:
    assert recompute(report) > 100


def recompute(report: Path, families: tuple[str, ...] | None = None) -> int:
    """Check paired.csv against numpy/scipy on metrics.csv; return how many BCa intervals were compared."""
    assert f"seed {SEED}" in (report / "study.md").read_text()
    runs = list(csv.DictReader((report / "metrics.csv").open()))
    configs = list(dict.fromkeys(r["configuration"] for r in runs))
    families = families or tuple(dict.fromkeys(r["family"] for r in runs if r["sensitivity_point"] == ""))
    table = {(r["family"], r["config_a"], r["config_b"], r["metric"], r["flagged_pairs"]): r
             for r in csv.DictReader((report / "paired.csv").open())}
    mine: dict[tuple[str, ...], float] = {}
    checked = 0
    for family in families:
        by = {(r["configuration"], r["draw"], r["point"]): r for r in runs
              if r["family"] == family and r["sensitivity_point"] == ""}
        for a, b in (c for c in COMPARISONS if c[0] in configs and c[1] in configs):
            # pairs in the order of A's runs in metrics.csv (the manifest's): a bootstrap resamples positions
            keys = [(d, p) for c, d, p in by if c == a and (b, d, p) in by]
            for metric in HEADLINE:
                for scope in ("included", "excluded"):
                    pairs = [(by[(a, *k)], by[(b, *k)]) for k in keys]
                    if scope == "excluded":
                        pairs = [(ra, rb) for ra, rb in pairs if ra["flagged"] == "false" and rb["flagged"] == "false"]
                    d = np.array([_num(rb[metric]) - _num(ra[metric]) for ra, rb in pairs])
                    d = d[np.isfinite(d)]
                    if metric not in runs[0]:
                        continue
                    row = table[(family, a, b, metric, scope)]
                    assert int(row["n"]) == len(d)
                    if len(d) == 0:
                        assert row["mean_diff"] == ""
                        continue
                    assert float(row["mean_diff"]) == pytest.approx(d.mean(), rel=1e-7, abs=1e-9)
                    if len(d) < 3:
                        assert row["bca_low"] == "" and row["bca_note"] == "n < 3"
                    elif np.ptp(d) == 0:
                        assert float(row["bca_low"]) == float(row["bca_high"]) == pytest.approx(d[0])
                    else:
                        ci = stats.bootstrap((d,), np.mean, n_resamples=10_000, method="BCa",
                                             rng=np.random.default_rng(SEED)).confidence_interval
                        assert float(row["bca_low"]) == pytest.approx(ci.low, rel=1e-7, abs=1e-9)
                        assert float(row["bca_high"]) == pytest.approx(ci.high, rel=1e-7, abs=1e-9)
                        checked += 1
                    if np.any(d != 0):
                        p = stats.wilcoxon(d).pvalue
                        assert float(row["wilcoxon_p"]) == pytest.approx(p, rel=1e-7)
                        mine[(family, a, b, metric, scope)] = p
                    else:
                        assert row["wilcoxon_p"] == ""
    for scope in ("included", "excluded"):  # Holm by hand over the headline set of each scope
        keys = sorted((k for k in mine if k[4] == scope), key=lambda k: mine[k])
        m, running = len(keys), 0.0
        for rank, k in enumerate(keys):
            running = max(running, min(1.0, (m - rank) * mine[k]))
            assert float(table[k]["holm_p"]) == pytest.approx(running, rel=1e-7)
    return checked


def test_every_summary_cell_has_n_and_degraded_share(report: Path) -> None:
    text = (report / "study.md").read_text()
    section = text.split("## Per hazard family and configuration")[1].split("\n## ")[0]
    rows = [line for line in section.splitlines() if line.startswith("| ") and "mean / median / P90" not in line]
    assert len(rows) > 20
    for line in rows:
        for cell in line.strip("|").split("|")[1:]:
            assert "(n=" in cell and "degraded)" in cell, line
    assert "sha256" in text and "twin report" in text and "wall time" in text and "commit" in text
    for fig in ("distributions.png", "paired.png", "exceedance.png"):
        assert f"`{fig}`" in text and (report / fig).is_file()


def test_interactive_page(report: Path) -> None:
    import json
    import re

    page = (report / "interactive.html").read_text()
    blob = re.search(r'id="twin-figures">(.*?)</script>', page, re.S)
    assert blob is not None
    figures = json.loads(blob.group(1))  # valid JSON: no NaN reaches the page
    for name in ("exceedance-customer_outage_h", "paired-customer_outage_h", "distributions-customer_outage_h"):
        assert f'data-plot="{name}"' in page and figures[name]["data"]
    assert "https://" not in page.split("<script>")[0]  # nothing fetched before plotly.js
