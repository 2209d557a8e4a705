"""Saving secrets a person asked for (recovery codes, QR codes) to files.

Files are written atomically with mode 0600; an existing file is replaced
only when the person says so (or ``--yes``).
"""

from __future__ import annotations

import errno
import os
from collections.abc import Callable

from vss_shell.errors import ShellError
from vss_shell.files import atomic_write, check_writable
from vss_shell.ui import UI


def _missing_or_not_a_directory(parent: str) -> str:
    """Why the directory ``parent`` is not there: the first component that is a
    file, or the directory that does not exist."""
    probe = parent
    while not os.path.lexists(probe) and os.path.dirname(probe) != probe:
        probe = os.path.dirname(probe)
    if os.path.lexists(probe) and not os.path.isdir(probe):
        return f"{probe} is not a directory"
    return f"directory {parent} does not exist"


def problem(path: str, *, may_overwrite: bool) -> str | None:
    """Why saving to ``path`` would fail (or need a question), or None: one line
    naming the path (checked before the server enrols anything)."""
    target = os.path.expanduser(path)
    parent = os.path.dirname(os.path.abspath(target))
    if not os.path.isdir(parent):  # a file name, not a tree to create
        return _missing_or_not_a_directory(parent)
    if not os.access(parent, os.W_OK | os.X_OK):
        return f"directory {parent} is not writable"
    if os.path.islink(target):  # its target could be any file (or another user's trap)
        return f"{target} is a symbolic link; name a regular file"
    if os.path.isdir(target):
        return f"{target} is a directory"
    if os.path.lexists(target):
        try:
            check_writable(target)
        except OSError as exc:
            return f"{target} {exc.strerror}"
        if not may_overwrite:
            return f"{target} exists (--yes overwrites it)"
    return None


def save_private(ui: UI, path: str, make: Callable[[], bytes], *, what: str,
                 yes: bool = False) -> str | None:
    """Write ``make()`` to ``path``; the path written, or None if skipped. An existing
    file is replaced only if the person says so, or ``yes`` (the command's ``--yes``)."""
    data = make()
    target = os.path.expanduser(path)
    while target:
        try:
            trouble = problem(target, may_overwrite=True)
            if trouble:
                raise OSError(errno.EINVAL, trouble)
            exists = os.path.lexists(target)
            if not exists or yes or ui.confirm(f"{target} exists. Overwrite it?",
                                               flag="--yes", default=False):
                atomic_write(target, data, mode=0o600, overwrite=exists)
                ui.info(f"Saved the {what} to {target} (mode 0600).")
                return target
        except OSError as exc:
            reason = exc.strerror or str(exc)
            ui.error(f"cannot save the {what} to {target}: {reason}")
            if not ui.can_ask:
                raise ShellError(f"the {what} were not saved") from None
        target = os.path.expanduser(ui.ask(
            f"Another file name for the {what} (empty to skip)", flag="--yes", default="",
            paths=True))
    ui.info(f"The {what} were not saved.")
    return None
