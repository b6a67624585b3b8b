"""Scenario files: TOML validated by pydantic models that forbid unknown keys.

Every default of a scenario parameter lives here (configuration parameters of the
generated region live in :mod:`twin.region.params`). ``load_scenario`` reports every
problem at once, each with the file and the dotted key, through :class:`ScenarioError`.
"""

from __future__ import annotations

import hashlib
import json
import re
import sys
import tomllib
from pathlib import Path
from typing import Annotated, Any, Literal

import tomli_w
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)

from twin.dotted import parse_key, parse_value, set_dotted  # noqa: F401  (sweeps use them from here)
from twin.models.power.sbprofiles import DEFAULT_PROFILES, PROFILE_SOURCES
from twin.models.power.solver import DEFAULT_SOLVER, SOLVERS
from twin.region.params import CONFIGURATIONS, DEFAULTS, Configuration, ConfigurationParams

MAX_HOURS = 168
SECTORS: tuple[str, ...] = ("power", "water", "ict", "traffic")
Sector = Literal["power", "water", "ict", "traffic"]
# Asset types per sector, as generated regions and the importers name them (asset ids are
# ``<sector>/<type>/<name>``); hazard ``types`` and ``repair_median_h`` classes must be one.
ASSET_TYPES: dict[str, tuple[str, ...]] = {
    "power": ("bus", "line", "trafo", "switch", "load", "sgen", "pv", "plant", "ext_grid",
              "battery", "microgrid", "motor", "asymmetric_load", "ward", "wind", "chp"),
    "water": ("junction", "pipe", "pump", "tank", "reservoir", "well", "valve", "plant", "generator"),
    "ict": ("site", "link"),
    "traffic": ("road", "signal"),
}
# Load categories the power model sheds (the same set as models/power/grid.DEFAULT_SHED_ORDER;
# a test keeps them in step).
LoadCategory = Literal["household", "traffic", "other", "control", "ict", "hospital", "water"]
PLUGIN_SPEC = r"^[A-Za-z_][\w.]*:[A-Za-z_]\w*$"


class ScenarioError(ValueError):
    """A scenario file is missing, unreadable or invalid. ``problems`` lists every issue."""

    def __init__(self, source: str, problems: list[str]):
        self.source = source
        self.problems = problems
        super().__init__(f"{source}: " + "; ".join(problems))

    def report(self) -> str:
        return "\n".join(f"{self.source}: {p}" for p in self.problems)


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)


class RunSection(_Strict):
    """How long, how finely, and which configurations to compare."""

    name: str = Field("scenario", description="A label for reports.")
    hours: float = Field(24.0, gt=0, le=MAX_HOURS, description="Simulated horizon, hours (up to a week).")
    step_s: int = Field(300, ge=60, le=3600, description="Exchange step of the world, seconds; a multiple of 60.")
    seed: int = Field(42, ge=0, description="Seed of every random draw of the run (hazards, demand, clouds).")
    configurations: list[Configuration] = Field(
        default_factory=lambda: ["centralised", "decentralised"],
        min_length=1,
        description="Configurations of the region to run and compare.",
    )
    baseline: bool = Field(True, description="Also run each configuration without hazards (cached); impact = excess over it.")
    season: Literal["equinox", "summer", "winter"] = Field(
        "equinox", description="Season of the load and PV profiles (docs/power.md, \"Time series\"): with power.profiles = simbench the window of SimBench's year the run's day is drawn from (winter Dec-Feb, summer Jun-Aug, equinox +-14 days around 20 Mar and 22 Sep); with synthetic the daylight hours, clear-sky PV peak and household daily energy (equinox: 12 h of daylight, the profiles' base values)."
    )

    @field_validator("step_s")
    @classmethod
    def _multiple_of_60(cls, v: int) -> int:
        if v % 60:
            raise ValueError("must be a multiple of 60")
        return v

    @field_validator("configurations")
    @classmethod
    def _unique(cls, v: list[str]) -> list[str]:
        if len(set(v)) != len(v):
            raise ValueError("configurations must not repeat")
        return v

    @model_validator(mode="after")
    def _whole_steps(self) -> RunSection:
        if round(self.hours * 3600) % self.step_s:
            raise ValueError("run.hours must be a whole number of steps of run.step_s")
        return self

    @property
    def horizon_s(self) -> int:
        return round(self.hours * 3600)


SHIPPED_POWER_PREFIX = "pandapower:"  # e.g. "pandapower:mv_oberrhein" (pandapower.networks)
SHIPPED_WATER_PREFIX = "wntr:"  # e.g. "wntr:Net3" (an example network shipped with wntr)
SHIPPED_WATER = ("Net1", "Net2", "Net3", "Net6", "ky4", "ky10")
FILE_SECTORS: tuple[str, ...] = ("power", "water", "traffic", "ict")


