"""What every importer shares: the error naming the file and key, the coordinate transform
into the common frame (metres), and the layout of networks without coordinates."""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from twin.config import FileTransform

log = logging.getLogger(__name__)

LAYOUT_EDGE_M = 500.0  # mean edge length of a generated layout, metres


class InputFileError(ValueError):
    """A file a scenario names is missing, unreadable or inconsistent: bad input (exit 2).

    ``key`` is the scenario's dotted key that names the file, ``path`` the file and
    ``detail`` what is wrong with it.
    """

    def __init__(self, key: str, path: str | Path, message: str):
        self.key = key
        self.path = str(path)
        self.detail = message
        super().__init__(f"{key} ({path}): {message}")


class RegionImportError(InputFileError):
    """A file of ``[region.files]``; ``field`` is the key below ``region.files``."""

    def __init__(self, field: str, path: str | Path, message: str):
        self.field = field
        super().__init__(f"region.files.{field}", path, message)



@dataclass(frozen=True)
class Transform:
    """``x_m = sx * x + ox``, ``y_m = sy * y + oy``."""

    sx: float = 1.0
    sy: float = 1.0
    ox: float = 0.0
    oy: float = 0.0

    @classmethod
    def of(cls, t: FileTransform | None) -> Transform:
        if t is None:
            return cls()
        return cls(t.scale, t.scale_y if t.scale_y is not None else t.scale, t.offset_x_m, t.offset_y_m)

    def __call__(self, x: float, y: float) -> tuple[float, float]:
        return (self.sx * float(x) + self.ox, self.sy * float(y) + self.oy)

    @property
    def identity(self) -> bool:
        return (self.sx, self.sy, self.ox, self.oy) == (1.0, 1.0, 0.0, 0.0)


def layout_positions(
    nodes: list[str], edges: list[tuple[str, str]], known: dict[str, tuple[float, float]],
    what: str, offset: tuple[float, float] = (0.0, 0.0),
) -> dict[str, tuple[float, float]]:
    """Positions for every node: the known ones kept, the rest laid out (with a warning).

    Without any known position the whole graph gets a Kamada-Kawai layout scaled to a mean
    edge length of ``LAYOUT_EDGE_M`` and shifted by ``offset``; otherwise the missing nodes
    get a spring layout around the fixed known ones (deterministic: fixed initial positions).
    """
    import networkx as nx

    missing = [n for n in nodes if n not in known]
    if not missing:
        return dict(known)
    log.warning("%s: %d of %d nodes have no coordinates; laying them out", what, len(missing), len(nodes))
    g = nx.Graph()
    g.add_nodes_from(nodes)
    g.add_edges_from((a, b) for a, b in edges if a != b)
    if not known:
        pos = nx.kamada_kawai_layout(g) if len(nodes) > 1 else {nodes[0]: np.zeros(2)}
        lengths = [float(np.hypot(*(pos[a] - pos[b]))) for a, b in g.edges()]
        mean = float(np.mean(lengths)) if lengths and np.mean(lengths) > 0 else 1.0
        k = LAYOUT_EDGE_M / mean
        return {n: (float(p[0]) * k + offset[0], float(p[1]) * k + offset[1]) for n, p in pos.items()}
    centre = np.mean(np.array(list(known.values())), axis=0)
    init = {n: np.array(known[n], float) for n in known}
    for i, n in enumerate(sorted(missing)):  # fixed start: a small circle round the centre
        a = 2 * math.pi * i / len(missing)
        init[n] = centre + LAYOUT_EDGE_M * np.array([math.cos(a), math.sin(a)])
    pos = nx.spring_layout(g, pos=init, fixed=list(known), k=LAYOUT_EDGE_M, iterations=50, seed=0)
    return {n: (float(p[0]), float(p[1])) for n, p in pos.items()}

