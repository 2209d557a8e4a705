"""A broken, hostile or protected profiles file never sends a command elsewhere.

Through the real ``vss`` executable (piped, no terminal): with a profiles file
that does not parse, every command that would reach a server fails with
``FILE:LINE: message`` (exit 2) and sends nothing, unless the endpoint is given
explicitly; commands that need no server still run; the file is never written.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from batch_helpers import Result, json_lines, profiles_file, run_vss, vss_env
from hostile import HostileServer
from vss_shell.emulator import Emulator

Run = Callable[..., Result]

#: The shipped default: what the old code fell back to with a broken file.
PRODUCTION = "cloud-api.eis.utoronto.ca"


@pytest.fixture
def vss(tmp_path: Path) -> Run:
    """``vss(*args, VAR=value...)`` with the demo account's name and password in the
    environment (as a script would have them), no VSS_ENDPOINT."""

    def run(*args: str, input: str | None = None, **changes: str | None) -> Result:
        env = vss_env(tmp_path, None, **changes)
        return run_vss(*args, env=env, cwd=tmp_path, input=input)

    return run


def write_profiles(tmp_path: Path, text: str | bytes) -> Path:
    path = profiles_file(tmp_path)
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text)
    return path


def good_file(emulator: Emulator) -> str:
    return (f'default = "work"\n\n[profiles.work]\nendpoint = "{emulator.url}"\n'
            'username = "demo"\n')


#: One bad value each (the line it is on, and words of the message), in an otherwise
#: good file whose default profile points at the emulator.
BROKEN: dict[str, tuple[Callable[[str], str], int, str]] = {
    "timeout abc": (lambda t: t + 'timeout = "abc"\n', 6, "timeout must be a number"),
    "timeout 1e300": (lambda t: t + "timeout = 1e300\n", 6, "at most 600 seconds"),
    "remote http": (lambda t: t + '\n[profiles.lab]\nendpoint = "http://lab.example.org"\n', 8,
                    "plain http"),
    "default names none": (lambda t: t.replace('default = "work"', 'default = "wrok"'), 1,
                           "default = 'wrok' names no profile"),
    "toml syntax": (lambda t: t + "output = json\n", 6, "Invalid value"),
    "escape in a value": (lambda t: t.replace('"demo"', '"demo\\u001b]0;pwn\\u0007"'), 5,
                          "without control characters"),
    "raw escape": (lambda t: t.replace('"demo"', '"demo\x1b[2J"'), 5, "Illegal character"),
    "deeply nested": (lambda t: t + "x = " + "[" * 50_000 + "\n", 6, "nested more than 16"),
    "secret": (lambda t: t + 'password = "hunter22"\n', 6, "looks like a secret"),
}


@pytest.mark.parametrize("kind", list(BROKEN))
def test_a_broken_file_sends_nothing_anywhere(vss: Run, tmp_path: Path, emulator: Emulator,
                                              kind: str) -> None:
    edit, line, words = BROKEN[kind]
    path = write_profiles(tmp_path, edit(good_file(emulator)))
    before = path.read_bytes()
    start = time.monotonic()
    r = vss("-c", "mfa status")  # the environment has the demo account's credentials
    assert time.monotonic() - start < 10
    assert r.returncode == 2, str(r)
    assert r.stderr.startswith(f"-c:1: {path}:{line}: "), str(r)
    assert words in r.stderr and len(r.stderr.splitlines()) == 1, str(r)
    assert "no request is sent until the file is fixed" in r.stderr
    assert "\x1b" not in r.output and "Traceback" not in r.output
    assert "hunter22" not in r.output and PRODUCTION not in r.output
    assert emulator.stats()["requests"] == {}, "a request went out"
    assert path.read_bytes() == before


@pytest.mark.parametrize("command", ["mfa status", "login", "mfa mk EMAIL --no-verify",
                                     "mfa rm --yes", "mfa verify 123456", "mfa token"])
def test_every_server_command_is_blocked(vss: Run, tmp_path: Path, emulator: Emulator,
                                         command: str) -> None:
    path = write_profiles(tmp_path, good_file(emulator) + 'timeout = "abc"\n')
    r = vss("-c", command, "--yes")
    assert r.returncode == 2, str(r)
    assert f"{path}:6: profile 'work': timeout must be a number" in r.stderr, str(r)
    assert emulator.stats()["requests"] == {}


def test_commands_that_need_no_server_still_run(vss: Run, tmp_path: Path,
                                                emulator: Emulator) -> None:
    path = write_profiles(tmp_path, good_file(emulator) + 'timeout = "abc"\n'
                          '\n[profiles.other]\nendpoint = "https://o.example.org"\n')
    r = vss("-c", "help; set output table; whoami; logout; profile show other; exit")
    assert r.returncode == 0, str(r)
    assert emulator.stats()["requests"] == {}
    # ls: every profile that parses listed; the broken one marked; the file said once.
    r = vss("-o", "json", "-c", "profile ls")
    assert r.returncode == 0, str(r)
    [rows] = json_lines(r.stdout)
    assert [(p["name"], p["endpoint"], p["active"], p["default"]) for p in rows] == [
        ("work", emulator.url, True, True), ("other", "https://o.example.org", False, False)]
    assert rows[0]["problem"].startswith("line 6: profile 'work': timeout must be a number")
    assert rows[1]["problem"] is None
    assert r.stderr.count(str(path)) == 1 and r.stderr.startswith(f"warning: {path}:6: ")
    # show: the broken profile as the file has it, the bad value flagged.
    r = vss("-o", "json", "-c", "profile show")
    [shown] = json_lines(r.stdout)
    by_key = {row["key"]: row for row in shown}
    assert by_key["timeout"]["value"] == "abc"
    assert by_key["timeout"]["source"].startswith("profile: invalid: timeout must be")
    assert by_key["endpoint"] == {"key": "endpoint", "value": emulator.url, "source": "profile"}


def test_profile_use_on_a_broken_file_is_blocked_too(vss: Run, tmp_path: Path,
                                                     emulator: Emulator) -> None:
    other = Emulator(log=None)
    other.start(host="127.0.0.1", port=0)
    try:
        write_profiles(tmp_path, good_file(emulator) + 'timeout = "abc"\n\n[profiles.other]\n'
                       f'endpoint = "{other.url}"\nusername = "demo"\n')
        r = vss("--keep-going", "-c", "profile use other; mfa status; profile use work")
        assert r.returncode == 2, str(r)
        lines = r.stderr.splitlines()
        assert "-c:2: " in lines[1] and "no request is sent" in lines[1], str(r)
        assert lines[2].startswith("-c:3: ") and "timeout must be a number" in lines[2]
        assert other.stats()["requests"] == {} and emulator.stats()["requests"] == {}
    finally:
        other.stop()


def test_an_explicit_endpoint_goes_where_it_says(vss: Run, tmp_path: Path,
                                                 emulator: Emulator) -> None:
    path = write_profiles(tmp_path, good_file(emulator).replace(emulator.url, "https://x.test")
                          + 'timeout = "abc"\n')
    for args, changes in ((["--endpoint", emulator.url], {}),
                          ([], {"VSS_ENDPOINT": emulator.url})):
        r = vss(*args, "-o", "json", "-c", "mfa status", **changes)
        assert r.returncode == 0, str(r)
        assert json_lines(r.stdout)[0]["enabled"] is False
        assert r.stderr.startswith(f"warning: {path}:6: "), str(r)


@pytest.mark.parametrize("how", ["VSS_PROFILE", "--profile"])
def test_a_missing_profile_is_refused(vss: Run, tmp_path: Path, emulator: Emulator,
                                      how: str) -> None:
    write_profiles(tmp_path, good_file(emulator))
    args, changes = (([], {"VSS_PROFILE": "nope"}) if how == "VSS_PROFILE"
                     else (["--profile", "nope"], {}))
    r = vss(*args, "-c", "mfa status", **changes)
    assert r.returncode == 2, str(r)
    assert "no profile named 'nope'" in r.stderr and len(r.stderr.splitlines()) == 1
    assert emulator.stats()["requests"] == {}


def test_an_unreadable_profiles_file_is_blocked(vss: Run, tmp_path: Path,
                                                emulator: Emulator) -> None:
    path = profiles_file(tmp_path)
    path.mkdir(parents=True)  # not a file (root reads a chmod 000 file anyway)
    r = vss("-c", "mfa status")
    assert r.returncode == 2, str(r)
    assert r.stderr.startswith(f"-c:1: {path}: cannot read it: Is a directory"), str(r)
    path.rmdir()
    write_profiles(tmp_path, b'default = "\xff"\n')
    r = vss("-c", "mfa status")
    assert r.returncode == 2 and f"{path}:1: not UTF-8 text" in r.stderr, str(r)
    assert emulator.stats()["requests"] == {}


def test_a_huge_profiles_file_is_refused_at_once(vss: Run, tmp_path: Path,
                                                 emulator: Emulator) -> None:
    path = write_profiles(tmp_path, "x" + ".x" * 200_000 + " = 1\n")
    r = vss("-c", "mfa status")
    assert r.returncode == 2 and f"{path}: larger than 256 KiB" in r.stderr, str(r)
    path.write_text("x" + ".x" * 100_000 + " = 1\n")  # tomllib is quadratic in such keys
    r = vss("-c", "mfa status")
    assert r.returncode == 2 and f"{path}:1: tables or arrays nested" in r.stderr, str(r)
    assert r.elapsed < 5, str(r)


# --- a file we may not write is refused, never replaced (needs files.atomic_write's check) --


def test_a_read_only_profiles_file_is_refused(vss: Run, tmp_path: Path,
                                              emulator: Emulator) -> None:
    path = write_profiles(tmp_path, good_file(emulator))
    path.chmod(0o400)
    before = path.read_bytes()
    r = vss("-c", "profile set work output json")
    assert r.returncode == 1, str(r)
    assert r.stderr.startswith(f"-c:1: cannot change the profiles: {path}: "), str(r)
    assert "read-only" in r.stderr and len(r.stderr.splitlines()) == 1, str(r)
    assert path.read_bytes() == before and (path.stat().st_mode & 0o777) == 0o400


def test_a_symlinked_profiles_file_is_refused(vss: Run, tmp_path: Path,
                                              emulator: Emulator) -> None:
    target = tmp_path / "dotfiles" / "profiles.toml"
    target.parent.mkdir()
    target.write_text(good_file(emulator))
    path = profiles_file(tmp_path)
    path.parent.mkdir(parents=True, mode=0o700)
    path.symlink_to(target)
    before = target.read_bytes()
    r = vss("-c", "profile set work output json")
    assert r.returncode == 1, str(r)
    assert f"cannot change the profiles: {path}: " in r.stderr, str(r)
    assert "symbolic link" in r.stderr and len(r.stderr.splitlines()) == 1, str(r)
    assert path.is_symlink() and target.read_bytes() == before
    # Reading through it is fine: the profiles are used.
    r = vss("-o", "json", "-c", "mfa status")
    assert r.returncode == 0 and json_lines(r.stdout)[0]["enabled"] is False, str(r)


def test_no_username_asked_before_the_block(vss: Run, tmp_path: Path,
                                            emulator: Emulator) -> None:
    """Without VSS_USER the block still comes first: nothing asked, exit 2. (Needs
    Session.credentials/bearer to check ``settings.blocked`` before asking.)"""
    path = write_profiles(tmp_path, good_file(emulator).replace('username = "demo"\n', "")
                          + 'timeout = "abc"\n')
    r = vss("-c", "mfa status", VSS_USER=None, VSS_USER_PASS=None)
    assert r.returncode == 2, str(r)
    assert r.stderr.startswith(f"-c:1: {path}:5: "), str(r)
    assert os.listdir(path.parent) == ["profiles.toml"]


def test_at_the_prompt_a_blocked_command_is_one_line_and_the_shell_goes_on(
        tmp_path: Path, emulator: Emulator) -> None:
    from pty_helpers import Terminal, shell_env

    path = write_profiles(tmp_path, good_file(emulator) + 'timeout = "abc"\n')
    env = shell_env(tmp_path, VSS_USER="demo", VSS_USER_PASS="demo-pass")
    term = Terminal([], cwd=tmp_path, env=env)
    try:
        screen = term.wait_for("vss (work) >")
        squeezed = "".join(screen.split())  # long lines wrap
        assert f"warning:{path}:6:profile'work':timeoutmustbeanumber" in squeezed, screen
        assert "profilework(noserver:theprofilesfileisbroken),demo" in squeezed, screen
        term.line("mfa status")
        screen = term.wait_for(lambda text: text.count("vss (work) >") == 2)
        errors = [row for row in term.rows() if row.startswith(f"error: {path}:6: ")]
        assert len(errors) == 1, screen  # the command's one line (wrapped, if long)
        assert "Traceback" not in screen
        term.line("set output json")
        term.wait_for("output = json")
        term.key("ctrl-d")
        assert term.wait_exit() == 0
    finally:
        term.close()
    assert emulator.stats()["requests"] == {}


# --- a named file that is missing, a link to nothing: not "no profiles yet" ----------------


@pytest.mark.parametrize("how", ["--config", "VSS_SHELL_CONFIG", "dangling link"])
def test_a_missing_or_dangling_profiles_file_sends_nothing(vss: Run, tmp_path: Path,
                                                           how: str) -> None:
    missing = tmp_path / "typo-profiles.toml"
    args: list[str] = []
    changes: dict[str, str] = {}
    if how == "--config":
        args = ["--config", str(missing)]
    elif how == "VSS_SHELL_CONFIG":
        changes["VSS_SHELL_CONFIG"] = str(missing)
    else:
        link = profiles_file(tmp_path)
        link.parent.mkdir(parents=True, mode=0o700)
        link.symlink_to(missing)
    with HostileServer() as proxy:  # as HTTPS_PROXY: a remote request would land here
        r = vss(*args, "-c", "mfa status", HTTPS_PROXY=proxy.url, VSS_USER_PASS="s3cret-pass",
                **changes)
        assert proxy.requests == [], "a request went to the shipped default endpoint"
    assert r.returncode == 2, str(r)
    assert "typo-profiles.toml" in r.stderr or "profiles.toml" in r.stderr, str(r)
    assert PRODUCTION not in r.output and "s3cret-pass" not in r.output


def test_a_named_missing_file_is_created_by_profile_add(vss: Run, tmp_path: Path,
                                                        emulator: Emulator) -> None:
    named = tmp_path / "new-profiles.toml"
    r = vss("--config", str(named), "-c",
            f"profile add lab --endpoint {emulator.url} --user demo; profile use lab; "
            "mfa status", VSS_USER_PASS="demo-pass")
    assert r.returncode == 0, str(r)
    assert named.exists() and "[profiles.lab]" in named.read_text()
