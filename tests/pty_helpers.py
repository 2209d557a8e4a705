"""A pseudo-terminal driver for end-to-end tests: pexpect for the child, pyte for the screen.

The child's output goes through a pyte screen, so tests assert on what a person
would see. The screen answers the terminal's queries (prompt_toolkit asks for
the cursor position with ``ESC[6n`` and draws its bottom toolbar only once it
has the answer).
"""

from __future__ import annotations

import os
import re
import sys
import time
from collections.abc import Callable, Iterable
from pathlib import Path

import pexpect
import pyte

COLUMNS, LINES = 120, 40
#: Seconds a wait gives the child before the test fails with the screen shown.
WAIT = 10.0

Expect = str | re.Pattern[str] | Callable[[str], bool]


class AnsweringScreen(pyte.Screen):
    """A pyte screen whose replies (cursor position, status) go back to the child."""

    def __init__(self, columns: int, lines: int, reply: Callable[[str], object]) -> None:
        super().__init__(columns, lines)
        self._reply = reply

    def write_process_input(self, data: str) -> None:
        self._reply(data)


def shell_env(home: Path, **extra: str) -> dict[str, str]:
    """The environment of a shell under test: HOME and XDG folders in ``home``, no VSS_*."""
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("VSS_", "XDG_", "PROMPT_TOOLKIT_", "NO_COLOR"))}
    env.update(
        HOME=str(home),
        XDG_CONFIG_HOME=str(home / ".config"),
        XDG_STATE_HOME=str(home / ".local" / "state"),
        TERM="xterm",
        LANG="C.UTF-8",
        LC_ALL="C.UTF-8",
        COLUMNS=str(COLUMNS),
        LINES=str(LINES),
    )
    env.update(extra)
    return env


