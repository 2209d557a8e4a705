"""Checks of the server's success replies against the contract, and their scrubbing.

A value not as the contract says is refused with one line
(:class:`~vss_shell.api.errors.InvalidResponse`), never shown; free text that is
not a string (``message``, ``type``, ``issuer``) is treated as absent. Pure: no
``requests`` here.
"""

from __future__ import annotations

import re
from typing import Any

from vss_shell.api.errors import InvalidResponse, scrub
from vss_shell.constants import MFA_METHODS, TIME_FORMAT

__all__ = ["check_enrolment", "check_mfa_status", "scrub_reply"]

#: Free-text fields of the replies: dropped when not a string.
TEXT_FIELDS = ("message", "type", "issuer")
#: Fields that are secrets by contract: never scrubbed (a coincidence would corrupt them).
SECRET_FIELDS = frozenset({"token", "key", "uri", "recovery_codes"})
#: Bounds of an enrolment's recovery codes and TOTP key and URI.
MAX_CODES = 64
#: The shortest recovery code (the contract: at least 10 characters).
MIN_CODE_LEN = 10
MAX_CODE_LEN = 128
MAX_KEY_LEN = 256
MAX_URI_LEN = 2048
URI_PREFIX = "otpauth://totp/"

_BASE32 = re.compile(r"[A-Za-z2-7]+=*")
_TIMESTAMP = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2} [0-9]{2}:[0-9]{2}:[0-9]{2}")


def scrub_reply(value: Any, forms: tuple[str, ...], key: str | None = None) -> Any:
    """``value`` with every secret form (:func:`~vss_shell.api.errors.secret_forms`) in
    its strings replaced by ``***``: a server that echoes the password or the
    Authorization header in a success reply shows neither."""
    if key in SECRET_FIELDS or not forms:
        return value
    if isinstance(value, str):
        return scrub(value, forms=forms)
    if isinstance(value, dict):
        return {k: scrub_reply(v, forms, k) for k, v in value.items()}
    if isinstance(value, list):
        return [scrub_reply(item, forms) for item in value]
    return value


def text_fields(reply: dict[str, Any]) -> dict[str, Any]:
    """``reply`` without the free-text fields that are not strings."""
    bad = [name for name in TEXT_FIELDS if name in reply and not isinstance(reply[name], str)]
    if not bad:
        return reply
    return {k: v for k, v in reply.items() if k not in bad}


def _codes_problem(codes: Any) -> str | None:
    if not isinstance(codes, list):
        return "'recovery_codes' is not a list"
    if not codes or len(codes) > MAX_CODES:
        return f"'recovery_codes' holds {len(codes)} codes (expected 1 to {MAX_CODES})"
    for code in codes:
        if not isinstance(code, str) or not code.strip():
            return "'recovery_codes' holds something that is not a code"
        if len(code) > MAX_CODE_LEN or not code.isprintable():
            return "'recovery_codes' holds a code that is too long or has control characters"
        if len(code) < MIN_CODE_LEN:  # the contract: each at least 10 characters
            return f"'recovery_codes' holds a code shorter than {MIN_CODE_LEN} characters"
    if len(set(codes)) != len(codes):  # each stands in once: the same code twice is wrong
        return "'recovery_codes' holds the same code twice"
    return None


def _key_problem(key: Any) -> str | None:
    if not isinstance(key, str):
        return "'key' is not a string"
    if not 16 <= len(key) <= MAX_KEY_LEN or not _BASE32.fullmatch(key):
        return "'key' is not a base32 secret"
    import base64
    import binascii

    bare = key.rstrip("=").upper()
    try:
        base64.b32decode(bare + "=" * (-len(bare) % 8))
    except (binascii.Error, ValueError):
        return "'key' is not a base32 secret"
    return None


