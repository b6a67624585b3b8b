"""Access to essential services: a working hospital by road, an emergency call (docs/metrics.md).

Per district and step a share of the district's people in [0, 1]:

- **hospital**: the share that can reach a *working* hospital by road within
  ``ACCESS_TIME_S`` (30 min). A hospital (``twin.region.assets.is_hospital``) works while it
  is powered, by the grid (its load served at least ``1 - SHED_UNSUPPLIED`` of its rating)
  or by its backup generator (``HOSPITAL_BACKUP_H`` hours of fuel, drawn while the grid does
  not supply it, never refuelled within a run), and has water (its service junction, the
  water demand junction nearest it, is not "out": delivered at least ``OUT_SHARE`` of
  required). The road share comes from the traffic series ``hospital_reach_frac``; with
  several working hospitals a district takes the best one.
- **emergency call**: the ICT series ``district_emergency_call_frac`` (a working base
  station serving the district, joined to the data and control centre).

Lost person-hours per district = ``sum_t population * (1 - share(t)) * step_h``, excess over
the baseline (per district, at least 0). A metric whose inputs the file lacks (no hospital
asset, no traffic or ICT series) is not applicable, never 0.
"""

from __future__ import annotations

import math

import numpy as np

from twin.metrics.equity import URBANISATION_CLASSES, district_classes
from twin.models.power.consumers import SHED_UNSUPPLIED
from twin.models.traffic.access import ACCESS_TIME_S
from twin.models.water.operation import OUT_SHARE  # a junction below it is "out"
from twin.region.assets import is_hospital
from twin.results import Results

# Fuel of the hospital's backup generator, hours. IEC 60364-7-710 (DIN VDE 0100-710,
# medical locations) asks for a safety power source with changeover within 15 s that can
# run for at least 24 h; we take that minimum. The generator is not part of the grid model:
# the grid sees the hospital's load shed, the metric sees the hospital powered.
HOSPITAL_BACKUP_H = 24.0

SERVICES: tuple[str, ...] = ("hospital", "emergency_call")
__all__ = ["ACCESS_TIME_S", "HOSPITAL_BACKUP_H", "OUT_SHARE", "SERVICES", "access_metrics",
           "access_share", "emergency_call_share", "hospital_access_share", "hospital_working",
           "service_junction"]


def _series(r: Results, sector: str, name: str) -> tuple[np.ndarray, list[str]] | None:
    arr = r.series.get(sector, {}).get(name)
    if arr is None:
        return None
    return np.asarray(arr, float), list(r.columns[sector][name])


def _district_ids(r: Results) -> list[str]:
    return [str(d) for d in r.districts["id"]]


def service_junction(r: Results, hospital: str) -> str | None:
    """The water demand junction nearest the hospital (ties by id): where it draws water.
    None when the file has no per-junction series."""
    water = _series(r, "water", "junction_required_m3s")
    if water is None or not water[1]:
        return None
    ids = [str(i) for i in r.assets["id"]]
    pos = {i: (float(x), float(y)) for i, x, y in zip(ids, r.assets["x_m"], r.assets["y_m"], strict=True)}
    h = pos[hospital]
    return min((j for j in water[1] if j in pos), key=lambda j: (math.dist(pos[j], h), j), default=None)


def hospital_working(r: Results) -> dict[str, np.ndarray] | None:
    """{hospital id: (T,) bool, True while it is powered and has water}; None when the file
    cannot say (no hospital asset, no ``load_served_mw`` or no per-junction water series)."""
    ids = [str(i) for i in r.assets["id"]]
    hospitals = [i for i in ids if is_hospital(i)]
    served = _series(r, "power", "load_served_mw")
    req = _series(r, "water", "junction_required_m3s")
    dlv = _series(r, "water", "junction_delivered_m3s")
    if not hospitals or served is None or req is None or dlv is None:
        return None
    rating = {i: float(c) for i, c in zip(ids, r.assets["capacity"], strict=True)}
    step_h = r.step_s / 3600.0
    out: dict[str, np.ndarray] = {}
    for h in hospitals:
        junction = service_junction(r, h)
        if h not in served[1] or junction is None or junction not in dlv[1]:
            return None
        grid = served[0][:, served[1].index(h)] >= (1.0 - SHED_UNSUPPLIED) * rating[h] - 1e-12
        fuel_h, powered = HOSPITAL_BACKUP_H, np.zeros(len(grid), bool)
        for t, on_grid in enumerate(grid):  # the generator runs while the grid does not supply
            powered[t] = bool(on_grid) or fuel_h > 1e-9
            if not on_grid:
                fuel_h = max(0.0, fuel_h - step_h)
        q_req = req[0][:, req[1].index(junction)]
        q_dlv = dlv[0][:, dlv[1].index(junction)]
        water = ~((q_req > 0) & (q_dlv < OUT_SHARE * q_req))
        out[h] = powered & water
    return out


