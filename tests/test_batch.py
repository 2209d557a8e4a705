"""Piped runs of the real ``vss`` executable against the emulator (no terminal, as in CI).

Each test starts ``python -m vss_shell`` in a new session (no controlling
terminal: ``/dev/tty`` cannot be opened) with a private HOME, and checks what a
script sees: stdout, stderr, the exit status, files, and what reached the API.
"""

from __future__ import annotations

import json
import os
import pty
import re
import shlex
import stat
import subprocess
import sys
import time
import tomllib
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

import pyotp
import pytest
import requests

from batch_helpers import (
    ESC,
    PT_WARNING,
    VSS,
    LiveVss,
    Result,
    json_lines,
    otp_command,
    profiles_file,
    requests_made,
    run_vss,
    tokens_file,
    vss_env,
)
from conftest import ACCOUNTS, APP_SECRET
from vss_shell.emulator import Emulator

STATUS_KEYS = {"enabled", "method", "enabled_on", "disabled_on", "state"}
TOKEN_REQ = "POST /auth/request-token"
USER_REQ = "GET /v2/user"
#: A missing answer must fail at once; this is generous for a slow CI machine.
FAST = 10.0

Run = Callable[..., Result]


@pytest.fixture
def vss(tmp_path: Path, emulator: Emulator) -> Run:
    """``vss(*args, input=..., user=..., password=..., VAR=...)``: one run in ``tmp_path``."""

    def run(*args: str, input: str | None = None, **changes: str | None) -> Result:
        env = vss_env(tmp_path, emulator, **changes)
        return run_vss(*args, env=env, cwd=tmp_path, input=input)

    return run


def totp_codes_around_now(secret: str) -> set[str]:
    """The codes of ``secret`` a moment ago, now and soon (any of them may have been used)."""
    totp, now = pyotp.TOTP(secret), time.time()
    return {totp.at(now + delta) for delta in (-60, -30, 0, 30, 60, 90)}


# --- the three ways to feed commands ----------------------------------------------------


def test_stdin_pipe_runs_one_command_per_line(vss: Run, emulator: Emulator) -> None:
    script = (
        "# a whole-line comment\n"
        "\n"
        "   \n"
        "mfa status -o json   # a trailing comment\n"
        "   # an indented comment\n"
        "whoami -o json\n"
        "mfa status -o json\n"
    )
    r = vss(input=script)
    assert r.returncode == 0, str(r)
    docs = json_lines(r.stdout)
    assert len(docs) == 3, str(r)
    assert set(docs[0]) == STATUS_KEYS and docs[0]["enabled"] is False
    assert docs[1]["user"] == "demo" and docs[1]["endpoint"] == emulator.url
    assert docs[2] == docs[0]
    assert r.stderr == ""
    # No prompt, no toolbar, no prompt_toolkit on a pipe.
    assert "vss (" not in r.output and "Ctrl-D" not in r.output
    assert PT_WARNING not in r.output and ESC not in r.output
    assert requests_made(emulator, USER_REQ) == 2


def test_file_option_with_continuations_quoting_and_crlf(
        vss: Run, emulator: Emulator, tmp_path: Path) -> None:
    cmds = tmp_path / "cmds.vss"
    cmds.write_text(
        "# check the account\n"             # 1
        "mfa \\\n"                          # 2: one command over three lines
        "   status \\\n"                    # 3
        "   -o json\n"                      # 4
        "'mfa' \"status\" -o json\r\n"      # 5: quoted words, a CRLF line end
        "whoami -o \\\n"                    # 6
        "json # trailing comment\n"         # 7
        "mfa verify \"123 456\"\n"          # 8: one quoted argument (spaces are ignored)
        "mfa status -o json\n",             # 9: not run (line 8 fails)
        newline="",
    )
    r = vss("-f", str(cmds))
    docs = json_lines(r.stdout)
    assert [set(d) for d in docs[:2]] == [STATUS_KEYS, STATUS_KEYS], str(r)
    assert docs[2]["user"] == "demo" and len(docs) == 3, str(r)
    # "123 456" reached the server as one well-formed code: the server refused it
    # (MFA is off), so the status is 1, not the 2 of an extra argument.
    assert r.returncode == 1, str(r)
    assert requests_made(emulator, "POST /tf/verify") == 1
    errors = r.stderr.splitlines()
    assert len(errors) == 1 and errors[0].startswith(f"{cmds}:8: "), str(r)
    assert requests_made(emulator, USER_REQ) == 2  # whoami asks the server nothing


def test_error_in_a_continued_command_names_its_first_line(vss: Run, tmp_path: Path) -> None:
    cmds = tmp_path / "cmds.vss"
    cmds.write_text("mfa status -o json\n\nmfa \\\n  statuz \\\n  -o json\nmfa status\n")
    r = vss("-f", str(cmds))
    assert r.returncode == 2, str(r)
    assert r.stderr.startswith(f"{cmds}:3: unknown command 'mfa statuz'"), str(r)
    assert len(json_lines(r.stdout)) == 1


def test_dash_f_dash_reads_stdin(vss: Run) -> None:
    r = vss("-f", "-", input="mfa status -o json\nbogus\n")
    assert r.returncode == 2, str(r)
    assert len(json_lines(r.stdout)) == 1
    assert r.stderr.startswith("<stdin>:2: unknown command 'bogus'"), str(r)


def test_dash_c_runs_commands_separated_by_semicolons(vss: Run, emulator: Emulator) -> None:
    r = vss("-c", "mfa status -o json; whoami -o json ;mfa status -o json")
    assert r.returncode == 0, str(r)
    docs = json_lines(r.stdout)
    assert len(docs) == 3 and docs[1]["user"] == "demo", str(r)
    assert r.stderr == ""
    assert requests_made(emulator, USER_REQ) == 2


def test_dash_c_errors_name_the_nth_command(vss: Run, emulator: Emulator) -> None:
    r = vss("-c", "mfa status -o json; mfa verify 12; mfa status -o json")
    assert r.returncode == 1, str(r)
    assert r.stderr.splitlines() == ["-c:2: a code is 6 digits (spaces are ignored)"], str(r)
    assert len(json_lines(r.stdout)) == 1
    assert requests_made(emulator, USER_REQ) == 1


def test_dash_c_counts_lines_blank_and_comment_ones_too(vss: Run) -> None:
    r = vss("-c", "# set-up\nwhoami -o json\n\nbogus; whoami")
    assert r.returncode == 2, str(r)
    assert r.stderr.startswith("-c:4: unknown command 'bogus'"), str(r)
    r = vss("-c", "whoami -o json  # first\nwhoami -o json; mfa verify 12")
    assert r.returncode == 1, str(r)
    assert r.stderr.startswith("-c:3: a code is 6 digits"), str(r)


def test_dash_c_keeps_quoted_semicolons_in_words(vss: Run, emulator: Emulator) -> None:
    # 'mfa verify "1;2"' is one command with one (bad) argument, not two commands.
    r = vss("-c", 'mfa status -o json; mfa verify "1;2"')
    assert r.returncode == 1, str(r)
    assert r.stderr.startswith("-c:2: a code is 6 digits"), str(r)


# --- exit statuses ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("line", "status", "message"),
    [
        ("mfa status -o json", 0, None),
        ("bogus", 2, "<stdin>:1: unknown command 'bogus'"),
        ("mfa statu", 2, "<stdin>:1: unknown command 'mfa statu'; did you mean 'status'?"),
        ("mfa status --bogus", 2, "<stdin>:1: unknown option '--bogus' for 'mfa status'"),
        ("mfa status extra", 2, "<stdin>:1: unexpected argument 'extra'"),
        ("mfa status 'unclosed", 2, "<stdin>:1: cannot read the line"),
        # Refused by the server: MFA is not on for demo.
        ("mfa verify 123456", 1, "<stdin>:1: conflict (HTTP 409 Conflict)"),
        ("mfa verify 12", 1, "<stdin>:1: a code is 6 digits"),
    ],
)
def test_exit_status_of_one_line(vss: Run, line: str, status: int, message: str | None) -> None:
    r = vss(input=line + "\n")
    assert r.returncode == status, str(r)
    if message is None:
        assert r.stderr == ""
    else:
        assert r.stderr.startswith(message), str(r)
        assert r.stdout == ""


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--bogus"], "unrecognized arguments: --bogus"),
        (["-o", "xml"], "invalid choice: 'xml'"),
        (["--timeout", "soon"], "invalid float value"),
        (["--endpoint", "http://example.com"], "plain http"),
        (["--profile", "nope"], "no profile named 'nope'"),
        (["-c", "mfa status 'unclosed"], "no closing quotation"),
        (["-f", "no-such-file.vss"], "no-such-file.vss"),
    ],
)
def test_bad_options_to_vss_exit_2(vss: Run, emulator: Emulator, args: list[str],
                                   message: str) -> None:
    r = vss(*args, input="mfa status\n")
    assert r.returncode == 2, str(r)
    assert message in r.stderr, str(r)
    assert r.stdout == ""
    assert emulator.stats()["requests"] == {}, "nothing may run after a usage error"


