"""profiles: the profiles file, its schema, writes under a lock, and settings resolution."""

from __future__ import annotations

import multiprocessing
import os
import stat
import tomllib
from pathlib import Path

import pytest

from vss_shell import paths, shipped
from vss_shell.profiles import (
    PROFILE_KEYS,
    BadValue,
    Profile,
    ProfileError,
    ProfileStore,
    resolve,
)

USER_FILE = """\
# my profiles
default = "work"
theme = "dark"

[plugins]
enabled = ["a", "b"]

[profiles.work]
endpoint = "https://vss.example.org"
username = "jdoe"
timeout = 12
colour = "blue"

[profiles.work.notes]
text = "kept"
"""


def mode(path: Path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


@pytest.fixture
def store(home) -> ProfileStore:
    return ProfileStore().load()


@pytest.fixture
def user_file(home) -> Path:
    path = paths.profiles_path()
    path.parent.mkdir(parents=True)
    path.write_text(USER_FILE)
    return path


# --- first run and reading ---


def test_first_run_uses_shipped_profiles_and_writes_nothing(home, store):
    shipped_doc = tomllib.loads(shipped.read_text("profiles.toml"))
    assert store.names() == list(shipped_doc["profiles"]) == ["cloud-api", "vss-api", "demo"]
    assert store.default_name == "cloud-api"
    assert store.problem is None
    assert not store.exists
    cloud = store.get("cloud-api")
    assert cloud.endpoint == "https://cloud-api.eis.utoronto.ca"
    assert (cloud.timeout, cloud.verify_tls, cloud.output, cloud.token_cache) == (
        30.0,
        True,
        "table",
        True,
    )
    assert store.get("demo").username == "demo"
    assert not Path(home, ".config").exists()


def test_path_override_and_env(home, monkeypatch, tmp_path):
    assert ProfileStore().path == Path(home, ".config", "vss-shell", "profiles.toml")
    monkeypatch.setenv("VSS_SHELL_CONFIG", str(tmp_path / "env.toml"))
    assert ProfileStore().path == tmp_path / "env.toml"
    store = ProfileStore(paths.profiles_path(str(tmp_path / "opt.toml")))
    store.add("x", "https://x.example.org")
    assert (tmp_path / "opt.toml").exists()
    assert not (tmp_path / "env.toml").exists()


def test_user_file_is_read(user_file):
    store = ProfileStore(user_file).load()
    assert store.names() == ["work"]
    assert store.default_name == "work"
    work = store.get("work")
    assert work.timeout == 12.0
    assert isinstance(work.timeout, float)
    assert work.extra == {"colour": "blue", "notes": {"text": "kept"}}
    assert work.explicit == {"endpoint", "username", "timeout"}


def test_get_unknown_suggests(store):
    with pytest.raises(ProfileError, match="did you mean 'cloud-api'"):
        store.get("cloud-ap")
    with pytest.raises(ProfileError, match=r"no profile named 'zzz'$"):
        store.get("zzz")


# --- writes ---


def test_first_write_saves_shipped_plus_change(home, store):
    store.add("lab", "https://lab.example.org", username="me", timeout="5", verify_tls="no")
    path = paths.profiles_path()
    assert mode(path) == 0o600
    assert mode(path.parent) == 0o700
    doc = tomllib.loads(path.read_text())
    assert list(doc["profiles"]) == ["cloud-api", "vss-api", "demo", "lab"]
    assert doc["default"] == "cloud-api"
    assert doc["profiles"]["lab"] == {
        "endpoint": "https://lab.example.org",
        "username": "me",
        "timeout": 5.0,
        "verify_tls": False,
    }
    again = ProfileStore(path).load()
    assert again.get("lab") == store.get("lab")
    assert again.get("lab").verify_tls is False


def test_add_existing_is_refused(store):
    with pytest.raises(ProfileError, match="already exists"):
        store.add("demo", "https://x.example.org")


@pytest.mark.parametrize("name", ["", "a b", "x/y", "é", "a" * 65])
def test_bad_profile_names(store, name):
    with pytest.raises(ProfileError, match="invalid profile name"):
        store.add(name, "https://x.example.org")


def test_good_profile_names(store):
    store.add("A-b_c.9", "https://x.example.org")
    store.add("a" * 64, "https://x.example.org")
    assert {"A-b_c.9", "a" * 64} <= set(ProfileStore(store.path).load().names())


def test_set_parses_values(store):
    assert store.set("demo", "timeout", "30").timeout == 30.0
    assert store.set("demo", "verify_tls", "false").verify_tls is False
    assert store.set("demo", "token_cache", "OFF").token_cache is False
    assert store.set("demo", "output", "JSON").output == "json"
    assert store.set("demo", "mfa_method", "authenticator").mfa_method == "AUTHENTICATOR"
    assert store.set("demo", "username", "someone").username == "someone"
    assert store.set("demo", "endpoint", "http://127.0.0.1:8080/").endpoint == (
        "http://127.0.0.1:8080"
    )
    assert store.set("cloud-api", "endpoint", "vss.example.org").endpoint == (
        "https://vss.example.org"
    )
    table = tomllib.loads(store.path.read_text())["profiles"]["demo"]
    assert table == {
        "endpoint": "http://127.0.0.1:8080",
        "username": "someone",
        "timeout": 30.0,
        "verify_tls": False,
        "token_cache": False,
        "output": "json",
        "mfa_method": "AUTHENTICATOR",
    }


@pytest.mark.parametrize(
    ("key", "value", "message"),
    [
        ("timeout", "soon", "number of seconds"),
        ("timeout", "0", "more than 0 and at most 600 seconds, not 0"),
        ("timeout", "-1", "more than 0 and at most 600 seconds, not -1"),
        ("timeout", "nan", "more than 0 and at most 600 seconds, not nan"),
        ("timeout", "inf", "at most 600 seconds, not inf"),
        ("timeout", "-inf", "at most 600 seconds, not -inf"),
        ("timeout", "1e300", "at most 600 seconds, not 1e\\+300"),
        ("timeout", "600.5", "at most 600 seconds, not 600.5"),
        ("username", "a\x1b]0;title\x07", "without control characters"),
        ("username", "a\x9bb", "without control characters"),
        ("endpoint", "https://a\x1b[2J.example.org", "control characters"),
        ("endpoint", "https://a b.example.org", "spaces"),
        ("verify_tls", "maybe", "true or false"),
        ("output", "yaml", "one of table, json"),
        ("mfa_method", "PIGEON", "one of EMAIL, AUTHENTICATOR, SMS"),
        ("ca_bundle", "/no/such/ca.pem", "no such file"),
        ("endpoint", "ftp://x.example.org", "not an https:// URL"),
        ("endpoint", "https://u:p@x.example.org", "user name or password"),
        ("endpoint", "https://x.example.org:99999", "not a valid URL"),
        ("colour", "blue", "unknown profile setting 'colour'"),
        ("timout", "3", "did you mean 'timeout'"),
    ],
)
def test_set_refuses_bad_values(store, key, value, message):
    with pytest.raises(BadValue, match=message):
        store.set("demo", key, value)
    assert not store.path.exists()


def test_set_unknown_profile(store):
    with pytest.raises(ProfileError, match="did you mean 'demo'"):
        store.set("dem", "timeout", "3")


def test_unset(store):
    store.set("demo", "timeout", "9")
    assert store.set("demo", "timeout", "").timeout == 30.0
    assert store.unset("demo", "username").username is None
    table = tomllib.loads(store.path.read_text())["profiles"]["demo"]
    assert table == {"endpoint": "http://127.0.0.1"}
    with pytest.raises(ProfileError, match="required"):
        store.set("demo", "endpoint", "")
    with pytest.raises(ProfileError, match="required"):
        store.unset("demo", "endpoint")


def test_ca_bundle_and_verify_tls_false_contradict(store, tmp_path):
    bundle = tmp_path / "ca.pem"
    bundle.write_text("pem")
    assert store.set("demo", "ca_bundle", str(bundle)).ca_bundle == str(bundle)
    with pytest.raises(ProfileError, match="contradict"):
        store.set("demo", "verify_tls", "false")
    assert store.get("demo").verify_tls is True
    assert "verify_tls" not in tomllib.loads(store.path.read_text())["profiles"]["demo"]


def test_remove(store):
    store.remove("vss-api")
    assert "vss-api" not in store.names()
    assert "vss-api" not in ProfileStore(store.path).load().names()
    with pytest.raises(ProfileError, match="choose another default first"):
        store.remove("cloud-api")
    with pytest.raises(ProfileError, match="active profile"):
        store.remove("demo", active="demo")
    with pytest.raises(ProfileError, match="no profile named"):
        store.remove("vss-api")
    assert ProfileStore(store.path).load().names() == ["cloud-api", "demo"]


def test_set_default(store):
    store.set_default("demo")
    assert store.default_name == "demo"
    assert ProfileStore(store.path).load().default_name == "demo"
    store.remove("cloud-api")
    assert store.names() == ["vss-api", "demo"]
    with pytest.raises(ProfileError, match="no profile named"):
        store.set_default("cloud-api")


# --- schema: http, secrets ---


@pytest.mark.parametrize(
    "endpoint",
    ["http://127.0.0.1", "http://127.8.9.10:5000", "http://[::1]:8080", "http://localhost:1"],
)
def test_http_allowed_for_loopback(store, endpoint):
    assert store.add("loop", endpoint).endpoint == endpoint


@pytest.mark.parametrize(
    "endpoint",
    ["http://vss.example.org", "http://10.0.0.1", "http://128.0.0.1", "http://[::2]"],
)
def test_http_refused_elsewhere(store, endpoint):
    with pytest.raises(ProfileError, match="plain http; use https"):
        store.add("remote", endpoint)
    assert not store.path.exists()


@pytest.mark.parametrize(
    "key", ["password", "user_password", "api_token", "otp", "totp", "secret", "recovery_codes"]
)
def test_secret_keys_refused(store, key):
    with pytest.raises(ProfileError, match="looks like a secret"):
        store.set("demo", key, "x")
    with pytest.raises(ProfileError, match="looks like a secret"):
        store.add("new", "https://x.example.org", **{key: "x"})
    assert not store.path.exists()


@pytest.mark.parametrize(
    ("text", "line"),
    [
        ('password = "hunter2"\n', 16),  # in [profiles.work.notes]
        ('[profiles.work.auth]\napi_token = "x"\n', 17),
        ('[plugins.x]\ny.passwd = "x"\n', 17),
    ],
)
def test_secret_keys_in_file_are_a_problem(user_file, text, line):
    user_file.write_text(USER_FILE + text)
    store = ProfileStore(user_file).load()
    assert store.problem.startswith(f"{user_file}:{line}: "), store.problem
    assert "looks like a secret" in store.problem
    assert "hunter2" not in store.problem
    # Never the shipped profiles instead: what parses on its own, or nothing.
    assert store.names() in (["work"], [])
    assert resolve(store, env={}).blocked


# --- round trip ---


def test_round_trip_keeps_unknown_keys_and_stable_bytes(user_file):
    store = ProfileStore(user_file).load()
    store.set("work", "output", "json")
    first = user_file.read_bytes()
    doc = tomllib.loads(first.decode())
    assert doc["theme"] == "dark"
    assert doc["plugins"] == {"enabled": ["a", "b"]}
    assert doc["profiles"]["work"]["colour"] == "blue"
    assert doc["profiles"]["work"]["notes"] == {"text": "kept"}
    assert doc["profiles"]["work"]["timeout"] == 12
    assert doc["profiles"]["work"]["output"] == "json"
    store.set("work", "output", "json")
    assert user_file.read_bytes() == first
    ProfileStore(user_file).load().set("work", "output", "json")
    assert user_file.read_bytes() == first


# --- a broken file is never overwritten, nor replaced by the shipped profiles ---


@pytest.mark.parametrize(
    ("text", "line", "words", "usable"),
    [
        (USER_FILE.replace('username = "jdoe"', "username = jdoe"), 10, "Invalid value", []),
        (USER_FILE.replace('endpoint = "https://vss.example.org"', "endpoint = 5"), 9,
         "profile 'work': endpoint must be a URL", []),
        (USER_FILE.replace('"https://vss.example.org"', '"http://vss.example.org"'), 9,
         "plain http", []),
        (USER_FILE.replace("timeout = 12", 'timeout = "abc"'), 11,
         "profile 'work': timeout must be a number", []),
        (USER_FILE.replace("timeout = 12", "timeout = -3"), 11, "more than 0", []),
        (USER_FILE.replace("timeout = 12", "timeout = 1e300"), 11, "at most 600", []),
        (USER_FILE.replace('default = "work"', 'default = "home"'), 2,
         "default = 'home' names no profile", ["work"]),
        (USER_FILE + '\n[profiles.other]\nendpoint = "https://o.example"\noutput = "xml"\n',
         19, "profile 'other': output must be one of", ["work"]),
        (USER_FILE.replace('username = "jdoe"', 'username = "\\u001b]0;x\\u0007"'), 10,
         "username must be a non-empty string without control characters", []),
        (USER_FILE.replace('username = "jdoe"', 'username = "\x1b[2J"'), 10,
         "Illegal character '\\x1b'", []),
        ('x = ' + '[' * 100_000 + '\n', 1, "nested more than 16 levels deep", []),
        ('x = ' + '{ a = ' * 5_000 + '\n', 1, "nested more than 16 levels deep", []),
        ('x' + '.x' * 100_000 + ' = 1\n', 1, "nested more than 16 levels deep", []),
        ('[x' + '.x' * 100_000 + ']\n', 1, "nested more than 16 levels deep", []),
        ('[a]\nb = 1\nc = ' + '[' * 20 + ']' * 20 + '\n', 3, "nested more than 16 levels", []),
        ('[profiles.a]\nendpoint = "https://a.example"\ntimeout = ' + '9' * 5000 + '\n', None,
         "cannot read it", []),
        ("default = [\n", 2, "(at end of document)", []),
    ],
)
def test_broken_file_is_reported_and_never_overwritten(user_file, text, line, words, usable):
    user_file.write_text(text)
    before = user_file.read_bytes()
    store = ProfileStore(user_file).load()
    where = f"{user_file}:{line}: " if line else f"{user_file}: "
    assert store.problem.startswith(where), store.problem
    assert words in store.problem
    assert "\n" not in store.problem and "\x1b" not in store.problem
    assert store.names() == usable  # never the shipped profiles in its place
    settings = resolve(store, env={})
    assert settings.blocked and settings.blocked.startswith(store.problem_for(settings.name))
    assert settings.endpoint != "https://cloud-api.eis.utoronto.ca"
    assert not settings.token_cache
    attempts = [
        lambda: store.add("new", "https://x.example.org"),
        lambda: store.set("work", "timeout", "3"),
        lambda: store.unset("work", "username"),
        lambda: store.set_default("work"),
        lambda: store.remove("work"),
    ]
    for attempt in attempts:
        with pytest.raises(ProfileError):
            attempt()
    assert user_file.read_bytes() == before
    # No temporary file is left behind (the lock file may stay, as after any write).
    assert sorted(set(os.listdir(user_file.parent)) - {"profiles.toml.lock"}) == ["profiles.toml"]


def test_writes_to_a_broken_file_say_why(user_file):
    user_file.write_text(USER_FILE.replace("timeout = 12", 'timeout = "abc"'))
    store = ProfileStore(user_file).load()
    with pytest.raises(ProfileError, match=rf"^{user_file}:11: profile 'work': timeout .*"
                                           "not changing the file until it is fixed"):
        store.add("new", "https://x.example.org")


def test_an_explicit_endpoint_is_not_blocked(user_file):
    """The person named the server: the file's problem is a warning, not a block; the
    profile's own values are used only when it parses on its own."""
    user_file.write_text(USER_FILE + '\n[profiles.bad]\nendpoint = "https://b.example"\n'
                                     'timeout = "x"\n')
    store = ProfileStore(user_file).load()
    for options, env in (({"endpoint": "https://e.example"}, {}),
                         ({}, {"VSS_ENDPOINT": "https://e.example"})):
        settings = resolve(store, options=options, env=env)
        assert settings.blocked is None and settings.endpoint == "https://e.example"
        assert (settings.name, settings.username, settings.timeout) == ("work", "jdoe", 12.0)
        bad = resolve(store, profile="bad", options=options, env=env)
        assert bad.blocked is None and bad.timeout == 30.0
    blocked = resolve(store, env={})
    assert blocked.blocked.startswith(f"{user_file}:19: profile 'bad': timeout")
    assert blocked.endpoint == "https://vss.example.org"  # shown; never reached
    assert resolve(store, profile="bad", env={}).blocked.startswith(f"{user_file}:19:")


@pytest.mark.parametrize("how", ["VSS_PROFILE", "option"])
def test_a_missing_profile_with_a_broken_file_is_blocked_not_an_error(user_file, how):
    user_file.write_text("default = [\n")
    store = ProfileStore(user_file).load()
    env = {"VSS_PROFILE": "work"} if how == "VSS_PROFILE" else {}
    options = {"profile": "work"} if how == "option" else {}
    settings = resolve(store, options=options, env=env)
    assert settings.name == "work" and settings.blocked.startswith(f"{user_file}:2: ")
    with pytest.raises(ProfileError, match="no profile named 'nope'"):  # a sound file: error
        resolve(ProfileStore(user_file.with_name("none.toml")).load(), profile="nope", env={})


def test_a_profiles_file_that_is_no_file(home):
    path = paths.profiles_path()
    path.mkdir(parents=True)  # a folder (root reads any file, so not chmod 000)
    store = ProfileStore(path).load()
    assert store.problem == f"{path}: cannot read it: Is a directory"
    assert resolve(store, env={}).blocked
    fifo = path.parent / "fifo.toml"
    os.mkfifo(fifo)
    assert "regular file" in ProfileStore(fifo).load().problem  # and it did not block
    big = path.parent / "big.toml"
    big.write_text("# " + "x" * 300_000 + "\n")
    assert "larger than 256 KiB" in ProfileStore(big).load().problem
    latin = path.parent / "latin.toml"
    latin.write_bytes(b'# ok\ndefault = "\xff"\n')
    assert ProfileStore(latin).load().problem == f"{latin}:2: not UTF-8 text"


def test_file_broken_after_load_is_not_overwritten(user_file):
    store = ProfileStore(user_file).load()
    assert store.problem is None
    user_file.write_text("default = [\n")
    with pytest.raises(ProfileError, match=r":2: Invalid value.*not changing"):
        store.add("new", "https://x.example.org")
    assert user_file.read_text() == "default = [\n"
    assert store.problem is not None


def test_shipped_profiles_are_valid():
    store = ProfileStore(Path("/nonexistent/profiles.toml")).load()
    assert store.problem is None
    for name in store.names():
        assert isinstance(store.get(name), Profile)


# --- concurrency ---


def _adder(path: str, tag: str, count: int, barrier) -> None:
    store = ProfileStore(path).load()
    barrier.wait()
    for i in range(count):
        store.add(f"{tag}-{i}", f"https://{tag}-{i}.example.org")


def test_two_processes_adding_at_once_keep_every_change(home):
    path = str(paths.profiles_path())
    context = multiprocessing.get_context("fork")
    barrier = context.Barrier(2)
    workers = [context.Process(target=_adder, args=(path, tag, 20, barrier)) for tag in ("p", "q")]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=60)
        assert worker.exitcode == 0
    names = set(ProfileStore(path).load().names())
    expected = {f"{tag}-{i}" for tag in ("p", "q") for i in range(20)}
    assert expected <= names
    assert names - expected == {"cloud-api", "vss-api", "demo"}


