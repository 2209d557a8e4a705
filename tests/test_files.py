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


@pytest.mark.parametrize("dangling", [False, True])
def test_symlink_is_refused_never_written_through(home, dangling):
    """A planted link (to a file, or to where a file would be made) is refused,
    naming the path; the link and its target stay as they were."""
    real = Path(home) / "elsewhere" / "victim"
    real.parent.mkdir()
    if not dangling:
        real.write_text("victim's")
    link = Path(home) / "tokens.toml"
    link.symlink_to(real)
    with pytest.raises(files.UnsafePath) as caught:
        files.atomic_write(link, "bearer token")
    assert isinstance(caught.value, OSError)
    assert caught.value.filename == str(link)
    assert "symbolic link" in caught.value.strerror
    assert str(caught.value) == f"{link}: is a symbolic link; not writing through it"
    assert link.is_symlink()
    assert real.read_text() == "victim's" if not dangling else not real.exists()
    assert sorted(os.listdir(home)) == ["elsewhere", "tokens.toml"]


def test_read_only_file_is_refused(home):
    """A file the person made read-only (even with a writable directory, even as root)."""
    target = Path(home) / "profiles.toml"
    target.write_text("mine")
    target.chmod(0o400)
    with pytest.raises(files.UnsafePath) as caught:
        files.atomic_write(target, "new")
    assert caught.value.filename == str(target)
    assert caught.value.strerror == "is read-only; not replacing it"
    assert target.read_text() == "mine"
    assert mode(target) == 0o400
    assert os.listdir(home) == ["profiles.toml"]


def test_not_a_regular_file_is_refused(home):
    fifo = Path(home) / "tokens.toml"
    os.mkfifo(fifo)
    with pytest.raises(files.UnsafePath, match="is not a regular file"):
        files.atomic_write(fifo, "new")
    with pytest.raises(files.UnsafePath, match="is a directory"):
        files.atomic_write(Path(home), "new")
    assert os.listdir(home) == ["tokens.toml"]


def test_a_file_where_a_directory_should_be_is_named(home):
    (Path(home) / "state").write_text("")
    with pytest.raises(NotADirectoryError) as caught:
        files.atomic_write(Path(home) / "state" / "vss" / "tokens.toml", "x")
    assert caught.value.filename == str(Path(home) / "state")
    assert caught.value.strerror == f"{Path(home) / 'state'} is not a directory"


@pytest.mark.parametrize("step", ["fsync", "fchmod", "replace"])
def test_errors_name_the_target_never_the_temp_file(home, monkeypatch, step):
    """An OSError of a temp-file step (which names the temp file) names the user's path."""
    target = Path(home) / "profiles.toml"
    real = getattr(os, step)

    def failing(*args):
        name = args[0] if isinstance(args[0], str) else None
        raise OSError(5, "Input/output error", name or "/x/.profiles.toml.1.a.tmp", *args[1:])

    monkeypatch.setattr(os, step, failing)
    with pytest.raises(OSError) as caught:
        files.atomic_write(target, "new")
    monkeypatch.setattr(os, step, real)
    assert caught.value.filename == str(target)
    assert caught.value.filename2 is None
    assert ".tmp" not in str(caught.value)
    assert str(target) in str(caught.value)
    assert os.listdir(home) == []


@pytest.mark.parametrize("name", ["c" * 250, "é" * 127])
def test_long_names_still_get_a_temp_file(home, name):
    """The temp file's name must fit (255 bytes) even when the target's barely does."""
    target = Path(home) / name
    files.atomic_write(target, "x")
    files.atomic_write(target, "y")
    assert target.read_text() == "y"
    assert os.listdir(home) == [target.name]


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


def test_lock_file_symlink_is_refused(home):
    """A planted link at the lock file: nothing is created or truncated at its target."""
    target = Path(home) / "tokens.toml"
    victim = Path(home) / "victim"
    lock = files.lock_path(target)
    lock.symlink_to(victim)
    with pytest.raises(files.UnsafePath) as caught, files.locked(target):
        pass
    assert caught.value.filename == str(target)
    assert str(lock) in caught.value.strerror
    assert not victim.exists()


def test_lock_file_is_private_under_a_lax_umask(home):
    old = os.umask(0)
    try:
        with files.locked(Path(home) / "x.toml"):
            assert mode(Path(home) / "x.toml.lock") == 0o600
    finally:
        os.umask(old)


def dead_pid() -> int:
    """The pid of a process that has exited (and been reaped)."""
    import subprocess
    import sys

    child = subprocess.Popen([sys.executable, "-c", ""])
    child.wait()
    return child.pid


def test_stale_temp_files_are_removed_live_ones_kept(home):
    folder = Path(home)
    dead, live = dead_pid(), os.getppid()
    names = {
        "dead": f".f.txt.{dead}.0123456789ab.tmp",
        "own_leftover": f".f.txt.{os.getpid()}.0123456789ab.tmp",  # not in the registry
        "live": f".f.txt.{live}.0123456789ab.tmp",
        "legacy_old": ".f.txt.k3j_9zq1.tmp",  # mkstemp-era name, an hour old
        "legacy_new": ".f.txt.a8b7c6d5.tmp",  # could be a live old-version writer
        "other_target": f".g.txt.{dead}.0123456789ab.tmp",
        "not_ours": f".f.txt.{dead}.notours.tmp",
    }
    for name in names.values():
        (folder / name).write_text("secret")
    old = os.path.getmtime(folder / names["legacy_old"]) - 3600
    os.utime(folder / names["legacy_old"], (old, old))
    files.atomic_write(folder / "f.txt", "new")
    left = set(os.listdir(folder))
    assert left == {"f.txt"} | {names[k] for k in
                                ("live", "legacy_new", "other_target", "not_ours")}
