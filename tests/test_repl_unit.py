"""The interactive loop, driven through prompt_toolkit's pipe input against the emulator."""

from __future__ import annotations

import io
import json
import stat
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from types import SimpleNamespace

import pytest
from prompt_toolkit import PromptSession
from prompt_toolkit.application import create_app_session
from prompt_toolkit.input import PipeInput, create_pipe_input
from prompt_toolkit.key_binding import KeyBindings
from prompt_toolkit.output import DummyOutput

from conftest import ACCOUNTS
from vss_shell import repl
from vss_shell.commands import table
from vss_shell.completion import ShellCompleter
from vss_shell.context import Context
from vss_shell.credentials import CredentialSources
from vss_shell.emulator import Emulator
from vss_shell.history import MaskingFileHistory
from vss_shell.profiles import ProfileStore, resolve
from vss_shell.session import Session
from vss_shell.ui import TerminalUI

# A broken loop waits for keys forever: fail fast instead.
pytestmark = pytest.mark.timeout(20)

UP = "\x1b[A"
F1 = "\x1bOP"
CTRL_C = "\x03"
CTRL_D = "\x04"


@pytest.fixture
def ctx(emulator: Emulator, tmp_path: Path, home: str) -> Iterator[Context]:
    """A Context as ``vss`` builds it, on the emulator's demo account."""
    store = ProfileStore(tmp_path / "profiles.toml").load()
    options = {"profile": "demo", "endpoint": emulator.url, "username": "demo",
               "token_cache": False}
    settings = resolve(store, options=options, env={})
    sources = CredentialSources({"VSS_USER_PASS": ACCOUNTS["demo"]["password"]})
    ui = TerminalUI(stdout=io.StringIO(), stderr=io.StringIO())

    def session_for(name: str) -> Session:
        return Session(resolve(store, profile=name, options={"token_cache": False}, env={}),
                       sources)

    context = Context(table(), ui, Session(settings, sources), store,
                      session_factory=session_for)
    yield context
    context.session.close()


def out(ctx: Context) -> str:
    return ctx.ui.stdout.getvalue()  # type: ignore[attr-defined]


def err(ctx: Context) -> str:
    return ctx.ui.stderr.getvalue()  # type: ignore[attr-defined]


def run_keys(ctx: Context, keys: str, history: Path, **kwargs) -> int:
    with create_pipe_input() as pipe, create_app_session(input=pipe, output=DummyOutput()):
        pipe.send_text(keys)
        return repl.run(ctx, history=history, banner="hi", **kwargs)


def history_entries(path: Path) -> list[str]:
    return [line[1:] for line in path.read_text().splitlines() if line.startswith("+")]


# --- the loop --------------------------------------------------------------------------------


def test_commands_then_exit(ctx: Context, tmp_path: Path) -> None:
    rc = run_keys(ctx, "whoami\rmfa status\rexit\r", tmp_path / "h")
    assert rc == 0
    lines = out(ctx).splitlines()
    assert lines[0] == "hi"
    assert "profile        demo" in lines
    assert "user           demo" in lines
    assert f"endpoint       {ctx.settings.endpoint}" in lines
    assert "state          logged out" in lines
    assert "enabled      no" in lines
    assert "method       -" in lines
    assert err(ctx) == ""
    assert history_entries(tmp_path / "h") == ["whoami", "mfa status", "exit"]


@pytest.mark.parametrize("leave", ["quit\r", ":q\r", "EXIT\r", CTRL_D])
def test_ways_to_leave(ctx: Context, tmp_path: Path, leave: str) -> None:
    assert run_keys(ctx, leave + "whoami\r", tmp_path / "h") == 0
    assert out(ctx) == "hi\n"  # nothing after leaving is run
    assert err(ctx) == ""


def test_end_of_input_exits_zero(ctx: Context, tmp_path: Path) -> None:
    assert run_keys(ctx, CTRL_D, tmp_path / "h") == 0
    assert out(ctx) == "hi\n"


