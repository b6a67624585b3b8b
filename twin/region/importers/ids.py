"""Id tables of an imported region: the names other tools use for its components (the
element names in the user's files, InfraRisk's ``T_L<n>`` for TNTP link *n*) mapped to
twin's asset ids, so a disruption file written for the original files can be read."""

from __future__ import annotations

import re
from pathlib import Path

from twin.region.assets import Asset
from twin.region.importers.power import clean_name
from twin.region.importers.tntp import EDGE_PREFIX

INFRARISK_LINK = re.compile(r"^T_L(\d+)$")  # InfraRisk's id of TNTP link n


def id_table(assets: list[Asset]) -> dict[str, list[str]]:
    """Native name -> the asset ids carrying it (the last part of the id: a pandapower
    ``name``, an EPANET id, a SUMO edge or junction). More than one id: ambiguous."""
    table: dict[str, list[str]] = {}
    for a in assets:
        table.setdefault(a["id"].rsplit("/", 1)[-1], []).append(a["id"])
    return table


def motor_drives(dependencies_csv: str | None, assets: list[Asset]) -> dict[str, str]:
    """``{motor asset id: consumer}`` for the dependency rows whose supplier is a motor
    (docs/regions.md, "A pump's motor"): damage to such a motor stops its consumer."""
    if not dependencies_csv or not Path(dependencies_csv).is_file():
        return {}
    from twin.region.importers.dependencies import read_dependencies

    return {d["supplier"]: d["consumer"] for d in read_dependencies(dependencies_csv, assets)
            if d["supplier"].startswith("power/motor/") and d["coupling"].startswith("power->")}


def resolve(names: list[str], assets: list[Asset], drives: dict[str, str] | None = None,
            ) -> tuple[dict[str, str], list[str], dict[str, list[str]]]:
    """Map component names to asset ids: an asset id as it is; ``T_L<n>`` to the road of TNTP
    link *n*; else a unique native name (as in the file, or cleaned as the importers clean
    names: spaces and ``/`` to ``_``). A motor that drives a consumer maps to it.

    Returns (name -> asset id, unknown names, ambiguous name -> candidate ids)."""
    ids = {a["id"] for a in assets}
    table = id_table(assets)
    drives = drives or {}
    found: dict[str, str] = {}
    unknown: list[str] = []
    ambiguous: dict[str, list[str]] = {}
    for name in dict.fromkeys(names):
        aid: str | None = None
        m = INFRARISK_LINK.match(name)
        if name in ids:
            aid = name
        elif m and f"traffic/road/{EDGE_PREFIX}{m.group(1)}" in ids:
            aid = f"traffic/road/{EDGE_PREFIX}{m.group(1)}"
        else:
            key = name if name in table else clean_name(name)  # "Line 0" in the file: Line_0
            if len(table.get(key, [])) == 1:
                aid = table[key][0]
            elif key in table:
                ambiguous[name] = sorted(table[key])
                continue
        if aid is None:
            unknown.append(name)
            continue
        found[name] = drives.get(aid, aid)
    return found, unknown, ambiguous
