"""One HDF5 file per run (format 2): labelled, with units, written atomically.

The layout is documented in results/README.md; everything is readable with h5py alone, and
each group opens with xarray (``engine="h5netcdf"``): series datasets have dimension
scales (time, then their column labels) and every numeric dataset a ``units`` attribute
(:mod:`twin.units`).

Every write builds the whole file in memory (HDF5's core driver, nothing on disk) and puts
its image on disk with :func:`twin.atomic.write_atomic`: a temporary file, ``os.write``,
``fsync``, ``rename`` (:func:`twin.atomic.edit`). A full disk is therefore a plain ``OSError`` from ``os.write`` and leaves the
previous file as it was; HDF5 itself never writes to a disk. A file whose ``status`` is not
finished (or that still carries the ``.partial.h5`` suffix) is never taken for a finished
run. :func:`load` reads format 2 and format 1 files.
"""

from __future__ import annotations

import json
import operator
import os
import platform
import socket
import subprocess
from dataclasses import dataclass, field
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import TYPE_CHECKING, Any, get_type_hints

import h5py
import numpy as np

from twin.atomic import edit, fsync_dir
from twin.events import FIELDS, FINISHED_STATUSES, SECTORS, STATUSES, Event
from twin.units import units_of

if TYPE_CHECKING:
    import pandas as pd
    import xarray as xr

FORMAT_VERSION = "2.0"
READABLE_MAJOR = ("1", "2")
PARTIAL_SUFFIX = ".partial.h5"
_STR = h5py.string_dtype()
_VERSIONED = ("twin", "mosaik", "pandapower", "wntr", "eclipse-sumo", "libsumo", "networkx", "numpy", "h5py")
ASSET_COLUMNS = ("id", "sector", "type", "x_m", "y_m", "district", "customers", "capacity",
                 "capacity_unit", "critical", "needs_power", "p_mw", "needs_ict", "underground")
DISTRICT_COLUMNS = ("id", "kind", "x_m", "y_m", "radius_m", "population", "households", "parent", "rural")
DEPENDENCY_COLUMNS = ("consumer", "supplier", "coupling")

# The column dimension of a 2-D series whose labels do not say it (mixed asset types, or no
# columns at all); others are named by their labels (see :func:`column_dimension`).
COLUMN_DIMENSIONS: dict[str, str] = {
    "load_served_mw": "load", "endpoint_reachable": "endpoint", "battery_soc": "battery",
    "hospital_reach_frac": "district_hospital", "hospital_travel_time_s": "district_hospital",
}


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


def code_commit() -> str | None:
    """The git commit of the twin code that is running (``" (with uncommitted changes)"``
    appended when its tracked files differ from it), or None when the code is not a git
    checkout (an installed wheel): a sweep's manifest records it, so a study report names
    the code that produced the runs, not the code that reads them."""
    here = Path(__file__).resolve().parent
    try:
        head = subprocess.run(["git", "-C", str(here), "rev-parse", "HEAD"], capture_output=True, text=True,
                              timeout=10, check=True).stdout.strip()
        dirty = subprocess.run(["git", "-C", str(here), "status", "--porcelain", "--untracked-files=no"],
                               capture_output=True, text=True, timeout=10, check=True).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return None
    return f"{head}{' (with uncommitted changes)' if dirty else ''}" if head else None


def final_path(out_dir: Path, run_id: str) -> Path:
    return Path(out_dir) / f"{run_id}.h5"


def partial_path(out_dir: Path, run_id: str) -> Path:
    return Path(out_dir) / f"{run_id}{PARTIAL_SUFFIX}"


def _status(path: Path) -> str | None:
    if not Path(path).is_file() or str(path).endswith(PARTIAL_SUFFIX):
        return None
    try:
        with h5py.File(path, "r") as f:
            return str(f.attrs.get("status"))
    except OSError:
        return None