def test_no_commands_is_success(vss: Run, emulator: Emulator) -> None:
    r = vss(input="# nothing to do\n\n")
    assert (r.returncode, r.stdout, r.stderr) == (0, "", ""), str(r)
    assert emulator.stats()["requests"] == {}


# --- stop at the first failure, or --keep-going ------------------------------------------


def mail_env_changes() -> dict[str, str]:
    return {"user": "mail", "password": ACCOUNTS["mail"]["password"]}


def test_stops_at_first_failing_command(vss: Run, emulator: Emulator) -> None:
    # 'mfa token' has an observable effect: the emulator emails a code.
    script = "mfa token\nmfa verify 12\nmfa token\nmfa token\n"
    r = vss(input=script, **mail_env_changes())
    assert r.returncode == 1, str(r)
    assert r.stderr.splitlines()[-1] == "<stdin>:2: a code is 6 digits (spaces are ignored)"
    assert len(emulator.outbox("mail")) == 1, "lines after the failure must not run"
    assert requests_made(emulator, "POST /tf/request-token") == 1


def test_stops_at_first_usage_error(vss: Run, emulator: Emulator) -> None:
    r = vss(input="mfa token\nmfa tokn\nmfa token\n", **mail_env_changes())
    assert r.returncode == 2, str(r)
    assert "<stdin>:2: unknown command 'mfa tokn'; did you mean 'token'?" in r.stderr, str(r)
    assert "<stdin>:3" not in r.stderr
    assert len(emulator.outbox("mail")) == 1


def test_keep_going_runs_the_rest_and_fails(vss: Run, emulator: Emulator) -> None:
    script = "mfa token\nmfa verify 12\nmfa token\nmfa verify 98\nmfa token\n"
    r = vss("--keep-going", input=script, **mail_env_changes())
    assert r.returncode == 1, str(r)
    errors = [line for line in r.stderr.splitlines() if line.startswith("<stdin>:")]
    assert [e.split(": ", 1)[0] for e in errors] == ["<stdin>:2", "<stdin>:4"], str(r)
    assert len(emulator.outbox("mail")) == 3


def test_keep_going_with_a_usage_error_exits_2(vss: Run, emulator: Emulator) -> None:
    r = vss("--keep-going", input="mfa verify 12\nbogus\nmfa status -o json\n")
    assert r.returncode == 2, str(r)
    assert "<stdin>:1: a code is 6 digits" in r.stderr
    assert "<stdin>:2: unknown command 'bogus'" in r.stderr
    assert len(json_lines(r.stdout)) == 1


def test_exit_stops_the_run(vss: Run, emulator: Emulator) -> None:
    r = vss(input="mfa status -o json\nexit\nmfa status -o json\n")
    assert r.returncode == 0, str(r)
    assert len(json_lines(r.stdout)) == 1
    assert requests_made(emulator, USER_REQ) == 1


def test_interrupt_exits_130(tmp_path: Path, emulator: Emulator) -> None:
    with LiveVss(env=vss_env(tmp_path, emulator), cwd=tmp_path) as live:
        live.send("mfa status -o json\n")
        assert set(json.loads(live.read_line())) == STATUS_KEYS
        live.interrupt()  # while it waits for the next line
        r = live.finish(timeout=FAST)
    assert r.returncode == 130, str(r)
    assert "<stdin>: interrupted" in r.stderr, str(r)
    assert "Traceback" not in r.stderr


def slow_otp_command(directory: Path) -> tuple[str, Callable[[], None]]:
    """An ``--otp-command`` that hangs, and a wait (bounded) until it has started."""
    started = directory / "otp-started"
    program = (f"import pathlib, time; pathlib.Path({str(started)!r}).touch(); "
               "time.sleep(60); print('123456')")

    def wait_started() -> None:
        deadline = time.monotonic() + FAST
        while not started.exists():
            assert time.monotonic() < deadline, "the --otp-command never started"
            time.sleep(0.05)

    return f"{shlex.quote(sys.executable)} -c {shlex.quote(program)}", wait_started


def test_interrupt_while_waiting_for_the_otp_command(tmp_path: Path,
                                                    emulator: Emulator) -> None:
    command, wait_started = slow_otp_command(tmp_path)
    env = vss_env(tmp_path, emulator, user="app", password="app-pass")
    with LiveVss("--otp-command", command, env=env, cwd=tmp_path) as live:
        live.send("mfa status\nmfa status\n")
        wait_started()
        live.interrupt()
        r = live.finish(timeout=FAST)
    assert r.returncode == 130, str(r)
    assert "interrupted" in r.stderr or "cancelled" in r.stderr, str(r)
    assert "Traceback" not in r.stderr
    assert r.elapsed < 2 * FAST


# --- missing answers fail at once without a terminal -------------------------------------


@pytest.mark.parametrize(
    ("line", "changes", "flags", "call", "allowed"),
    [
        ("mfa rm", {}, ["--yes"], "POST /tf/disable", 0),
        ("mfa mk AUTHENTICATOR", {}, ["--qr", "--no-qr", "--show-key", "--no-verify"],
         "POST /tf/enable", 0),
        ("mfa mk AUTHENTICATOR --no-qr --no-show-key", {},
         ["--no-verify", "--otp-command"], "POST /tf/enable", 0),
        # A code given before the enrolment began cannot finish it.
        ("mfa mk AUTHENTICATOR --no-qr --no-show-key", {"VSS_USER_OTP": "123456"},
         ["--no-verify", "--otp-command"], "POST /tf/enable", 0),
        ("mfa mk EMAIL", {}, ["--no-verify"], "POST /tf/enable", 0),
        ("mfa status", {"password": None}, ["VSS_USER_PASS", "--password-file"], TOKEN_REQ, 0),
        ("mfa status", {"user": None}, ["--user", "VSS_USER"], TOKEN_REQ, 0),
        # app has MFA on: the password alone is refused, and nothing gives a code.
        ("mfa status", {"user": "app", "password": "app-pass"},
         ["VSS_USER_OTP", "--otp-command"], TOKEN_REQ, 1),
    ],
)
def test_missing_answer_fails_fast_naming_the_flag(
        vss: Run, emulator: Emulator, line: str, changes: dict[str, str | None],
        flags: list[str], call: str, allowed: int) -> None:
    # The next line could pass for an answer; had it been read as one, the request
    # the answer allows would have been made.
    r = vss(input=f"{line}\ny\n", **changes)
    assert r.elapsed < FAST, str(r)
    assert r.returncode == 1, str(r)
    assert r.stdout == ""
    errors = [e for e in r.stderr.splitlines() if e.startswith("<stdin>:")]
    assert len(errors) == 1 and errors[0].startswith("<stdin>:1: no terminal"), str(r)
    for flag in flags:
        assert flag in errors[0], f"{flag!r} not named in {errors[0]!r}"
    assert requests_made(emulator, call) == allowed, emulator.stats()


def test_missing_answer_never_reads_the_command_stream(vss: Run, emulator: Emulator) -> None:
    r = vss("--keep-going", input="mfa rm\ny\nmfa mk AUTHENTICATOR\nyes\n")
    assert r.elapsed < FAST, str(r)
    assert "<stdin>:2: unknown command 'y'" in r.stderr, "line 2 was taken as an answer"
    assert "<stdin>:4: unknown command 'yes'" in r.stderr, "line 4 was taken as an answer"
    assert r.returncode == 2, str(r)
    assert emulator.stats()["requests"] == {}


def test_save_codes_never_overwrites_without_yes(vss: Run, emulator: Emulator,
                                                 tmp_path: Path) -> None:
    old = tmp_path / "codes.txt"
    old.write_text("precious\n")
    r = vss("-o", "json", "-c", "mfa mk AUTHENTICATOR --no-verify --save-codes codes.txt")
    assert r.returncode == 1, str(r)
    assert r.elapsed < FAST
    assert "--yes" in r.stderr and "codes.txt" in r.stderr, str(r)
    assert old.read_text() == "precious\n"
    assert requests_made(emulator, "POST /tf/enable") == 0, "enrolment started anyway"
    r = vss("-y", "-o", "json", "-c", "mfa mk AUTHENTICATOR --no-verify --save-codes codes.txt")
    assert r.returncode == 0, str(r)
    assert old.read_text().split() == json_lines(r.stdout)[0]["recovery_codes"]
    assert stat.S_IMODE(old.stat().st_mode) == 0o600


