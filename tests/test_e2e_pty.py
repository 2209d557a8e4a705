"""End to end: the real ``vss`` in a pseudo-terminal, judged by what a person sees.

Each test starts ``python -m vss_shell`` under pexpect with a temporary HOME
(XDG folders inside it) and its cwd there, points it at the fixture emulator
(``--endpoint URL --user demo``) or runs ``--demo``, types as a person would
(waiting for each prompt or question before answering) and reads the pyte
screen. See ``pty_helpers`` for the terminal itself.
"""

from __future__ import annotations

import re
import stat
from collections.abc import Callable, Iterator
from pathlib import Path

import pexpect
import pyotp
import pytest
import qrcode

from pty_helpers import Terminal, profile_on, shell_env

PROMPT = "vss (cloud-api) > "
DEMO_PROMPT = "vss (demo) > "
PASSWORD = "demo-pass"
DEFAULT_CODES_FILE = "demo_ITS_Private_Cloud_recovery_codes.txt"
ISSUER_QUOTED = "ITS%20Private%20Cloud"

pytestmark = [
    pytest.mark.timeout(60),
    pytest.mark.skipif(not hasattr(pexpect, "spawn"), reason="needs a POSIX pseudo-terminal"),
]


# --- fixtures and helpers ---------------------------------------------------------


Start = Callable[..., Terminal]


@pytest.fixture
def start(tmp_path: Path, emulator) -> Iterator[Start]:
    """Start ``vss`` on the fixture emulator (or ``demo=True``: ``vss --demo``)."""
    started: list[Terminal] = []

    def _start(*args: str, user: str = "demo", password: str | None = PASSWORD,
               demo: bool = False, prompt: str | None = None) -> Terminal:
        extra = {"VSS_USER_PASS": password} if password else {}
        if not demo:
            profile_on(tmp_path, emulator.url)
        argv = ["--demo", *args] if demo else ["--user", user, *args]
        term = Terminal(argv, cwd=tmp_path, env=shell_env(tmp_path, **extra))
        started.append(term)
        wait_prompt(term, prompt or (DEMO_PROMPT if demo else PROMPT))
        return term

    yield _start
    for term in started:
        term.close()


def wait_prompt(term: Terminal, prompt: str = PROMPT) -> None:
    """Wait until the shell waits at an empty prompt, its toolbar drawn."""
    def ready(_text: str) -> bool:
        rows = term.rows()
        return (term.new_prompt() and term.cursor_row() == prompt.rstrip()
                and term.screen.cursor.x == len(prompt)
                and "Ctrl-D exit" in rows[-1])
    term.wait_for(ready)


def output(term: Terminal, line: str, prompt: str = PROMPT) -> str:
    """What the last run of ``line`` printed: the rows between it and the next prompt."""
    rows = term.rows()
    typed = (prompt + line).rstrip()
    starts = [y for y, row in enumerate(rows) if row == typed]
    assert starts, f"{typed!r} is not on the screen:\n{term.screen_text()}"
    out = []
    for row in rows[starts[-1] + 1:]:
        if row.startswith(prompt.rstrip()):
            break
        out.append(row)
    return "\n".join(out).strip("\n")


def run(term: Terminal, line: str, prompt: str = PROMPT) -> str:
    """Type ``line`` at the prompt, Enter, wait for the next prompt; what the command printed."""
    wait_prompt(term, prompt)
    term.line(line)
    wait_prompt(term, prompt)
    return output(term, line, prompt)


def answer(term: Terminal, question: str, reply: str) -> None:
    """Wait until ``question`` is being asked (on the cursor's row), then type ``reply``."""
    term.wait_for_cursor_line(question)
    term.line(reply)


def after(text: str, marker: str) -> str:
    """The part of ``text`` after the last ``marker`` (output of the latest command)."""
    assert marker in text, f"{marker!r} not on the screen:\n{text}"
    return text.rsplit(marker, 1)[1]


def field(text: str, key: str) -> str:
    """The value of ``key`` in the last key/value table on the screen."""
    found = re.findall(rf"^{re.escape(key)}\s{{2,}}(\S.*?)\s*$", text, re.MULTILINE)
    assert found, f"no {key!r} row on the screen:\n{text}"
    return found[-1]