def is_complete(path: Path) -> bool:
    """True only for a file that finished writing and says ``complete``."""
    return _status(path) == "complete"


def is_finished(path: Path) -> bool:
    """True for a finished run: ``complete`` or ``degraded`` (twin.events.FINISHED_STATUSES)."""
    return _status(path) in FINISHED_STATUSES


# --- writing ---------------------------------------------------------------------------------


def _strings(values: list[str]) -> np.ndarray:
    return np.array(values, dtype=object)


def _kind(sample: Any) -> type:
    """The column type of a sample value (numpy scalars included)."""
    if isinstance(sample, str):
        return str
    if isinstance(sample, bool | np.bool_):
        return bool
    if isinstance(sample, int | np.integer):
        return int
    return float


def _set_units(ds: h5py.Dataset, name: str, scope: str) -> None:
    ds.attrs["units"] = units_of(name, scope)


def _write_columns(group: h5py.Group, rows: list[dict[str, Any]], columns: tuple[str, ...],
                   types: dict[str, Any], index: str | None) -> None:
    """A table as one 1-D dataset per column (strings as UTF-8), each with ``index`` (a
    column, else a ``row`` number) as its dimension scale; numbers carry ``units``."""
    scope = group.name.strip("/")
    for col in columns:
        values = [r[col] for r in rows]
        kind = types.get(col) or _kind(values[0] if values else "")
        if kind is str:
            ds = group.create_dataset(col, data=_strings(values), dtype=_STR)
        elif kind is bool:
            ds = group.create_dataset(col, data=np.array(values, dtype=bool))
        elif kind is int:
            ds = group.create_dataset(col, data=np.array(values, dtype=np.int64))
            _set_units(ds, col, scope)
        else:
            ds = group.create_dataset(col, data=np.array(values, dtype=np.float64))
            if col == "capacity" and "capacity_unit" in columns:
                ds.attrs["units_column"] = "capacity_unit"  # one unit per row
            elif col != "value":  # an event's value: its meaning depends on its kind
                _set_units(ds, col, scope)
    if index is None:
        index = "row"
        group.create_dataset(index, data=np.arange(len(rows), dtype=np.int64))
    scale = group[index]
    scale.make_scale(index)
    for col in columns:
        if col != index:
            group[col].dims[0].attach_scale(scale)
    group.attrs.create("columns", data=list(columns), dtype=_STR)


