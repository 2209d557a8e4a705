"""A hostile server (and hostile files) cannot drive the terminal.

Every endpoint answers crafted bodies whose messages and fields hold a clipboard
write (OSC 52), a window title (OSC 0), a clear screen (CSI 2J), a C1 CSI, DEL and
a bidi override; the matching commands run in-process through the UI port (a
terminal-like UI and a piped one, table and JSON) and as ``vss`` subprocesses.
Whatever the shell makes of a reply (shows it, or refuses it as not what the
contract says), no raw control character reaches stdout or stderr, a failure is
one line, and there is no traceback.
"""

from __future__ import annotations

import base64
import io
import json
import re
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from prompt_toolkit.application import create_app_session
from prompt_toolkit.input import create_pipe_input
from prompt_toolkit.output import DummyOutput

from batch_helpers import profiles_file, run_vss, vss_env
from hostile import HostileServer
from vss_shell import batch, repl
from vss_shell.commands import table
from vss_shell.context import Context
from vss_shell.credentials import CredentialSources
from vss_shell.errors import hide_url_secrets, spellings
from vss_shell.profiles import ProfileStore, resolve
from vss_shell.session import Session
from vss_shell.ui import BatchUI, TerminalUI

pytestmark = pytest.mark.timeout(60)

#: A clipboard write, a window title, a clear screen, a C1 CSI, DEL, a bidi override.
EVIL = "PWN\x1b]52;c;aGFjaw==\x07\x1b]0;owned\x07\x1b[2J\x9b31m\x7f\u202etxt.exe"
#: Anything that must never reach the terminal raw (newline and tab are fine).
RAW = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u200e\u200f\u202a-\u202e\u2066-\u2069]")
#: How EVIL looks once made visible (what a person reads instead).
SHOWN = re.compile(r"\\x1b\]52;c;aGFjaw==\\x07|\\u001b\]52;c;aGFjaw==\\u0007")
PASSWORD = "pw-9f3b1c7e"


def jwt(sub: str = "demo", *, otp: bool = False) -> str:
    def part(obj: dict[str, Any]) -> str:
        return base64.urlsafe_b64encode(json.dumps(obj).encode()).decode().rstrip("=")

    now = int(time.time())
    payload = {"sub": sub, "iat": now, "exp": now + 3600, "otp": otp, "jti": "j1"}
    return f"{part({'alg': 'HS256', 'typ': 'JWT'})}.{part(payload)}.c2lnbmF0dXJl"


def serve_ok(server: HostileServer, *, sub: str = "demo") -> None:
    """Every endpoint succeeds, with EVIL in every text field."""
    info = {"message": EVIL, "type": EVIL}
    server.reply("POST", "/auth/request-token", json={"token": jwt(sub), "message": EVIL})
    for path in ("/tf/request-token", "/tf/verify", "/tf/disable", "/tf/disable/T"):
        server.reply("POST", path, json=info)
    server.reply("POST", "/tf/enable", json={
        **info, "issuer": EVIL, "recovery_codes": [f"code{i}-{EVIL}" for i in range(8)],
        "uri": f"otpauth://totp/{EVIL}:demo?secret=JBSWY3DPEHPK3PXP&issuer={EVIL}",
        "key": f"JBSWY3DPEHPK3PXP{EVIL}"})
    server.reply("GET", "/v2/user", json={"data": {
        "username": EVIL, "email": EVIL, "phone": EVIL,
        "totp": {"enabled": True, "method": EVIL, "enabled_on": EVIL, "disabled_on": EVIL}}})


def serve_errors(server: HostileServer, status: int) -> None:
    """Every endpoint fails with EVIL as the error kind and message (JSON), or as a
    page (status 404)."""
    if status == 404:
        body = f"<html><title>{EVIL}</title><p>{EVIL}</p></html>".encode()
        kwargs: dict[str, Any] = {"body": body, "headers": {"Content-Type": "text/html"}}
    else:
        kwargs = {"json": {"error": EVIL, "message": EVIL, "type": "error"}}
    for method, path in (("POST", "*"), ("GET", "*")):
        server.reply(method, path, status=status, **kwargs)
    if status == 400:  # a token, so that the /v2 call is made and refused too
        server.reply("POST", "/auth/request-token", json={"token": jwt()})


