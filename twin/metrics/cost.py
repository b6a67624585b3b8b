"""The cost proxy of a configuration (docs/metrics.md, "Cost")."""

from __future__ import annotations

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
