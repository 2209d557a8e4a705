"""A hostile API server on 127.0.0.1 for tests: each route answers what a test sets.

Unlike the emulator (a faithful server), this one answers crafted replies:
control characters in messages, wrong JSON types, huge or endless bodies,
bodies dripped a byte at a time or cut off midway, odd headers.

    with HostileServer() as server:
        server.reply("POST", "/auth/request-token", json={"token": "x\\x1b[2J"})
        ... point the client at server.url ...
"""

from __future__ import annotations

import json as jsonlib
import socket
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

#: A body: bytes, or a function giving the chunks to send (for huge or endless bodies).
Body = bytes | Callable[[], Iterable[bytes]]


@dataclass
class Reply:
    """What one route answers."""

    status: int = 200
    body: Body = b"{}"
    headers: dict[str, str] = field(default_factory=lambda: {"Content-Type": "application/json"})
    #: Seconds to wait before each byte (a dripping server); 0 sends at once.
    drip: float = 0.0
    #: Announce this Content-Length (None: the body's own; with a callable body, none
    #: is sent and the connection closes after the body).
    length: int | None = None


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _Server

    def log_message(self, format: str, *args: Any) -> None:  # quiet
        pass

    def _serve(self) -> None:
        size = int(self.headers.get("Content-Length") or 0)
        request_body = self.rfile.read(size) if size else b""
        path = self.path.split("?", 1)[0]
        self.server.requests.append((self.command, self.path, dict(self.headers), request_body))
        reply = self.server.routes.get((self.command, path)) or self.server.routes.get(
            (self.command, "*")) or Reply(404, jsonlib.dumps(
                {"error": "NotFound", "message": "no such route"}).encode())
        body = reply.body
        self.send_response(reply.status)
        for key, value in reply.headers.items():
            self.send_header(key, value)
        if isinstance(body, bytes):
            self.send_header("Content-Length", str(reply.length if reply.length is not None
                                                   else len(body)))
            chunks: Iterable[bytes] = [body]
        else:
            if reply.length is not None:
                self.send_header("Content-Length", str(reply.length))
            self.send_header("Connection", "close")
            self.close_connection = True
            chunks = body()
        self.end_headers()
        try:
            for chunk in chunks:
                if reply.drip:
                    for byte in chunk:
                        time.sleep(reply.drip)
                        self.wfile.write(bytes([byte]))
                        self.wfile.flush()
                else:
                    self.wfile.write(chunk)
            self.wfile.flush()
        except OSError:  # the client gave up: what a test wants to see
            self.close_connection = True
            return
        if reply.length is not None and isinstance(body, bytes) and reply.length > len(body):
            self.close_connection = True  # cut off midway

    do_GET = do_POST = do_PUT = do_DELETE = _serve


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False
    routes: dict[tuple[str, str], Reply]
    requests: list[tuple[str, str, dict[str, str], bytes]]


class HostileServer:
    """A loopback HTTP server whose answers the test sets route by route."""

    def __init__(self) -> None:
        self._server = _Server(("127.0.0.1", 0), _Handler)
        self._server.routes = {}
        self._server.requests = []
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        """``http://127.0.0.1:PORT``."""
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    @property
    def requests(self) -> list[tuple[str, str, dict[str, str], bytes]]:
        """(method, path, headers, body) of each request received, in order."""
        return self._server.requests

    def reply(self, method: str, path: str, *, status: int = 200, json: Any = None,
              body: Body | None = None, headers: dict[str, str] | None = None,
              **more: Any) -> None:
        """Set what ``method path`` answers (``path`` ``*``: any path of that method).
        ``json`` is dumped as is (``allow_nan``: a test may send NaN)."""
        if json is not None:
            body = jsonlib.dumps(json).encode()
        reply = Reply(status=status, body=b"{}" if body is None else body, **more)
        if headers is not None:
            reply.headers = headers
        self._server.routes[(method, path)] = reply

    def start(self) -> HostileServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def __enter__(self) -> HostileServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def free_port() -> int:
    """A port nothing listens on (for connection-refused cases)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]
