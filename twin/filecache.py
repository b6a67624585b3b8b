"""Parsed files kept beside the file as a pickle, made on the first read: a read cache.

Some of twin's own files cost far more to parse than to unpickle: pandapower's
``from_json`` of the default grid ~0.26 s, the road network's XML ~50 ms, each read by
every run. :func:`read_cached` keeps ``<file>.pickle``, keyed by the file's bytes (SHA-1)
and the parser's ``version``, so an edited or replaced file, or another parser, is parsed
again. Only for twin's own files (region folders, the SimBench cache): a user's imported
files are read as they are, nothing written beside them.
"""

from __future__ import annotations

import hashlib
import os
import pickle
import socket
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

T = TypeVar("T")

SUFFIX = ".pickle"  # <file><SUFFIX>; exports of a region leave these out


def read_cached(path: str | Path, parse: Callable[[bytes], T], version: str) -> T:
    """``parse(path's bytes)``, from ``<path>.pickle`` when that was made from the same bytes
    with the same ``version``; otherwise parse and (re)write the pickle atomically. A
    folder that cannot be written only loses the speed-up."""
    path = Path(path)
    data = path.read_bytes()
    key = (hashlib.sha1(data, usedforsecurity=False).hexdigest(), version)
    cache = path.with_name(path.name + SUFFIX)
    try:
        with cache.open("rb") as f:
            cached_key, value = pickle.load(f)
        if cached_key == key:
            return value
    except Exception:  # noqa: BLE001 - no cache yet, a damaged one, or an older one: parse the file
        pass
    value = parse(data)
    tmp = cache.with_name(f"{cache.name}.{socket.gethostname()}-{os.getpid()}.tmp")  # hosts may share the folder
    try:
        with tmp.open("wb") as f:
            pickle.dump((key, value), f, protocol=pickle.HIGHEST_PROTOCOL)
        os.replace(tmp, cache)
    except OSError:
        tmp.unlink(missing_ok=True)
    return value
