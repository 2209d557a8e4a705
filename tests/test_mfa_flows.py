"""MFA flows combined with modes: JSON output, pipes, second runs, typos, refused replies.

In-process tests drive commands through a scripted UI against the emulator;
subprocess tests (``batch_helpers``) check exit statuses and what a pipe
receives; ``tests/hostile.py`` stands for a server whose replies are not as the
contract says.
"""

from __future__ import annotations

import contextlib
import io
import json
import re
import shlex
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pyotp
import pytest

from batch_helpers import (
    LiveVss,
    json_lines,
    requests_made,
    run_vss,
    tokens_file,
    vss_env,
)
from conftest import ACCOUNTS, APP_SECRET
from hostile import HostileServer
from vss_shell import dispatch, files
from vss_shell.api.errors import BadCredentials
from vss_shell.commands import table
from vss_shell.context import Context
from vss_shell.credentials import CredentialSources
from vss_shell.emulator import Emulator
from vss_shell.errors import ShellError
from vss_shell.profiles import ProfileStore, resolve
from vss_shell.session import Session
from vss_shell.tokencache import TokenCache
from vss_shell.ui import UI

pytestmark = pytest.mark.timeout(60)

TOKEN_REQ = "POST /auth/request-token"
CODE_REQ = "POST /tf/request-token"
#: A run that waits for nothing ends well within this (seconds).
FAST = 15

Answer = str | Callable[[], str]


class PersonUI(UI):
    """A person at a terminal, answering from a script; an answer may be computed when
    the question comes (a code from the app, the newest email). Records what was on
    stdout when each question was asked, and each request's progress display."""

    def __init__(self, answers: list[Answer], **kwargs) -> None:
        super().__init__(stdout=io.StringIO(), stderr=io.StringIO(), **kwargs)
        self.answers = list(answers)
        self.asked: list[tuple[str, str]] = []  # (prompt, stdout so far)
        self.progress_count = 0

    def read_line(self, prompt: str, *, secret: bool = False) -> str:
        self.asked.append((prompt, self.out_text))
        if not self.answers:
            raise AssertionError(f"asked more than scripted: {prompt!r}")
        answer = self.answers.pop(0)
        return answer() if callable(answer) else answer

    def progress(self, label: str = "") -> contextlib.AbstractContextManager[None]:
        self.progress_count += 1
        return super().progress(label)

    @property
    def out_text(self) -> str:
        return self.stdout.getvalue()  # type: ignore[attr-defined]

    @property
    def err_text(self) -> str:
        return self.stderr.getvalue()  # type: ignore[attr-defined]


Make = Callable[..., Context]


@pytest.fixture
def make(emulator: Emulator, tmp_path: Path, home: str) -> Iterator[Make]:
    """A Context on the emulator for ``user``, its person answering ``answers``."""
    made: list[Context] = []

    def _make(answers: list[Answer], *, user: str = "demo", env: dict[str, str] | None = None,
              output: str = "table", cache: TokenCache | None = None) -> Context:
        store = ProfileStore(tmp_path / "profiles.toml").load()
        options = {"profile": "cloud-api", "endpoint": emulator.url, "username": user,
                   "token_cache": cache is not None}
        settings = resolve(store, options=options, env={})
        sources = CredentialSources(env if env is not None else {})
        ui = PersonUI(answers)
        ctx = Context(table(), ui, Session(settings, sources, cache=cache), store,
                      output=output, pretty_json=False)
        made.append(ctx)
        return ctx

    yield _make
    for ctx in made:
        ctx.session.close()


def person(ctx: Context) -> PersonUI:
    assert isinstance(ctx.ui, PersonUI)
    return ctx.ui


def newest_code(emulator: Emulator, user: str) -> Callable[[], str]:
    return lambda: [m["code"] for m in emulator.outbox(user) if m.get("code")][-1]


# --- 9.1 enrolment in JSON output -----------------------------------------------------------


