"""Crash-safe writing: a full disk is a plain OSError, never a half-written or complete-looking
file, and a previously complete file is left exactly as it was."""

from __future__ import annotations

import errno
import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path
from types import SimpleNamespace

import h5py
import numpy as np
import pytest

from twin import atomic, results

TESTS = Path(__file__).parents[1]


def _enospc_after(monkeypatch: pytest.MonkeyPatch, nbytes: int) -> list[int]:
    """``os.write`` writes ``nbytes`` in all, then fails as a full disk does."""
    real = os.write
    written = [0]

    def write(fd: int, data: bytes) -> int:
        room = nbytes - written[0]
        if room <= 0:
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        n = real(fd, bytes(memoryview(data)[:room]))
        written[0] += n
        return n

    monkeypatch.setattr(os, "write", write)
    return written


def _leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name.endswith(".tmp"))


def test_write_atomic_full_disk_keeps_the_old_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    target = tmp_path / "f.h5"
    target.write_bytes(b"old contents")
    written = _enospc_after(monkeypatch, 1000)
    with pytest.raises(OSError) as err:
        atomic.write_atomic(target, b"x" * 5000)
    assert err.value.errno == errno.ENOSPC and written[0] == 1000  # it got part way
    assert target.read_bytes() == b"old contents"
    assert _leftovers(tmp_path) == []


