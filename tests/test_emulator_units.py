"""The emulator's building blocks: TOTP, JWT, accounts, lockout window, lifecycle."""

from __future__ import annotations

import io
import socket
from urllib.parse import parse_qs, urlsplit

import pyotp
import pytest
import requests

from vss_shell.constants import TOTP_ISSUER
from vss_shell.emulator import AccountsError, Emulator, jwt
from vss_shell.emulator.accounts import load_file, parse_accounts
from vss_shell.emulator.lockout import FailureWindow
from vss_shell.emulator.totp import matching_step, provisioning_uri, random_secret, totp

RFC_SECRET = "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ"  # b"12345678901234567890"
RFC_VECTORS = [
    (59, "94287082"),
    (1111111109, "07081804"),
    (1234567890, "89005924"),
    (2000000000, "69279037"),
]


@pytest.mark.parametrize(("t", "code"), RFC_VECTORS)
def test_totp_rfc6238_sha1_vectors(t: int, code: str) -> None:
    assert totp(RFC_SECRET, t, digits=8) == code
    assert totp(RFC_SECRET, t) == code[-6:]


def test_totp_agrees_with_pyotp() -> None:
    secret = random_secret()
    assert len(secret) == 32
    for t in (0, 29, 30, 1_700_000_000, 1_700_000_017):
        assert totp(secret, t) == pyotp.TOTP(secret).at(t)


