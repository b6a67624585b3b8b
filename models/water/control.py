"""Pump scheduling rules: the remote schedule (run by the control simulator) and the facts it
needs about a water network (which tank each pump fills, the tank's operating range).

The remote schedule is a level band on each pump's tank, kept fuller than the local fallback
rule (a level switch written into the INP, see build.py): the SCADA holds more reserve for
an outage. A pump without a tank, or whose tank's telemetry did not reach control, gets no
command and follows its local rule.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

REMOTE_LOW_FRAC = 0.5  # the SCADA starts a pump when its tank falls below half its range
REMOTE_HIGH_FRAC = 0.9  # ... and stops it above 90 %


def schedule_pumps(
    tank_level_m: Mapping[str, float],
    pump_tank: Mapping[str, str],
    thresholds: Mapping[str, tuple[float, float]],
    pump_on: Mapping[str, bool] | None = None,
) -> dict[str, bool]:
    """Decide which pumps run, from tank telemetry.

    ``tank_level_m`` {tank id: level m} holds the tanks whose telemetry reached control;
    ``pump_tank`` {pump id: tank id}; ``thresholds`` {tank id: (low m, high m)};
    ``pump_on`` {pump id: running now} (missing = running). A pump is switched on at or
    below ``low``, off at or above ``high``, and keeps its state in between (hysteresis).
    Pumps without a tank or without that tank's telemetry are left out (no command).
    """
    pump_on = pump_on or {}
    out: dict[str, bool] = {}
    for pump, tank in sorted(pump_tank.items()):
        if tank not in tank_level_m or tank not in thresholds:
            continue
        low, high = thresholds[tank]
        level = float(tank_level_m[tank])
        if level <= low:
            out[pump] = True
        elif level >= high:
            out[pump] = False
        else:
            out[pump] = bool(pump_on.get(pump, True))
    return out


def commands_from_schedule(schedule: Mapping[str, bool], cause_id: str = "") -> dict[str, dict]:
    """Turn a schedule into the ``commands`` attribute the water simulator reads."""
    return {pump: {"value": 1.0 if on else 0.0, "cause_id": cause_id} for pump, on in schedule.items()}


def pump_tanks(inp_path: str | Path) -> tuple[dict[str, str], dict[str, tuple[float, float]]]:
    """Read a built ``water.inp``: {pump asset id: tank asset id} from the pumps' tags and the
    remote thresholds {tank asset id: (low m, high m)} from each tank's range.

    Pump ids are ``water/pump/<name>`` or ``water/well/<name>`` (a well pump draws from a
    ``GW-`` reservoir).
    """
    import wntr

    wn = wntr.network.WaterNetworkModel(str(inp_path))
    pump_tank: dict[str, str] = {}
    for name in wn.pump_name_list:
        pump = wn.get_link(name)
        tag = pump.tag
        if tag and tag in wn.tank_name_list:
            pump_tank[pump_asset_id(name, pump.start_node_name)] = f"water/tank/{tag}"
    thresholds: dict[str, tuple[float, float]] = {}
    for name in wn.tank_name_list:
        t = wn.get_node(name)
        span = t.max_level - t.min_level
        thresholds[f"water/tank/{name}"] = (
            t.min_level + REMOTE_LOW_FRAC * span, t.min_level + REMOTE_HIGH_FRAC * span,
        )
    return pump_tank, thresholds


def pump_asset_id(name: str, start_node: str = "") -> str:
    """Asset id of an EPANET pump: a well pump draws from a ``GW-`` groundwater reservoir."""
    return f"water/well/{name}" if start_node.startswith("GW-") else f"water/pump/{name}"
