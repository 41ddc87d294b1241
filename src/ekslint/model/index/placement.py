"""Where pods can be placed: which node groups a pod's nodeSelector, node affinity and
tolerations let it land on, worked out per class of alike node groups."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from ekslint.model import kubernetes as k8s
from ekslint.model.nodegroup import NodeGroup, unknowable_label
from ekslint.model.scheduling import Match, NodeRequirements, Taint


@dataclass(slots=True)
class Candidate:
    """A node group a pod may run on."""

    group: NodeGroup
    certain: bool  # False: depends on labels no file shows


@dataclass(slots=True, eq=False)
class PlacementClass:
    """Node groups that answer alike for every pod with one nodeSelector and node
    affinity: the same taints, the same values of the labels those look at, and
    labels equally complete. ``members`` are positions in the indexed node groups,
    ascending. Compared by identity: classes are built once and shared by every pod
    they concern, so rules can key what they work out about its groups on it."""

    representative: NodeGroup
    members: list[int]


@dataclass(slots=True)
class _PlacementIndex:
    """Node groups by position: the fully labelled ones by taints, with indexes of
    their labels and label keys; the partly labelled ones by (taints, labels); and
    every group's taints as a tuple."""

    complete_by_taints: dict[tuple[Taint, ...], list[int]] = field(default_factory=lambda: defaultdict(list))
    by_label: dict[tuple[str, str], list[int]] = field(default_factory=lambda: defaultdict(list))
    by_key: dict[str, list[int]] = field(default_factory=lambda: defaultdict(list))
    partly: dict[tuple[object, ...], list[int]] = field(default_factory=lambda: defaultdict(list))
    taints: list[tuple[Taint, ...]] = field(default_factory=list)