def test_disable_by_script_with_yes_then_token(vss: Run, emulator: Emulator) -> None:
    r = vss("--yes", "-c", "mfa rm", **mail_env_changes())
    assert r.returncode == 0, str(r)
    assert "mfa rm --token" in r.stderr, "the script must be told how to finish"
    token = emulator.outbox("mail")[-1]["token"]
    assert token not in r.output
    r = vss("-o", "json", "-c", f"mfa rm --token {token}", **mail_env_changes())
    assert r.returncode == 0, str(r)
    assert json_lines(r.stdout) == [{"status": "disabled", "message": "TOTP has been disabled"}]
    assert token not in r.stderr
    # MFA is off now: a password alone logs in.
    r = vss("-c", "mfa status -o json", **mail_env_changes())
    assert r.returncode == 0, str(r)
    assert json_lines(r.stdout)[0]["enabled"] is False


def test_global_yes_answers_confirmations(vss: Run, emulator: Emulator) -> None:
    r = vss("-y", "-c", "mfa rm", **mail_env_changes())
    assert r.returncode == 0, str(r)
    assert len(emulator.outbox("mail")) == 1 and "token" in emulator.outbox("mail")[0]


# --- one-time codes for scripts ---------------------------------------------------------


def test_otp_command_logs_in_without_a_shell(vss: Run, emulator: Emulator,
                                             tmp_path: Path) -> None:
    program = f"import pyotp; print(pyotp.TOTP({APP_SECRET!r}).now())"
    # '; touch pwned' would run with a shell; without one it is just more argv.
    command = f"{shlex.quote(sys.executable)} -c {shlex.quote(program)} ; touch pwned"
    r = vss("--otp-command", command, "-c", "mfa status -o json; whoami -o json",
            user="app", password="app-pass")
    assert r.returncode == 0, str(r)
    status, who = json_lines(r.stdout)
    assert status["enabled"] is True and status["method"] == "AUTHENTICATOR"
    assert who["user"] == "app"
    assert not (tmp_path / "pwned").exists(), "--otp-command went through a shell"
    for code in totp_codes_around_now(APP_SECRET):
        assert code not in r.output, "the one-time code was printed"


def test_otp_command_failure_is_reported_without_output(vss: Run, emulator: Emulator) -> None:
    program = "import sys; print('123456 is my code'); sys.exit(3)"
    command = f"{shlex.quote(sys.executable)} -c {shlex.quote(program)}"
    r = vss("--otp-command", command, "-c", "mfa status", user="app", password="app-pass")
    assert r.returncode == 1, str(r)
    assert "exited with status 3" in r.stderr, str(r)
    assert "123456" not in r.output, "the command's output must never be shown"
    r = vss("--otp-command", "no-such-otp-program --now", "-c", "mfa status",
            user="app", password="app-pass")
    assert r.returncode == 1, str(r)
    assert "no-such-otp-program: command not found" in r.stderr, str(r)


def test_vss_user_otp_logs_in(vss: Run, emulator: Emulator) -> None:
    code = pyotp.TOTP(APP_SECRET).now()
    r = vss("-c", "mfa status -o json", user="app", password="app-pass", VSS_USER_OTP=code)
    assert r.returncode == 0, str(r)
    assert json_lines(r.stdout)[0]["enabled"] is True
    assert code not in r.output


def test_wrong_otp_fails_with_status_1_and_is_not_shown(vss: Run, emulator: Emulator) -> None:
    good = totp_codes_around_now(APP_SECRET)
    wrong = next(c for c in ("000000", "111111", "222222") if c not in good)
    r = vss("-c", "mfa status", user="app", password="app-pass", VSS_USER_OTP=wrong)
    assert r.returncode == 1, str(r)
    assert r.elapsed < FAST
    assert wrong not in r.output


def mailbox_otp_command(directory: Path, emulator: Emulator, user: str) -> str:
    """An ``--otp-command`` that reads the newest code emailed to ``user`` (like a mail robot)."""
    script = directory / "mailbox_code.py"
    script.write_text(
        "import json, sys, urllib.request\n"
        f"url = {emulator.url!r} + '/_emulator/outbox?to=' + {user!r}\n"
        "codes = [m['code'] for m in json.load(urllib.request.urlopen(url)) if m.get('code')]\n"
        "print(codes[-1])\n"
    )
    return f"{shlex.quote(sys.executable)} {shlex.quote(str(script))}"


def test_otp_command_for_an_email_account(vss: Run, emulator: Emulator,
                                          tmp_path: Path) -> None:
    command = mailbox_otp_command(tmp_path, emulator, "mail")
    r = vss("--otp-command", command, "-c", "mfa status -o json; whoami -o json",
            **mail_env_changes())
    assert r.returncode == 0, str(r)
    status, who = json_lines(r.stdout)
    assert status["enabled"] is True and status["method"] == "EMAIL"
    assert who["user"] == "mail"
    [sent] = emulator.outbox("mail")
    assert sent["code"] not in r.output
    assert "sent by email" in r.stderr  # the person is told where the code went


def test_enrol_email_by_script_with_otp_command(vss: Run, emulator: Emulator,
                                                tmp_path: Path) -> None:
    command = mailbox_otp_command(tmp_path, emulator, "demo")
    r = vss("--otp-command", command, "-o", "json",
            "-c", "mfa mk EMAIL; mfa status; whoami")
    assert r.returncode == 0, str(r)
    # The pending document (what finishing needs, before the code), then the outcome.
    pending, enrolled, status, who = json_lines(r.stdout)
    assert pending["method"] == "EMAIL" and pending["status"] == "pending"
    assert "key" not in pending and pending["recovery_codes"]
    assert enrolled == {"method": "EMAIL", "status": "enabled"}
    assert status["enabled"] is True and status["method"] == "EMAIL"
    assert who["user"] == "demo"
    codes = [m["code"] for m in emulator.outbox("demo")]
    # One to finish enrolment; none to log in: the token taken while MFA was off serves.
    assert len(codes) == 1
    assert requests_made(emulator, TOKEN_REQ) == 1
    assert not any(code in r.output for code in codes)


@pytest.mark.parametrize("phone", ["416-555-0123", "(416) 555-0123", "+1 416 555 0123"])
def test_enrol_sms_by_script(vss: Run, emulator: Emulator, phone: str, tmp_path: Path) -> None:
    r = vss("-o", "json", "-c", f"mfa mk SMS --phone '{phone}' --no-verify")
    assert r.returncode == 0, str(r)
    [enrolled] = json_lines(r.stdout)
    assert enrolled["method"] == "SMS" and enrolled["recovery_codes"]
    [sms] = emulator.outbox("demo")
    assert sms["kind"] == "sms" and sms["to"] == phone  # the number reached the server
    r = vss("-o", "json", "--otp-command", mailbox_otp_command(tmp_path, emulator, "demo"),
            "-c", f"mfa verify {sms['code']}; mfa status")
    assert r.returncode == 0, str(r)
    assert json_lines(r.stdout)[-1]["method"] == "SMS"
    # A new run logs in with a code (the first run's pre-MFA token was not cached).
    assert [m["kind"] for m in emulator.outbox("demo")] == ["sms", "sms"]


@pytest.mark.parametrize("phone", ["416", "416-555-012", "call-me", "416-555-0123 ext 4",
                                   "++1 416 555 0123",
                                   "1234567890123456"])
def test_a_bad_phone_fails_before_any_request(vss: Run, emulator: Emulator, phone: str) -> None:
    r = vss("-c", f"mfa mk SMS --phone '{phone}'; mfa status")
    assert r.returncode == 1, str(r)
    assert r.stderr.strip().splitlines()[-1].startswith(
        f"-c:1: invalid phone number '{phone}' (for example 416-555-0123"), str(r)
    assert requests_made(emulator, "POST /tf/enable") == 0
    assert requests_made(emulator, "GET /v2/user") == 0, "the run stops at the failure"


