"""Errors a command raises: each is one line fit to show a person.

API failures are :class:`vss_shell.api.errors.ApiError`; these are the
shell's own. The exit status of a piped run follows the class.
"""

from __future__ import annotations

import re

#: A URL in a line of text (up to a space or a quote).
_URL = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*://[^\s'\"]+")


def hide_url_secrets(text: str) -> str:
    """``text`` with what a URL in it could hide a secret in (a user name and
    password, up to the last ``@``; a query; a fragment) replaced by ``***``."""

    def hide(match: re.Match[str]) -> str:
        url = re.sub(r"^([^:]+://).*@", r"\1***@", match.group(), count=1)
        return re.sub(r"[?#].*", "?***", url)

    return _URL.sub(hide, text)


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
