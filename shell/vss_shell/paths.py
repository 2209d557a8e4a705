"""Where the shell keeps its files (XDG base directories), with overrides."""

from __future__ import annotations

import contextlib
import os
import re
import stat
from collections.abc import Callable, Iterator
from pathlib import Path

from vss_shell import files


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


#: Demo runs keep their files in ``$TMPDIR/vss-demo-PID-XXXXXXXX``.
_SCRATCH = r"vss-demo-(\d+)-[A-Za-z0-9_]+"  # compiled when demo mode cleans up


@contextlib.contextmanager
def scratch_folder() -> Iterator[Path]:
    """A private folder (0700) for one demo run, removed at exit. The folders of
    earlier runs that could not clean up (killed) are removed first."""
    import shutil
    import tempfile

    _sweep(Path(tempfile.gettempdir()), shutil.rmtree)
    folder = Path(tempfile.mkdtemp(prefix=f"vss-demo-{os.getpid()}-"))
    try:
        yield folder
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def _sweep(tmp: Path, remove: Callable[..., None]) -> None:
    """Remove our demo folders (our user's, not symlinks) whose process is gone."""
    try:
        entries = list(os.scandir(tmp))
    except OSError:
        return
    for entry in entries:
        match = re.fullmatch(_SCRATCH, entry.name)
        if not match or int(match.group(1)) == os.getpid():
            continue
        try:
            info = entry.stat(follow_symlinks=False)
        except OSError:
            continue
        if stat.S_ISDIR(info.st_mode) and info.st_uid == os.getuid() \
                and not files.alive(int(match.group(1))):
            remove(entry.path, ignore_errors=True)