SCENARIOS = ["ok", "evil-sub", "400", "409", "404"]


def serve(server: HostileServer, scenario: str) -> None:
    server._server.routes.clear()  # the routes of the previous case
    if scenario == "ok":
        serve_ok(server)
    elif scenario == "evil-sub":  # the token's own fields are hostile too
        serve_ok(server, sub=EVIL)
    else:
        serve_errors(server, int(scenario))


COMMANDS = [
    "mfa mk EMAIL --no-verify --no-save-codes",
    "mfa mk AUTHENTICATOR --no-verify --no-save-codes --qr --show-key",
    "mfa token",
    "mfa verify 123456",
    "mfa rm --yes --token T",
    "mfa rm --yes",
    "mfa status",
    "whoami",
    "login",
]


@pytest.fixture(scope="module")
def server() -> Iterator[HostileServer]:
    with HostileServer() as hostile:
        yield hostile


def check_clean(text: str) -> None:
    """No raw control character; no traceback."""
    raw = RAW.search(text)
    assert raw is None, f"raw {raw.group()!r} in {text!r}"
    assert "Traceback" not in text


def failure_lines(err: str, name: str) -> list[str]:
    return [line for line in err.splitlines() if line.startswith((f"{name}:", "error:"))]


# --- in-process, through the UI port ---------------------------------------------------------


def make_context(url: str, tmp_path: Path, *, terminal: bool, fmt: str) -> Context:
    store = ProfileStore(tmp_path / "profiles.toml").load()
    settings_ = resolve(store, options={"endpoint": url, "username": "demo",
                                        "token_cache": False, "timeout": 5}, env={})
    sources = CredentialSources({"VSS_USER_PASS": PASSWORD})
    kind = TerminalUI if terminal else BatchUI
    extra = {} if terminal else {"tty_path": "/nonexistent/tty"}
    ui = kind(stdout=io.StringIO(), stderr=io.StringIO(), **extra)
    return Context(table(), ui, Session(settings_, sources), store, output=fmt,
                   pretty_json=terminal)


def run_in_process(ctx: Context, line: str) -> tuple[int, str, str]:
    """``line`` as the shell runs it; a question at the terminal-like UI is answered
    with Ctrl-D (cancel), so that nothing waits for keys."""
    with create_pipe_input() as keys, create_app_session(input=keys, output=DummyOutput()):
        keys.send_text("\x04" * 8)
        status = batch.run(ctx, "line", [(1, line)])
    return (status, ctx.ui.stdout.getvalue(),  # type: ignore[attr-defined]
            ctx.ui.stderr.getvalue())  # type: ignore[attr-defined]


@pytest.mark.parametrize("scenario", SCENARIOS)
@pytest.mark.parametrize("command", COMMANDS)
@pytest.mark.parametrize(("terminal", "fmt"), [(True, "table"), (True, "json"),
                                               (False, "table"), (False, "json")])
def test_in_process_nothing_raw_reaches_the_terminal(
        server: HostileServer, tmp_path: Path, home: str, scenario: str, command: str,
        terminal: bool, fmt: str) -> None:
    serve(server, scenario)
    ctx = make_context(server.url, tmp_path, terminal=terminal, fmt=fmt)
    status, out, err = run_in_process(ctx, command)
    check_clean(out + err)
    assert len(failure_lines(err, "line")) <= 1
    if status:
        assert len(failure_lines(err, "line")) == 1, err
    if scenario == "ok" and status == 0 and command.startswith(("mfa token", "mfa verify")):
        assert SHOWN.search(out + err), "the message is shown, escaped"
    if fmt == "json" and not terminal and out.strip():
        for doc in out.splitlines():
            json.loads(doc)  # still valid JSON Lines


def test_the_server_message_is_shown_escaped(server: HostileServer, tmp_path: Path,
                                             home: str) -> None:
    """The plain case, spelled out: what the person reads for a hostile message."""
    serve_ok(server)
    ctx = make_context(server.url, tmp_path, terminal=True, fmt="table")
    status, out, err = run_in_process(ctx, "mfa token")
    assert status == 0, err
    assert out == ("PWN\\x1b]52;c;aGFjaw==\\x07\\x1b]0;owned\\x07\\x1b[2J\\x9b31m\\x7f"
                   "\\u202etxt.exe\n")


