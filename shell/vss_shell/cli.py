"""The ``vss`` executable: options, the session, and the mode (prompt or piped)."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterable, Iterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any, NoReturn

from vss_shell import __version__, paths

EPILOG = """\
modes:
  vss                  the interactive shell (when stdin and stdout are terminals)
  vss < cmds.txt       run commands from standard input, one per line
  vss -f FILE          run commands from FILE
  vss -c "mfa status"  run commands given here (several with ';')

exit status:
  0    every command succeeded
  1    a command failed (API error, a malformed code or phone number,
       refused by the server, an answer missing without a terminal)
  2    usage error (unknown command, bad arguments, bad options to vss)
  130  interrupted

environment:
  VSS_PROFILE, VSS_ENDPOINT, VSS_USER, VSS_USER_PASS, VSS_USER_OTP, VSS_TOKEN,
  VSS_SHELL_CONFIG, VSS_SHELL_HISTORY, NO_COLOR
"""


#: The options of ``vss`` by help group: (flags, argparse keywords). The parser is
#: built from this table, and so are the values of a run given no option (``vss``
#: alone, the interactive shell: it then starts without importing argparse).
OPTIONS: tuple[tuple[str, tuple[tuple[tuple[str, ...], dict[str, Any]], ...]], ...] = (
    ("what to run", (
        (("-c",), {"dest": "commands", "metavar": "COMMANDS",
                   "help": "run these commands (separated by ';') and exit"}),
        (("-f", "--file"), {"metavar": "FILE",
                            "help": "run the commands in FILE ('-': stdin) and exit"}),
        (("--keep-going",), {"action": "store_true",
                             "help": "piped runs: go on after a failing command"}),
        (("--demo",), {"action": "store_true",
                       "help": "start the local API emulator and use its demo account"}),
    )),
    ("connection (over the profile's values)", (
        (("--profile",), {"help": "the profile to use (VSS_PROFILE)"}),
        (("--endpoint",), {"metavar": "URL", "help": "API endpoint (VSS_ENDPOINT)"}),
        (("--user",), {"help": "username (VSS_USER)"}),
        (("--timeout",), {"type": float, "metavar": "SECONDS", "help": "request timeout"}),
        (("--ca-bundle",), {"metavar": "PATH", "help": "CA bundle to verify TLS with"}),
        (("--insecure",), {"action": "store_true",
                           "help": "do NOT verify TLS certificates (warned)"}),
        (("--no-token-cache",), {"action": "store_true",
                                 "help": "neither read nor write the token cache"}),
    )),
    ("answers for scripts", (
        (("--password-file",), {"metavar": "FILE", "help": "read the password from FILE"}),
        (("--otp-command",), {"metavar": "CMD",
                              "help": "run CMD (no shell) to get a one-time code"}),
        (("-y", "--yes"), {"action": "store_true", "help": "answer yes to confirmations"}),
    )),
    ("output and files", (
        (("-o", "--output"), {"choices": ("table", "json"), "help": "output format"}),
        (("--no-color",), {"action": "store_true", "help": "no colour (also NO_COLOR)"}),
        (("--no-auto-suggest",), {"action": "store_true",
                                  "help": "no grey suggestions from history"}),
        (("--config",), {"metavar": "PATH", "help": "profiles file (VSS_SHELL_CONFIG)"}),
        (("--history",), {"metavar": "PATH", "help": "history file (VSS_SHELL_HISTORY)"}),
        (("--debug",), {"action": "store_true", "help": "show tracebacks (secrets redacted)"}),
    )),
)
#: Options that exclude each other (by destination): where the commands come from.
EXCLUSIVE = ("commands", "file")


def _dest(flags: tuple[str, ...], keywords: dict[str, Any]) -> str:
    """The attribute an option sets, named as argparse names it."""
    long = next((flag for flag in flags if flag.startswith("--")), flags[0])
    return keywords.get("dest") or long.lstrip("-").replace("-", "_")


def build_parser() -> Any:
    """The options of ``vss`` itself: an ``argparse.ArgumentParser``, whose errors
    quote what was typed with control characters escaped."""
    import argparse

    class Parser(argparse.ArgumentParser):
        def error(self, message: str) -> NoReturn:
            from vss_shell.safetext import visible

            self.print_usage(sys.stderr)
            self.exit(2, f"{self.prog}: error: {visible(message, newlines=False)}\n")

    p = Parser(
        prog="vss", description="An interactive shell for the ITS Private Cloud (VSS) API: "
        "account multi-factor authentication.", epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--version", action="version", version=f"vss-shell {__version__}")
    for title, options in OPTIONS:
        group = p.add_argument_group(title)
        exclusive = None
        for flags, keywords in options:
            target = group
            if _dest(flags, keywords) in EXCLUSIVE:
                exclusive = exclusive or group.add_mutually_exclusive_group()
                target = exclusive
            target.add_argument(*flags, **keywords)
    return p


def no_options() -> SimpleNamespace:
    """What the parser gives for a command line without options."""
    return SimpleNamespace(**{
        _dest(flags, keywords): keywords.get(
            "default", False if keywords.get("action") == "store_true" else None)
        for _, options in OPTIONS for flags, keywords in options})


def parse_options(argv: list[str] | None = None) -> Any:
    """The options of this run (``sys.argv`` when ``argv`` is None)."""
    args = sys.argv[1:] if argv is None else argv
    return build_parser().parse_args(args) if args else no_options()


def _demo_password() -> str:
    import tomllib

    from vss_shell import shipped

    return tomllib.loads(shipped.read_text("emulator.toml"))["accounts"]["demo"]["password"]


def _entries(opts: Any) -> tuple[str, Iterable[tuple[int, Any]]]:
    from vss_shell.batch import logical_lines
    from vss_shell.commands.parser import numbered_commands

    if opts.commands is not None:
        return "-c", numbered_commands(opts.commands)
    if opts.file and opts.file != "-":
        # Undecodable bytes become U+FFFD: that line then fails as one line, no traceback.
        handle = open(opts.file, encoding="utf-8", errors="replace")  # noqa: SIM115

        def read() -> Iterator[tuple[int, Any]]:
            with handle:  # closed once read, or when the run stops early
                yield from logical_lines(handle)

        return opts.file, read()
    sys.stdin.reconfigure(errors="replace")  # type: ignore[union-attr]
    return "<stdin>", logical_lines(sys.stdin)


def _no_charset_guessing() -> None:
    """Keep ``charset_normalizer`` out of this process: ``requests`` imports it only to
    guess the charset of a text answer, and the shell never asks (it reads JSON as the
    contract says); it would cost 4 MiB and 6 ms. ``requests`` then warns once that it
    found no such library: said here, not to the person."""
    import warnings

    sys.modules.setdefault("charset_normalizer", None)  # type: ignore[arg-type]
    warnings.filterwarnings("ignore", message="Unable to find acceptable character detection")


def main(argv: list[str] | None = None) -> int:
    """Run ``vss``; returns the exit status."""
    _no_charset_guessing()
    opts = parse_options(argv)
    env = dict(os.environ)
    interactive = (opts.commands is None and opts.file is None
                   and sys.stdin.isatty() and sys.stdout.isatty())
    color = not (opts.no_color or env.get("NO_COLOR")) and sys.stdout.isatty() and interactive

    from vss_shell.ui import BatchUI, TerminalUI

    ui = (TerminalUI if interactive else BatchUI)(color=color, assume_yes=opts.yes)
    try:
        return _run(opts, env, ui, interactive)
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:  # the reader went away (`vss ... | head -1`)
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 141


def _run(opts: Any, env: dict[str, str], ui: Any, interactive: bool) -> int:
    demo = opts.demo or (opts.profile or env.get("VSS_PROFILE")) == "demo"
    for why, given in (("runs its own emulator and account", (
            ("--profile", opts.profile not in (None, "demo")), ("--endpoint", opts.endpoint),
            ("--user", opts.user))), ("keeps its files in a throwaway folder", (
            ("--config", opts.config), ("--history", opts.history)))):
        clashing = [flag for flag, value in given if value]
        if demo and clashing:
            ui.error(f"vss: demo mode {why}; leave out {' and '.join(clashing)}")
            return 2
    if not demo:
        return _session(opts, env, ui, interactive, Files.user(opts))
    _exit_on_signals()  # SIGTERM, SIGHUP: the throwaway folder is removed all the same
    with paths.scratch_folder() as folder:
        return _session(opts, env, ui, interactive, Files.demo(folder), demo=True)


def _exit_on_signals() -> None:
    """SIGTERM and SIGHUP end the run through ``finally`` blocks (clean-up), not abruptly."""
    import signal

    def leave(signum: int, frame: Any) -> None:
        raise SystemExit(128 + signum)

    for number in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(number, leave)


class Files:
    """Where a run keeps the profiles, the token cache and the history."""

    def __init__(self, profiles: Path, tokens: Path, history: Path) -> None:
        self.profiles, self.tokens, self.history = profiles, tokens, history

    @classmethod
    def user(cls, opts: Any) -> Files:
        """The person's files (XDG, or as ``--config``/``--history`` and variables say)."""
        return cls(paths.profiles_path(opts.config), paths.tokens_path(),
                   paths.history_path(opts.history))

    @classmethod
    def demo(cls, folder: Path) -> Files:
        """Demo mode's: all in a private folder removed at exit."""
        return cls(folder / "profiles.toml", folder / "tokens.toml", folder / "history")


