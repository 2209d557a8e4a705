"""The history file: lines as typed in memory, secrets masked on disk, mode 0600."""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest

from vss_shell.commands import table
from vss_shell.commands.parser import MASK
from vss_shell.history import MaskingFileHistory

T = table()


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


def test_next_session_loads_the_masked_lines(tmp_path: Path) -> None:
    path = tmp_path / "history"
    MaskingFileHistory(path, T).append_string('mfa verify "654321"')
    again = MaskingFileHistory(path, T)
    assert list(again.load_history_strings()) == [f"mfa verify {MASK}"]


@pytest.mark.parametrize(
    "line",
    ["mfa status", "mfa mk SMS --phone '416 555 0123'", "login bob", "profile use \"lab\"",
     "whoami # note 123456", "mfz 123456"],
)
def test_other_lines_stored_as_typed(tmp_path: Path, line: str) -> None:
    path = tmp_path / "history"
    MaskingFileHistory(path, T).append_string(line)
    assert stored_lines(path) == [line]


def test_odd_quotes_do_not_break_storing(tmp_path: Path) -> None:
    path = tmp_path / "history"
    MaskingFileHistory(path, T).append_string("login 'o\"brien")
    assert stored_lines(path) == ["login 'o\"brien"]
