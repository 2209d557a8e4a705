"""Piped runs: command files, standard input, and ``-c``.

The same table and handlers as the interactive shell; each failure is one
line ``FILE:LINE: message`` on stderr, and the exit status says how it went.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import TextIO

from vss_shell.commands.parser import comment_start, split
from vss_shell.context import Context
from vss_shell.dispatch import ExitShell, execute, failure

#: Exit statuses.
OK, FAILED, USAGE, INTERRUPTED = 0, 1, 2, 130


def logical_lines(stream: TextIO) -> Iterator[tuple[int, str]]:
    """Lines with ``\\``-continuations joined, each with its first line's number."""
    pending, start = "", 0
    for number, raw in enumerate(stream, 1):
        line = raw.rstrip("\r\n")
        if not pending:
            start = number
        trailing = len(line) - len(line.rstrip("\\"))
        if trailing % 2 and comment_start(pending + line) is None:
            pending += line[:-1]
            continue
        yield start, pending + line
        pending = ""
    if pending:
        yield start, pending


def run(ctx: Context, name: str, entries: Iterable[tuple[int, str | list[str]]], *,
        keep_going: bool = False, debug: bool = False) -> int:
    """Run each entry (a line, or a command's words); the exit status of the run."""
    status = OK
    try:
        for number, entry in entries:
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