def test_sms_needs_a_phone_and_only_sms_takes_one(vss: Run, emulator: Emulator) -> None:
    r = vss("-c", "mfa mk SMS")
    assert r.returncode == 2, str(r)
    assert "SMS needs a phone number: mfa mk SMS --phone NUMBER" in r.stderr
    r = vss("-c", "mfa mk EMAIL --phone 416-555-0123")
    assert r.returncode == 2, str(r)
    assert "--phone goes with SMS only" in r.stderr
    for option in ("--qr-file x.svg", "--qr", "--no-show-key", "--invert"):
        r = vss("-c", f"mfa mk EMAIL {option} --no-verify")
        assert r.returncode == 2, str(r)
        assert f"{option.split()[0]} goes with AUTHENTICATOR only" in r.stderr
    assert requests_made(emulator, "POST /tf/enable") == 0


def test_enrolling_one_user_does_not_break_email_login_of_another(
        vss: Run, emulator: Emulator, tmp_path: Path) -> None:
    """The MFA method learnt at enrolment is kept in a profile only when that profile
    names the account; here endpoint and user come from variables, so the default
    profile must not be told AUTHENTICATOR (else no EMAIL code is ever sent for it)."""
    with LiveVss("-o", "json", env=vss_env(tmp_path, emulator), cwd=tmp_path) as live:
        live.send("mfa mk AUTHENTICATOR --no-verify\n")
        key = json.loads(live.read_line())["key"]
        live.send(f"mfa verify {pyotp.TOTP(key).now()}\n")
        assert json.loads(live.read_line())["verified"] is True
        assert live.finish().returncode == 0
    if profiles_file(tmp_path).exists():
        doc = tomllib.loads(profiles_file(tmp_path).read_text())
        assert "mfa_method" not in doc["profiles"]["cloud-api"]
    command = mailbox_otp_command(tmp_path, emulator, "mail")
    r = vss("--otp-command", command, "-c", "mfa status -o json", **mail_env_changes())
    assert r.returncode == 0, str(r)
    assert json_lines(r.stdout)[0]["method"] == "EMAIL"


# --- passwords ----------------------------------------------------------------------------


def test_password_file_readable_by_others_is_warned(vss: Run, tmp_path: Path) -> None:
    secret = "S3cret-Pa55-for-demo"
    (tmp_path / "pw").write_text("demo-pass\n")
    os.chmod(tmp_path / "pw", 0o644)
    r = vss("--password-file", str(tmp_path / "pw"), "--no-token-cache",
            "-c", "mfa status -o json", password=None)
    assert r.returncode == 0, str(r)
    assert "readable by others" in r.stderr and str(tmp_path / "pw") in r.stderr, str(r)
    assert "warning" in r.stderr
    assert len(json_lines(r.stdout)) == 1, "the warning must not go to stdout"
    assert "demo-pass" not in r.output and secret not in r.output


def test_private_password_file_is_used_quietly(vss: Run, tmp_path: Path) -> None:
    pw = tmp_path / "pw"
    pw.write_text("demo-pass\n")
    os.chmod(pw, 0o600)
    r = vss("--password-file", str(pw), "-c", "mfa status -o json", password=None)
    assert r.returncode == 0, str(r)
    assert r.stderr == ""


def test_password_file_option_beats_the_variable(vss: Run, tmp_path: Path) -> None:
    """Command-line option > environment, for the password as for the code."""
    pw = tmp_path / "pw"
    pw.write_text("not-the-password\n")
    os.chmod(pw, 0o600)
    r = vss("--password-file", str(pw), "--no-token-cache", "-c", "mfa status")
    assert r.returncode == 1, str(r)  # VSS_USER_PASS (right) was not used
    assert "-c:1:" in r.stderr and "not-the-password" not in r.output


@pytest.mark.parametrize("where", ["env", "file"])
def test_password_never_printed_even_with_debug(vss: Run, tmp_path: Path, where: str) -> None:
    wrong = "Wr0ng-Pa55-xyz"
    args: list[str] = ["--debug", "--no-token-cache"]
    changes: dict[str, str | None] = {"password": None}
    if where == "env":
        changes["password"] = wrong
    else:
        (tmp_path / "pw").write_text(wrong + "\n")
        os.chmod(tmp_path / "pw", 0o600)
        args += ["--password-file", str(tmp_path / "pw")]
    r = vss(*args, "--keep-going", input="mfa status\nmfa verify 123456\n", **changes)
    assert r.returncode == 1, str(r)
    assert "<stdin>:1:" in r.stderr and "<stdin>:2:" in r.stderr
    assert wrong not in r.output


def test_password_not_in_output_of_a_successful_debug_run(vss: Run) -> None:
    r = vss("--debug", "-c", "login; whoami; mfa status; profile show")
    assert r.returncode == 0, str(r)
    assert "demo-pass" not in r.output


# --- JSON Lines ---------------------------------------------------------------------------


def test_global_json_output_is_json_lines(vss: Run, emulator: Emulator) -> None:
    r = vss("-o", "json", input="mfa status\nwhoami\nprofile ls\n")
    assert r.returncode == 0, str(r)
    lines = r.stdout.splitlines()
    assert len(lines) == 3, str(r)
    status, who, profiles = (json.loads(line) for line in lines)
    assert set(status) == STATUS_KEYS
    assert who["endpoint"] == emulator.url
    assert isinstance(profiles, list) and {p["name"] for p in profiles} >= {"cloud-api"}


def test_json_stdout_has_only_json_while_messages_go_to_stderr(vss: Run) -> None:
    r = vss("-o", "json", "--keep-going",
            input="mfa token\nmfa status\nmfa verify 12\nlogin\n", **mail_env_changes())
    # mfa token: a result; mfa status and login need a code (none given); verify 12 is bad.
    assert json_lines(r.stdout) == [{"message": "Verification code sent by email."}], str(r)
    assert r.returncode == 1, str(r)
    for number in (2, 3, 4):
        assert f"<stdin>:{number}:" in r.stderr, str(r)


def test_every_command_prints_one_json_document(vss: Run) -> None:
    """Even help and settings changes: stdout stays parseable line by line."""
    r = vss("-o", "json", input="help\nhelp mfa mk\nset autosuggest off\nlogout\n"
                                "mfa mk --help\nmfa\n")
    assert r.returncode == 0, str(r)
    docs = json_lines(r.stdout)
    assert len(docs) == 6, str(r)
    assert docs[0]["help"].startswith("Commands:")
    assert docs[1]["help"].startswith("usage: mfa mk METHOD")
    assert docs[2:4] == [{"ok": True}] * 2
    assert docs[4] == docs[1]  # COMMAND --help is help COMMAND
    assert docs[5]["help"].startswith("mfa: multi-factor authentication")


def test_per_command_output_option(vss: Run) -> None:
    r = vss(input="mfa status\nmfa status -o json\nmfa status --output json\n")
    assert r.returncode == 0, str(r)
    lines = r.stdout.splitlines()
    assert [json.loads(line) for line in lines[-2:]] == [json.loads(lines[-1])] * 2
    assert lines[0].split()[0] == "enabled"
    with pytest.raises(json.JSONDecodeError):
        json.loads(lines[0])


# --- enrolment by script ----------------------------------------------------------------


def test_enrol_authenticator_by_script(vss: Run, emulator: Emulator, tmp_path: Path) -> None:
    r = vss("-o", "json", "-c",
            "mfa mk AUTHENTICATOR --no-verify --save-codes codes.txt")
    assert r.returncode == 0, str(r)
    [doc] = json_lines(r.stdout)
    assert doc["method"] == "AUTHENTICATOR"
    key = doc["key"]
    assert key == emulator.secret("demo")
    assert f"secret={key}" in doc["uri"] and doc["uri"].startswith("otpauth://totp/")
    codes = doc["recovery_codes"]
    assert len(codes) >= 1 and all(isinstance(c, str) and c for c in codes)
    saved = tmp_path / "codes.txt"
    assert saved.read_text().split() == codes
    assert stat.S_IMODE(saved.stat().st_mode) == 0o600
    assert key not in r.stderr and not any(c in r.stderr for c in codes)
    assert "mfa verify" in r.stderr  # how to finish
    assert requests_made(emulator, "POST /tf/verify") == 0, "--no-verify sends no code"

    code = pyotp.TOTP(key).now()
    r = vss("-c", f"mfa verify {code}")
    assert r.returncode == 0, str(r)
    assert code not in r.output

    # A new run logs in with the next code (each code is accepted once).
    emulator.advance(30)
    nxt = pyotp.TOTP(key).at(time.time() + 30)
    r = vss("--no-token-cache", "-c", "mfa status -o json", VSS_USER_OTP=nxt)
    assert r.returncode == 0, str(r)
    status = json_lines(r.stdout)[0]
    assert status["enabled"] is True and status["method"] == "AUTHENTICATOR"


