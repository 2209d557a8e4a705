"""The shell's own commands: ``help``, ``exit``, ``set``, and ``outbox`` (demo)."""

from __future__ import annotations

from collections.abc import Mapping
from types import SimpleNamespace as Args
from typing import Any

from vss_shell.commands.parser import shown, suggest
from vss_shell.commands.table import OUTPUT_OPT, After, Arg, Command, Group, Table
from vss_shell.context import Context
from vss_shell.errors import ShellError, UsageError
from vss_shell.record import Frozen

KEYS_HELP = ("Keys: Tab completes (Enter takes the completion), Up and Ctrl-R search\n"
             "history, F1 helps on the line typed, Ctrl-C cancels, Ctrl-D or 'exit' leaves.")


class ExitShell(Exception):
    """Raised by ``exit`` to leave the loop."""


def _rows(pairs: list[tuple[str, str]]) -> str:
    width = max((len(k) for k, _ in pairs), default=0)
    return "\n".join(f"  {k:<{width}}  {v}" for k, v in pairs)


def help_text(table: Table, target: Command | Group | None, *, demo: bool = False) -> str:
    """Help for the whole table, a group or a command, all from the table.

    The whole table lists demo-only commands (``outbox``) only in demo mode.
    """
    if target is None:
        entries = [(", ".join((name, *getattr(table.top[name], "aliases", ()))), text)
                   for name, text in table.entries(demo=demo).items()]
        return ("Commands:\n" + _rows(entries)
                + "\n\nType 'help COMMAND' (or COMMAND --help) for more.\n" + KEYS_HELP)
    if isinstance(target, Group):
        entries = [(f"{target.name} {n}", c.help) for n, c in target.children.items()]
        return f"{target.name}: {target.help}\n\n" + _rows(entries)
    lines = [target.usage(), "", target.help]
    if target.long_help:
        lines += ["", target.long_help]
    params = [(a.name.upper(), a.help + _values(a.choices)) for a in target.args]
    for opt in target.all_opts:
        spelled = ", ".join(s for s in opt.spellings if s != opt.negation)
        metavar = f" {opt.metavar}" if opt.metavar else ""
        params.append((spelled + metavar, opt.full_help + _values(opt.choices)))
        if opt.negation:
            params.append((opt.negation, opt.negation_help))
    if params:
        lines += ["", _rows(params)]
    return "\n".join(lines)


def _values(choices: object) -> str:
    """`` (table, json)`` for fixed choices, else nothing."""
    if isinstance(choices, tuple | Mapping):
        return f" ({', '.join(choices)})"
    return ""


def find_topic(table: Table, words: list[str]) -> Command | Group | None:
    """The entry ``help WORDS`` is about."""
    entry = table.lookup(words[0])
    if entry is None:
        hint = suggest(words[0], [w for w, _ in table.top_words()])
        raise UsageError(f"no help for '{shown(words[0])}'{hint}")
    if len(words) > 1 and isinstance(entry, Group):
        sub = entry.children.get(words[1].lower())
        if sub is None:
            raise UsageError(f"no help for '{entry.name} {shown(words[1])}'"
                             f"{suggest(words[1], list(entry.children))}")
        return sub
    return entry


def show_help(ctx: Context, target: Command | Group | None) -> dict[str, str] | None:
    """Print help for ``target``; in piped JSON mode (stdout is JSON Lines) return it
    as a document instead."""
    text = help_text(ctx.table, target, demo=ctx.demo is not None)
    if ctx.wants_json(None) and not ctx.pretty_json:
        return {"help": text}
    ctx.ui.out(text)
    return None


def help_cmd(ctx: Context, a: Args) -> dict[str, str] | None:
    """``help [TOPIC [SUB]]``."""
    words = [w for w in (a.topic, a.sub) if w]
    return show_help(ctx, find_topic(ctx.table, words) if words else None)