def start_file(path: Path, attrs: dict[str, Any], region: Any) -> None:
    """Create the partial file: root attributes, asset table, districts, dependencies, cost."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with edit(path, new=True) as f:
        f.attrs["format_version"] = FORMAT_VERSION
        f.attrs["status"] = "running"
        f.attrs["error"] = ""
        f.attrs["created_utc"] = datetime.now(UTC).isoformat(timespec="seconds")
        f.attrs["host"] = socket.gethostname()
        f.attrs["versions"] = json.dumps(versions(), sort_keys=True)
        for k, v in attrs.items():
            f.attrs[k] = v
        from twin.region.assets import Asset

        _write_columns(f.create_group("assets"), region.assets, ASSET_COLUMNS,
                       get_type_hints(Asset), "id")
        districts = [{**d, "rural": d["kind"] == "village"} for d in region.layout["districts"]]
        _write_columns(f.create_group("districts"), districts, DISTRICT_COLUMNS,
                       {"id": str, "kind": str, "parent": str, "rural": bool, "population": int,
                        "households": int, "x_m": float, "y_m": float, "radius_m": float}, "id")
        _write_columns(f.create_group("dependencies"), region.dependencies, DEPENDENCY_COLUMNS,
                       dict.fromkeys(DEPENDENCY_COLUMNS, str), None)
        cost = f.create_group("cost")
        for k, v in sorted(region.cost.items()):
            _set_units(cost.create_dataset(k, data=float(v)), k, "cost")


def column_dimension(name: str, labels: list[str], districts: set[str]) -> str:
    """The name of a 2-D series' column dimension: ``district``, ``sector``, the asset
    type of its labels (``bus``, ``line``, ``pump``, ...), else :data:`COLUMN_DIMENSIONS`,
    else ``<name>_key``."""
    if name in COLUMN_DIMENSIONS:
        return COLUMN_DIMENSIONS[name]
    if labels and set(labels) <= districts:
        return "district"
    if labels and set(labels) <= set(SECTORS):
        return "sector"
    parts = [label.split("/") for label in labels]
    types = {p[1] for p in parts if len(p) == 3}
    if labels and len(types) == 1 and all(len(p) == 3 for p in parts):
        return types.pop()
    return f"{name}_key"


def _time_scale(group: h5py.Group, name: str, time_s: np.ndarray) -> h5py.Dataset:
    ds = group.create_dataset(name, data=time_s)
    ds.make_scale(name)
    ds.attrs["units"] = "s"
    ds.attrs["long_name"] = "start of the exchange step, seconds from the start of the run"
    return ds


def _attach_time(ds: h5py.Dataset, scales: tuple[h5py.Dataset, ...]) -> None:
    """``/series/time_s`` and the group's own ``time`` (netCDF readers look coordinates up
    per group; they take the last scale attached)."""
    for scale in scales:
        if scale.shape[0] == ds.shape[0]:
            ds.dims[0].attach_scale(scale)


def _dict_rows(values: list[dict[str, Any]], keys: list[str]) -> np.ndarray:
    """Per-step dicts as a (steps, keys) float array, nan where a step lacks a key. One
    C-level lookup per row when every step has every key (the usual case)."""
    if keys:
        get = operator.itemgetter(*keys)
        try:
            rows = [get(v) for v in values]
        except KeyError:
            pass
        else:
            return np.array(rows, dtype=np.float64).reshape(len(values), len(keys))
    arr = np.array([[float(v.get(k, np.nan)) for k in keys] for v in values])
    return arr.reshape(len(values), len(keys))


def _series_into(f: h5py.File, time_s: list[int], series: dict[str, dict[str, list[Any]]]) -> None:
    g = f.require_group("series")
    t = np.array(time_s, dtype=np.int64)
    root_time = _time_scale(g, "time_s", t)
    districts = set(f["districts/id"].asstr()[()]) if "districts/id" in f else set()
    for sector in sorted(series):
        sg = g.create_group(sector)
        names = set(series[sector])
        times = (root_time, _time_scale(sg, "time", t))
        scales: dict[str, h5py.Dataset] = {}
        for name in sorted(names):
            values = series[sector][name]
            if values and isinstance(values[0], dict):
                keys = sorted(set().union(*values))
                ds = sg.create_dataset(name, data=_dict_rows(values, keys))
                dim = column_dimension(name, keys, districts)
                scale = scales.get(dim)
                if scale is not None and scale.asstr()[()].tolist() != keys or dim in names | {"time"}:
                    dim, scale = f"{dim}_{name}", None
                if scale is None:
                    scale = sg.create_dataset(dim, data=_strings(keys), dtype=_STR)
                    scale.make_scale(dim)
                    scales[dim] = scale
                ds.dims[1].attach_scale(scale)
            else:
                ds = sg.create_dataset(name, data=np.array(values, dtype=np.float64))
            _attach_time(ds, times)
            _set_units(ds, name, sector)


def _events_into(f: h5py.File, events: list[Event]) -> None:
    _write_columns(f.create_group("events"), list(events), FIELDS, get_type_hints(Event), "event_id")


def write_series(path: Path, time_s: list[int], series: dict[str, dict[str, list[Any]]],
                 events: list[Event] | None = None) -> None:
    """``series[sector][name]`` is a list over steps of floats or {key: float} dicts;
    ``events``, if given, is written in the same atomic write."""
    with edit(path) as f:
        _series_into(f, time_s, series)
        if events is not None:
            _events_into(f, events)


def write_events(path: Path, events: list[Event]) -> None:
    with edit(path) as f:
        _events_into(f, events)


def _put_metrics(f: h5py.File, metrics: dict[str, float], curves: dict[str, np.ndarray]) -> None:
    if "metrics" in f:
        del f["metrics"]
    g = f.create_group("metrics")
    for k, v in sorted(metrics.items()):
        _set_units(g.create_dataset(k, data=float(v)), k, "metrics")
    pg = g.create_group("performance")
    times: tuple[h5py.Dataset, ...] = ()
    if "series/time_s" in f:
        times = (f["series/time_s"], _time_scale(pg, "time", f["series/time_s"][()]))
    for k, v in sorted(curves.items()):
        ds = pg.create_dataset(k, data=np.asarray(v, dtype=np.float64))
        _set_units(ds, k, "metrics/performance")
        _attach_time(ds, times)


def _put_solver_failures(f: h5py.File, counts: dict[str, int]) -> None:
    if "solver_failures" in f:
        del f["solver_failures"]
    g = f.create_group("solver_failures")
    for solver, n in sorted(counts.items()):
        g.attrs[solver] = np.int64(n)


def _put_status(f: h5py.File, status: str, error: str, attrs: dict[str, Any]) -> None:
    if status not in STATUSES:
        raise ValueError(f"unknown status {status!r}")
    f.attrs["status"] = status
    f.attrs["error"] = error
    for k, v in attrs.items():
        f.attrs[k] = v


def write_metrics(path: Path, metrics: dict[str, float], curves: dict[str, np.ndarray]) -> None:
    with edit(path) as f:
        _put_metrics(f, metrics, curves)


def set_status(path: Path, status: str, error: str = "", **attrs: Any) -> None:
    with edit(path) as f:
        _put_status(f, status, error, attrs)


def write_outcome(path: Path, metrics: dict[str, float], curves: dict[str, np.ndarray],
                  solver_failures: dict[str, int], status: str, **attrs: Any) -> None:
    """Metrics, solver failures and the final status in one atomic rewrite of the file
    (``/solver_failures``: one int attribute per solver, the steps it did not solve,
    :func:`twin.events.solver_failure_counts`). Each write rewrites the whole file, so the
    runner's last step is one write, not three."""
    with edit(path) as f:
        _put_metrics(f, metrics, curves)
        _put_solver_failures(f, solver_failures)
        _put_status(f, status, "", attrs)


