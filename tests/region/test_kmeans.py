"""Districts of imported regions come from scipy's k-means from a deterministic start."""

from __future__ import annotations

import numpy as np

from twin.region.importers.districts import kmeans


def test_three_clear_clusters_give_their_means() -> None:
    a = np.array([[0.0, 0.0], [2.0, 0.0], [0.0, 2.0]])             # mean (2/3, 2/3)
    b = np.array([[100.0, 100.0], [102.0, 100.0]])                 # mean (101, 100)
    c = np.array([[-100.0, 50.0], [-100.0, 54.0], [-104.0, 52.0]])  # mean (-101.33, 52)
    centres = kmeans(np.vstack([a, b, c]), 3)
    got = sorted(map(tuple, np.round(centres, 6)))
    want = sorted(map(tuple, np.round([a.mean(0), b.mean(0), c.mean(0)], 6)))
    assert got == want


def test_deterministic_and_k_capped_by_points() -> None:
    pts = np.random.default_rng(3).normal(size=(60, 2)) * 500
    assert np.array_equal(kmeans(pts, 4), kmeans(pts, 4))
    assert kmeans(pts[:2], 5).shape == (2, 2)
