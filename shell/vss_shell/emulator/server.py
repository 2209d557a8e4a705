"""The HTTP front of the emulator: routes requests to :class:`EmulatorState`.

Standard library only: a :class:`ThreadingHTTPServer` speaking HTTP/1.1 with
keep-alive; every response is JSON with a ``Content-Length``.
"""

from __future__ import annotations

import contextlib
import json
import re
import socket
import threading
import time
import traceback
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

from vss_shell import __version__
from vss_shell.constants import (
    PATH_EMU_CLOCK,
    PATH_EMU_FAIL,
    PATH_EMU_OUTBOX,
    PATH_EMU_STATS,
    PATH_TF_DISABLE,
    PATH_TF_ENABLE,
    PATH_TF_REQUEST,
    PATH_TF_VERIFY,
    PATH_TOKEN,
    PATH_USER,
)

from .account_state import Account
from .errors import ApiError, error_body
from .state import EmulatorState

MAX_BODY = 1 << 20
_DISABLE_CONFIRM = re.compile(re.escape(PATH_TF_DISABLE) + r"/([^/]+)")

# A route: (method, auth "basic" | "bearer", needs a JSON object body, operation).
_Op = Callable[[EmulatorState, Account, Any], dict[str, Any]]
_ROUTES: dict[str, tuple[str, str, bool, _Op]] = {
    PATH_TOKEN: ("POST", "basic", True, lambda s, a, b: s.request_token(a, b)),
    PATH_TF_REQUEST: ("POST", "basic", False, lambda s, a, b: s.tf_request(a)),
    PATH_TF_ENABLE: ("POST", "basic", True, lambda s, a, b: s.tf_enable(a, b)),
    PATH_TF_VERIFY: ("POST", "basic", True, lambda s, a, b: s.tf_verify(a, b)),
    PATH_TF_DISABLE: ("POST", "basic", False, lambda s, a, b: s.tf_disable(a)),
    PATH_USER: ("GET", "bearer", False, lambda s, a, b: s.user(a)),
}
_CONFIRM_ROUTE = ("POST", "basic", False, None)


class EmulatorServer(ThreadingHTTPServer):
    """A threading HTTP server that counts and can cut its client connections."""

    daemon_threads = True
    block_on_close = False

    def __init__(self, address: tuple[str, int], state: EmulatorState, delay: float = 0.0) -> None:
        if ":" in address[0]:
            self.address_family = socket.AF_INET6
        self.state = state
        #: Seconds each API answer waits before it is sent (a slower network or server).
        self.delay = delay
        self._clients: set[socket.socket] = set()
        self._clients_lock = threading.Lock()
        super().__init__(address, EmulatorHandler)

    def process_request(self, request: Any, client_address: Any) -> None:
        self.state.count_connection()
        with self._clients_lock:
            self._clients.add(request)
        super().process_request(request, client_address)

    def shutdown_request(self, request: Any) -> None:
        with self._clients_lock:
            self._clients.discard(request)
        super().shutdown_request(request)

    def close_clients(self) -> None:
        """Cut every open client connection (so no handler thread outlives the server)."""
        with self._clients_lock:
            clients = list(self._clients)
        for sock in clients:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)


