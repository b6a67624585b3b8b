"""Checks of a scenario beyond its schema: the dependency CSV, the region and the plug-ins.

``twin validate`` and ``twin run`` call :func:`check_scenario` before any simulation starts:
it builds (or loads the cached) region of every configuration and resolves every id the
scenario names against it (outage assets, cyber-attack sites, crew depots), and loads each
plug-in with its parameters. Every problem is collected and raised at once as a
:class:`twin.config.ScenarioError` naming the file and the dotted key (exit 2).
"""

from __future__ import annotations

import csv
import logging
from pathlib import Path
from typing import TYPE_CHECKING, Any

from twin.config import ASSET_TYPES, CyberHazard, OutageHazard, Scenario, ScenarioError

if TYPE_CHECKING:
    from concurrent.futures import Executor

log = logging.getLogger(__name__)

DEPENDENCY_KEY = "region.files.dependencies"
# Couplings a dependency CSV may give: the ones the simulators implement through the
# region's dependency table (a power bus feeding a consumer, an ICT access site serving an
# endpoint). Other cross-sector effects (water->power, traffic->restoration) are modelled
# without dependency rows and cannot be given in the CSV.
DEPENDENCY_COUPLINGS: tuple[str, ...] = (
    "power->water", "power->ict", "power->traffic", "ict->power", "ict->water", "ict->traffic",
)
SUPPLIER_TYPE = {"power": "bus", "ict": "site"}  # what supplies each source sector


def _asset_problem(aid: str, role: str) -> str | None:
    sector, _, rest = aid.partition("/")
    typ, _, name = rest.partition("/")
    if not name:
        return f"{role} {aid!r} is not an asset id <sector>/<type>/<name>"
    if sector not in ASSET_TYPES:
        return f"{role} {aid!r}: unknown sector {sector!r}"
    if typ not in ASSET_TYPES[sector]:
        return f"{role} {aid!r}: {sector} has no asset type {typ!r}"
    return None


def dependency_problems(path: Path, key: str = DEPENDENCY_KEY) -> list[str]:
    """Every problem of a dependency CSV ``consumer,supplier[,coupling]`` that needs no region:
    row shape, id syntax, the coupling's name and direction, its supplier type, repeats."""
    try:
        text = path.read_bytes().decode("utf-8")
    except OSError as err:
        return [f"{key}: cannot read {path}: {err.strerror}"]
    except UnicodeDecodeError as err:
        return [f"{key}: {path} is not UTF-8 text (byte {err.start}); save it as UTF-8"]
    problems: list[str] = []
    seen: dict[tuple[str, str], int] = {}
    try:
        rows = list(csv.reader(text.splitlines()))
    except csv.Error as err:
        return [f"{key}: {path} is not CSV: {err}"]
    for k, row in enumerate(rows, start=1):
        row = [c.strip() for c in row]
        if not row or not any(row) or row[0].startswith("#") or row[0].lower() == "consumer":
            continue
        where = f"{key}: {path.name} line {k}"
        if not 2 <= len(row) <= 3:
            problems.append(f"{where}: expected consumer,supplier[,coupling], got {len(row)} columns")
            continue
        consumer, supplier = row[0], row[1]
        bad = [p for p in (_asset_problem(consumer, "consumer"), _asset_problem(supplier, "supplier")) if p]
        if bad:
            problems.extend(f"{where}: {p}" for p in bad)
            continue
        c_sector, s_sector = consumer.split("/")[0], supplier.split("/")[0]
        coupling = row[2] if len(row) > 2 and row[2] else f"{s_sector}->{c_sector}"
        if coupling not in DEPENDENCY_COUPLINGS:
            problems.append(f"{where}: coupling {coupling!r} is not one the simulators implement "
                            f"({', '.join(DEPENDENCY_COUPLINGS)})")
            continue
        source, _, target = coupling.partition("->")
        if (source, target) != (s_sector, c_sector):
            problems.append(f"{where}: coupling {coupling!r} needs a {source} supplier and a {target} "
                            f"consumer, not {supplier} -> {consumer}")
            continue
        if supplier.split("/")[1] != SUPPLIER_TYPE[source]:
            problems.append(f"{where}: a {source} supplier must be a {source}/{SUPPLIER_TYPE[source]}, "
                            f"not {supplier}")
            continue
        if (consumer, source) in seen:
            problems.append(f"{where}: {consumer} already has a {source} supplier on line {seen[consumer, source]}")
            continue
        seen[consumer, source] = k
    return problems


