"""``profile`` commands and profile selection, through the real ``vss`` executable.

Runs are piped (``-c``), in a new session without a terminal, with a private
HOME; the profiles file is ``$XDG_CONFIG_HOME/vss-shell/profiles.toml``.
"""

from __future__ import annotations

import json
import stat
import tomllib
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pyotp
import pytest

from batch_helpers import LiveVss, Result, json_lines, profiles_file, run_vss, vss_env
from vss_shell.emulator import Emulator

SHIPPED = ["cloud-api", "vss-api", "demo"]
#: A loopback port nothing listens on (connections are refused at once).
DEAD = "http://127.0.0.1:9"

Run = Callable[..., Result]


@pytest.fixture
def vss(tmp_path: Path) -> Run:
    """``vss(*args, VAR=value...)``: no VSS_ENDPOINT/VSS_USER unless given; demo's password."""

    def run(*args: str, input: str | None = None, **changes: str | None) -> Result:
        env = vss_env(tmp_path, None, user=None, **changes)
        return run_vss(*args, env=env, cwd=tmp_path, input=input)

    return run


@pytest.fixture
def work(vss: Run, emulator: Emulator, tmp_path: Path) -> Path:
    """A profile 'work' for the emulator, user demo; returns the profiles file."""
    r = vss("-c", f"profile add work --endpoint {emulator.url} --user demo")
    assert r.returncode == 0, str(r)
    return profiles_file(tmp_path)


def rows(result: Result) -> dict[str, dict[str, Any]]:
    """``profile show -o json`` as {key: row}."""
    assert result.returncode == 0, str(result)
    [doc] = json_lines(result.stdout)
    return {row["key"]: row for row in doc}


def listing(result: Result) -> list[dict[str, Any]]:
    assert result.returncode == 0, str(result)
    [doc] = json_lines(result.stdout)
    return doc


def files_under(directory: Path) -> list[Path]:
    return sorted(p for p in directory.rglob("*") if p.is_file()) if directory.exists() else []


# --- the first run ----------------------------------------------------------------------


def test_first_run_lists_shipped_profiles_and_writes_nothing(vss: Run, tmp_path: Path) -> None:
    r = vss("-c", "profile ls")
    assert r.returncode == 0, str(r)
    lines = r.stdout.splitlines()
    assert lines[0].split() == ["ACTIVE", "NAME", "ENDPOINT", "USER", "DEFAULT"]
    assert [line.split()[1] for line in lines[1:]] == SHIPPED, str(r)
    assert lines[1].split()[0] == "yes" and lines[1].endswith("yes")  # active and default
    assert [line.split()[0] for line in lines[2:]] == ["no", "no"]
    r = vss("-c", "profile ls -o json")
    profiles = listing(r)
    assert [p["name"] for p in profiles] == SHIPPED
    assert [p["default"] for p in profiles] == [True, False, False]
    assert [p["active"] for p in profiles] == [True, False, False]
    assert r.stderr == ""
    assert files_under(tmp_path / ".config") == []
    assert files_under(tmp_path / ".local") == []


# --- add, use, set, show, default, rm -----------------------------------------------------


def test_profile_add_creates_a_private_file(work: Path, emulator: Emulator) -> None:
    assert stat.S_IMODE(work.stat().st_mode) == 0o600
    assert stat.S_IMODE(work.parent.stat().st_mode) == 0o700
    doc = tomllib.loads(work.read_text())
    assert doc["profiles"]["work"] == {"endpoint": emulator.url, "username": "demo"}
    assert list(doc["profiles"]) == [*SHIPPED, "work"]
    assert doc["default"] == "cloud-api"
    assert "demo-pass" not in work.read_text()


def test_profile_add_reports_on_stderr_only(vss: Run, emulator: Emulator) -> None:
    r = vss("-c", f"profile add work --endpoint {emulator.url} --user demo")
    assert r.returncode == 0, str(r)
    assert r.stdout == "" and "work" in r.stderr


