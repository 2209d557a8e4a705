"""A pseudo-terminal for the benchmark: the child's output, answered as a terminal would.

Standard library only (no pexpect, no screen emulation, so the driver costs little).
Each cursor-position request (``ESC[6n``) is answered at once with ``ESC[row;colR``;
the row follows the line feeds and cursor up/down moves seen (a fresh terminal
starts on row 1).
"""

from __future__ import annotations

import fcntl
import os
import re
import select
import signal
import struct
import subprocess
import termios
import time
from collections.abc import Sequence
from typing import IO

CPR_REQUEST = b"\x1b[6n"
#: What moves the cursor between rows: line feeds, cursor up (A) and down (B).
_ROW_MOVES = re.compile(rb"\n|\x1b\[(\d*)([AB])")
ROWS, COLUMNS = 40, 120


class PtyTimeout(RuntimeError):
    """What was awaited did not come in time."""


class Pty:
    """One child process on a pseudo-terminal of ``ROWS`` x ``COLUMNS``."""

    def __init__(self, argv: Sequence[str], env: dict[str, str],
                 stderr: IO[bytes] | None = None) -> None:
        master, slave = os.openpty()
        fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", ROWS, COLUMNS, 0, 0))
        self.fd = master
        self.out = bytearray()
        #: Offsets in :attr:`out` just after each cursor-position request.
        self.cpr_at: list[int] = []
        self._row = 1
        self.started = time.perf_counter()
        self.proc = subprocess.Popen(
            list(argv), stdin=slave, stdout=slave,
            stderr=stderr if stderr is not None else slave, env=env,
            start_new_session=True, close_fds=True, preexec_fn=_controlling_tty)
        os.close(slave)

    @property
    def pid(self) -> int:
        return self.proc.pid

    def send(self, data: bytes) -> float:
        """Write ``data`` to the child; the time it was written."""
        os.write(self.fd, data)
        return time.perf_counter()

    def _read(self, timeout: float) -> bool:
        """Read what is there (waiting up to ``timeout``); False at end of output."""
        ready, _, _ = select.select([self.fd], [], [], max(timeout, 0.0))
        if not ready:
            return True
        try:
            data = os.read(self.fd, 1 << 16)
        except OSError:  # EIO: the child closed the terminal
            return False
        if not data:
            return False
        start = max(0, len(self.out) - len(CPR_REQUEST) + 1)
        self.out += data
        self._follow_rows(data)
        at = self.out.find(CPR_REQUEST, start)
        while at >= 0:
            self.cpr_at.append(at + len(CPR_REQUEST))
            os.write(self.fd, f"\x1b[{self._row};1R".encode())
            at = self.out.find(CPR_REQUEST, at + 1)
        return True

    def _follow_rows(self, data: bytes) -> None:
        for move in _ROW_MOVES.finditer(data):
            if move.group(0) == b"\n":
                self._row = min(ROWS, self._row + 1)
            else:
                step = int(move.group(1) or b"1")
                self._row += -step if move.group(2) == b"A" else step
                self._row = max(1, min(ROWS, self._row))

    def wait_for(self, needle: bytes, since: int = 0, timeout: float = 20.0,
                 after_cpr: bool = False) -> float:
        """The time ``needle`` appeared at or after offset ``since``.

        With ``after_cpr``, only after a cursor-position request at or after ``since``
        (a new prompt begins with one).
        """
        deadline = time.perf_counter() + timeout
        while True:
            start = since
            if after_cpr:
                later = [at for at in self.cpr_at if at > since]
                start = later[0] if later else -1
            if start >= 0 and self.out.find(needle, start) >= 0:
                return time.perf_counter()
            left = deadline - time.perf_counter()
            if left <= 0 or not self._read(left):
                tail = bytes(self.out[-300:])
                raise PtyTimeout(f"no {needle!r} after offset {since}; output ends {tail!r}")

    def settle(self, quiet: float = 0.03, timeout: float = 2.0) -> None:
        """Read until the child has been quiet for ``quiet`` seconds."""
        deadline = time.perf_counter() + timeout
        while time.perf_counter() < deadline:
            size = len(self.out)
            if not self._read(quiet):
                return
            if len(self.out) == size:
                return

    def read_until(self, moment: float) -> None:
        """Read (and answer) what comes until ``moment`` (a ``time.perf_counter()``)."""
        while (left := moment - time.perf_counter()) > 0:
            if not self._read(left):
                return

    def peak_rss_kib(self) -> int:
        """The child's peak resident set size (``VmHWM``), in KiB."""
        with open(f"/proc/{self.pid}/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
        raise RuntimeError("no VmHWM in /proc status")

    def close(self, eof: bytes = b"\x04") -> None:
        """End the child (``eof`` first, then a signal) and release the terminal."""
        try:
            if self.proc.poll() is None:
                os.write(self.fd, eof)
                deadline = time.perf_counter() + 5
                while self.proc.poll() is None and time.perf_counter() < deadline:
                    if not self._read(0.05):
                        break
                if self.proc.poll() is None:
                    os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(timeout=5)
        finally:
            os.close(self.fd)


def _controlling_tty() -> None:
    fcntl.ioctl(0, termios.TIOCSCTTY, 0)
