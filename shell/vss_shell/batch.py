"""Piped runs: command files, standard input, and ``-c``.

The same table, grammar and handlers as the interactive shell; each failure is
one line ``FILE:LINE: message`` on stderr, and the exit status says how it went.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from vss_shell import startup
from vss_shell.commands.parser import Piece, Splitter, split
from vss_shell.context import Context
from vss_shell.dispatch import ExitShell, execute, failure
from vss_shell.errors import UsageError

#: Exit statuses.
OK, FAILED, USAGE, INTERRUPTED = 0, 1, 2, 130


def logical_lines(stream: Iterable[str]) -> Iterator[tuple[int, list[str] | str]]:
    """The commands of a file read line by line, each with the line it starts on.

    The grammar is the shell's (:class:`~vss_shell.commands.parser.Splitter`):
    ``;``, ``\\`` continuations, quotes and comments. A line (with its
    continuations) is read whole before any of its commands runs; when one of them
    cannot be read, only its text is given, and running it says why.
    """
    splitter = Splitter()
    for raw in _bounded(stream):
        yield from _line_commands(splitter.feed(raw.rstrip("\r\n") + "\n"))
    yield from _line_commands([splitter.end()])


#: The longest line of a command file read (a longer one is no command: /dev/zero).
MAX_LINE = 1 << 20


class LineTooLong(UsageError):
    """A line of a command file longer than MAX_LINE characters."""


def _bounded(stream: Iterable[str]) -> Iterator[str]:
    """The stream's lines, each read up to MAX_LINE characters: a longer one (a wrong
    file, /dev/zero) raises :class:`LineTooLong` and nothing more is read."""
    read = getattr(stream, "readline", None)
    if read is None:  # a list of lines (tests): already in memory
        yield from stream
        return
    while line := read(MAX_LINE + 1):
        if len(line) > MAX_LINE and not line.endswith("\n"):
            raise LineTooLong(f"a line longer than {MAX_LINE} characters is no command; "
                              "the rest of the file was not read")
        yield line


def _line_commands(found: list[Piece]) -> Iterator[tuple[int, list[str] | str]]:
    ready: list[tuple[int, list[str] | str]] = []
    for piece in found:
        try:
            words = split(piece.text)
        except UsageError:
            yield piece.line, piece.text
            return
        if words:
            ready.append((piece.line, words))
    yield from ready


def run(ctx: Context, name: str, entries: Iterable[tuple[int, str | list[str]]], *,
        keep_going: bool = False, debug: bool = False) -> int:
    """Run each entry (a line, or a command's words); the exit status of the run."""
    status = OK
    commands = iter(entries)
    ran = False
    try:
        while True:
            if ran:  # start-up (the HTTP stack included) is over once a command has run
                startup.ready()
            ran = True
            try:
                number, entry = next(commands)
            except StopIteration:
                break
            except LineTooLong as exc:  # the file itself: no command to number
                ctx.ui.error(f"{name}: {exc}")
                status = max(status, exc.exit_status)
                break
            except OSError as exc:  # the file cannot be read on (an I/O error)
                ctx.ui.error(f"{name}: cannot read it: {exc.strerror or exc}")
                status = max(status, USAGE)
                break
            try:
                execute(ctx, split(entry) if isinstance(entry, str) else entry)
            except ExitShell:
                break
            except BrokenPipeError:
                raise
            except Exception as exc:
                report = failure(exc, ctx.session.secrets(), debug=debug)
                if report.detail:
                    ctx.ui.error(report.detail.rstrip())
                ctx.ui.error(f"{name}:{number}: {report.message}")
                if report.usage:
                    ctx.ui.error(f"{name}:{number}: {report.usage}")
                status = max(status, report.status)
                if not keep_going:
                    break
    except KeyboardInterrupt:
        ctx.ui.error(f"{name}: interrupted")
        return INTERRUPTED
    finally:
        ctx.session.close()
    return status
