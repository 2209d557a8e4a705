"""Running the real ``vss`` executable as a subprocess, as a script or CI would.

Every run gets ``start_new_session=True``: the child has no controlling
terminal, so ``/dev/tty`` cannot be opened and every question must be answered
by a flag or a variable (or fail at once, naming it).
"""

from __future__ import annotations

import contextlib
import os
import queue
import shlex
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

#: The executable: ``python -m vss_shell`` is what the ``vss`` entry point runs.
VSS = [sys.executable, "-m", "vss_shell"]

#: Any escape sequence (colour, cursor movement, bracketed paste...) starts with this.
ESC = "\x1b"

#: What prompt_toolkit prints when it is (wrongly) started on a pipe.
PT_WARNING = "Input is not a terminal"


def vss_env(
    home: Path,
    emulator: Any = None,
    *,
    user: str | None = "demo",
    password: str | None = "demo-pass",
    **extra: str | None,
) -> dict[str, str]:
    """A clean environment: no VSS_*/XDG_*/NO_COLOR of the caller, HOME and XDG in ``home``.

    ``extra`` adds variables; a value of None removes one.
    """
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("VSS_", "XDG_")) and k != "NO_COLOR"}
    env.update(HOME=str(home), XDG_CONFIG_HOME=str(home / ".config"),
               XDG_STATE_HOME=str(home / ".local" / "state"))
    if emulator is not None:
        env["VSS_ENDPOINT"] = emulator.url
    if user:
        env["VSS_USER"] = user
    if password:
        env["VSS_USER_PASS"] = password
    for key, value in extra.items():
        if value is None:
            env.pop(key, None)
        else:
            env[key] = value
    return env


def profiles_file(home: Path) -> Path:
    """Where the shell keeps its profiles (with :func:`vss_env`)."""
    return home / ".config" / "vss-shell" / "profiles.toml"


def tokens_file(home: Path) -> Path:
    """Where the shell keeps its token cache (with :func:`vss_env`)."""
    return home / ".local" / "state" / "vss-shell" / "tokens.toml"


@dataclass
class Result:
    """A finished run of ``vss``."""

    args: list[str]
    returncode: int
    stdout: str
    stderr: str
    elapsed: float

    @property
    def output(self) -> str:
        """Everything the run printed."""
        return self.stdout + self.stderr

    def __str__(self) -> str:  # shown by pytest when an assertion fails
        return (f"vss {shlex.join(self.args)} -> {self.returncode} in {self.elapsed:.2f} s\n"
                f"--- stdout ---\n{self.stdout}--- stderr ---\n{self.stderr}")


def run_vss(*args: str, env: dict[str, str], cwd: Path, input: str | None = None,
            timeout: float = 30) -> Result:
    """Run ``vss ARGS`` to the end; stdin is ``input`` (or /dev/null)."""
    start = time.monotonic()
    done = subprocess.run(
        [*VSS, *args], input=input, capture_output=True, text=True, timeout=timeout,
        env=env, cwd=cwd, start_new_session=True,
        stdin=subprocess.DEVNULL if input is None else None,
    )
    return Result(list(args), done.returncode, done.stdout, done.stderr,
                  time.monotonic() - start)


class LiveVss:
    """``vss`` reading commands from a pipe the test writes to as it goes.

    Stdout is read line by line in a thread, so a test can wait for the result
    of one command, change the emulator (its clock...), then send the next.
    """

    def __init__(self, *args: str, env: dict[str, str], cwd: Path) -> None:
        self.args = list(args)
        self._start = time.monotonic()
        self.proc = subprocess.Popen(
            [*VSS, *args], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
            stderr=subprocess.PIPE, text=True, env=env, cwd=cwd, start_new_session=True,
        )
        self._lines: queue.Queue[str | None] = queue.Queue()
        self._stdout: list[str] = []
        self._stderr: list[str] = []
        self._threads = [
            threading.Thread(target=self._pump_stdout, daemon=True),
            threading.Thread(target=self._pump_stderr, daemon=True),
        ]
        for thread in self._threads:
            thread.start()

    def _pump_stdout(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self._stdout.append(line)
            self._lines.put(line)
        self._lines.put(None)

    def _pump_stderr(self) -> None:
        assert self.proc.stderr is not None
        for line in self.proc.stderr:
            self._stderr.append(line)

    def send(self, text: str) -> None:
        """Write ``text`` to the shell's stdin (and flush it)."""
        assert self.proc.stdin is not None
        self.proc.stdin.write(text)
        self.proc.stdin.flush()

    def read_line(self, timeout: float = 10) -> str:
        """The next line of stdout; fails the test after ``timeout`` seconds."""
        try:
            line = self._lines.get(timeout=timeout)
        except queue.Empty:
            raise AssertionError(f"no output line within {timeout} s; stderr so far:\n"
                                 + "".join(self._stderr)) from None
        if line is None:
            raise AssertionError("vss closed its stdout; stderr:\n" + "".join(self._stderr))
        return line

    def interrupt(self) -> None:
        """Send SIGINT, as Ctrl-C at a terminal would."""
        self.proc.send_signal(signal.SIGINT)

    def finish(self, timeout: float = 30) -> Result:
        """Close stdin and wait for the end of the run."""
        if self.proc.stdin is not None and not self.proc.stdin.closed:
            with contextlib.suppress(BrokenPipeError):
                self.proc.stdin.close()
        returncode = self.proc.wait(timeout=timeout)
        for thread in self._threads:
            thread.join(timeout=5)
        return Result(self.args, returncode, "".join(self._stdout), "".join(self._stderr),
                      time.monotonic() - self._start)

    def kill(self) -> None:
        """End the process if it is still running (test clean-up)."""
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(timeout=5)
        for stream in (self.proc.stdin, self.proc.stdout, self.proc.stderr):
            if stream is not None:
                with contextlib.suppress(OSError):
                    stream.close()

    def __enter__(self) -> LiveVss:
        return self

    def __exit__(self, *exc: object) -> None:
        self.kill()


def otp_command(directory: Path, secret: str) -> tuple[str, Path]:
    """An ``--otp-command`` printing the TOTP code of ``secret`` (no shell needed).

    The code is computed at the real time plus the seconds written in the
    returned offset file, so a test that moves the emulator's clock can move
    the "phone" with it.
    """
    offset = directory / "otp-offset"
    offset.write_text("0")
    script = directory / "otp_code.py"
    script.write_text(
        "import sys, time\n"
        "import pyotp\n"
        f"offset = float(open({str(offset)!r}).read())\n"
        f"print(pyotp.TOTP({secret!r}).at(time.time() + offset))\n"
    )
    return f"{shlex.quote(sys.executable)} {shlex.quote(str(script))}", offset


def json_lines(text: str) -> list[Any]:
    """Each line of ``text`` parsed as one JSON document (all lines must be JSON)."""
    import json

    return [json.loads(line) for line in text.splitlines()]


def requests_made(emulator: Any, key: str) -> int:
    """How many ``METHOD /path`` requests the emulator received since the last reset."""
    return int(emulator.stats()["requests"].get(key, 0))
