"""The token cache: API tokens by endpoint and user, in a private TOML file.

Layout (``paths.tokens_path()``, mode 0600)::

    [tokens."https://cloud-api.eis.utoronto.ca"]
    jdoe = "eyJ...header.payload.signature"

The file holds nothing the user wrote, so a corrupt one (bad TOML, too big, too
deeply nested) is treated as empty and replaced on the next write. Reading never
creates the file or its directory. A symbolic link there is no cache: never read,
never written through (writes are refused with one line naming it).
"""

from __future__ import annotations

import errno
import os
import stat
import tomllib
from pathlib import Path
from typing import Any

from vss_shell import files, paths
from vss_shell.api.token import Token, TokenFormatError

_HEADER = "# vss-shell token cache (private). Safe to delete: it only saves logging in.\n\n"

Entries = dict[str, dict[str, str]]

#: A bigger file is not a token cache of ours (a token is at most 8 kB).
MAX_BYTES = 1 << 20


def _key(endpoint: str) -> str:
    return endpoint.strip().rstrip("/")


def _usable(raw: str, now: float | None = None) -> bool:
    try:
        return Token.parse(raw).usable(now)
    except TokenFormatError:
        return False


class TokenCache:
    """Tokens keyed by endpoint (trailing ``/`` ignored) and user name."""

    def __init__(self, path: str | os.PathLike[str] | None = None):
        self.path = Path(path) if path is not None else paths.tokens_path()

    def _text(self) -> str:
        """The file's text; OSError if it cannot be read (FileNotFoundError if missing,
        UnsafePath if it is a symbolic link or not a regular file)."""
        try:
            fd = os.open(self.path, os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC | os.O_NONBLOCK)
        except OSError as exc:
            if exc.errno == errno.ELOOP and self.path.is_symlink():
                raise files.UnsafePath(errno.ELOOP, "is a symbolic link; not following it",
                                       str(self.path)) from None
            raise
        with os.fdopen(fd, "rb") as handle:
            if not stat.S_ISREG(os.fstat(fd).st_mode):
                raise files.UnsafePath(errno.EINVAL, "is not a regular file", str(self.path))
            data = handle.read(MAX_BYTES + 1)
        return data.decode("utf-8") if len(data) <= MAX_BYTES else ""

    def _read(self, *, strict: bool = False) -> Entries:
        """The cache's entries; empty if the file is missing, corrupt, or (unless
        ``strict``: then OSError) unreadable, a symbolic link or not a regular file."""
        try:
            doc: Any = tomllib.loads(self._text())
        except FileNotFoundError:
            return {}
        except OSError:
            if strict:
                raise
            return {}
        except (UnicodeDecodeError, tomllib.TOMLDecodeError, RecursionError):
            return {}
        tokens = doc.get("tokens")
        if not isinstance(tokens, dict):
            return {}
        entries: Entries = {}
        for endpoint, users in tokens.items():
            if isinstance(users, dict):
                good = {u: raw for u, raw in users.items() if isinstance(raw, str)}
                if good:
                    entries[endpoint] = good
        return entries

    def _write(self, entries: Entries) -> None:
        import tomli_w  # only when writing: not on the way to the prompt

        files.atomic_write(self.path, _HEADER + tomli_w.dumps({"tokens": entries}), mode=0o600)

    def token(self, endpoint: str, user: str) -> Token | None:
        """The cached token, parsed, if it has more than its renewal margin left.

        Temp files that a killed writer left (they hold tokens) are removed first,
        so they do not outlive the next run even when it writes nothing."""
        files.remove_stale_temps(self.path)
        raw = self._read().get(_key(endpoint), {}).get(user)
        if raw is None:
            return None
        try:
            found = Token.parse(raw)
        except TokenFormatError:
            return None
        return found if found.usable() else None

    def get(self, endpoint: str, user: str) -> str | None:
        """The cached raw token, if it parses and has more than a minute left."""
        found = self.token(endpoint, user)
        return found.raw if found is not None else None

    def put(self, endpoint: str, user: str, raw: str) -> None:
        """Cache ``raw``; also drops stale entries. A token that is unparsable or
        about to expire is not cached (any older entry for the key is dropped)."""
        raw = raw.strip()
        with files.locked(self.path):
            entries = self._read()
            pruned: Entries = {}
            for ep, users in entries.items():
                kept = {u: r for u, r in users.items() if _usable(r)}
                if kept:
                    pruned[ep] = kept
            users = pruned.setdefault(_key(endpoint), {})
            users.pop(user, None)
            if _usable(raw):
                users[user] = raw
            if not users:
                del pruned[_key(endpoint)]
            self._write(pruned)

    def drop(self, endpoint: str, user: str) -> None:
        """Forget the token for ``endpoint`` and ``user`` (no-op if there is none).

        Raises OSError (naming the file) when the token may still be cached: the file
        cannot be read or written, or is a symbolic link."""
        if not os.path.lexists(self.path):
            return
        with files.locked(self.path):
            entries = self._read(strict=True)
            users = entries.get(_key(endpoint), {})
            if user not in users:
                return
            del users[user]
            if not users:
                del entries[_key(endpoint)]
            self._write(entries)