def test_json_enrolment_at_a_terminal_shows_key_and_codes_before_the_code(
        make: Make, emulator: Emulator) -> None:
    ctx = make(["n", "n", "y", lambda: pyotp.TOTP(emulator.secret("demo") or "").now()],
               env={"VSS_USER_PASS": "demo-pass"}, output="json")
    dispatch.execute(ctx, ["mfa", "mk", "AUTHENTICATOR"])
    ui = person(ctx)
    prompt, seen = ui.asked[-1]
    assert prompt.startswith("Enter the 6-digit code")
    secret = emulator.secret("demo")
    assert secret and secret in seen, "the key is shown before the code is asked"
    assert "Recovery codes" in seen
    result = json.loads(ui.out_text.strip().splitlines()[-1])
    assert result["status"] == "enabled" and result["key"] == secret


def gated_otp_command(directory: Path) -> tuple[str, Path]:
    """An ``--otp-command`` that waits (bounded) for the test to write the code to a file."""
    gate = directory / "code.txt"
    script = directory / "gated.py"
    script.write_text(
        "import pathlib, time\n"
        f"gate = pathlib.Path({str(gate)!r})\n"
        "deadline = time.monotonic() + 20\n"
        "while not gate.exists() and time.monotonic() < deadline:\n"
        "    time.sleep(0.05)\n"
        "print(gate.read_text())\n")
    return f"{shlex.quote(sys.executable)} {shlex.quote(str(script))}", gate


def test_json_enrolment_in_a_pipe_prints_the_pending_document_before_the_code(
        tmp_path: Path, emulator: Emulator) -> None:
    command, gate = gated_otp_command(tmp_path)
    with LiveVss("-o", "json", "--otp-command", command, env=vss_env(tmp_path, emulator),
                 cwd=tmp_path) as live:
        live.send("mfa mk AUTHENTICATOR\nmfa status\n")
        pending = json.loads(live.read_line())  # while the code is still awaited
        assert pending["status"] == "pending" and pending["method"] == "AUTHENTICATOR"
        assert pending["key"] == emulator.secret("demo")
        assert pending["uri"].startswith("otpauth://totp/")
        assert len(pending["recovery_codes"]) == 8
        gate.write_text(pyotp.TOTP(pending["key"]).now())
        assert json.loads(live.read_line()) == {"method": "AUTHENTICATOR", "status": "enabled"}
        assert json.loads(live.read_line())["state"] == "on"
        r = live.finish(timeout=FAST)
    assert r.returncode == 0, str(r)


def test_email_enrolment_says_enabled_once(tmp_path: Path, emulator: Emulator) -> None:
    command = mailbox_otp_command(tmp_path, emulator, "demo")
    r = run_vss("--otp-command", command, "-c", "mfa mk EMAIL --no-save-codes",
                env=vss_env(tmp_path, emulator), cwd=tmp_path)
    assert r.returncode == 0, str(r)
    assert "TOTP enabled; verification pending" not in r.output, str(r)
    assert r.output.count("TOTP has been enabled") == 1, str(r)


# --- 9.4 status and whoami ------------------------------------------------------------------


ISO_UTC = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ")


def test_status_and_whoami_tell_pending_apart_with_iso_times(
        tmp_path: Path, emulator: Emulator) -> None:
    env = vss_env(tmp_path, emulator)
    r = run_vss("-o", "json", "-c",
                "whoami; mfa mk AUTHENTICATOR --no-verify --no-save-codes; mfa status; whoami",
                env=env, cwd=tmp_path)
    assert r.returncode == 0, str(r)
    before, _pending, status, who = json_lines(r.stdout)
    assert before["mfa"] == "unknown" and before["token_expires_at"] is None
    assert "mfa_method" not in before
    assert status["state"] == "pending" and status["enabled"] is False
    assert who["mfa"] == "pending" and who["mfa_method"] == "AUTHENTICATOR"
    assert ISO_UTC.fullmatch(who["token_expires_at"]), who
    totp = pyotp.TOTP(emulator.secret("demo") or "")
    env["VSS_USER_OTP"] = totp.at(emulator.now() + 30)  # for the login after the verify
    r = run_vss("-c", f"mfa verify {totp.at(emulator.now())}; mfa status -o json; mfa status",
                env=env, cwd=tmp_path)
    assert r.returncode == 0, str(r)
    doc = json.loads(r.stdout.splitlines()[0])
    assert doc["state"] == "on" and ISO_UTC.fullmatch(doc["enabled_on"]), doc
    assert re.search(r"^state +on$", r.stdout, re.MULTILINE), str(r)
    assert re.search(r"^enabled_on +\d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC$", r.stdout,
                     re.MULTILINE), str(r)


