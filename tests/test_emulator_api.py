"""The emulator over HTTP: tokens, authentication, OTP rules, lockout, transport, hooks."""

from __future__ import annotations

import base64
import http.client
import json
from collections.abc import Iterator
from typing import Any

import pyotp
import pytest
import requests

from conftest import ACCOUNTS
from vss_shell.constants import (
    ENFORCE_MARKER,
    ERROR_KINDS,
    OTP_MARKER,
    PATH_EMU_CLOCK,
    PATH_EMU_FAIL,
    PATH_EMU_OUTBOX,
    PATH_EMU_STATS,
    PATH_TF_DISABLE,
    PATH_TF_ENABLE,
    PATH_TF_REQUEST,
    PATH_TF_VERIFY,
    PATH_TOKEN,
    PATH_USER,
)
from vss_shell.emulator import Emulator

PASSWORDS = {name: table["password"] for name, table in ACCOUNTS.items()}
T0 = 1_800_000_015.0  # the middle of a 30 s step
NO_BODY = object()


class Clock:
    """A settable clock for the emulator."""

    def __init__(self, t: float = T0) -> None:
        self.t = t

    def __call__(self) -> float:
        return self.t


@pytest.fixture
def clocked() -> Iterator[Emulator]:
    """An emulator with :data:`ACCOUNTS` whose time stands still at :data:`T0` until advanced."""
    with Emulator(accounts=ACCOUNTS, clock=Clock(), log=None) as emu:
        yield emu


def call(
    emu: Emulator,
    method: str,
    path: str,
    user: str | None = None,
    body: Any = NO_BODY,
    token: str | None = None,
    **kw: Any,
) -> requests.Response:
    headers = dict(kw.pop("headers", {}))
    if token is not None:
        headers["Authorization"] = f"Bearer {token}"
    if body is not NO_BODY:
        kw["json"] = body
    auth = (user, PASSWORDS[user]) if user else None
    return requests.request(method, emu.url + path, auth=auth, headers=headers, timeout=5, **kw)


def get_token(emu: Emulator, user: str, otp: str | None = None) -> str:
    response = call(emu, "POST", PATH_TOKEN, user, {"otp": otp})
    assert response.status_code == 200, response.text
    return response.json()["token"]


def code(emu: Emulator, user: str, steps: int = 0) -> str:
    """The authenticator code of ``user`` at the emulator's time plus ``steps`` steps."""
    return pyotp.TOTP(emu.secret(user)).at(emu.now() + 30 * steps)


def claims(token: str) -> dict[str, Any]:
    part = token.split(".")[1]
    return json.loads(base64.urlsafe_b64decode(part + "=" * (-len(part) % 4)))


def error(response: requests.Response, status: int) -> str:
    """Check an error response's status and body; return its message."""
    assert response.status_code == status, response.text
    assert response.headers["Content-Type"] == "application/json"
    body = response.json()
    assert set(body) == {"error", "message"}
    assert body["error"] == ERROR_KINDS[status]
    return body["message"]


# -- tokens and authentication ------------------------------------------------------------


def test_token_without_mfa_and_user_summary(emulator: Emulator) -> None:
    response = call(emulator, "POST", PATH_TOKEN, "demo", {"otp": None})
    assert response.status_code == 200
    assert int(response.headers["Content-Length"]) == len(response.content)
    assert response.raw.version == 11
    token = response.json()["token"]
    payload = claims(token)
    assert set(payload) == {"sub", "iat", "exp", "otp", "jti"}
    assert payload["sub"] == "demo" and payload["otp"] is False
    assert payload["exp"] - payload["iat"] == 3600
    header = json.loads(base64.urlsafe_b64decode(token.split(".")[0] + "=="))
    assert header["alg"] == "HS256"
    assert claims(get_token(emulator, "demo"))["jti"] != payload["jti"]
    user = call(emulator, "GET", PATH_USER, token=token)
    assert user.status_code == 200
    assert user.json() == {
        "data": {
            "username": "demo",
            "email": "demo@example.org",
            "phone": "416-555-0123",
            "totp": {"enabled": False, "method": None, "enabled_on": None, "disabled_on": None},
        }
    }