def recovery_codes(text: str) -> list[str]:
    """The indented codes under the last "Recovery codes" line."""
    block = after(text, "Recovery codes (")
    lines = block.splitlines()[1:]
    codes = []
    for line in lines:
        if not line.startswith("  "):
            break
        codes.append(line.strip())
    return codes


def file_mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def screen_qr(term: Terminal) -> list[list[bool]]:
    """The QR code drawn on the screen, as modules (True = dark), read off the cells.

    Two modules a cell. With colour, an upper half block whose foreground is
    the upper module and background the lower one; without, light modules
    are drawn as blocks (upper, lower or full) and dark ones left blank.
    """
    screen = term.screen
    modules: list[list[bool]] = []
    for y in range(screen.lines):
        row = screen.buffer[y]
        text = "".join(row[x].data for x in range(screen.columns)).rstrip()
        if len(text) < 21 or not set(text) <= set("▀▄█ ") or text[0] == " ":
            continue
        cells = [row[x] for x in range(len(text))]
        if all(c.fg in ("black", "brightwhite") for c in cells):
            assert set(text) == {"▀"}, text
            assert all(c.bg in ("black", "brightwhite") for c in cells), text
            modules.append([c.fg == "black" for c in cells])
            modules.append([c.bg == "black" for c in cells])
        else:
            modules.append([c.data in " ▄" for c in cells])
            modules.append([c.data in " ▀" for c in cells])
    return modules


def crop(modules: list[list[bool]]) -> tuple[list[list[bool]], int]:
    """The dark modules' bounding box, and the narrowest light margin around it."""
    rows = [y for y, row in enumerate(modules) if any(row)]
    cols = [x for row in modules for x, dark in enumerate(row) if dark]
    top, bottom, left, right = rows[0], rows[-1], min(cols), max(cols)
    margin = min(top, len(modules) - 1 - bottom, left, len(modules[0]) - 1 - right)
    return [row[left:right + 1] for row in modules[top:bottom + 1]], margin


def qr_for(data: str) -> list[list[list[bool]]]:
    """``data``'s QR code at each error-correction level (the shell may use any)."""
    found = []
    for level in (qrcode.constants.ERROR_CORRECT_L, qrcode.constants.ERROR_CORRECT_M,
                  qrcode.constants.ERROR_CORRECT_Q, qrcode.constants.ERROR_CORRECT_H):
        code = qrcode.QRCode(border=0, error_correction=level)
        code.add_data(data)
        code.make(fit=True)
        found.append([list(row) for row in code.get_matrix()])
    return found


def current_code(secret: str) -> str:
    return pyotp.TOTP(secret).now()


def errors(text: str) -> list[str]:
    """The error lines in ``text``."""
    return [row for row in text.splitlines() if row.startswith("error:")]


# --- 1. completion ------------------------------------------------------------------


def test_tab_completes_command_and_lists_methods(start: Start) -> None:
    term = start()
    term.type("mf")
    term.wait_for(lambda _t: term.cursor_row() == PROMPT + "mf")
    term.key("tab")
    # "mfa " with its space: the cursor stands after the space.
    term.wait_for(lambda _t: term.cursor_row() == PROMPT + "mfa"
                  and term.screen.cursor.x == len(PROMPT + "mfa "))

    term.type("mk ")
    term.wait_for(lambda _t: term.cursor_row() == PROMPT + "mfa mk")
    term.key("tab")
    screen = term.wait_for(lambda _t: term.cursor_row() == PROMPT + "mfa mk EMAIL")
    below = term.rows()[term.screen.cursor.y + 1:]
    menu = [row.split()[0] for row in below[:3] if row.strip()]
    assert menu == ["EMAIL", "AUTHENTICATOR", "SMS"], screen
    assert all("codes" in row for row in below[:3])  # each method's own help

    # Enter takes the selected completion; it does not run the command.
    term.type("\r")
    term.wait_for(lambda _t: "AUTHENTICATOR" not in term.screen_text())
    assert term.cursor_row() == PROMPT + "mfa mk EMAIL"
    assert term.screen.cursor.x == len(PROMPT + "mfa mk EMAIL ")
    assert "verification pending" not in term.screen_text()

    # Ctrl-C drops the line; nothing ran.
    term.key("ctrl-c")
    wait_prompt(term)
    assert "verification pending" not in term.screen_text()


