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


@pytest.mark.parametrize(
    "raw",
    [
        jwt({"sub": "jm", "exp": 4_600}) + "\r\nX-Injected: 1",  # the signature: never decoded
        jwt({"sub": "jm", "exp": 4_600}).replace(".", " .", 1),
        jwt({"sub": "jm", "exp": 4_600}) + "é",
        jwt({"sub": "jm", "exp": 4_600}) + "+/=",  # base64, not base64url
        jwt({"sub": "jm", "exp": 4_600, "pad": "x" * 9000}),
        jwt({"sub": "jm", "exp": "4600"}),
        jwt({"sub": "jm", "exp": True}),
        jwt({"sub": "jm", "exp": 4_600, "iat": "1000"}),
        jwt({"sub": "jm", "exp": 4_600, "iat": False}),
        jwt({"sub": ["jm"], "exp": 4_600}),
        b64(b"{}") + "." + b64(b'{"exp": NaN}') + ".sig",
        b64(b"{}") + "." + b64(b"[" * 5_000) + ".sig",
    ],
)
def test_token_texts_that_could_not_travel_or_claims_of_the_wrong_type(raw: str) -> None:
    with pytest.raises(TokenFormatError) as info:
        Token.parse(raw)
    assert raw not in str(info.value)


def test_the_renewal_margin_scales_with_the_lifetime() -> None:
    hour = Token.parse(jwt({"sub": "jm", "iat": 1_000, "exp": 4_600}))
    assert hour.renew_margin == 60
    assert hour.usable(now=4_539) and not hour.usable(now=4_540)
    minute = Token.parse(jwt({"sub": "jm", "iat": 1_000, "exp": 1_060}))
    assert minute.renew_margin == 15
    assert minute.usable(now=1_000) and minute.usable(now=1_044)  # used 45 s of its 60
    assert not minute.usable(now=1_045)
    short = Token.parse(jwt({"sub": "jm", "iat": 1_000, "exp": 1_010}))
    assert short.usable(now=1_007) and not short.usable(now=1_008)
    no_iat = Token.parse(jwt({"sub": "jm", "exp": 1_060}))
    assert no_iat.renew_margin == 60


def test_a_short_token_is_cached_and_a_malformed_one_never(tmp_path) -> None:
    import time

    from vss_shell.tokencache import TokenCache

    cache = TokenCache(tmp_path / "tokens.toml")
    now = int(time.time())
    short = jwt({"sub": "jm", "iat": now, "exp": now + 40})
    cache.put("http://127.0.0.1:1", "jm", short)
    assert cache.get("http://127.0.0.1:1", "jm") == short  # 40 s left: still worth keeping
    bad = jwt({"sub": "jm", "iat": now, "exp": now + 3600}) + "\r\nX: 1"
    cache.put("http://127.0.0.1:1", "kk", bad)
    assert cache.get("http://127.0.0.1:1", "kk") is None
    assert "X: 1" not in (tmp_path / "tokens.toml").read_text()
