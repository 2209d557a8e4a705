"""VssClient over real HTTP: the emulator, and tiny stdlib servers for what it cannot do."""

from __future__ import annotations

import base64
import json
import platform
import re
import shutil
import socket
import ssl
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pyotp
import pytest
from urllib3.exceptions import MaxRetryError, NewConnectionError

import vss_shell
from conftest import ACCOUNTS, APP_SECRET
from vss_shell.api import (
    ApiError,
    ApiTimeout,
    BadCredentials,
    BadRequest,
    ClientError,
    Conflict,
    ConnectionFailed,
    HttpError,
    InvalidDisableToken,
    InvalidEndpoint,
    InvalidResponse,
    MfaEnforced,
    OtpRequired,
    RateLimited,
    ServerError,
    Token,
    TokenRejected,
)
from vss_shell.api.client import VssClient, _GetOnlyRetry, user_agent
from vss_shell.constants import OTP_MARKER

FAST = {"backoff": 0.01, "timeout": 5.0}


def pw(user: str) -> str:
    return ACCOUNTS[user]["password"]


@pytest.fixture
def client(emulator) -> Iterator[VssClient]:
    with VssClient(emulator.url, **FAST) as api:
        yield api


def code_at(emulator, secret: str, offset: float = 0) -> str:
    return pyotp.TOTP(secret).at(emulator.now() + offset)


def wrong_code(emulator, secret: str) -> str:
    valid = {code_at(emulator, secret, step) for step in (-60, -30, 0, 30, 60)}
    return next(
        c for c in ("000000", "111111", "222222", "333333", "444444", "555555") if c not in valid
    )


def gets(emulator, path: str = "/v2/user") -> int:
    return emulator.stats()["requests"].get(f"GET {path}", 0)


def posts(emulator, path: str) -> int:
    return emulator.stats()["requests"].get(f"POST {path}", 0)


# --- tiny servers -----------------------------------------------------------------------------


Reply = tuple[int, dict[str, str], bytes]


