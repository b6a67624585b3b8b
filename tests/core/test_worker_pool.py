"""The run workers' exit: they leave without Python's teardown (twin.runner's
``_exit_without_teardown``, from an atexit handler), and nothing they wrote is lost: what
Python and C buffered (multiprocessing and CPython's SystemExit path flush both before the
atexit handlers, the handler once more) reaches the parent's stdout."""

from __future__ import annotations

import ctypes
import os
import sys

import pytest

from twin.runner import worker_pool


def _write_unflushed(tag: str) -> int:
    """Output a worker leaves in its buffers: Python's stdout and C's stdio (as SUMO writes)."""
    sys.stdout.write(f"python-{tag}")  # no newline, no flush
    libc = ctypes.CDLL(None)
    libc.printf(f"c-{tag}".encode())  # buffered by C's stdio: the fd is not a terminal
    return os.getpid()


@pytest.mark.skipif(sys.platform == "win32", reason="C stdio through ctypes.CDLL(None)")
def test_worker_output_survives_the_quick_exit(capfd: pytest.CaptureFixture[str],
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("PYTHONUNBUFFERED", raising=False)  # else Python unbuffers C's stdout too
    with worker_pool(2) as pool:
        pids = {pool.submit(_write_unflushed, str(k)).result() for k in range(4)}
    out = capfd.readouterr().out
    for k in range(4):
        assert f"python-{k}" in out
        assert f"c-{k}" in out
    assert pids and os.getpid() not in pids  # the tasks ran in workers, not here


def test_worker_exits_with_its_exit_code_zero() -> None:
    """A worker shut down by the pool exits 0 (os._exit(0) after flushing)."""
    with worker_pool(1) as pool:
        pool.submit(int).result()
        procs = list(pool._processes.values())  # the executor's own record of its workers
    assert procs
    assert all(p.exitcode == 0 for p in procs)