def test_profile_add_refuses_an_existing_name(vss: Run, work: Path, emulator: Emulator) -> None:
    before = work.read_bytes()
    r = vss("-c", f"profile add work --endpoint {emulator.url}")
    assert r.returncode == 1, str(r)
    assert r.stderr == ("-c:1: profile 'work' already exists; change it with "
                        "`profile set work KEY VALUE`\n"), str(r)
    assert work.read_bytes() == before
    r = vss("-c", f"profile add vss-api --endpoint {emulator.url}")  # a shipped one
    assert "`profile set vss-api KEY VALUE`" in r.stderr, str(r)


def test_profile_add_refuses_bad_names(vss: Run, tmp_path: Path) -> None:
    names = ["'bad name'", "x/y", "''", "a:b", "a" * 65]
    script = "".join(f"profile add {n} --endpoint https://x.example\n" for n in names)
    r = vss("--keep-going", input=script)
    assert r.returncode != 0, str(r)
    for number in range(1, len(names) + 1):
        assert f"<stdin>:{number}: invalid profile name" in r.stderr, str(r)
    assert not profiles_file(tmp_path).exists()


def test_profile_use_switches_the_session_only(vss: Run, work: Path,
                                               emulator: Emulator) -> None:
    before = work.read_bytes()
    r = vss("-c", "profile use work; whoami -o json; mfa status -o json")
    assert r.returncode == 0, str(r)
    who, status = json_lines(r.stdout)
    assert who["profile"] == "work" and who["endpoint"] == emulator.url
    assert who["user"] == "demo"
    assert status["enabled"] is False
    assert work.read_bytes() == before
    # The next run starts on the default profile again.
    assert rows(vss("-c", "profile show -o json"))["profile"]["value"] == "cloud-api"


def test_profile_use_unknown_fails(vss: Run, work: Path) -> None:
    r = vss("-c", "profile use wrok")
    assert r.returncode == 1, str(r)
    assert "no profile named 'wrok'" in r.stderr and "work" in r.stderr


def test_profile_set_and_show(vss: Run, work: Path) -> None:
    r = vss("-c", "profile set work timeout 5; profile show work -o json")
    shown = rows(r)
    assert shown["timeout"]["value"] == 5 and shown["timeout"]["source"] == "profile"
    assert shown["verify_tls"]["source"] == "default"
    assert tomllib.loads(work.read_text())["profiles"]["work"]["timeout"] == 5
    # The active profile's form: profile set KEY VALUE.
    r = vss("--profile", "work", "-c", "profile set timeout 7; profile show -o json")
    shown = rows(r)
    assert shown["timeout"]["value"] == 7 and shown["timeout"]["source"] == "profile work"


def test_profile_set_refuses_bad_values(vss: Run, work: Path) -> None:
    refused = [
        ("profile set work timeout soon", "timeout"),
        ("profile set work timeout 0", "timeout"),
        ("profile set work timeout inf", "at most 600 seconds, not inf"),
        ("profile set work timeout nan", "at most 600 seconds, not nan"),
        ("profile set work timeout 1e300", "at most 600 seconds, not 1e+300"),
        ("profile set work verify_tls maybe", "verify_tls"),
        ("profile set work output xml", "output"),
        ("profile set work password hunter22", "password"),
        ("profile set work api_token abc", "api_token"),
        ("profile set work colour red", "unknown profile setting 'colour'"),
        ("profile set work endpoint http://10.1.2.3", "http"),
        ("profile set work endpoint ''", "endpoint"),
        ("profile set nope timeout 5", "no profile named 'nope'"),
    ]
    before = work.read_bytes()
    r = vss("--keep-going", input="".join(f"{command}\n" for command, _ in refused))
    assert r.returncode == 2, str(r)
    errors = r.stderr.splitlines()
    assert len(errors) == len(refused), str(r)
    for number, ((_, message), error) in enumerate(zip(refused, errors, strict=True), 1):
        assert error.startswith(f"<stdin>:{number}: ") and message in error, error
    assert "hunter22" not in r.stderr
    assert work.read_bytes() == before
    # A bad value is a usage error (2); a profile that is not there, a failure (1).
    assert vss("-c", "profile set work timeout 1e300").returncode == 2
    assert vss("-c", "profile add t --endpoint https://t.example --timeout inf").returncode == 2
    assert vss("-c", "profile set nope timeout 5").returncode == 1
    assert work.read_bytes() == before


