"""One grammar for a line at the prompt, in files and in ``-c``; bounded work for any line.

The grammar is :class:`vss_shell.commands.parser.Splitter`; these tests pin what it
cuts, how files and ``-c`` use it, how history masks each command of a line, and
that no word of any length makes "did you mean" (or an error line) costly.
"""

from __future__ import annotations

import difflib
import io
import re
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from batch_helpers import json_lines, run_vss, vss_env
from vss_shell.commands import parser, table
from vss_shell.commands.parser import (
    MASK,
    Splitter,
    continues,
    history_line,
    mask_secrets,
    numbered_commands,
    parse,
    pieces,
    shown,
    split,
    suggest,
    words,
)
from vss_shell.dispatch import _bounded
from vss_shell.emulator import Emulator
from vss_shell.errors import UsageError

T = table()
SHELL = Path(__file__).resolve().parents[1] / "shell"


def texts(text: str) -> list[str]:
    return [p.text for p in pieces(text)]


# --- the splitter --------------------------------------------------------------------


@pytest.mark.parametrize(("text", "expected"), [
    ("a; b ;c", ["a", " b ", "c"]),
    ("a\nb", ["a", "b"]),
    ("mfa status # c; d\nwhoami", ["mfa status ", "whoami"]),
    ("profile use 'a;b'; whoami", ["profile use 'a;b'", " whoami"]),
    ('mfa verify "1;2"', ['mfa verify "1;2"']),
    ("a \\; b", ["a \\; b"]),  # an escaped `;` is a character of a word
    ("mfa \\\nstatus", ["mfa status"]),  # a continuation joins the lines
    ("mfa sta\\\ntus", ["mfa status"]),  # ... even inside a word, as sh does
    ('login "o\\\nb"', ['login "ob"']),  # ... and inside double quotes
    ("login 'o\\\nb'", ["login 'o\\", "b'"]),  # not inside single quotes
    ("a \\\\\nb", ["a \\\\", "b"]),  # an even count of `\` continues nothing
    ("# c \\\nwhoami", ["", "whoami"]),  # nor does one ending a comment
    ("a#b; c", ["a#b", " c"]),  # `#` inside a word starts no comment
    ("a\\\n#b", ["a#b"]),  # ... nor right after a continuation inside a word
    ("a \\\n#b", ["a "]),  # ... but it does at the start of a word
    ("a 'x\nb", ["a 'x", "b"]),  # a newline ends a command even in quotes
    ("", [""]),
])
def test_pieces(text: str, expected: list[str]) -> None:
    assert texts(text) == expected


def test_pieces_know_their_line_number_and_source() -> None:
    text = "whoami; mfa \\\n  status -o json # note\n\nlogin demo"
    found = pieces(text)
    assert [(p.number, p.line) for p in found] == [(1, 1), (2, 1), (3, 3), (4, 4)]
    second = found[1]
    assert second.comment is not None and text[slice(*second.comment)] == "# note"
    for piece in found:
        for word in words(piece.text):
            start, end = piece.span(word.start, word.end)
            assert text[start:end].replace("\\\n", "") == word.raw


@pytest.mark.parametrize(("text", "expected"), [
    ("help \\", True),
    ("help \\\\", False),
    ("help \\\\\\", True),
    ("# a comment \\", False),
    ("login 'a\\", False),
    ('login "a\\', True),
    ("help", False),
    ("mfa \\\nstatus \\", True),
])
def test_continues(text: str, expected: bool) -> None:
    assert continues(text) is expected


LINE_CHARS = st.sampled_from([*list("ab #;'\"\\\n\t"), "mfa", " status", "\\\n"])


@settings(max_examples=300, deadline=None)
@given(st.lists(LINE_CHARS, max_size=40).map("".join), st.integers(1, 8))
def test_feeding_in_chunks_cuts_as_feeding_at_once(text: str, step: int) -> None:
    splitter = Splitter()
    found = []
    for at in range(0, len(text), step):
        found += splitter.feed(text[at:at + step])
    found.append(splitter.end())
    assert found == pieces(text)


def test_numbered_commands_count_as_a_person_does() -> None:
    text = "# set-up\nwhoami \\\n -o json\n\nbogus; whoami"
    assert numbered_commands(text) == [(2, ["whoami", "-o", "json"]), (4, ["bogus"]),
                                       (5, ["whoami"])]


def test_a_text_that_cannot_be_read_runs_nothing() -> None:
    with pytest.raises(UsageError, match="cannot read the line: no closing quotation"):
        numbered_commands("whoami; login 'x", "line")


# --- files and -c use the same grammar ------------------------------------------------


