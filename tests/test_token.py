"""Token: reading a JWT payload without verifying it, and never showing the raw value."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime

import pytest

from vss_shell.api.token import Token, TokenFormatError


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def jwt(payload: dict | list | str, header: dict | None = None) -> str:
    head = b64(json.dumps(header or {"alg": "HS256", "typ": "JWT"}).encode())
    body = b64(json.dumps(payload).encode())
    return f"{head}.{body}.{b64(b'not-checked-signature')}"


def test_parse_reads_the_claims() -> None:
    raw = jwt({"sub": "jm", "iat": 1_000, "exp": 4_600, "otp": True, "jti": "x"})
    token = Token.parse(f"  {raw}\n")
    assert token.raw == raw
    assert token.username == "jm"
    assert (token.issued_at, token.expires_at) == (1_000, 4_600)
    assert token.mfa is True
    assert token.expires == datetime(1970, 1, 1, 1, 16, 40, tzinfo=UTC)


def test_seconds_left_and_expired() -> None:
    token = Token.parse(jwt({"sub": "jm", "iat": 0, "exp": 1_000}))
    assert token.mfa is False
    assert token.seconds_left(now=400) == 600
    assert token.seconds_left(now=1_200) == -200
    assert not token.expired(now=400)
    assert token.expired(margin=700, now=400)
    assert token.expired(now=1_000)


def test_repr_and_str_hide_the_raw_value() -> None:
    raw = jwt({"sub": "jm", "iat": 0, "exp": 10, "otp": True})
    token = Token.parse(raw)
    for shown in (repr(token), str(token), f"{token}", f"{token!r}"):
        assert raw not in shown
        assert raw.split(".")[1] not in shown
        assert raw.split(".")[2] not in shown
    assert "jm" in str(token) and "MFA" in str(token)


@pytest.mark.parametrize(
    "raw",
    [
        "",
        "abc",
        "a.b",
        "a.b.c.d",
        ".payload.sig",
        "e30.!!!.sig",
        jwt(["not", "an", "object"]),
        jwt({"sub": "jm"}),
        jwt({"sub": "jm", "exp": "soon"}),
        jwt({"sub": "jm", "exp": None}),
        jwt({"sub": "jm", "exp": float("inf")}),  # JSON 1e999: int() overflows
        jwt({"sub": "jm", "exp": 253_402_300_800}),  # year 10000: no date shows it
        jwt({"sub": "jm", "exp": 10**20}),
        jwt({"sub": "jm", "exp": -5}),
    ],
)
def test_malformed_tokens_raise_token_format_error(raw: str) -> None:
    with pytest.raises(TokenFormatError) as info:
        Token.parse(raw)
    if raw:
        assert raw not in str(info.value)