@pytest.mark.parametrize("value", ["1e300", "inf", "nan", "0", "-1", "600.001", "-inf"])
def test_bad_timeouts_are_usage_errors(vss: Run, emulator: Emulator, value: str) -> None:
    """--timeout: seconds in (0, 600]; anything else is one line, exit 2, no request."""
    r = vss("--endpoint", emulator.url, "--user", "demo", f"--timeout={value}",
            "-c", "mfa status")
    assert r.returncode == 2, str(r)
    assert r.stderr.startswith("vss: option --timeout: timeout must be more than 0 and at "
                               "most 600 seconds, not "), str(r)
    assert len(r.stderr.splitlines()) == 1 and r.stdout == ""
    assert emulator.stats()["requests"] == {}
    r = vss("--endpoint", emulator.url, "--user", "demo", "--timeout=600", "-c", "mfa status")
    assert r.returncode == 0, str(r)


def test_profile_default(vss: Run, work: Path, emulator: Emulator) -> None:
    r = vss("-c", "profile default work")
    assert r.returncode == 0, str(r)
    assert tomllib.loads(work.read_text())["default"] == "work"
    profiles = listing(vss("-c", "profile ls -o json"))
    assert [p["name"] for p in profiles if p["default"]] == ["work"]
    assert [p["name"] for p in profiles if p["active"]] == ["work"]
    shown = rows(vss("-c", "profile show -o json"))
    assert shown["profile"] == {"key": "profile", "value": "work", "source": "default"}
    # And it is used: no endpoint given, yet the emulator answers.
    r = vss("-c", "mfa status -o json")
    assert r.returncode == 0, str(r)
    assert json_lines(r.stdout)[0]["enabled"] is False


def test_profile_rm(vss: Run, work: Path) -> None:
    r = vss("-c", "profile rm work --yes")
    assert r.returncode == 0, str(r)
    assert "work" not in tomllib.loads(work.read_text())["profiles"]
    assert [p["name"] for p in listing(vss("-c", "profile ls -o json"))] == SHIPPED


def test_profile_rm_with_global_yes(vss: Run, work: Path) -> None:
    r = vss("-y", "-c", "profile rm work")
    assert r.returncode == 0, str(r)
    assert "work" not in tomllib.loads(work.read_text())["profiles"]


def test_profile_rm_without_yes_fails_fast(vss: Run, work: Path) -> None:
    before = work.read_bytes()
    r = vss("--keep-going", input="profile rm work\ny\n")
    assert r.elapsed < 10, str(r)
    assert "<stdin>:1: no terminal" in r.stderr and "--yes" in r.stderr, str(r)
    assert "<stdin>:2: unknown command 'y'" in r.stderr, "the answer came from the stream"
    assert work.read_bytes() == before
    r = vss("-c", "profile rm work")
    assert r.returncode == 1, str(r)


def test_profile_rm_refuses_the_default(vss: Run, work: Path) -> None:
    assert vss("-c", "profile default work").returncode == 0
    before = work.read_bytes()
    r = vss("--profile", "cloud-api", "-c", "profile rm work --yes")
    assert r.returncode == 1, str(r)
    assert "'work' is the default profile" in r.stderr, str(r)
    assert work.read_bytes() == before


