"""VssClient against hostile servers on 127.0.0.1: proxies, echoed credentials, replies
not as the contract says, huge, deep, dripped and cut-off bodies, odd Retry-After."""

from __future__ import annotations

import base64
import json
import socket
import threading
import time
from collections.abc import Iterator

import pytest

from conftest import ACCOUNTS
from hostile import HostileServer, free_port
from vss_shell.api import (
    ApiTimeout,
    BadRequest,
    ConnectionFailed,
    HttpError,
    InvalidResponse,
    ServerError,
    TokenRejected,
)
from vss_shell.api.client import VssClient
from vss_shell.api.errors import EXCERPT_SCAN, excerpt
from vss_shell.api.netenv import NetEnv, resolve

FAST = {"backoff": 0.01, "timeout": 5.0}
HTML = {"Content-Type": "text/html"}
MiB = 1024 * 1024
PROXY_VARIABLES = ("HTTP_PROXY", "http_proxy", "HTTPS_PROXY", "https_proxy", "ALL_PROXY",
                   "all_proxy", "NO_PROXY", "no_proxy", "REQUEST_METHOD")


@pytest.fixture(scope="module")
def _server() -> Iterator[HostileServer]:
    with HostileServer() as server:  # one per module: stopping one takes 0.5 s
        yield server


@pytest.fixture
def hostile(_server: HostileServer) -> HostileServer:
    """The module's hostile server, with no routes and no requests seen."""
    _server._server.routes.clear()
    _server.requests.clear()
    return _server


@pytest.fixture
def no_proxy_env(monkeypatch) -> None:
    for name in PROXY_VARIABLES:
        monkeypatch.delenv(name, raising=False)


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def jwt(payload: dict) -> str:
    return f"{b64(b'{}')}.{b64(json.dumps(payload).encode())}.c2ln"


def live_jwt(**claims: object) -> str:
    now = int(time.time())
    return jwt({"sub": "demo", "iat": now, "exp": now + 3600, **claims})


# --- proxies and CAs: resolved once; loopback never proxied ------------------------------


def test_loopback_endpoint_never_goes_through_the_proxy(
    emulator, hostile, monkeypatch, no_proxy_env
) -> None:
    proxy = hostile.url.replace("http://", "http://puser:proxy-secret@")
    for name in ("HTTP_PROXY", "http_proxy", "ALL_PROXY", "all_proxy"):
        monkeypatch.setenv(name, proxy)
    hostile.reply("POST", "*", json={"token": "from-the-proxy"})
    hostile.reply("GET", "*", json={"data": {"username": "the-proxy"}})
    with VssClient(emulator.url, **FAST) as api:
        token = api.request_token("demo", ACCOUNTS["demo"]["password"])
        assert api.get_user(token)["username"] == "demo"
        assert hostile.requests == []  # the Basic credential never went to the proxy
        assert api.net.proxy is None


def test_other_endpoints_honour_the_proxy_and_no_proxy(hostile, monkeypatch, no_proxy_env) -> None:
    monkeypatch.setenv("http_proxy", hostile.url.replace("http://", "http://pu:proxy-pw@"))
    hostile.reply("GET", "*", json={"data": {"username": "via-proxy"}})
    token = live_jwt()
    with VssClient("http://api.example.test", **FAST) as api:
        assert api.net.proxy == hostile.url.replace("http://", "http://***@")
        assert "proxy-pw" not in repr(api.net) + api.net.describe()
        assert api.get_user(token) == {"username": "via-proxy"}
    method, target, headers, _ = hostile.requests[0]
    assert (method, target) == ("GET", "http://api.example.test/v2/user")
    assert headers["Proxy-Authorization"] == "Basic " + base64.b64encode(b"pu:proxy-pw").decode()
    monkeypatch.setenv("NO_PROXY", "localhost,.example.test")
    with VssClient("http://api.example.test", **FAST) as api:
        assert api.net.proxy is None and api.net.proxies == {}
    assert len(hostile.requests) == 1


