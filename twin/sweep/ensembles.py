"""Hazard ensembles of a sweep: stratified draws of one hazard family, with known weights.

An ``[[ensembles]]`` table names a family of the hazard registry (``twin.hazards.FAMILIES``),
a hazard template (a ``[[hazards]]`` table), the distribution of one intensity field with
its source, the family's annual rate with its source, other randomised fields, and strata:
quantile edges ``0 = q_0 < q_1 < ... < q_K = 1`` of the intensity distribution with a number
of draws ``n_h`` per stratum. Draw ``j`` of stratum ``h`` has the quantile
``u = q_h + (q_{h+1} - q_h) (j + v) / n_h`` (``v`` uniform: one draw in each of ``n_h`` equal
sub-strata) and the intensity ``F^-1(u)``, so the stratum's probability
``p_h = q_{h+1} - q_h`` is known exactly and each draw carries the weight
``w = rate * p_h / n_h`` per year: the weights of a family sum to its annual rate, and
``sum_draws w * X`` estimates the expected annual value of X (unbiased: docs/sweeps.md).

Every draw also gets its own ``damage_seed``, so draws vary the hazard's damage draws while
``run.seed`` (demand, weather, traffic) stays: every draw of a configuration shares one
hazard-free baseline. All numbers come from ``twin.randomness.stream(sample_seed, ...)``, one
stream per purpose and key, and one drawn hazard meets every configuration (pairing).
"""

from __future__ import annotations

import copy
import math
from dataclasses import dataclass
from typing import Annotated, Any, Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, model_validator
from scipy import stats as sps

from twin.dotted import parse_key, set_dotted
from twin.randomness import stream

ENSEMBLE_FAMILIES: tuple[str, ...] = ("windstorm", "flood", "earthquake", "equipment", "cyber")
Family = Literal["windstorm", "flood", "earthquake", "equipment", "cyber"]
# Derived storm fields: the track through a point at a signed distance from the frame's origin.
TRACK_KEYS: tuple[str, ...] = ("track.offset_m", "track.bearing_deg")
ROLE_PREFIX = "controller:"  # a cyber target naming the controller of a district, per configuration
INTENSITY_SCALE_KEY = "ensemble.intensity_scale"  # a sensitivity dimension scaling drawn intensities
ENSEMBLE_FIELDS: tuple[str, ...] = ("family", "draw", "stratum", "stratum_probability", "annual_rate_per_year",
                                    "weight_per_year", "intensity", "intensity_unit", "sensitivity_point")
_U_EPS = 1e-12  # quantiles are kept inside (0, 1): F^-1(0) is -inf for unbounded distributions


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)


class Gumbel(_Strict):
    """Gumbel (extreme value type I) of ``intensity ** power``: F(y) = exp(-exp(-(y - loc) / scale)).
    ``power = 2`` is EN 1991-1-4's Gumbel of the velocity pressure (proportional to gust^2)."""

    dist: Literal["gumbel"]
    loc: float
    scale: float = Field(gt=0)
    power: float = Field(1.0, gt=0)

    def ppf(self, u: np.ndarray) -> np.ndarray:
        y = self.loc - self.scale * np.log(-np.log(u))
        return np.maximum(y, 0.0) ** (1.0 / self.power) if self.power != 1.0 else y


class GEV(_Strict):
    """Generalised extreme value of annual maxima; ``shape`` is xi (xi > 0: heavy Frechet tail;
    scipy's ``genextreme`` has c = -xi)."""

    dist: Literal["gev"]
    loc: float
    scale: float = Field(gt=0)
    shape: float = 0.0

    def ppf(self, u: np.ndarray) -> np.ndarray:
        return sps.genextreme.ppf(u, -self.shape, loc=self.loc, scale=self.scale)


class GPD(_Strict):
    """Peaks over a threshold: ``intensity ** power - threshold ** power`` follows a generalised
    Pareto distribution (``shape`` 0: exponential, the tail of a Gumbel of annual maxima)."""

    dist: Literal["gpd"]
    threshold: float = Field(ge=0)
    scale: float = Field(gt=0)
    shape: float = 0.0
    power: float = Field(1.0, gt=0)

    def ppf(self, u: np.ndarray) -> np.ndarray:
        excess = sps.genpareto.ppf(u, self.shape, loc=0.0, scale=self.scale)
        return (self.threshold ** self.power + excess) ** (1.0 / self.power)


