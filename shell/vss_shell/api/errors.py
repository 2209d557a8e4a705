"""Typed errors of the API client.

Every failure of a call becomes one of these, with a one-line ``str()`` fit to
show a person and no secret (password, OTP, token) in its message or ``repr``.
This module must stay cheap to import (it is on the way to the prompt): it does
not import ``requests``, and ``html``/``json`` only in the functions that need them.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterable, Mapping

from vss_shell.constants import DISABLE_TOKEN_MARKER, ENFORCE_MARKER, ERROR_KINDS, OTP_MARKER

__all__ = [
    "ApiError",
    "ApiTimeout",
    "BadCredentials",
    "BadRequest",
    "ClientError",
    "Conflict",
    "ConnectionFailed",
    "Forbidden",
    "HttpError",
    "InvalidDisableToken",
    "InvalidEndpoint",
    "InvalidResponse",
    "MfaEnforced",
    "NotFound",
    "OtpRequired",
    "RateLimited",
    "ServerError",
    "TokenRejected",
    "TransportError",
    "error_from_response",
    "excerpt",
    "scrub",
    "secret_forms",
]

#: Longest excerpt of a non-JSON body shown to a person.
EXCERPT_LEN = 80
#: How much of a body an excerpt looks at (the rest is never examined).
EXCERPT_SCAN = 16384
#: Longest server message kept in an error.
MESSAGE_LEN = 240
_WS = r"\s+"  # these two: compiled (and kept by re) at the first error
#: An error kind as the contract spells them (``BadRequest``); anything else is ignored.
_KIND = r"[A-Za-z][A-Za-z0-9_.-]{0,63}"
#: Elements whose content is not text a person reads.
_HIDDEN_ELEMENTS = ("script", "style")


def one_line(text: str, limit: int | None = None, secrets: Iterable[str | None] = ()) -> str:
    """Collapse whitespace, scrub ``secrets``, then trim to ``limit`` characters.

    Scrubbing comes before trimming so that a cut never leaves part of a secret.
    """
    secrets = tuple(secrets)
    text = scrub(re.sub(_WS, " ", scrub(text, secrets)).strip(), secrets)
    if limit is not None and len(text) > limit:
        text = text[: limit - 1].rstrip() + "…"
    return text


def _visible_text(markup: str) -> str:
    """The text of (possibly HTML) ``markup``: tags, scripts and styles dropped.
    Linear: each step searches forward from where the last one ended."""
    lower = markup.lower()
    pieces: list[str] = []
    at, end = 0, len(markup)
    while at < end:
        opening = markup.find("<", at)
        if opening < 0:
            pieces.append(markup[at:])
            break
        pieces.append(markup[at:opening])
        closing = markup.find(">", opening)
        if closing < 0:
            break  # an unfinished tag: the rest is not text
        name = lower[opening + 1 : closing].split(None, 1)[0] if closing > opening + 1 else ""
        at = closing + 1
        if name in _HIDDEN_ELEMENTS:
            stop = lower.find(f"</{name}", at)
            if stop < 0:
                break
            closing = markup.find(">", stop)
            if closing < 0:
                break
            at = closing + 1
        pieces.append(" ")
    return "".join(pieces)


def excerpt(body: str, limit: int = EXCERPT_LEN, secrets: Iterable[str | None] = ()) -> str:
    """A short one-line excerpt of a (possibly HTML) body: tags stripped, entities
    decoded, secrets scrubbed. Only the first :data:`EXCERPT_SCAN` characters are
    examined, so any body costs the same bounded time."""
    import html

    head = body[:EXCERPT_SCAN]
    text = html.unescape(_visible_text(head)) if "<" in head else head
    return one_line(text, limit, secrets)


def secret_forms(secrets: Iterable[str | None]) -> tuple[str, ...]:
    """Every spelling of each secret (:func:`vss_shell.errors.spellings`: as it is,
    URL-quoted, base64), longest first: what :func:`scrub` hides."""
    from vss_shell.errors import spellings

    return tuple(sorted(spellings(secrets), key=len, reverse=True))


def scrub(
    text: str, secrets: Iterable[str | None] = (), *, forms: tuple[str, ...] | None = None
) -> str:
    """Replace every spelling of every secret in ``text`` by ``***``
    (:func:`vss_shell.errors.hide_secrets`); ``forms``: those of :func:`secret_forms`,
    when already known."""
    from vss_shell.errors import hide_secrets

    return hide_secrets(text, secret_forms(secrets) if forms is None else forms)


class ApiError(Exception):
    """Any failure of an API call. ``str()`` is one line, safe to show."""

    status: int | None = None
    kind: str | None = None
    server_message: str | None = None

    def __init__(self, message: str, *, secrets: Iterable[str | None] = ()) -> None:
        self.message = one_line(message, secrets=secrets)
        super().__init__(self.message)

    def __str__(self) -> str:
        return self.message

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.message!r})"


class InvalidEndpoint(ApiError, ValueError):
    """The endpoint is not an ``http://`` or ``https://`` URL."""


