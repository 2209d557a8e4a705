"""The HTTP plumbing under :class:`~vss_shell.api.client.VssClient`: one deadline for
the whole request, the retry policy, and the one place that reads a body.

urllib3's timeouts bound each ``recv``, so a server dripping a byte at a time
holds a request for ever. Here every call gets a :class:`Deadline`: the client's
:class:`Watchdog` thread shuts down the socket of the call's connection when the
deadline passes (the connection classes below tell it which socket), a
connection is only opened for the time left, a retry is never started after
the deadline, and :func:`read_body` checks it between chunks. This module
imports ``requests``.
"""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from http.client import HTTPException
from typing import Any

import urllib3.exceptions
from requests.adapters import HTTPAdapter
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool
from urllib3.util.retry import Retry

from vss_shell.api.errors import parse_retry_after
from vss_shell.api.limits import MAX_BODY

__all__ = [
    "BodyCutOff",
    "BodyTooLarge",
    "Deadline",
    "GetOnlyRetry",
    "Watchdog",
    "WatchedAdapter",
    "current",
    "read_body",
]

#: How much of a body is read at a time.
_CHUNK = 65536

_local = threading.local()


class Deadline:
    """The end of one call's time, and the connection it is using."""

    __slots__ = ("_conn", "_done", "_lock", "at", "expired")

    def __init__(self, at: float, lock: threading.Lock) -> None:
        self.at = at
        #: Set (by the watchdog) once the deadline passed while the call was running.
        self.expired = False
        self._conn: HTTPConnection | None = None
        self._lock = lock
        self._done = False

    def left(self) -> float:
        """Seconds left (0 once passed)."""
        return max(0.0, self.at - time.monotonic())

    def passed(self) -> bool:
        """True once the deadline has passed (whether or not the watchdog has fired)."""
        return self.expired or time.monotonic() >= self.at

    def attach(self, conn: HTTPConnection) -> None:
        """Note the connection the call now uses; cut it at once if time is up."""
        with self._lock:
            self._conn = conn
            fire = self.expired
        if fire or time.monotonic() >= self.at:
            self.fire()

    def fire(self) -> None:
        """Time is up: shut the connection's socket down (a blocked read returns)."""
        with self._lock:
            if self._done:
                return
            self.expired = True
            sock = getattr(self._conn, "sock", None)
        if sock is not None:
            # The plain socket's shutdown: an SSLSocket's would drop its TLS state.
            with contextlib.suppress(OSError):
                socket.socket.shutdown(sock, socket.SHUT_RDWR)

    def finish(self) -> None:
        """The call is over: the watchdog must not touch its connection any more."""
        with self._lock:
            self._done = True
            self._conn = None


def current() -> Deadline | None:
    """The deadline of the call running in this thread, if any."""
    return getattr(_local, "deadline", None)


class Watchdog:
    """One thread per client that fires each call's :class:`Deadline` when it passes.

    Per call it costs a lock and a set update; the thread wakes about once per
    timeout while calls follow one another, and sleeps while none runs.
    """

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._running: set[Deadline] = set()
        self._wake_at: float | None = None
        self._thread: threading.Thread | None = None
        self._closed = False

    def begin(self, seconds: float) -> Deadline:
        """Start a call that must end within ``seconds``; it becomes this thread's call."""
        deadline = Deadline(time.monotonic() + seconds, threading.Lock())
        with self._cond:
            self._running.add(deadline)
            if self._thread is None:
                self._thread = threading.Thread(
                    target=self._run, name="vss-deadline", daemon=True
                )
                self._thread.start()
            elif self._wake_at is None or deadline.at < self._wake_at:
                self._cond.notify()
        _local.deadline = deadline
        return deadline

    def end(self, deadline: Deadline) -> None:
        """The call is over (whatever its outcome)."""
        deadline.finish()
        _local.deadline = None
        with self._cond:
            self._running.discard(deadline)

    def close(self) -> None:
        """Stop the thread (a later call starts it again)."""
        with self._cond:
            self._closed = True
            self._cond.notify()
            thread, self._thread = self._thread, None
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout=1)
        with self._cond:
            self._closed = False

    def _run(self) -> None:
        with self._cond:
            while not self._closed:
                now = time.monotonic()
                for deadline in [d for d in self._running if d.at <= now]:
                    self._running.discard(deadline)
                    deadline.fire()
                self._wake_at = min((d.at for d in self._running), default=None)
                self._cond.wait(None if self._wake_at is None else self._wake_at - now)


# --- connections that tell the deadline which socket to cut ------------------------------


class _Watched:
    """Mixin of the urllib3 connection classes: attach to the running call's deadline."""

    timeout: Any

    def connect(self) -> None:
        deadline = current()
        if deadline is not None:
            left = deadline.left()
            if left <= 0:
                raise urllib3.exceptions.ConnectTimeoutError(self, "the deadline passed")
            if not isinstance(self.timeout, int | float) or self.timeout > left:
                self.timeout = left  # connect (and TLS handshake) within the time left
            deadline.attach(self)  # type: ignore[arg-type]
        super().connect()  # type: ignore[misc]

    def request(self, *args: Any, **kwargs: Any) -> None:
        deadline = current()
        if deadline is not None:
            deadline.attach(self)  # type: ignore[arg-type]
        super().request(*args, **kwargs)  # type: ignore[misc]