def test_bad_credentials_are_401_without_marker(emulator: Emulator) -> None:
    url = emulator.url + PATH_TOKEN
    for auth in (("demo", "wrong"), ("nobody", "demo-pass"), ("app", "demo-pass")):
        message = error(requests.post(url, auth=auth, json={"otp": None}, timeout=5), 401)
        assert OTP_MARKER not in message and ENFORCE_MARKER not in message
    error(requests.post(url, json={"otp": None}, timeout=5), 401)
    garbage = {"Authorization": "Basic %%%"}
    error(requests.post(url, json={"otp": None}, headers=garbage, timeout=5), 401)
    no_colon = {"Authorization": "Basic " + base64.b64encode(b"demo").decode()}
    error(requests.post(url, json={"otp": None}, headers=no_colon, timeout=5), 401)


def test_token_body_must_be_a_json_object_with_string_otp(emulator: Emulator) -> None:
    error(call(emulator, "POST", PATH_TOKEN, "demo"), 400)
    error(call(emulator, "POST", PATH_TOKEN, "demo", ["otp"]), 400)
    error(call(emulator, "POST", PATH_TOKEN, "demo", {"otp": 123456}), 400)
    bad_json = {"Content-Type": "application/json"}
    error(call(emulator, "POST", PATH_TOKEN, "demo", data=b"{nope", headers=bad_json), 400)
    assert call(emulator, "POST", PATH_TOKEN, "demo", {}).status_code == 200
    charset = {"Content-Type": "application/json; charset=utf-8"}
    ok = call(emulator, "POST", PATH_TOKEN, "demo", data=b'{"otp": null}', headers=charset)
    assert ok.status_code == 200


@pytest.mark.parametrize("content_type", [None, "text/plain", "application/x-www-form-urlencoded"])
def test_body_without_json_content_type_is_415(emulator: Emulator, content_type: str) -> None:
    headers = {"Content-Type": content_type} if content_type else {}
    response = call(emulator, "POST", PATH_TOKEN, "demo", data=b'{"otp": null}', headers=headers)
    error(response, 415)
    error(call(emulator, "POST", PATH_TF_ENABLE, "demo", data=b"x", headers=headers), 415)


def test_unknown_path_404_and_wrong_method_405(emulator: Emulator) -> None:
    error(call(emulator, "GET", "/nope"), 404)
    error(call(emulator, "POST", "/v2/users", "demo"), 404)
    error(call(emulator, "GET", PATH_TF_DISABLE + "/a/b"), 404)
    response = call(emulator, "GET", PATH_TOKEN, "demo")
    error(response, 405)
    assert response.headers["Allow"] == "POST"
    error(call(emulator, "POST", PATH_USER, body={}), 405)
    error(call(emulator, "DELETE", PATH_TF_ENABLE), 405)
    error(call(emulator, "GET", PATH_TF_DISABLE + "/tok"), 405)
    assert call(emulator, "HEAD", PATH_TOKEN).status_code == 405


def test_mfa_account_without_otp_gets_the_marker(emulator: Emulator) -> None:
    for body in ({"otp": None}, {}, {"otp": ""}):
        assert OTP_MARKER in error(call(emulator, "POST", PATH_TOKEN, "app", body), 401)


def test_authenticator_code_gives_an_mfa_token(clocked: Emulator) -> None:
    token = get_token(clocked, "app", code(clocked, "app"))
    assert claims(token)["otp"] is True
    assert claims(token)["iat"] == int(T0)
    assert OTP_MARKER in error(call(clocked, "POST", PATH_TOKEN, "app", {"otp": "000000"}), 401)


