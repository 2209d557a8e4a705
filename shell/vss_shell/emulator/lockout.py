"""Lockout after too many wrong codes: a sliding window of failure times per account."""

from __future__ import annotations

import math
from collections import deque

#: Wrong codes that lock an account, and the window (seconds) they are counted over.
MAX_FAILURES = 5
WINDOW = 300.0


class FailureWindow:
    """Failure times of one account; locked while ``MAX_FAILURES`` fall within ``WINDOW``."""

    def __init__(self, max_failures: int = MAX_FAILURES, window: float = WINDOW) -> None:
        self.max_failures = max_failures
        self.window = window
        self._times: deque[float] = deque(maxlen=max_failures)

    def _prune(self, now: float) -> None:
        while self._times and self._times[0] <= now - self.window:
            self._times.popleft()

    def record(self, now: float) -> None:
        """Count one wrong code at ``now``."""
        self._prune(now)
        self._times.append(now)

    def retry_after(self, now: float) -> int | None:
        """Whole seconds (>= 1) until the lock lifts, or None when not locked."""
        self._prune(now)
        if len(self._times) < self.max_failures:
            return None
        return max(1, math.ceil(self._times[0] + self.window - now))

    def count(self, now: float) -> int:
        """Failures currently within the window."""
        self._prune(now)
        return len(self._times)
