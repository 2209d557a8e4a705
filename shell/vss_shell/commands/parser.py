"""Command lines: POSIX-shell words, parsed against the command table.

The grammar of a line, the same at the prompt, in files and in ``-c``
(:class:`Splitter` is its one implementation): commands are separated by ``;``
and newlines; a ``\\`` at the end of a line joins the next line to it; words
are separated by spaces and tabs, quoted with ``'...'`` or ``"..."``, and ``\\``
escapes the next character; ``#`` at the start of a word begins a comment that
ends with the line. A newline ends a command even inside quotes (the quote is
then unclosed: an error).

One walk over a command's words (:func:`classify`) tells what each word is;
parsing, highlighting, completion and the masking of secrets in history all use it.
"""

from __future__ import annotations

import re
import shlex
from bisect import bisect_right
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
from vss_shell.record import Frozen, Record
from vss_shell.safetext import visible

if TYPE_CHECKING:
    from vss_shell.context import Context

#: A word as typed: quotes and backslashes kept, with its place in the line. Words
#: are separated by what :func:`shlex.split` takes for blanks (space, tab, CR, LF).
#: Compiled (and kept by ``re``) at the first line read, not at start-up.
_WORD = r"""(?:"(?:\\.|[^"\\])*"?|'[^']*'?|\\.?|[^ \t\r\n"'\\])+"""
_BLANKS = " \t\r\n"
MASK = "******"
#: Longer lines are neither highlighted nor completed at the prompt (plain text).
INTERACTIVE_LIMIT = 4096
#: Longer words get no "did you mean" (and are shortened when an error quotes them).
SUGGEST_LIMIT = 64


class Word(Frozen):
    """A word of a line: its text as typed, its value, and its span."""

    __slots__ = FIELDS = ("raw", "value", "start", "end")

    def __init__(self, raw: str, value: str, start: int, end: int) -> None:
        self.raw = raw
        self.value = value
        self.start = start
        self.end = end


class Help(Record):
    """``help``-like request: for the whole table, a group or a command."""

    __slots__ = FIELDS = ("target",)

    def __init__(self, target: Command | Group | None) -> None:
        self.target = target


class Invocation(Record):
    """A parsed command line, ready for its handler."""

    __slots__ = FIELDS = ("command", "args")

    def __init__(self, command: Command, args: SimpleNamespace | None = None) -> None:
        self.command = command
        self.args = SimpleNamespace() if args is None else args


def _unquote(raw: str) -> str:
    """A word's value as :func:`shlex.split` reads it; an unclosed quote runs to the end."""
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
            if quote == '"' and nxt not in '"\\':
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
    for match in re.finditer(_WORD, line, re.DOTALL):
        if match.group().startswith("#"):
            break
        found.append(Word(match.group(), _unquote(match.group()), match.start(), match.end()))
    return found


def comment_start(line: str) -> int | None:
    """Where a ``#`` comment starts in ``line`` (only at the start of a word)."""
    for match in re.finditer(_WORD, line, re.DOTALL):
        if match.group().startswith("#"):
            return match.start()
    return None


#: Characters that need :mod:`shlex` (without them a line is words between blanks).
_QUOTING = re.compile(r"['\"\\#]")
_BLANK_RUN = re.compile(r"[ \t\r\n]+")


def split(line: str, what: str = "line") -> list[str]:
    """The words of one command, as a POSIX shell splits them."""
    if not _QUOTING.search(line):  # the common case, a hundred times faster
        return [word for word in _BLANK_RUN.split(line) if word]
    cut = comment_start(line)
    try:
        return shlex.split(line if cut is None else line[:cut])
    except ValueError as exc:
        raise UsageError(f"cannot read the {what}: {str(exc).lower()}") from None


# --- the grammar of a line: commands, continuations, comments ---------------------


