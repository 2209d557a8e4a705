"""``login``, ``logout`` and ``whoami``: the session itself."""

from __future__ import annotations

from types import SimpleNamespace as Args
from typing import Any

from vss_shell.commands.table import Arg, Command, Table
from vss_shell.context import Context


def login(ctx: Context, a: Args) -> dict[str, Any] | None:
    """Log in now (commands that need a token also log in on demand)."""
    session = ctx.session
    if a.user and a.user != session.username:
        session.switch_user(a.user)
    session.token = None
    token = session.login(ctx.ui)
    if ctx.wants_json(a.output):
        return whoami(ctx, a)
    minutes = int(token.seconds_left() // 60)
    ctx.ui.info(f"Logged in as {token.username or session.username}; token valid for "
                f"{minutes} min, MFA {session.mfa}.")
    return None


def logout(ctx: Context, a: Args) -> None:
    """Forget the token (here and in the cache) and the password."""
    ctx.session.logout(ctx.ui)
    ctx.ui.info("Logged out.")


def whoami(ctx: Context, a: Args) -> dict[str, Any]:
    """The session: profile, endpoint, user and token state."""
    session, settings = ctx.session, ctx.settings
    token = session.token
    return {
        "profile": settings.name,
        "endpoint": settings.endpoint,
        "user": session.username,
        "state": session.describe(),
        "token_expires": token.expires.strftime("%Y-%m-%d %H:%M:%S UTC") if token else None,
        "mfa_method": settings.mfa_method,
    }


def register(table: Table) -> None:
    """Declare the session commands."""
    table.add(Command(("login",), "log in (asks for what is missing)", login,
                      args=(Arg("user", "the username", required=False),),
                      long_help="Commands that need a token log in by themselves; 'login'\n"
                                "does it now. With USER, switches to that account."))
    table.add(Command(("logout",), "forget the token and the password", logout, output=False))
    table.add(Command(("whoami",), "show the session: profile, user, token", whoami,
                      aliases=("status",)))
