"""The dependency CSV (``consumer,supplier[,coupling]``) and proximity for the rest."""

from __future__ import annotations

import csv
from pathlib import Path

from twin.region.assets import Asset, Dependency
from twin.region.builder import map_dependencies
from twin.region.importers.common import RegionImportError


def read_dependencies(spec: str, assets: list[Asset]) -> list[Dependency]:
    """Rows ``consumer,supplier[,coupling]`` (header optional); the coupling defaults to
    ``<supplier sector>-><consumer sector>``. Every id must be an asset of the region."""
    path = Path(spec)
    if not path.is_file():
        raise RegionImportError("dependencies", spec, "no such file")
    ids = {a["id"] for a in assets}
    deps: list[Dependency] = []
    try:
        rows = list(csv.reader(path.read_text().splitlines()))
    except (OSError, UnicodeDecodeError, csv.Error) as err:
        raise RegionImportError("dependencies", spec, f"cannot read: {err}") from err
    for k, row in enumerate(rows, start=1):
        row = [c.strip() for c in row]
        if not row or not any(row) or row[0].startswith("#"):
            continue
        if row[0].lower() == "consumer":  # the header (after any comment lines)
            continue
        if len(row) < 2:
            raise RegionImportError("dependencies", spec, f"line {k}: expected consumer,supplier[,coupling]")
        consumer, supplier = row[0], row[1]
        for aid in (consumer, supplier):
            if aid not in ids:
                raise RegionImportError("dependencies", spec, f"line {k}: unknown asset id {aid!r}")
        coupling = row[2] if len(row) > 2 and row[2] else f"{supplier.split('/')[0]}->{consumer.split('/')[0]}"
        deps.append(Dependency(consumer=consumer, supplier=supplier, coupling=coupling))
    return deps


def couple(assets: list[Asset], given: list[Dependency]) -> list[Dependency]:
    """The given dependencies, then proximity for each (consumer, source) they leave out."""
    auto = map_dependencies(assets)
    have = {(d["consumer"], d["coupling"].split("->")[0]) for d in given}
    return [*given, *(d for d in auto if (d["consumer"], d["coupling"].split("->")[0]) not in have)]
