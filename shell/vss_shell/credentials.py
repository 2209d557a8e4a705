"""Where passwords and codes come from: variables, files, commands, a person.

For scripts each has a non-interactive source (``VSS_USER_PASS``,
``--password-file``, ``VSS_USER_OTP``, ``--otp-command``); otherwise the UI
asks, without echo. Values are returned, never logged.
"""

from __future__ import annotations

import os
import stat
import time
from collections.abc import Callable, Mapping
from typing import Any

from vss_shell.errors import ShellError
from vss_shell.record import Record
from vss_shell.ui import UI

OTP_COMMAND_TIMEOUT = 30.0
#: How long to wait for an --otp-command to give a code other than the one used.
OTP_NEXT_CODE_WAIT = 35.0
#: TOTP step (s): a code used once is waited out until the next step (and a grace).
OTP_STEP = 30
OTP_STEP_GRACE = 5.0
#: New EMAIL/SMS codes a person may have sent while one question is asked.
RESENDS = 5
#: What, typed at an EMAIL/SMS code question (or an empty answer), has a new code sent.
RESEND_WORD = "resend"
#: The longest password taken (a longer one is a mistake: a wrong file, /dev/zero).
MAX_PASSWORD = 1024
#: The longest output of an --otp-command read; a code (or a recovery code) is short.
MAX_OTP_OUTPUT = 4096
#: What a code from a script may be: 6 digits, or a recovery code (spaces ignored).
_CODE_CHARS = frozenset("0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ- ")
MAX_CODE = 64
#: Said before an EMAIL/SMS code is asked of a person.
RESEND_HINT = f"(An empty answer or '{RESEND_WORD}' has a new code sent.)"


class CredentialSources(Record):
    """The non-interactive sources a run was given."""

    __slots__ = FIELDS = ("env", "password_file", "otp_command", "_used", "_refused")
    _hidden = ("_used", "_refused")

    def __init__(self, env: Mapping[str, str], password_file: str | None = None,
                 otp_command: str | None = None, _used: str | None = None,
                 _refused: bool = False) -> None:
        self.env = env
        self.password_file = password_file
        self.otp_command = otp_command
        #: The last code a non-interactive source gave: the server takes each code once.
        self._used = _used
        self._refused = _refused

    def password(self, ui: UI, user: str) -> str:
        """The password: ``--password-file``, ``VSS_USER_PASS``, or asked (option first)."""
        if self.password_file:
            return self._read_password_file(ui)
        if self.env.get("VSS_USER_PASS"):
            return checked_secret(self.env["VSS_USER_PASS"], "VSS_USER_PASS")
        return checked_secret(ui.ask_secret(
            f"Password for {user}", flag="VSS_USER_PASS or --password-file FILE",
            strip=False), "the password")

    def _read_password_file(self, ui: UI) -> str:
        path = os.path.expanduser(self.password_file or "")
        what = f"password file {path}"
        try:
            mode = os.stat(path).st_mode
            with open(path, "rb") as handle:  # its first line, bounded (not /dev/zero's all)
                head = handle.read(MAX_PASSWORD * 4 + 2)
        except OSError as exc:
            raise ShellError(f"cannot read {what}: {exc.strerror}") from None
        if mode & (stat.S_IRWXG | stat.S_IRWXO):
            ui.warn(f"{what} is readable by others (chmod 600 {path})")
        first = head.split(b"\n", 1)[0].rstrip(b"\r")
        try:
            text = first.decode("utf-8")
        except UnicodeDecodeError:
            raise ShellError(f"{what}: the password is not valid UTF-8") from None
        if not text:
            raise ShellError(f"{what} is empty")
        return checked_secret(text, what)

    @property
    def password_given(self) -> bool:
        """Whether the password comes from a file or a variable (never asked again)."""
        return bool(self.password_file or self.env.get("VSS_USER_PASS"))

    @property
    def has_otp(self) -> bool:
        """Whether a code can be had without asking."""
        return bool(self.otp_command or self.env.get("VSS_USER_OTP"))

    @property
    def fixed_otp(self) -> bool:
        """Whether the code is given already (``VSS_USER_OTP``): none need be sent."""
        return not self.otp_command and bool(self.env.get("VSS_USER_OTP"))

    def release(self) -> None:
        """The last code was not spent (the account had MFA off): it may serve again."""
        self._used = None

    def spent(self, code: str) -> None:
        """The server refused ``code`` (said to the person): the next must be another."""
        self._used = code
        self._refused = True

    def otp(self, ui: UI, question: str, *, given_ok: bool = True,
            resend: Callable[..., object] | None = None) -> str:
        """A one-time code: ``--otp-command``, ``VSS_USER_OTP``, or asked.

        A code is accepted once: when the command gives the code it gave last,
        it is run again each second until the next code comes (an authenticator
        shows a new one every 30 s); ``VSS_USER_OTP`` serves one use, and only
        where ``given_ok`` (not for finishing an enrolment). A person asked may
        answer nothing or ``resend`` to have ``resend()`` send a new code.
        """
        if self.otp_command:
            said, self._refused = self._refused, False
            code = run_otp_command(self.otp_command)
            if code == self._used:
                code = self._next_code(ui, said=said)
        elif given_ok and self.env.get("VSS_USER_OTP"):
            code = checked_code(self.env["VSS_USER_OTP"], "VSS_USER_OTP")
            if code == self._used:
                raise ShellError("the code of VSS_USER_OTP was used already in this run (each "
                                 "code is accepted once): use --otp-command for more logins")
        else:
            flag = ("VSS_USER_OTP or --otp-command CMD" if given_ok
                    else "--otp-command CMD, or --no-verify and then 'mfa verify CODE'")
            if resend is None:
                return ui.ask_secret(question, flag=flag)
            return _ask_or_resend(ui, question, flag, resend)
        self._used = code
        return code

    def _next_code(self, ui: UI, *, said: bool) -> str:
        """Run the --otp-command each second until it gives a code other than the one
        used: until the next TOTP step begins (and a grace), at most OTP_NEXT_CODE_WAIT."""
        assert self.otp_command is not None
        if not said:  # else the refusal was said already
            ui.info("Waiting for the next code (each code is accepted once)...")
        now = time.time()
        wait = min(OTP_STEP - now % OTP_STEP + OTP_STEP_GRACE, OTP_NEXT_CODE_WAIT)
        deadline = time.monotonic() + wait
        code = self._used
        while code == self._used:
            if time.monotonic() > deadline:
                raise ShellError(f"--otp-command gave no new code in {wait:.0f} s, and the "
                                 "server takes each code once (wrong, used or expired)")
            time.sleep(1)
            code = run_otp_command(self.otp_command)
        assert code is not None
        return code