def test_tab_completes_an_option(start: Start) -> None:
    term = start()
    term.type("mfa mk AUTHENTICATOR --sh")
    term.wait_for(lambda _t: term.cursor_row() == PROMPT + "mfa mk AUTHENTICATOR --sh")
    term.key("tab")
    term.wait_for(lambda _t: term.cursor_row() == PROMPT + "mfa mk AUTHENTICATOR --show-key")


# --- 2. the toolbar -----------------------------------------------------------------


def test_toolbar_shows_session_state(start: Start, emulator) -> None:
    term = start()
    toolbar = term.rows()[-1]
    assert toolbar.startswith(" cloud-api · demo · logged out ·"), toolbar
    assert toolbar.rstrip().endswith(f"F1 help · Tab complete · Ctrl-D exit · {emulator.url}")
    assert f"profile cloud-api ({emulator.url}), demo" in term.screen_text()

    out = run(term, "login")
    assert re.fullmatch(r"Logged in as demo; token valid for (59|60) min, MFA off\.", out), out
    toolbar = term.rows()[-1]
    assert re.search(r" · demo · token (59|60) min · MFA off · F1 help", toolbar), toolbar

    assert run(term, "logout") == "Logged out."
    assert "· demo · logged out ·" in term.rows()[-1]

    run(term, "mfa status")  # logs in on demand
    assert re.search(r" · demo · token (59|60) min · MFA off · ", term.rows()[-1])


def test_login_with_an_authenticator_code(start: Start) -> None:
    from conftest import APP_SECRET

    term = start(user="app", password="app-pass")
    assert " · app · logged out · " in term.rows()[-1]
    term.line("login")
    answer(term, "MFA code (or a recovery code):", "000000")
    term.wait_for("the one-time code was wrong")
    term.wait_for_cursor_line("MFA code (or a recovery code):")
    code = current_code(APP_SECRET)
    term.line(code)
    wait_prompt(term)
    out = output(term, "login")
    assert re.search(r"^Logged in as app; token valid for (59|60) min, MFA on\.$", out,
                     re.MULTILINE), out
    assert code not in term.screen_text() and "000000" not in term.screen_text()
    assert re.search(r" · app · token (59|60) min · MFA on · ", term.rows()[-1])


@pytest.mark.parametrize("where", ["login", "enrolment"])
def test_wrong_code_says_try_again_once(start: Start, where: str) -> None:
    if where == "login":
        term = start(user="app", password="app-pass")
        term.line("login")
        question = "MFA code (or a recovery code):"
    else:
        term = start()
        term.line("mfa mk AUTHENTICATOR --no-qr --no-show-key")
        answer(term, "Save the recovery codes to a file? [Y/n]", "n")
        question = "Enter the 6-digit code from your authenticator app:"
    answer(term, question, "000000")
    term.wait_for("the one-time code was wrong")
    term.wait_for_cursor_line(question)
    joined = term.screen_text().replace("\n", "")  # the message wraps at 120 columns
    assert joined.count("try again") == 1, term.screen_text()


# --- 3. AUTHENTICATOR enrolment -----------------------------------------------------


