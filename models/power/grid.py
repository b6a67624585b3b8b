"""The power grid as a time-stepped domain model around a pandapower net (no mosaik here).

:class:`PowerGrid` loads ``power.json`` and, each step, applies damage (failed asset ids),
switch positions, coupled loads (pumps, ICT sites, signals) and commands, finds the
islands with pandapower's topology tools, decides how each island is supplied, runs the AC
power flow and reports what was served, which buses are dead and why, and the events of
every state change.

The class is assembled from one module per concern, each a mixin over the grid's state:

- :mod:`.inputs` -- commands, process-water pressure, coupled loads, damage, reclosing;
- :mod:`.supply` -- islands, their source and capacity, shedding to it, slack selection;
- :mod:`.prosumers` -- home batteries, community batteries, state of charge;
- :mod:`.flow` -- the power flow over the islands (through :mod:`.solver`);
- :mod:`.causes` -- events and their causes;
- :mod:`.outputs` -- series, down-set, telemetry.

Speed: while only injections change, the power flow reuses the previous solution
(``recycle`` with ``init="results"``); a topology change costs a full run (``init="dc"``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from twin.events import Event
from twin.models.power.causes import CausesMixin
from twin.models.power.common import (
    BATTERY_MODES,
    DEFAULT_SHED_ORDER,
    SLACK_SUFFIX,
    Island,
    PowerGridError,
    StepResult,
    column,
    is_hidden_slack,
)
from twin.models.power.flow import FlowMixin
from twin.models.power.inputs import InputsMixin
from twin.models.power.outputs import OutputsMixin
from twin.models.power.profiles import (
    DEFAULT_SEASON,
    SEASONS,
    STORM_CLOUD_FACTOR,
    cloud_factor,
    daylight_factor,
    household_factor,
    storm_overcast,
)
from twin.models.power.prosumers import ProsumerMixin
from twin.models.power.sbprofiles import (
    DEFAULT_PROFILES,
    FACILITY_PROFILES,
    HOUSEHOLD_PROFILES,
    PROFILE_SOURCES,
    SimbenchSeries,
    household_scale,
)
from twin.models.power.solver import DEFAULT_SOLVER, PowerFlowSolver, make_solver
from twin.models.power.supply import SupplyMixin
from twin.region.params import ConfigurationParams

_PARAM_DEFAULT = {k: f.default for k, f in ConfigurationParams.model_fields.items()}

__all__ = [
    "BATTERY_MODES", "DEFAULT_SHED_ORDER", "Island", "PowerGrid", "PowerGridError", "StepResult",
]


@dataclass
class _Injections:
    """The set-points of one step, per load / sgen / storage position (MW)."""

    demand: np.ndarray  # what each load asks for
    qratio: np.ndarray  # q_mvar per p_mw of each load
    served_frac: np.ndarray  # share of each load's demand the network serves (0..1)
    pv: np.ndarray  # PV output available
    pv_grid: np.ndarray  # PV output fed into the network
    st_p: np.ndarray  # storage power the network sees, + charging
    st_cells: np.ndarray  # power into each battery's cells, + charging (islanded homes: behind the meter)
    self_served: np.ndarray  # served by prosumers' own PV + battery
    covered_customers: np.ndarray  # households supplied by their own PV + battery
    shed_cause: dict[int, str]  # load position -> cause of its shedding
    pv_collapse_mw: dict[int, float] = field(default_factory=dict)  # island -> PV curtailed to converge
    pickup: np.ndarray | float = 1.0  # cold-load pickup factor per load (models/power/protection.py)


def _names(table) -> list[str]:
    return [str(n) for n in table["name"]]


class PowerGrid(InputsMixin, SupplyMixin, ProsumerMixin, FlowMixin, CausesMixin, OutputsMixin):
    """A pandapower distribution grid stepped in time; see the module docstring.

    Parameters: ``seed`` (cloud variability), ``step_s`` (step length, s),
    ``battery_efficiency`` (round trip, 0..1), ``reserve_share`` (backup-mode reserve),
    ``battery_mode`` (default mode of home batteries), ``shed_order`` (load categories,
    shed first to last; loads of categories not listed count as ``other``),
    ``pressure_threshold_m`` (process water pressure below which the central plant trips),
    ``household_profile`` (apply the daily profile to household loads; off for test feeders),
    ``solver`` (the power-flow backend, or its name in ``solver.SOLVERS``; default
    ``solver.DEFAULT_SOLVER``),
    ``protection`` (the ``[power.protection]`` options), ``backup_capable_share`` (share of
    each home-battery element's households whose inverter islands, 0..1) and
    ``backup_kw_per_household`` (their backup rating, kW; both default to
    :class:`~twin.region.params.ConfigurationParams`), ``season`` (``run.season``) and
    ``storms`` (storm hazards as dicts with ``track_m``, ``start_h``, ``end_h``,
    ``peak_wind_ms``, ``decay_m``: PV under their wind field is overcast), ``profiles``
    (``power.profiles``: ``simbench``, SimBench's load and PV profiles per load's
    ``profile`` column, :mod:`.sbprofiles`; ``synthetic``, the daily shape and clear-sky
    curve of :mod:`.profiles`).
    """

    def __init__(
        self,
        net,
        *,
        seed: int = 0,
        step_s: int = 300,
        battery_efficiency: float = 0.9,
        reserve_share: float = 0.3,
        battery_mode: str = "backup",
        shed_order: tuple[str, ...] | list[str] = DEFAULT_SHED_ORDER,
        pressure_threshold_m: float = 20.0,
        household_profile: bool = True,
        solver: PowerFlowSolver | str | None = None,
        protection: dict | None = None,
        backup_capable_share: float = _PARAM_DEFAULT["backup_capable_share"],
        backup_kw_per_household: float = _PARAM_DEFAULT["backup_kw_per_household"],
        season: str = DEFAULT_SEASON,
        storms: list[dict] | None = None,
        profiles: str = DEFAULT_PROFILES,
    ) -> None:
        if battery_mode not in BATTERY_MODES:
            raise PowerGridError(f"unknown battery mode {battery_mode!r}; choose one of {BATTERY_MODES}")
        if not 0 < battery_efficiency <= 1:
            raise PowerGridError(f"battery_efficiency must be in (0, 1], got {battery_efficiency}")
        self.net = net
        self.seed = int(seed)
        self.step_s = int(step_s)
        self.eta = math.sqrt(battery_efficiency)  # one-way efficiency
        self.reserve_share = float(reserve_share)
        self.default_mode = battery_mode
        self.shed_order = tuple(shed_order)
        self.pressure_threshold_m = float(pressure_threshold_m)
        self.household_profile = bool(household_profile)
        if not 0 <= backup_capable_share <= 1:
            raise PowerGridError(f"backup_capable_share must be in [0, 1], got {backup_capable_share}")
        if backup_kw_per_household < 0:
            raise PowerGridError(f"backup_kw_per_household must be >= 0, got {backup_kw_per_household}")
        self.backup_share = float(backup_capable_share)
        self.backup_mw = float(backup_kw_per_household) / 1000.0  # per household
        if season not in SEASONS:
            raise PowerGridError(f"unknown season {season!r}; choose one of {sorted(SEASONS)}")
        self.season = str(season)
        self.storms = [dict(st) for st in storms or []]
        if profiles not in PROFILE_SOURCES:
            raise PowerGridError(f"unknown profiles {profiles!r}; choose one of {list(PROFILE_SOURCES)}")
        self.profiles = str(profiles)
        if solver is None or isinstance(solver, str):
            solver = make_solver(solver or DEFAULT_SOLVER)
        self.solver: PowerFlowSolver = solver
        self._prepare()
        from twin.models.power.protection import GridProtection  # relays, cold-load pickup

        self.protection = GridProtection(self, protection)

    @classmethod
    def from_file(cls, path: str | Path, **kwargs) -> PowerGrid:
        """Load ``power.json`` (a pandapower JSON net whose names are asset ids)."""
        from twin.models.power.netfile import read_net

        path = Path(path)
        if not path.exists():
            raise PowerGridError(f"no power grid file at {path}")
        return cls(read_net(path), **kwargs)

    # ------------------------------------------------------------------ setup
    def _prepare(self) -> None:
        import pandapower as pp

        net = self.net
        for table, col, default in (
            ("load", "category", "other"), ("load", "critical", False), ("load", "district", "region"),
            ("load", "customers", 0), ("storage", "type", "home"), ("storage", "customers", 0),
            ("sgen", "district", "region"), ("storage", "district", "region"),
        ):
            if col not in net[table].columns:
                net[table][col] = default
            missing = net[table][col].isna()
            if missing.any():
                net[table].loc[missing, col] = default
        self._split_home_batteries()
        # hidden slacks for grid-forming units (plants, community batteries), off by default
        self.main_ext = [i for i, n in net.ext_grid["name"].items() if not is_hidden_slack(n)]
        self.plants = list(net.gen.index)
        self.microgrids = [i for i in net.storage.index if net.storage.at[i, "type"] == "grid_forming"]
        self.homes = [i for i in net.storage.index if net.storage.at[i, "type"] != "grid_forming"]
        existing = {str(n) for n in net.ext_grid["name"]}
        self.slack_of: dict[tuple[str, int], int] = {}
        for table, idxs in (("gen", self.plants), ("storage", self.microgrids)):
            for i in idxs:
                name = f"{net[table].at[i, 'name']}{SLACK_SUFFIX}#{i}"
                if name not in existing:
                    pp.create_ext_grid(net, int(net[table].at[i, "bus"]), vm_pu=1.0, name=name, in_service=False)
                self.slack_of[(table, i)] = int(net.ext_grid.index[net.ext_grid["name"] == name][0])
        self.bus_names = {int(i): str(n) for i, n in net.bus["name"].items()}
        self.load_names = _names(net.load)
        self.base_in_service = {
            t: net[t]["in_service"].astype(bool).copy()
            for t in ("bus", "line", "trafo", "gen", "sgen", "storage", "load")
        }
        self.base_ext_in_service = net.ext_grid["in_service"].astype(bool).copy()
        self.switch_pos = net.switch["closed"].astype(bool).copy()  # persistent positions
        self.switch_event: dict[int, str] = {}  # last control event that moved a switch
        self.base_p = net.load["p_mw"].astype(float).to_numpy().copy()
        self.base_q = net.load["q_mvar"].astype(float).to_numpy().copy()
        self.load_p_in = self.base_p.copy()  # demand of coupled loads, from the coupling
        self.household = (net.load["category"] == "household").to_numpy()
        self._setup_profiles()
        self.pv_rated = net.sgen["p_mw"].astype(float).to_numpy().copy()
        st = net.storage
        self.e_max = st["max_e_mwh"].astype(float).to_numpy()
        self.e_min = st["min_e_mwh"].fillna(0.0).astype(float).to_numpy()
        soc = st["soc_percent"].fillna(100.0).astype(float).to_numpy()
        self.energy = self.e_max * soc / 100.0
        pmax = st["max_p_mw"].astype(float).to_numpy() if "max_p_mw" in st else np.full(len(st), np.nan)
        self.p_max = np.where(np.isnan(pmax), self.e_max, pmax)
        self.plant_p = net.gen["p_mw"].astype(float).to_numpy().copy()
        self.plant_ok = np.ones(len(net.gen), dtype=bool)
        self.plant_event: dict[int, str] = {}
        # home battery and PV elements that belong to a household load (same bus and district)
        key_to_load = {
            (int(net.load.at[i, "bus"]), str(net.load.at[i, "district"])): pos
            for pos, i in enumerate(net.load.index) if self.household[pos]
        }
        self.home_load = {
            int(s): key_to_load.get((int(st.at[s, "bus"]), str(st.at[s, "district"])))
            for s in self.homes
        }
        self.pv_load = {
            int(g): key_to_load.get((int(net.sgen.at[g, "bus"]), str(net.sgen.at[g, "district"])))
            for g in net.sgen.index
        }
        self.districts = sorted({str(d) for d in net.load["district"]})
        self.storage_backup = net.storage["backup"].astype(bool).to_numpy()
        self._home_customers: dict[int, float] = {}  # load position -> households with a home battery
        for s, lp in self.home_load.items():
            if lp is not None:
                n = float(net.storage.at[s, "customers"])
                self._home_customers[lp] = self._home_customers.get(lp, 0.0) + n
        self._home_off: set[int] = set()  # loads whose home systems are off the network
        self._home_back_t: dict[int, int] = {}  # ... and when the network came back to them
        self._sgen_xy = self._sgen_positions()
        self._branches = self._branch_table()
        self._switch_branch: dict[int, str] = {}  # switch index -> the line/trafo it sits on
        for i in net.switch.index:
            et = str(net.switch.at[i, "et"])
            if et in ("l", "t"):
                table = "line" if et == "l" else "trafo"
                self._switch_branch[int(i)] = str(net[table].at[int(net.switch.at[i, "element"]), "name"])
        self._isolated: dict[int, str] = {}  # switch opened to isolate its failed branch
        self._switch_normal = {str(n): bool(c) for n, c in zip(net.switch["name"], net.switch["closed"], strict=True)}
        self.storage_assets = sorted({str(n) for n in st["name"]})
        self._storage_pos = {int(s): p for p, s in enumerate(st.index)}
        self._slack_storage = {e for (table, _i), e in self.slack_of.items() if table == "storage"}
        self._island_keys = sorted({str(net.ext_grid.at[i, "name"]) for i in self.main_ext}
                                   | {str(net.gen.at[g, "name"]) for g in self.plants}
                                   | {str(st.at[s, "name"]) for s in self.microgrids})
        self._microgrid_pos = [self._storage_pos[int(s)] for s in self.microgrids]
        # state carried between steps
        self.energised: set[int] = set(self.bus_names)
        self.dead_cause: dict[int, str] = {}  # bus -> what de-energised it (cause of its event)
        self.dead_event: dict[int, str] = {}  # bus -> its own de-energised event (the down-set value)
        self._prev_failed: dict[str, str] = {}  # down-set and switch positions the live buses
        self._prev_closed = net.switch["closed"].to_numpy(dtype=bool).copy()  # were fed through
        self._tree_cache: tuple[dict, dict] | None = None  # their supply tree (causes.py)
        self.shed_frac = np.zeros(len(net.load))
        self.shed_event: dict[int, str] = {}  # load position -> its last "shed" event
        self.islanded: dict[int, str] = {}  # microgrid storage index -> "islanded" event id
        self.exhausted: dict[int, str] = {}  # microgrid storage index -> "exhausted" event id
        self._collapse_shed: set[int] = set()  # loads shed this step so that the flow converges
        self._depleted: set[int] = set()  # microgrids that cannot carry their island one more step
        self.cells_p = np.zeros(len(net.storage))  # last step's power into each battery (+ charging)
        self.topology_key: tuple | None = None
        self.last_converged = False
        self._nc_cause: dict[int, str] = {}  # bus -> non-convergence event of this step
        self._failed: dict[str, str] = {}  # the current down-set
        self._island_sig: tuple | None = None
        self._island_cache: tuple[list[Island], dict[int, int]] = ([], {})
        self._trees: dict[tuple, tuple[dict, dict]] = {}  # supply trees by state (causes.py)
        self._cause_graphs: dict[tuple, tuple] = {}  # cause graphs by switch state (causes.py)
        self._touched: dict[str, set[int]] = {}  # asset id -> the buses it touches (causes.py)
        self._islands_by_sig: dict[tuple, tuple[list[Island], dict[int, int]]] = {}  # supply.py
        self._balance_cache: dict[tuple, tuple] = {}  # branch ends, island masks by topology (outputs.py)
        self._static_columns()

    def _setup_profiles(self) -> None:
        """Each load's SimBench profile (column ``profile``; for grids written before it,
        households by :data:`HOUSEHOLD_PROFILES` of the city and the facilities by
        :data:`FACILITY_PROFILES`) and the run's series (start day from seed and season)."""
        net = self.net
        col = net.load["profile"] if "profile" in net.load.columns else [None] * len(net.load)
        names: list[str | None] = []
        for pos, (n, prof) in enumerate(zip(net.load["name"], col, strict=True)):
            if isinstance(prof, str) and prof:
                names.append(prof)
            elif self.household[pos]:
                names.append(HOUSEHOLD_PROFILES["city"])
            else:
                names.append(FACILITY_PROFILES.get(str(n).removeprefix("power/load/")))
        self.load_profile = names
        self._profiled = np.array([n is not None for n in names], dtype=bool)
        self._profile_names = sorted({n for n in names if n is not None})  # each looked up once a step
        where = {n: i for i, n in enumerate(self._profile_names)}
        self._profile_of = np.array([where.get(n, 0) for n in names], dtype=int)
        self.series = None
        if self.profiles == "simbench":
            self.series = SimbenchSeries(self.seed, self.season, self.step_s)
            for pos, n in enumerate(names):
                if n is not None and n not in self.series.known_loads:
                    raise PowerGridError(f"load {self.load_names_at(pos)!r}: SimBench has no load profile {n!r}")
            # households peak at their design peak (PEAK_FACTOR x p_mw), facilities keep their mean
            self._profile_scale = np.array([household_scale(n) if n is not None and self.household[pos] else 1.0
                                            for pos, n in enumerate(names)])

    def load_names_at(self, pos: int) -> str:
        """The name (asset id) of the load at position ``pos``."""
        return str(self.net.load["name"].iloc[pos])

    def _demand(self, t: int) -> np.ndarray:
        """Each load's demand over the step (MW): loads with a profile follow it (SimBench's
        shape; a household's year peaks at its design peak PEAK_FACTOR x ``p_mw``, a facility
        keeps the annual mean ``p_mw``), with synthetic profiles households follow the
        daily shape; the others (coupled loads) what the coupling sent."""
        if not self.household_profile:
            return np.where(self.household, self.base_p, self.load_p_in)
        if self.series is None:
            return np.where(self.household, self.base_p * household_factor(t, self.season), self.load_p_in)
        if not self._profile_names:
            return self.load_p_in.copy()
        factors = np.array([self.series.load_factor(n, t) for n in self._profile_names])[self._profile_of]
        return np.where(self._profiled, self.base_p * factors * self._profile_scale, self.load_p_in)

    def _static_columns(self) -> None:
        """Columns that never change during a run, read once as plain arrays and lists:
        per-element pandas lookups inside the step cost more than the power flow itself."""
        net = self.net
        self._names_np = {t: net[t]["name"].astype(str).to_numpy()
                          for t in ("bus", "line", "trafo", "gen", "sgen", "storage", "ext_grid", "switch")}
        self._base_np = {t: s.to_numpy(dtype=bool) for t, s in self.base_in_service.items()}
        self._main_ext_mask = net.ext_grid.index.isin(self.main_ext)
        self.load_bus = [int(b) for b in net.load["bus"]]
        self.load_district = net.load["district"].astype(str).to_numpy()
        self.load_customers = net.load["customers"].astype(float).to_numpy()
        self.load_critical = [bool(c) for c in net.load["critical"]]
        self.load_category = [str(c) for c in net.load["category"]]
        self.load_district_list = [str(d) for d in self.load_district]
        self._district_mask = {d: self.load_district == d for d in self.districts}
        self.sgen_names = [str(n) for n in net.sgen["name"]]
        self.sgen_bus = [int(b) for b in net.sgen["bus"]]
        self._pv_of_load: dict[int, list[int]] = {}  # load position -> its PV positions, in order
        for p, g in enumerate(net.sgen.index):
            lp = self.pv_load.get(int(g))
            if lp is not None:
                self._pv_of_load.setdefault(lp, []).append(p)
        self._homes_of_load = {lp for lp in self.home_load.values() if lp is not None}
        self.storage_names = [str(n) for n in net.storage["name"]]
        self.storage_customers = [float(c) for c in net.storage["customers"]]
        self._storage_mask = {a: self._names_np["storage"] == a for a in self.storage_assets}
        self.line_names = [str(n) for n in net.line["name"]]
        self.switch_names = [str(n) for n in net.switch["name"]]
        self._switches_by_name: dict[str, list[int]] = {}  # asset id -> switch rows (commands)
        for i, n in zip(net.switch.index, self.switch_names, strict=True):
            self._switches_by_name.setdefault(n, []).append(int(i))
        self._loads_by_name: dict[str, list[int]] = {}  # asset id -> load positions (commands)
        for pos, n in enumerate(self.load_names):
            self._loads_by_name.setdefault(n, []).append(pos)
        self._damage_applied = False
        self._static_positions()

    def _static_positions(self) -> None:
        """Static index arrays for the step's array operations: bus positions by bus index,
        each element's bus position, the buses in index order, the coupled loads, and the
        storage rows of each storage asset (``storage_assets``)."""
        net = self.net
        bus_idx = net.bus.index.to_numpy(dtype=np.int64)
        self._bus_pos_of_index = np.full(int(bus_idx.max()) + 1 if len(bus_idx) else 0, -1, dtype=np.int64)
        self._bus_pos_of_index[bus_idx] = np.arange(len(bus_idx))
        self._load_bus_pos = self._bus_pos_of_index[np.asarray(self.load_bus, dtype=np.int64)]
        self._sgen_bus_pos = self._bus_pos_of_index[np.asarray(self.sgen_bus, dtype=np.int64)]
        self._element_bus = {t: net[t]["bus"].to_numpy(dtype=np.int64) for t in ("load", "sgen", "storage", "gen")}
        self._ext_pos = {int(e): p for p, e in enumerate(net.ext_grid.index)}
        self._gen_pos = {int(g): p for p, g in enumerate(net.gen.index)}
        self._ext_storage = np.isin(net.ext_grid.index, list(self._slack_storage))  # slacks of batteries
        self._qratio = np.divide(self.base_q, self.base_p, out=np.zeros_like(self.base_p), where=self.base_p > 0)
        self._sorted_bus_ids = np.array(sorted(self.bus_names), dtype=np.int64)
        self._sorted_bus_pos = self._bus_pos_of_index[self._sorted_bus_ids]
        self._sorted_bus_names = [self.bus_names[int(b)] for b in self._sorted_bus_ids]
        self._coupled_loads = np.array([p for p, n in enumerate(self.load_names) if not n.startswith("power/")],
                                       dtype=np.int64)
        group = {a: k for k, a in enumerate(self.storage_assets)}
        self._storage_group = np.array([group[n] for n in self.storage_names], dtype=np.int64)
        # numpy sums eight or more elements pairwise: those assets are summed by their mask
        self._storage_big = [(k, self._storage_mask[a]) for k, a in enumerate(self.storage_assets)
                             if int(self._storage_mask[a].sum()) >= 8]
        self._asset_e_max = self._per_asset(self.e_max)  # MWh per storage asset (static)

    @staticmethod
    def _set_bool_column(table, col: str, values: np.ndarray) -> None:
        """Write a boolean column only when it changes (a pandas column write costs ~0.1 ms)."""
        if not np.array_equal(column(table, col), values):
            table[col] = values

    def _branch_table(self) -> list[dict]:
        """Lines and transformers with their end buses and switches (static telemetry)."""
        net = self.net
        on: dict[tuple[str, int], list[str]] = {}
        for i in net.switch.index:
            et = str(net.switch.at[i, "et"])
            if et in ("l", "t"):
                key = ("line" if et == "l" else "trafo", int(net.switch.at[i, "element"]))
                on.setdefault(key, []).append(str(net.switch.at[i, "name"]))
        out = []
        for table, fb, tb in (("line", "from_bus", "to_bus"), ("trafo", "hv_bus", "lv_bus")):
            for i in net[table].index:
                out.append({
                    "id": str(net[table].at[i, "name"]), "from": self.bus_names[int(net[table].at[i, fb])],
                    "to": self.bus_names[int(net[table].at[i, tb])], "switches": sorted(on.get((table, int(i)), [])),
                })
        return out

    # ------------------------------------------------------------------ step
    def step(
        self,
        time_s: int,
        failed: dict[str, str] | None = None,
        load_p_mw: dict[str, float] | None = None,
        commands: dict[str, dict] | None = None,
        process_pressure_m: dict[str, float] | None = None,
        process_cause: dict[str, str] | None = None,
    ) -> StepResult:
        """Advance over ``[time_s, time_s + step_s)`` and report the state.

        ``failed`` is the full current down-set {asset id: cause event id}; ``load_p_mw``
        sets coupled loads by consumer id; ``commands`` ({asset id: {"value", "cause_id"}})
        move switches (1 closed, 0 open; persistent), set the served share of a load (0..1)
        or the mode of a battery (0 self-consumption, 1 backup, 2 grid support) or the
        maximum share of a PV plant for this step; ``process_pressure_m`` is the water
        pressure at the central plant and ``process_cause`` the water event behind it (the
        cause of a ``derated`` event).
        """
        t = int(time_s)
        failed = dict(failed or {})
        self._repaired_now = sorted(set(self._failed) - set(failed))  # came back this step
        self._failed = failed
        events: list[Event] = []
        load_frac, modes, pv_cap, load_cause = self._apply_commands(t, commands or {}, events)
        self._apply_pressure(t, process_pressure_m, events, process_cause)
        self._apply_load_inputs(load_p_mw or {})
        self._crew_recloses(t, failed, events)
        self.protection.start_step(self, t, events)  # tripped breakers reclosed
        self._apply_damage(failed)
        islands, bus_island = self._current_islands(t, events)
        inj = self._injections(t, islands, bus_island, load_frac, pv_cap, load_cause)
        self._shed_to_capacity(islands, inj, failed, t, events)
        self._dispatch_homes(t, modes, inj)
        self._dispatch_microgrids(islands, bus_island, inj)
        converged = self._solve(islands, inj, t, events, failed)
        self._note_home_outages(inj.served_frac)
        self._update_energy(islands, inj.st_cells, self.step_s / 3600.0)
        return self._outcomes(t, islands, bus_island, inj, failed, set(load_cause), converged, events)

    def _injections(self, t: int, islands: list[Island], bus_island: dict[int, int],
                    load_frac: np.ndarray, pv_cap: dict[str, float],
                    load_cause: dict[int, str]) -> _Injections:
        """Demand (households by the daily profile, coupled loads as sent), PV by daylight
        and clouds, and the served share of loads on live islands (commands included)."""
        net = self.net
        demand = np.maximum(self._demand(t), 0.0)
        qratio = self._qratio.copy()  # q_mvar per p_mw of each load (static)
        pv = self.pv_rated * self._pv_factors(t)
        if pv_cap:
            pv *= np.array([min(1.0, max(0.0, pv_cap.get(n, 1.0))) for n in self.sgen_names])
        pv[~np.asarray(column(net["sgen"], "in_service"), dtype=bool)] = 0.0
        load_live = self._on_live_island(islands)[self._load_bus_pos]
        return _Injections(
            demand=demand, qratio=qratio, served_frac=np.where(load_live, load_frac, 0.0), pv=pv,
            pv_grid=pv.copy(), st_p=np.zeros(len(net.storage)),
            st_cells=np.zeros(len(net.storage)), self_served=np.zeros(len(net.load)),
            covered_customers=np.zeros(len(net.load)), shed_cause=dict(load_cause),
        )

    def _on_live_island(self, islands: list[Island]) -> np.ndarray:
        """Per bus position: whether the bus is on an island that is not dead (kept while
        the islands and their kinds are unchanged)."""
        kinds = tuple(isl.kind for isl in islands)
        held = getattr(self, "_live_island_held", None)
        if held is None or held[0] is not islands or held[1] != kinds:
            mask = np.zeros(len(self.bus_names), dtype=bool)
            for isl in islands:
                if isl.kind != "dead" and isl.buses:
                    mask[self._bus_pos_of_index[np.fromiter(isl.buses, dtype=np.int64)]] = True
            held = (islands, kinds, mask)  # holding the list keeps its id unique
            self._live_island_held = held
        return held[2]

    def _pv_factors(self, t: int) -> np.ndarray | float:
        """PV output over rated power. SimBench: the PV profile over the step, capped at
        ``STORM_CLOUD_FACTOR`` x its clear-sky envelope where a storm's wind field covers the
        PV. Synthetic: the season's daylight times the hour's seeded clouds, or
        ``STORM_CLOUD_FACTOR`` under a storm (per sgen)."""
        if self.series is not None:
            sky = self.series.pv(t)
            if sky == 0.0 or not self.storms:
                return sky
            cap = STORM_CLOUD_FACTOR * self.series.pv_clear(t)
            return np.where(self._covered(t), min(sky, cap), sky)
        day = daylight_factor(t, self.season)
        if day == 0.0:
            return 0.0
        clouds = cloud_factor(self.seed, t)
        if not self.storms:
            return day * clouds
        return day * np.where(self._covered(t), STORM_CLOUD_FACTOR, clouds)

    def _covered(self, t: int) -> np.ndarray:
        """Per sgen: whether a storm's wind field covers it at ``t``."""
        return np.fromiter((storm_overcast(self.storms, x, y, t) for x, y in self._sgen_xy),
                           dtype=bool, count=len(self._sgen_xy))

    def _outcomes(self, t: int, islands: list[Island], bus_island: dict[int, int], inj: _Injections,
                  failed: dict[str, str], commanded: set[int], converged: bool,
                  events: list[Event]) -> StepResult:
        """Live buses from the solution, the bus and load events, and the step's result."""
        net = self.net
        live_buses = set()
        for isl in islands:
            if isl.kind != "dead":
                live_buses |= isl.buses
        if converged and len(net.res_bus):
            # buses with a voltage in the results (a bus missing from them has none)
            res = net.res_bus
            has_v = np.zeros(len(self._bus_pos_of_index), dtype=bool)
            idx = res.index.to_numpy()
            ok = ~np.isnan(np.asarray(column(res, "vm_pu"), dtype=float))
            known = (idx >= 0) & (idx < len(has_v))
            has_v[idx[ok & known]] = True
            flags = has_v.tolist()
            live_buses = {b for b in live_buses if flags[b]}
        self._bus_events(t, live_buses, failed, islands, bus_island, events)
        live_mask = self._live_mask()[self._load_bus_pos]
        served = np.where(live_mask, inj.demand * inj.served_frac, 0.0) + inj.self_served
        self._shed_events(t, inj.served_frac, live_mask, inj.shed_cause, commanded, events)
        result = self._result(t, inj.demand, served, inj.covered_customers, islands, events, converged)
        result.series["pv_curtailed_collapse_mw"] = float(sum(inj.pv_collapse_mw.values()))
        self.protection.annotate(self, t, inj.demand, result.telemetry)  # trips, transfer trials
        return result

    @property
    def pf_count(self) -> dict[str, int]:
        """Power flows run so far: ``full``, ``recycled``, ``failed``."""
        return self.solver.counts
