"""What one file contributes to the cross-file questions, in the form that crosses
process boundaries and sits in the cache.

``FileFacts`` declares each field once, with the side it belongs to: the node side
(clusters, node groups, CNI settings) and the object side (workloads, PDBs, ...).
``PackedFacts`` keeps the two sides pickled until a rule needs one of them.
"""

from __future__ import annotations

import pickle
from dataclasses import dataclass, field, fields
from typing import Any

from ekslint.fastpickle import fast_pickle
from ekslint.model import kubernetes as k8s
from ekslint.model.apiversions import RemovedApi
from ekslint.model.cni import CniSettings
from ekslint.model.karpenter import NodeClass
from ekslint.model.kustomize import JsonOp, Kustomization
from ekslint.model.nodegroup import Cluster, NodeGroup

NODES, OBJECTS = "nodes", "objects"


_NODE_SIDE = {"side": NODES}
_OBJECT_SIDE = {"side": OBJECTS}


@fast_pickle
@dataclass(slots=True)
class FileFacts:
    """What one file contributes to the cross-file questions. Plain data with no parse
    tree, so it is small and cheap to pickle: it comes back from worker processes and
    out of the cache, and a 10k-file run keeps only these in memory."""

    path: str
    clusters: list[Cluster] = field(default_factory=list, metadata=_NODE_SIDE)
    node_groups: list[NodeGroup] = field(default_factory=list, metadata=_NODE_SIDE)
    workloads: list[k8s.Workload] = field(default_factory=list, metadata=_OBJECT_SIDE)
    pdbs: list[k8s.PodDisruptionBudget] = field(default_factory=list, metadata=_OBJECT_SIDE)
    autoscalers: list[k8s.Autoscaler] = field(default_factory=list, metadata=_OBJECT_SIDE)
    config_maps: list[k8s.ConfigMap] = field(default_factory=list, metadata=_OBJECT_SIDE)
    cni: list[CniSettings] = field(default_factory=list, metadata=_NODE_SIDE)  # vpc-cni addon, aws-node DaemonSet
    # Karpenter EC2NodeClasses and Auto Mode NodeClasses, joined with the pools that
    # reference them in the project (``karpenter_join.join``).
    node_classes: list[NodeClass] = field(default_factory=list, metadata=_NODE_SIDE)
    # Objects of kinds Kubernetes does not define (operators' custom resources), by
    # namespace: they may own pods that no analysed file shows.
    custom_resources: list[tuple[str | None, str]] = field(default_factory=list, metadata=_OBJECT_SIDE)
    # Objects whose apiVersion some Kubernetes version no longer serves (EKS003).
    removed_apis: list[RemovedApi] = field(default_factory=list, metadata=_OBJECT_SIDE)
    # A kustomization file's facts, and the operations of a JSON6902 patch file: the
    # cross-file stage assembles kustomize builds from them (model/kbuild.py).
    kustomizations: list[Kustomization] = field(default_factory=list, metadata=_OBJECT_SIDE)
    json_patches: list[JsonOp] = field(default_factory=list, metadata=_OBJECT_SIDE)
    # Pod carriers without a pod template (a patch that sets only replicas): never a
    # workload of their own, only what a kustomize patch writes.
    patch_workloads: list[k8s.Workload] = field(default_factory=list, metadata=_OBJECT_SIDE)
    # (kind, name) of the documents that say ``$patch: delete``: what a kustomize patch
    # file deletes, never objects of their own.
    patch_deletes: list[tuple[str, str]] = field(default_factory=list, metadata=_OBJECT_SIDE)
    # Files a Terraform file read as templatefile()/file() targets (normalised paths):
    # their own node groups are that template, not groups of their own.
    reads_files: list[str] = field(default_factory=list, metadata=_NODE_SIDE)
    # The sibling .tf files a Terraform file was read with (its module, terraform_dir):
    # node-side, so a --context run on a sibling (launch_templates.tf) checks the node
    # groups of every file (node_groups.tf), whose findings may lie in that sibling.
    module_files: list[str] = field(default_factory=list, metadata=_NODE_SIDE)
    object_keys: str = ""  # see object_keys(); kept beside the two packed sides


NODE_FIELDS = tuple(f.name for f in fields(FileFacts) if f.metadata.get("side") == NODES)
OBJECT_FIELDS = tuple(f.name for f in fields(FileFacts) if f.metadata.get("side") == OBJECTS)