def test_authenticator_enrolment_end_to_end(start: Start, emulator, tmp_path: Path) -> None:
    term = start()
    term.line("mfa mk AUTHENTICATOR")
    # The recovery codes and their file first; the QR code last, just above the code
    # question, so that it is on the screen while the code is asked.
    term.wait_for_cursor_line("Save the recovery codes to a file? [Y/n]")
    codes = recovery_codes(term.screen_text())
    assert len(codes) == 8 and len(set(codes)) == 8, term.screen_text()
    term.line("")  # the default: yes, save them
    answer(term, f"File name [{DEFAULT_CODES_FILE}]:", "")
    term.wait_for(f"Saved the recovery codes to {DEFAULT_CODES_FILE} (mode 0600).")
    saved = tmp_path / DEFAULT_CODES_FILE
    assert file_mode(saved) == 0o600
    assert saved.read_text() == "".join(f"{c}\n" for c in codes)

    answer(term, "Show a QR code to scan with your authenticator app? [Y/n]", "y")
    term.wait_for_cursor_line("Display the secret key (to type into the app instead)? [y/N]")
    modules = screen_qr(term)
    assert len(modules) >= 21, "no QR code on the screen:\n" + term.screen_text()
    term.line("y")

    term.wait_for_cursor_line("Enter the 6-digit code from your authenticator app:")
    screen = term.screen_text()
    assert screen_qr(term) == modules, "the QR code is no longer on the screen"
    match = re.search(r"^Secret key:\n([A-Z2-7]{32})$", screen, re.MULTILINE)
    assert match, screen
    key = match.group(1)
    assert key == emulator.secret("demo")
    # The QR code drawn is the one an authenticator app needs for this key.
    uri = f"otpauth://totp/{ISSUER_QUOTED}:demo?secret={key}&issuer={ISSUER_QUOTED}"
    drawn, margin = crop(modules)
    assert drawn in qr_for(uri), "the QR code drawn does not encode " + uri
    assert margin >= 4, f"a quiet zone of {margin} modules (a QR code needs 4)"

    term.wait_for_cursor_line("Enter the 6-digit code from your authenticator app:")
    code = current_code(key)
    term.line(code)
    wait_prompt(term)
    screen = term.screen_text()
    assert code not in screen, "the code was echoed"
    result = after(screen, "Enter the 6-digit code from your authenticator app:")
    assert errors(result) == []
    assert field(result, "method") == "AUTHENTICATOR"
    assert field(result, "status") == "enabled"
    assert field(result, "recovery_codes_file") == DEFAULT_CODES_FILE

    # The token taken before enrolment still serves: no code needed in this session.
    status = run(term, "mfa status")
    assert field(status, "enabled") == "yes"
    assert re.search(r" · demo · token (59|60) min · MFA on · ", term.rows()[-1])
    # A new login needs a code now; a recovery code does.
    run(term, "logout")
    term.line("mfa status")
    answer(term, "MFA code (or a recovery code):", codes[0])
    wait_prompt(term)
    status = output(term, "mfa status")
    assert codes[0] not in status
    assert field(status, "enabled") == "yes"
    assert field(status, "method") == "AUTHENTICATOR"
    assert re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC", field(status, "enabled_on"))
    assert re.search(r" · demo · token (59|60) min · MFA on · ", term.rows()[-1])


def test_qr_code_without_colour_is_drawn_with_blocks(start: Start, emulator) -> None:
    term = start("--no-color")
    term.line("mfa mk AUTHENTICATOR")
    answer(term, "Save the recovery codes to a file? [Y/n]", "n")
    answer(term, "Show a QR code to scan with your authenticator app? [Y/n]", "")
    term.wait_for_cursor_line("Display the secret key (to type into the app instead)? [y/N]")
    qr_rows = [row for row in term.rows() if len(row) >= 21 and set(row) <= set("▀▄█ ")]
    assert len(qr_rows) >= 11 and {"▀", "▄", "█"} <= set("".join(qr_rows)), term.screen_text()
    key = emulator.secret("demo")
    uri = f"otpauth://totp/{ISSUER_QUOTED}:demo?secret={key}&issuer={ISSUER_QUOTED}"
    # Light modules are the blocks (for a dark terminal).
    drawn, margin = crop(screen_qr(term))
    assert drawn in qr_for(uri), "the QR code drawn does not encode " + uri
    assert margin >= 4
    term.key("ctrl-c")
    wait_prompt(term)
    # The codes were shown, then the QR code (it carries the key); then how to finish.
    rows = [row for row in term.rows() if row.strip()]
    assert rows[-4:-2] == ["Enrolment is pending: finish it with 'mfa verify CODE'.",
                           "Cancelled."], term.screen_text()
    assert "Recovery codes (each stands in once for a code; keep them safe):" in term.seen
    assert "Secret key (add it" not in term.screen_text()


@pytest.mark.parametrize(("columns", "lines", "warning"), [
    # Wrapped, a QR code cannot be scanned.
    (36, 60, "warning:theterminalis36columnswideandtheQRcodeneeds"),
    # Too tall, it would scroll away before the code is asked (a taller terminal gets
    # it, still on screen at the question: see the end-to-end enrolment).
    (120, 20, "warning:theterminalis20lineshighandtheQRcodeneeds"),
])
def test_a_qr_code_that_does_not_fit_the_terminal_gives_the_key(
        tmp_path: Path, emulator, columns: int, lines: int, warning: str) -> None:
    """Say so and show the key instead; the QR question is not even asked."""
    profile_on(tmp_path, emulator.url)
    term = Terminal(["--user", "demo"], cwd=tmp_path,
                    env=shell_env(tmp_path, VSS_USER_PASS=PASSWORD), columns=columns,
                    lines=lines)
    try:
        term.wait_for(lambda _t: term.cursor_row() == PROMPT.rstrip())
        term.line("mfa mk AUTHENTICATOR --no-verify --save-codes c.txt")  # no QR question
        term.wait_for("Secret key:")
        key = emulator.secret("demo")
        assert key
        term.wait_for(key)
        text = term.screen_text()
        squeezed = re.sub(r"\s", "", text)  # the warning wraps in a narrow terminal
        assert warning in squeezed, text
        assert "ShowaQRcode" not in squeezed
        assert not any(set(row.strip()) <= set("▀▄█ ") and row.strip() for row in term.rows())
    finally:
        term.close()