def test_requests_never_scans_the_environment_per_request(emulator, monkeypatch) -> None:
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", "/nonexistent/ca.pem")
    with VssClient(emulator.url, **FAST) as api:
        assert api._session.trust_env is False
        token = api.request_token("demo", ACCOUNTS["demo"]["password"])
        monkeypatch.setenv("http_proxy", f"http://127.0.0.1:{free_port()}")
        assert api.get_user(token)["username"] == "demo"  # resolved at creation, not now


@pytest.mark.parametrize(
    ("endpoint", "env", "proxy", "source"),
    [
        ("https://api.example.org", {"HTTPS_PROXY": "http://p:3128"}, "http://p:3128",
         "HTTPS_PROXY"),
        ("https://api.example.org", {"https_proxy": "http://low:1", "HTTPS_PROXY": "http://up:1"},
         "http://low:1", "https_proxy"),
        ("https://api.example.org", {"ALL_PROXY": "http://all:1"}, "http://all:1", "ALL_PROXY"),
        ("https://api.example.org", {"HTTP_PROXY": "http://p:1"}, None, None),  # http only
        ("https://api.example.org", {"HTTPS_PROXY": "p.corp:8080"}, "http://p.corp:8080",
         "HTTPS_PROXY"),
        ("https://api.example.org", {"HTTPS_PROXY": "http://u:pw@p:1"}, "http://***@p:1",
         "HTTPS_PROXY"),
        ("https://api.example.org", {"HTTPS_PROXY": "http://p:1", "NO_PROXY": "example.org"},
         None, None),
        ("https://api.example.org", {"HTTPS_PROXY": "http://p:1", "no_proxy": ".example.org"},
         None, None),
        ("https://api.example.org", {"HTTPS_PROXY": "http://p:1", "NO_PROXY": "*"}, None, None),
        ("https://api.example.org", {"HTTPS_PROXY": "http://p:1", "NO_PROXY": "ample.org"},
         "http://p:1", "HTTPS_PROXY"),  # a suffix that is not a parent domain
        ("https://api.example.org", {"HTTPS_PROXY": "http://p:1",
                                     "NO_PROXY": "api.example.org:8443"},
         "http://p:1", "HTTPS_PROXY"),  # another port
        ("https://api.example.org:8443", {"HTTPS_PROXY": "http://p:1",
                                          "NO_PROXY": "api.example.org:8443"}, None, None),
        ("https://10.1.2.3", {"HTTPS_PROXY": "http://p:1", "NO_PROXY": "10.0.0.0/8"}, None, None),
        ("https://11.1.2.3", {"HTTPS_PROXY": "http://p:1", "NO_PROXY": "10.0.0.0/8"},
         "http://p:1", "HTTPS_PROXY"),
        ("http://api.example.org", {"HTTP_PROXY": "http://p:1", "REQUEST_METHOD": "GET"},
         None, None),  # httpoxy: a CGI's HTTP_PROXY comes from a request header
        ("https://127.0.0.1:8443", {"HTTPS_PROXY": "http://p:1", "ALL_PROXY": "http://p:1"},
         None, None),
        ("https://127.9.8.7", {"HTTPS_PROXY": "http://p:1"}, None, None),
        ("https://[::1]:8443", {"HTTPS_PROXY": "http://p:1"}, None, None),
        ("https://LocalHost", {"HTTPS_PROXY": "http://p:1"}, None, None),
        # A name under localhost: a resolver decides, so it is no loopback of ours.
        ("https://api.localhost", {"HTTPS_PROXY": "http://p:1"}, "http://p:1", "HTTPS_PROXY"),
        ("https://[::ffff:127.0.0.1]", {"HTTPS_PROXY": "http://p:1"}, None, None),
        ("https://128.0.0.1", {"HTTPS_PROXY": "http://p:1"}, "http://p:1", "HTTPS_PROXY"),
    ],
)
def test_resolve_proxies(endpoint: str, env: dict, proxy: str | None, source: str | None) -> None:
    net = resolve(endpoint, env)
    assert (net.proxy, net.proxy_source) == (proxy, source)
    assert bool(net.proxies) == (proxy is not None)


