"""The command table: every command declared once.

The parser, the completer, ``help`` and the input highlighter all read this
table; nothing else lists commands, their arguments or their options.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import TYPE_CHECKING, Any

from vss_shell.record import Frozen, Record

if TYPE_CHECKING:
    from vss_shell.context import Context

#: What a choice function gives: values, or values with their own one-line help.
ChoiceValues = Iterable[str] | Mapping[str, str]


class After(Frozen):
    """Choices that depend on the arguments before: ``fn(ctx, previous)``.

    ``previous`` holds the values of the positional arguments before this one
    (as typed while completing: match them in any case); ``ctx`` is None where
    no shell runs (then ``fn`` gives what it can without one). The parser
    checks a value against them whenever ``fn`` gives any.
    """

    __slots__ = FIELDS = ("fn", "checked")

    def __init__(self, fn: Callable[[Context | None, tuple[str, ...]], ChoiceValues | None],
                 checked: bool = True) -> None:
        self.fn = fn
        #: False: offered by completion only, the handler judges the value.
        self.checked = checked


#: Values a completer offers: fixed (checked by the parser; a mapping gives each
#: value its own one-line help), computed from the running shell (offered, not
#: checked: the handler says what is wrong), or computed from the arguments
#: before (:class:`After`, checked).
Choices = tuple[str, ...] | Mapping[str, str] | Callable[["Context"], ChoiceValues] | After | None


class When(Frozen):
    """An option that goes only with some values of an argument: ``--phone`` with
    METHOD ``SMS``. Completion offers it only then; the parser refuses it otherwise."""

    __slots__ = FIELDS = ("arg", "values")

    def __init__(self, arg: str, values: tuple[str, ...]) -> None:
        self.arg = arg  # the argument's name
        self.values = values  # matched in any case

    def holds(self, value: str | None) -> bool:
        return value is not None and value.lower() in {v.lower() for v in self.values}

    def describe(self) -> str:
        """``with METHOD SMS only``."""
        return f"with {self.arg.upper()} {' or '.join(self.values)} only"


class Arg(Frozen):
    """A positional argument."""

    __slots__ = FIELDS = ("name", "help", "choices", "required", "secret", "upper", "rest",
                          "paths")

    def __init__(self, name: str, help: str, choices: Choices = None, required: bool = True,
                 secret: bool = False, upper: bool = False, rest: bool = False,
                 paths: bool = False) -> None:
        self.name = name
        self.help = help
        self.choices = choices
        self.required = required
        self.secret = secret  # masked in the history file
        self.upper = upper  # fixed choices matched case-insensitively, kept as declared
        self.rest = rest  # the last argument only: every remaining word, joined with a space
        self.paths = paths  # a file name: completion offers paths


class Opt(Frozen):
    """An option: ``--name VALUE``, or a flag (``metavar`` None).

    A ``negatable`` flag also accepts ``--no-NAME`` (described by ``no_help``,
    else "do not " and ``help``); unset it is None, so a command can ask the
    question the flag answers.
    """

    __slots__ = FIELDS = ("name", "help", "metavar", "choices", "secret", "negatable", "short",
                          "no_help", "paths", "when")

    def __init__(self, name: str, help: str, metavar: str | None = None,
                 choices: Choices = None, secret: bool = False, negatable: bool = False,
                 short: str | None = None, no_help: str | None = None, paths: bool = False,
                 when: When | None = None) -> None:
        self.name = name
        self.help = help
        self.metavar = metavar
        self.choices = choices
        self.secret = secret
        self.negatable = negatable
        self.short = short
        self.no_help = no_help  # what ``--no-NAME`` does
        self.paths = paths  # the value is a file name: completion offers paths
        self.when = when  # goes only with some values of an argument

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

    @property
    def negation(self) -> str | None:
        """``--no-NAME`` for a negatable flag."""
        return f"--no-{self.name[2:]}" if self.negatable else None

    @property
    def full_help(self) -> str:
        """What the option does, and with what it goes (``(METHOD SMS only)``)."""
        return self.help + (f" ({self.when.describe()})" if self.when else "")

    @property
    def negation_help(self) -> str:
        """What ``--no-NAME`` does: "do not show the QR code"."""
        return self.no_help or f"do not {self.help}"

    def spelling_help(self) -> list[tuple[str, str]]:
        """Each spelling with what it does (``--no-qr``: "do not show the QR code")."""
        return [(spelling, self.negation_help if spelling == self.negation else self.full_help)
                for spelling in self.spellings]


#: The option every data-printing command takes.
OUTPUT_OPT = Opt("--output", "print as a table or as JSON", "FORMAT",
                 {"table": "aligned columns, for people",
                  "json": "JSON, for programs (one document a line in pipes)"}, short="-o")


class Command(Frozen):
    """A command: its words, arguments, options, help and handler."""

    __slots__ = FIELDS = ("path", "help", "handler", "args", "opts", "long_help", "aliases",
                          "demo_only", "output")

    def __init__(self, path: tuple[str, ...], help: str, handler: Callable[..., Any],
                 args: tuple[Arg, ...] = (), opts: tuple[Opt, ...] = (), long_help: str = "",
                 aliases: tuple[str, ...] = (), demo_only: bool = False,
                 output: bool = True) -> None:
        self.path = path
        self.help = help
        self.handler = handler
        self.args = args
        self.opts = opts
        self.long_help = long_help
        self.aliases = aliases
        self.demo_only = demo_only
        self.output = output  # takes --output

    @property
    def name(self) -> str:
        return " ".join(self.path)

    @property
    def all_opts(self) -> tuple[Opt, ...]:
        return (*self.opts, OUTPUT_OPT) if self.output else self.opts

    def arg_at(self, index: int) -> Arg | None:
        """The argument the positional word number ``index`` (from 0) fills."""
        if index < len(self.args):
            return self.args[index]
        return self.args[-1] if self.args and self.args[-1].rest else None

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
            word = arg.name.upper() + ("..." if arg.rest else "")
            parts.append(word if arg.required else f"[{word}]")
        for opt in self.all_opts:
            spelled = f"{opt.name}|--no-{opt.name[2:]}" if opt.negatable else opt.name
            parts.append(f"[{spelled} {opt.metavar}]" if opt.metavar else f"[{spelled}]")
        return "usage: " + " ".join(parts)


class Group(Record):
    """A word that gathers subcommands (``mfa``, ``profile``)."""

    __slots__ = FIELDS = ("name", "help", "children")

    def __init__(self, name: str, help: str, children: dict[str, Command] | None = None) -> None:
        self.name = name
        self.help = help
        self.children: dict[str, Command] = {} if children is None else children


class Table:
    """The registry: top-level commands and groups, looked up by word."""

    def __init__(self) -> None:
        self.top: dict[str, Command | Group] = {}
        self._aliases: dict[str, str] = {}

    def group(self, name: str, help: str) -> None:
        self.top[name] = Group(name, help)

    def add(self, command: Command) -> None:
        assert not any(arg.rest for arg in command.args[:-1]), "only the last Arg takes the rest"
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

    def entries(self, *, demo: bool = True) -> dict[str, str]:
        """Top-level names with their one-line help; demo-only commands only with ``demo``."""
        return {name: entry.help for name, entry in self.top.items()
                if demo or not (isinstance(entry, Command) and entry.demo_only)}

    def top_words(self, *, demo: bool = True) -> list[tuple[str, str]]:
        """Names and aliases with their one-line help, for completion."""
        shown = self.entries(demo=demo)
        return [*shown.items(),
                *((alias, shown[name]) for alias, name in self._aliases.items() if name in shown)]


def choice_help(choices: Choices, ctx: Context | None, previous: tuple[str, ...] = (),
                default: str = "") -> dict[str, str]:
    """Each value of a choice list with its one-line help (``default`` if it has none).

    Functions of the running shell need a context; :class:`After` gets ``previous``.
    """
    if choices is None:
        found: ChoiceValues | None = None
    elif isinstance(choices, After):
        found = choices.fn(ctx, previous)
    elif callable(choices):
        found = choices(ctx) if ctx is not None else None
    else:
        found = choices
    if isinstance(found, Mapping):
        return {value: text or default for value, text in found.items()}
    return dict.fromkeys(found or (), default)


def resolve_choices(choices: Choices, ctx: Context | None,
                    previous: tuple[str, ...] = ()) -> list[str]:
    """The values of a choice list (dynamic ones need a context)."""
    return list(choice_help(choices, ctx, previous))


def checked_choices(choices: Choices, ctx: Context | None,
                    previous: tuple[str, ...] = ()) -> list[str]:
    """The values the parser accepts for a positional argument (empty: any value).

    Fixed and :class:`After` choices are checked; those of the running shell
    (profile names) only offered.
    """
    if callable(choices) or (isinstance(choices, After) and not choices.checked):
        return []
    return resolve_choices(choices, ctx, previous)
