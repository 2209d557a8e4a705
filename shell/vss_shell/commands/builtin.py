"""The shell's own commands: ``help``, ``exit``, ``set``, and ``outbox`` (demo)."""

from __future__ import annotations

from types import SimpleNamespace as Args
from typing import Any

from vss_shell.commands.parser import suggest
from vss_shell.commands.table import Arg, Command, Group, Table
from vss_shell.context import Context
from vss_shell.errors import ShellError, UsageError
from vss_shell.output import FORMATS

KEYS_HELP = ("Keys: Tab completes, Up and Ctrl-R search history, Ctrl-C cancels,\n"
             "Ctrl-D or 'exit' leaves.")


class ExitShell(Exception):
    """Raised by ``exit`` to leave the loop."""


def _rows(pairs: list[tuple[str, str]]) -> str:
    width = max((len(k) for k, _ in pairs), default=0)
    return "\n".join(f"  {k:<{width}}  {v}" for k, v in pairs)


def help_text(table: Table, target: Command | Group | None) -> str:
    """Help for the whole table, a group or a command, all from the table."""
    if target is None:
        entries = [(n, e.help) for n, e in table.top.items()
                   if not (isinstance(e, Command) and e.demo_only)]
        return ("Commands:\n" + _rows(entries)
                + "\n\nType 'help COMMAND' (or COMMAND --help) for more.\n" + KEYS_HELP)
    if isinstance(target, Group):
        entries = [(f"{target.name} {n}", c.help) for n, c in target.children.items()]
        return f"{target.name}: {target.help}\n\n" + _rows(entries)
    lines = [target.usage(), "", target.help]
    if target.long_help:
        lines += ["", target.long_help]
    params = [(a.name.upper(), a.help + (f" ({', '.join(a.choices)})"
                                          if isinstance(a.choices, tuple) else ""))
              for a in target.args]
    params += [(", ".join(o.spellings) + (f" {o.metavar}" if o.metavar else ""), o.help)
               for o in target.all_opts]
    if params:
        lines += ["", _rows(params)]
    return "\n".join(lines)


def find_topic(table: Table, words: list[str]) -> Command | Group | None:
    """The entry ``help WORDS`` is about."""
    entry = table.lookup(words[0])
    if entry is None:
        hint = suggest(words[0], [w for w, _ in table.top_words()])
        raise UsageError(f"no help for '{words[0]}'{hint}")
    if len(words) > 1 and isinstance(entry, Group):
        sub = entry.children.get(words[1].lower())
        if sub is None:
            raise UsageError(f"no help for '{entry.name} {words[1]}'"
                             f"{suggest(words[1], list(entry.children))}")
        return sub
    return entry


def help_cmd(ctx: Context, a: Args) -> dict[str, str] | None:
    """Show help (a JSON document in piped JSON mode, where stdout is JSON Lines)."""
    words = [w for w in (a.topic, a.sub) if w]
    text = help_text(ctx.table, find_topic(ctx.table, words) if words else None)
    if ctx.wants_json(None) and not ctx.pretty_json:
        return {"help": text}
    ctx.ui.out(text)
    return None


def exit_cmd(ctx: Context, a: Args) -> None:
    """Leave the shell."""
    raise ExitShell


SETTINGS = {"output": FORMATS, "autosuggest": ("on", "off")}


def set_cmd(ctx: Context, a: Args) -> dict[str, Any] | None:
    """Show or change a session setting."""
    if a.key is None:
        return {"output": ctx.output, "autosuggest": "on" if ctx.autosuggest else "off"}
    key = a.key.lower()
    if a.value is None:
        raise UsageError(f"set {key} needs a value ({', '.join(SETTINGS[key])})")
    value = a.value.lower()
    if value not in SETTINGS[key]:
        raise UsageError(f"invalid value '{a.value}' for {key} "
                         f"(choose from {', '.join(SETTINGS[key])})")
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


def _topics(ctx: Context | None) -> list[str]:
    if ctx is None:
        return []
    return [name for name, entry in ctx.table.top.items()
            if ctx.demo is not None or not getattr(entry, "demo_only", False)]


def register(table: Table) -> None:
    """Declare the built-in commands."""
    table.add(Command(("help",), "show help for all commands or one", help_cmd,
                      args=(Arg("topic", "a command or group", _topics, required=False),
                            Arg("sub", "a subcommand", required=False)),
                      output=False))
    table.add(Command(("set",), "show or change a session setting (output, autosuggest)",
                      set_cmd,
                      args=(Arg("key", "the setting", tuple(SETTINGS), required=False),
                            Arg("value", "its new value", required=False))))
    table.add(Command(("outbox",), "show what the demo emulator sent (codes, tokens)", outbox,
                      demo_only=True))
    table.add(Command(("exit",), "leave the shell (also Ctrl-D)", exit_cmd,
                      aliases=("quit", ":q"), output=False))