def region_problems(scenario: Scenario, region: Any, configuration: str) -> list[str]:
    """Ids the scenario names that the built region of ``configuration`` does not have."""
    ids = {a["id"] for a in region.assets}
    districts = {d["id"] for d in region.districts}
    facilities = {f["id"] for f in region.layout.get("facilities", [])}
    where = " in the region"
    problems = []
    for i, h in enumerate(scenario.hazards):
        if isinstance(h, OutageHazard) and h.asset not in ids:
            problems.append(f"hazards[{i}].asset: no asset {h.asset!r}{where} (see `twin region show`)")
        if isinstance(h, CyberHazard) and h.target not in ids:
            problems.append(f"hazards[{i}].target: no ICT site {h.target!r}{where}")
    for sector, places in scenario.restoration.depots.items():
        for j, p in enumerate(places):
            if p not in ids | districts | facilities:
                problems.append(f"restoration.depots.{sector}[{j}]: {p!r} is no facility, district or asset{where}")
    return problems


def _load_power_policy(scenario: Scenario) -> Any:
    """The scenario's power policy, loaded with the parameters control passes it."""
    from twin.control.controller import _takes
    from twin.models.power.policy import load_policy

    power = scenario.power
    params = dict(power.policy_params)
    if power.shed_order is not None and "shed_order" not in params and _takes(power.policy, "shed_order"):
        params["shed_order"] = list(power.shed_order)
    return load_policy(power.policy, **params)


def plugin_problems(scenario: Scenario) -> list[str]:
    """Load each plug-in the scenario names with its parameters, as control would."""
    from twin.control.dispatch import DispatchError, load_dispatch_policy
    from twin.models.power.policy import PolicyError

    problems = []
    try:
        _load_power_policy(scenario)
    except PolicyError as err:
        problems.append(f"power.policy: {err}")
    rest = scenario.restoration
    try:
        load_dispatch_policy(rest.dispatch, **rest.dispatch_params)
    except DispatchError as err:
        problems.append(f"restoration.dispatch: {err}")
    return problems


CATEGORY_OF_SECTOR = {"water": "water", "ict": "ict", "traffic": "traffic"}


def sample_telemetry(region: Any, step_s: int) -> dict[str, Any]:
    """A power telemetry of ``region`` in the shape docs/policies.md gives: one grid island
    serving every load, batteries full, switches in their normal position, nothing failed
    or tripped. It stands for the first step's, to call a policy once before any run."""
    loads = {
        a["id"]: {"demand_mw": float(a["p_mw"]), "served": True, "critical": bool(a["critical"]),
                  "category": "household" if a["sector"] == "power" else CATEGORY_OF_SECTOR.get(a["sector"], "other"),
                  "district": a["district"], "island": "power/grid/main"}
        for a in region.assets
        if (a["sector"] == "power" and a["type"] == "load") or (a["sector"] != "power" and a["needs_power"])
    }
    switches = [a["id"] for a in region.assets_of("power", "switch")]
    storage = [a["id"] for a in region.assets if a["sector"] == "power" and a["type"] in ("battery", "microgrid")]
    return {
        "time_s": 0, "step_s": int(step_s),
        "islands": [{"id": "power/grid/main", "kind": "grid", "cause_id": "", "capacity_mw": -1.0,
                     "demand_mw": sum(ld["demand_mw"] for ld in loads.values()), "energy_mwh": 0.0}],
        "loads": loads, "battery_soc": dict.fromkeys(storage, 1.0),
        "switch_closed": dict.fromkeys(switches, True), "switch_normally_closed": dict.fromkeys(switches, True),
        "buses": {a["id"]: "grid" for a in region.assets_of("power", "bus")},
        "branches": [], "tripped": {}, "transfer_trials": {},
    }


def sample_dispatch(region: Any) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """One idle crew per sector and one open repair job per sector of ``region``, in the
    shape docs/restoration.md gives, to call a dispatch policy once before any run."""
    crews, jobs = [], []
    for sector in ("power", "water", "ict", "traffic"):
        assets = sorted(region.assets_of(sector), key=lambda a: a["id"])
        if not assets:
            continue
        a = assets[0]
        crews.append({"id": f"{sector}-1", "sector": sector, "position": a["district"],
                      "x_m": float(a["x_m"]), "y_m": float(a["y_m"])})
        jobs.append({"asset": a["id"], "sector": sector, "kind": "repair", "since_s": 0,
                     "cause_id": f"0|{a['id']}|failed", "x_m": float(a["x_m"]), "y_m": float(a["y_m"]),
                     "critical": bool(a["critical"]), "customers": int(a["customers"]), "work_h": 4.0})
    return crews, jobs


