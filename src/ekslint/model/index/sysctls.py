"""Which node groups' kubelets accept a sysctl."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field

from ekslint.model import sysctls
from ekslint.model.nodegroup import NodeGroup

Version = tuple[int, int]


@dataclass(slots=True)
class _Groups:
    """Linux node groups (positions) by Kubernetes version; those with allowances by
    the allowances' patterns; and those with allowances ekslint cannot read; the
    last two with their version."""

    by_version: dict[Version, list[int]] = field(default_factory=lambda: defaultdict(list))
    versions: list[Version | None] = field(default_factory=list)  # by position; None: Windows
    by_patterns: dict[tuple[str, ...], list[tuple[int, Version]]] = field(default_factory=lambda: defaultdict(list))
    unreadable: list[tuple[int, Version]] = field(default_factory=list)


class SysctlIndex:
    """Node groups by what their kubelet allows. Whether a sysctl is safe depends only
    on the Kubernetes version, and whether it is allowed only on the allowance
    patterns (thousands of groups share a few lists), so each is decided once per
    distinct value. Positions are indexes into ``groups``."""

    def __init__(self, groups: Sequence[NodeGroup], version_of: Callable[[NodeGroup], Version]) -> None:
        self._groups = groups
        self._index = _Groups()
        for position, group in enumerate(groups):
            if group.windows:
                self._index.versions.append(None)
                continue
            version = version_of(group)
            self._index.versions.append(version)
            self._index.by_version[version].append(position)
            if group.allowances:
                self._index.by_patterns[tuple(a.pattern for a in group.allowances)].append((position, version))
            if group.allowances_unknown is not None:
                self._index.unreadable.append((position, version))
        self._permitting: dict[str, list[NodeGroup]] = {}
        self._permitting_at: dict[str, frozenset[int]] = {}
        self._known_at: dict[str, frozenset[int]] = {}
        self._allowing: dict[str, list[NodeGroup]] = {}

    @property
    def versions(self) -> list[Version | None]:
        """The version of each node group by position, None for Windows groups (do not
        modify)."""
        return self._index.versions

    def permitting(self, sysctl: str) -> list[NodeGroup]:
        """Linux node groups whose kubelet accepts the sysctl: safe on their version,
        allowed, or allowed in a way ekslint cannot read, in order (do not modify:
        cached per name)."""
        found = self._permitting.get(sysctl)
        if found is None:
            groups = self._groups
            found = self._permitting[sysctl] = [groups[p] for p in sorted(self.permitting_positions(sysctl))]
        return found

    def permitting_positions(self, sysctl: str) -> frozenset[int]:
        """``permitting(sysctl)`` as positions."""
        found = self._permitting_at.get(sysctl)
        if found is None:
            index = self._index
            safe = {version for version in index.by_version if sysctls.is_safe(sysctl, version)}
            # Where it is unsafe only the groups with an allowance can permit it.
            allowed = [p for p, version in index.unreadable if version not in safe]
            allowed.extend(p for p, version in self._allowance_matches(sysctl) if version not in safe)
            found = self._permitting_at[sysctl] = frozenset(allowed).union(*(index.by_version[v] for v in safe))
        return found

    def known_permitting_positions(self, sysctl: str) -> frozenset[int]:
        """``permitting_positions`` without the groups that accept the sysctl only
        because their allowance cannot be read: those that surely accept it."""
        found = self._known_at.get(sysctl)
        if found is None:
            permitting = self.permitting_positions(sysctl)
            unreadable = {p for p, _ in self._index.unreadable}
            if unreadable & permitting:
                explicit = {p for p, _ in self._allowance_matches(sysctl)}
                safe = {v for v in self._index.by_version if sysctls.is_safe(sysctl, v)}
                unsure = {p for p, v in self._index.unreadable if v not in safe and p not in explicit}
                permitting = permitting - unsure
            found = self._known_at[sysctl] = permitting
        return found

    def allowing(self, sysctl: str) -> list[NodeGroup]:
        """Linux node groups whose kubelet allowance names the sysctl (explicitly), in
        order."""
        found = self._allowing.get(sysctl)
        if found is None:
            positions = [p for p, _ in self._allowance_matches(sysctl)]
            groups = self._groups
            found = self._allowing[sysctl] = [groups[p] for p in sorted(positions)]
        return list(found)

    def _allowance_matches(self, sysctl: str) -> Iterator[tuple[int, Version]]:
        """(position, version) of the Linux groups whose allowance names the sysctl:
        each distinct list of patterns is matched once."""
        for patterns, members in self._index.by_patterns.items():
            if any(sysctls.pattern_matches(pattern, sysctl) for pattern in patterns):
                yield from members
