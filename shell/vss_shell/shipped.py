"""The shipped TOML files: the repository's ``config/``.

A wheel installs ``config/`` as the data package ``vss_shell.defaults``; an
editable install (a source checkout) reads ``config/`` where it lies.
"""

from __future__ import annotations

from functools import cache
from importlib import resources
from importlib.abc import Traversable
from pathlib import Path


@cache
def _folder() -> Traversable:
    try:
        return resources.files("vss_shell.defaults")
    except ModuleNotFoundError:
        return Path(__file__).resolve().parents[2] / "config"


def read_text(name: str) -> str:
    """The text of the shipped file ``name`` (``profiles.toml``, ``emulator.toml``)."""
    return _folder().joinpath(name).read_text(encoding="utf-8")


def path(name: str) -> str:
    """A filesystem path to the shipped file ``name``."""
    return str(_folder().joinpath(name))
