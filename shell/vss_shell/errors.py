"""Errors a command raises: each is one line fit to show a person.

API failures are :class:`vss_shell.api.errors.ApiError`; these are the
shell's own. The exit status of a piped run follows the class.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

#: What may follow ``scheme://`` in a URL of a line of text (up to a space or a quote).
_URL_REST = re.compile(r"[^\s'\"]+")
_SCHEME = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+.-")


def _hide(url: str) -> str:
    url = re.sub(r"^([^:]+://).*@", r"\1***@", url, count=1)
    return re.sub(r"[?#].*", "?***", url)


def hide_url_secrets(text: str) -> str:
    """``text`` with what a URL in it could hide a secret in (a user name and
    password, up to the last ``@``; a query; a fragment) replaced by ``***``.

    A URL is ``scheme://`` (a letter, then letters, digits, ``+.-``) and what
    follows up to a space or a quote. Linear time: each ``://`` is looked at once
    and the scheme before it is read backwards (a regular expression searching
    for the scheme would retry every letter of a long word: quadratic).
    """
    parts: list[str] = []
    done = search = 0
    while (sep := text.find("://", search)) != -1:
        search = sep + 1
        start = sep
        while start > done and text[start - 1] in _SCHEME:
            start -= 1
        while start < sep and not ("A" <= text[start] <= "Z" or "a" <= text[start] <= "z"):
            start += 1
        rest = _URL_REST.match(text, sep + 3)
        if start == sep or rest is None:
            continue
        parts += [text[done:start], _hide(text[start:rest.end()])]
        done = search = rest.end()
    return "".join(parts) + text[done:] if parts else text


#: What a secret is replaced by in what the UI prints.
REDACTED = "***"


def spellings(secrets: Iterable[str | None], user: str | None = None) -> set[str]:
    """Every way a secret may come back in a server's text: as it is, URL-quoted,
    base64 (alone, and as ``user:secret``: a Basic header). Secrets under 3
    characters are left out (they would blank out ordinary words)."""
    import base64
    from urllib.parse import quote, quote_plus

    forms: set[str] = set()
    for secret in secrets:
        if not secret or len(secret) < 3:
            continue
        data = secret.encode("utf-8", "surrogateescape")  # a variable of other bytes too
        forms.update({secret, quote(data, safe=""), quote(data), quote_plus(data)})
        raw = [data] + ([f"{user}:{secret}".encode("utf-8", "surrogateescape")]
                        if user else [])
        for data in raw:
            for encoded in (base64.b64encode(data), base64.urlsafe_b64encode(data)):
                forms.update({encoded.decode(), encoded.decode().rstrip("=")})
    return forms


def hide_secrets(text: str, forms: Iterable[str]) -> str:
    """``text`` with each of ``forms`` (see :func:`spellings`) replaced by ``***``,
    longest first."""
    wanted = sorted((f for f in forms if f and f in text), key=len, reverse=True)
    if not wanted:
        return text
    return re.compile("|".join(map(re.escape, wanted))).sub(REDACTED, text)


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