class _StubServer(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False


@pytest.fixture
def stub() -> Iterator[Callable[[Callable[[dict[str, Any]], Reply]], tuple[str, list]]]:
    """Start a stdlib HTTP server whose answers come from a function; it records requests."""
    servers: list[_StubServer] = []

    def start(answer: Callable[[dict[str, Any]], Reply]) -> tuple[str, list[dict[str, Any]]]:
        seen: list[dict[str, Any]] = []

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:
                pass

            def handle_one(self) -> None:
                size = int(self.headers.get("Content-Length") or 0)
                info = {
                    "method": self.command,
                    "path": self.path,
                    "headers": dict(self.headers),
                    "body": self.rfile.read(size) if size else b"",
                }
                seen.append(info)
                status, headers, body = answer(info)
                self.send_response(status)
                for name, value in headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            do_GET = do_POST = handle_one

        server = _StubServer(("127.0.0.1", 0), Handler)
        servers.append(server)
        threading.Thread(
            target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        ).start()
        return f"http://127.0.0.1:{server.server_address[1]}", seen

    yield start
    for server in servers:
        server.shutdown()
        server.server_close()


class RawServer:
    """A TCP listener that accepts connections and either holds or drops them."""

    def __init__(self, mode: str) -> None:
        self.mode = mode
        self.accepted = 0
        self._sock = socket.socket()
        self._sock.bind(("127.0.0.1", 0))
        self._sock.listen(16)
        self._sock.settimeout(0.05)
        self._held: list[socket.socket] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()
        self.url = f"http://127.0.0.1:{self._sock.getsockname()[1]}"

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self._sock.accept()
            except OSError:
                continue
            self.accepted += 1
            if self.mode == "drop":
                conn.recv(65536)
                conn.close()
            else:
                self._held.append(conn)

    def close(self) -> None:
        self._stop.set()
        self._thread.join(timeout=2)
        for conn in self._held:
            conn.close()
        self._sock.close()


@pytest.fixture
def raw_server() -> Iterator[Callable[[str], RawServer]]:
    made: list[RawServer] = []

    def make(mode: str) -> RawServer:
        made.append(RawServer(mode))
        return made[-1]

    yield make
    for server in made:
        server.close()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def json_reply(status: int, payload: Any, **headers: str) -> Reply:
    return status, {"Content-Type": "application/json", **headers}, json.dumps(payload).encode()


def fake_jwt(sub: str = "demo", otp: bool = False) -> str:
    def b64(data: dict) -> str:
        return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()

    now = int(time.time())
    return (
        f"{b64({'alg': 'HS256'})}.{b64({'sub': sub, 'iat': now, 'exp': now + 60, 'otp': otp})}.c2ln"
    )


# --- construction -----------------------------------------------------------------------------


def test_endpoint_is_normalized_and_validated() -> None:
    with VssClient("http://127.0.0.1:8080/ ") as api:
        assert api.endpoint == "http://127.0.0.1:8080"
    for bad in (
        "cloud-api.eis.utoronto.ca",
        "ftp://x",
        "http://",
        "https://u:p@x",
        "http://x:99999",
    ):
        with pytest.raises(InvalidEndpoint):
            VssClient(bad)
    with pytest.raises(ApiError):
        VssClient("")


def test_user_agent_format() -> None:
    expected = (
        f"vss-shell/{vss_shell.__version__} ({platform.system()}/{platform.release()}) "
        f"Python/{platform.python_version()}"
    )
    assert user_agent() == expected
    assert re.fullmatch(r"vss-shell/\S+ \(.+/.*\) Python/\d+\.\d+\.\d+\S*", expected)


def test_request_headers_and_bodies_on_the_wire(stub) -> None:
    token = fake_jwt()
    reply = {"token": token, "data": {"totp": {}}, "recovery_codes": ["abcde-fghij"]}
    url, seen = stub(lambda req: json_reply(200, reply))
    with VssClient(url, **FAST) as api:
        api.request_token("demo", "demo-pass")
        api.request_token("demo", "demo-pass", otp="123456")
        api.enable_mfa("demo", "demo-pass", "SMS", phone="416-555-0123")
        api.enable_mfa("demo", "demo-pass", "EMAIL")
        api.disable_mfa("demo", "demo-pass")
        api.get_user(token)
    basic = "Basic " + base64.b64encode(b"demo:demo-pass").decode()
    for req in seen:
        assert req["headers"]["User-Agent"] == user_agent()
        assert req["headers"]["Accept"] == "application/json"
        assert req["headers"]["Content-Type"] == "application/json"
    assert [r["headers"]["Authorization"] for r in seen] == [basic] * 5 + [f"Bearer {token}"]
    assert [json.loads(r["body"]) if r["body"] else None for r in seen] == [
        {"otp": None},
        {"otp": "123456"},
        {"method": "SMS", "phone": "416-555-0123"},
        {"method": "EMAIL"},
        None,
        None,
    ]
    assert [(r["method"], r["path"]) for r in seen] == [
        ("POST", "/auth/request-token"),
        ("POST", "/auth/request-token"),
        ("POST", "/tf/enable"),
        ("POST", "/tf/enable"),
        ("POST", "/tf/disable"),
        ("GET", "/v2/user"),
    ]


def test_bearer_is_not_replaced_by_netrc(home, stub, monkeypatch) -> None:
    token = fake_jwt()
    url, seen = stub(lambda req: json_reply(200, {"data": {"username": "demo"}}))
    netrc = Path(home) / ".netrc"
    netrc.write_text("machine 127.0.0.1 login someone password netrc-secret\n")
    netrc.chmod(0o600)
    monkeypatch.setenv("NETRC", str(netrc))
    with VssClient(url, **FAST) as api:
        assert api.get_user(token) == {"username": "demo"}
    assert seen[0]["headers"]["Authorization"] == f"Bearer {token}"


# --- every call against the emulator --------------------------------------------------------


def test_request_token_without_mfa(client, emulator) -> None:
    token = client.request_token("demo", pw("demo"))
    assert isinstance(token, Token)
    assert token.username == "demo"
    assert token.mfa is False
    assert token.expires_at > token.issued_at
    assert 0 < token.seconds_left(now=emulator.now()) <= 3600
    for shown in (repr(token), str(token)):
        assert token.raw not in shown


def test_request_token_with_otp_has_the_mfa_claim(client, emulator) -> None:
    token = client.request_token("app", pw("app"), otp=code_at(emulator, APP_SECRET))
    assert token.username == "app"
    assert token.mfa is True


def test_get_user_and_mfa_status(client) -> None:
    token = client.request_token("demo", pw("demo"))
    user = client.get_user(token)
    assert user["username"] == "demo"
    assert user["email"] == ACCOUNTS["demo"]["email"]
    status = client.get_mfa_status(token.raw)
    assert set(status) == {"enabled", "method", "enabled_on", "disabled_on"}
    assert status["enabled"] is False


def test_mfa_status_of_an_authenticator_account(client, emulator) -> None:
    token = client.request_token("app", pw("app"), otp=code_at(emulator, APP_SECRET))
    status = client.get_mfa_status(token)
    assert status["enabled"] is True
    assert status["method"] == "AUTHENTICATOR"


def test_enrol_authenticator_then_conflict(client, emulator) -> None:
    started = client.enable_mfa("demo", pw("demo"), "AUTHENTICATOR")
    assert started["key"] == emulator.secret("demo")
    assert started["uri"].startswith("otpauth://totp/")
    assert len(started["recovery_codes"]) == 8
    verified = client.verify_mfa("demo", pw("demo"), code_at(emulator, started["key"]))
    assert verified["type"] == "info"
    token = client.request_token("demo", pw("demo"), otp=code_at(emulator, started["key"], 30))
    assert token.mfa is True
    assert client.get_mfa_status(token)["method"] == "AUTHENTICATOR"
    with pytest.raises(Conflict) as info:
        client.enable_mfa("demo", pw("demo"), "EMAIL")
    assert info.value.status == 409 and info.value.kind == "Conflict"


def test_enrol_email_with_a_code_from_the_outbox(client, emulator) -> None:
    started = client.enable_mfa("demo", pw("demo"), "EMAIL")
    assert "key" not in started and "uri" not in started
    sent = client.request_code("demo", pw("demo"))
    assert sent["type"] == "info" and sent["message"]
    code = emulator.outbox("demo")[-1]["code"]
    client.verify_mfa("demo", pw("demo"), code)
    with pytest.raises(OtpRequired):
        client.request_token("demo", pw("demo"))
    client.request_code("demo", pw("demo"))
    token = client.request_token("demo", pw("demo"), otp=emulator.outbox("demo")[-1]["code"])
    assert token.mfa is True
    status = client.get_mfa_status(token)
    assert status["enabled"] is True and status["method"] == "EMAIL"


def test_request_code_for_an_email_account(client, emulator) -> None:
    before = len(emulator.outbox("mail"))
    answer = client.request_code("mail", pw("mail"))
    assert answer["type"] == "info"
    mails = emulator.outbox("mail")
    assert len(mails) == before + 1 and mails[-1]["kind"] == "email"
    token = client.request_token("mail", pw("mail"), otp=mails[-1]["code"])
    assert token.mfa is True


def test_request_code_with_mfa_off_is_a_conflict(client) -> None:
    with pytest.raises(Conflict):
        client.request_code("demo", pw("demo"))


def test_sms_without_phone_is_a_bad_request(client) -> None:
    with pytest.raises(BadRequest) as info:
        client.enable_mfa("demo", pw("demo"), "SMS")
    assert info.value.status == 400 and type(info.value) is BadRequest


def test_disable_and_confirm(client, emulator) -> None:
    answer = client.disable_mfa("mail", pw("mail"))
    assert answer["type"] == "info"
    token = emulator.outbox("mail")[-1]["token"]
    done = client.confirm_disable_mfa("mail", pw("mail"), token)
    assert done["type"] == "info"
    status = client.get_mfa_status(client.request_token("mail", pw("mail")))
    assert status["enabled"] is False and status["method"] is None
    with pytest.raises(InvalidDisableToken) as info:
        client.confirm_disable_mfa("mail", pw("mail"), token)
    assert info.value.status == 400
    assert token not in str(info.value) and token not in repr(info.value)


def test_disable_token_is_url_quoted(client, emulator) -> None:
    client.disable_mfa("mail", pw("mail"))
    # Unquoted, "a/b?c" would reach another path (404) or become a query string.
    with pytest.raises(InvalidDisableToken):
        client.confirm_disable_mfa("mail", pw("mail"), "a/b?c#d")
    assert posts(emulator, "/tf/disable/<token>") == 1


# --- error paths against the emulator ---------------------------------------------------------


def test_bad_credentials(client) -> None:
    with pytest.raises(BadCredentials) as info:
        client.request_token("demo", "not-the-password")
    err = info.value
    assert type(err) is BadCredentials
    assert err.status == 401 and err.kind == "Unauthorized"
    assert "password" in str(err) and "not-the-password" not in str(err) + repr(err)


def test_non_ascii_password_is_sent_not_crashed_on(client) -> None:
    with pytest.raises(BadCredentials):
        client.request_token("demo", "пароль-密码")


def test_otp_missing(client) -> None:
    with pytest.raises(OtpRequired) as info:
        client.request_token("app", pw("app"))
    err = info.value
    assert err.otp_sent is False and err.status == 401
    assert OTP_MARKER in (err.server_message or "")
    assert "required" in str(err)


def test_otp_wrong_and_replayed(client, emulator) -> None:
    wrong = wrong_code(emulator, APP_SECRET)
    with pytest.raises(OtpRequired) as info:
        client.request_token("app", pw("app"), otp=wrong)
    assert info.value.otp_sent is True and "wrong" in str(info.value)
    assert wrong not in str(info.value)
    code = code_at(emulator, APP_SECRET)
    client.request_token("app", pw("app"), otp=code)
    with pytest.raises(OtpRequired) as info:
        client.request_token("app", pw("app"), otp=code)
    assert info.value.otp_sent is True and "already used" in str(info.value)


def test_enforced_account(client) -> None:
    with pytest.raises(MfaEnforced) as info:
        client.request_token("enforced", pw("enforced"))
    assert info.value.status == 403 and "mfa mk" in str(info.value)


def test_rate_limited_after_five_wrong_codes(client, emulator) -> None:
    wrong = wrong_code(emulator, APP_SECRET)
    for _ in range(5):
        with pytest.raises(OtpRequired):
            client.request_token("app", pw("app"), otp=wrong)
    with pytest.raises(RateLimited) as info:
        client.request_token("app", pw("app"), otp=code_at(emulator, APP_SECRET))
    err = info.value
    assert err.status == 429
    assert isinstance(err.retry_after, int) and 0 < err.retry_after <= 300
    assert f"try again in {err.retry_after} s" in str(err)


def test_token_rejected_when_invalid_or_expired(client, emulator) -> None:
    with pytest.raises(TokenRejected):
        client.get_user("not-a-jwt")
    token = client.request_token("demo", pw("demo"))
    emulator.advance(token.expires_at - token.issued_at + 1)
    with pytest.raises(TokenRejected) as info:
        client.get_user(token)
    assert isinstance(info.value, BadCredentials) and info.value.status == 401
    assert token.raw not in str(info.value)


def test_other_4xx_is_a_client_error(client, emulator) -> None:
    emulator.fail_next(1, status=418)
    with pytest.raises(ClientError) as info:
        client.request_code("mail", pw("mail"))
    assert info.value.status == 418


def test_post_is_not_retried_on_503(client, emulator) -> None:
    emulator.fail_next(1)
    with pytest.raises(ServerError) as info:
        client.request_token("demo", pw("demo"))
    assert info.value.status == 503
    assert posts(emulator, "/auth/request-token") == 1
    client.request_token("demo", pw("demo"))
    assert posts(emulator, "/auth/request-token") == 2


def test_get_is_retried_on_503(client, emulator) -> None:
    token = client.request_token("demo", pw("demo"))
    emulator.fail_next(2)
    assert client.get_user(token)["username"] == "demo"
    assert gets(emulator) == 3


def test_get_gives_up_after_the_retries(emulator) -> None:
    with VssClient(emulator.url, retries=2, **FAST) as api:
        token = api.request_token("demo", pw("demo"))
        emulator.fail_next(5, status=502)
        with pytest.raises(ServerError) as info:
            api.get_user(token)
    assert info.value.status == 502
    assert gets(emulator) == 3


def test_keep_alive_uses_one_connection(emulator) -> None:
    emulator.reset_stats()
    with VssClient(emulator.url, **FAST) as api:
        token = api.request_token("demo", pw("demo"))
        for _ in range(5):
            api.get_user(token)
        assert emulator.stats()["connections"] == 1
        api.close()
        api.get_user(token)
    assert emulator.stats()["connections"] == 2
    assert gets(emulator) == 6


# --- transport and odd servers ---------------------------------------------------------------


def test_html_502_error_page(stub) -> None:
    page = (
        b"<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n"
        b"<center><h1>502 Bad Gateway</h1></center>\r\n<hr><center>nginx/1.25</center>\r\n"
        b"</body>\r\n</html>\r\n"
    )
    url, seen = stub(lambda req: (502, {"Content-Type": "text/html"}, page))
    with VssClient(url, **FAST) as api, pytest.raises(ServerError) as info:
        api.request_token("demo", "demo-pass")
    err = info.value
    assert err.status == 502 and err.kind is None
    assert str(err) == "server error (HTTP 502): 502 Bad Gateway 502 Bad Gateway nginx/1.25"
    assert len(seen) == 1


def test_success_with_a_body_that_is_not_json(stub) -> None:
    replies = iter(
        [
            (200, {"Content-Type": "text/html"}, b"<h1>Welcome to nginx</h1>"),
            (200, {"Content-Type": "application/json"}, b"{not json"),
            json_reply(200, ["a", "list"]),
            json_reply(200, {"token": "garbage"}),
            json_reply(200, {"no": "token"}),
            json_reply(200, {"data": "not an object"}),
            json_reply(200, {"data": {"totp": None}}),
            (200, {"Content-Type": "application/json"}, b""),
            (204, {}, b""),
            (301, {"Location": "https://elsewhere/auth/request-token"}, b""),
        ]
    )
    url, _ = stub(lambda req: next(replies))
    with VssClient(url, **FAST) as api:
        with pytest.raises(InvalidResponse, match="not JSON: Welcome to nginx"):
            api.request_code("demo", "demo-pass")
        with pytest.raises(InvalidResponse, match="malformed JSON"):
            api.request_code("demo", "demo-pass")
        with pytest.raises(InvalidResponse, match="not an object"):
            api.request_code("demo", "demo-pass")
        with pytest.raises(InvalidResponse, match="malformed token"):
            api.request_token("demo", "demo-pass")
        with pytest.raises(InvalidResponse, match="no token"):
            api.request_token("demo", "demo-pass")
        with pytest.raises(InvalidResponse, match="'data'"):
            api.get_user("t")
        with pytest.raises(InvalidResponse, match="'totp'"):
            api.get_mfa_status("t")
        with pytest.raises(InvalidResponse, match="empty body"):
            api.request_code("demo", "demo-pass")
        assert api.disable_mfa("demo", "demo-pass") == {}
        with pytest.raises(HttpError, match="redirect to https://elsewhere") as info:
            api.request_token("demo", "demo-pass")
        assert info.value.status == 301


def test_timeout(raw_server) -> None:
    server = raw_server("hold")
    start = time.monotonic()
    with VssClient(server.url, timeout=0.5, retries=3) as api, pytest.raises(ApiTimeout) as info:
        api.request_token("demo", "demo-pass")
    assert time.monotonic() - start < 3
    assert server.url in str(info.value) and "0.5 s" in str(info.value)
    assert server.accepted == 1


def test_connection_refused_names_the_endpoint() -> None:
    url = f"http://127.0.0.1:{free_port()}"
    with VssClient(url, retries=1, backoff=0.01) as api:
        for call in (
            lambda: api.request_token("demo", "pw-secret"),
            lambda: api.get_user("tok-secret"),
        ):
            with pytest.raises(ConnectionFailed) as info:
                call()
            assert str(info.value) == f"cannot connect to {url}: connection refused"
            assert info.value.endpoint == url


def test_get_is_not_retried_after_a_read_timeout(raw_server) -> None:
    server = raw_server("hold")
    start = time.monotonic()
    with VssClient(server.url, timeout=0.3, retries=3) as api, pytest.raises(ApiTimeout):
        api.get_user("t")
    assert time.monotonic() - start < 1.2
    assert server.accepted == 1


def test_unresolvable_host(monkeypatch) -> None:
    real = socket.getaddrinfo

    def getaddrinfo(host: str, *args: Any, **kwargs: Any) -> Any:
        if host == "no-such-host.invalid":
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
        return real(host, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    api = VssClient("http://no-such-host.invalid", retries=0)
    with api, pytest.raises(ConnectionFailed, match="not resolved"):
        api.request_code("demo", "demo-pass")


#: A dropped connection reads as closed, or as reset when unread request bytes remain.
DROPPED = "closed the connection without answering|connection reset by the server"


def test_dropped_connections_retry_get_but_not_post(raw_server) -> None:
    server = raw_server("drop")
    with VssClient(server.url, retries=2, backoff=0.01, timeout=2) as api:
        with pytest.raises(ConnectionFailed, match=DROPPED):
            api.verify_mfa("demo", "demo-pass", "123456")
        assert server.accepted == 1
        with pytest.raises(ConnectionFailed, match=DROPPED):
            api.get_user("token")
    deadline = time.monotonic() + 2
    while server.accepted < 4 and time.monotonic() < deadline:
        time.sleep(0.01)
    assert server.accepted == 4


def test_retry_policy_never_retries_post_connect_errors() -> None:
    retry = _GetOnlyRetry(
        total=3, connect=3, allowed_methods=frozenset({"GET"}), status_forcelist=(503,)
    )
    error = NewConnectionError(None, "refused")  # type: ignore[arg-type]
    assert retry.increment("GET", "/v2/user", error=error).total == 2
    with pytest.raises(MaxRetryError):
        retry.increment("POST", "/auth/request-token", error=error)
    assert not retry.is_retry("POST", 503)
    assert retry.is_retry("GET", 503)
    assert not retry.is_retry("GET", 429, has_retry_after=True)


def test_long_retry_after_is_not_waited_for(stub) -> None:
    url, seen = stub(
        lambda req: json_reply(
            503, {"error": "ServiceUnavailable", "message": "m"}, **{"Retry-After": "120"}
        )
    )
    start = time.monotonic()
    with VssClient(url, **FAST) as api, pytest.raises(ServerError) as info:
        api.get_user("t")
    assert time.monotonic() - start < 2
    assert len(seen) == 1
    assert info.value.retry_after == 120 and "try again in 120 s" in str(info.value)


def test_short_retry_after_is_respected(stub) -> None:
    replies = iter([json_reply(503, {}, **{"Retry-After": "1"}), json_reply(200, {"data": {}})])
    url, seen = stub(lambda req: next(replies))
    start = time.monotonic()
    with VssClient(url, **FAST) as api:
        assert api.get_user("t") == {}
    assert time.monotonic() - start >= 0.9
    assert len(seen) == 2


# --- TLS ----------------------------------------------------------------------------------


def test_tls_verification(tmp_path) -> None:
    if shutil.which("openssl") is None:
        pytest.skip("openssl not available")
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(
        [
            "openssl",
            "req",
            "-x509",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:prime256v1",
            "-nodes",
            "-keyout",
            str(key),
            "-out",
            str(cert),
            "-days",
            "1",
            "-subj",
            "/CN=127.0.0.1",
            "-addext",
            "subjectAltName=IP:127.0.0.1",
        ],
        check=True,
        capture_output=True,
    )

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args: Any) -> None:
            pass

        def do_GET(self) -> None:
            body = b'{"data": {"username": "demo"}}'
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    server = _StubServer(("127.0.0.1", 0), Handler)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
    ).start()
    url = f"https://127.0.0.1:{server.server_address[1]}"
    try:
        with VssClient(url, retries=0) as api, pytest.raises(ConnectionFailed) as info:
            api.get_user("t")
        message = str(info.value)
        assert message.startswith(f"cannot connect to {url}: TLS verification failed")
        assert "ca_bundle" in message and "verify_tls" in message
        # The CA bundle is honoured even though REQUESTS_CA_BUNDLE may be set.
        with VssClient(url, retries=0, verify=str(cert)) as api:
            assert api.get_user("t") == {"username": "demo"}
        with VssClient(url, retries=0, verify=False) as api:
            assert api.get_user("t") == {"username": "demo"}
        api = VssClient(url, retries=0, verify=str(tmp_path / "missing.pem"))
        with api, pytest.raises(ConnectionFailed, match="ca_bundle"):
            api.get_user("t")
    finally:
        server.shutdown()
        server.server_close()