# --- PROFILE_KEYS ---


def test_profile_keys_table():
    assert list(PROFILE_KEYS) == [
        "endpoint",
        "username",
        "timeout",
        "verify_tls",
        "ca_bundle",
        "output",
        "mfa_method",
        "token_cache",
    ]
    assert PROFILE_KEYS["output"].choices == ("table", "json")
    assert PROFILE_KEYS["mfa_method"].choices == ("EMAIL", "AUTHENTICATOR", "SMS")
    assert PROFILE_KEYS["timeout"].parse("30") == 30.0
    assert PROFILE_KEYS["verify_tls"].parse("false") is False
    assert all(spec.help for spec in PROFILE_KEYS.values())
    assert set(PROFILE_KEYS) <= set(Profile.FIELDS)


# --- resolution ---


def test_resolve_defaults_and_profile(store):
    settings = resolve(store, options={}, env={})
    assert settings.name == settings.profile == "cloud-api"
    assert settings.endpoint == "https://cloud-api.eis.utoronto.ca"
    assert settings.timeout == 30.0
    assert settings.verify is True
    assert settings.sources["profile"] == "default"
    assert settings.sources["endpoint"] == "profile cloud-api"
    assert settings.sources["timeout"] == "default"
    assert settings.sources["username"] == "default"