def test_write_atomic_on_dev_full(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The kernel's own ENOSPC (/dev/full) through the real os.write."""
    if not Path("/dev/full").exists():
        pytest.skip("no /dev/full on this system")
    target = tmp_path / "f.h5"
    monkeypatch.setattr(atomic, "_create", lambda path: os.open("/dev/full", os.O_WRONLY))
    with pytest.raises(OSError) as err:
        atomic.write_atomic(target, b"x" * 5000)
    assert err.value.errno == errno.ENOSPC and not target.exists()


def test_write_atomic_replaces_and_follows_umask(tmp_path: Path) -> None:
    target = tmp_path / "f.h5"
    target.write_bytes(b"old")
    old = os.umask(0o022)
    try:
        atomic.write_atomic(target, b"new")
    finally:
        os.umask(old)
    assert target.read_bytes() == b"new" and (target.stat().st_mode & 0o777) == 0o644
    assert _leftovers(tmp_path) == []


def _flow(partial: Path, final: Path, hand: SimpleNamespace) -> None:
    """The runner's sequence of writes (twin/runner.py) on the hand-built run."""
    reg = hand.region(hand.DISTRICTS)
    results.start_file(partial, {"step_s": hand.STEP, "run_id": "r", "configuration": "c"}, reg)
    results.write_series(partial, [i * hand.STEP for i in range(4)], hand.SERIES, hand.cascade_events())
    results.write_metrics(partial, {"energy_not_served_mwh": 3.0}, {"power": np.ones(4)})
    results.set_status(partial, "complete", "", wall_time_s=1.0)
    results.publish(partial, final)


@pytest.mark.parametrize("stage", range(4))  # start_file, write_series, write_metrics, set_status
@pytest.mark.parametrize("previous", [False, True])
def test_full_disk_at_every_stage(stage: int, previous: bool, tmp_path: Path, hand: SimpleNamespace,
                                  monkeypatch: pytest.MonkeyPatch) -> None:
    out = tmp_path / "out"
    out.mkdir()
    partial, final = results.partial_path(out, "r"), results.final_path(out, "r")
    if previous:  # a complete file of the same run id, as `twin run --force` finds it
        _flow(partial, final, hand)
        before = (final.read_bytes(), final.stat().st_mtime_ns)
        assert results.is_complete(final)
    done = [0]
    real = atomic.write_atomic

    def failing(path: Path, data: bytes) -> None:
        if done[0] == stage:
            _enospc_after(monkeypatch, len(data) // 2)  # half the image reaches the disk
        done[0] += 1
        real(path, data)

    monkeypatch.setattr(atomic, "write_atomic", failing)
    with pytest.raises(OSError) as err:
        _flow(partial, final, hand)
    monkeypatch.undo()
    assert err.value.errno == errno.ENOSPC
    assert _leftovers(out) == []
    if previous:
        assert (final.read_bytes(), final.stat().st_mtime_ns) == before
        assert results.load(final).metrics == {"energy_not_served_mwh": 3.0}
    else:
        assert not final.exists()
    if stage == 0:
        assert not partial.exists()
    else:  # the partial file is the whole, readable state of the stage before
        assert not results.is_complete(partial)
        with h5py.File(partial) as f:
            assert f.attrs["status"] == "running"
            assert ("series" in f) == (stage >= 2) and ("metrics" in f) == (stage >= 3)


def test_error_inside_an_edit_writes_nothing(tmp_path: Path, hand: SimpleNamespace) -> None:
    path = hand.make_file(tmp_path / "a.h5", hand.region(hand.DISTRICTS), hand.SERIES, [])
    before = path.read_bytes()
    with pytest.raises(KeyError), atomic.edit(path) as f:
        f.attrs["status"] = "failed"
        raise KeyError("boom")
    assert path.read_bytes() == before


def test_status_must_be_known(cascade_file: Path) -> None:
    with pytest.raises(ValueError, match="unknown status"):
        results.set_status(cascade_file, "done")
    results.set_status(cascade_file, "degraded")
    assert results.is_finished(cascade_file) and not results.is_complete(cascade_file)


SMALL_DISK = """
import errno, os, sys
from pathlib import Path
sys.path.insert(0, {tests!r})
from conftest import DISTRICTS, SERIES, cascade_events, make_file, region
from twin import atomic, results
disk = Path(sys.argv[1])
old = make_file(disk / "old.h5", region(DISTRICTS), SERIES, cascade_events())
before = old.read_bytes()
big = {{"power": {{"served_mw": [1.0] * 4,
                  "bus_energised": [{{f"power/bus/B{{i}}": 1.0 for i in range(20000)}}] * 4}}}}
try:
    make_file(disk / "new.h5", region(DISTRICTS), big, [])
except OSError as err:
    assert err.errno == errno.ENOSPC and str(err) == "[Errno 28] No space left on device", err
    assert old.read_bytes() == before and results.is_complete(old)
    new = disk / "new.h5"
    if new.exists():  # the whole file of the last stage that fitted, never a torn one
        import h5py
        with h5py.File(new) as f:
            assert f.attrs["status"] == "running" and "series" not in f, list(f)
    assert not [p for p in disk.iterdir() if p.name.endswith(".tmp")], list(disk.iterdir())
    print("ENOSPC", err)
    sys.exit(0)
sys.exit("the disk did not fill")
"""


def test_a_real_full_disk_is_an_oserror(tmp_path: Path) -> None:
    """A 256 kB tmpfs in a private mount namespace (unshare, no root needed): the image of a
    large run does not fit; the process exits normally with the OSError, no segfault."""
    if shutil.which("unshare") is None:
        pytest.skip("no unshare(1)")
    probe = subprocess.run(["unshare", "-rm", "true"], capture_output=True)
    if probe.returncode != 0:
        pytest.skip(f"user and mount namespaces not permitted: {probe.stderr.decode().strip()}")
    disk = tmp_path / "disk"
    disk.mkdir()
    script = tmp_path / "small_disk.py"
    script.write_text(textwrap.dedent(SMALL_DISK.format(tests=str(TESTS))))
    cmd = f"mount -t tmpfs -o size=256k tmpfs {disk} && exec {sys.executable} {script} {disk}"
    proc = subprocess.run(["unshare", "-rm", "sh", "-c", cmd], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "ENOSPC" in proc.stdout and "No space left on device" in proc.stdout


def _stub_run(monkeypatch: pytest.MonkeyPatch, hand: SimpleNamespace, tmp_path: Path) -> None:
    """The runner with the hand-built region and a world that only feeds the real recorder
    (twin.recorder.RecorderSim, without mosaik) the hand-built series and events."""
    import twin.world
    from twin import runner
    from twin.recorder import RecorderSim

    reg = hand.region(hand.DISTRICTS)
    reg.root = tmp_path / "region-key"
    monkeypatch.setattr(runner, "region_for", lambda scenario, configuration, out_dir: reg)

    def world(scenario: object, region_dir: Path, out_path: Path, **_: object) -> None:
        sim = RecorderSim()
        sim.init("Recorder-0", step_s=hand.STEP)
        sim.create(1, "Recorder", out_path=str(out_path))
        events = hand.cascade_events()
        for i in range(4):
            series = {f"{s.title()}-0.{s}": {n: v[i] for n, v in hand.SERIES[s].items()} for s in hand.SERIES}
            now = [e for e in events if i * hand.STEP <= e["time_s"] < (i + 1) * hand.STEP]
            sim.step(i * hand.STEP, {"recorder": {"series": series, "events": {"Incidents-0.incidents": now}}})
        sim.finalize()

    monkeypatch.setattr(twin.world, "run_world", world)


def _scenario():  # type: ignore[no-untyped-def]
    from twin.config import validate_data

    return validate_data({"run": {"hours": 2, "step_s": 1800, "seed": 3, "configurations": ["centralised"]},
                          "region": {"size": "small"}}, "atomic")


@pytest.mark.parametrize("stage", [1, 2])  # the recorder's write inside the world; the metrics
@pytest.mark.parametrize("lasting", [True, False])  # the disk stays full, or frees up at once
def test_runner_full_disk_is_an_oserror(stage: int, lasting: bool, tmp_path: Path, hand: SimpleNamespace,
                                        monkeypatch: pytest.MonkeyPatch) -> None:
    """`twin run --force` on a full disk: the OSError reaches the caller (the command line
    makes it exit 1), no failed or complete file is published, the old complete file stays."""
    from twin.runner import run_configuration

    _stub_run(monkeypatch, hand, tmp_path)
    out = tmp_path / "out"
    first = run_configuration(_scenario(), "centralised", out)
    assert first.status == "complete", first.error
    assert results.load(first.path).events == sorted(hand.cascade_events(), key=lambda e: e["time_s"])
    before = (first.path.read_bytes(), first.path.stat().st_mtime_ns)
    calls = [0]
    real = atomic.write_atomic

    def failing(path: Path, data: bytes) -> None:
        calls[0] += 1
        if calls[0] == stage + 1 or (lasting and calls[0] > stage):
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        real(path, data)

    monkeypatch.setattr(atomic, "write_atomic", failing)
    with pytest.raises(OSError) as err:
        run_configuration(_scenario(), "centralised", out, force=True)
    assert atomic.is_disk_full(err.value)
    assert (first.path.read_bytes(), first.path.stat().st_mtime_ns) == before
    partials = sorted(out.glob(f"{first.run_id}.*.partial.h5"))  # this process's own partial
    assert sorted(p.name for p in out.glob("*.h5")) == sorted([first.path.name, *(p.name for p in partials)])
    assert len(partials) == 1
    with h5py.File(partials[0]) as f:
        assert f.attrs["status"] == "running"
