"""The manifest of a sweep: one row per run, written atomically as CSV and JSON.

``DIR/manifest.json`` holds the sweep's description and every run (id, configuration, seed,
parameters, status, error, scalar metrics); ``DIR/manifest.csv`` is the same table flat,
one column per parameter (its dotted key) and per metric. Both are replaced atomically, so
a reader never sees half a file, even while a sweep is running, and follow the user's umask
(readable by a group on a shared filesystem when the umask allows it).

The state of a run is derived from its results file on every write: a complete file makes
its run complete whatever the scheduler said (a run that finished after its report was
lost, or while the sweep was being stopped).
"""

from __future__ import annotations

import csv
import io
import json
import math
import os
import tempfile
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, NamedTuple

import h5py

from twin import results
from twin.events import FINISHED_STATUSES

MANIFEST_JSON = "manifest.json"
MANIFEST_CSV = "manifest.csv"
FORMAT = 1
RUN_STATUSES = ("complete", "degraded", "failed", "pending")
BASE_COLUMNS = ("run_id", "configuration", "seed", "point")
STATE_COLUMNS = ("status", "error", "reused", "wall_s")


def umask_mode(base: int = 0o666) -> int:
    """``base`` less the process's umask: the mode a plain ``open()`` would give a new file."""
    mask = os.umask(0)
    os.umask(mask)
    return base & ~mask