def test_whoami_shows_the_proxy_and_a_ca_override(tmp_path: Path) -> None:
    (tmp_path / "ca.pem").write_text("not used: whoami sends nothing\n")
    env = vss_env(tmp_path, None, HTTPS_PROXY="http://u:Proxy-Pw-77@proxy.example:3128",
                  REQUESTS_CA_BUNDLE=str(tmp_path / "ca.pem"))
    r = run_vss("--endpoint", "https://vss.example.org", "-o", "json", "-c", "whoami",
                env=env, cwd=tmp_path)
    assert r.returncode == 0, str(r)
    [who] = json_lines(r.stdout)
    assert "proxy.example:3128" in who["proxy"] and "Proxy-Pw-77" not in r.output
    assert who["ca_bundle"] == str(tmp_path / "ca.pem")
    assert who["ca_source"] == "REQUESTS_CA_BUNDLE"


def test_debug_says_where_requests_go_and_whom_they_trust(tmp_path: Path) -> None:
    """--debug names the proxy and an environment CA bundle, or the profile's choice."""
    (tmp_path / "ca.pem").write_text("not used: help sends nothing\n")
    env = vss_env(tmp_path, None, HTTPS_PROXY="http://u:Proxy-Pw-77@proxy.example:3128",
                  REQUESTS_CA_BUNDLE=str(tmp_path / "ca.pem"))
    r = run_vss("--debug", "--endpoint", "https://vss.example.org", "-c", "help",
                env=env, cwd=tmp_path)
    assert r.returncode == 0, str(r)
    assert "proxy http://***@proxy.example:3128 (from HTTPS_PROXY)" in r.stderr, str(r)
    assert f"CA bundle {tmp_path / 'ca.pem'} (from REQUESTS_CA_BUNDLE)" in r.stderr, str(r)
    assert "Proxy-Pw-77" not in r.output
    r = run_vss("--debug", "--insecure", "--endpoint", "https://vss.example.org", "-c", "help",
                env=env, cwd=tmp_path)
    assert "TLS verification OFF" in r.stderr and "REQUESTS_CA_BUNDLE" not in r.stderr, str(r)


def test_whoami_shows_no_proxy_fields_when_none_is_set(tmp_path: Path,
                                                       emulator: Emulator) -> None:
    r = run_vss("-o", "json", "-c", "whoami", env=vss_env(tmp_path, emulator), cwd=tmp_path)
    assert r.returncode == 0, str(r)
    [who] = json_lines(r.stdout)
    assert not {"proxy", "ca_bundle", "ca_source"} & set(who)


# --- 9.6 a code used once, one token request per login --------------------------------------


def file_otp_command(directory: Path) -> tuple[str, Path]:
    """An ``--otp-command`` printing what the test wrote to a file (a phone the test
    holds): both runs read the same code until the test shows the next one. Each call
    adds a line to ``calls`` next to it."""
    code_file = directory / "phone.txt"
    script = directory / "phone.py"
    script.write_text(f"open({str(directory / 'calls')!r}, 'a').write('.\\n')\n"
                      f"print(open({str(code_file)!r}).read().strip())\n")
    return f"{shlex.quote(sys.executable)} {shlex.quote(str(script))}", code_file


def calls(directory: Path) -> int:
    """How many times the ``file_otp_command`` of ``directory`` ran."""
    path = directory / "calls"
    return len(path.read_text().splitlines()) if path.exists() else 0


