"""Districts of an imported region (deterministic k-means over demand points) and the
critical facilities the generators need."""

from __future__ import annotations

import warnings
from collections.abc import Callable

import numpy as np

from twin.region.assets import Asset
from twin.region.layout import PERSONS_PER_HOUSEHOLD, District, Facility

TOWN_SHARE = 0.25  # a district with at least this share of the city's population is a town


def kmeans(points: np.ndarray, k: int, iterations: int = 50) -> np.ndarray:
    """Deterministic k-means centres: a farthest-point start (no random draw), then
    scipy's Lloyd iterations (``scipy.cluster.vq.kmeans2`` from that start; an empty
    cluster keeps its centre)."""
    from scipy.cluster.vq import kmeans2

    points = np.asarray(points, float)
    k = max(1, min(k, len(points)))
    centres = [points[np.argmin(((points - points.mean(axis=0)) ** 2).sum(axis=1))]]
    while len(centres) < k:
        d2 = np.min(((points[:, None, :] - np.array(centres)[None]) ** 2).sum(axis=2), axis=1)
        centres.append(points[int(np.argmax(d2))])
    with warnings.catch_warnings():  # "one of the clusters is empty": its centre stays, as documented
        warnings.simplefilter("ignore", UserWarning)
        c, _ = kmeans2(points, np.array(centres, float), iter=iterations, minit="matrix", missing="warn")
    return np.asarray(c, float)


def make_districts(
    demand: list[tuple[float, float, float]], k: int
) -> tuple[list[District], np.ndarray]:
    """Districts from weighted demand points (x, y, people): ids ``district<n>`` by population.

    The most populous is the ``city``; a district with at least ``TOWN_SHARE`` of the city's
    population is a ``town``; the rest are ``village`` leaning on the nearest town or city.
    """
    pts = np.array([(x, y) for x, y, _ in demand], float)
    people = np.array([p for _, _, p in demand], float)
    centres = kmeans(pts, k)
    label = np.argmin(((pts[:, None, :] - centres[None]) ** 2).sum(axis=2), axis=1)
    pops = np.array([people[label == j].sum() for j in range(len(centres))])
    order = sorted(range(len(centres)), key=lambda j: (-pops[j], centres[j][0], centres[j][1]))
    city_pop = max(1.0, float(pops[order[0]]))
    raw = []
    for rank, j in enumerate(order, start=1):
        mine = pts[label == j]
        # the radius that holds three quarters of the district's points (outliers aside)
        radius = float(np.percentile(np.hypot(*(mine - centres[j]).T), 75)) if len(mine) else 0.0
        kind = "city" if rank == 1 else ("town" if pops[j] >= TOWN_SHARE * city_pop else "village")
        raw.append((f"district{rank}", kind, centres[j], max(200.0, round(radius, 1)), int(round(pops[j]))))
    towns = [(did, c) for did, kind, c, _, _ in raw if kind in ("city", "town")]
    districts = []
    for did, kind, c, radius, pop in raw:
        parent = ""
        if kind == "village":
            parent = min(towns, key=lambda t: (float(np.hypot(*(t[1] - c))), t[0]))[0]
        districts.append(District(id=did, kind=kind, x_m=round(float(c[0]), 1), y_m=round(float(c[1]), 1),
                                  radius_m=radius, population=max(pop, 1),
                                  households=max(1, round(pop / PERSONS_PER_HOUSEHOLD)), parent=parent))
    return districts, np.array([[d.x_m, d.y_m] for d in districts])


def nearest_of(centres: np.ndarray, ids: list[str]) -> Callable[[float, float], str]:
    def district_of(x: float, y: float) -> str:
        return ids[int(np.argmin(((centres - np.array([x, y])) ** 2).sum(axis=1)))]

    return district_of


def facilities_for(districts: list[District], power: list[Asset], water: list[Asset]) -> tuple[Facility, ...]:
    """Critical facilities of an imported region: substation at the external grid, water
    plant at the first reservoir (else the first pump), the control centre, hospital and
    traffic-management centre near the city centre (what the ICT generator needs)."""
    city = districts[0]
    r = min(city.radius_m, 1000.0)
    ext = next((a for a in power if a["type"] == "ext_grid"), None) or next(a for a in power if a["type"] == "bus")
    src = next((a for a in water if a["type"] == "reservoir"), None) or next(
        (a for a in water if a["type"] in ("pump", "well")), None)

    def at(fid: str, a: Asset | None, dx: float, dy: float) -> Facility:
        if a is not None:
            return Facility(fid, a["district"] or city.id, a["x_m"], a["y_m"])
        return Facility(fid, city.id, round(city.x_m + dx * r, 1), round(city.y_m + dy * r, 1))

    return (
        at("substation", ext, -0.9, -0.9),
        at("water_plant", src, 0.9, -0.9),
        at("control_centre", None, 0.2, 0.3),
        at("hospital", None, -0.3, 0.4),
        at("tmc", None, 0.25, 0.2),
    )
