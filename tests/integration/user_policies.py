"""A user's own power policy, as a scenario names it (`user_policies:PumpsLast`...).

Importable in the tests because pytest puts this folder on sys.path.
"""

from __future__ import annotations

from twin.models.power.policy import DefaultPowerPolicy


class SacrificeHouseholdsLast(DefaultPowerPolicy):
    """Shed the pumps and ICT sites first and households last: the opposite of the default."""

    def __init__(self, **params: object) -> None:
        super().__init__(shed_order=("water", "ict", "traffic", "other", "control", "hospital",
                                     "household"), protected=(), **params)
