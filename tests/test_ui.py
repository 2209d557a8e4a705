"""The UI port (TerminalUI, BatchUI, the question logic) and saving private files."""

from __future__ import annotations

import io
import os
import re
import stat
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from prompt_toolkit.application import create_app_session
from prompt_toolkit.input import create_pipe_input
from prompt_toolkit.output import DummyOutput

from vss_shell.errors import Cancelled, MissingAnswer, ShellError
from vss_shell.safetext import Styled
from vss_shell.savefile import problem, save_private
from vss_shell.ui import UI, BatchUI, TerminalUI


class ScriptedUI(UI):
    """A UI whose person answers from a list; every prompt is recorded."""

    def __init__(self, answers: list[str] | None = None, *, can_ask: bool = True,
                 **kwargs) -> None:
        super().__init__(stdout=io.StringIO(), stderr=io.StringIO(), **kwargs)
        self.answers = list(answers or [])
        self.prompts: list[tuple[str, bool]] = []
        self._can_ask = can_ask

    @property
    def can_ask(self) -> bool:
        return self._can_ask

    def read_line(self, prompt: str, *, secret: bool = False, default: str = "") -> str:
        self.prompts.append((prompt, secret))
        if not self.answers:
            raise AssertionError(f"asked more than scripted: {prompt!r}")
        return self.answers.pop(0)

    @property
    def out_text(self) -> str:
        return self.stdout.getvalue()  # type: ignore[attr-defined]

    @property
    def err_text(self) -> str:
        return self.stderr.getvalue()  # type: ignore[attr-defined]


def batch_ui(**kwargs) -> BatchUI:
    return BatchUI(tty_path="/nonexistent/tty", stdout=io.StringIO(), stderr=io.StringIO(),
                   **kwargs)


# --- output streams -----------------------------------------------------------------------


def test_terminal_ui_messages_on_stdout() -> None:
    out, err = io.StringIO(), io.StringIO()
    ui = TerminalUI(stdout=out, stderr=err)
    ui.out("result")
    ui.info("progress")
    ui.warn("careful")
    ui.error("broken")
    assert out.getvalue() == "result\nprogress\n"
    assert err.getvalue() == "warning: careful\nbroken\n"


def test_batch_ui_messages_on_stderr() -> None:
    out, err = io.StringIO(), io.StringIO()
    ui = BatchUI(tty_path="/nonexistent", stdout=out, stderr=err)
    ui.out("result")
    ui.info("progress")
    ui.warn("careful")
    ui.error("broken")
    assert out.getvalue() == "result\n"
    assert err.getvalue() == "progress\nwarning: careful\nbroken\n"


def test_colour_paints_warnings_and_errors_only() -> None:
    out, err = io.StringIO(), io.StringIO()
    ui = TerminalUI(color=True, stdout=out, stderr=err)
    ui.out("result")
    ui.info("progress")
    ui.warn("careful")
    ui.error("broken")
    assert out.getvalue() == "result\nprogress\n"
    assert err.getvalue() == "\x1b[33mwarning: careful\x1b[0m\n\x1b[31mbroken\x1b[0m\n"


def test_defaults_to_the_process_streams(capsys: pytest.CaptureFixture[str]) -> None:
    ui = BatchUI(tty_path="/nonexistent")
    ui.out("o")
    ui.info("i")
    captured = capsys.readouterr()
    assert (captured.out, captured.err) == ("o\n", "i\n")


def test_base_ui_cannot_read() -> None:
    with pytest.raises(NotImplementedError):
        UI().read_line("x")


# --- BatchUI without a terminal --------------------------------------------------------------


def test_batch_ui_without_terminal_cannot_ask() -> None:
    assert batch_ui().can_ask is False


def test_batch_ui_with_a_device_can_ask(tmp_path: Path) -> None:
    device = tmp_path / "tty"
    device.write_text("")
    assert BatchUI(tty_path=str(device)).can_ask is True