def test_resolve_keeps_the_proxy_credentials_out_of_sight() -> None:
    net = resolve("https://api.example.org", {"https_proxy": "http://me:s3cr3t@p.corp:3128"})
    assert net.proxies == {"http": "http://me:s3cr3t@p.corp:3128",
                           "https": "http://me:s3cr3t@p.corp:3128"}
    for shown in (net.proxy or "", repr(net), str(net), net.describe()):
        assert "s3cr3t" not in shown and "me:" not in shown
    assert "p.corp:3128" in net.describe()


@pytest.mark.parametrize(
    ("env", "bundle", "source"),
    [
        ({}, None, None),
        ({"SSL_CERT_FILE": "/c/ssl.pem"}, "/c/ssl.pem", "SSL_CERT_FILE"),
        ({"CURL_CA_BUNDLE": "/c/curl.pem", "SSL_CERT_FILE": "/c/ssl.pem"}, "/c/curl.pem",
         "CURL_CA_BUNDLE"),
        ({"REQUESTS_CA_BUNDLE": "/c/req.pem", "CURL_CA_BUNDLE": "/c/curl.pem"}, "/c/req.pem",
         "REQUESTS_CA_BUNDLE"),
        ({"REQUESTS_CA_BUNDLE": " "}, None, None),
    ],
)
def test_resolve_ca_bundle(env: dict, bundle: str | None, source: str | None) -> None:
    net = resolve("https://api.example.org", env)
    assert (net.ca_bundle, net.ca_source) == (bundle, source)
    assert net == resolve("https://api.example.org", env)  # pure: same input, same answer
    assert isinstance(net, NetEnv)


def test_an_https_client_takes_the_proxy_once_and_hides_its_password() -> None:
    env = {"HTTPS_PROXY": "http://me:pr0xy-pw@proxy.corp:3128", "NO_PROXY": "other.org"}
    with VssClient("https://api.example.org", env=env) as api:
        assert api._session.proxies == {"http": env["HTTPS_PROXY"], "https": env["HTTPS_PROXY"]}
        assert api._session.trust_env is False
        assert api.net.proxy == "http://***@proxy.corp:3128"
        assert "pr0xy-pw" not in repr(api) + repr(api.net) + api.net.describe()
    with VssClient("https://api.example.org", env={**env, "NO_PROXY": "example.org"}) as api:
        assert api._session.proxies == {} and api.net.proxy is None


def test_explicit_verify_wins_over_the_environment(tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(tmp_path / "env.pem"))
    url = "https://api.example.org"
    with VssClient(url) as api:  # verify=True: the bundle the environment names
        assert api.verify == str(tmp_path / "env.pem") == api._session.verify
        assert api.net.ca_source == "REQUESTS_CA_BUNDLE"
    with VssClient(url, verify=False) as api:
        assert api.verify is False is api._session.verify
    with VssClient(url, verify=str(tmp_path / "profile.pem")) as api:
        assert api._session.verify == str(tmp_path / "profile.pem")


def test_a_missing_bundle_from_the_environment_is_named(monkeypatch) -> None:
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", "/nonexistent/env-ca.pem")
    port = free_port()
    api = VssClient(f"https://127.0.0.1:{port}", retries=0)
    with api, pytest.raises(ConnectionFailed) as info:
        api.get_user(live_jwt())
    assert "REQUESTS_CA_BUNDLE" in str(info.value)


# --- an echoed Authorization header is scrubbed -------------------------------------------

USER, PASSWORD = "demo", "pässwörd-12"  # latin-1 on the wire; base64 with padding
SENT = base64.b64encode(f"{USER}:{PASSWORD}".encode("latin-1")).decode()


def shown(err: BaseException) -> str:
    return " ".join([str(err), repr(err), getattr(err, "server_message", None) or ""])


