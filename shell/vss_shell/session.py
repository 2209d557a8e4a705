"""The session: one profile, one API client, one token, the password in memory.

Commands ask the session for credentials (MFA calls use the password) or for
a bearer token (``/v2/`` calls). The token is reused until it is about to
expire, then renewed once, asking for a fresh code when MFA is on.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from typing import TYPE_CHECKING, TypeVar

from vss_shell.api.errors import (
    ApiError,
    BadCredentials,
    Conflict,
    HttpError,
    MfaEnforced,
    OtpRequired,
)
from vss_shell.api.token import Token, TokenFormatError
from vss_shell.constants import MFA_METHODS
from vss_shell.credentials import RESEND_HINT, CredentialSources
from vss_shell.errors import MissingAnswer, ShellError, UsageError
from vss_shell.ui import UI

if TYPE_CHECKING:
    from vss_shell.api.client import VssClient
    from vss_shell.profiles import Settings
    from vss_shell.tokencache import TokenCache

T = TypeVar("T")

#: How many of the last codes and tokens sent are kept to be hidden.
SENT_KEPT = 8
#: Wrong codes a person may retry at a prompt.
OTP_TRIES = 3
#: Wrong passwords a person may retry at a prompt.
PASSWORD_TRIES = 3


class Session:
    """The authenticated state the shell keeps between commands."""

    def __init__(self, settings: Settings, sources: CredentialSources, *,
                 cache: TokenCache | None = None, password: str | None = None,
                 env_token: str | None = None) -> None:
        self.settings = settings
        self.sources = sources
        self.cache = cache if settings.token_cache else None
        self.username: str | None = settings.username
        self.token: Token | None = None
        self._password = password
        #: The last codes and tokens sent (typed or given): never shown, even echoed back.
        self._sent: list[str] = []
        #: Whether the password in memory was typed by a person (a typo may be retried).
        self._password_typed = False
        self._client: VssClient | None = None
        self.token_requests = 0
        #: "on", "off" or "pending" once a command learnt it; else the token's claim.
        self.mfa_state: str | None = None
        #: The MFA method a command learnt from the server (``mfa status``, ``mfa mk``).
        self.mfa_method: str | None = None
        self._cache_warned = False
        #: ``VSS_TOKEN``, for the endpoint it was given with: used, never cached or renewed.
        self.env_token = env_token
        self._user_override: str | None = None  # ``login USER`` over the profile's user

    def restore(self) -> None:
        """Take ``VSS_TOKEN`` or a still-valid cached token now, so that the toolbar and
        ``whoami`` show the state the next command will find."""
        if self.env_token:
            with contextlib.suppress(ShellError):  # the first command that needs it says why
                self._adopt_env_token()
        elif self.cache is not None and self.username:
            self.token = self.cache.token(self.settings.endpoint, self.username)

    # --- plumbing -------------------------------------------------------------
    @property
    def client(self) -> VssClient:
        """The API client, made on first use (importing requests then)."""
        if self._client is None:
            if self.settings.blocked:  # a broken profiles file: never a fallback endpoint
                raise UsageError(self.settings.blocked)
            from vss_shell.api.client import VssClient

            self._client = VssClient(self.settings.endpoint, timeout=self.settings.timeout,
                                     verify=self.settings.verify)
        return self._client

    def close(self) -> None:
        """Close connections; forget nothing else."""
        if self._client is not None:
            self._client.close()
            self._client = None

    @property
    def mfa(self) -> str | None:
        """"on", "off" or "pending": what a command learnt, else the token's claim."""
        if self.mfa_state is not None:
            return self.mfa_state
        return None if self.token is None else ("on" if self.token.mfa else "off")

    def describe(self) -> str:
        """The state in a few words, for the toolbar and ``whoami``."""
        token, mfa = self.token, self.mfa
        if token is None or token.expired():
            state = "logged out" if token is None else "token expired"
        else:
            left = int(token.seconds_left())
            state = f"token {left // 60} min" if left >= 60 else f"token {left} s"
        return state if mfa is None else f"{state} · MFA {mfa}"

    # --- credentials ----------------------------------------------------------
    def user(self, ui: UI) -> str:
        """The username, asked once when no profile, option or variable gave it."""
        if self.settings.blocked:  # nothing asked for a request that cannot be sent
            raise UsageError(self.settings.blocked)
        if not self.username:
            from vss_shell.profiles import ProfileError, check_username

            try:
                self.username = check_username(ui.ask("Username", flag="--user or VSS_USER"))
            except ProfileError as exc:
                raise ShellError(str(exc)) from None
        return self.username

    def credentials(self, ui: UI) -> tuple[str, str]:
        """Username and password; the password is asked once per session."""
        user = self.user(ui)
        if self._password is None:
            self._password = self.sources.password(ui, user)
            self._password_typed = not self.sources.password_given
        return user, self._password

    def call(self, ui: UI, fn: Callable[[VssClient, str, str], T]) -> T:
        """Run a Basic-auth call; a refused password is forgotten, and asked again
        (PASSWORD_TRIES in all) when a person typed it."""
        for number in range(1, PASSWORD_TRIES + 1):
            user, password = self.credentials(ui)
            typed = self._password_typed
            try:
                with ui.progress():
                    return fn(self.client, user, password)
            except BadCredentials as exc:
                self._password = None
                if not typed or number == PASSWORD_TRIES:
                    raise
                ui.error(f"error: {exc} ({PASSWORD_TRIES - number} left)")
        raise AssertionError("unreachable")

    # --- tokens -----------------------------------------------------------------
    def _usable(self, token: Token | None) -> bool:
        return token is not None and token.usable()

    def login(self, ui: UI, *, renewing: bool = False) -> Token:
        """Get a token with the password, and a code when the account needs one."""
        if self.env_token:
            if renewing:
                raise ShellError("the server refused VSS_TOKEN (HTTP 401): it has expired or "
                                 "was revoked; set a fresh one or unset it to log in")
            return self._adopt_env_token()
        if self._code_up_front(ui):  # one login, one token request
            token = self._login_with_code(ui, probed=False)
        else:
            try:
                token = self._request_token(ui, None)
            except OtpRequired:
                token = self._login_with_code(ui, probed=True)
        return self._keep(ui, token)

    def _code_up_front(self, ui: UI) -> bool:
        """Whether the first token request carries a code: one is given (a variable, a
        command), or the profile knows the account's method and a person can be asked."""
        if self.sources.has_otp:
            return True
        known = (self.settings.mfa_method in MFA_METHODS
                 and self.mfa_state not in ("pending", "off"))
        return known and ui.can_ask

    def _request_token(self, ui: UI, code: str | None) -> Token:
        return self.call(ui, lambda c, u, p: c.request_token(u, p, code))

    def login_before_enrolment(self, ui: UI) -> None:
        """Take a token now if one comes without a code (MFA still off): it stays
        valid after enrolment, so this session needs no code until it expires."""
        if self._usable(self.token) or self.env_token:
            return
        try:
            token = self._request_token(ui, None)
        except (OtpRequired, MfaEnforced):  # MFA on already, or no token before it
            return
        # Not cached: its claim (no MFA) would mislead the next run once MFA is on.
        self._keep(ui, token, cache=False)

    def _keep(self, ui: UI, token: Token, *, cache: bool = True) -> Token:
        self.token_requests += 1
        user = self.user(ui)
        if token.username != user:  # the contract: `sub` is the account logged in
            raise ShellError(f"the server gave a token for {token.username or 'no user'!r}, "
                             f"not {user!r}: it is not used")
        self.token = token
        if token.mfa or self.mfa_state != "pending":  # the token cannot tell "pending"
            self.mfa_state = None
        if self.cache is not None and cache:
            self._write_cache(ui, lambda c: c.put(self.settings.endpoint, user, token.raw))
        return token

    def _write_cache(self, ui: UI | None, change: Callable[[TokenCache], None], *,
                     strict: bool = False) -> None:
        """Change the token cache; a cache that cannot be written only costs a login,
        unless ``strict`` (logout: a token left in the cache is an error)."""
        assert self.cache is not None
        try:
            change(self.cache)
        except OSError as exc:
            if strict:
                raise ShellError(f"cannot remove the token from the token cache "
                                 f"{self.cache.path}: {exc.strerror or exc}; the token is still "
                                 "cached (delete that file to log out)") from None
            if ui is not None and not self._cache_warned:
                ui.warn(f"cannot write the token cache {self.cache.path}: "
                        f"{exc.strerror or exc}; the next run logs in again")
            self._cache_warned = True

    def _login_with_code(self, ui: UI, *, probed: bool) -> Token:
        """A token requested with a code. ``probed``: the server said a code is needed;
        otherwise the code goes with the first request (an EMAIL/SMS one sent first)."""
        question = "MFA code (or a recovery code)"
        if not self.sources.has_otp:  # no code can come: fail before one is sent
            ui.require(question, "VSS_USER_OTP or --otp-command CMD")
        resend: Callable[..., object] | None = None
        if self.settings.mfa_method != "AUTHENTICATOR" and not self.sources.fixed_otp:
            if self.send_code(ui, probing=not probed) is False:  # 409: MFA is off
                return self._request_token(ui, None)
            resend = lambda quiet=False: self.send_code(ui, quiet=quiet)  # noqa: E731
            if not self.sources.has_otp and self.settings.mfa_method in ("EMAIL", "SMS"):
                ui.info(RESEND_HINT)
        token = self.with_code(ui, question, lambda code: self._request_token(ui, code),
                               resend=resend)
        if not token.mfa:  # MFA off or pending: the code was not spent
            self.sources.release()
        return token

    def send_code(self, ui: UI, *, probing: bool = False, quiet: bool = False) -> bool | None:
        """Have an EMAIL/SMS code sent (the server's message shown unless ``quiet``):
        True when asked, False when the server says MFA is off (409; said only unless
        ``probing``), None when it failed (a warning: the login goes on, as the contract
        says)."""
        try:
            sent = self.call(ui, lambda c, u, p: c.request_code(u, p))
        except Conflict as exc:
            if not probing:
                ui.warn(f"could not have a code sent: {exc}")
            return False
        except ApiError as exc:
            ui.warn(f"could not have a code sent: {exc}")
            return None
        message = str(sent.get("message") or "")
        if message and not quiet:
            ui.info(message)
        return True

    def with_code(self, ui: UI, question: str, attempt: Callable[[str], T], *,
                  given_ok: bool = True, resend: Callable[..., object] | None = None) -> T:
        """``attempt(code)`` with a one-time code; a person asked gets OTP_TRIES tries.

        ``given_ok=False`` (finishing an enrolment) never takes ``VSS_USER_OTP``:
        no code given before the enrolment began can finish it. A code of
        ``--otp-command`` the server refuses (used already, by another run in the
        same 30 s step) is tried once more with the next code the command gives
        (waited for, at most OTP_NEXT_CODE_WAIT); ``resend`` has a new code sent.
        """
        automatic = bool(self.sources.otp_command) or (given_ok and self.sources.fixed_otp)
        tries = 1 if automatic else OTP_TRIES
        if self.sources.otp_command:
            tries = 2
        for number in range(1, tries + 1):
            code = self.sources.otp(ui, question, given_ok=given_ok,
                                    resend=None if automatic else resend)
            self.sent(code)
            try:
                return attempt(code)
            except (OtpRequired, ShellError) as exc:
                if isinstance(exc, MissingAnswer) or number == tries:
                    raise
                if automatic:
                    if not (isinstance(exc, OtpRequired) and exc.otp_sent):
                        raise
                    ui.info("The server refused the code from --otp-command (each code is "
                            "accepted once): waiting for the next code...")
                    self.sources.spent(code)
                    if resend is not None:  # EMAIL/SMS: the command reads the new one
                        resend(quiet=True)
                    continue
                ui.error(f"error: {exc} ({tries - number} left)")
        raise AssertionError("unreachable")

    def _adopt_env_token(self) -> Token:
        assert self.env_token is not None
        try:
            token = Token.parse(self.env_token)
        except TokenFormatError as exc:
            raise ShellError(f"VSS_TOKEN: {exc}") from None
        if token.expired():
            raise ShellError("VSS_TOKEN has expired")
        if self.username and token.username and token.username != self.username:
            raise ShellError(f"VSS_TOKEN is for user {token.username!r}, not "
                             f"{self.username!r} (from {self.settings.sources.get('username')})")
        self.token = token
        if not self.username:
            self.username = token.username or None
        return token

    def bearer(self, ui: UI) -> Token:
        """A token for ``/v2/`` calls: the session's, the cache's, or a new one."""
        if self._usable(self.token):
            assert self.token is not None
            return self.token
        if self.env_token:  # used to its last second: it cannot be renewed here
            return self._adopt_env_token()
        renewing = self.token is not None
        expired = self.token is not None and self.token.expired()
        how = "has expired" if expired else "is about to expire"
        self.token = None
        if self.cache is not None and not renewing:
            self.token = self.cache.token(self.settings.endpoint, self.user(ui))
            if self.token is not None:
                return self.token
        if renewing:
            ui.info(f"The token {how}; logging in again.")
        return self.login(ui, renewing=renewing)

    def call_v2(self, ui: UI, fn: Callable[[VssClient, Token], T]) -> T:
        """Run a bearer call; a rejected token is dropped and the call made once more."""
        token = self.bearer(ui)
        try:
            with ui.progress():
                return fn(self.client, token)
        except HttpError as exc:
            if exc.status != 401:
                raise
        self.drop_token(ui)
        token = self.login(ui, renewing=True)
        with ui.progress():
            return fn(self.client, token)

    def drop_token(self, ui: UI | None = None) -> None:
        """Forget the token here and in the cache."""
        self.uncache(ui)
        self.token = None

    def uncache(self, ui: UI | None = None, *, strict: bool = False) -> None:
        """Drop the cached token (MFA changed: its claim would mislead the next run);
        ``strict``: fail (ShellError) when it stays in the cache."""
        if self.cache is not None and self.username and not self.env_token:
            user = self.username
            self._write_cache(ui, lambda c: c.drop(self.settings.endpoint, user),
                              strict=strict)

    def logout(self, ui: UI | None = None) -> None:
        """Forget token and password, here and in the token cache (and VSS_TOKEN);
        a token the cache keeps is a ShellError (after all else is forgotten)."""
        self.env_token = None
        self.forget()
        self.uncache(ui, strict=True)

    def switch_user(self, user: str) -> None:
        """Another account on the same endpoint: nothing of the old one applies
        (its cached token stays in the cache)."""
        self.forget()
        self.env_token = None
        self.username = user
        self.mfa_state = None
        self.mfa_method = None
        self._user_override = user
        self._apply_override()

    def adopt_settings(self, settings: Settings) -> None:
        """The active profile was edited, its connection unchanged: keep the session."""
        self.settings = settings
        self._apply_override()

    @property
    def has_user_override(self) -> bool:
        """Whether ``login USER`` put another account over the profile's."""
        return self._user_override is not None

    def _apply_override(self) -> None:
        if self._user_override:  # the profile's user and method belong to another account
            self.settings.username = self._user_override
            self.settings.mfa_method = None
            self.settings.sources["username"] = "login"
            self.settings.sources["mfa_method"] = "default"

    def forget(self) -> None:
        """Forget token and password here (the client too); the cache keeps the token."""
        self.token = None
        self._password = None
        if self._client is not None:
            self._client.forget_secrets()

    def sent(self, secret: str) -> str:
        """Note a code or confirmation token about to be sent (the last few are kept):
        a server that echoes it back must not get it shown."""
        self._sent = [*self._sent[-(SENT_KEPT - 1):], secret]
        return secret

    def secrets(self) -> list[str]:
        """Values that must never be printed (for redacting tracebacks)."""
        found = [self._password, self.token.raw if self.token else None, *self._sent]
        found += [self.sources.env.get(k) for k in ("VSS_USER_PASS", "VSS_USER_OTP", "VSS_TOKEN")]
        return [s for s in found if s]