def test_matching_step_one_step_either_side_not_two() -> None:
    now = 1_800_000_015.0
    step = int(now // 30)
    for delta in (-1, 0, 1):
        assert matching_step(RFC_SECRET, totp(RFC_SECRET, now + 30 * delta), now) == step + delta
    for delta in (-2, 2):
        assert matching_step(RFC_SECRET, totp(RFC_SECRET, now + 30 * delta), now) is None
    assert matching_step(RFC_SECRET, "12345", now) is None
    assert matching_step(RFC_SECRET, "١٢٣٤٥٦", now) is None  # non-ASCII digits


def test_provisioning_uri_is_the_key_uri_format() -> None:
    uri = provisioning_uri(RFC_SECRET, "jm")
    assert uri == (
        f"otpauth://totp/ITS%20Private%20Cloud:jm?secret={RFC_SECRET}&issuer=ITS%20Private%20Cloud"
    )
    parsed = pyotp.parse_uri(uri)
    assert parsed.secret == RFC_SECRET
    assert parsed.issuer == TOTP_ISSUER
    assert parse_qs(urlsplit(uri).query)["issuer"] == [TOTP_ISSUER]


def test_jwt_roundtrip_forgery_and_expiry() -> None:
    key = jwt.new_key()
    token = jwt.encode({"sub": "jm", "exp": 100}, key)
    assert jwt.decode(token, key, now=99) == {"sub": "jm", "exp": 100}
    with pytest.raises(jwt.TokenError, match="expired"):
        jwt.decode(token, key, now=100)
    with pytest.raises(jwt.TokenError, match="signature"):
        jwt.decode(token, jwt.new_key(), now=0)
    header, _, sig = token.split(".")
    other = jwt.encode({"sub": "admin", "exp": 100}, key).split(".")[1]
    with pytest.raises(jwt.TokenError):
        jwt.decode(f"{header}.{other}.{sig[:-2]}xx", key, now=0)
    for bad in ("", "a.b", "a.b.c", "é.é.é", token + ".x"):
        with pytest.raises(jwt.TokenError):
            jwt.decode(bad, key, now=0)


def test_failure_window_slides() -> None:
    window = FailureWindow()
    for t in (0, 100, 100, 100):
        window.record(t)
    assert window.retry_after(100) is None
    window.record(150)
    assert window.retry_after(150) == 150  # the failure at 0 leaves the window at 300
    assert window.retry_after(299.5) == 1
    assert window.retry_after(300) is None
    assert window.count(300) == 4


GOOD = {"password": "p", "email": "jm@example.org"}


@pytest.mark.parametrize(
    ("table", "problem"),
    [
        ({"email": "a@b"}, "password is required"),
        ({"password": "p"}, "email is required"),
        ({**GOOD, "email": "nope"}, "email must contain '@'"),
        ({**GOOD, "mfa_method": "TOTP"}, "mfa_method must be EMAIL, AUTHENTICATOR or SMS"),
        ({**GOOD, "mfa_method": "email"}, "mfa_method must be EMAIL, AUTHENTICATOR or SMS"),
        ({**GOOD, "mfa_method": "SMS"}, "mfa_method SMS needs a phone"),
        ({**GOOD, "phone": "12-34"}, "phone must be a string with at least 7 digits"),
        ({**GOOD, "mfa_method": "AUTHENTICATOR", "mfa_secret": "not base32!"}, "base32"),
        ({**GOOD, "mfa_method": "AUTHENTICATOR", "mfa_secret": "ABCDEFGH"}, "at least 128 bits"),
        ({**GOOD, "mfa_secret": "JBSWY3DPEHPK3PXP"}, "only for mfa_method AUTHENTICATOR"),
        ({**GOOD, "enforce_mfa": "yes"}, "enforce_mfa must be true or false"),
        ({**GOOD, "colour": "red"}, "unknown key 'colour'"),
    ],
)
def test_bad_account_names_source_account_and_problem(table: dict, problem: str) -> None:
    with pytest.raises(AccountsError) as info:
        parse_accounts({"jm": table}, "config/x.toml")
    assert str(info.value).startswith("config/x.toml: account 'jm': ")
    assert problem in str(info.value)


def test_bad_accounts_file_messages(tmp_path) -> None:
    path = tmp_path / "x.toml"
    path.write_text('[accounts.jm]\npassword = "p"\nemail = "a@b"\nmfa_method = "PIGEON"\n')
    with pytest.raises(AccountsError) as info:
        load_file(path)
    assert str(info.value) == (
        f"{path}: account 'jm': mfa_method must be EMAIL, AUTHENTICATOR or SMS"
    )
    path.write_text("[accounts.jm\n")
    with pytest.raises(AccountsError, match="invalid TOML"):
        load_file(path)
    path.write_text("title = 'x'\n")
    with pytest.raises(AccountsError, match="unknown top-level key 'title'"):
        load_file(path)
    path.write_text("")
    with pytest.raises(AccountsError, match="no accounts"):
        load_file(path)
    with pytest.raises(AccountsError, match="cannot read"):
        load_file(tmp_path / "missing.toml")
    with pytest.raises(AccountsError, match="invalid username"):
        parse_accounts({"a:b": GOOD})


def test_accounts_file_and_generated_secret(tmp_path) -> None:
    path = tmp_path / "a.toml"
    path.write_text(
        '[accounts.jm]\npassword = "p"\nemail = "jm@example.org"\nmfa_method = "AUTHENTICATOR"\n'
        '[accounts.kb]\npassword = "q"\nemail = "kb@example.org"\n'
        'mfa_secret = "jbswy3dpehpk3pxpjbswy3dpehpk3pxp"\nmfa_method = "AUTHENTICATOR"\n'
    )
    emu = Emulator(accounts_file=path, log=None)
    generated = emu.secret("jm")
    assert generated is not None and len(generated) == 32
    assert Emulator(accounts_file=str(path), log=None).secret("jm") != generated
    assert emu.secret("kb") == "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"
    assert emu.usernames() == ["jm", "kb"]


def test_shipped_accounts_by_default() -> None:
    emu = Emulator(log=None)
    assert "demo" in emu.usernames()
    assert emu.secret("demo") is None
    with pytest.raises(ValueError):
        Emulator(accounts={"a": GOOD}, accounts_file="x.toml")


def test_start_stop_idempotent_and_context_manager() -> None:
    emu = Emulator(accounts={"jm": GOOD}, log=io.StringIO())
    with pytest.raises(RuntimeError):
        _ = emu.url
    url = emu.start()
    assert url == emu.url == f"http://127.0.0.1:{emu.port}"
    assert emu.running
    with pytest.raises(RuntimeError):
        emu.start()
    session = requests.Session()
    assert session.get(url + "/v2/user", timeout=5).status_code == 401
    emu.stop()
    emu.stop()
    assert not emu.running
    with pytest.raises(OSError), socket.create_connection(("127.0.0.1", emu.port), timeout=1):
        pass
    with pytest.raises(requests.ConnectionError):  # the kept-alive connection was cut too
        session.get(url + "/v2/user", timeout=5)
    with Emulator(accounts={"jm": GOOD}, log=None) as emu2:
        assert requests.get(emu2.url + "/v2/user", timeout=5).status_code == 401
    assert not emu2.running
