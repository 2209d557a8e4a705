"""Demo mode: what the embedded emulator "sends" appears in the shell as it is sent.

A person trying the shell offline has no mailbox or phone; the message shows up
before the question that needs it, so every flow finishes inside the one shell.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from vss_shell.emulator import Emulator
    from vss_shell.ui import UI


class Mailbox:
    """Announces each new outbox message once."""

    def __init__(self, emulator: Emulator, ui: UI) -> None:
        self._emulator = emulator
        self._ui = ui
        self._seen = len(emulator.outbox())

    def announce(self) -> None:
        """Show the messages sent since the last call."""
        entries = self._emulator.outbox()
        for entry in entries[self._seen:]:
            what = "code" if entry.get("code") else "token"
            self._ui.info(f"(demo) {entry.get('kind')} to {entry.get('to')}: "
                          f"{what} {entry.get(what)}")
        self._seen = len(entries)
