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
            return self.env["VSS_USER_PASS"]
        return ui.ask_secret(f"Password for {user}",
                             flag="VSS_USER_PASS or --password-file FILE", strip=False)

    def _read_password_file(self, ui: UI) -> str:
        path = os.path.expanduser(self.password_file or "")
        try:
            mode = os.stat(path).st_mode
            with open(path, encoding="utf-8") as handle:
                first = handle.readline().rstrip("\r\n")
        except OSError as exc:
            raise ShellError(f"cannot read password file {path}: {exc.strerror}") from None
        if mode & (stat.S_IRWXG | stat.S_IRWXO):
            ui.warn(f"password file {path} is readable by others (chmod 600 {path})")
        if not first:
            raise ShellError(f"password file {path} is empty")
        return first

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
            code = self.env["VSS_USER_OTP"].strip()
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


def run_otp_command(command: str, timeout: float = OTP_COMMAND_TIMEOUT) -> str:
    """Run ``command`` (no shell) and return the code it prints."""
    import shlex
    import subprocess

    try:
        argv = shlex.split(command)
    except ValueError as exc:
        raise ShellError(f"cannot read --otp-command: {exc}") from None
    if not argv:
        raise ShellError("--otp-command is empty")
    try:
        done = subprocess.run(argv, capture_output=True, text=True, timeout=timeout,
                              stdin=subprocess.DEVNULL, check=False, env=_child_env())
    except FileNotFoundError:
        raise ShellError(f"--otp-command: {argv[0]}: command not found") from None
    except subprocess.TimeoutExpired:
        raise ShellError(f"--otp-command: {argv[0]} did not finish in {timeout:g} s") from None
    except OSError as exc:
        raise ShellError(f"--otp-command: {argv[0]}: {exc.strerror}") from None
    if done.returncode != 0:
        raise ShellError(f"--otp-command: {argv[0]} exited with status {done.returncode}")
    lines = done.stdout.strip().splitlines()
    code = lines[-1].strip() if lines else ""
    if not code:
        raise ShellError(f"--otp-command: {argv[0]} printed no code")
    return code