def test_enrol_and_verify_in_one_stream(tmp_path: Path, emulator: Emulator) -> None:
    """A script reads the key from the first answer and sends the code on the same pipe."""
    with LiveVss("-o", "json", env=vss_env(tmp_path, emulator), cwd=tmp_path) as live:
        live.send("mfa mk AUTHENTICATOR --no-verify\n")
        key = json.loads(live.read_line())["key"]
        live.send(f"mfa verify {pyotp.TOTP(key).now()}\n")
        assert json.loads(live.read_line())["verified"] is True
        live.send("whoami\n")
        assert json.loads(live.read_line())["mfa_method"] == "AUTHENTICATOR"
        r = live.finish()
    assert r.returncode == 0, str(r)


def test_enrol_with_qr_and_key_in_a_pipe(vss: Run, emulator: Emulator) -> None:
    r = vss("-c", "mfa mk AUTHENTICATOR --qr --show-key --no-verify",
            TERM="xterm-256color", COLORTERM="truecolor")
    assert r.returncode == 0, str(r)
    assert emulator.secret("demo") in r.stdout
    assert "█" in r.stdout or "▀" in r.stdout
    assert ESC not in r.output


# --- one session for the whole run ------------------------------------------------------


def test_two_hundred_commands_one_login_one_connection(vss: Run, emulator: Emulator) -> None:
    r = vss(input="mfa status -o json\n" * 200)
    assert r.returncode == 0, str(r)
    assert len(json_lines(r.stdout)) == 200
    stats = emulator.stats()
    assert stats["requests"].get(TOKEN_REQ) == 1, stats
    assert stats["requests"].get(USER_REQ) == 200, stats
    assert stats["connections"] == 1, stats
    assert r.elapsed < 20, str(r)


def test_expired_token_is_renewed_mid_run_with_otp_command(
        tmp_path: Path, emulator: Emulator) -> None:
    command, offset = otp_command(tmp_path, APP_SECRET)
    env = vss_env(tmp_path, emulator, user="app", password="app-pass")
    with LiveVss("--otp-command", command, "-o", "json", env=env, cwd=tmp_path) as live:
        live.send("mfa status\n")
        assert json.loads(live.read_line())["enabled"] is True
        logins = requests_made(emulator, TOKEN_REQ)
        assert logins >= 1
        emulator.advance(3600)  # the token has expired for the server
        offset.write_text("3600")  # and the phone shows the code of that time
        live.send("mfa status\nwhoami\n")
        assert json.loads(live.read_line())["enabled"] is True
        assert json.loads(live.read_line())["user"] == "app"
        r = live.finish()
    assert r.returncode == 0, str(r)
    assert requests_made(emulator, TOKEN_REQ) == 2 * logins, "one more login, no more"
    # The first status, the second one (refused: 401), and that one again; whoami asks nothing.
    assert requests_made(emulator, USER_REQ) == 3


def test_expired_token_without_otp_source_never_reads_the_stream(
        tmp_path: Path, emulator: Emulator) -> None:
    # A cached token lets the run start without any code...
    code = pyotp.TOTP(APP_SECRET).now()
    env = vss_env(tmp_path, emulator, user="app", password="app-pass")
    first = run_vss("-c", "mfa status", env={**env, "VSS_USER_OTP": code}, cwd=tmp_path)
    assert first.returncode == 0, str(first)
    emulator.reset_stats()
    with LiveVss("--keep-going", "-o", "json", env=env, cwd=tmp_path) as live:
        live.send("mfa status\n")
        assert json.loads(live.read_line())["enabled"] is True
        assert requests_made(emulator, TOKEN_REQ) == 0, "the cached token was not used"
        emulator.advance(3600)
        # ...then renewing needs a code: the next line looks like one, but is a command.
        live.send(f"mfa status\n{pyotp.TOTP(APP_SECRET).at(time.time() + 3600)}\nwhoami\n")
        assert json.loads(live.read_line())["user"] == "app"
        r = live.finish(timeout=FAST)
    assert r.elapsed < 3 * FAST
    assert r.returncode == 2, str(r)
    assert "<stdin>:2: no terminal" in r.stderr and "VSS_USER_OTP" in r.stderr, str(r)
    assert "<stdin>:3: unknown command" in r.stderr, "line 3 was read as an answer"


# --- the token cache --------------------------------------------------------------------


def cached_tokens(home: Path) -> dict[str, dict[str, str]]:
    path = tokens_file(home)
    return tomllib.loads(path.read_text())["tokens"] if path.exists() else {}


def test_second_run_uses_the_cached_token(vss: Run, emulator: Emulator,
                                          tmp_path: Path) -> None:
    r = vss("-c", "mfa status -o json")
    assert r.returncode == 0, str(r)
    path = tokens_file(tmp_path)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    token = cached_tokens(tmp_path)[emulator.url]["demo"]
    assert token not in r.output
    emulator.reset_stats()
    r = vss("-c", "mfa status -o json; mfa status -o json", password=None)
    assert r.returncode == 0, str(r)
    assert requests_made(emulator, TOKEN_REQ) == 0
    assert requests_made(emulator, USER_REQ) == 2


def test_logout_removes_the_cached_token(vss: Run, emulator: Emulator,
                                         tmp_path: Path) -> None:
    assert vss("-c", "mfa status").returncode == 0
    assert "demo" in cached_tokens(tmp_path).get(emulator.url, {})
    r = vss("-c", "logout")
    assert r.returncode == 0, str(r)
    assert "demo" not in cached_tokens(tmp_path).get(emulator.url, {})
    emulator.reset_stats()
    r = vss("-c", "mfa status")
    assert r.returncode == 0, str(r)
    assert requests_made(emulator, TOKEN_REQ) == 1


def test_no_token_cache_neither_reads_nor_writes(vss: Run, emulator: Emulator,
                                                 tmp_path: Path) -> None:
    r = vss("--no-token-cache", "-c", "mfa status; logout; mfa status")
    assert r.returncode == 0, str(r)
    assert not tokens_file(tmp_path).exists()
    assert vss("-c", "mfa status").returncode == 0  # now there is a cached token
    before = tokens_file(tmp_path).read_bytes()
    emulator.reset_stats()
    r = vss("--no-token-cache", "-c", "mfa status; logout")
    assert r.returncode == 0, str(r)
    assert requests_made(emulator, TOKEN_REQ) == 1, "the cache was read"
    assert tokens_file(tmp_path).read_bytes() == before, "the cache was written"


def test_vss_token_is_used_and_never_cached(vss: Run, emulator: Emulator,
                                            tmp_path: Path) -> None:
    reply = requests.post(f"{emulator.url}/auth/request-token", auth=("demo", "demo-pass"),
                          json={"otp": None}, timeout=10)
    token = reply.json()["token"]
    emulator.reset_stats()
    r = vss("-c", "mfa status -o json; whoami -o json", password=None, user=None,
            VSS_TOKEN=token)
    assert r.returncode == 0, str(r)
    status, who = json_lines(r.stdout)
    assert set(status) == STATUS_KEYS and who["user"] == "demo"
    assert requests_made(emulator, TOKEN_REQ) == 0
    assert not tokens_file(tmp_path).exists()
    assert token not in r.output


def test_rejected_cached_token_is_dropped_and_replaced(vss: Run, emulator: Emulator,
                                                       tmp_path: Path) -> None:
    assert vss("-c", "mfa status").returncode == 0
    path = tokens_file(tmp_path)
    good = cached_tokens(tmp_path)[emulator.url]["demo"]
    head, payload, signature = good.split(".")
    forged_sig = ("B" if signature[0] != "B" else "C") + signature[1:]
    forged = f"{head}.{payload}.{forged_sig}"
    path.write_text(path.read_text().replace(good, forged))
    emulator.reset_stats()
    r = vss("-c", "mfa status -o json; mfa status -o json")
    assert r.returncode == 0, str(r)
    assert len(json_lines(r.stdout)) == 2
    assert requests_made(emulator, TOKEN_REQ) == 1
    assert requests_made(emulator, USER_REQ) == 3  # the rejected try, then two
    new = cached_tokens(tmp_path)[emulator.url]["demo"]
    assert new not in (good, forged)
    assert forged not in r.output and new not in r.output


# --- no colour, no escape codes, no prompt_toolkit ---------------------------------------

COLOUR_ENV = {"TERM": "xterm-256color", "COLORTERM": "truecolor", "FORCE_COLOR": "1",
              "CLICOLOR_FORCE": "1"}


