"""Saving secrets a person asked for (recovery codes, QR codes) to files.

Files are written atomically with mode 0600; an existing file is replaced
only when the person says so (or ``--yes``).
"""

from __future__ import annotations

import os
from collections.abc import Callable

from vss_shell.errors import ShellError
from vss_shell.files import atomic_write
from vss_shell.ui import UI


def save_private(ui: UI, path: str, make: Callable[[], bytes], *, what: str) -> str | None:
    """Write ``make()`` to ``path``; the path written, or None if skipped."""
    data = make()
    target = os.path.expanduser(path)
    while target:
        try:
            atomic_write(target, data, mode=0o600, overwrite=False)
        except FileExistsError:
            if ui.assume_yes or (ui.can_ask and ui.confirm(
                    f"{target} exists. Overwrite it?", flag="--yes", default=False)):
                atomic_write(target, data, mode=0o600, overwrite=True)
            elif not ui.can_ask:
                raise ShellError(f"{target} exists and was not overwritten "
                                 "(--yes overwrites it)") from None
            else:
                target = os.path.expanduser(ui.ask(
                    f"Another file name for the {what} (empty to skip)", flag="--yes",
                    default=""))
                continue
        except OSError as exc:
            ui.error(f"cannot save the {what} to {target}: {exc.strerror or exc}")
            if not ui.can_ask:
                raise ShellError(f"the {what} were not saved") from None
            target = os.path.expanduser(ui.ask(
                f"Another file name for the {what} (empty to skip)", flag="--yes", default=""))
            continue
        ui.info(f"Saved the {what} to {target} (mode 0600).")
        return target
    ui.info(f"The {what} were not saved.")
    return None
