"""The history file: lines as typed in memory, secrets masked on disk, mode 0600."""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest

from vss_shell.commands import account, builtin, mfa, profile, table
from vss_shell.commands.parser import MASK
from vss_shell.commands.table import Group, Table
from vss_shell.files import UnsafePath
from vss_shell.history import MaskingFileHistory
from vss_shell.record import replace

T = table()


def table_with_rest_code() -> Table:
    """The shell's table, with ``mfa verify``'s CODE taking the rest of the line."""
    built = Table()
    for module in (mfa, profile, account, builtin):
        module.register(built)
    group = built.lookup("mfa")
    assert isinstance(group, Group)
    verify = group.children["verify"]
    group.children["verify"] = replace(verify, args=(replace(verify.args[0], rest=True),))
    return built


@pytest.fixture
def umask_022() -> Iterator[None]:
    old = os.umask(0o022)
    try:
        yield
    finally:
        os.umask(old)


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def stored_lines(path: Path) -> list[str]:
    """The entries of a FileHistory file (lines after '+')."""
    return [line[1:] for line in path.read_text().splitlines() if line.startswith("+")]


def test_new_file_is_private(tmp_path: Path, umask_022: None) -> None:
    path = tmp_path / "history"
    MaskingFileHistory(path, T)
    assert path.exists()
    assert mode(path) == 0o600
    assert path.read_text() == ""


def test_new_directory_is_private(tmp_path: Path, umask_022: None) -> None:
    path = tmp_path / "state" / "history"
    MaskingFileHistory(path, T)
    assert mode(path.parent) == 0o700
    assert mode(path) == 0o600


def test_every_new_directory_is_private(tmp_path: Path, umask_022: None) -> None:
    path = tmp_path / "a" / "b" / "history"
    MaskingFileHistory(path, T)
    assert mode(tmp_path / "a") == 0o700
    assert mode(tmp_path / "a" / "b") == 0o700


def test_existing_directory_is_left_alone(tmp_path: Path, umask_022: None) -> None:
    folder = tmp_path / "shared"
    folder.mkdir(mode=0o755)
    MaskingFileHistory(folder / "history", T)
    assert mode(folder) == 0o755


def test_existing_public_file_becomes_private_and_keeps_its_lines(tmp_path: Path,
                                                                  umask_022: None) -> None:
    path = tmp_path / "history"
    path.write_text("\n# 2024-01-01 00:00:00\n+mfa status\n")
    path.chmod(0o644)
    history = MaskingFileHistory(path, T)
    assert mode(path) == 0o600
    assert list(history.load_history_strings()) == ["mfa status"]


def test_secret_masked_on_disk_original_in_memory(tmp_path: Path) -> None:
    path = tmp_path / "history"
    history = MaskingFileHistory(path, T)
    history.append_string("mfa verify 123456")
    history.append_string("mfa rm --token s3cr3t-T0KEN")
    history.append_string("mfa rm --token='a b c'")
    history.append_string("mfa status")
    text = path.read_text()
    for secret in ("123456", "s3cr3t-T0KEN", "a b c"):
        assert secret not in text
    assert stored_lines(path) == [f"mfa verify {MASK}", f"mfa rm --token {MASK}",
                                  f"mfa rm --token={MASK}", "mfa status"]
    # The running session recalls what was typed.
    assert history.get_strings() == ["mfa verify 123456", "mfa rm --token s3cr3t-T0KEN",
                                     "mfa rm --token='a b c'", "mfa status"]
    assert mode(path) == 0o600


def test_next_session_does_not_recall_masked_lines(tmp_path: Path) -> None:
    """`mfa verify ******` would only fail if recalled (Up, grey suggestion)."""
    path = tmp_path / "history"
    first = MaskingFileHistory(path, T)
    first.append_string("mfa status")
    first.append_string('mfa verify "654321"')
    assert stored_lines(path) == ["mfa status", f"mfa verify {MASK}"]  # the record
    again = MaskingFileHistory(path, T)
    assert list(again.load_history_strings()) == ["mfa status"]


@pytest.mark.parametrize(
    "line",
    ["mfa status", "mfa mk SMS --phone '416 555 0123'", "login bob", "profile use \"lab\"",
     "whoami # note 123456", "set output json", "help mfa mk", "mfa mk --help"],
)
def test_other_lines_stored_as_typed(tmp_path: Path, line: str) -> None:
    path = tmp_path / "history"
    MaskingFileHistory(path, T).append_string(line)
    assert stored_lines(path) == [line]


def test_odd_quotes_do_not_break_storing(tmp_path: Path) -> None:
    path = tmp_path / "history"
    MaskingFileHistory(path, T).append_string("login 'o\"brien")
    assert stored_lines(path) == ["login 'o\"brien"]


