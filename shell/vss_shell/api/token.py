"""The API token: a JWT whose payload the client reads without verifying it."""

from __future__ import annotations

import re
import time
from datetime import UTC, datetime

from vss_shell.record import Frozen

#: A token with this many seconds left or fewer is renewed, not used (nor cached);
#: a short-lived token renews at a quarter of its life instead (:attr:`Token.renew_margin`).
RENEW_MARGIN = 60.0
#: The last second a date can show (9999-12-31 23:59:59 UTC): a later ``exp`` is bogus.
MAX_EXP = 253_402_300_799
#: The longest token text accepted (it travels in a header of every request).
MAX_LEN = 8192
#: A JWT as it may travel in a header: three base64url parts (the signature may be empty).
_JWT = re.compile(r"[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*")


class TokenFormatError(ValueError):
    """The text is not a JWT with a readable payload."""


def _b64url_json(part: str) -> dict:
    import base64
    import binascii

    from vss_shell.api.jsontext import loads

    padded = part + "=" * (-len(part) % 4)
    try:
        value = loads(base64.urlsafe_b64decode(padded.encode("ascii")))
    except (binascii.Error, ValueError) as exc:
        raise TokenFormatError("token payload is not base64url JSON") from exc
    if not isinstance(value, dict):
        raise TokenFormatError("token payload is not a JSON object")
    return value


def _seconds(payload: dict, claim: str, default: int | None = None) -> int:
    """A time claim: a JSON number (not a string, not a bool) within the dates' range."""
    value = payload.get(claim, default)
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise TokenFormatError(f"token payload has no valid {claim!r}")
    if not 0 <= value <= MAX_EXP:  # also NaN and the infinities
        raise TokenFormatError(f"token payload has no valid {claim!r}")
    return int(value)


class Token(Frozen):
    """A bearer token. ``repr`` and ``str`` never show the raw value."""

    __slots__ = FIELDS = ("raw", "username", "issued_at", "expires_at", "mfa")
    _hidden = ("raw",)

    def __init__(self, raw: str, username: str, issued_at: int, expires_at: int,
                 mfa: bool) -> None:
        self.raw = raw
        self.username = username
        self.issued_at = issued_at
        self.expires_at = expires_at
        self.mfa = mfa

    @classmethod
    def parse(cls, raw: str) -> Token:
        """Read the payload of ``raw`` (``header.payload.signature``; whitespace around
        it is dropped). A text that could not travel in a header as is (CR/LF, spaces,
        non-ASCII, over :data:`MAX_LEN`) is refused, as is an ``exp`` or ``iat`` that
        is not a JSON number."""
        text = raw.strip() if isinstance(raw, str) else ""
        if len(text) > MAX_LEN:
            raise TokenFormatError(f"token is longer than {MAX_LEN} characters")
        if not _JWT.fullmatch(text):
            raise TokenFormatError("token is not a JWT (three base64url parts)")
        payload = _b64url_json(text.split(".")[1])
        sub = payload.get("sub", "")
        if not isinstance(sub, str):
            raise TokenFormatError("token payload has no valid 'sub'")
        if "exp" not in payload:
            raise TokenFormatError("token payload has no 'exp'")
        return cls(
            raw=text,
            username=sub,
            issued_at=_seconds(payload, "iat", 0),
            expires_at=_seconds(payload, "exp"),
            mfa=payload.get("otp") is True,
        )

    @property
    def renew_margin(self) -> float:
        """Seconds before expiry when the token is renewed: :data:`RENEW_MARGIN`, or a
        quarter of a shorter token's life (so a 60 s token serves 45 s, not 0)."""
        life = self.expires_at - self.issued_at
        if self.issued_at <= 0 or life <= 0:
            return RENEW_MARGIN
        return min(RENEW_MARGIN, life / 4)

    def seconds_left(self, now: float | None = None) -> float:
        """Seconds until expiry (negative once expired)."""
        return self.expires_at - (time.time() if now is None else now)

    def expired(self, margin: float = 0.0, now: float | None = None) -> bool:
        """True when fewer than ``margin`` seconds are left."""
        return self.seconds_left(now) <= margin

    def usable(self, now: float | None = None) -> bool:
        """True while more than :attr:`renew_margin` seconds are left."""
        return not self.expired(self.renew_margin, now)

    @property
    def expires(self) -> datetime:
        """Expiry as an aware UTC datetime."""
        return datetime.fromtimestamp(self.expires_at, UTC)

    def __str__(self) -> str:
        return f"<token for {self.username or '?'}, {'MFA' if self.mfa else 'no MFA'}>"