class Terminal:
    """One ``vss`` process in a pseudo-terminal, and the screen a person would see."""

    def __init__(self, args: Iterable[str], *, cwd: Path, env: dict[str, str],
                 columns: int = COLUMNS, lines: int = LINES) -> None:
        self.child = pexpect.spawn(
            sys.executable, ["-m", "vss_shell", *args], cwd=str(cwd), env=env,
            dimensions=(lines, columns), encoding="utf-8", codec_errors="replace",
            echo=False, timeout=WAIT)
        # pexpect sleeps 50 ms before each send by default: a person types, but
        # the replies to the terminal's queries should not wait.
        self.child.delaybeforesend = None
        self.child.delayafterclose = 0.05
        self.child.delayafterterminate = 0.05
        self.screen = AnsweringScreen(columns, lines, self._answer)
        self.stream = pyte.Stream(self.screen)
        #: Everything the child wrote, as received (escape sequences included).
        self.raw = ""
        #: Every line that was ever on the screen, in the order first seen.
        self.seen: list[str] = []
        self._seen_set: set[str] = set()
        #: Cursor-position requests seen when a prompt was last ended (Enter, Ctrl-C...).
        self.mark = 0

    # --- talking to the child ----------------------------------------------------
    def _answer(self, data: str) -> None:
        if self.child.isalive():
            self.child.send(data)

    def prompts(self) -> int:
        """How many times a prompt started (prompt_toolkit asks for the cursor then)."""
        return self.raw.count(CPR_REQUEST)

    def _ending(self) -> None:
        self.pump(0)
        self.mark = self.prompts()

    def type(self, text: str) -> None:
        """Send keys as typed (``\\r`` is Enter)."""
        if "\r" in text:
            self._ending()
        self.child.send(text)

    def line(self, text: str) -> None:
        """Type ``text`` and press Enter."""
        self._ending()
        self.child.send(text + "\r")

    def key(self, name: str) -> None:
        """Press a named key."""
        if name in ("enter", "ctrl-c", "ctrl-d"):
            self._ending()
        self.child.send(KEYS[name])

    def new_prompt(self) -> bool:
        """Whether a prompt (or question) started since Enter, Ctrl-C or Ctrl-D was last sent."""
        return self.prompts() > self.mark

    # --- reading the screen ------------------------------------------------------
    def pump(self, timeout: float = 0.05) -> bool:
        """Feed what the child wrote (waiting up to ``timeout``) to the screen."""
        got = False
        while True:
            try:
                data = self.child.read_nonblocking(65536, timeout=timeout)
            except pexpect.TIMEOUT:
                break
            except pexpect.EOF:
                break
            got = True
            self.raw += data
            self.stream.feed(data)
            timeout = 0.01
        if got:
            for text in self.screen.display:
                text = text.rstrip()
                if text and text not in self._seen_set:
                    self._seen_set.add(text)
                    self.seen.append(text)
        return got

    def screen_text(self) -> str:
        """The screen now, one line a row, trailing blanks removed."""
        return "\n".join(row.rstrip() for row in self.screen.display)

    def _shown(self) -> str:
        """The screen for a failure message: blank rows dropped."""
        return "\n".join(f"  |{row}" for row in self.rows() if row)

    def rows(self) -> list[str]:
        return [row.rstrip() for row in self.screen.display]

    def cursor_row(self) -> str:
        """The row the cursor is on."""
        return self.screen.display[self.screen.cursor.y].rstrip()

    def wait_for(self, expect: Expect, timeout: float = WAIT) -> str:
        """Pump until the screen shows ``expect``; the screen text then."""
        if isinstance(expect, str):
            def check(text: str) -> bool:
                return expect in text
        elif isinstance(expect, re.Pattern):
            def check(text: str) -> bool:
                return expect.search(text) is not None
        else:
            check = expect
        deadline = time.monotonic() + timeout
        while True:
            self.pump()
            text = self.screen_text()
            if check(text):
                return text
            if time.monotonic() > deadline:
                raise AssertionError(
                    f"timed out after {timeout} s waiting for {expect!r}; the screen:\n"
                    + self._shown() + f"\n(alive: {self.child.isalive()})")
            if not self.child.isalive():
                # Drain whatever is left, then decide.
                self.pump(0.2)
                text = self.screen_text()
                if check(text):
                    return text
                raise AssertionError(f"the shell exited while waiting for {expect!r}; "
                                     f"the screen:\n{self._shown()}")

    def wait_for_cursor_line(self, expect: str, timeout: float = WAIT) -> str:
        """Pump until the cursor's row shows ``expect`` (a question is being asked)."""
        self.wait_for(lambda _text: expect in self.cursor_row(), timeout)
        return self.cursor_row()

    def wait_exit(self, timeout: float = WAIT) -> int:
        """Wait for the child to end; its exit status."""
        deadline = time.monotonic() + timeout
        while self.child.isalive():
            self.pump()
            if time.monotonic() > deadline:
                raise AssertionError(f"the shell did not exit; the screen:\n{self._shown()}")
        self.pump(0.1)
        self.child.close()
        assert self.child.exitstatus is not None, f"killed by signal {self.child.signalstatus}"
        return self.child.exitstatus

    def close(self) -> None:
        """End the child if it is still running."""
        if self.child.isalive():
            self.child.terminate(force=True)
        self.child.close(force=True)


CPR_REQUEST = "\x1b[6n"

KEYS = {
    "tab": "\t",
    "enter": "\r",
    "up": "\x1b[A",
    "down": "\x1b[B",
    "left": "\x1b[D",
    "ctrl-c": "\x03",
    "ctrl-d": "\x04",
    "f1": "\x1bOP",
}


def profile_on(home: Path, url: str) -> None:
    """The default profile pointed at ``url`` (an ``--endpoint`` would show in the prompt)."""
    path = home / ".config" / "vss-shell" / "profiles.toml"
    path.parent.mkdir(parents=True, mode=0o700, exist_ok=True)
    path.write_text(f'default = "cloud-api"\n[profiles.cloud-api]\nendpoint = "{url}"\n')
    path.chmod(0o600)
