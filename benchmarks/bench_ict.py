"""Benchmark: cost of the ICT reachability update per step, incremental vs from scratch.

Runs the ICT network alone (no mosaik) on the ``default`` and ``large`` layouts in every
configuration, under a seeded random sequence of site and link failures and repairs (a few
elements change per step, like a storm passing), and reports per step: the incremental
update inside ``IctNetwork.step`` (batteries, site state, reachability, events), the plain
``Reachability.update``, and a breadth-first search from scratch (``bfs_reachable``), plus
the share of sites the incremental update had to relabel.

    python benchmarks/bench_ict.py [--steps 2000]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from twin.models.ict.build import load_graph
from twin.models.ict.fixtures import make_ict_region
from twin.models.ict.network import IctNetwork, Reachability, bfs_reachable, endpoints_from_region
from twin.randomness import stream
from twin.region.assets import load_region

STEP_S = 300


def failure_sequence(elements: list[str], steps: int, seed: int) -> list[set[str]]:
    """Down sets per step: each step fails or repairs 1-3 random elements (at most 10% down)."""
    rng = stream(seed, "bench-ict")
    down: set[str] = set()
    out = []
    for _ in range(steps):
        for _ in range(int(rng.integers(1, 4))):
            el = elements[int(rng.integers(len(elements)))]
            if el in down:
                down.discard(el)
            elif len(down) < max(1, len(elements) // 10):
                down.add(el)
        out.append(set(down))
    return out


def bench(size: str, configuration: str, steps: int, tmp: Path) -> dict[str, float]:
    root = make_ict_region(tmp / f"{size}-{configuration}", size, configuration,
                           endpoints_per_kind=3)
    region = load_region(root)
    g = load_graph(root)
    eps = endpoints_from_region(region, g)
    links = sorted(e["id"] for *_, e in g.edges(data=True))
    seq = failure_sequence(sorted(g.nodes) + links, steps, seed=1)
    split = [({x for x in d if x in g}, {x for x in d if x not in g}) for d in seq]

    net = IctNetwork(g, eps, region.suppliers("power->ict"))
    t0 = time.perf_counter()
    for k, d in enumerate(seq):
        net.step(k * STEP_S, STEP_S, {x: f"F|{x}" for x in d}, {})
    t_step = (time.perf_counter() - t0) / steps

    reach = Reachability(g, eps)
    touched = 0
    t0 = time.perf_counter()
    for sites, lks in split:
        reach.update(sites, lks)
        touched += reach.touched_last
    t_inc = (time.perf_counter() - t0) / steps

    t0 = time.perf_counter()
    for sites, lks in split:
        bfs_reachable(g, eps, sites, lks)
    t_bfs = (time.perf_counter() - t0) / steps
    return {
        "sites": g.number_of_nodes(), "links": g.number_of_edges(), "endpoints": len(eps),
        "step_us": t_step * 1e6, "incremental_us": t_inc * 1e6, "bfs_us": t_bfs * 1e6,
        "touched_share": touched / steps / g.number_of_nodes(),
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--steps", type=int, default=2000)
    args = ap.parse_args()
    header = (f"{'layout':8} {'configuration':14} {'sites':>5} {'links':>5} {'endp':>5} "
              f"{'step µs':>8} {'incr µs':>8} {'BFS µs':>8} {'touched':>8}")
    print(header)
    with tempfile.TemporaryDirectory() as tmp:
        for size in ("default", "large"):
            for configuration in ("centralised", "decentralised", "anchor_towns"):
                r = bench(size, configuration, args.steps, Path(tmp))
                print(f"{size:8} {configuration:14} {r['sites']:5d} {r['links']:5d} "
                      f"{r['endpoints']:5d} {r['step_us']:8.1f} {r['incremental_us']:8.1f} "
                      f"{r['bfs_us']:8.1f} {r['touched_share']:8.0%}")


if __name__ == "__main__":
    main()