def test_errors_are_reported_and_the_loop_goes_on(ctx: Context, tmp_path: Path) -> None:
    rc = run_keys(ctx, "mfz\rmfa mk EMIAL\rwhoami\rexit\r", tmp_path / "h")
    assert rc == 0
    lines = err(ctx).splitlines()
    assert lines[0] == "error: unknown command 'mfz'; did you mean 'mfa'? (type 'help')"
    assert lines[1].startswith("error: invalid METHOD 'EMIAL' (choose from EMAIL, ")
    assert lines[2].startswith("usage: mfa mk METHOD ")
    assert len(lines) == 3
    assert "user           demo" in out(ctx)


def test_debug_shows_the_traceback_first(ctx: Context, tmp_path: Path) -> None:
    assert run_keys(ctx, "mfa mk EMIAL\rexit\r", tmp_path / "h", debug=True) == 0
    text = err(ctx)
    assert text.startswith("Traceback (most recent call last):")
    assert "UsageError" in text
    lines = text.splitlines()
    assert lines[-2].startswith("error: invalid METHOD 'EMIAL'")
    assert lines[-1].startswith("usage: mfa mk METHOD")
    assert ACCOUNTS["demo"]["password"] not in text


def test_unclosed_quote_is_a_one_line_error(ctx: Context, tmp_path: Path) -> None:
    assert run_keys(ctx, 'profile use "lab\rexit\r', tmp_path / "h") == 0
    assert err(ctx) == "error: cannot read the line: no closing quotation\n"


def test_odd_quotes_do_not_kill_the_shell(ctx: Context, tmp_path: Path) -> None:
    assert run_keys(ctx, "login 'o\"brien\rexit\r", tmp_path / "h") == 0
    assert "error: cannot read the line" in err(ctx)


def test_ctrl_c_at_the_prompt_drops_the_line(ctx: Context, tmp_path: Path) -> None:
    assert run_keys(ctx, "mfa sta" + CTRL_C + "whoami\rexit\r", tmp_path / "h") == 0
    assert err(ctx) == ""
    assert "user           demo" in out(ctx)
    assert history_entries(tmp_path / "h") == ["whoami", "exit"]


def test_questions_read_from_the_same_terminal(ctx: Context, tmp_path: Path) -> None:
    assert run_keys(ctx, "mfa rm\rn\rexit\r", tmp_path / "h") == 0
    assert err(ctx) == "error: cancelled; nothing was changed\n"


def test_ctrl_c_during_a_question_cancels(ctx: Context, tmp_path: Path) -> None:
    assert run_keys(ctx, "mfa rm\r" + CTRL_C + "exit\r", tmp_path / "h") == 0
    assert err(ctx) == "Cancelled.\n"


def test_output_setting_applies_to_later_commands(ctx: Context, tmp_path: Path) -> None:
    assert run_keys(ctx, "set output json\rmfa status\rexit\r", tmp_path / "h") == 0
    text = out(ctx)
    assert "output = json" in text
    body = text[text.index("{"):]
    assert json.loads(body) == {"enabled": False, "method": None, "enabled_on": None,
                                "disabled_on": None, "state": "off"}


def test_f1_shows_help(ctx: Context, tmp_path: Path) -> None:
    assert run_keys(ctx, F1 + "exit\r", tmp_path / "h") == 0
    text = out(ctx)
    assert "Commands:" in text
    assert "outbox" not in text  # demo-only, and this is no demo
    assert err(ctx) == ""


def test_f1_on_a_typed_command_shows_its_help(ctx: Context, tmp_path: Path) -> None:
    assert run_keys(ctx, "mfa mk" + F1 + CTRL_C + "exit\r", tmp_path / "h") == 0
    assert "usage: mfa mk METHOD" in out(ctx)
    assert "Commands:" not in out(ctx)


