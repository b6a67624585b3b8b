"""A user's dispatch policy, named in a test scenario as
``hazard_dispatch_policies:FewestCustomersFirst`` (the form docs/restoration.md shows)."""

from __future__ import annotations

from typing import Any


class FewestCustomersFirst:
    """Each idle crew takes the open job of its sector with the fewest customers."""

    def assign(self, time_s: int, crews: list[dict[str, Any]],
               jobs: list[dict[str, Any]]) -> dict[str, str]:
        taken: set[str] = set()
        out: dict[str, str] = {}
        for crew in sorted(crews, key=lambda c: c["id"]):
            mine = [j for j in jobs if j["sector"] == crew["sector"] and j["asset"] not in taken]
            if mine:
                best = min(mine, key=lambda j: (j["customers"], j["asset"]))
                out[crew["id"]] = best["asset"]
                taken.add(best["asset"])
        return out
