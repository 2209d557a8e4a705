"""Random lines through the shell's own code: zero tracebacks, zero internal errors.

Each line is cut by the shell's grammar and each command run by
:func:`vss_shell.dispatch.execute`, in process, against a Context on the test
emulator with no terminal (as a piped run): every failure must be a
ShellError/UsageError/ApiError, shown as one line. The lexer, the completer and
the history's masking get the same lines and must never raise.

A few thousand lines in CI; ``VSS_FUZZ_EXAMPLES=50000`` for a slow run (the
examples are shared among the three fuzz tests in proportion: see ``COUNTS``).
Requests can only reach 127.0.0.1: every profile resolves to the emulator (as
``--endpoint`` would), and a name lookup of any other host fails the test.
"""

from __future__ import annotations

import contextlib
import io
import os
import shlex
import socket
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from prompt_toolkit.completion import CompleteEvent
from prompt_toolkit.document import Document

from conftest import ACCOUNTS
from vss_shell import repl
from vss_shell.api.errors import ApiError
from vss_shell.commands import table
from vss_shell.commands.parser import (
    INTERACTIVE_LIMIT,
    history_line,
    mask_secrets,
    numbered_commands,
    parse,
    pieces,
    split,
    words,
)
from vss_shell.completion import ShellCompleter
from vss_shell.context import Context
from vss_shell.credentials import CredentialSources
from vss_shell.dispatch import ExitShell, execute, failure
from vss_shell.emulator import Emulator
from vss_shell.errors import ShellError, UsageError
from vss_shell.lexer import ShellLexer
from vss_shell.profiles import ProfileError, ProfileStore, resolve
from vss_shell.session import Session
from vss_shell.ui import BatchUI

