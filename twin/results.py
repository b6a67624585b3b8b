"""One HDF5 file per run: written under a temporary name, renamed when complete.

The layout is documented in results/README.md; everything here is readable with h5py alone.
A file whose ``status`` attribute is not a finished status (``complete`` or ``degraded``,
:data:`twin.events.FINISHED_STATUSES`), or that still carries the ``.partial.h5`` suffix, is
never taken for a finished run.
"""

from __future__ import annotations

import json
import os
import platform
import socket
from dataclasses import dataclass, field
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import Any

import h5py
import numpy as np

from twin.events import FIELDS, FINISHED_STATUSES, STATUSES, Event

FORMAT_VERSION = "1.0"
PARTIAL_SUFFIX = ".partial.h5"
_STR = h5py.string_dtype()
_VERSIONED = ("twin", "mosaik", "pandapower", "wntr", "eclipse-sumo", "libsumo", "networkx", "numpy", "h5py")


class ResultsError(RuntimeError):
    """A results file is missing, incomplete or not a twin results file."""


def versions() -> dict[str, str]:
    """Versions of twin and the simulators, stored with every run."""
    out = {"python": platform.python_version()}
    for name in _VERSIONED:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            out[name] = "not installed"
    return out


def final_path(out_dir: Path, run_id: str) -> Path:
    return Path(out_dir) / f"{run_id}.h5"


def partial_path(out_dir: Path, run_id: str) -> Path:
    return Path(out_dir) / f"{run_id}{PARTIAL_SUFFIX}"


def is_complete(path: Path) -> bool:
    """True only for a finished run's file: it finished writing and its status is ``complete``
    or ``degraded`` (both reached the horizon and carry metrics)."""
    if not Path(path).is_file() or str(path).endswith(PARTIAL_SUFFIX):
        return False
    try:
        with h5py.File(path, "r") as f:
            return f.attrs.get("status") in FINISHED_STATUSES
    except OSError:
        return False


def _strings(values: list[str]) -> np.ndarray:
    return np.array(values, dtype=object)


def _write_columns(group: h5py.Group, rows: list[dict[str, Any]], columns: list[str]) -> None:
    """A table as one 1-D dataset per column (strings as UTF-8)."""
    for col in columns:
        values = [r[col] for r in rows]
        sample = values[0] if values else ""
        if isinstance(sample, str):
            group.create_dataset(col, data=_strings(values), dtype=_STR)
        elif isinstance(sample, bool | np.bool_):
            group.create_dataset(col, data=np.array(values, dtype=bool))
        elif isinstance(sample, int | np.integer):
            group.create_dataset(col, data=np.array(values, dtype=np.int64))
        else:
            group.create_dataset(col, data=np.array(values, dtype=np.float64))
    group.attrs["columns"] = json.dumps(columns)