class Piece(Frozen):
    """One command of a text: its words' text, and where it stands in the text.

    ``text`` has its continuations (``\\`` and newline) taken out and its comment
    left out; :meth:`at` maps an index of ``text`` back to the source.
    """

    __slots__ = FIELDS = ("text", "start", "end", "line", "number", "joins", "comment")

    def __init__(self, text: str, start: int, end: int, line: int, number: int,
                 joins: tuple[int, ...] = (), comment: tuple[int, int] | None = None) -> None:
        self.text = text
        self.start = start  # where the piece begins in the source
        self.end = end  # where the piece ends in the source: its ``;``, newline or end
        self.line = line  # the source line (from 1) it starts on
        self.number = number  # its place (from 1), as if each ``;`` began a new line
        self.joins = joins  # indexes of ``text`` where a continuation was taken out
        self.comment = comment  # the comment's span in the source

    def at(self, index: int) -> int:
        """The source offset of ``text[index]``."""
        return self.start + index + 2 * bisect_right(self.joins, index)

    def span(self, start: int, end: int) -> tuple[int, int]:
        """The source span of ``text[start:end]`` (``end`` > ``start``)."""
        return self.at(start), self.at(end - 1) + 1


#: What the scanner stops at, by quote: outside quotes, in '...', in "...".
_STOPS = {None: re.compile(r"[\\'\"#;\n]"), "'": re.compile(r"['\n]"),
          '"': re.compile(r'[\\"\n]')}


class Splitter:
    """Cuts a text into :class:`Piece` commands; fed all at once or line by line.

    The one implementation of the grammar (see the module's docstring): ``vss -c``,
    command files and the interactive shell all cut their text here. Linear: it
    jumps from one special character to the next.
    """

    def __init__(self) -> None:
        self._offset = 0  # the source offset of the next text fed
        self._line = 1
        self._number = 1
        self._quote: str | None = None
        self._escape = False  # a `\` (outside '...') waits for its next character
        self._comment: int | None = None  # where the comment being read began
        self._parts: list[str] = []
        self._size = 0  # the length of the piece's text so far
        self._last = ""  # its last character
        self._joins: list[int] = []
        self._start, self._start_line = 0, 1

    @property
    def continued(self) -> bool:
        """Whether the text so far ends with a ``\\`` that joins the next line."""
        return self._escape

    @property
    def in_comment(self) -> bool:
        return self._comment is not None

    def _add(self, text: str) -> None:
        if text:
            self._parts.append(text)
            self._size += len(text)
            self._last = text[-1]

    def _cut(self, end: int) -> Piece:
        comment = (self._comment, end) if self._comment is not None else None
        piece = Piece("".join(self._parts), self._start, end, self._start_line, self._number,
                      tuple(self._joins), comment)
        self._number += 1
        self._parts, self._size, self._last, self._joins = [], 0, "", []
        self._quote, self._comment = None, None
        self._start, self._start_line = end + 1, self._line
        return piece

    def feed(self, text: str) -> list[Piece]:
        """The pieces that ``text`` completes (the last one waits for more, or :meth:`end`)."""
        done: list[Piece] = []
        base, index, size = self._offset, 0, len(text)
        self._offset += size
        while index < size:
            if self._escape:
                self._escape = False
                if text[index] == "\n":  # a continuation: both characters go
                    self._joins.append(self._size)
                    self._line += 1
                else:
                    self._add("\\" + text[index])
                index += 1
                continue
            if self._comment is not None:
                stop = text.find("\n", index)
                if stop < 0:
                    break
                self._line += 1
                done.append(self._cut(base + stop))
                index = stop + 1
                continue
            found = _STOPS[self._quote].search(text, index)
            if found is None:
                self._add(text[index:])
                break
            stop = found.start()
            self._add(text[index:stop])
            ch, index = text[stop], stop + 1
            if ch == "\n":
                self._line += 1
                done.append(self._cut(base + stop))
            elif ch == "\\":
                self._escape = True
            elif self._quote is not None:  # the closing quote
                self._add(ch)
                self._quote = None
            elif ch in "'\"":
                self._add(ch)
                self._quote = ch
            elif ch == ";":
                done.append(self._cut(base + stop))
            elif self._last in ("", " ", "\t", "\r"):  # `#` at the start of a word
                self._comment = base + stop
            else:
                self._add(ch)
        return done

    def end(self) -> Piece:
        """The last piece (a ``\\`` at the very end joins nothing and is dropped)."""
        self._escape = False
        return self._cut(self._offset)


