"""``profile``: list, show, switch, add, change and remove connection profiles."""

from __future__ import annotations

from types import SimpleNamespace as Args
from typing import Any

from vss_shell.commands.table import After, Arg, Command, Opt, Table
from vss_shell.context import Context
from vss_shell.errors import ShellError, UsageError
from vss_shell.profiles import PROFILE_KEYS, ProfileError


def _names(ctx: Context | None) -> list[str]:
    return ctx.store.names() if ctx is not None else []


def _names_and_keys(ctx: Context | None) -> list[str]:
    return _names(ctx) + list(PROFILE_KEYS)


def _keys(ctx: Context | None) -> dict[str, str]:
    return {key: spec.help for key, spec in PROFILE_KEYS.items()}


def _values(key: str) -> tuple[str, ...] | None:
    """The values a key takes, where they are few."""
    spec = PROFILE_KEYS.get(key)
    if spec is None:
        return None
    return spec.choices or (("true", "false") if spec.kind == "bool" else None)


def _second(ctx: Context | None, previous: tuple[str, ...]) -> Any:
    """`profile set KEY <VALUE>` or `profile set NAME <KEY>`."""
    return _values(previous[0]) if previous and previous[0] in PROFILE_KEYS else _keys(ctx)


def _third(ctx: Context | None, previous: tuple[str, ...]) -> Any:
    """`profile set NAME KEY <VALUE>`."""
    return _values(previous[1]) if len(previous) > 1 else None


def _flag(key: str) -> str:
    return "--user" if key == "username" else "--" + key.replace("_", "-")


#: ``profile add`` options, one per profile key (from the schema).
ADD_OPTS = tuple(
    Opt(_flag(key), spec.help, None if spec.kind == "bool" else key.upper(),
        spec.choices, negatable=spec.kind == "bool")
    for key, spec in PROFILE_KEYS.items()
)


def _store_call(fn: Any, *args: Any, **kwargs: Any) -> Any:
    try:
        return fn(*args, **kwargs)
    except ProfileError as exc:
        raise ShellError(str(exc)) from None
    except OSError as exc:  # the file or its lock cannot be written
        where = f"{exc.filename}: " if exc.filename else ""
        raise ShellError(f"cannot change the profiles: {where}{exc.strerror or exc}") from None


def ls(ctx: Context, a: Args) -> list[dict[str, Any]]:
    """Every profile; the active one marked."""
    active, default = ctx.settings.name, ctx.store.default_name
    return [{"active": p.name == active, "name": p.name, "endpoint": p.endpoint,
             "user": p.username, "default": p.name == default}
            for p in ctx.store.profiles()]


def show(ctx: Context, a: Args) -> list[dict[str, Any]]:
    """A profile's values; for the active one, where each value came from."""
    if a.name and a.name != ctx.settings.name:
        profile = _store_call(ctx.store.get, a.name)
        return [{"key": key, "value": getattr(profile, key),
                 "source": "profile" if key in profile.explicit else "default"}
                for key in PROFILE_KEYS]
    settings = ctx.settings
    rows = [{"key": "profile", "value": settings.name,
             "source": settings.sources.get("profile", "")}]
    rows += [{"key": key, "value": getattr(settings, key), "source": settings.sources.get(key)}
             for key in PROFILE_KEYS]
    return rows


def use(ctx: Context, a: Args) -> None:
    """Switch the session to another profile."""
    _store_call(ctx.store.get, a.name)
    ctx.use_profile(a.name)
    settings = ctx.settings
    # Options and variables still rule over the profile, as they did at start.
    kept = [f"{key} from {'the command line' if src == 'option' else src.removeprefix('env ')}"
            for key in ("endpoint", "username")
            if (src := settings.sources.get(key, "default")).startswith(("option", "env"))]
    ctx.ui.info(f"Using profile {settings.name} ({settings.endpoint}"
                + "".join(f"; {k}" for k in kept) + "); logged out.")


def add(ctx: Context, a: Args) -> None:
    """Add a profile."""
    if not a.endpoint:
        raise UsageError("profile add needs --endpoint URL")
    keys = {key: getattr(a, _flag(key).lstrip("-").replace("-", "_"))
            for key in PROFILE_KEYS if key != "endpoint"}
    _store_call(ctx.store.add, a.name, a.endpoint, **keys)
    ctx.ui.info(f"Added profile {a.name}.")


def set_key(ctx: Context, a: Args) -> None:
    """Change one key of a profile (the active one when NAME is left out)."""
    if a.value is None:
        name, key, value = ctx.settings.name, a.first, a.second
    else:
        name, key, value = a.first, a.second, a.value
    profile = _store_call(ctx.store.set, name, key, value)
    shown = getattr(profile, key)
    ctx.ui.info(f"{name}: {key} = {shown}" if value != "" else f"{name}: {key} unset")
    if name == ctx.settings.name:
        ctx.use_profile(name, refresh=True)


def rm(ctx: Context, a: Args) -> None:
    """Remove a profile (asks first)."""
    _store_call(ctx.store.check_removable, a.name, active=ctx.settings.name)
    if not a.yes:
        ctx.ui.confirm_or_cancel(f"Remove profile {a.name}?", flag="--yes")
    _store_call(ctx.store.remove, a.name, active=ctx.settings.name)
    ctx.ui.info(f"Removed profile {a.name}.")


def default(ctx: Context, a: Args) -> None:
    """Make a profile the default for new shells."""
    _store_call(ctx.store.set_default, a.name)
    ctx.ui.info(f"{a.name} is now the default profile.")


def register(table: Table) -> None:
    """Declare the ``profile`` commands."""
    table.group("profile", "connection profiles: list, show, use, add, set, rm, default")
    name = Arg("name", "a profile name", _names)
    table.add(Command(("profile", "ls"), "list the profiles, the active and default marked", ls))
    table.add(Command(("profile", "show"), "show a profile's values and where they come from",
                      show, args=(Arg("name", "a profile name", _names, required=False),)))
    table.add(Command(("profile", "use"), "switch to another profile (logs out)", use,
                      args=(name,), output=False))
    table.add(Command(("profile", "add"), "add a profile", add,
                      args=(Arg("name", "the new profile's name"),), opts=ADD_OPTS,
                      output=False))
    table.add(Command(("profile", "set"), "change a key: profile set [NAME] KEY VALUE", set_key,
                      args=(Arg("first", "a profile name, or the key", _names_and_keys),
                            Arg("second", "the key, or its value",
                                After(_second, checked=False)),
                            Arg("value", "the value ('' unsets the key)",
                                After(_third, checked=False), required=False)),
                      output=False,
                      long_help="Keys: " + ", ".join(f"{k} ({s.help})"
                                                     for k, s in PROFILE_KEYS.items())))
    table.add(Command(("profile", "rm"), "remove a profile (asks first)", rm, args=(name,),
                      opts=(Opt("--yes", "do not ask"),), output=False))
    table.add(Command(("profile", "default"), "make a profile the default", default,
                      args=(name,), output=False))
