"""twin: a digital twin of a region's coupled infrastructure.

The small public API::

    import twin
    outcomes = twin.run("cosim_configs/default.toml")   # one RunOutcome per configuration
    res = twin.load(outcomes[0].path)                    # a Results object (HDF5 read)
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

__version__ = "0.1.0"

if TYPE_CHECKING:
    from twin.results import Results
    from twin.runner import RunOutcome


def run(
    scenario: str | Path,
    out: str | Path = "results",
    *,
    overrides: list[str] | None = None,
    force: bool = False,
) -> list[RunOutcome]:
    """Run every configuration of a scenario file; see :func:`twin.runner.run_scenario`."""
    from twin.config import load_scenario
    from twin.runner import run_scenario

    return run_scenario(load_scenario(scenario, overrides), out, force=force)


def load(path: str | Path) -> Results:
    """Read a results file written by :func:`run`."""
    from twin.results import load as _load

    return _load(path)


__all__ = ["run", "load", "__version__"]
