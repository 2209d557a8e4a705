"""The HTTP client of the VSS API (MFA subset): one method per contract call.

This module imports ``requests``; import it only when a client is needed.
"""

from __future__ import annotations

import os
import platform
import socket
import ssl
import warnings
from collections.abc import Iterable, Iterator
from http.client import RemoteDisconnected
from typing import Any
from urllib.parse import quote, urlsplit

import requests
import urllib3.exceptions
from requests.adapters import HTTPAdapter
from urllib3.util.retry import Retry

from vss_shell import __version__
from vss_shell.api.errors import (
    ApiTimeout,
    ConnectionFailed,
    HttpError,
    InvalidEndpoint,
    InvalidResponse,
    TransportError,
    error_from_response,
    excerpt,
)
from vss_shell.api.token import Token, TokenFormatError
from vss_shell.constants import (
    PATH_TF_DISABLE,
    PATH_TF_ENABLE,
    PATH_TF_REQUEST,
    PATH_TF_VERIFY,
    PATH_TOKEN,
    PATH_USER,
    SUCCESS_STATUSES,
)

__all__ = ["RETRY_STATUSES", "VssClient", "user_agent"]

#: Statuses on which a GET is retried.
RETRY_STATUSES = (502, 503, 504)
#: Exceptions a request may raise that are not a bug of the caller.
_REQUEST_FAILURES = (requests.RequestException, urllib3.exceptions.HTTPError, OSError, ValueError)


def user_agent() -> str:
    """``vss-shell/<version> (<system>/<release>) Python/<ver>``."""
    return (
        f"vss-shell/{__version__} ({platform.system()}/{platform.release()}) "
        f"Python/{platform.python_version()}"
    )


class _GetOnlyRetry(Retry):
    """urllib3 ``Retry`` that never retries a method outside ``allowed_methods``.

    Plain ``Retry`` retries connect errors for every method; this one treats any
    failure of another method (POST) as final. It also retries only on
    ``status_forcelist`` (not on any 429/503 that carries ``Retry-After``), never
    after a read timeout (the user would wait ``retries + 1`` timeouts), and gives
    up at once when the server asks for a wait longer than
    :attr:`MAX_RETRY_AFTER` seconds, so the caller can report it.
    """

    MAX_RETRY_AFTER = 10.0

    def is_retry(self, method: str, status_code: int, has_retry_after: bool = False) -> bool:
        return self._is_method_retryable(method) and status_code in (self.status_forcelist or ())

    def increment(  # type: ignore[override]
        self,
        method: str | None = None,
        url: str | None = None,
        response: Any = None,
        error: Exception | None = None,
        _pool: Any = None,
        _stacktrace: Any = None,
    ) -> Retry:
        spent = (
            method is None
            or not self._is_method_retryable(method)
            or isinstance(error, urllib3.exceptions.ReadTimeoutError)
        )
        if not spent and response is not None and self.respect_retry_after_header:
            wait = self.get_retry_after(response)
            spent = wait is not None and wait > self.MAX_RETRY_AFTER
        target: Retry = self.new(total=0) if spent else self
        # With total=0 the base class raises MaxRetryError (or re-raises) at once.
        return Retry.increment(target, method, url, response, error, _pool, _stacktrace)


class _BearerAuth(requests.auth.AuthBase):
    """Sets ``Authorization: Bearer``; as an auth object it also keeps ``.netrc`` out."""

    def __init__(self, token: str) -> None:
        self._token = token

    def __call__(self, request: requests.PreparedRequest) -> requests.PreparedRequest:
        request.headers["Authorization"] = f"Bearer {self._token}"
        return request

    def __repr__(self) -> str:
        return "<BearerAuth ***>"


def _credential(text: str) -> bytes:
    """Encode a Basic credential as ``requests`` would (latin-1), UTF-8 when it cannot."""
    try:
        return text.encode("latin-1")
    except UnicodeEncodeError:
        return text.encode("utf-8")