def test_history_masked_on_disk_original_in_memory(ctx: Context, tmp_path: Path,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    histories: list[MaskingFileHistory] = []

    class Recording(MaskingFileHistory):
        def __init__(self, *args, **kwargs) -> None:
            super().__init__(*args, **kwargs)
            histories.append(self)

    monkeypatch.setattr(repl, "MaskingFileHistory", Recording)
    path = tmp_path / "state" / "history"
    assert run_keys(ctx, "mfa verify 123456\rmfa rm --token=abcdef\rexit\r", path) == 0
    assert "123456" not in path.read_text()
    assert "abcdef" not in path.read_text()
    assert history_entries(path) == ["mfa verify ******", "mfa rm --token=******", "exit"]
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    assert histories[0].get_strings() == ["mfa verify 123456", "mfa rm --token=abcdef", "exit"]


def test_up_recalls_the_line_as_typed(ctx: Context, tmp_path: Path,
                                      monkeypatch: pytest.MonkeyPatch) -> None:
    sessions: list[PromptSession] = []

    class Recording(PromptSession):
        def __init__(self, *args, **kwargs) -> None:
            super().__init__(*args, **kwargs)
            sessions.append(self)

    monkeypatch.setattr(repl, "PromptSession", Recording)

    def script(pipe: PipeInput) -> None:
        _wait(lambda: bool(sessions) and sessions[0].app.is_running)
        pipe.send_text("mfa verify 123456\r")
        _wait(lambda: err(ctx) != "")
        buffer = sessions[0].default_buffer
        deadline = time.monotonic() + 5
        while buffer.text != "mfa verify 123456":  # history loads in the background
            assert time.monotonic() < deadline, "Up recalled nothing"
            pipe.send_text(UP)
            time.sleep(0.05)
        pipe.send_text("\r")
        _wait(lambda: len(err(ctx).splitlines()) == 2)
        pipe.send_text("exit\r")

    with create_pipe_input() as pipe, create_app_session(input=pipe, output=DummyOutput()):
        thread = threading.Thread(target=script, args=(pipe,), daemon=True)
        thread.start()
        assert repl.run(ctx, history=tmp_path / "h", banner="hi") == 0
        thread.join(5)
    # The same code was sent again (the server refuses it: MFA is off), not '******'
    # (which would fail the 6-digit check before any request).
    errors = err(ctx).splitlines()
    assert len(errors) == 2
    assert errors[0] == errors[1]
    assert "409" in errors[0]


def test_session_closed_after_the_loop(ctx: Context, tmp_path: Path) -> None:
    run_keys(ctx, "mfa status\rexit\r", tmp_path / "h")
    assert ctx.session._client is None


# --- prompt and toolbar ---------------------------------------------------------------------


def _fake(name: str = "cloud-api", endpoint: str = "https://vss-api.eis.utoronto.ca",
          source: str = "profile cloud-api") -> SimpleNamespace:
    return SimpleNamespace(demo=None, settings=SimpleNamespace(
        name=name, endpoint=endpoint, sources={"endpoint": source}))


def test_prompt_text() -> None:
    fake = _fake()
    assert repl.prompt_text(fake) == "vss (cloud-api) > "  # type: ignore[arg-type]
    fake.demo = object()  # the prompt names the profile, also in demo mode
    assert repl.prompt_text(fake) == "vss (cloud-api) > "  # type: ignore[arg-type]
    fake.settings.sources["endpoint"] = "demo mode"
    assert repl.prompt_text(fake) == "vss (cloud-api) > "  # type: ignore[arg-type]


@pytest.mark.parametrize("source", ["option", "env VSS_ENDPOINT"])
def test_prompt_shows_an_endpoint_given_over_the_profile(source: str) -> None:
    fake = _fake(endpoint="https://u:secret@127.0.0.1:8443/api?x=1", source=source)
    assert repl.prompt_text(fake) == "vss (cloud-api → 127.0.0.1:8443) > "  # type: ignore


def test_prompt_and_toolbar_show_control_characters_visibly(ctx: Context) -> None:
    fake = _fake(name="lab\x1b]0;pwned\x07", endpoint="http://127.0.0.1:1/\x1b[2J",
                 source="env VSS_ENDPOINT")
    text = repl.prompt_text(fake)  # type: ignore[arg-type]
    assert "\x1b" not in text and "\x07" not in text
    assert text == "vss (lab\\x1b]0;pwned\\x07 → 127.0.0.1:1) > "
    ctx.session.settings.name = "p\x1b[31m"
    ctx.session.settings.endpoint = "http://127.0.0.1:1/\x9b2J"
    ctx.session.username = "u\x07"
    bar = "".join(t for _, t in repl.toolbar(ctx))
    assert not any(ch in bar for ch in "\x1b\x07\x9b")
    assert "p\\x1b[31m" in bar and "u\\x07" in bar and "/\\x9b2J" in bar


def test_toolbar(ctx: Context) -> None:
    parts = repl.toolbar(ctx)
    text = "".join(t for _, t in parts)
    assert ctx.settings.name in text
    assert ctx.settings.endpoint in text
    assert "demo" in text
    assert "logged out" in text
    assert "F1 help" in text
    # The state before the endpoint: a narrow terminal cuts the endpoint, not the state.
    assert text.index("logged out") < text.index(ctx.settings.endpoint)
    assert text.rstrip().endswith(ctx.settings.endpoint)
    styles = {style for style, _ in parts}
    assert styles <= {"", "class:bottom-toolbar.key", "class:bottom-toolbar.state"}


def test_toolbar_after_login_and_without_user(ctx: Context) -> None:
    ctx.session.login(ctx.ui)
    text = "".join(t for _, t in repl.toolbar(ctx))
    assert "logged out" not in text
    assert "token" in text
    assert "MFA off" in text
    ctx.session.username = None
    assert "no user" in "".join(t for _, t in repl.toolbar(ctx))


def test_ui_style_covers_the_toolbar_and_lexer() -> None:
    for key in ("prompt", "bottom-toolbar", "command", "option", "secret", "comment"):
        assert key in repl.UI_STYLE


# --- key bindings -----------------------------------------------------------------------------


def no_help(text: str) -> None:
    raise AssertionError("F1 was not pressed")


def _wait(condition: Callable[[], bool], timeout: float = 5.0) -> None:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        try:
            if condition():
                return
        except AttributeError:
            pass
        time.sleep(0.005)
    raise AssertionError("timed out waiting for the prompt")


def _drive(bindings: KeyBindings | None,
           script: Callable[[PromptSession, PipeInput], None]) -> str:
    """Run a completing prompt; ``script`` types into it from another thread."""
    failures: list[BaseException] = []
    with create_pipe_input() as pipe, create_app_session(input=pipe, output=DummyOutput()):
        session: PromptSession = PromptSession(
            completer=ShellCompleter(table(), lambda: None), complete_while_typing=True,
            key_bindings=bindings)

        def typist() -> None:
            try:
                _wait(lambda: session.app.is_running)
                script(session, pipe)
            except BaseException as exc:
                failures.append(exc)
                pipe.send_text(CTRL_C)  # end the prompt

        thread = threading.Thread(target=typist, daemon=True)
        thread.start()
        try:
            line = session.prompt("> ")
        finally:
            thread.join(5)
    if failures:
        raise failures[0]
    return line


def _menu(session: PromptSession):
    return session.app.current_buffer.complete_state


def _select_first(session: PromptSession, pipe: PipeInput, typed: str) -> None:
    """Type ``typed``, wait for the menu, Tab to select the first completion."""
    pipe.send_text(typed)
    _wait(lambda: _menu(session) is not None and bool(_menu(session).completions))
    pipe.send_text("\t")
    _wait(lambda: _menu(session) is not None and _menu(session).complete_index is not None)


def test_enter_on_a_selected_completion_takes_it() -> None:
    def script(session: PromptSession, pipe: PipeInput) -> None:
        _select_first(session, pipe, "mfa ")
        assert session.app.current_buffer.text == "mfa mk "
        pipe.send_text("\r")
        _wait(lambda: _menu(session) is None)
        time.sleep(0.05)
        assert session.app.is_running  # Enter closed the menu, did not run the line
        pipe.send_text("EMAIL\r")

    assert _drive(repl.key_bindings(no_help), script) == "mfa mk EMAIL"


def test_without_the_binding_enter_would_run_the_line() -> None:
    # The control experiment: prompt_toolkit's own Enter accepts the half-typed line.
    def script(session: PromptSession, pipe: PipeInput) -> None:
        _select_first(session, pipe, "mfa ")
        pipe.send_text("\r")

    assert _drive(None, script) == "mfa mk "


def test_tab_completes_mf_then_enter_runs_the_completed_text() -> None:
    def script(session: PromptSession, pipe: PipeInput) -> None:
        _select_first(session, pipe, "mf")
        assert session.app.current_buffer.text == "mfa "
        pipe.send_text("\r")  # closes the menu
        _wait(lambda: _menu(session) is None)
        pipe.send_text("\r")  # runs the line

    assert _drive(repl.key_bindings(no_help), script) == "mfa "


def test_enter_without_a_menu_runs_the_line() -> None:
    def script(session: PromptSession, pipe: PipeInput) -> None:
        pipe.send_text("whoami -o json\r")

    assert _drive(repl.key_bindings(no_help), script) == "whoami -o json"


def test_f1_shows_help_on_the_line_and_keeps_it() -> None:
    asked: list[str] = []

    def script(session: PromptSession, pipe: PipeInput) -> None:
        pipe.send_text("mfa mk SMS --phone 416" + F1)
        _wait(lambda: asked == ["mfa mk SMS --phone 416"])
        assert session.app.current_buffer.text == "mfa mk SMS --phone 416"
        pipe.send_text("-555-0123\r")

    assert _drive(repl.key_bindings(asked.append), script) == "mfa mk SMS --phone 416-555-0123"


def test_enter_with_the_menu_open_completes_a_partial_word() -> None:
    def script(session: PromptSession, pipe: PipeInput) -> None:
        pipe.send_text("mfa st")
        _wait(lambda: _menu(session) is not None and bool(_menu(session).completions))
        pipe.send_text("\r")
        _wait(lambda: session.app.current_buffer.text == "mfa status ")
        time.sleep(0.05)
        assert session.app.is_running  # completed, not run
        pipe.send_text("\r")

    assert _drive(repl.key_bindings(no_help), script) == "mfa status "


def _enter_on_menu(typed: str, expect_text: str) -> str:
    """Type ``typed``, wait for the menu, Enter: the line must become ``expect_text``
    and not run; a second Enter then runs it."""
    def script(session: PromptSession, pipe: PipeInput) -> None:
        pipe.send_text(typed)
        _wait(lambda: _menu(session) is not None and bool(_menu(session).completions))
        pipe.send_text("\r")
        _wait(lambda: session.app.current_buffer.text == expect_text)
        time.sleep(0.05)
        assert session.app.is_running, "Enter ran the line"
        assert session.app.current_buffer.text == expect_text
        pipe.send_text("\r")

    return _drive(repl.key_bindings(no_help), script)


def test_enter_completes_a_value_in_the_case_offered() -> None:
    assert _enter_on_menu("set output JSO", "set output json ") == "set output json "


def test_enter_on_an_ambiguous_word_keeps_the_menu_open() -> None:
    def script(session: PromptSession, pipe: PipeInput) -> None:
        pipe.send_text("profile s")  # show or set
        _wait(lambda: _menu(session) is not None and len(_menu(session).completions) == 2)
        pipe.send_text("\r")
        time.sleep(0.05)
        assert session.app.is_running and session.app.current_buffer.text == "profile s"
        assert _menu(session) is not None
        pipe.send_text("how")
        _wait(lambda: _menu(session) is not None and bool(_menu(session).completions))
        pipe.send_text("\r")

    assert _drive(repl.key_bindings(no_help), script) == "profile show"


@pytest.mark.parametrize("typed", ['set output "json"', "set output 'json'"])
def test_enter_on_a_whole_quoted_word_runs_the_line(typed: str) -> None:
    def script(session: PromptSession, pipe: PipeInput) -> None:
        pipe.send_text(typed)
        _wait(lambda: _menu(session) is not None and bool(_menu(session).completions))
        pipe.send_text("\r")

    assert _drive(repl.key_bindings(no_help), script) == typed


def test_enter_with_the_menu_open_on_a_whole_word_runs_the_line() -> None:
    def script(session: PromptSession, pipe: PipeInput) -> None:
        pipe.send_text("mfa status")
        _wait(lambda: _menu(session) is not None and bool(_menu(session).completions))
        pipe.send_text("\r")

    assert _drive(repl.key_bindings(no_help), script) == "mfa status"


@pytest.mark.parametrize("where", ["a file in the way", "the file is a directory"])
def test_a_history_file_that_cannot_be_made_is_said_once(ctx: Context, tmp_path: Path,
                                                         where: str) -> None:
    blocker = tmp_path / "blocker"
    if where == "a file in the way":
        blocker.write_text("")
        path = blocker / "history"
    else:
        blocker.mkdir()
        path = blocker
    assert run_keys(ctx, "whoami\rmfa status\rexit\r", path) == 0
    warnings = [line for line in err(ctx).splitlines() if line.startswith("warning:")]
    assert len(warnings) == 1 and "history is kept for this session only" in warnings[0]
    assert "user           demo" in out(ctx)


def test_a_history_file_that_stops_being_writable_is_said_once(ctx: Context,
                                                               tmp_path: Path) -> None:
    path = tmp_path / "h"
    seen: list[OSError] = []
    history = repl.open_history(path, ctx)
    assert isinstance(history, MaskingFileHistory)
    history.on_error = seen.append
    path.unlink()
    path.mkdir()  # writes now fail
    history.store_string("whoami")
    assert len(seen) == 1 and isinstance(seen[0], OSError)


def test_ctrl_c_at_the_first_enrolment_question_still_shows_key_and_codes(
        ctx: Context, emulator: Emulator, tmp_path: Path) -> None:
    """The server has enrolled: without the key and codes 'mfa verify' could not finish."""
    assert run_keys(ctx, f"mfa mk AUTHENTICATOR\r{CTRL_C}exit\r", tmp_path / "h") == 0
    key = emulator.secret("demo")
    assert key
    lines = out(ctx).splitlines()
    assert "Secret key (add it to your authenticator app to finish):" in lines
    assert key in lines
    assert any(line.startswith("Recovery codes (") for line in lines)
    assert "Enrolment is pending: finish it with 'mfa verify CODE'." in lines
    assert "Cancelled." in err(ctx)


def test_a_not_enabled_reply_tells_the_toolbar_mfa_is_off(ctx: Context, tmp_path: Path) -> None:
    assert ctx.session.describe() == "logged out"
    assert run_keys(ctx, "mfa token\rexit\r", tmp_path / "h") == 0
    assert "not enabled" in err(ctx)
    assert ctx.session.describe() == "logged out · MFA off"


def test_no_save_codes_skips_the_question(ctx: Context, tmp_path: Path) -> None:
    assert run_keys(ctx, "mfa mk EMAIL --no-save-codes --no-verify\rexit\r", tmp_path / "h") == 0
    assert "Save the recovery codes" not in out(ctx)
    assert "Enrolment is pending: finish it with 'mfa verify CODE'" in out(ctx)


# --- one grammar: `;` and `\` at the prompt ---------------------------------------------------


def test_commands_separated_by_semicolons_all_run(ctx: Context, tmp_path: Path) -> None:
    assert run_keys(ctx, "mfa status; whoami\rexit\r", tmp_path / "h") == 0
    text = out(ctx)
    assert "enabled      no" in text and "user           demo" in text
    assert err(ctx) == ""
    assert history_entries(tmp_path / "h") == ["mfa status; whoami", "exit"]


def test_after_a_failing_command_the_rest_of_the_line_is_not_run(ctx: Context,
                                                                 tmp_path: Path) -> None:
    assert run_keys(ctx, "bogus; whoami; mfa status\rexit\r", tmp_path / "h") == 0
    lines = err(ctx).splitlines()
    assert lines[0].startswith("error: unknown command 'bogus'")
    assert lines[1] == "(not run: the 2 commands after it)"
    assert "user           demo" not in out(ctx)


def test_a_line_that_cannot_be_read_runs_none_of_it(ctx: Context, tmp_path: Path) -> None:
    assert run_keys(ctx, "whoami; login 'x\rexit\r", tmp_path / "h") == 0
    assert err(ctx) == "error: cannot read the line: no closing quotation\n"
    assert "user           demo" not in out(ctx)


def test_exit_among_commands_leaves(ctx: Context, tmp_path: Path) -> None:
    assert run_keys(ctx, "whoami; exit; mfa status\rmfa status\r", tmp_path / "h") == 0
    assert "user           demo" in out(ctx) and "enabled" not in out(ctx)


def test_a_backslash_continues_the_line(ctx: Context, tmp_path: Path) -> None:
    set_json = "set output \\\rjson\r"
    assert run_keys(ctx, set_json + "mfa \\\rstatus\rexit\r", tmp_path / "h") == 0
    text = out(ctx)
    assert "output = json" in text
    assert json.loads(text[text.index("{"):])["enabled"] is False
    assert err(ctx) == ""
    # Each is one entry of two lines in the history file, recalled as typed.
    saved = (tmp_path / "h").read_text()
    assert "+set output \\\n+json\n" in saved and "+mfa \\\n+status\n" in saved


def test_enter_after_a_backslash_adds_a_line() -> None:
    def script(session: PromptSession, pipe: PipeInput) -> None:
        pipe.send_text("mfa \\\r")
        _wait(lambda: session.app.current_buffer.text == "mfa \\\n")
        pipe.send_text("status\r")

    assert _drive(repl.key_bindings(no_help), script) == "mfa \\\nstatus"


def test_enter_after_an_even_backslash_count_runs_the_line() -> None:
    def script(session: PromptSession, pipe: PipeInput) -> None:
        pipe.send_text("login a\\\\\r")

    assert _drive(repl.key_bindings(no_help), script) == "login a\\\\"


def test_the_continuation_prompt() -> None:
    assert repl.continuation(len("vss (lab) > "), 1, 0) == "      ... > "
    assert repl.continuation(12, 1, 1) == ""  # a wrapped line, not a continued one


def test_f1_helps_on_the_command_under_the_cursor() -> None:
    asked: list[str] = []

    def script(session: PromptSession, pipe: PipeInput) -> None:
        pipe.send_text("whoami; mfa mk" + F1)
        _wait(lambda: len(asked) == 1)
        pipe.send_text("\x1b[D" * 9 + F1)  # back into `whoami`
        _wait(lambda: len(asked) == 2)
        pipe.send_text(CTRL_C)

    with pytest.raises(KeyboardInterrupt):
        _drive(repl.key_bindings(asked.append), script)
    assert [a.strip() for a in asked] == ["mfa mk", "whoami"]


def test_command_at() -> None:
    text = "whoami; mfa \\\nmk SMS # c\nhelp"
    assert repl.command_at(text, 0) == "whoami"
    assert repl.command_at(text, 9).strip() == "mfa mk SMS"
    assert repl.command_at(text, len(text)) == "help"


# --- the HTTP stack, prepared while the person types -------------------------------------------


def test_the_http_stack_is_prepared_once_after_the_first_prompt(
        ctx: Context, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    events: list[str] = []
    started = threading.Thread(target=lambda: events.append("prepared"))

    def prepare(_ctx: Context) -> threading.Thread:
        events.append("prepare")
        started.start()
        return started

    monkeypatch.setattr(repl, "prepare_http", prepare)
    real_execute = repl.execute
    monkeypatch.setattr(repl, "execute",
                        lambda c, w: (events.append(" ".join(w)), real_execute(c, w)))
    assert run_keys(ctx, "whoami\rwhoami\rexit\r", tmp_path / "h") == 0
    # Started once, when the first prompt was drawn; finished before a command runs.
    assert events == ["prepare", "prepared", "whoami", "whoami", "exit"]


def test_prepare_http_imports_requests_in_a_thread(tmp_path: Path) -> None:
    import subprocess
    import sys

    code = ("import sys, types, vss_shell.repl as r\n"
            "from vss_shell.credentials import CredentialSources\n"
            "from vss_shell.profiles import ProfileStore, resolve\n"
            "from vss_shell.session import Session\n"
            f"store = ProfileStore({str(tmp_path / 'none.toml')!r}).load()\n"
            "s = Session(resolve(store, options={'endpoint': 'http://127.0.0.1:9', "
            "'username': 'u', 'token_cache': False}, env={}), CredentialSources({}))\n"
            "assert 'requests' not in sys.modules\n"
            "t = r.prepare_http(types.SimpleNamespace(session=s)); t.join(30)\n"
            "print(t.daemon, 'requests' in sys.modules, s._client is not None)")
    shell = Path(__file__).resolve().parents[1] / "shell"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          env={"PYTHONPATH": str(shell)}, timeout=60)
    assert done.stdout.split() == ["True", "True", "True"], done.stderr
