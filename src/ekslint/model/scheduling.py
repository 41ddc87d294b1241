"""Label selectors, node affinity and taints, with Kubernetes' matching rules.

Node labels are often only partly known (EKS and the cloud provider add labels such
as the zone or hostname that no file shows), so node matching answers with three
values: a pod certainly cannot land on a node group (NO), certainly can as far as the
files show (YES), or it depends on labels ekslint cannot see (MAYBE). Only NO removes a
node group from the candidates: ekslint does not guess in the direction of a finding.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from enum import Enum

from ekslint.fastpickle import fast_pickle


class Match(Enum):
    NO = 0
    MAYBE = 1
    YES = 2


def all_of(results: list[Match]) -> Match:
    worst = _YES
    for result in results:
        if result is _NO:
            return _NO
        if result is _MAYBE:
            worst = _MAYBE
    return worst


def any_of(results: list[Match]) -> Match:
    best = _NO
    for result in results:
        if result is _YES:
            return _YES
        if result is _MAYBE:
            best = _MAYBE
    return best


# Enum member lookup is a descriptor call; these run for every pod × node group.
_NO, _MAYBE, _YES = Match.NO, Match.MAYBE, Match.YES


@fast_pickle
@dataclass(frozen=True, slots=True)
class Requirement:
    """One ``matchExpressions`` entry (label selectors and node selector terms)."""

    key: str
    operator: str  # In, NotIn, Exists, DoesNotExist, Gt, Lt
    values: tuple[str, ...] = ()

    def evaluate(self, labels: dict[str, str], known: bool = True) -> Match:
        """``known``: whether ``labels`` holds every label the object can have."""
        present = self.key in labels
        if not present and not known:
            return Match.MAYBE
        value = labels.get(self.key)
        op = self.operator
        if op == "In":
            return Match.YES if present and value in self.values else Match.NO
        if op == "NotIn":
            return Match.NO if present and value in self.values else Match.YES
        if op == "Exists":
            return Match.YES if present else Match.NO
        if op == "DoesNotExist":
            return Match.NO if present else Match.YES
        if op in ("Gt", "Lt") and present and len(self.values) == 1:
            try:
                left, right = int(value or ""), int(self.values[0])
            except ValueError:
                return Match.NO
            return Match.YES if (left > right if op == "Gt" else left < right) else Match.NO
        return Match.NO

    def evaluate_options(self, options: tuple[str, ...] | None, bounds: tuple[Requirement, ...] = ()) -> Match:
        """Against a node label that takes one of ``options`` (a Karpenter NodePool's
        requirement on it; None: some value no file shows, within ``bounds``, the
        pool's NotIn/Gt/Lt requirements on the key)."""
        if options is None:
            if self.operator == "Exists":
                return Match.YES
            if bounds and self.operator == "In" and not any(_within(bounds, self.key, v) for v in self.values):
                return Match.NO  # every value the pod accepts is one the pool excludes
            return Match.MAYBE
        results = [self.evaluate({self.key: value}) for value in options]
        if all(r is Match.YES for r in results):
            return Match.YES
        return Match.NO if all(r is Match.NO for r in results) else Match.MAYBE


def _within(bounds: tuple[Requirement, ...], key: str, value: str) -> bool:
    return all(b.evaluate({key: value}) is not Match.NO for b in bounds)


def within_bounds(bounds: tuple[Requirement, ...], key: str, values: tuple[str, ...]) -> tuple[str, ...]:
    """The ``values`` of label ``key`` that every requirement of ``bounds`` allows."""
    return tuple(v for v in values if _within(bounds, key, v))


@fast_pickle
@dataclass(frozen=True, slots=True)
class LabelSelector:
    """metav1.LabelSelector. An empty selector matches everything."""

    match_labels: tuple[tuple[str, str], ...] = ()
    match_expressions: tuple[Requirement, ...] = ()

    @property
    def is_empty(self) -> bool:
        return not self.match_labels and not self.match_expressions

    def matches(self, labels: dict[str, str]) -> bool:
        for key, value in self.match_labels:
            if labels.get(key) != value:
                return False
        return all(r.evaluate(labels) is Match.YES for r in self.match_expressions)

    def describe(self) -> str:
        parts = [f"{k}={v}" for k, v in self.match_labels]
        for r in self.match_expressions:
            if r.operator in ("Exists", "DoesNotExist"):
                parts.append(("!" if r.operator == "DoesNotExist" else "") + r.key)
            else:
                parts.append(f"{r.key} {r.operator.lower()} ({','.join(r.values)})")
        return ",".join(parts) or "(everything)"


# The effects a Kubernetes taint may have (core/v1 TaintEffect).
TAINT_EFFECT_NAMES = ("NoSchedule", "PreferNoSchedule", "NoExecute")


@fast_pickle
@dataclass(frozen=True, slots=True)
class Taint:
    key: str
    value: str
    effect: str  # NoSchedule, PreferNoSchedule, NoExecute

    def __str__(self) -> str:
        return f"{self.key}={self.value}:{self.effect}" if self.value else f"{self.key}:{self.effect}"


@fast_pickle
@dataclass(frozen=True, slots=True)
class Toleration:
    key: str
    operator: str  # Equal (default) or Exists
    value: str
    effect: str  # "" = every effect
    seconds: int | None = None

    def tolerates(self, taint: Taint) -> bool:
        """v1.Toleration.ToleratesTaint."""
        if self.effect and self.effect != taint.effect:
            return False
        if self.key and self.key != taint.key:
            return False
        if self.operator == "Exists":
            return True
        return self.operator in ("", "Equal") and self.value == taint.value


@fast_pickle
@dataclass(slots=True)
class NodeRequirements:
    """Where a pod may be scheduled: nodeSelector, required node affinity, tolerations."""

    node_selector: dict[str, str] = field(default_factory=dict)
    # requiredDuringScheduling…nodeSelectorTerms: OR of terms, each an AND.
    affinity_terms: list[list[Requirement]] | None = None
    tolerations: list[Toleration] = field(default_factory=list)
    # Answers per taint: thousands of node groups share a handful of taints.
    _tolerated: dict[Taint, bool] | None = field(default=None, init=False, repr=False, compare=False)

    def signature(self) -> tuple[object, ...]:
        """Equal for pods that schedule alike: the key to share placement answers."""
        terms = None if self.affinity_terms is None else tuple(tuple(t) for t in self.affinity_terms)
        return (tuple(sorted(self.node_selector.items())), terms, tuple(self.tolerations))

    def label_keys(self) -> set[str]:
        """The node labels the nodeSelector and required node affinity look at."""
        keys = set(self.node_selector)
        for term in self.affinity_terms or ():
            keys.update(r.key for r in term)
        return keys

    @property
    def unconstrained(self) -> bool:
        return not self.node_selector and self.affinity_terms is None

    def label_match(
        self,
        labels: dict[str, str],
        unknowable: Callable[[str], bool],
        options: dict[str, tuple[str, ...] | None] | None = None,
        bounds: dict[str, tuple[Requirement, ...]] | None = None,
    ) -> Match:
        """Match against a node's ``labels``; a key missing from them is certainly
        absent unless ``unknowable(key)`` (set by something ekslint cannot see).
        ``options``: labels that take one of several values (Karpenter requirements);
        ``bounds``: the NotIn/Gt/Lt requirements an open (None) option's value meets."""
        bounds = bounds or {}
        results = [
            (Match.YES if labels[k] == v else Match.NO)
            if k in labels
            else Requirement(k, "In", (v,)).evaluate_options(options[k], bounds.get(k, ()))
            if options and k in options
            else (Match.MAYBE if unknowable(k) else Match.NO)
            for k, v in self.node_selector.items()
        ]
        if self.affinity_terms is not None:
            terms = [
                all_of(
                    [
                        r.evaluate_options(options[r.key], bounds.get(r.key, ()))
                        if options and r.key in options and r.key not in labels
                        else r.evaluate(labels, known=r.key in labels or not unknowable(r.key))
                        for r in term
                    ]
                )
                for term in self.affinity_terms
            ]
            results.append(any_of(terms))
        return all_of(results)

    def tolerates_all(self, taints: list[Taint]) -> Taint | None:
        """The first taint that keeps the pod away (NoSchedule/NoExecute), or None."""
        if not taints:
            return None
        known = self._tolerated
        if known is None:
            known = self._tolerated = {}
        for taint in taints:
            tolerated = known.get(taint)
            if tolerated is None:
                tolerated = known[taint] = taint.effect not in ("NoSchedule", "NoExecute") or any(
                    t.tolerates(taint) for t in self.tolerations
                )
            if not tolerated:
                return taint
        return None


def percent(value: str) -> float | None:
    """``"25%"`` -> 25.0; None when not a percentage."""
    text = value.strip()
    if not text.endswith("%"):
        return None
    try:
        return float(text[:-1])
    except ValueError:
        return None
