"""``vss-emulator`` as a process, and the public client ``pyvss`` against the emulator."""

from __future__ import annotations

import signal
import socket
import subprocess
import sys
from typing import Any

import pyotp
import pytest
import requests

from vss_shell.constants import OTP_MARKER, PATH_EMU_OUTBOX, PATH_TOKEN, PATH_USER
from vss_shell.emulator import Emulator


def _spawn(*args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "vss_shell.emulator", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_cli_serves_until_signalled(sig: signal.Signals) -> None:
    proc = _spawn("--port", "0", "--token-ttl", "120")
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()  # bounded by pytest-timeout
        assert line.startswith("listening on http://127.0.0.1:"), line
        url = line.split()[-1]
        response = requests.post(url + PATH_TOKEN, auth=("demo", "demo-password"), json={},
                                 timeout=5)
        assert response.status_code == 200
        payload = response.json()["token"]
        bearer = {"Authorization": f"Bearer {payload}"}
        assert requests.get(url + PATH_USER, headers=bearer, timeout=5).status_code == 200
        proc.send_signal(sig)
        assert proc.wait(timeout=10) == 0
        assert proc.stdout.read() == ""  # nothing else on stdout
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        proc.stdout.close()  # type: ignore[union-attr]
        proc.stderr.close()  # type: ignore[union-attr]


def test_cli_accounts_file_and_outbox_hook(tmp_path) -> None:
    accounts = tmp_path / "accounts.toml"
    accounts.write_text(
        '[accounts.jm]\npassword = "pw"\nemail = "jm@x.org"\nmfa_method = "EMAIL"\n'
    )
    proc = _spawn("--accounts", str(accounts))
    try:
        assert proc.stdout is not None
        url = proc.stdout.readline().split()[-1]
        response = requests.post(url + "/tf/request-token", auth=("jm", "pw"), timeout=5)
        assert response.status_code == 200
        (mail,) = requests.get(url + PATH_EMU_OUTBOX, params={"to": "jm"}, timeout=5).json()
        response = requests.post(
            url + PATH_TOKEN, auth=("jm", "pw"), json={"otp": mail["code"]}, timeout=5
        )
        assert response.status_code == 200
        proc.terminate()
        assert proc.wait(timeout=10) == 0
        assert proc.stderr is not None
        assert f"[outbox] email to jm@x.org: code {mail['code']}" in proc.stderr.read()
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def test_cli_bad_accounts_file_exits_2_with_one_line(tmp_path) -> None:
    bad = tmp_path / "x.toml"
    bad.write_text('[accounts.jm]\npassword = "p"\nemail = "a@b"\nmfa_method = "FAX"\n')
    result = subprocess.run(
        [sys.executable, "-m", "vss_shell.emulator", "--accounts", str(bad)],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert result.returncode == 2
    assert result.stdout == ""
    assert result.stderr.count("\n") == 1
    assert f"{bad}: account 'jm': mfa_method must be EMAIL, AUTHENTICATOR or SMS" in result.stderr


# -- pyvss, the public client library ----------------------------------------------------


def _pyvss(emulator: Emulator, monkeypatch: pytest.MonkeyPatch) -> Any:
    manager = pytest.importorskip("pyvss.manager")
    for name in ("VSS_API_TOKEN", "VSS_API_USER", "VSS_API_USER_PASS", "VSS_API_USER_OTP"):
        monkeypatch.delenv(name, raising=False)
    return manager


def test_pyvss_authenticator_lifecycle(emulator: Emulator, monkeypatch) -> None:
    manager = _pyvss(emulator, monkeypatch)
    vss = manager.VssManager(api_endpoint=emulator.url)
    assert vss.get_token("demo", "demo-pass")
    assert vss.tf_enabled is False
    enrol = vss.enable_totp("demo", "demo-pass", method="AUTHENTICATOR")
    assert enrol["key"] == emulator.secret("demo") and len(enrol["recovery_codes"]) == 8
    totp = pyotp.TOTP(enrol["key"])
    assert vss.verify_totp("demo", "demo-pass", otp=totp.at(emulator.now()))["type"] == "info"
    with pytest.raises(manager.VssError) as info:
        vss.get_token("demo", "demo-pass")
    assert OTP_MARKER in str(info.value.message)
    assert vss.get_token("demo", "demo-pass", otp=totp.at(emulator.now() + 30))
    assert vss.tf_enabled is True
    assert vss.get_user_totp()["enabled"] is True
    assert vss.request_totp("demo", "demo-pass")["type"] == "info"
    assert vss.disable_totp("demo", "demo-pass")["message"] == "Confirmation email sent."
    token = emulator.outbox("demo")[-1]["token"]
    assert vss.disable_totp_confirm(token, "demo", "demo-pass")["type"] == "info"
    status = vss.get_user_totp()
    assert status["enabled"] is False and status["method"] is None
    with pytest.raises(manager.VssError):
        vss.disable_totp_confirm(token, "demo", "demo-pass")


def test_pyvss_email_and_sms_codes(emulator: Emulator, monkeypatch) -> None:
    manager = _pyvss(emulator, monkeypatch)
    vss = manager.VssManager(api_endpoint=emulator.url)
    assert vss.request_totp("mail", "mail-pass")["type"] == "info"
    assert vss.get_token("mail", "mail-pass", otp=emulator.outbox("mail")[-1]["code"])
    assert vss.tf_enabled is True
    vss.enable_totp("demo", "demo-pass", method="SMS", phone="416-555-0123")
    vss.request_totp("demo", "demo-pass")
    vss.verify_totp("demo", "demo-pass", otp=emulator.outbox("demo")[-1]["code"])
    with pytest.raises(manager.VssError) as info:
        vss.enable_totp("demo", "demo-pass", method="EMAIL")
    assert info.value.http_code == 409


def test_cli_port_in_use_exits_1(tmp_path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = subprocess.run(
            [sys.executable, "-m", "vss_shell.emulator", "--port", str(port)],
            capture_output=True,
            text=True,
            timeout=30,
        )
    assert result.returncode == 1
    assert result.stdout == ""
    assert result.stderr.startswith(f"vss-emulator: cannot listen on 127.0.0.1:{port}")
    assert result.stderr.count("\n") == 1