# --- 4. an existing recovery-codes file ---------------------------------------------


def test_recovery_codes_never_overwrite_without_asking(start: Start, tmp_path: Path) -> None:
    existing = tmp_path / DEFAULT_CODES_FILE
    existing.write_text("keep me\n")
    existing.chmod(0o644)
    term = start()
    term.line("mfa mk EMAIL --no-verify")
    answer(term, "Save the recovery codes to a file? [Y/n]", "y")
    answer(term, f"File name [{DEFAULT_CODES_FILE}]:", "")
    answer(term, f"{DEFAULT_CODES_FILE} exists. Overwrite it? [y/N]", "n")
    answer(term, "Another file name for the recovery codes (empty to skip):", "other-codes.txt")
    term.wait_for("Saved the recovery codes to other-codes.txt (mode 0600).")
    wait_prompt(term)
    out = output(term, "mfa mk EMAIL --no-verify")
    assert ("Enrolment is pending: finish it with 'mfa verify CODE' ('mfa token' has a code "
            "sent).") in out.splitlines()
    assert field(out, "status") == "pending"
    assert field(out, "recovery_codes_file") == "other-codes.txt"

    assert existing.read_text() == "keep me\n"
    assert file_mode(existing) == 0o644
    other = tmp_path / "other-codes.txt"
    assert file_mode(other) == 0o600
    assert other.read_text().split() == recovery_codes(out)


def test_email_enrolment_without_verify_still_has_a_code_sent(start: Start, emulator) -> None:
    term = start()
    term.line("mfa mk EMAIL --no-verify")
    answer(term, "Save the recovery codes to a file? [Y/n]", "n")
    wait_prompt(term)
    assert "Enrolment is pending" in output(term, "mfa mk EMAIL --no-verify")
    sent = [m for m in emulator.outbox("demo") if m.get("code")]
    assert sent, "no code was sent for 'mfa verify CODE'"
    out = run(term, f"mfa verify {sent[-1]['code']}")
    assert errors(out) == []


# --- 5. history ---------------------------------------------------------------------


def test_history_masks_secrets_and_keeps_no_answers(start: Start, emulator,
                                                    tmp_path: Path) -> None:
    term = start(password=None)
    term.line("mfa verify 123456")
    answer(term, "Password for demo:", PASSWORD)
    wait_prompt(term)
    out = output(term, "mfa verify 123456")
    assert len(errors(out)) == 1 and "TOTP is not enabled" in errors(out)[0], out

    term.line("mfa mk EMAIL")
    answer(term, "Save the recovery codes to a file? [Y/n]", "yes")
    answer(term, f"File name [{DEFAULT_CODES_FILE}]:", "answer-file.txt")
    term.wait_for("Saved the recovery codes to answer-file.txt")
    term.wait_for_cursor_line("Enter the 6-digit code from your email:")
    mail = emulator.outbox("demo")[-1]
    assert mail["kind"] == "email"
    term.line(mail["code"])
    wait_prompt(term)
    assert field(output(term, "mfa mk EMAIL"), "status") == "enabled"
    run(term, "help mfa")
    term.key("ctrl-d")
    assert term.wait_exit() == 0

    history = tmp_path / ".local" / "state" / "vss-shell" / "history"
    assert file_mode(history) == 0o600
    text = history.read_text()
    entries = [line[1:] for line in text.splitlines() if line.startswith("+")]
    assert entries == ["mfa verify ******", "mfa mk EMAIL", "help mfa"], text
    for secret in ("123456", PASSWORD, mail["code"], "answer-file.txt", "yes"):
        assert secret not in text

    again = start()
    again.key("up")
    again.wait_for(lambda _t: again.cursor_row() == PROMPT + "help mfa")
    again.key("up")
    again.wait_for(lambda _t: again.cursor_row() == PROMPT + "mfa mk EMAIL")
    again.key("up")  # the masked line is a record, not something to run again
    again.key("left")  # a key after it, so the screen has surely taken the Up
    again.wait_for(lambda _t: again.screen.cursor.x == len(PROMPT + "mfa mk EMAIL") - 1)
    assert again.cursor_row() == PROMPT + "mfa mk EMAIL"