def _session(opts: Any, env: dict[str, str], ui: Any, interactive: bool,
             where: Files, *, demo: bool = False) -> int:
    from vss_shell.commands import table
    from vss_shell.context import Context
    from vss_shell.credentials import CredentialSources
    from vss_shell.errors import ShellError, UsageError
    from vss_shell.profiles import ProfileError, ProfileStore, resolve
    from vss_shell.session import Session
    from vss_shell.tokencache import TokenCache

    store = ProfileStore(where.profiles, named=not demo and bool(
        opts.config or env.get("VSS_SHELL_CONFIG"))).load()
    options: dict[str, Any] = {
        "profile": opts.profile, "endpoint": opts.endpoint, "username": opts.user,
        "timeout": opts.timeout, "ca_bundle": opts.ca_bundle, "output": opts.output,
        "verify_tls": False if opts.insecure else None,
        "token_cache": False if opts.no_token_cache else None,
    }
    cli_options = dict(options)
    emulator, password = None, None
    #: What the ``demo`` profile means while the embedded emulator runs.
    demo_options: dict[str, Any] = {}
    try:
        if demo:
            from vss_shell.emulator import Emulator

            emulator = Emulator(log=None)
            emulator.start(host="127.0.0.1", port=0)
            password = _demo_password()
            env = {}
            demo_options = {"profile": "demo", "endpoint": emulator.url, "username": "demo",
                            "token_cache": False}
            options.update(demo_options)
        try:
            settings = _demo_sources(resolve(store, options=options, env=env), demo_options)
        except ProfileError as exc:
            ui.error(f"vss: {exc}")
            return 2
        trouble = store.problem or store.absent
        if trouble and (interactive or not settings.blocked):
            # In a pipe a blocked run says it where it matters: each command that
            # would reach a server fails with it (exit 2).
            ui.warn(settings.blocked or trouble)
        if not settings.verify_tls:
            ui.warn(TLS_OFF)
        sources = CredentialSources(env, opts.password_file, opts.otp_command)
        cache = TokenCache(where.tokens)

        def session_for(name: str) -> Session:
            """Profile ``name`` under the same options and variables as at start."""
            back_to_demo = bool(demo_options) and name == "demo"
            if name == "demo" and not back_to_demo:
                raise ShellError("the demo profile is the embedded emulator: start it with "
                                 "'vss --demo'")
            chosen_options = {**cli_options, **(demo_options if back_to_demo else {})}
            try:
                chosen = resolve(store, profile=name, env=env, options=chosen_options)
            except ProfileError as exc:
                raise UsageError(str(exc)) from None
            if back_to_demo:
                _demo_sources(chosen, demo_options)
            if not chosen.verify_tls:
                ui.warn(TLS_OFF)
            # VSS_TOKEN belongs to the endpoint it came with; never sent anywhere else.
            session = Session(chosen, sources, cache=cache,
                              password=password if back_to_demo else None,
                              env_token=env_token if chosen.endpoint == settings.endpoint
                              and not chosen.blocked else None)
            session.restore()
            return session

        env_token = env.get("VSS_TOKEN") or None
        ctx = Context(table(), ui, Session(settings, sources, cache=cache, password=password,
                                           env_token=env_token),
                      store, demo=emulator, autosuggest=not opts.no_auto_suggest,
                      pretty_json=interactive, session_factory=session_for)
        ctx.session.restore()
        ui.secrets = _secret_forms(ctx, demo=emulator)
        if opts.debug and not settings.blocked:
            ui.warn(f"debug: {_network(settings, env)}")
        if emulator is not None:
            from vss_shell.demo import Mailbox

            ui.show_news = Mailbox(emulator, ui).announce
        if interactive:
            from vss_shell import repl

            return repl.run(ctx, history=where.history, banner=banner(ctx), debug=opts.debug)
        from vss_shell import batch

        try:
            name, entries = _entries(opts)
        except UsageError as exc:
            ui.error(f"vss: {exc}")
            return 2
        except OSError as exc:
            ui.error(f"vss: cannot read {opts.file}: {exc.strerror}")
            return 2
        return batch.run(ctx, name, entries, keep_going=opts.keep_going, debug=opts.debug)
    finally:
        if emulator is not None:
            emulator.stop()


