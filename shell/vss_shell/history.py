"""The history file: lines as typed in memory, secrets masked on disk.

A line that does not parse cleanly stays in memory only: a secret in it
could be anywhere (``mfa verfy 123456``), so nothing could mask it reliably.
The file is 0600 from the moment it exists (also when re-created during a
session) and is never written through a symbolic link.
"""

from __future__ import annotations

import datetime
import errno
import os
import stat
from collections.abc import Callable, Iterable
from pathlib import Path

from prompt_toolkit.history import FileHistory

from vss_shell.commands.parser import MASK, history_line
from vss_shell.commands.table import Table
from vss_shell.files import UnsafePath, ensure_dir
from vss_shell.safetext import visible

#: How the history file is opened: appending, created 0600, never through a link,
#: never blocking (a FIFO without a reader fails instead).
_FLAGS = os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_NOFOLLOW | os.O_CLOEXEC | os.O_NONBLOCK


def _open(path: Path) -> int:
    """The history file opened for appending (made 0600); UnsafePath for a link or
    anything but a regular file."""
    try:
        fd = os.open(path, _FLAGS, 0o600)
    except OSError as exc:
        if exc.errno == errno.ELOOP and os.path.islink(path):
            raise UnsafePath(errno.ELOOP, "is a symbolic link; not writing through it",
                             str(path)) from None
        raise
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise UnsafePath(errno.EINVAL, "is not a regular file", str(path))
        if stat.S_IMODE(info.st_mode) != 0o600:
            os.fchmod(fd, 0o600)
    except BaseException:
        os.close(fd)
        raise
    return fd


#: The most of the history file read at start (its end: the newest entries).
MAX_LOAD = 1 << 20


def _tail(path: Path) -> bytes:
    """The last MAX_LOAD bytes of the history file, from its first whole entry; nothing
    when it is missing, a link, or not a regular file (a FIFO would block)."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC | os.O_NONBLOCK)
    except OSError:
        return b""
    with os.fdopen(fd, "rb") as handle:
        size = os.fstat(fd).st_size
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            return b""
        if size > MAX_LOAD:
            handle.seek(size - MAX_LOAD)
            data = handle.read(MAX_LOAD)
            return data[data.find(b"\n#") + 1:] if b"\n#" in data else b""
        return handle.read(MAX_LOAD)


class MaskingFileHistory(FileHistory):
    """A FileHistory (mode 0600) that writes secrets as ``******``.

    Lines that do not parse cleanly are kept for the session, not written.
    """

    def __init__(self, path: str | Path, table: Table,
                 on_error: Callable[[OSError], None] | None = None) -> None:
        """Raises OSError when the file cannot be made (or is a symbolic link);
        ``on_error`` hears of later write failures (the line then stays in memory only)."""
        path = Path(path)
        ensure_dir(path.parent)
        os.close(_open(path))
        self.path = path
        self.table = table
        self.on_error = on_error
        super().__init__(str(path))

    def load_history_strings(self) -> Iterable[str]:
        """The file's entries, newest first, from its last MAX_LOAD bytes (read never
        through a link nor from anything but a regular file), less those with a masked
        secret (recalled, they could only fail) and those with control characters (the
        file is outside text: recalled, such a line would reach the terminal raw). The
        file keeps them all as a record."""
        entries: list[str] = []
        lines: list[str] = []
        for raw in _tail(self.path).splitlines(keepends=True):
            line = raw.decode("utf-8", errors="replace")
            if line.startswith("+"):
                lines.append(line[1:])
                continue
            if lines:
                entries.append("".join(lines).removesuffix("\n"))
            lines = []
        if lines:
            entries.append("".join(lines).removesuffix("\n"))
        return (entry for entry in reversed(entries)
                if MASK not in entry and visible(entry, newlines=False) == entry)

    def store_string(self, string: str) -> None:
        line = history_line(self.table, string)
        if line is None:
            return
        entry = f"\n# {datetime.datetime.now()}\n" + "".join(
            f"+{part}\n" for part in line.split("\n"))
        try:
            fd = _open(self.path)
            try:
                data = entry.encode("utf-8", errors="replace")
                while data:
                    data = data[os.write(fd, data):]
            finally:
                os.close(fd)
        except OSError as exc:
            if self.on_error is not None:
                self.on_error(exc)
