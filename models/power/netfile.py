"""Reading the region's pandapower JSON nets fast: a pickle beside each file, made on first read.

``pandapower.from_json`` rebuilds every table through pandas' JSON reader: 0.26 s for the
default region's 429-bus grid, which each run read twice (the grid model, the crews' impact
ranking) and each region build once more (the cost proxy; the coupled loads, which rewrite
the file right after, read it as JSON). Unpickling the same net takes ~0.01 s. The pickle
(:func:`twin.filecache.read_cached`) is keyed by the JSON's bytes (SHA-1) and the
pandapower version, so an edited or replaced file, or another pandapower, is read from
JSON again. Only for twin's own files (region folders, the SimBench cache): a user's
imported files are read as they are.
"""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

from twin.filecache import SUFFIX, read_cached

__all__ = ["SUFFIX", "read_net"]


def read_net(path: str | Path) -> Any:
    """``pandapower.from_json(path)`` as a fresh net, from ``<path>.pickle`` when that was
    made from the same bytes by the same pandapower."""
    import pandapower as pp

    return read_cached(path, lambda data: pp.from_json(io.StringIO(data.decode("utf-8"))), str(pp.__version__))
