"""Connection profiles: the TOML file, its schema, and settings resolution.

The file (``paths.profiles_path``) has ``default = "NAME"`` and one table per
profile, ``[profiles.NAME]``. Until the user changes something the shipped
profiles are used and nothing is written; the first change writes the full set.
Unknown keys are kept; comments are not (the file is rewritten by ``tomli_w``).
Secrets (passwords, tokens, OTPs, recovery codes) are refused.
"""

from __future__ import annotations

import copy
import difflib
import ipaddress
import math
import os
import re
import tomllib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import tomli_w

from vss_shell import files, paths, shipped
from vss_shell.constants import MFA_METHODS
from vss_shell.errors import hide_url_secrets


class ProfileError(Exception):
    """A one-line, user-facing problem with a profile, a setting or the profiles file."""


class _SchemaError(ProfileError):
    """A schema problem, with where it is: the table path and key (to find line/column)."""

    def __init__(self, message: str, table: tuple[str, ...] = (), key: str | None = None):
        super().__init__(message)
        self.table = table
        self.key = key


#: Profile names: letters, digits, ``-``, ``_``, ``.``; 1 to 64 characters.
NAME_RE = re.compile(r"[A-Za-z0-9_.-]{1,64}")

#: Key names that look like secrets; they never go in the profiles file.
_SECRET_RE = re.compile(
    r"pass(word|wd|phrase)|pwd|token|secret|recovery|credential|(?<![a-z])otp|otp(?![a-z])",
    re.IGNORECASE,
)

_HEADER = (
    "# vss-shell connection profiles, written by vss-shell (comments are not kept).\n"
    "# Never put passwords, tokens, OTPs or recovery codes here.\n\n"
)

_TRUE = frozenset({"true", "yes", "on", "1"})
_FALSE = frozenset({"false", "no", "off", "0"})


def _type_name(value: object) -> str:
    return {bool: "a boolean", int: "a number", float: "a number", str: "a string"}.get(
        type(value), f"a {type(value).__name__}"
    )


def _is_loopback(host: str) -> bool:
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


# --- checks (typed values, as read from TOML) and parsers (strings, as typed) ---


def _shown(url: str) -> str:
    """``url`` fit for a message: a user name, password, query or fragment in it
    could be a secret, so they are replaced by ``***``."""
    return hide_url_secrets(url)


def _check_endpoint(value: Any) -> str:
    if not isinstance(value, str):
        raise ProfileError(f"endpoint must be a URL string, not {_type_name(value)}")
    try:
        parts = urlsplit(value)
        parts.port  # noqa: B018 - raises ValueError for a bad port
    except ValueError as exc:  # its text may quote a piece of a password: not with "@"
        detail = "" if "@" in value else f" ({exc})"
        raise ProfileError(f"endpoint {_shown(value)!r} is not a valid URL{detail}") from None
    scheme = parts.scheme.lower()
    if scheme not in ("https", "http") or not parts.hostname:
        raise ProfileError(f"endpoint {_shown(value)!r} is not an https:// URL with a host")
    if parts.username is not None or parts.password is not None:
        raise ProfileError(
            f"endpoint {_shown(value)!r} holds a user name or password; use the username setting"
        )
    if parts.query or parts.fragment:
        raise ProfileError(f"endpoint {_shown(value)!r} must not have a query or fragment")
    if scheme == "http" and not _is_loopback(parts.hostname):
        raise ProfileError(
            f"endpoint {_shown(value)!r} uses plain http; use https "
            "(http is allowed only for loopback hosts: 127.0.0.0/8, ::1, localhost)"
        )
    return value


def _parse_endpoint(text: str) -> str:
    text = text.strip()
    if text and "://" not in text:
        text = "https://" + text
    return _check_endpoint(text.rstrip("/"))


def _check_string(key: str) -> Callable[[Any], str]:
    def check(value: Any) -> str:
        if not isinstance(value, str):
            raise ProfileError(f"{key} must be a string, not {_type_name(value)}")
        if not value.strip() or any(ch in value for ch in "\r\n\0"):
            raise ProfileError(f"{key} must be a non-empty, single-line string")
        return value

    return check