def test_profile_rm_refuses_the_active(vss: Run, work: Path) -> None:
    before = work.read_bytes()
    for args in (["--profile", "work", "-c", "profile rm work --yes"],
                 ["-c", "profile use work; profile rm work --yes"]):
        r = vss(*args)
        assert r.returncode == 1, str(r)
        assert "'work' is the active profile" in r.stderr, str(r)
        assert work.read_bytes() == before


def test_profile_rm_refuses_before_asking(vss: Run, work: Path) -> None:
    """No 'Remove profile?' question (here: no '--yes' demanded) for what is refused anyway."""
    assert vss("-c", "profile default work").returncode == 0
    r = vss("--profile", "cloud-api", "-c", "profile rm work")
    assert r.returncode == 1, str(r)
    assert r.stderr.strip() == "-c:1: 'work' is the default profile; choose another default first"


def test_profile_rm_unknown(vss: Run, work: Path) -> None:
    r = vss("-c", "profile rm nope --yes")
    assert r.returncode == 1, str(r)
    assert "no profile named 'nope'" in r.stderr


# --- the MFA method learnt at enrolment --------------------------------------------------


def enrol_authenticator(tmp_path: Path, *args: str, **changes: str | None) -> list[Any]:
    """Enrol demo with an authenticator in one piped run; the JSON of each command."""
    env = vss_env(tmp_path, None, user=None, **changes)
    with LiveVss(*args, "-o", "json", env=env, cwd=tmp_path) as live:
        live.send("mfa mk AUTHENTICATOR --no-verify\n")
        key = json.loads(live.read_line())["key"]
        live.send(f"mfa verify {pyotp.TOTP(key).now()}\nprofile show\n")
        r = live.finish()
    assert r.returncode == 0, str(r)
    return json_lines(r.stdout)


def test_enrolment_keeps_the_method_in_the_profile_naming_the_account(
        vss: Run, work: Path, tmp_path: Path) -> None:
    enrol_authenticator(tmp_path, "--profile", "work")
    assert tomllib.loads(work.read_text())["profiles"]["work"]["mfa_method"] == "AUTHENTICATOR"
    shown = rows(vss("--profile", "work", "-c", "profile show -o json"))
    assert shown["mfa_method"] == {"key": "mfa_method", "value": "AUTHENTICATOR",
                                   "source": "profile work"}


def test_profile_show_right_after_enrolment_names_the_profile_as_source(
        work: Path, tmp_path: Path) -> None:
    *_, shown = enrol_authenticator(tmp_path, "--profile", "work")
    row = {r["key"]: r for r in shown}["mfa_method"]
    assert row["value"] == "AUTHENTICATOR"
    assert row["source"] == "profile work"


def test_enrolment_against_a_borrowed_endpoint_leaves_the_profiles_alone(
        tmp_path: Path, emulator: Emulator) -> None:
    enrol_authenticator(tmp_path, VSS_ENDPOINT=emulator.url, VSS_USER="demo")
    path = profiles_file(tmp_path)
    if path.exists():
        assert "mfa_method" not in tomllib.loads(path.read_text())["profiles"]["cloud-api"]


# --- choosing a profile, and where each value comes from --------------------------------


def test_profile_option_and_variable_select(vss: Run, work: Path, emulator: Emulator) -> None:
    shown = rows(vss("--profile", "work", "-c", "profile show -o json"))
    assert shown["profile"]["value"] == "work" and shown["profile"]["source"] == "option"
    shown = rows(vss("-c", "profile show -o json", VSS_PROFILE="work"))
    assert shown["profile"]["value"] == "work"
    assert shown["profile"]["source"] == "env VSS_PROFILE"
    shown = rows(vss("--profile", "work", "-c", "profile show -o json", VSS_PROFILE="demo"))
    assert shown["profile"]["value"] == "work" and shown["profile"]["source"] == "option"
    r = vss("-c", "mfa status -o json", VSS_PROFILE="work")
    assert r.returncode == 0, str(r)