@pytest.mark.parametrize(
    ("ask", "flag"),
    [
        (lambda ui: ui.ask("Username", flag="--user or VSS_USER"), "--user or VSS_USER"),
        (lambda ui: ui.ask("File name", flag="--save-codes FILE", default="x.txt"),
         "--save-codes FILE"),
        (lambda ui: ui.ask_secret("Password for demo", flag="VSS_USER_PASS"), "VSS_USER_PASS"),
        (lambda ui: ui.confirm("Disable MFA for demo?", flag="--yes"), "--yes"),
        (lambda ui: ui.confirm_or_cancel("Remove profile lab?", flag="--yes"), "--yes"),
    ],
)
def test_questions_without_terminal_name_the_flag(ask, flag: str) -> None:
    with pytest.raises(MissingAnswer) as caught:
        ask(batch_ui())
    message = str(caught.value)
    assert message.startswith("no terminal to ask '")
    assert message.endswith(f": use {flag}")
    assert "\n" not in message
    assert isinstance(caught.value, ShellError)
    assert caught.value.exit_status == 1


def test_missing_answer_quotes_the_question() -> None:
    with pytest.raises(MissingAnswer, match=r"ask 'Disable MFA for demo': use --yes"):
        batch_ui().confirm("Disable MFA for demo?", flag="--yes")
    with pytest.raises(MissingAnswer, match=r"ask 'Username': use"):
        batch_ui().ask("Username: ", flag="--user")


def test_assume_yes_confirms_without_asking() -> None:
    ui = batch_ui(assume_yes=True)
    assert ui.confirm("Overwrite?", flag="--yes") is True
    assert ui.confirm("Overwrite?", flag="--yes", default=False) is True
    ui.confirm_or_cancel("Disable?", flag="--yes")
    scripted = ScriptedUI([], assume_yes=True)
    assert scripted.confirm("Sure?", flag="--yes") is True
    assert scripted.prompts == []


def test_assume_yes_does_not_answer_other_questions() -> None:
    with pytest.raises(MissingAnswer):
        batch_ui(assume_yes=True).ask("Username", flag="--user")


# --- question logic (scripted answers) --------------------------------------------------------


@pytest.mark.parametrize(("default", "hint"), [(True, "[Y/n]"), (False, "[y/N]")])
def test_confirm_empty_answer_is_the_default(default: bool, hint: str) -> None:
    ui = ScriptedUI(["   "])
    assert ui.confirm("Save?", flag="--yes", default=default) is default
    assert ui.prompts == [(f"Save? {hint} ", False)]


@pytest.mark.parametrize(("answer", "expected"), [("y", True), ("YES", True), (" Yes ", True),
                                                  ("n", False), ("No", False)])
def test_confirm_answers(answer: str, expected: bool) -> None:
    assert ScriptedUI([answer]).confirm("Go?", flag="--yes", default=not expected) is expected


def test_confirm_asks_again_after_garbage() -> None:
    ui = ScriptedUI(["maybe", "yep", "y"])
    assert ui.confirm("Go?", flag="--yes") is True
    assert len(ui.prompts) == 3
    assert ui.out_text == "Please answer y or n.\n" * 2


def test_confirm_or_cancel() -> None:
    ScriptedUI(["y"]).confirm_or_cancel("Go?", flag="--yes")
    with pytest.raises(Cancelled, match="nothing was changed"):
        ScriptedUI(["n"]).confirm_or_cancel("Go?", flag="--yes")
    with pytest.raises(Cancelled):
        ScriptedUI([""]).confirm_or_cancel("Go?", flag="--yes")


def test_ask_with_default() -> None:
    ui = ScriptedUI(["", "  other.txt  "])
    assert ui.ask("File name", flag="--f", default="codes.txt") == "codes.txt"
    assert ui.ask("File name", flag="--f", default="codes.txt") == "other.txt"
    assert ui.prompts == [("File name [codes.txt]: ", False)] * 2


