"""What a configuration costs: the indicative cost proxy and the annualised cost
(docs/metrics.md, "Cost proxy" and "Annualised cost")."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass

import numpy as np

from twin.region.params import ConfigurationParams, params_for
from twin.results import Results

# Indicative unit costs (M EUR per unit of each cost-proxy quantity): an assumption, only to
# put the configurations' network lengths and assets on one axis.
UNIT_COST_MEUR: dict[str, float] = {
    "line_km": 0.1,
    "pipe_km": 0.5,
    "pv_mw": 0.9,
    "battery_mwh": 0.4,
    "wells": 0.3,
    "pumps": 0.2,
    "tanks": 0.5,
    "ict_sites": 0.15,
    "backup_h_total": 0.005,
}


def cost_index_meur(cost: dict[str, float]) -> float:
    """sum_k UNIT_COST_MEUR[k] * cost[k] over the cost-proxy quantities (M EUR, indicative)."""
    return float(sum(UNIT_COST_MEUR[k] * float(v) for k, v in cost.items() if k in UNIT_COST_MEUR))


# --- annualised cost ---------------------------------------------------------------------
#
# Annualised cost of a configuration: every asset class's investment turned into an annuity
# at a real discount rate over its lifetime, plus a fixed share of it per year for operation
# and maintenance. Quantities come from the results file alone (asset table, /cost, the
# resolved scenario's configuration parameters); unit costs and lifetimes are below, once,
# with their sources in docs/metrics.md ("Annualised cost").

DISCOUNT_RATE = 0.05  # real, per year


@dataclass(frozen=True)
class UnitCost:
    """Investment per unit (EUR), lifetime (years), O&M per year as a share of the investment."""

    unit: str
    eur: float
    lifetime_y: int
    om_share: float


UNIT_COSTS: dict[str, UnitCost] = {
    "overhead_line_km": UnitCost("km", 80_000.0, 40, 0.01),
    "cable_km": UnitCost("km", 150_000.0, 40, 0.005),
    "transformer_mva": UnitCost("MVA", 20_000.0, 40, 0.01),
    "central_plant_kw": UnitCost("kW", 900.0, 30, 0.03),
    "pv_kw": UnitCost("kW", 1_400.0, 25, 0.015),
    "home_battery_kwh": UnitCost("kWh", 800.0, 12, 0.01),
    "community_battery_kwh": UnitCost("kWh", 500.0, 12, 0.015),
    "backup_generator_kw": UnitCost("kW", 400.0, 20, 0.02),
    "backup_fuel_kwh": UnitCost("kWh", 20.0, 20, 0.0),
    "ict_site": UnitCost("site", 150_000.0, 10, 0.05),
    "ict_battery_kwh": UnitCost("kWh", 500.0, 8, 0.01),
    "well": UnitCost("well", 300_000.0, 40, 0.02),
    "tank": UnitCost("tank", 500_000.0, 50, 0.01),
    "pump": UnitCost("pump", 200_000.0, 20, 0.03),
    "pipe_km": UnitCost("km", 500_000.0, 60, 0.005),
}


def annuity_factor(rate: float, years: int) -> float:
    """r / (1 - (1 + r)^-n): the share of an investment paid each year over n years at rate r."""
    if years <= 0:
        raise ValueError(f"lifetime must be positive, got {years}")
    return 1.0 / years if rate == 0 else rate / (1.0 - (1.0 + rate) ** -years)


def _params(r: Results) -> ConfigurationParams | None:
    """The run's configuration parameters from its resolved scenario (None if unreadable)."""
    config = str(r.attrs.get("configuration", ""))
    try:
        data = tomllib.loads(str(r.attrs.get("scenario_toml", "")))
        overrides = data.get("region", {}).get("configurations", {}).get(config, {})
        return params_for(config, overrides)
    except (tomllib.TOMLDecodeError, ValueError):
        return None


def cost_quantities(r: Results) -> dict[str, float] | None:
    """Each asset class's quantity in the unit of :data:`UNIT_COSTS`; None when the run's
    configuration parameters cannot be read (no resolved scenario, unknown configuration)."""
    params = _params(r)
    if params is None:
        return None
    a = r.assets
    kind = np.array([f"{s}/{t}" for s, t in zip(a["sector"], a["type"], strict=True)])
    cap = np.asarray(a["capacity"], float)
    p_kw = np.asarray(a["p_mw"], float) * 1000.0
    lines = kind == "power/line"
    under = np.asarray(a["underground"], bool)
    cable_share = float(under[lines].mean()) if lines.any() else 0.0
    line_km = float(r.cost.get("line_km", 0.0))
    pumps = kind == "water/pump"
    sites = kind == "ict/site"
    gens = kind == "water/generator"
    if gens.any():  # generator assets: sized for their station, capacity = hours of fuel
        generators_kw = float(p_kw[gens].sum())
        fuel_kwh = float((p_kw[gens] * cap[gens]).sum())
    else:  # results written before generators were assets: one per pump station
        generators_kw = float(p_kw[pumps].sum()) if params.pump_backup_h > 0 else 0.0
        fuel_kwh = generators_kw * params.pump_backup_h
    return {
        "overhead_line_km": line_km * (1.0 - cable_share),
        "cable_km": line_km * cable_share,
        "transformer_mva": float(cap[kind == "power/trafo"].sum()),
        "central_plant_kw": float(cap[kind == "power/plant"].sum()) * 1000.0,
        "pv_kw": float(r.cost.get("pv_mw", 0.0)) * 1000.0,
        "home_battery_kwh": float(cap[kind == "power/battery"].sum()) * 1000.0,
        "community_battery_kwh": float(cap[kind == "power/microgrid"].sum()) * 1000.0,
        "backup_generator_kw": generators_kw,
        "backup_fuel_kwh": fuel_kwh,
        "ict_site": float(sites.sum()),
        # an ICT site's capacity is its backup hours (core sites may have more than access sites)
        "ict_battery_kwh": float((p_kw[sites] * cap[sites]).sum()),
        "well": float(r.cost.get("wells", 0.0)),
        "tank": float(r.cost.get("tanks", 0.0)),
        "pump": float(r.cost.get("pumps", 0.0)),
        "pipe_km": float(r.cost.get("pipe_km", 0.0)),
    }


def annualised_cost(r: Results, rate: float = DISCOUNT_RATE) -> dict[str, float | None]:
    """``annual_cost_<class>_meur`` (annuity + O&M) per class and ``annual_cost_meur``, their
    sum, and ``investment_meur``; None (not applicable) when the quantities are unknown."""
    q = cost_quantities(r)
    out: dict[str, float | None] = {}
    for k in UNIT_COSTS:
        out[f"annual_cost_{k}_meur"] = None
    if q is None:
        return {**out, "annual_cost_meur": None, "investment_meur": None}
    total = invest = 0.0
    for k, u in UNIT_COSTS.items():
        capex = q[k] * u.eur / 1e6
        annual = capex * (annuity_factor(rate, u.lifetime_y) + u.om_share)
        out[f"annual_cost_{k}_meur"] = annual
        total += annual
        invest += capex
    return {**out, "annual_cost_meur": total, "investment_meur": invest}