class InvalidResponse(ApiError):
    """A success status whose body is not the JSON the contract promises."""

    def __init__(
        self,
        message: str,
        *,
        status: int | None = None,
        secrets: Iterable[str | None] = (),
        partial: dict | None = None,
    ) -> None:
        super().__init__(message, secrets=secrets)
        self.status = status
        #: The fields of the answer that were as the contract says (e.g. the recovery
        #: codes of an enrolment whose key was not), for the command to show.
        self.partial = partial


# --- transport -------------------------------------------------------------------------------


class TransportError(ApiError):
    """No HTTP response: the request could not be sent or answered."""

    def __init__(
        self, message: str, *, endpoint: str = "", secrets: Iterable[str | None] = ()
    ) -> None:
        super().__init__(message, secrets=secrets)
        self.endpoint = endpoint


class ApiTimeout(TransportError):
    """The server did not connect or answer within the timeout."""


class ConnectionFailed(TransportError):
    """Connection refused, name not resolved, TLS failure, connection dropped."""


# --- HTTP error responses --------------------------------------------------------------------


class HttpError(ApiError):
    """An HTTP response with an error status (or one the client cannot use)."""

    #: How the message starts, before the status; subclasses refine it.
    summary = "request failed"

    def __init__(
        self,
        status: int,
        *,
        kind: str | None = None,
        server_message: str | None = None,
        retry_after: int | None = None,
        json_body: bool = True,
        secrets: Iterable[str | None] = (),
    ) -> None:
        secrets = tuple(secrets)
        self.status = status
        self.kind = kind
        self.server_message = (
            one_line(server_message, MESSAGE_LEN, secrets) if server_message else None
        )
        self.retry_after = retry_after
        self.json_body = json_body
        super().__init__(self._compose(), secrets=secrets)

    def _label(self) -> str:
        return f"HTTP {self.status}" + (f" {self.kind}" if self.kind else "")

    def _compose(self) -> str:
        text = f"{self.summary} ({self._label()})"
        if self.server_message:
            text += f": {self.server_message}"
        return text


class BadRequest(HttpError):
    """400: the server refused the request as malformed."""

    summary = "bad request"


class InvalidDisableToken(BadRequest):
    """400 with the disable-token marker: bad, used, expired or foreign token."""

    def _compose(self) -> str:
        return (
            "the confirmation token was not accepted: invalid, already used or expired "
            f"({self._label()}); check it, or run the disable step again for a new one"
        )


class BadCredentials(HttpError):
    """401 without the OTP marker: wrong username or password."""

    def _compose(self) -> str:
        return f"authentication failed: wrong username or password ({self._label()})"


class TokenRejected(BadCredentials):
    """401 to a Bearer call: the token is missing, malformed or expired."""

    def _compose(self) -> str:
        return f"the API token was refused: expired or invalid ({self._label()})"


class OtpRequired(HttpError):
    """401 with the OTP marker: a code is needed, or the one sent was refused."""

    def __init__(self, status: int, *, otp_sent: bool = False, **kwargs) -> None:
        self.otp_sent = otp_sent
        super().__init__(status, **kwargs)

    def _compose(self) -> str:
        if self.otp_sent:
            return (
                f"the one-time code was wrong, expired or already used ({self._label()}); "
                "wait for a new code and try again"
            )
        return f"this account has MFA enabled: a one-time code is required ({self._label()})"


class Forbidden(HttpError):
    """403: not allowed."""

    summary = "forbidden"