def start_file(path: Path, attrs: dict[str, Any], region: Any) -> None:
    """Create the partial file: root attributes, asset table, districts, dependencies, cost."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with h5py.File(path, "w") as f:
        f.attrs["format_version"] = FORMAT_VERSION
        f.attrs["status"] = "running"
        f.attrs["error"] = ""
        f.attrs["created_utc"] = datetime.now(UTC).isoformat(timespec="seconds")
        f.attrs["host"] = socket.gethostname()
        f.attrs["versions"] = json.dumps(versions(), sort_keys=True)
        for k, v in attrs.items():
            f.attrs[k] = v
        asset_cols = ["id", "sector", "type", "x_m", "y_m", "district", "customers", "capacity",
                      "capacity_unit", "critical", "needs_power", "p_mw", "needs_ict", "underground"]
        _write_columns(f.create_group("assets"), region.assets, asset_cols)
        districts = [
            {**d, "rural": d["kind"] == "village"} for d in region.layout["districts"]
        ]
        _write_columns(
            f.create_group("districts"), districts,
            ["id", "kind", "x_m", "y_m", "radius_m", "population", "households", "parent", "rural"],
        )
        _write_columns(f.create_group("dependencies"), region.dependencies,
                       ["consumer", "supplier", "coupling"])
        cost = f.create_group("cost")
        for k, v in sorted(region.cost.items()):
            cost.attrs[k] = v


def write_series(path: Path, time_s: list[int], series: dict[str, dict[str, list[Any]]]) -> None:
    """``series[sector][name]`` is a list over steps of floats or {key: float} dicts."""
    with h5py.File(path, "a") as f:
        g = f.require_group("series")
        g.create_dataset("time_s", data=np.array(time_s, dtype=np.int64))
        for sector in sorted(series):
            sg = g.create_group(sector)
            for name in sorted(series[sector]):
                values = series[sector][name]
                if values and isinstance(values[0], dict):
                    keys = sorted(values[0])
                    arr = np.array([[float(v.get(k, np.nan)) for k in keys] for v in values])
                    ds = sg.create_dataset(name, data=arr.reshape(len(values), len(keys)))
                    ds.attrs["columns"] = json.dumps(keys)
                else:
                    sg.create_dataset(name, data=np.array(values, dtype=np.float64))


def write_events(path: Path, events: list[Event]) -> None:
    with h5py.File(path, "a") as f:
        _write_columns(f.create_group("events"), list(events), list(FIELDS))


def write_metrics(path: Path, metrics: dict[str, float], curves: dict[str, np.ndarray]) -> None:
    with h5py.File(path, "a") as f:
        if "metrics" in f:
            del f["metrics"]
        g = f.create_group("metrics")
        for k, v in sorted(metrics.items()):
            g.create_dataset(k, data=float(v))
        pg = g.create_group("performance")
        for k, v in sorted(curves.items()):
            pg.create_dataset(k, data=np.asarray(v, dtype=np.float64))


def write_solver_failures(path: Path, counts: dict[str, int]) -> None:
    """``/solver_failures``: one int attribute per solver, the steps it did not solve
    (:func:`twin.events.solver_failure_counts`)."""
    with h5py.File(path, "a") as f:
        if "solver_failures" in f:
            del f["solver_failures"]
        g = f.create_group("solver_failures")
        for solver, n in sorted(counts.items()):
            g.attrs[solver] = np.int64(n)


def set_status(path: Path, status: str, error: str = "", **attrs: Any) -> None:
    if status not in STATUSES:
        raise ValueError(f"unknown status {status!r}")
    with h5py.File(path, "a") as f:
        f.attrs["status"] = status
        f.attrs["error"] = error
        for k, v in attrs.items():
            f.attrs[k] = v


def publish(partial: Path, final: Path) -> Path:
    """Atomically give a finished file its final name."""
    os.replace(partial, final)
    return final


@dataclass
class Results:
    """A results file read into memory (``twin.load``)."""

    path: Path
    attrs: dict[str, Any]
    assets: dict[str, np.ndarray]
    districts: dict[str, np.ndarray]
    dependencies: dict[str, np.ndarray]
    cost: dict[str, float]
    time_s: np.ndarray
    series: dict[str, dict[str, np.ndarray]]
    columns: dict[str, dict[str, list[str]]]
    events: list[Event]
    metrics: dict[str, float] = field(default_factory=dict)
    performance: dict[str, np.ndarray] = field(default_factory=dict)

    @property
    def status(self) -> str:
        return str(self.attrs.get("status"))

    @property
    def step_s(self) -> int:
        return int(self.attrs["step_s"])

    def column(self, sector: str, name: str, key: str) -> np.ndarray:
        return self.series[sector][name][:, self.columns[sector][name].index(key)]


def _read_table(group: h5py.Group) -> dict[str, np.ndarray]:
    out = {}
    for col in json.loads(group.attrs["columns"]):
        ds = group[col]
        out[col] = ds.asstr()[()] if h5py.check_string_dtype(ds.dtype) else ds[()]
    return out


def load(path: str | Path) -> Results:
    """Read a results file; raises ResultsError if it is not one."""
    path = Path(path)
    if not path.is_file():
        raise ResultsError(f"{path}: no such results file")
    try:
        f = h5py.File(path, "r")
    except OSError as err:
        raise ResultsError(f"{path}: not an HDF5 file ({err})") from None
    with f:
        if "format_version" not in f.attrs:
            raise ResultsError(f"{path}: not a twin results file (no format_version attribute)")
        attrs = {k: (v.item() if hasattr(v, "item") else v) for k, v in f.attrs.items()}
        series: dict[str, dict[str, np.ndarray]] = {}
        columns: dict[str, dict[str, list[str]]] = {}
        time_s = np.zeros(0, dtype=np.int64)
        if "series" in f:
            time_s = f["series/time_s"][()]
            for sector, sg in f["series"].items():
                if not isinstance(sg, h5py.Group):
                    continue
                series[sector], columns[sector] = {}, {}
                for name, ds in sg.items():
                    series[sector][name] = ds[()]
                    columns[sector][name] = json.loads(ds.attrs.get("columns", "[]"))
        events: list[Event] = []
        if "events" in f:
            table = _read_table(f["events"])
            n = len(table["event_id"])
            events = [
                Event(**{k: (table[k][i].item() if hasattr(table[k][i], "item") else table[k][i])
                         for k in FIELDS})  # type: ignore[typeddict-item]
                for i in range(n)
            ]
        metrics: dict[str, float] = {}
        performance: dict[str, np.ndarray] = {}
        if "metrics" in f:
            for k, ds in f["metrics"].items():
                if isinstance(ds, h5py.Dataset):
                    metrics[k] = float(ds[()])
            for k, ds in f["metrics/performance"].items():
                performance[k] = ds[()]
        return Results(
            path=path, attrs=attrs, assets=_read_table(f["assets"]),
            districts=_read_table(f["districts"]), dependencies=_read_table(f["dependencies"]),
            cost={k: float(v) for k, v in f["cost"].attrs.items()}, time_s=time_s,
            series=series, columns=columns, events=events, metrics=metrics,
            performance=performance,
        )
