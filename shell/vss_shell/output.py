"""Rendering results: a key/value or column table, or JSON."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

FORMATS = ("table", "json")


def _cell(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, list | tuple):
        return ", ".join(_cell(v) for v in value) or "-"
    return str(value)


def table(data: Any) -> str:
    """A readable table: keys and values for a mapping, columns for a list of them."""
    if isinstance(data, Mapping):
        if not data:
            return ""
        width = max(len(str(k)) for k in data)
        return "\n".join(f"{k!s:<{width}}  {_cell(v)}" for k, v in data.items())
    if isinstance(data, Sequence) and not isinstance(data, str):
        rows = [r for r in data if isinstance(r, Mapping)]
        if not rows:
            return "\n".join(_cell(v) for v in data)
        heads = list(dict.fromkeys(k for r in rows for k in r))
        cells = [[_cell(r.get(h)) for h in heads] for r in rows]
        widths = [max(len(h), *(len(c[i]) for c in cells)) for i, h in enumerate(heads)]
        lines = ["  ".join(h.upper().ljust(w) for h, w in zip(heads, widths, strict=True))]
        lines += ["  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)) for row in cells]
        return "\n".join(line.rstrip() for line in lines)
    return _cell(data)


def to_json(data: Any, *, pretty: bool, color: bool = False) -> str:
    """JSON: indented (and highlighted on a colour terminal) or one line."""
    if not pretty:
        return json.dumps(data, ensure_ascii=False, separators=(",", ":"))
    text = json.dumps(data, ensure_ascii=False, indent=2)
    if not color:
        return text
    from pygments import highlight
    from pygments.formatters import TerminalFormatter
    from pygments.lexers.data import JsonLexer

    return highlight(text, JsonLexer(), TerminalFormatter()).rstrip("\n")


def render(data: Any, fmt: str, *, pretty: bool = True, color: bool = False) -> str:
    """``data`` in format ``fmt`` (``table`` or ``json``)."""
    return to_json(data, pretty=pretty, color=color) if fmt == "json" else table(data)
