"""files: atomic writes, private modes, locks."""

from __future__ import annotations

import fcntl
import os
import stat
from pathlib import Path

import pytest

from vss_shell import files


def mode(path: Path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


def test_atomic_write_creates_private_file_and_directories(home):
    target = Path(home) / "a" / "b" / "secret.txt"
    files.atomic_write(target, "hello")
    assert target.read_text() == "hello"
    assert mode(target) == 0o600
    assert mode(target.parent) == 0o700
    assert mode(target.parent.parent) == 0o700
    assert os.listdir(target.parent) == ["secret.txt"]


def test_atomic_write_replaces_and_sets_mode(home):
    target = Path(home) / "f.bin"
    target.write_text("old")
    os.chmod(target, 0o644)
    files.atomic_write(target, b"\x00new", mode=0o640)
    assert target.read_bytes() == b"\x00new"
    assert mode(target) == 0o640
    assert sorted(os.listdir(home)) == ["f.bin"]


def test_existing_directory_mode_is_left_alone(home):
    folder = Path(home) / "shared"
    folder.mkdir(mode=0o755)
    os.chmod(folder, 0o755)
    files.atomic_write(folder / "x", "1")
    assert mode(folder) == 0o755


def test_overwrite_false_never_clobbers(home):
    target = Path(home) / "codes.txt"
    files.atomic_write(target, "first", overwrite=False)
    assert mode(target) == 0o600
    with pytest.raises(FileExistsError):
        files.atomic_write(target, "third", overwrite=False)
    assert target.read_text() == "first"
    assert os.listdir(home) == ["codes.txt"]


def test_overwrite_false_loses_a_race_without_clobbering(home, monkeypatch):
    """The file appears between the existence check and the link: link refuses."""
    target = Path(home) / "codes.txt"
    real_link = os.link

    def racing_link(src, dst):
        Path(dst).write_text("theirs")
        return real_link(src, dst)

    monkeypatch.setattr(os, "link", racing_link)
    with pytest.raises(FileExistsError):
        files.atomic_write(target, "mine", overwrite=False)
    assert target.read_text() == "theirs"
    assert os.listdir(home) == ["codes.txt"]


def test_failure_leaves_no_temp_file_and_old_content(home, monkeypatch):
    target = Path(home) / "f.txt"
    target.write_text("old")

    def boom(*args):
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", boom)
    with pytest.raises(OSError, match="disk full"):
        files.atomic_write(target, "new")
    assert target.read_text() == "old"
    assert os.listdir(home) == ["f.txt"]


def test_failure_while_writing_leaves_no_temp_file(home, monkeypatch):
    def boom(fd):
        raise OSError("io error")

    monkeypatch.setattr(os, "fsync", boom)
    with pytest.raises(OSError, match="io error"):
        files.atomic_write(Path(home) / "f.txt", "new")
    assert os.listdir(home) == []


def test_symlink_is_followed(home):
    real = Path(home) / "dotfiles" / "profiles.toml"
    real.parent.mkdir()
    real.write_text("old")
    link = Path(home) / "profiles.toml"
    link.symlink_to(real)
    files.atomic_write(link, "new")
    assert link.is_symlink()
    assert real.read_text() == "new"


def try_lock(lock: Path) -> bool:
    """Whether a separate open file description could take the lock now."""
    fd = os.open(lock, os.O_RDWR)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    finally:
        os.close(fd)
    return True


def test_locked_is_exclusive_private_and_released(home):
    target = Path(home) / "sub" / "data.toml"
    lock = Path(home) / "sub" / "data.toml.lock"
    with files.locked(target):
        assert mode(lock) == 0o600
        assert mode(lock.parent) == 0o700
        assert not try_lock(lock)
    assert try_lock(lock)
    with pytest.raises(RuntimeError), files.locked(target):
        raise RuntimeError
    assert try_lock(lock)
