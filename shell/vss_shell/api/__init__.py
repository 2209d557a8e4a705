"""The VSS API client layer: typed errors, the token, and the HTTP client.

Each name is imported on first use (``from vss_shell.api import VssClient,
ApiError`` works), so that ``import vss_shell.api.limits`` imports nothing else,
and ``requests`` only comes with ``VssClient``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from vss_shell.api.client import VssClient as VssClient
    from vss_shell.api.errors import *  # noqa: F403
    from vss_shell.api.token import Token as Token
    from vss_shell.api.token import TokenFormatError as TokenFormatError

#: Where each name the package offers lives.
_HOMES = {"Token": "token", "TokenFormatError": "token", "VssClient": "client"}


def __getattr__(name: str) -> Any:
    import importlib

    home = _HOMES.get(name, "errors")
    module = importlib.import_module(f"vss_shell.api.{home}")
    if home == "errors" and name not in module.__all__:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(module, name)
