"""The engine against the theory of interdependent networks (Buldyrev 2010, Parshani 2010).

All graphs are Erdős–Rényi with mean degree 4, drawn in numpy. For one realisation the
removal is nested in p (node i of A is removed when its uniform u_i >= p), so the mutual
giant component as a function of p is one realisation's curve and a jump in it is a real
discontinuity, not noise between realisations.
"""

from __future__ import annotations

import numpy as np
import pytest

from twin.randomness import stream
from twin.screening.engine import InterdependentSystem, Network, erdos_renyi_edges, one_to_one

K = 4.0
P_C_THEORY = 2.4554 / K  # Buldyrev et al. 2010, ER networks coupled one-to-one


def coupled_er(n: int, seed: int, q: float = 1.0) -> InterdependentSystem:
    rng = stream(seed, "test-er", f"n{n}-q{q}")
    a = Network.from_edges("A", n, *erdos_renyi_edges(n, K, rng))
    b = Network.from_edges("B", n, *erdos_renyi_edges(n, K, rng))
    return InterdependentSystem([a, b], one_to_one("A", "B", n, q=q, rng=rng))


def mgc(system: InterdependentSystem, u: np.ndarray, p: float) -> float:
    """Surviving fraction of A (the mutual giant component for q = 1) when u >= p is removed."""
    return system.cascade({"A": u >= p}).surviving_fraction(system)["A"]


def theory_partial(p: float, q: float, k: float = K) -> float:
    """Fraction of A in the final functioning set for two ER networks, a fraction q coupled
    in bidirectional one-to-one pairs, 1 - p removed from A (Parshani et al. 2010 in the
    form of Son et al. 2012): x = p g(x) [1 - q + q g(y)], y = g(y) [1 - q + q p g(x)],
    g(z) = 1 - exp(-k z). Iterated from x = y = 1, which finds the physical (largest) root."""
    x = y = 1.0
    for _ in range(100_000):
        gx, gy = 1.0 - np.exp(-k * x), 1.0 - np.exp(-k * y)
        x_new, y_new = p * gx * (1 - q + q * gy), gy * (1 - q + q * p * gx)
        if abs(x_new - x) + abs(y_new - y) < 1e-13:
            return float(x_new)
        x, y = x_new, y_new
    return float(x)


def test_theory_helper_reduces_to_buldyrev_equation() -> None:
    """With q = 1 the partial-coupling equations are P = p (1 - e^{-kP})^2."""
    p_value = theory_partial(0.75, 1.0)
    assert p_value == pytest.approx(0.75 * (1 - np.exp(-K * p_value)) ** 2, abs=1e-10)
    assert 0.63 < p_value < 0.64
    # and below the theoretical threshold only the trivial root is left
    assert theory_partial(P_C_THEORY - 0.005, 1.0) < 1e-6


def test_buldyrev_mutual_giant_component_at_p_075() -> None:
    """N = 50,000: the measured mutual giant component matches the theory within 0.02."""
    n = 50_000
    expected = theory_partial(0.75, 1.0)
    for seed in (1, 2):
        system = coupled_er(n, seed)
        u = stream(seed, "test-removal", "A").random(n)
        outcome = system.cascade({"A": u >= 0.75})
        frac = outcome.surviving_fraction(system)
        assert frac["A"] == pytest.approx(expected, abs=0.02)
        # one-to-one coupling both ways: the two functioning sets are mirror images
        assert np.array_equal(outcome.functional["A"], outcome.functional["B"])


def critical_p(system: InterdependentSystem, u: np.ndarray, lo: float, hi: float,
               tol: float = 0.002, level: float = 0.1) -> float:
    """Bisection for the p at which the mutual giant component jumps from ~0 to above
    ``level`` (theory: from 0 to about 0.34 at p_c), on one realisation's nested removal."""
    assert mgc(system, u, hi) > level and mgc(system, u, lo) < level
    while hi - lo > tol:
        mid = 0.5 * (lo + hi)
        if mgc(system, u, mid) > level:
            hi = mid
        else:
            lo = mid
    return 0.5 * (lo + hi)


def test_buldyrev_critical_p_within_3_percent() -> None:
    """N = 50,000, four realisations: p_c within 3 % of 2.4554 / <k> (each and on average),
    and the jump at p_c is abrupt (first order): the MGC drops from about 0.3 to about 0."""
    n = 50_000
    measured = []
    for seed in (11, 12, 13, 14):
        system = coupled_er(n, seed)
        u = stream(seed, "test-removal", "A").random(n)
        p_c = critical_p(system, u, 0.58, 0.66)
        measured.append(p_c)
        assert abs(p_c - P_C_THEORY) / P_C_THEORY < 0.03
        above, below = mgc(system, u, p_c + 0.001), mgc(system, u, p_c - 0.001)
        assert above > 0.25 and below < 0.01
    assert abs(np.mean(measured) - P_C_THEORY) / P_C_THEORY < 0.03


JUMP_THRESHOLD = 0.05  # largest allowed rise of the surviving fraction between p and p + 0.005


def max_jump(system: InterdependentSystem, u: np.ndarray, ps: np.ndarray) -> tuple[float, np.ndarray]:
    curve = np.array([mgc(system, u, p) for p in ps])
    return float(np.diff(curve).max()), curve


def test_parshani_weak_coupling_collapse_is_continuous() -> None:
    """q = 0.2, well below the critical coupling (q_c is about 0.62 for two ER networks
    with <k> = 4, from the theory above): on a p grid of step 0.005 across the transition,
    the surviving fraction never rises by more than 0.05 between neighbours, and the curve
    follows the theory within 0.03."""
    n = 50_000
    ps = np.arange(0.22, 0.40, 0.005)
    system = coupled_er(n, 21, q=0.2)
    u = stream(21, "test-removal", "A").random(n)
    jump, curve = max_jump(system, u, ps)
    assert jump < JUMP_THRESHOLD
    assert curve[0] < 0.02 and curve[-1] > 0.2  # the grid does cross the transition
    theory = np.array([theory_partial(p, 0.2) for p in ps])
    assert np.abs(curve - theory).max() < 0.03


def test_parshani_strong_coupling_collapse_is_abrupt() -> None:
    """The same measurement with q = 0.9 (above q_c) finds a jump far above the threshold:
    the continuity test above can fail."""
    n = 50_000
    ps = np.arange(0.50, 0.62, 0.005)
    system = coupled_er(n, 22, q=0.9)
    u = stream(22, "test-removal", "A").random(n)
    jump, _ = max_jump(system, u, ps)
    assert jump > 0.2


def test_theory_critical_coupling_between_weak_and_strong() -> None:
    """The theory's own largest jump on a fine grid: tiny at q = 0.2, large at q = 0.9."""
    ps = np.arange(0.2, 0.7, 0.002)
    for q, small in ((0.2, True), (0.9, False)):
        curve = np.array([theory_partial(p, q) for p in ps])
        jump = np.diff(curve).max()
        assert (jump < 0.01) if small else (jump > 0.2)
