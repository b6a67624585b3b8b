"""Topological screening: fast cascades on the dependency graph of interdependent networks.

The engine (:mod:`twin.screening.engine`) runs on any set of graphs with dependency links;
the region adapter (:mod:`twin.screening.region`) builds them from a built twin region;
:mod:`twin.screening.results` writes the HDF5 file (``mode = "topological"``).
"""

from twin.screening.engine import (
    CascadeOutcome,
    DependencyLinks,
    InterdependentSystem,
    Network,
    ScreeningError,
    erdos_renyi_edges,
    many_to_one,
    one_to_one,
    random_removal,
)
from twin.screening.region import RegionScreeningError, RegionSystem, region_system, screen_region
from twin.screening.results import ScreeningResult, read_screening, write_screening

__all__ = [
    "CascadeOutcome", "DependencyLinks", "InterdependentSystem", "Network", "RegionScreeningError",
    "RegionSystem", "ScreeningError", "ScreeningResult", "erdos_renyi_edges", "many_to_one",
    "one_to_one", "random_removal", "read_screening", "region_system", "screen_region",
    "write_screening",
]
