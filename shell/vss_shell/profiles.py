"""Connection profiles: the TOML file, its schema, and settings resolution.

The file (``paths.profiles_path``) has ``default = "NAME"`` and one table per
profile, ``[profiles.NAME]``. Until the user changes something the shipped
profiles are used and nothing is written; the first change writes the full set.
Unknown keys are kept; comments are not (the file is rewritten by ``tomli_w``).
Secrets (passwords, tokens, OTPs, recovery codes) are refused.

A file that cannot be read or breaks the schema is never overwritten, and no
request is sent with it (``Settings.blocked``) unless the endpoint is given
explicitly: one bad value must not send commands to another server.
"""

from __future__ import annotations

import math
import os
import re
import stat
import tomllib
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from vss_shell import files, paths, shipped
from vss_shell.api.limits import MAX_TIMEOUT
from vss_shell.api.netenv import is_loopback
from vss_shell.constants import MFA_METHODS
from vss_shell.errors import hide_url_secrets
from vss_shell.record import Frozen, Record
from vss_shell.safetext import has_control, visible


class ProfileError(Exception):
    """A one-line, user-facing problem with a profile, a setting or the profiles file."""


class BadValue(ProfileError):
    """A value, key or name as typed that the schema refuses: a usage error."""


class _SchemaError(ProfileError):
    """A schema problem, with where it is: the table path and key (to find line/column)."""

    def __init__(self, message: str, table: tuple[str, ...] = (), key: str | None = None):
        super().__init__(message)
        self.table = table
        self.key = key


#: Profile names: letters, digits, ``-``, ``_``, ``.``; 1 to 64 characters.
NAME_RE = re.compile(r"[A-Za-z0-9_.-]{1,64}")

#: Key names that look like secrets; they never go in the profiles file. ``otp``
#: counts outside a word (``otp``, ``otp_seed``, ``use-otp``), not inside one.
_SECRET = (r"pass(word|wd|phrase)|pwd|token|secret|recovery|credential"
           r"|(?<![a-z])otp|otp(?![a-z])")
_SECRET_WORDS = ("password", "passwd", "passphrase", "pwd", "token", "secret", "recovery",
                 "credential")


def _looks_secret(key: str) -> bool:
    """Whether ``key`` matches :data:`_SECRET`, any case. An ASCII key (nearly all) is
    checked without a regular expression: this one takes a third of a millisecond to
    compile, at every start. Other keys go through it (case folding has its
    surprises: ``ı``, ``ſ`` and the Kelvin sign are letters to it)."""
    if not key.isascii():
        return re.search(_SECRET, key, re.IGNORECASE) is not None
    lowered = key.lower()
    if any(word in lowered for word in _SECRET_WORDS):
        return True
    at = lowered.find("otp")
    while at >= 0:
        before, after = lowered[at - 1:at] if at else "", lowered[at + 3:at + 4]
        if not before.isalpha() or not after.isalpha():
            return True
        at = lowered.find("otp", at + 1)
    return False


_HEADER = (
    "# vss-shell connection profiles, written by vss-shell (comments are not kept).\n"
    "# Never put passwords, tokens, OTPs or recovery codes here.\n\n"
)

#: Bounds on the profiles file: its size, and how deeply its tables and arrays nest.
MAX_FILE_BYTES = 256 * 1024
MAX_DEPTH = 16


#: Characters no value of the file may hold: C0 and C1 controls, DEL.

_TRUE = frozenset({"true", "yes", "on", "1"})
_FALSE = frozenset({"false", "no", "off", "0"})


def _type_name(value: object) -> str:
    return {bool: "a boolean", int: "a number", float: "a number", str: "a string"}.get(
        type(value), f"a {type(value).__name__}"
    )



def _brief(value: Any, limit: int = 60) -> str:
    """``repr(value)`` for a message: short, whatever the file or the line held."""
    if isinstance(value, int) and not isinstance(value, bool) and value.bit_length() > 64:
        return "a very large number"  # repr() of a huge int is slow, or refused
    if isinstance(value, dict | list):
        return _type_name(value)
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"


# --- checks (typed values, as read from TOML) and parsers (strings, as typed) ---


def _shown(url: str) -> str:
    """``url`` fit for a message: a user name, password, query or fragment in it
    could be a secret, so they are replaced by ``***``."""
    return hide_url_secrets(url)


