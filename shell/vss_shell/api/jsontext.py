"""The one JSON loader for text from outside (server bodies, token payloads).

It refuses what a strict reader should: ``NaN``/``Infinity``/``-Infinity`` (not
JSON, and they would make ``-o json`` output invalid) and nesting deeper than
:data:`MAX_DEPTH` (100k ``[`` would otherwise end in a ``RecursionError``).
``json`` is imported on first use: this module is on the way to the prompt.
"""

from __future__ import annotations

from typing import Any

#: Deepest nesting of arrays and objects accepted (the contract's replies need 3).
MAX_DEPTH = 32


class JsonError(ValueError):
    """The text is not strict JSON, or too deep; ``str()`` is a short reason."""


def _refuse_constant(name: str) -> Any:
    raise JsonError(f"{name} is not a JSON number")


def _finite(text: str) -> float:
    value = float(text)
    if value - value != 0:  # inf (1e999); NaN cannot be spelt as a JSON number
        raise JsonError(f"{text[:20]} is too large a number")
    return value


def _deep() -> JsonError:
    return JsonError(f"nested deeper than {MAX_DEPTH} levels")


def too_deep(value: Any, limit: int = MAX_DEPTH) -> bool:
    """True when ``value`` nests arrays and objects deeper than ``limit`` (no recursion)."""
    if not isinstance(value, dict | list):
        return False
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        item, level = stack.pop()
        if level > limit:
            return True
        children = item.values() if isinstance(item, dict) else item
        stack.extend((child, level + 1) for child in children if isinstance(child, dict | list))
    return False


def loads(text: str | bytes) -> Any:
    """Parse ``text`` as strict JSON; raise :class:`JsonError` with a short reason."""
    import json

    if isinstance(text, bytes):
        try:
            text = text.decode("utf-8")
        except UnicodeDecodeError:
            raise JsonError("not UTF-8") from None
    try:
        value = json.loads(text, parse_constant=_refuse_constant, parse_float=_finite)
    except JsonError:
        raise
    except RecursionError:  # the C parser's own bound (~1000 levels), hit first
        raise _deep() from None
    except ValueError as exc:
        reason = exc.msg if isinstance(exc, json.JSONDecodeError) else "malformed"
        raise JsonError(f"not JSON: {reason[:1].lower()}{reason[1:]}") from None
    # Only a text with many brackets can be too deep: counting them is cheap.
    if text.count("[") + text.count("{") > MAX_DEPTH and too_deep(value):
        raise _deep()
    return value
