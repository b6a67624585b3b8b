"""Helpers of the fault-injection tests: real ``twin`` processes on a tiny scenario.

Every run here is the small region, one configuration, one simulated hour, no baseline:
a few seconds each. ``read_only`` mounts a read-only tmpfs in a private mount namespace
(``unshare -m``, needs root as in CI); tests that need it are skipped elsewhere.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from twin import results

SCENARIO = """\
[run]
hours = 1
configurations = ["centralised"]
baseline = false
[region]
size = "small"
grid = "synthetic"
[[hazards]]
kind = "outage"
asset = "power/line/F1-2"
at_h = 0.25
"""
TWIN = [sys.executable, "-m", "twin.cli"]


def twin(*args: str | Path, **kwargs: object) -> subprocess.CompletedProcess[str]:
    """Run ``twin ARGS`` to the end; its stdout and stderr as text."""
    return subprocess.run([*TWIN, *map(str, args)], capture_output=True, text=True, timeout=300,
                          **kwargs)  # type: ignore[call-overload]


def start(*args: str | Path) -> subprocess.Popen[str]:
    return subprocess.Popen([*TWIN, *map(str, args)], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True)


def wait_for(predicate, timeout_s: float = 120.0) -> None:  # type: ignore[no-untyped-def]
    end = time.monotonic() + timeout_s
    while not predicate():
        if time.monotonic() > end:
            raise TimeoutError("condition not reached")
        time.sleep(0.05)


def final_files(out: Path) -> list[Path]:
    return sorted(p for p in out.glob("*.h5") if not p.name.endswith(results.PARTIAL_SUFFIX))


def same_results(a: Path, b: Path) -> None:
    """Two results files hold the same run: metrics, events and every series."""
    ra, rb = results.load(a), results.load(b)
    assert ra.status == rb.status == "complete"
    assert ra.metrics.keys() == rb.metrics.keys()
    for k in ra.metrics:
        assert ra.metrics[k] == pytest.approx(rb.metrics[k], nan_ok=True), k
    assert [tuple(e.values()) for e in ra.events] == \
        [tuple(e.values()) for e in rb.events]
    for sector, names in ra.series.items():
        for name, values in names.items():
            np.testing.assert_array_equal(values, rb.series[sector][name], err_msg=f"{sector}/{name}")


@pytest.fixture(scope="session")
def scenario_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("scenario") / "tiny.toml"
    path.write_text(SCENARIO)
    return path


@pytest.fixture(scope="session")
def reference(tmp_path_factory: pytest.TempPathFactory, scenario_file: Path) -> Path:
    """An uninterrupted run of the tiny scenario: what every recovered run must equal."""
    out = tmp_path_factory.mktemp("reference")
    done = twin("run", scenario_file, "--out", out)
    assert done.returncode == 0, done.stderr
    (path,) = final_files(out)
    return path


def fresh_out(tmp_path: Path, reference: Path) -> Path:
    """A results folder with the reference's cached region (no rebuild in each test)."""
    out = tmp_path / "out"
    shutil.copytree(reference.parent / ".regions", out / ".regions")
    return out


def can_mount() -> bool:
    if os.geteuid() != 0 or shutil.which("unshare") is None:
        return False
    probe = subprocess.run(["unshare", "-m", "sh", "-c", "mount -t tmpfs -o ro tmpfs /mnt"],
                           capture_output=True)
    return probe.returncode == 0


needs_mount = pytest.mark.skipif(not can_mount(), reason="needs root and unshare -m (as in CI)")


def in_mount(folder: Path, options: str, *args: str | Path, prepare: str = "") -> subprocess.CompletedProcess[str]:
    """``twin ARGS`` with a fresh tmpfs mounted on ``folder`` (``options``, e.g. ``ro`` or
    ``size=300k``) in a private mount namespace; ``prepare`` runs first, inside it."""
    folder.mkdir(parents=True, exist_ok=True)
    cmd = " ".join(["exec", *(f"'{a}'" for a in [*TWIN, *map(str, args)])])
    script = f"mount -t tmpfs -o {options} tmpfs '{folder}' && {prepare} {cmd}"
    return subprocess.run(["unshare", "-m", "sh", "-c", script], capture_output=True, text=True, timeout=300)
