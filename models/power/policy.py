"""Power policies: the plug-ins that decide load shedding and battery modes each step.

A policy is any class with a ``decide(telemetry) -> commands`` method, named in a scenario
as ``"module:Class"`` and loaded by the control simulator with :func:`load_policy`. The
control simulator calls ``decide`` every step with the power simulator's ``telemetry``
output and sends the returned commands (time-shifted by one step) to the power input
``commands``. See docs/policies.md for the telemetry fields and a worked example.

Commands are ``{asset_id: {"value": float, "cause_id": str}}``:

- a load (``power/load/*`` or a coupled consumer such as ``water/pump/PS1``): the share of
  its demand to serve this step, 0 = shed, 1 = serve;
- a home or community battery (``power/battery/*``, ``power/microgrid/*``): its mode,
  0 = self-consumption, 1 = backup reserve, 2 = grid support;
- a PV plant (``power/pv/*``): the maximum share of its output (curtailment);
- a switch (``power/switch/*``): 1 = close, 0 = open (the position persists).

Load and battery commands hold for one step: without a command the power simulator falls
back to its local rule (serve every load the island's supply allows, shedding in its own
``shed_order`` when short; batteries in their default mode).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from numbers import Real
from typing import Any, Protocol, runtime_checkable

from twin.models.power.grid import BATTERY_MODES, DEFAULT_SHED_ORDER
from twin.models.power.outputs import plain_telemetry
from twin.plugins import kind_of, load_plugin

Commands = dict[str, dict[str, float | str]]


class PolicyError(ValueError):
    """A policy spec that cannot be loaded, or a policy that does not fit the interface."""


@runtime_checkable
class PowerPolicy(Protocol):
    """The interface: one method, called once per step by the control simulator."""

    def decide(self, telemetry: dict) -> Commands:
        """Return commands for the next step from this step's power telemetry."""
        ...


def _rank(category: str, order: tuple[str, ...]) -> int:
    if category in order:
        return order.index(category)
    return order.index("other") if "other" in order else len(order)


def shed_plan(loads: dict[str, dict], excess_mw: float, order: tuple[str, ...],
              protected: tuple[str, ...] = ()) -> list[str]:
    """Loads to shed, in ``order`` (largest first within a category), until ``excess_mw`` is met.

    Loads of ``protected`` categories are never in the plan.
    """
    plan: list[str] = []
    candidates = sorted(
        (lid for lid, ld in loads.items() if ld["category"] not in protected and ld["demand_mw"] > 0),
        key=lambda lid: (_rank(loads[lid]["category"], order), -loads[lid]["demand_mw"], lid),
    )
    for lid in candidates:
        if excess_mw <= 1e-9:
            break
        plan.append(lid)
        excess_mw -= loads[lid]["demand_mw"]
    return plan


def transfer_ok(trial: dict | None, max_loading_pct: float = 100.0, min_vm_pu: float = 0.95) -> bool:
    """Whether a tie transfer's trial power flow (telemetry ``transfer_trials``) has headroom:
    it converged, no branch above ``max_loading_pct`` and no MV bus below ``min_vm_pu``.
    Without a trial (telemetry from an older grid) the transfer is allowed."""
    if trial is None:
        return True
    return bool(trial.get("converged")) and float(trial["max_loading_pct"]) <= max_loading_pct \
        and float(trial["min_vm_pu"]) >= min_vm_pu