def _parse_ca_bundle(text: str) -> str:
    value = _check_string("ca_bundle")(text.strip())
    if not os.path.isfile(os.path.expanduser(value)):
        raise ProfileError(f"ca_bundle {value!r}: no such file")
    return value


def _check_timeout(value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ProfileError(f"timeout must be a number of seconds, not {_type_name(value)}")
    if not math.isfinite(value) or value <= 0:
        raise ProfileError(f"timeout must be a number of seconds greater than 0, not {value}")
    return value


def _parse_timeout(text: str) -> float:
    try:
        value = float(text.strip())
    except ValueError:
        raise ProfileError(f"timeout must be a number of seconds, not {text!r}") from None
    return float(_check_timeout(value))


def _check_bool(key: str) -> Callable[[Any], bool]:
    def check(value: Any) -> bool:
        if not isinstance(value, bool):
            raise ProfileError(f"{key} must be true or false, not {_type_name(value)}")
        return value

    return check


def _parse_bool(key: str) -> Callable[[str], bool]:
    def parse(text: str) -> bool:
        word = text.strip().lower()
        if word in _TRUE:
            return True
        if word in _FALSE:
            return False
        raise ProfileError(f"{key} must be true or false, not {text!r}")

    return parse


def _check_choice(key: str, choices: tuple[str, ...]) -> Callable[[Any], str]:
    def check(value: Any) -> str:
        if not isinstance(value, str) or value not in choices:
            raise ProfileError(f"{key} must be one of {', '.join(choices)}, not {value!r}")
        return value

    return check


def _parse_choice(key: str, choices: tuple[str, ...]) -> Callable[[str], str]:
    folded = {choice.lower(): choice for choice in choices}

    def parse(text: str) -> str:
        return _check_choice(key, choices)(folded.get(text.strip().lower(), text))

    return parse


@dataclass(frozen=True)
class KeySpec:
    """One settable profile key: how to parse it from text, check it, and explain it."""

    name: str
    kind: str  # "url", "string", "number", "bool", "path", "choice"
    help: str
    parse: Callable[[str], Any] = field(repr=False)
    check: Callable[[Any], Any] = field(repr=False)
    default: Any = None
    choices: tuple[str, ...] | None = None
    required: bool = False


def _spec(name: str, kind: str, help: str, **more: Any) -> KeySpec:
    choices = more.get("choices")
    if kind == "url":
        parse, check = _parse_endpoint, _check_endpoint
    elif kind == "string":
        parse, check = _check_string(name), _check_string(name)
    elif kind == "path":
        parse, check = _parse_ca_bundle, _check_string(name)
    elif kind == "number":
        parse, check = _parse_timeout, _check_timeout
    elif kind == "bool":
        parse, check = _parse_bool(name), _check_bool(name)
    else:
        parse, check = _parse_choice(name, choices), _check_choice(name, choices)
    return KeySpec(name, kind, help, parse, check, **more)


#: Every settable profile key, declared once (the completer and help derive from it).
PROFILE_KEYS: dict[str, KeySpec] = {
    spec.name: spec
    for spec in (
        _spec("endpoint", "url", "API base URL (https; http only for loopback)", required=True),
        _spec("username", "string", "account user name"),
        _spec("timeout", "number", "request timeout in seconds", default=30.0),
        _spec("verify_tls", "bool", "verify the server's TLS certificate", default=True),
        _spec("ca_bundle", "path", "CA bundle file to verify the server with"),
        _spec("output", "choice", "output format", default="table", choices=("table", "json")),
        _spec("mfa_method", "choice", "preferred MFA method", choices=MFA_METHODS),
        _spec("token_cache", "bool", "cache the API token between sessions", default=True),
    )
}


@dataclass
class Profile:
    """A connection profile. ``explicit`` names the keys set in the file (not defaulted)."""

    name: str
    endpoint: str
    username: str | None = None
    timeout: float = 30.0
    verify_tls: bool = True
    ca_bundle: str | None = None
    output: str = "table"
    mfa_method: str | None = None
    token_cache: bool = True
    extra: dict[str, Any] = field(default_factory=dict)
    explicit: frozenset[str] = field(default_factory=frozenset, compare=False)


def _secret_key(obj: Any) -> str | None:
    """The first key in ``obj`` (recursively) that looks like a secret, if any."""
    if isinstance(obj, dict):
        for key, value in obj.items():
            if _SECRET_RE.search(key):
                return key
            found = _secret_key(value)
            if found:
                return found
    elif isinstance(obj, list):
        for item in obj:
            found = _secret_key(item)
            if found:
                return found
    return None


def _secret_message(key: str) -> str:
    return (
        f"{key!r} looks like a secret; passwords, tokens, OTPs and recovery codes "
        "are never kept in the profiles file"
    )


def _check_name(name: str) -> str:
    if not isinstance(name, str) or not NAME_RE.fullmatch(name):
        raise ProfileError(
            f"invalid profile name {name!r}: use 1-64 letters, digits, '-', '_' or '.'"
        )
    return name


def _profile(name: str, table: dict[str, Any]) -> Profile:
    table_path = ("profiles", name)
    if "endpoint" not in table:
        raise _SchemaError(f"profile {name!r} has no endpoint", table_path)
    values: dict[str, Any] = {}
    extra: dict[str, Any] = {}
    for key, value in table.items():
        spec = PROFILE_KEYS.get(key)
        if spec is None:
            secret = _secret_key({key: value})
            if secret:
                raise _SchemaError(f"profile {name!r}: {_secret_message(secret)}", table_path, key)
            extra[key] = value
            continue
        try:
            values[key] = spec.check(value)
        except ProfileError as exc:
            raise _SchemaError(f"profile {name!r}: {exc}", table_path, key) from None
    if values.get("verify_tls") is False and "ca_bundle" in values:
        raise _SchemaError(
            f"profile {name!r}: verify_tls = false and ca_bundle contradict; keep one",
            table_path,
            "ca_bundle",
        )
    if "timeout" in values:
        values["timeout"] = float(values["timeout"])
    return Profile(name=name, extra=extra, explicit=frozenset(values), **values)


def _build(doc: dict[str, Any]) -> tuple[dict[str, Profile], str]:
    """Validate a parsed file: its profiles by name, and the default profile's name."""
    for key, value in doc.items():
        if key == "profiles":
            continue
        secret = _secret_key({key: value})
        if secret:
            raise _SchemaError(_secret_message(secret), (), key)
    table = doc.get("profiles")
    if not isinstance(table, dict) or not table:
        raise _SchemaError("no profiles: the file needs at least one [profiles.NAME] table")
    profiles: dict[str, Profile] = {}
    for name, body in table.items():
        try:
            _check_name(name)
        except ProfileError as exc:
            raise _SchemaError(str(exc), ("profiles", name)) from None
        if not isinstance(body, dict):
            raise _SchemaError(f"profiles.{name} must be a table", ("profiles",), name)
        profiles[name] = _profile(name, body)
    default = doc.get("default")
    if default is None:
        default = next(iter(profiles))
    elif not isinstance(default, str) or default not in profiles:
        raise _SchemaError(f"default = {default!r} names no profile in the file", (), "default")
    return profiles, default


# --- locating a schema error in the text, for "line X, column Y" ---

_KEY_TOKEN = re.compile(r"\s*(\"(?:[^\"\\]|\\.)*\"|'[^']*'|[A-Za-z0-9_-]+)\s*")


def _split_key(text: str) -> tuple[list[str], int] | None:
    """Dotted key at the start of ``text``: its parts and the length consumed."""
    parts: list[str] = []
    pos = 0
    while True:
        match = _KEY_TOKEN.match(text, pos)
        if not match:
            return None
        token = match.group(1)
        parts.append(token[1:-1] if token[0] in "\"'" else token)
        pos = match.end()
        if pos < len(text) and text[pos] == ".":
            pos += 1
            continue
        return parts, pos


def _locate(text: str, table: tuple[str, ...], key: str | None) -> tuple[int, int] | None:
    """Best-effort (line, column), 1-based, of ``key`` in ``[table]`` or of the table header."""
    current: tuple[str, ...] = ()
    for number, line in enumerate(text.splitlines(), 1):
        stripped = line.lstrip()
        indent = len(line) - len(stripped)
        if stripped.startswith("[") and not stripped.startswith("[["):
            parsed = _split_key(stripped[1:])
            current = tuple(parsed[0]) if parsed else ("?",)
            if key is None and current == table:
                return number, indent + 1
            continue
        parsed = _split_key(line)
        if not parsed or key is None:
            continue
        parts, end = parsed
        rest = line[end:]
        if rest.startswith("=") and current + tuple(parts) == (*table, key):
            value_at = end + 1 + (len(rest) - 1 - len(rest[1:].lstrip()))
            return number, value_at + 1
    return None


def _problem(path: Path, text: str, exc: Exception) -> str:
    if isinstance(exc, _SchemaError):
        where = _locate(text, exc.table, exc.key)
        if where:
            return f"{path}: {exc} (at line {where[0]}, column {where[1]})"
    message = str(exc)
    if message.endswith("(at end of document)"):
        lines = text.split("\n")
        message = message.replace(
            "(at end of document)",
            f"(at end of document: line {len(lines)}, column {len(lines[-1]) + 1})",
        )
    return f"{path}: {message}"


def _shipped_doc() -> dict[str, Any]:
    return tomllib.loads(shipped.read_text("profiles.toml"))


def _dump(doc: dict[str, Any]) -> str:
    return _HEADER + tomli_w.dumps(doc)


def _did_you_mean(word: str, choices: list[str] | Any) -> str:
    close = difflib.get_close_matches(word, list(choices), n=1)
    return f"; did you mean {close[0]!r}?" if close else ""


class ProfileStore:
    """The profiles file. Loading is tolerant; writes are locked, re-read and atomic.

    If the user's file is unreadable or breaks the schema, the store serves the
    shipped profiles, ``problem`` says why (file, line, column), and every write
    raises :class:`ProfileError`, so the file is never overwritten.
    """

    def __init__(self, path: str | os.PathLike[str] | None = None):
        self.path = Path(path) if path is not None else paths.profiles_path()
        self.problem: str | None = None
        self._doc: dict[str, Any] = {}
        self._profiles: dict[str, Profile] = {}
        self._default = ""
        self._loaded = False

    # -- reading --

    def _read(self) -> tuple[dict[str, Any], str | None]:
        """The user's document (or the shipped one if there is no file) and any problem."""
        try:
            text = self.path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return _shipped_doc(), None
        except (OSError, UnicodeDecodeError) as exc:
            reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
            return _shipped_doc(), f"{self.path}: cannot read it: {reason}"
        try:
            doc = tomllib.loads(text)
            _build(doc)
        except (tomllib.TOMLDecodeError, ProfileError) as exc:
            return _shipped_doc(), _problem(self.path, text, exc)
        return doc, None

    def _apply(self, doc: dict[str, Any], problem: str | None) -> None:
        self._profiles, self._default = _build(doc)
        self._doc, self.problem, self._loaded = doc, problem, True

    def load(self) -> ProfileStore:
        """(Re)read the file; never raises for a bad file (see ``problem``)."""
        self._apply(*self._read())
        return self

    def _ensure(self) -> None:
        if not self._loaded:
            self.load()

    @property
    def exists(self) -> bool:
        """True when the user has a profiles file (else the shipped profiles are in use)."""
        return self.path.exists()

    @property
    def default_name(self) -> str:
        """The default profile's name."""
        self._ensure()
        return self._default

    def names(self) -> list[str]:
        """Profile names, in file order."""
        self._ensure()
        return list(self._profiles)

    def __contains__(self, name: object) -> bool:
        self._ensure()
        return name in self._profiles

    def profiles(self) -> list[Profile]:
        """All profiles, in file order."""
        self._ensure()
        return list(self._profiles.values())

    def get(self, name: str) -> Profile:
        """The profile ``name``; ProfileError (with a suggestion) if there is none."""
        self._ensure()
        try:
            return self._profiles[name]
        except KeyError:
            raise ProfileError(
                f"no profile named {name!r}{_did_you_mean(name, self._profiles)}"
            ) from None

    # -- writing --

    def _write(self, change: Callable[[dict[str, Any]], None]) -> None:
        """Under the lock: re-read, apply ``change``, validate, write atomically."""
        self._ensure()
        with files.locked(self.path):  # the file as it is now: fixed since, or broken since
            doc, problem = self._read()
            if problem:
                self._apply(doc, problem)
                raise ProfileError(f"{problem}; not changing the file until it is fixed")
            doc = copy.deepcopy(doc)
            change(doc)
            try:
                _build(doc)
            except _SchemaError as exc:
                raise ProfileError(str(exc)) from None
            files.atomic_write(self.path, _dump(doc), mode=0o600)
        self._apply(doc, None)

    @staticmethod
    def _table(doc: dict[str, Any], name: str) -> dict[str, Any]:
        table = doc.get("profiles", {})
        if name not in table:
            raise ProfileError(f"no profile named {name!r}{_did_you_mean(name, table)}")
        return table[name]

    @staticmethod
    def _spec(key: str) -> KeySpec:
        if key in PROFILE_KEYS:
            return PROFILE_KEYS[key]
        if _SECRET_RE.search(key):
            raise ProfileError(_secret_message(key))
        raise ProfileError(
            f"unknown profile setting {key!r}{_did_you_mean(key, PROFILE_KEYS)} "
            f"(settings: {', '.join(PROFILE_KEYS)})"
        )

    def add(self, name: str, endpoint: str, **keys: Any) -> Profile:
        """Add profile ``name``. Values may be typed or text (text is parsed as by ``set``)."""
        _check_name(name)
        table: dict[str, Any] = {}
        for key, value in {"endpoint": endpoint, **keys}.items():
            if value is None:
                continue
            spec = self._spec(key)
            table[key] = spec.parse(value) if isinstance(value, str) else spec.check(value)

        def change(doc: dict[str, Any]) -> None:
            profiles = doc.setdefault("profiles", {})
            if name in profiles:
                raise ProfileError(f"profile {name!r} already exists (change it with `set`)")
            profiles[name] = table

        self._write(change)
        return self._profiles[name]

    def set(self, name: str, key: str, value: str) -> Profile:
        """Set ``key`` of profile ``name`` from text; an empty ``value`` unsets the key."""
        spec = self._spec(key)
        if value.strip() == "":
            return self.unset(name, key)
        parsed = spec.parse(value)

        def change(doc: dict[str, Any]) -> None:
            self._table(doc, name)[key] = parsed

        self._write(change)
        return self._profiles[name]

    def unset(self, name: str, key: str) -> Profile:
        """Remove optional ``key`` from profile ``name`` (it falls back to its default)."""
        spec = self._spec(key)
        if spec.required:
            raise ProfileError(f"{key} is required and cannot be unset; set another value")

        def change(doc: dict[str, Any]) -> None:
            self._table(doc, name).pop(key, None)

        self._write(change)
        return self._profiles[name]

    def check_removable(self, name: str, *, active: str | None = None) -> None:
        """Raise ProfileError unless :meth:`remove` may remove ``name`` (before asking)."""
        self.get(name)
        if name == self._default:
            raise ProfileError(f"{name!r} is the default profile; choose another default first")
        if name == active:
            raise ProfileError(f"{name!r} is the active profile; switch to another one first")

    def remove(self, name: str, *, active: str | None = None) -> None:
        """Remove profile ``name``; not the default one, nor ``active`` (the one in use)."""
        self.check_removable(name, active=active)

        def change(doc: dict[str, Any]) -> None:
            self._table(doc, name)
            _, default = _build(doc)
            if name == default:
                raise ProfileError(f"{name!r} is the default profile; choose another default first")
            del doc["profiles"][name]

        self._write(change)

    def set_default(self, name: str) -> None:
        """Make ``name`` the default profile."""

        def change(doc: dict[str, Any]) -> None:
            self._table(doc, name)
            doc["default"] = name

        self._write(change)


# --- settings resolution ---

#: Environment variables (as vss-cli names them) for profile keys.
ENV_VARS: dict[str, str] = {"endpoint": "VSS_ENDPOINT", "username": "VSS_USER"}


@dataclass
class Settings:
    """Resolved connection settings; ``sources[key]`` says where each value came from.

    ``name`` is the profile's name (``sources["profile"]`` says how it was chosen).
    """

    name: str
    endpoint: str
    username: str | None
    timeout: float
    verify_tls: bool
    ca_bundle: str | None
    output: str
    mfa_method: str | None
    token_cache: bool
    sources: dict[str, str] = field(default_factory=dict)
    #: Why no request may be sent with these settings (a broken profiles file and no
    #: endpoint given explicitly): ``FILE:LINE: message``. None when they are usable.
    blocked: str | None = None

    @property
    def profile(self) -> str:
        """Alias of ``name``."""
        return self.name

    @property
    def verify(self) -> bool | str:
        """The value for ``requests``' ``verify``: False, a CA bundle path, or True."""
        if not self.verify_tls:
            return False
        return self.ca_bundle or True


def _coerce(key: str, value: Any, origin: str) -> Any:
    spec = PROFILE_KEYS[key]
    try:
        value = spec.parse(value) if isinstance(value, str) else spec.check(value)
    except ProfileError as exc:
        raise ProfileError(f"{origin}: {exc}") from None
    return float(value) if key == "timeout" else value


def resolve(
    store: ProfileStore,
    *,
    profile: str | None = None,
    options: Mapping[str, Any] | None = None,
    env: Mapping[str, str] | None = None,
) -> Settings:
    """Settings by precedence: command-line option > environment > profile > default.

    The profile is ``profile`` (chosen in the shell) > ``options["profile"]`` >
    ``$VSS_PROFILE`` > the store's default. ``options`` values of None are "not given";
    unknown option names are ignored. Bad values raise :class:`ProfileError`.
    """
    options = options or {}
    env = os.environ if env is None else env
    if profile:
        name, origin = profile, "selected"
    elif options.get("profile"):
        name, origin = options["profile"], "option"
    elif env.get("VSS_PROFILE"):
        name, origin = env["VSS_PROFILE"], "env VSS_PROFILE"
    else:
        name, origin = store.default_name, "default"
    try:
        chosen = store.get(name)
    except ProfileError as exc:
        raise ProfileError(f"{exc} (from {origin})") from None
    values: dict[str, Any] = {}
    sources: dict[str, str] = {"profile": origin}
    for key, spec in PROFILE_KEYS.items():
        var = ENV_VARS.get(key)
        if options.get(key) is not None:
            values[key] = _coerce(key, options[key], f"option {key}")
            sources[key] = "option"
        elif var and env.get(var):
            values[key] = _coerce(key, env[var], var)
            sources[key] = f"env {var}"
        elif key in chosen.explicit:
            values[key] = getattr(chosen, key)
            sources[key] = f"profile {chosen.name}"
        else:
            values[key] = spec.default
            sources[key] = "default"
    if values["ca_bundle"]:
        values["ca_bundle"] = os.path.expanduser(values["ca_bundle"])
        if not values["verify_tls"] and sources["verify_tls"].startswith("profile"):
            # A CA bundle given over the profile asks for verification with it.
            values["verify_tls"] = True
            sources["verify_tls"] = sources["ca_bundle"]
    return Settings(name=chosen.name, sources=sources, **values)
