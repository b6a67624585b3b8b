"""Two writers of one run id: the second waits for the first and reuses its file; a lock
left by a dead process is taken over; a live one makes a clear message after the timeout."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest
from faultkit import final_files, fresh_out, same_results, start, twin, wait_for

from twin import results
from twin.config import load_scenario, run_id


def test_two_processes_same_run_id(tmp_path: Path, scenario_file: Path, reference: Path) -> None:
    out = fresh_out(tmp_path, reference)
    first, second = start("run", scenario_file, "--out", out), start("run", scenario_file, "--out", out)
    (o1, e1), (o2, e2) = first.communicate(timeout=300), second.communicate(timeout=300)
    assert first.returncode == 0 and second.returncode == 0, e1 + e2
    assert "Traceback" not in e1 + e2
    assert [("reused" in o) for o in (o1, o2)].count(True) == 1, "one computed, the other reused it"
    (path,) = final_files(out)
    same_results(path, reference)
    assert not list(out.glob(f"*{results.PARTIAL_SUFFIX}")) and not list(out.glob("*.lock"))


def test_partial_file_names_are_per_process(tmp_path: Path, scenario_file: Path, reference: Path) -> None:
    out = fresh_out(tmp_path, reference)
    proc = start("run", scenario_file, "--out", out)
    try:
        wait_for(lambda: any(out.glob(f"*{results.PARTIAL_SUFFIX}")) or proc.poll() is not None)
        names = [p.name for p in out.glob(f"*{results.PARTIAL_SUFFIX}")]
        assert names and all(f".{socket.gethostname()}-{proc.pid}." in n for n in names), names
    finally:
        proc.communicate(timeout=300)


def test_a_live_lock_times_out_with_a_message(tmp_path: Path, scenario_file: Path, reference: Path) -> None:
    from twin.runlock import RunLock

    out = fresh_out(tmp_path, reference)
    rid = run_id(load_scenario(scenario_file), "centralised")
    with RunLock(out, rid):
        done = twin("run", scenario_file, "--out", out, "--lock-timeout", "1")
    assert done.returncode == 1, done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and f"{socket.gethostname()}:{os.getpid()}" in lines[0], done.stderr
    assert "remove the lock file" in lines[0]
    assert final_files(out) == []


def test_a_dead_holder_is_taken_over(tmp_path: Path) -> None:
    from twin.runlock import RunLock, is_stale, lock_path

    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    path = lock_path(tmp_path, "abc")
    holder = {"host": socket.gethostname(), "pid": int(dead.stdout), "token": "old"}
    path.write_text(json.dumps(holder))
    assert is_stale(path, holder)
    with RunLock(tmp_path, "abc", timeout_s=2) as lock:
        assert json.loads(path.read_text())["token"] == lock.token
    assert not path.exists()


def test_a_silent_holder_on_another_host_goes_stale(tmp_path: Path) -> None:
    from twin.runlock import RunLock, is_stale, lock_path

    path = lock_path(tmp_path, "abc")
    holder = {"host": "elsewhere", "pid": 1, "token": "old"}
    path.write_text(json.dumps(holder))
    assert not is_stale(path, holder, stale_s=60)
    os.utime(path, (0, 0))  # no heartbeat since 1970
    assert is_stale(path, holder, stale_s=60)
    with RunLock(tmp_path, "abc", timeout_s=2, stale_s=60):
        pass


def test_waiting_times_out(tmp_path: Path) -> None:
    from twin.runlock import RunLock, RunLockTimeout

    with RunLock(tmp_path, "abc"), pytest.raises(RunLockTimeout, match="being written by"):
        RunLock(tmp_path, "abc", timeout_s=0.6).acquire()


def test_heartbeat_touches_the_lock(tmp_path: Path) -> None:
    import time

    from twin.runlock import RunLock

    with RunLock(tmp_path, "abc", heartbeat_s=0.1) as lock:
        os.utime(lock.path, (0, 0))
        time.sleep(0.4)
        assert lock.path.stat().st_mtime > 1e9


def test_contended_only_when_another_holds_it(tmp_path: Path) -> None:
    """--force recomputes unless the run was just computed by the process we waited for."""
    import threading
    import time

    from twin.runlock import RunLock

    with RunLock(tmp_path, "abc") as first:
        assert not first.contended
    holder = RunLock(tmp_path, "abc").acquire()
    threading.Timer(0.3, holder.release).start()
    start = time.monotonic()
    with RunLock(tmp_path, "abc", timeout_s=10) as second:
        assert second.contended and time.monotonic() - start >= 0.25