def test_two_runs_in_one_step_both_log_in(tmp_path: Path, emulator: Emulator) -> None:
    command, phone = file_otp_command(tmp_path)
    totp = pyotp.TOTP(APP_SECRET)
    phone.write_text(totp.at(emulator.now()))
    env = vss_env(tmp_path, emulator, user="app", password=ACCOUNTS["app"]["password"])
    args = ("--otp-command", command, "-o", "json", "-c", "mfa status")
    first = run_vss(*args, env=env, cwd=tmp_path)
    assert first.returncode == 0, str(first)
    assert requests_made(emulator, TOKEN_REQ) == 1, "one login, one token request"
    tokens_file(tmp_path).unlink()  # the second run has a fresh token cache
    assert calls(tmp_path) == 1
    with LiveVss(*args, env=env, cwd=tmp_path) as live:
        deadline = time.monotonic() + FAST
        # The same code, refused as used; then the command is polled for another.
        while requests_made(emulator, TOKEN_REQ) < 2 or calls(tmp_path) < 4:
            assert time.monotonic() < deadline, "the second run never waited for a code"
            time.sleep(0.05)
        phone.write_text(totp.at(emulator.now() + 30))  # the phone shows the next code
        second = live.finish(timeout=FAST)
    assert second.returncode == 0, str(second)
    assert json_lines(second.stdout)[0]["enabled"] is True
    notices = [line for line in second.stderr.splitlines() if "next code" in line]
    assert len(notices) == 1 and "refused the code" in notices[0], str(second)
    assert requests_made(emulator, TOKEN_REQ) == 3  # 1 + (the refused one, then the next)


def test_a_given_code_goes_with_the_first_token_request(tmp_path: Path,
                                                        emulator: Emulator) -> None:
    env = vss_env(tmp_path, emulator, user="app", password=ACCOUNTS["app"]["password"],
                  VSS_USER_OTP=pyotp.TOTP(APP_SECRET).now())
    r = run_vss("-o", "json", "-c", "mfa status", env=env, cwd=tmp_path)
    assert r.returncode == 0, str(r)
    assert requests_made(emulator, TOKEN_REQ) == 1


def mailbox_otp_command(directory: Path, emulator: Emulator, user: str) -> str:
    """An ``--otp-command`` reading the newest code emailed to ``user``."""
    script = directory / "mailbox.py"
    script.write_text(
        "import json, urllib.request\n"
        f"url = {emulator.url!r} + '/_emulator/outbox?to=' + {user!r}\n"
        "codes = [m['code'] for m in json.load(urllib.request.urlopen(url)) if m.get('code')]\n"
        "print(codes[-1])\n")
    return f"{shlex.quote(sys.executable)} {shlex.quote(str(script))}"


def test_an_email_login_sends_a_code_then_one_token_request(tmp_path: Path,
                                                            emulator: Emulator) -> None:
    env = vss_env(tmp_path, emulator, user="mail", password=ACCOUNTS["mail"]["password"])
    r = run_vss("--otp-command", mailbox_otp_command(tmp_path, emulator, "mail"), "-o", "json",
                "-c", "mfa status", env=env, cwd=tmp_path)
    assert r.returncode == 0, str(r)
    assert requests_made(emulator, CODE_REQ) == 1
    assert requests_made(emulator, TOKEN_REQ) == 1


def test_otp_command_on_an_account_without_mfa_sends_no_code(tmp_path: Path,
                                                             emulator: Emulator) -> None:
    command, phone = file_otp_command(tmp_path)
    phone.write_text("123456")
    r = run_vss("--otp-command", command, "-o", "json", "-c", "mfa status; logout; mfa status",
                env=vss_env(tmp_path, emulator), cwd=tmp_path)
    assert r.returncode == 0, str(r)
    assert requests_made(emulator, TOKEN_REQ) == 2  # MFA off (409): no code, one request each
    assert emulator.outbox("demo") == []


# --- 9.7 questions forgive a typo -----------------------------------------------------------


def test_a_mistyped_password_is_asked_again(make: Make, emulator: Emulator) -> None:
    ctx = make(["not-it", "demo-pass"])
    dispatch.execute(ctx, ["login"])
    ui = person(ctx)
    assert [p for p, _ in ui.asked] == ["Password for demo: "] * 2
    assert "wrong username or password" in ui.err_text and "(2 left)" in ui.err_text
    assert "Logged in as demo" in ui.out_text
    assert requests_made(emulator, TOKEN_REQ) == 2


def test_three_wrong_passwords_fail(make: Make, emulator: Emulator) -> None:
    ctx = make(["a1", "b2", "c3"])
    with pytest.raises(BadCredentials):
        dispatch.execute(ctx, ["mfa", "status"])  # the first command that logs in
    assert len(person(ctx).asked) == 3


