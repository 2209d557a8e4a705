"""Shared fixtures: the project's emulator on a free loopback port."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

from vss_shell.emulator import Emulator

#: A base32 secret for the account that already has an authenticator.
APP_SECRET = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"

#: Accounts every test emulator starts with.
ACCOUNTS: dict[str, dict] = {
    "demo": {"password": "demo-pass", "email": "demo@example.org", "phone": "416-555-0123"},
    "app": {
        "password": "app-pass",
        "email": "app@example.org",
        "mfa_method": "AUTHENTICATOR",
        "mfa_secret": APP_SECRET,
    },
    "mail": {"password": "mail-pass", "email": "mail@example.org", "mfa_method": "EMAIL"},
    "sms": {
        "password": "sms-pass",
        "email": "sms@example.org",
        "phone": "416-555-0199",
        "mfa_method": "SMS",
    },
    "enforced": {"password": "enf-pass", "email": "enf@example.org", "enforce_mfa": True},
}


@pytest.fixture
def emulator() -> Iterator[Emulator]:
    """A fresh emulator with :data:`ACCOUNTS`, serving on 127.0.0.1."""
    emu = Emulator(accounts=ACCOUNTS)
    emu.start(host="127.0.0.1", port=0)
    try:
        yield emu
    finally:
        emu.stop()


@pytest.fixture
def home(tmp_path, monkeypatch) -> str:
    """A temporary HOME with XDG folders inside it, and no VSS_* variables."""
    for name in list(os.environ):
        if name.startswith(("VSS_", "XDG_")):
            monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / ".config"))
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / ".local" / "state"))
    return str(tmp_path)