@pytest.mark.parametrize("echo", [f"Basic {SENT}", SENT, SENT.rstrip("=")])
def test_an_echoed_basic_header_is_scrubbed(hostile, echo: str) -> None:
    assert SENT.endswith("=")
    hostile.reply("POST", "/tf/verify", status=400,
                  json={"error": "BadRequest", "message": f"you sent {echo}!"})
    hostile.reply("POST", "/tf/disable", status=502, headers=HTML,
                  body=f"<html><p>Authorization: {echo}</p></html>".encode())
    hostile.reply("POST", "/tf/request-token", json={"message": f"ok {echo}", "type": "info"})
    with VssClient(hostile.url, **FAST) as api:
        with pytest.raises(BadRequest) as info:
            api.verify_mfa(USER, PASSWORD, "123456")
        assert "you sent ***!" in str(info.value)
        with pytest.raises(ServerError) as info:
            api.disable_mfa(USER, PASSWORD)
        assert "Authorization: ***" in str(info.value)
        reply = api.request_code(USER, PASSWORD)
    for text in (shown(info.value), reply["message"]):
        assert SENT.rstrip("=") not in text and PASSWORD not in text
    assert reply["message"] == "ok ***"
    assert hostile.requests[0][2]["Authorization"] == f"Basic {SENT}"


def test_an_echoed_bearer_header_is_scrubbed(hostile) -> None:
    token = live_jwt()
    hostile.reply("GET", "/v2/user", status=401,
                  json={"error": "Unauthorized", "message": f"bad: Bearer {token}"})
    with VssClient(hostile.url, **FAST) as api:
        with pytest.raises(TokenRejected) as info:
            api.get_user(token)
        assert token not in shown(info.value)
        hostile.reply("GET", "/v2/user",
                      json={"data": {"username": "demo", "email": f"Bearer {token}",
                                     "totp": {"enabled": False, "note": [token]}}})
        user = api.get_user(token)
    assert user["email"] == "***" and user["totp"]["note"] == ["***"]


# --- replies not as the contract says ---------------------------------------------------

CODES = [f"abcde-{i:05d}" for i in range(8)]
KEY = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"
URI = f"otpauth://totp/ITS%20Private%20Cloud:demo?secret={KEY}&issuer=ITS%20Private%20Cloud"
GOOD = {"message": "TOTP enabled; verification pending", "type": "info",
        "issuer": "ITS Private Cloud", "recovery_codes": CODES, "uri": URI, "key": KEY}


@pytest.mark.parametrize(
    ("change", "field", "kept"),
    [
        ({"key": None}, "'key'", {"recovery_codes", "uri"}),
        ({"key": "not base32!"}, "'key'", {"recovery_codes", "uri"}),
        ({"key": "ABC"}, "'key'", {"recovery_codes", "uri"}),
        ({"key": KEY[:-7]}, "'key'", {"recovery_codes", "uri"}),  # 25 chars: not base32
        ({"uri": "https://evil.example/"}, "'uri'", {"recovery_codes", "key"}),
        ({"uri": 42}, "'uri'", {"recovery_codes", "key"}),
        ({"uri": URI + "\x1b[2J"}, "'uri'", {"recovery_codes", "key"}),
        ({"uri": URI.replace(KEY, "A" * 32)}, "another secret", {"recovery_codes", "key"}),
        ({"uri": "otpauth://totp/x?secret=" + "A" * 5000}, "'uri'", {"recovery_codes", "key"}),
        ({"recovery_codes": "abcdefghij"}, "'recovery_codes'", {"key", "uri"}),
        ({"recovery_codes": 12345}, "'recovery_codes'", {"key", "uri"}),
        ({"recovery_codes": ["ok-code-1", 7]}, "'recovery_codes'", {"key", "uri"}),
        ({"recovery_codes": ["ok-code-1", ""]}, "'recovery_codes'", {"key", "uri"}),
        ({"recovery_codes": []}, "'recovery_codes'", {"key", "uri"}),
        ({"recovery_codes": ["x" * 10] * 1000}, "'recovery_codes'", {"key", "uri"}),
        ({"recovery_codes": ["x" * 100_000]}, "'recovery_codes'", {"key", "uri"}),
        ({"recovery_codes": None, "key": None}, "'recovery_codes'", {"uri"}),
        ({"recovery_codes": ["abcdefghij0"] * 3}, "same code twice", {"key", "uri"}),
        ({"recovery_codes": ["a"]}, "shorter than 10", {"key", "uri"}),
        ({"uri": URI + "&digits=12"}, "6 digits", {"recovery_codes", "key"}),
        ({"uri": URI + "&period=0"}, "period", {"recovery_codes", "key"}),
        ({"uri": URI + "&algorithm=MD5"}, "algorithm", {"recovery_codes", "key"}),
    ],
)
def test_enrolment_answers_not_as_the_contract_says(
    hostile, change: dict, field: str, kept: set
) -> None:
    hostile.reply("POST", "/tf/enable", json={**GOOD, **change})
    with VssClient(hostile.url, **FAST) as api, pytest.raises(InvalidResponse) as info:
        api.enable_mfa(USER, PASSWORD, "AUTHENTICATOR")
    err = info.value
    assert field in str(err) and "\n" not in str(err) and len(str(err)) < 300
    assert err.partial is not None
    assert {k for k in ("recovery_codes", "key", "uri") if k in err.partial} == kept
    assert err.partial["message"] == GOOD["message"]
    for name in kept:
        assert err.partial[name] == GOOD[name]