def hospital_access_share(r: Results) -> np.ndarray | None:
    """(T, D) share of each district's people (districts in ``/districts`` order) who reach
    a working hospital by road within ``ACCESS_TIME_S``; None when not applicable."""
    working = hospital_working(r)
    reach = _series(r, "traffic", "hospital_reach_frac")
    if working is None or reach is None:
        return None
    arr, labels = reach
    share = np.zeros((len(r.time_s), len(_district_ids(r))))
    for k, d in enumerate(_district_ids(r)):
        for h, ok in working.items():
            key = f"{d}|{h}"
            if key not in labels:
                return None
            share[:, k] = np.maximum(share[:, k], np.where(ok, arr[:, labels.index(key)], 0.0))
    return share


def emergency_call_share(r: Results) -> np.ndarray | None:
    """(T, D) share of each district's people with a working emergency-call path; None
    when the file has no ``district_emergency_call_frac`` (no ICT or no answering site)."""
    calls = _series(r, "ict", "district_emergency_call_frac")
    if calls is None:
        return None
    arr, labels = calls
    ids = _district_ids(r)
    if not set(ids) <= set(labels):
        return None
    return np.stack([arr[:, labels.index(d)] for d in ids], axis=1)


def access_share(r: Results, service: str) -> np.ndarray | None:
    """(T, D) shares of one of :data:`SERVICES`."""
    if service == "hospital":
        return hospital_access_share(r)
    if service == "emergency_call":
        return emergency_call_share(r)
    raise ValueError(f"unknown service {service!r}; choose one of {SERVICES}")


def _lost_person_h(r: Results, share: np.ndarray) -> np.ndarray:
    """(D,) person-hours without the service: sum_t population (1 - share) step_h."""
    pop = np.asarray(r.districts["population"], float)
    return np.sum(1.0 - np.clip(share, 0.0, 1.0), axis=0) * pop * (r.step_s / 3600.0)


def access_metrics(run: Results, baseline: Results | None) -> dict[str, float | None]:
    """``access_<service>_lost_person_h``, its rate per person by degree of urbanisation
    (``access_<service>_lost_h_per_person_<city|town|rural|urban>``) and
    ``access_<service>_rural_minus_urban_h``; None where not applicable."""
    ids = _district_ids(run)
    pop = dict(zip(ids, np.asarray(run.districts["population"], float).tolist(), strict=True))
    classes = district_classes(run)
    groups = {c: [d for d in ids if classes[d] == c] for c in URBANISATION_CLASSES}
    groups["urban"] = groups["city"] + groups["town"]
    out: dict[str, float | None] = {}
    for service in SERVICES:
        share = access_share(run, service)
        lost: dict[str, float] | None = None
        if share is not None:
            raw = _lost_person_h(run, share)
            b_share = access_share(baseline, service) if baseline is not None else None
            base = (_lost_person_h(baseline, b_share)  # type: ignore[arg-type]
                    if b_share is not None and b_share.shape == share.shape else np.zeros(len(ids)))
            lost = dict(zip(ids, np.maximum(raw - base, 0.0).tolist(), strict=True))
        out[f"access_{service}_lost_person_h"] = sum(lost.values()) if lost is not None else None

        def rate(members: list[str], lost: dict[str, float] | None = lost) -> float | None:
            people = sum(pop[d] for d in members)
            return sum(lost[d] for d in members) / people if lost is not None and members and people > 0 else None

        for c in (*URBANISATION_CLASSES, "urban"):
            out[f"access_{service}_lost_h_per_person_{c}"] = rate(groups[c])
        rural, urban = rate(groups["rural"]), rate(groups["urban"])
        out[f"access_{service}_rural_minus_urban_h"] = (
            rural - urban if rural is not None and urban is not None else None)
    return out
