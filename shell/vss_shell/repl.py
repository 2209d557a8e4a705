"""The interactive loop: prompt, toolbar, key bindings, history, completion.

A line typed here follows the grammar of files and ``vss -c``
(:class:`vss_shell.commands.parser.Splitter`): ``;`` separates commands, and
Enter on a line that ends with ``\\`` goes on to the next line (``... >``).
"""

from __future__ import annotations

import contextlib
import os
import threading
from collections.abc import Callable
from pathlib import Path

from prompt_toolkit import PromptSession
from prompt_toolkit.application import get_app, run_in_terminal
from prompt_toolkit.auto_suggest import AutoSuggestFromHistory, ConditionalAutoSuggest
from prompt_toolkit.filters import Condition, completion_is_selected, has_completions
from prompt_toolkit.formatted_text import StyleAndTextTuples
from prompt_toolkit.history import History, InMemoryHistory
from prompt_toolkit.key_binding import KeyBindings, KeyPressEvent
from prompt_toolkit.output import ColorDepth
from prompt_toolkit.shortcuts import CompleteStyle
from prompt_toolkit.styles import Style

from vss_shell import startup
from vss_shell.commands.builtin import help_text
from vss_shell.commands.parser import classify, continues, numbered_commands, pieces, words
from vss_shell.completion import ShellCompleter
from vss_shell.context import Context
from vss_shell.dispatch import ExitShell, execute, failure
from vss_shell.history import MaskingFileHistory
from vss_shell.lexer import STYLE, ShellLexer
from vss_shell.safetext import visible

UI_STYLE = {
    **STYLE,
    "prompt": "bold",
    "bottom-toolbar": "noreverse bg:#303030 #d0d0d0",
    "bottom-toolbar.key": "bold #ffffff",
    "bottom-toolbar.state": "#87d787",
}


#: The prompt of the lines that continue a command (after a ``\\``).
CONTINUATION = "... > "


def prompt_text(ctx: Context) -> str:
    """``vss (PROFILE) > ``; ``vss (PROFILE → HOST:PORT) > `` when ``--endpoint`` or
    ``VSS_ENDPOINT`` stands over the profile's endpoint."""
    settings = ctx.settings
    name = visible(settings.name, newlines=False)
    if settings.sources.get("endpoint", "").startswith(("option", "env")):
        return f"vss ({name} → {visible(host(settings.endpoint), newlines=False)}) > "
    return f"vss ({name}) > "


def host(endpoint: str) -> str:
    """``HOST:PORT`` of a URL: no scheme, user name, password or path."""
    rest = endpoint.partition("://")[2] or endpoint
    netloc = rest.split("/", 1)[0].split("?", 1)[0].split("#", 1)[0]
    return netloc.rpartition("@")[2]


def continuation(width: int, line_number: int, wrap_count: int) -> str:
    """``... > `` (as wide as the prompt) before each line a ``\\`` continued;
    nothing before a line wrapped by the terminal."""
    return CONTINUATION.rjust(width) if wrap_count == 0 else ""


def toolbar(ctx: Context) -> StyleAndTextTuples:
    """Profile, user, session state, the keys, then the endpoint (the longest part:
    on a narrow terminal it is what gets cut)."""
    session, settings = ctx.session, ctx.settings
    return [
        ("class:bottom-toolbar.key", f" {visible(settings.name, newlines=False)}"),
        ("", " · "),
        ("class:bottom-toolbar.key", visible(session.username or "no user", newlines=False)),
        ("", " · "),
        ("class:bottom-toolbar.state", visible(session.describe(), newlines=False)),
        ("", f" · F1 help · Tab complete · Ctrl-D exit · "
             f"{visible(settings.endpoint, newlines=False)} "),
    ]


def key_bindings(show_help: Callable[[str], None]) -> KeyBindings:
    """Enter takes a completion from an open menu instead of running a half-typed
    word, and goes on to a new line after a ``\\``; F1 shows help on the command
    under the cursor, and the line stays as it is."""
    kb = KeyBindings()

    @kb.add("enter", filter=has_completions & completion_is_selected)
    def _accept_completion(event: KeyPressEvent) -> None:
        event.current_buffer.complete_state = None

    @kb.add("enter", filter=has_completions & ~completion_is_selected)
    def _complete_or_run(event: KeyPressEvent) -> None:
        buffer = event.current_buffer
        state = buffer.complete_state
        assert state is not None
        before = buffer.document.text_before_cursor
        typed = before[len(before) + state.completions[0].start_position:]
        value = typed.strip("'\"")
        offered = {c.text.strip().strip("'\"") for c in state.completions}
        if not value or value in offered:  # a whole word, as offered: run the line
            buffer.complete_state = None
            buffer.validate_and_handle()
            return
        fits = [c for c in state.completions
                if c.text.strip("'\"").lower().startswith(value.lower())]
        if len(fits) <= 1:  # one way to go on (or a fuzzy match): take it
            buffer.apply_completion(fits[0] if fits else state.completions[0])
            return
        common = os.path.commonprefix([c.text.strip() for c in fits])  # noqa: RUF071 (text)
        if len(common) > len(typed):  # as far as the candidates agree; the menu stays
            buffer.delete_before_cursor(len(typed))
            buffer.insert_text(common)

    @kb.add("f1")
    def _help(event: KeyPressEvent) -> None:
        buffer = event.current_buffer
        text = command_at(buffer.text, buffer.cursor_position)
        run_in_terminal(lambda: show_help(text))

    # Added last: it wins over the bindings above.
    @kb.add("enter", filter=Condition(lambda: continues(get_app().current_buffer.text)))
    def _continue(event: KeyPressEvent) -> None:
        buffer = event.current_buffer
        buffer.complete_state = None
        buffer.cursor_position = len(buffer.text)
        buffer.insert_text("\n")

    return kb


