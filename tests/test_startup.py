"""What start-up does and does not do: the collector held until the shell is ready,
no argparse for ``vss`` alone, regular expressions swapped for cheaper checks that
must say the same, and the per-request caches of the API client."""

from __future__ import annotations

import gc
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from conftest import ACCOUNTS
from vss_shell import batch, cli, repl, startup
from vss_shell.api.client import VssClient
from vss_shell.api.errors import scrub, secret_forms
from vss_shell.commands import table
from vss_shell.context import Context
from vss_shell.credentials import CredentialSources
from vss_shell.emulator import Emulator
from vss_shell.profiles import ProfileStore, _looks_secret, resolve
from vss_shell.safetext import has_control, json_escape_extra, visible
from vss_shell.session import Session
from vss_shell.ui import BatchUI

# -- the collector ----------------------------------------------------------------------


@pytest.fixture
def held() -> Iterator[None]:
    """The collector held as :func:`startup.main` holds it; restored afterwards."""
    was = gc.isenabled()
    gc.disable()
    startup._held = True
    try:
        yield
    finally:
        startup._held = False
        gc.unfreeze()  # the test process's objects: collectable again
        if was:
            gc.enable()


def test_main_holds_the_collector_until_ready(monkeypatch: pytest.MonkeyPatch) -> None:
    seen: list[bool] = []

    def fake_main() -> int:
        seen.append(gc.isenabled())
        startup.ready()
        seen.append(gc.isenabled())
        return 7

    monkeypatch.setattr(cli, "main", fake_main)
    try:
        assert startup.main() == 7
        assert seen == [False, True]
        assert gc.isenabled()
        assert gc.get_freeze_count() > 0  # what start-up made is left out of collections
    finally:
        gc.unfreeze()
        gc.enable()


def test_main_gives_the_collector_back_when_the_run_fails(
        monkeypatch: pytest.MonkeyPatch) -> None:
    def broken() -> int:
        raise RuntimeError("boom")

    monkeypatch.setattr(cli, "main", broken)
    try:
        with pytest.raises(RuntimeError):
            startup.main()
        assert gc.isenabled()
    finally:
        gc.unfreeze()
        gc.enable()


def test_ready_does_nothing_unless_held() -> None:
    gc.disable()  # held by someone else (not startup.main): not ours to give back
    try:
        startup.ready()
        assert not gc.isenabled()
        assert gc.get_freeze_count() == 0
    finally:
        gc.enable()


@pytest.fixture
def ctx(emulator: Emulator, tmp_path: Path, home: str) -> Iterator[Context]:
    store = ProfileStore(tmp_path / "profiles.toml").load()
    settings_ = resolve(store, options={"profile": "demo", "endpoint": emulator.url,
                                        "username": "demo", "token_cache": False}, env={})
    sources = CredentialSources({"VSS_USER_PASS": ACCOUNTS["demo"]["password"]})
    context = Context(table(), BatchUI(stdout=_Sink(), stderr=_Sink()),
                      Session(settings_, sources), store)
    yield context
    context.session.close()


class _Sink:
    def write(self, text: str) -> int:
        return len(text)

    def flush(self) -> None:
        pass

    def isatty(self) -> bool:
        return False


def test_a_piped_run_gives_the_collector_back_after_its_first_command(
        ctx: Context, held: None) -> None:
    lines = iter([(1, "whoami"), (2, "whoami")])
    states = []

    def entries() -> Iterator[tuple[int, str]]:
        for entry in lines:
            states.append(gc.isenabled())
            yield entry

    assert batch.run(ctx, "test", entries()) == 0
    assert states == [False, True]  # held for the first command, not for the second


def test_a_failing_first_command_gives_it_back_too(ctx: Context, held: None) -> None:
    assert batch.run(ctx, "test", [(1, "no-such-command"), (2, "whoami")],
                     keep_going=True) == 2
    assert gc.isenabled()


def test_the_shell_is_ready_once_the_http_client_is_made(
        ctx: Context, emulator: Emulator, held: None) -> None:
    assert ctx.session._client is None
    emulator.reset_stats()
    repl.prepare_http(ctx).join(timeout=30)
    assert "requests" in sys.modules and "vss_shell.output" in sys.modules
    client = ctx.session._client
    assert client is not None  # made while the person types, with its pool
    adapter = client._session.get_adapter(client.endpoint)
    assert len(adapter.poolmanager.pools) == 1
    assert emulator.stats() == {"requests": {}, "connections": 0}  # nothing sent
    assert gc.isenabled()
    emulator.reset_stats()
    assert ctx.session.call_v2(ctx.ui, lambda c, t: c.get_user(t))["username"] == "demo"
    assert len(adapter.poolmanager.pools) == 1  # the call took the pool made before


# -- options ----------------------------------------------------------------------------


def test_no_options_are_what_argparse_gives_for_none() -> None:
    assert vars(cli.no_options()) == vars(cli.build_parser().parse_args([]))
    assert vars(cli.parse_options([])) == vars(cli.no_options())
    assert cli.parse_options(["-c", "help", "-y"]).commands == "help"


def test_vss_alone_does_not_import_argparse() -> None:
    code = ("import sys\nfrom vss_shell import cli\ncli.parse_options([])\n"
            "print('argparse' in sys.modules)\n")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=60, check=True)
    assert done.stdout.strip() == "False"


# -- checks that replaced regular expressions -------------------------------------------

