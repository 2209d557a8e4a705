"""UI.progress: elapsed time on a terminal's stderr while a request is slow.

In-process, with a stream that says it is a terminal; events, not sleeps, tell
when the line was drawn. (A pty test would run ``vss`` under pexpect against a
tests/hostile.py route that drips its body, and read ``waiting for the server...``
then ``\\r\\x1b[K`` on the screen before the result; Ctrl-C sent there ends the
command at once with the line erased.)
"""

from __future__ import annotations

import io
import threading

import pytest

from vss_shell.ui import BatchUI, TerminalUI

pytestmark = pytest.mark.timeout(20)

ERASE = "\r\x1b[K"


class FakeTTY(io.StringIO):
    """A stream that is a terminal as far as the UI can tell."""

    def isatty(self) -> bool:
        return True


def terminal_ui(*, after: float = 0.0, every: float = 0.01) -> TerminalUI:
    ui = TerminalUI(stdout=FakeTTY(), stderr=FakeTTY())
    ui.progress_after, ui.progress_every = after, every
    return ui


def err(ui: TerminalUI | BatchUI) -> str:
    return ui.stderr.getvalue()  # type: ignore[attr-defined]


def wait_drawn(ui: TerminalUI, times: int = 1) -> None:
    ticker = ui._ticker
    assert ticker is not None, "no progress line started"
    for _ in range(times):
        ticker.drawn.clear()
        assert ticker.drawn.wait(5), "the progress line was never drawn"


def drawing_stopped(ticker) -> bool:
    """No line drawn in the next ten update intervals (0.01 s each)."""
    ticker.drawn.clear()
    return not ticker.drawn.wait(0.1)


def test_a_slow_request_shows_the_elapsed_time_then_erases_it() -> None:
    ui = terminal_ui()
    with ui.progress():
        wait_drawn(ui, times=2)  # updated, not drawn once
        ticker = ui._ticker
    text = err(ui)
    assert text.startswith(f"{ERASE}  waiting for the server... ")
    assert text.count("waiting for the server...") >= 2
    assert text.endswith(f" s{ERASE}")
    assert drawing_stopped(ticker)
    assert err(ui) == text
    assert ui._ticker is None
    assert ui.stdout.getvalue() == ""  # type: ignore[attr-defined]


def test_a_fast_request_shows_nothing() -> None:
    ui = terminal_ui(after=60)
    with ui.progress("signing in"):
        ticker = ui._ticker
    assert err(ui) == ""
    assert ticker._request is None  # stopped at once, not after 60 s


def test_one_thread_draws_for_every_request() -> None:
    ui = terminal_ui(after=60)
    with ui.progress():
        pass
    threads = threading.active_count()
    for _ in range(20):
        with ui.progress():
            assert ui._ticker is ui._clock
    assert threading.active_count() == threads
    ui.progress_after = 0
    with ui.progress():  # and it still draws after many fast ones
        wait_drawn(ui)
    assert err(ui).endswith(ERASE)


def test_ctrl_c_stops_the_thread_and_erases_the_line() -> None:
    ui = terminal_ui()
    with pytest.raises(KeyboardInterrupt), ui.progress():
        wait_drawn(ui)
        ticker = ui._ticker
        raise KeyboardInterrupt
    assert err(ui).endswith(ERASE)
    assert drawing_stopped(ticker)
    before = err(ui)
    with ui.progress():  # the next request can show it again
        wait_drawn(ui)
    assert err(ui) != before


def test_the_label_is_ours_or_made_visible() -> None:
    ui = terminal_ui()
    with ui.progress("asking \x1b]0;title\x07\nnow"):
        wait_drawn(ui)
    assert "asking \\x1b]0;title\\x07\\x0anow... " in err(ui)
    assert "\x07" not in err(ui) and "\n" not in err(ui)


def test_a_message_during_a_request_erases_the_line_first() -> None:
    ui = terminal_ui()
    with ui.progress():
        wait_drawn(ui)
        ui.warn("retrying")
        assert ui._ticker is None  # no more drawing over what was printed
    text = err(ui)
    assert text.endswith(f"{ERASE}warning: retrying\n")
    assert text.count("warning: retrying") == 1


def test_a_question_during_a_request_stops_the_line(monkeypatch: pytest.MonkeyPatch) -> None:
    import prompt_toolkit

    class Session:
        def __init__(self, **kwargs) -> None:
            pass

        def prompt(self, message: str) -> str:
            return "123456"

    monkeypatch.setattr(prompt_toolkit, "PromptSession", Session)
    ui = terminal_ui()
    with ui.progress():
        wait_drawn(ui)
        assert ui.ask("Code", flag="--otp") == "123456"
        assert ui._ticker is None
    assert err(ui).endswith(ERASE)


def test_nested_progress_draws_one_line() -> None:
    ui = terminal_ui()
    with ui.progress():
        outer = ui._ticker
        with ui.progress("inner"):
            assert ui._ticker is outer
        wait_drawn(ui)
    assert "inner" not in err(ui)


@pytest.mark.parametrize("make", [
    lambda: TerminalUI(stdout=FakeTTY(), stderr=io.StringIO()),  # stderr piped
    lambda: BatchUI(tty_path="/nonexistent", stdout=FakeTTY(), stderr=io.StringIO()),
])
def test_pipes_show_nothing(make) -> None:
    ui = make()
    ui.progress_after = 0  # would draw at once if it drew at all
    threads = threading.active_count()
    with ui.progress():
        assert threading.active_count() == threads
    assert err(ui) == ""


def test_a_script_typed_at_a_terminal_shows_the_time_too() -> None:
    """`vss -c ...` at a terminal (stderr a terminal): a slow request shows its time."""
    ui = BatchUI(tty_path="/nonexistent", stdout=io.StringIO(), stderr=FakeTTY())
    ui.progress_after = 0
    with ui.progress():
        wait_drawn(ui)  # type: ignore[arg-type]
    assert "waiting for the server" in err(ui)
