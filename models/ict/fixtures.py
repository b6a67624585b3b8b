"""A small built region with the ICT network only, for tests and the benchmark.

The real region builder (twin/region/builder.py) maps endpoints and power by proximity; this
fixture mimics it without the other sectors: per district a few endpoints (switch RTUs,
a pump PLC, signal controllers, prosumer gateways) attached to their nearest access site,
and every site fed from one bus per district (``power/bus/<district>``).
"""

from __future__ import annotations

import json
import math
from pathlib import Path

from twin.models.ict.build import build

from twin.region.assets import REGION_FILE, Asset, Dependency, make_asset
from twin.region.layout import make_layout
from twin.region.params import params_for

ENDPOINT_KINDS: tuple[tuple[str, str], ...] = (
    ("power", "switch"), ("power", "gateway"), ("water", "pump"), ("traffic", "signal"),
)


def district_bus(district: str) -> str:
    """The fixture's power bus of a district."""
    return f"power/bus/{district}"


def make_ict_region(
    out_dir: str | Path,
    size: str = "small",
    configuration: str = "centralised",
    seed: int = 1,
    endpoints_per_kind: int = 1,
    overrides: dict | None = None,
) -> Path:
    """Write ``ict.json`` and ``region.json`` (ICT assets, endpoints, dependencies)."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    layout = make_layout(size, seed)
    params = params_for(configuration, overrides)
    ict_assets = build(layout, params, configuration, out)
    access = [a for a in ict_assets if a["type"] == "site" and a["capacity_unit"] == "access"]
    assets: list[Asset] = list(ict_assets)
    deps: list[Dependency] = []
    for d in layout.districts:
        for sector, kind in ENDPOINT_KINDS:
            for k in range(endpoints_per_kind):
                ang = 2.0 * math.pi * (ENDPOINT_KINDS.index((sector, kind)) + 0.37 * k) / 4.0
                x = d.x_m + 0.5 * d.radius_m * math.cos(ang)
                y = d.y_m + 0.5 * d.radius_m * math.sin(ang)
                a = make_asset(f"{sector}/{kind}/{d.id}-{k + 1}", sector, kind, x, y, d.id,
                               needs_ict=True)
                assets.append(a)
                near = min(access, key=lambda s: (math.hypot(s["x_m"] - x, s["y_m"] - y), s["id"]))
                deps.append(Dependency(consumer=a["id"], supplier=near["id"],
                                       coupling=f"ict->{sector}"))
    for a in ict_assets:
        if a["type"] == "site":
            deps.append(Dependency(consumer=a["id"], supplier=district_bus(a["district"]),
                                   coupling="power->ict"))
    region = {
        "configuration": configuration,
        "params": params.model_dump(),
        "layout": layout.to_dict(),
        "assets": assets,
        "dependencies": deps,
        "cost": {},
    }
    (out / REGION_FILE).write_text(json.dumps(region, indent=1))
    return out