# --- 6. Ctrl-C inside a command -----------------------------------------------------


def test_ctrl_c_in_questions_returns_to_the_prompt(start: Start, emulator) -> None:
    term = start()
    term.line("mfa mk AUTHENTICATOR")
    answer(term, "Save the recovery codes to a file? [Y/n]", "n")
    answer(term, "Show a QR code to scan with your authenticator app? [Y/n]", "n")
    answer(term, "Display the secret key (to type into the app instead)? [Y/n]", "n")
    # A code that is not 6 digits is refused before any request; the question comes back.
    answer(term, "Enter the 6-digit code from your authenticator app:", "12")
    term.wait_for("error: a code is 6 digits (spaces are ignored) (2 left)")
    term.wait_for_cursor_line("Enter the 6-digit code from your authenticator app:")
    term.key("ctrl-c")
    wait_prompt(term)
    out = output(term, "mfa mk AUTHENTICATOR")
    assert "Enrolment is pending: finish it with 'mfa verify CODE'." in out.splitlines()
    assert field(out, "status") == "pending"
    assert "Cancelled." not in out

    status = run(term, "mfa status")
    assert field(status, "enabled") == "no"
    assert field(status, "method") == "AUTHENTICATOR"

    secret = emulator.secret("demo")
    assert secret
    code = current_code(secret)
    out = run(term, f"mfa verify {code}")
    assert errors(out) == [] and out, out

    term.line("mfa rm")
    term.wait_for_cursor_line("Disable MFA for demo? [y/N]")
    term.key("ctrl-c")
    wait_prompt(term)
    out = output(term, "mfa rm").splitlines()
    assert out[0].startswith("Disable MFA for demo? [y/N]")
    assert out[1:] == ["Cancelled."], out
    assert not any(m.get("token") for m in emulator.outbox("demo")), "a disable was started"

    # Ctrl-D at a question cancels the command; it does not leave the shell.
    term.line("mfa rm")
    term.wait_for_cursor_line("Disable MFA for demo? [y/N]")
    term.key("ctrl-d")
    wait_prompt(term)
    assert output(term, "mfa rm").splitlines()[1:] == ["Cancelled."]
    assert term.child.isalive()

    # The shell goes on, and nothing changed: the token from the first status is reused.
    status = run(term, "mfa status")
    assert field(status, "enabled") == "yes"
    assert field(status, "method") == "AUTHENTICATOR"
    term.line("exit")
    assert term.wait_exit() == 0


def test_answering_no_to_disable_changes_nothing(start: Start, emulator) -> None:
    term = start()
    term.line("mfa mk EMAIL --no-verify")
    answer(term, "Save the recovery codes to a file? [Y/n]", "n")
    wait_prompt(term)
    run(term, "mfa token")
    code = emulator.outbox("demo")[-1]["code"]
    assert errors(run(term, f"mfa verify {code}")) == []
    term.line("mfa rm")
    answer(term, "Disable MFA for demo? [y/N]", "")
    wait_prompt(term)
    out = output(term, "mfa rm").splitlines()
    assert out[1:] == ["error: cancelled; nothing was changed"], out
    assert not any(m.get("token") for m in emulator.outbox("demo"))


# --- 7. Ctrl-C and Ctrl-D at the prompt; exit ---------------------------------------


def test_ctrl_c_clears_the_line_and_ctrl_d_exits(start: Start) -> None:
    term = start()
    term.type("mfa status")
    term.wait_for(lambda _t: term.cursor_row() == PROMPT + "mfa status")
    term.key("ctrl-c")
    wait_prompt(term)
    assert term.child.isalive()
    # Ctrl-D with text on the line does not leave.
    term.type("he")
    term.wait_for(lambda _t: term.cursor_row() == PROMPT + "he")
    term.key("ctrl-d")
    term.pump(0.3)
    assert term.child.isalive()
    assert term.cursor_row() == PROMPT + "he"
    term.type("lp\r")
    wait_prompt(term)
    assert "Keys: Tab completes" in output(term, "help")
    # The cancelled line never ran: no login, no status table.
    assert "logged out" in term.rows()[-1]
    assert "enabled_on" not in term.screen_text()
    term.key("ctrl-d")
    assert term.wait_exit() == 0


