"""Faster pickling for the small slotted dataclasses that cross process boundaries
and sit in the cache (spans, node groups, workloads).

For a frozen slotted dataclass, ``dataclasses`` pickles through ``fields()`` on every
object, and unslotted state goes through ``copyreg``; a warm 10k-file run spent most of
its time there. A tuple of slot values in declaration order is all the state there is.
"""

from __future__ import annotations

from typing import Any, TypeVar

T = TypeVar("T")


def fast_pickle(cls: type[T]) -> type[T]:
    names: tuple[str, ...] = tuple(
        name for klass in reversed(cls.__mro__) for name in getattr(klass, "__slots__", ()) if name != "__weakref__"
    )
    setter = object.__setattr__  # frozen dataclasses refuse plain assignment

    def getstate(self: Any) -> tuple[Any, ...]:
        return tuple([getattr(self, name) for name in names])

    def setstate(self: Any, state: tuple[Any, ...]) -> None:
        for name, value in zip(names, state, strict=True):
            setter(self, name, value)

    cls.__getstate__ = getstate  # type: ignore[attr-defined]
    cls.__setstate__ = setstate  # type: ignore[attr-defined]
    return cls
