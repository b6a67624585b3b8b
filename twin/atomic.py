"""Crash-safe files: the whole content is written at once, or nothing changes.

:func:`write_atomic` puts bytes on disk with a temporary file in the same folder,
``os.write``, ``fsync`` and ``rename``; :func:`edit` opens an HDF5 file in memory (the core
driver without a backing store, so HDF5 never writes to a disk itself) and writes its image
back that way. A full disk is then a plain ``OSError`` from ``os.write`` (never a crash
inside HDF5) and the previous file stays whole. Used by the results files (twin.results);
any other file twin writes can use it too.
"""

from __future__ import annotations

import errno
import os
import secrets
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path

import h5py

# errno values that mean the disk (or the user's quota) is full: the machine's fault, never
# a failed run (docs/architecture.md, exit code 1).
DISK_FULL_ERRNOS: frozenset[int] = frozenset({errno.ENOSPC, errno.EDQUOT})


def is_disk_full(err: BaseException) -> bool:
    """True for an OSError that says the disk or quota is full."""
    return isinstance(err, OSError) and err.errno in DISK_FULL_ERRNOS


def _create(path: Path) -> int:
    """Open a new file for writing (mode 0666 less the umask)."""
    return os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_CLOEXEC", 0), 0o666)


def fsync_dir(folder: Path) -> None:
    """Make a rename durable; file systems that cannot sync a folder are let be."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError as err:
        if err.errno not in (errno.EINVAL, errno.ENOTSUP, errno.EBADF):
            raise
    finally:
        os.close(fd)


def write_atomic(path: Path, data: bytes | memoryview) -> None:
    """Replace ``path`` by ``data`` all at once: temporary file, write, fsync, rename.

    Any failure (ENOSPC, EIO, EDQUOT, ...) raises the ``OSError`` and leaves ``path`` as it
    was and no temporary file behind."""
    path = Path(path)
    tmp = path.with_name(f"{path.name}.{os.getpid()}-{secrets.token_hex(4)}.tmp")
    fd = _create(tmp)
    done = False
    try:
        try:
            view = memoryview(data)
            while view:
                view = view[os.write(fd, view):]
            os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(tmp, path)
        done = True
    finally:
        if not done:
            with suppress(OSError):
                tmp.unlink()
    fsync_dir(path.parent)


@contextmanager
def edit(path: Path, *, new: bool = False) -> Iterator[h5py.File]:
    """The HDF5 file ``path`` in memory (``new``: an empty one), written back atomically
    when the block ends without an error."""
    path = Path(path)
    if new:
        f = h5py.File(f"{path}.{secrets.token_hex(4)}.mem", "w", driver="core", backing_store=False)
    else:
        f = h5py.File(path, "r+", driver="core", backing_store=False)
    try:
        yield f
        f.flush()
        image = f.id.get_file_image()
    finally:
        f.close()
    write_atomic(path, image)
