"""The history file: lines as typed in memory, secrets masked on disk.

A line that does not parse cleanly stays in memory only: a secret in it
could be anywhere (``mfa verfy 123456``), so nothing could mask it reliably.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable
from pathlib import Path

from prompt_toolkit.history import FileHistory

from vss_shell.commands.parser import MASK, history_line
from vss_shell.commands.table import Table
from vss_shell.files import ensure_dir


class MaskingFileHistory(FileHistory):
    """A FileHistory (mode 0600) that writes secrets as ``******``.

    Lines that do not parse cleanly are kept for the session, not written.
    """

    def __init__(self, path: str | Path, table: Table,
                 on_error: Callable[[OSError], None] | None = None) -> None:
        """Raises OSError when the file cannot be made; ``on_error`` hears of later
        write failures (the line then stays in memory only)."""
        path = Path(path)
        ensure_dir(path.parent)
        os.close(os.open(path, os.O_CREAT | os.O_APPEND | os.O_WRONLY, 0o600))
        os.chmod(path, 0o600)
        self.table = table
        self.on_error = on_error
        super().__init__(str(path))

    def load_history_strings(self) -> Iterable[str]:
        """The file's lines, less those with a masked secret: recalled (Up, grey
        suggestions) they could only fail. The file keeps them as a record."""
        return (line for line in super().load_history_strings() if MASK not in line)

    def store_string(self, string: str) -> None:
        line = history_line(self.table, string)
        if line is None:
            return
        try:
            super().store_string(line)
        except OSError as exc:
            if self.on_error is not None:
                self.on_error(exc)