def _ask_or_resend(ui: UI, question: str, flag: str, resend: Callable[..., object]) -> str:
    """A code asked of a person; an empty answer or ``resend`` has a new one sent."""
    for _ in range(RESENDS):
        answer = ui.ask_secret(question, flag=flag, allow_empty=True)
        if answer and answer.lower() != RESEND_WORD:
            return answer
        resend()
    ui.info(f"No more codes are sent now ({RESENDS} sent); type the newest one.")
    return ui.ask_secret(question, flag=flag)


#: Variables the --otp-command does not need and must not see.
SECRET_VARIABLES = ("VSS_USER_PASS", "VSS_USER_OTP", "VSS_TOKEN")


def _child_env() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if k not in SECRET_VARIABLES}


def checked_secret(value: str, what: str) -> str:
    """A password as the person gave it, if it can be one: valid UTF-8 (a variable of
    other bytes reaches Python as surrogates), at most MAX_PASSWORD characters."""
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise ShellError(f"{what}: the password is not valid UTF-8") from None
    if len(value) > MAX_PASSWORD:
        raise ShellError(f"{what}: the password is longer than {MAX_PASSWORD} characters")
    return value


def checked_code(value: str, what: str) -> str:
    """A one-time or recovery code from a script, if it can be one: letters, digits,
    '-' and spaces, at most MAX_CODE characters (nothing else is sent to the server)."""
    code = value.strip()
    if not code or len(code) > MAX_CODE or not set(code) <= _CODE_CHARS:
        raise ShellError(f"{what} is not a code (6 digits, or a recovery code of letters, "
                         f"digits and '-', at most {MAX_CODE} characters)")
    return code


def _run_bounded(argv: list[str], timeout: float) -> tuple[int, bytes]:
    """Run ``argv`` (no shell, no stdin, none of the secret variables); its exit status
    and what it printed, read up to MAX_OTP_OUTPUT bytes and ``timeout`` seconds."""
    import subprocess

    name = argv[0]
    try:
        proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                stderr=subprocess.DEVNULL, env=_child_env())
    except FileNotFoundError:
        raise ShellError(f"--otp-command: {name}: command not found") from None
    except OSError as exc:
        raise ShellError(f"--otp-command: {name}: {exc.strerror}") from None
    try:
        return _read_bounded(proc, name, timeout)
    finally:  # whatever happened (Ctrl-C too), the command does not outlive the call
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def _read_bounded(proc: Any, name: str, timeout: float) -> tuple[int, bytes]:
    """The exit status and output of ``proc``, bounded in size and time."""
    import selectors
    import subprocess

    assert proc.stdout is not None
    deadline, data, trouble = time.monotonic() + timeout, b"", None
    with proc.stdout, selectors.DefaultSelector() as selector:
        selector.register(proc.stdout, selectors.EVENT_READ)
        while trouble is None:
            left = deadline - time.monotonic()
            if left <= 0:
                trouble = f"did not finish in {timeout:g} s"
            elif selector.select(left):
                chunk = os.read(proc.stdout.fileno(), 65536)
                if not chunk:
                    break
                data += chunk
                if len(data) > MAX_OTP_OUTPUT:
                    trouble = f"printed more than {MAX_OTP_OUTPUT} bytes"
    status = -1
    if trouble is None:
        try:
            status = proc.wait(max(0.0, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            trouble = f"did not finish in {timeout:g} s"
    if trouble is not None:
        raise ShellError(f"--otp-command: {name} {trouble}")
    return status, data


def run_otp_command(command: str, timeout: float = OTP_COMMAND_TIMEOUT) -> str:
    """Run ``command`` (no shell) and return the code it prints (its last line)."""
    import shlex

    try:
        argv = shlex.split(command)
    except ValueError as exc:
        raise ShellError(f"cannot read --otp-command: {exc}") from None
    if not argv:
        raise ShellError("--otp-command is empty")
    status, out = _run_bounded(argv, timeout)
    if status != 0:
        raise ShellError(f"--otp-command: {argv[0]} exited with status {status}")
    lines = out.decode("utf-8", "replace").strip().splitlines()
    code = lines[-1].strip() if lines else ""
    if not code:
        raise ShellError(f"--otp-command: {argv[0]} printed no code")
    return checked_code(code, f"what --otp-command {argv[0]} printed")
