"""Sweep manifests are derived from the results files, not remembered: a run whose file is
complete is complete whatever the scheduler said; an unreachable scheduler leaves no folder;
manifests and region caches follow the umask."""

from __future__ import annotations

import os
import stat
from pathlib import Path
from typing import Any

import h5py
import pytest

from twin import results
from twin.sweep import expand, load_sweep, read_manifest, run_sweep
from twin.sweep.execute import SweepClusterError
from twin.sweep.manifest import summary, write_manifest


def complete_file(out: Path, rid: str, enf: float, wall_s: float | None = None) -> None:
    out.mkdir(parents=True, exist_ok=True)
    with h5py.File(results.final_path(out, rid), "w") as f:
        f.attrs.update(format_version=results.FORMAT_VERSION, status="complete", error="")
        if wall_s is not None:
            f.attrs["wall_time_s"] = wall_s
        f.create_group("metrics").create_dataset("energy_not_served_mwh", data=enf)


def row(rid: str, status: str, error: str = "") -> dict[str, Any]:
    return {"run_id": rid, "configuration": "centralised", "seed": 1, "point": 0, "params": {},
            "status": status, "error": error, "reused": False, "wall_s": None, "metrics": {}}


def test_complete_files_make_complete_runs(tmp_path: Path) -> None:
    """Stopped sweep (rows left pending) and lost scheduler (rows failed) whose runs finished."""
    complete_file(tmp_path, "a", 1.5)
    complete_file(tmp_path, "b", 2.5)
    rows = [row("a", "pending"), row("b", "failed", "KilledWorker: lost with the scheduler"), row("c", "pending")]
    write_manifest(tmp_path, {"name": "s", "parameters": []}, rows)
    doc = read_manifest(tmp_path)
    assert doc["counts"] == {"complete": 2, "degraded": 0, "failed": 0, "pending": 1}
    by = {r["run_id"]: r for r in doc["runs"]}
    assert by["b"]["error"] == "" and by["b"]["metrics"] == {"energy_not_served_mwh": 2.5}
    complete_file(tmp_path, "c", 0.0)  # finished after the last write: status derives it too
    assert "3 runs: 3 complete, 0 degraded, 0 failed, 0 pending" in summary(tmp_path)


@pytest.fixture
def sweep_file(tmp_path: Path) -> Path:
    (tmp_path / "base.toml").write_text('[run]\nhours = 1\nconfigurations = ["centralised"]\n'
                                        '[region]\nsize = "small"\n')
    path = tmp_path / "sweep.toml"
    path.write_text('base = "base.toml"\nseeds = 2\n')
    return path


def test_unreachable_scheduler_writes_nothing(tmp_path: Path, sweep_file: Path) -> None:
    out = tmp_path / "new"
    with pytest.raises(SweepClusterError, match="cannot connect"):
        run_sweep(sweep_file, out, scheduler="tcp://127.0.0.1:1", run_fn=lambda *a: None, progress=False)
    assert not out.exists()


def test_all_reused_needs_no_scheduler_and_writes_the_truth(tmp_path: Path, sweep_file: Path) -> None:
    out = tmp_path / "out"
    for r in expand(load_sweep(sweep_file)):
        complete_file(out, r.run_id, 1.0)
    res = run_sweep(sweep_file, out, scheduler="tcp://127.0.0.1:1", run_fn=lambda *a: None, progress=False)
    assert res.executed == [] and read_manifest(out)["counts"]["complete"] == 2


def test_reused_runs_keep_their_wall_time(tmp_path: Path, sweep_file: Path) -> None:
    """A resumed sweep's manifest keeps the wall time the results files record (runs per
    core-hour of a study resumed across sessions count every run, not only the last
    session's); a file without one stays unknown, not 0."""
    out = tmp_path / "out"
    first, second = expand(load_sweep(sweep_file))
    complete_file(out, first.run_id, 1.0, wall_s=4.25)
    complete_file(out, second.run_id, 1.0)
    run_sweep(sweep_file, out, scheduler="tcp://127.0.0.1:1", run_fn=lambda *a: None, progress=False)
    walls = {r["run_id"]: r["wall_s"] for r in read_manifest(out)["runs"]}
    assert walls == {first.run_id: 4.25, second.run_id: None}


@pytest.mark.parametrize("umask", [0o022, 0o002])
def test_manifest_follows_umask(tmp_path: Path, umask: int) -> None:
    old = os.umask(umask)
    try:
        write_manifest(tmp_path, {"name": "s", "parameters": []}, [row("a", "pending")])
    finally:
        os.umask(old)
    for name in ("manifest.json", "manifest.csv"):
        assert stat.S_IMODE((tmp_path / name).stat().st_mode) == 0o666 & ~umask, name


def test_region_cache_follows_umask(tmp_path: Path) -> None:
    from twin.region.builder import build_region
    from twin.region.params import DEFAULTS

    old = os.umask(0o022)
    try:
        region = build_region("small", 1, "centralised", DEFAULTS["centralised"], tmp_path / ".regions")
    finally:
        os.umask(old)
    assert stat.S_IMODE(region.root.stat().st_mode) == 0o755
