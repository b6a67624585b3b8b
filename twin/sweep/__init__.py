"""Sweeps: many runs of one base scenario on Dask, resumable, with paired statistics.

    from twin.sweep import load_sweep, expand, run_sweep
    runs = expand(load_sweep("cosim_configs/sweep_example.toml"))   # list[SweepRun]
    result = run_sweep("cosim_configs/sweep_example.toml", "results/sweep-example")

See docs/sweeps.md for the sweep file, the clusters and the outputs. The names below load
lazily, so ``twin --help`` does not pay for Dask and scipy.
"""

from __future__ import annotations

from importlib import import_module
from typing import Any

_WHERE = {
    "JobqueueOptions": "execute", "SchedulerLostError": "execute", "SweepClusterError": "execute", "SweepResult": "execute",
    "WORKER_ENV": "execute", "connect": "execute", "make_jobqueue_cluster": "execute",
    "run_sweep": "execute",
    "read_manifest": "manifest", "summary": "manifest",
    "Sweep": "spec", "SweepError": "spec", "SweepFile": "spec", "SweepRun": "spec", "expand": "spec",
    "load_sweep": "spec",
    "PairedStat": "stats", "paired": "stats",
}

__all__ = sorted(_WHERE)


def __getattr__(name: str) -> Any:
    if name in _WHERE:
        return getattr(import_module(f"twin.sweep.{_WHERE[name]}"), name)
    raise AttributeError(f"module 'twin.sweep' has no attribute {name!r}")
