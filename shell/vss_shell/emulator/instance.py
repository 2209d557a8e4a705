""":class:`Emulator`: the API emulator as a Python object (tests, ``vss --demo``)."""

from __future__ import annotations

import sys
import threading
from collections.abc import Callable
from pathlib import Path
from types import TracebackType
from typing import Any, TextIO, cast

from .accounts import load_file, load_shipped, parse_accounts
from .outbox import CurrentStderr
from .server import EmulatorServer
from .state import EmulatorState

_STDERR = sys.stderr


class Emulator:
    """A local VSS API server with the MFA rules of the contract, plus test hooks.

    ``accounts`` (a ``{username: table}`` dict) or ``accounts_file`` (TOML with
    ``[accounts.USERNAME]`` tables) give the accounts; with neither, the shipped
    ``config/emulator.toml``. Invalid accounts raise
    :class:`~vss_shell.emulator.accounts.AccountsError`. Each email or SMS
    "sent" is logged as one line to ``log`` (None: silent); ``sys.stderr`` means
    the standard error of the moment, even when it is replaced later.
    """

    def __init__(
        self,
        accounts: dict[str, dict] | None = None,
        accounts_file: str | Path | None = None,
        token_ttl: int = 3600,
        clock: Callable[[], float] | None = None,
        log: TextIO | None = _STDERR,
        delay: float = 0.0,
    ) -> None:
        if accounts is not None and accounts_file is not None:
            raise ValueError("give accounts or accounts_file, not both")
        if not 0.0 <= delay <= 60.0:
            raise ValueError("delay must be between 0 and 60 seconds")
        self._delay = delay
        if accounts is not None:
            configs = parse_accounts(accounts)
        elif accounts_file is not None:
            configs = load_file(accounts_file)
        else:
            configs = load_shipped()
        if log is _STDERR or log is sys.stderr:
            log = cast(TextIO, CurrentStderr())
        self._state = EmulatorState(configs, token_ttl=token_ttl, clock=clock, log=log)
        self._server: EmulatorServer | None = None
        self._thread: threading.Thread | None = None
        self._url: str | None = None
        self._port: int | None = None

    # -- lifecycle --------------------------------------------------------------------

    def start(self, host: str = "127.0.0.1", port: int = 0) -> str:
        """Serve on ``host:port`` (0: any free port) in a daemon thread; return the base URL."""
        if self._server is not None:
            raise RuntimeError("emulator already started")
        server = EmulatorServer((host, port), self._state, delay=self._delay)
        self._server = server
        self._port = server.server_address[1]
        self._url = (
            f"http://[{host}]:{self._port}" if ":" in host else f"http://{host}:{self._port}"
        )
        self._thread = threading.Thread(
            target=server.serve_forever,
            kwargs={"poll_interval": 0.05},
            name=f"vss-emulator:{self._port}",
            daemon=True,
        )
        self._thread.start()
        return self._url

    def stop(self) -> None:
        """Stop serving, cut open connections and close the socket (idempotent)."""
        server, self._server = self._server, None
        if server is None:
            return
        server.shutdown()
        server.close_clients()
        server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    def __enter__(self) -> Emulator:
        if self._server is None:
            self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    @property
    def url(self) -> str:
        """``http://HOST:PORT`` (after :meth:`start`)."""
        if self._url is None:
            raise RuntimeError("emulator not started")
        return self._url

    @property
    def port(self) -> int:
        """The port served on (after :meth:`start`)."""
        if self._port is None:
            raise RuntimeError("emulator not started")
        return self._port

    @property
    def running(self) -> bool:
        """True between :meth:`start` and :meth:`stop`."""
        return self._server is not None

    # -- test hooks -------------------------------------------------------------------

    def outbox(self, username: str | None = None) -> list[dict[str, Any]]:
        """Emails and SMS sent (to ``username``, or all), oldest first.

        Each is ``{"to", "kind": "email"|"sms", "subject", "body", "username"}`` plus
        ``"code"`` (a verification code) or ``"token"`` (a disable token).
        """
        return self._state.outbox(username)

    def fail_next(self, count: int, status: int = 503) -> None:
        """Answer the next ``count`` API requests (not ``/_emulator/*``) with ``status``."""
        self._state.fail_next(count, status)

    def stats(self) -> dict[str, Any]:
        """``{"requests": {"METHOD /path": n, ...}, "connections": n}`` since the last reset."""
        return self._state.stats()

    def reset_stats(self) -> None:
        """Zero :meth:`stats`."""
        self._state.reset_stats()

    def advance(self, seconds: float) -> None:
        """Move the emulator's clock forward (expiry of tokens, codes and lockouts)."""
        self._state.advance(seconds)

    def now(self) -> float:
        """The emulator's current time (seconds since the epoch)."""
        return self._state.now()

    def usernames(self) -> list[str]:
        """The accounts' usernames, in configuration order."""
        return list(self._state.accounts)

    def secret(self, username: str) -> str | None:
        """The AUTHENTICATOR secret of ``username`` (pending or enabled), else None."""
        return self._state.secret(username)
