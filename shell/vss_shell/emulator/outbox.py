"""The emulator's fake mail and SMS gateway: messages kept for tests, one log line each."""

from __future__ import annotations

import contextlib
import sys
from typing import Any, TextIO


class CurrentStderr:
    """A stream that writes to whatever ``sys.stderr`` is when written to.

    So outbox lines follow pytest's capture or a prompt's ``patch_stdout``.
    """

    def write(self, text: str) -> int:
        return sys.stderr.write(text)

    def flush(self) -> None:
        sys.stderr.flush()


class Outbox:
    """Messages "sent" by the emulator, oldest first. Not thread-safe: the state locks it."""

    def __init__(self, log: TextIO | None = None) -> None:
        self._messages: list[dict[str, Any]] = []
        self._log = log

    def send(
        self, username: str, kind: str, to: str, subject: str, body: str, **secret: str
    ) -> dict[str, Any]:
        """Record a message (``secret`` is ``code=...`` or ``token=...``) and log it."""
        message = {"username": username, "to": to, "kind": kind, "subject": subject, "body": body}
        message.update(secret)
        self._messages.append(message)
        if self._log is not None:
            what = ", ".join(f"{name} {value}" for name, value in secret.items())
            # A closed or broken log must not break the API.
            with contextlib.suppress(OSError, ValueError):
                print(f"[outbox] {kind} to {to}: {what}", file=self._log, flush=True)
        return message

    def messages(self, username: str | None = None) -> list[dict[str, Any]]:
        """Copies of the messages to ``username`` (all when None), oldest first."""
        return [dict(m) for m in self._messages if username is None or m["username"] == username]