def test_enrolment_text_fields_that_are_not_strings_are_absent(hostile) -> None:
    hostile.reply("POST", "/tf/enable",
                  json={**GOOD, "message": {"x": 1}, "issuer": 5, "type": None})
    with VssClient(hostile.url, **FAST) as api:
        reply = api.enable_mfa(USER, PASSWORD, "AUTHENTICATOR")
        assert reply == {k: v for k, v in GOOD.items() if k not in ("message", "issuer", "type")}
        hostile.reply("POST", "/tf/enable", json=GOOD)
        email = api.enable_mfa(USER, PASSWORD, "EMAIL")  # key and uri: AUTHENTICATOR only
    assert "key" not in email and "uri" not in email and email["recovery_codes"] == CODES


@pytest.mark.parametrize(
    "totp",
    [
        {"enabled": "true", "method": None},
        {"enabled": 1, "method": None},
        {"method": None},
        {"enabled": True, "method": "PIGEON"},
        {"enabled": True, "method": ["EMAIL"]},
        {"enabled": True, "method": "EMAIL", "enabled_on": "yesterday"},
        {"enabled": True, "method": "EMAIL", "enabled_on": "2026-13-45 10:00:00"},
        {"enabled": False, "method": None, "disabled_on": 1_800_000_000},
        {"enabled": False, "method": None, "disabled_on": "2026-11-27T10:00:00"},
        {"enabled": True, "method": None},
    ],
)
def test_mfa_status_not_as_the_contract_says(hostile, totp: dict) -> None:
    hostile.reply("GET", "/v2/user", json={"data": {"username": "demo", "totp": totp}})
    with VssClient(hostile.url, **FAST) as api, pytest.raises(InvalidResponse) as info:
        api.get_mfa_status(live_jwt())
    assert "MFA status" in str(info.value) and "\n" not in str(info.value)


def test_mfa_status_as_the_contract_says(hostile) -> None:
    totp = {"enabled": True, "method": "SMS", "enabled_on": "2026-11-27 10:00:00",
            "disabled_on": None, "extra": "dropped"}
    hostile.reply("GET", "/v2/user", json={"data": {"totp": totp}})
    with VssClient(hostile.url, **FAST) as api:
        status = api.get_mfa_status(live_jwt())
    assert status == {"enabled": True, "method": "SMS", "enabled_on": "2026-11-27 10:00:00",
                      "disabled_on": None}


@pytest.mark.parametrize("constant", [b"NaN", b"Infinity", b"-Infinity", b"1e999"])
def test_non_finite_numbers_are_refused(hostile, constant: bytes) -> None:
    hostile.reply("POST", "/tf/verify", body=b'{"message": "ok", "n": ' + constant + b"}")
    hostile.reply("POST", "/tf/disable", status=400,
                  body=b'{"error": "BadRequest", "message": ' + constant + b"}")
    with VssClient(hostile.url, **FAST) as api:
        with pytest.raises(InvalidResponse, match="malformed JSON") as info:
            api.verify_mfa(USER, PASSWORD, "123456")
        assert "\n" not in str(info.value)
        with pytest.raises(BadRequest) as bad:  # not JSON: an excerpt of the body
            api.disable_mfa(USER, PASSWORD)
    assert bad.value.json_body is False