def test_precedence_shown_by_profile_show(vss: Run, work: Path, emulator: Emulator) -> None:
    assert vss("-c", "profile set work timeout 5").returncode == 0
    r = vss("--profile", "work", "--timeout", "9", "-c", "profile show -o json",
            VSS_ENDPOINT="http://127.0.0.1:8443", VSS_USER="someone")
    shown = rows(r)
    assert shown["endpoint"] == {"key": "endpoint", "value": "http://127.0.0.1:8443",
                                 "source": "env VSS_ENDPOINT"}
    assert shown["username"]["value"] == "someone"
    assert shown["username"]["source"] == "env VSS_USER"
    assert shown["timeout"]["value"] == 9 and shown["timeout"]["source"] == "option"
    assert shown["output"] == {"key": "output", "value": "table", "source": "default"}
    r = vss("--profile", "work", "--endpoint", emulator.url, "--user", "demo",
            "-c", "profile show -o json", VSS_ENDPOINT=DEAD, VSS_USER="someone")
    shown = rows(r)
    assert shown["endpoint"]["value"] == emulator.url
    assert shown["endpoint"]["source"] == "option"
    assert shown["username"] == {"key": "username", "value": "demo", "source": "option"}
    r = vss("--profile", "work", "-c", "profile show -o json")
    shown = rows(r)
    assert shown["endpoint"]["source"] == "profile work"
    assert shown["timeout"] == {"key": "timeout", "value": 5, "source": "profile work"}


def test_precedence_decides_the_endpoint_used(vss: Run, work: Path, emulator: Emulator) -> None:
    assert vss("-c", f"profile set work endpoint {DEAD}").returncode == 0
    # env over profile
    r = vss("--profile", "work", "-c", "mfa status -o json", VSS_ENDPOINT=emulator.url)
    assert r.returncode == 0, str(r)
    # option over env
    r = vss("--profile", "work", "--endpoint", emulator.url, "-c", "mfa status -o json",
            VSS_ENDPOINT=DEAD)
    assert r.returncode == 0, str(r)
    # the profile alone: nothing listens there
    r = vss("--profile", "work", "--timeout", "3", "-c", "mfa status -o json")
    assert r.returncode == 1, str(r)
    assert r.stdout == ""


@pytest.mark.parametrize(
    ("args", "changes", "message"),
    [
        (["--profile", "nope"], {}, "no profile named 'nope' (from option)"),
        ([], {"VSS_PROFILE": "nope"}, "no profile named 'nope' (from env VSS_PROFILE)"),
        (["--profile", "cloud-ap"], {}, "cloud-api"),
    ],
)
def test_unknown_profile_is_a_usage_error(vss: Run, args: list[str],
                                          changes: dict[str, str], message: str) -> None:
    r = vss(*args, "-c", "profile ls", **changes)
    assert r.returncode == 2, str(r)
    assert message in r.stderr, str(r)
    assert r.stdout == ""


def test_config_option_names_another_file(vss: Run, tmp_path: Path, emulator: Emulator) -> None:
    other = tmp_path / "elsewhere" / "p.toml"
    r = vss("--config", str(other), "-c", f"profile add w2 --endpoint {emulator.url}")
    assert r.returncode == 0, str(r)
    assert "w2" in tomllib.loads(other.read_text())["profiles"]
    assert not profiles_file(tmp_path).exists()
    r = vss("-c", "profile ls -o json", VSS_SHELL_CONFIG=str(other))
    assert "w2" in [p["name"] for p in listing(r)]


# --- endpoints: https, or http on loopback only -----------------------------------------


