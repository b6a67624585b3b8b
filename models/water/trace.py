"""Source tracing on one hydraulic solution: which share of the water arriving at each node
passed through a given element (a pump, pipe, valve, tank or junction).

This is the complete-mixing share computation of issue 16 ("causes through the
hydraulics"): on the link flows of one solved step, water is followed downstream from the
element. At every node the arriving water is a flow-weighted mix of its inflows
(complete, instantaneous mixing at junctions), so the share of a node is

    share(n) = sum over links L = (m -> n) of |q_L| * g_L / sum of |q_L|

with ``g_L = 1`` when ``L`` is the element (or ``m`` is), else ``share(m)``. Tanks and
reservoirs are sources: the water leaving them is their own stored water (``g = 0`` unless
the tank is the element), so a tank buffers its upstream supply; the share *arriving* at a
tank is still computed, which is what tells which element filled it. Nodes are visited in
topological order of the flow directions (Kahn); the flow graph of a solution is acyclic
except where a pump lifts water around a loop without a tank, where the remaining nodes are
visited once in index order (an approximation, logged at debug level).

The shares answer "which element carried the largest part of this junction's supply", the
question :class:`twin.models.water.operation.WaterOperation` asks when a junction's service
drops (docs/water.md, "Causes").
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

logger = logging.getLogger(__name__)

FLOW_EPS_M3S = 1e-9  # a link with less flow than this carries nothing


class FlowTrace:
    """The topology of one network: link end nodes and which nodes are sources.

    ``link_nodes[i] = (a, b)`` are 0-based node indices of link ``i`` (positive flow runs
    from ``a`` to ``b``); ``sources`` the 0-based indices of tanks and reservoirs.
    """

    def __init__(self, n_nodes: int, link_nodes: Sequence[tuple[int, int]],
                 sources: set[int] | frozenset[int]) -> None:
        self.n_nodes = int(n_nodes)
        self.link_nodes = list(link_nodes)
        self.sources = frozenset(sources)

    def shares(self, flows: Sequence[float], *, links: Sequence[int] = (),
               nodes: Sequence[int] = ()) -> list[float]:
        """Share (0..1) of the water arriving at every node that passed through any of
        ``links`` or ``nodes`` (0-based indices), on the solution with link ``flows``
        (same order as ``link_nodes``; sign = direction). An element node itself has 1."""
        n = self.n_nodes
        elem_links, elem_nodes = frozenset(links), frozenset(nodes)
        inflow = [0.0] * n
        num = [0.0] * n
        indeg = [0] * n
        out: list[list[tuple[int, int, float]]] = [[] for _ in range(n)]
        for i, (a, b) in enumerate(self.link_nodes):
            q = flows[i]
            if q > FLOW_EPS_M3S:
                u, v = a, b
            elif q < -FLOW_EPS_M3S:
                u, v, q = b, a, -q
            else:
                continue
            out[u].append((i, v, q))
            inflow[v] += q
            indeg[v] += 1
        share = [0.0] * n
        done = [False] * n
        ready = [k for k in range(n) if indeg[k] == 0]

        def visit(u: int) -> None:
            if u in elem_nodes:
                share[u] = 1.0
            elif inflow[u] > 0:
                share[u] = min(1.0, num[u] / inflow[u])
            done[u] = True
            leaving = 1.0 if u in elem_nodes else (0.0 if u in self.sources else share[u])
            for i, v, q in out[u]:
                g = 1.0 if i in elem_links else leaving
                num[v] += q * g
                indeg[v] -= 1
                if indeg[v] == 0 and not done[v]:
                    ready.append(v)

        cyclic = 0
        nxt = 0
        while True:
            while ready:
                visit(ready.pop())
            while nxt < n and done[nxt]:
                nxt += 1
            if nxt == n:
                break
            cyclic += 1  # a loop without a tank (a pump lifting water round): approximate
            visit(nxt)
        if cyclic:
            logger.debug("flow trace: %d nodes on flow cycles, visited in index order", cyclic)
        return share