def write_atomic(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` through a temporary file in the same folder, fsync and a
    rename; the file gets the mode the umask gives (mkstemp alone would make it 0600)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "w", newline="") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
            os.fchmod(f.fileno(), umask_mode())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


class FileState(NamedTuple):
    """What the manifest needs of a results file."""

    status: str
    error: str
    metrics: dict[str, float]  # the scalar metrics (finished files only)
    wall_s: float | None = None  # the run's own wall time (``wall_time_s``), None if not recorded


def file_state(path: Path) -> FileState:
    """Status, error, scalar metrics and wall time of a results file, reading only what the
    manifest needs (the wall time lets a resumed sweep count runs an earlier process ran)."""
    if not Path(path).is_file():
        return FileState("pending", "", {})
    try:
        with h5py.File(path, "r") as f:
            status = str(f.attrs.get("status", ""))
            error = str(f.attrs.get("error", ""))
            wall = f.attrs.get("wall_time_s")
            metrics: dict[str, float] = {}
            if "metrics" in f:
                for k, ds in f["metrics"].items():
                    if isinstance(ds, h5py.Dataset) and ds.shape == ():
                        metrics[k] = float(ds[()])
    except OSError as err:
        return FileState("failed", f"unreadable results file: {err}", {})
    if status not in FINISHED_STATUSES or not results.is_finished(path):
        return FileState("failed" if status == "failed" else "pending", error, {})
    wall_s = float(wall) if wall is not None and math.isfinite(float(wall)) else None
    return FileState(status, "", metrics, wall_s)


def metric_names(rows: list[dict[str, Any]]) -> list[str]:
    return sorted({k for r in rows for k in r.get("metrics", {})})


def _cell(v: Any) -> Any:
    if isinstance(v, float) and math.isnan(v):
        return ""
    if isinstance(v, bool):
        return "true" if v else "false"
    if v is None:
        return ""
    return v


def to_csv(rows: list[dict[str, Any]], parameters: list[str]) -> str:
    """The rows flat: base columns, parameters, ``ensemble.<field>`` (when any row is of an
    ensemble), state, metrics."""
    from twin.sweep.ensembles import ENSEMBLE_FIELDS

    metrics = metric_names(rows)
    ensemble = list(ENSEMBLE_FIELDS) if any("ensemble" in r for r in rows) else []
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow([*BASE_COLUMNS, *parameters, *(f"ensemble.{f}" for f in ensemble), *STATE_COLUMNS, *metrics])
    for r in rows:
        w.writerow(
            [_cell(r.get(c)) for c in BASE_COLUMNS]
            + [_cell(r["params"].get(p)) for p in parameters]
            + [_cell((r.get("ensemble") or {}).get(f)) for f in ensemble]
            + [_cell(r.get(c)) for c in STATE_COLUMNS]
            + [_cell(r.get("metrics", {}).get(m)) for m in metrics]
        )
    return buf.getvalue()


def derive_states(out_dir: Path, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Rows (updated in place) whose results file is finished (complete or degraded) take
    its status and metrics, whatever they said before (pending, or failed when the scheduler
    lost them)."""
    for r in rows:
        if r["status"] not in FINISHED_STATUSES:
            state = file_state(results.final_path(Path(out_dir), r["run_id"]))
            if state.status in FINISHED_STATUSES:
                r.update(status=state.status, error=state.error, metrics=state.metrics)
                if r.get("wall_s") is None:
                    r["wall_s"] = state.wall_s
    return rows


def write_manifest(out_dir: Path, header: dict[str, Any], rows: list[dict[str, Any]]) -> None:
    """Replace DIR/manifest.json and DIR/manifest.csv atomically, states derived from the files."""
    out_dir = Path(out_dir)
    derive_states(out_dir, rows)
    counts = Counter(r["status"] for r in rows)
    doc = {
        "format": FORMAT,
        **header,
        "updated_utc": datetime.now(UTC).isoformat(timespec="seconds"),
        "counts": {s: counts.get(s, 0) for s in RUN_STATUSES},
        "runs": rows,
    }
    write_atomic(out_dir / MANIFEST_JSON, json.dumps(doc, indent=1, allow_nan=True) + "\n")
    write_atomic(out_dir / MANIFEST_CSV, to_csv(rows, list(header.get("parameters", []))))


def read_manifest(out_dir: Path) -> dict[str, Any]:
    """The manifest document of a sweep folder; FileNotFoundError if there is none."""
    path = Path(out_dir) / MANIFEST_JSON
    if not path.is_file():
        raise FileNotFoundError(f"{out_dir}: no {MANIFEST_JSON} (not a sweep folder, or never started)")
    return json.loads(path.read_text())


def refresh(out_dir: Path, doc: dict[str, Any]) -> dict[str, Any]:
    """Rows not complete whose results file has completed since are reported as complete."""
    derive_states(out_dir, doc["runs"])
    return doc


def summary_json(out_dir: Path) -> dict[str, Any]:
    """What :func:`summary` says, as data (``twin sweep status --json``): counts by status
    overall and per configuration, flagged shares, and every run's row."""
    doc = refresh(out_dir, read_manifest(out_dir))
    rows = doc["runs"]
    configs = list(dict.fromkeys(r["configuration"] for r in rows))
    from twin.sweep.stats import flag_shares

    def counts(subset: list[dict[str, Any]]) -> dict[str, int]:
        by = Counter(r["status"] for r in subset)
        return {s: by.get(s, 0) for s in RUN_STATUSES}

    return {
        "name": doc.get("name"), "sweep_file": doc.get("sweep_file"), "updated_utc": doc.get("updated_utc"),
        "folder": str(out_dir), "counts": counts(rows),
        "configurations": {c: counts([r for r in rows if r["configuration"] == c]) for c in configs},
        "flagged": [{"configuration": f.configuration, "point": f.point, "group": f.group, "n": f.n,
                     "degraded_share": f.degraded_share if f.n else None,
                     "flagged_share": f.flagged_share if f.n else None}
                    for f in flag_shares(rows, configs)],
        "runs": rows,
    }


def summary(out_dir: Path, max_errors: int = 10) -> str:
    """A text summary of a sweep folder: counts by status and configuration, the share of
    flagged runs (degraded, negative impacts) per configuration and point, the failures."""
    doc = refresh(out_dir, read_manifest(out_dir))
    rows = doc["runs"]
    counts = Counter(r["status"] for r in rows)
    lines = [
        f"sweep {doc.get('name', '?')} ({doc.get('sweep_file', '?')}), updated {doc.get('updated_utc', '?')}",
        f"{len(rows)} runs: " + ", ".join(f"{counts.get(s, 0)} {s}" for s in RUN_STATUSES),
    ]
    configs = list(dict.fromkeys(r["configuration"] for r in rows))
    width = max([len(c) for c in configs] + [13])
    lines.append("configuration".ljust(width) + "".join(s.rjust(10) for s in RUN_STATUSES))
    for c in configs:
        by = Counter(r["status"] for r in rows if r["configuration"] == c)
        lines.append(c.ljust(width) + "".join(str(by.get(s, 0)).rjust(10) for s in RUN_STATUSES))
    points = sorted({r["point"] for r in rows})
    if any("ensemble" in r for r in rows):  # one line per family (and the sensitivity study), not per draw
        def group(r: dict[str, Any]) -> str:
            e = r.get("ensemble")
            if not e:
                return "no ensemble"
            return e["family"] + (" (sensitivity)" if e.get("sensitivity_point") is not None else "")

        groups = list(dict.fromkeys(group(r) for r in rows))
        cells = [(f"{g} / {c}", Counter(r["status"] for r in rows if r["configuration"] == c and group(r) == g))
                 for g in groups for c in configs]
        w = max(len(label) for label, _ in cells) + 2
        lines.append("ensemble / configuration".ljust(w) + "".join(s.rjust(10) for s in RUN_STATUSES))
        lines += [label.ljust(w) + "".join(str(by.get(s, 0)).rjust(10) for s in RUN_STATUSES)
                  for label, by in cells if by]
    elif len(points) > 1:  # different hazards or parameters: never one group
        params = {r["point"]: r.get("params", {}) for r in rows}
        cells = [(f"{p}: " + (", ".join(f"{k}={v!r}" for k, v in params[p].items()) or "-") + f" / {c}",
                  Counter(r["status"] for r in rows if r["configuration"] == c and r["point"] == p))
                 for p in points for c in configs]
        w = max(len(label) for label, _ in cells) + 2
        lines.append("point / configuration".ljust(w) + "".join(s.rjust(10) for s in RUN_STATUSES))
        lines += [label.ljust(w) + "".join(str(by.get(s, 0)).rjust(10) for s in RUN_STATUSES)
                  for label, by in cells if by]
    from twin.sweep.stats import flag_banner, flag_shares, shares_table

    shares = flag_shares(rows, configs)  # per point, or per ensemble family (never per draw)
    lines.append(shares_table(shares))
    banner = flag_banner(shares)
    if banner:
        lines.append("WARNING: " + banner)
    failed = [r for r in rows if r["status"] == "failed"]
    if failed:
        lines.append(f"failed runs ({len(failed)}):")
        for r in failed[:max_errors]:
            lines.append(f"  {r['run_id']} {r['configuration']} seed {r['seed']}: {r['error']}")
        if len(failed) > max_errors:
            lines.append(f"  ... and {len(failed) - max_errors} more (see {MANIFEST_CSV})")
    return "\n".join(lines)
