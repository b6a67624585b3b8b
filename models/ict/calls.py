"""Emergency calls over the ICT layer: which districts' people can place one right now.

An emergency call needs a working radio access site serving the caller's district and a
path of up sites and links from it to the answering point. The region's data and control
centre(s) (role ``datacentre``, ``ict/site/DCC``) stand for the core network and the
public-safety answering point. A site is working while it is up: not failed, and powered by
its bus or its battery (:class:`~twin.models.ict.network.IctNetwork`). People are split
evenly over the access sites serving their district (the builder places base stations by
population, one per ~5,000 people in the city), so a district's share is the share of its
serving sites that work. Plain functions, testable without mosaik (docs/ict.md,
"Emergency calls").
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping

import networkx as nx

ANSWER_ROLE = "datacentre"  # the site role that answers emergency calls
ACCESS_ROLE = "access"  # radio access: base stations (edge controllers do not serve phones)


def answer_sites(graph: nx.Graph) -> tuple[str, ...]:
    """Sites that answer emergency calls (empty: the region has none; the metric is n/a)."""
    return tuple(sorted(n for n, a in graph.nodes(data=True) if a.get("role") == ANSWER_ROLE))


def serving_sites(graph: nx.Graph, districts: Iterable[Mapping]) -> dict[str, tuple[str, ...]]:
    """District id -> the access sites serving it: those in the district, else the one
    nearest its centre (``districts``: dicts with ``id``, ``x_m``, ``y_m``)."""
    access = sorted(n for n, a in graph.nodes(data=True) if a.get("role") == ACCESS_ROLE)
    out: dict[str, tuple[str, ...]] = {}
    for d in districts:
        own = tuple(n for n in access if graph.nodes[n].get("district") == d["id"])
        if not own and access:
            xy = (float(d["x_m"]), float(d["y_m"]))
            own = (min(access, key=lambda n: (math.dist(
                (graph.nodes[n]["x_m"], graph.nodes[n]["y_m"]), xy), n)),)
        out[str(d["id"])] = own
    return out


def call_frac(serving: Mapping[str, tuple[str, ...]], answers: Iterable[str],
              component_of: Callable[[str], set[str]]) -> dict[str, float]:
    """Share of each district's people with a working emergency-call path.

    ``component_of(site)``: the up sites connected to ``site`` (empty when it is down), so a
    serving site works when it is in the component of an answering site. A district with no
    serving site has share 0.
    """
    joined: set[str] = set()
    for a in answers:
        joined |= component_of(a)
    return {d: (sum(s in joined for s in sites) / len(sites) if sites else 0.0)
            for d, sites in serving.items()}
