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

_BIDI = "\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069"
#: Characters shown as escapes: C0 but newline and tab, DEL, C1, bidi controls.
_CONTROL = re.compile(f"[\x00-\x08\x0b-\x1f\x7f-\x9f{_BIDI}]")
_CONTROL_NO_NEWLINE = re.compile(f"[\x00-\x1f\x7f-\x9f{_BIDI}]")
#: Every control character, newlines included (a one-line value holds none).
CONTROL_CHARACTERS = _CONTROL_NO_NEWLINE
#: What JSON output must escape beyond what ``json.dumps`` does (DEL, C1, bidi).
_JSON_EXTRA = re.compile(f"[\x7f-\x9f{_BIDI}]")


class Styled(str):
    """Text the shell built itself: its own escapes around parts already made
    :func:`visible`. The UI prints it as it is; any operation on it (``+``, an
    f-string, ``.strip()``) gives a plain ``str`` again, sanitized when printed."""

    __slots__ = ()


def _escape(match: re.Match[str]) -> str:
    code = ord(match.group())
    return f"\\x{code:02x}" if code <= 0xFF else f"\\u{code:04x}"


def visible(text: str, *, newlines: bool = True) -> str:
    """``text`` with control characters shown as escapes (``\\x1b``); newlines and
    tabs kept unless ``newlines`` is False (a one-line field)."""
    pattern = _CONTROL if newlines else _CONTROL_NO_NEWLINE
    return pattern.sub(_escape, text)


def shown(text: object) -> str:
    """What the UI prints for ``text``: :class:`Styled` as it is, anything else
    :func:`visible`."""
    if isinstance(text, Styled):
        return text
    return visible(text if isinstance(text, str) else str(text))


def json_escape_extra(text: str) -> str:
    """A JSON document with DEL, C1 and bidi controls as ``\\u`` escapes (``json.dumps``
    already escapes C0). Such characters can only stand inside JSON strings."""
    return _JSON_EXTRA.sub(lambda m: f"\\u{ord(m.group()):04x}", text)