def publish(partial: Path, final: Path) -> Path:
    """Atomically give a finished file its final name."""
    os.replace(partial, final)
    fsync_dir(Path(final).parent)
    return final


@dataclass
class Results:
    """A results file read into memory (``twin.load``), format 2 or 1.

    ``series[sector][name]`` is ``(T,)`` or ``(T, K)``; ``columns[sector][name]`` the K
    column labels (``[]`` for 1-D), ``dims[sector][name]`` the name of the column dimension
    (``district``, ``bus``, ...; ``""`` for 1-D) and ``units[sector][name]`` the unit.
    ``metric_units`` gives each metric's unit. Files of format 1 carry neither units nor
    dimension names; they are derived by the same rules the writer uses.
    """

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
    units: dict[str, dict[str, str]] = field(default_factory=dict)
    dims: dict[str, dict[str, str]] = field(default_factory=dict)
    metric_units: dict[str, str] = field(default_factory=dict)

    @property
    def status(self) -> str:
        return str(self.attrs.get("status"))

    @property
    def step_s(self) -> int:
        return int(self.attrs["step_s"])

    @property
    def format_version(self) -> str:
        return str(self.attrs.get("format_version"))

    def column(self, sector: str, name: str, key: str) -> np.ndarray:
        return self.series[sector][name][:, self.columns[sector][name].index(key)]

    def _series(self, sector: str) -> dict[str, np.ndarray]:
        if sector not in self.series:
            raise KeyError(f"{self.path}: no series of sector {sector!r} (has {sorted(self.series)})")
        return self.series[sector]

    def to_xarray(self, sector: str) -> xr.Dataset:
        """The series of one sector as an ``xarray.Dataset``: coordinate ``time`` (integer
        seconds from the start of the run, the start of each step), one coordinate per column
        dimension, ``units`` on every variable; the same as
        ``xr.open_dataset(path, group=f"series/{sector}", engine="h5netcdf")`` on a format 2 file."""
        import xarray as xr

        time_attrs = {"units": "s", "long_name": "start of the exchange step, seconds from the start of the run"}
        coords: dict[str, Any] = {"time": ("time", self.time_s, time_attrs)}
        data: dict[str, Any] = {}
        for name, arr in sorted(self._series(sector).items()):
            attrs = {"units": self.units.get(sector, {}).get(name, units_of(name, sector))}
            if arr.ndim == 1:
                data[name] = (("time",), arr, attrs)
            else:
                dim = self.dims[sector][name]
                coords.setdefault(dim, (dim, np.array(self.columns[sector][name], dtype=object)))
                data[name] = (("time", dim), arr, attrs)
        run_attrs = {k: self.attrs[k] for k in ("run_id", "configuration", "format_version") if k in self.attrs}
        return xr.Dataset(data, coords, attrs={**run_attrs, "sector": sector})

    def to_dataframe(self, sector: str, name: str | None = None) -> pd.DataFrame:
        """One series as a ``pandas.DataFrame`` indexed by ``time`` (seconds): a 2-D series
        has one column per label (the columns' name is its dimension, ``district``, ``bus``,
        ...), a 1-D series one column ``name``. Without ``name``: every 1-D series of the
        sector, one column each. ``df.attrs["units"]`` maps each column to its unit."""
        import pandas as pd

        index = pd.Index(self.time_s, name="time")
        series = self._series(sector)
        units = self.units.get(sector, {})
        if name is None:
            names = sorted(n for n, a in series.items() if a.ndim == 1)
            df = pd.DataFrame({n: series[n] for n in names}, index=index)
            df.attrs["units"] = {n: units.get(n, units_of(n, sector)) for n in names}
            return df
        if name not in series:
            raise KeyError(f"{self.path}: no series {sector}/{name}")
        unit = units.get(name, units_of(name, sector))
        arr = series[name]
        if arr.ndim == 1:
            df = pd.DataFrame({name: arr}, index=index)
            df.attrs["units"] = {name: unit}
        else:
            cols = pd.Index(self.columns[sector][name], name=self.dims[sector][name])
            df = pd.DataFrame(arr, index=index, columns=cols)
            df.attrs["units"] = dict.fromkeys(cols, unit)
        return df

    def table(self, name: str) -> pd.DataFrame:
        """A table of the file as a ``pandas.DataFrame``: ``assets``, ``districts``,
        ``dependencies`` or ``events``."""
        import pandas as pd

        if name == "events":
            return pd.DataFrame(self.events, columns=list(FIELDS))
        tables = {"assets": self.assets, "districts": self.districts, "dependencies": self.dependencies}
        if name not in tables:
            raise KeyError(f"no table {name!r} (one of {sorted([*tables, 'events'])})")
        return pd.DataFrame(tables[name])


