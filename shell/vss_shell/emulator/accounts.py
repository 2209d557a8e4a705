"""The emulator's accounts: load and validate ``[accounts.USERNAME]`` tables.

Schema of one account (TOML table or dict)::

    password = "..."            # required
    email = "a@example.org"     # required
    phone = "416-555-0123"      # optional, at least 7 digits
    mfa_method = "EMAIL"        # optional: EMAIL | AUTHENTICATOR | SMS (MFA already on)
    mfa_secret = "BASE32..."    # optional, AUTHENTICATOR only (generated when missing)
    enforce_mfa = true          # optional: no token until MFA is enabled
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from vss_shell import shipped
from vss_shell.constants import MFA_METHODS

from .totp import decode_secret, random_secret

SHIPPED_NAME = "emulator.toml"
_KEYS = ("password", "email", "phone", "mfa_method", "mfa_secret", "enforce_mfa")
_METHODS_TEXT = ", ".join(MFA_METHODS[:-1]) + " or " + MFA_METHODS[-1]


class AccountsError(ValueError):
    """An accounts file or dict is invalid; the message names the source and the problem."""


@dataclass(frozen=True)
class AccountConfig:
    """One validated account, as configured."""

    username: str
    password: str
    email: str
    phone: str | None = None
    mfa_method: str | None = None
    mfa_secret: str | None = None
    enforce_mfa: bool = False


def phone_ok(phone: object) -> bool:
    """True when ``phone`` is a string with at least 7 digits."""
    return isinstance(phone, str) and sum(ch.isdigit() for ch in phone) >= 7


def _account(source: str, username: object, table: object) -> AccountConfig:
    """Validate one account table; raise :class:`AccountsError` naming ``source``."""
    if (
        not isinstance(username, str)
        or not username
        or ":" in username
        or (any(ch.isspace() for ch in username))
    ):
        raise AccountsError(f"{source}: invalid username {username!r}")

    def fail(problem: str) -> AccountsError:
        return AccountsError(f"{source}: account '{username}': {problem}")

    if not isinstance(table, Mapping):
        raise fail("must be a table")
    unknown = sorted(set(table) - set(_KEYS))
    if unknown:
        raise fail(f"unknown key '{unknown[0]}' (known: {', '.join(_KEYS)})")
    for key in ("password", "email"):
        if not isinstance(table.get(key), str) or not table[key]:
            raise fail(f"{key} is required (a non-empty string)")
    if "@" not in table["email"]:
        raise fail("email must contain '@'")
    phone = table.get("phone")
    if phone is not None and not phone_ok(phone):
        raise fail("phone must be a string with at least 7 digits")
    method = table.get("mfa_method")
    if method is not None and method not in MFA_METHODS:
        raise fail(f"mfa_method must be {_METHODS_TEXT}")
    if method == "SMS" and phone is None:
        raise fail("mfa_method SMS needs a phone")
    secret = table.get("mfa_secret")
    if secret is not None:
        if method != "AUTHENTICATOR":
            raise fail("mfa_secret is only for mfa_method AUTHENTICATOR")
        if not isinstance(secret, str):
            raise fail("mfa_secret must be a base32 string")
        try:
            key = decode_secret(secret)
        except ValueError:
            raise fail("mfa_secret must be a base32 string") from None
        if len(key) < 16:  # RFC 4226: at least 128 bits
            raise fail("mfa_secret must be at least 128 bits (26 base32 characters)")
        secret = secret.replace(" ", "").upper().rstrip("=")
    elif method == "AUTHENTICATOR":
        secret = random_secret()
    enforce = table.get("enforce_mfa", False)
    if not isinstance(enforce, bool):
        raise fail("enforce_mfa must be true or false")
    return AccountConfig(
        username=username,
        password=table["password"],
        email=table["email"],
        phone=phone,
        mfa_method=method,
        mfa_secret=secret,
        enforce_mfa=enforce,
    )


def parse_accounts(accounts: Mapping[str, Any], source: str = "accounts") -> list[AccountConfig]:
    """Validate a ``{username: table}`` mapping (the inside of ``[accounts]``)."""
    if not isinstance(accounts, Mapping) or not accounts:
        raise AccountsError(f"{source}: no accounts (add an [accounts.USERNAME] table)")
    return [_account(source, name, table) for name, table in accounts.items()]


def parse_toml(text: str, source: str) -> list[AccountConfig]:
    """Validate the TOML ``text`` of an accounts file called ``source``."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise AccountsError(f"{source}: invalid TOML: {exc}") from None
    extra = sorted(set(data) - {"accounts"})
    if extra:
        raise AccountsError(f"{source}: unknown top-level key '{extra[0]}' (expected [accounts])")
    return parse_accounts(data.get("accounts", {}), source)


def load_file(path: str | Path) -> list[AccountConfig]:
    """Read and validate the accounts file at ``path``."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        raise AccountsError(f"{path}: cannot read: {exc.strerror or exc}") from None
    except UnicodeDecodeError:
        raise AccountsError(f"{path}: not UTF-8 text") from None
    return parse_toml(text, str(path))


def load_shipped() -> list[AccountConfig]:
    """The accounts of the shipped ``config/emulator.toml``."""
    return parse_toml(shipped.read_text(SHIPPED_NAME), shipped.path(SHIPPED_NAME))
