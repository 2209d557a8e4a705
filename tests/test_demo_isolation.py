"""Demo mode leaves the person's files exactly as they were.

``vss --demo`` (and ``--profile demo``, ``VSS_PROFILE=demo``) keeps profiles, the
token cache and history in a private throwaway folder (``$TMPDIR/vss-demo-PID-*``,
0700) removed at exit: HOME's tree (paths, modes, bytes) is identical after a run
that adds, edits and removes profiles, logs in and enrols.
"""

from __future__ import annotations

import os
import signal
import stat
import time
from pathlib import Path

import pytest

from batch_helpers import LiveVss, json_lines, run_vss, vss_env
from pty_helpers import Terminal, shell_env

EDITS = ("profile add x --endpoint https://example.org; profile set output json; "
         "profile set x timeout 5; profile default x; profile add y --endpoint "
         "https://y.example.org; profile rm y --yes; login; "
         "mfa mk EMAIL --no-verify --no-save-codes; whoami")


def snapshot(root: Path) -> dict[str, tuple[int, bytes | str | None]]:
    """Every path under ``root``: its mode, and its bytes (files) or target (links)."""
    found: dict[str, tuple[int, bytes | str | None]] = {}
    for folder, dirs, names in os.walk(root):
        for name in dirs + names:
            path = Path(folder, name)
            info = path.lstat()
            if stat.S_ISLNK(info.st_mode):
                content: bytes | str | None = os.readlink(path)
            elif stat.S_ISREG(info.st_mode):
                content = path.read_bytes()
            else:
                content = None
            found[str(path.relative_to(root))] = (info.st_mode, content)
    return found


@pytest.fixture
def home(tmp_path: Path) -> Path:
    """A HOME with a person's own profiles, token cache and history in XDG places."""
    home = tmp_path / "home"
    config = home / ".config" / "vss-shell"
    state = home / ".local" / "state" / "vss-shell"
    for folder in (config, state, home / ".cache"):
        folder.mkdir(parents=True, mode=0o700)
    (config / "profiles.toml").write_text(
        'default = "mine"\n\n[profiles.mine]\nendpoint = "https://vss.example.org"\n'
        'username = "me"\noutput = "table"\n')
    (state / "tokens.toml").write_text('[tokens."https://vss.example.org"]\nme = "a.b.c"\n')
    (state / "history").write_text("\n# 2026-01-01 00:00:00\n+mfa status\n")
    for path in (config / "profiles.toml", state / "tokens.toml", state / "history"):
        path.chmod(0o600)
    return home


@pytest.fixture
def tmpdir_(tmp_path: Path) -> Path:
    """The TMPDIR of the runs (outside HOME), to see the throwaway folder come and go."""
    folder = tmp_path / "tmp"
    folder.mkdir()
    return folder


def demo_env(home: Path, tmpdir_: Path, **extra: str | None) -> dict[str, str]:
    return vss_env(home, None, user=None, password=None, TMPDIR=str(tmpdir_),
                   XDG_CACHE_HOME=str(home / ".cache"), **extra)


@pytest.mark.parametrize(("args", "extra"), [
    (["--demo"], {}),
    (["--profile", "demo"], {}),
    ([], {"VSS_PROFILE": "demo"}),
    (["--demo"], {"VSS_SHELL_CONFIG": "{home}/elsewhere.toml",
                  "VSS_SHELL_HISTORY": "{home}/elsewhere.history"}),
])
def test_a_demo_run_leaves_home_unchanged(home: Path, tmpdir_: Path, tmp_path: Path,
                                          args: list[str], extra: dict[str, str]) -> None:
    before = snapshot(home)
    env = demo_env(home, tmpdir_, **{k: v.format(home=home) for k, v in extra.items()})
    r = run_vss(*args, "-c", EDITS, env=env, cwd=tmp_path)
    assert r.returncode == 0, str(r)
    who = json_lines(r.stdout)[-1]  # `profile set output json` took effect at once
    assert who["profile"] == "demo" and who["token"] == "valid"
    assert "Added profile x." in r.stderr and "x is now the default profile." in r.stderr
    assert snapshot(home) == before
    assert os.listdir(tmpdir_) == [], "the throwaway folder outlived the run"


def test_demo_refuses_options_that_name_files(home: Path, tmpdir_: Path,
                                              tmp_path: Path) -> None:
    for option in ("--config", "--history"):
        r = run_vss("--demo", option, str(home / "f"), "-c", "whoami",
                    env=demo_env(home, tmpdir_), cwd=tmp_path)
        assert r.returncode == 2, str(r)
        assert r.stderr == ("vss: demo mode keeps its files in a throwaway folder; "
                            f"leave out {option}\n"), str(r)


def test_the_demo_folder_is_private_and_removed_on_sigterm(home: Path, tmpdir_: Path,
                                                           tmp_path: Path) -> None:
    stale = tmpdir_ / "vss-demo-1073741823-deadbeef"  # a pid no process has
    stale.mkdir(mode=0o700)
    (stale / "profiles.toml").write_text("x = 1\n")
    other = tmpdir_ / "vss-demo-notapid-x"  # not our pattern: left alone
    other.mkdir()
    before = snapshot(home)
    with LiveVss("--demo", env=demo_env(home, tmpdir_), cwd=tmp_path) as live:
        live.send("profile set output json\nwhoami\n")
        assert live.read_line() == '{"ok":true}\n'  # JSON Lines from the edit on
        assert '"profile":"demo"' in live.read_line()
        [folder] = [p for p in tmpdir_.iterdir() if p.name.startswith(
            f"vss-demo-{live.proc.pid}-")]
        assert stat.S_IMODE(folder.stat().st_mode) == 0o700
        assert (folder / "profiles.toml").exists()  # the edit landed here
        assert not stale.exists(), "a dead run's folder is removed by the next run"
        live.proc.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + 10
        while live.proc.poll() is None and time.monotonic() < deadline:
            time.sleep(0.02)
        assert live.proc.poll() is not None
    assert sorted(os.listdir(tmpdir_)) == [other.name]
    assert snapshot(home) == before


def test_the_interactive_demo_keeps_history_out_of_home(home: Path, tmpdir_: Path,
                                                        tmp_path: Path) -> None:
    before = snapshot(home)
    env = shell_env(home, TMPDIR=str(tmpdir_), XDG_CACHE_HOME=str(home / ".cache"))
    term = Terminal(["--demo"], cwd=tmp_path, env=env)
    try:
        term.wait_for("vss (demo) >")
        term.line("profile set output json")
        term.wait_for("demo: output = json")
        [folder] = list(tmpdir_.iterdir())
        term.line("whoami")
        term.wait_for('"profile": "demo"')
        assert "whoami" in (folder / "history").read_text()
        term.key("ctrl-d")
        assert term.wait_exit() == 0
    finally:
        term.close()
    assert snapshot(home) == before
    assert os.listdir(tmpdir_) == []
