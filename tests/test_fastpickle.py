"""fast_pickle: the generated state functions round-trip every slot, frozen or not."""

from __future__ import annotations

import pickle
from dataclasses import FrozenInstanceError, dataclass, field
from typing import Any

import pytest

from ekslint.fastpickle import fast_pickle
from ekslint.model.facts import FileFacts
from ekslint.parse.text import Span


@fast_pickle
@dataclass(frozen=True, slots=True)
class Frozen:
    name: str
    count: int = 0


@fast_pickle
@dataclass(slots=True)
class One:
    only: list[int] = field(default_factory=list)


@dataclass(slots=True)
class Base:
    first: str


@fast_pickle
@dataclass(slots=True)
class Derived(Base):
    second: Frozen | None = None


@pytest.mark.parametrize(
    "value",
    [Frozen("a", 3), One([1, 2]), Derived("x", Frozen("b")), Span("f.yaml", 1, 2, 3, 4, "A/b.c"), FileFacts("p")],
)
def test_round_trip_keeps_every_slot(value: Any) -> None:
    again = pickle.loads(pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL))
    assert type(again) is type(value) and again == value
    assert again.__getstate__() == value.__getstate__()


def test_frozen_objects_stay_frozen_after_unpickling() -> None:
    again: Frozen = pickle.loads(pickle.dumps(Frozen("a")))
    with pytest.raises(FrozenInstanceError):
        again.name = "b"  # type: ignore[misc]


def test_span_logical_path_survives_though_it_is_not_compared() -> None:
    again = pickle.loads(pickle.dumps(Span("f.yaml", 1, 2, 3, 4, "ClusterConfig/x.metadata")))
    assert again.logical == "ClusterConfig/x.metadata"
