"""The emulator's accounts: load and validate ``[accounts.USERNAME]`` tables.

Schema of one account (TOML table or dict); every key states part of the
account's starting state, so demos and tests can begin from any state::

    password = "..."            # required
    email = "a@example.org"     # required
    phone = "416-555-0123"      # optional, at least 7 digits
    enforce_mfa = true          # optional: no token until MFA is enabled
    # MFA already on:
    mfa_method = "EMAIL"        # EMAIL | AUTHENTICATOR | SMS (SMS needs a phone)
    mfa_secret = "BASE32..."    # AUTHENTICATOR only (generated when missing)
    # ...or an enrolment started but not verified (MFA pending; not with mfa_method):
    pending = { method = "AUTHENTICATOR", secret = "BASE32..." }
    # with either of them:
    recovery_codes = ["abcde-fghjk", ...]   # unused codes, 10-64 of [A-Za-z0-9-]
    # history (contract format "YYYY-MM-DD HH:MM:SS" UTC, or a TOML date-time):
    enabled_on = "2026-01-02 03:04:05"      # default: start time when mfa_method is set
    disabled_on = "2026-01-01 00:00:00"

Errors are one line naming the source and the key.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from vss_shell import shipped
from vss_shell.constants import MFA_METHODS, TIME_FORMAT

from .totp import decode_secret, random_secret

SHIPPED_NAME = "emulator.toml"
_KEYS = (
    "password",
    "email",
    "phone",
    "mfa_method",
    "mfa_secret",
    "enforce_mfa",
    "pending",
    "recovery_codes",
    "enabled_on",
    "disabled_on",
)
_PENDING_KEYS = ("method", "secret")
_RECOVERY_CODE = re.compile(r"[A-Za-z0-9-]{10,64}")
MAX_RECOVERY_CODES = 32
_METHODS_TEXT = ", ".join(MFA_METHODS[:-1]) + " or " + MFA_METHODS[-1]


class AccountsError(ValueError):
    """An accounts file or dict is invalid; the message names the source and the problem."""


_Fail = Callable[[str], AccountsError]


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
    #: True when ``mfa_method`` is a pending enrolment (not verified yet).
    pending: bool = False
    recovery_codes: tuple[str, ...] = ()
    enabled_on: str | None = None
    disabled_on: str | None = None


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
    method, secret = table.get("mfa_method"), table.get("mfa_secret")
    pending = table.get("pending")
    if pending is not None:
        if method is not None or secret is not None:
            raise fail("pending cannot go with mfa_method or mfa_secret (MFA is on or pending)")
        if not isinstance(pending, Mapping):
            raise fail("pending must be a table: { method = ..., secret = ... }")
        extra = sorted(set(pending) - set(_PENDING_KEYS))
        if extra:
            raise fail(f"pending: unknown key '{extra[0]}' (known: method, secret)")
        method, secret = pending.get("method"), pending.get("secret")
    label = "pending.method" if pending is not None else "mfa_method"
    secret_label = "pending.secret" if pending is not None else "mfa_secret"
    if (method is not None or pending is not None) and method not in MFA_METHODS:
        raise fail(f"{label} must be {_METHODS_TEXT}")
    if method == "SMS" and phone is None:
        raise fail(f"{label} SMS needs a phone")
    secret = _secret(fail, secret_label, label, method, secret)
    enforce = table.get("enforce_mfa", False)
    if not isinstance(enforce, bool):
        raise fail("enforce_mfa must be true or false")
    codes = _recovery_codes(fail, table.get("recovery_codes"), method)
    enabled_on = _time(fail, table, "enabled_on")
    disabled_on = _time(fail, table, "disabled_on")
    if enabled_on and disabled_on:
        on = method is not None and pending is None
        if on and disabled_on > enabled_on:
            raise fail("disabled_on is after enabled_on but MFA is on (mfa_method)")
        if not on and enabled_on > disabled_on and pending is None:
            raise fail("enabled_on is after disabled_on but MFA is off (no mfa_method)")
    return AccountConfig(
        username=username,
        password=table["password"],
        email=table["email"],
        phone=phone,
        mfa_method=method,
        mfa_secret=secret,
        enforce_mfa=enforce,
        pending=pending is not None,
        recovery_codes=codes,
        enabled_on=enabled_on,
        disabled_on=disabled_on,
    )


def _secret(fail: _Fail, key: str, label: str, method: object, secret: object) -> str | None:
    """The validated, normalised base32 secret (generated for AUTHENTICATOR when missing)."""
    if secret is None:
        return random_secret() if method == "AUTHENTICATOR" else None
    if method != "AUTHENTICATOR":
        raise fail(f"{key} is only for {label} AUTHENTICATOR")
    if not isinstance(secret, str):
        raise fail(f"{key} must be a base32 string")
    try:
        raw = decode_secret(secret)
    except ValueError:
        raise fail(f"{key} must be a base32 string") from None
    if len(raw) < 16:  # RFC 4226: at least 128 bits
        raise fail(f"{key} must be at least 128 bits (26 base32 characters)")
    return secret.replace(" ", "").upper().rstrip("=")


def _recovery_codes(fail: _Fail, codes: object, method: object) -> tuple[str, ...]:
    """The validated ``recovery_codes`` list (only with MFA on or pending)."""
    if codes is None:
        return ()
    if method is None:
        raise fail("recovery_codes need mfa_method or pending (MFA on or pending)")
    if not isinstance(codes, list) or len(codes) > MAX_RECOVERY_CODES:
        raise fail(f"recovery_codes must be a list of at most {MAX_RECOVERY_CODES} strings")
    for code in codes:
        if not isinstance(code, str) or not _RECOVERY_CODE.fullmatch(code):
            raise fail("recovery_codes: each must be 10-64 letters, digits or '-'")
    if len(set(codes)) != len(codes):
        raise fail("recovery_codes: a code is listed twice")
    return tuple(codes)


def _time(fail: _Fail, table: Mapping[str, Any], key: str) -> str | None:
    """``table[key]`` as the contract's UTC timestamp (from that format or a TOML date-time)."""
    value = table.get(key)
    if value is None:
        return None
    if isinstance(value, datetime):
        if value.tzinfo is not None:
            value = value.astimezone(UTC)
        return value.strftime(TIME_FORMAT)
    if isinstance(value, date):
        return value.strftime(TIME_FORMAT)
    if isinstance(value, str):
        try:
            return datetime.strptime(value, TIME_FORMAT).strftime(TIME_FORMAT)
        except ValueError:
            pass
    raise fail(f'{key} must be a UTC time "YYYY-MM-DD HH:MM:SS" or a TOML date-time')


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