def test_plain_http_to_a_remote_host_is_refused(vss: Run, tmp_path: Path) -> None:
    endpoints = ["http://example.com", "http://10.0.0.1:8080", "http://192.168.1.1",
                 "http://127.0.0.1.example.com", "ftp://example.com"]
    script = "".join(f"profile add bad{i} --endpoint {e}\n" for i, e in enumerate(endpoints))
    r = vss("--keep-going", input=script)
    assert r.returncode == 2, str(r)
    errors = r.stderr.splitlines()
    assert [e.split(": ")[0] for e in errors] == [
        f"<stdin>:{n}" for n in range(1, len(endpoints) + 1)], str(r)
    assert all("https" in e for e in errors), str(r)
    assert not profiles_file(tmp_path).exists()
    r = vss("-c", "profile add bad --endpoint http://example.com")
    assert r.returncode == 2, str(r)


def test_https_or_loopback_http_is_accepted(vss: Run, tmp_path: Path) -> None:
    endpoints = ["http://localhost:8080", "http://127.0.0.2:81", "http://[::1]:8080",
                 "https://vss.example.org"]
    r = vss("-c", "; ".join(f"profile add ok{i} --endpoint {e}"
                            for i, e in enumerate(endpoints)))
    assert r.returncode == 0, str(r)
    profiles = tomllib.loads(profiles_file(tmp_path).read_text())["profiles"]
    assert [profiles[f"ok{i}"] for i in range(len(endpoints))] == [
        {"endpoint": e} for e in endpoints]


# --- a corrupt profiles file ------------------------------------------------------------

CORRUPT = {
    "toml syntax": ('default = "a"\n[profiles.a\nendpoint = "https://a.example"\n', 2),
    "schema": ('default = "a"\n\n[profiles.a]\nendpoint = "https://a.example"\n'
               'timeout = "soon"\n', 5),
    "secret": ('default = "a"\n[profiles.a]\nendpoint = "https://a.example"\n'
               'password = "hunter22"\n', 4),
}


@pytest.mark.parametrize("kind", list(CORRUPT))
def test_corrupt_profiles_file(vss: Run, tmp_path: Path, emulator: Emulator,
                               kind: str) -> None:
    """An explicit endpoint still works (the problem is one warning); the file is
    never written. (Without an endpoint nothing is sent: test_profiles_trust.py.)"""
    text, line = CORRUPT[kind]
    path = profiles_file(tmp_path)
    path.parent.mkdir(parents=True, mode=0o700)
    path.write_text(text)
    path.chmod(0o600)
    before = path.read_bytes()

    r = vss("--endpoint", emulator.url, "--user", "demo",
            "-c", "mfa status -o json; whoami -o json")
    assert r.returncode == 0, str(r)
    status, who = json_lines(r.stdout)
    assert status["enabled"] is False and who["endpoint"] == emulator.url
    warnings = [w for w in r.stderr.splitlines() if w.startswith("warning:")]
    assert len(warnings) == 1, str(r)
    assert warnings[0].startswith(f"warning: {path}:{line}: "), str(r)
    assert "hunter22" not in r.output

    r = vss("-c", "profile add x --endpoint https://x.example")
    assert r.returncode == 1, str(r)
    assert r.stderr.startswith(f"-c:1: {path}:{line}: "), str(r)
    assert "not changing the file until it is fixed" in r.stderr
    assert path.read_bytes() == before
    assert files_under(path.parent) in ([path], [path, path.with_name(path.name + ".lock")])

    r = vss("--keep-going", input="profile default demo\nprofile set cloud-api timeout 3\n"
                                  "profile rm vss-api --yes\nprofile add y --endpoint "
                                  "https://y.example\n")
    assert r.returncode == 1, str(r)
    assert [e.split(": ")[0] for e in r.stderr.splitlines() if e.startswith("<stdin>")] == [
        "<stdin>:1", "<stdin>:2", "<stdin>:3", "<stdin>:4"], str(r)
    assert path.read_bytes() == before