@pytest.mark.parametrize("variant", ["plain", "NO_COLOR", "--no-color"])
def test_no_escape_codes_in_piped_output(vss: Run, tmp_path: Path, variant: str) -> None:
    (tmp_path / "pw").write_text("demo-pass\n")
    os.chmod(tmp_path / "pw", 0o644)  # a warning
    args = ["--keep-going", "--password-file", str(tmp_path / "pw")]
    changes: dict[str, str | None] = {**COLOUR_ENV, "password": None}
    if variant == "NO_COLOR":
        changes["NO_COLOR"] = "1"
    elif variant == "--no-color":
        args.append("--no-color")
    script = ("help\nhelp mfa\nmfa status\nmfa status -o json\nprofile ls\nprofile show\n"
              "whoami\nbogus\nmfa verify 12\nmfa mk AUTHENTICATOR --qr --show-key --no-verify\n")
    r = vss(*args, input=script, **changes)
    assert r.returncode == 2, str(r)
    assert "warning" in r.stderr and "<stdin>:8:" in r.stderr and "<stdin>:9:" in r.stderr
    assert ESC not in r.stdout and ESC not in r.stderr
    assert PT_WARNING not in r.output


def test_no_escape_codes_when_only_stdout_is_a_terminal(tmp_path: Path,
                                                        emulator: Emulator) -> None:
    """``vss < cmds.txt`` typed at a terminal: stdin is a file, stdout a terminal."""
    main, secondary = pty.openpty()
    try:
        proc = subprocess.Popen(
            [*VSS, "--keep-going"], stdin=subprocess.PIPE, stdout=secondary,
            stderr=secondary, env=vss_env(tmp_path, emulator, **COLOUR_ENV), cwd=tmp_path,
            start_new_session=True,
        )
        os.close(secondary)
        secondary = -1
        assert proc.stdin is not None
        proc.stdin.write(b"mfa status\nbogus\nprofile ls\n")
        proc.stdin.close()
        chunks = []
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            try:
                chunk = os.read(main, 4096)
            except OSError:  # EIO: the child closed the terminal
                break
            if not chunk:
                break
            chunks.append(chunk)
        status = proc.wait(timeout=FAST)
    finally:
        os.close(main)
        if secondary >= 0:
            os.close(secondary)
    text = b"".join(chunks).decode("utf-8", "replace")
    assert status == 2, text
    assert "enabled" in text and "cloud-api" in text and "unknown command 'bogus'" in text
    assert ESC not in text, repr(text)
    assert PT_WARNING not in text and "vss (" not in text


def test_prompt_toolkit_is_not_loaded_for_a_pipe(tmp_path: Path, emulator: Emulator) -> None:
    done = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "vss_shell"], input="mfa status\nhelp\n",
        capture_output=True, text=True, timeout=30, env=vss_env(tmp_path, emulator),
        cwd=tmp_path, start_new_session=True,
    )
    assert done.returncode == 0, done.stderr
    imported = [line for line in done.stderr.splitlines() if "import time:" in line]
    assert imported, "no -X importtime output"
    assert not [line for line in imported if "prompt_toolkit" in line]


# --- undecodable input -------------------------------------------------------------------


@pytest.mark.parametrize("source", ["file", "stdin"])
def test_input_that_is_not_utf8_is_reported_as_one_line(
        tmp_path: Path, emulator: Emulator, source: str) -> None:
    """A bad byte is a failing line (FILE:LINE: message), never a Python traceback."""
    data = b"mfa status -o json\nmfa st\xffatus\nmfa status -o json\n"
    if source == "file":
        (tmp_path / "bad.vss").write_bytes(data)
        args, env = [*VSS, "-f", "bad.vss"], vss_env(tmp_path, emulator)
        name = "bad.vss"
    else:  # stdin decoding is strict when PYTHONIOENCODING names no error handler
        args, env = VSS, vss_env(tmp_path, emulator, PYTHONIOENCODING="utf-8")
        name = "<stdin>"
    done = subprocess.run(args, input=data, capture_output=True, timeout=30, env=env,
                          cwd=tmp_path, start_new_session=True)
    stderr = done.stderr.decode("utf-8", "replace")
    assert "Traceback" not in stderr, stderr
    assert done.returncode in (1, 2), stderr
    assert stderr.startswith((f"{name}:", "vss:")), stderr


# --- comments end at the end of their line ------------------------------------------------


def test_backslash_at_end_of_a_comment_does_not_swallow_the_next_line(
        vss: Run, emulator: Emulator) -> None:
    """As in sh, a comment ends at the newline: its last backslash continues nothing."""
    r = vss(input="# save to C:\\temp\\\nmfa status -o json\nmfa status -o json # a \\\n"
                  "whoami -o json\n")
    assert r.returncode == 0, str(r)
    assert len(json_lines(r.stdout)) == 3, str(r)


# --- enrolment that fails half-way, and interrupts ---------------------------------------


def test_interrupt_at_the_enrolment_code_ends_the_run(tmp_path: Path,
                                                      emulator: Emulator) -> None:
    """SIGINT while the code is awaited: the run stops with 130, the pending result shown."""
    command, wait_started = slow_otp_command(tmp_path)
    with LiveVss("--otp-command", command, "-o", "json",
                 env=vss_env(tmp_path, emulator), cwd=tmp_path) as live:
        live.send("mfa mk AUTHENTICATOR\nwhoami\n")
        wait_started()
        live.interrupt()
        r = live.finish(timeout=FAST)
    assert r.returncode == 130, str(r)
    [doc] = json_lines(r.stdout)  # whoami did not run
    assert doc["status"] == "pending" and doc["key"] == emulator.secret("demo")
    assert "finish it with 'mfa verify CODE'" in r.stderr


def test_a_wrong_code_at_enrolment_still_prints_what_finishing_needs(
        vss: Run, emulator: Emulator) -> None:
    # Each call a new wrong code: a refused code is tried once more with the next one.
    wrong = (f"{shlex.quote(sys.executable)} -c "
             "'import time; print(f\"{time.time_ns() % 10**6:06d}\")'")
    r = vss("-o", "json", "--otp-command", wrong, "-c", "mfa mk AUTHENTICATOR; whoami")
    assert r.returncode == 1, str(r)
    [doc] = json_lines(r.stdout)
    assert doc["status"] == "pending" and doc["key"] == emulator.secret("demo")
    assert doc["recovery_codes"]
    assert "-c:1:" in r.stderr and "-c:2" not in r.stderr


@pytest.mark.parametrize(("option", "make", "message"), [
    ("--qr-file", "q.png", "--qr-file: {path} exists (--yes overwrites it)"),
    ("--save-codes", "codes.txt", "--save-codes: {path} exists (--yes overwrites it)"),
    ("--save-codes", "no/such/dir/codes.txt", "--save-codes: directory {parent} does not exist"),
])
def test_a_file_that_cannot_be_written_fails_before_enrolment(
        vss: Run, emulator: Emulator, tmp_path: Path, option: str, make: str,
        message: str) -> None:
    path = tmp_path / make
    if path.parent == tmp_path:
        path.write_text("keep me\n")
    r = vss("-o", "json", "-c", f"mfa mk AUTHENTICATOR --no-verify {option} {make}")
    assert r.returncode == 1, str(r)
    expected = message.format(path=make, parent=path.parent)
    assert r.stderr.strip().splitlines()[-1] == f"-c:1: {expected}", str(r)
    assert requests_made(emulator, "POST /tf/enable") == 0
    assert r.stdout == ""
    if path.parent == tmp_path:
        assert path.read_text() == "keep me\n"
    assert not (tmp_path / "no").exists(), "no directory is created for a file name"


def test_scripted_enrolment_remembers_the_method_in_the_profile(
        vss: Run, emulator: Emulator, tmp_path: Path) -> None:
    r = vss("-c", f"profile add e --endpoint {emulator.url} --user demo; profile default e",
            VSS_ENDPOINT=None, user=None)
    assert r.returncode == 0, str(r)
    r = vss("-o", "json", "-c", "mfa mk AUTHENTICATOR --no-verify", VSS_ENDPOINT=None,
            user=None)
    assert r.returncode == 0, str(r)
    assert 'mfa_method = "AUTHENTICATOR"' in profiles_file(tmp_path).read_text()
    emulator.reset_stats()
    code = pyotp.TOTP(emulator.secret("demo")).now()
    r = vss("-c", f"mfa verify {code}", VSS_ENDPOINT=None, user=None)
    assert r.returncode == 0, str(r)
    # An AUTHENTICATOR account has no code sent when it logs in.
    otp, offset = otp_command(tmp_path, emulator.secret("demo"))
    emulator.advance(30)  # the verified code is spent: the next step's
    offset.write_text("30")
    r = vss("--otp-command", otp, "-c", "mfa status", VSS_ENDPOINT=None, user=None)
    assert r.returncode == 0, str(r)
    assert requests_made(emulator, "POST /tf/request-token") == 0


