"""The VSS API client layer: typed errors, the token, and (lazily) the HTTP client.

``VssClient`` is imported on first use (``from vss_shell.api import VssClient``
works) so that importing this package does not import ``requests``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from vss_shell.api import errors as _errors
from vss_shell.api.errors import *  # noqa: F403  (the names of errors.__all__)
from vss_shell.api.token import Token, TokenFormatError

if TYPE_CHECKING:
    from vss_shell.api.client import VssClient

__all__ = [*_errors.__all__, "Token", "TokenFormatError", "VssClient"]


def __getattr__(name: str) -> Any:
    if name == "VssClient":
        from vss_shell.api.client import VssClient

        return VssClient
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
