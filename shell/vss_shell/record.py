"""Value classes without :mod:`dataclasses`: repr and equality from the fields.

``dataclasses`` builds each class's methods at import (about 0.5 ms a class, 9 ms
on the way to the first prompt); these are plain classes with their own ``__init__``,
declaring ``__slots__ = FIELDS = (...)``.
"""

from __future__ import annotations

from typing import Any, ClassVar, TypeVar


class Record:
    """A value object whose fields are ``FIELDS`` (also its ``__slots__``), in order.

    ``repr`` shows every field but those in ``_hidden``; ``==`` compares every field
    but those in ``_uncompared``, between objects of the same class. Unhashable,
    like a mutable dataclass (see :class:`Frozen`).
    """

    __slots__ = ()
    FIELDS: ClassVar[tuple[str, ...]] = ()
    _hidden: ClassVar[tuple[str, ...]] = ()
    _uncompared: ClassVar[tuple[str, ...]] = ()

    def _key(self) -> tuple[Any, ...]:
        return tuple(getattr(self, name) for name in self.FIELDS if name not in self._uncompared)

    def __repr__(self) -> str:
        shown = ", ".join(f"{name}={getattr(self, name)!r}" for name in self.FIELDS
                          if name not in self._hidden)
        return f"{type(self).__qualname__}({shown})"

    def __eq__(self, other: object) -> bool:
        if other.__class__ is not self.__class__:
            return NotImplemented
        return self._key() == other._key()  # type: ignore[attr-defined]

    __hash__: ClassVar[None] = None  # type: ignore[assignment]


class Frozen(Record):
    """A :class:`Record` its code never changes after ``__init__``: hashable by its fields."""

    __slots__ = ()

    def __hash__(self) -> int:  # type: ignore[override]
        return hash(self._key())


R = TypeVar("R", bound=Record)


def replace(record: R, **changes: Any) -> R:
    """A copy of ``record`` with ``changes``, as :func:`dataclasses.replace` makes one."""
    return type(record)(**{name: getattr(record, name) for name in record.FIELDS} | changes)