def restoration_commands(telemetry: dict, check_transfers: bool = False, max_loading_pct: float = 100.0,
                         min_vm_pu: float = 0.95) -> Commands:
    """Fault isolation and service restoration (FISR) on a radial grid with tie switches.

    - Isolate: open the closed switches of every failed line or transformer.
    - Restore: for each connected group of buses not supplied by the main grid (dead, or
      running on a microgrid or the plant), close one normally open tie (the first by id)
      whose other end is on the main grid; one tie per group keeps the grid radial. With
      ``check_transfers``, a tie whose trial power flow (:func:`transfer_ok`) would overload
      a branch or take an MV bus below ``min_vm_pu`` is refused and the next one tried.
    - Return to normal: once nothing is failed, put every switch back in its normal position,
      except breakers that protection tripped (telemetry ``tripped``): a crew recloses them.

    Commands name the failure event as cause where there is one.
    """
    import networkx as nx

    closed = telemetry.get("switch_closed", {})
    normal = telemetry.get("switch_normally_closed", {})
    buses = telemetry.get("buses", {})
    branches = telemetry.get("branches", [])
    commands: Commands = {}
    tripped = telemetry.get("tripped", {})
    trials = telemetry.get("transfer_trials", {})
    failed = [br for br in branches if br["failed"]]
    if not failed:
        moved = [sw for sw, nc in normal.items() if sw in closed and closed[sw] != nc and sw not in tripped]
        for sw in sorted(moved):
            commands[sw] = {"value": 1.0 if normal[sw] else 0.0, "cause_id": ""}
        return commands
    for br in failed:
        for sw in br["switches"]:
            if closed.get(sw, False):
                commands[sw] = {"value": 0.0, "cause_id": br["cause_id"]}
    # groups of buses off the main grid, joined by healthy branches whose switches are closed
    graph = nx.Graph()
    off = {b for b, kind in buses.items() if kind != "grid"}
    graph.add_nodes_from(off)
    for br in branches:
        if br["failed"] or br["from"] not in off or br["to"] not in off:
            continue
        if all(closed.get(sw, True) for sw in br["switches"]):
            graph.add_edge(br["from"], br["to"])
    causes = {b: br["cause_id"] for br in failed for b in (br["from"], br["to"])}
    # healthy branches with an open switch from an off bus to the main grid, by that off bus
    ties_at: dict[str, list[dict]] = {}
    for br in branches:
        if br["failed"] or not br["switches"] or all(closed.get(sw, True) for sw in br["switches"]):
            continue
        if br["from"] in off and buses.get(br["to"]) == "grid":
            ties_at.setdefault(br["from"], []).append(br)
        elif br["to"] in off and buses.get(br["from"]) == "grid":
            ties_at.setdefault(br["to"], []).append(br)
    for group in sorted((sorted(c) for c in nx.connected_components(graph)), key=lambda c: c[0]):
        ties = sorted(
            (br for b in group for br in ties_at.get(b, ())
             if not check_transfers or transfer_ok(trials.get(br["id"]), max_loading_pct, min_vm_pu)),
            key=lambda br: br["id"],
        )
        if not ties:
            continue
        tie = ties[0]
        cause = next((causes[b] for b in group if b in causes), "")
        for sw in tie["switches"]:
            if not closed.get(sw, True):
                commands[sw] = {"value": 1.0, "cause_id": cause}
    return commands


def loads_by_island(telemetry: Mapping[str, Any]) -> dict[Any, dict[str, dict]]:
    """Telemetry ``loads`` grouped by their island's id, in load order."""
    out: dict[Any, dict[str, dict]] = {}
    for lid, ld in telemetry.get("loads", {}).items():
        out.setdefault(ld["island"], {})[lid] = ld
    return out


class DefaultPowerPolicy:
    """Protect critical loads first and stretch islanded microgrids.

    Each step, for every supplied island:

    - if its demand exceeds its capacity, shed loads in ``shed_order`` (default: households
      first; pumps, the hospital and ICT sites last) until it fits;
    - if it is a microgrid whose remaining energy lasts less than ``min_hours`` at the
      current demand, shed further loads in the same order, never touching the
      ``protected`` categories, so that critical loads keep supply longer.

    Home batteries are put in ``battery_mode`` (default backup reserve). With ``restore``
    (default on) it also isolates faults and restores supply over tie switches
    (:func:`restoration_commands`), refusing transfers without headroom unless
    ``check_transfers`` is off (``max_loading_pct``, ``min_vm_pu``: the limits of the check).
    """

    def __init__(
        self,
        shed_order: tuple[str, ...] | list[str] = DEFAULT_SHED_ORDER,
        min_hours: float = 4.0,
        protected: tuple[str, ...] | list[str] = ("water", "hospital", "ict"),
        battery_mode: str = "backup",
        restore: bool = True,
        check_transfers: bool = True,
        max_loading_pct: float = 100.0,
        min_vm_pu: float = 0.95,
    ) -> None:
        if battery_mode not in BATTERY_MODES:
            raise PolicyError(f"unknown battery mode {battery_mode!r}; choose one of {BATTERY_MODES}")
        self.shed_order = tuple(shed_order)
        self.min_hours = float(min_hours)
        self.protected = tuple(protected)
        self.battery_mode = battery_mode
        self.restore = bool(restore)
        self.check_transfers = bool(check_transfers)
        self.max_loading_pct = float(max_loading_pct)
        self.min_vm_pu = float(min_vm_pu)

    def decide(self, telemetry: dict) -> Commands:
        commands: Commands = {}
        by_island: dict[Any, dict[str, dict]] | None = None  # the loads, grouped when first needed
        for isl in telemetry.get("islands", []):
            if isl["kind"] == "dead":
                continue
            demand = isl["demand_mw"]  # the grid's left-to-right sum of its loads' demand
            short = isl["capacity_mw"] >= 0 and demand > isl["capacity_mw"]
            if not short and not (isl["kind"] == "microgrid" and demand > 0):
                continue  # supply covers demand: nothing to shed
            if by_island is None:
                by_island = loads_by_island(telemetry)
            members = by_island.get(isl["id"], {})
            cause = str(isl.get("cause_id", ""))
            shed: list[str] = []
            if short:
                shed = shed_plan(members, demand - isl["capacity_mw"], self.shed_order)
            if isl["kind"] == "microgrid" and demand > 0:
                keep_mw = isl["energy_mwh"] / self.min_hours  # what the energy carries for min_hours
                rest = {lid: ld for lid, ld in members.items() if lid not in shed}
                still = sum(ld["demand_mw"] for ld in rest.values())
                if still > keep_mw:
                    shed += shed_plan(rest, still - keep_mw, self.shed_order, self.protected)
            for lid in shed:
                commands[lid] = {"value": 0.0, "cause_id": cause}
        if self.restore:
            commands.update(restoration_commands(telemetry, self.check_transfers, self.max_loading_pct,
                                                 self.min_vm_pu))
        mode = float(BATTERY_MODES.index(self.battery_mode))
        for asset in sorted(telemetry.get("battery_soc", {})):
            if asset.startswith("power/battery/"):
                commands[asset] = {"value": mode, "cause_id": ""}
        return commands


