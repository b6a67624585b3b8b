"""Units of every named quantity twin writes: series, metrics, cost proxies, table columns.

One table and one rule, used by the results writer (the ``units`` attribute of every
dataset) and by readers of version 1 files, which carry no units:

1. an explicit entry :data:`NAMED` for ``<scope>/<name>`` (scope: a sector, ``metrics``,
   ``cost``, ``assets``, ``districts``, ``events``), else for ``<name>``;
2. a metric ``cost_<key>`` has the unit of the cost proxy ``<key>``;
3. else the name's suffix, :data:`SUFFIXES` (``_mw`` -> ``MW``, ``_m3s`` -> ``m3/s``, ...).

Unit strings follow UDUNITS-2 syntax where a physical unit applies (``MW``, ``m3/s``,
``%``; ``MWh`` for megawatt-hours); ``1`` marks a dimensionless number (a fraction, an index,
a 0/1 flag, a code); a count is named by what it counts (``households``, ``vehicles``), a
product by its factors (``household h``).
"""

from __future__ import annotations

from twin.events import SECTORS, SOLVERS

UNKNOWN = "unknown"

# Name suffix -> unit. A suffix matches after an underscore, so ``_mwh`` never reads as ``_h``.
SUFFIXES: dict[str, str] = {
    "mwh": "MWh",
    "mw": "MW",
    "kw": "kW",
    "kv": "kV",
    "m3s": "m3/s",
    "m3": "m3",
    "km": "km",
    "m": "m",
    "ms": "m/s",
    "h": "h",
    "s": "s",
    "pct": "%",
    "meur": "MEUR",
    "frac": "1",
    "index": "1",
    "censored": "1",  # 1 if the quantity was cut off by the horizon
    "applicable": "1",  # 1 if the metric it flags is meaningful for this run (docs/metrics.md)
}

NAMED: dict[str, str] = {
    # power
    "power/customers_out": "households",  # households without supply (docs/metrics.md)
    "battery_soc": "1",  # state of charge, 0..1
    "bus_energised": "1",  # 1 energised, 0 dead
    # water
    "water/customers_out": "people",  # people at junctions delivered < 50 %
    "pump_on": "1",
    "pump_powered": "1",
    "plant_producing": "1",  # 1 while the treatment plant produces
    # traffic (counts per exchange step, or at its end)
    "arrived": "vehicles", "departed": "vehicles", "stuck": "vehicles", "teleports": "vehicles",
    "vehicles_running": "vehicles", "trips_cancelled": "trips", "trips_abandoned": "trips",
    "crews_en_route": "crews",
    "roads_closed": "roads", "signals_dark": "signals",
    "traffic/time_loss_h": "vehicle h", "traffic/district_time_loss_h": "vehicle h",
    # ict
    "site_state": "1",  # code: 1 up, 0 down, 2 up but compromised
    "endpoint_reachable": "1",
    "endpoints_reachable": "endpoints", "endpoints_total": "endpoints",
    "sites_up": "sites", "sites_compromised": "sites",
    # incidents, control
    "failed_assets": "assets",
    **{f"commands_{s}": "commands" for s in SECTORS},
    # cost proxies (/cost)
    "backup_h_total": "h", "ict_sites": "sites", "pumps": "pumps", "tanks": "tanks",
    "wells": "wells",
    # metrics (docs/metrics.md)
    "metrics/customer_outage_h": "household h",
    "metrics/customer_outage_h_power": "household h",
    "metrics/customer_outage_h_water": "household h",
    "metrics/vehicle_delay_h": "vehicle h",
    "primary_failures": "events", "secondary_failures": "events",
    "secondary_failures_customers": "customers",
    "cascade_depth_max": "steps", "cascade_amplification": "1", "cross_sector_hops": "events",
    "cascade_depth_max_all": "steps", "cascade_amplification_all": "1", "cross_sector_hops_all": "events",
    "secondary_failures_all": "events", "secondary_failures_all_customers": "customers",
    "customers_lost_service_secondary": "customers", "primary_failures_with_service_loss": "events",
    "negative_impacts": "metrics",  # how many impact metrics fell below the negative tolerance
    **{f"solver_failure_steps_{s}": "steps" for s in SOLVERS},
    "demand_scale": "1",  # share of the region's trips simulated
    **{f"equity_districts_{c}": "districts" for c in ("city", "town", "rural", "urban")},
    **{f"equity_outage_h_per_person_{c}": "h" for c in ("city", "town", "rural", "urban")},
    # IEEE 1366 frequency indices: interruptions per customer served
    **{f"{i}_{s}": "interruptions/customer" for i in ("saifi", "maifi") for s in ("power", "water")},
    "trips_lost": "trips", "trips_lost_scaled": "trips", "trips_unfinished": "trips",
    "trips_unfinished_scaled": "trips", "trips_cancelled_scaled": "trips",
    "trips_lost_person_h": "person h", "trips_lost_person_h_scaled": "person h",
    "vehicle_delay_h_scaled": "vehicle h",
    "equity_gini": "1", "equity_rural_urban_ratio": "1",
    # access to essential services (twin/metrics/access.py)
    **{f"access_{s}_lost_person_h": "person h" for s in ("hospital", "emergency_call")},
    **{f"access_{s}_lost_h_per_person_{c}": "h" for s in ("hospital", "emergency_call")
       for c in ("city", "town", "rural", "urban")},
    "hospital_reach_frac": "1", "hospital_travel_time_s": "s", "district_emergency_call_frac": "1",
    **{f"min_performance_{s}": "1" for s in SECTORS},
    **{f"metrics/performance/{s}": "1" for s in SECTORS},
    # steps a solver did not solve (/solver_failures/<solver>, docs/architecture.md)
    **{f"solver_failures/{s}": "steps" for s in SOLVERS},
    # table columns
    "assets/customers": "customers",  # households for loads, people for water junctions
    "population": "people", "households": "households",
}


def units_of(name: str, scope: str = "") -> str:
    """The unit of quantity ``name`` in ``scope`` (see the module docstring), or
    :data:`UNKNOWN` when neither the table nor a suffix says."""
    if scope and f"{scope}/{name}" in NAMED:
        return NAMED[f"{scope}/{name}"]
    if name in NAMED:
        return NAMED[name]
    if scope == "metrics" and name.startswith("cost_"):
        return units_of(name.removeprefix("cost_"), "cost")
    for suffix, unit in SUFFIXES.items():
        if name.endswith(f"_{suffix}"):
            return unit
    return UNKNOWN
