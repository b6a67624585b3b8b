"""twin: a digital twin of a region's coupled infrastructure.

The small public API::

    import twin
    outcomes = twin.run("cosim_configs/default.toml")   # one RunOutcome per configuration
    res = twin.load(outcomes[0].path)                    # a Results object (HDF5 read)
    res.to_xarray("power")                               # labelled series, with units
    res.to_dataframe("water", "junction_pressure_m")     # time x junction

``twin.Results`` and ``twin.ResultsError`` are importable from here too (loaded on first use,
so that ``import twin`` stays light).
"""

from __future__ import annotations

from importlib import metadata
from pathlib import Path
from typing import TYPE_CHECKING, Any

try:  # one source of truth: the version in pyproject.toml, as installed
    __version__ = metadata.version("twin")
except metadata.PackageNotFoundError:  # a checkout that was never installed
    __version__ = "0+unknown"

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


def __getattr__(name: str) -> Any:
    if name in ("Results", "ResultsError"):
        from twin import results

        return getattr(results, name)
    raise AttributeError(f"module 'twin' has no attribute {name!r}")


__all__ = ["run", "load", "Results", "ResultsError", "__version__"]