class EmulatorHandler(BaseHTTPRequestHandler):
    """One client connection; requests are handled in turn (keep-alive)."""

    protocol_version = "HTTP/1.1"
    server_version = f"vss-emulator/{__version__}"
    sys_version = ""
    timeout = 300
    # One write per response (headers and body together), sent at once: no Nagle delay.
    wbufsize = 1 << 16
    disable_nagle_algorithm = True
    server: EmulatorServer

    def log_message(self, format: str, *args: Any) -> None:
        """No access log (it could show secrets in paths); the outbox logs on its own."""

    # -- responses --------------------------------------------------------------------

    def _send(self, status: int, body: Any, headers: dict[str, str] | None = None) -> None:
        data = json.dumps(body).encode("utf-8")
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        if self.close_connection:
            self.send_header("Connection", "close")
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)

    def send_error(self, code: int, message: str | None = None, explain: str | None = None) -> None:
        """Errors found by :mod:`http.server` itself (bad request line...), as JSON."""
        self.close_connection = True
        self._send(code, error_body(code, message or self.responses.get(code, ("Error",))[0]))

    # -- requests ---------------------------------------------------------------------

    def _read_body(self) -> bytes:
        """The request body (empty when none); raises ApiError (and closes) when unreadable."""
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            self.close_connection = True
            raise ApiError(400, "chunked request bodies are not supported")
        length = self.headers.get("Content-Length", "0").strip() or "0"
        if not length.isdigit() or int(length) > MAX_BODY:
            self.close_connection = True
            raise ApiError(400, "bad or too large Content-Length")
        return self.rfile.read(int(length)) if int(length) else b""

    def _dispatch(self) -> None:
        try:
            body = self._read_body()
            path = urlsplit(self.path).path
            if path.startswith("/_emulator/"):
                self._send(200, self._hook(path, body))
                return
            if self.server.delay > 0:
                time.sleep(self.server.delay)
            self._api(path, body)
        except ApiError as exc:
            self._send(exc.status, exc.body, exc.headers)
        except Exception:  # a bug in the emulator: say so, keep serving
            traceback.print_exc()
            self.close_connection = True
            self._send(500, error_body(500, "emulator internal error"))

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_OPTIONS = do_HEAD = _dispatch

    def _api(self, path: str, body: bytes) -> None:
        state = self.server.state
        match = _DISABLE_CONFIRM.fullmatch(path)
        key = f"{self.command} {PATH_TF_DISABLE}/<token>" if match else f"{self.command} {path}"
        state.count_request(key)
        status = state.take_failure()
        if status is not None:
            raise ApiError(status, "injected failure (emulator fail_next)")
        route = _CONFIRM_ROUTE if match else _ROUTES.get(path)
        if route is None:
            raise ApiError(404, f"no such endpoint: {path}")
        method, auth, needs_json, operation = route
        if self.command != method:
            raise ApiError(405, f"{self.command} is not allowed here", {"Allow": method})
        header = self.headers.get("Authorization")
        account = state.basic(header) if auth == "basic" else state.bearer(header)
        if body and self._media_type() != "application/json":
            raise ApiError(415, "request body must be JSON (Content-Type: application/json)")
        payload: Any = None
        if needs_json:
            payload = _json_object(body)
        if match:
            self._send(200, state.tf_disable_confirm(account, unquote(match.group(1))))
        else:
            self._send(200, operation(state, account, payload))

    def _media_type(self) -> str:
        return self.headers.get("Content-Type", "").split(";")[0].strip().lower()

    def _hook(self, path: str, body: bytes) -> Any:
        """The test hooks under ``/_emulator/``.

        ``GET /_emulator/stats`` gives the counters; ``DELETE /_emulator/stats`` gives
        them and zeroes them (a benchmark's next measurement starts from nothing).
        """
        state = self.server.state
        want = {PATH_EMU_OUTBOX: ("GET",), PATH_EMU_STATS: ("GET", "DELETE")}.get(path, ("POST",))
        if path not in (PATH_EMU_OUTBOX, PATH_EMU_STATS, PATH_EMU_FAIL, PATH_EMU_CLOCK):
            raise ApiError(404, f"no such emulator hook: {path}")
        if self.command not in want:
            allow = ", ".join(want)
            raise ApiError(405, f"{self.command} is not allowed here", {"Allow": allow})
        if path == PATH_EMU_OUTBOX:
            to = parse_qs(urlsplit(self.path).query).get("to", [None])[0]
            return state.outbox(to)
        if path == PATH_EMU_STATS:
            stats = state.stats()
            if self.command == "DELETE":
                state.reset_stats()
            return stats
        payload = _json_object(body)
        try:
            if path == PATH_EMU_FAIL:
                count = _number(payload, "count", int)
                state.fail_next(count, _number(payload, "status", int, 503))
            else:
                state.advance(_number(payload, "advance", float))
        except ValueError as exc:
            raise ApiError(400, str(exc)) from None
        return {"message": "ok", "type": "info"}


def _json_object(body: bytes) -> dict[str, Any]:
    """``body`` parsed as a JSON object, else a 400."""
    try:
        value = json.loads(body) if body else None
    except (ValueError, UnicodeDecodeError):
        raise ApiError(400, "request body is not valid JSON") from None
    if not isinstance(value, dict):
        raise ApiError(400, "request body must be a JSON object")
    return value


def _number(payload: dict[str, Any], name: str, kind: type, default: Any = None) -> Any:
    value = payload.get(name, default)
    if isinstance(value, bool) or not isinstance(value, (int, float) if kind is float else int):
        raise ApiError(400, f"{name} must be a number")
    return value
