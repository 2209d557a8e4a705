"""The commands, one module per group, gathered in one table."""

from __future__ import annotations

from functools import cache

from vss_shell.commands.table import Table


@cache
def table() -> Table:
    """The shell's command table (built once)."""
    from vss_shell.commands import account, builtin, mfa, profile

    built = Table()
    mfa.register(built)
    profile.register(built)
    account.register(built)
    builtin.register(built)
    return built
