"""Asset and dependency records shared by the region builder, the simulators and the results.

A built region is a folder (see docs/architecture.md, "Built region"): one native file per
sector plus ``region.json``, which holds the layout, the asset table and the dependency map.
Simulators read it through :func:`load_region`, so they receive a path, never a shared
Python object (adapters also run as separate processes).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import NotRequired, TypedDict


class Asset(TypedDict):
    """One row of the asset table.

    ``id`` is ``<sector>/<type>/<name>``, stable and identical across configurations for
    assets that exist in both. ``customers`` counts the people-served units hanging on the
    asset (households for loads, people for water junctions), 0 if none. ``p_mw`` is the
    nominal electrical demand of an asset that ``needs_power`` (pumps, ICT sites, signals).
    ``needs_ict`` marks a remotely controlled endpoint (switch RTU, pump PLC, signal
    controller, prosumer gateway). ``underground`` marks an asset wind cannot reach
    (a cable rather than an overhead line); floods still can. ``length_km`` (generated
    power lines only) is the line's length, for per-km fragilities.
    """

    id: str
    sector: str
    type: str
    x_m: float
    y_m: float
    district: str
    customers: int
    capacity: float
    capacity_unit: str
    critical: bool
    needs_power: bool
    p_mw: float
    needs_ict: bool
    underground: bool
    length_km: NotRequired[float]


class Dependency(TypedDict):
    """``consumer`` functions only while ``supplier`` does, through ``coupling``."""

    consumer: str
    supplier: str
    coupling: str  # e.g. "power->water", "power->ict", "power->traffic", "ict->water"


def make_asset(
    id: str,
    sector: str,
    type: str,
    x_m: float,
    y_m: float,
    district: str,
    *,
    customers: int = 0,
    capacity: float = 0.0,
    capacity_unit: str = "",
    critical: bool = False,
    needs_power: bool = False,
    p_mw: float = 0.0,
    needs_ict: bool = False,
    underground: bool = False,
) -> Asset:
    """Build an asset record with every field present (the HDF5 table needs all columns)."""
    expected = f"{sector}/{type}/"
    if not id.startswith(expected):
        raise ValueError(f"asset id {id!r} must start with {expected!r}")
    return Asset(
        id=id, sector=sector, type=type, x_m=round(float(x_m), 1), y_m=round(float(y_m), 1),
        district=district, customers=int(customers), capacity=float(capacity),
        capacity_unit=capacity_unit, critical=bool(critical), needs_power=bool(needs_power),
        p_mw=float(p_mw), needs_ict=bool(needs_ict), underground=bool(underground),
    )


# A region's hospitals are its power loads named ``power/load/hospital`` (the synthetic
# builder's, at the layout's ``hospital`` facility) or ``power/load/hospital-<k>``. A region
# without one (an imported grid names its own loads) has no hospital access metric
# (docs/metrics.md, "Access to essential services").
HOSPITAL_ID = "power/load/hospital"


def is_hospital(asset_id: str) -> bool:
    """True for the asset id of a hospital (see :data:`HOSPITAL_ID`)."""
    return asset_id == HOSPITAL_ID or asset_id.startswith(HOSPITAL_ID + "-")


REGION_FILE = "region.json"
SECTOR_FILES: dict[str, str] = {
    "power": "power.json",  # pandapower JSON, element names are asset ids
    "water": "water.inp",  # EPANET INP written by wntr
    "traffic": "roads.net.xml",  # SUMO network built with netconvert
    "ict": "ict.json",  # networkx node-link JSON
}


@dataclass(frozen=True)
class RegionInfo:
    """What a simulator needs to know about a built region, read from its folder."""

    root: Path
    configuration: str
    layout: dict
    assets: list[Asset]
    dependencies: list[Dependency]
    params: dict  # the configuration parameters the region was built with
    cost: dict  # cost proxy of the configuration (lengths, capacities)

    def path(self, sector: str) -> Path:
        return self.root / SECTOR_FILES[sector]

    def assets_of(self, sector: str, type: str | None = None) -> list[Asset]:
        return [a for a in self.assets if a["sector"] == sector and (type is None or a["type"] == type)]

    def suppliers(self, coupling: str) -> dict[str, str]:
        """consumer id -> supplier id for one coupling (each consumer has one supplier)."""
        return {d["consumer"]: d["supplier"] for d in self.dependencies if d["coupling"] == coupling}

    @property
    def districts(self) -> list[dict]:
        return list(self.layout["districts"])


def load_region(root: str | Path) -> RegionInfo:
    """Read ``region.json`` of a built region folder."""
    root = Path(root)
    data = json.loads((root / REGION_FILE).read_text())
    return RegionInfo(
        root=root,
        configuration=data["configuration"],
        layout=data["layout"],
        assets=data["assets"],
        dependencies=data["dependencies"],
        params=data["params"],
        cost=data.get("cost", {}),
    )
