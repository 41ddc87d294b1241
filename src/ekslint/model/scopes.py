"""Which cluster each analysed file belongs to.

A repository may hold several clusters. Cross-file questions (which node groups a pod
can land on, which workloads a PDB selects, which Kubernetes version an apiVersion is
judged against, which CNI settings a node group runs with) are answered within one
*scope*: the files of one cluster, or the files no cluster owns.

Two ways to decide:

- configured: ``clusters:`` in the ekslint config names each cluster with globs of its
  paths (relative to the config file); a file belongs to the first cluster, in the
  config's order, one of whose globs matches it; other files are unowned.
- automatic (no ``clusters:``): an eksctl ClusterConfig's directory owns the files
  under it. A file holding a ClusterConfig belongs to that cluster; another file to
  the cluster of the nearest directory above it that holds ClusterConfigs. ClusterConfigs
  of one ``metadata.name`` in one directory are one cluster, and so is a ClusterConfig
  of the same name in a directory below (eksctl splits a cluster's node groups into
  files: eksctl identifies a cluster by its name, ``pkg/apis/eksctl.io/v1alpha5``
  ``ClusterMeta``). A directory holding ClusterConfigs of several names owns nothing
  but those files: the other files under it are unowned. With at most one cluster in
  the run every file is in one scope.

``ScopeMap.scope_key(path)`` is the one function that partitions files; everything
else (sub-projects, indexes) is built from its answers.
"""

from __future__ import annotations

import fnmatch
import os
import posixpath
from collections.abc import Iterable
from dataclasses import dataclass, field

from ekslint.parse.text import Span

UNOWNED = ""  # the scope key of the files no cluster owns


@dataclass(slots=True)
class ClusterPaths:
    """One entry of ``clusters:`` in the ekslint config."""

    name: str
    paths: list[str]  # globs relative to the config's directory
    kubernetes_version: tuple[int, int] | None = None
    span: Span | None = None  # the entry's key in the config

    def matches(self, relative: str) -> bool:
        """Whether a path relative to the config's directory is under this cluster.
        A glob matches the path itself or a directory above it (``clusters/prod``
        owns ``clusters/prod/a.yaml`` as ``clusters/prod/**`` does)."""
        for written in self.paths:
            pattern = written.rstrip("/")
            if fnmatch.fnmatchcase(relative, pattern) or fnmatch.fnmatchcase(relative, pattern + "/*"):
                return True
        return False


@dataclass(frozen=True, slots=True)
class ClusterScope:
    """One partition of the run: a cluster's files, or the files no cluster owns."""

    key: str  # UNOWNED for the files no cluster owns
    name: str | None  # the cluster's name (config key or metadata.name); None: unowned
    configured: ClusterPaths | None = None  # its entry in ``clusters:``, if any
    whole: bool = False  # the run is this one scope (at most one cluster, no ``clusters:``)

    @property
    def owned(self) -> bool:
        return self.key != UNOWNED


