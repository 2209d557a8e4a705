"""The typed API errors: mapping of responses, one-line messages, no secrets."""

from __future__ import annotations

import json
import subprocess
import sys
from email.utils import formatdate

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from vss_shell.api import errors
from vss_shell.api.errors import (
    ApiError,
    BadCredentials,
    BadRequest,
    ClientError,
    Conflict,
    Forbidden,
    HttpError,
    InvalidDisableToken,
    MfaEnforced,
    NotFound,
    OtpRequired,
    RateLimited,
    ServerError,
    TokenRejected,
    error_from_response,
    excerpt,
    parse_retry_after,
    scrub,
)
from vss_shell.constants import DISABLE_TOKEN_MARKER, ENFORCE_MARKER, ERROR_KINDS, OTP_MARKER
from vss_shell.errors import REDACTED

JSON = "application/json"


def body(status: int, message: str, kind: str | None = None) -> str:
    return json.dumps({"error": kind or ERROR_KINDS.get(status, "Error"), "message": message})


@pytest.mark.parametrize(
    ("status", "message", "cls"),
    [
        (400, "method must be EMAIL, AUTHENTICATOR or SMS", BadRequest),
        (400, f"{DISABLE_TOKEN_MARKER} is invalid", InvalidDisableToken),
        (401, "Invalid credentials", BadCredentials),
        (401, f"{OTP_MARKER}", OtpRequired),
        (403, "not allowed", Forbidden),
        (403, f"{ENFORCE_MARKER}", MfaEnforced),
        (404, "no such thing", NotFound),
        (405, "method not allowed", ClientError),
        (409, "TOTP already enabled", Conflict),
        (415, "expected application/json", ClientError),
        (429, "too many", RateLimited),
        (500, "boom", ServerError),
        (503, "maintenance", ServerError),
    ],
)
def test_status_and_marker_pick_the_class(status: int, message: str, cls: type) -> None:
    err = error_from_response(status, body(status, message), content_type=JSON)
    assert type(err) is cls
    assert isinstance(err, HttpError) and isinstance(err, ApiError)
    assert err.status == status
    assert err.kind == ERROR_KINDS[status]
    assert err.server_message == message
    assert "\n" not in str(err)
    assert str(status) in str(err)


def test_markers_only_count_with_their_status() -> None:
    # The OTP marker on a 400 is a plain bad request, not an OTP prompt.
    err = error_from_response(400, body(400, OTP_MARKER), content_type=JSON)
    assert type(err) is BadRequest
    err = error_from_response(401, body(401, ENFORCE_MARKER), content_type=JSON)
    assert type(err) is BadCredentials


def test_bearer_401_is_token_rejected() -> None:
    err = error_from_response(401, body(401, "token expired"), content_type=JSON, bearer=True)
    assert type(err) is TokenRejected
    assert isinstance(err, BadCredentials)
    assert "token" in str(err) and "password" not in str(err)
    plain = error_from_response(401, body(401, "Invalid credentials"), content_type=JSON)
    assert "password" in str(plain)


def test_otp_messages_depend_on_whether_a_code_was_sent() -> None:
    missing = error_from_response(401, body(401, OTP_MARKER), content_type=JSON, otp_sent=False)
    wrong = error_from_response(401, body(401, OTP_MARKER), content_type=JSON, otp_sent=True)
    assert isinstance(missing, OtpRequired) and isinstance(wrong, OtpRequired)
    assert missing.otp_sent is False and wrong.otp_sent is True
    assert "required" in str(missing)
    assert "wrong" in str(wrong) and "already used" in str(wrong)
    assert str(missing) != str(wrong)


def test_enforced_message_points_to_enrolment() -> None:
    err = error_from_response(403, body(403, ENFORCE_MARKER), content_type=JSON)
    assert "mfa mk" in str(err)


@pytest.mark.parametrize(
    ("header", "expected"), [("17", 17), ("0", 0), (None, None), ("soon", None)]
)
def test_rate_limited_retry_after(header: str | None, expected: int | None) -> None:
    headers = {"Retry-After": header} if header is not None else {}
    err = error_from_response(429, body(429, "slow down"), content_type=JSON, headers=headers)
    assert isinstance(err, RateLimited)
    assert err.retry_after == expected
    if expected is None:
        assert "try again later" in str(err)
    else:
        assert f"try again in {expected} s" in str(err)