class GutenbergRichter(_Strict):
    """Doubly truncated Gutenberg-Richter magnitudes (Cornell & Vanmarcke 1969):
    F(m) = (1 - 10^(-b (m - m_min))) / (1 - 10^(-b (m_max - m_min)))."""

    dist: Literal["gutenberg_richter"]
    b: float = Field(gt=0)
    m_min: float
    m_max: float

    @model_validator(mode="after")
    def _order(self) -> GutenbergRichter:
        if self.m_max <= self.m_min:
            raise ValueError("m_max must exceed m_min")
        return self

    def ppf(self, u: np.ndarray) -> np.ndarray:
        span = 1.0 - 10.0 ** (-self.b * (self.m_max - self.m_min))
        return self.m_min - np.log10(1.0 - u * span) / self.b


class LogNormal(_Strict):
    """Lognormal with a median and the standard deviation ``beta`` of ln(intensity)."""

    dist: Literal["lognormal"]
    median: float = Field(gt=0)
    beta: float = Field(gt=0)

    def ppf(self, u: np.ndarray) -> np.ndarray:
        return self.median * np.exp(self.beta * sps.norm.ppf(u))


class UniformI(_Strict):
    """Uniform on [low, high]."""

    dist: Literal["uniform"]
    low: float
    high: float

    @model_validator(mode="after")
    def _order(self) -> UniformI:
        if self.high <= self.low:
            raise ValueError("high must exceed low")
        return self

    def ppf(self, u: np.ndarray) -> np.ndarray:
        return self.low + u * (self.high - self.low)


class LogUniformI(UniformI):
    """Log-uniform on [low, high], low > 0."""

    dist: Literal["loguniform"]  # type: ignore[assignment]
    low: float = Field(gt=0)

    def ppf(self, u: np.ndarray) -> np.ndarray:
        return np.exp(math.log(self.low) + u * (math.log(self.high) - math.log(self.low)))


IntensityDistribution = Annotated[Gumbel | GEV | GPD | GutenbergRichter | LogNormal | UniformI | LogUniformI,
                                  Field(discriminator="dist")]


class Intensity(_Strict):
    """Which field of the hazard is the intensity, its distribution, unit and source."""

    field: str = Field(description="Field of the hazard template the intensity sets, e.g. peak_wind_ms.")
    distribution: IntensityDistribution
    unit: str = Field(min_length=1, description="Unit of the intensity, e.g. m/s.")
    source: str = Field(min_length=1, description="Where the distribution comes from (a citation, or 'assumption: ...').")