@pytest.fixture
def vss(tmp_path: Path, emulator: Emulator):
    def run(*args: str, input: str | None = None):
        return run_vss(*args, env=vss_env(tmp_path, emulator), cwd=tmp_path, input=input)
    return run


def test_a_file_line_may_hold_several_commands(vss, tmp_path: Path) -> None:
    cmds = tmp_path / "cmds.vss"
    cmds.write_text("mfa status -o json; whoami -o json  # two on a line\n"
                    "whoami \\\n  -o json; mfa status -o json\n")
    r = vss("-f", str(cmds))
    assert r.returncode == 0, str(r)
    docs = json_lines(r.stdout)
    assert len(docs) == 4 and docs[1]["user"] == "demo" and "enabled" in docs[3], str(r)


def test_stdin_lines_may_hold_several_commands_and_errors_name_their_line(vss) -> None:
    r = vss(input="whoami -o json\nwhoami -o json; bogus; whoami -o json\n")
    assert r.returncode == 2, str(r)
    assert len(json_lines(r.stdout)) == 2
    assert r.stderr.startswith("<stdin>:2: unknown command 'bogus'"), str(r)


def test_a_file_line_that_cannot_be_read_runs_none_of_its_commands(vss) -> None:
    r = vss("--keep-going", input="whoami -o json; login 'x\nwhoami -o json\n")
    assert r.returncode == 2, str(r)
    assert len(json_lines(r.stdout)) == 1, str(r)  # only line 2
    assert r.stderr.startswith("<stdin>:1: cannot read the line: no closing quotation"), str(r)


def test_dash_c_and_a_file_cut_alike(vss, tmp_path: Path) -> None:
    text = "whoami -o json; mfa \\\nstatus -o json # c\n"
    (tmp_path / "f").write_text(text)
    by_c, by_file = vss("-c", text), vss("-f", str(tmp_path / "f"))
    assert by_c.returncode == by_file.returncode == 0, (str(by_c), str(by_file))
    # The same two commands (the second run found the first one's token cached).
    assert [sorted(d) for d in json_lines(by_c.stdout)] == [
        sorted(d) for d in json_lines(by_file.stdout)]
    assert len(json_lines(by_c.stdout)) == 2


# --- history: each command of a line --------------------------------------------------


@pytest.mark.parametrize(("line", "kept"), [
    ("mfa verify 123456; whoami", f"mfa verify {MASK}; whoami"),
    ("mfa rm --token abc; mfa status", f"mfa rm --token {MASK}; mfa status"),
    ("whoami; mfa rm --token=abc", f"whoami; mfa rm --token={MASK}"),
    ("mfa verify 123 \\\n456", f"mfa verify {MASK}"),
    ("whoami; mfa verfy 123456", None),  # a command that does not parse: memory only
    ("whoami; profile add x --endpoint https://u:pw@h.example", None),
])
def test_history_masks_each_command(line: str, kept: str | None) -> None:
    assert history_line(T, line) == kept


def test_mask_secrets_keeps_everything_else_as_typed() -> None:
    line = "whoami   ;mfa verify 12 34 # c\nmfa status"
    assert mask_secrets(T, line) == f"whoami   ;mfa verify {MASK} # c\nmfa status"


# --- bounded work ----------------------------------------------------------------------


