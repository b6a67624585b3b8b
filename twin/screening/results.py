"""The result of a topological screening and its HDF5 file (readable with h5py alone).

Layout of one screening file (``format_version`` 1)::

    /                         attrs: mode = "topological", format_version, seed, run_id,
                                     status, configuration, region_hash, params (JSON),
                                     twin_version, created_utc
    /realisations/surviving_fraction   (R, S) float64, attrs columns = sector names
    /realisations/iterations           (R,)   int64   cascade length in rounds
    /realisations/cascade_size         (R,)   float64 share of assets lost secondarily
    /realisations/n_removed            (R,)   int64   assets removed by the attack
    /assets/id                         (A,)   UTF-8 strings
    /assets/sector                     (A,)   UTF-8 strings
    /assets/criticality                (A,)   float64 cascade size when the asset is lost
                                                alone (NaN when not computed)
    /assets/iterations                 (A,)   int64   cascade length of that loss

The file is written to a temporary name and renamed, so a reader never sees half a file.
Only ``created_utc`` differs between two identical screenings.
"""

from __future__ import annotations

import json
import os
import tempfile
from dataclasses import dataclass, field
from datetime import UTC, datetime
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

import numpy as np

FORMAT_VERSION = 1
MODE = "topological"


class ScreeningFileError(ValueError):
    """A file is not a topological screening of a format this code reads."""


@dataclass(frozen=True, eq=False)
class ScreeningResult:
    """Everything one screening produced; arrays line up with ``sectors`` and ``asset_ids``."""

    run_id: str
    seed: int
    status: str
    configuration: str
    region_hash: str
    params: dict
    sectors: tuple[str, ...]
    surviving_fraction: np.ndarray  # (R, S)
    iterations: np.ndarray  # (R,)
    cascade_size: np.ndarray  # (R,)
    n_removed: np.ndarray  # (R,)
    asset_ids: tuple[str, ...]
    asset_sectors: tuple[str, ...]
    criticality: np.ndarray  # (A,)
    criticality_iterations: np.ndarray  # (A,)
    mode: str = field(default=MODE)

    @property
    def realisations(self) -> int:
        return len(self.iterations)

    @property
    def mean_cascade_size(self) -> float:
        """Expected cascade size over the realisations (what configurations are ranked by)."""
        return float(self.cascade_size.mean()) if self.realisations else float("nan")

    def ranked_assets(self, top: int | None = None) -> list[tuple[str, float]]:
        """Assets by criticality, largest first (ties in id order)."""
        rows = [(a, float(c)) for a, c in zip(self.asset_ids, self.criticality, strict=True)
                if not np.isnan(c)]
        rows.sort(key=lambda r: (-r[1], r[0]))
        return rows if top is None else rows[:top]


def _twin_version() -> str:
    try:
        return version("twin")
    except PackageNotFoundError:
        return "unknown"


def write_screening(result: ScreeningResult, path: str | Path) -> Path:
    """Write ``result`` to ``path`` atomically; returns the path."""
    import h5py

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    text = h5py.string_dtype("utf-8")
    try:
        with h5py.File(tmp, "w") as f:
            f.attrs["mode"] = result.mode
            f.attrs["format_version"] = FORMAT_VERSION
            f.attrs["seed"] = int(result.seed)
            f.attrs["run_id"] = result.run_id
            f.attrs["status"] = result.status
            f.attrs["configuration"] = result.configuration
            f.attrs["region_hash"] = result.region_hash
            f.attrs["params"] = json.dumps(result.params, sort_keys=True)
            f.attrs["twin_version"] = _twin_version()
            f.attrs["created_utc"] = datetime.now(UTC).isoformat(timespec="seconds")
            r = f.create_group("realisations")
            surv = r.create_dataset(
                "surviving_fraction",
                data=np.asarray(result.surviving_fraction, dtype=np.float64).reshape(-1, len(result.sectors)),
            )
            surv.attrs["columns"] = np.array(result.sectors, dtype=object)
            r.create_dataset("iterations", data=np.asarray(result.iterations, dtype=np.int64))
            r.create_dataset("cascade_size", data=np.asarray(result.cascade_size, dtype=np.float64))
            r.create_dataset("n_removed", data=np.asarray(result.n_removed, dtype=np.int64))
            a = f.create_group("assets")
            a.create_dataset("id", data=np.array(result.asset_ids, dtype=object), dtype=text)
            a.create_dataset("sector", data=np.array(result.asset_sectors, dtype=object), dtype=text)
            a.create_dataset("criticality", data=np.asarray(result.criticality, dtype=np.float64))
            a.create_dataset("iterations", data=np.asarray(result.criticality_iterations, dtype=np.int64))
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def _text(values: object) -> tuple[str, ...]:
    return tuple(v.decode() if isinstance(v, bytes) else str(v) for v in values)  # type: ignore[union-attr]


def read_screening(path: str | Path) -> ScreeningResult:
    """Read a file written by :func:`write_screening`."""
    import h5py

    with h5py.File(path, "r") as f:
        if f.attrs.get("mode") != MODE:
            raise ScreeningFileError(f"{path}: mode {f.attrs.get('mode')!r}, expected {MODE!r}")
        if int(f.attrs["format_version"]) != FORMAT_VERSION:
            raise ScreeningFileError(
                f"{path}: format_version {f.attrs['format_version']}, this code reads {FORMAT_VERSION}"
            )
        r, a = f["realisations"], f["assets"]
        return ScreeningResult(
            run_id=str(f.attrs["run_id"]),
            seed=int(f.attrs["seed"]),
            status=str(f.attrs["status"]),
            configuration=str(f.attrs["configuration"]),
            region_hash=str(f.attrs["region_hash"]),
            params=json.loads(f.attrs["params"]),
            sectors=_text(r["surviving_fraction"].attrs["columns"]),
            surviving_fraction=r["surviving_fraction"][()],
            iterations=r["iterations"][()],
            cascade_size=r["cascade_size"][()],
            n_removed=r["n_removed"][()],
            asset_ids=_text(a["id"][()]),
            asset_sectors=_text(a["sector"][()]),
            criticality=a["criticality"][()],
            criticality_iterations=a["iterations"][()],
        )
