"""The HTTP client of the VSS API (MFA subset): one method per contract call.

This module imports ``requests``; import it only when a client is needed.
"""

from __future__ import annotations

import base64
import math
import os
import platform
import socket
import ssl
import warnings
from collections.abc import Iterable, Iterator, Mapping
from http.client import HTTPException, LineTooLong, RemoteDisconnected
from typing import Any
from urllib.parse import quote, urlsplit

import requests
import urllib3.exceptions

from vss_shell import __version__
from vss_shell.api import netenv, replies
from vss_shell.api.errors import (
    ApiTimeout,
    ConnectionFailed,
    HttpError,
    InvalidEndpoint,
    InvalidResponse,
    TransportError,
    error_from_response,
    excerpt,
    secret_forms,
)
from vss_shell.api.jsontext import JsonError, loads
from vss_shell.api.limits import MAX_BODY, MAX_RETRIES, MAX_TIMEOUT
from vss_shell.api.token import Token, TokenFormatError
from vss_shell.api.transport import (
    BodyCutOff,
    BodyTooLarge,
    Deadline,
    GetOnlyRetry,
    Watchdog,
    WatchedAdapter,
    read_body,
)
from vss_shell.constants import (
    PATH_TF_DISABLE,
    PATH_TF_ENABLE,
    PATH_TF_REQUEST,
    PATH_TF_VERIFY,
    PATH_TOKEN,
    PATH_USER,
    SUCCESS_STATUSES,
)

__all__ = ["MAX_TIMEOUT", "RETRY_STATUSES", "VssClient", "user_agent"]

#: Statuses on which a GET is retried.
RETRY_STATUSES = (502, 503, 504)
#: The old name of the retry policy (tests import it from here).
_GetOnlyRetry = GetOnlyRetry
#: Exceptions a request may raise that are not a bug of the caller.
_REQUEST_FAILURES = (requests.RequestException, urllib3.exceptions.HTTPError, OSError, ValueError)


def user_agent() -> str:
    """``vss-shell/<version> (<system>/<release>) Python/<ver>``."""
    return (
        f"vss-shell/{__version__} ({platform.system()}/{platform.release()}) "
        f"Python/{platform.python_version()}"
    )


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


def _basic_spellings(user: bytes, password: bytes) -> tuple[str, str, str]:
    """The ``Authorization: Basic`` header value, its base64 alone, and that without
    padding: a server that echoes the header must not show the password in any form."""
    encoded = base64.b64encode(user + b":" + password).decode("ascii")
    return f"Basic {encoded}", encoded, encoded.rstrip("=")