def pieces(text: str) -> list[Piece]:
    """Every piece of ``text``, blank ones included; the last is the one being typed."""
    splitter = Splitter()
    return [*splitter.feed(text), splitter.end()]


def continues(text: str) -> bool:
    """Whether ``text`` ends with a ``\\`` that continues it on the next line."""
    splitter = Splitter()
    splitter.feed(text)
    return splitter.continued


def split_pieces(found: list[Piece], what: str) -> list[tuple[Piece, list[str]]]:
    """The words of each piece that has any; all or nothing (a piece that cannot be
    read raises :class:`UsageError`, and then none runs)."""
    return [(piece, words) for piece in found if (words := split(piece.text, what))]


def numbered_commands(text: str, what: str = "command") -> list[tuple[int, list[str]]]:
    """The commands of ``text`` (``vss -c``, a line typed at the prompt), each with its
    number: as if each ``;`` began a new line, blank and comment pieces counted, so
    ``-c:N:`` points at the Nth piece as a person counts."""
    return [(piece.number, words) for piece, words in split_pieces(pieces(text), what)]


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
    candidates equally close: no suggestion. Bounded work: words and candidates
    over :data:`SUGGEST_LIMIT` characters are not compared, and only the first
    hundred candidates are.
    """
    typed = word.lower().lstrip("-")
    if not typed or len(word) > SUGGEST_LIMIT:
        return ""
    import difflib

    unique = [c for c in dict.fromkeys(candidates) if len(c) <= SUGGEST_LIMIT][:100]
    starting = [c for c in unique
                if len(typed) >= 2 and c.lower().lstrip("-").startswith(typed)]
    if len(starting) == 1:  # the start of one word only: `st` for `status`
        return f"; did you mean '{visible(starting[0], newlines=False)}'?"
    allowed = min(1 if len(typed) <= 5 else 2, len(typed) - 1)
    ranked = []
    for candidate in unique:
        folded = candidate.lower().lstrip("-")
        edits = _distance(typed, folded)
        ratio = difflib.SequenceMatcher(None, typed, folded).ratio()
        if edits <= allowed or ratio >= 0.6:
            ranked.append((edits, -ratio, candidate))
    ranked.sort(key=lambda item: item[:2])
    if not ranked or (len(ranked) > 1 and ranked[0][:2] == ranked[1][:2]):
        return ""
    return f"; did you mean '{visible(ranked[0][2], newlines=False)}'?"


def shown(word: str) -> str:
    """``word`` as an error message quotes it: control characters made visible, a
    long word cut (before any ``://``, so that no cut URL shows half a password)."""
    if len(word) <= SUGGEST_LIMIT:
        return visible(word, newlines=False)
    head = word[:40]
    if "://" in word[:SUGGEST_LIMIT]:
        head = head.partition("://")[0]
    return f"{visible(head, newlines=False)}... ({len(word)} characters)"


def _is_option(word: str) -> bool:
    return word.startswith("-") and len(word) > 1 and word != "--"


# --- the walk ---------------------------------------------------------------

#: Roles of words: command, group, sub, option, option-secret, value, arg, secret,
#: help, invalid (a value not among its checked choices), unknown.
class Walk(Record):
    """What each word is, and where the walk ended (for completion)."""

    __slots__ = FIELDS = ("roles", "entry", "command", "pending_opt", "positional", "args")

    def __init__(self, roles: list[str], entry: Command | Group | None = None,
                 command: Command | None = None, pending_opt: Opt | None = None,
                 positional: int = 0, args: list[str] | None = None) -> None:
        self.roles = roles
        self.entry = entry
        self.command = command
        self.pending_opt = pending_opt  # the option whose value comes next
        self.positional = positional  # positional arguments seen
        self.args: list[str] = [] if args is None else args  # their values


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
    """``line`` with every secret value replaced by ``******``, in each of its
    commands (for history files).

    Secret words in a row (an argument that takes the rest of the line) become one mask.
    """
    out, last = [], 0
    for piece in pieces(line):
        found = words(piece.text)
        walk = classify(table, [w.value for w in found])
        previous = ""
        for word, role in zip(found, walk.roles, strict=True):
            start, end = piece.span(word.start, word.end)
            if role == "secret" and previous == "secret":
                last = end
            elif role == "secret":
                out += [line[last:start], MASK]
                last = end
            elif role == "option-secret":
                out += [line[last:start], f"{word.raw.partition('=')[0]}={MASK}"]
                last = end
            previous = role
    out.append(line[last:])
    return "".join(out)


def _url_secret(value: str) -> bool:
    """Whether ``value`` holds a URL with a user name or password (``https://u:pw@h``),
    a query or a fragment: ``://`` then ``@``, ``?`` or ``#`` before a blank (linear)."""
    for part in value.split():
        at = part.find("://")
        if at >= 0 and any(mark in part[at + 3:] for mark in "@?#"):
            return True
    return False


def history_line(table: Table, line: str) -> str | None:
    """``line`` as the history file keeps it: secrets masked, in each of its commands.

    None for a line with a command that does not parse cleanly (an unknown
    command or option, a word where none belongs, a value not among its
    choices): a secret in it could be anywhere, so it stays in the session's
    memory only. None also for a line with a URL holding credentials, a query
    or a fragment.
    """
    for piece in pieces(line):
        found = [w.value for w in words(piece.text)]
        if {"unknown", "invalid"} & set(classify(table, found).roles):
            return None
        if any(_url_secret(word) for word in found):
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
    raise UsageError(f"invalid {what} '{shown(value)}' (choose from {', '.join(choices)}){hint}",
                     usage)


def parse(table: Table, values: list[str], ctx: Context | None = None) -> Invocation | Help | None:
    """Parse a command's words; None for an empty line."""
    if not values:
        return None
    entry = table.lookup(values[0])
    if entry is None:
        hint = suggest(values[0], [w for w, _ in table.top_words()])
        raise UsageError(f"unknown command '{shown(values[0])}'{hint} (type 'help')")
    rest = values[1:]
    if isinstance(entry, Group):
        if not rest or rest[0] in ("-h", "--help"):
            return Help(entry)
        command = entry.children.get(rest[0].lower())
        if command is None:
            hint = suggest(rest[0], list(entry.children))
            raise UsageError(f"unknown command '{entry.name} {shown(rest[0])}'{hint} "
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
            raise UsageError(f"unknown option '{shown(name)}' for '{command.name}'"
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
        raise UsageError(f"unexpected argument '{shown(extra)}' for '{command.name}'", usage)
    before: list[str] = []  # the values of the arguments so far, as declared
    for arg, value in zip(args, positional, strict=False):
        choices = checked_choices(arg.choices, ctx, tuple(before))
        before.append(_check_choice(value, choices, arg.name.upper(), usage))
        values[arg.name] = before[-1]
    for arg in command.args[len(positional):]:
        if arg.required:
            raise UsageError(f"missing {arg.name.upper()} for '{command.name}'", usage)
    for opt in command.all_opts:
        if opt.when and values[opt.dest] is not None and not opt.when.holds(
                str(values.get(opt.when.arg) or "")):
            typed = ("--no-" + opt.name[2:] if opt.negatable and values[opt.dest] is False
                     else opt.name)
            raise UsageError(f"{typed} goes with {' or '.join(opt.when.values)} only", usage)
    return Invocation(command, SimpleNamespace(**values))
