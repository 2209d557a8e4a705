"""The shipped TOML files: the repository's ``config/``.

A wheel installs ``config/`` as the data package ``vss_shell.defaults`` (a folder
beside this module); a source checkout (an editable install) has ``config/``
two levels up. Plain paths: ``importlib.resources`` would cost the start-up a few
milliseconds (it imports ``tempfile`` and more).
"""

from __future__ import annotations

from functools import cache
from pathlib import Path


@cache
def _folder() -> Path:
    here = Path(__file__).resolve().parent
    installed = here / "defaults"
    return installed if installed.is_dir() else here.parents[1] / "config"


def read_text(name: str) -> str:
    """The text of the shipped file ``name`` (``profiles.toml``, ``emulator.toml``)."""
    return _folder().joinpath(name).read_text(encoding="utf-8")


def path(name: str) -> str:
    """A filesystem path to the shipped file ``name``."""
    return str(_folder() / name)