@pytest.fixture
def compared(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """The lengths of the words "did you mean" compares (edit distance and difflib)."""
    seen: list[int] = []
    distance, matcher = parser._distance, difflib.SequenceMatcher

    def spy_distance(a: str, b: str) -> int:
        seen.append(max(len(a), len(b)))
        return distance(a, b)

    def spy_matcher(junk: object, a: str, b: str) -> difflib.SequenceMatcher:
        seen.append(max(len(a), len(b)))
        return matcher(junk, a, b)

    monkeypatch.setattr(parser, "_distance", spy_distance)
    monkeypatch.setattr(difflib, "SequenceMatcher", spy_matcher)
    return seen


LONG = "x" * 100_000


@pytest.mark.parametrize("line", [
    [LONG], ["mfa", LONG], ["mfa", "status", "--" + LONG], ["set", LONG],
    ["mfa", "mk", LONG], ["set", "output", LONG], ["whoami", "-o", LONG],
])
def test_long_words_are_not_compared(compared: list[int], line: list[str]) -> None:
    with pytest.raises(UsageError) as caught:
        parse(T, line)
    assert compared == [] or max(compared) <= parser.SUGGEST_LIMIT
    assert len(str(caught.value)) < 300  # the word is quoted cut short


def test_help_on_a_long_word_is_not_compared(compared: list[int]) -> None:
    from vss_shell.commands.builtin import find_topic

    with pytest.raises(UsageError):
        find_topic(T, [LONG])
    assert compared == []


def test_suggestions_still_work_and_compare_few_candidates(compared: list[int]) -> None:
    assert suggest("stauts", ["status", "token"]) == "; did you mean 'status'?"
    compared.clear()
    assert suggest("abc", [f"name{i}" for i in range(5000)] + ["abd"]) == ""
    assert len(compared) <= 2 * 100  # two measures for each of at most 100 candidates


def test_a_quoted_word_cut_short_never_shows_half_a_url() -> None:
    word = "https://user:" + "p" * 100 + "@host"
    assert "user" not in shown(word) and "(118 characters)" in shown(word)
    assert shown("ok\x1b[2J") == "ok\\x1b[2J"
    message = "bad " + "x " * 600 + "https://u:" + "p" * 500 + "@h"
    bounded = _bounded(message)
    assert len(bounded) < 1100 and "://" not in bounded and "u:" not in bounded


def test_url_secret_check_is_the_old_regex_without_its_cost() -> None:
    old = re.compile(r"://\S*[@?#]")
    for value in ["https://u:p@h", "https://h/x?y", "https://h/#f", "https://h/ x@y",
                  "a://b", "://@", "@://", "x :// ?", "ftp://h\t#x"]:
        assert parser._url_secret(value) == bool(old.search(value)), value


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=":/@?# ab\t", max_size=30))
def test_url_secret_check_matches_the_regex(value: str) -> None:
    assert parser._url_secret(value) == bool(re.search(r"://\S*[@?#]", value))


def test_a_100kb_command_line_is_one_line_and_exit_2(tmp_path: Path) -> None:
    env = vss_env(tmp_path, user=None, password=None)
    r = run_vss("-c", "x" * 100_000, env=env, cwd=tmp_path, timeout=60)
    assert r.returncode == 2, str(r)[:500]
    assert r.stdout == "" and len(r.stderr.splitlines()) == 1 and len(r.stderr) < 300


@pytest.mark.parametrize("source", ["/dev/zero", "big"])
def test_a_file_line_too_long_to_be_a_command_is_not_held(tmp_path: Path, source: str) -> None:
    """`vss -f` reads a line at most 1 MiB long: /dev/zero or a huge line is one line,
    exit 2, at once (memory stays bounded: the rest is never read)."""
    if source == "big":
        source = str(tmp_path / "big.txt")
        Path(source).write_text("x" * 3_000_000)
    env = vss_env(tmp_path, user=None, password=None)
    r = run_vss("-f", source, env=env, cwd=tmp_path, timeout=60)
    assert r.returncode == 2, str(r)[:500]
    assert r.stdout == "" and len(r.stderr.splitlines()) == 1, str(r)[:500]
    assert "longer than 1048576 characters" in r.stderr


def test_a_command_file_that_cannot_be_read_on_is_one_line(tmp_path: Path) -> None:
    env = vss_env(tmp_path, user=None, password=None)
    r = run_vss("-f", "/proc/self/mem", env=env, cwd=tmp_path, timeout=60)  # EIO at once
    assert r.returncode == 2, str(r)[:500]
    assert "Traceback" not in r.stderr and len(r.stderr.splitlines()) == 1, str(r)[:500]


# --- the way to the first prompt stays light --------------------------------------------


def test_the_shell_modules_import_neither_difflib_nor_traceback() -> None:
    # (prompt_toolkit imports traceback itself; these modules must not add it to -c runs.)
    code = ("import sys\n"
            "import vss_shell.commands.parser, vss_shell.dispatch, vss_shell.batch\n"
            "print(sorted(m for m in ('difflib', 'traceback') if m in sys.modules))\n")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          env={"PYTHONPATH": str(SHELL)}, timeout=60, check=True)
    assert done.stdout.strip() == "[]", done.stdout + done.stderr


def test_split_values_are_the_words_values() -> None:
    # What the highlighter and history see is what runs (shlex's rules in "...").
    for line in ['a "\\$x" "\\`y`" "\\"q\\"" \'\\n\'', "a\u00a0b c\x0bd"]:
        assert [w.value for w in words(line)] == split(line)


def test_batch_logical_lines_give_commands_with_their_first_line() -> None:
    from vss_shell.batch import logical_lines

    stream = io.StringIO("a; b\r\n\nc \\\n d # x \\\ne 'f\n")
    assert list(logical_lines(stream)) == [(1, ["a"]), (1, ["b"]), (3, ["c", "d"]),
                                           (5, "e 'f")]
