"""Seeded car demand from the districts' population and a time-of-day profile.

Every person makes ``car_trips_per_person_day`` car trips a day (1.2 by default, a
typical figure for car-oriented regions); SUMO simulates the fraction ``demand_scale`` of
them (``TrafficOptions.demand_scale``, 0.3 by default), so one simulated vehicle stands for ``1 / demand_scale`` real ones.
Trips per origin district and hour follow a weekday profile with morning and evening peaks;
each trip's destination district is drawn from a gravity model (a share stays inside the
district, the rest goes to other districts in proportion to population and
``exp(-distance / GRAVITY_LENGTH_M)``); origin and destination edges are drawn uniformly among
the district's street edges. Every draw comes from ``twin.randomness.stream(seed,
"traffic-demand", "<district>/<hour>")``, so an hour's trips are the same whatever the
exchange step and however far the run goes.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from twin.randomness import stream

# Share of a day's car trips starting in each hour (weekday, two peaks); sums to 1.
HOURLY_PROFILE: tuple[float, ...] = (
    0.006, 0.004, 0.003, 0.003, 0.006, 0.018, 0.048, 0.085, 0.075, 0.055, 0.050, 0.052,
    0.056, 0.055, 0.056, 0.064, 0.078, 0.085, 0.068, 0.048, 0.033, 0.024, 0.017, 0.011,
)
INTERNAL_SHARE: dict[str, float] = {"city": 0.75, "town": 0.55, "village": 0.25}
GRAVITY_LENGTH_M = 4_000.0


@dataclass(frozen=True)
class DistrictDemand:
    """What the demand model needs to know about one district."""

    id: str
    kind: str
    x_m: float
    y_m: float
    population: int
    edges: tuple[str, ...]  # street edges inside the district (origins and destinations)


@dataclass(frozen=True)
class Trip:
    """One car trip: SUMO routes it at insertion (fastest path from ``from_edge``)."""

    id: str
    depart_s: float
    from_edge: str
    to_edge: str
    origin: str
    destination: str


def district_of_vehicle(vehicle_id: str) -> str:
    """Origin district encoded in a demand vehicle id (``t.<district>.<hour>.<k>``)."""
    parts = vehicle_id.split(".")
    return parts[1] if len(parts) > 2 and parts[0] == "t" else ""


class HourlyDemand:
    """Trips generated per hour (``trips_in_hour``, cached in ``_hours``), read by interval."""

    _hours: dict[int, list[Trip]]

    def trips_in_hour(self, hour: int) -> list[Trip]:
        raise NotImplementedError

    def trips_between(self, t0_s: float, t1_s: float) -> list[Trip]:
        """Trips departing in ``[t0_s, t1_s)``."""
        out: list[Trip] = []
        for hour in range(int(t0_s // 3600), int(math.ceil(t1_s / 3600))):
            out += [tr for tr in self.trips_in_hour(hour) if t0_s <= tr.depart_s < t1_s]
        for old in [h for h in self._hours if h < int(t0_s // 3600) - 1]:
            del self._hours[old]
        return out


class DemandModel(HourlyDemand):
    """Generates the trips of each (origin district, hour) block lazily and reproducibly."""

    def __init__(
        self,
        districts: list[DistrictDemand],
        seed: int,
        demand_scale: float,
        car_trips_per_person_day: float = 1.2,
    ) -> None:
        if demand_scale < 0:
            raise ValueError(f"demand_scale must be >= 0, got {demand_scale}")
        self.districts = [d for d in districts if d.edges]
        self.seed = seed
        self.demand_scale = demand_scale
        self.car_trips_per_person_day = car_trips_per_person_day
        self._dest_p = self._destination_probabilities()
        self._hours: dict[int, list[Trip]] = {}

    def _destination_probabilities(self) -> np.ndarray:
        n = len(self.districts)
        p = np.zeros((n, n))
        for i, a in enumerate(self.districts):
            w = np.array(
                [
                    0.0 if j == i else b.population * math.exp(
                        -math.hypot(a.x_m - b.x_m, a.y_m - b.y_m) / GRAVITY_LENGTH_M
                    )
                    for j, b in enumerate(self.districts)
                ]
            )
            internal = INTERNAL_SHARE.get(a.kind, 0.5) if n > 1 else 1.0
            p[i] = (1.0 - internal) * w / w.sum() if w.sum() > 0 else 0.0
            p[i, i] += internal if w.sum() > 0 else 1.0
        return p

    def expected_trips_per_hour(self, hour: int) -> float:
        """Mean number of simulated trips starting in an hour (all districts)."""
        share = HOURLY_PROFILE[hour % 24]
        pop = sum(d.population for d in self.districts)
        return pop * self.car_trips_per_person_day * self.demand_scale * share

    def trips_in_hour(self, hour: int) -> list[Trip]:
        """All trips departing in ``[3600 h, 3600 (h + 1))``, sorted by departure."""
        if hour not in self._hours:
            trips: list[Trip] = []
            share = HOURLY_PROFILE[hour % 24]
            for i, d in enumerate(self.districts):
                rng = stream(self.seed, "traffic-demand", f"{d.id}/{hour}")
                mean = d.population * self.car_trips_per_person_day * self.demand_scale * share
                n = int(rng.poisson(mean))
                if n == 0:
                    continue
                departs = np.sort(rng.uniform(0.0, 3600.0, size=n))
                dest = rng.choice(len(self.districts), size=n, p=self._dest_p[i])
                from_idx = rng.integers(0, len(d.edges), size=n)
                to_u = rng.random(size=n)
                for k in range(n):
                    dd = self.districts[int(dest[k])]
                    to_edge = dd.edges[int(to_u[k] * len(dd.edges))]
                    from_edge = d.edges[int(from_idx[k])]
                    if to_edge == from_edge:  # a trip needs somewhere to go
                        to_edge = dd.edges[(int(to_u[k] * len(dd.edges)) + 1) % len(dd.edges)]
                    trips.append(
                        Trip(
                            id=f"t.{d.id}.{hour}.{k}",
                            depart_s=round(3600.0 * hour + float(departs[k]), 1),
                            from_edge=from_edge, to_edge=to_edge, origin=d.id,
                            destination=dd.id,
                        )
                    )
            trips.sort(key=lambda tr: (tr.depart_s, tr.id))
            self._hours[hour] = trips
        return self._hours[hour]


# --------------------------------------------------------------------------- trip tables
DEMAND_FILE = "demand.json"  # in a built region folder: an imported trip table (TableDemand)
DEMAND_PERIODS: tuple[str, ...] = ("day", "peak_hour")


def _cumulative_profile() -> tuple[float, ...]:
    out, c = [0.0], 0.0
    for share in HOURLY_PROFILE:
        c += share
        out.append(c)
    out[-1] = 1.0
    return tuple(out)


class TableDemand(HourlyDemand):
    """Trips between zones from an imported trip table (a TNTP trips file).

    The table holds the trips of one ``period``: a ``day``, or its busiest hour
    (``peak_hour``: the day's trips are the table over ``max(HOURLY_PROFILE)``, the share of
    the busiest hour). SUMO simulates the fraction ``demand_scale`` of them, spread over the
    hours by ``HOURLY_PROFILE``. The count of a zone pair's trips in hour ``h`` of a day is
    ``round(N * C(h + 1)) - round(N * C(h))``, ``N`` the pair's simulated trips per day and
    ``C`` the cumulative profile, so a day holds exactly ``round(N)`` trips of the pair.
    Departure times inside the hour and the departure and arrival edges (uniform over the
    edges leaving the origin zone and entering the destination zone) come from
    ``stream(seed, "traffic-demand", "od/<origin>/<destination>/<hour>")``.
    """

    def __init__(self, table: dict, seed: int, demand_scale: float) -> None:
        if demand_scale < 0:
            raise ValueError(f"demand_scale must be >= 0, got {demand_scale}")
        period = table.get("period", "day")
        if period not in DEMAND_PERIODS:
            raise ValueError(f"demand period {period!r}: choose one of {DEMAND_PERIODS}")
        self.zones: dict[str, dict] = table["zones"]
        per_day = 1.0 if period == "day" else 1.0 / max(HOURLY_PROFILE)
        self.od = [(str(o), str(d), float(n) * per_day * demand_scale) for o, d, n in table["od"]
                   if self.zones[str(o)]["depart"] and self.zones[str(d)]["arrive"]]
        self.seed = seed
        self._cum = _cumulative_profile()
        self._hours: dict[int, list[Trip]] = {}

    @classmethod
    def read(cls, path: str | Path, seed: int, demand_scale: float) -> TableDemand:
        return cls(json.loads(Path(path).read_text()), seed, demand_scale)

    def count(self, per_day: float, hour: int) -> int:
        """Trips of a pair with ``per_day`` simulated trips a day starting in ``hour``."""
        h = hour % 24
        return round(per_day * self._cum[h + 1]) - round(per_day * self._cum[h])

    def expected_trips_per_hour(self, hour: int) -> float:
        return float(sum(self.count(n, hour) for _, _, n in self.od))

    def trips_in_hour(self, hour: int) -> list[Trip]:
        """All trips departing in ``[3600 h, 3600 (h + 1))``, sorted by departure."""
        if hour not in self._hours:
            trips: list[Trip] = []
            for o, d, per_day in self.od:
                n = self.count(per_day, hour)
                if n <= 0:
                    continue
                zo, zd = self.zones[o], self.zones[d]
                rng = stream(self.seed, "traffic-demand", f"od/{o}/{d}/{hour}")
                departs = np.sort(rng.uniform(0.0, 3600.0, size=n))
                src = rng.integers(0, len(zo["depart"]), size=n)
                dst = rng.integers(0, len(zd["arrive"]), size=n)
                for k in range(n):
                    trips.append(Trip(
                        id=f"t.{zo['district']}.{hour}.{o}-{d}-{k}",
                        depart_s=round(3600.0 * hour + float(departs[k]), 1),
                        from_edge=zo["depart"][int(src[k])], to_edge=zd["arrive"][int(dst[k])],
                        origin=zo["district"], destination=zd["district"],
                    ))
            trips.sort(key=lambda tr: (tr.depart_s, tr.id))
            self._hours[hour] = trips
        return self._hours[hour]