def test_rfc6238_vectors_through_the_emulator() -> None:
    clock = Clock(0)
    accounts = {
        "rfc": {
            "password": "p",
            "email": "r@example.org",
            "mfa_method": "AUTHENTICATOR",
            "mfa_secret": "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ",
        }
    }
    vectors = [
        (59, "94287082"),
        (1111111109, "07081804"),
        (1234567890, "89005924"),
        (2000000000, "69279037"),
    ]
    with Emulator(accounts=accounts, clock=clock, log=None) as emu:
        for t, eight_digits in vectors:
            clock.t = t
            url = emu.url + PATH_TOKEN
            response = requests.post(url, auth=("rfc", "p"), json={"otp": eight_digits}, timeout=5)
            assert response.status_code == 401  # the API's codes have 6 digits
            response = requests.post(
                url, auth=("rfc", "p"), json={"otp": eight_digits[-6:]}, timeout=5
            )
            assert response.status_code == 200, (t, response.text)


def test_tolerance_is_one_step_either_side(clocked: Emulator) -> None:
    for steps in (-2, 2):
        response = call(clocked, "POST", PATH_TOKEN, "app", {"otp": code(clocked, "app", steps)})
        assert OTP_MARKER in error(response, 401)
    for steps in (-1, 1, 0):
        assert claims(get_token(clocked, "app", code(clocked, "app", steps)))["otp"] is True


def test_a_code_is_not_accepted_twice(clocked: Emulator) -> None:
    now_code = code(clocked, "app")
    get_token(clocked, "app", now_code)
    assert OTP_MARKER in error(call(clocked, "POST", PATH_TOKEN, "app", {"otp": now_code}), 401)
    verify = call(clocked, "POST", PATH_TF_VERIFY, "app", {"otp": now_code})
    assert OTP_MARKER in error(verify, 401)
    clocked.advance(30)  # the step is still within tolerance, and still spent
    error(call(clocked, "POST", PATH_TOKEN, "app", {"otp": now_code}), 401)
    next_code = code(clocked, "app")
    assert call(clocked, "POST", PATH_TF_VERIFY, "app", {"otp": next_code}).status_code == 200
    error(call(clocked, "POST", PATH_TOKEN, "app", {"otp": next_code}), 401)


# -- lockout ------------------------------------------------------------------------------


def _wrong(emu: Emulator, user: str, path: str = PATH_TOKEN) -> requests.Response:
    return call(emu, "POST", path, user, {"otp": "000000" if code(emu, user) != "000000" else "1"})


def test_five_wrong_codes_lock_out_even_the_right_code(clocked: Emulator) -> None:
    for _ in range(5):
        assert OTP_MARKER in error(_wrong(clocked, "app"), 401)
    right = {"otp": code(clocked, "app")}
    for path in (PATH_TOKEN, PATH_TF_VERIFY):
        response = call(clocked, "POST", path, "app", right)
        error(response, 429)
        assert response.headers["Retry-After"] == "300"
    clocked.advance(299.5)
    assert call(clocked, "POST", PATH_TOKEN, "app", right).headers["Retry-After"] == "1"
    clocked.advance(0.5)
    assert get_token(clocked, "app", code(clocked, "app"))
    assert get_token(clocked, "demo")  # other accounts were never locked


def test_retry_after_counts_from_the_oldest_of_the_last_five(clocked: Emulator) -> None:
    error(_wrong(clocked, "app"), 401)
    clocked.advance(100)
    for _ in range(4):
        error(_wrong(clocked, "app", PATH_TF_VERIFY), 401)  # shared with /tf/verify
    response = call(clocked, "POST", PATH_TOKEN, "app", {"otp": code(clocked, "app")})
    error(response, 429)
    assert response.headers["Retry-After"] == "200"
    clocked.advance(200)  # the first failure leaves the window: four remain
    assert get_token(clocked, "app", code(clocked, "app"))
    error(_wrong(clocked, "app"), 401)
    response = call(clocked, "POST", PATH_TOKEN, "app", {"otp": code(clocked, "app", 1)})
    error(response, 429)
    assert response.headers["Retry-After"] == "100"