def _table_columns(group: h5py.Group) -> list[str]:
    cols = group.attrs["columns"]
    if isinstance(cols, str | bytes):  # format 1: JSON
        return list(json.loads(cols))
    return [c.decode() if isinstance(c, bytes) else str(c) for c in cols]


def _read_table(group: h5py.Group) -> dict[str, np.ndarray]:
    out = {}
    for col in _table_columns(group):
        ds = group[col]
        out[col] = ds.asstr()[()] if h5py.check_string_dtype(ds.dtype) else ds[()]
    return out


def _read_series(f: h5py.File, major: str, districts: set[str]) -> tuple[dict[str, dict[str, Any]], ...]:
    """series, columns, dims, units of every sector; format 1 labels come from JSON."""
    series: dict[str, dict[str, np.ndarray]] = {}
    columns: dict[str, dict[str, list[str]]] = {}
    dims: dict[str, dict[str, str]] = {}
    units: dict[str, dict[str, str]] = {}
    for sector, sg in f["series"].items():
        if not isinstance(sg, h5py.Group):
            continue
        series[sector], columns[sector], dims[sector], units[sector] = {}, {}, {}, {}
        items = list(sg.items())
        # the sector's dimension scales by object, with their names and labels read once:
        # h5py's Dataset.name of a scale reached through a reference costs ~1 ms
        scale_ids = {ds.id for _, ds in items if major != "1" and ds.is_scale}
        scales = {ds.id: (name, ds.asstr()[()].tolist()) for name, ds in items
                  if ds.id in scale_ids and h5py.check_string_dtype(ds.dtype)}
        for name, ds in items:
            if ds.id in scale_ids:
                continue
            series[sector][name] = ds[()]
            if major == "1":
                labels = json.loads(ds.attrs.get("columns", "[]"))
                dim = column_dimension(name, labels, districts) if ds.ndim == 2 else ""
                unit = units_of(name, sector)
            else:
                labels, dim = [], ""
                if ds.ndim == 2 and len(ds.dims[1]):
                    scale = ds.dims[1][len(ds.dims[1]) - 1]  # the last attached, as netCDF reads it
                    if scale.id in scales:
                        dim, labels = scales[scale.id]
                        labels = list(labels)
                    else:  # a scale outside the sector's group
                        labels, dim = scale.asstr()[()].tolist(), scale.name.rsplit("/", 1)[-1]
                unit = str(ds.attrs.get("units", units_of(name, sector)))
            columns[sector][name], dims[sector][name], units[sector][name] = labels, dim, unit
    return series, columns, dims, units


