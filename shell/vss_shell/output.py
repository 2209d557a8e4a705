"""Rendering results: a key/value or column table, or JSON.

Every value may come from outside (a server, the profiles file): control
characters are made visible before the shell adds its own escapes (JSON
colours), so what is returned is safe to print as it is.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from vss_shell.errors import ShellError
from vss_shell.safetext import Styled, json_escape_extra, visible

FORMATS = ("table", "json")


def _cell(value: Any) -> str:
    """A value on one line (a newline in it shown as ``\\x0a``)."""
    if value is None:
        return "-"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, list | tuple):
        return ", ".join(_cell(v) for v in value) or "-"
    return visible(str(value), newlines=False)


def table(data: Any) -> str:
    """A readable table: keys and values for a mapping, columns for a list of them."""
    if isinstance(data, Mapping):
        if not data:
            return ""
        keys = [_cell(k) for k in data]
        width = max(len(k) for k in keys)
        return "\n".join(f"{k:<{width}}  {_cell(v)}" for k, v in zip(keys, data.values(),
                                                                    strict=True))
    if isinstance(data, str):  # a text result keeps its lines
        return visible(data)
    if isinstance(data, Sequence):
        rows = [r for r in data if isinstance(r, Mapping)]
        if not rows:
            return "\n".join(_cell(v) for v in data)
        heads = list(dict.fromkeys(k for r in rows for k in r))
        cells = [[_cell(r.get(h)) for h in heads] for r in rows]
        titles = [_cell(h).upper() for h in heads]
        widths = [max(len(t), *(len(c[i]) for c in cells)) for i, t in enumerate(titles)]
        lines = ["  ".join(t.ljust(w) for t, w in zip(titles, widths, strict=True))]
        lines += ["  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)) for row in cells]
        return "\n".join(line.rstrip() for line in lines)
    return _cell(data)


def to_json(data: Any, *, pretty: bool, color: bool = False) -> str:
    """JSON: indented (and highlighted on a colour terminal) or one line. Control
    characters are ``\\u`` escapes; a NaN or an infinity (no JSON can hold it) is
    refused with one line rather than printed as invalid JSON."""
    import json

    try:
        text = json.dumps(data, ensure_ascii=False, allow_nan=False,
                          indent=2 if pretty else None,
                          separators=None if pretty else (",", ":"))
    except ValueError as exc:
        if "Circular" in str(exc):
            raise
        raise ShellError("the result holds a number JSON cannot represent (NaN or "
                         "Infinity); not shown") from None
    text = json_escape_extra(text)
    if not (pretty and color):
        return text
    from pygments import highlight
    from pygments.formatters import TerminalFormatter
    from pygments.lexers.data import JsonLexer

    return Styled(highlight(text, JsonLexer(), TerminalFormatter()).rstrip("\n"))


def render(data: Any, fmt: str, *, pretty: bool = True, color: bool = False) -> str:
    """``data`` in format ``fmt`` (``table`` or ``json``), safe to print."""
    return to_json(data, pretty=pretty, color=color) if fmt == "json" else table(data)