def test_resolve_profile_choice_precedence(store):
    env = {"VSS_PROFILE": "vss-api"}
    assert resolve(store, options={}, env=env).profile == "vss-api"
    assert resolve(store, options={}, env=env).sources["profile"] == "env VSS_PROFILE"
    chosen = resolve(store, options={"profile": "demo"}, env=env)
    assert (chosen.profile, chosen.sources["profile"]) == ("demo", "option")
    selected = resolve(store, profile="cloud-api", options={"profile": "demo"}, env=env)
    assert (selected.profile, selected.sources["profile"]) == ("cloud-api", "selected")
    with pytest.raises(ProfileError, match=r"did you mean 'demo'.*VSS_PROFILE"):
        resolve(store, options={}, env={"VSS_PROFILE": "dem"})


def test_resolve_value_precedence(store):
    store.set("demo", "timeout", "7")
    store.set("demo", "output", "json")
    env = {"VSS_ENDPOINT": "https://env.example.org", "VSS_USER": "envuser"}
    s = resolve(store, options={"profile": "demo", "timeout": None}, env=env)
    assert (s.endpoint, s.sources["endpoint"]) == ("https://env.example.org", "env VSS_ENDPOINT")
    assert (s.username, s.sources["username"]) == ("envuser", "env VSS_USER")
    assert (s.timeout, s.sources["timeout"]) == (7.0, "profile demo")
    assert (s.output, s.sources["output"]) == ("json", "profile demo")
    assert (s.token_cache, s.sources["token_cache"]) == (True, "default")
    options = {
        "profile": "demo",
        "endpoint": "https://opt.example.org",
        "username": "optuser",
        "timeout": 3,
        "output": "table",
        "verify_tls": False,
        "token_cache": False,
    }
    s = resolve(store, options=options, env=env)
    assert (s.endpoint, s.username, s.timeout, s.output) == (
        "https://opt.example.org",
        "optuser",
        3.0,
        "table",
    )
    assert s.verify is False
    assert s.token_cache is False
    assert {s.sources[k] for k in options if k != "profile"} == {"option"}


