"""Where the shell keeps its files (XDG base directories), with overrides."""

from __future__ import annotations

import os
from pathlib import Path


def _xdg(var: str, default: str) -> Path:
    value = os.environ.get(var)
    return Path(value) if value and os.path.isabs(value) else Path.home() / default


def config_dir() -> Path:
    """``$XDG_CONFIG_HOME/vss-shell``."""
    return _xdg("XDG_CONFIG_HOME", ".config") / "vss-shell"


def state_dir() -> Path:
    """``$XDG_STATE_HOME/vss-shell``."""
    return _xdg("XDG_STATE_HOME", ".local/state") / "vss-shell"


def profiles_path(override: str | None = None) -> Path:
    """The profiles file: ``--config``, then ``VSS_SHELL_CONFIG``, then XDG."""
    chosen = override or os.environ.get("VSS_SHELL_CONFIG")
    return Path(chosen).expanduser() if chosen else config_dir() / "profiles.toml"


def history_path(override: str | None = None) -> Path:
    """The history file: ``--history``, then ``VSS_SHELL_HISTORY``, then XDG."""
    chosen = override or os.environ.get("VSS_SHELL_HISTORY")
    return Path(chosen).expanduser() if chosen else state_dir() / "history"


def tokens_path() -> Path:
    """The token cache."""
    return state_dir() / "tokens.toml"