class PlacementIndex:
    """Node groups by taints and labels. Pods that schedule alike share the answer,
    and a nodeSelector looks up the groups with that label instead of trying every
    group, so questions stay near-linear in pods plus groups. Positions are indexes
    into ``groups``."""

    def __init__(self, groups: Sequence[NodeGroup]) -> None:
        self._groups = groups
        self._index = self._build()
        self._candidates: dict[tuple[object, ...], list[Candidate]] = {}
        self._classes: dict[tuple[object, ...], list[PlacementClass]] = {}
        self._partitions: dict[tuple[object, ...], list[PlacementClass]] = {}
        self._landing: dict[tuple[object, ...], list[tuple[PlacementClass, Match]]] = {}

    def _build(self) -> _PlacementIndex:
        index = _PlacementIndex()
        # One tuple per distinct set of taints: class keys then compare by identity.
        interned: dict[tuple[Taint, ...], tuple[Taint, ...]] = {}
        for position, group in enumerate(self._groups):
            taints = tuple(group.taints)
            taints = interned.setdefault(taints, taints)
            index.taints.append(taints)
            if group.plainly_labelled:
                index.complete_by_taints[taints].append(position)
                for label in group.node_labels().items():
                    index.by_label[label].append(position)
                    index.by_key[label[0]].append(position)
            else:
                key = (
                    taints,
                    group.labels_complete,
                    frozenset(group.node_labels().items()),
                    frozenset(group.label_options.items()),
                    frozenset(group.label_bounds.items()),
                    group.unknown_label_prefixes,
                )
                index.partly[key].append(position)
        return index

    def candidates(self, pod: k8s.PodSpec) -> list[Candidate]:
        """Node groups the pod can be scheduled on. Pods that schedule alike share the
        answer, and a nodeSelector looks up the groups with that label instead of
        trying every group, so this stays near-linear in pods plus groups."""
        key = pod.scheduling.signature()
        known = self._candidates.get(key)
        if known is None:
            known = self._candidates[key] = [
                Candidate(g, match is Match.YES) for g, match in self.placements(pod.scheduling)
            ]
        return list(known)

    def placements(self, scheduling: NodeRequirements) -> list[tuple[NodeGroup, Match]]:
        """The node groups a pod with these requirements can land on (YES or MAYBE),
        in order: the members of its ``landing`` classes."""
        found: list[int] = []
        maybe: set[int] = set()
        for placement, match in self.landing(scheduling):
            found.extend(placement.members)
            if match is Match.MAYBE:
                maybe.update(placement.members)
        found.sort()
        groups = self._groups
        return [(groups[p], Match.MAYBE if p in maybe else Match.YES) for p in found]

    def landing(self, scheduling: NodeRequirements) -> list[tuple[PlacementClass, Match]]:
        """The classes of node groups a pod with these requirements can land on, each
        with YES or MAYBE (do not modify: cached per pod signature).

        A group's answer depends only on the labels the requirements mention, on
        whether its labels are all known, and on its taints. Node groups are sorted
        into classes alike in those once per distinct nodeSelector and affinity
        (pods that differ only in tolerations share them), and each class is judged
        once per pod signature: thousands of groups cost a few evaluations."""
        key = scheduling.signature()
        found = self._landing.get(key)
        if found is None:
            found = self._landing[key] = []
            for placement in self._label_classes(scheduling):
                match = placement.representative.accepts(scheduling)[0]
                if match is not Match.NO:
                    found.append((placement, match))
        return found

    def _label_classes(self, scheduling: NodeRequirements) -> list[PlacementClass]:
        """Node groups in classes that answer alike for every pod with this
        nodeSelector and node affinity. Fully labelled groups that certainly fail
        the nodeSelector or affinity are left out."""
        cache_key = (tuple(sorted(scheduling.node_selector.items())), scheduling.signature()[1])
        known = self._classes.get(cache_key)
        if known is None:
            keys = tuple(sorted(scheduling.label_keys()))
            narrowed = self._complete_pool(scheduling)
            # The classes depend only on these: for example selectors that differ
            # only in a label EKS sets (architecture, zone) share them.
            partition = (keys, None if narrowed is None else tuple(narrowed))
            known = self._partitions.get(partition)
            if known is None:
                known = self._partitions[partition] = self._partition(keys, narrowed)
            self._classes[cache_key] = known
        return known

    def _partition(self, keys: tuple[str, ...], narrowed: list[int] | None) -> list[PlacementClass]:
        """Node groups in classes alike in taints, completeness of labels and the
        values of the label ``keys``: the partly labelled ones, and of the fully
        labelled ones those in ``narrowed`` (None: all of them)."""
        index = self._index
        groups = self._groups
        classes: dict[tuple[object, ...], list[int]] = defaultdict(list)
        taints = index.taints
        if narrowed is None:
            # Nothing to look up (no selector, or only labels EKS sets): groups
            # without any mentioned label form one class per set of taints.
            special = {p for key in keys for p in index.by_key.get(key, ())}
            nothing = tuple(None for _ in keys)
            for shared, members in index.complete_by_taints.items():
                plain = [p for p in members if p not in special] if special else members
                if plain:
                    classes[(True, shared, nothing)].extend(plain)
            narrowed = sorted(special)
        for position in narrowed:  # fully labelled groups only
            values = tuple(map(groups[position].node_labels().get, keys))
            classes[(True, taints[position], values)].append(position)
        # The partly labelled groups of one entry share taints and labels: one class.
        for members in index.partly.values():
            views = tuple(map(groups[members[0]].label_view, keys))
            classes[(False, taints[members[0]], views)].extend(members)
        found = []
        for members in classes.values():
            members.sort()  # a class of partly labelled groups joins several entries
            found.append(PlacementClass(groups[members[0]], members))
        return found

    def excluded(self, pod: k8s.PodSpec, groups: Iterable[NodeGroup], limit: int) -> list[tuple[NodeGroup, str]]:
        """Up to ``limit`` of ``groups`` the pod cannot be scheduled on, with the reason."""
        found: list[tuple[NodeGroup, str]] = []
        for group in groups:
            match, reason = group.accepts(pod.scheduling)
            if match is Match.NO:
                found.append((group, reason))
                if len(found) >= limit:
                    break
        return found

    def _complete_pool(self, requirements: NodeRequirements) -> list[int] | None:
        """Positions of the fully labelled groups that could match the nodeSelector and
        required node affinity: those with a selected label (one of the values of an
        ``In``); a fully labelled group without it certainly fails the match. Keys
        that EKS or the cloud provider set (zone, architecture) do not narrow."""
        index = self._index
        pools: list[list[int]] = [
            index.by_label.get((k, v), []) for k, v in requirements.node_selector.items() if not unknowable_label(k)
        ]
        # Affinity terms are ORed: the union of each term's narrowest pool; a term
        # that cannot narrow leaves every group in.
        per_term: list[list[int]] = []
        for term in requirements.affinity_terms or ():
            narrowing = [
                sorted({p for v in r.values for p in index.by_label.get((r.key, v), [])})
                for r in term
                if r.operator == "In" and not unknowable_label(r.key)
            ]
            if not narrowing:
                per_term = []
                break
            per_term.append(min(narrowing, key=len))
        if per_term:
            pools.append(sorted({p for pool in per_term for p in pool}))
        return min(pools, key=len) if pools else None  # None: no label narrows
