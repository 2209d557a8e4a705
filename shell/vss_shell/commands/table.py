"""The command table: every command declared once.

The parser, the completer, ``help`` and the input highlighter all read this
table; nothing else lists commands, their arguments or their options.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from vss_shell.context import Context

#: Values a completer offers: fixed, or computed from the running shell.
Choices = tuple[str, ...] | Callable[["Context"], Iterable[str]] | None


@dataclass(frozen=True)
class Arg:
    """A positional argument."""

    name: str
    help: str
    choices: Choices = None
    required: bool = True
    secret: bool = False  # masked in the history file
    upper: bool = False  # fixed choices matched case-insensitively, kept as declared


@dataclass(frozen=True)
class Opt:
    """An option: ``--name VALUE``, or a flag (``metavar`` None).

    A ``negatable`` flag also accepts ``--no-NAME``; unset it is None, so a
    command can ask the question the flag answers.
    """

    name: str
    help: str
    metavar: str | None = None
    choices: Choices = None
    secret: bool = False
    negatable: bool = False
    short: str | None = None

    @property
    def dest(self) -> str:
        """The key of the option's value in parsed arguments."""
        return self.name.lstrip("-").replace("-", "_")

    @property
    def spellings(self) -> tuple[str, ...]:
        """Every way to write it on a command line."""
        names = [self.name]
        if self.negatable:
            names.append("--no-" + self.name[2:])
        if self.short:
            names.append(self.short)
        return tuple(names)


#: The option every data-printing command takes.
OUTPUT_OPT = Opt("--output", "print as a table or as JSON", "FORMAT", ("table", "json"), short="-o")


@dataclass(frozen=True)
class Command:
    """A command: its words, arguments, options, help and handler."""

    path: tuple[str, ...]
    help: str
    handler: Callable[..., Any]
    args: tuple[Arg, ...] = ()
    opts: tuple[Opt, ...] = ()
    long_help: str = ""
    aliases: tuple[str, ...] = ()
    demo_only: bool = False
    output: bool = True  # takes --output

    @property
    def name(self) -> str:
        return " ".join(self.path)

    @property
    def all_opts(self) -> tuple[Opt, ...]:
        return (*self.opts, OUTPUT_OPT) if self.output else self.opts

    def find_opt(self, word: str) -> tuple[Opt, bool] | None:
        """The option spelled ``word`` and whether it was the ``--no-`` form."""
        for opt in self.all_opts:
            if word in (opt.name, opt.short):
                return opt, False
            if opt.negatable and word == "--no-" + opt.name[2:]:
                return opt, True
        return None

    def usage(self) -> str:
        """``usage: mfa mk METHOD [--phone NUMBER] ...``."""
        parts = [self.name]
        for arg in self.args:
            word = arg.name.upper()
            parts.append(word if arg.required else f"[{word}]")
        for opt in self.opts:
            spelled = f"{opt.name}|--no-{opt.name[2:]}" if opt.negatable else opt.name
            parts.append(f"[{spelled} {opt.metavar}]" if opt.metavar else f"[{spelled}]")
        return "usage: " + " ".join(parts)


@dataclass
class Group:
    """A word that gathers subcommands (``mfa``, ``profile``)."""

    name: str
    help: str
    children: dict[str, Command] = field(default_factory=dict)


class Table:
    """The registry: top-level commands and groups, looked up by word."""

    def __init__(self) -> None:
        self.top: dict[str, Command | Group] = {}
        self._aliases: dict[str, str] = {}

    def group(self, name: str, help: str) -> None:
        self.top[name] = Group(name, help)

    def add(self, command: Command) -> None:
        if len(command.path) == 1:
            self.top[command.path[0]] = command
            for alias in command.aliases:
                self._aliases[alias] = command.path[0]
        else:
            group = self.top[command.path[0]]
            assert isinstance(group, Group)
            group.children[command.path[1]] = command

    def lookup(self, word: str) -> Command | Group | None:
        """A top-level entry by name or alias, case-insensitively."""
        key = word.lower()
        return self.top.get(self._aliases.get(key, key))

    def commands(self) -> Iterable[Command]:
        """Every command, in declaration order."""
        for entry in self.top.values():
            if isinstance(entry, Group):
                yield from entry.children.values()
            else:
                yield entry

    def top_words(self) -> list[tuple[str, str]]:
        """Names and aliases with their one-line help, for completion."""
        words = [(name, entry.help) for name, entry in self.top.items()]
        words += [(alias, self.top[name].help) for alias, name in self._aliases.items()]
        return words


def resolve_choices(choices: Choices, ctx: Context | None) -> list[str]:
    """The values of a choice list (dynamic ones need a context)."""
    if choices is None:
        return []
    if callable(choices):
        return list(choices(ctx)) if ctx is not None else []
    return list(choices)
