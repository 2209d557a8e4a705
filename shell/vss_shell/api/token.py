"""The API token: a JWT whose payload the client reads without verifying it."""

from __future__ import annotations

import base64
import binascii
import json
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime

#: A token with this many seconds left or fewer is renewed, not used (nor cached).
RENEW_MARGIN = 60.0
#: The last second a date can show (9999-12-31 23:59:59 UTC): a later ``exp`` is bogus.
MAX_EXP = 253_402_300_799


class TokenFormatError(ValueError):
    """The text is not a JWT with a readable payload."""


def _b64url_json(part: str) -> dict:
    padded = part + "=" * (-len(part) % 4)
    try:
        value = json.loads(base64.urlsafe_b64decode(padded.encode("ascii")))
    except (binascii.Error, ValueError, UnicodeError) as exc:
        raise TokenFormatError("token payload is not base64url JSON") from exc
    if not isinstance(value, dict):
        raise TokenFormatError("token payload is not a JSON object")
    return value


@dataclass(frozen=True)
class Token:
    """A bearer token. ``repr`` and ``str`` never show the raw value."""

    raw: str = field(repr=False)
    username: str
    issued_at: int
    expires_at: int
    mfa: bool

    @classmethod
    def parse(cls, raw: str) -> Token:
        """Read the payload of ``raw`` (``header.payload.signature``)."""
        parts = raw.strip().split(".")
        if len(parts) != 3 or not all(parts[:2]):
            raise TokenFormatError("token is not a JWT (three dot-separated parts)")
        payload = _b64url_json(parts[1])
        try:
            token = cls(
                raw=raw.strip(),
                username=str(payload.get("sub", "")),
                issued_at=int(payload.get("iat", 0)),
                expires_at=int(payload["exp"]),
                mfa=bool(payload.get("otp", False)),
            )
        except (KeyError, TypeError, ValueError, OverflowError) as exc:
            raise TokenFormatError("token payload has no valid 'exp'") from exc
        if not 0 <= token.expires_at <= MAX_EXP or not 0 <= token.issued_at <= MAX_EXP:
            raise TokenFormatError("token payload has no valid 'exp'")
        return token

    def seconds_left(self, now: float | None = None) -> float:
        """Seconds until expiry (negative once expired)."""
        return self.expires_at - (time.time() if now is None else now)

    def expired(self, margin: float = 0.0, now: float | None = None) -> bool:
        """True when fewer than ``margin`` seconds are left."""
        return self.seconds_left(now) <= margin

    def usable(self, now: float | None = None) -> bool:
        """True while more than :data:`RENEW_MARGIN` seconds are left."""
        return not self.expired(RENEW_MARGIN, now)

    @property
    def expires(self) -> datetime:
        """Expiry as an aware UTC datetime."""
        return datetime.fromtimestamp(self.expires_at, UTC)

    def __str__(self) -> str:
        return f"<token for {self.username or '?'}, {'MFA' if self.mfa else 'no MFA'}>"
