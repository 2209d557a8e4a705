"""``vss-emulator``: run the API emulator until SIGINT or SIGTERM."""

from __future__ import annotations

import argparse
import signal
import sys
import threading
from collections.abc import Sequence

from .accounts import AccountsError
from .instance import Emulator


def _positive(text: str) -> int:
    value = int(text)
    if value <= 0:
        raise argparse.ArgumentTypeError("must be a positive number of seconds")
    return value


def _delay_ms(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError("must be a whole number of milliseconds") from None
    if not 0 <= value <= 60_000:
        raise argparse.ArgumentTypeError("must be 0 to 60000 milliseconds")
    return value


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="vss-emulator",
        description="A local emulator of the VSS REST API (MFA subset), for tests and demos.",
    )
    parser.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=0, help="port (default 0: any free port)")
    parser.add_argument(
        "--accounts", metavar="FILE", help="accounts TOML (default: the shipped emulator.toml)"
    )
    parser.add_argument(
        "--token-ttl",
        type=_positive,
        default=3600,
        metavar="SECONDS",
        help="token lifetime (default 3600)",
    )
    parser.add_argument(
        "--delay-ms",
        type=_delay_ms,
        default=0,
        metavar="MS",
        help="hold back every API answer by MS milliseconds (default 0)",
    )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Serve until SIGINT/SIGTERM; print ``listening on URL`` first. Exit 2 on bad accounts."""
    args = _parser().parse_args(argv)
    try:
        emulator = Emulator(
            accounts_file=args.accounts, token_ttl=args.token_ttl, delay=args.delay_ms / 1000
        )
    except AccountsError as exc:
        print(f"vss-emulator: {exc}", file=sys.stderr)
        return 2
    stop = threading.Event()

    def on_signal(signum: int, frame: object) -> None:
        stop.set()

    previous = {sig: signal.signal(sig, on_signal) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        try:
            url = emulator.start(host=args.host, port=args.port)
        except OSError as exc:
            print(f"vss-emulator: cannot listen on {args.host}:{args.port}: {exc}", file=sys.stderr)
            return 1
        print(f"listening on {url}", flush=True)
        print("vss-emulator: accounts: " + ", ".join(emulator.usernames()), file=sys.stderr)
        while not stop.wait(0.5):
            pass
    finally:
        emulator.stop()
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    return 0
