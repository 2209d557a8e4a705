"""RFC 6238 time-based one-time passwords (HMAC-SHA1), with the time passed in."""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import secrets
import struct
from urllib.parse import quote

from vss_shell.constants import TOTP_DIGITS, TOTP_ISSUER, TOTP_STEP


def decode_secret(secret: str) -> bytes:
    """The key bytes of a base32 ``secret`` (case and padding forgiven).

    Raises :class:`ValueError` when ``secret`` is not base32.
    """
    cleaned = secret.replace(" ", "").upper()
    if not cleaned:
        raise ValueError("empty secret")
    try:
        return base64.b32decode(cleaned + "=" * (-len(cleaned) % 8))
    except (binascii.Error, ValueError) as exc:
        raise ValueError("not base32") from exc


def random_secret() -> str:
    """A new 160-bit secret, base32 without padding (32 characters)."""
    return base64.b32encode(secrets.token_bytes(20)).decode("ascii")


def hotp(key: bytes, counter: int, digits: int = TOTP_DIGITS) -> str:
    """The RFC 4226 code of ``key`` at ``counter``, zero-padded to ``digits``."""
    mac = hmac.new(key, struct.pack(">Q", counter), hashlib.sha1).digest()
    offset = mac[-1] & 0x0F
    value = struct.unpack(">I", mac[offset : offset + 4])[0] & 0x7FFFFFFF
    return str(value % 10**digits).zfill(digits)


def step_of(now: float, step: int = TOTP_STEP) -> int:
    """The RFC 6238 time step ``T`` at ``now`` (seconds since the epoch)."""
    return int(now // step)


def totp(secret: str, now: float, digits: int = TOTP_DIGITS, step: int = TOTP_STEP) -> str:
    """The code of base32 ``secret`` at time ``now``."""
    return hotp(decode_secret(secret), step_of(now, step), digits)


def matching_step(
    secret: str,
    code: str,
    now: float,
    window: int = 1,
    digits: int = TOTP_DIGITS,
    step: int = TOTP_STEP,
) -> int | None:
    """The time step within ``window`` steps of ``now`` whose code is ``code``, or None."""
    if len(code) != digits or not (code.isascii() and code.isdigit()):
        return None
    key = decode_secret(secret)
    current = step_of(now, step)
    for counter in range(current - window, current + window + 1):
        if hmac.compare_digest(hotp(key, counter, digits), code):
            return counter
    return None


def provisioning_uri(secret: str, account: str, issuer: str = TOTP_ISSUER) -> str:
    """The ``otpauth://`` Key Uri an authenticator app scans (SHA1, 6 digits, 30 s)."""
    label = quote(f"{issuer}:{account}", safe=":@")
    return f"otpauth://totp/{label}?secret={secret}&issuer={quote(issuer, safe='')}"
