"""Where passwords and codes come from: variables, files, commands, a person.

For scripts each has a non-interactive source (``VSS_USER_PASS``,
``--password-file``, ``VSS_USER_OTP``, ``--otp-command``); otherwise the UI
asks, without echo. Values are returned, never logged.
"""

from __future__ import annotations

import os
import shlex
import stat
import subprocess
import time
from collections.abc import Mapping
from dataclasses import dataclass, field

from vss_shell.errors import ShellError
from vss_shell.ui import UI

OTP_COMMAND_TIMEOUT = 30.0
#: How long to wait for an --otp-command to give a code other than the one used.
OTP_NEXT_CODE_WAIT = 35.0


@dataclass
class CredentialSources:
    """The non-interactive sources a run was given."""

    env: Mapping[str, str]
    password_file: str | None = None
    otp_command: str | None = None
    #: The last code a non-interactive source gave: the server takes each code once.
    _used: str | None = field(default=None, repr=False)

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
    def has_otp(self) -> bool:
        """Whether a code can be had without asking."""
        return bool(self.otp_command or self.env.get("VSS_USER_OTP"))

    @property
    def fixed_otp(self) -> bool:
        """Whether the code is given already (``VSS_USER_OTP``): none need be sent."""
        return not self.otp_command and bool(self.env.get("VSS_USER_OTP"))

    def otp(self, ui: UI, question: str, *, given_ok: bool = True) -> str:
        """A one-time code: ``--otp-command``, ``VSS_USER_OTP``, or asked.

        A code is accepted once: when the command gives the code it gave last,
        it is run again each second until the next code comes (an authenticator
        shows a new one every 30 s); ``VSS_USER_OTP`` serves one use, and only
        where ``given_ok`` (not for finishing an enrolment).
        """
        if self.otp_command:
            code = run_otp_command(self.otp_command)
            if code == self._used:
                ui.info("Waiting for the next code (each code is accepted once)...")
                deadline = time.monotonic() + OTP_NEXT_CODE_WAIT
                while code == self._used:
                    if time.monotonic() > deadline:
                        raise ShellError("--otp-command keeps giving the code already used")
                    time.sleep(1)
                    code = run_otp_command(self.otp_command)
        elif given_ok and self.env.get("VSS_USER_OTP"):
            code = self.env["VSS_USER_OTP"].strip()
            if code == self._used:
                raise ShellError("the code of VSS_USER_OTP was used already in this run (each "
                                 "code is accepted once): use --otp-command for more logins")
        else:
            flag = ("VSS_USER_OTP or --otp-command CMD" if given_ok
                    else "--otp-command CMD, or --no-verify and then 'mfa verify CODE'")
            return ui.ask_secret(question, flag=flag)
        self._used = code
        return code


#: Variables the --otp-command does not need and must not see.
SECRET_VARIABLES = ("VSS_USER_PASS", "VSS_USER_OTP", "VSS_TOKEN")


def _child_env() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if k not in SECRET_VARIABLES}


def run_otp_command(command: str, timeout: float = OTP_COMMAND_TIMEOUT) -> str:
    """Run ``command`` (no shell) and return the code it prints."""
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