def _check_endpoint(value: Any) -> str:
    if not isinstance(value, str):
        raise BadValue(f"endpoint must be a URL string, not {_type_name(value)}")
    shown = _brief(_shown(value))
    if has_control(value) or any(ch.isspace() for ch in value):
        raise BadValue(f"endpoint {shown} must not hold spaces or "
                       "control characters")
    try:
        parts = urlsplit(value)
        parts.port  # noqa: B018 - raises ValueError for a bad port
    except ValueError as exc:  # its text may quote a piece of a password: not with "@"
        detail = "" if "@" in value else f" ({exc})"
        raise BadValue(f"endpoint {shown} is not a valid URL{detail}") from None
    scheme = parts.scheme.lower()
    if scheme not in ("https", "http") or not parts.hostname:
        raise BadValue(f"endpoint {shown} is not an https:// URL with a host")
    if parts.username is not None or parts.password is not None:
        raise BadValue(f"endpoint {shown} holds a user name or password; use the username "
                       "setting")
    if parts.query or parts.fragment:
        raise BadValue(f"endpoint {shown} must not have a query or fragment")
    if scheme == "http" and not is_loopback(parts.hostname):
        raise BadValue(
            f"endpoint {shown} uses plain http; use https "
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
            raise BadValue(f"{key} must be a string, not {_type_name(value)}")
        if not value.strip() or has_control(value):
            raise BadValue(f"{key} must be a non-empty string without control characters")
        return value

    return check


#: The longest user name taken.
MAX_USERNAME = 256


def check_username(value: Any) -> str:
    """A user name that can go in a Basic credential: a string without control
    characters, ``:`` (RFC 7617 ends the name there) or blanks around it, at most
    MAX_USERNAME characters. Any source: profile, ``--user``, ``VSS_USER``, typed."""
    name = _check_string("username")(value)
    if ":" in name:
        raise BadValue(f"username {_brief(name)} must not hold ':' (it ends a user name "
                       "in a Basic credential)")
    if name != name.strip():
        raise BadValue(f"username {_brief(name)} must not begin or end with blanks")
    if len(name) > MAX_USERNAME:
        raise BadValue(f"username must be at most {MAX_USERNAME} characters")
    return name


def _parse_ca_bundle(text: str) -> str:
    value = _check_string("ca_bundle")(text.strip())
    if not os.path.isfile(os.path.expanduser(value)):
        raise BadValue(f"ca_bundle {_brief(value)}: no such file")
    return value


def _check_timeout(value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise BadValue(f"timeout must be a number of seconds, not {_type_name(value)}")
    try:
        seconds = float(value)
    except OverflowError:  # a TOML integer of hundreds of digits
        seconds = math.inf
    if not (math.isfinite(seconds) and 0 < seconds <= MAX_TIMEOUT):
        raise BadValue(f"timeout must be more than 0 and at most {MAX_TIMEOUT:g} seconds, "
                       f"not {seconds:g}")
    return seconds


def _parse_timeout(text: str) -> float:
    try:
        value = float(text.strip())
    except ValueError:
        raise BadValue(f"timeout must be a number of seconds, not {_brief(text)}") from None
    return float(_check_timeout(value))


def _check_bool(key: str) -> Callable[[Any], bool]:
    def check(value: Any) -> bool:
        if not isinstance(value, bool):
            raise BadValue(f"{key} must be true or false, not {_type_name(value)}")
        return value

    return check


def _parse_bool(key: str) -> Callable[[str], bool]:
    def parse(text: str) -> bool:
        word = text.strip().lower()
        if word in _TRUE:
            return True
        if word in _FALSE:
            return False
        raise BadValue(f"{key} must be true or false, not {_brief(text)}")

    return parse


def _check_choice(key: str, choices: tuple[str, ...]) -> Callable[[Any], str]:
    def check(value: Any) -> str:
        if not isinstance(value, str) or value not in choices:
            raise BadValue(f"{key} must be one of {', '.join(choices)}, not {_brief(value)}")
        return value

    return check


def _parse_choice(key: str, choices: tuple[str, ...]) -> Callable[[str], str]:
    folded = {choice.lower(): choice for choice in choices}

    def parse(text: str) -> str:
        return _check_choice(key, choices)(folded.get(text.strip().lower(), text))

    return parse


class KeySpec(Frozen):
    """One settable profile key: how to parse it from text, check it, and explain it."""

    __slots__ = FIELDS = ("name", "kind", "help", "parse", "check", "default", "choices",
                          "required")
    _hidden = ("parse", "check")

    def __init__(self, name: str, kind: str, help: str, parse: Callable[[str], Any],
                 check: Callable[[Any], Any], default: Any = None,
                 choices: tuple[str, ...] | None = None, required: bool = False) -> None:
        self.name = name
        self.kind = kind  # "url", "user", "number", "bool", "path", "choice"
        self.help = help
        self.parse = parse
        self.check = check
        self.default = default
        self.choices = choices
        self.required = required


def _spec(name: str, kind: str, help: str, **more: Any) -> KeySpec:
    choices = more.get("choices")
    if kind == "url":
        parse, check = _parse_endpoint, _check_endpoint
    elif kind == "user":
        parse, check = check_username, check_username
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
        _spec("username", "user", "account user name"),
        _spec("timeout", "number", "request timeout in seconds", default=30.0),
        _spec("verify_tls", "bool", "verify the server's TLS certificate", default=True),
        _spec("ca_bundle", "path", "CA bundle file to verify the server with"),
        _spec("output", "choice", "output format", default="table", choices=("table", "json")),
        _spec("mfa_method", "choice", "preferred MFA method", choices=MFA_METHODS),
        _spec("token_cache", "bool", "cache the API token between sessions", default=True),
    )
}