def test_retry_after_http_date() -> None:
    now = 1_800_000_000.0
    assert parse_retry_after(formatdate(now + 42, usegmt=True), now=now) == 42
    assert parse_retry_after(formatdate(now - 42, usegmt=True), now=now) == 0


def test_server_error_mentions_retry_after_when_given() -> None:
    err = error_from_response(
        503, body(503, "maintenance"), content_type=JSON, headers={"Retry-After": "5"}
    )
    assert isinstance(err, ServerError)
    assert "try again in 5 s" in str(err)


def test_html_error_body_becomes_a_short_excerpt() -> None:
    page = (
        "<html>\n<head><title>502 Bad Gateway</title><style>body { color: red }</style></head>\n"
        "<body>\n<center><h1>502   Bad Gateway</h1></center>\n<hr><center>nginx</center>"
        + "<p>"
        + "padding " * 40
        + "</p></body>\n</html>\n"
    )
    err = error_from_response(502, page, content_type="text/html")
    assert isinstance(err, ServerError)
    assert err.kind is None and err.json_body is False
    assert err.server_message is not None
    assert err.server_message.startswith("502 Bad Gateway 502 Bad Gateway nginx")
    assert len(err.server_message) <= errors.EXCERPT_LEN
    assert "<" not in str(err) and "color" not in str(err) and "\n" not in str(err)


def test_json_content_type_with_a_non_object_body() -> None:
    err = error_from_response(500, "[1, 2]", content_type=JSON)
    assert isinstance(err, ServerError)
    assert err.kind is None
    assert err.server_message == "[1, 2]"


def test_empty_error_body() -> None:
    err = error_from_response(504, "", content_type="")
    assert isinstance(err, ServerError)
    assert err.server_message is None
    assert str(err) == "server error (HTTP 504)"


def test_long_multiline_server_message_is_one_trimmed_line() -> None:
    err = error_from_response(
        400, body(400, "line one\nline two\t" + "x" * 1000), content_type=JSON
    )
    assert "\n" not in str(err) and "\t" not in str(err)
    assert err.server_message is not None
    assert err.server_message.startswith("line one line two x")
    assert len(err.server_message) <= errors.MESSAGE_LEN


def test_excerpt_unescapes_entities() -> None:
    assert excerpt("<p>a &amp; b</p>") == "a & b"
    assert len(excerpt("word " * 100)) == errors.EXCERPT_LEN


def test_repr_is_the_safe_message() -> None:
    err = Conflict(409, kind="Conflict", server_message="already enabled")
    assert repr(err) == f"Conflict({str(err)!r})"


def test_scrub_replaces_raw_and_quoted_forms() -> None:
    text = "token a/b+c=, quoted a%2Fb%2Bc%3D, pw hunter22"
    out = scrub(text, ["a/b+c=", "hunter22", None, ""])
    assert "a/b+c=" not in out and "a%2Fb%2Bc%3D" not in out and "hunter22" not in out
    assert out.count(REDACTED) == 3


# Secrets without whitespace or "*" (a secret containing the redaction mark "***"
# could be re-formed around it; that reveals nothing but would fail the check).
SECRET = st.text(
    alphabet=st.characters(
        blacklist_categories=("Cs", "Cc", "Zs", "Zl", "Zp"), blacklist_characters="*"
    ),
    min_size=8,
    max_size=30,
)


@settings(max_examples=150, deadline=None)
@given(
    password=SECRET,
    otp=st.from_regex(r"\A[0-9]{6}\Z"),
    token=SECRET,
    status=st.sampled_from([400, 401, 403, 404, 409, 429, 500, 502, 503]),
    prefix=st.text(max_size=90),
    html=st.booleans(),
)
def test_no_secret_survives_in_any_error(
    password: str, otp: str, token: str, status: int, prefix: str, html: bool
) -> None:
    """Even a server that echoes the secrets back does not leak them."""
    echoed = f"{prefix} user:{password} otp={otp} /tf/disable/{token} {OTP_MARKER}"
    if html:
        text, ctype = f"<html><body><p>{echoed}</p></body></html>", "text/html"
    else:
        text, ctype = json.dumps({"error": "X", "message": echoed}), JSON
    # A "secret" that the message holds anyway (a class name such as "Conflict", a
    # piece of the prefix) proves nothing: only what the secrets add counts.
    blank = error_from_response(status, text.replace(password, "").replace(token, ""),
                                content_type=ctype, otp_sent=True)
    framing = f"{blank}{blank!r}{blank.server_message}{prefix}{OTP_MARKER}"
    assume(not any(secret in framing for secret in (password, token)))
    err = error_from_response(
        status, text, content_type=ctype, otp_sent=True, secrets=(password, otp, token)
    )
    for shown in (str(err), repr(err), err.server_message or "", *map(str, err.args)):
        for secret in (password, otp, token):
            assert secret not in shown


