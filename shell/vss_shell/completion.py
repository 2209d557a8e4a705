"""Tab completion, derived from the command table."""

from __future__ import annotations

from collections.abc import Callable, Iterable

from prompt_toolkit.completion import CompleteEvent, Completer, Completion
from prompt_toolkit.document import Document

from vss_shell.commands.parser import Word, classify, comment_start, words
from vss_shell.commands.table import Command, Group, Table, choice_help
from vss_shell.context import Context


class ShellCompleter(Completer):
    """Commands, subcommands, options, choices and profile names, with help as meta."""

    def __init__(self, table: Table, context: Callable[[], Context | None]) -> None:
        self.table = table
        self.context = context

    def candidates(self, before: str) -> tuple[str, str, list[tuple[str, str]]]:
        """The word being completed (as typed, and its value) and what may replace it."""
        if comment_start(before) is not None:
            return "", "", []
        found = words(before)
        raw = current = ""
        if found and found[-1].end == len(before):
            raw, current, found = found[-1].raw, found[-1].value, found[:-1]
        return raw, current, self._choices(found, current)

    def _choices(self, found: list[Word], current: str) -> list[tuple[str, str]]:
        walk = classify(self.table, [w.value for w in found])
        ctx = self.context()
        if not found:
            return self.table.top_words(demo=ctx is None or ctx.demo is not None)
        if isinstance(walk.entry, Group) and walk.command is None:
            if len(found) > 1:
                return []
            return [(n, c.help) for n, c in walk.entry.children.items()]
        command = walk.command
        if command is None:
            return []
        if walk.pending_opt is not None:
            opt = walk.pending_opt
            return list(choice_help(opt.choices, ctx, default=opt.help).items())
        options = _options(command, [w.value for w in found])
        if current.startswith("-"):
            name, eq, _ = current.partition("=")
            matched = command.find_opt(name) if eq else None
            if matched is None:  # an option's name (or an unknown one with a value)
                return [] if eq else options
            opt = matched[0]  # `--output=js`: the values, spelled with the name
            return [(f"{name}={value}", meta) for value, meta
                    in choice_help(opt.choices, ctx, default=opt.help).items()]
        arg = command.arg_at(walk.positional)
        if arg is not None:
            choices = choice_help(arg.choices, ctx, tuple(walk.args), default=arg.help)
            if choices:
                return list(choices.items())
        return options if not current else []

    def get_completions(self, document: Document,
                        complete_event: CompleteEvent) -> Iterable[Completion]:
        raw, current, found = self.candidates(document.text_before_cursor)
        typed = current.lower()
        for text, meta in found:
            if text.lower().startswith(typed):
                yield Completion(text + " ", start_position=-len(raw), display=text,
                                 display_meta=meta)


def _options(command: Command, used: list[str]) -> list[tuple[str, str]]:
    """The options not given yet, each spelling with the option's help."""
    given = {w.partition("=")[0] for w in used}
    return [(spelling, opt.help) for opt in command.all_opts
            if not given & set(opt.spellings) for spelling in opt.spellings
            if not spelling.startswith("-") or spelling.startswith("--")]
