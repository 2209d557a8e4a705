"""Tab completion, derived from the command table."""

from __future__ import annotations

import shlex
from collections.abc import Callable, Iterable
from itertools import islice

from prompt_toolkit.completion import CompleteEvent, Completer, Completion
from prompt_toolkit.document import Document

from vss_shell.commands.parser import (
    INTERACTIVE_LIMIT,
    Splitter,
    Walk,
    Word,
    classify,
    words,
)
from vss_shell.commands.table import Command, Group, Table, choice_help
from vss_shell.context import Context
from vss_shell.safetext import visible

#: What :meth:`ShellCompleter._choices` gives for a file name: paths, not words.
PATHS: list[tuple[str, str]] = [("", "")]
#: At most this many file names are offered.
MAX_PATHS = 500
#: Characters that a file name offered must be quoted for.
_SPECIAL = set(" \t\r\n'\"\\;#")


class ShellCompleter(Completer):
    """Commands, subcommands, options, choices, profile names and file names, with help
    as meta. The command completed is the one under the cursor (after a ``;``, the
    commands again)."""

    def __init__(self, table: Table, context: Callable[[], Context | None]) -> None:
        self.table = table
        self.context = context

    def candidates(self, before: str) -> tuple[str, str, list[tuple[str, str]]]:
        """The word being completed (as typed in ``before``, and its value) and what
        may replace it; nothing in a comment, after a ``\\`` or on a very long line."""
        if len(before) > INTERACTIVE_LIMIT:
            return "", "", []
        splitter = Splitter()
        splitter.feed(before)
        if splitter.in_comment or splitter.continued:
            return "", "", []
        piece = splitter.end()
        found = words(piece.text)
        raw = current = ""
        if found and found[-1].end == len(piece.text):
            raw = before[piece.at(found[-1].start):]
            current, found = found[-1].value, found[:-1]
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
            if opt.paths:
                return PATHS
            return list(choice_help(opt.choices, ctx, default=opt.help).items())
        options = _options(command, walk, [w.value for w in found])
        if current.startswith("-"):
            name, eq, _ = current.partition("=")
            matched = command.find_opt(name) if eq else None
            if matched is None:  # an option's name (or an unknown one with a value)
                return [] if eq else options
            opt = matched[0]  # `--output=js`: the values, spelled with the name
            if opt.paths:
                return PATHS
            return [(f"{name}={value}", meta) for value, meta
                    in choice_help(opt.choices, ctx, default=opt.help).items()]
        arg = command.arg_at(walk.positional)
        if arg is not None:
            if arg.paths:
                return PATHS
            choices = choice_help(arg.choices, ctx, tuple(walk.args), default=arg.help)
            if choices:
                return list(choices.items())
        return options if not current else []

    def get_completions(self, document: Document,
                        complete_event: CompleteEvent) -> Iterable[Completion]:
        raw, current, found = self.candidates(document.text_before_cursor)
        if found is PATHS:
            yield from _paths(raw, current, complete_event)
            return
        typed = current.lower()
        for text, meta in found:
            if text.lower().startswith(typed):
                yield Completion(text + " ", start_position=-len(raw), display=text,
                                 display_meta=meta)


def _options(command: Command, walk: Walk, used: list[str]) -> list[tuple[str, str]]:
    """The options not given yet that go with the arguments given, each spelling with
    what it does."""
    given = {w.partition("=")[0] for w in used}
    args = dict(zip((a.name for a in command.args), walk.args, strict=False))
    return [(spelling, text) for opt in command.all_opts
            if not given & set(opt.spellings)
            and (opt.when is None or opt.when.holds(args.get(opt.when.arg)))
            for spelling, text in opt.spelling_help()
            if not spelling.startswith("-") or spelling.startswith("--")]


def _paths(raw: str, current: str, event: CompleteEvent) -> Iterable[Completion]:
    """File names that continue ``current`` (``--qr-file=`` kept in front), quoted
    where the shell's grammar needs it; a directory ends with ``/`` and no space."""
    from prompt_toolkit.completion import PathCompleter

    name, eq, value = current.partition("=") if current.startswith("--") else ("", "", current)
    front = name + eq
    found = PathCompleter(expanduser=True).get_completions(Document(value), event)
    for completion in islice(found, MAX_PATHS):
        shown = completion.display_text
        path = value + completion.text + ("/" if shown.endswith("/") else "")
        quoted = path if not _SPECIAL & set(path) else shlex.quote(path)
        yield Completion(front + quoted + ("" if path.endswith("/") else " "),
                         start_position=-len(raw), display=visible(shown, newlines=False),
                         display_meta="folder" if path.endswith("/") else "file")