def _normalize_endpoint(endpoint: str) -> str:
    text = (endpoint or "").strip().rstrip("/")
    try:
        parts = urlsplit(text)
        parts.port  # noqa: B018 (raises ValueError on a bad port)
    except ValueError:
        parts = None
    if (
        parts is None
        or parts.scheme not in ("http", "https")
        or not parts.hostname
        or "@" in parts.netloc
        or parts.query
        or parts.fragment
    ):
        raise InvalidEndpoint(
            f"invalid endpoint {excerpt(text, 60)!r}: expected http(s)://host[:port]"
        )
    return text


def _exception_chain(exc: BaseException) -> Iterator[BaseException]:
    """``exc`` and every exception it wraps (cause, context, args, ``reason``)."""
    seen: set[int] = set()
    todo: list[BaseException] = [exc]
    while todo:
        current = todo.pop(0)
        if id(current) in seen:
            continue
        seen.add(id(current))
        yield current
        linked = [current.__cause__, current.__context__, getattr(current, "reason", None)]
        linked.extend(current.args)
        todo.extend(item for item in linked if isinstance(item, BaseException))


class VssClient:
    """A client of one VSS API endpoint over one keep-alive ``requests.Session``.

    Credentials are passed to each call and never kept. GETs are retried on
    connection errors and 502/503/504 (``retries`` times, exponential
    ``backoff``); POSTs never are. Every failure raises an
    :class:`~vss_shell.api.errors.ApiError`.
    """

    def __init__(
        self,
        endpoint: str,
        *,
        timeout: float = 30.0,
        verify: bool | str = True,
        retries: int = 3,
        backoff: float = 0.2,
    ) -> None:
        self.endpoint = _normalize_endpoint(endpoint)
        self.timeout = float(timeout)
        self.verify = verify
        self.retries = int(retries)
        session = requests.Session()
        session.headers.update(
            {
                "User-Agent": user_agent(),
                "Content-Type": "application/json",
                "Accept": "application/json",
            }
        )
        session.verify = verify
        retry = _GetOnlyRetry(
            total=self.retries,
            connect=self.retries,
            read=self.retries,
            status=self.retries,
            other=0,
            allowed_methods=frozenset({"GET"}),
            status_forcelist=RETRY_STATUSES,
            backoff_factor=backoff,
            respect_retry_after_header=True,
            raise_on_status=False,
        )
        adapter = HTTPAdapter(max_retries=retry)
        session.mount("https://", adapter)
        session.mount("http://", adapter)
        self._session = session

    # --- lifecycle ------------------------------------------------------------------------

    def close(self) -> None:
        """Close the session and its pooled connections."""
        self._session.close()

    def __enter__(self) -> VssClient:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"VssClient({self.endpoint!r})"

    # --- contract calls -------------------------------------------------------------------

    def request_token(self, user: str, password: str, otp: str | None = None) -> Token:
        """``POST /auth/request-token``: a token (``otp`` null when not given)."""
        data = self._call(
            "POST", PATH_TOKEN, basic=(user, password), body={"otp": otp}, secrets=(otp,)
        )
        raw = data.get("token")
        problem: InvalidResponse | None = None
        if not isinstance(raw, str):
            problem = InvalidResponse("the server's answer holds no token", status=200)
        else:
            try:
                return Token.parse(raw)
            except TokenFormatError as exc:
                reason = str(exc)
            problem = InvalidResponse(
                f"the server sent a malformed token ({reason})", status=200, secrets=(raw,)
            )
        raise problem

    def request_code(self, user: str, password: str) -> dict:
        """``POST /tf/request-token``: have an EMAIL/SMS code sent; ``{message, type}``."""
        return self._call("POST", PATH_TF_REQUEST, basic=(user, password))

    def enable_mfa(self, user: str, password: str, method: str, phone: str | None = None) -> dict:
        """``POST /tf/enable``: start enrolment; the flat response (``key``/``uri``...)."""
        body: dict[str, Any] = {"method": method}
        if phone is not None:
            body["phone"] = phone
        return self._call("POST", PATH_TF_ENABLE, basic=(user, password), body=body)

    def verify_mfa(self, user: str, password: str, otp: str) -> dict:
        """``POST /tf/verify``: finish enrolment or check a code."""
        return self._call(
            "POST", PATH_TF_VERIFY, basic=(user, password), body={"otp": otp}, secrets=(otp,)
        )

    def disable_mfa(self, user: str, password: str) -> dict:
        """``POST /tf/disable``: have a confirmation token mailed."""
        return self._call("POST", PATH_TF_DISABLE, basic=(user, password))

    def confirm_disable_mfa(self, user: str, password: str, token: str) -> dict:
        """``POST /tf/disable/<token>``: confirm with the mailed token."""
        path = f"{PATH_TF_DISABLE}/{quote(token, safe='')}"
        return self._call("POST", path, basic=(user, password), secrets=(token,))

    def get_user(self, token: Token | str) -> dict:
        """``GET /v2/user``: the ``data`` object of the account summary."""
        data = self._call("GET", PATH_USER, bearer=token)
        user = data.get("data")
        if not isinstance(user, dict):
            raise InvalidResponse("the account summary has no 'data' object", status=200)
        return user

    def get_mfa_status(self, token: Token | str) -> dict:
        """``data.totp`` of ``GET /v2/user``: enabled, method, enabled_on, disabled_on."""
        totp = self.get_user(token).get("totp")
        if not isinstance(totp, dict):
            raise InvalidResponse("the account summary has no 'totp' object", status=200)
        return totp

    # --- plumbing -------------------------------------------------------------------------

    def _call(
        self,
        method: str,
        path: str,
        *,
        basic: tuple[str, str] | None = None,
        bearer: Token | str | None = None,
        body: dict[str, Any] | None = None,
        secrets: Iterable[str | None] = (),
    ) -> dict:
        """Send one request; return its JSON object or raise an ``ApiError``."""
        secret_list: list[str | None] = list(secrets)
        kwargs: dict[str, Any] = {
            "timeout": (self.timeout, self.timeout),
            # Passed per request: a session-level ``verify`` loses to REQUESTS_CA_BUNDLE.
            "verify": self.verify,
            "allow_redirects": False,
        }
        if body is not None:
            kwargs["json"] = body
        if basic is not None:
            secret_list.append(basic[1])
            kwargs["auth"] = (_credential(basic[0]), _credential(basic[1]))
        if bearer is not None:
            raw = bearer.raw if isinstance(bearer, Token) else str(bearer)
            secret_list.append(raw)
            kwargs["auth"] = _BearerAuth(raw)

        failure: TransportError | None = None
        response: requests.Response | None = None
        try:
            with warnings.catch_warnings():
                # verify=False is the user's choice (verify_tls = false); the shell says so.
                warnings.simplefilter("ignore", urllib3.exceptions.InsecureRequestWarning)
                response = self._session.request(method, self.endpoint + path, **kwargs)
        except _REQUEST_FAILURES as exc:
            failure = self._transport_error(exc, secret_list)
        if failure is not None or response is None:
            # Raised outside the ``except`` block: no requests exception (whose text
            # may hold a URL with a secret in it) is chained to ours.
            raise failure or TransportError("no response", endpoint=self.endpoint)
        otp_sent = body is not None and bool(body.get("otp"))
        return self._read(
            response, otp_sent=otp_sent, bearer=bearer is not None, secrets=secret_list
        )

    @staticmethod
    def _text(response: requests.Response) -> str:
        encoding = response.encoding or "utf-8"
        try:
            return response.content.decode(encoding, errors="replace")
        except LookupError:
            return response.content.decode("utf-8", errors="replace")

    def _read(
        self,
        response: requests.Response,
        *,
        otp_sent: bool,
        bearer: bool,
        secrets: list[str | None],
    ) -> dict:
        status = response.status_code
        content_type = response.headers.get("Content-Type", "")
        text = self._text(response)
        if status >= 400:
            raise error_from_response(
                status,
                text,
                content_type=content_type,
                headers=response.headers,
                otp_sent=otp_sent,
                bearer=bearer,
                secrets=secrets,
            )
        if status not in SUCCESS_STATUSES:
            where = response.headers.get("Location")
            note = f"unexpected answer, redirect to {where}" if where else "unexpected answer"
            raise HttpError(status, server_message=note, json_body=False, secrets=secrets)
        if not text.strip():
            if status == 204:
                return {}
            raise InvalidResponse(
                f"the server answered HTTP {status} with an empty body", status=status
            )
        if "json" not in content_type.lower():
            raise InvalidResponse(
                f"the server answered HTTP {status} with {content_type or 'no content type'}, "
                f"not JSON: {excerpt(text, secrets=secrets)}",
                status=status,
                secrets=secrets,
            )
        try:
            data = response.json()
        except ValueError:
            data = None
            problem = InvalidResponse(
                f"the server answered HTTP {status} with malformed JSON: "
                + excerpt(text, secrets=secrets),
                status=status,
                secrets=secrets,
            )
        else:
            problem = None
        if problem is not None:
            raise problem
        if not isinstance(data, dict):
            raise InvalidResponse(
                f"the server answered HTTP {status} with JSON that is not an object",
                status=status,
            )
        return data

    def _transport_error(self, exc: BaseException, secrets: Iterable[str | None]) -> TransportError:
        """Map a ``requests``/``urllib3``/socket exception to a safe, one-line error."""
        where = self.endpoint
        chain = list(_exception_chain(exc))

        def has(*types: type[BaseException]) -> BaseException | None:
            return next((item for item in chain if isinstance(item, types)), None)

        def failed(reason: str) -> ConnectionFailed:
            return ConnectionFailed(
                f"cannot connect to {where}: {reason}", endpoint=where, secrets=secrets
            )

        if isinstance(self.verify, str) and not os.path.exists(self.verify):
            return failed(f"CA bundle {self.verify!r} not found; check ca_bundle in the profile")
        # urllib3's NewConnectionError (refused, DNS) subclasses ConnectTimeoutError.
        if has(requests.exceptions.ConnectTimeout) or any(
            isinstance(item, urllib3.exceptions.ConnectTimeoutError)
            and not isinstance(item, urllib3.exceptions.NewConnectionError)
            for item in chain
        ):
            return ApiTimeout(
                f"timed out connecting to {where} (after {self.timeout:g} s)",
                endpoint=where,
                secrets=secrets,
            )
        if has(requests.exceptions.ReadTimeout, urllib3.exceptions.ReadTimeoutError, TimeoutError):
            return ApiTimeout(
                f"no answer from {where} within {self.timeout:g} s",
                endpoint=where,
                secrets=secrets,
            )
        cert = has(ssl.SSLCertVerificationError)
        if cert is not None:
            detail = getattr(cert, "verify_message", "") or "certificate not trusted"
            return failed(
                f"TLS verification failed ({detail}); set ca_bundle to the CA file, "
                "or verify_tls = false, in the profile"
            )
        tls = has(ssl.SSLError, requests.exceptions.SSLError, urllib3.exceptions.SSLError)
        if tls is not None:
            reason = getattr(tls, "reason", None)
            detail = f" ({reason.lower().replace('_', ' ')})" if isinstance(reason, str) else ""
            return failed(
                f"TLS handshake failed{detail}; check the endpoint's scheme and port, "
                "and ca_bundle / verify_tls in the profile"
            )
        if has(ConnectionRefusedError):
            return failed("connection refused")
        if has(socket.gaierror, urllib3.exceptions.NameResolutionError):
            return failed("host name not resolved")
        if has(ConnectionResetError):
            return failed("connection reset by the server")
        if has(RemoteDisconnected, urllib3.exceptions.ProtocolError, ConnectionAbortedError):
            return failed("the server closed the connection without answering")
        if has(
            requests.exceptions.InvalidURL,
            requests.exceptions.MissingSchema,
            requests.exceptions.InvalidSchema,
            urllib3.exceptions.LocationValueError,
        ):
            return failed("invalid URL")
        if has(requests.exceptions.ChunkedEncodingError, requests.exceptions.ContentDecodingError):
            return failed("the answer was cut off or garbled")
        return failed(f"network error ({type(exc).__name__})")
