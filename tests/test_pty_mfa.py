"""MFA questions in a real pseudo-terminal (pexpect + pyte): what a person sees and types.

The shell runs ``python -m vss_shell`` on the fixture emulator; see
``pty_helpers`` for the terminal and ``test_e2e_pty`` for the conventions.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pexpect
import pyotp
import pytest

from pty_helpers import Terminal, profile_on, shell_env
from vss_shell.emulator import Emulator

PROMPT = "vss (cloud-api) > "
PASSWORD = "demo-pass"

pytestmark = [
    pytest.mark.timeout(60),
    pytest.mark.skipif(not hasattr(pexpect, "spawn"), reason="needs a POSIX pseudo-terminal"),
]

Start = Callable[..., Terminal]


def wait_prompt(term: Terminal) -> None:
    """Wait until the shell waits at an empty prompt, its toolbar drawn."""
    term.wait_for(lambda _t: term.new_prompt() and term.cursor_row() == PROMPT.rstrip()
                  and term.screen.cursor.x == len(PROMPT) and "Ctrl-D exit" in term.rows()[-1])


def asked(term: Terminal, question: str) -> None:
    """Wait until a new question (or prompt) asks ``question`` on the cursor's row."""
    term.wait_for(lambda _t: term.new_prompt() and question in term.cursor_row())


@pytest.fixture
def start(tmp_path: Path, emulator: Emulator) -> Iterator[Start]:
    started: list[Terminal] = []

    def _start(*args: str, password: str | None = PASSWORD) -> Terminal:
        extra = {"VSS_USER_PASS": password} if password else {}
        profile_on(tmp_path, emulator.url)
        term = Terminal(["--user", "demo", *args], cwd=tmp_path,
                        env=shell_env(tmp_path, **extra))
        started.append(term)
        wait_prompt(term)
        return term

    yield _start
    for term in started:
        term.close()


def test_a_wrong_password_is_asked_again(start: Start, emulator: Emulator) -> None:
    term = start(password=None)
    term.line("login")
    asked(term, "Password for demo:")
    term.line("not-the-password")
    asked(term, "Password for demo:")  # again, in the same command
    assert "wrong username or password" in term.screen_text()
    assert "(2 left)" in term.screen_text()
    term.line(PASSWORD)
    term.wait_for("Logged in as demo")
    wait_prompt(term)
    for text in (term.raw, *term.seen):
        assert PASSWORD not in text and "not-the-password" not in text


def test_json_enrolment_at_a_terminal_shows_the_key_before_the_code(
        start: Start, emulator: Emulator) -> None:
    term = start()
    term.line("set output json")
    wait_prompt(term)
    term.line("mfa mk AUTHENTICATOR --no-qr --show-key --no-save-codes")
    asked(term, "Enter the 6-digit code")
    key = emulator.secret("demo")
    assert key and key in term.screen_text(), term.screen_text()
    assert "Recovery codes" in "\n".join(term.seen)
    term.line(pyotp.TOTP(key).now())
    term.wait_for('"status": "enabled"')
    wait_prompt(term)


@pytest.mark.parametrize("fmt", ["table", "json"])
def test_a_redirected_enrolment_shows_what_the_question_needs_on_the_terminal(
        tmp_path: Path, emulator: Emulator, fmt: str) -> None:
    """`vss -c "mfa mk ..." > file` at a terminal: the code is asked on the terminal, so
    the key and the recovery codes are shown there too, not only in the file."""
    import shlex
    import sys

    profile_on(tmp_path, emulator.url)
    command = shlex.join([sys.executable, "-m", "vss_shell", "--user", "demo", "-o", fmt,
                          "-c", "mfa mk AUTHENTICATOR --no-save-codes --no-qr --show-key"])
    child = pexpect.spawn("/bin/sh", ["-c", f"exec {command} > out.txt"], cwd=str(tmp_path),
                          env=shell_env(tmp_path, VSS_USER_PASS=PASSWORD), encoding="utf-8",
                          timeout=20)
    try:
        child.expect("Enter the 6-digit code")
        seen = child.before
        key = emulator.secret("demo")
        assert key and key in seen, seen
        assert "Recovery codes" in seen and len(seen.split("Recovery codes")[1].split()) > 8
        child.sendline(pyotp.TOTP(key).now())
        child.expect(pexpect.EOF)
    finally:
        child.close()
    assert child.exitstatus == 0, child.before
    out = (tmp_path / "out.txt").read_text()
    assert "enabled" in out