def test_undecodable_profiles_file_is_a_warning_with_an_endpoint(
        vss: Run, tmp_path: Path, emulator: Emulator) -> None:
    path = profiles_file(tmp_path)
    path.parent.mkdir(parents=True, mode=0o700)
    path.write_bytes(b'default = "\xff"\n')
    r = vss("--endpoint", emulator.url, "--user", "demo", "-c", "mfa status -o json")
    assert r.returncode == 0, str(r)
    assert r.stderr == f"warning: {path}:1: not UTF-8 text\n", str(r)
    assert json.loads(r.stdout)["enabled"] is False


# --- options and variables keep their rank after the profile changes -------------------


def test_editing_the_active_profile_keeps_options_and_variables(
        vss: Run, emulator: Emulator) -> None:
    """Command-line option > environment > profile, before and after 'profile set'."""
    r = vss("-c", f"profile add dead --endpoint {DEAD} --user nobody; profile default dead")
    assert r.returncode == 0, str(r)
    for args, changes in ((["--endpoint", emulator.url, "--user", "demo"], {}),
                          ([], {"VSS_ENDPOINT": emulator.url, "VSS_USER": "demo"})):
        r = vss(*args, "-o", "json", "-c",
                "mfa status; profile set timeout 5; profile set output json; whoami; mfa status",
                **changes)
        assert r.returncode == 0, str(r)
        who = json_lines(r.stdout)[-2]
        assert (who["endpoint"], who["user"], who["profile"]) == (emulator.url, "demo", "dead")


def test_profile_use_keeps_options_and_variables(vss: Run, emulator: Emulator) -> None:
    r = vss("-c", f"profile add nouser --endpoint {emulator.url}")
    assert r.returncode == 0, str(r)
    for args, changes in ((["--user", "demo"], {}), ([], {"VSS_USER": "demo"})):
        r = vss(*args, "-o", "json", "-c", "profile use nouser; whoami; mfa status", **changes)
        assert r.returncode == 0, str(r)
        assert json_lines(r.stdout)[1]["user"] == "demo"
        where = "the command line" if args else "VSS_USER"
        assert f"({emulator.url}; username from {where}); logged out." \
            in r.stderr, str(r)


# --- an edit of the active profile applies at once, and says what it did ------------------

TOKEN_REQ = "POST /auth/request-token"


def test_set_output_stays_over_a_profile_that_says_nothing(vss: Run, work: Path,
                                                          emulator: Emulator) -> None:
    """`profile use` to a profile without an `output` key keeps `set output`; one with
    it applies its value."""
    r = vss("-c", f"profile add quiet --endpoint {emulator.url} --user demo; "
            f"profile add loud --endpoint {emulator.url} --user demo --output table; "
            "set output json; profile use quiet; set; profile use loud; set")
    assert r.returncode == 0, str(r)
    settings = [line for line in r.stdout.splitlines() if "output" in line]
    assert settings == ['{"output":"json","autosuggest":"on"}', "output       table"], str(r)


def test_a_profile_edit_changes_the_next_commands_output(vss: Run, work: Path) -> None:
    """-o on a command > the latest of `set output` and the profile's value."""
    r = vss("--profile", "work", "-c", "whoami; profile set output json; whoami; "
            "set output table; whoami; profile set output json; whoami; whoami -o table",
            VSS_USER_PASS="demo-pass")
    assert r.returncode == 0, str(r)
    blocks = r.stdout.split("\n\n")
    kinds = ["json" if line.startswith("{") else "table"
             for block in blocks for line in block.splitlines()[:1]]
    # table; {"ok"} + JSON whoami; table (set output); {"ok"} + JSON; table (-o table)
    assert r.stdout.startswith("profile ") and kinds[0] == "table", str(r)
    docs = [line for line in r.stdout.splitlines() if line.startswith("{")]
    assert len(docs) == 4 and docs[0] == docs[2] == '{"ok":true}', str(r)
    assert r.stdout.rstrip().endswith("token_expires  -"), "whoami -o table wins"
    assert r.stdout.count("profile        work") == 3, str(r)
    assert "work: output = json" in r.stderr and "logged out" not in r.stderr


