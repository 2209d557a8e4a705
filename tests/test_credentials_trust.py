"""Passwords and codes from scripts are bounded and checked before anything is sent:
a wrong file, /dev/zero, bytes that are not UTF-8 or a code with control characters
cost one line and exit 1, never a traceback, a huge request or a long wait."""

from __future__ import annotations

import os
import shlex
import sys
from pathlib import Path

import pytest

from batch_helpers import requests_made, run_vss, vss_env
from vss_shell.emulator import Emulator


def token_requests(emulator: Emulator) -> int:
    return requests_made(emulator, "POST /auth/request-token")


def check_one_line(result, words: str) -> None:
    assert result.returncode == 1, str(result)
    assert "Traceback" not in result.output and "internal error" not in result.output
    assert words in result.stderr, str(result)
    assert "\x1b" not in result.output


@pytest.mark.parametrize(("how", "words"), [
    ("not utf-8 variable", "VSS_USER_PASS: the password is not valid UTF-8"),
    ("not utf-8 file", "the password is not valid UTF-8"),
    ("huge file", "the password is longer than 1024 characters"),
    ("/dev/zero", "the password is longer than 1024 characters"),
])
def test_a_password_that_cannot_be_one_is_refused(tmp_path: Path, emulator: Emulator,
                                                  how: str, words: str) -> None:
    env = vss_env(tmp_path, emulator, password=None)
    args: list[str] = []
    if how == "not utf-8 variable":
        env["VSS_USER_PASS"] = os.fsdecode(b"demo-\xffpass")
    elif how == "/dev/zero":
        args = ["--password-file", "/dev/zero"]
    else:
        path = tmp_path / "pw.txt"
        path.write_bytes(b"demo-\xffpass\n" if how == "not utf-8 file" else b"x" * 300_000)
        path.chmod(0o600)
        args = ["--password-file", str(path)]
    result = run_vss(*args, "-c", "login", env=env, cwd=tmp_path)
    check_one_line(result, words)
    assert token_requests(emulator) == 0


def test_a_code_that_cannot_be_one_is_never_sent(tmp_path: Path, emulator: Emulator) -> None:
    env = vss_env(tmp_path, emulator, user="app", password="app-pass",
                  VSS_USER_OTP="abc\x1b[2Jdef")
    check_one_line(run_vss("-c", "login", env=env, cwd=tmp_path), "VSS_USER_OTP is not a code")
    assert token_requests(emulator) <= 1  # at most the first, without a code


@pytest.mark.parametrize(("printed", "words"), [
    ("print('1' * 100000)", "printed more than 4096 bytes"),
    ("print('12345\\x1b]0;T\\x07 s3cretpass')", "is not a code"),
])
def test_an_otp_command_is_read_bounded_and_checked(tmp_path: Path, emulator: Emulator,
                                                    printed: str, words: str) -> None:
    script = tmp_path / "otp.py"
    script.write_text(printed + "\n")
    command = f"{shlex.quote(sys.executable)} {shlex.quote(str(script))}"
    env = vss_env(tmp_path, emulator, user="app", password="app-pass")
    result = run_vss("--otp-command", command, "-c", "login", env=env, cwd=tmp_path)
    check_one_line(result, words)
    assert "s3cretpass" not in result.output
