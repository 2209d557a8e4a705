"""Tab completion, derived from the command table."""

from __future__ import annotations

from collections.abc import Callable, Iterable

from prompt_toolkit.completion import CompleteEvent, Completer, Completion
from prompt_toolkit.document import Document

from vss_shell.commands.parser import classify, words
from vss_shell.commands.table import Command, Group, Table, resolve_choices
from vss_shell.context import Context


class ShellCompleter(Completer):
    """Commands, subcommands, options, choices and profile names, with help as meta."""

    def __init__(self, table: Table, context: Callable[[], Context | None]) -> None:
        self.table = table
        self.context = context

    def candidates(self, before: str) -> tuple[str, list[tuple[str, str]]]:
        """The word being completed and what may replace it, with meta text."""
        found = words(before)
        current = ""
        if found and found[-1].end == len(before):
            current, found = found[-1].value, found[:-1]
        if current.startswith("#") or "#" in before[: len(before) - len(current)]:
            return current, []
        walk = classify(self.table, [w.value for w in found])
        ctx = self.context()
        if not found:
            visible = [(w, h) for w, h in self.table.top_words()
                       if not (ctx is not None and ctx.demo is None and w == "outbox")]
            return current, visible
        if isinstance(walk.entry, Group) and walk.command is None:
            if len(found) > 1:
                return current, []
            return current, [(n, c.help) for n, c in walk.entry.children.items()]
        command = walk.command
        if command is None:
            return current, []
        if walk.pending_opt is not None:
            opt = walk.pending_opt
            return current, [(c, opt.help) for c in resolve_choices(opt.choices, ctx)]
        options = _options(command, [w.value for w in found])
        if current.startswith("-"):
            return current, options
        if walk.positional < len(command.args):
            arg = command.args[walk.positional]
            choices = [(c, arg.help) for c in resolve_choices(arg.choices, ctx)]
            if choices:
                return current, choices
        return current, options if not current else []

    def get_completions(self, document: Document,
                        complete_event: CompleteEvent) -> Iterable[Completion]:
        current, found = self.candidates(document.text_before_cursor)
        typed = current.lower()
        for text, meta in found:
            if text.lower().startswith(typed):
                yield Completion(text + " ", start_position=-len(current), display=text,
                                 display_meta=meta)


def _options(command: Command, used: list[str]) -> list[tuple[str, str]]:
    """The options not given yet, each spelling with the option's help."""
    given = {w.partition("=")[0] for w in used}
    return [(spelling, opt.help) for opt in command.all_opts
            if not given & set(opt.spellings) for spelling in opt.spellings
            if not spelling.startswith("-") or spelling.startswith("--")]