def test_deeply_nested_json_is_one_line_not_a_recursion_error(hostile) -> None:
    deep = b"[" * 100_000
    hostile.reply("POST", "/tf/verify", body=deep)
    hostile.reply("POST", "/tf/disable", status=400, body=b'{"message": ' + deep)
    hostile.reply("POST", "/tf/request-token", body=b'{"a":' * 40 + b"1" + b"}" * 40)
    with VssClient(hostile.url, **FAST) as api:
        with pytest.raises(InvalidResponse, match="nested deeper"):
            api.verify_mfa(USER, PASSWORD, "123456")
        with pytest.raises(BadRequest) as info:
            api.disable_mfa(USER, PASSWORD)
        assert len(str(info.value)) < 200
        with pytest.raises(InvalidResponse, match="nested deeper"):
            api.request_code(USER, PASSWORD)


# --- bounded bodies --------------------------------------------------------------------


def endless(counter: list[int], chunk: bytes = b"x" * 65536, total: int = 8 * MiB):
    """A body generator that counts what it could hand to the socket."""

    def chunks() -> Iterator[bytes]:
        while counter[0] < total:
            counter[0] += len(chunk)
            yield chunk

    return chunks


def test_a_body_over_the_limit_is_refused_while_streaming(hostile) -> None:
    sent = [0]
    hostile.reply("POST", "/tf/verify", body=endless(sent, b'{"a": "' + b"x" * 65529))
    with VssClient(hostile.url, **FAST) as api, pytest.raises(InvalidResponse) as info:
        api.verify_mfa(USER, PASSWORD, "123456")
    assert "larger than 1 MiB" in str(info.value)


def test_a_content_length_over_the_limit_is_refused_before_reading(hostile) -> None:
    sent = [0]
    hostile.reply("POST", "/tf/verify", body=endless(sent, total=200 * MiB), length=200 * MiB)
    hostile.reply("POST", "/tf/disable", status=503, headers=HTML,
                  body=endless([0], total=200 * MiB), length=200 * MiB)
    with VssClient(hostile.url, **FAST) as api:
        with pytest.raises(InvalidResponse, match="larger than 1 MiB"):
            api.verify_mfa(USER, PASSWORD, "123456")
        with pytest.raises(ServerError) as info:  # the status is kept; the body not read
            api.disable_mfa(USER, PASSWORD)
    assert "larger than 1 MiB" in str(info.value) and info.value.status == 503
    assert sent[0] < 100 * MiB  # the client hung up long before the end


def test_an_error_body_over_the_limit_keeps_its_status(hostile) -> None:
    hostile.reply("POST", "/tf/verify", status=401, headers=HTML, body=endless([0]))
    with VssClient(hostile.url, **FAST) as api, pytest.raises(HttpError) as info:
        api.verify_mfa(USER, PASSWORD, "123456")
    assert info.value.status == 401 and "larger than 1 MiB" in (info.value.server_message or "")


def test_the_excerpt_of_a_huge_body_is_that_of_its_prefix() -> None:
    body = "<p>Gateway said no</p>" + "<script>" * 40_000  # 320 kB, quadratic before
    assert excerpt(body) == excerpt(body[:EXCERPT_SCAN]) == "Gateway said no"
    text = "<h1>Down</h1>" + "<div>" * 100_000 + "x" * MiB
    assert excerpt(text) == excerpt(text[:EXCERPT_SCAN])
    assert excerpt("<style>p{}</style><b>a &amp; b</b><script>x</script>c") == "a & b c"
    assert excerpt("<<<>>> <scr" + "ipt") == ">>"  # an unfinished tag ends the text


def test_a_huge_content_type_is_not_repeated(hostile) -> None:
    hostile.reply("POST", "/tf/verify", headers={"Content-Type": "text/" + "x" * 60_000},
                  body=b"hello")
    with VssClient(hostile.url, **FAST) as api, pytest.raises(InvalidResponse) as info:
        api.verify_mfa(USER, PASSWORD, "123456")
    assert len(str(info.value)) < 200 and str(info.value).endswith("not JSON: hello")


