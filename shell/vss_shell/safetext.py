"""Text from outside (a server, a file the person can edit) made safe for a terminal.

Control characters never reach the terminal raw: C0 (except newline and tab),
DEL, C1 (U+0080-U+009F) and the bidirectional controls become visible
``\\x1b``-style escapes, so a hostile text can neither move the cursor, set the
window title, write the clipboard, nor reorder what a person reads.

The UI sanitizes every text it prints; the shell's own escapes (colours, the QR
code) are added afterwards, to text marked :class:`Styled`.
"""

from __future__ import annotations

import re

#: C0 but newline and tab, DEL, C1: shown as escapes. Only the first 256 code points,
#: so each compiles in about 20 µs (a class reaching U+2069 takes a quarter of a ms).
_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f]")
_CONTROL_NO_NEWLINE = re.compile("[\x00-\x1f\x7f-\x9f]")
#: The bidirectional controls, each with its escape: they reorder what a person reads.
_BIDI = {code: f"\\u{code:04x}" for code in (
    0x061C, 0x200E, 0x200F, *range(0x202A, 0x202F), *range(0x2066, 0x206A))}
#: What JSON output must escape beyond what ``json.dumps`` does (DEL, C1; bidi too).
_JSON_EXTRA = re.compile("[\x7f-\x9f]")


class Styled(str):
    """Text the shell built itself: its own escapes around parts already made
    :func:`visible`. The UI prints it as it is; any operation on it (``+``, an
    f-string, ``.strip()``) gives a plain ``str`` again, sanitized when printed."""

    __slots__ = ()


def _escape(match: re.Match[str]) -> str:
    return f"\\x{ord(match.group()):02x}"


def visible(text: str, *, newlines: bool = True) -> str:
    """``text`` with control characters shown as escapes (``\\x1b``); newlines and
    tabs kept unless ``newlines`` is False (a one-line field)."""
    text = (_CONTROL if newlines else _CONTROL_NO_NEWLINE).sub(_escape, text)
    return text if text.isascii() else text.translate(_BIDI)


def has_control(text: str) -> bool:
    """Whether ``text`` holds a control character :func:`visible` would escape,
    newlines included (a one-line value holds none)."""
    return _CONTROL_NO_NEWLINE.search(text) is not None or (
        not text.isascii() and not _BIDI.keys().isdisjoint(map(ord, text)))


def shown(text: object) -> str:
    """What the UI prints for ``text``: :class:`Styled` as it is, anything else
    :func:`visible`."""
    if isinstance(text, Styled):
        return text
    return visible(text if isinstance(text, str) else str(text))


def json_escape_extra(text: str) -> str:
    """A JSON document with DEL, C1 and bidi controls as ``\\u`` escapes (``json.dumps``
    already escapes C0). Such characters can only stand inside JSON strings."""
    text = _JSON_EXTRA.sub(lambda m: f"\\u{ord(m.group()):04x}", text)
    return text if text.isascii() else text.translate(_BIDI)
