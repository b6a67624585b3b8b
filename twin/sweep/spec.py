"""Sweep files: a base scenario, parameters over dotted keys, seeds and configurations.

A sweep file is TOML validated by pydantic models that forbid unknown keys. Expansion turns
it into a list of :class:`SweepRun`, one per (parameter point, seed, configuration), each
with the id ``twin.config.run_id`` gives the same scenario, so ``twin run`` and a sweep
share results files. Every problem is reported at once, naming the sweep file and the key,
through :class:`SweepError` (a :class:`twin.config.ScenarioError`, so the CLI exits 2).
"""

from __future__ import annotations

import copy
import itertools
import math
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any, Literal

import numpy as np
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    TypeAdapter,
    ValidationError,
    field_validator,
    model_validator,
)
from scipy.stats import qmc

from twin.config import (
    Scenario,
    ScenarioError,
    parse_key,
    parse_value,
    run_id,
    set_dotted,
    validate_data,
    validation_problems,
)
from twin.randomness import stream
from twin.region.params import Configuration, params_for
from twin.sweep.ensembles import (
    INTENSITY_SCALE_KEY,
    Draw,
    EnsembleSection,
    check_strata,
    draw_ensemble,
    resolve_roles,
)

SEED_KEY = "run.seed"


class SweepError(ScenarioError):
    """A sweep file (or a scenario it produces) is invalid; ``problems`` lists every issue."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Uniform(_Strict):
    """Uniform on [low, high]."""

    dist: Literal["uniform"]
    low: float
    high: float

    @model_validator(mode="after")
    def _order(self) -> Uniform:
        if self.high <= self.low:
            raise ValueError("high must exceed low")
        return self


class LogUniform(_Strict):
    """Log-uniform on [low, high], low > 0: every decade equally likely."""

    dist: Literal["loguniform"]
    low: float = Field(gt=0)
    high: float = Field(gt=0)

    @model_validator(mode="after")
    def _order(self) -> LogUniform:
        if self.high <= self.low:
            raise ValueError("high must exceed low")
        return self


class Normal(_Strict):
    """Normal with a mean and standard deviation, optionally clipped to [low, high]."""

    dist: Literal["normal"]
    mean: float
    sd: float = Field(gt=0)
    low: float | None = None
    high: float | None = None


class Integer(_Strict):
    """Uniform integer in [low, high], both included."""

    dist: Literal["integer"]
    low: int
    high: int

    @model_validator(mode="after")
    def _order(self) -> Integer:
        if self.high < self.low:
            raise ValueError("high must not be below low")
        return self


class Choice(_Strict):
    """One of the listed values, each equally likely."""

    dist: Literal["choice"]
    values: list[Any] = Field(min_length=1)


Distribution = Annotated[Uniform | LogUniform | Normal | Integer | Choice, Field(discriminator="dist")]
DISTRIBUTION: TypeAdapter[Any] = TypeAdapter(Distribution)


class RandomSection(_Strict):
    """``n`` independent random samples of the listed parameters."""

    n: int = Field(ge=1, description="Number of parameter points drawn.")
    params: dict[str, Distribution] = Field(min_length=1, description="Dotted scenario key -> distribution.")


class Range(_Strict):
    """A Latin-hypercube dimension: [low, high], optionally log-spaced or integer."""

    low: float
    high: float
    log: bool = False
    integer: bool = False

    @model_validator(mode="after")
    def _order(self) -> Range:
        if self.high <= self.low:
            raise ValueError("high must exceed low")
        if self.log and self.low <= 0:
            raise ValueError("log needs low > 0")
        return self


class LatinHypercubeSection(_Strict):
    """``n`` Latin-hypercube samples: each range cut into n strata, each stratum used once."""

    n: int = Field(ge=1, description="Number of parameter points.")
    params: dict[str, Range] = Field(min_length=1, description="Dotted scenario key -> range.")


class SensitivitySection(_Strict):
    """A Latin hypercube of ``n`` points, each run with ``draws`` paired draws of one ensemble."""

    ensemble: str = Field("windstorm", description="Family of the [[ensembles]] table whose template, distribution and rate the draws use.")
    n: int = Field(ge=1, description="Number of Latin-hypercube points.")
    draws: int = Field(ge=1, description="Draws per point (the same draws at every point).")
    strata: list[float] | None = Field(None, description="Quantile edges of the draws (default: the ensemble's).")
    allocation: list[int] | None = Field(None, description="Draws per stratum (default: draws split evenly).")
    params: dict[str, Range] = Field(min_length=1, description=f"Dotted scenario key (or {INTENSITY_SCALE_KEY}) -> range.")

    @model_validator(mode="after")
    def _strata(self) -> SensitivitySection:
        if self.strata is not None:
            check_strata(self.strata, self.allocation, self.draws)
        elif self.allocation is not None:
            raise ValueError("allocation: give strata with it")
        return self


class SweepFile(_Strict):
    """A whole sweep file (see docs/sweeps.md)."""

    name: str = Field("sweep", description="A label for reports.")
    base: str = Field(description="Base scenario file, relative to the sweep file.")
    configurations: list[Configuration] | None = Field(
        None, min_length=1, description="Configurations to compare (default: the base scenario's run.configurations).")
    seeds: int | list[int] = Field(
        1, description="Replications: a list of run.seed values, or a count N meaning the base seed and the N-1 after it.")
    sample_seed: int = Field(0, ge=0, description="Seed of the random and Latin-hypercube draws.")
    set: dict[str, Any] = Field(default_factory=dict, description="Fixed overrides applied to every run.")
    grid: dict[str, list[Any]] = Field(default_factory=dict, description="Dotted scenario key -> values; the grid is the product.")
    random: RandomSection | None = None
    latin_hypercube: LatinHypercubeSection | None = None
    ensembles: list[EnsembleSection] = Field(default_factory=list, description="Hazard ensembles: each draw is a point (docs/sweeps.md).")
    sensitivity: SensitivitySection | None = None

    @field_validator("seeds")
    @classmethod
    def _seeds(cls, v: int | list[int]) -> int | list[int]:
        if isinstance(v, int):
            if v < 1:
                raise ValueError("a seed count must be at least 1")
        else:
            if not v:
                raise ValueError("list at least one seed")
            if any(s < 0 for s in v):
                raise ValueError("seeds must be >= 0")
            if len(set(v)) != len(v):
                raise ValueError("seeds must not repeat")
        return v

    @field_validator("configurations")
    @classmethod
    def _unique(cls, v: list[str] | None) -> list[str] | None:
        if v is not None and len(set(v)) != len(v):
            raise ValueError("configurations must not repeat")
        return v

    @field_validator("grid")
    @classmethod
    def _non_empty(cls, v: dict[str, list[Any]]) -> dict[str, list[Any]]:
        for key, values in v.items():
            if not values:
                raise ValueError(f"{key}: give at least one value")
        return v

    @model_validator(mode="after")
    def _keys(self) -> SweepFile:
        sections = {"set": list(self.set), "grid": list(self.grid),
                    "random.params": list(self.random.params) if self.random else [],
                    "latin_hypercube.params": list(self.latin_hypercube.params) if self.latin_hypercube else [],
                    "sensitivity.params": list(self.sensitivity.params) if self.sensitivity else []}
        seen: dict[str, str] = {}
        for section, keys in sections.items():
            for key in keys:
                try:
                    parse_key(key)
                except ValueError as err:
                    raise ValueError(f'{section}."{key}": {err}') from None
                if key == SEED_KEY:
                    raise ValueError(f'{section}."{key}": is set by `seeds`')
                if key in seen:
                    raise ValueError(f'{section}."{key}": {key} appears in both {seen[key]} and {section}')
                seen[key] = section
        families = [e.family for e in self.ensembles]
        if len(set(families)) != len(families):
            raise ValueError("ensembles: one table per family")
        if self.sensitivity:
            if self.sensitivity.ensemble not in families:
                raise ValueError(f"sensitivity.ensemble: no [[ensembles]] table of family {self.sensitivity.ensemble!r}")
            ens = self.ensembles[families.index(self.sensitivity.ensemble)]
            if self.sensitivity.strata is None:
                try:
                    check_strata(ens.strata, None, self.sensitivity.draws)
                except ValueError as err:
                    raise ValueError(f"sensitivity.draws: {err}; give sensitivity.strata") from None
        if INTENSITY_SCALE_KEY in seen and seen[INTENSITY_SCALE_KEY] != "sensitivity.params":
            raise ValueError(f'{seen[INTENSITY_SCALE_KEY]}."{INTENSITY_SCALE_KEY}": only in sensitivity.params')
        return self


@dataclass(frozen=True)
class SweepRun:
    """One run of a sweep: a scenario (base + overrides), a configuration and a seed."""

    run_id: str
    configuration: str
    seed: int
    point: int
    params: dict[str, Any]
    scenario: Scenario = field(repr=False, compare=False)
    ensemble: dict[str, Any] | None = None  # the manifest's ensemble dict (ensemble and sensitivity runs)


@dataclass
class Sweep:
    """A loaded sweep: its file, its validated spec and the raw base scenario data."""

    path: Path
    spec: SweepFile
    base_path: Path
    base_data: dict[str, Any]
    overrides: dict[str, Any] = field(default_factory=dict)

    @property
    def name(self) -> str:
        return self.spec.name

    def seeds(self) -> list[int]:
        if isinstance(self.spec.seeds, list):
            return list(self.spec.seeds)
        first = int(self.base_data.get("run", {}).get("seed", Scenario().run.seed))
        return [first + i for i in range(self.spec.seeds)]

    def configurations(self, base: Scenario) -> list[str]:
        return list(self.spec.configurations or base.run.configurations)

    def parameter_keys(self) -> list[str]:
        """The varied keys, in the order of the file: grid, random, Latin hypercube."""
        keys = list(self.spec.grid)
        if self.spec.random:
            keys += list(self.spec.random.params)
        if self.spec.latin_hypercube:
            keys += list(self.spec.latin_hypercube.params)
        if self.spec.sensitivity:
            keys += list(self.spec.sensitivity.params)
        return keys


# --- dotted keys -------------------------------------------------------------------------


# --- sampling ----------------------------------------------------------------------------


def _plain(x: Any) -> Any:
    """numpy scalars -> Python numbers (for TOML, JSON and ids)."""
    return x.item() if hasattr(x, "item") else x


def sample_values(d: Any, rng: np.random.Generator, n: int) -> list[Any]:
    """``n`` values of one distribution of a ``[random.params]`` entry, as Python numbers."""
    if isinstance(d, Uniform):
        vals = rng.uniform(d.low, d.high, n).tolist()
    elif isinstance(d, LogUniform):
        vals = [math.exp(v) for v in rng.uniform(math.log(d.low), math.log(d.high), n)]
    elif isinstance(d, Normal):
        raw = rng.normal(d.mean, d.sd, n)
        lo = -math.inf if d.low is None else d.low
        hi = math.inf if d.high is None else d.high
        vals = [min(max(float(v), lo), hi) for v in raw]
    elif isinstance(d, Integer):
        vals = rng.integers(d.low, d.high, n, endpoint=True).tolist()
    else:
        vals = [d.values[i] for i in rng.integers(0, len(d.values), n)]
    return [_plain(v) for v in vals]


def draw_random(section: RandomSection, sample_seed: int) -> list[dict[str, Any]]:
    """``n`` points; each parameter from its own stream, so adding one leaves the others alone."""
    columns = {key: sample_values(d, stream(sample_seed, "sweep/random", key), section.n)
               for key, d in section.params.items()}
    return [{k: columns[k][i] for k in columns} for i in range(section.n)]


def _lhs_unit(n: int, rng: np.random.Generator) -> np.ndarray:
    """``n`` points of a one-dimensional scrambled Latin hypercube (scipy.stats.qmc) in [0, 1)."""
    try:
        engine = qmc.LatinHypercube(d=1, rng=rng)
    except TypeError:  # scipy < 1.15 calls it seed
        engine = qmc.LatinHypercube(d=1, seed=rng)
    return engine.random(n)[:, 0]


def latin_hypercube(params: dict[str, Range], n: int, sample_seed: int,
                    purpose: str = "sweep/latin_hypercube") -> list[dict[str, Any]]:
    """``n`` points; in every dimension each of the n equal strata holds exactly one point.

    Each dimension is scipy's ``qmc.LatinHypercube`` on its own stream ``(sample_seed,
    purpose, key)``: jointly the same design as one d-dimensional hypercube (independent
    permutations per dimension), and adding a parameter leaves the others' values alone.
    """
    columns: dict[str, list[Any]] = {}
    for key, r in params.items():
        u = _lhs_unit(n, stream(sample_seed, purpose, key))
        vals: list[Any]
        if r.integer:
            lo, hi = math.ceil(r.low), math.floor(r.high)
            vals = [min(hi, lo + int(x * (hi - lo + 1))) for x in u]
        elif r.log:
            a, b = math.log(r.low), math.log(r.high)
            vals = [math.exp(a + float(x) * (b - a)) for x in u]
        else:
            vals = [r.low + float(x) * (r.high - r.low) for x in u]
        columns[key] = vals
    return [{k: columns[k][i] for k in columns} for i in range(n)]


def draw_latin_hypercube(section: LatinHypercubeSection, sample_seed: int) -> list[dict[str, Any]]:
    """The ``[latin_hypercube]`` section's ``n`` points."""
    return latin_hypercube(section.params, section.n, sample_seed)