def test_nan_from_the_server_is_never_invalid_json(server: HostileServer, tmp_path: Path,
                                                   home: str) -> None:
    server.reply("POST", "/auth/request-token", json={"token": jwt()})
    server.reply("GET", "/v2/user", body=b'{"data": {"username": "demo", "totp": '
                 b'{"enabled": NaN, "method": Infinity, "enabled_on": -Infinity}}}')
    ctx = make_context(server.url, tmp_path, terminal=False, fmt="json")
    status, out, err = run_in_process(ctx, "mfa status")
    check_clean(out + err)
    for doc in out.splitlines():
        json.loads(doc, parse_constant=lambda c: pytest.fail(f"{c} in JSON output"))
    if status:
        assert len(failure_lines(err, "line")) == 1, err


# --- subprocess: vss -c ... -o json and table ------------------------------------------------


@pytest.mark.parametrize("scenario", ["ok", "400", "404"])
@pytest.mark.parametrize("fmt", ["json", "table"])
def test_subprocess_nothing_raw_reaches_the_terminal(
        server: HostileServer, tmp_path: Path, scenario: str, fmt: str) -> None:
    serve(server, scenario)
    env = vss_env(tmp_path, password=PASSWORD, NO_COLOR="1", VSS_ENDPOINT=server.url)
    result = run_vss("--keep-going", "--no-token-cache", "-o", fmt, "-c",
                     "; ".join(COMMANDS), env=env, cwd=tmp_path)
    check_clean(result.output)
    assert len(failure_lines(result.stderr, "-c")) <= len(COMMANDS), result
    if fmt == "json":
        for doc in result.stdout.splitlines():
            json.loads(doc)
    if scenario == "ok":
        assert SHOWN.search(result.output), result


# --- hostile files: the profiles file, the history file -------------------------------------

PROFILES = ('default = "evil"\n\n[profiles.evil]\n'
            'endpoint = "http://127.0.0.1:9/\\u001b]0;owned\\u0007"\n'
            'username = "jdoe\\u001b]52;c;aGFjaw==\\u0007\\u009b2J\\u007f\\u202e"\n')
#: A profile name with controls (not a valid name: the file is refused, and says why).
BAD_NAME = '\n[profiles."na\\u001b[2Jme"]\nendpoint = "https://a.example"\n'


@pytest.mark.parametrize("content", [PROFILES, PROFILES + BAD_NAME], ids=["values", "name"])
@pytest.mark.parametrize("fmt", ["table", "json"])
@pytest.mark.parametrize("command", ["profile ls", "profile show", "profile show evil",
                                     "whoami", "profile use evil"])
def test_profiles_file_values_are_shown_escaped(tmp_path: Path, fmt: str, command: str,
                                                content: str) -> None:
    path = profiles_file(tmp_path)
    path.parent.mkdir(parents=True)
    path.write_text(content)
    env = vss_env(tmp_path, user=None, password=None, NO_COLOR="1")
    result = run_vss("-o", fmt, "-c", command, env=env, cwd=tmp_path)
    check_clean(result.output)
    assert len(failure_lines(result.stderr, "-c")) <= 1, result
    if content == PROFILES and command == "profile ls" and result.returncode == 0:
        assert "\\x1b]52;" in result.stdout or "\\u001b]52;" in result.stdout, result
    if content != PROFILES and command != "whoami":  # whoami needs no server: no word
        # The file is refused (control characters); the refusal quotes it, escaped.
        assert "\\x" in result.stderr, result


def test_profiles_file_in_process(tmp_path: Path, home: str) -> None:
    path = tmp_path / "profiles.toml"
    path.write_text(PROFILES + BAD_NAME)
    store = ProfileStore(path).load()
    ui = TerminalUI(stdout=io.StringIO(), stderr=io.StringIO())
    if store.problem:
        ui.warn(store.problem)
    settings_ = resolve(store, options={"endpoint": "http://127.0.0.1:9",
                                        "token_cache": False}, env={})
    ctx = Context(table(), ui, Session(settings_, CredentialSources({})), store)
    text = ""
    for line in ("profile ls", "profile show evil", "profile show"):
        _, out, err = run_in_process(ctx, line)
        text = out + err
    check_clean(text)