class MfaEnforced(Forbidden):
    """403 with the enforcement marker: the account must enrol in MFA first."""

    def _compose(self) -> str:
        return (
            f"this account must enable MFA before it can sign in ({self._label()}); "
            "enrol with `mfa mk`, or finish a pending enrolment with `mfa verify CODE`"
        )


class NotFound(HttpError):
    """404."""

    summary = "not found"


class Conflict(HttpError):
    """409: the request does not fit the account's state (e.g. MFA already on)."""

    summary = "conflict"


class RateLimited(HttpError):
    """429: too many attempts; ``retry_after`` seconds from the header, if any."""

    summary = "too many attempts"

    def _compose(self) -> str:
        wait = (
            f"try again in {self.retry_after} s"
            if self.retry_after is not None
            else "try again later"
        )
        return f"{self.summary} ({self._label()}); {wait}"


class ClientError(HttpError):
    """Any other 4xx (405, 415, ...), or an unexpected non-error status (3xx)."""

    summary = "request refused"


class ServerError(HttpError):
    """5xx: the server (or a proxy before it) failed."""

    summary = "server error"

    def _compose(self) -> str:
        text = super()._compose()
        if self.retry_after is not None:
            text += f"; try again in {self.retry_after} s"
        return text


#: Longest ``Retry-After`` delta honoured (a week); a larger one is no answer.
MAX_RETRY_AFTER = 7 * 24 * 3600


def parse_retry_after(value: str | None, now: float | None = None) -> int | None:
    """Seconds from a ``Retry-After`` header (delta-seconds or HTTP-date); None for
    anything else (``soon``, ``-5``, ``1.5``, digits beyond a week, a date without zone)."""
    if not value or len(value) > 64:
        return None
    value = value.strip()
    if value.isascii() and value.isdigit():
        seconds = int(value.lstrip("0") or "0") if len(value) <= 12 else MAX_RETRY_AFTER + 1
        return seconds if seconds <= MAX_RETRY_AFTER else None
    from email.utils import parsedate_to_datetime  # lazy: rarely needed

    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when is None or when.tzinfo is None:
        return None
    current = time.time() if now is None else now
    seconds = max(0, round(when.timestamp() - current))
    return seconds if seconds <= MAX_RETRY_AFTER else None


def error_from_response(
    status: int,
    body: str,
    *,
    content_type: str = "",
    headers: Mapping[str, str] | None = None,
    otp_sent: bool = False,
    bearer: bool = False,
    secrets: Iterable[str | None] = (),
    note: str | None = None,
) -> HttpError:
    """Build the typed error for an error response.

    ``otp_sent``: the request carried an OTP; ``bearer``: it was a Bearer call
    (a plain 401 then means the token was refused, not the password); ``note``:
    said instead of the body (one that was not read, being too large).
    """
    from vss_shell.api.jsontext import JsonError, loads

    secrets = tuple(secrets)
    kind: str | None = None
    message: str | None = None
    json_body = False
    if note is None and "json" in content_type.lower():
        try:
            data = loads(body)
        except JsonError:
            data = None
        if isinstance(data, dict):
            json_body = True
            if isinstance(data.get("error"), str) and re.fullmatch(_KIND, data["error"]):
                kind = data["error"]
            raw_message = data.get("message")
            if isinstance(raw_message, str):
                message = raw_message
    if note is not None:
        message = note
    elif not json_body:
        message = excerpt(body, secrets=secrets) or None
    if kind is None and json_body:
        kind = ERROR_KINDS.get(status)
    haystack = message or ""
    retry_after = parse_retry_after((headers or {}).get("Retry-After"))
    common = {
        "kind": kind,
        "server_message": message,
        "retry_after": retry_after,
        "json_body": json_body,
        "secrets": secrets,
    }
    cls: type[HttpError]
    if status == 401 and OTP_MARKER in haystack:
        return OtpRequired(status, otp_sent=otp_sent, **common)
    if status == 401:
        cls = TokenRejected if bearer else BadCredentials
    elif status == 403:
        cls = MfaEnforced if ENFORCE_MARKER in haystack else Forbidden
    elif status == 400:
        cls = InvalidDisableToken if DISABLE_TOKEN_MARKER in haystack else BadRequest
    elif status == 404:
        cls = NotFound
    elif status == 409:
        cls = Conflict
    elif status == 429:
        cls = RateLimited
    elif status >= 500:
        cls = ServerError
    else:
        cls = ClientError
    return cls(status, **common)