def test_ask_without_default_asks_again_on_empty() -> None:
    ui = ScriptedUI(["", "   ", " jdoe "])
    assert ui.ask("Username", flag="--user") == "jdoe"
    assert ui.prompts == [("Username: ", False)] * 3


def test_ask_with_empty_default_may_be_skipped() -> None:
    ui = ScriptedUI([""])
    assert ui.ask("Another name (empty to skip)", flag="--f", default="") == ""
    assert ui.prompts == [("Another name (empty to skip): ", False)]


def test_ask_secret_is_secret_and_asks_again_on_empty() -> None:
    ui = ScriptedUI(["", "  ", " s3cret "])
    assert ui.ask_secret("Password", flag="--p") == "s3cret"
    assert ui.prompts == [("Password: ", True)] * 3
    assert "s3cret" not in ui.out_text + ui.err_text


# --- TerminalUI through prompt_toolkit ----------------------------------------------------------


@pytest.fixture
def keys() -> Iterator:
    with create_pipe_input() as pipe, create_app_session(input=pipe, output=DummyOutput()):
        yield pipe


def test_terminal_ui_asks_through_prompt_toolkit(keys) -> None:
    ui = TerminalUI(stdout=io.StringIO(), stderr=io.StringIO())
    keys.send_text("  bob \r")
    assert ui.ask("Username", flag="--user") == "bob"
    keys.send_text("\rs3cret\r")
    assert ui.ask_secret("Password", flag="--p") == "s3cret"
    keys.send_text("maybe\ry\r")
    assert ui.confirm("Go?", flag="--yes") is True
    assert ui.stdout.getvalue() == "Please answer y or n.\n"  # type: ignore[attr-defined]
    assert TerminalUI().can_ask is True


def test_terminal_ui_end_of_input_cancels(keys) -> None:
    keys.send_text("\x04")
    with pytest.raises(KeyboardInterrupt):
        TerminalUI(stdout=io.StringIO()).ask("Username", flag="--user")


# --- BatchUI with a terminal ---------------------------------------------------------------------


@pytest.fixture
def pty() -> Iterator[tuple[int, str]]:
    try:
        master, slave = os.openpty()
    except OSError as exc:  # no pseudo-terminals here
        pytest.skip(f"no pty: {exc}")
    try:
        yield master, os.ttyname(slave)
    finally:
        os.close(master)
        os.close(slave)


def test_batch_ui_with_a_terminal_can_ask(pty: tuple[int, str]) -> None:
    assert BatchUI(tty_path=pty[1]).can_ask is True


def _read_until(fd: int, wanted: bytes, timeout: float = 5.0) -> bytes:
    """What the terminal shows, read until ``wanted`` is in it (the echo of typed
    keys and the prompt may come in any order, in several reads)."""
    import select

    seen, deadline = b"", time.monotonic() + timeout
    while wanted not in seen:
        left = deadline - time.monotonic()
        assert left > 0, f"{wanted!r} never shown; got {seen!r}"
        if select.select([fd], [], [], left)[0]:
            seen += os.read(fd, 1024)
    return seen


def test_batch_ui_asks_on_the_terminal(pty: tuple[int, str]) -> None:
    master, name = pty
    ui = BatchUI(tty_path=name, stdout=io.StringIO(), stderr=io.StringIO())
    os.write(master, b"bob\n")
    assert ui.ask("Username", flag="--user") == "bob"
    _read_until(master, b"Username: ")
    os.write(master, b"\n")
    assert ui.ask("File", flag="--f", default="d.txt") == "d.txt"


def test_batch_ui_end_of_terminal_input_cancels(pty: tuple[int, str]) -> None:
    master, name = pty
    os.write(master, b"\x04")
    with pytest.raises(KeyboardInterrupt):
        BatchUI(tty_path=name, stdout=io.StringIO()).ask("Username", flag="--user")