def test_no_code_is_emailed_when_none_could_be_read(vss: Run, emulator: Emulator) -> None:
    r = vss("-c", "mfa status", **mail_env_changes())
    assert r.returncode == 1, str(r)
    assert "use VSS_USER_OTP or --otp-command CMD" in r.stderr
    assert emulator.outbox("mail") == [], "the code would be wasted"


@pytest.mark.parametrize("token", ["''", "'  '"])
def test_an_empty_disable_token_is_refused_here(vss: Run, emulator: Emulator,
                                                token: str) -> None:
    r = vss("-c", f"mfa rm --token {token}")
    assert r.returncode == 1, str(r)
    assert r.stderr.strip() == "-c:1: the confirmation token is empty"
    assert not any(k.startswith("POST /tf/disable") for k in emulator.stats()["requests"])


def test_dash_c_and_dash_f_together_are_a_usage_error(vss: Run, tmp_path: Path) -> None:
    (tmp_path / "cmds.txt").write_text("bogus\n")
    r = vss("-c", "whoami", "-f", "cmds.txt")
    assert r.returncode == 2, str(r)
    assert "not allowed with argument -c" in r.stderr
    assert r.stdout == ""


def test_an_unwritable_token_cache_costs_only_a_warning(vss: Run, tmp_path: Path) -> None:
    tokens_file(tmp_path).mkdir(parents=True)  # a directory where the file should be
    r = vss("-o", "json", "-c", "mfa status; whoami")
    assert r.returncode == 0, str(r)
    assert len(json_lines(r.stdout)) == 2
    warnings = [line for line in r.stderr.splitlines() if "token cache" in line]
    assert len(warnings) == 1 and warnings[0].startswith("warning: cannot write"), str(r)


def test_login_as_another_user_forgets_the_first_ones_method(
        vss: Run, emulator: Emulator, tmp_path: Path) -> None:
    """The profile remembers AUTHENTICATOR for 'app'; 'login mail' must still have a
    code emailed to 'mail', and must not write anything into app's profile."""
    r = vss("-c", f"profile add p --endpoint {emulator.url} --user app; "
            "profile set p mfa_method AUTHENTICATOR", VSS_ENDPOINT=None, user=None)
    assert r.returncode == 0, str(r)
    before = profiles_file(tmp_path).read_text()
    r = vss("--profile", "p", "--otp-command", mailbox_otp_command(tmp_path, emulator, "mail"),
            "-o", "json", "-c", "login mail; mfa status",
            VSS_ENDPOINT=None, user=None, password=ACCOUNTS["mail"]["password"])
    assert r.returncode == 0, str(r)
    who, status = json_lines(r.stdout)
    assert who["user"] == "mail" and status["method"] == "EMAIL"
    assert len(emulator.outbox("mail")) == 1
    assert profiles_file(tmp_path).read_text() == before


def test_a_profile_that_cannot_be_written_does_not_lose_an_enrolment(
        vss: Run, emulator: Emulator, tmp_path: Path) -> None:
    r = vss("-c", f"profile add p --endpoint {emulator.url} --user demo; profile default p",
            VSS_ENDPOINT=None, user=None)
    assert r.returncode == 0, str(r)
    lock = profiles_file(tmp_path).with_name("profiles.toml.lock")
    lock.unlink()
    lock.mkdir()  # the lock cannot be taken: every write of the profiles fails
    r = vss("-o", "json", "-c", "mfa mk AUTHENTICATOR --no-verify", VSS_ENDPOINT=None, user=None)
    assert r.returncode == 0, str(r)
    [doc] = json_lines(r.stdout)
    assert doc["key"] == emulator.secret("demo") and doc["recovery_codes"]
    assert "warning: the profile does not remember the MFA method" in r.stderr
    r = vss("-c", "profile set p timeout 9", VSS_ENDPOINT=None, user=None)
    assert r.returncode == 1, str(r)
    assert r.stderr.startswith("-c:1: cannot change the profiles: "), str(r)
    assert "internal error" not in r.stderr


@pytest.mark.parametrize(("demo", "extra"), [
    (["--demo"], ["--profile", "vss-api"]),
    (["--demo"], ["--endpoint", "http://127.0.0.1:9"]),
    (["--demo"], ["--user", "someone"]),
    (["--profile", "demo"], ["--endpoint", "http://127.0.0.1:9"]),
])
def test_demo_with_other_connection_options_is_a_usage_error(vss: Run, demo: list[str],
                                                             extra: list[str]) -> None:
    r = vss(*demo, *extra, "-c", "whoami")
    assert r.returncode == 2, str(r)
    assert r.stderr.startswith("vss: demo mode runs its own emulator and account; leave out "
                               + extra[0]), str(r)
    assert r.stdout == ""


def test_login_while_enrolment_is_pending_says_pending(vss: Run) -> None:
    r = vss("-c", "mfa mk AUTHENTICATOR --no-verify -o json; logout; login; whoami")
    assert r.returncode == 0, str(r)
    assert "MFA pending." in r.stderr, str(r)
    assert re.search(r"^state +token \d+ min · MFA pending$", r.stdout, re.MULTILINE), str(r)


def test_whoami_shows_a_cached_token_before_any_command_used_it(
        vss: Run, emulator: Emulator) -> None:
    assert vss("-c", "login").returncode == 0
    emulator.reset_stats()
    r = vss("-o", "json", "-c", "whoami")
    assert r.returncode == 0, str(r)
    [who] = json_lines(r.stdout)
    assert (who["token"], who["mfa"]) == ("valid", "off"), who
    expires = datetime.fromisoformat(who["token_expires_at"])
    assert expires.tzinfo is not None and 3500 < expires.timestamp() - time.time() <= 3600
    assert emulator.stats()["requests"] == {}  # read from the cache, nothing asked


def test_vss_token_is_used_never_cached_never_replaced(
        vss: Run, emulator: Emulator, tmp_path: Path) -> None:
    token = requests.post(emulator.url + "/auth/request-token", auth=("demo", "demo-pass"),
                          json={"otp": None}, timeout=5).json()["token"]
    r = vss("-o", "json", "-c", "whoami; mfa status", VSS_TOKEN=token)
    assert r.returncode == 0, str(r)
    who, _status = json_lines(r.stdout)
    assert who["token"] == "valid" and who["user"] == "demo"
    assert not tokens_file(tmp_path).exists()
    # Refused by the server: said so, and no password login behind the script's back.
    emulator.reset_stats()
    r = vss("--endpoint", emulator.url, "-c", "mfa status", VSS_TOKEN=token + "x")
    assert r.returncode == 1, str(r)
    assert "the server refused VSS_TOKEN (HTTP 401)" in r.stderr, str(r)
    assert requests_made(emulator, "POST /auth/request-token") == 0
    assert not tokens_file(tmp_path).exists()


def test_vss_token_stays_with_its_endpoint(vss: Run, emulator: Emulator, tmp_path: Path) -> None:
    token = requests.post(emulator.url + "/auth/request-token", auth=("demo", "demo-pass"),
                          json={"otp": None}, timeout=5).json()["token"]
    with Emulator(accounts={"demo": {"password": "other-pass", "email": "d@example.org"}},
                  log=None) as other:
        r = vss("-c", f"profile add other --endpoint {other.url} --user demo",
                VSS_ENDPOINT=None)
        assert r.returncode == 0, str(r)
        r = vss("--endpoint", emulator.url, "-o", "json", "-c", "mfa status; whoami",
                VSS_ENDPOINT=None, VSS_TOKEN=token, password="other-pass")
        assert r.returncode == 0, str(r)
        # Switching: the other server must never see this token.
        r = vss("-o", "json", "-c", "profile use other; mfa status", VSS_ENDPOINT=None,
                VSS_TOKEN=token, password="other-pass")
        assert r.returncode == 0, str(r)
        seen = other.stats()["requests"]
        assert seen.get("POST /auth/request-token") == 1  # its own login, with its password
        assert seen.get("GET /v2/user") == 1  # no refused try with a foreign token first


def test_vss_token_of_another_user_is_refused(vss: Run, emulator: Emulator) -> None:
    token = requests.post(emulator.url + "/auth/request-token", auth=("demo", "demo-pass"),
                          json={"otp": None}, timeout=5).json()["token"]
    r = vss("-c", "mfa status", VSS_TOKEN=token, user="mail")
    assert r.returncode == 1, str(r)
    assert "VSS_TOKEN is for user 'demo', not 'mail'" in r.stderr, str(r)