class FileTransform(_Strict):
    """How one file's coordinates map into the region's common frame (metres):
    ``x_m = scale * x + offset_x_m``, ``y_m = scale_y * y + offset_y_m``."""

    scale: float = Field(1.0, gt=0, description="Metres per file unit (coordinates, and TNTP link lengths).")
    scale_y: float | None = Field(None, gt=0, description="Metres per file unit along y when it differs from x (e.g. degrees of latitude vs longitude); default: scale.")
    offset_x_m: float = Field(0.0, description="Added to x after scaling, metres.")
    offset_y_m: float = Field(0.0, description="Added to y after scaling, metres.")


def _is_reference(value: str, prefix: str) -> bool:
    return value.startswith(prefix)


class RegionFiles(_Strict):
    """Networks the user brings (see docs/regions.md). Paths are relative to the scenario
    file. `centralised` runs them as imported; other configurations add their PV, batteries,
    microgrids, wells, tanks and edge controllers to them (docs/regions.md, "Configurations of
    an imported region")."""

    power: str = Field(description="pandapower JSON (coordinates in bus.geo), MATPOWER .m, or `pandapower:<network>` from pandapower.networks.")
    water: str = Field(description="EPANET .inp, or `wntr:<name>` (Net1, Net2, Net3, Net6, ky4, ky10 ship with wntr).")
    traffic: str = Field(description="SUMO .net.xml, or a TNTP link file (*.tntp) converted with netconvert.")
    traffic_nodes: str | None = Field(None, description="TNTP node file (node, x, y) for a TNTP link file; without it the nodes get a layout.")
    traffic_trips: str | None = Field(None, description="TNTP trip table (`Origin` blocks of `zone : trips;`) for a TNTP link file: SUMO demand between its zones instead of the generated demand (docs/regions.md).")
    traffic_trips_period: Literal["day", "peak_hour"] = Field("day", description="What the trip table counts: the trips of a day, or of its busiest hour (spread over the day by the daily profile).")
    ict: str | None = Field(None, description="networkx node-link JSON of the ICT network; without it twin generates one over the region.")
    dependencies: str | None = Field(None, description="CSV `consumer,supplier[,coupling]` of asset ids; consumers it does not name couple by proximity.")
    tntp_length_m: float | None = Field(None, gt=0, description="Metres per unit of a TNTP link file's length column; default: the traffic transform's scale.")
    districts: int = Field(1, ge=1, le=50, description="Number of districts the imported region is split into (k-means over demand points).")
    transforms: dict[Literal["power", "water", "traffic", "ict"], FileTransform] = Field(
        default_factory=dict, description="Per-sector transform of the file's coordinates into the common frame.",
    )

    @model_validator(mode="after")
    def _check_files(self) -> RegionFiles:
        problems = []
        suffixes = {
            "power": (".json", ".m"), "water": (".inp",), "traffic": (".net.xml", ".tntp"),
            "traffic_nodes": (".tntp",), "traffic_trips": (".tntp",), "ict": (".json",),
            "dependencies": (".csv",),
        }
        for key, allowed in suffixes.items():
            value = getattr(self, key)
            if value is None:
                continue
            if key == "power" and _is_reference(value, SHIPPED_POWER_PREFIX):
                continue
            if key == "water" and _is_reference(value, SHIPPED_WATER_PREFIX):
                if value[len(SHIPPED_WATER_PREFIX):] not in SHIPPED_WATER:
                    problems.append(f"{key}: wntr ships {', '.join(SHIPPED_WATER)}, not {value!r}")
                continue
            if not value.lower().endswith(allowed):
                problems.append(f"{key}: {value!r} must end with {' or '.join(allowed)}")
            elif not Path(value).is_file():
                problems.append(f"{key}: no such file {value}")
        if self.traffic_nodes and not self.traffic.lower().endswith(".tntp"):
            problems.append("traffic_nodes: only used with a TNTP link file as traffic")
        if self.traffic_trips and not self.traffic.lower().endswith(".tntp"):
            problems.append("traffic_trips: only used with a TNTP link file as traffic")
        if problems:
            raise ValueError("; ".join(problems))
        return self


def resolve_region_paths(data: dict[str, Any], base_dir: Path) -> dict[str, Any]:
    """Make the relative paths of raw ``[region.files]`` data and of ``disruption_file``
    hazards absolute against the scenario file's folder (shipped references like
    ``wntr:Net3`` stay as they are)."""
    for hz in data.get("hazards", []) if isinstance(data.get("hazards"), list) else []:
        if isinstance(hz, dict) and hz.get("kind") == "disruption_file" and isinstance(hz.get("path"), str):
            hz["path"] = str((base_dir / hz["path"]).resolve())  # an absolute path stays as it is
    files = data.get("region", {}).get("files") if isinstance(data.get("region"), dict) else None
    if not isinstance(files, dict):
        return data
    for key in ("power", "water", "traffic", "traffic_nodes", "traffic_trips", "ict", "dependencies"):
        value = files.get(key)
        if not isinstance(value, str) or value.startswith((SHIPPED_POWER_PREFIX, SHIPPED_WATER_PREFIX)):
            continue
        if not Path(value).is_absolute():
            files[key] = str((base_dir / value).resolve())
    return data