class Profile(Record):
    """A connection profile. ``explicit`` names the keys set in the file (not defaulted)."""

    __slots__ = FIELDS = ("name", "endpoint", "username", "timeout", "verify_tls", "ca_bundle",
                          "output", "mfa_method", "token_cache", "extra", "explicit")
    _uncompared = ("explicit",)

    def __init__(self, name: str, endpoint: str, username: str | None = None,
                 timeout: float = 30.0, verify_tls: bool = True, ca_bundle: str | None = None,
                 output: str = "table", mfa_method: str | None = None, token_cache: bool = True,
                 extra: dict[str, Any] | None = None,
                 explicit: frozenset[str] = frozenset()) -> None:
        self.name = name
        self.endpoint = endpoint
        self.username = username
        self.timeout = timeout
        self.verify_tls = verify_tls
        self.ca_bundle = ca_bundle
        self.output = output
        self.mfa_method = mfa_method
        self.token_cache = token_cache
        self.extra: dict[str, Any] = {} if extra is None else extra
        self.explicit = explicit


def _secret_path(obj: Any, path: tuple[str, ...] = ()) -> tuple[str, ...] | None:
    """Where in ``obj`` (keys, recursively) the first key that looks like a secret is."""
    if isinstance(obj, dict):
        for key, value in obj.items():
            if _looks_secret(key):
                return (*path, key)
            found = _secret_path(value, (*path, key))
            if found:
                return found
    elif isinstance(obj, list):
        for item in obj:
            found = _secret_path(item, path)
            if found:
                return found
    return None


def _secret_message(key: str) -> str:
    return (
        f"{_brief(key)} looks like a secret; passwords, tokens, OTPs and recovery codes "
        "are never kept in the profiles file"
    )