def test_a_history_line_with_controls_is_not_recalled(tmp_path: Path, home: str) -> None:
    """A history file line with control characters (ESC, C1, bidi) is outside text: it is
    not recalled (Up, grey suggestions), so it never reaches the terminal raw; a clean
    line is."""
    history = tmp_path / "history"
    history.write_text("\n# 2026-01-01 00:00:00.000000\n+whoami\n"
                       "\n# 2026-01-01 00:00:01.000000\n+\x1b]0:owned\x07nosuchcmd\u202e\n")
    history.chmod(0o600)
    ctx = make_context("http://127.0.0.1:9", tmp_path, terminal=True, fmt="table")
    with create_pipe_input() as keys, create_app_session(input=keys, output=DummyOutput()):
        keys.send_text("\x1b[A\r\x04")
        repl.run(ctx, history=history, banner="hi")
    out = ctx.ui.stdout.getvalue()  # type: ignore[attr-defined]
    err = ctx.ui.stderr.getvalue()  # type: ignore[attr-defined]
    check_clean(out + err)
    assert "nosuchcmd" not in out + err, err
    assert "profile" in out  # Up recalled the clean line: whoami ran


def test_vss_option_errors_quote_escaped(tmp_path: Path) -> None:
    env = vss_env(tmp_path, user=None, password=None, NO_COLOR="1")
    result = run_vss("--bogus=\x1b[2J", "\x1b]0;PWN\x07\u202e", env=env, cwd=tmp_path)
    assert result.returncode == 2
    check_clean(result.output)
    assert "\\x1b[2J" in result.stderr, result.stderr


# --- hide_url_secrets: the same answer as the regular expression, in linear time -------------

_URL = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*://[^\s'\"]+")


def _reference(text: str) -> str:
    def hide(match: re.Match[str]) -> str:
        url = re.sub(r"^([^:]+://).*@", r"\1***@", match.group(), count=1)
        return re.sub(r"[?#].*", "?***", url)

    return _URL.sub(hide, text)


@settings(max_examples=400, deadline=None)
@given(st.text(alphabet="ab1+.-:/@?# '\"\x1c\n", max_size=40))
def test_hide_url_secrets_as_the_regular_expression(text: str) -> None:
    assert hide_url_secrets(text) == _reference(text)


@pytest.mark.parametrize("text", ["a" * 200_000, "a1" * 100_000, "a://" * 50_000,
                                  ":// " * 50_000, "x" * 100_000 + "://u:p@h"])
def test_hide_url_secrets_is_linear(text: str) -> None:
    start = time.perf_counter()
    hide_url_secrets(text)
    assert time.perf_counter() - start < 0.5  # the regular expression took 1.4 s for 40 kB


# --- secrets: never in any output nor any file the run wrote, in any spelling ----------------


def all_spellings(user: str, password: str, token: str, otp: str) -> dict[str, str]:
    """Every way a secret may be written: plain, URL-quoted, base64 of user:pass
    (a Basic header), the bearer header."""
    from urllib.parse import quote, quote_plus

    basic = base64.b64encode(f"{user}:{password}".encode()).decode()
    return {"password": password, "password quoted": quote(password, safe=""),
            "password quoted+": quote_plus(password), "Basic user:pass": basic,
            "password base64": base64.b64encode(password.encode()).decode(),
            "token": token, "otp": otp}


def serve_echo(server: HostileServer, echo: str, token: str, status: int) -> None:
    """Every reply echoes ``echo`` (the secrets) in its message and fields."""
    server._server.routes.clear()
    info = {"message": f"you sent {echo}", "type": "info"}
    server.reply("POST", "/auth/request-token", json={"token": token})
    for path in ("/tf/request-token", "/tf/verify", "/tf/disable", "/tf/disable/T",
                 "/tf/enable"):
        server.reply("POST", path, status=status,
                     json={**info, "error": echo, "recovery_codes": ["c1-abcdefghij"],
                           "key": "JBSWY3DPEHPK3PXP", "issuer": "X"})
    server.reply("GET", "/v2/user", status=status, json={
        "message": echo, "data": {"username": "demo", "totp": {
            "enabled": True, "method": "EMAIL", "enabled_on": "2026-01-01 00:00:00",
            "disabled_on": None}}})


