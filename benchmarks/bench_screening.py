"""Benchmark: topological screening realisations per second at N = 100,000.

Two Erdős–Rényi networks (<k> = 4) coupled one-to-one (Buldyrev et al. 2010); each
realisation removes a random fraction 1 - p of network A and runs the cascade to its fixed
point. The cost per realisation grows with the cascade length, which peaks at the critical
p (about 0.614), so three values of p are reported: well above, near and below it.

Run: ``python benchmarks/bench_screening.py [--n 100000] [--realisations 20]``.
"""

from __future__ import annotations

import argparse
import platform
import time

import numpy as np

from twin.randomness import stream
from twin.screening.engine import InterdependentSystem, Network, erdos_renyi_edges, one_to_one, random_removal


def coupled_er(n: int, seed: int, mean_degree: float = 4.0, q: float = 1.0) -> InterdependentSystem:
    rng = stream(seed, "bench-er", f"n{n}")
    a = Network.from_edges("A", n, *erdos_renyi_edges(n, mean_degree, rng))
    b = Network.from_edges("B", n, *erdos_renyi_edges(n, mean_degree, rng))
    return InterdependentSystem([a, b], one_to_one("A", "B", n, q=q, rng=rng))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=100_000)
    parser.add_argument("--realisations", type=int, default=20)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()

    t0 = time.perf_counter()
    system = coupled_er(args.n, args.seed)
    build_s = time.perf_counter() - t0
    print(f"# screening benchmark: 2 coupled ER networks, N = {args.n:,}, <k> = 4, "
          f"{args.realisations} realisations per p ({platform.python_version()}, {platform.machine()})")
    print(f"build both graphs: {build_s:.2f} s")
    print(f"{'p':>6} {'realisations/s':>15} {'ms/realisation':>15} {'mean iterations':>16} {'mean MGC':>9}")
    for p in (0.80, 0.62, 0.50):
        t0 = time.perf_counter()
        surviving, iterations = random_removal(system, {"A": p}, args.realisations, args.seed)
        dt = time.perf_counter() - t0
        rate = args.realisations / dt
        print(f"{p:6.2f} {rate:15.1f} {1000 / rate:15.1f} {np.mean(iterations):16.1f} "
              f"{np.mean(surviving[:, 0]):9.3f}")


if __name__ == "__main__":
    main()
