"""Command lines: POSIX-shell words, parsed against the command table.

One walk over the words (:func:`classify`) tells what each word is; parsing,
highlighting, completion and the masking of secrets in history all use it.
"""

from __future__ import annotations

import difflib
import re
import shlex
from dataclasses import dataclass, field
from types import SimpleNamespace
from typing import TYPE_CHECKING

from vss_shell.commands.table import Command, Group, Table, resolve_choices
from vss_shell.errors import UsageError

if TYPE_CHECKING:
    from vss_shell.context import Context

#: A word as typed: quotes and backslashes kept, with its place in the line.
_WORD = re.compile(r"""(?:"(?:\\.|[^"\\])*"?|'[^']*'?|\\.?|[^\s"'\\])+""")
MASK = "******"


@dataclass(frozen=True)
class Word:
    """A word of a line: its text as typed, its value, and its span."""

    raw: str
    value: str
    start: int
    end: int


@dataclass
class Help:
    """``help``-like request: for the whole table, a group or a command."""

    target: Command | Group | None


@dataclass
class Invocation:
    """A parsed command line, ready for its handler."""

    command: Command
    args: SimpleNamespace = field(default_factory=SimpleNamespace)


def _unquote(raw: str) -> str:
    """A word's value as a POSIX shell reads it; an unclosed quote runs to the end."""
    out: list[str] = []
    quote = None
    chars = iter(raw)
    for ch in chars:
        if quote == "'":
            if ch == "'":
                quote = None
            else:
                out.append(ch)
        elif ch == "\\":
            nxt = next(chars, "")
            if quote == '"' and nxt not in '"\\$`':
                out.append(ch)
            out.append(nxt)
        elif quote == '"':
            if ch == '"':
                quote = None
            else:
                out.append(ch)
        elif ch in "'\"":
            quote = ch
        else:
            out.append(ch)
    return "".join(out)


def words(line: str) -> list[Word]:
    """The words of ``line`` up to a ``#`` comment, with their spans."""
    found = []
    for match in _WORD.finditer(line):
        if match.group().startswith("#"):
            break
        found.append(Word(match.group(), _unquote(match.group()), match.start(), match.end()))
    return found


def comment_start(line: str) -> int | None:
    """Where a ``#`` comment starts in ``line`` (only at the start of a word)."""
    for match in _WORD.finditer(line):
        if match.group().startswith("#"):
            return match.start()
    return None


def split(line: str, what: str = "line") -> list[str]:
    """The words of one command line, as a POSIX shell splits them."""
    cut = comment_start(line)
    try:
        return shlex.split(line if cut is None else line[:cut])
    except ValueError as exc:
        raise UsageError(f"cannot read the {what}: {str(exc).lower()}") from None


def split_commands(text: str) -> list[list[str]]:
    """Commands separated by ``;`` (for ``vss -c``), each a list of words."""
    pieces, start, quote, index = [], 0, None, 0
    while index < len(text):
        ch = text[index]
        if quote == "'":
            quote = None if ch == "'" else quote
        elif ch == "\\":
            index += 1
        elif quote == '"':
            quote = None if ch == '"' else quote
        elif ch in "'\"":
            quote = ch
        elif ch == "#" and (index == 0 or text[index - 1].isspace() or text[index - 1] == ";"):
            end = text.find("\n", index)
            pieces.append(text[start:index])
            start = index = len(text) if end < 0 else end
            continue
        elif ch in ";\n":
            pieces.append(text[start:index])
            start = index + 1
        index += 1
    pieces.append(text[start:])
    commands = [split(piece, "command") for piece in pieces]
    return [c for c in commands if c]


def suggest(word: str, candidates: list[str]) -> str:
    """``; did you mean 'x'?`` when one candidate is close to ``word`` (any case)."""
    by_lower = {c.lower(): c for c in candidates}
    close = difflib.get_close_matches(word.lower(), list(by_lower), n=1, cutoff=0.6)
    return f"; did you mean '{by_lower[close[0]]}'?" if close else ""


def _is_option(word: str) -> bool:
    return word.startswith("-") and len(word) > 1 and word != "--"


# --- the walk ---------------------------------------------------------------

#: Roles of words: command, group, sub, option, value, arg, secret, help, unknown.
@dataclass
class Walk:
    """What each word is, and where the walk ended (for completion)."""

    roles: list[str]
    entry: Command | Group | None = None
    command: Command | None = None
    pending_opt: object | None = None  # the option whose value comes next
    positional: int = 0  # positional arguments seen