def _check_name(name: str) -> str:
    if not isinstance(name, str) or not NAME_RE.fullmatch(name):
        raise BadValue(
            f"invalid profile name {_brief(name)}: use 1-64 letters, digits, '-', '_' or '.'"
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
            secret = _secret_path({key: value})
            if secret:
                raise _SchemaError(f"profile {name!r}: {_secret_message(secret[-1])}",
                                   (*table_path, *secret[:-1]), secret[-1])
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


class _Survey:
    """What a parsed file holds: the good profiles, the broken ones, and every problem."""

    def __init__(self, profiles: dict[str, Profile], default: str, order: list[str],
                 broken: dict[str, tuple[_SchemaError, dict[str, Any]]],
                 errors: list[_SchemaError]) -> None:
        self.profiles, self.default, self.order = profiles, default, order
        self.broken, self.errors = broken, errors


def _survey(doc: dict[str, Any]) -> _Survey:
    """Check a parsed file profile by profile: one bad profile does not hide the others."""
    errors: list[_SchemaError] = []
    for key, value in doc.items():
        secret = None if key == "profiles" else _secret_path({key: value})
        if secret:
            errors.append(_SchemaError(_secret_message(secret[-1]), secret[:-1], secret[-1]))
    table = doc.get("profiles")
    if not isinstance(table, dict) or not table:
        errors.append(_SchemaError("no profiles: the file needs at least one [profiles.NAME] "
                                   "table", (), "profiles" if "profiles" in doc else None))
        table = {}
    profiles: dict[str, Profile] = {}
    broken: dict[str, tuple[_SchemaError, dict[str, Any]]] = {}
    for name, body in table.items():
        try:
            try:
                _check_name(name)
            except ProfileError as exc:
                raise _SchemaError(str(exc), ("profiles", name)) from None
            if not isinstance(body, dict):
                raise _SchemaError(f"profiles.{name} must be a table", ("profiles",), name)
            profiles[name] = _profile(name, body)
        except _SchemaError as exc:
            errors.append(exc)
            broken[name] = (exc, body if isinstance(body, dict) else {})
    default = doc.get("default")
    first = next((name for name in table if NAME_RE.fullmatch(name)), "")
    if default is None:
        default = first
    elif not isinstance(default, str) or default not in table:
        errors.append(_SchemaError(f"default = {_brief(default)} names no profile in the file",
                                   (), "default"))
        default = default if isinstance(default, str) and NAME_RE.fullmatch(default) else first
    return _Survey(profiles, default, list(table), broken, errors)


def _build(doc: dict[str, Any]) -> tuple[dict[str, Profile], str]:
    """Validate a parsed file: its profiles by name, and the default profile's name."""
    survey = _survey(doc)
    if survey.errors:
        raise survey.errors[0]
    return survey.profiles, survey.default


def _too_deep(doc: Any) -> bool:
    """Whether tables and arrays nest more than MAX_DEPTH levels (checked without recursion)."""
    stack = [(doc, 0)]
    while stack:
        node, depth = stack.pop()
        if depth > MAX_DEPTH:
            return True
        if isinstance(node, dict):
            stack.extend((value, depth + 1) for value in node.values())
        elif isinstance(node, list):
            stack.extend((value, depth + 1) for value in node)
    return False


# --- locating a problem in the text, for "FILE:LINE: message" ---

# Only a broken file needs these: compiled (and cached by ``re``) then, not at start-up.
_KEY_TOKEN = r"\s*(\"(?:[^\"\\]|\\.)*\"|'[^']*'|[A-Za-z0-9_-]+)\s*"
_TOML_WHERE = r"(.*) \(at line (\d+), column \d+\)"


def _split_key(text: str) -> tuple[list[str], int] | None:
    """Dotted key at the start of ``text``: its parts and the length consumed."""
    parts: list[str] = []
    pos = 0
    while True:
        match = re.compile(_KEY_TOKEN).match(text, pos)
        if not match:
            return None
        token = match.group(1)
        parts.append(token[1:-1] if token[0] in "\"'" else token)
        pos = match.end()
        if pos < len(text) and text[pos] == ".":
            pos += 1
            continue
        return parts, pos


def _locate(text: str, table: tuple[str, ...], key: str | None) -> int | None:
    """Best-effort 1-based line of ``key`` in ``[table]``, or of the table's header."""
    current: tuple[str, ...] = ()
    found = None
    for number, line in enumerate(text.split("\n"), 1):
        stripped = line.lstrip()
        if stripped.startswith("[") and not stripped.startswith("[["):
            parsed = _split_key(stripped[1:])
            current = tuple(parsed[0]) if parsed else ("?",)
            if current == table and found is None:
                found = number  # the header, if the key is not found in it
                if key is None:
                    return number
            continue
        parsed = _split_key(line)
        if not parsed or key is None:
            continue
        parts, end = parsed
        if line[end:].startswith("=") and current + tuple(parts) == (*table, key):
            return number
        if line[end:].startswith("=") and current + tuple(parts)[:1] == (*table, key):
            return number  # a dotted key under ``key``: key.sub = ...
    return found


def _deep_line(text: str) -> int | None:
    """The line where brackets first open more than MAX_DEPTH deep (a rough count)."""
    depth = 0
    for number, line in enumerate(text.split("\n"), 1):
        for char in line:
            depth += 1 if char in "[{" else -1 if char in "]}" else 0
            if depth > MAX_DEPTH:
                return number
    return None


def _long_key_line(text: str) -> int | None:
    """The first line whose dotted key has more than MAX_DEPTH parts (a rough count:
    dots before ``=`` or ``]``). tomllib takes quadratic time over such keys."""
    for number, line in enumerate(text.split("\n"), 1):
        if line.count(".") > MAX_DEPTH:
            key = line.split("=", 1)[0] if "=" in line else line.split("]", 1)[0]
            if key.count(".") > MAX_DEPTH:
                return number
    return None


def _at(path: Path, line: int | None, message: str) -> str:
    """``FILE:LINE: message`` (``FILE: message`` without a line), safe for a terminal."""
    where = f"{path}:{line}" if line else str(path)
    return visible(f"{where}: {message}", newlines=False)


def _problem(path: Path, text: str, exc: Exception) -> str:
    if isinstance(exc, _SchemaError):
        return _at(path, _locate(text, exc.table, exc.key), str(exc))
    message = str(exc)
    match = re.fullmatch(_TOML_WHERE, message, re.DOTALL)
    if match:
        return _at(path, int(match.group(2)), match.group(1))
    if message.endswith("(at end of document)"):
        return _at(path, text.count("\n") + 1, message)
    return _at(path, None, message)


def _shipped_doc() -> dict[str, Any]:
    return tomllib.loads(shipped.read_text("profiles.toml"))


def _dump(doc: dict[str, Any]) -> str:
    import tomli_w

    return _HEADER + tomli_w.dumps(doc)


def _did_you_mean(word: str, choices: list[str] | Any) -> str:
    import difflib

    if len(word) > 100:  # no name is that long: nothing to compare
        return ""
    close = difflib.get_close_matches(word, list(choices), n=1)
    return f"; did you mean {close[0]!r}?" if close else ""


class _Unreadable(Exception):
    """The file is there but is no profiles file: too large, not UTF-8, not a file."""

    def __init__(self, message: str, line: int | None = None):
        super().__init__(message)
        self.line = line


def _read_text(path: Path) -> str:
    """The file's text, bounded in size; never blocks on a FIFO."""
    fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)
    with os.fdopen(fd, "rb") as handle:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise _Unreadable("not a regular file")
        data = handle.read(MAX_FILE_BYTES + 1)
    if len(data) > MAX_FILE_BYTES:
        raise _Unreadable(f"larger than {MAX_FILE_BYTES // 1024} KiB: not a profiles file")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise _Unreadable("not UTF-8 text", data[: exc.start].count(b"\n") + 1) from None


