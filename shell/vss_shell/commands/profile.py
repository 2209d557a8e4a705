"""``profile``: list, show, switch, add, change and remove connection profiles."""

from __future__ import annotations

from types import SimpleNamespace as Args
from typing import Any

from vss_shell.commands.table import After, Arg, Command, Opt, Table
from vss_shell.context import Context
from vss_shell.errors import ShellError, UsageError
from vss_shell.profiles import PROFILE_KEYS, BadValue, ProfileError
from vss_shell.safetext import visible


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
        spec.choices, negatable=spec.kind == "bool", paths=spec.kind == "path")
    for key, spec in PROFILE_KEYS.items()
)


def _store_call(fn: Any, *args: Any, **kwargs: Any) -> Any:
    try:
        return fn(*args, **kwargs)
    except BadValue as exc:  # a value, key or name as typed: a usage error
        raise UsageError(str(exc)) from None
    except ProfileError as exc:
        raise ShellError(str(exc)) from None
    except OSError as exc:  # the file or its lock cannot be written: one line naming it
        path = exc.filename or getattr(getattr(fn, "__self__", None), "path", None)
        reason = exc.strerror or str(exc)
        where = f"{path}: " if path and str(path) not in reason else ""
        raise ShellError(visible(f"cannot change the profiles: {where}{reason}",
                                 newlines=False)) from None


def _in_file(ctx: Context, problem: str) -> str:
    """``FILE:LINE: message`` as ``line LINE: message`` (the file is said once)."""
    rest = problem.removeprefix(visible(str(ctx.store.path), newlines=False))
    line, _, message = rest.removeprefix(":").partition(": ")
    return f"line {line}: {message}" if line.isdigit() else rest.removeprefix(": ")


def _say_problem(ctx: Context) -> None:
    """A broken profiles file, said once by ``profile ls``/``show``."""
    if ctx.store.problem:
        ctx.ui.warn(ctx.settings.blocked or ctx.store.problem)


def ls(ctx: Context, a: Args) -> list[dict[str, Any]]:
    """Every profile; the active one marked. With a broken file: what can be read,
    each profile that does not parse marked with its problem."""
    store = ctx.store
    active, default, broken = ctx.settings.name, store.default_name, store.broken
    rows = []
    for name in store.listing():
        if name in broken:
            raw = store.raw(name) or {}
            endpoint, user = raw.get("endpoint"), raw.get("username")
        else:
            profile = store.get(name)
            endpoint, user = profile.endpoint, profile.username
        # As the file has them: the UI shows control characters escaped (tables) and
        # JSON escapes them as JSON does.
        row = {"active": name == active, "name": name, "endpoint": endpoint,
               "user": user, "default": name == default}
        if store.problem:
            row["problem"] = _in_file(ctx, broken[name]) if name in broken else None
        rows.append(row)
    _say_problem(ctx)
    return rows


def show(ctx: Context, a: Args) -> list[dict[str, Any]]:
    """A profile's values; for the active one, where each value came from."""
    name = a.name or ctx.settings.name
    raw = ctx.store.raw(name)
    if raw is not None and (name != ctx.settings.name or ctx.settings.blocked):
        _say_problem(ctx)  # broken: what the file says, each bad value marked
        return [_raw_row(key, raw) for key in PROFILE_KEYS]
    if a.name and a.name != ctx.settings.name:
        profile = _store_call(ctx.store.get, a.name)
        _say_problem(ctx)
        return [{"key": key, "value": getattr(profile, key),
                 "source": "profile" if key in profile.explicit else "default"}
                for key in PROFILE_KEYS]
    _say_problem(ctx)
    settings = ctx.settings
    rows = [{"key": "profile", "value": settings.name,
             "source": settings.sources.get("profile", "")}]
    rows += [{"key": key, "value": getattr(settings, key), "source": settings.sources.get(key)}
             for key in PROFILE_KEYS]
    return rows


def _raw_row(key: str, raw: dict[str, Any]) -> dict[str, Any]:
    """One key of a broken profile: its value in the file, and whether it is valid."""
    spec = PROFILE_KEYS[key]
    if key not in raw:
        return {"key": key, "value": spec.default, "source": "default"}
    try:
        spec.check(raw[key])
    except ProfileError as exc:
        return {"key": key, "value": raw[key], "source": f"profile: invalid: {exc}"}
    return {"key": key, "value": raw[key], "source": "profile"}


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


def _shown(value: Any) -> str:
    """A value as ``profile set`` takes it: true/false, 5 (not 5.0)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    return f"{value:g}" if isinstance(value, float) else str(value)


def set_key(ctx: Context, a: Args) -> None:
    """Change one key of a profile (the active one when NAME is left out); on the
    active profile the change applies at once, and the line says what it did."""
    if a.value is None:
        name, key, value = ctx.settings.name, a.first, a.second
    else:
        name, key, value = a.first, a.second, a.value
    profile = _store_call(ctx.store.set, name, key, value)
    said = f"{name}: {key} = {_shown(getattr(profile, key))}" if value != "" else \
        f"{name}: {key} unset"
    if name == ctx.settings.name:
        if ctx.refresh_profile(key):
            said += "; logged out, the next command logs in again"
        source = ctx.settings.sources.get(key, "")
        if source.startswith(("option", "env", "demo", "login")):
            where = "the command line" if source == "option" else source.removeprefix("env ")
            said += f" (this session keeps {key} from {where})"
    ctx.ui.info(said)


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
