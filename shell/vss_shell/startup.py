"""The ``vss`` executable's entry: start-up with the cyclic garbage collector held off.

Start-up imports prompt_toolkit (and, for the first command, requests) and builds
the command table: tens of thousands of objects that live as long as the process.
The collector would walk them again and again and find nothing (about a tenth of
the time to the first prompt). So it waits until the shell is ready; then what
start-up made is frozen (later collections skip it) and the collector runs again.
"""

from __future__ import annotations

import gc

_held = False


def main() -> int:
    """Run ``vss`` (:func:`vss_shell.cli.main`) with the collector held until :func:`ready`."""
    global _held
    if gc.isenabled():
        gc.disable()
        _held = True
    try:
        from vss_shell.cli import main as run

        return run()
    finally:
        ready()


def ready() -> None:
    """The shell is ready (its first prompt is drawn and the HTTP stack loaded, or the
    first piped command has run): freeze what start-up made, collect from now on.
    Only the first call after :func:`main` held the collector does anything."""
    global _held
    if _held:
        _held = False
        gc.freeze()
        gc.enable()