def classify(table: Table, values: list[str]) -> Walk:
    """The role of each word, tolerant of errors (for highlighting and masking)."""
    walk = Walk(roles=[])
    only_args = False
    for index, word in enumerate(values):
        if index == 0:
            walk.entry = table.lookup(word)
            if isinstance(walk.entry, Command):
                walk.command = walk.entry
            walk.roles.append("unknown" if walk.entry is None else
                              "group" if isinstance(walk.entry, Group) else "command")
            continue
        if walk.entry is None:
            walk.roles.append("unknown")
            continue
        if walk.command is None:
            assert isinstance(walk.entry, Group)
            walk.command = walk.entry.children.get(word.lower()) if index == 1 else None
            walk.roles.append("sub" if walk.command else
                              "help" if word in ("-h", "--help") else "unknown")
            continue
        if walk.pending_opt is not None:
            opt, walk.pending_opt = walk.pending_opt, None
            walk.roles.append("secret" if opt.secret else "value")
            continue
        if _is_option(word) and not only_args:
            name, eq, _ = word.partition("=")
            found = walk.command.find_opt(name)
            if name in ("-h", "--help"):
                walk.roles.append("help")
            elif found is None:
                walk.roles.append("unknown")
            else:
                opt, _negated = found
                if opt.metavar and eq and opt.secret:
                    walk.roles.append("option-secret")
                else:
                    walk.roles.append("option")
                    if opt.metavar and not eq:
                        walk.pending_opt = opt
            continue
        if word == "--":
            only_args = True
            walk.roles.append("option")
            continue
        args = walk.command.args
        if walk.positional < len(args):
            walk.roles.append("secret" if args[walk.positional].secret else "arg")
        else:
            walk.roles.append("unknown")
        walk.positional += 1
    return walk


def mask_secrets(table: Table, line: str) -> str:
    """``line`` with every secret value replaced by ``******`` (for history files)."""
    found = words(line)
    walk = classify(table, [w.value for w in found])
    out, last = [], 0
    for word, role in zip(found, walk.roles, strict=True):
        if role == "secret":
            out += [line[last : word.start], MASK]
            last = word.end
        elif role == "option-secret":
            name = word.raw.partition("=")[0]
            out += [line[last : word.start], f"{name}={MASK}"]
            last = word.end
    out.append(line[last:])
    return "".join(out)


# --- parsing ----------------------------------------------------------------


def _check_choice(value: str, choices: list[str], what: str, usage: str) -> str:
    if not choices:
        return value
    for choice in choices:
        if value.lower() == choice.lower():
            return choice
    hint = suggest(value, choices)
    raise UsageError(f"invalid {what} '{value}' (choose from {', '.join(choices)}){hint}", usage)


def parse(table: Table, values: list[str], ctx: Context | None = None) -> Invocation | Help | None:
    """Parse a command's words; None for an empty line."""
    if not values:
        return None
    entry = table.lookup(values[0])
    if entry is None:
        hint = suggest(values[0], [w for w, _ in table.top_words()])
        raise UsageError(f"unknown command '{values[0]}'{hint} (type 'help')")
    rest = values[1:]
    if isinstance(entry, Group):
        if not rest or rest[0] in ("-h", "--help"):
            return Help(entry)
        command = entry.children.get(rest[0].lower())
        if command is None:
            hint = suggest(rest[0], list(entry.children))
            raise UsageError(f"unknown command '{entry.name} {rest[0]}'{hint} "
                             f"(type 'help {entry.name}')")
        rest = rest[1:]
    else:
        command = entry
    return _parse_rest(command, rest, ctx)


def _parse_rest(command: Command, rest: list[str], ctx: Context | None) -> Invocation | Help:
    usage = command.usage()
    values: dict[str, object] = {arg.name: None for arg in command.args}
    for opt in command.all_opts:
        values[opt.dest] = None
    positional: list[str] = []
    index, only_args = 0, False
    while index < len(rest):
        word = rest[index]
        index += 1
        if only_args or not _is_option(word):
            if word == "--" and not only_args:
                only_args = True
            else:
                positional.append(word)
            continue
        if word in ("-h", "--help"):
            return Help(command)
        name, eq, value = word.partition("=")
        found = command.find_opt(name)
        if found is None:
            spellings = [s for opt in command.all_opts for s in opt.spellings]
            raise UsageError(f"unknown option '{name}' for '{command.name}'"
                             f"{suggest(name, spellings)}", usage)
        opt, negated = found
        if opt.metavar is None:
            if eq:
                raise UsageError(f"option {name} takes no value", usage)
            values[opt.dest] = not negated
            continue
        if not eq:
            if index >= len(rest):
                raise UsageError(f"option {name} needs a value ({opt.metavar})", usage)
            value = rest[index]
            index += 1
        values[opt.dest] = _check_choice(value, resolve_choices(opt.choices, ctx),
                                         f"value for {opt.name}", usage)
    if len(positional) > len(command.args):
        extra = positional[len(command.args)]
        raise UsageError(f"unexpected argument '{extra}' for '{command.name}'", usage)
    for arg, value in zip(command.args, positional, strict=False):
        choices = resolve_choices(arg.choices, ctx) if not callable(arg.choices) else []
        values[arg.name] = _check_choice(value, choices, arg.name.upper(), usage)
    for arg in command.args[len(positional):]:
        if arg.required:
            raise UsageError(f"missing {arg.name.upper()} for '{command.name}'", usage)
    return Invocation(command, SimpleNamespace(**values))