def test_a_second_login_in_the_same_30_seconds_waits_for_the_next_code(
        vss: Run, emulator: Emulator, tmp_path: Path) -> None:
    """The server takes each code once: 'mfa verify' then a login must not send one twice.
    The phone here shows the next window's code from its third call on."""
    calls = tmp_path / "calls"
    script = tmp_path / "phone.py"
    script.write_text(
        "import pathlib, time, pyotp\n"
        f"calls = pathlib.Path({str(calls)!r})\n"
        "n = int(calls.read_text()) + 1 if calls.exists() else 1\n"
        "calls.write_text(str(n))\n"
        f"print(pyotp.TOTP({APP_SECRET!r}).at(time.time() + (30 if n >= 3 else 0)))\n")
    command = f"{shlex.quote(sys.executable)} {shlex.quote(str(script))}"
    r = vss("--otp-command", command, "-o", "json", "-c", "mfa verify; mfa status",
            user="app", password=ACCOUNTS["app"]["password"])
    assert r.returncode == 0, str(r)
    assert json_lines(r.stdout)[-1]["enabled"] is True
    assert "Waiting for the next code (each code is accepted once)" in r.stderr
    assert calls.read_text() == "3"


def test_vss_user_otp_serves_one_use(vss: Run, emulator: Emulator) -> None:
    code = pyotp.TOTP(APP_SECRET).now()
    r = vss("-c", "mfa verify; mfa status", VSS_USER_OTP=code,
            user="app", password=ACCOUNTS["app"]["password"])
    assert r.returncode == 1, str(r)
    assert r.stderr.strip().endswith("the code of VSS_USER_OTP was used already in this run "
                                     "(each code is accepted once): use --otp-command for "
                                     "more logins"), str(r)
    assert requests_made(emulator, "POST /auth/request-token") == 0  # not sent a second time


def test_a_given_code_has_no_new_one_emailed(vss: Run, emulator: Emulator) -> None:
    emulator_code = requests.post(emulator.url + "/tf/request-token",
                                  auth=("mail", ACCOUNTS["mail"]["password"]), timeout=5)
    assert emulator_code.status_code == 200
    code = emulator.outbox("mail")[-1]["code"]
    r = vss("-o", "json", "-c", "mfa status", VSS_USER_OTP=code, **mail_env_changes())
    assert r.returncode == 0, str(r)
    assert len(emulator.outbox("mail")) == 1, "a new code would replace the one given"


def test_profile_use_warns_when_it_turns_tls_verification_off(vss: Run,
                                                             emulator: Emulator) -> None:
    r = vss("-c", f"profile add lab --endpoint {emulator.url} --no-verify-tls",
            VSS_ENDPOINT=None)
    assert r.returncode == 0, str(r)
    r = vss("-c", "profile use lab", VSS_ENDPOINT=None)
    assert r.returncode == 0, str(r)
    assert "warning: TLS certificate verification is OFF" in r.stderr, str(r)


def test_profile_use_demo_outside_demo_mode_says_how(vss: Run) -> None:
    r = vss("-c", "profile use demo", VSS_ENDPOINT=None)
    assert r.returncode == 1, str(r)
    assert r.stderr.strip() == ("-c:1: the demo profile is the embedded emulator: start it "
                                "with 'vss --demo'")


def test_logout_with_vss_token_leaves_nothing_to_authenticate_with(
        vss: Run, emulator: Emulator, tmp_path: Path) -> None:
    assert vss("-c", "login").returncode == 0  # a cached token for demo
    token = requests.post(emulator.url + "/auth/request-token", auth=("demo", "demo-pass"),
                          json={"otp": None}, timeout=5).json()["token"]
    r = vss("-c", "logout; mfa status", VSS_TOKEN=token, password=None)
    assert r.returncode == 1, str(r)
    assert "no terminal to ask 'Password for demo'" in r.stderr, str(r)
    assert "demo" not in tokens_file(tmp_path).read_text().split("]", 1)[-1]


def test_no_cached_token_outlives_a_change_of_mfa(vss: Run, emulator: Emulator,
                                                  tmp_path: Path) -> None:
    """A token's claim says whether MFA was used: one cached across enrolment or
    disabling would make the next run show the wrong state."""
    r = vss("-o", "json", "-c", "mfa mk AUTHENTICATOR --no-verify; mfa status")
    assert r.returncode == 0, str(r)
    assert json_lines(r.stdout)[-1]["method"] == "AUTHENTICATOR"  # the session's token
    assert not tokens_file(tmp_path).exists() or "demo" not in tokens_file(tmp_path).read_text()


def test_profile_show_after_login_user_names_that_user(vss: Run, emulator: Emulator,
                                                       tmp_path: Path) -> None:
    r = vss("--otp-command", mailbox_otp_command(tmp_path, emulator, "mail"), "-o", "json",
            "-c", "login mail; profile set cloud-api output json; profile show; whoami",
            password=ACCOUNTS["mail"]["password"])
    assert r.returncode == 0, str(r)
    docs = json_lines(r.stdout)
    rows = {row["key"]: row for row in docs[-2]}
    assert (rows["username"]["value"], rows["username"]["source"]) == ("mail", "login")
    assert rows["output"]["value"] == "json"
    assert docs[-1]["user"] == "mail" and docs[-1]["token"] == "valid"


def test_a_url_with_credentials_is_never_repeated(vss: Run, emulator: Emulator,
                                                  tmp_path: Path) -> None:
    secret = "Pw-Secret-9871"
    for args, changes in (([], {"VSS_ENDPOINT": f"http://demo:{secret}@127.0.0.1:9"}),
                          (["--endpoint", f"https://127.0.0.1:9/?token={secret}"], {})):
        r = vss(*args, "-c", "whoami", **changes)
        assert r.returncode == 2, str(r)
        assert secret not in r.output and "***" in r.stderr, str(r)
    r = vss("-c", f"profile add x --endpoint https://u:{secret}@vss.example.org")
    assert r.returncode == 2, str(r)  # a bad value typed: a usage error
    assert secret not in r.output
    # Passwords with '@' or '/' in them, and URLs typed where no URL belongs.
    for url in (f"https://alice:p@{secret}@example.org", f"https://alice:p/{secret}@example.org",
                f"https://alice:{secret}?x@example.org"):
        for args in (["--endpoint", url, "-c", "whoami"], ["-c", f"profile use '{url}'"],
                     ["--profile", url, "-c", "whoami"], ["-c", f"mfa mk '{url}'"]):
            r = vss(*args)
            assert r.returncode in (1, 2), str(r)
            assert secret not in r.output, str(r)


def test_the_otp_command_does_not_see_the_password(vss: Run, emulator: Emulator,
                                                   tmp_path: Path) -> None:
    script = tmp_path / "spy.py"
    seen = tmp_path / "seen"
    script.write_text("import os, pathlib\n"
                      f"pathlib.Path({str(seen)!r}).write_text(repr(sorted(os.environ)))\n"
                      "import time; print(f'{time.time_ns() % 10**6:06d}')\n")
    vss("--otp-command", f"{shlex.quote(sys.executable)} {shlex.quote(str(script))}",
        "-c", "mfa status", user="app", password=ACCOUNTS["app"]["password"])
    names = seen.read_text()
    assert "VSS_USER" in names  # the environment is passed on...
    assert "VSS_USER_PASS" not in names and "VSS_TOKEN" not in names  # ...less the secrets


def test_mfa_mk_yes_replaces_an_existing_codes_file(vss: Run, emulator: Emulator,
                                                    tmp_path: Path) -> None:
    (tmp_path / "codes.txt").write_text("old\n")
    r = vss("-o", "json", "-c", "mfa mk AUTHENTICATOR --no-verify --save-codes codes.txt --yes")
    assert r.returncode == 0, str(r)
    [doc] = json_lines(r.stdout)
    assert (tmp_path / "codes.txt").read_text().split() == doc["recovery_codes"]


def test_save_codes_and_no_save_codes_together_are_a_usage_error(vss: Run,
                                                                 emulator: Emulator) -> None:
    r = vss("-c", "mfa mk EMAIL --save-codes c.txt --no-save-codes --no-verify")
    assert r.returncode == 2, str(r)
    assert "--save-codes and --no-save-codes: choose one" in r.stderr
    assert requests_made(emulator, "POST /tf/enable") == 0


def test_blank_and_comment_lines_print_nothing_in_json_mode(vss: Run) -> None:
    r = vss("-o", "json", input="\nmfa status\n\n   # a comment\n\n")
    assert r.returncode == 0, str(r)
    assert len(json_lines(r.stdout)) == 1, str(r)
