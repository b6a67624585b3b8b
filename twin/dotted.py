"""Dotted keys of scenario data (``hazards[0].peak_wind_ms``) and ``--set`` values."""

from __future__ import annotations

import re
import tomllib
from typing import Any

_SEGMENT = re.compile(r"^([A-Za-z_][A-Za-z0-9_]*)((?:\[\d+\])*)$")


def parse_key(key: str) -> list[str | int]:
    """``hazards[0].peak_wind_ms`` -> ``["hazards", 0, "peak_wind_ms"]``; ValueError if malformed."""
    parts: list[str | int] = []
    for segment in key.split("."):
        m = _SEGMENT.match(segment)
        if not m:
            raise ValueError(f"{key!r} is not a dotted key (e.g. run.hours or hazards[0].peak_wind_ms)")
        parts.append(m.group(1))
        parts.extend(int(i) for i in re.findall(r"\[(\d+)\]", m.group(2)))
    return parts


def set_dotted(data: dict[str, Any], key: str, value: Any) -> None:
    """Set ``key`` in raw scenario data, creating tables on the way (like ``twin run --set``)."""
    parts = parse_key(key)
    node: Any = data
    for i, p in enumerate(parts[:-1]):
        nxt = parts[i + 1]
        if isinstance(p, int):
            if not isinstance(node, list) or p >= len(node):
                raise ValueError(f"{key}: no item [{p}] (the base has {len(node) if isinstance(node, list) else 0})")
            node = node[p]
        else:
            if not isinstance(node, dict):
                raise ValueError(f"{key}: {p} is inside a value that is not a table")
            node = node.setdefault(p, [] if isinstance(nxt, int) else {})
    last = parts[-1]
    if isinstance(last, int):
        if not isinstance(node, list) or last >= len(node):
            raise ValueError(f"{key}: no item [{last}]")
        node[last] = value
    elif not isinstance(node, dict):
        raise ValueError(f"{key}: the parent is not a table")
    else:
        node[last] = value




def parse_value(text: str) -> Any:
    """A ``--set`` value: TOML syntax (numbers, booleans, quoted strings, arrays) or a bare string."""
    try:
        return tomllib.loads(f"v = {text}")["v"]
    except tomllib.TOMLDecodeError:
        return text
