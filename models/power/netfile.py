"""Reading the region's pandapower JSON nets fast: a pickle beside each file, made on first read.

``pandapower.from_json`` rebuilds every table through pandas' JSON reader: 0.26 s for the
default region's 429-bus grid, which each run read twice (the grid model, the crews' impact
ranking) and each region build once more (the cost proxy; the coupled loads, which rewrite
the file right after, read it as JSON). Unpickling the same net takes ~0.01 s. The pickle is keyed by the JSON's bytes (SHA-1) and the pandapower version, so an
edited or replaced file, or another pandapower, is read from JSON again. Only for twin's own
files (region folders, the SimBench cache): a user's imported files are read as they are.
"""

from __future__ import annotations

import hashlib
import io
import os
import pickle
import socket
from pathlib import Path
from typing import Any

SUFFIX = ".pickle"


def _key(data: bytes) -> tuple[str, str]:
    import pandapower as pp

    return hashlib.sha1(data, usedforsecurity=False).hexdigest(), str(pp.__version__)


def read_net(path: str | Path) -> Any:
    """``pandapower.from_json(path)`` as a fresh net, from ``<path>.pickle`` when that was
    made from the same bytes by the same pandapower; otherwise read the JSON and (re)write
    the pickle atomically. A folder that cannot be written only loses the speed-up."""
    import pandapower as pp

    path = Path(path)
    data = path.read_bytes()
    key = _key(data)
    cache = path.with_name(path.name + SUFFIX)
    try:
        with cache.open("rb") as f:
            cached_key, net = pickle.load(f)
        if cached_key == key:
            return net
    except Exception:  # no cache yet, a damaged one, or one another version wrote: read the JSON
        pass
    net = pp.from_json(io.StringIO(data.decode("utf-8")))  # the bytes the key is of
    tmp = cache.with_name(f"{cache.name}.{socket.gethostname()}-{os.getpid()}.tmp")  # hosts may share the folder
    try:
        with tmp.open("wb") as f:
            pickle.dump((key, net), f, protocol=pickle.HIGHEST_PROTOCOL)
        os.replace(tmp, cache)
    except OSError:
        tmp.unlink(missing_ok=True)
    return net
