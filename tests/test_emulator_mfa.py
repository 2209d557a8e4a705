"""The emulator's MFA lifecycle over HTTP: enrol, verify, codes, recovery, disable."""

from __future__ import annotations

import io
import re
from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pyotp
import pytest
import requests

from conftest import ACCOUNTS
from vss_shell.constants import (
    DISABLE_TOKEN_MARKER,
    ENFORCE_MARKER,
    ERROR_KINDS,
    OTP_MARKER,
    PATH_TF_DISABLE,
    PATH_TF_ENABLE,
    PATH_TF_REQUEST,
    PATH_TF_VERIFY,
    PATH_TOKEN,
    PATH_USER,
    TOTP_ISSUER,
)
from vss_shell.emulator import Emulator

PASSWORDS = {name: table["password"] for name, table in ACCOUNTS.items()}
T0 = 1_800_000_015.0
STAMP = re.compile(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d")


@pytest.fixture
def emu() -> Iterator[Emulator]:
    """An emulator with :data:`ACCOUNTS` whose time stands still at :data:`T0` until advanced."""
    with Emulator(accounts=ACCOUNTS, clock=lambda: T0, log=io.StringIO()) as emulator:
        yield emulator


def post(emu: Emulator, path: str, user: str, body: Any = None) -> requests.Response:
    """POST with Basic auth; ``body`` None sends no body at all."""
    auth = (user, PASSWORDS[user])
    return requests.post(emu.url + path, auth=auth, json=body, timeout=5)


def ok(response: requests.Response) -> dict[str, Any]:
    assert response.status_code == 200, response.text
    return response.json()


def error(response: requests.Response, status: int) -> str:
    assert response.status_code == status, response.text
    assert response.json()["error"] == ERROR_KINDS[status]
    return response.json()["message"]


def token(emu: Emulator, user: str, otp: str | None = None) -> str:
    return ok(post(emu, PATH_TOKEN, user, {"otp": otp}))["token"]


def totp_info(emu: Emulator, user: str, otp: str | None = None) -> dict[str, Any]:
    bearer = {"Authorization": f"Bearer {token(emu, user, otp)}"}
    return ok(requests.get(emu.url + PATH_USER, headers=bearer, timeout=5))["data"]["totp"]


def app_code(emu: Emulator, user: str, steps: int = 0) -> str:
    return pyotp.TOTP(emu.secret(user)).at(emu.now() + 30 * steps)


def last(emu: Emulator, user: str, field: str) -> str:
    return emu.outbox(user)[-1][field]


def _fresh_code(emu: Emulator, user: str) -> str:
    """Ask for an EMAIL/SMS code and read it from the outbox."""
    ok(post(emu, PATH_TF_REQUEST, user))
    return last(emu, user, "code")


def test_enrol_authenticator(emu: Emulator) -> None:
    reply = ok(post(emu, PATH_TF_ENABLE, "demo", {"method": "AUTHENTICATOR"}))
    assert set(reply) == {"message", "type", "issuer", "recovery_codes", "uri", "key"}
    assert reply["type"] == "info" and reply["issuer"] == TOTP_ISSUER == "ITS Private Cloud"
    codes = reply["recovery_codes"]
    assert len(codes) == len(set(codes)) == 8 and all(len(c) >= 10 for c in codes)
    assert reply["key"] == emu.secret("demo")
    uri = urlsplit(reply["uri"])
    assert (uri.scheme, uri.netloc, uri.path) == ("otpauth", "totp", "/ITS%20Private%20Cloud:demo")
    assert parse_qs(uri.query) == {"secret": [reply["key"]], "issuer": [TOTP_ISSUER]}
    # pending: no OTP needed yet, and the token says so
    assert totp_info(emu, "demo") == {
        "enabled": False,
        "method": "AUTHENTICATOR",
        "enabled_on": None,
        "disabled_on": None,
    }
    assert emu.outbox("demo") == []
    assert OTP_MARKER in error(post(emu, PATH_TF_VERIFY, "demo", {"otp": "000000"}), 401)
    assert OTP_MARKER in error(post(emu, PATH_TF_VERIFY, "demo", {"otp": None}), 401)
    assert codes[0] not in ok(post(emu, PATH_TF_VERIFY, "demo", {"otp": app_code(emu, "demo")}))
    info = totp_info(emu, "demo", app_code(emu, "demo", 1))
    assert info["enabled"] is True and info["method"] == "AUTHENTICATOR"
    assert info["enabled_on"] == "2027-01-15 08:00:15"  # T0 in UTC
    assert OTP_MARKER in error(post(emu, PATH_TOKEN, "demo", {"otp": None}), 401)
    assert "already enabled" in error(post(emu, PATH_TF_ENABLE, "demo", {"method": "EMAIL"}), 409)


def test_enable_while_pending_restarts_enrolment(emu: Emulator) -> None:
    first = ok(post(emu, PATH_TF_ENABLE, "demo", {"method": "AUTHENTICATOR"}))
    old_code = app_code(emu, "demo")
    second = ok(post(emu, PATH_TF_ENABLE, "demo", {"method": "AUTHENTICATOR"}))
    assert second["key"] != first["key"] == pyotp.parse_uri(first["uri"]).secret
    assert set(second["recovery_codes"]).isdisjoint(first["recovery_codes"])
    if old_code != app_code(emu, "demo"):
        error(post(emu, PATH_TF_VERIFY, "demo", {"otp": old_code}), 401)
    ok(post(emu, PATH_TF_VERIFY, "demo", {"otp": app_code(emu, "demo")}))
    # the first enrolment's recovery codes were replaced
    error(post(emu, PATH_TOKEN, "demo", {"otp": first["recovery_codes"][0]}), 401)
    assert token(emu, "demo", second["recovery_codes"][0])


@pytest.mark.parametrize(
    ("body", "problem"),
    [
        (None, "JSON object"),
        ({}, "method must be EMAIL, AUTHENTICATOR or SMS"),
        ({"method": "email"}, "method must be"),
        ({"method": ["EMAIL"]}, "method must be"),
        ({"method": "SMS"}, "phone is required"),
        ({"method": "SMS", "phone": "555-12"}, "at least 7 digits"),
        ({"method": "SMS", "phone": 4165550123}, "at least 7 digits"),
    ],
)
def test_enable_validation(emu: Emulator, body: Any, problem: str) -> None:
    assert problem in error(post(emu, PATH_TF_ENABLE, "demo", body), 400)
    assert totp_info(emu, "demo")["method"] is None


def test_enrol_sms_with_a_sent_code(emu: Emulator) -> None:
    reply = ok(post(emu, PATH_TF_ENABLE, "demo", {"method": "SMS", "phone": "+1 647 555 0100"}))
    assert "uri" not in reply and "key" not in reply and len(reply["recovery_codes"]) == 8
    assert emu.secret("demo") is None
    ok(post(emu, PATH_TF_REQUEST, "demo"))
    (message,) = emu.outbox("demo")
    assert message["kind"] == "sms" and message["to"] == "+1 647 555 0100"
    assert re.fullmatch(r"\d{6}", message["code"]) and message["code"] in message["body"]
    ok(post(emu, PATH_TF_VERIFY, "demo", {"otp": message["code"]}))
    assert OTP_MARKER in error(post(emu, PATH_TOKEN, "demo", {"otp": None}), 401)
    info = totp_info(emu, "demo", _fresh_code(emu, "demo"))
    assert info["enabled"] is True and info["method"] == "SMS"


def test_enrol_email_logs_the_code(emu: Emulator) -> None:
    log = io.StringIO()
    with Emulator(accounts=ACCOUNTS, clock=lambda: T0, log=log) as other:
        ok(post(other, PATH_TF_ENABLE, "demo", {"method": "EMAIL"}))
        ok(post(other, PATH_TF_REQUEST, "demo"))
        code = last(other, "demo", "code")
        assert log.getvalue() == f"[outbox] email to demo@example.org: code {code}\n"
        assert other.outbox("demo")[0]["kind"] == "email"
        ok(post(other, PATH_TF_VERIFY, "demo", {"otp": code}))
        error(post(other, PATH_TF_VERIFY, "demo", {"otp": code}), 401)  # single use
        assert totp_info(other, "demo", _fresh_code(other, "demo"))["enabled"] is True


def test_sent_codes_single_use_older_valid_and_expire_after_ten_minutes(emu: Emulator) -> None:
    first, second = _fresh_code(emu, "sms"), _fresh_code(emu, "sms")
    assert first != second
    assert [m["to"] for m in emu.outbox("sms")] == ["416-555-0199"] * 2
    assert token(emu, "sms", first)  # asking again did not cancel the first
    assert OTP_MARKER in error(post(emu, PATH_TOKEN, "sms", {"otp": first}), 401)
    emu.advance(599)
    assert token(emu, "sms", second)
    third = _fresh_code(emu, "mail")
    emu.advance(600)
    assert OTP_MARKER in error(post(emu, PATH_TOKEN, "mail", {"otp": third}), 401)
    assert token(emu, "mail", _fresh_code(emu, "mail"))


def test_request_token_per_method(emu: Emulator) -> None:
    assert ok(post(emu, PATH_TF_REQUEST, "app"))["type"] == "info"
    assert emu.outbox("app") == []
    assert emu.outbox() == []
    error(post(emu, PATH_TF_REQUEST, "demo"), 409)
    error(post(emu, PATH_TF_VERIFY, "demo", {"otp": "123456"}), 409)
    error(post(emu, PATH_TF_DISABLE, "demo"), 409)
    error(post(emu, PATH_TF_VERIFY, "app"), 400)  # no JSON body


def test_enforced_account_must_finish_enrolment(emu: Emulator) -> None:
    assert ENFORCE_MARKER in error(post(emu, PATH_TOKEN, "enforced", {"otp": None}), 403)
    ok(post(emu, PATH_TF_ENABLE, "enforced", {"method": "AUTHENTICATOR"}))
    assert ENFORCE_MARKER in error(post(emu, PATH_TOKEN, "enforced", {"otp": "123456"}), 403)
    ok(post(emu, PATH_TF_VERIFY, "enforced", {"otp": app_code(emu, "enforced")}))
    assert OTP_MARKER in error(post(emu, PATH_TOKEN, "enforced", {"otp": None}), 401)
    assert totp_info(emu, "enforced", app_code(emu, "enforced", 1))["enabled"] is True


def test_recovery_codes(emu: Emulator) -> None:
    codes = ok(post(emu, PATH_TF_ENABLE, "demo", {"method": "EMAIL"}))["recovery_codes"]
    ok(post(emu, PATH_TF_VERIFY, "demo", {"otp": _fresh_code(emu, "demo")}))
    assert OTP_MARKER in error(post(emu, PATH_TF_VERIFY, "demo", {"otp": codes[0]}), 401)
    assert token(emu, "demo", codes[0])
    assert OTP_MARKER in error(post(emu, PATH_TOKEN, "demo", {"otp": codes[0]}), 401)
    assert token(emu, "demo", codes[1])


def test_disable_flow(emu: Emulator) -> None:
    started = totp_info(emu, "app", app_code(emu, "app"))["enabled_on"]
    assert STAMP.fullmatch(started)
    assert ok(post(emu, PATH_TF_DISABLE, "app")) == {
        "message": "Confirmation email sent.",
        "type": "info",
    }
    (mail,) = emu.outbox("app")
    assert mail["kind"] == "email" and mail["to"] == "app@example.org"
    assert mail["token"] in mail["body"]
    ok(post(emu, PATH_TF_DISABLE, "mail"))
    mail_token = last(emu, "mail", "token")
    for bad in ("nope", mail_token):  # unknown, and another account's
        message = error(post(emu, f"{PATH_TF_DISABLE}/{bad}", "app"), 400)
        assert DISABLE_TOKEN_MARKER in message
    emu.advance(60)
    assert ok(post(emu, f"{PATH_TF_DISABLE}/{mail['token']}", "app")) == {
        "message": "TOTP has been disabled",
        "type": "info",
    }
    reused = post(emu, f"{PATH_TF_DISABLE}/{mail['token']}", "app")
    assert DISABLE_TOKEN_MARKER in error(reused, 400)
    info = totp_info(emu, "app")  # no OTP needed any more
    assert info == {
        "enabled": False,
        "method": None,
        "enabled_on": started,
        "disabled_on": "2027-01-15 08:01:15",
    }
    assert emu.secret("app") is None
    error(post(emu, PATH_TF_DISABLE, "app"), 409)
    ok(post(emu, f"{PATH_TF_DISABLE}/{mail_token}", "mail"))  # still valid for its owner


def test_disable_token_expires_after_fifteen_minutes(emu: Emulator) -> None:
    ok(post(emu, PATH_TF_DISABLE, "sms"))
    first = last(emu, "sms", "token")
    emu.advance(900)
    assert DISABLE_TOKEN_MARKER in error(post(emu, f"{PATH_TF_DISABLE}/{first}", "sms"), 400)
    ok(post(emu, PATH_TF_DISABLE, "sms"))
    emu.advance(899)
    ok(post(emu, f"{PATH_TF_DISABLE}/{last(emu, 'sms', 'token')}", "sms"))
    assert totp_info(emu, "sms")["enabled"] is False


def test_disable_during_enrolment_and_reenable(emu: Emulator) -> None:
    ok(post(emu, PATH_TF_ENABLE, "demo", {"method": "EMAIL"}))
    ok(post(emu, PATH_TF_DISABLE, "demo"))
    ok(post(emu, f"{PATH_TF_DISABLE}/{last(emu, 'demo', 'token')}", "demo"))
    info = totp_info(emu, "demo")
    assert info["method"] is None and info["enabled_on"] is None
    assert STAMP.fullmatch(info["disabled_on"])
    ok(post(emu, PATH_TF_ENABLE, "demo", {"method": "AUTHENTICATOR"}))
    ok(post(emu, PATH_TF_VERIFY, "demo", {"otp": app_code(emu, "demo")}))
    assert totp_info(emu, "demo", app_code(emu, "demo", -1))["enabled"] is True


def test_a_percent_encoded_disable_token_is_decoded(emu: Emulator) -> None:
    """Clients quote the token in the path (``-`` as ``%2D``): the server decodes it."""
    ok(post(emu, PATH_TF_DISABLE, "sms"))
    raw = last(emu, "sms", "token")
    encoded = "".join(f"%{ord(ch):02X}" for ch in raw)
    ok(post(emu, f"{PATH_TF_DISABLE}/{encoded}", "sms"))
    assert totp_info(emu, "sms")["enabled"] is False
