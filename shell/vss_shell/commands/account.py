"""``login``, ``logout`` and ``whoami``: the session itself."""

from __future__ import annotations

from types import SimpleNamespace as Args
from typing import Any

from vss_shell.commands.table import Arg, Command, Table
from vss_shell.context import Context
from vss_shell.errors import UsageError


def login(ctx: Context, a: Args) -> dict[str, Any] | None:
    """Log in now (commands that need a token also log in on demand)."""
    session = ctx.session
    if a.user and a.user != session.username:
        from vss_shell.profiles import ProfileError, check_username

        try:
            session.switch_user(check_username(a.user))
        except ProfileError as exc:
            raise UsageError(str(exc)) from None
    session.token = None
    token = session.login(ctx.ui)
    if ctx.wants_json(a.output):
        return whoami(ctx, a)
    minutes = int(token.seconds_left() // 60)
    ctx.ui.info(f"Logged in as {token.username or session.username}; token valid for "
                f"{minutes} min, MFA {session.mfa}.")
    return None


def logout(ctx: Context, a: Args) -> None:
    """Forget the token (here and in the cache) and the password; fails (the token
    still cached) when the cache cannot be changed."""
    ctx.session.logout(ctx.ui)
    ctx.ui.info("Logged out.")


def whoami(ctx: Context, a: Args) -> dict[str, Any]:
    """The session: profile, endpoint, user, token and MFA state; the proxy and a CA
    bundle in use when the environment sets them. JSON: structured fields."""
    from vss_shell.api import netenv

    session, settings = ctx.session, ctx.settings
    token, as_json = session.token, ctx.wants_json(a.output)
    found: dict[str, Any] = {
        "profile": settings.name,
        "endpoint": settings.endpoint,
        "user": session.username,
    }
    if as_json:
        found["token"] = ("none" if token is None else
                          "expired" if token.expired() else "valid")
        found["token_expires_at"] = (token.expires.strftime("%Y-%m-%dT%H:%M:%SZ")
                                     if token else None)
        found["mfa"] = session.mfa or "unknown"
    else:
        found["state"] = session.describe()
        found["token_expires"] = (token.expires.strftime("%Y-%m-%d %H:%M:%S UTC")
                                  if token else None)
    method = session.mfa_method or settings.mfa_method
    if method and session.mfa != "off":
        found["mfa_method"] = method
    net = netenv.resolve(settings.endpoint, session.sources.env)
    if net.proxy:
        found["proxy"] = net.proxy  # its user name and password hidden already
    if net.ca_bundle and settings.verify is True:  # else the profile's choice stands
        found["ca_bundle"] = f"{net.ca_bundle} (from {net.ca_source})" if (
            net.ca_source and not as_json) else net.ca_bundle
        if as_json and net.ca_source:
            found["ca_source"] = net.ca_source
    return found


def register(table: Table) -> None:
    """Declare the session commands."""
    table.add(Command(("login",), "log in (asks for what is missing)", login,
                      args=(Arg("user", "the username", required=False),),
                      long_help="Commands that need a token log in by themselves; 'login'\n"
                                "does it now. With USER, switches to that account."))
    table.add(Command(("logout",), "forget the token and the password", logout, output=False))
    table.add(Command(("whoami",), "show the session: profile, user, token", whoami,
                      aliases=("status",)))