def test_batch_ui_end_of_input_at_a_secret_question_cancels(
        pty: tuple[int, str], monkeypatch: pytest.MonkeyPatch) -> None:
    """getpass reads the process's own /dev/tty: stand in for Ctrl-D there."""
    import getpass

    def ctrl_d(prompt: str = "") -> str:
        raise EOFError

    monkeypatch.setattr(getpass, "getpass", ctrl_d)
    with pytest.raises(KeyboardInterrupt):
        BatchUI(tty_path=pty[1], stdout=io.StringIO()).ask_secret("Password", flag="--p")


# --- savefile.save_private ------------------------------------------------------------------------


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_save_creates_a_private_file(tmp_path: Path) -> None:
    target = tmp_path / "codes.txt"
    ui = ScriptedUI([])
    assert save_private(ui, str(target), lambda: b"a\nb\n", what="recovery codes") == str(target)
    assert target.read_bytes() == b"a\nb\n"
    assert mode(target) == 0o600
    assert ui.out_text == f"Saved the recovery codes to {target} (mode 0600).\n"
    assert ui.prompts == []


def test_save_creates_no_directory(tmp_path: Path) -> None:
    """A mistyped directory is an error (as for cp), not a tree made on the way."""
    target = tmp_path / "new" / "codes.txt"
    ui = ScriptedUI([""])
    assert save_private(ui, str(target), lambda: b"x", what="codes") is None
    assert not (tmp_path / "new").exists()
    assert f"directory {tmp_path / 'new'} does not exist" in ui.err_text


def test_save_expands_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HOME", str(tmp_path))
    saved = save_private(ScriptedUI([]), "~/codes.txt", lambda: b"x", what="codes")
    assert saved == str(tmp_path / "codes.txt")
    assert (tmp_path / "codes.txt").read_bytes() == b"x"


def test_save_existing_no_then_another_name(tmp_path: Path) -> None:
    original = tmp_path / "codes.txt"
    original.write_bytes(b"old")
    original.chmod(0o644)
    other = tmp_path / "codes2.txt"
    ui = ScriptedUI(["n", str(other)])
    made = []
    saved = save_private(ui, str(original), lambda: made.append(1) or b"new", what="codes")
    assert saved == str(other)
    assert original.read_bytes() == b"old"
    assert mode(original) == 0o644
    assert other.read_bytes() == b"new"
    assert mode(other) == 0o600
    assert made == [1]
    assert ui.prompts[0] == (f"{original} exists. Overwrite it? [y/N] ", False)
    assert ui.prompts[1][0].startswith("Another file name for the codes (empty to skip)")


def test_save_existing_no_then_empty_skips(tmp_path: Path) -> None:
    original = tmp_path / "codes.txt"
    original.write_bytes(b"old")
    ui = ScriptedUI(["", ""])  # default no, then no name
    assert save_private(ui, str(original), lambda: b"new", what="codes") is None
    assert original.read_bytes() == b"old"
    assert ui.out_text.endswith("The codes were not saved.\n")


def test_save_existing_yes_overwrites(tmp_path: Path) -> None:
    original = tmp_path / "codes.txt"
    original.write_bytes(b"old")
    original.chmod(0o644)
    assert save_private(ScriptedUI(["y"]), str(original), lambda: b"new",
                        what="codes") == str(original)
    assert original.read_bytes() == b"new"
    assert mode(original) == 0o600


@pytest.mark.parametrize("ui", [lambda: ScriptedUI([], assume_yes=True),
                                lambda: batch_ui(assume_yes=True)])
def test_save_existing_assume_yes_overwrites_without_asking(tmp_path: Path, ui) -> None:
    original = tmp_path / "codes.txt"
    original.write_bytes(b"old")
    person = ui()
    assert save_private(person, str(original), lambda: b"new", what="codes") == str(original)
    assert original.read_bytes() == b"new"
    assert mode(original) == 0o600
    assert getattr(person, "prompts", []) == []


