"""The port between commands and the person: echo, confirm, ask, ask a secret.

Commands talk only to :class:`UI`. :class:`TerminalUI` serves the
interactive shell (questions through prompt_toolkit); :class:`BatchUI`
serves piped runs (results on stdout, messages on stderr, questions on
``/dev/tty`` when there is one, otherwise a clear error naming the flag).
"""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Callable
from typing import Any, TextIO

from vss_shell.errors import Cancelled, MissingAnswer, hide_url_secrets


class UI:
    """What a command may do with the person at the other end."""

    #: Messages (not results) go to stdout here; piped runs send them to stderr.
    messages_to_stdout = True
    #: Whether Ctrl-C ends the whole run (a script), not just the question (the shell).
    interrupt_ends_run = False

    def __init__(self, *, color: bool = False, assume_yes: bool = False,
                 stdout: TextIO | None = None, stderr: TextIO | None = None) -> None:
        self.color = color
        self.assume_yes = assume_yes
        self.stdout = stdout or sys.stdout
        self.stderr = stderr or sys.stderr
        #: Called before each question and after each command: demo mode shows
        #: there what the emulator just "sent" (a code, a token).
        self.show_news: Callable[[], None] | None = None

    # --- output ---------------------------------------------------------
    def out(self, text: str = "") -> None:
        """A result, on stdout."""
        print(text, file=self.stdout, flush=True)

    def info(self, text: str) -> None:
        """A message about progress: stdout at a prompt, stderr in a pipe."""
        print(text, file=self.stdout if self.messages_to_stdout else self.stderr, flush=True)

    def warn(self, text: str) -> None:
        """A warning, on stderr (a URL's credentials or query hidden)."""
        print(self._paint(f"warning: {hide_url_secrets(text)}", "33"), file=self.stderr,
              flush=True)

    def error(self, text: str) -> None:
        """An error line, on stderr (a URL's credentials or query hidden: the line may
        quote back what was typed)."""
        print(self._paint(hide_url_secrets(text), "31"), file=self.stderr, flush=True)

    def _paint(self, text: str, sgr: str) -> str:
        return f"\x1b[{sgr}m{text}\x1b[0m" if self.color else text

    def progress(self, label: str = "") -> contextlib.AbstractContextManager[None]:
        """Around a request: a terminal shows the time it takes once it is slow; a
        pipe shows nothing (this default)."""
        return contextlib.nullcontext()

    @property
    def columns(self) -> int | None:
        """The terminal's width when results go to one, else None (no limit)."""
        try:
            return os.get_terminal_size(self.stdout.fileno()).columns
        except (AttributeError, ValueError, OSError):  # not a terminal: a pipe, a file
            return None

    # --- questions --------------------------------------------------------
    @property
    def can_ask(self) -> bool:
        """Whether a question can reach a person."""
        return True

    def read_line(self, prompt: str, *, secret: bool = False) -> str:
        """Read one answer; the subclasses say from where."""
        raise NotImplementedError

    def _read(self, prompt: str, *, secret: bool = False) -> str:
        if self.show_news is not None:
            self.show_news()
        return self.read_line(prompt, secret=secret)

    def require(self, question: str, flag: str) -> None:
        """Fail at once (naming ``flag``) when ``question`` cannot reach a person."""
        if not self.can_ask:
            what = question.rstrip(" :?")
            raise MissingAnswer(f"no terminal to ask '{what}': use {flag}")

    def ask(self, question: str, *, flag: str, default: str | None = None) -> str:
        """An answer to ``question`` (``default`` when left empty)."""
        self.require(question, flag)
        shown = f"{question} [{default}]: " if default else f"{question}: "
        while True:
            answer = self._read(shown).strip()
            if answer:
                return answer
            if default is not None:
                return default

    def ask_secret(self, question: str, *, flag: str, strip: bool = True) -> str:
        """A secret answer; it is not echoed and not remembered. A password keeps
        its spaces (``strip=False``), as from ``VSS_USER_PASS``."""
        self.require(question, flag)
        while True:
            answer = self._read(f"{question}: ", secret=True)
            if answer.strip():
                return answer.strip() if strip else answer

    def confirm(self, question: str, *, flag: str, default: bool = False) -> bool:
        """Yes or no; ``--yes`` answers yes to every confirmation."""
        if self.assume_yes:
            return True
        self.require(question, flag)
        hint = "[Y/n]" if default else "[y/N]"
        while True:
            answer = self._read(f"{question} {hint} ").strip().lower()
            if not answer:
                return default
            if answer in ("y", "yes"):
                return True
            if answer in ("n", "no"):
                return False
            self.info("Please answer y or n.")

    def confirm_or_cancel(self, question: str, *, flag: str, default: bool = False) -> None:
        """Go on only if the person says yes."""
        if not self.confirm(question, flag=flag, default=default):
            raise Cancelled("cancelled; nothing was changed")


class TerminalUI(UI):
    """The interactive shell: questions through prompt_toolkit, no history."""

    def read_line(self, prompt: str, *, secret: bool = False) -> str:
        from prompt_toolkit import PromptSession

        # A fresh session per question: answers never enter any history. A secret
        # shows nothing as it is typed, not even its length (as sudo and ssh).
        processors = [_hidden()] if secret else None
        try:
            return PromptSession(input_processors=processors).prompt(prompt)
        except EOFError:
            raise KeyboardInterrupt from None


def _hidden() -> Any:
    """A prompt_toolkit input processor that displays nothing, the cursor left in place."""
    from prompt_toolkit.layout.processors import Processor, Transformation

    class Hidden(Processor):
        def apply_transformation(self, ti: Any) -> Transformation:
            return Transformation([], source_to_display=lambda i: 0,
                                  display_to_source=lambda i: 0)

    return Hidden()


class BatchUI(UI):
    """Piped runs: the command stream is never read for answers."""

    messages_to_stdout = False
    interrupt_ends_run = True

    def __init__(self, *, tty_path: str = "/dev/tty", **kwargs) -> None:
        super().__init__(**kwargs)
        self._tty_path = tty_path

    @property
    def can_ask(self) -> bool:
        try:
            fd = os.open(self._tty_path, os.O_RDWR | os.O_NOCTTY)
        except OSError:
            return False
        os.close(fd)
        return True

    def read_line(self, prompt: str, *, secret: bool = False) -> str:
        if secret:
            import getpass

            try:
                return getpass.getpass(prompt)  # reads /dev/tty without echo
            except EOFError:  # Ctrl-D: as for any other question
                raise KeyboardInterrupt from None
        fd = os.open(self._tty_path, os.O_RDWR | os.O_NOCTTY)
        with os.fdopen(fd, "rb", buffering=0) as tty:  # a terminal cannot seek: raw I/O
            os.write(fd, prompt.encode())
            line = tty.readline().decode("utf-8", "replace")
        if not line:
            raise KeyboardInterrupt
        return line.rstrip("\r\n")
