"""The emulator's accounts and every rule of the API contract, behind one lock.

Each API operation takes an authenticated :class:`Account` and the request's
JSON body, returns the success body, or raises :class:`ApiError`.
"""

from __future__ import annotations

import base64
import binascii
import hmac
import secrets
import threading
import time
from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any, TextIO

from vss_shell.constants import (
    DISABLE_TOKEN_MARKER,
    ENFORCE_MARKER,
    MFA_METHODS,
    OTP_MARKER,
    TIME_FORMAT,
    TOTP_ISSUER,
)

from . import jwt
from .account_state import Account
from .accounts import AccountConfig, phone_ok
from .errors import ApiError
from .outbox import Outbox
from .totp import matching_step, provisioning_uri, random_secret

#: Lifetimes (seconds) of an emailed or texted code and of a disable token.
CODE_TTL = 600.0
DISABLE_TOKEN_TTL = 900.0
RECOVERY_CODES = 8
_RECOVERY_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"


def _info(message: str) -> dict[str, Any]:
    return {"message": message, "type": "info"}


def _recovery_code() -> str:
    """``xxxxx-xxxxx``: 50 random bits from :mod:`secrets`."""
    chars = [secrets.choice(_RECOVERY_ALPHABET) for _ in range(10)]
    return "".join(chars[:5]) + "-" + "".join(chars[5:])


def _otp_field(body: dict[str, Any]) -> str | None:
    otp = body.get("otp")
    if otp is not None and not isinstance(otp, str):
        raise ApiError(400, "otp must be a string or null")
    return otp or None


