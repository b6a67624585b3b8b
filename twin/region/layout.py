"""The geography of a synthetic region: districts with population on one map, in metres.

Every sector builder (models/<sector>/build.py) places its assets relative to this layout,
so the four networks share one frame. The layout depends only on the region size and the
region seed, never on the configuration: assets shared by configurations sit in the same
place under the same id.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from typing import Literal

from twin.randomness import stream

DistrictKind = Literal["city", "town", "village"]
GridKind = Literal["synthetic", "simbench"]
GRIDS: tuple[str, ...] = ("synthetic", "simbench")
DEFAULT_GRID: GridKind = "simbench"  # every generated size's grid unless region.grid chooses (issue 15)


@dataclass(frozen=True)
class SizeSpec:
    """How many districts of each kind, how many people live in each, and how finely the
    sector builders resolve them (the one place a region size is defined)."""

    towns: int
    villages_per_town: int
    city_population: int
    town_population: int
    village_population: int
    town_ring_m: float  # distance of anchor towns from the city centre
    village_ring_m: float  # distance of villages from their town
    grid: GridKind = DEFAULT_GRID  # power grid when the scenario does not choose (region.grid)
    lv_grids: int = 0  # SimBench grids only: MV loads replaced by a SimBench LV grid
    water_people_per_junction: float = 1500.0  # one demand junction per this many people
    water_max_junctions: int = 12  # at most this many demand junctions per town or city


SIZES: dict[str, SizeSpec] = {
    "small": SizeSpec(2, 1, 6_000, 2_000, 400, 5_000.0, 2_000.0),
    "default": SizeSpec(3, 2, 20_000, 5_000, 800, 7_000.0, 2_500.0),
    "large": SizeSpec(4, 4, 60_000, 10_000, 1_000, 9_000.0, 3_000.0),
    # >= 1,000 power buses (SimBench MV with LV), 2,000 water junctions, 3,000 road edges
    # and 100,000 trips a day at demand_scale 0.45 (docs/regions.md, tests/region).
    "city": SizeSpec(6, 2, 120_000, 9_000, 1_500, 9_000.0, 3_500.0, lv_grids=8,
                     water_people_per_junction=80.0, water_max_junctions=1600),
}


@dataclass(frozen=True)
class District:
    """One settlement. ``rural`` is what equity metrics split on (villages are rural)."""

    id: str  # "city", "town1", "village1a"
    kind: DistrictKind
    x_m: float
    y_m: float
    radius_m: float
    population: int
    households: int
    parent: str  # the town a village leans on; "" for the city and towns

    @property
    def rural(self) -> bool:
        return self.kind == "village"


@dataclass(frozen=True)
class Facility:
    """A critical facility: hospital, water plant, control centre, substation, TMC."""

    id: str  # "hospital", "water_plant", "control_centre", "substation", "tmc"
    district: str
    x_m: float
    y_m: float


@dataclass(frozen=True)
class Layout:
    size: str
    seed: int
    districts: tuple[District, ...]
    facilities: tuple[Facility, ...] = field(default_factory=tuple)
    grid: GridKind = "synthetic"  # how models/power/build.py lays out the grid

    @property
    def spec(self) -> SizeSpec | None:
        """The named size's spec (None for an imported region's layout)."""
        return SIZES.get(self.size)

    def district(self, district_id: str) -> District:
        for d in self.districts:
            if d.id == district_id:
                return d
        raise KeyError(district_id)

    def facility(self, facility_id: str) -> Facility:
        for f in self.facilities:
            if f.id == facility_id:
                return f
        raise KeyError(facility_id)

    @property
    def towns(self) -> list[District]:
        return [d for d in self.districts if d.kind == "town"]

    def villages_of(self, town_id: str) -> list[District]:
        return [d for d in self.districts if d.parent == town_id]

    def to_dict(self) -> dict:
        return asdict(self)


PERSONS_PER_HOUSEHOLD = 2.2


def _radius_m(population: int) -> float:
    """Settlement radius grows with the square root of population (constant density)."""
    return round(120.0 * math.sqrt(population / 100.0), 1)


def make_layout(size: str = "default", seed: int = 1, grid: GridKind | None = None) -> Layout:
    """Draw the region: a city at the origin, anchor towns on a ring, villages around them.
    ``grid`` chooses the power grid (None: the size's own, ``SizeSpec.grid``); it does not
    change the geography."""
    if size not in SIZES:
        raise ValueError(f"unknown region size {size!r}; choose one of {sorted(SIZES)}")
    spec = SIZES[size]
    grid = spec.grid if grid is None else grid
    if grid not in GRIDS:
        raise ValueError(f"unknown power grid {grid!r}; choose one of {GRIDS}")
    rng = stream(seed, "layout")

    def make(did: str, kind: DistrictKind, x: float, y: float, pop: int, parent: str) -> District:
        return District(
            id=did, kind=kind, x_m=round(x, 1), y_m=round(y, 1), radius_m=_radius_m(pop),
            population=pop, households=max(1, round(pop / PERSONS_PER_HOUSEHOLD)), parent=parent,
        )

    districts = [make("city", "city", 0.0, 0.0, spec.city_population, "")]
    offset = rng.uniform(0, 2 * math.pi)
    for i in range(spec.towns):
        angle = offset + 2 * math.pi * i / spec.towns + rng.uniform(-0.2, 0.2)
        ring = spec.town_ring_m * rng.uniform(0.9, 1.1)
        tx, ty = ring * math.cos(angle), ring * math.sin(angle)
        tid = f"town{i + 1}"
        pop = round(spec.town_population * rng.uniform(0.8, 1.2))
        districts.append(make(tid, "town", tx, ty, pop, ""))
        for j in range(spec.villages_per_town):
            spread = math.pi / 2
            va = angle + (j - (spec.villages_per_town - 1) / 2) * spread / max(
                1, spec.villages_per_town - 1
            ) if spec.villages_per_town > 1 else angle
            va += rng.uniform(-0.15, 0.15)
            vr = spec.village_ring_m * rng.uniform(0.85, 1.15)
            vx, vy = tx + vr * math.cos(va), ty + vr * math.sin(va)
            vpop = round(spec.village_population * rng.uniform(0.7, 1.3))
            districts.append(make(f"village{i + 1}{chr(ord('a') + j)}", "village", vx, vy, vpop, tid))

    city = districts[0]
    r = city.radius_m
    facilities = (
        Facility("substation", "city", -0.9 * r, -0.9 * r),
        Facility("water_plant", "city", 0.9 * r, -0.9 * r),
        Facility("control_centre", "city", 0.2 * r, 0.3 * r),
        Facility("hospital", "city", -0.3 * r, 0.4 * r),
        Facility("tmc", "city", 0.25 * r, 0.2 * r),
    )
    return Layout(size=size, seed=seed, districts=tuple(districts), facilities=facilities, grid=grid)
