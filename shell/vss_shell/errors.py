"""Errors a command raises: each is one line fit to show a person.

API failures are :class:`vss_shell.api.errors.ApiError`; these are the
shell's own. The exit status of a piped run follows the class.
"""

from __future__ import annotations


class ShellError(Exception):
    """A failure shown as one line; exit status 1."""

    exit_status = 1


class UsageError(ShellError):
    """Bad command line: unknown command, bad arguments; exit status 2."""

    exit_status = 2

    def __init__(self, message: str, usage: str | None = None) -> None:
        super().__init__(message)
        self.usage = usage


class MissingAnswer(ShellError):
    """A question cannot be asked (no terminal) and no flag answered it."""


class Cancelled(ShellError):
    """The person declined a confirmation; nothing was changed."""
