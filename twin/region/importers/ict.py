"""A user's ICT graph (networkx node-link JSON) in the common frame."""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from pathlib import Path
from typing import Any

from twin.region.importers.common import RegionImportError, Transform, layout_positions
from twin.region.params import ConfigurationParams


def read_ict(spec: str, transform: Transform, district_of: Callable[[float, float], str],
             params: ConfigurationParams, configuration: str, parents: dict[str, str]) -> Any:
    """A user's ICT graph (node-link JSON): sites with ``x``/``y`` (file units) and ``role``.

    Roles: ``access`` (default; endpoints attach to these), ``router``, ``datacentre``,
    ``tmc``, ``controller``. Site ``DCC`` (the data and control centre) must exist, and
    ``TMC`` too when the road net has signals; with ``edge_control`` twin adds the edge
    controllers of the generated rule (:func:`add_edge_controllers`).
    """
    import networkx as nx

    from twin.models.ict.build import DCC_ID, LINK_PREFIX, ROLE_P_MW, SITE_PREFIX, link_id, site_backup_h

    path = Path(spec)
    if not path.is_file():
        raise RegionImportError("ict", spec, "no such file")
    try:
        raw = nx.node_link_graph(json.loads(path.read_text()), edges="links")
    except Exception as err:  # json or networkx structure errors
        raise RegionImportError("ict", spec, f"not a networkx node-link JSON graph: {err}") from err
    g = nx.Graph()
    ids = {n: n if str(n).startswith(SITE_PREFIX) else f"{SITE_PREFIX}{n}" for n in raw.nodes}
    known = {}
    for n, data in raw.nodes(data=True):
        x, y = data.get("x_m", data.get("x")), data.get("y_m", data.get("y"))
        if x is not None and y is not None:
            known[ids[n]] = transform(float(x), float(y))
    pos = layout_positions(list(ids.values()), [(ids[a], ids[b]) for a, b in raw.edges()], known,
                           f"ict ({spec})", (transform.ox, transform.oy))
    for n, data in raw.nodes(data=True):
        role = str(data.get("role", "access"))
        if role not in ROLE_P_MW:
            raise RegionImportError("ict", spec, f"site {n!r} has unknown role {role!r}; use {sorted(ROLE_P_MW)}")
        x, y = pos[ids[n]]
        g.add_node(ids[n], role=role, x_m=round(x, 1), y_m=round(y, 1), district=district_of(x, y),
                   backup_h=float(data.get("backup_h", site_backup_h(role, params))), p_mw=ROLE_P_MW[role])
    for a, b, data in raw.edges(data=True):
        na, nb = g.nodes[ids[a]], g.nodes[ids[b]]
        lid = str(data.get("id") or link_id(ids[a], ids[b]))
        g.add_edge(ids[a], ids[b], id=lid if lid.startswith(LINK_PREFIX) else f"{LINK_PREFIX}{lid}",
                   medium=str(data.get("medium", "fibre")), backbone=bool(data.get("backbone", True)),
                   length_m=round(math.hypot(na["x_m"] - nb["x_m"], na["y_m"] - nb["y_m"]), 1))
    if DCC_ID not in g:
        raise RegionImportError("ict", spec, f"no data and control centre site {DCC_ID!r}")
    if not any(d["role"] == "access" for _, d in g.nodes(data=True)):
        raise RegionImportError("ict", spec, "no site with role 'access' for endpoints to attach to")
    if params.edge_control:
        add_edge_controllers(g, configuration, parents, params)
    g.graph.update(configuration=configuration, edge_control=bool(params.edge_control),
                   control_centre=DCC_ID, tmc="ict/site/TMC", parents=parents)
    return g


def add_edge_controllers(g: Any, configuration: str, parents: dict[str, str],
                         params: ConfigurationParams) -> None:
    """Edge controllers in a user's ICT graph, by the generated layer's rule
    (``twin.models.ict.build.controller_site``: one per district, or per anchor town and the
    city in ``anchor_towns``), each beside its district's first access site (by id) with a
    fibre backbone link to it; a district without an access site gets its controller beside
    the graph's first access site, so every endpoint's controller exists."""
    from twin.models.ict.build import ROLE_P_MW, controller_site, link_id

    for d in sorted(parents):
        ctrl = controller_site(configuration, True, d, parents[d])
        owner = ctrl.rsplit("/", 1)[-1][2:]  # "ict/site/EC<district>"
        access = sorted(n for n, a in g.nodes(data=True) if a["role"] == "access" and a["district"] == owner)
        access = access or sorted(n for n, a in g.nodes(data=True) if a["role"] == "access")
        if ctrl in g:
            continue
        anchor = g.nodes[access[0]]
        g.add_node(ctrl, role="controller", x_m=round(anchor["x_m"] + 10.0, 1), y_m=round(anchor["y_m"] + 10.0, 1),
                   district=owner, backup_h=float(params.ict_backup_h), p_mw=ROLE_P_MW["controller"])
        g.add_edge(ctrl, access[0], id=link_id(ctrl, access[0]), medium="fibre", backbone=True, length_m=14.1)