def _secret_forms(ctx: Any, *, demo: Any = None) -> Any:
    """What the UI hides in everything it prints: every spelling of the session's
    secrets (worked out again only when they change). In demo mode the account's
    password and what the emulator "sent" are shown on purpose (banner, outbox)."""
    from vss_shell.errors import spellings

    memo: list[Any] = [None, set()]
    password = _demo_password() if demo is not None else None

    def shown_anyway() -> set[str]:
        if demo is None:
            return set()
        sent = {str(e.get(k)) for e in demo.outbox() for k in ("code", "token") if e.get(k)}
        return {password, *sent}

    def forms() -> set[str]:
        public = shown_anyway()
        key = (tuple(s for s in ctx.session.secrets() if s not in public), ctx.session.username)
        if key != memo[0]:
            memo[:] = [key, spellings(*key)]
        return memo[1]

    return forms


def _network(settings: Any, env: dict[str, str]) -> str:
    """Where requests go and whom they trust (``--debug``): the proxy, the CAs."""
    from vss_shell.api.netenv import resolve

    net = resolve(settings.endpoint, env)
    if settings.verify is not True:  # the profile's or an option's choice stands
        via = net.describe().split(";")[0]
        trust = "TLS verification OFF" if settings.verify is False else (
            f"CA bundle {settings.verify} (from {settings.sources.get('ca_bundle')})")
        return f"{settings.endpoint}: {via}; {trust}"
    return f"{settings.endpoint}: {net.describe()}"


TLS_OFF = "TLS certificate verification is OFF: the connection can be intercepted."


def _demo_sources(settings: Any, demo_options: dict[str, Any]) -> Any:
    """Say that demo mode, not an option, set these values (``profile show``)."""
    for key in demo_options:
        if key in settings.sources and key != "profile":
            settings.sources[key] = "demo mode"
    return settings


def banner(ctx: Any) -> str:
    """The first lines of an interactive shell."""
    head = f"vss-shell {__version__}"
    if ctx.demo is not None:
        return (f"{head}: demo mode, on a local emulator at {ctx.settings.endpoint}\n"
                f"Account 'demo', password '{_demo_password()}' (already given). What the\n"
                "emulator sends by email or SMS appears here as it is sent; 'outbox' lists\n"
                "it again. Profiles, tokens and history stay in a throwaway folder, removed\n"
                "at exit. Type 'help' for commands, Tab to complete, Ctrl-D to leave.")
    user = ctx.session.username or "no user yet"
    where = "no server: the profiles file is broken" if ctx.settings.blocked \
        else ctx.settings.endpoint
    return (f"{head}: profile {ctx.settings.name} ({where}), {user}\n"
            "Type 'help' for commands, Tab to complete, Ctrl-D to leave.")