def test_save_existing_without_terminal_fails_naming_yes(tmp_path: Path) -> None:
    original = tmp_path / "codes.txt"
    original.write_bytes(b"old")
    with pytest.raises(ShellError) as caught:
        save_private(batch_ui(), str(original), lambda: b"new", what="codes")
    assert "--yes" in str(caught.value)
    assert str(original) in str(caught.value)
    assert original.read_bytes() == b"old"


def test_save_unwritable_name_asks_for_another(tmp_path: Path) -> None:
    bad = tmp_path / ("x" * 300)  # too long a name for any filesystem
    good = tmp_path / "codes.txt"
    ui = ScriptedUI([str(good)])
    assert save_private(ui, str(bad), lambda: b"data", what="codes") == str(good)
    assert ui.err_text.startswith(f"cannot save the codes to {bad}: ")
    assert good.read_bytes() == b"data"
    assert not [p for p in tmp_path.iterdir() if p.name.endswith(".tmp")]


def test_save_unwritable_name_without_terminal_fails(tmp_path: Path) -> None:
    ui = batch_ui()
    with pytest.raises(ShellError, match="the codes were not saved"):
        save_private(ui, str(tmp_path / ("x" * 300)), lambda: b"data", what="codes")
    assert "cannot save the codes" in ui.stderr.getvalue()  # type: ignore[attr-defined]


def test_save_over_a_directory_is_a_clean_failure(tmp_path: Path) -> None:
    folder = tmp_path / "codes"
    folder.mkdir()
    with pytest.raises(ShellError):
        save_private(batch_ui(assume_yes=True), str(folder), lambda: b"x", what="codes")


def test_save_under_a_regular_file_does_not_claim_the_file_exists(tmp_path: Path) -> None:
    parent = tmp_path / "notadir"
    parent.write_text("")
    target = parent / "codes.txt"
    ui = ScriptedUI(["", ""])
    assert save_private(ui, str(target), lambda: b"x", what="codes") is None
    assert all("exists. Overwrite" not in prompt for prompt, _ in ui.prompts)


def test_save_never_writes_through_a_symlink(tmp_path: Path) -> None:
    """A link's target could be any file of the person's (or a trap set in /tmp)."""
    precious = tmp_path / "precious.conf"
    precious.write_text("keep me\n")
    link = tmp_path / "codes.txt"
    link.symlink_to(precious)
    dangling = tmp_path / "dangling.txt"
    dangling.symlink_to(tmp_path / "newdir" / "sub" / "codes.txt")
    for target in (link, dangling):
        ui = ScriptedUI([""])
        ui.assume_yes = True
        assert save_private(ui, str(target), lambda: b"codes", what="codes") is None
        assert "is a symbolic link; name a regular file" in ui.err_text
    assert precious.read_text() == "keep me\n"
    assert not (tmp_path / "newdir").exists()
    assert problem(str(link), may_overwrite=True) == (
        f"{link} is a symbolic link; name a regular file")


@pytest.mark.parametrize(("text", "shown"), [
    ("no profile named 'https://bob:hunter2@example.org'", "no profile named 'https://***@example.org'"),
    ("bad https://a:p@ss@host/x and http://h/?token=abc", "bad https://***@host/x and http://h/?***"),
    ("https://a:pa/ss@h", "https://***@h"),
    ("plain text, https://example.org/path", "plain text, https://example.org/path"),
])
def test_errors_and_warnings_hide_what_a_url_could_hide(text: str, shown: str) -> None:
    ui = UI(stdout=io.StringIO(), stderr=io.StringIO())
    ui.error(text)
    ui.warn(text)
    assert ui.stderr.getvalue() == f"{shown}\nwarning: {shown}\n"  # type: ignore[attr-defined]


# --- control characters from outside never reach the terminal raw ----------------------------

#: Clipboard write, window title, clear screen, C1 CSI, DEL, bidi override, CR.
HOSTILE = "a\x1b]52;c;aGk=\x07b\x1b]0;t\x07c\x1b[2Jd\x9b2Je\x7ff\u202eg\rh"
ESCAPED = "a\\x1b]52;c;aGk=\\x07b\\x1b]0;t\\x07c\\x1b[2Jd\\x9b2Je\\x7ff\\u202eg\\x0dh"