class PriorityPolicy(DefaultPowerPolicy):
    """The default policy with another shedding order, e.g. ``("ict", "household", ...)``.

    Scenario example: ``policy = "twin.models.power.policy:PriorityPolicy"`` with
    ``policy_params = {shed_order = ["traffic", "household", "ict", "hospital", "water"]}``.
    """

    def __init__(self, shed_order: tuple[str, ...] | list[str], **kwargs) -> None:
        super().__init__(shed_order=shed_order, **kwargs)


class NoActionPolicy:
    """Issue no command: every asset follows the power simulator's local fallback rule."""

    def decide(self, telemetry: dict) -> Commands:
        return {}


EXPECTED_COMMANDS = "expected a dict of commands {asset: {value, cause_id}}"


def commands_problem(value: Any) -> str | None:
    """What is wrong with ``value`` as a policy's commands (None: nothing). Each command is
    a dict with a finite number ``value`` and an optional string ``cause_id``."""
    if not isinstance(value, dict):
        return f"returned {kind_of(value)}, {EXPECTED_COMMANDS}"
    for asset, cmd in value.items():
        if not isinstance(asset, str):
            return f"returned a command for {asset!r} ({kind_of(asset)}), expected asset ids as keys"
        if not isinstance(cmd, dict):
            return f"returned {kind_of(cmd)} for {asset!r}, expected a command {{value, cause_id}}"
        if "value" not in cmd:
            return f"returned a command for {asset!r} without 'value', expected {{value, cause_id}}"
        v = cmd["value"]
        if not isinstance(v, Real) or not math.isfinite(v):
            return f"returned value {v!r} ({kind_of(v)}) for {asset!r}, expected a finite number"
        if not isinstance(cmd.get("cause_id", ""), str):
            return f"returned cause_id {cmd['cause_id']!r} for {asset!r}, expected a string (an event id or '')"
    return None


def telemetry_for(policy: object, telemetry: Mapping[str, Any]) -> dict[str, Any]:
    """What ``policy.decide`` is given: a copy of the telemetry. The grid hands out its own
    branch list, switch and bus maps (the same objects while nothing changes) and builds
    the per-load dicts only when read (:class:`~twin.models.power.outputs.LoadTelemetry`);
    twin's own policies only read them, a policy from outside this module gets plain dicts
    and lists of its own."""
    if type(policy).__module__ == __name__:
        return dict(telemetry)
    out = plain_telemetry(telemetry)
    if "branches" in out:
        out["branches"] = [dict(br) for br in out["branches"]]
    for key in ("switch_closed", "switch_normally_closed", "buses"):
        if isinstance(out.get(key), dict):
            out[key] = dict(out[key])
    return out


def load_policy(spec: str, **params) -> PowerPolicy:
    """Instantiate ``"package.module:Class"`` with ``params`` and check it fits the interface."""
    return load_plugin(spec, "decide", PolicyError, "policy", returns=commands_problem, **params)
