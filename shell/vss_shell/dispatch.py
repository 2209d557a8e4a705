"""Running one command line, and turning any failure into one line.

The interactive loop and piped runs both call :func:`execute` and
:func:`failure`; only how they print the line differs.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from vss_shell.commands.builtin import ExitShell, show_help
from vss_shell.commands.parser import Help, parse
from vss_shell.context import Context
from vss_shell.errors import ShellError, UsageError
from vss_shell.record import Record

__all__ = ["ExitShell", "Failure", "execute", "failure"]


def execute(ctx: Context, words: list[str]) -> None:
    """Parse ``words`` against the table, run the command's handler, print its result.

    Demo mode's news (what the emulator "sent") comes after the command's
    messages and before its result, and also when the command failed.
    """
    try:
        ran = _run(ctx, words)
    finally:
        if ctx.ui.show_news is not None:
            ctx.ui.show_news()
    if ran is not None:
        ctx.emit(*ran)


def _run(ctx: Context, words: list[str]) -> tuple[Any, str | None] | None:
    """The command's result and its ``--output``; None for a line with no command."""
    parsed = parse(ctx.table, words, ctx)
    if parsed is None:
        return None
    if isinstance(parsed, Help):  # `COMMAND --help`, or a group alone: as `help` prints it
        return show_help(ctx, parsed.target), None
    command = parsed.command
    if command.demo_only and ctx.demo is None:
        raise ShellError(f"'{command.name}' works only in demo mode (vss --demo)")
    return command.handler(ctx, parsed.args), getattr(parsed.args, "output", None)


class Failure(Record):
    """What went wrong, as the person sees it."""

    __slots__ = FIELDS = ("status", "message", "usage", "detail")

    def __init__(self, status: int, message: str, usage: str | None = None,
                 detail: str | None = None) -> None:
        self.status = status
        self.message = message
        self.usage = usage
        self.detail = detail  # a redacted traceback, for --debug


def failure(exc: BaseException, secrets: Iterable[str] = (), *, debug: bool = False) -> Failure:
    """One line (and an exit status) for any exception a command raised."""
    from vss_shell.api.errors import ApiError, scrub

    secrets = list(secrets)
    detail = None
    if debug:
        import traceback

        detail = scrub("".join(traceback.format_exception(exc)), secrets)
    if isinstance(exc, KeyboardInterrupt):
        return Failure(130, "cancelled", detail=detail)
    if isinstance(exc, UsageError):
        return Failure(exc.exit_status, str(exc), exc.usage, detail)
    if isinstance(exc, ShellError | ApiError):
        return Failure(getattr(exc, "exit_status", 1), scrub(_bounded(str(exc)), secrets),
                       detail=detail)
    line = scrub(_bounded(f"{type(exc).__name__}: {exc}".splitlines()[0]), secrets)
    hint = "" if debug else " (run with --debug for details)"
    return Failure(1, f"internal error: {line}{hint}", detail=detail)


#: Longer messages are cut (a message may quote a word of any length back).
MESSAGE_LIMIT = 1000


def _bounded(message: str) -> str:
    """``message``, cut to :data:`MESSAGE_LIMIT` characters; a URL cut in two goes
    whole (its user name or password could no longer be recognised and hidden)."""
    if len(message) <= MESSAGE_LIMIT:
        return message
    head = message[:MESSAGE_LIMIT]
    cut = max(head.rfind(" "), 0)
    if "://" in head[cut:]:
        head = head[:cut]
    return head + f"... ({len(message)} characters)"