T = table()
#: Examples for the run through the shell; each of the two prompt-side tests gets half.
EXAMPLES = int(os.environ.get("VSS_FUZZ_EXAMPLES", "1500"))
COUNTS = {"run": EXAMPLES, "edit": EXAMPLES // 2}
#: The slow mode outlasts the suite's timeout per test (20 ms a line is generous).
SLOW_OK = pytest.mark.timeout(max(120, EXAMPLES // 50))

# --- what lines are made of ---------------------------------------------------------------


def _vocabulary() -> list[str]:
    """Every word the table knows: commands, aliases, options, their values."""
    found = set(T.top) | {a for entry in T.top.values() for a in getattr(entry, "aliases", ())}
    for command in T.commands():
        found.update(command.path)
        found.add(command.name)
        for opt in command.all_opts:
            found.update(opt.spellings)
            found.add(opt.name + "=")
            if isinstance(opt.choices, tuple | dict):
                found.update(opt.choices)
                found.update(f"{opt.name}={v}" for v in opt.choices)
        for arg in command.args:
            if isinstance(arg.choices, tuple | dict):
                found.update(arg.choices)
    return sorted(found)


SPECIAL = [";", "\\", "\\\n", "\n", "#", "'", '"', " ", "\t", "\r", "--", "-", "-h", "--help",
           "=", "\x00", "\x1b[2J", "\x07", "\x7f", "\x9b", "\u202e", "é", "漢字", "🙂",
           "123456", "12", "1e300", "nan", "-1", "0", "416-555-0123", "+1 416 555 0123",
           "https://u:p@127.0.0.1:1/x?y#z", "http://127.0.0.1:1", "codes.txt", "q.png",
           "x" * 300, "--" + "y" * 100, "'a b'", '"c\\"d"', "$HOME", "`x`", "a\\ b"]
WORDS = _vocabulary() + SPECIAL
#: Random text: no "/" or "~" (a file option must not name a file outside the test's folder).
TEXT = st.text(st.characters(blacklist_characters="/~", blacklist_categories=("Cs",)),
               max_size=12)
FRAGMENT = st.one_of(st.sampled_from(WORDS), st.sampled_from(WORDS), TEXT)


def _fixed(choices: object) -> list[str]:
    return list(choices) if isinstance(choices, tuple | dict) else []


@st.composite
def _command(draw: st.DrawFn) -> str:
    """A command of the table with arguments and options that mostly fit it."""
    command = draw(st.sampled_from([c for c in T.commands() if c.name != "exit"]))
    parts = list(command.path)
    for arg in command.args:
        if arg.required or draw(st.booleans()):
            fixed = _fixed(arg.choices)
            parts.append(draw(st.sampled_from(fixed) if fixed and draw(st.booleans())
                              else FRAGMENT))
    opts = st.lists(st.sampled_from(command.all_opts), max_size=3) if command.all_opts \
        else st.just([])
    for opt in draw(opts):
        spelling = draw(st.sampled_from(opt.spellings))
        parts.append(spelling)
        if opt.metavar and spelling != opt.negation:
            fixed = _fixed(opt.choices)
            parts.append(draw(st.sampled_from(fixed) if fixed else FRAGMENT))
    quote = draw(st.booleans())
    return " ".join(shlex.quote(p) if quote else p for p in parts)


LINE = st.one_of(
    st.lists(FRAGMENT, max_size=10).map(" ".join),
    st.lists(FRAGMENT, max_size=10).map("".join),
    st.lists(st.lists(st.sampled_from(WORDS), max_size=5).map(" ".join), max_size=4)
    .map("; ".join),
    st.lists(_command(), min_size=1, max_size=3).map("; ".join),
)


# --- a shell with no terminal, on the emulator only -------------------------------------------


@pytest.fixture
def loopback_only(monkeypatch: pytest.MonkeyPatch) -> None:
    """A name lookup of any host but the loopback one fails the test."""
    real = socket.getaddrinfo

    def only_loopback(host, *args, **kwargs):  # type: ignore[no-untyped-def]
        assert host in ("127.0.0.1", "localhost", "::1", b"127.0.0.1"), f"request to {host}"
        return real(host, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", only_loopback)


@pytest.fixture
def shell(emulator: Emulator, tmp_path: Path, home: str, loopback_only: None,
          monkeypatch: pytest.MonkeyPatch) -> Iterator[Context]:
    """A Context as a piped run builds it, every profile pointed at the emulator."""
    monkeypatch.chdir(tmp_path)  # files a line saves land here
    store = ProfileStore(tmp_path / "profiles.toml").load()
    sources = CredentialSources({"VSS_USER_PASS": ACCOUNTS["demo"]["password"]})
    over = {"endpoint": emulator.url, "token_cache": False, "timeout": 5.0}

    def session_for(name: str) -> Session:
        try:
            chosen = resolve(store, profile=name, env={}, options=over)
        except ProfileError as exc:
            raise UsageError(str(exc)) from None
        return Session(chosen, sources)

    ui = BatchUI(stdout=io.StringIO(), stderr=io.StringIO(), tty_path=str(tmp_path / "no-tty"))
    settings_ = resolve(store, options={**over, "username": "demo"}, env={})
    ctx = Context(T, ui, Session(settings_, sources), store, pretty_json=False,
                  session_factory=session_for)
    yield ctx
    ctx.session.close()


def run_line(ctx: Context, line: str) -> None:
    """Run ``line`` as the shell does; fail the test on anything but a one-line error."""
    try:
        commands = numbered_commands(line, "line")
    except UsageError:
        STATS["unreadable"] += 1
        return
    for _, command in commands:
        STATS["commands"] += 1
        try:
            execute(ctx, command)
        except ExitShell:
            return
        except (ShellError, ApiError) as exc:
            message = failure(exc, ctx.session.secrets()).message
            assert message and "\n" not in message.strip(), (line, message)
            assert not message.startswith("internal error"), (line, message)
            STATS["usage" if isinstance(exc, UsageError) else
                  "api" if isinstance(exc, ApiError) else "shell"] += 1
            return
        except Exception as exc:  # an internal error: what this test is for
            raise AssertionError(f"{line!r}: {type(exc).__name__}: {exc}") from exc


STATS = dict.fromkeys(("lines", "unreadable", "commands", "usage", "shell", "api", "seconds"), 0)


@SLOW_OK
@settings(max_examples=COUNTS["run"], deadline=None, database=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(line=LINE)
def test_random_lines_never_give_a_traceback(shell: Context, line: str) -> None:
    start = time.perf_counter()
    run_line(shell, line)
    STATS["lines"] += 1
    STATS["seconds"] += time.perf_counter() - start
    written = shell.ui.stdout.getvalue() + shell.ui.stderr.getvalue()  # type: ignore[attr-defined]
    assert "Traceback" not in written and "internal error" not in written
    for stream in (shell.ui.stdout, shell.ui.stderr):
        stream.seek(0)  # type: ignore[attr-defined]
        stream.truncate()  # type: ignore[attr-defined]


# --- the prompt's side: lexer, completer, history, F1 -------------------------------------------

LEXER = ShellLexer(T)
COMPLETER = ShellCompleter(T, lambda: None)


@SLOW_OK
@settings(max_examples=COUNTS["edit"], deadline=None, database=None)
@given(text=st.one_of(LINE, st.lists(LINE, max_size=3).map("\n".join)))
def test_random_text_at_the_prompt_never_raises(text: str) -> None:
    lines = LEXER.lex_document(Document(text))
    for number, line in enumerate(text.split("\n")):
        assert "".join(t for _, t in lines(number)) == line
    for cursor in {0, len(text) // 2, len(text)}:
        list(COMPLETER.get_completions(Document(text, cursor), CompleteEvent()))
        repl.command_at(text, cursor)
    kept = history_line(T, text)
    assert kept is None or kept == mask_secrets(T, text)


@SLOW_OK
@settings(max_examples=COUNTS["edit"], deadline=None, database=None)
@given(text=LINE)
def test_what_is_highlighted_is_what_runs(text: str) -> None:
    """The words the lexer, completer and history see are the words that run."""
    for piece in pieces(text):
        try:
            ran = split(piece.text)
        except UsageError:
            continue
        assert [w.value for w in words(piece.text)] == ran, piece.text


# --- no input makes the work grow faster than the input ------------------------------------------

#: Lines built to make a backtracking regex or a quadratic loop show (4096 characters: the
#: longest line the prompt highlights and completes).
ADVERSARIAL = ['"' * 4096, "'" * 4096, "\\" * 4095, "#" * 4096, "a;" * 2048, "://" * 1365,
               "--x=" * 1024, "\\\n" * 2048, "mfa " * 1024, '"\\' * 2048, "x" * 4096,
               "mfa verify " + "1 " * 2040, "profile add " + "://@" * 1000, "\x1b" * 4096]


@pytest.mark.parametrize("line", ADVERSARIAL, ids=range(len(ADVERSARIAL)))
def test_adversarial_lines_cost_little(line: str) -> None:
    """Generous bounds (the benchmark measures speed): a quadratic walk of 4096
    characters would take seconds, these take milliseconds."""
    assert len(line) <= INTERACTIVE_LIMIT + 16
    start = time.perf_counter()
    LEXER.lex_document(Document(line))(0)
    list(COMPLETER.get_completions(Document(line), CompleteEvent()))
    history_line(T, line)
    assert time.perf_counter() - start < 2.0
    start = time.perf_counter()
    with contextlib.suppress(UsageError):  # 100 kB through the grammar, as `-c` reads it
        commands = numbered_commands(line * 25, "line")
        if commands:  # a run stops at the first command that fails
            parse(T, commands[0][1])
    assert time.perf_counter() - start < 10.0  # quadratic, this would take minutes


def test_report_the_figures(capsys: pytest.CaptureFixture[str]) -> None:
    """Prints the figures of the run above (``pytest -s``), for the README."""
    if STATS["lines"]:
        with capsys.disabled():
            ran = STATS["commands"] - STATS["usage"] - STATS["shell"] - STATS["api"]
            print(f"\nfuzz: {STATS['lines']} random lines ({STATS['unreadable']} unreadable) "
                  f"through the shell in {STATS['seconds']:.1f} s: {STATS['commands']} "
                  f"commands, {ran} ran, {STATS['usage']} usage errors, {STATS['shell']} "
                  f"shell errors, {STATS['api']} API errors; zero tracebacks")