def parameter_points(sweep: Sweep) -> list[dict[str, Any]]:
    """The product of the grid, the random samples and the Latin-hypercube samples."""
    spec = sweep.spec
    factors: list[list[dict[str, Any]]] = []
    if spec.grid:
        keys = list(spec.grid)
        factors.append([dict(zip(keys, combo, strict=True)) for combo in itertools.product(*spec.grid.values())])
    if spec.random:
        factors.append(draw_random(spec.random, spec.sample_seed))
    if spec.latin_hypercube:
        factors.append(draw_latin_hypercube(spec.latin_hypercube, spec.sample_seed))
    points = []
    for combo in itertools.product(*factors):
        point: dict[str, Any] = {}
        for part in combo:
            point.update(part)
        points.append(point)
    return points  # no factors: one empty point (the base scenario itself)


# --- loading and expansion ---------------------------------------------------------------


_UNION_TAGS = ("uniform", "loguniform", "normal", "integer", "choice", "list[int]", "int",
               "gumbel", "gev", "gpd", "gutenberg_richter", "lognormal")


def _errors(err: ValidationError) -> list[str]:
    return validation_problems(err, _UNION_TAGS)


def load_sweep(path: str | Path, overrides: list[str] | None = None) -> Sweep:
    """Read and validate a sweep file and its base scenario; raises SweepError naming file and key.

    ``overrides`` (``dotted.key=value``, like ``twin run --set``) are added to ``set``.
    """
    path = Path(path)
    source = str(path)
    try:
        text = path.read_text()
    except OSError as err:
        raise SweepError(source, [f"cannot read file: {err.strerror}"]) from None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as err:
        raise SweepError(source, [f"not valid TOML: {err}"]) from None
    extra: dict[str, Any] = {}
    problems = []
    for item in overrides or []:
        key, eq, value = item.partition("=")
        if not eq:
            problems.append(f"--set {item!r}: expected dotted.key=value")
        else:
            extra[key.strip()] = parse_value(value.strip())
    if problems:
        raise SweepError(source, problems)
    if extra:
        data = {**data, "set": {**data.get("set", {}), **extra}}
    try:
        spec = SweepFile.model_validate(data)
    except ValidationError as err:
        raise SweepError(source, _errors(err)) from None
    base_path = (path.parent / spec.base).resolve()
    try:
        base_data = tomllib.loads(base_path.read_text())
    except OSError as err:
        raise SweepError(source, [f"base: cannot read {base_path}: {err.strerror}"]) from None
    except tomllib.TOMLDecodeError as err:
        raise SweepError(source, [f"base: {base_path} is not valid TOML: {err}"]) from None
    sweep = Sweep(path=path, spec=spec, base_path=base_path, base_data=base_data, overrides=extra)
    validate_data(copy.deepcopy(base_data), str(base_path))  # the base alone must be valid
    return sweep