@pytest.mark.parametrize("make", [
    lambda out, err, color: TerminalUI(stdout=out, stderr=err, color=color),
    lambda out, err, color: BatchUI(tty_path="/nonexistent", stdout=out, stderr=err,
                                    color=color),
])
@pytest.mark.parametrize("color", [False, True])
def test_every_message_shows_controls_escaped(make, color: bool) -> None:
    out, err = io.StringIO(), io.StringIO()
    ui = make(out, err, color)
    ui.out(f"{HOSTILE}\n\tnext")
    ui.info(HOSTILE)
    ui.warn(HOSTILE)
    ui.error(HOSTILE)
    text = out.getvalue() + err.getvalue()
    assert text.count(ESCAPED) == 4
    assert "\n\tnext" in text  # newlines and tabs are kept
    painted = re.sub(r"\x1b\[(0|31|33)m", "", text) if color else text
    assert "\x1b" not in painted and "\x07" not in painted and "\x9b" not in painted
    assert "\x7f" not in text and "\u202e" not in text and "\r" not in text


def test_styled_text_is_printed_as_it_is() -> None:
    """Our own escapes (a QR code, coloured JSON) pass; anything built from it again is
    a plain string, sanitized."""
    out = io.StringIO()
    ui = TerminalUI(stdout=out, stderr=io.StringIO())
    ui.out(Styled("\x1b[31mred\x1b[0m"))
    ui.out(Styled("\x1b[31mred\x1b[0m") + "!")
    assert out.getvalue() == "\x1b[31mred\x1b[0m\n\\x1b[31mred\\x1b[0m!\n"


def test_warnings_hide_url_secrets_behind_controls() -> None:
    """A control character (some count as white space) cannot cut a URL short so
    that its password shows."""
    err = io.StringIO()
    BatchUI(tty_path="/nonexistent", stderr=err).error("see https://u\x1cx:hunter2@h/")
    assert "hunter2" not in err.getvalue() and "\x1c" not in err.getvalue()


def test_terminal_prompt_shows_controls_escaped() -> None:
    from prompt_toolkit.data_structures import Size
    from prompt_toolkit.output.vt100 import Vt100_Output

    screen = io.StringIO()
    term = Vt100_Output(screen, lambda: Size(rows=24, columns=200), term="xterm")
    with create_pipe_input() as pipe, create_app_session(input=pipe, output=term):
        pipe.send_text("y\r")
        assert TerminalUI(stdout=io.StringIO()).confirm(f"Trust {HOSTILE}?", flag="-y")
    assert "\\x1b]52;c;aGk=\\x07" in screen.getvalue()
    assert "]52;" not in screen.getvalue().replace("\\x1b]52;", "")


def test_batch_prompt_shows_controls_escaped(pty: tuple[int, str]) -> None:
    master, name = pty
    ui = BatchUI(tty_path=name, stdout=io.StringIO(), stderr=io.StringIO())
    os.write(master, b"bob\n")
    assert ui.ask(f"User {HOSTILE}", flag="--user") == "bob"
    seen = _read_until(master, b"h: ")
    assert ESCAPED.encode() in seen
    assert b"\x1b" not in seen and b"\x07" not in seen and "\x9b".encode() not in seen


def test_secret_prompt_shows_controls_escaped(
        pty: tuple[int, str], monkeypatch: pytest.MonkeyPatch) -> None:
    import getpass

    asked: list[str] = []
    monkeypatch.setattr(getpass, "getpass", lambda prompt="": asked.append(prompt) or "pw")
    ui = BatchUI(tty_path=pty[1], stdout=io.StringIO())
    assert ui.ask_secret(f"Password for {HOSTILE}", flag="--p") == "pw"
    assert asked == [f"Password for {ESCAPED}: "]


# --- a file name question completes paths ------------------------------------------------------