def test_missing_otp_does_not_count_and_success_does_not_clear(clocked: Emulator) -> None:
    for _ in range(8):
        assert OTP_MARKER in error(call(clocked, "POST", PATH_TOKEN, "app", {"otp": None}), 401)
    for _ in range(4):
        error(_wrong(clocked, "app"), 401)
    assert get_token(clocked, "app", code(clocked, "app"))
    error(_wrong(clocked, "app"), 401)
    error(call(clocked, "POST", PATH_TOKEN, "app", {"otp": code(clocked, "app", 1)}), 429)
    error(call(clocked, "POST", PATH_TOKEN, "app", {"otp": None}), 429)


# -- bearer tokens ------------------------------------------------------------------------


def test_token_expiry() -> None:
    with Emulator(accounts=ACCOUNTS, clock=Clock(), token_ttl=60, log=None) as emu:
        token = get_token(emu, "demo")
        assert claims(token)["exp"] == int(T0) + 60
        emu.advance(59)
        assert call(emu, "GET", PATH_USER, token=token).status_code == 200
        emu.advance(1)
        assert "expired" in error(call(emu, "GET", PATH_USER, token=token), 401)


def test_missing_malformed_and_forged_tokens(emulator: Emulator) -> None:
    token = get_token(emulator, "demo")
    header, _, signature = token.split(".")
    forged_payload = dict(claims(token), sub="app")
    body = base64.urlsafe_b64encode(json.dumps(forged_payload).encode()).rstrip(b"=").decode()
    with Emulator(accounts=ACCOUNTS, log=None) as other:
        foreign = get_token(other, "demo")  # signed with another emulator's key
    none_alg = base64.urlsafe_b64encode(b'{"alg":"none"}').rstrip(b"=").decode()
    for bad in (f"{header}.{body}.{signature}", foreign, "abc", "a.b.c", f"{none_alg}.{body}."):
        error(call(emulator, "GET", PATH_USER, token=bad), 401)
    error(call(emulator, "GET", PATH_USER), 401)
    error(call(emulator, "GET", PATH_USER, headers={"Authorization": "Bearer "}), 401)


def test_cross_refusals(emulator: Emulator) -> None:
    token = get_token(emulator, "demo")
    error(call(emulator, "GET", PATH_USER, "demo"), 401)  # Basic on /v2/
    for path in (PATH_TOKEN, PATH_TF_ENABLE, PATH_TF_REQUEST, PATH_TF_DISABLE):
        error(call(emulator, "POST", path, body={"method": "EMAIL"}, token=token), 401)


# -- transport and test hooks -------------------------------------------------------------


def test_fail_next(emulator: Emulator) -> None:
    emulator.fail_next(2)
    for path in (PATH_USER, "/nope"):
        response = requests.get(emulator.url + path, timeout=5)
        error(response, 503)
    assert requests.get(emulator.url + PATH_EMU_STATS, timeout=5).status_code == 200
    assert call(emulator, "POST", PATH_TOKEN, "demo", {}).status_code == 200
    emulator.fail_next(1, status=500)
    error(call(emulator, "POST", PATH_TOKEN, "demo", {}), 500)
    with pytest.raises(ValueError):
        emulator.fail_next(1, status=200)


def test_keep_alive_session_uses_one_connection(emulator: Emulator) -> None:
    token = get_token(emulator, "demo")
    emulator.reset_stats()
    assert emulator.stats() == {"requests": {}, "connections": 0}
    with requests.Session() as session:
        session.headers["Authorization"] = f"Bearer {token}"
        for _ in range(5):
            assert session.get(emulator.url + PATH_USER, timeout=5).status_code == 200
        assert session.get(emulator.url + "/nope", timeout=5).status_code == 404
        assert session.get(emulator.url + PATH_USER, timeout=5).status_code == 200
    for _ in range(2):
        get_token(emulator, "demo")
    stats = emulator.stats()
    assert stats["requests"] == {"GET /v2/user": 6, "GET /nope": 1, "POST /auth/request-token": 2}
    assert stats["connections"] == 3