#: What the profiles check looked for before (the oracle of :func:`_looks_secret`).
OLD_SECRET = re.compile(
    r"pass(word|wd|phrase)|pwd|token|secret|recovery|credential|(?<![a-z])otp|otp(?![a-z])",
    re.IGNORECASE)

KEYS = ["password", "Password", "db_passwd", "PassPhrase", "pwd", "api-token", "TOKEN",
        "client_secret", "recovery_codes", "credentials", "otp", "OTP", "otp_seed",
        "use-otp", "my_otp", "xotp", "otpx", "potpourri", "hotpink", "endpoint",
        "username", "timeout", "ca_bundle", "output", "verify_tls", "passage", "pass",
        "tok", "secre", "", "o", "ot", "xotpy", "a.otp", "OTP9", "9otp9", "Otp",
        "credent\u0131al", "CREDENT\u0130AL", "pa\u017f\u017fword", "\u212aotp", "\xdfotp\xdf",
        "xotp\ufb06", "otp\u1e97", "tok\u212aen"]


@pytest.mark.parametrize("key", KEYS)
def test_secret_key_names_as_before(key: str) -> None:
    assert _looks_secret(key) is bool(OLD_SECRET.search(key))


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet="otpasw rdkcilenOTPASWRDKCILEN_-.19éıİſ\u212aßﬆẗ", max_size=12))
def test_secret_key_names_as_before_any_spelling(key: str) -> None:
    assert _looks_secret(key) is bool(OLD_SECRET.search(key))


_BIDI = "\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069"
OLD_CONTROL = re.compile(f"[\x00-\x08\x0b-\x1f\x7f-\x9f{_BIDI}]")
OLD_CONTROL_NO_NEWLINE = re.compile(f"[\x00-\x1f\x7f-\x9f{_BIDI}]")
OLD_JSON_EXTRA = re.compile(f"[\x7f-\x9f{_BIDI}]")


def _old_escape(match: re.Match[str]) -> str:
    code = ord(match.group())
    return f"\\x{code:02x}" if code <= 0xFF else f"\\u{code:04x}"


TEXT = st.text(alphabet=st.sampled_from(
    [*map(chr, range(0x00, 0xA1)), "\u061b", "\u061c", "\u200d", "\u200e", "\u200f",
     "\u2029", "\u202a", "\u202e", "\u202f", "\u2065", "\u2066", "\u2069", "\u206a", "é",
     "漢", "\U0001f600"]), max_size=40)


@settings(max_examples=400, deadline=None)
@given(TEXT)
def test_control_characters_escaped_as_before(text: str) -> None:
    assert visible(text) == OLD_CONTROL.sub(_old_escape, text)
    assert visible(text, newlines=False) == OLD_CONTROL_NO_NEWLINE.sub(_old_escape, text)
    assert has_control(text) is bool(OLD_CONTROL_NO_NEWLINE.search(text))
    assert json_escape_extra(text) == OLD_JSON_EXTRA.sub(
        lambda m: f"\\u{ord(m.group()):04x}", text)


def test_bidi_controls_are_escaped() -> None:
    assert visible("a\u202eb\u2066c\u061c") == "a\\u202eb\\u2066c\\u061c"
    assert has_control("name\u200f")
    assert not has_control("naïve 漢字")


# -- the API client's per-session caches ------------------------------------------------


def test_secret_forms_follow_the_secrets() -> None:
    first = secret_forms(["hunter22"])
    assert "hunter22" in first and secret_forms(["hunter22", None]) == first
    other = secret_forms(["other-secret"])
    assert "hunter22" not in other and "other-secret" in other
    assert scrub("a hunter22 b other-secret", ["other-secret"]) == "a hunter22 b ***"


def test_each_request_gets_its_own_headers(emulator: Emulator) -> None:
    client = VssClient(emulator.url)
    try:
        basic = client._prepare("POST", client.endpoint + "/auth/token",
                                {"auth": ("demo", "pw"), "json": {"a": 1}})
        plain = client._prepare("GET", client.endpoint + "/v2/user", {})
        again = client._prepare("GET", client.endpoint + "/v2/user", {})
    finally:
        client.close()
    assert basic.headers["Authorization"].startswith("Basic ")
    assert "Authorization" not in plain.headers and "Content-Length" not in plain.headers
    assert plain.headers is not again.headers
    assert plain.url == again.url == emulator.url.rstrip("/") + "/v2/user"
    assert "Authorization" not in client._session.headers


def test_the_client_forgets_the_secrets_it_remembered(ctx: Context) -> None:
    session = ctx.session
    assert session.call_v2(ctx.ui, lambda c, t: c.get_user(t))["username"] == "demo"
    client = session._client
    assert client is not None
    remembered = [s for key in client._forms for s in key]
    assert session.token is not None and session.token.raw in remembered
    session.logout()
    assert client._forms == {}
    client._forms[("x-secret",)] = ("x-secret",)
    client.close()
    assert client._forms == {}


def test_a_url_holding_a_secret_is_not_kept(emulator: Emulator) -> None:
    client = VssClient(emulator.url)
    try:
        with pytest.raises(Exception):  # noqa: B017 (what matters is what is kept)
            client.confirm_disable_mfa("demo", "wrong-password", "mailed-token-123")
        client._prepare("GET", client.endpoint + "/v2/user", {})
    finally:
        client.close()
    assert not any("mailed-token-123" in url for url in client._urls)
    assert list(client._urls) == [client.endpoint + "/v2/user"]