def test_f1_shows_help(start: Start) -> None:
    term = start()
    term.key("f1")
    term.wait_for("Keys: Tab completes")
    wait_prompt(term)
    screen = term.screen_text()
    assert "Commands:" in screen and re.search(r"^  mfa\s+multi-factor", screen, re.MULTILINE)


def test_exit_command_leaves_with_status_0(start: Start) -> None:
    term = start()
    term.line("exit")
    assert term.wait_exit() == 0


# --- 8. a mistyped command ----------------------------------------------------------


def test_mistyped_command_suggests_and_shell_goes_on(start: Start) -> None:
    term = start()
    out = run(term, "mfz status").splitlines()
    assert len(out) == 1, out
    assert out[0].startswith("error: unknown command 'mfz'")
    assert "did you mean 'mfa'" in out[0]
    assert field(run(term, "mfa status"), "enabled") == "no"

    out = run(term, "mfa stauts").splitlines()
    assert len(out) == 1, out
    assert out[0].startswith("error: unknown command 'mfa stauts'")
    assert "did you mean 'status'" in out[0]


# --- 9. EMAIL enrolment, disable, one login -----------------------------------------


def test_email_enrol_and_disable_with_one_login(start: Start, emulator) -> None:
    term = start()
    assert field(run(term, "mfa status"), "enabled") == "no"

    term.line("mfa mk EMAIL")
    answer(term, "Save the recovery codes to a file? [Y/n]", "n")
    term.wait_for_cursor_line("Enter the 6-digit code from your email:")
    screen = term.screen_text()
    assert "Show a QR code" not in screen and "Secret key" not in screen
    mail = emulator.outbox("demo")[-1]
    assert mail["kind"] == "email" and re.fullmatch(r"\d{6}", mail["code"])
    term.line(mail["code"])
    wait_prompt(term)
    result = output(term, "mfa mk EMAIL")
    assert mail["code"] not in result
    assert field(result, "method") == "EMAIL"
    assert field(result, "status") == "enabled"

    status = run(term, "mfa status")
    assert field(status, "enabled") == "yes"
    assert field(status, "method") == "EMAIL"

    term.line("mfa rm")
    answer(term, "Disable MFA for demo? [y/N]", "y")
    term.wait_for_cursor_line("Confirmation token from the email:")
    mail = emulator.outbox("demo")[-1]
    assert mail["kind"] == "email" and mail.get("token")
    term.line(mail["token"])
    wait_prompt(term)
    out = output(term, "mfa rm")
    assert out.splitlines()[-1] == "TOTP has been disabled", out
    assert mail["token"] not in term.screen_text(), "the confirmation token was echoed"

    status = run(term, "mfa status")
    assert field(status, "enabled") == "no"
    assert field(status, "method") == "-"
    assert field(status, "disabled_on") != "-"

    assert emulator.stats()["requests"].get("POST /auth/request-token") == 1


# --- 10. demo mode ------------------------------------------------------------------