@pytest.mark.parametrize(
    "line",
    ["mfa verfy 123456", "mfa rm --tok AbcTok9999", "mfz 123456", "mfa verify 123456 --tok x",
     "mfa rm --help --tok AbcTok9999", "mfa status -o 123456", "mfa rm AbcTok9999"],
)
def test_lines_that_do_not_parse_stay_in_memory_only(tmp_path: Path, line: str) -> None:
    path = tmp_path / "history"
    history = MaskingFileHistory(path, T)
    history.append_string(line)
    history.append_string("mfa status")
    assert stored_lines(path) == ["mfa status"]
    assert history.get_strings() == [line, "mfa status"]
    entries = "".join(stored_lines(path))  # the timestamps' digits are not entries
    for secret in ("123456", "AbcTok9999", "123", "456"):
        assert secret not in entries


def test_code_in_several_words_never_reaches_the_file(tmp_path: Path) -> None:
    """Left out, or masked whole once CODE takes the rest of the line."""
    path = tmp_path / "history"
    history = MaskingFileHistory(path, T)
    history.append_string("mfa verify 123 456")
    assert stored_lines(path) in ([], [f"mfa verify {MASK}"])
    assert history.get_strings() == ["mfa verify 123 456"]


@pytest.mark.parametrize(
    ("line", "expected"),
    [("mfa verify 123 456", f"mfa verify {MASK}"),
     ("mfa verify 12 34 56 -o json", f"mfa verify {MASK} -o json"),
     ("mfa verify '123' \"456\"", f"mfa verify {MASK}")],
)
def test_code_in_several_words_masked_whole(tmp_path: Path, line: str, expected: str) -> None:
    path = tmp_path / "history"
    history = MaskingFileHistory(path, table_with_rest_code())
    history.append_string(line)
    assert stored_lines(path) == [expected]
    assert history.get_strings() == [line]


def victim_file(tmp_path: Path) -> Path:
    victim = tmp_path / "victim"
    victim.write_text("precious\n")
    victim.chmod(0o644)
    return victim


def test_symlinked_history_file_is_refused(tmp_path: Path) -> None:
    """Neither chmod-ed nor appended to through the link: one error naming the path."""
    victim = victim_file(tmp_path)
    path = tmp_path / "history"
    path.symlink_to(victim)
    with pytest.raises(UnsafePath) as caught:
        MaskingFileHistory(path, T)
    assert isinstance(caught.value, OSError)
    assert caught.value.filename == str(path)
    assert caught.value.strerror == "is a symbolic link; not writing through it"
    assert victim.read_text() == "precious\n"
    assert mode(victim) == 0o644


def test_history_recreated_during_session_is_private(tmp_path: Path, umask_022: None) -> None:
    path = tmp_path / "history"
    history = MaskingFileHistory(path, T)
    path.unlink()
    history.append_string("mfa status")
    assert mode(path) == 0o600
    assert stored_lines(path) == ["mfa status"]


def test_file_made_public_during_session_is_private_again(tmp_path: Path) -> None:
    path = tmp_path / "history"
    history = MaskingFileHistory(path, T)
    path.chmod(0o644)
    history.append_string("mfa status")
    assert mode(path) == 0o600


def test_link_planted_during_session_is_refused_and_reported(tmp_path: Path) -> None:
    victim = victim_file(tmp_path)
    path = tmp_path / "history"
    errors: list[OSError] = []
    history = MaskingFileHistory(path, T, on_error=errors.append)
    path.unlink()
    path.symlink_to(victim)
    history.append_string("mfa status")
    assert victim.read_text() == "precious\n"
    assert mode(victim) == 0o644
    assert [(type(e), e.filename) for e in errors] == [(UnsafePath, str(path))]
    assert history.get_strings() == ["mfa status"]  # kept in memory


def test_loading_reads_the_newest_megabyte_never_through_a_link(tmp_path: Path) -> None:
    """A history file grown huge costs its last MiB at start (the newest entries); a
    link planted after the shell made the file is not read at all."""
    path = tmp_path / "history"
    history = MaskingFileHistory(path, table())
    entry = "\n# 2026-01-01 00:00:00.000000\n+{}\n"
    path.write_text("".join(entry.format(f"whoami #{i}") for i in range(60_000))
                    + entry.format("mfa status"))
    assert path.stat().st_size > 2 << 20
    loaded = list(history.load_history_strings())
    assert loaded[0] == "mfa status" and "whoami #59999" in loaded
    assert "whoami #0" not in loaded and len(loaded) < 60_000
    target = tmp_path / "elsewhere"
    target.write_text(entry.format("login planted"))
    path.unlink()
    path.symlink_to(target)
    assert list(history.load_history_strings()) == []
