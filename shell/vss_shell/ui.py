"""The port between commands and the person: echo, confirm, ask, ask a secret.

Commands talk only to :class:`UI`. :class:`TerminalUI` serves the
interactive shell (questions through prompt_toolkit); :class:`BatchUI`
serves piped runs (results on stdout, messages on stderr, questions on
``/dev/tty`` when there is one, otherwise a clear error naming the flag).

Every text printed or asked is made :func:`~vss_shell.safetext.visible` here,
once (a server's message, a value from a file cannot drive the terminal); only
:class:`~vss_shell.safetext.Styled` text, which the shell built from sanitized
parts with its own escapes (coloured JSON, the QR code), is printed as it is.
"""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Callable, Iterable
from typing import Any, TextIO

from vss_shell.errors import Cancelled, MissingAnswer, hide_secrets, hide_url_secrets
from vss_shell.safetext import Styled, shown, visible


class UI:
    """What a command may do with the person at the other end."""

    #: Messages (not results) go to stdout here; piped runs send them to stderr.
    messages_to_stdout = True
    #: Whether Ctrl-C ends the whole run (a script), not just the question (the shell).
    interrupt_ends_run = False
    #: Seconds a request runs before its elapsed time is shown, and between updates.
    progress_after = 0.5
    progress_every = 0.1

    def __init__(self, *, color: bool = False, assume_yes: bool = False,
                 stdout: TextIO | None = None, stderr: TextIO | None = None) -> None:
        self.color = color
        self.assume_yes = assume_yes
        self.stdout = stdout or sys.stdout
        self.stderr = stderr or sys.stderr
        #: Called before each question and after each command: demo mode shows
        #: there what the emulator just "sent" (a code, a token).
        self.show_news: Callable[[], None] | None = None
        #: The spellings of what must never be printed (the session's password and
        #: token: :func:`vss_shell.errors.spellings`); every text printed or asked
        #: has them replaced by ``***``, whatever a server echoes back.
        self.secrets: Callable[[], Iterable[str]] | None = None
        #: The line that shows a slow request's time (made at the first request at a
        #: terminal); :attr:`_ticker` is it while a request runs, else None.
        self._clock: _Ticker | None = None
        self._ticker: _Ticker | None = None

    # --- output ---------------------------------------------------------
    def out(self, text: str = "") -> None:
        """A result, on stdout."""
        self._write(self.stdout, self._safe(text))

    def tell(self, text: str) -> None:
        """What a person needs in order to answer a question (a key, recovery codes, a
        QR code): where results go; :class:`BatchUI` says it on the terminal that asks
        when results go to a file or a pipe. Shown as given (control characters
        escaped): these are secrets by contract, which hiding could corrupt."""
        self._write(self.stdout, shown(text))

    def info(self, text: str) -> None:
        """A message about progress: stdout at a prompt, stderr in a pipe."""
        self._write(self.stdout if self.messages_to_stdout else self.stderr, self._safe(text))

    def warn(self, text: str) -> None:
        """A warning, on stderr (a URL's credentials or query hidden)."""
        self._write(self.stderr, self._paint(f"warning: {self._safe_line(text)}", "33"))

    def error(self, text: str) -> None:
        """An error line, on stderr (a URL's credentials or query hidden: the line may
        quote back what was typed)."""
        self._write(self.stderr, self._paint(self._safe_line(text), "31"))

    def _safe(self, text: object) -> str:
        """``text`` fit to print: secrets hidden, control characters visible (but in
        :class:`Styled` text, the shell's own)."""
        if self.secrets is not None:
            plain = text if isinstance(text, str) else str(text)
            hidden = hide_secrets(plain, self.secrets())
            if hidden != plain:
                text = Styled(hidden) if isinstance(plain, Styled) else hidden
        return shown(text)

    def _safe_line(self, text: str) -> str:
        """A warning or error line: also what a URL could hide."""
        return hide_url_secrets(visible(self._safe(str(text))))

    def _write(self, stream: TextIO, text: str) -> None:
        """Print ``text``, already safe, as it is (a slow request's time line first
        goes)."""
        if self._ticker is not None:  # a message in the middle of a request
            self._ticker.stop()
            self._ticker = None
        print(text, file=stream, flush=True)

    def _paint(self, text: str, sgr: str) -> str:
        return f"\x1b[{sgr}m{text}\x1b[0m" if self.color else text

    def progress(self, label: str = "") -> contextlib.AbstractContextManager[None]:
        """Around a request: once it is slow, its elapsed time on stderr (one line,
        erased after) when stderr is a terminal (the shell, or ``vss -c`` typed at
        one); nothing in a pipe."""
        if self._ticker is not None or not _is_terminal(self.stderr):
            return contextlib.nullcontext()
        return self._ticking(label or "waiting for the server")

    @contextlib.contextmanager
    def _ticking(self, label: str) -> Any:
        if self._clock is None or self._clock.stream is not self.stderr:
            self._clock = _Ticker(self.stderr)
        ticker = self._ticker = self._clock
        ticker.begin(visible(label, newlines=False), after=self.progress_after,
                     every=self.progress_every)
        try:
            yield
        finally:  # also on Ctrl-C: the line goes at once
            self._ticker = None
            ticker.stop()

    @property
    def columns(self) -> int | None:
        """The terminal's width when results go to one, else None (no limit)."""
        size = self._size()
        return None if size is None else size.columns

    @property
    def lines(self) -> int | None:
        """The terminal's height when results go to one, else None (no limit)."""
        size = self._size()
        return None if size is None else size.lines

    def _size(self) -> os.terminal_size | None:
        try:
            return os.get_terminal_size(self.stdout.fileno())
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
        return self.read_line(self._safe(prompt), secret=secret)

    def require(self, question: str, flag: str) -> None:
        """Fail at once (naming ``flag``) when ``question`` cannot reach a person."""
        if not self.can_ask:
            what = question.rstrip(" :?")
            raise MissingAnswer(f"no terminal to ask '{what}': use {flag}")

    def ask(self, question: str, *, flag: str, default: str | None = None,
            paths: bool = False) -> str:
        """An answer to ``question`` (``default`` when left empty); ``paths``: the
        answer is a file name (a terminal completes it)."""
        self.require(question, flag)
        prompt = f"{question} [{default}]: " if default else f"{question}: "
        while True:
            answer = self._read(prompt).strip()
            if answer:
                return answer
            if default is not None:
                return default

    def ask_secret(self, question: str, *, flag: str, strip: bool = True,
                   allow_empty: bool = False) -> str:
        """A secret answer; it is not echoed and not remembered. A password keeps
        its spaces (``strip=False``), as from ``VSS_USER_PASS``. An empty answer is
        asked again, unless ``allow_empty`` (it means something to the caller)."""
        self.require(question, flag)
        while True:
            answer = self._read(f"{question}: ", secret=True)
            if answer.strip() or allow_empty:
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

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._completer: Any = None

    def ask(self, question: str, *, flag: str, default: str | None = None,
            paths: bool = False) -> str:
        self._completer = _path_completer() if paths else None
        try:
            return super().ask(question, flag=flag, default=default)
        finally:
            self._completer = None

    def read_line(self, prompt: str, *, secret: bool = False) -> str:
        from prompt_toolkit import PromptSession

        if self._ticker is not None:  # a question ends the wait for the server
            self._ticker.stop()
            self._ticker = None
        # A fresh session per question: answers never enter any history. A secret
        # shows nothing as it is typed, not even its length (as sudo and ssh).
        processors = [_hidden()] if secret else None
        completer = None if secret else self._completer
        try:
            return PromptSession(input_processors=processors, completer=completer,
                                 complete_while_typing=False).prompt(visible(prompt))
        except EOFError:
            raise KeyboardInterrupt from None


