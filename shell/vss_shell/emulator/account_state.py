"""The live MFA state of one emulated account."""

from __future__ import annotations

import hmac
from dataclasses import dataclass, field
from typing import Any

from .accounts import AccountConfig
from .lockout import FailureWindow


@dataclass
class Account:
    """One account: credentials, MFA method and secrets, codes, failures.

    MFA is *off* when ``method`` is None, *pending* when ``method`` is set and
    ``enabled`` is False, and *enabled* otherwise. Not thread-safe: the state locks it.
    """

    username: str
    password: str
    email: str
    phone: str | None = None
    enforce_mfa: bool = False
    method: str | None = None
    enabled: bool = False
    secret: str | None = None
    enabled_on: str | None = None
    disabled_on: str | None = None
    recovery_codes: list[str] = field(default_factory=list)
    #: Sent EMAIL/SMS codes not yet used, with their expiry times.
    codes: dict[str, float] = field(default_factory=dict)
    #: TOTP steps already matched (no replay).
    spent_steps: set[int] = field(default_factory=set)
    failures: FailureWindow = field(default_factory=FailureWindow)

    @classmethod
    def from_config(cls, config: AccountConfig, started: str) -> Account:
        """A live account as configured; MFA on without ``enabled_on`` is on since ``started``."""
        enabled = config.mfa_method is not None and not config.pending
        return cls(
            username=config.username,
            password=config.password,
            email=config.email,
            phone=config.phone,
            enforce_mfa=config.enforce_mfa,
            method=config.mfa_method,
            enabled=enabled,
            secret=config.mfa_secret,
            enabled_on=config.enabled_on or (started if enabled else None),
            disabled_on=config.disabled_on,
            recovery_codes=list(config.recovery_codes),
        )

    def start_enrolment(self, method: str, secret: str | None, recovery_codes: list[str]) -> None:
        """Make MFA pending with ``method``; forget older secrets, codes and recovery codes."""
        self.method = method
        self.enabled = False
        self.secret = secret
        self.recovery_codes = list(recovery_codes)
        self.codes.clear()
        self.spent_steps.clear()

    def disable(self, when: str) -> None:
        """Turn MFA off at ``when`` (``enabled_on`` is kept)."""
        self.method = None
        self.enabled = False
        self.secret = None
        self.recovery_codes = []
        self.codes.clear()
        self.spent_steps.clear()
        self.disabled_on = when

    def drop_expired_codes(self, now: float) -> None:
        """Forget sent codes whose time is up."""
        for code in [c for c, expiry in self.codes.items() if expiry <= now]:
            del self.codes[code]

    def spend_step(self, step: int) -> None:
        """Mark TOTP ``step`` used; forget steps too old to match again."""
        self.spent_steps = {s for s in self.spent_steps if s >= step - 2}
        self.spent_steps.add(step)

    def spend_recovery_code(self, code: str) -> bool:
        """Use up ``code`` if it is an unused recovery code."""
        given = code.encode("utf-8", "replace")
        for known in self.recovery_codes:
            if hmac.compare_digest(known.encode(), given):
                self.recovery_codes.remove(known)
                return True
        return False

    def summary(self) -> dict[str, Any]:
        """The ``data`` of ``GET /v2/user``."""
        return {
            "username": self.username,
            "email": self.email,
            "phone": self.phone,
            "totp": {
                "enabled": self.enabled,
                "method": self.method,
                "enabled_on": self.enabled_on,
                "disabled_on": self.disabled_on,
            },
        }
