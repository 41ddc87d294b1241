"""Faster pickling for the small slotted dataclasses that cross process boundaries
and sit in the cache (spans, node groups, workloads).

For a frozen slotted dataclass, ``dataclasses`` pickles through ``fields()`` on every
object, and unslotted state goes through ``copyreg``; a warm 10k-file run spent most of
its time there. A tuple of slot values in declaration order is all the state there is.
The two functions are generated per class as straight-line code (as ``dataclasses``
generates ``__init__``): a loop over the slot names took twice as long to unpickle.
"""

from __future__ import annotations

from typing import Any, TypeVar

T = TypeVar("T")


def fast_pickle(cls: type[T]) -> type[T]:
    names: tuple[str, ...] = tuple(
        name for klass in reversed(cls.__mro__) for name in getattr(klass, "__slots__", ()) if name != "__weakref__"
    )
    if not all(name.isidentifier() for name in names):
        raise TypeError(f"{cls.__name__}: slot names must be identifiers")
    values = ", ".join(f"self.{name}" for name in names)
    params = getattr(cls, "__dataclass_params__", None)
    if not names:
        stores = "    pass"
    elif params is not None and params.frozen:
        # Frozen dataclasses refuse plain assignment: set through the slot descriptors.
        stores = "\n".join(f"    set_{name}(self, state[{i}])" for i, name in enumerate(names))
    else:
        stores = f"    {values}{',' if len(names) == 1 else ''} = state"
    source = (
        f"def __getstate__(self):\n    return ({values}{',' if len(names) == 1 else ''})\n"
        f"def __setstate__(self, state):\n{stores}\n"
    )
    namespace: dict[str, Any] = {f"set_{name}": getattr(cls, name).__set__ for name in names}
    # The source is built from the class's own slot names, checked to be identifiers.
    exec(compile(source, f"<fast_pickle {cls.__qualname__}>", "exec"), namespace)
    cls.__getstate__ = namespace["__getstate__"]  # type: ignore[attr-defined]
    cls.__setstate__ = namespace["__setstate__"]  # type: ignore[attr-defined]
    return cls