def plugin_output_problems(scenario: Scenario, region: Any) -> list[str]:
    """Call each plug-in once on a representative input built from ``region`` and check
    what it returns (its shape, and for a policy that it commands assets of the region)."""
    from twin.control.dispatch import DispatchError, load_dispatch_policy
    from twin.models.power.policy import PolicyError

    problems = []
    try:
        policy = _load_power_policy(scenario)
        commands = policy.decide(sample_telemetry(region, scenario.run.step_s))
        ids = {a["id"] for a in region.assets}
        unknown = sorted(set(commands) - ids)
        if unknown:
            problems.append(f"power.policy: policy {scenario.power.policy}.decide() returned a command for "
                            f"{unknown[0]!r}, which is no asset of the region")
    except PolicyError as err:
        problems.append(f"power.policy: {err} (called once on a sample telemetry of the region)")
    rest = scenario.restoration
    try:
        crews, jobs = sample_dispatch(region)
        load_dispatch_policy(rest.dispatch, **rest.dispatch_params).assign(0, crews, jobs)
    except DispatchError as err:
        problems.append(f"restoration.dispatch: {err} (called once on sample crews and jobs of the region)")
    return problems


def _region_slot(scenario: Scenario, configuration: str) -> tuple[str, str]:
    """Where :func:`check_scenario` keeps a configuration's loaded region."""
    return scenario.region.model_dump_json(), configuration


def _built_in(pool: Executor, scenario: Scenario, out_dir: Path,
              regions: dict[tuple[str, str], Any]) -> dict[tuple[str, str], Any]:
    """The regions not yet in ``regions``, built by ``pool``'s workers side by side. A build
    that fails is left out: :func:`check_scenario` builds it again here and reports why."""
    from twin.runner import region_in_worker

    todo = [c for c in dict.fromkeys(scenario.run.configurations) if _region_slot(scenario, c) not in regions]
    futures = {c: pool.submit(region_in_worker, (scenario, c, out_dir)) for c in todo}
    built = {}
    for c, future in futures.items():
        try:
            built[_region_slot(scenario, c)] = future.result()
        except Exception:  # noqa: BLE001 - any failure is found and reported by the check itself
            log.debug("region of %s not built in a worker; built again for the check", c, exc_info=True)
    return built


def _plugin_key(scenario: Scenario) -> str:
    """What the plug-in checks of a scenario depend on besides its region: the plug-ins,
    their parameters and the step (the sample telemetry's)."""
    power, rest = scenario.power, scenario.restoration
    return repr((power.policy, power.policy_params, power.shed_order, rest.dispatch, rest.dispatch_params,
                 scenario.run.step_s))


def check_scenario(scenario: Scenario, source: str, out_dir: Path,
                   regions: dict[tuple[str, str], Any] | None = None,
                   pool: Executor | None = None,
                   plugin_checks: dict[tuple[str, ...], list[str]] | None = None) -> None:
    """Plug-ins, then the region of every configuration (built or loaded from the cache in
    ``out_dir``; a bad import file is a problem naming its ``region.files`` key and path),
    the disruption files read against it; ScenarioError with every problem found. ``regions`` keeps the loaded
    regions between calls (a sweep checks many scenarios on few regions), ``plugin_checks``
    the plug-ins' problems per plug-in set and region (a sweep's thousands of points share
    a few: loading and calling them for each point was most of ``twin validate study.toml``).
    ``pool`` (:func:`twin.runner.worker_pool`) builds the regions side by side in its workers first."""
    from twin.region.disruption import DisruptionFileError, check_disruption_files
    from twin.region.importers import RegionImportError
    from twin.runner import region_for

    regions = {} if regions is None else regions
    plugin_checks = {} if plugin_checks is None else plugin_checks
    if pool is not None:
        regions.update(_built_in(pool, scenario, out_dir, regions))
    plugins = _plugin_key(scenario)
    if (plugins,) not in plugin_checks:
        plugin_checks[(plugins,)] = plugin_problems(scenario)
    problems = list(plugin_checks[(plugins,)])
    loaded = not problems  # call the plug-ins once, on the first region, if they load
    found: dict[str, list[str]] = {}
    for configuration in scenario.run.configurations:
        key = _region_slot(scenario, configuration)
        if key not in regions:
            try:
                regions[key] = region_for(scenario, configuration, out_dir)
            except RegionImportError as err:  # an import file: name it and its key
                found.setdefault(f"{err.key}: {err.path}: {err.detail}", []).append(configuration)
                continue
        region = regions[key]
        try:
            check_disruption_files(scenario, region.assets)
        except DisruptionFileError as err:
            found.setdefault(f"{err.key}: {err.path}: {err.detail}", []).append(configuration)
        if loaded:
            if (plugins, *key) not in plugin_checks:
                plugin_checks[(plugins, *key)] = plugin_output_problems(scenario, region)
            problems += plugin_checks[(plugins, *key)]
            loaded = False
        for p in region_problems(scenario, region, configuration):
            found.setdefault(p, []).append(configuration)
    problems += [f"{p} ({', '.join(c)})" for p, c in found.items()]
    if problems:
        raise ScenarioError(source, problems)
