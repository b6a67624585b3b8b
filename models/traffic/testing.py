"""Small built regions with only the traffic sector, for tests and benchmarks.

``make_region`` writes what ``twin.region.builder`` would (``roads.net.xml`` and a
``region.json``) without running the other sectors' builders; every signal is supplied by
one stand-in bus per district (``power/bus/<district>-signals``), so dark-signal couplings can
be exercised without a power grid.
"""

from __future__ import annotations

import json
from pathlib import Path

from twin.region.assets import REGION_FILE, Dependency, RegionInfo, load_region
from twin.region.layout import make_layout
from twin.region.params import params_for

from .build import build


def signal_bus(district: str) -> str:
    """The stand-in bus that supplies a district's signals in a test region."""
    return f"power/bus/{district}-signals"


def make_region(out_dir: str | Path, size: str = "small", seed: int = 1,
                configuration: str = "centralised") -> RegionInfo:
    """Build the road network of a layout and a minimal region.json next to it."""
    out_dir = Path(out_dir)
    layout = make_layout(size, seed)
    params = params_for(configuration)
    assets = build(layout, params, configuration, out_dir)
    deps: list[Dependency] = [
        Dependency(consumer=a["id"], supplier=signal_bus(a["district"]), coupling="power->traffic")
        for a in assets if a["type"] == "signal"
    ]
    data = {
        "configuration": configuration, "params": params.model_dump(),
        "layout": layout.to_dict(), "assets": assets, "dependencies": deps, "cost": {},
    }
    (out_dir / REGION_FILE).write_text(json.dumps(data, indent=1, sort_keys=True))
    return load_region(out_dir)