def test_no_body_posts_work_with_any_content_type(emulator: Emulator) -> None:
    """POST /tf/* without a body, with and without Content-Length or Content-Type."""
    auth = "Basic " + base64.b64encode(b"mail:mail-pass").decode()
    for headers in (
        {},
        {"Content-Length": "0"},
        {"Content-Type": "text/plain"},
        {"Content-Type": "application/json", "Content-Length": "0"},
    ):
        conn = http.client.HTTPConnection("127.0.0.1", emulator.port, timeout=5)
        conn.putrequest("POST", PATH_TF_REQUEST)
        for name, value in {"Authorization": auth, **headers}.items():
            conn.putheader(name, value)
        conn.endheaders()
        response = conn.getresponse()
        assert response.status == 200, response.read()
        assert json.loads(response.read())["type"] == "info"
        conn.close()
    assert len(emulator.outbox("mail")) == 4


def test_http_hooks(emulator: Emulator) -> None:
    base = emulator.url
    token = get_token(emulator, "demo")
    assert requests.post(base + PATH_EMU_FAIL, json={"count": 1, "status": 503}, timeout=5).ok
    error(call(emulator, "GET", PATH_USER, token=token), 503)
    assert call(emulator, "GET", PATH_USER, token=token).status_code == 200
    stats = requests.get(base + PATH_EMU_STATS, timeout=5).json()
    assert stats["requests"]["GET /v2/user"] == 2
    assert "connections" in stats
    assert call(emulator, "POST", PATH_TF_REQUEST, "mail").status_code == 200
    outbox = requests.get(base + PATH_EMU_OUTBOX, params={"to": "mail"}, timeout=5).json()
    assert [m["to"] for m in outbox] == ["mail@example.org"]
    assert requests.get(base + PATH_EMU_OUTBOX, params={"to": "demo"}, timeout=5).json() == []
    assert requests.post(base + PATH_EMU_CLOCK, json={"advance": 3600}, timeout=5).ok
    error(call(emulator, "GET", PATH_USER, token=token), 401)
    error(requests.post(base + PATH_EMU_CLOCK, json={"advance": "x"}, timeout=5), 400)
    error(requests.post(base + PATH_EMU_CLOCK, json={"advance": -1}, timeout=5), 400)
    error(requests.post(base + PATH_EMU_FAIL, json={"count": 1, "status": 99}, timeout=5), 400)
    error(requests.get(base + PATH_EMU_FAIL, timeout=5), 405)
    error(requests.get(base + "/_emulator/nope", timeout=5), 404)
    assert "GET /_emulator/outbox" not in emulator.stats()["requests"]


def test_enforced_account_is_403_with_marker(emulator: Emulator) -> None:
    message = error(call(emulator, "POST", PATH_TOKEN, "enforced", {"otp": None}), 403)
    assert ENFORCE_MARKER in message


def test_logs_only_outbox_lines_to_the_current_stderr(emulator: Emulator, capsys) -> None:
    get_token(emulator, "demo")
    error(call(emulator, "GET", "/nope"), 404)
    assert capsys.readouterr().err == ""  # no access log, so no credentials in logs
    assert call(emulator, "POST", PATH_TF_REQUEST, "mail").status_code == 200
    (sent,) = emulator.outbox("mail")
    assert capsys.readouterr().err == f"[outbox] email to mail@example.org: code {sent['code']}\n"


def test_non_ascii_passwords_in_utf8_or_latin1() -> None:
    accounts = {"jm": {"password": "pässwörd", "email": "jm@example.org"}}
    with Emulator(accounts=accounts, log=None) as emu:
        url = emu.url + PATH_TOKEN
        # requests encodes str credentials as latin-1; others send UTF-8
        assert requests.post(url, auth=("jm", "pässwörd"), json={}, timeout=5).status_code == 200
        utf8 = "Basic " + base64.b64encode("jm:pässwörd".encode()).decode()
        response = requests.post(url, headers={"Authorization": utf8}, json={}, timeout=5)
        assert response.status_code == 200
        error(requests.post(url, auth=("jm", "passwort"), json={}, timeout=5), 401)