def _section_of(sweep: Sweep, key: str) -> str:
    spec = sweep.spec
    if key in spec.grid:
        return "grid"
    if spec.random and key in spec.random.params:
        return "random.params"
    if spec.latin_hypercube and key in spec.latin_hypercube.params:
        return "latin_hypercube.params"
    if spec.sensitivity and key in spec.sensitivity.params:
        return "sensitivity.params"
    return "set"


@dataclass(frozen=True)
class _Point:
    """One parameter point: its parameter values, and the drawn hazard of an ensemble point."""

    params: dict[str, Any]
    draw: Draw | None = None
    sensitivity_point: int | None = None
    label: str = ""  # where a problem of this point comes from


def ensemble_points(sweep: Sweep) -> list[_Point]:
    """Every point of the sweep: the grid x random x hypercube points; with ensembles, each of
    them crossed with every draw of every ensemble; then the sensitivity study's points (each
    Latin-hypercube point with the same ``draws`` draws)."""
    spec = sweep.spec
    factors = parameter_points(sweep)
    if not spec.ensembles and not spec.sensitivity:
        return [_Point(p) for p in factors]
    points: list[_Point] = []
    for k, section in enumerate(spec.ensembles):
        draws = draw_ensemble(section, spec.sample_seed, f"ensemble/{section.family}")
        points += [_Point(dict(p), d, None, f"ensembles[{k}] ({section.family}) draw {d.index}")
                   for p in factors for d in draws]
    if spec.sensitivity:
        sens = spec.sensitivity
        section = next(e for e in spec.ensembles if e.family == sens.ensemble)
        edges = sens.strata or section.strata
        for j, lhs in enumerate(latin_hypercube(sens.params, sens.n, spec.sample_seed, "sweep/sensitivity")):
            scale = float(lhs.get(INTENSITY_SCALE_KEY, 1.0))
            draws = draw_ensemble(section, spec.sample_seed, f"sensitivity/{section.family}", n=sens.draws,
                                  strata=edges, allocation=sens.allocation, intensity_scale=scale)
            points += [_Point(dict(lhs), d, j, f"sensitivity point {j} draw {d.index}") for d in draws]
    return points