class PackedFacts:
    """A file's facts still pickled, as the cache and the workers hand them over, in
    two halves unpacked only when a rule asks: the node side (clusters, node groups,
    CNI settings) and the object side (workloads, PDBs, ...). A one-file pre-commit
    run in a large repository then reads only the half of the other files' facts its
    checks need, and most files have no node side at all. ``object_keys`` (see
    ``object_keys``) says what the object side holds without unpacking it, so a
    PDB's workloads are found by unpacking only the files that have them."""

    __slots__ = ("_nodes", "_objects", "nodes", "object_keys", "objects", "path")

    def __init__(self, path: str, nodes: bytes | None, objects: bytes | None, object_keys: str = "") -> None:
        self.path = path
        self.nodes = nodes  # None: nothing on that side
        self.objects = objects
        self.object_keys = object_keys
        self._nodes: tuple[Any, ...] | None = None
        self._objects: tuple[Any, ...] | None = None

    @classmethod
    def pack(cls, facts: FileFacts) -> PackedFacts:
        return cls(facts.path, _pack_side(facts, NODE_FIELDS), _pack_side(facts, OBJECT_FIELDS), facts.object_keys)

    def node_side(self) -> FileFacts:
        if self._nodes is None:
            self._nodes = _unpack_side(self.nodes, NODE_FIELDS)
        return FileFacts(self.path, **dict(zip(NODE_FIELDS, self._nodes, strict=True)))

    def object_side(self) -> FileFacts:
        if self._objects is None:
            self._objects = _unpack_side(self.objects, OBJECT_FIELDS)
        return FileFacts(self.path, **dict(zip(OBJECT_FIELDS, self._objects, strict=True)))

    def unpack(self) -> FileFacts:
        nodes, objects = self.node_side(), self.object_side()
        for name in OBJECT_FIELDS:
            setattr(nodes, name, getattr(objects, name))
        nodes.object_keys = self.object_keys
        return nodes


# Keys of the object index, one string per file (cheap to cache and to load): what a
# PDB rule looks up, by kind letter and namespace. A name containing a separator
# cannot be keyed: its file is marked UNKEYED and searched for every key.
KEY_SEPARATOR = "\x1e"
CLUSTERS = "k"  # the key of a file with a node side; with a name, one of its ClusterConfigs
_FIELD_SEPARATOR = "\x1f"
UNKEYED = "?"


def object_key(kind: str, namespace: str | None, *names: str) -> str:
    return _FIELD_SEPARATOR.join((kind + (k8s.namespace_key(namespace) or ""), *names))


def object_keys(facts: FileFacts) -> str:
    """The object index keys of a file: the namespaces it has workloads, PDBs and
    custom resources in, its workloads' pod labels and its autoscalers' targets. With
    them, for a file with a node side, the names of the clusters its ClusterConfigs
    define (``CLUSTERS`` keys), so a run finds which cluster each file belongs to
    without unpacking node sides (``cluster_names``)."""
    keys: set[str] = set()
    parts: list[str | None] = []
    if any(getattr(facts, name) for name in NODE_FIELDS):
        keys.add(CLUSTERS)
        keys.update(object_key(CLUSTERS, None, c.name) for c in facts.clusters)
        parts += [c.name for c in facts.clusters]
    for w in facts.workloads:
        keys.add(object_key("w", w.namespace))
        keys.update(object_key("l", w.namespace, k, v) for k, v in w.pod_labels.items())
        parts += [w.namespace, *w.pod_labels, *w.pod_labels.values()]
        if w.template_ref:  # a Rollout running a Deployment's template (kbuild)
            keys.add(object_key("r", w.namespace))
    for p in facts.pdbs:
        keys.add(object_key("p", p.namespace))
        parts.append(p.namespace)
    for a in facts.autoscalers:
        keys.add(object_key("a", a.namespace, a.target_kind, a.target_name))
        parts += [a.namespace, a.target_kind, a.target_name]
    for namespace, _ in facts.custom_resources:
        keys.add(object_key("c", namespace))
        parts.append(namespace)
    if any(part and (KEY_SEPARATOR in part or _FIELD_SEPARATOR in part) for part in parts):
        return UNKEYED
    return KEY_SEPARATOR.join(sorted(keys))


def cluster_names(source: FileFacts | PackedFacts) -> list[str]:
    """The ``metadata.name`` of each ClusterConfig in the file, read from its object
    keys when it is still packed (its node side unpacked only when they cannot say)."""
    if isinstance(source, FileFacts):
        return [c.name for c in source.clusters]
    if source.nodes is None:
        return []
    keys = source.object_keys.split(KEY_SEPARATOR)
    if CLUSTERS not in keys:  # unkeyed, or packed from facts built by hand
        return [c.name for c in source.node_side().clusters]
    prefix = CLUSTERS + _FIELD_SEPARATOR
    return [key[len(prefix) :] for key in keys if key.startswith(prefix)]


def _pack_side(facts: FileFacts, names: tuple[str, ...]) -> bytes | None:
    values = tuple(getattr(facts, name) for name in names)
    if not any(values):
        return None
    return pickle.dumps(values, protocol=pickle.HIGHEST_PROTOCOL)


def _unpack_side(blob: bytes | None, names: tuple[str, ...]) -> tuple[Any, ...]:
    if blob is None:
        return tuple([] for _ in names)
    values = pickle.loads(blob)
    assert isinstance(values, tuple) and len(values) == len(names)
    return values
