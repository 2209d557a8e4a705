"""Minimal HS256 JSON Web Tokens: encode, and verify signature and expiry."""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import secrets
from typing import Any

_HEADER = {"alg": "HS256", "typ": "JWT"}


class TokenError(ValueError):
    """The token is malformed, forged or expired (the message says which)."""


def _b64encode(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _b64decode(part: str) -> bytes:
    try:
        return base64.urlsafe_b64decode(part + "=" * (-len(part) % 4))
    except (binascii.Error, ValueError) as exc:
        raise TokenError("malformed token") from exc


def _sign(signing_input: str, key: bytes) -> str:
    return _b64encode(hmac.new(key, signing_input.encode("ascii"), hashlib.sha256).digest())


def encode(payload: dict[str, Any], key: bytes) -> str:
    """Sign ``payload`` with ``key``: ``header.payload.signature``."""
    header = _b64encode(json.dumps(_HEADER, separators=(",", ":")).encode())
    body = _b64encode(json.dumps(payload, separators=(",", ":")).encode())
    return f"{header}.{body}.{_sign(f'{header}.{body}', key)}"


def decode(token: str, key: bytes, now: float) -> dict[str, Any]:
    """The payload of ``token`` when its signature is ``key``'s and ``exp`` is after ``now``."""
    parts = token.split(".")
    if not token.isascii() or len(parts) != 3 or not all(parts):
        raise TokenError("malformed token")
    try:
        header = json.loads(_b64decode(parts[0]))
        payload = json.loads(_b64decode(parts[1]))
    except (ValueError, UnicodeError) as exc:
        raise TokenError("malformed token") from exc
    if not isinstance(header, dict) or header.get("alg") != "HS256":
        raise TokenError("unsupported token algorithm")
    if not hmac.compare_digest(_sign(f"{parts[0]}.{parts[1]}", key), parts[2]):
        raise TokenError("invalid token signature")
    if not isinstance(payload, dict) or not isinstance(payload.get("exp"), int):
        raise TokenError("malformed token")
    if payload["exp"] <= now:
        raise TokenError("token expired")
    return payload


def new_key() -> bytes:
    """A random 256-bit signing key."""
    return secrets.token_bytes(32)


def new_jti() -> str:
    """A random token id."""
    return secrets.token_hex(16)
