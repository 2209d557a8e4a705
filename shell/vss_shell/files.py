"""Safe file writing: atomic replacement, private modes, advisory locks.

Every file of ours is written here: never through a symbolic link, 0600 from
the moment it exists, and no temp file outlives the next write (temp files are
named ``.NAME.<pid>.<random>.tmp``; those of dead writers are removed, and
SIGTERM/SIGHUP remove the live ones before the process exits).

Kept light (no third-party imports, no tempfile): the shell imports it at start-up.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import os
import stat
import time
from collections.abc import Iterator
from pathlib import Path

#: Mode of the directories this module creates.
DIR_MODE = 0o700

#: The most bytes of a target's name kept in its temp file's name (names are <= 255 bytes).
_NAME_IN_TEMP = 200

#: Temp files of mkstemp-era versions (``.NAME.xxxxxxxx.tmp``) older than this are stale.
_LEGACY_STALE_SECONDS = 60.0

_HEX = frozenset("0123456789abcdef")
_MKSTEMP = frozenset("abcdefghijklmnopqrstuvwxyz0123456789_")

#: Temp files this process is writing now (removed by the SIGTERM/SIGHUP handler).
_live: set[str] = set()
_handlers_installed = False


class UnsafePath(OSError):
    """A path we refuse to write: a symbolic link, a read-only file, not a regular file.

    ``filename`` is the user's path and ``strerror`` says why, so callers that print
    ``exc.strerror`` next to the path (or ``str(exc)``) give one clear line.
    """

    def __str__(self) -> str:
        return f"{self.filename}: {self.strerror}"


def _refuse(code: int, why: str, path: str | os.PathLike[str]) -> UnsafePath:
    return UnsafePath(code, why, os.fspath(path))


def _symlink(path: str | os.PathLike[str]) -> UnsafePath:
    return _refuse(errno.ELOOP, "is a symbolic link; not writing through it", path)


def check_writable(path: str | os.PathLike[str]) -> None:
    """Raise :class:`UnsafePath` if ``path`` exists and is a symbolic link, not a
    regular file, or read-only (no write permission for us, or no write bit at all:
    a file made read-only on purpose is refused even for root)."""
    try:
        info = os.lstat(path)
    except FileNotFoundError:
        return
    if stat.S_ISLNK(info.st_mode):
        raise _symlink(path)
    if stat.S_ISDIR(info.st_mode):
        raise _refuse(errno.EISDIR, "is a directory", path)
    if not stat.S_ISREG(info.st_mode):
        raise _refuse(errno.EINVAL, "is not a regular file", path)
    if not info.st_mode & 0o222 or not os.access(path, os.W_OK):
        raise _refuse(errno.EACCES, "is read-only; not replacing it", path)


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
                raise NotADirectoryError(errno.ENOTDIR, f"{folder} is not a directory",
                                         str(folder)) from None
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


# --- temp files: named by owner, removed when their writer is gone ---


def _temp_prefix(target: Path) -> str:
    name = target.name
    while len(os.fsencode(name)) > _NAME_IN_TEMP:  # room for ".<pid>.<random>.tmp"
        name = name[:-1]
    return f".{name}."


def alive(pid: int) -> bool:
    """Whether process ``pid`` runs (another user's counts: it cannot be signalled)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # EPERM: someone else's live process
        return True
    return True


def _stale(middle: str, entry: os.DirEntry[str], now: float) -> bool:
    """Whether a temp file named ``PREFIX + middle + .tmp`` was left by a dead writer."""
    pid, _, rand = middle.partition(".")
    if pid.isdecimal() and int(pid) > 0 and len(rand) == 12 and set(rand) <= _HEX:
        if int(pid) == os.getpid():
            return entry.path not in _live
        return not alive(int(pid))
    if len(middle) != 8 or not set(middle) <= _MKSTEMP:
        return False
    try:
        return now - entry.stat(follow_symlinks=False).st_mtime > _LEGACY_STALE_SECONDS
    except OSError:
        return False


def remove_stale_temps(target: str | os.PathLike[str]) -> list[str]:
    """Remove temp files of ours for ``target`` whose writer is dead; the paths removed.

    Only files owned by this user and named by :func:`atomic_write` (or by the
    versions before it, once a minute old) are touched; a live writer's never.
    """
    target = Path(target)
    prefix, now, removed = _temp_prefix(target), time.time(), []
    try:
        entries = list(os.scandir(target.parent))
    except OSError:
        return removed
    for entry in entries:
        name = entry.name
        if not (name.startswith(prefix) and name.endswith(".tmp")):
            continue
        try:
            if entry.stat(follow_symlinks=False).st_uid != os.geteuid():
                continue
        except OSError:
            continue
        if _stale(name[len(prefix):-len(".tmp")], entry, now):
            with contextlib.suppress(OSError):
                os.unlink(entry.path)
                removed.append(entry.path)
    return removed


def _on_signal(signum: int, frame: object) -> None:
    """Remove our live temp files, then die of the signal as if we had no handler."""
    import signal

    for tmp in list(_live):
        with contextlib.suppress(OSError):
            os.unlink(tmp)
    _live.clear()
    signal.signal(signum, signal.SIG_DFL)
    os.kill(os.getpid(), signum)


def _install_handlers() -> None:
    """Once, from the main thread: SIGTERM and SIGHUP clean up (where nobody else handles them)."""
    global _handlers_installed
    import signal
    import threading

    if _handlers_installed or threading.current_thread() is not threading.main_thread():
        return
    _handlers_installed = True
    for signum in (signal.SIGTERM, signal.SIGHUP):
        with contextlib.suppress(ValueError, OSError):
            if signal.getsignal(signum) == signal.SIG_DFL:
                signal.signal(signum, _on_signal)


def _create_temp(target: Path) -> tuple[int, str]:
    """A new temp file next to ``target`` (0600, exclusive, not through a link)."""
    _install_handlers()
    prefix = _temp_prefix(target)
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC
    for _ in range(100):
        tmp = os.path.join(target.parent, f"{prefix}{os.getpid()}.{os.urandom(6).hex()}.tmp")
        _live.add(tmp)  # before it exists: a signal in between leaves nothing behind
        try:
            return os.open(tmp, flags, 0o600), tmp
        except FileExistsError:
            _live.discard(tmp)
        except BaseException:
            _live.discard(tmp)
            raise
    raise FileExistsError(errno.EEXIST, "no free temp file name", str(target))


def _blame(exc: OSError, target: Path) -> OSError:
    """``exc`` naming the user's path instead of our temp file."""
    if exc.strerror is not None:  # else str(exc) would lose the message
        exc.filename, exc.filename2 = str(target), None
    return exc


def atomic_write(
    path: str | os.PathLike[str],
    data: str | bytes,
    *,
    mode: int = 0o600,
    overwrite: bool = True,
) -> None:
    """Write ``data`` to ``path`` so readers see the old file or the new one, never a part.

    The data goes to a temp file in the same directory (created 0600), is flushed
    and fsynced, gets ``mode``, then replaces ``path``. With ``overwrite=False`` an
    existing ``path`` is never touched: FileExistsError. A missing directory is
    created 0700 (parents too). A symbolic link, a read-only file or anything but
    a regular file at ``path`` is refused (:class:`UnsafePath`, an OSError naming
    ``path``). Errors name ``path``, never the temp file. Text is UTF-8.
    """
    target = Path(path)
    payload = data.encode("utf-8") if isinstance(data, str) else bytes(data)
    directory = ensure_dir(target.parent)
    if not overwrite and os.path.lexists(target):
        raise FileExistsError(errno.EEXIST, "already exists", str(target))
    check_writable(target)
    remove_stale_temps(target)
    tmp = ""
    try:
        fd, tmp = _create_temp(target)
        with os.fdopen(fd, "wb") as handle:
            handle.write(payload)
            handle.flush()
            os.fsync(handle.fileno())
            os.fchmod(handle.fileno(), mode)
        if overwrite:
            os.replace(tmp, target)  # replaces a link planted meanwhile, never its target
        else:
            os.link(tmp, target)  # atomic, and fails if target exists
            os.unlink(tmp)
    except BaseException as exc:
        if tmp:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
        if isinstance(exc, OSError) and not isinstance(exc, UnsafePath):
            raise _blame(exc, target) from None
        raise
    finally:
        _live.discard(tmp)
    _fsync_dir(directory)


def lock_path(path: str | os.PathLike[str]) -> Path:
    """The lock file guarding ``path``: ``<path>.lock``."""
    path = Path(path)
    return path.with_name(path.name + ".lock")


def _open_lock(lock: Path, target: Path) -> int:
    """Open (or create, 0600) the lock file; never through a link, only a regular file."""
    flags = os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW | os.O_CLOEXEC
    try:
        fd = os.open(lock, flags, 0o600)
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            raise _refuse(errno.ELOOP, f"its lock file {lock} is a symbolic link; "
                          "not writing through it", target) from None
        raise
    if not stat.S_ISREG(os.fstat(fd).st_mode):
        os.close(fd)
        raise _refuse(errno.EINVAL, f"its lock file {lock} is not a regular file", target)
    return fd


@contextlib.contextmanager
def locked(path: str | os.PathLike[str]) -> Iterator[None]:
    """Hold an exclusive ``flock`` on ``<path>.lock`` (created 0600) for the block.

    The lock file stays in place afterwards (removing it would race with waiters).
    """
    lock = lock_path(path)
    ensure_dir(lock.parent)
    fd = _open_lock(lock, Path(path))
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)
