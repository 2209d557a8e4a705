"""The emulator's accounts file states any starting MFA state; answers can be delayed."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import pyotp
import pytest
import requests

from vss_shell.constants import PATH_EMU_STATS, PATH_TF_VERIFY, PATH_TOKEN, PATH_USER
from vss_shell.emulator import AccountsError, Emulator
from vss_shell.emulator.accounts import load_file, parse_accounts

SECRET = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"
CODES = ["abcde-fghjk", "mnpqr-stuvw"]

STATES = f"""
[accounts.codes]
password = "codes-pass"
email = "codes@example.org"
mfa_method = "EMAIL"
recovery_codes = {CODES!r}
enabled_on = 2026-03-04T05:06:07+02:00
disabled_on = "2026-01-01 00:00:00"

[accounts.half]
password = "half-pass"
email = "half@example.org"
pending = {{ method = "AUTHENTICATOR", secret = "{SECRET}" }}
recovery_codes = ["zzzzz-yyyyy"]

[accounts.gone]
password = "gone-pass"
email = "gone@example.org"
enabled_on = "2025-05-05 05:05:05"
disabled_on = "2025-06-06 06:06:06"
"""


@pytest.fixture
def stated(tmp_path: Path):
    path = tmp_path / "states.toml"
    path.write_text(STATES, encoding="utf-8")
    with Emulator(accounts_file=path, log=None) as emu:
        yield emu


def _token(url: str, user: str, otp: str | None = None) -> requests.Response:
    return requests.post(url + PATH_TOKEN, auth=(user, f"{user}-pass"), json={"otp": otp},
                         timeout=5)


def _user(url: str, user: str, otp: str | None = None) -> dict:
    token = _token(url, user, otp).json()["token"]
    reply = requests.get(url + PATH_USER, headers={"Authorization": f"Bearer {token}"},
                         timeout=5)
    assert reply.status_code == 200
    return reply.json()["data"]["totp"]


def test_recovery_code_from_the_file_logs_in_once(stated: Emulator) -> None:
    assert _token(stated.url, "codes").status_code == 401  # MFA on: a code is needed
    assert _token(stated.url, "codes", CODES[1]).status_code == 200
    assert _token(stated.url, "codes", CODES[1]).status_code == 401  # spent
    totp = _user(stated.url, "codes", CODES[0])
    assert totp == {"enabled": True, "method": "EMAIL",
                    "enabled_on": "2026-03-04 03:06:07", "disabled_on": "2026-01-01 00:00:00"}


def test_pending_account_is_pending_until_verified(stated: Emulator) -> None:
    totp = _user(stated.url, "half")  # pending: a token without a code
    assert totp["enabled"] is False and totp["method"] == "AUTHENTICATOR"
    assert totp["enabled_on"] is None
    assert stated.secret("half") == SECRET
    verify = requests.post(stated.url + PATH_TF_VERIFY, auth=("half", "half-pass"),
                           json={"otp": pyotp.TOTP(SECRET).now()}, timeout=5)
    assert verify.status_code == 200, verify.text
    assert _token(stated.url, "half").status_code == 401  # now MFA is on
    totp = _user(stated.url, "half", "zzzzz-yyyyy")  # its stated recovery code
    assert totp["enabled"] is True and totp["enabled_on"] is not None


def test_history_of_an_account_with_mfa_off(stated: Emulator) -> None:
    assert _user(stated.url, "gone") == {"enabled": False, "method": None,
                                         "enabled_on": "2025-05-05 05:05:05",
                                         "disabled_on": "2025-06-06 06:06:06"}


def test_vss_logs_in_with_a_recovery_code_from_the_file(stated: Emulator, tmp_path) -> None:
    env = {"HOME": str(tmp_path), "XDG_CONFIG_HOME": str(tmp_path / "c"),
           "XDG_STATE_HOME": str(tmp_path / "s"), "PATH": "/usr/bin:/bin",
           "PYTHONPATH": str(Path(__file__).resolve().parents[1] / "shell"),
           "VSS_ENDPOINT": stated.url, "VSS_USER": "codes", "VSS_USER_PASS": "codes-pass",
           "VSS_USER_OTP": CODES[0]}
    done = subprocess.run([sys.executable, "-m", "vss_shell", "--no-token-cache", "-o", "json",
                           "-c", "mfa status"], env=env, capture_output=True, text=True,
                          timeout=60)
    assert done.returncode == 0, done.stderr
    assert '"2026-03-04' in done.stdout and CODES[0] not in done.stdout + done.stderr


GOOD = {"password": "p", "email": "a@b"}


@pytest.mark.parametrize(
    ("table", "problem"),
    [
        ({**GOOD, "recovery_codes": ["abcde-fghjk"]}, "recovery_codes need mfa_method or pending"),
        ({**GOOD, "mfa_method": "EMAIL", "recovery_codes": "abcde-fghjk"},
         "recovery_codes must be a list"),
        ({**GOOD, "mfa_method": "EMAIL", "recovery_codes": ["short"]},
         "recovery_codes: each must be 10-64"),
        ({**GOOD, "mfa_method": "EMAIL", "recovery_codes": ["abcde fghjk"]},
         "recovery_codes: each must be 10-64"),
        ({**GOOD, "mfa_method": "EMAIL", "recovery_codes": ["abcde-fghjk"] * 2},
         "listed twice"),
        ({**GOOD, "enabled_on": "yesterday"}, "enabled_on must be a UTC time"),
        ({**GOOD, "disabled_on": 5}, "disabled_on must be a UTC time"),
        ({**GOOD, "mfa_method": "EMAIL", "enabled_on": "2026-01-01 00:00:00",
          "disabled_on": "2026-02-01 00:00:00"}, "disabled_on is after enabled_on"),
        ({**GOOD, "enabled_on": "2026-03-01 00:00:00", "disabled_on": "2026-02-01 00:00:00"},
         "enabled_on is after disabled_on"),
        ({**GOOD, "pending": {"method": "TOTP"}}, "pending.method must be EMAIL"),
        ({**GOOD, "pending": {}}, "pending.method must be EMAIL"),
        ({**GOOD, "pending": "EMAIL"}, "pending must be a table"),
        ({**GOOD, "pending": {"method": "SMS"}}, "pending.method SMS needs a phone"),
        ({**GOOD, "pending": {"method": "EMAIL", "secret": SECRET}},
         "pending.secret is only for pending.method AUTHENTICATOR"),
        ({**GOOD, "pending": {"method": "AUTHENTICATOR", "secret": "ABCDEFGH"}},
         "pending.secret must be at least 128 bits"),
        ({**GOOD, "pending": {"method": "EMAIL", "phone": "1234567"}}, "pending: unknown key"),
        ({**GOOD, "mfa_method": "EMAIL", "pending": {"method": "EMAIL"}},
         "pending cannot go with mfa_method"),
    ],
)
def test_bad_state_is_one_line_naming_account_and_key(table: dict, problem: str) -> None:
    with pytest.raises(AccountsError) as info:
        parse_accounts({"jm": table}, "states.toml")
    message = str(info.value)
    assert message.startswith("states.toml: account 'jm': ") and "\n" not in message
    assert problem in message


def test_cli_refuses_a_bad_state_file_in_one_line(tmp_path) -> None:
    path = tmp_path / "bad.toml"
    path.write_text('[accounts.jm]\npassword = "p"\nemail = "a@b"\nenabled_on = "soon"\n')
    with pytest.raises(AccountsError):
        load_file(path)
    done = subprocess.run([sys.executable, "-m", "vss_shell.emulator", "--accounts", str(path)],
                          capture_output=True, text=True, timeout=30)
    assert done.returncode == 2
    assert done.stderr.strip().splitlines() == [
        f"vss-emulator: {path}: account 'jm': enabled_on must be a UTC time "
        '"YYYY-MM-DD HH:MM:SS" or a TOML date-time']


def test_shipped_file_documents_every_key() -> None:
    from vss_shell.emulator import accounts

    header = (Path(__file__).resolve().parents[1] / "config" / "emulator.toml").read_text()
    for key in accounts._KEYS:
        assert key in header and key in accounts.__doc__


def test_delay_holds_back_api_answers_not_hooks() -> None:
    with Emulator(accounts={"jm": GOOD}, log=None, delay=0.2) as emu:
        start = time.perf_counter()
        assert requests.get(emu.url + PATH_EMU_STATS, timeout=5).status_code == 200
        hook = time.perf_counter() - start
        start = time.perf_counter()
        assert requests.post(emu.url + PATH_TOKEN, auth=("jm", "p"), json={},
                             timeout=5).status_code == 200
        api = time.perf_counter() - start
    assert api >= 0.2 > hook
    with pytest.raises(ValueError):
        Emulator(accounts={"jm": GOOD}, delay=-1)


def test_stats_can_be_read_and_zeroed_over_http() -> None:
    with Emulator(accounts={"jm": GOOD}, log=None) as emu, requests.Session() as http:
        for _ in range(3):
            http.post(emu.url + PATH_TOKEN, auth=("jm", "p"), json={}, timeout=5)
        stats = http.delete(emu.url + PATH_EMU_STATS, timeout=5).json()
        assert stats == {"requests": {"POST /auth/request-token": 3}, "connections": 1}
        assert http.get(emu.url + PATH_EMU_STATS, timeout=5).json() == {
            "requests": {}, "connections": 0}
        assert http.post(emu.url + PATH_EMU_STATS, timeout=5).status_code == 405


def test_cli_delay_option_is_checked() -> None:
    done = subprocess.run([sys.executable, "-m", "vss_shell.emulator", "--delay-ms", "-5"],
                          capture_output=True, text=True, timeout=30)
    assert done.returncode == 2 and "--delay-ms" in done.stderr