def test_trimming_never_cuts_a_secret_in_half() -> None:
    password = "correct-horse-battery-staple"
    for pad in range(60, 90):
        page = f"<p>{'x' * pad} {password} and more text after it</p>"
        err = error_from_response(502, page, content_type="text/html", secrets=(password,))
        assert "correct-h" not in str(err)
        msg = "y" * (errors.MESSAGE_LEN - 20 + pad % 30) + password
        err = error_from_response(400, body(400, msg), content_type=JSON, secrets=(password,))
        assert "correct-h" not in str(err)


def test_errors_module_does_not_import_requests() -> None:
    code = (
        "import sys\n"
        "import vss_shell.api, vss_shell.api.errors, vss_shell.api.token\n"
        "assert 'requests' not in sys.modules, 'requests imported'\n"
        "from vss_shell.api import VssClient\n"
        "assert VssClient.__name__ == 'VssClient'\n"
        "assert 'requests' in sys.modules\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr


def test_unknown_attribute_of_the_package() -> None:
    import vss_shell.api

    with pytest.raises(AttributeError):
        vss_shell.api.NoSuchThing  # noqa: B018


def test_invalid_disable_token_does_not_say_the_token_is_dead() -> None:
    err = error_from_response(400, body(400, f"{DISABLE_TOKEN_MARKER} is invalid"),
                              content_type=JSON)
    assert str(err).startswith(
        "the confirmation token was not accepted: invalid, already used or expired "
        "(HTTP 400 BadRequest)")
    assert "check it" in str(err)


def test_errors_module_imports_neither_html_nor_json() -> None:
    code = (
        "import sys\n"
        "import vss_shell.api, vss_shell.api.errors, vss_shell.api.token, vss_shell.api.netenv\n"
        "import vss_shell.api.replies, vss_shell.api.jsontext\n"
        "bad = [m for m in ('html', 'json', 'requests', 'base64') if m in sys.modules]\n"
        "assert not bad, bad\n"
        "from vss_shell.api.errors import error_from_response\n"
        "error_from_response(502, '<p>a &amp; b</p>', content_type='text/html')\n"
        "assert 'html' in sys.modules\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr


@pytest.mark.parametrize(
    "value", ["soon", "-5", "1.5", "²", "٣", "9" * 5000, "9" * 13, str(8 * 24 * 3600), "0x10",
              "Wed, 99 Foo 2026 10:00:00", "x" * 1000, " "],
)
def test_retry_after_that_is_no_delay_is_none(value: str) -> None:
    assert parse_retry_after(value) is None
    err = error_from_response(503, body(503, "busy"), content_type=JSON,
                              headers={"Retry-After": value})
    assert err.retry_after is None and "try again" not in str(err)


def test_retry_after_accepts_padded_delta_seconds() -> None:
    assert parse_retry_after(" 007 ") == 7
    assert parse_retry_after(str(7 * 24 * 3600)) == 7 * 24 * 3600


@pytest.mark.parametrize("kind", ["x" * 5000, "Bad Request", 42, "\x1b[2J", ""])
def test_an_error_kind_not_as_the_contract_spells_it_is_ignored(kind: object) -> None:
    err = error_from_response(409, json.dumps({"error": kind, "message": "m"}), content_type=JSON)
    assert err.kind == "Conflict"
    assert str(err) == "conflict (HTTP 409 Conflict): m"


@pytest.mark.parametrize("message", [{"a": 1}, ["x"], 5, None, True])
def test_a_message_that_is_not_a_string_is_absent(message: object) -> None:
    err = error_from_response(409, json.dumps({"error": "Conflict", "message": message}),
                              content_type=JSON)
    assert err.server_message is None and str(err) == "conflict (HTTP 409 Conflict)"


def test_error_bodies_with_nan_or_deep_nesting_are_not_json() -> None:
    for text in ('{"error": "X", "message": NaN}', "[" * 100_000, '{"a":' * 50 + "1" + "}" * 50):
        err = error_from_response(400, text, content_type=JSON)
        assert type(err) is BadRequest and err.json_body is False
        assert len(str(err)) < 200