def test_a_script_storm_error_page_is_answered(hostile) -> None:
    page = b"<title>502</title>" + b"<script>" * 130_000  # 1 MB: minutes when quadratic
    hostile.reply("POST", "/tf/verify", status=502, headers=HTML, body=page)
    with VssClient(hostile.url, **FAST) as api, pytest.raises(ServerError) as info:
        api.verify_mfa(USER, PASSWORD, "123456")
    assert str(info.value) == "server error (HTTP 502): 502"


# --- one deadline for the whole request -------------------------------------------------


class DripServer:
    """Answers every connection by dripping ``reply`` one byte per ``every`` seconds."""

    def __init__(self, reply: bytes, every: float) -> None:
        self.reply, self.every, self.accepted = reply, every, 0
        self._sock = socket.create_server(("127.0.0.1", 0))
        self._sock.settimeout(0.05)
        self._stop = threading.Event()
        self.url = f"http://127.0.0.1:{self._sock.getsockname()[1]}"
        threading.Thread(target=self._run, daemon=True).start()

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self._sock.accept()
            except OSError:
                continue
            self.accepted += 1
            threading.Thread(target=self._drip, args=(conn,), daemon=True).start()

    def _drip(self, conn: socket.socket) -> None:
        with conn:
            conn.recv(65536)
            for byte in self.reply:
                if self._stop.wait(self.every):
                    return
                try:
                    conn.sendall(bytes([byte]))
                except OSError:
                    return

    def close(self) -> None:
        self._stop.set()
        self._sock.close()


@pytest.fixture
def drip() -> Iterator[type[DripServer]]:
    made: list[DripServer] = []

    def make(reply: bytes, every: float) -> DripServer:
        made.append(DripServer(reply, every))
        return made[-1]

    yield make  # type: ignore[misc]
    for server in made:
        server.close()


def test_a_dripped_body_cannot_hold_the_timeout(hostile) -> None:
    hostile.reply("POST", "/tf/verify", body=b'{"message": "' + b"x" * 200 + b'"}', drip=0.25)
    start = time.monotonic()
    with VssClient(hostile.url, timeout=1, retries=3) as api, pytest.raises(ApiTimeout) as info:
        api.verify_mfa(USER, PASSWORD, "123456")
    assert time.monotonic() - start < 5  # 51 s before: each byte came within the timeout
    assert str(info.value).startswith(f"no answer from {hostile.url} within 1 s")


@pytest.mark.parametrize("method", ["GET", "POST"])
def test_dripped_headers_cannot_hold_the_timeout(drip, method: str) -> None:
    server = drip(b"HTTP/1.1 200 OK\r\n" + b"X-Slow: " + b"z" * 200 + b"\r\n\r\n", 0.2)
    start = time.monotonic()
    api = VssClient(server.url, timeout=1, retries=3, backoff=0.01)
    with api, pytest.raises(ApiTimeout) as info:
        if method == "GET":
            api.get_user(live_jwt())
        else:
            api.request_code(USER, PASSWORD)
    assert time.monotonic() - start < 5
    assert "within 1 s" in str(info.value)
    assert server.accepted == 1  # no retry after the deadline


def test_the_next_call_after_a_timeout_works(hostile) -> None:
    hostile.reply("POST", "/tf/verify", body=b'{"message": "slow"}' + b" " * 50, drip=0.1)
    hostile.reply("POST", "/tf/request-token", json={"message": "fast", "type": "info"})
    with VssClient(hostile.url, timeout=1) as api:
        with pytest.raises(ApiTimeout):
            api.verify_mfa(USER, PASSWORD, "123456")
        assert api.request_code(USER, PASSWORD)["message"] == "fast"


@pytest.mark.parametrize("timeout", [1e300, float("inf"), float("nan"), 0, -1, 3601, "abc",
                                     None, True])