class _TabSession:
    """Stands in for prompt_toolkit's PromptSession: the answer is the typed text
    completed as Tab would (completion runs asynchronously in the real one)."""

    typed = ""

    def __init__(self, completer=None, **kwargs) -> None:
        self.completer = completer

    def prompt(self, message: str) -> str:
        from prompt_toolkit.completion import CompleteEvent
        from prompt_toolkit.document import Document

        if self.completer is None:
            return self.typed
        event = CompleteEvent(completion_requested=True)
        found = list(self.completer.get_completions(Document(self.typed), event))
        return self.typed + (found[0].text if len(found) == 1 else "")


def test_file_name_question_completes_paths(tmp_path: Path,
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    import prompt_toolkit

    (tmp_path / "recovery-codes.txt").write_text("")
    monkeypatch.setattr(prompt_toolkit, "PromptSession", _TabSession)
    monkeypatch.setattr(_TabSession, "typed", f"{tmp_path}/reco")
    ui = TerminalUI(stdout=io.StringIO(), stderr=io.StringIO())
    wanted = f"{tmp_path}/recovery-codes.txt"
    assert ui.ask("File name", flag="--save-codes", paths=True) == wanted
    assert ui.ask("Username", flag="--user") == f"{tmp_path}/reco"  # no completion
    assert ui.ask_secret("Password", flag="--p") == f"{tmp_path}/reco"
    monkeypatch.setattr(_TabSession, "typed", "~/")
    monkeypatch.setenv("HOME", str(tmp_path))
    assert ui.ask("File name", flag="--save-codes", paths=True) == "~/recovery-codes.txt"


def test_paths_is_accepted_everywhere() -> None:
    ui = ScriptedUI(["codes.txt"])
    assert ui.ask("File name", flag="--save-codes", paths=True) == "codes.txt"
    with pytest.raises(MissingAnswer):
        batch_ui().ask("File name", flag="--save-codes", paths=True)


# --- secrets echoed back are hidden in whatever the UI prints -------------------------------------


def test_the_ui_hides_every_spelling_of_a_secret() -> None:
    import base64
    from urllib.parse import quote

    from vss_shell.errors import spellings

    password = "p@ss w/ord+1"
    basic = base64.b64encode(f"jdoe:{password}".encode()).decode()
    out, err = io.StringIO(), io.StringIO()
    ui = BatchUI(tty_path="/nonexistent", stdout=out, stderr=err)
    ui.secrets = lambda: spellings([password, "tok.en.x"], "jdoe")
    said = f"{password} {quote(password, safe='')} Basic {basic} Bearer tok.en.x"
    ui.out(said)
    ui.info(said)
    ui.warn(said)
    ui.error(said)
    ui.out(Styled(f"\x1b[1m{password}\x1b[0m"))
    text = out.getvalue() + err.getvalue()
    assert password not in text and quote(password, safe="") not in text
    assert basic not in text and "tok.en.x" not in text
    assert text.count("*** *** Basic *** Bearer ***") == 4
    assert out.getvalue().endswith("\x1b[1m***\x1b[0m\n")  # still ours, still styled


def test_spellings_leave_out_tiny_secrets() -> None:
    from vss_shell.errors import spellings

    assert spellings(["ab", None, ""]) == set()
    assert {"abc", "YWJj", "dTphYmM=", "dTphYmM"} <= spellings(["abc"], "u")


def test_tell_shows_contract_secrets_as_they_are() -> None:
    """A key or recovery code shown to be written down is never "hidden" into another
    value when it happens to hold a session secret (a code sent, a password)."""
    ui = BatchUI(tty_path="/nonexistent", stdout=io.StringIO(), stderr=io.StringIO())
    ui.secrets = lambda: {"493817"}
    ui.tell("  K7QX-493817-ABCD\x1b[2J")
    ui.out("echoed 493817")
    assert ui.stdout.getvalue() == "  K7QX-493817-ABCD\\x1b[2J\nechoed ***\n"