def _edge_control(data: dict[str, Any], configuration: str) -> bool:
    overrides = data.get("region", {}).get("configurations", {}).get(configuration)
    return bool(params_for(configuration, overrides).edge_control)


def _scenarios(data: dict[str, Any], point: _Point, configurations: list[str], source: str) -> dict[str, Scenario]:
    """The validated scenario of each configuration (one object for all unless a cyber target
    names a role resolved per configuration). ScenarioError as validate_data."""
    hazards = data.get("hazards") or []
    roles = point.draw is not None and any(
        isinstance(h, dict) and str(h.get("target", "")).startswith("controller:") for h in hazards)
    if not roles:
        scenario = validate_data(data, source)
        return dict.fromkeys(configurations, scenario)
    region = data.get("region", {})
    size = None if region.get("files") else region.get("size", "default")
    out: dict[str, Scenario] = {}
    for c in configurations:
        d = copy.deepcopy(data)
        try:
            d["hazards"] = [resolve_roles(h, c, _edge_control(d, c), size, int(region.get("seed", 1))) for h in hazards]
        except ValueError as err:
            raise ScenarioError(source, [f"hazards[0].{err}"]) from None
        out[c] = validate_data(d, source)
    return out


def expand(sweep: Sweep | str | Path) -> list[SweepRun]:
    """Every run of the sweep, in order point, seed, configuration; duplicates (same id) once.

    Each run's id is ``twin.config.run_id(scenario, configuration)`` of the base scenario
    with the overrides and ``run.seed`` applied: the id ``twin run`` gives the same inputs.
    An ensemble point's scenario is the base with its hazards replaced by the drawn one
    (``hazards[0]``), then the overrides applied.
    """
    if not isinstance(sweep, Sweep):
        sweep = load_sweep(sweep)
    source = str(sweep.path)
    fixed = {**sweep.spec.set}
    problems: list[str] = []
    base_scenario = validate_data(copy.deepcopy(sweep.base_data), str(sweep.base_path))
    configurations = sweep.configurations(base_scenario)
    runs: list[SweepRun] = []
    seen: set[str] = set()
    for index, pt in enumerate(ensemble_points(sweep)):
        point = pt.params
        for seed in sweep.seeds():
            data = copy.deepcopy(sweep.base_data)
            if pt.draw is not None:
                data["hazards"] = [copy.deepcopy(pt.draw.hazard)]
            values = {**fixed, **{k: v for k, v in point.items() if k != INTENSITY_SCALE_KEY}, SEED_KEY: seed}
            bad = False
            for key, value in values.items():
                try:
                    set_dotted(data, key, value)
                except ValueError as err:
                    problems.append(f"{_section_of(sweep, key)}.\"{key}\": {err}")
                    bad = True
            if bad:
                continue
            try:
                scenarios = _scenarios(data, pt, configurations, source)
            except ScenarioError as err:
                where = pt.label or ", ".join(f"{k} = {v!r}" for k, v in point.items()) or "the fixed settings"
                for p in err.problems:
                    key = p.split(":", 1)[0]
                    label = f"{_section_of(sweep, key)}.\"{key}\"" if key in values else "scenario"
                    problems.append(f"{label}: {p.split(': ', 1)[-1]} (with {where})")
                continue
            record = None if pt.draw is None else pt.draw.record(pt.sensitivity_point)
            for configuration in configurations:
                scenario = scenarios[configuration]
                rid = run_id(scenario, configuration)
                if rid in seen:
                    continue
                seen.add(rid)
                runs.append(SweepRun(rid, configuration, seed, index, dict(point), scenario,
                                     None if record is None else dict(record)))
    if problems:  # one line per problem, with the first parameter point that shows it
        first: dict[str, str] = {}
        for p in problems:
            first.setdefault(p.split(" (with ")[0], p)
        raise SweepError(source, list(first.values()))
    return runs
