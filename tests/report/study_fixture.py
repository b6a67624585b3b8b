"""Synthetic hazard-ensemble sweep folders: a manifest.json as `twin sweep` writes it, with the
`ensemble` dict of every row (the interface of the study's sweep files), and no results files.

Losses grow with the draw's stratum; each configuration scales them by its own factor, so
the paired differences are known in sign; a sensitivity study makes the decentralised minus
centralised difference linear in one parameter, zero at ``CROSS_AT``.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np

CONFIGS = ("centralised", "centralised_hardened", "decentralised", "anchor_towns")
FACTOR = {"centralised": 1.0, "centralised_hardened": 0.8, "decentralised": 0.6, "anchor_towns": 0.7}
COST = {"centralised": 10.0, "centralised_hardened": 10.5, "decentralised": 12.0, "anchor_towns": 11.0}
RATES = {"windstorm": 0.5, "flood": 0.1, "earthquake": 0.02, "equipment": 2.0, "cyber": 0.2}
STRATA = (0.6, 0.3, 0.1)  # stratum probabilities
SHARE_PARAM = "region.configurations.decentralised.prosumer_share"
WIND_PARAM = "hazards[0].peak_wind_ms"
CROSS_AT = 0.4  # decentralised − centralised customer-outage hours are 0 at this prosumer share


def ensemble(family: str, draw: int, stratum: int, weight: float, intensity: float,
             sensitivity_point: int | None = None) -> dict[str, Any]:
    return {"family": family, "draw": draw, "stratum": stratum, "stratum_probability": STRATA[stratum],
            "annual_rate_per_year": RATES[family], "weight_per_year": weight, "intensity": intensity,
            "intensity_unit": "m/s" if family == "windstorm" else "1", "sensitivity_point": sensitivity_point}


def metrics_of(loss: float, factor: float, config: str, rng: np.random.Generator, extra: int) -> dict[str, float]:
    """A run's scalar metrics from a loss scale (the hazard) and the configuration's factor."""
    noise = rng.normal(1.0, 0.1)
    cust = max(0.0, loss * factor * noise)
    amp_ok = cust > 0
    m = {
        "energy_not_served_mwh": 0.01 * cust, "water_not_served_m3": 2.0 * cust * rng.uniform(0.8, 1.2),
        "customer_outage_h": cust, "saidi_power_h": cust / 1000, "saidi_water_h": cust / 3000,
        "secondary_failures": float(round(cust / 50)), "cascade_amplification": cust / 100 if amp_ok else float("nan"),
        "cascade_amplification_applicable": 1.0 if amp_ok else 0.0, "cascade_depth_max": float(min(5, round(cust / 200))),
        "cross_sector_hops": float(round(cust / 80)), "equity_outage_h_per_person_town": cust / 20000,
        "equity_outage_h_per_person_urban": cust / 20000, "equity_outage_h_per_person_rural": cust / 9000,
        "equity_rural_minus_urban_h": cust / 9000 - cust / 20000, "lost_load_cost_meur": 0.01 * cust * 0.0087,
        "annual_cost_meur": COST[config], "negative_impacts": 0.0,
        "access_hospital_lost_person_h": 0.5 * cust, "access_hospital_lost_person_h_per_person_rural": cust / 5000,
        "access_emergency_call_lost_person_h": 0.2 * cust,
    }
    for i in range(extra):  # other metrics a run has, to make the table realistic in size
        m[f"other_metric_{i}"] = float(rng.random())
    return m


def write_study(folder: Path, draws: dict[str, int], configs: tuple[str, ...] = CONFIGS, seed: int = 1,
                sensitivity: tuple[int, int] | None = None, degraded_share: float = 0.0,
                extra_metrics: int = 0) -> Path:
    """Write ``folder/manifest.json``: ``draws[family]`` paired draws of each family for every
    configuration (strata in the proportions of ``STRATA``) and, with ``sensitivity = (points,
    draws)``, a windstorm Latin-hypercube study over the prosumer share and the peak gust."""
    rng = np.random.default_rng(seed)
    rows: list[dict[str, Any]] = []
    point = 0
    for family, n in draws.items():
        strata = np.repeat(np.arange(len(STRATA)), [round(n * p) for p in STRATA])[:n]
        strata = np.concatenate([strata, np.zeros(n - len(strata), dtype=int)])
        counts = np.bincount(strata, minlength=len(STRATA))
        for draw in range(n):
            s = int(strata[draw])
            weight = RATES[family] * STRATA[s] / counts[s]
            intensity = 20.0 + 10.0 * s + rng.random() * 10.0
            loss = (s + rng.random()) * 1000.0 * (rng.random() > 0.2)
            for c in configs:
                status = "degraded" if rng.random() < degraded_share else "complete"
                rows.append({"run_id": f"{family[:3]}{draw:04d}{c[:4]}{len(rows)}", "configuration": c, "seed": 1,
                             "point": point, "params": {}, "status": status, "error": "", "reused": False,
                             "wall_s": 1.0, "metrics": metrics_of(loss, FACTOR[c], c, rng, extra_metrics),
                             "ensemble": ensemble(family, draw, s, weight, intensity)})
            point += 1
    if sensitivity:
        n_points, n_draws = sensitivity
        for sp in range(n_points):
            share = (sp + rng.random()) / n_points
            wind = 30.0 + 30.0 * rng.random()
            for draw in range(n_draws):
                loss = 1000.0 * (1 + rng.random())
                for c in configs:
                    m = metrics_of(loss, 1.0, c, rng, extra_metrics)
                    if c == "centralised":  # decentralised − centralised = 2000 (CROSS_AT − share) exactly
                        m["customer_outage_h"] = loss
                    elif c == "decentralised":
                        m["customer_outage_h"] = loss + 2000.0 * (CROSS_AT - share)
                    rows.append({"run_id": f"sens{sp:03d}{draw:03d}{c[:4]}", "configuration": c, "seed": 1,
                                 "point": point, "params": {SHARE_PARAM: share, WIND_PARAM: wind},
                                 "status": "complete", "error": "", "reused": False, "wall_s": 1.0, "metrics": m,
                                 "ensemble": ensemble("windstorm", draw, 0, 0.0, wind, sp)})
                point += 1
    return write_manifest(folder, rows, configs, [SHARE_PARAM, WIND_PARAM] if sensitivity else [])


def write_manifest(folder: Path, rows: list[dict[str, Any]], configs: tuple[str, ...] | list[str],
                   parameters: list[str] | None = None) -> Path:
    """``folder/manifest.json`` with these rows, as twin.sweep.manifest writes it."""
    doc = {"format": 1, "name": "study-fixture", "sweep_file": "cosim_configs/study_quick.toml",
           "base": "default.toml", "parameters": parameters or [], "configurations": list(configs), "seeds": [1],
           "overrides": {}, "updated_utc": "2026-12-01T12:00:00+00:00", "counts": {}, "runs": rows}
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "manifest.json").write_text(json.dumps(doc, indent=1, allow_nan=True) + "\n")
    return folder


def run_row(config: str, family: str, draw: int, stratum: int, weight: float, metrics: dict[str, float],
            status: str = "complete", point: int | None = None, sensitivity_point: int | None = None,
            params: dict[str, Any] | None = None) -> dict[str, Any]:
    """One manifest row of an ensemble run (point defaults to the draw: pairs share it)."""
    return {"run_id": f"{config}-{family}-{sensitivity_point}-{draw}", "configuration": config, "seed": 1,
            "point": draw if point is None else point, "params": params or {}, "status": status, "error": "",
            "reused": False, "wall_s": 2.0, "metrics": metrics,
            "ensemble": {**ensemble(family, draw, stratum, weight, 30.0 + draw, sensitivity_point),
                         "stratum_probability": 0.5}}
