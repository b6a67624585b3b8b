"""Seeded random streams: one independent stream per (seed, purpose, asset id).

Deriving every draw from its own SeedSequence makes an asset's damage independent of
which other assets exist, so two configurations of one region get paired
(common-random-number) draws for the assets they share.
"""

from __future__ import annotations

import hashlib

import numpy as np


def _words(text: str) -> list[int]:
    """Stable 32-bit words from a string (Python's hash() is salted per process)."""
    digest = hashlib.sha256(text.encode("utf-8")).digest()
    return [int.from_bytes(digest[i : i + 4], "little") for i in range(0, 16, 4)]


def stream(seed: int, purpose: str, asset_id: str = "") -> np.random.Generator:
    """Return the random generator for one purpose (and optionally one asset).

    Same arguments, same numbers, on every machine and in every process.
    """
    if seed < 0:
        raise ValueError(f"seed must be >= 0, got {seed}")
    entropy = [seed, *_words(purpose), *_words(asset_id)]
    return np.random.default_rng(np.random.SeedSequence(entropy))


def uniform(seed: int, purpose: str, asset_id: str) -> float:
    """One uniform draw in [0, 1) for one asset: the basis of every damage decision."""
    return float(stream(seed, purpose, asset_id).random())
