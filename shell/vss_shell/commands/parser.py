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

from vss_shell.commands.table import (
    Command,
    Group,
    Opt,
    Table,
    checked_choices,
    resolve_choices,
)
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


def numbered_commands(text: str) -> list[tuple[int, list[str]]]:
    """Commands separated by ``;`` or newlines (for ``vss -c``), each with its number.

    They are numbered as if each ``;`` began a new line, blank and comment
    pieces counted, so ``-c:N:`` points at the Nth piece as a person counts.
    """
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
            pieces.append(text[start:index])  # the comment ends the piece, its newline too
            start = index = len(text) if end < 0 else end + 1
            continue
        elif ch in ";\n":
            pieces.append(text[start:index])
            start = index + 1
        index += 1
    if start < len(text):
        pieces.append(text[start:])
    numbered = [(number, split(piece, "command")) for number, piece in enumerate(pieces, 1)]
    return [(number, words) for number, words in numbered if words]


def split_commands(text: str) -> list[list[str]]:
    """The commands of :func:`numbered_commands`, without their numbers."""
    return [words for _, words in numbered_commands(text)]


def _distance(a: str, b: str) -> int:
    """Edits (insert, delete, replace, swap two neighbours) that turn ``a`` into ``b``."""
    before: list[int] = []
    row = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        prev, row = row, [i] + [0] * len(b)
        for j, cb in enumerate(b, 1):
            row[j] = min(prev[j] + 1, row[j - 1] + 1, prev[j - 1] + (ca != cb))
            if i > 1 and j > 1 and ca == b[j - 2] and a[i - 2] == cb:
                row[j] = min(row[j], before[j - 2] + 1)
        before = prev
    return row[-1]


def suggest(word: str, candidates: list[str]) -> str:
    """``; did you mean 'x'?`` when one candidate is closest to ``word`` (any case).

    Close (leading dashes aside) means one edit for a word of up to 5 letters,
    two for a longer one, and a letter left as typed (``mj``: ``mk``; ``jsn``:
    ``json``; ``zz``: nothing), or similar as difflib measures it (``stat``:
    ``status``), or the start of one candidate only (``st``: ``status``). Two
    candidates equally close: no suggestion.
    """
    typed = word.lower().lstrip("-")
    starting = [c for c in dict.fromkeys(candidates)
                if len(typed) >= 2 and c.lower().lstrip("-").startswith(typed)]
    if len(starting) == 1:  # the start of one word only: `st` for `status`
        return f"; did you mean '{starting[0]}'?"
    allowed = min(1 if len(typed) <= 5 else 2, len(typed) - 1)
    ranked = []
    for candidate in dict.fromkeys(candidates):
        folded = candidate.lower().lstrip("-")
        edits = _distance(typed, folded)
        ratio = difflib.SequenceMatcher(None, typed, folded).ratio()
        if edits <= allowed or ratio >= 0.6:
            ranked.append((edits, -ratio, candidate))
    ranked.sort(key=lambda item: item[:2])
    if not ranked or (len(ranked) > 1 and ranked[0][:2] == ranked[1][:2]):
        return ""
    return f"; did you mean '{ranked[0][2]}'?"


def _is_option(word: str) -> bool:
    return word.startswith("-") and len(word) > 1 and word != "--"


# --- the walk ---------------------------------------------------------------

#: Roles of words: command, group, sub, option, option-secret, value, arg, secret,
#: help, invalid (a value not among its checked choices), unknown.
@dataclass
class Walk:
    """What each word is, and where the walk ended (for completion)."""

    roles: list[str]
    entry: Command | Group | None = None
    command: Command | None = None
    pending_opt: Opt | None = None  # the option whose value comes next
    positional: int = 0  # positional arguments seen
    args: list[str] = field(default_factory=list)  # their values


def _fits(value: str, choices: list[str]) -> bool:
    """Whether ``value`` is one of ``choices`` (any case), or there are none."""
    return not choices or value.lower() in {c.lower() for c in choices}


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
            walk.roles.append("secret" if opt.secret else
                              "value" if _fits(word, checked_choices(opt.choices, None))
                              else "invalid")
            continue
        if _is_option(word) and not only_args:
            name, eq, value = word.partition("=")
            found = walk.command.find_opt(name)
            if name in ("-h", "--help"):
                walk.roles.append("help")
            elif found is None:
                walk.roles.append("unknown")
            else:
                opt, _negated = found
                if opt.metavar and eq and opt.secret:
                    walk.roles.append("option-secret")
                elif eq and not (opt.metavar and _fits(value, checked_choices(opt.choices,
                                                                              None))):
                    walk.roles.append("invalid")
                else:
                    walk.roles.append("option")
                    if opt.metavar and not eq:
                        walk.pending_opt = opt
            continue
        if word == "--":
            only_args = True
            walk.roles.append("option")
            continue
        arg = walk.command.arg_at(walk.positional)
        if arg is None:
            walk.roles.append("unknown")
        elif arg.secret:
            walk.roles.append("secret")
        elif arg.rest or _fits(word, checked_choices(arg.choices, None, tuple(walk.args))):
            walk.roles.append("arg")
        else:
            walk.roles.append("invalid")
        walk.positional += 1
        walk.args.append(word)
    return walk


def mask_secrets(table: Table, line: str) -> str:
    """``line`` with every secret value replaced by ``******`` (for history files).

    Secret words in a row (an argument that takes the rest of the line) become one mask.
    """
    found = words(line)
    walk = classify(table, [w.value for w in found])
    out, last, previous = [], 0, ""
    for word, role in zip(found, walk.roles, strict=True):
        if role == "secret" and previous == "secret":
            last = word.end
        elif role == "secret":
            out += [line[last : word.start], MASK]
            last = word.end
        elif role == "option-secret":
            name = word.raw.partition("=")[0]
            out += [line[last : word.start], f"{name}={MASK}"]
            last = word.end
        previous = role
    out.append(line[last:])
    return "".join(out)


#: A URL with a user name or password (``https://u:pw@host``), a query or a fragment.
_URL_SECRET = re.compile(r"://\S*[@?#]")


def history_line(table: Table, line: str) -> str | None:
    """``line`` as the history file keeps it: secrets masked.

    None for a line that does not parse cleanly (an unknown command or
    option, a word where none belongs, a value not among its choices): a
    secret in it could be anywhere, so it stays in the session's memory only.
    None also for a line with a URL holding credentials, a query or a fragment.
    """
    found = [w.value for w in words(line)]
    if {"unknown", "invalid"} & set(classify(table, found).roles):
        return None
    if any(_URL_SECRET.search(word) for word in found):
        return None
    try:
        parse(table, found)
    except UsageError:
        return None
    return mask_secrets(table, line)


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
    args = command.args
    if args and args[-1].rest and len(positional) > len(args):
        positional[len(args) - 1 :] = [" ".join(positional[len(args) - 1 :])]
    if len(positional) > len(args):
        extra = positional[len(args)]
        raise UsageError(f"unexpected argument '{extra}' for '{command.name}'", usage)
    before: list[str] = []  # the values of the arguments so far, as declared
    for arg, value in zip(args, positional, strict=False):
        choices = checked_choices(arg.choices, ctx, tuple(before))
        before.append(_check_choice(value, choices, arg.name.upper(), usage))
        values[arg.name] = before[-1]
    for arg in command.args[len(positional):]:
        if arg.required:
            raise UsageError(f"missing {arg.name.upper()} for '{command.name}'", usage)
    return Invocation(command, SimpleNamespace(**values))