# --- secrets ------------------------------------------------------------------------------


def test_no_secret_in_any_error(stub) -> None:
    """A server that echoes the request (path, auth, body) into its errors leaks nothing."""
    password, otp, dtoken = "pa ss/wörd+&=", "987654", "dis/able+tok=en"
    bearer = fake_jwt()

    def echo(req: dict[str, Any]) -> Reply:
        text = f"{req['path']} {req['headers'].get('Authorization')} {req['body']!r} {OTP_MARKER}"
        if req["path"].startswith("/tf/enable"):
            return 502, {"Content-Type": "text/html"}, f"<p>{text}</p>".encode()
        return json_reply(
            401 if "token" in req["path"] else 400,
            {"error": "X", "message": text},
            Location=req["path"],
        )

    url, seen = stub(echo)
    basic_b64 = base64.b64encode(f"demo:{password}".encode()).decode()
    with VssClient(url, **FAST) as api:
        calls = [
            lambda: api.request_token("demo", password, otp=otp),
            lambda: api.verify_mfa("demo", password, otp),
            lambda: api.enable_mfa("demo", password, "EMAIL"),
            lambda: api.confirm_disable_mfa("demo", password, dtoken),
            lambda: api.get_user(bearer),
        ]
        for call in calls:
            with pytest.raises(HttpError) as info:
                call()
            shown = " ".join([str(info.value), repr(info.value), info.value.server_message or ""])
            for secret in (password, otp, dtoken, bearer):
                assert secret not in shown
            assert basic_b64 not in shown
    assert len(seen) == len(calls)


def test_no_secret_in_transport_errors(raw_server) -> None:
    dtoken = "sekret-disable-token"
    url = f"http://127.0.0.1:{free_port()}"
    with VssClient(url, retries=0) as api, pytest.raises(ConnectionFailed) as info:
        api.confirm_disable_mfa("demo", "pw-secret", dtoken)
    err = info.value
    assert dtoken not in str(err) + repr(err)
    # Nothing from requests (whose messages hold the URL) is chained to it.
    assert err.__cause__ is None and err.__context__ is None
    server = raw_server("hold")
    with VssClient(server.url, timeout=0.2, retries=0) as api, pytest.raises(ApiTimeout) as tinfo:
        api.confirm_disable_mfa("demo", "pw-secret", dtoken)
    assert dtoken not in str(tinfo.value) + repr(tinfo.value)
    assert tinfo.value.__context__ is None