def load(path: str | Path) -> Results:
    """Read a results file (format 2 or 1); raises ResultsError if it is not one."""
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
        major = str(attrs["format_version"]).split(".")[0]
        if major not in READABLE_MAJOR:
            raise ResultsError(f"{path}: results format {attrs['format_version']} is newer than this "
                               f"twin reads ({FORMAT_VERSION}); upgrade twin")
        districts = _read_table(f["districts"])
        series: dict[str, dict[str, Any]] = {}
        columns: dict[str, dict[str, Any]] = {}
        dims: dict[str, dict[str, Any]] = {}
        units: dict[str, dict[str, Any]] = {}
        time_s = np.zeros(0, dtype=np.int64)
        if "series" in f:
            time_s = f["series/time_s"][()]
            series, columns, dims, units = _read_series(f, major, set(districts["id"].tolist()))
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
        metric_units: dict[str, str] = {}
        performance: dict[str, np.ndarray] = {}
        if "metrics" in f:
            for k, ds in f["metrics"].items():
                if isinstance(ds, h5py.Dataset):
                    metrics[k] = float(ds[()])
                    metric_units[k] = str(ds.attrs.get("units", units_of(k, "metrics")))
            for k, ds in f["metrics/performance"].items():
                if major == "1" or not ds.is_scale:
                    performance[k] = ds[()]
        if major == "1":
            cost = {k: float(v) for k, v in f["cost"].attrs.items()}
        else:
            cost = {k: float(ds[()]) for k, ds in f["cost"].items()}
        return Results(
            path=path, attrs=attrs, assets=_read_table(f["assets"]),
            districts=districts, dependencies=_read_table(f["dependencies"]),
            cost=cost, time_s=time_s, series=series, columns=columns, events=events,
            metrics=metrics, performance=performance, units=units, dims=dims,
            metric_units=metric_units,
        )