def _number(name: str, value: Any, low: float, high: float) -> float:
    """``value`` as a finite number in (``low``, ``high``]; ValueError otherwise."""
    try:
        number = float(value)
    except (TypeError, ValueError):
        number = math.nan
    if isinstance(value, bool) or not (math.isfinite(number) and low < number <= high):
        raise ValueError(f"{name} must be a number above {low:g} and at most {high:g}, "
                         f"not {value!r}")
    return number


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

    Credentials are passed to each call and never kept. ``timeout`` bounds each
    whole call (connect, answer, body and retries). GETs are retried on
    connection errors and 502/503/504 (``retries`` times, exponential
    ``backoff``); POSTs never are. Proxy and CA settings come from the
    environment once, at creation (:attr:`net`). Every failure raises an
    :class:`~vss_shell.api.errors.ApiError`; a reply not as the contract says is
    an :class:`~vss_shell.api.errors.InvalidResponse`.
    """

    def __init__(
        self,
        endpoint: str,
        *,
        timeout: float = 30.0,
        verify: bool | str = True,
        retries: int = 3,
        backoff: float = 0.2,
        env: Mapping[str, str] | None = None,
    ) -> None:
        self.endpoint = _normalize_endpoint(endpoint)
        #: Seconds the whole of one call may take (connect, headers, body, retries).
        self.timeout = _number("timeout", timeout, 0.0, MAX_TIMEOUT)
        self.retries = int(_number("retries", retries, -1, MAX_RETRIES))
        backoff = max(0.0, _number("backoff", backoff, -1.0, 60.0))
        #: Proxy and CA settings, read once from ``env`` (``os.environ``).
        self.net: netenv.NetEnv = netenv.resolve(self.endpoint, env)
        # An explicit verify (False, or the profile's ca_bundle) wins; else the
        # environment's bundle, as requests would have taken it.
        if verify is True and self.net.ca_bundle:
            verify = self.net.ca_bundle
        self.verify = verify
        session = requests.Session()
        # Nothing from the environment per request (proxies, CA bundle, .netrc): what
        # it says was resolved once, above, with loopback never proxied.
        session.trust_env = False
        session.proxies = self.net.proxies
        self._https = self.endpoint.lower().startswith("https:")
        # Over http nothing is verified: leave requests nothing to look up per request.
        session.verify = verify if self._https else True
        session.headers.update(
            {
                "User-Agent": user_agent(),
                "Content-Type": "application/json",
                "Accept": "application/json",
                "Accept-Encoding": "identity",  # small JSON: no decompression bombs
            }
        )
        retry = GetOnlyRetry(
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
        adapter = WatchedAdapter(max_retries=retry)
        session.mount("https://", adapter)
        session.mount("http://", adapter)
        self._session = session
        #: The session's headers, checked once by requests: each request gets a copy.
        self._headers = requests.PreparedRequest()
        self._headers.prepare_headers(session.headers)
        #: Each URL as requests prepared it (parsed, checked, quoted) the first time;
        #: not that of a call given secrets of its own (a mailed token is part of one
        #: path), at most 32.
        self._urls: dict[str, str] = {}
        #: The spellings of the last few sets of secrets (every call of a session
        #: sends the same token), until :meth:`forget_secrets`.
        self._forms: dict[tuple[str, ...], tuple[str, ...]] = {}
        self._watchdog = Watchdog()
        self._options: dict[str, Any] = {
            "timeout": (self.timeout, self.timeout),  # per recv; the watchdog bounds the call
            "allow_redirects": False,
            "stream": True,  # read by read_body: bounded in size and time
            "proxies": self.net.proxies,
            "verify": session.verify,
            "cert": None,
        }

    # --- lifecycle ------------------------------------------------------------------------

    def warm(self) -> None:
        """Make the connection pool the first call will take, as a call makes it (the
        shell does this while the person types). Nothing is sent, nothing connects."""
        prepared = self._prepare("GET", self.endpoint + "/", {})
        self._session.get_adapter(prepared.url).get_connection_with_tls_context(
            prepared, self._options["verify"], proxies=self._options["proxies"], cert=None)

    def forget_secrets(self) -> None:
        """Drop what the client remembers of secrets (logout, another user)."""
        self._forms.clear()

    def close(self) -> None:
        """Close the session and its pooled connections."""
        self.forget_secrets()
        self._session.close()
        self._watchdog.close()

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
        if not isinstance(raw, str):
            raise InvalidResponse("the server's answer holds no token", status=200)
        # As sent, not stripped: a token with CR/LF around it is no header value either.
        reason = "whitespace around it" if raw != raw.strip() else None
        if reason is None:
            try:
                return Token.parse(raw)
            except TokenFormatError as exc:
                reason = str(exc)
        raise InvalidResponse(  # outside the except: nothing chained to it
            f"the server sent a malformed token ({reason})", status=200,
            secrets=(raw, raw.strip()),
        )

    def request_code(self, user: str, password: str) -> dict:
        """``POST /tf/request-token``: have an EMAIL/SMS code sent; ``{message, type}``."""
        return self._call("POST", PATH_TF_REQUEST, basic=(user, password))

    def enable_mfa(self, user: str, password: str, method: str, phone: str | None = None) -> dict:
        """``POST /tf/enable``: start enrolment; the flat response (``key``/``uri``...)."""
        body: dict[str, Any] = {"method": method}
        if phone is not None:
            body["phone"] = phone
        reply = self._call("POST", PATH_TF_ENABLE, basic=(user, password), body=body)
        return replies.check_enrolment(reply, method)

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
        return replies.check_mfa_status(totp)

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
        url_has_secret = bool(secret_list)
        kwargs = dict(self._options)
        if body is not None:
            kwargs["json"] = body
        if basic is not None:
            credential = (_credential(basic[0]), _credential(basic[1]))
            secret_list.append(basic[1])
            secret_list.extend(_basic_spellings(*credential))
            kwargs["auth"] = credential
        if bearer is not None:
            raw = bearer.raw if isinstance(bearer, Token) else str(bearer)
            secret_list.extend((f"Bearer {raw}", raw))
            kwargs["auth"] = _BearerAuth(raw)

        failure: TransportError | InvalidResponse | HttpError | None = None
        status, headers, content, encoding = 0, {}, b"", None
        deadline = self._watchdog.begin(self.timeout)
        try:
            try:
                prepared = self._prepare(method, self.endpoint + path, kwargs,
                                         keep_url=not url_has_secret)
                if self.verify is False:
                    with warnings.catch_warnings():
                        # verify_tls = false is the user's choice; the shell says so.
                        warnings.simplefilter(
                            "ignore", urllib3.exceptions.InsecureRequestWarning
                        )
                        response = self._session.send(prepared, **kwargs)
                else:
                    response = self._session.send(prepared, **kwargs)
            except _REQUEST_FAILURES as exc:
                failure = self._transport_error(exc, secret_list, deadline)
            else:
                status, headers, encoding = (
                    response.status_code, response.headers, response.encoding
                )
                try:
                    content = read_body(response.raw, deadline, MAX_BODY)
                except (BodyTooLarge, BodyCutOff, TimeoutError, urllib3.exceptions.HTTPError,
                        OSError) as exc:
                    failure = self._body_error(exc, status, headers, body, bearer, secret_list)
                finally:
                    response.close()
        finally:
            self._watchdog.end(deadline)
        if failure is not None:
            # Raised outside the ``except`` blocks: no requests exception (whose text
            # may hold a URL with a secret in it) is chained to ours.
            raise failure
        otp_sent = body is not None and bool(body.get("otp"))
        data = self._read(
            status,
            headers,
            self._text(content, encoding),
            otp_sent=otp_sent,
            bearer=bearer is not None,
            secrets=secret_list,
        )
        return replies.scrub_reply(replies.text_fields(data), self._secret_forms(secret_list))

    def _secret_forms(self, secrets: Iterable[str | None]) -> tuple[str, ...]:
        """:func:`~vss_shell.api.errors.secret_forms`, remembered for the last four sets."""
        key = tuple(secret for secret in secrets if secret)
        forms = self._forms.get(key)
        if forms is None:
            if len(self._forms) >= 4:
                del self._forms[next(iter(self._forms))]
            forms = self._forms[key] = secret_forms(key)
        return forms

    def _prepare(self, method: str, url: str, kwargs: dict[str, Any], *,
                 keep_url: bool = True) -> requests.PreparedRequest:
        """The request, prepared from the session's headers alone: the session keeps
        no cookies, hooks or parameters to merge (``Session.request`` merges seven
        settings per request), and proxies and CAs were resolved once. The URL and
        the headers are prepared once (the shell calls a handful of paths) and
        copied; the body and the credentials, each time. A URL that holds a secret
        (``keep_url`` False) is not kept."""
        prepared = requests.PreparedRequest()
        prepared.prepare_method(method)
        if url in self._urls:
            prepared.url = self._urls[url]
        else:
            prepared.prepare_url(url, None)
            if keep_url and len(self._urls) < 32:
                self._urls[url] = prepared.url
        prepared.headers = self._headers.headers.copy()
        prepared.prepare_body(None, None, kwargs.pop("json", None))
        prepared.prepare_auth(kwargs.pop("auth", None), url)
        # No cookie is ever sent; the jar only serves requests' look at a redirect,
        # which is reported, never followed.
        prepared._cookies = requests.cookies.RequestsCookieJar()  # type: ignore[attr-defined]
        return prepared

    def _body_error(
        self,
        exc: BaseException,
        status: int,
        headers: Mapping[str, str],
        body: dict[str, Any] | None,
        bearer: Token | str | None,
        secrets: list[str | None],
    ) -> TransportError | InvalidResponse | HttpError:
        """The error for a body that could not be read whole."""
        where = self.endpoint
        if isinstance(exc, TimeoutError):
            return ApiTimeout(
                f"no answer from {where} within {self.timeout:g} s (HTTP {status} came, "
                "its body did not)",
                endpoint=where,
                secrets=secrets,
            )
        if isinstance(exc, BodyCutOff):
            of = f" of {exc.expected}" if exc.expected is not None else ""
            done = "; the request may have been carried out" if bearer is None else ""
            return ConnectionFailed(
                f"the answer from {where} was cut off (HTTP {status}, {exc.got}{of} bytes)"
                + done,
                endpoint=where,
                secrets=secrets,
            )
        limit = f"{MAX_BODY // (1024 * 1024)} MiB"
        if isinstance(exc, BodyTooLarge):
            if status >= 400:
                return error_from_response(
                    status,
                    "",
                    headers=headers,
                    bearer=bearer is not None,
                    secrets=secrets,
                    note=f"an answer larger than {limit}, not read",
                )
            return InvalidResponse(
                f"the server answered HTTP {status} with a body larger than {limit}: refused",
                status=status,
            )
        return InvalidResponse(
            f"the server answered HTTP {status} with a body that cannot be decoded "
            f"(Content-Encoding {excerpt(headers.get('Content-Encoding') or '?', 30)})",
            status=status,
        )

    @staticmethod
    def _text(content: bytes, encoding: str | None) -> str:
        try:
            return content.decode(encoding or "utf-8", errors="replace")
        except LookupError:
            return content.decode("utf-8", errors="replace")

    def _read(
        self,
        status: int,
        headers: Mapping[str, str],
        text: str,
        *,
        otp_sent: bool,
        bearer: bool,
        secrets: list[str | None],
    ) -> dict:
        content_type = headers.get("Content-Type", "")
        if status >= 400:
            raise error_from_response(
                status,
                text,
                content_type=content_type,
                headers=headers,
                otp_sent=otp_sent,
                bearer=bearer,
                secrets=secrets,
            )
        if status not in SUCCESS_STATUSES:
            where = headers.get("Location")
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
                f"the server answered HTTP {status} with "
                f"{excerpt(content_type, 60) or 'no content type'}, "
                f"not JSON: {excerpt(text, secrets=secrets)}",
                status=status,
                secrets=secrets,
            )
        try:
            data = loads(text)
        except JsonError as exc:
            reason = str(exc)
            data = None
        if data is None:
            raise InvalidResponse(
                f"the server answered HTTP {status} with malformed JSON ({reason}): "
                + excerpt(text, 40, secrets=secrets),
                status=status,
                secrets=secrets,
            )
        if not isinstance(data, dict):
            raise InvalidResponse(
                f"the server answered HTTP {status} with JSON that is not an object",
                status=status,
            )
        return data

    def _transport_error(
        self, exc: BaseException, secrets: Iterable[str | None], deadline: Deadline
    ) -> TransportError | InvalidResponse:
        """Map a ``requests``/``urllib3``/socket exception to a safe, one-line error."""
        where = self.endpoint
        chain = list(_exception_chain(exc))

        def has(*types: type[BaseException]) -> BaseException | None:
            return next((item for item in chain if isinstance(item, types)), None)

        def failed(reason: str) -> ConnectionFailed:
            return ConnectionFailed(
                f"cannot connect to {where}: {reason}", endpoint=where, secrets=secrets
            )

        if self._https and isinstance(self.verify, str) and not os.path.exists(self.verify):
            from_env = self.verify == self.net.ca_bundle
            source = self.net.ca_source if from_env else "ca_bundle in the profile"
            return failed(f"CA bundle {self.verify!r} not found; check {source}")
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
        if deadline.passed() or has(
            requests.exceptions.ReadTimeout, urllib3.exceptions.ReadTimeoutError, TimeoutError
        ):
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
        if self.net.proxy and has(requests.exceptions.ProxyError, urllib3.exceptions.ProxyError):
            return failed(f"the proxy {self.net.proxy} (from {self.net.proxy_source}) failed")
        if has(ConnectionRefusedError):
            return failed("connection refused")
        if has(socket.gaierror, urllib3.exceptions.NameResolutionError):
            return failed("host name not resolved")
        if has(ConnectionResetError):
            return failed("connection reset by the server")
        if has(LineTooLong, UnicodeError) or any(
                isinstance(item, HTTPException) and "headers" in str(item) for item in chain):
            # An answer came, but not one HTTP can read (the request may have been acted on).
            return InvalidResponse(f"the answer from {where} has headers too many, too long "
                                   "or not readable", secrets=secrets)
        if has(RemoteDisconnected, urllib3.exceptions.ProtocolError, ConnectionAbortedError):
            return failed("the server closed the connection without answering")
        if has(
            requests.exceptions.InvalidURL,
            requests.exceptions.MissingSchema,
            requests.exceptions.InvalidSchema,
            urllib3.exceptions.LocationValueError,
        ):
            return failed("invalid URL")
        return failed(f"network error ({type(exc).__name__})")