def exit_cmd(ctx: Context, a: Args) -> None:
    """Leave the shell."""
    raise ExitShell


class Setting(Frozen):
    """A session setting: what it does, and each value with what it does."""

    __slots__ = FIELDS = ("help", "values")

    def __init__(self, help: str, values: Mapping[str, str]) -> None:
        self.help = help
        self.values = values

    def describe(self) -> str:
        """``how results print: table or json``."""
        return f"{self.help}: {' or '.join(self.values)}"

    def values_help(self) -> str:
        """``table or json``."""
        return " or ".join(self.values)


#: The session settings and the values each takes.
SETTINGS: dict[str, Setting] = {
    "output": Setting("how results print", OUTPUT_OPT.choices),  # type: ignore[arg-type]
    "autosuggest": Setting("grey suggestions from history as you type",
                           {"on": "suggest from history (Right arrow takes it)",
                            "off": "no suggestions"}),
}


def _setting_values(ctx: Context | None, previous: tuple[str, ...]) -> Mapping[str, str]:
    """The values of the setting named before, each with its help (``set output``:
    table, json)."""
    setting = SETTINGS.get(previous[0].lower()) if previous else None
    return setting.values if setting else {}


def set_cmd(ctx: Context, a: Args) -> dict[str, Any] | None:
    """Show or change a session setting (the parser has checked key and value)."""
    if a.key is None:
        return {"output": ctx.output, "autosuggest": "on" if ctx.autosuggest else "off"}
    key = a.key
    if a.value is None:
        raise UsageError(f"set {key} needs a value ({', '.join(SETTINGS[key].values)})")
    value = a.value
    if key == "output":
        ctx.output = value
    else:
        ctx.autosuggest = value == "on"
    ctx.ui.info(f"{key} = {value}")
    return None


def outbox(ctx: Context, a: Args) -> list[dict[str, Any]]:
    """What the demo emulator sent by email and SMS (newest last)."""
    if ctx.demo is None:
        raise ShellError("outbox exists only in demo mode (vss --demo)")
    entries = ctx.demo.outbox(ctx.session.username)
    if not entries:
        ctx.ui.info("The outbox is empty.")
    return [{"kind": e.get("kind"), "to": e.get("to"), "subject": e.get("subject"),
             "code": e.get("code") or e.get("token")} for e in entries]


def _topics(ctx: Context) -> dict[str, str]:
    """What ``help`` lists, each with its one-line help."""
    return ctx.table.entries(demo=ctx.demo is not None)


def _subtopics(table: Table) -> After:
    """The subcommands of the group named before, each with its one-line help."""
    def children(ctx: Context | None, previous: tuple[str, ...]) -> dict[str, str] | None:
        group = table.lookup(previous[0]) if previous else None
        if not isinstance(group, Group):
            return None
        return {name: command.help for name, command in group.children.items()}
    return After(children)


def register(table: Table) -> None:
    """Declare the built-in commands."""
    table.add(Command(("help",), "show help for all commands or one", help_cmd,
                      args=(Arg("topic", "a command or group", _topics, required=False),
                            Arg("sub", "a subcommand", _subtopics(table), required=False)),
                      output=False))
    table.add(Command(("set",), "show or change a session setting (output, autosuggest)",
                      set_cmd,
                      args=(Arg("key", "the setting to show or change",
                                {key: s.describe() for key, s in SETTINGS.items()},
                                required=False),
                            Arg("value", "its new value: " + "; ".join(
                                f"{key}: {s.values_help()}" for key, s in SETTINGS.items()),
                                After(_setting_values), required=False)),
                      long_help="Settings:\n" + _rows([(key, s.describe())
                                                        for key, s in SETTINGS.items()])))
    table.add(Command(("outbox",), "show what the demo emulator sent (codes, tokens)", outbox,
                      demo_only=True))
    table.add(Command(("exit",), "leave the shell (also Ctrl-D)", exit_cmd,
                      aliases=("quit", ":q"), output=False))