class _Reading:
    """One read of the file: the document, what is usable in it, and what is not."""

    def __init__(self, doc: dict[str, Any], profiles: dict[str, Profile], default: str,
                 order: list[str], problem: str | None = None,
                 broken: dict[str, tuple[str, dict[str, Any]]] | None = None) -> None:
        self.doc, self.profiles, self.default, self.order = doc, profiles, default, order
        self.problem = problem
        #: Profiles that do not parse: name -> (``FILE:LINE: message``, the raw table).
        self.broken = broken or {}


class ProfileStore:
    """The profiles file. Loading is tolerant; writes are locked, re-read and atomic.

    If the user's file is unreadable or breaks the schema, ``problem`` says why
    (``FILE:LINE: message``), the profiles that parse on their own are still
    listed (``broken`` has the others), :func:`resolve` blocks requests unless
    the endpoint is given explicitly, and every write raises
    :class:`ProfileError`, so the file is never overwritten.
    """

    def __init__(self, path: str | os.PathLike[str] | None = None, *, named: bool = False):
        self.path = Path(path) if path is not None else paths.profiles_path()
        self.problem: str | None = None
        #: The person named this file (``--config``, ``VSS_SHELL_CONFIG``): if it is
        #: missing, that is a typo, not "no profiles yet".
        self.named = named
        #: Why requests are refused though the file may be written (a named file that
        #: does not exist yet: ``profile add`` creates it).
        self.absent: str | None = None
        self._reading = _Reading({}, {}, "", [])
        self._loaded = False

    # -- reading --

    def _read(self) -> _Reading:
        """The user's file (or the shipped profiles if there is none), checked."""
        self.absent = None
        try:
            text = _read_text(self.path)
        except FileNotFoundError:
            if os.path.islink(self.path):  # a link to nothing: a mistake, never "no file"
                return _Reading({}, {}, "", [], _at(
                    self.path, None, "is a symbolic link to a file that does not exist"))
            if self.named:
                self.absent = _at(self.path, None, "no such file (named by --config or "
                                  "VSS_SHELL_CONFIG); 'profile add' creates it")
            doc = _shipped_doc()
            profiles, default = _build(doc)
            return _Reading(doc, profiles, default, list(profiles))
        except _Unreadable as exc:
            return _Reading({}, {}, "", [], _at(self.path, exc.line, str(exc)))
        except OSError as exc:
            reason = exc.strerror or str(exc)
            return _Reading({}, {}, "", [], _at(self.path, None, f"cannot read it: {reason}"))
        deep = f"tables or arrays nested more than {MAX_DEPTH} levels deep"
        long_key = _long_key_line(text)
        if long_key:
            return _Reading({}, {}, "", [], _at(self.path, long_key, deep))
        try:
            doc = tomllib.loads(text)
        except tomllib.TOMLDecodeError as exc:
            return _Reading({}, {}, "", [], _problem(self.path, text, exc))
        except RecursionError:  # tomllib recurses into nested arrays and inline tables
            doc = None
        except ValueError as exc:  # an integer of thousands of digits
            reason = str(exc).split(";")[0]
            return _Reading({}, {}, "", [], _at(self.path, None, f"cannot read it: {reason}"))
        if doc is None or _too_deep(doc):
            return _Reading({}, {}, "", [], _at(self.path, _deep_line(text), deep))
        survey = _survey(doc)
        broken = {name: (_problem(self.path, text, exc), raw)
                  for name, (exc, raw) in survey.broken.items()}
        problem = _problem(self.path, text, survey.errors[0]) if survey.errors else None
        return _Reading(doc, survey.profiles, survey.default, survey.order, problem, broken)

    def _apply(self, reading: _Reading) -> None:
        self._reading, self.problem, self._loaded = reading, reading.problem, True

    def load(self) -> ProfileStore:
        """(Re)read the file; never raises for a bad file (see ``problem``)."""
        self._apply(self._read())
        return self

    def _ensure(self) -> _Reading:
        if not self._loaded:
            self.load()
        return self._reading

    @property
    def _profiles(self) -> dict[str, Profile]:
        return self._ensure().profiles

    @property
    def exists(self) -> bool:
        """True when the user has a profiles file (else the shipped profiles are in use)."""
        return self.path.exists()

    @property
    def default_name(self) -> str:
        """The default profile's name (as the file says, even when broken)."""
        return self._ensure().default

    def names(self) -> list[str]:
        """Names of the usable profiles, in file order."""
        return list(self._profiles)

    def listing(self) -> list[str]:
        """Every profile name in the file, the broken ones too, in file order."""
        return list(self._ensure().order)

    @property
    def broken(self) -> dict[str, str]:
        """The profiles that do not parse, each with its problem (``FILE:LINE: message``)."""
        return {name: problem for name, (problem, _) in self._ensure().broken.items()}

    def raw(self, name: str) -> dict[str, Any] | None:
        """The table of broken profile ``name`` as the file has it (None: not broken)."""
        entry = self._ensure().broken.get(name)
        return None if entry is None else entry[1]

    def problem_for(self, name: str) -> str | None:
        """Why no request may use profile ``name``: its own problem, else the file's."""
        entry = self._ensure().broken.get(name)
        return entry[0] if entry else self.problem

    def __contains__(self, name: object) -> bool:
        return name in self._profiles

    def profiles(self) -> list[Profile]:
        """The usable profiles, in file order."""
        return list(self._profiles.values())

    def get(self, name: str) -> Profile:
        """The profile ``name``; ProfileError (with a suggestion, or its problem) if unusable."""
        reading = self._ensure()
        if name in reading.profiles:
            return reading.profiles[name]
        if name in reading.broken:
            raise ProfileError(reading.broken[name][0])
        raise ProfileError(f"no profile named {_brief(name)}{_did_you_mean(name, reading.order)}")


    # -- writing --

    def _write(self, change: Callable[[dict[str, Any]], None]) -> None:
        """Under the lock: re-read, apply ``change``, validate, write atomically."""
        import copy

        self._ensure()
        with files.locked(self.path):  # the file as it is now: fixed since, or broken since
            reading = self._read()
            if reading.problem:
                self._apply(reading)
                raise ProfileError(f"{reading.problem}; not changing the file until it is fixed")
            doc = copy.deepcopy(reading.doc)
            change(doc)
            try:
                profiles, default = _build(doc)
            except _SchemaError as exc:
                raise BadValue(str(exc)) from None
            files.atomic_write(self.path, _dump(doc), mode=0o600)
        self.absent = None  # written: the file exists now
        self._apply(_Reading(doc, profiles, default, list(profiles)))

    @staticmethod
    def _table(doc: dict[str, Any], name: str) -> dict[str, Any]:
        table = doc.get("profiles", {})
        if name not in table:
            raise ProfileError(
                f"no profile named {_brief(name)}{_did_you_mean(name, table)}")
        return table[name]

    @staticmethod
    def _spec(key: str) -> KeySpec:
        if key in PROFILE_KEYS:
            return PROFILE_KEYS[key]
        if _looks_secret(key):
            raise BadValue(_secret_message(key))
        raise BadValue(
            f"unknown profile setting {_brief(key)}{_did_you_mean(key, PROFILE_KEYS)} "
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
                raise ProfileError(f"profile {name!r} already exists; change it with "
                                   f"`profile set {name} KEY VALUE`")
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
            raise BadValue(f"{key} is required and cannot be unset; set another value")

        def change(doc: dict[str, Any]) -> None:
            self._table(doc, name).pop(key, None)

        self._write(change)
        return self._profiles[name]

    def check_removable(self, name: str, *, active: str | None = None) -> None:
        """Raise ProfileError unless :meth:`remove` may remove ``name`` (before asking)."""
        self.get(name)
        if name == self.default_name:
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


class Settings(Record):
    """Resolved connection settings; ``sources[key]`` says where each value came from.

    ``name`` is the profile's name (``sources["profile"]`` says how it was chosen).
    """

    __slots__ = FIELDS = ("name", "endpoint", "username", "timeout", "verify_tls", "ca_bundle",
                          "output", "mfa_method", "token_cache", "sources", "blocked")

    def __init__(self, name: str, endpoint: str, username: str | None, timeout: float,
                 verify_tls: bool, ca_bundle: str | None, output: str, mfa_method: str | None,
                 token_cache: bool, sources: dict[str, str] | None = None,
                 blocked: str | None = None) -> None:
        self.name = name
        self.endpoint = endpoint
        self.username = username
        self.timeout = timeout
        self.verify_tls = verify_tls
        self.ca_bundle = ca_bundle
        self.output = output
        self.mfa_method = mfa_method
        self.token_cache = token_cache
        self.sources: dict[str, str] = {} if sources is None else sources
        #: Why no request may be sent with these settings (a broken profiles file and no
        #: endpoint given explicitly): ``FILE:LINE: message``. None when they are usable.
        self.blocked = blocked

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
        raise BadValue(f"{origin}: {exc}") from None
    return float(value) if key == "timeout" else value


def _flag(key: str) -> str:
    """The option of ``vss`` that gives ``key``."""
    special = {"username": "--user", "verify_tls": "--insecure", "token_cache": "--no-token-cache"}
    return special.get(key, "--" + key.replace("_", "-"))


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

    With a broken profiles file the settings are ``blocked`` (no request is sent)
    unless the endpoint is explicit (option or ``VSS_ENDPOINT``); the profile's
    values are used only if that profile parses on its own.
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
    chosen: Profile | None = None
    try:
        chosen = store.get(name)
    except ProfileError as exc:
        if store.problem is None:
            raise ProfileError(f"{exc} (from {origin})") from None
    values: dict[str, Any] = {}
    sources: dict[str, str] = {"profile": origin}
    for key, spec in PROFILE_KEYS.items():
        var = ENV_VARS.get(key)
        if options.get(key) is not None:
            values[key] = _coerce(key, options[key], f"option {_flag(key)}")
            sources[key] = "option"
        elif var and env.get(var):
            values[key] = _coerce(key, env[var], var)
            sources[key] = f"env {var}"
        elif chosen is not None and key in chosen.explicit:
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
    blocked = None
    if store.problem is None and store.absent is not None and not sources[
            "endpoint"].startswith(("option", "env")):
        blocked = f"{store.absent}; no request is sent to a profile it does not hold"
    elif store.problem is not None and not sources["endpoint"].startswith(("option", "env")):
        # Never the shipped default nor a guess: a script's `--yes` would act on the
        # wrong server. Nothing of the token cache is touched either.
        blocked = (f"{store.problem_for(name)}; no request is sent until the file "
                   "is fixed (or --endpoint is given)")
        values["endpoint"] = values["endpoint"] or ""
        values["token_cache"], sources["token_cache"] = False, "profiles file broken"
    return Settings(name=name or "?", sources=sources, blocked=blocked, **values)
