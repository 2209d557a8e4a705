"""Safe file writing: atomic replacement, private modes, advisory locks.

Kept light (no third-party imports): the shell imports it at start-up.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

#: Mode of the directories this module creates.
DIR_MODE = 0o700


def ensure_dir(directory: str | os.PathLike[str], mode: int = DIR_MODE) -> Path:
    """Create ``directory`` and any missing parents with ``mode``; leave existing ones alone."""
    directory = Path(directory)
    missing: list[Path] = []
    probe = directory
    while not probe.is_dir():
        missing.append(probe)
        if probe.parent == probe:
            break
        probe = probe.parent
    for folder in reversed(missing):
        try:
            os.mkdir(folder, mode)
        except FileExistsError:
            if not folder.is_dir():
                raise
            continue  # created by someone else meanwhile: not ours to chmod
        os.chmod(folder, mode)  # the umask may have removed bits
    return directory


def _fsync_dir(directory: Path) -> None:
    """Flush a directory entry change to disk (best effort: not every filesystem can)."""
    try:
        fd = os.open(directory, os.O_RDONLY | os.O_DIRECTORY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def atomic_write(
    path: str | os.PathLike[str],
    data: str | bytes,
    *,
    mode: int = 0o600,
    overwrite: bool = True,
    follow_symlink: bool = True,
) -> None:
    """Write ``data`` to ``path`` so readers see the old file or the new one, never a part.

    The data goes to a temporary file in the same directory (created 0600), is
    flushed and fsynced, gets ``mode``, then replaces ``path``. With
    ``overwrite=False`` an existing ``path`` is never touched: FileExistsError.
    A missing directory is created 0700 (parents too). A symlink at ``path`` is
    followed (the file it points to is replaced: the shell's own files may be
    links into a dotfiles repository); with ``follow_symlink=False`` the link
    itself is replaced, never its target (files a person names). Text is UTF-8.
    """
    target = Path(path)
    if follow_symlink and target.is_symlink():
        target = Path(os.path.realpath(target))
    payload = data.encode("utf-8") if isinstance(data, str) else bytes(data)
    directory = ensure_dir(target.parent)
    if not overwrite and os.path.lexists(target):
        raise FileExistsError(f"{target} already exists")
    fd, tmp = tempfile.mkstemp(dir=directory, prefix=f".{target.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(payload)
            handle.flush()
            os.fsync(handle.fileno())
            os.fchmod(handle.fileno(), mode)
        if overwrite:
            os.replace(tmp, target)
        else:
            os.link(tmp, target)  # atomic, and fails if target exists
            os.unlink(tmp)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    _fsync_dir(directory)


def lock_path(path: str | os.PathLike[str]) -> Path:
    """The lock file guarding ``path``: ``<path>.lock``."""
    path = Path(path)
    return path.with_name(path.name + ".lock")


@contextlib.contextmanager
def locked(path: str | os.PathLike[str]) -> Iterator[None]:
    """Hold an exclusive ``flock`` on ``<path>.lock`` (created 0600) for the block.

    The lock file stays in place afterwards (removing it would race with waiters).
    """
    lock = lock_path(path)
    ensure_dir(lock.parent)
    fd = os.open(lock, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)
