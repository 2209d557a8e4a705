"""The interactive loop: prompt, toolbar, key bindings, history, completion."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

from prompt_toolkit import PromptSession
from prompt_toolkit.application import run_in_terminal
from prompt_toolkit.auto_suggest import AutoSuggestFromHistory, ConditionalAutoSuggest
from prompt_toolkit.filters import Condition, completion_is_selected, has_completions
from prompt_toolkit.formatted_text import StyleAndTextTuples
from prompt_toolkit.history import History, InMemoryHistory
from prompt_toolkit.key_binding import KeyBindings, KeyPressEvent
from prompt_toolkit.output import ColorDepth
from prompt_toolkit.shortcuts import CompleteStyle
from prompt_toolkit.styles import Style

from vss_shell.commands.builtin import help_text
from vss_shell.commands.parser import classify, split, words
from vss_shell.completion import ShellCompleter
from vss_shell.context import Context
from vss_shell.dispatch import ExitShell, execute, failure
from vss_shell.history import MaskingFileHistory
from vss_shell.lexer import STYLE, ShellLexer

UI_STYLE = {
    **STYLE,
    "prompt": "bold",
    "bottom-toolbar": "noreverse bg:#303030 #d0d0d0",
    "bottom-toolbar.key": "bold #ffffff",
    "bottom-toolbar.state": "#87d787",
}


def prompt_text(ctx: Context) -> str:
    """``vss (PROFILE) > ``."""
    return f"vss ({ctx.settings.name}) > "


def toolbar(ctx: Context) -> StyleAndTextTuples:
    """Profile, user, session state, the keys, then the endpoint (the longest part:
    on a narrow terminal it is what gets cut)."""
    session, settings = ctx.session, ctx.settings
    return [
        ("class:bottom-toolbar.key", f" {settings.name}"),
        ("", " · "),
        ("class:bottom-toolbar.key", session.username or "no user"),
        ("", " · "),
        ("class:bottom-toolbar.state", session.describe()),
        ("", f" · F1 help · Tab complete · Ctrl-D exit · {settings.endpoint} "),
    ]


def key_bindings(show_help: Callable[[str], None]) -> KeyBindings:
    """Enter takes a completion from an open menu instead of running a half-typed
    word; F1 shows help on the line being typed, which stays as it is."""
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
        text = event.current_buffer.text
        run_in_terminal(lambda: show_help(text))

    return kb


def help_for(ctx: Context, text: str) -> str:
    """Help on what ``text`` names (a command or group), else on everything."""
    walk = classify(ctx.table, [w.value for w in words(text)])
    return help_text(ctx.table, walk.command or walk.entry, demo=ctx.demo is not None)


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
        bottom_toolbar=lambda: toolbar(ctx),
        key_bindings=key_bindings(lambda text: ctx.ui.out(help_for(ctx, text))),
        style=Style.from_dict(UI_STYLE),
        include_default_pygments_style=False,
        color_depth=None if ctx.ui.color else ColorDepth.DEPTH_1_BIT,
        refresh_interval=30,
    )
    ctx.ui.out(banner)
    while True:
        try:
            line = prompt.prompt()
        except KeyboardInterrupt:
            continue
        except EOFError:
            break
        try:
            execute(ctx, split(line))
        except ExitShell:
            break
        except (Exception, KeyboardInterrupt) as exc:
            report = failure(exc, ctx.session.secrets(), debug=debug)
            if report.detail:
                ctx.ui.error(report.detail.rstrip())
            ctx.ui.error(f"error: {report.message}" if report.status != 130 else "Cancelled.")
            if report.usage:
                ctx.ui.error(report.usage)
    ctx.session.close()
    return 0