def test_resolve_checks_option_and_env_values(store):
    with pytest.raises(ProfileError, match=r"VSS_ENDPOINT: .*plain http"):
        resolve(store, options={}, env={"VSS_ENDPOINT": "http://vss.example.org"})
    for bad in (0, -1, float("inf"), float("nan"), 1e300, 601):
        with pytest.raises(BadValue, match=r"option --timeout: timeout must be more than 0 "
                                            r"and at most 600 seconds"):
            resolve(store, options={"timeout": bad}, env={})
    assert resolve(store, options={"timeout": 600}, env={}).timeout == 600.0
    assert resolve(store, options={}, env={"VSS_ENDPOINT": ""}).sources["endpoint"] == (
        "profile cloud-api"
    )


def test_resolve_ca_bundle(store, home, tmp_path):
    bundle = Path(home) / "ca.pem"
    bundle.write_text("pem")
    store.set("demo", "ca_bundle", "~/ca.pem")
    s = resolve(store, options={"profile": "demo"}, env={})
    assert s.ca_bundle == str(bundle)
    assert s.verify == str(bundle)
    assert s.sources["ca_bundle"] == "profile demo"


def test_a_ca_bundle_option_turns_verification_back_on(store, home):
    bundle = Path(home) / "ca.pem"
    bundle.write_text("pem")
    store.set("demo", "verify_tls", "false")
    assert resolve(store, options={"profile": "demo"}, env={}).verify is False
    s = resolve(store, options={"profile": "demo", "ca_bundle": str(bundle)}, env={})
    assert s.verify == str(bundle) and s.sources["verify_tls"] == "option"
    # --insecure stays explicit: the person said both, off wins as they asked.
    s = resolve(store, options={"profile": "demo", "ca_bundle": str(bundle),
                                "verify_tls": False}, env={})
    assert s.verify is False


