"""A user's dispatch policy, named in a test scenario as
``hazard_dispatch_policies:FewestCustomersFirst`` (the form docs/restoration.md shows)."""

from __future__ import annotations

from typing import Any

from twin.control.dispatch import assign_in_turn


class FewestCustomersFirst:
    """Each idle crew takes the open job of its sector with the fewest customers."""

    def assign(self, time_s: int, crews: list[dict[str, Any]],
               jobs: list[dict[str, Any]]) -> dict[str, str]:
        return assign_in_turn(crews, jobs, lambda crew, j: (j["customers"], j["asset"]))