def _is_terminal(stream: TextIO) -> bool:
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError, OSError):  # closed, or not a file
        return False


def _path_completer() -> Any:
    from prompt_toolkit.completion import PathCompleter

    return PathCompleter(expanduser=True)


class _Ticker:
    """The line ``label... N.N s`` on ``stream`` while a request runs, drawn once it
    has run ``after`` seconds, updated every ``every``, erased when it ends.

    One daemon thread (started with the first request) draws it for every request
    of the run: a request costs two notifications, not a thread of its own."""

    def __init__(self, stream: TextIO) -> None:
        import threading
        import time

        self.stream = stream
        self._now = time.monotonic
        self._cond = threading.Condition()
        #: The running request: (label, started, after, every); None between requests.
        self._request: tuple[str, float, float, float] | None = None
        self._serial = 0  # counts begin() and stop(): a wait is for one request only
        self.shown = False
        #: Set after each line drawn (tests wait on it rather than sleep).
        self.drawn = threading.Event()
        self._thread = threading.Thread(target=self._run, name="vss-progress", daemon=True)
        self._thread.start()

    def begin(self, label: str, *, after: float, every: float) -> None:
        """A request starts: its line is drawn if it is still running after ``after`` s."""
        with self._cond:
            self._request = (label, self._now(), after, every)
            self._serial += 1
            self._cond.notify()

    def stop(self) -> None:
        """The request ended (or a message or question comes): erase the line if it was
        drawn and draw no more until the next :meth:`begin`. Idempotent."""
        with self._cond:
            if self._request is not None:
                self._request = None
                self._serial += 1
                self._cond.notify()
            if self.shown:
                self.shown = False
                with contextlib.suppress(OSError, ValueError):  # the terminal went away
                    self.stream.write("\r\x1b[K")
                    self.stream.flush()

    def _run(self) -> None:
        with self._cond:
            while True:
                while self._request is None:
                    self._cond.wait()
                serial = self._serial
                label, started, after, every = self._request
                due = started + after
                while self._serial == serial:
                    left = due - self._now()
                    if left > 0:
                        self._cond.wait(left)
                        continue
                    try:
                        self.stream.write(f"\r\x1b[K  {label}... {self._now() - started:.1f} s")
                        self.stream.flush()
                    except (OSError, ValueError):  # the terminal went away
                        self._request = None
                        break
                    self.shown = True
                    self.drawn.set()
                    due = self._now() + every


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

    def tell(self, text: str) -> None:
        if self.columns is not None or not self.can_ask:  # stdout is the terminal, or
            super().tell(text)  # no person is asked anything: with the results
            return
        fd = os.open(self._tty_path, os.O_WRONLY | os.O_NOCTTY)
        try:
            os.write(fd, (shown(text) + "\n").encode())
        finally:
            os.close(fd)

    def read_line(self, prompt: str, *, secret: bool = False) -> str:
        prompt = visible(prompt)
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