class EmulatorState:
    """Accounts, tokens, outbox, injected failures and statistics; thread-safe."""

    def __init__(
        self,
        accounts: list[AccountConfig],
        token_ttl: int = 3600,
        clock: Callable[[], float] | None = None,
        log: TextIO | None = None,
    ) -> None:
        if token_ttl <= 0:
            raise ValueError("token_ttl must be positive")
        self._lock = threading.RLock()
        self._clock = clock or time.time
        self._offset = 0.0
        self.token_ttl = token_ttl
        self._key = jwt.new_key()
        self._outbox = Outbox(log)
        self._disable_tokens: dict[str, tuple[str, float]] = {}
        self._fail_count = 0
        self._fail_status = 503
        self._requests: Counter[str] = Counter()
        self._connections = 0
        started = self.timestamp()
        self.accounts = {c.username: Account.from_config(c, started) for c in accounts}

    # -- time -------------------------------------------------------------------------

    def now(self) -> float:
        """The emulator's time: the clock plus every :meth:`advance`."""
        with self._lock:
            return self._clock() + self._offset

    def timestamp(self) -> str:
        """Now as the contract's UTC timestamp."""
        return datetime.fromtimestamp(self.now(), UTC).strftime(TIME_FORMAT)

    def advance(self, seconds: float) -> None:
        """Move the emulator's clock forward by ``seconds`` (>= 0)."""
        if seconds < 0:
            raise ValueError("the clock only moves forward")
        with self._lock:
            self._offset += seconds

    # -- test hooks -------------------------------------------------------------------

    def outbox(self, username: str | None = None) -> list[dict[str, Any]]:
        """Messages sent (to ``username``, or all), oldest first."""
        with self._lock:
            return self._outbox.messages(username)

    def fail_next(self, count: int, status: int = 503) -> None:
        """Answer the next ``count`` API requests with ``status``."""
        if count < 0 or not 400 <= status <= 599:
            raise ValueError("count must be >= 0 and status 400-599")
        with self._lock:
            self._fail_count, self._fail_status = count, status

    def take_failure(self) -> int | None:
        """The status to fail this request with, if a failure is pending (and spend it)."""
        with self._lock:
            if self._fail_count <= 0:
                return None
            self._fail_count -= 1
            return self._fail_status

    def count_request(self, key: str) -> None:
        """Count one API request (``"METHOD /path"``)."""
        with self._lock:
            self._requests[key] += 1

    def count_connection(self) -> None:
        """Count one accepted TCP connection."""
        with self._lock:
            self._connections += 1

    def stats(self) -> dict[str, Any]:
        """Requests by ``"METHOD /path"`` and connections accepted since the last reset."""
        with self._lock:
            return {"requests": dict(self._requests), "connections": self._connections}

    def reset_stats(self) -> None:
        """Zero the statistics (connections still open count again only if they reconnect)."""
        with self._lock:
            self._requests.clear()
            self._connections = 0

    def secret(self, username: str) -> str | None:
        """The AUTHENTICATOR secret of ``username`` (pending or enabled), else None."""
        with self._lock:
            return self.accounts[username].secret

    # -- authentication ---------------------------------------------------------------

    def basic(self, header: str | None) -> Account:
        """The account named by a Basic ``Authorization`` header with its right password."""
        scheme, _, value = (header or "").strip().partition(" ")
        if scheme.lower() != "basic":
            raise ApiError(401, "Basic authentication (username and password) required")
        try:
            raw = base64.b64decode(value.strip(), validate=True)
        except (binascii.Error, ValueError):
            raise ApiError(401, "Malformed Basic credentials") from None
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError:  # requests sends latin-1
            text = raw.decode("latin-1")
        username, sep, password = text.partition(":")
        account = self.accounts.get(username)
        if (
            not sep
            or account is None
            or not hmac.compare_digest(password.encode(), account.password.encode())
        ):
            raise ApiError(401, "Invalid username or password")
        return account

    def bearer(self, header: str | None) -> Account:
        """The account of a valid, unexpired Bearer token."""
        scheme, _, value = (header or "").strip().partition(" ")
        if scheme.lower() != "bearer" or not value.strip():
            raise ApiError(401, "Bearer token required")
        try:
            payload = jwt.decode(value.strip(), self._key, self.now())
        except jwt.TokenError as exc:
            raise ApiError(401, f"Invalid token: {exc}") from None
        account = self.accounts.get(payload.get("sub"))  # type: ignore[arg-type]
        if account is None:
            raise ApiError(401, "Invalid token: unknown subject")
        return account

    # -- API operations ---------------------------------------------------------------

    def request_token(self, account: Account, body: dict[str, Any]) -> dict[str, Any]:
        """``POST /auth/request-token``."""
        with self._lock:
            otp = _otp_field(body)
            if account.enabled:
                self._check_otp(account, otp, recovery=True)
            elif account.enforce_mfa:
                raise ApiError(403, f"{ENFORCE_MARKER} before requesting a token")
            now = int(self.now())
            payload = {
                "sub": account.username,
                "iat": now,
                "exp": now + self.token_ttl,
                "otp": account.enabled,
                "jti": jwt.new_jti(),
            }
            return {"token": jwt.encode(payload, self._key)}

    def tf_request(self, account: Account) -> dict[str, Any]:
        """``POST /tf/request-token``: send an EMAIL/SMS code; nothing for AUTHENTICATOR."""
        with self._lock:
            if account.method is None:
                raise ApiError(409, "TOTP is not enabled for this account")
            if account.method == "AUTHENTICATOR":
                return _info("Use the code shown by your authenticator app.")
            now = self.now()
            account.drop_expired_codes(now)
            code = f"{secrets.randbelow(10**6):06d}"
            while code in account.codes:
                code = f"{secrets.randbelow(10**6):06d}"
            account.codes[code] = now + CODE_TTL
            if account.method == "SMS":
                to, kind, where = account.phone or "", "sms", "by SMS"
            else:
                to, kind, where = account.email, "email", "by email"
            self._outbox.send(
                account.username,
                kind,
                to,
                f"{TOTP_ISSUER} verification code",
                f"Your {TOTP_ISSUER} verification code is {code}. It is valid for 10 minutes.",
                code=code,
            )
            return _info(f"Verification code sent {where}.")

    def tf_enable(self, account: Account, body: dict[str, Any]) -> dict[str, Any]:
        """``POST /tf/enable``: start (or restart) enrolment; MFA stays pending until verified."""
        with self._lock:
            if account.enabled:
                raise ApiError(409, "TOTP is already enabled; disable it first")
            method = body.get("method")
            if method not in MFA_METHODS:
                raise ApiError(400, "method must be EMAIL, AUTHENTICATOR or SMS")
            if method == "SMS":
                phone = body.get("phone")
                if phone is None:
                    raise ApiError(400, "phone is required for SMS")
                if not phone_ok(phone):
                    raise ApiError(400, "phone must have at least 7 digits")
                account.phone = phone
            secret = random_secret() if method == "AUTHENTICATOR" else None
            codes = [_recovery_code() for _ in range(RECOVERY_CODES)]
            account.start_enrolment(method, secret, codes)
            reply = _info("TOTP enabled; verification pending")
            reply.update(issuer=TOTP_ISSUER, recovery_codes=codes)
            if secret is not None:
                reply.update(uri=provisioning_uri(secret, account.username), key=secret)
            return reply

    def tf_verify(self, account: Account, body: dict[str, Any]) -> dict[str, Any]:
        """``POST /tf/verify``: check a code; the first success finishes enrolment."""
        with self._lock:
            if account.method is None:
                raise ApiError(409, "TOTP is not enabled for this account")
            self._check_otp(account, _otp_field(body), recovery=False)
            if account.enabled:
                return _info("TOTP code verified")
            account.enabled = True
            account.enabled_on = self.timestamp()
            return _info("TOTP has been enabled")

    def tf_disable(self, account: Account) -> dict[str, Any]:
        """``POST /tf/disable``: email a single-use confirmation token."""
        with self._lock:
            if account.method is None:
                raise ApiError(409, "TOTP is not enabled for this account")
            token = secrets.token_urlsafe(24)
            self._disable_tokens[token] = (account.username, self.now() + DISABLE_TOKEN_TTL)
            self._outbox.send(
                account.username,
                "email",
                account.email,
                f"{TOTP_ISSUER}: confirm disabling MFA",
                f"To disable MFA, confirm with token {token}. It is valid for 15 minutes.",
                token=token,
            )
            return _info("Confirmation email sent.")

    def tf_disable_confirm(self, account: Account, token: str) -> dict[str, Any]:
        """``POST /tf/disable/<token>``: spend the token and turn MFA off."""
        with self._lock:
            entry = self._disable_tokens.get(token)
            if entry is not None and entry[1] <= self.now():
                del self._disable_tokens[token]
                entry = None
            if entry is None or entry[0] != account.username or account.method is None:
                raise ApiError(400, f"{DISABLE_TOKEN_MARKER} is invalid, used or expired")
            for key in [k for k, v in self._disable_tokens.items() if v[0] == account.username]:
                del self._disable_tokens[key]
            account.disable(self.timestamp())
            return _info("TOTP has been disabled")

    def user(self, account: Account) -> dict[str, Any]:
        """``GET /v2/user``."""
        with self._lock:
            return {"data": account.summary()}

    # -- codes ------------------------------------------------------------------------

    def _check_otp(self, account: Account, otp: str | None, recovery: bool) -> None:
        """Raise 429 while locked out, 401 (with the otp marker) for a missing or wrong code."""
        now = self.now()
        retry = account.failures.retry_after(now)
        if retry is not None:
            raise ApiError(
                429, f"Too many wrong codes; try again in {retry} s", {"Retry-After": str(retry)}
            )
        if otp is None:
            raise ApiError(401, f"{OTP_MARKER} is required (a one-time code)")
        if not self._spend_code(account, otp, now, recovery):
            account.failures.record(now)
            raise ApiError(401, f"{OTP_MARKER} is wrong, used or expired")

    def _spend_code(self, account: Account, otp: str, now: float, recovery: bool) -> bool:
        if account.method == "AUTHENTICATOR" and account.secret:
            step = matching_step(account.secret, otp, now)
            if step is not None and step not in account.spent_steps:
                account.spend_step(step)
                return True
        elif account.method in ("EMAIL", "SMS"):
            account.drop_expired_codes(now)
            if otp in account.codes:
                del account.codes[otp]
                return True
        if recovery:
            return account.spend_recovery_code(otp)
        return False