def test_a_password_from_a_variable_fails_at_once(make: Make, emulator: Emulator) -> None:
    ctx = make([], env={"VSS_USER_PASS": "not-it"})
    with pytest.raises(BadCredentials):
        dispatch.execute(ctx, ["login"])
    assert requests_made(emulator, TOKEN_REQ) == 1


def test_a_mistyped_disable_token_is_asked_again_without_a_new_email(
        make: Make, emulator: Emulator) -> None:
    def emailed() -> str:
        return [m["token"] for m in emulator.outbox("mail") if m.get("token")][-1]

    ctx = make(["y", "not-the-token", emailed], user="mail",
               env={"VSS_USER_PASS": ACCOUNTS["mail"]["password"]})
    dispatch.execute(ctx, ["mfa", "rm"])
    ui = person(ctx)
    assert "did not accept that confirmation token" in ui.err_text
    assert "still serves" in ui.err_text
    assert "TOTP has been disabled" in ui.out_text
    assert requests_made(emulator, "POST /tf/disable") == 1  # one email for both tries
    assert len([m for m in emulator.outbox("mail") if m.get("token")]) == 1


def test_three_mistyped_disable_tokens_fail(make: Make, emulator: Emulator) -> None:
    ctx = make(["y", "x1", "x2", "x3"], user="mail",
               env={"VSS_USER_PASS": ACCOUNTS["mail"]["password"]})
    with pytest.raises(ShellError, match=r"\(3 tries, HTTP 400\): check the email"):
        dispatch.execute(ctx, ["mfa", "rm"])
    assert requests_made(emulator, "POST /tf/disable") == 1


@pytest.mark.parametrize("resend", ["", "resend"])
def test_an_email_code_question_sends_a_new_code_on_request(
        make: Make, emulator: Emulator, resend: str) -> None:
    ctx = make([resend, newest_code(emulator, "mail")], user="mail",
               env={"VSS_USER_PASS": ACCOUNTS["mail"]["password"]})
    dispatch.execute(ctx, ["login"])
    assert len(emulator.outbox("mail")) == 2  # the first code, and the one asked for
    assert "Logged in as mail" in person(ctx).out_text
    assert person(ctx).asked[0][0] == "MFA code (or a recovery code): "


def test_an_enrolment_code_question_sends_a_new_code_on_request(
        make: Make, emulator: Emulator) -> None:
    ctx = make(["n", "resend", newest_code(emulator, "demo")],
               env={"VSS_USER_PASS": "demo-pass"})
    dispatch.execute(ctx, ["mfa", "mk", "EMAIL"])
    assert len(emulator.outbox("demo")) == 2
    assert "TOTP has been enabled" in person(ctx).out_text
    assert "'resend' has a new code sent" in person(ctx).out_text


def test_mfa_verify_asks_as_enrolment_does(make: Make, emulator: Emulator) -> None:
    """`mfa verify` with no CODE: says where the code comes from, 'resend' has a new one
    sent, and a wrong code is asked again (three tries), as at enrolment."""
    ctx = make(["n", "resend", "000000", newest_code(emulator, "demo")],
               env={"VSS_USER_PASS": "demo-pass"})
    dispatch.execute(ctx, ["mfa", "mk", "EMAIL", "--no-verify"])
    sent = len(emulator.outbox("demo"))
    dispatch.execute(ctx, ["mfa", "verify"])
    ui = person(ctx)
    questions = [prompt for prompt, _ in ui.asked[1:]]
    assert questions and all("from your email" in q for q in questions), questions
    assert len(emulator.outbox("demo")) == sent + 1  # 'resend' had one more sent
    assert "(2 left)" in ui.stderr.getvalue()  # the wrong code was asked again
    assert ctx.session.mfa == "on"


# --- 8: logout reports the truth ------------------------------------------------------------


def test_logout_fails_when_the_token_stays_cached(make: Make, tmp_path: Path) -> None:
    cache = TokenCache(tmp_path / "state" / "tokens.toml")
    ctx = make([], env={"VSS_USER_PASS": "demo-pass"}, cache=cache)
    dispatch.execute(ctx, ["login"])
    assert cache.get(ctx.settings.endpoint, "demo")
    lock = files.lock_path(cache.path)
    lock.unlink()
    lock.mkdir()  # as root too: the cache cannot be changed
    with pytest.raises(ShellError, match="the token is still cached"):
        dispatch.execute(ctx, ["logout"])
    assert "Logged out." not in person(ctx).out_text
    assert ctx.session.token is None  # forgotten here all the same