@dataclass(slots=True)
class ScopeMap:
    """Each file's scope, worked out once per path."""

    scopes: dict[str, ClusterScope] = field(default_factory=dict)  # by key, in order of first use
    single: bool = True  # everything is one scope (today's one-cluster behaviour)
    _keys: dict[str, str] = field(default_factory=dict)  # path -> key
    _configured: list[ClusterPaths] = field(default_factory=list)
    _root: str | None = None
    _owners: dict[str, str] = field(default_factory=dict)  # directory -> key (automatic)
    _ambiguous: set[str] = field(default_factory=set)  # directories of several clusters
    _files: dict[str, str] = field(default_factory=dict)  # ClusterConfig file -> key
    _directories: dict[str, str] = field(default_factory=dict)  # directory -> key, as found

    @classmethod
    def configured(cls, clusters: list[ClusterPaths], root: str | None) -> ScopeMap:
        scopes = cls(single=False, _configured=list(clusters), _root=root)
        for entry in clusters:
            scopes.scopes[f"cluster:{entry.name}"] = ClusterScope(f"cluster:{entry.name}", entry.name, entry)
        scopes.scopes[UNOWNED] = ClusterScope(UNOWNED, None)
        return scopes

    @classmethod
    def automatic(cls, cluster_files: Iterable[tuple[str, list[str]]]) -> ScopeMap:
        """From the files that hold ClusterConfigs, each with the ``metadata.name`` of
        its ClusterConfigs (in the order the run read them)."""
        by_directory: dict[str, dict[str, list[str]]] = {}
        for path, names in cluster_files:
            directory = posixpath.dirname(_posix(path))
            for name in names:
                by_directory.setdefault(directory, {}).setdefault(name, []).append(path)
        scopes = cls()
        # Parents before children, so a directory below one of the same cluster joins it.
        for directory in sorted(by_directory, key=lambda d: (d.count("/"), d)):
            clusters = by_directory[directory]
            above = scopes._nearest_owner(directory)
            if len(clusters) > 1:
                scopes._ambiguous.add(directory)
            for name, paths in clusters.items():
                inherited = above if above is not None and scopes.scopes[above].name == name else None
                if inherited is not None:
                    key = inherited
                elif len(clusters) > 1:
                    key = f"auto:{directory}:{name}"
                else:
                    key = f"auto:{directory}"
                scopes.scopes.setdefault(key, ClusterScope(key, name))
                for path in paths:
                    # A file holding ClusterConfigs of several clusters belongs to the first.
                    scopes._files.setdefault(path, key)
                if len(clusters) == 1:
                    scopes._owners[directory] = key
        scopes.single = len(scopes.scopes) <= 1
        if scopes.single:
            only = next(iter(scopes.scopes.values()), None)
            scopes.scopes = {UNOWNED: ClusterScope(UNOWNED, only.name if only else None, whole=True)}
        else:
            scopes.scopes[UNOWNED] = ClusterScope(UNOWNED, None)
        return scopes

    def scope_key(self, path: str) -> str:
        """The scope of the file at ``path`` (as the run names it): the one function
        that partitions the files, cached per path."""
        key = self._keys.get(path)
        if key is None:
            key = self._keys[path] = self._find(path)
        return key

    def scope_of(self, path: str) -> ClusterScope:
        return self.scopes[self.scope_key(path)]

    def named(self, name: str) -> list[ClusterScope]:
        return [s for s in self.scopes.values() if s.owned and s.name == name]

    def names(self) -> list[str]:
        return sorted({s.name for s in self.scopes.values() if s.owned and s.name is not None})

    def _find(self, path: str) -> str:
        if self.single:
            return UNOWNED
        if self._configured:
            relative = relative_path(path, self._root)
            for entry in self._configured:
                if entry.matches(relative):
                    return f"cluster:{entry.name}"
            return UNOWNED
        own = self._files.get(path)
        if own is not None:
            return own
        # One dict lookup per file once its directory is known.
        directory = _parent(_posix(path))
        key = self._directories.get(directory)
        return key if key is not None else self._directory_key(directory)

    def _directory_key(self, directory: str) -> str:
        """``_nearest_owner`` of a directory, remembered for it and for every directory
        between it and the answer: each directory of the run is looked at once."""
        chain: list[str] = []
        key = self._directories.get(directory)
        while key is None:
            chain.append(directory)
            if directory in self._ambiguous:
                key = UNOWNED
            elif directory in self._owners:
                key = self._owners[directory]
            else:
                parent = _parent(directory)
                if parent == directory or directory in ("", "."):
                    key = UNOWNED
                else:
                    directory = parent
                    key = self._directories.get(directory)
        for seen in chain:
            self._directories[seen] = key
        return key

    def _nearest_owner(self, directory: str) -> str | None:
        """The cluster of the nearest directory at or above ``directory`` holding
        ClusterConfigs; None when there is none, or when it holds several clusters."""
        while True:
            if directory in self._ambiguous:
                return None
            owner = self._owners.get(directory)
            if owner is not None:
                return owner
            if directory in ("", "/", "."):
                return None
            parent = posixpath.dirname(directory)
            if parent == directory:
                return None
            directory = parent


def relative_path(path: str, root: str | None) -> str:
    """``path`` relative to the config's directory ``root``, with ``/``."""
    if root is None:
        return _posix(path)
    return _posix(os.path.relpath(os.path.abspath(path), root))


def _parent(path: str) -> str:
    """``posixpath.dirname(path)``, without its general case for the usual path (one
    slash before the last component, as every walked path has)."""
    cut = path.rfind("/")
    return path[:cut] if cut > 0 and path[cut - 1] != "/" else posixpath.dirname(path)


def _posix(path: str) -> str:
    return path.replace(os.sep, "/") if _OTHER_SEPARATOR else path


_OTHER_SEPARATOR = os.sep != "/"