def check_strata(strata: list[float], allocation: list[int] | None, n: int) -> list[int]:
    """The draws per stratum (``allocation``, default: n split evenly, the remainder to the
    upper strata); ValueError when the edges or the allocation are not usable."""
    if len(strata) < 2 or strata[0] != 0.0 or strata[-1] != 1.0:
        raise ValueError("strata: quantile edges from 0.0 to 1.0, e.g. [0.0, 0.5, 0.9, 1.0]")
    if any(b <= a for a, b in zip(strata, strata[1:], strict=False)):
        raise ValueError("strata: edges must increase")
    k = len(strata) - 1
    if allocation is None:
        alloc = [n // k + (1 if h >= k - n % k else 0) for h in range(k)]
    else:
        alloc = list(allocation)
        if len(alloc) != k:
            raise ValueError(f"allocation: one count per stratum ({k})")
        if sum(alloc) != n:
            raise ValueError(f"allocation: counts sum to {sum(alloc)}, not n = {n}")
    if any(a < 1 for a in alloc):
        raise ValueError(f"allocation {alloc}: every stratum needs at least one draw (n = {n} over {k} strata)")
    return alloc


class EnsembleSection(_Strict):
    """One ``[[ensembles]]`` table: ``n`` stratified draws of one hazard family."""

    family: Family = Field(description="Family of the hazard registry (twin.hazards.FAMILIES).")
    n: int = Field(ge=1, description="Number of draws.")
    hazard: dict[str, Any] = Field(description="Template: a [[hazards]] table of a kind of this family.")
    intensity: Intensity
    annual_rate_per_year: float = Field(gt=0, description="Events of this family per year (whose intensity follows the distribution).")
    rate_source: str = Field(min_length=1, description="Where the rate comes from.")
    strata: list[float] = Field(default_factory=lambda: [0.0, 1.0], description="Quantile edges of the intensity distribution, 0 to 1.")
    allocation: list[int] | None = Field(None, description="Draws per stratum (default: n split evenly).")
    vary: dict[str, Any] = Field(default_factory=dict, description="Other randomised fields of the hazard -> distribution (as [random.params]).")

    @model_validator(mode="after")
    def _check(self) -> EnsembleSection:
        from twin.hazards import HAZARD_KINDS
        from twin.sweep.spec import DISTRIBUTION

        kind = self.hazard.get("kind")
        if kind not in HAZARD_KINDS or HAZARD_KINDS[kind].family != self.family:
            kinds = sorted(k for k, v in HAZARD_KINDS.items() if v.family == self.family)
            raise ValueError(f"hazard.kind: {kind!r} is not a kind of family {self.family} ({', '.join(kinds)})")
        check_strata(self.strata, self.allocation, self.n)
        for key in [self.intensity.field, *self.vary]:
            if key in TRACK_KEYS:
                if kind != "storm":
                    raise ValueError(f"vary.{key}: only for storms")
                continue
            try:
                parse_key(key)
            except ValueError as err:
                raise ValueError(f"{key}: {err}") from None
        if self.intensity.field in self.vary:
            raise ValueError(f"vary.{self.intensity.field}: is the intensity field")
        self.vary = {k: DISTRIBUTION.validate_python(v) for k, v in self.vary.items()}
        return self


@dataclass(frozen=True)
class Draw:
    """One drawn hazard: its raw table (before per-configuration roles) and its weight."""

    family: str
    index: int
    stratum: int
    stratum_probability: float
    weight_per_year: float
    annual_rate_per_year: float
    intensity: float
    intensity_unit: str
    hazard: dict[str, Any]

    def record(self, sensitivity_point: int | None = None) -> dict[str, Any]:
        """The manifest's ``ensemble`` dict of a run of this draw."""
        return {"family": self.family, "draw": self.index, "stratum": self.stratum,
                "stratum_probability": self.stratum_probability,
                "annual_rate_per_year": self.annual_rate_per_year, "weight_per_year": self.weight_per_year,
                "intensity": self.intensity, "intensity_unit": self.intensity_unit,
                "sensitivity_point": sensitivity_point}


def _storm_track(hazard: dict[str, Any], offset_m: float | None, bearing_deg: float | None) -> list[list[float]]:
    """A straight track with the template's length, heading ``bearing_deg`` (compass: the
    direction it moves to, clockwise from north = +y), whose closest point to the frame's origin
    is ``offset_m`` to the right of the direction of travel (negative: to the left). Either
    defaults to the template track's own."""
    (ax, ay), (bx, by) = hazard["track_m"]
    length = math.hypot(bx - ax, by - ay)
    theta0 = math.atan2(bx - ax, by - ay)
    mx, my = (ax + bx) / 2.0, (ay + by) / 2.0
    off0 = mx * math.cos(theta0) - my * math.sin(theta0)
    theta = theta0 if bearing_deg is None else math.radians(bearing_deg)
    off = off0 if offset_m is None else offset_m
    dx, dy = math.sin(theta), math.cos(theta)
    cx, cy = off * dy, -off * dx  # right of the travel direction
    half = length / 2.0
    return [[round(cx - half * dx, 3), round(cy - half * dy, 3)], [round(cx + half * dx, 3), round(cy + half * dy, 3)]]


def stratified_quantiles(strata: list[float], allocation: list[int], rng: np.random.Generator) -> list[tuple[int, float]]:
    """(stratum, quantile) of every draw: one uniform point in each of the ``n_h`` equal parts
    of stratum ``h``."""
    v = rng.random(sum(allocation))
    out: list[tuple[int, float]] = []
    k = 0
    for h, n_h in enumerate(allocation):
        lo, hi = strata[h], strata[h + 1]
        for j in range(n_h):
            u = lo + (hi - lo) * (j + float(v[k])) / n_h
            out.append((h, min(max(u, _U_EPS), 1.0 - _U_EPS)))
            k += 1
    return out


def draw_ensemble(section: EnsembleSection, sample_seed: int, purpose: str, n: int | None = None,
                  strata: list[float] | None = None, allocation: list[int] | None = None,
                  intensity_scale: float = 1.0) -> list[Draw]:
    """The draws of one ensemble (or, with ``n``/``strata``/``allocation``, another stratified
    set from the same template, distribution and rate: the sensitivity study's draws).

    Streams: ``stream(sample_seed, purpose + "/intensity")`` for the quantiles,
    ``purpose + "/vary"`` with the key for each varied field, ``purpose + "/damage_seed"`` for
    the damage seeds; so adding a varied field leaves the other draws alone.
    """
    from twin.sweep.spec import sample_values

    n = section.n if n is None else n
    edges = section.strata if strata is None else strata
    alloc = check_strata(edges, section.allocation if strata is None and n == section.n else allocation, n)
    cells = stratified_quantiles(edges, alloc, stream(sample_seed, f"{purpose}/intensity"))
    u = np.array([q for _, q in cells])
    values = section.intensity.distribution.ppf(u) * intensity_scale
    varied = {key: sample_values(d, stream(sample_seed, f"{purpose}/vary", key), n) for key, d in section.vary.items()}
    seeds = stream(sample_seed, f"{purpose}/damage_seed").integers(0, 2**31 - 1, n)
    draws = []
    for i, (h, _) in enumerate(cells):
        hz = copy.deepcopy(section.hazard)
        x = round(float(values[i]), 6)
        set_dotted(hz, section.intensity.field, x)
        track = {k: float(varied[k][i]) for k in TRACK_KEYS if k in varied}
        if track:
            hz["track_m"] = _storm_track(hz, track.get("track.offset_m"), track.get("track.bearing_deg"))
        for key, vals in varied.items():
            if key not in TRACK_KEYS:
                set_dotted(hz, key, vals[i])
        hz["damage_seed"] = int(seeds[i])
        p_h = edges[h + 1] - edges[h]
        draws.append(Draw(section.family, i, h, p_h, section.annual_rate_per_year * p_h / alloc[h],
                          section.annual_rate_per_year, x, section.intensity.unit, hz))
    return draws


def resolve_roles(hazard: dict[str, Any], configuration: str, edge_control: bool, region_size: str | None,
                  region_seed: int) -> dict[str, Any]:
    """The hazard as ``configuration`` meets it: a cyber ``target = "controller:<district>"``
    becomes the site controlling that district there (the data and control centre without edge
    control, the district's edge controller with it: models/ict/build.controller_site)."""
    target = hazard.get("target")
    if not (isinstance(target, str) and target.startswith(ROLE_PREFIX)):
        return hazard
    from twin.models.ict.build import controller_site

    district = target[len(ROLE_PREFIX):]
    parent = ""
    if region_size is not None:  # generated region: a village leans on its town
        from twin.region.layout import make_layout

        try:
            parent = make_layout(region_size, region_seed).district(district).parent
        except KeyError:
            raise ValueError(f"target: no district {district!r} in the {region_size} region") from None
    return {**hazard, "target": controller_site(configuration, edge_control, district, parent)}


def ensemble_header(sections: list[EnsembleSection]) -> list[dict[str, Any]]:
    """The ensembles as the manifest's header records them (family, n, rate, distribution, strata)."""
    return [{"family": s.family, "n": s.n, "annual_rate_per_year": s.annual_rate_per_year,
             "rate_source": s.rate_source, "intensity": s.intensity.model_dump(),
             "strata": list(s.strata), "allocation": check_strata(s.strata, s.allocation, s.n),
             "vary": sorted(s.vary)} for s in sections]