def command_at(text: str, cursor: int) -> str:
    """The text of the command the cursor is in (``;`` and newlines separate them)."""
    found = pieces(text)
    return next((p.text for p in found if cursor <= p.end), found[-1].text)


def help_for(ctx: Context, text: str) -> str:
    """Help on what ``text`` names (a command or group), else on everything."""
    walk = classify(ctx.table, [w.value for w in words(text)])
    return help_text(ctx.table, walk.command or walk.entry, demo=ctx.demo is not None)


def prepare_http(ctx: Context) -> threading.Thread:
    """Import the HTTP stack (``requests``, ``urllib3``), make the session's client and
    its connection pool (nothing is sent) and import what prints a result, in a daemon
    thread while the person types: the first command then does not wait for them. The
    loop joins it before running a command: no command runs alongside it. Then
    start-up is over (:func:`startup.ready`)."""

    def load() -> None:
        try:
            with contextlib.suppress(Exception):  # the command that needs it will say
                import vss_shell.output  # noqa: F401

                ctx.session.client.warm()
        finally:
            startup.ready()

    thread = threading.Thread(target=load, name="vss-prepare-http", daemon=True)
    thread.start()
    return thread


def open_history(path: Path, ctx: Context) -> History:
    """The history file; in memory only (said once) when it cannot be written."""
    warned: list[OSError] = []

    def trouble(exc: OSError) -> None:
        if not warned:
            ctx.ui.warn(f"history file {path}: {exc.strerror or exc}; "
                        "history is kept for this session only")
        warned.append(exc)

    try:
        return MaskingFileHistory(path, ctx.table, on_error=trouble)
    except OSError as exc:
        trouble(exc)
        return InMemoryHistory()


def run(ctx: Context, *, history: Path, banner: str, debug: bool = False) -> int:
    """Read and run commands until ``exit`` or Ctrl-D; returns the exit status."""
    prompt = PromptSession(
        message=lambda: [("class:prompt", prompt_text(ctx))],
        history=open_history(history, ctx),
        auto_suggest=ConditionalAutoSuggest(AutoSuggestFromHistory(),
                                            Condition(lambda: ctx.autosuggest)),
        completer=ShellCompleter(ctx.table, lambda: ctx),
        complete_while_typing=True,
        complete_style=CompleteStyle.COLUMN,
        lexer=ShellLexer(ctx.table),
        prompt_continuation=continuation,
        bottom_toolbar=lambda: toolbar(ctx),
        key_bindings=key_bindings(lambda text: ctx.ui.out(help_for(ctx, text))),
        style=Style.from_dict(UI_STYLE),
        include_default_pygments_style=False,
        color_depth=None if ctx.ui.color else ColorDepth.DEPTH_1_BIT,
        refresh_interval=30,
    )
    warm: list[threading.Thread] = []

    def shown(_app: object) -> None:  # the first prompt is on the screen
        if not warm:
            warm.append(prepare_http(ctx))

    prompt.app.after_render += shown
    ctx.ui.out(banner)
    try:
        while True:
            try:
                line = prompt.prompt()
            except KeyboardInterrupt:
                continue
            except EOFError:
                break
            for thread in warm:
                thread.join()
            if not run_line(ctx, line, debug=debug):
                break
    finally:
        for thread in warm:
            thread.join()
    ctx.session.close()
    return 0


def run_line(ctx: Context, line: str, *, debug: bool = False) -> bool:
    """Run each command of ``line`` until one fails (the rest are not run, as in a
    piped run); False after ``exit``. A line that cannot be read runs nothing."""
    ran, commands = 0, []
    try:
        commands = numbered_commands(line, "line")
        for _, words in commands:
            ran += 1
            execute(ctx, words)
    except ExitShell:
        return False
    except (Exception, KeyboardInterrupt) as exc:
        report = failure(exc, ctx.session.secrets(), debug=debug)
        if report.detail:
            ctx.ui.error(report.detail.rstrip())
        ctx.ui.error(f"error: {report.message}" if report.status != 130 else "Cancelled.")
        if report.usage:
            ctx.ui.error(report.usage)
        left = len(commands) - ran
        if left:
            ctx.ui.error(f"(not run: the {left} command{'s' if left > 1 else ''} after it)")
    return True
