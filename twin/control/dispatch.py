"""Crew dispatch policies (plug-ins): which idle crew takes which open job.

A dispatch policy is any class with an ``assign(time_s, crews, jobs)`` method, named in a
scenario as ``"package.module:Class"`` (``[restoration] dispatch``) and loaded by control
with :func:`load_dispatch_policy`. See docs/restoration.md for the interface and a worked
example; :class:`DefaultDispatchPolicy` below is written in exactly the form a user copies.

``crews`` lists the idle crews, ``jobs`` the open jobs (nobody assigned), both as plain
dicts::

    crew = {"id": "power-1", "sector": "power", "position": "substation",
            "x_m": -836.6, "y_m": -836.6}
    job = {"asset": "power/line/F2-3", "sector": "power", "kind": "repair",  # or "switch"
           "since_s": 3600, "cause_id": "3600|power/line/F2-3|failed",
           "x_m": 120.0, "y_m": -40.0, "critical": True, "customers": 1363,
           "work_h": 4.0}  # expected (median) hours on site

It returns ``{crew id: job asset}``; a crew only takes jobs of its own sector, each job at
most one crew. Crews not named stay idle this step.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any, Protocol

from twin.plugins import kind_of, load_plugin


class DispatchError(ValueError):
    """A dispatch policy cannot be loaded, or returned an impossible assignment."""


class DispatchPolicy(Protocol):
    """What control calls once per step while crews are idle and jobs are open."""

    def assign(self, time_s: int, crews: list[dict[str, Any]],
               jobs: list[dict[str, Any]]) -> dict[str, str]: ...


def travel_h(crew: dict[str, Any], job: dict[str, Any], speed_kmh: float = 30.0,
             detour: float = 1.3) -> float:
    """A planner's estimate of the drive (hours): straight line × detour at ``speed_kmh``.
    The real drive comes from the traffic simulator."""
    dist_m = math.hypot(job["x_m"] - crew["x_m"], job["y_m"] - crew["y_m"])
    return dist_m * detour / (speed_kmh * 1000.0)


def assign_in_turn(crews: list[dict[str, Any]], jobs: list[dict[str, Any]],
                   score: Callable[[dict[str, Any], dict[str, Any]], Any]) -> dict[str, str]:
    """Greedy assignment: each idle crew in id order takes the open job of its own sector
    with the lowest ``score(crew, job)`` that no earlier crew took. Policies differ only in
    the score, so they (and users' policies) can share this loop."""
    taken: set[str] = set()
    out: dict[str, str] = {}
    for crew in sorted(crews, key=lambda c: c["id"]):
        mine = [j for j in jobs if j["sector"] == crew["sector"] and j["asset"] not in taken]
        if mine:
            best = min(mine, key=lambda j, crew=crew: score(crew, j))
            out[crew["id"]] = best["asset"]
            taken.add(best["asset"])
    return out


class DefaultDispatchPolicy:
    """Critical loads first, then the most customers restored per crew-hour.

    For each idle crew (by id), among the open jobs of its sector: jobs whose repair brings
    back a critical load (pumps, the hospital, ICT sites, the control centre, the water
    plant) come first; then the highest ``customers / (travel_h + work_h)``; ties (e.g.
    roads, which serve no customers directly) go to the nearest job, then the oldest, then by
    asset id.
    """

    def __init__(self, speed_kmh: float = 30.0, critical_first: bool = True) -> None:
        if speed_kmh <= 0:
            raise DispatchError("speed_kmh must be positive")
        self.speed_kmh = float(speed_kmh)
        self.critical_first = bool(critical_first)

    def assign(self, time_s: int, crews: list[dict[str, Any]],
               jobs: list[dict[str, Any]]) -> dict[str, str]:
        def score(crew: dict[str, Any], j: dict[str, Any]) -> tuple:
            drive_h = travel_h(crew, j, self.speed_kmh)
            rate = float(j["customers"]) / (drive_h + max(float(j["work_h"]), 1e-6))
            return (not (self.critical_first and j["critical"]), -rate, drive_h, j["since_s"], j["asset"])

        return assign_in_turn(crews, jobs, score)


class OldestFirstDispatchPolicy:
    """First come, first served: each idle crew takes the oldest open job of its sector."""

    def assign(self, time_s: int, crews: list[dict[str, Any]],
               jobs: list[dict[str, Any]]) -> dict[str, str]:
        return assign_in_turn(crews, jobs, lambda crew, j: (j["since_s"], j["asset"]))


EXPECTED_ASSIGNMENT = "expected a dict {crew id: job asset}"


def assignment_problem(value: Any) -> str | None:
    """What is wrong with ``value`` as an assignment's shape (None: nothing); whether its
    crews are idle and its jobs open is checked where it is carried out."""
    if not isinstance(value, dict):
        return f"returned {kind_of(value)}, {EXPECTED_ASSIGNMENT}"
    for cid, asset in value.items():
        if not isinstance(cid, str) or not isinstance(asset, str):
            return (f"returned {cid!r}: {asset!r} ({kind_of(cid)}: {kind_of(asset)}), "
                    f"{EXPECTED_ASSIGNMENT} of strings")
    return None


def load_dispatch_policy(spec: str, **params: Any) -> DispatchPolicy:
    """Instantiate ``"package.module:Class"`` with ``params``; DispatchError if impossible
    (and, during a run, when its ``assign`` returns something that is no assignment)."""
    return load_plugin(spec, "assign", DispatchError, "dispatch policy", returns=assignment_problem, **params)