def test_preferences_never_log_out_connection_changes_say_so(
        vss: Run, work: Path, emulator: Emulator) -> None:
    port = emulator.url.rsplit(":", 1)[1]
    r = vss("--profile", "work", "-c",
            "login; profile set timeout 5; profile set output table; "
            "profile set mfa_method AUTHENTICATOR; mfa status; profile set mfa_method ''; "
            f"profile set endpoint http://localhost:{port}; mfa status; "
            "profile set token_cache false; profile set timeout 600",
            VSS_USER_PASS="demo-pass")
    assert r.returncode == 0, str(r)
    said = [line for line in r.stderr.splitlines() if line.startswith("work: ")]
    assert said == [
        "work: timeout = 5", "work: output = table", "work: mfa_method = AUTHENTICATOR",
        "work: mfa_method unset",
        f"work: endpoint = http://localhost:{port}; logged out, the next command logs in again",
        "work: token_cache = false; logged out, the next command logs in again",
        "work: timeout = 600"], str(r)
    # One login for the first endpoint (timeout, output, method kept it), one for the new.
    assert emulator.stats()["requests"].get(TOKEN_REQ) == 2, emulator.stats()


def test_an_option_over_the_edited_key_is_said(vss: Run, work: Path, emulator: Emulator) -> None:
    r = vss("--profile", "work", "-o", "json", "-c", "profile set output table; whoami",
            VSS_USER_PASS="demo-pass")
    assert r.returncode == 0, str(r)
    assert "work: output = table (this session keeps output from the command line)" in r.stderr
    assert json_lines(r.stdout)[-1]["profile"] == "work"


def test_a_new_timeout_reaches_the_client_and_keeps_the_token(
        work: Path, emulator: Emulator, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import io

    from vss_shell.commands import table
    from vss_shell.context import Context
    from vss_shell.credentials import CredentialSources
    from vss_shell.dispatch import execute
    from vss_shell.profiles import ProfileStore, resolve
    from vss_shell.session import Session
    from vss_shell.ui import BatchUI

    store = ProfileStore(work).load()
    sources = CredentialSources({"VSS_USER_PASS": "demo-pass"})
    ui = BatchUI(stdout=io.StringIO(), stderr=io.StringIO())

    def session_for(name: str) -> Session:
        return Session(resolve(store, profile=name, options={"token_cache": False}, env={}),
                       sources)

    ctx = Context(table(), ui, session_for("work"), store, session_factory=session_for)
    execute(ctx, ["mfa", "status"])
    token, session = ctx.session.token, ctx.session
    assert token is not None and session.client.timeout == 30.0
    execute(ctx, ["profile", "set", "timeout", "7"])
    assert ctx.session is session and session.token is token  # not logged out
    assert session.client.timeout == 7.0  # a new client, with the new timeout
    execute(ctx, ["mfa", "status"])
    assert emulator.stats()["requests"].get(TOKEN_REQ) == 1
    execute(ctx, ["profile", "set", "verify_tls", "false"])
    assert ctx.session is not session and ctx.session.token is None
    ctx.session.close()


# --- piped results -------------------------------------------------------------------------


def test_piped_tables_are_set_apart_json_lines_are_not(vss: Run, work: Path) -> None:
    r = vss("--profile", "work", "-c", "profile ls; profile show; whoami")
    assert r.returncode == 0, str(r)
    blocks = r.stdout.split("\n\n")
    assert [b.splitlines()[0].split()[0] for b in blocks] == ["ACTIVE", "KEY", "profile"]
    assert not r.stdout.startswith("\n") and not r.stdout.endswith("\n\n")
    r = vss("--profile", "work", "-o", "json", "-c", "profile ls; profile show; whoami")
    assert r.returncode == 0, str(r)
    assert "\n\n" not in r.stdout and len(json_lines(r.stdout)) == 3