def test_file_fixed_after_load_takes_writes_again(user_file):
    user_file.write_text("default = [\n")
    store = ProfileStore(user_file).load()
    assert store.problem is not None
    with pytest.raises(ProfileError, match="not changing the file until it is fixed"):
        store.add("new", "https://x.example.org")
    user_file.write_text(USER_FILE)  # the person fixes it, the shell still runs
    store.add("new", "https://x.example.org")
    assert store.problem is None
    assert set(ProfileStore(user_file).load().names()) >= {"work", "new"}


# --- start-up cost ---


def test_reading_profiles_imports_nothing_heavy(user_file, tmp_path):
    """On the way to the first prompt: no tomli_w, difflib, json, subprocess, tempfile
    (tempfile: once files.py no longer imports it)."""
    import subprocess
    import sys

    broken = tmp_path / "broken.toml"
    broken.write_text(USER_FILE.replace("timeout = 12", 'timeout = "x"'))
    code = (
        "import sys\n"
        "from vss_shell import cli, context, paths, shipped\n"
        "from vss_shell.profiles import ProfileStore, resolve\n"
        f"for path in ({str(user_file)!r}, {str(broken)!r}):\n"
        "    resolve(ProfileStore(path).load(), env={})\n"
        "cli.build_parser()\n"
        "heavy = ('tomli_w', 'difflib', 'json', 'subprocess', 'tempfile')\n"
        "print(' '.join(m for m in heavy if m in sys.modules))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=60, check=True)
    assert done.stdout.split() in ([], ["tempfile"]), done.stdout + done.stderr