class RegionSection(_Strict):
    """The region: a generated one (size, seed) and per-configuration overrides, or the
    user's own networks (``[region.files]``)."""

    size: Literal["small", "default", "large", "city"] = Field("default", description="Named size of the generated region (docs/regions.md).")
    grid: Literal["synthetic", "simbench"] | None = Field(None, description="Power grid of a generated region: `synthetic` (hand-laid feeders) or `simbench` (SimBench MV grids, with LV grids for the city); default `simbench` for every size (`twin.region.layout.DEFAULT_GRID`); see docs/power.md.")
    seed: int = Field(1, ge=0, description="Seed of the region's geography; independent of run.seed so sweeps vary hazards on one region.")
    configurations: dict[Configuration, dict[str, Any]] = Field(
        default_factory=dict,
        description="Overrides of the configuration parameters (see docs/scenario.md, ConfigurationParams).",
    )
    files: RegionFiles | None = Field(None, description="Import these networks instead of generating the region (see `[region.files]`, docs/regions.md).")

    @field_validator("configurations")
    @classmethod
    def _check_params(cls, v: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
        for name, overrides in v.items():
            try:
                ConfigurationParams(**{**DEFAULTS[name].model_dump(), **overrides})
            except ValidationError as err:  # keep the configuration's name in the key
                raise ValidationError.from_exception_data(err.title, [
                    {"type": e["type"], "loc": (name, *e["loc"]), "input": e["input"],
                     **({"ctx": e["ctx"]} if "ctx" in e else {})}
                    for e in err.errors(include_url=False)
                ]) from err
        return v


class ProtectionSection(_Strict):
    """`[power.protection]`: breakers, thermal relays, reclosers and cold-load pickup
    (models/power/protection.py; sources in docs/power.md)."""

    enabled: bool = Field(True, description="Breakers trip on overload (thermal and instantaneous relays).")
    pickup: float = Field(1.5, gt=1, description="Instantaneous trip above this multiple of a branch's rating.")
    theta_trip: float = Field(1.0, gt=0, description="Thermal trip when the state theta (1 = steady state at rated current) exceeds this.")
    tau_cable_s: float = Field(3600.0, gt=0, description="Thermal time constant of MV cables, s (IEC 60853-2).")
    tau_overhead_s: float = Field(600.0, gt=0, description="Thermal time constant of overhead conductors, s (CIGRE TB 601).")
    tau_trafo_s: float = Field(9000.0, gt=0, description="Thermal time constant of transformers (top oil), s (IEC 60076-7, ONAF).")
    max_iterations: int = Field(10, gt=0, description="Power flow -> trips rounds per step before the event protection_limit.")
    crew_reclose_s: float = Field(3600.0, gt=0, description="A crew recloses a breaker tripped on overload after this many seconds (unless control recloses it remotely first).")
    transient_share: float = Field(0.75, ge=0, le=1, description="Share of wind faults on overhead lines that are transient (cleared by the feeder's recloser) at a 25 m/s gust; in stronger wind more faults are permanent damage (docs/power.md).")
    cold_load_factor: float = Field(1.5, ge=1, description="Cold-load pickup: restored load over pre-outage load at re-energisation.")
    cold_load_tau_s: float = Field(1800.0, gt=0, description="Cold-load pickup decays to 1 with this time constant, s.")
    cold_load_min_outage_s: float = Field(900.0, gt=0, description="Cold-load pickup applies after outages at least this long, s.")


class PowerSection(_Strict):
    """Power-sector options (pandapower)."""

    policy: str = Field(
        "twin.models.power.policy:DefaultPowerPolicy", pattern=PLUGIN_SPEC,
        description="Power policy plug-in `module:Class` loaded by control (batteries, shedding); see docs/policies.md.",
    )
    policy_params: dict[str, Any] = Field(
        default_factory=dict, description="Keyword arguments of the policy class, e.g. {shed_order = [...]}."
    )
    shed_order: list[LoadCategory] | None = Field(
        None, description="Load categories in the order they are shed when supply is short (household, traffic, other, control, ict, hospital, water); default: the power model's, which protects pumps, the hospital and ICT sites last. Also given to the policy when it takes a shed_order."
    )
    battery_mode: Literal["self_consumption", "backup", "grid_support"] | None = Field(
        None, description="Mode of home batteries when no command says otherwise; default: backup (keep battery_reserve_share for outages)."
    )
    battery_efficiency: float | None = Field(None, gt=0, le=1, description="Round-trip efficiency of batteries; default 0.9.")
    pressure_threshold_m: float | None = Field(
        None, gt=0, description="Process-water pressure below which the central plant is derated (water -> power); default 20 m."
    )

    solver: Literal[SOLVERS] = Field(  # type: ignore[valid-type]
        DEFAULT_SOLVER, description="AC power-flow backend: `lightsim2grid` (pandapower's network model solved by lightsim2grid's C++ Newton-Raphson; results equal pandapower's within 1e-6, falls back to pandapower for elements it does not handle) or `pandapower` (the reference); see docs/power.md."
    )
    protection: ProtectionSection = Field(
        default_factory=ProtectionSection, description="Protection options, the `[power.protection]` table below."
    )
    profiles: Literal[PROFILE_SOURCES] = Field(  # type: ignore[valid-type]
        DEFAULT_PROFILES, description="Time series of loads and PV: `simbench` (SimBench's 15-min load and PV profiles of 2016, a day drawn from run.season's window by run.seed, each load at its annual mean p_mw) or `synthetic` (the twin's daily household shape, clear-sky PV with seeded hourly clouds, seasons by table); see docs/power.md, \"Time series\"."
    )

    @field_validator("shed_order")
    @classmethod
    def _no_repeats(cls, v: list[str] | None) -> list[str] | None:
        if v is not None and len(set(v)) != len(v):
            raise ValueError("categories must not repeat")
        return v

    def grid_options(self) -> dict[str, Any]:
        """The options the power simulator takes, where the scenario sets them."""
        keys = ("shed_order", "battery_mode", "battery_efficiency", "pressure_threshold_m")
        opts = {k: getattr(self, k) for k in keys if getattr(self, k) is not None}
        return {**opts, "solver": self.solver, "protection": self.protection.model_dump(),
                "profiles": self.profiles}


class WaterSection(_Strict):
    """Water-sector options (EPANET through wntr). The hydraulic step is the INP's (300 s in
    generated regions), reduced to its greatest common divisor with run.step_s when it does
    not divide it, so EPANET always lands on every exchange step."""

    minimum_pressure_m: float | None = Field(None, ge=0, description="Pressure-driven demand: no delivery below this pressure, m; default: the INP's (0 m in generated regions). A value that differs from the INP's is reported (event option_overridden) and makes the network pressure-driven.")
    required_pressure_m: float | None = Field(None, gt=0, description="Pressure-driven demand: full delivery above this pressure, m; default: the INP's (20 m in generated regions). Reported like minimum_pressure_m.")

    @field_validator("required_pressure_m")
    @classmethod
    def _order(cls, v: float | None, info: ValidationInfo) -> float | None:
        low = info.data.get("minimum_pressure_m")
        if v is not None and low is not None and v <= low:
            raise ValueError("must exceed water.minimum_pressure_m")
        return v


class TrafficSection(_Strict):
    """Traffic-sector options (SUMO)."""

    backend: Literal["libsumo", "traci"] = Field("libsumo", description="libsumo in-process (fast) or TraCI.")
    mode: Literal["meso", "micro"] = Field("meso", description="Mesoscopic (region scale, fast) or microscopic SUMO.")
    demand_scale: float = Field(0.3, gt=0, le=1, description="Share of the region's daily trips simulated: 0.3, the smallest measured share at which dark signals cost delay (docs/traffic.md, \"Demand scale\"); equal to TrafficOptions.demand_scale.")


class IctSection(_Strict):
    """ICT-layer options."""


class ControlSection(_Strict):
    """Control (SCADA) options."""

    water_schedule: bool = Field(True, description="Schedule pumps remotely from tank telemetry while reachable.")


class RepairSection(_Strict):
    """How failed assets come back: ``fixed`` (the simple model: each failed asset returns
    after a fixed time per sector) or ``crews`` (crews from depots drive to it through the
    traffic simulator and repair it; see `[restoration]` and docs/restoration.md)."""

    mode: Literal["fixed", "crews"] = Field("fixed", description="`fixed`: repair after `hours`; `crews`: repair crews dispatched by control.")
    hours: dict[Sector, Annotated[float, Field(gt=0, le=10 * MAX_HOURS)]] = Field(
        default_factory=lambda: {"power": 6.0, "water": 8.0, "ict": 4.0, "traffic": 3.0},
        description="Repair time per sector, hours after the failure (mode `fixed`); sectors left out keep these defaults.",
    )

    @field_validator("hours")
    @classmethod
    def _fill(cls, v: dict[str, float]) -> dict[str, float]:
        return {**{"power": 6.0, "water": 8.0, "ict": 4.0, "traffic": 3.0}, **v}


class RestorationSection(_Strict):
    """Repair crews and their dispatch (used with `[repair] mode = "crews"`; docs/restoration.md)."""

    crews: dict[Sector, Annotated[int, Field(ge=0, le=1000)]] = Field(
        default_factory=lambda: {"power": 2, "water": 1, "ict": 1, "traffic": 1},
        description="Number of crews per sector.",
    )
    depots: dict[Sector, list[str]] = Field(
        default_factory=dict,
        description="Depot places per sector (facility ids such as `substation`, district ids, or asset ids); crews are spread over them in turn. Default: power at the substation, water at the water plant, ICT at the control centre, traffic at the traffic-management centre (else the first district's centre).",
    )
    dispatch: str = Field(
        "twin.control.dispatch:DefaultDispatchPolicy", pattern=PLUGIN_SPEC,
        description="Dispatch policy plug-in `module:Class` loaded by control (docs/restoration.md).",
    )
    dispatch_params: dict[str, Any] = Field(default_factory=dict, description="Keyword arguments of the dispatch policy class.")
    repair_median_h: dict[str, Annotated[float, Field(gt=0, le=10 * MAX_HOURS)]] = Field(
        default_factory=dict,
        description="Median repair hours per asset class `sector/type`, overriding twin.hazards.REPAIR_TIME (lognormal; beta kept).",
    )

    @field_validator("repair_median_h")
    @classmethod
    def _classes(cls, v: dict[str, float]) -> dict[str, float]:
        bad = [k for k in v if k.partition("/")[2] not in ASSET_TYPES.get(k.partition("/")[0], ())]
        if bad:
            raise ValueError(f"unknown asset class {', '.join(map(repr, bad))}; classes are `sector/type`, "
                             f"e.g. power/line, water/pump")
        return v
    manual_switching_h: float = Field(0.25, ge=0, description="Time a crew takes to operate a switch by hand on site, hours.")
    manual_switching: bool = Field(True, description="Send power crews to operate switches that control cannot reach over ICT.")
    refuel_h: float = Field(0.5, ge=0, le=48, description="Time a water crew takes on site to refuel a backup generator (pump, well, plant) that asked for fuel, hours (docs/water.md).")
    blocked_speed_kmh: float = Field(5.0, ge=0, le=200, description="A crew with no open route clears its way at this speed over 1.3 x the straight-line distance, km/h; 0: it waits and the job is offered again an hour later.")


def _after_start(end_h: float, info: ValidationInfo) -> float:
    """An interval's end must come after its start (``start_h``, validated before it)."""
    start = info.data.get("start_h")
    if start is not None and end_h <= start:
        raise ValueError(f"must be after start_h ({start})")
    return end_h


def _damage_seed() -> Any:
    """The ``damage_seed`` field every randomised hazard has (one definition, one text)."""
    return Field(None, ge=0, description="Seed of this hazard's damage draws (fragility draws, ground-motion residuals, attack spread); default: run.seed. Varying it varies the hazard only, not demand, weather or traffic, so every draw shares one hazard-free baseline (docs/sweeps.md, ensembles).")


def _fragility_scale() -> Any:
    """The ``fragility_scale`` field of hazards with fragility curves."""
    return Field(1.0, gt=0, le=10, description="Multiplies the median of every fragility curve this hazard uses (and divides earthquake pipe repair rates): > 1 hardens, < 1 weakens the assets; for sensitivity studies (docs/hazards.md).")


class OutageHazard(_Strict):
    """A scheduled outage of one asset."""

    kind: Literal["outage"]
    asset: str = Field(description="Asset id, e.g. power/line/F1-2.")
    at_h: float = Field(ge=0, description="Start, hours from the run start.")
    duration_h: float | None = Field(None, gt=0, description="Hours until repaired; default: the sector's repair time.")


class StormHazard(_Strict):
    """A storm crossing the region along a straight track; wind decays with distance."""

    kind: Literal["storm"]
    track_m: list[tuple[float, float]] = Field(min_length=2, max_length=2, description="Start and end point of the track, metres.")
    start_h: float = Field(ge=0, description="Time the storm centre is at the first point, hours.")
    end_h: float = Field(gt=0, description="Time it reaches the second point, hours.")
    peak_wind_ms: float = Field(gt=0, le=100, description="Gust speed at the track, m/s.")
    decay_m: float = Field(4000.0, gt=0, description="Distance over which the wind falls by a factor e, metres.")
    damage_seed: int | None = _damage_seed()
    fragility_scale: float = _fragility_scale()

    @field_validator("end_h")
    @classmethod
    def _times(cls, v: float, info: ValidationInfo) -> float:
        return _after_start(v, info)


class RandomHazard(_Strict):
    """Independent random failures: each asset of the listed sectors fails with a probability."""

    kind: Literal["random"]
    probability: float = Field(gt=0, le=1, description="Failure probability per asset over the horizon.")
    sectors: list[Literal["power", "water", "traffic", "ict"]] = Field(default_factory=lambda: ["power"])
    types: list[str] = Field(default_factory=list, description="Asset types to consider (all if empty); each must be a type of one of the sectors.")
    damage_seed: int | None = _damage_seed()

    @field_validator("sectors")
    @classmethod
    def _sectors_once(cls, v: list[str]) -> list[str]:
        if len(set(v)) != len(v):
            raise ValueError("sectors must not repeat")
        return v

    @field_validator("types")
    @classmethod
    def _known_types(cls, v: list[str], info: ValidationInfo) -> list[str]:
        known = {t for s in info.data.get("sectors", SECTORS) for t in ASSET_TYPES[s]}
        bad = [t for t in v if t not in known]
        if bad:
            raise ValueError(f"no asset type {', '.join(map(repr, bad))} in the hazard's sectors "
                             f"(known: {', '.join(sorted(known))})")
        return v


class FloodHazard(_Strict):
    """Flood polygons with a water depth; depth-damage fragility curves fail the assets inside."""

    kind: Literal["flood"]
    polygons_m: list[list[tuple[float, float]]] = Field(min_length=1, description="Flooded areas, each a list of at least 3 (x, y) corners, metres.")
    depth_m: float | list[float] = Field(description="Water depth in the polygons, m (one value, or one per polygon; the deepest applies where they overlap).")
    start_h: float = Field(ge=0, description="Time the water arrives, hours.")
    end_h: float | None = Field(None, gt=0, description="Time the water recedes, hours; flooded roads reopen then (default: stays). Other damaged assets need repair.")
    damage_seed: int | None = _damage_seed()
    fragility_scale: float = _fragility_scale()

    @model_validator(mode="after")
    def _shape(self) -> FloodHazard:
        if any(len(p) < 3 for p in self.polygons_m):
            raise ValueError("each polygon needs at least 3 corners")
        depths = self.depth_m if isinstance(self.depth_m, list) else [self.depth_m]
        if isinstance(self.depth_m, list) and len(depths) != len(self.polygons_m):
            raise ValueError("depth_m needs one value per polygon")
        if any(d <= 0 for d in depths):
            raise ValueError("depth_m must be positive")
        return self

    @field_validator("end_h")
    @classmethod
    def _times(cls, v: float | None, info: ValidationInfo) -> float | None:
        return v if v is None else _after_start(v, info)

    def depths(self) -> list[float]:
        """One depth per polygon, m."""
        return list(self.depth_m) if isinstance(self.depth_m, list) else [self.depth_m] * len(self.polygons_m)


class CyberHazard(_Strict):
    """A cyber attack on an ICT site, handled by the ICT layer (models/ict/attacks.py)."""

    kind: Literal["cyber"]
    target: str = Field(pattern=r"^ict/site/", description="The attacked ICT site, e.g. ict/site/BS3.")
    at_h: float = Field(ge=0, description="Start, hours from the run start.")
    mode: Literal["takedown", "false_data"] = Field(description="Take the site down, or make its endpoints report false_value.")
    spread_probability: float = Field(0.0, ge=0, le=1, description="Chance that the attack spreads to each neighbouring site.")
    false_value: float | None = Field(None, description="With false_data: the value the compromised endpoints report (e.g. a tank level, m).")
    duration_h: float | None = Field(None, gt=0, description="Hours until the attack is cleaned up; default: to the end of the run.")
    damage_seed: int | None = _damage_seed()


class EarthquakeHazard(_Strict):
    """A crustal earthquake at a point source: ground motion from Boore & Atkinson (2008),
    pipe repairs from ALA (2001), HAZUS fragilities elsewhere (docs/hazards.md)."""

    kind: Literal["earthquake"]
    epicentre_m: tuple[float, float] = Field(description="Epicentre (x, y) in the region's frame, metres.")
    magnitude: float = Field(ge=5.0, le=8.0, description="Moment magnitude Mw (the range Boore & Atkinson 2008 is fitted for).")
    depth_km: float = Field(10.0, gt=0, le=30.0, description="Hypocentre depth, km (shallow crustal events). The point source's Joyner-Boore distance is the epicentral distance, so depth does not change BA08's ground motion; it is kept for the record and for other relations.")
    start_h: float = Field(ge=0, description="Time of the shock, hours from the run start; every damaged asset fails then.")
    mechanism: Literal["strike_slip", "normal", "reverse"] = Field("strike_slip", description="Fault mechanism (BA08 magnitude term).")
    vs30_m_s: float = Field(400.0, ge=180.0, le=1300.0, description="Average shear-wave velocity of the top 30 m, m/s (BA08 site term; 400 = stiff soil).")
    correlation_km: float = Field(8.5, ge=0, description="Range of the spatial correlation of intra-event residuals, km (Jayaram & Baker 2009, PGA, case 1); 0: independent per asset.")
    residuals: bool = Field(True, description="Draw the inter- and intra-event residuals; false: median ground motion everywhere.")
    pipe_material: str = Field("cast_iron", description="Material and joint of every pipe (the asset table carries none): a key of twin.earthquake.PIPE_K1 (ALA 2001 K1, docs/hazards.md).")
    duration_h: float | None = Field(None, gt=0, description="Hours until damaged assets are repaired; default: the sector's repair time.")
    damage_seed: int | None = _damage_seed()
    fragility_scale: float = _fragility_scale()

    @field_validator("pipe_material")
    @classmethod
    def _known_material(cls, v: str) -> str:
        from twin.earthquake import PIPE_K1  # the table's one home; imported late (it imports this module)

        if v not in PIPE_K1:
            raise ValueError(f"unknown pipe material {v!r}; choose one of {', '.join(PIPE_K1)}")
        return v


class DisruptionFileHazard(_Strict):
    """Damage read from a disruption CSV (twin/region/disruption.py, docs/regions.md)."""

    kind: Literal["disruption_file"]
    path: str = Field(description="CSV in InfraRisk's layout `components,time_stamp,fail_perc` (seconds, percent) or twin's `asset,time_h,fraction`; relative to the scenario file.")

    @model_validator(mode="after")
    def _exists(self) -> DisruptionFileHazard:
        if not self.path.lower().endswith(".csv"):
            raise ValueError(f"path: {self.path!r} must end with .csv")
        if not Path(self.path).is_file():
            raise ValueError(f"path: no such file {self.path}")
        return self


# Every hazard kind's model; twin.hazards.HAZARD_KINDS registers its damage function under
# the same ``kind`` (a test keeps the two in step). Add new kinds to both.
HAZARD_MODELS: tuple[type[BaseModel], ...] = (
    OutageHazard, StormHazard, FloodHazard, RandomHazard, CyberHazard, EarthquakeHazard,
    DisruptionFileHazard,
)
Hazard = Annotated[
    OutageHazard | StormHazard | FloodHazard | RandomHazard | CyberHazard | EarthquakeHazard
    | DisruptionFileHazard,
    Field(discriminator="kind"),
]


class Scenario(_Strict):
    """A whole scenario file."""

    run: RunSection = Field(default_factory=RunSection)
    region: RegionSection = Field(default_factory=RegionSection)
    power: PowerSection = Field(default_factory=PowerSection)
    water: WaterSection = Field(default_factory=WaterSection)
    traffic: TrafficSection = Field(default_factory=TrafficSection)
    ict: IctSection = Field(default_factory=IctSection)
    control: ControlSection = Field(default_factory=ControlSection)
    repair: RepairSection = Field(default_factory=RepairSection)
    restoration: RestorationSection = Field(default_factory=RestorationSection)
    hazards: list[Hazard] = Field(default_factory=list, description="Hazards injected by the incidents simulator.")

    def to_toml(self) -> str:
        """The resolved scenario (defaults filled in) as TOML: stored in every results file."""
        return tomli_w.dumps(self.model_dump(mode="json", exclude_none=True))

    def cyber_attacks(self) -> list[dict[str, Any]]:
        """The cyber entries, as the ICT simulator takes them."""
        return [h.model_dump(exclude_none=True) for h in self.hazards if isinstance(h, CyberHazard)]

    def without_hazards(self) -> Scenario:
        return self.model_copy(update={"hazards": []})

    def params_for(self, configuration: str) -> ConfigurationParams:
        overrides = self.region.configurations.get(configuration, {})  # type: ignore[call-overload]
        return ConfigurationParams(**{**DEFAULTS[configuration].model_dump(), **overrides})


def run_id(scenario: Scenario, configuration: str, seed: int | None = None) -> str:
    """Hash of the resolved scenario, configuration and seed: the results file's name."""
    if configuration not in CONFIGURATIONS:
        raise ValueError(f"unknown configuration {configuration!r}")
    payload = json.dumps(
        {
            "scenario": scenario.model_dump(mode="json"),
            "configuration": configuration,
            "seed": scenario.run.seed if seed is None else seed,
        },
        sort_keys=True,
    )
    return hashlib.sha256(payload.encode()).hexdigest()[:16]


HAZARD_TAGS: tuple[str, ...] = tuple(m.model_fields["kind"].annotation.__args__[0] for m in HAZARD_MODELS)


_TYPE_TAG = re.compile(r"(float|int|str|bool|(list|tuple|dict)\[.*\])")


def dotted_location(loc: tuple[Any, ...], union_tags: tuple[str, ...] = HAZARD_TAGS) -> str:
    """Dotted key of a pydantic error location (``hazards[0].peak_wind_ms``), without the
    tags pydantic inserts for the members of tagged unions."""
    parts: list[str] = []
    for p in loc:
        if isinstance(p, int):
            parts[-1:] = [f"{parts[-1]}[{p}]"] if parts else [f"[{p}]"]
        elif p in union_tags or p == "[key]" or _TYPE_TAG.fullmatch(str(p)):
            continue  # pydantic's marks: union members, "[key]" for a bad dict key
        elif isinstance(p, str) and not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", p):
            parts.append(f'"{p}"')
        else:
            parts.append(str(p))
    return ".".join(parts) or "(top level)"


def validation_problems(err: ValidationError, union_tags: tuple[str, ...] = HAZARD_TAGS) -> list[str]:
    """One ``dotted.key: message`` line per problem pydantic found."""
    problems = []
    for e in err.errors():
        msg = "unknown key" if e["type"] == "extra_forbidden" else e["msg"].removeprefix("Value error, ")
        problems.append(f"{dotted_location(e['loc'], union_tags)}: {msg}" if e["loc"] else msg)
    return problems


def apply_overrides(data: dict[str, Any], overrides: list[str], source: str) -> dict[str, Any]:
    """Apply ``dotted.key=value`` overrides to raw scenario data (before validation)."""
    problems = []
    for item in overrides:
        if "=" not in item:
            problems.append(f"--set {item!r}: expected dotted.key=value")
            continue
        key, _, value = item.partition("=")
        try:
            set_dotted(data, key.strip(), parse_value(value.strip()))
        except ValueError as err:
            problems.append(f"--set {err}")
    if problems:
        raise ScenarioError(source, problems)
    return data


def horizon_problems(data: dict[str, Any]) -> list[str]:
    """``hazards[i].<time key>: ...`` for every hazard of raw scenario data that starts at or
    after the end of the horizon (run.hours): it could act in the last step only, or not at
    all. Works on raw data so that these come with the schema's problems, all at once."""
    run = data.get("run") if isinstance(data.get("run"), dict) else {}
    hours = run.get("hours", RunSection.model_fields["hours"].default)
    hazards = data.get("hazards")
    if not isinstance(hours, int | float) or isinstance(hours, bool) or not isinstance(hazards, list):
        return []
    problems = []
    for i, h in enumerate(hazards):
        for key in ("at_h", "start_h"):
            t = h.get(key) if isinstance(h, dict) else None
            if isinstance(t, int | float) and not isinstance(t, bool) and t >= hours:
                problems.append(f"hazards[{i}].{key}: {t} h is not inside the horizon (run.hours = "
                                f"{hours}); move it or lengthen the run (--allow-outside keeps it)")
    return problems


def validate_data(data: dict[str, Any], source: str, allow_outside: bool = False) -> Scenario:
    """Validate raw scenario data; ScenarioError with every problem. Hazards outside the
    horizon are problems too, or warnings (logged) with ``allow_outside``."""
    outside = horizon_problems(data)
    problems = [] if allow_outside else list(outside)
    try:
        scenario = Scenario.model_validate(data)
    except ValidationError as err:
        problems = validation_problems(err) + problems
    if problems:
        raise ScenarioError(source, problems)
    for p in outside:  # a warning for the user, on stderr whatever the logging level
        print(f"{source}: warning: {p.removesuffix(' (--allow-outside keeps it)')}", file=sys.stderr)
    return scenario


def read_toml(path: Path, error: type[ScenarioError] = ScenarioError, source: str | None = None) -> dict[str, Any]:
    """A TOML file's data; ``error`` naming the file when it cannot be read, is not UTF-8 or
    is not TOML."""
    source = source or str(path)
    try:
        text = path.read_bytes().decode("utf-8")
    except IsADirectoryError:
        raise error(source, ["is a folder, not a file"]) from None
    except OSError as err:
        raise error(source, [f"cannot read file: {err.strerror}"]) from None
    except UnicodeDecodeError as err:
        line = path.read_bytes()[: err.start].count(b"\n") + 1
        raise error(source, [f"not UTF-8 text: byte 0x{err.object[err.start]:02x} on line {line}; "
                             "save the file as UTF-8"]) from None
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as err:
        raise error(source, [f"not valid TOML: {err}"]) from None


def load_scenario(path: str | Path, overrides: list[str] | None = None,
                  allow_outside: bool = False) -> Scenario:
    """Read, override and validate a scenario file; raises ScenarioError naming file and key."""
    path = Path(path)
    data = read_toml(path)
    data = apply_overrides(data, overrides or [], str(path))
    data = resolve_region_paths(data, path.parent)
    scenario = validate_data(data, str(path), allow_outside)
    if scenario.region.files is not None and scenario.region.files.dependencies:
        from twin.validation import dependency_problems

        problems = dependency_problems(Path(scenario.region.files.dependencies))
        if problems:
            raise ScenarioError(str(path), problems)
    return scenario


def scenario_reference() -> str:
    """Markdown reference of every scenario key (docs/scenario.md); see twin.config_doc."""
    from twin.config_doc import scenario_reference as reference

    return reference()


if __name__ == "__main__":
    print(scenario_reference(), end="")