def test_logout_that_cannot_drop_the_token_exits_1(tmp_path: Path, emulator: Emulator) -> None:
    env = vss_env(tmp_path, emulator)
    assert run_vss("-c", "login", env=env, cwd=tmp_path).returncode == 0
    lock = files.lock_path(tokens_file(tmp_path))
    lock.unlink()
    lock.mkdir()  # as root too: the cache cannot be changed
    r = run_vss("-c", "logout", env=env, cwd=tmp_path)
    assert r.returncode == 1, str(r)
    assert "the token is still cached" in r.stderr and "Logged out." not in r.output


# --- 8: an enrolment reply the API layer refuses --------------------------------------------


@pytest.fixture
def hostile() -> Iterator[HostileServer]:
    with HostileServer() as server:
        # MFA "on": no token before enrolment (the shell tries one, as with a real server).
        server.reply("POST", "/auth/request-token", status=401,
                     json={"error": "Unauthorized", "message": "InvalidParameterValue: otp"})
        yield server


def test_an_enrolment_reply_that_is_not_an_object_says_how_to_go_on(
        tmp_path: Path, hostile: HostileServer) -> None:
    hostile.reply("POST", "/tf/enable", json=["not", "an", "object"])
    r = run_vss("--endpoint", hostile.url, "-o", "json", "-c",
                "mfa mk AUTHENTICATOR --no-verify; whoami", env=vss_env(tmp_path), cwd=tmp_path)
    assert r.returncode == 1, str(r)
    assert len(json_lines(r.stdout)) == 1, str(r)
    [doc] = json_lines(r.stdout)
    assert doc == {"method": "AUTHENTICATOR", "status": "pending",
                   "issuer": "ITS Private Cloud"}
    assert "finish it with 'mfa verify CODE', or start again with 'mfa mk AUTHENTICATOR'" \
        in r.stderr
    assert r.stderr.strip().splitlines()[-1].startswith("-c:1: "), str(r)


CODES = [f"code{n:02d}-abcdef" for n in range(8)]


@pytest.mark.parametrize("fmt", ["json", "table"])
def test_an_enrolment_reply_with_a_bad_key_still_shows_the_codes(
        tmp_path: Path, hostile: HostileServer, fmt: str) -> None:
    hostile.reply("POST", "/tf/enable", json={
        "message": "TOTP enabled; verification pending", "type": "info",
        "issuer": "ITS Private Cloud", "recovery_codes": CODES,
        "uri": "otpauth://totp/x?secret=JBSWY3DPEHPK3PXP", "key": None})
    r = run_vss("--endpoint", hostile.url, "-o", fmt, "-c",
                "mfa mk AUTHENTICATOR --no-qr --no-show-key --no-save-codes --no-verify; whoami",
                env=vss_env(tmp_path), cwd=tmp_path)
    assert r.returncode == 1, str(r)
    last = r.stderr.strip().splitlines()[-1]
    assert last.startswith("-c:1: ") and "key" in last, str(r)
    if fmt == "json":
        [doc] = json_lines(r.stdout)
        assert doc["status"] == "pending" and doc["recovery_codes"] == CODES
        assert "key" not in doc
    else:
        assert all(code in r.stdout for code in CODES), str(r)
    assert "'mfa verify CODE'" in r.stderr


# --- the rest -------------------------------------------------------------------------------


def test_every_request_shows_progress(make: Make) -> None:
    ctx = make([], env={"VSS_USER_PASS": "demo-pass"})
    dispatch.execute(ctx, ["mfa", "status"])  # a token request, then GET /v2/user
    assert person(ctx).progress_count == 2
    dispatch.execute(ctx, ["mfa", "mk", "EMAIL", "--no-verify", "--no-save-codes"])
    assert person(ctx).progress_count == 4  # /tf/enable, /tf/request-token


def test_credentials_import_no_subprocess() -> None:
    code = ("import sys; import vss_shell.credentials; "
            "print(sorted({'subprocess', 'shlex'} & set(sys.modules)))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          check=True, timeout=30)
    assert done.stdout.strip() == "[]"