def _uri_problem(uri: Any, key: Any) -> str | None:
    if not isinstance(uri, str):
        return "'uri' is not a string"
    if len(uri) > MAX_URI_LEN or not uri.startswith(URI_PREFIX) or not uri.isprintable() or (
        " " in uri
    ):
        return f"'uri' is not an {URI_PREFIX} URI"
    from urllib.parse import parse_qs, urlsplit

    query = parse_qs(urlsplit(uri).query)
    secret = query.get("secret", [""])[0]
    if isinstance(key, str) and secret.rstrip("=").upper() != key.rstrip("=").upper():
        return "'uri' holds another secret than 'key'"
    # The contract's codes: 6 digits (the shell takes no other), a step of seconds, and
    # an algorithm authenticator apps know; SHA1, 6 and 30 when not said.
    if query.get("digits", ["6"])[0] != "6":
        return "'uri' asks for codes of other than 6 digits"
    period = query.get("period", ["30"])[0]
    if not period.isdigit() or not 1 <= int(period) <= 300:
        return "'uri' has no valid period"
    if query.get("algorithm", ["SHA1"])[0].upper() not in ("SHA1", "SHA256", "SHA512"):
        return "'uri' names an unknown algorithm"
    return None


def check_enrolment(reply: dict[str, Any], method: str) -> dict[str, Any]:
    """The ``/tf/enable`` reply, checked: recovery codes always; for AUTHENTICATOR a
    base32 ``key`` and an ``otpauth://totp/`` ``uri``. When part of it is wrong,
    :class:`InvalidResponse` names the fields and carries the valid ones in
    ``partial`` (the server has enrolled: the command shows how to finish)."""
    reply = text_fields(reply)
    problems = {"recovery_codes": _codes_problem(reply.get("recovery_codes"))}
    if method == "AUTHENTICATOR":
        key_problem = _key_problem(reply.get("key"))
        problems["key"] = key_problem
        problems["uri"] = _uri_problem(reply.get("uri"), None if key_problem else reply["key"])
    else:  # key and uri belong to AUTHENTICATOR only
        reply = {k: v for k, v in reply.items() if k not in ("key", "uri")}
    wrong = [text for text in problems.values() if text]
    if not wrong:
        return reply
    partial = {
        k: v for k, v in reply.items() if k in TEXT_FIELDS or (k in problems and not problems[k])
    }
    raise InvalidResponse(
        "the server's enrolment answer is not as the API says: " + "; ".join(wrong),
        status=200,
        partial=partial,
    )


def _timestamp_ok(value: Any) -> bool:
    if value is None:
        return True
    if not isinstance(value, str) or not _TIMESTAMP.fullmatch(value):
        return False
    from datetime import datetime

    try:
        datetime.strptime(value, TIME_FORMAT)
    except ValueError:
        return False
    return True


def check_mfa_status(totp: dict[str, Any]) -> dict[str, Any]:
    """``data.totp`` checked: ``enabled`` a boolean, ``method`` null or a method,
    ``enabled_on``/``disabled_on`` null or ``YYYY-MM-DD HH:MM:SS``. Returns exactly
    those four fields (absent ones as None)."""
    status = {name: totp.get(name) for name in ("enabled", "method", "enabled_on", "disabled_on")}
    if not isinstance(status["enabled"], bool):
        problem = "'enabled' is not true or false"
    elif status["method"] is not None and status["method"] not in MFA_METHODS:
        problem = "'method' is not one of " + ", ".join(MFA_METHODS)
    elif status["enabled"] and status["method"] is None:  # on, but by no method
        problem = "'enabled' is true and 'method' is null"
    else:
        problem = next(
            (
                f"'{name}' is not a date YYYY-MM-DD HH:MM:SS"
                for name in ("enabled_on", "disabled_on")
                if not _timestamp_ok(status[name])
            ),
            None,
        )
    if problem is not None:
        raise InvalidResponse(f"the server's MFA status is not as the API says: {problem}",
                              status=200)
    return status