def test_an_absurd_timeout_is_refused(timeout: object) -> None:
    with pytest.raises(ValueError, match="timeout"):
        VssClient("http://127.0.0.1:1", timeout=timeout)  # type: ignore[arg-type]


# --- Retry-After and cut-off answers ----------------------------------------------------


@pytest.mark.parametrize("value", ["soon", "-5", "1.5", "9" * 5000, "99999999999999999999",
                                   "Wed, 99 Foo 2026 10:00:00"])
def test_a_retry_after_that_is_no_delay_is_ignored(hostile, value: str) -> None:
    hostile.reply("GET", "/v2/user", status=503, headers={
        "Content-Type": "application/json", "Retry-After": value},
        json={"error": "ServiceUnavailable", "message": "busy"})
    start = time.monotonic()
    api = VssClient(hostile.url, retries=2, backoff=0.01, timeout=5)
    with api, pytest.raises(ServerError) as info:
        api.get_user(live_jwt())
    assert time.monotonic() - start < 3
    err = info.value
    assert err.status == 503 and err.retry_after is None
    assert str(err) == "server error (HTTP 503 ServiceUnavailable): busy"
    assert len(hostile.requests) == 3  # retried as any 503, the header ignored


def test_a_retry_after_longer_than_the_timeout_is_reported_not_slept(hostile) -> None:
    hostile.reply("GET", "/v2/user", status=503, headers={
        "Content-Type": "application/json", "Retry-After": "5"}, json={"message": "busy"})
    start = time.monotonic()
    with VssClient(hostile.url, timeout=1, retries=3) as api, pytest.raises(ServerError) as info:
        api.get_user(live_jwt())
    assert time.monotonic() - start < 3  # not the 5 s asked for
    assert "try again in 5 s" in str(info.value)
    assert len(hostile.requests) == 1


@pytest.mark.parametrize("method", ["GET", "POST"])
def test_a_cut_off_answer_says_so(hostile, method: str) -> None:
    hostile.reply(method, "*", body=b'{"message": "half', length=500)
    with VssClient(hostile.url, **FAST) as api, pytest.raises(ConnectionFailed) as info:
        if method == "GET":
            api.get_user(live_jwt())
        else:
            api.verify_mfa(USER, PASSWORD, "123456")
    message = str(info.value)
    assert message.startswith(f"the answer from {hostile.url} was cut off (HTTP 200, 17 of 500")
    assert "cannot connect" not in message
    assert ("may have been carried out" in message) == (method == "POST")


# --- tokens from the server -------------------------------------------------------------


@pytest.mark.parametrize(
    "token",
    [
        live_jwt() + "\r\nX-Injected: 1",  # in the signature, which nothing decodes
        live_jwt() + "\n",
        live_jwt() + " c2ln",
        live_jwt() + "é",
        live_jwt(pad="x" * 9000),
        jwt({"sub": "demo", "exp": str(int(time.time()) + 3600)}),
        jwt({"sub": "demo", "exp": True}),
        jwt({"sub": "demo", "iat": "0", "exp": int(time.time()) + 3600}),
    ],
)
def test_a_token_that_is_not_a_jwt_is_refused_at_login(hostile, token: str) -> None:
    hostile.reply("POST", "/auth/request-token", json={"token": token})
    with VssClient(hostile.url, **FAST) as api, pytest.raises(InvalidResponse) as info:
        api.request_token(USER, PASSWORD)
    assert "malformed token" in str(info.value) and "\n" not in str(info.value)
    assert token.strip() not in repr(info.value)


@pytest.mark.parametrize("headers", [
    {f"X-Many-{i}": "v" for i in range(120)},  # http.client reads at most 100
    {"X-Long": "a" * 70_000},  # a header line over 64 KiB
])
def test_unreadable_headers_are_said_so_not_a_lost_connection(hostile, headers: dict) -> None:
    hostile.reply("GET", "/v2/user", json={"data": {}},
                  headers={"Content-Type": "application/json", **headers})
    with VssClient(hostile.url, **FAST) as api, pytest.raises(InvalidResponse) as info:
        api.get_user(live_jwt())
    assert "headers" in str(info.value) and "cannot connect" not in str(info.value)