class _HTTPConnection(_Watched, HTTPConnection):
    pass


class _HTTPSConnection(_Watched, HTTPSConnection):
    pass


class _HTTPPool(HTTPConnectionPool):
    ConnectionCls = _HTTPConnection


class _HTTPSPool(HTTPSConnectionPool):
    ConnectionCls = _HTTPSConnection


_POOLS = {"http": _HTTPPool, "https": _HTTPSPool}


class WatchedAdapter(HTTPAdapter):
    """An ``HTTPAdapter`` whose connections (direct or through a proxy) are watched."""

    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        super().init_poolmanager(*args, **kwargs)
        self.poolmanager.pool_classes_by_scheme = _POOLS

    def proxy_manager_for(self, proxy: str, **proxy_kwargs: Any) -> Any:
        manager = super().proxy_manager_for(proxy, **proxy_kwargs)
        if not proxy.lower().startswith("socks"):  # SOCKS has pool classes of its own
            manager.pool_classes_by_scheme = _POOLS
        return manager


# --- retries ----------------------------------------------------------------------------


class GetOnlyRetry(Retry):
    """urllib3 ``Retry`` that never retries a method outside ``allowed_methods``.

    Plain ``Retry`` retries connect errors for every method; this one treats any
    failure of another method (POST) as final. It also retries only on
    ``status_forcelist`` (not on any 429/503 that carries ``Retry-After``), never
    after a read timeout (the user would wait ``retries + 1`` timeouts), never
    once the call's deadline has passed or a wait would pass it, and gives up at
    once when the server asks for a wait longer than :attr:`MAX_RETRY_AFTER`
    seconds, so the caller can report it. A ``Retry-After`` that is neither
    delta-seconds nor an HTTP date is ignored (plain ``Retry`` raises on it).
    """

    MAX_RETRY_AFTER = 10.0

    def is_retry(self, method: str, status_code: int, has_retry_after: bool = False) -> bool:
        return self._is_method_retryable(method) and status_code in (self.status_forcelist or ())

    def get_retry_after(self, response: Any) -> float | None:
        return parse_retry_after(response.headers.get("Retry-After"))

    def increment(  # type: ignore[override]
        self,
        method: str | None = None,
        url: str | None = None,
        response: Any = None,
        error: Exception | None = None,
        _pool: Any = None,
        _stacktrace: Any = None,
    ) -> Retry:
        deadline = current()
        spent = (
            method is None
            or not self._is_method_retryable(method)
            or isinstance(error, urllib3.exceptions.ReadTimeoutError)
            or (deadline is not None and deadline.passed())
        )
        if not spent:
            wait = self.get_retry_after(response) if response is not None else None
            wait = self.get_backoff_time() if wait is None else wait
            spent = (wait > self.MAX_RETRY_AFTER and response is not None) or (
                deadline is not None and wait >= deadline.left()
            )
        target: Retry = self.new(total=0) if spent else self
        # With total=0 the base class raises MaxRetryError (or re-raises) at once.
        return Retry.increment(target, method, url, response, error, _pool, _stacktrace)


# --- the body ---------------------------------------------------------------------------


class BodyTooLarge(Exception):
    """The body is larger than the limit (``size``: what Content-Length said, if it did)."""

    def __init__(self, size: int | None = None) -> None:
        super().__init__(size)
        self.size = size


class BodyCutOff(Exception):
    """The connection ended before the body did (``got`` of ``expected`` bytes)."""

    def __init__(self, got: int, expected: int | None) -> None:
        super().__init__(got, expected)
        self.got, self.expected = got, expected


def _announced(raw: Any) -> int | None:
    text = (raw.headers.get("Content-Length") or "").strip()
    return int(text) if text.isascii() and text.isdigit() and len(text) < 19 else None


def read_body(raw: Any, deadline: Deadline | None, limit: int = MAX_BODY) -> bytes:
    """Read the body of a streamed urllib3 response, at most ``limit`` bytes, within
    ``deadline``. A Content-Length over the limit is refused before reading.

    Raises :class:`BodyTooLarge`, :class:`BodyCutOff` (the connection broke, or
    ended before Content-Length), ``TimeoutError`` (the deadline passed), or
    urllib3's ``DecodeError`` (a Content-Encoding that does not decode).
    """
    announced = _announced(raw)
    if announced is not None and announced > limit:
        raise BodyTooLarge(announced)
    chunks: list[bytes] = []
    size = 0
    while True:
        try:
            chunk = raw.read(_CHUNK)
        except (urllib3.exceptions.ProtocolError, OSError, HTTPException):
            # The headers came: whatever broke the connection cut the answer off.
            if deadline is not None and deadline.passed():
                raise TimeoutError from None
            raise BodyCutOff(size, announced) from None
        if deadline is not None and deadline.passed():
            raise TimeoutError
        if not chunk:
            break
        size += len(chunk)
        if size > limit:
            raise BodyTooLarge(announced)
        chunks.append(chunk)
    return chunks[0] if len(chunks) == 1 else b"".join(chunks)
