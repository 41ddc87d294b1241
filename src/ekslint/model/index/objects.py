"""Which workloads, PDBs and autoscalers the files hold, by namespace and label, so a
PDB's workloads are found among the files that can have them.

Objects pair (a PDB with the workloads it selects, an autoscaler with its target) only
within one partition: files with the same ``pair_key``. The project gives the index
its files of one cluster (``ekslint.model.scopes``); ``pair_key`` partitions further
where objects of one cluster still never meet (None: no further partition)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterator, Sequence

from ekslint.model import kubernetes as k8s
from ekslint.model.facts import KEY_SEPARATOR, UNKEYED, FileFacts, PackedFacts, object_key, object_keys

_PAIR_SEPARATOR = "\x1d"  # ends a pair key before the object key


class ObjectIndex:
    """The object sides of the files, found by key (see ``facts.object_keys``). Files
    still packed give their keys without unpacking, so a one-file run reads the
    object side of only the files that share a namespace, label or autoscaler target
    with what it checks."""

    def __init__(
        self, sources: Sequence[FileFacts | PackedFacts], pair_key: Callable[[str], str] | None = None
    ) -> None:
        self._sources = sources
        self._pair_key = pair_key
        self._partitions: set[str] = set()
        self._objects_by_key: dict[str, list[int]] | None = None
        self._selected: dict[int, tuple[k8s.PodDisruptionBudget, list[k8s.Workload]]] = {}
        self._floors: dict[tuple[str, str | None, str, str, str], tuple[int, k8s.Autoscaler] | None] = {}

    def _keys(self) -> dict[str, list[int]]:
        """File positions by object key. Files still packed give their keys without
        unpacking, so a one-file run reads the object side of only the files that
        share a namespace, label or autoscaler target with what it checks."""
        if self._objects_by_key is None:
            index: dict[str, list[int]] = defaultdict(list)
            pair_key = self._pair_key
            for position, source in enumerate(self._sources):
                keys = source.object_keys
                if not keys and isinstance(source, FileFacts):
                    keys = object_keys(source)  # facts built by hand, not by FileModel.facts()
                if keys:
                    prefix = ""
                    if pair_key is not None:
                        prefix = pair_key(source.path) + _PAIR_SEPARATOR
                        self._partitions.add(prefix)
                    for key in keys.split(KEY_SEPARATOR):
                        index[prefix + key].append(position)
            self._objects_by_key = index
        return self._objects_by_key

    def _objects_with(self, key: str, near: str | None = None) -> Iterator[FileFacts]:
        """The object sides of the files that may hold ``key``, in order, among the
        files that pair with the file ``near`` (None: every file); callers still
        check each object."""
        index = self._keys()
        if self._pair_key is None:
            prefixes = [""]
        elif near is not None:
            prefixes = [self._pair_key(near) + _PAIR_SEPARATOR]
        else:
            prefixes = sorted(self._partitions)
        found: set[int] = set()
        for prefix in prefixes:
            found.update(index.get(prefix + key, ()))
            found.update(index.get(prefix + UNKEYED, ()))
        sources = self._sources
        for position in sorted(found):
            source = sources[position]
            yield source if isinstance(source, FileFacts) else source.object_side()

    def namespace_has_workloads(self, namespace: str | None) -> bool:
        ns = k8s.namespace_key(namespace)
        return any(
            k8s.namespace_key(w.namespace) == ns for f in self._objects_with(object_key("w", ns)) for w in f.workloads
        )

    def workloads_in(self, namespace: str | None) -> list[k8s.Workload]:
        ns = k8s.namespace_key(namespace)
        return [
            w
            for f in self._objects_with(object_key("w", ns))
            for w in f.workloads
            if k8s.namespace_key(w.namespace) == ns
        ]

    def pdbs_in(self, namespace: str | None) -> list[k8s.PodDisruptionBudget]:
        ns = k8s.namespace_key(namespace)
        return [
            p for f in self._objects_with(object_key("p", ns)) for p in f.pdbs if k8s.namespace_key(p.namespace) == ns
        ]

    def has_custom_resources(self, namespace: str | None) -> bool:
        """Whether some analysed custom resource lives in the namespace (an operator's
        object, which may own pods no file shows)."""
        ns = k8s.namespace_key(namespace)
        return any(
            k8s.namespace_key(n) == ns for f in self._objects_with(object_key("c", ns)) for n, _ in f.custom_resources
        )

    def selected_by(self, pdb: k8s.PodDisruptionBudget) -> list[k8s.Workload]:
        """Workloads whose pod template labels the PDB's selector matches, in its
        namespace. An empty selector selects every pod of the namespace in policy/v1
        and none in policy/v1beta1; no selector selects none."""
        selector = pdb.selector
        if selector is None or (selector.is_empty and pdb.api_version == "policy/v1beta1"):
            return []  # policy/v1beta1: an empty selector selects nothing
        known = self._selected.get(id(pdb))
        if known is not None:
            return list(known[1])
        ns = k8s.namespace_key(pdb.namespace)
        if selector.match_labels:
            # The files with the rarest label narrow the search; the full selector decides.
            index = self._keys()
            prefix = "" if self._pair_key is None else self._pair_key(pdb.span.file) + _PAIR_SEPARATOR
            keys = [object_key("l", ns, k, v) for k, v in selector.match_labels]
            key = min(keys, key=lambda k: len(index.get(prefix + k, ())))
        else:
            key = object_key("w", ns)
        found = [
            w
            for f in self._objects_with(key, pdb.span.file)
            for w in f.workloads
            if k8s.namespace_key(w.namespace) == ns
            and k8s.same_build(w.build, pdb.build)
            and selector.matches(w.pod_labels)
        ]
        self._selected[id(pdb)] = (pdb, found)  # the PDB kept alive: its id stays unique
        return list(found)

    def replica_floor(self, workload: k8s.Workload) -> tuple[int | None, k8s.Autoscaler | None]:
        """The fewest replicas the workload runs with: an HPA's minReplicas if one
        scales it, else its own replicas."""
        ns = k8s.namespace_key(workload.namespace)
        pair = "" if self._pair_key is None else self._pair_key(workload.span.file)
        target = (ns, workload.kind, workload.name)
        paired = (pair, ns, workload.kind, workload.name, workload.build)
        if paired not in self._floors:
            lowest: tuple[int, k8s.Autoscaler] | None = None
            near = workload.span.file
            for f in self._objects_with(object_key("a", ns, workload.kind, workload.name), near):
                for scaler in f.autoscalers:
                    if (k8s.namespace_key(scaler.namespace), scaler.target_kind, scaler.target_name) != target:
                        continue
                    if not k8s.same_build(scaler.build, workload.build):
                        continue
                    if lowest is None or scaler.min_replicas < lowest[0]:
                        lowest = (scaler.min_replicas, scaler)
            self._floors[paired] = lowest
        floor = self._floors[paired]
        if floor is not None:
            return floor
        return workload.replicas, None