SECRET_LINES = ["login", "mfa verify 918273", "mfa token", "mfa rm --yes --token T",
                "mfa status", "whoami"]


def run_repl_with_secrets(server: HostileServer, home: Path, password: str,
                          status: int) -> tuple[dict[str, str], dict[str, str]]:
    """The interactive shell (history and token cache on) through the UI port; the
    outputs and every file under ``home``."""
    from vss_shell.tokencache import TokenCache

    token, otp = jwt("demo"), "918273"
    secrets = all_spellings("demo", password, token, otp)
    serve_echo(server, " ".join(f"{k}={v}" for k, v in secrets.items())
               + f" Authorization: Basic {secrets['Basic user:pass']} Bearer {token}",
               token, status)
    store = ProfileStore(home / "profiles.toml").load()
    settings_ = resolve(store, options={"endpoint": server.url, "username": "demo",
                                        "timeout": 5}, env={})
    ui = TerminalUI(stdout=io.StringIO(), stderr=io.StringIO())
    session = Session(settings_, CredentialSources({"VSS_USER_PASS": password}),
                      cache=TokenCache(home / "tokens.toml"))
    ctx = Context(table(), ui, session, store, output="table")
    # As the shell wires it (cli.py): the session's secrets, in every spelling.
    ui.secrets = lambda: spellings(ctx.session.secrets(), ctx.session.username)
    with create_pipe_input() as keys, create_app_session(input=keys, output=DummyOutput()):
        # Ctrl-D answers any question (cancelled) and then ends the shell.
        keys.send_text("".join(f"{line}\r" for line in SECRET_LINES) + "\x04" * 30)
        repl.run(ctx, history=home / "history", banner="hi")
    shown = {"stdout": ui.stdout.getvalue(), "stderr": ui.stderr.getvalue()}  # type: ignore
    files = {str(p.relative_to(home)): p.read_text(errors="replace")
             for p in home.rglob("*") if p.is_file()}
    return secrets, shown | files


def leaks(secrets: dict[str, str], texts: dict[str, str], *,
          otp: bool = False) -> list[str]:
    """Where a spelling of a secret shows. The code typed as ``mfa verify CODE`` is
    checked apart (``otp``): the session does not know it as a secret yet."""
    found = []
    for where, text in texts.items():
        for spelling, value in secrets.items():
            if (spelling == "otp") != otp:
                continue
            if spelling == "token" and where == "tokens.toml":
                continue  # the token cache holds the token: that is its job
            if value in text:
                found.append(f"{spelling} in {where}")
    return found


#: Passwords with what URL quoting and base64 change (spaces, %, +, /, non-ASCII).
PASSWORDS = st.text(alphabet=st.characters(blacklist_categories=("Cs", "Cc", "Zl", "Zp"),
                                           blacklist_characters="*"),
                    min_size=10, max_size=24).filter(lambda s: s.strip() == s)


@settings(max_examples=12, deadline=None)
@given(password=PASSWORDS, status=st.sampled_from([200, 400, 403]))
def test_no_secret_in_any_output_or_file(server: HostileServer, password: str,
                                         status: int) -> None:
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        home = Path(tmp)
        secrets, texts = run_repl_with_secrets(server, home, password, status)
        assert "history" in texts and texts["stdout"]  # the run did write and show
        assert leaks(secrets, texts) == []
        check_clean(texts["stdout"] + texts["stderr"])


def test_no_code_echoed_back(server: HostileServer, tmp_path: Path) -> None:
    secrets, texts = run_repl_with_secrets(server, tmp_path, "pw-0123456789", 400)
    assert "history" in texts
    assert leaks(secrets, texts, otp=True) == []


def test_profile_ls_json_keeps_the_files_values(tmp_path: Path) -> None:
    """JSON gives the file's values, escaped as JSON escapes them (not pre-escaped text)."""
    path = profiles_file(tmp_path)
    path.parent.mkdir(parents=True)
    path.write_text(PROFILES + BAD_NAME)
    env = vss_env(tmp_path, user=None, password=None, NO_COLOR="1")
    result = run_vss("-o", "json", "-c", "profile ls", env=env, cwd=tmp_path)
    check_clean(result.output)
    [listing] = [json.loads(line) for line in result.stdout.splitlines()]
    assert "na\x1b[2Jme" in {row["name"] for row in listing}, result.stdout
