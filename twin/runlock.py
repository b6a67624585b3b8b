"""One writer per run id: a lock file ``<run_id>.lock`` in the output folder.

The lock is created with ``O_CREAT | O_EXCL`` (atomic on local filesystems, NFSv3+ and
Lustre) and holds JSON ``{host, pid, token, started_utc}``; its holder touches it every
:data:`HEARTBEAT_S` seconds. A lock is stale when its holder is a dead process on this host,
or when it was not touched for :data:`STALE_S` seconds (a holder on another host that died);
a stale lock is moved aside and taken over. A process that finds a live lock waits for it
(polling every :data:`POLL_S`) and then reuses the finished file, or raises
:class:`RunLockTimeout` after ``timeout_s``.
"""

from __future__ import annotations

import json
import os
import socket
import threading
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path
from types import TracebackType

HEARTBEAT_S = 10.0  # the holder touches the lock this often
STALE_S = 120.0  # a lock untouched this long is stale (its holder died on another host)
POLL_S = 0.5  # a waiting process looks again this often
DEFAULT_TIMEOUT_S = 6 * 3600.0  # how long a second process waits by default
LOCK_SUFFIX = ".lock"


class RunLockTimeout(TimeoutError):
    """Another live process held the run's lock for longer than the wait allowed."""


def lock_path(out_dir: Path, run_id: str) -> Path:
    return Path(out_dir) / f"{run_id}{LOCK_SUFFIX}"


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _holder(path: Path) -> dict[str, object] | None:
    try:
        return json.loads(path.read_text())
    except FileNotFoundError:
        return None
    except (OSError, ValueError):
        return {}  # being written, or garbage: judged by its age alone


def is_stale(path: Path, holder: dict[str, object], stale_s: float = STALE_S) -> bool:
    """True if the lock's holder is gone: a dead pid on this host, or no heartbeat for stale_s."""
    if holder.get("host") == socket.gethostname() and isinstance(holder.get("pid"), int):
        if not _alive(int(holder["pid"])):  # type: ignore[arg-type]
            return True
    try:
        age = time.time() - path.stat().st_mtime
    except FileNotFoundError:
        return False
    return age > stale_s


class RunLock:
    """Exclusive right to write the results of one run id; a context manager."""

    def __init__(self, out_dir: Path, run_id: str, timeout_s: float = DEFAULT_TIMEOUT_S,
                 stale_s: float = STALE_S, heartbeat_s: float = HEARTBEAT_S):
        self.path = lock_path(out_dir, run_id)
        self.run_id = run_id
        self.timeout_s = timeout_s
        self.stale_s = stale_s
        self.heartbeat_s = heartbeat_s
        self.token = uuid.uuid4().hex
        self.waited_s = 0.0
        self.contended = False  # True if another live process held the lock when we asked
        self._stop = threading.Event()
        self._beat: threading.Thread | None = None

    def _try_create(self) -> bool:
        try:
            fd = os.open(self.path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o666)
        except FileExistsError:
            return False
        info = {"host": socket.gethostname(), "pid": os.getpid(), "token": self.token,
                "run_id": self.run_id, "started_utc": datetime.now(UTC).isoformat(timespec="seconds")}
        with os.fdopen(fd, "w") as f:
            f.write(json.dumps(info) + "\n")
            f.flush()
            os.fsync(f.fileno())
        return True

    def _break(self, holder: dict[str, object]) -> None:
        """Move a stale lock aside; put it back if it changed hands meanwhile."""
        aside = self.path.with_name(f"{self.path.name}.stale-{uuid.uuid4().hex[:8]}")
        try:
            os.rename(self.path, aside)
        except FileNotFoundError:
            return
        moved = _holder(aside) or {}
        if holder and moved.get("token") != holder.get("token"):
            try:
                os.link(aside, self.path)  # a fresh lock was taken meanwhile: give it back
            except OSError:
                pass
        aside.unlink(missing_ok=True)

    def acquire(self) -> RunLock:
        start = time.monotonic()
        while not self._try_create():
            holder = _holder(self.path)
            if holder is not None and is_stale(self.path, holder, self.stale_s):
                self._break(holder)
                continue
            self.contended = True
            self.waited_s = time.monotonic() - start
            if self.waited_s > self.timeout_s:
                who = f"{holder.get('host')}:{holder.get('pid')}" if holder else "another process"
                raise RunLockTimeout(
                    f"{self.path}: run {self.run_id} is being written by {who}; waited "
                    f"{self.waited_s:.0f} s. Wait for it, or remove the lock file if that process is gone")
            time.sleep(POLL_S)
        self.waited_s = time.monotonic() - start
        self._stop.clear()
        self._beat = threading.Thread(target=self._heartbeat, name=f"runlock-{self.run_id}", daemon=True)
        self._beat.start()
        return self

    def _heartbeat(self) -> None:
        while not self._stop.wait(self.heartbeat_s):
            try:
                os.utime(self.path)
            except OSError:
                return

    def release(self) -> None:
        self._stop.set()
        if self._beat is not None:
            self._beat.join()
            self._beat = None
        holder = _holder(self.path)
        if holder is not None and holder.get("token") == self.token:
            self.path.unlink(missing_ok=True)

    def __enter__(self) -> RunLock:
        return self.acquire()

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.release()
