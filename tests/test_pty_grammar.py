"""The grammar of a line at a real terminal: ``;`` and ``\\`` typed at the prompt.

``vss`` runs in a pseudo-terminal (pexpect), pointed at the fixture emulator by
``--endpoint``: the prompt then says so (``vss (cloud-api → HOST:PORT) > ``).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pexpect
import pytest

from pty_helpers import Terminal, shell_env
from vss_shell.emulator import Emulator

pytestmark = [
    pytest.mark.timeout(60),
    pytest.mark.skipif(not hasattr(pexpect, "spawn"), reason="needs a POSIX pseudo-terminal"),
]


@pytest.fixture
def term(tmp_path: Path, emulator: Emulator) -> Iterator[Terminal]:
    shell = Terminal(["--endpoint", emulator.url, "--user", "demo"], cwd=tmp_path,
                     env=shell_env(tmp_path, VSS_USER_PASS="demo-pass"))
    try:
        yield shell
    finally:
        shell.close()


def prompt(emulator: Emulator) -> str:
    return f"vss (cloud-api → {emulator.url.partition('://')[2]}) >"


def at_prompt(term: Terminal, text: str) -> None:
    """Wait for an empty prompt on the cursor's row."""
    term.wait_for(lambda _s: term.new_prompt() and term.cursor_row() == text)


def test_the_prompt_shows_the_endpoint_given_over_the_profile(term: Terminal,
                                                             emulator: Emulator) -> None:
    at_prompt(term, prompt(emulator))
    term.key("ctrl-d")
    assert term.wait_exit() == 0


def test_semicolons_run_each_command(term: Terminal, emulator: Emulator) -> None:
    at_prompt(term, prompt(emulator))
    term.line("mfa status; whoami")
    screen = term.wait_for(lambda s: "user" in s and "demo" in s and "enabled" in s)
    assert "error" not in screen
    at_prompt(term, prompt(emulator))
    term.key("ctrl-d")
    assert term.wait_exit() == 0


def test_a_backslash_continues_on_a_continuation_prompt(term: Terminal,
                                                       emulator: Emulator) -> None:
    at_prompt(term, prompt(emulator))
    term.type("whoami \\\r")
    term.wait_for(lambda _s: term.cursor_row().endswith("... >"))
    assert not term.new_prompt()  # Enter went on to a new line; nothing ran
    term.type("-o json\r")
    screen = term.wait_for('"user": "demo"')
    assert "... > -o json" in screen
    at_prompt(term, prompt(emulator))
    term.key("ctrl-d")
    assert term.wait_exit() == 0
