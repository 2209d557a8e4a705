"""Bounds of the API client, in one cheap module (the profile checks use them too)."""

from __future__ import annotations

#: The longest request timeout accepted, in seconds: a request waits at most ten
#: minutes (a larger value is a mistake). The profile checks use it too.
MAX_TIMEOUT = 600.0
#: The most retries of a GET accepted.
MAX_RETRIES = 10
#: The largest response body read, in bytes (this API's answers are a few hundred).
MAX_BODY = 1024 * 1024