def test_demo_mode_walkthrough(start: Start) -> None:
    """Enrol, log in with a code, disable: each emailed code or token shows up in
    the shell before the question that needs it, so all of it ends in one session."""
    term = start(demo=True)
    screen = term.screen_text()
    assert "demo mode, on a local emulator at http://127.0.0.1:" in screen
    assert "Account 'demo', password 'demo-password' (already given)." in screen
    assert "appears here as it is sent; 'outbox' lists" in screen
    assert re.search(r"^ demo · demo · logged out · .* · http://127\.0\.0\.1:\d+ *$",
                     term.rows()[-1])

    out = run(term, "mfa token", DEMO_PROMPT).splitlines()
    assert len(out) == 1 and out[0].startswith("error:") and "not enabled" in out[0], out
    assert run(term, "outbox", DEMO_PROMPT) == "The outbox is empty."

    def sent(what: str) -> str:
        """The last code or token the screen says the emulator sent."""
        found = re.findall(rf"^\(demo\) email to demo@example\.org: {what} (\S+)$",
                           term.screen_text(), re.MULTILINE)
        assert found, term.screen_text()
        return found[-1]

    term.line("mfa mk EMAIL")
    answer(term, "Save the recovery codes to a file? [Y/n]", "n")
    term.wait_for_cursor_line("Enter the 6-digit code from your email:")
    term.line(sent("code"))
    wait_prompt(term, DEMO_PROMPT)
    out = output(term, "mfa mk EMAIL", DEMO_PROMPT)
    assert errors(out) == [] and field(out, "status") == "enabled", out
    # A token taken while MFA was off serves the rest of the session: one login.
    assert re.search(r" · demo · token (59|60) min · MFA on · ", term.rows()[-1])
    assert field(run(term, "mfa status", DEMO_PROMPT), "method") == "EMAIL"
    enrol_code = sent("code")

    # A new login has a code emailed, shown before the question.
    run(term, "logout", DEMO_PROMPT)
    term.line("mfa status")
    answer(term, "Password for demo:", "demo-password")  # as the banner says
    term.wait_for_cursor_line("MFA code (or a recovery code):")
    login_code = sent("code")
    assert login_code != enrol_code
    term.line(login_code)
    wait_prompt(term, DEMO_PROMPT)
    status = output(term, "mfa status", DEMO_PROMPT)
    assert field(status, "enabled") == "yes" and field(status, "method") == "EMAIL"
    assert " · demo · token " in term.rows()[-1] and "MFA on" in term.rows()[-1]

    term.line("mfa rm")
    answer(term, "Disable MFA for demo? [y/N]", "y")
    term.wait_for_cursor_line("Confirmation token from the email:")
    term.line(sent("token"))
    wait_prompt(term, DEMO_PROMPT)
    assert errors(output(term, "mfa rm", DEMO_PROMPT)) == []
    assert "MFA off" in term.rows()[-1]  # the shell knows, though the token says otherwise
    assert field(run(term, "mfa status", DEMO_PROMPT), "enabled") == "no"

    table = run(term, "outbox", DEMO_PROMPT).splitlines()
    assert len(table) == 4 and table[-1].split()[-1] == sent("token"), table

    # Without a question to wait for, what was sent still comes before the result.
    out = run(term, "mfa mk SMS --phone 416-555-0123 --no-verify --save-codes sms.txt",
              DEMO_PROMPT).splitlines()
    texted = [n for n, line in enumerate(out) if line.startswith("(demo) sms to 416-555-0123")]
    result = [n for n, line in enumerate(out) if line.startswith("status ")]
    assert texted and result and texted[0] < result[0], out
    assert "MFA pending" in term.rows()[-1]

    # Another profile leaves the emulator (and says so); 'demo' comes back to it.
    term.line("profile use vss-api")
    wait_prompt(term, "vss (vss-api) > ")
    assert "(https://vss-api.eis.utoronto.ca); logged out." in term.screen_text()
    term.line("profile use demo")
    wait_prompt(term, DEMO_PROMPT)
    out = output(term, "profile use demo", "vss (vss-api) > ")
    assert re.search(r"\(http://127\.0\.0\.1:\d+\); logged out\.", out), out
    assert field(run(term, "mfa status", DEMO_PROMPT), "enabled") == "no"  # password kept
    term.key("ctrl-d")
    assert term.wait_exit() == 0


# --- 11. the password is not echoed -------------------------------------------------


def test_password_question_does_not_echo(start: Start) -> None:
    term = start(password=None)
    term.line("mfa status")
    question = "Password for demo: "
    term.wait_for_cursor_line(question.rstrip())
    term.type("wrong-pass")
    term.key("enter")
    # A refused password is asked again at once (a typo is forgiven, up to 3 tries).
    term.wait_for(lambda _t: term.new_prompt() and term.cursor_row() == question.rstrip())
    assert "(2 left)" in term.screen_text()
    # Nothing of it was shown, not even its length: the row holds the question alone.
    assert term.screen_text().count(question.rstrip()) == 2
    assert "*" not in term.screen_text() and "wrong-pass" not in term.screen_text()
    term.type(PASSWORD[:3])
    term.wait_for(lambda _t: term.screen.cursor.x == len(question))  # it stays put
    term.type(PASSWORD[3:])
    term.key("enter")
    wait_prompt(term)
    assert field(output(term, "mfa status"), "enabled") == "no"

    # Once taken, the password is kept for the session.
    run(term, "mfa token")
    assert term.screen_text().count("Password for demo:") == 2
    for text in (term.raw, *term.seen):
        assert PASSWORD not in text and "wrong-pass" not in text
