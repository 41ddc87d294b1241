"""The model of one file and of the whole project, with the cross-file index.

``build_file_model`` interprets one parsed file; it depends on nothing else, so files
can be modelled independently (and in parallel). ``Project`` joins them and answers the
cross-file questions in time near-linear in the number of documents: which node groups
a pod can land on, which workloads a PDB selects.
"""

from __future__ import annotations

import pickle
from collections import defaultdict
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from ekslint.fastpickle import fast_pickle
from ekslint.model import cni as cni_model
from ekslint.model import kubernetes as k8s
from ekslint.model import sysctls
from ekslint.model.apiversions import RemovedApi, removed_api
from ekslint.model.capacity import InstanceTable
from ekslint.model.context import ModelContext
from ekslint.model.eksctl import ClusterConfig, cluster_config, is_cluster_config
from ekslint.model.nodeconfig import is_nodeconfig, read_kubelet_config
from ekslint.model.nodegroup import Cluster, KubeletSettings, NodeGroup, Origin, unknowable_label
from ekslint.model.podcapacity import GroupCapacity, assess
from ekslint.model.scheduling import Match, NodeRequirements, Taint
from ekslint.model.userdata import (
    UserdataModel,
    bottlerocket_model,
    node_group_from_userdata,
    nodeconfig_file_model,
    userdata_model,
)
from ekslint.parse.sources import SourceFile
from ekslint.parse.text import Problem, Span
from ekslint.parse.yamltree import DEFAULT_LIMITS, YamlLimits, YMap, YSeq


@dataclass(slots=True)
class FileModel:
    source: SourceFile
    problems: list[Problem] = field(default_factory=list)  # EKS001
    clusters: list[ClusterConfig] = field(default_factory=list)
    node_groups: list[NodeGroup] = field(default_factory=list)
    userdata: list[UserdataModel] = field(default_factory=list)
    workloads: list[k8s.Workload] = field(default_factory=list)
    pdbs: list[k8s.PodDisruptionBudget] = field(default_factory=list)
    autoscalers: list[k8s.Autoscaler] = field(default_factory=list)
    config_maps: list[k8s.ConfigMap] = field(default_factory=list)
    cni: list[cni_model.CniSettings] = field(default_factory=list)  # vpc-cni addon, aws-node DaemonSet
    custom_resources: list[tuple[str | None, str]] = field(default_factory=list)  # (namespace, kind)
    # ekslint.io/ignore annotations: (object identity, value, where)
    ignore_annotations: list[tuple[str, str, Span]] = field(default_factory=list)
    # The Kubernetes version this file's objects are judged by when one file is all a
    # rule sees: the oldest ClusterConfig metadata.version in it, else the config's.
    kubernetes_version: tuple[int, int] | None = None
    # Objects whose apiVersion some Kubernetes version no longer serves (EKS003).
    removed_apis: list[RemovedApi] = field(default_factory=list)

    @property
    def path(self) -> str:
        return self.source.path

    def facts(self) -> FileFacts:
        facts = FileFacts(
            self.path,
            [c.cluster for c in self.clusters],
            self.node_groups,
            self.workloads,
            self.pdbs,
            self.autoscalers,
            self.config_maps,
            self.cni,
            self.custom_resources,
            self.removed_apis,
        )
        # Here, in the per-file stage (a worker with --jobs), not in the cross-file one.
        facts.object_keys = object_keys(facts)
        return facts


@fast_pickle
@dataclass(slots=True)
class FileFacts:
    """What one file contributes to the cross-file questions. Plain data with no parse
    tree, so it is small and cheap to pickle: it comes back from worker processes and
    out of the cache, and a 10k-file run keeps only these in memory."""

    path: str
    clusters: list[Cluster] = field(default_factory=list)
    node_groups: list[NodeGroup] = field(default_factory=list)
    workloads: list[k8s.Workload] = field(default_factory=list)
    pdbs: list[k8s.PodDisruptionBudget] = field(default_factory=list)
    autoscalers: list[k8s.Autoscaler] = field(default_factory=list)
    config_maps: list[k8s.ConfigMap] = field(default_factory=list)
    cni: list[cni_model.CniSettings] = field(default_factory=list)
    # Objects of kinds Kubernetes does not define (operators' custom resources), by
    # namespace: they may own pods that no analysed file shows.
    custom_resources: list[tuple[str | None, str]] = field(default_factory=list)
    removed_apis: list[RemovedApi] = field(default_factory=list)
    object_keys: str = ""  # see object_keys(); kept beside the two packed sides


def build_file_model(source: SourceFile, context: ModelContext, limits: YamlLimits = DEFAULT_LIMITS) -> FileModel:
    model = FileModel(source, list(source.problems))
    version = context.kubernetes_version
    nodeconfigs: list[YMap] = []
    for doc in source.yaml_docs:
        root = doc.root()
        if isinstance(root, YSeq) and any(isinstance(i, YMap) and "kind" in i and "apiVersion" in i for i in root):
            model.problems.append(
                Problem(
                    root.start_span,
                    "this document is a YAML list of objects, but kubectl, eksctl and nodeadm read each document as "
                    "one object: remove the leading `- ` (one object per `---` document), or wrap them in "
                    "`kind: List` with `items:`",
                )
            )
    for obj in source.objects():
        kind = obj.text("kind") or ""
        model.ignore_annotations.extend(k8s.ignore_annotations(obj, kind))
        removed = removed_api(obj, kind)
        if removed is not None:
            model.removed_apis.append(removed)
        if kind in k8s.POD_TEMPLATE_PATHS:
            workload = k8s.workload(obj, kind)
            if workload is not None:
                model.workloads.append(workload)
            daemonset = cni_model.from_daemonset(obj) if kind == "DaemonSet" else None
            if daemonset is not None:
                model.cni.append(daemonset)
        elif kind == "PodDisruptionBudget":
            model.pdbs.append(k8s.pod_disruption_budget(obj))
        elif kind == "HorizontalPodAutoscaler":
            scaler = k8s.autoscaler(obj)
            if scaler is not None:
                model.autoscalers.append(scaler)
        elif kind == "ConfigMap":
            model.config_maps.append(k8s.config_map(obj))
        elif is_cluster_config(obj):
            config = cluster_config(obj, source.path, limits, version, model.problems)
            model.clusters.append(config)
            model.cni.extend(cni_model.from_cluster_config(obj, source.path, config.cluster.name, limits))
            for entry in config.node_groups:
                model.node_groups.append(entry.group)
                if entry.userdata is not None:
                    model.userdata.append(entry.userdata)
        elif is_nodeconfig(obj):
            nodeconfigs.append(obj)
        elif kind == "KubeletConfiguration":
            model.node_groups.append(_kubelet_config_group(obj, source, version))
        elif kind and k8s.is_custom_resource(obj):
            model.custom_resources.append((k8s.namespace_of(obj), kind))
    own_versions = [c.cluster.version for c in model.clusters if c.cluster.version]
    model.kubernetes_version = min(own_versions) if own_versions else version
    standalone: UserdataModel | None = None
    origin = Origin.USERDATA
    if source.userdata is not None:
        standalone = userdata_model(source, limits, model.problems)
    elif source.toml is not None:
        standalone, origin = bottlerocket_model(source), Origin.BOTTLEROCKET
    elif nodeconfigs:
        standalone, origin = nodeconfig_file_model(source, nodeconfigs, model.problems), Origin.NODECONFIG
    if standalone is not None:
        declared = context.for_userdata(source.path)
        standalone.context = declared
        standalone.must_be_complete = bool(declared and (declared.self_managed or declared.custom_ami))
        model.userdata.append(standalone)
        group = node_group_from_userdata(standalone, origin, version)
        if group is not None:
            model.node_groups.append(group)
    return model


def _kubelet_config_group(obj: YMap, source: SourceFile, version: tuple[int, int] | None) -> NodeGroup:
    settings = KubeletSettings()
    read_kubelet_config(obj, settings, "KubeletConfiguration")
    return NodeGroup(
        name=source.path,
        origin=Origin.KUBELET_CONFIG,
        span=obj.entry_span("kind"),
        file=source.path,
        labels_complete=False,
        allowances=settings.allowances(),
        max_pods=settings.max_pods,
        kubernetes_version=version,
    )


# -- the project ------------------------------------------------------------------------


@dataclass(slots=True)
class Candidate:
    """A node group a pod may run on."""

    group: NodeGroup
    certain: bool  # False: depends on labels no file shows


NODE_FIELDS = ("clusters", "node_groups", "cni")
OBJECT_FIELDS = ("workloads", "pdbs", "autoscalers", "config_maps", "custom_resources", "removed_apis")


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
_KEY_SEPARATOR = "\x1e"
_FIELD_SEPARATOR = "\x1f"
UNKEYED = "?"


def _key(kind: str, namespace: str | None, *names: str) -> str:
    return _FIELD_SEPARATOR.join((kind + (k8s.namespace_key(namespace) or ""), *names))


def object_keys(facts: FileFacts) -> str:
    """The object index keys of a file: the namespaces it has workloads, PDBs and
    custom resources in, its workloads' pod labels and its autoscalers' targets."""
    keys: set[str] = set()
    parts: list[str | None] = []
    for w in facts.workloads:
        keys.add(_key("w", w.namespace))
        keys.update(_key("l", w.namespace, k, v) for k, v in w.pod_labels.items())
        parts += [w.namespace, *w.pod_labels, *w.pod_labels.values()]
    for p in facts.pdbs:
        keys.add(_key("p", p.namespace))
        parts.append(p.namespace)
    for a in facts.autoscalers:
        keys.add(_key("a", a.namespace, a.target_kind, a.target_name))
        parts += [a.namespace, a.target_kind, a.target_name]
    for namespace, _ in facts.custom_resources:
        keys.add(_key("c", namespace))
        parts.append(namespace)
    if any(part and (_KEY_SEPARATOR in part or _FIELD_SEPARATOR in part) for part in parts):
        return UNKEYED
    return _KEY_SEPARATOR.join(sorted(keys))


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


@dataclass(slots=True, eq=False)
class PlacementClass:
    """Node groups that answer alike for every pod with one nodeSelector and node
    affinity: the same taints, the same values of the labels those look at, and
    labels equally complete. ``members`` are positions in ``Project.node_groups``,
    ascending. Compared by identity: classes are built once and shared by every pod
    they concern, so rules can key what they work out about its groups on it."""

    representative: NodeGroup
    members: list[int]


@dataclass(slots=True)
class _SysctlIndex:
    """Linux node groups (positions) by Kubernetes version; those with allowances by
    the allowances' patterns; and those with allowances ekslint cannot read; the
    last two with their version. Whether a sysctl is safe depends only on the
    version, and whether it is allowed only on the patterns (thousands of groups
    share a few lists), so each is decided once per distinct value."""

    by_version: dict[tuple[int, int], list[int]] = field(default_factory=lambda: defaultdict(list))
    versions: list[tuple[int, int] | None] = field(default_factory=list)  # by position; None: Windows
    by_patterns: dict[tuple[str, ...], list[tuple[int, tuple[int, int]]]] = field(
        default_factory=lambda: defaultdict(list)
    )
    unreadable: list[tuple[int, tuple[int, int]]] = field(default_factory=list)


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


class Project:
    """Everything analysed in one run, with indexes for cross-file questions.

    The aggregate views (``node_groups``, ``workloads``, ...) are built on first use,
    from every file; ``reported_files()`` gives only the files this run reports on.
    """

    def __init__(
        self, files: Sequence[FileFacts | PackedFacts], context: ModelContext, reported: set[str] | None = None
    ) -> None:
        self.context = context
        self._sources: list[FileFacts | PackedFacts] = list(files)
        self._reported = reported
        self._files: list[FileFacts] | None = None
        self._objects_by_key: dict[str, list[int]] | None = None
        self._selected: dict[int, tuple[k8s.PodDisruptionBudget, list[k8s.Workload]]] = {}
        self._floors: dict[tuple[str | None, str, str], tuple[int, k8s.Autoscaler] | None] = {}
        self._permitting: dict[str, list[NodeGroup]] = {}
        self._permitting_at: dict[str, frozenset[int]] = {}
        self._allowing: dict[str, list[NodeGroup]] = {}
        self._sysctls: _SysctlIndex | None = None
        self._default_version: tuple[tuple[int, int], str] | None = None
        self._candidates: dict[tuple[object, ...], list[Candidate]] = {}
        self._placement: _PlacementIndex | None = None
        self._classes: dict[tuple[object, ...], list[PlacementClass]] = {}
        self._partitions: dict[tuple[object, ...], list[PlacementClass]] = {}
        self._landing: dict[tuple[object, ...], list[tuple[PlacementClass, Match]]] = {}
        self._capacities: dict[int, tuple[InstanceTable, GroupCapacity | None]] = {}
        self._cni_resolved: dict[tuple[str, str] | None, cni_model.CniSettings] = {}
        self._cni_clusters: dict[tuple[str | None, str | None], list[cni_model.CniSettings]] | None = None

    def _facts(self, index: int) -> FileFacts:
        source = self._sources[index]
        if isinstance(source, PackedFacts):
            source = self._sources[index] = source.unpack()
        return source

    def _sides(self, node_side: bool) -> Iterator[FileFacts]:
        """Every file's facts, with only one side filled for files still packed."""
        for source in self._sources:
            if isinstance(source, FileFacts):
                yield source
            elif (source.nodes if node_side else source.objects) is not None:
                yield source.node_side() if node_side else source.object_side()

    @property
    def files(self) -> list[FileFacts]:
        if self._files is None:
            self._files = [self._facts(i) for i in range(len(self._sources))]
        return self._files

    def reported_files(self) -> list[FileFacts]:
        """The facts of the files whose findings this run reports."""
        return [self._facts(i) for i in self._reported_positions]

    @cached_property
    def _reported_positions(self) -> list[int]:
        # Found once: every project rule asks, and a one-file run has 10,000 others.
        return [i for i, f in enumerate(self._sources) if self.reports(f.path)]

    def reported_node_groups(self) -> list[NodeGroup]:
        """Node groups defined in the files this run reports on (and in the ekslint
        config when that is reported on)."""
        if self._reported is None:
            return self.node_groups
        groups = [g for f in self.reported_files() for g in f.node_groups]
        return groups + [g for g in self._declared_groups if self.reports(g.span.file)]

    @cached_property
    def node_groups(self) -> list[NodeGroup]:
        return [g for f in self._sides(node_side=True) for g in f.node_groups] + self._declared_groups

    @cached_property
    def _declared_groups(self) -> list[NodeGroup]:
        """Node groups the ekslint config declares (built once: rules compare groups
        by identity)."""
        version = self.context.kubernetes_version
        return [d.node_group(version) for d in self.context.declared if not d.userdata]

    @cached_property
    def workloads(self) -> list[k8s.Workload]:
        return [w for f in self._sides(node_side=False) for w in f.workloads]

    @cached_property
    def pdbs(self) -> list[k8s.PodDisruptionBudget]:
        return [p for f in self._sides(node_side=False) for p in f.pdbs]

    @cached_property
    def clusters(self) -> list[Cluster]:
        return [c for f in self._sides(node_side=True) for c in f.clusters]

    @cached_property
    def cni_settings(self) -> list[cni_model.CniSettings]:
        return [s for f in self._sides(node_side=True) for s in f.cni]

    @cached_property
    def custom_resources(self) -> list[tuple[str | None, str]]:
        return [r for f in self._sides(node_side=False) for r in f.custom_resources]

    @cached_property
    def config_maps(self) -> list[k8s.ConfigMap]:
        return [c for f in self._sides(node_side=False) for c in f.config_maps]

    def reports(self, path: str) -> bool:
        """Whether findings in ``path`` are reported in this run. With ``--context``
        (pre-commit) the other files only inform; a rule may skip checking what lies
        in them, which keeps a one-file run in a large repository fast."""
        return self._reported is None or path in self._reported

    # Kubernetes version ----------------------------------------------------------------
    def default_version(self) -> tuple[tuple[int, int], str]:
        """The version to judge pods by when no node group says, and where it came from."""
        if self._default_version is None:
            self._default_version = self._find_default_version()
        return self._default_version

    def _find_default_version(self) -> tuple[tuple[int, int], str]:
        versions = sorted({c.version for c in self.clusters if c.version})
        if versions:
            # Several clusters: the oldest is the one a manifest must still work on.
            source = (
                "metadata.version of the ClusterConfig"
                if len(versions) == 1
                else "the oldest ClusterConfig metadata.version"
            )
            return versions[0], source
        if self.context.kubernetes_version:
            return self.context.kubernetes_version, "kubernetes-version in the ekslint config"
        return (
            sysctls.NEWEST_KNOWN_VERSION,
            "the newest version ekslint knows; set metadata.version or kubernetes-version",
        )

    def version_of(self, group: NodeGroup) -> tuple[int, int]:
        return group.kubernetes_version or self.default_version()[0]

    def version_source_of(self, group: NodeGroup) -> str:
        if group.cluster is not None and group.cluster.version is not None:
            return f"metadata.version of cluster {group.cluster.name}"
        if group.kubernetes_version is not None:
            return "kubernetes-version in the ekslint config"
        return f"version from {self.default_version()[1]}"

    # Scheduling ------------------------------------------------------------------------
    def permitting(self, sysctl: str) -> list[NodeGroup]:
        """Linux node groups whose kubelet accepts the sysctl: safe on their version,
        allowed, or allowed in a way ekslint cannot read, in the project's order
        (do not modify: cached per name)."""
        found = self._permitting.get(sysctl)
        if found is None:
            groups = self.node_groups
            found = self._permitting[sysctl] = [groups[p] for p in sorted(self._permitting_positions(sysctl))]
        return found

    def _permitting_positions(self, sysctl: str) -> frozenset[int]:
        """``permitting(sysctl)`` as positions in ``node_groups``."""
        found = self._permitting_at.get(sysctl)
        if found is None:
            index = self._sysctl_index()
            safe = {version for version in index.by_version if sysctls.is_safe(sysctl, version)}
            # Where it is unsafe only the groups with an allowance can permit it.
            allowed = [p for p, version in index.unreadable if version not in safe]
            allowed.extend(p for p, version in self._allowance_matches(sysctl) if version not in safe)
            found = self._permitting_at[sysctl] = frozenset(allowed).union(*(index.by_version[v] for v in safe))
        return found

    def _allowance_matches(self, sysctl: str) -> Iterator[tuple[int, tuple[int, int]]]:
        """(position, version) of the Linux groups whose allowance names the sysctl:
        each distinct list of patterns is matched once."""
        for patterns, members in self._sysctl_index().by_patterns.items():
            if any(sysctls.pattern_matches(pattern, sysctl) for pattern in patterns):
                yield from members

    def _sysctl_index(self) -> _SysctlIndex:
        if self._sysctls is None:
            index = _SysctlIndex()
            for position, group in enumerate(self.node_groups):
                if group.windows:
                    index.versions.append(None)
                    continue
                version = self.version_of(group)
                index.versions.append(version)
                index.by_version[version].append(position)
                if group.allowances:
                    index.by_patterns[tuple(a.pattern for a in group.allowances)].append((position, version))
                if group.allowances_unknown is not None:
                    index.unreadable.append((position, version))
            self._sysctls = index
        return self._sysctls

    def linux_versions(self) -> list[tuple[int, int] | None]:
        """``version_of`` each node group by position in ``node_groups``, None for
        Windows groups (do not modify)."""
        return self._sysctl_index().versions

    def reaches_permitting(self, scheduling: NodeRequirements, sysctl: str) -> bool:
        """Whether a pod with these requirements can land on some node group that
        permits the sysctl (``permitting``)."""
        permitting = self._permitting_positions(sysctl)
        return any(not permitting.isdisjoint(c.members) for c, _ in self.landing(scheduling))

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
        in the project's order: the members of its ``landing`` classes."""
        found: list[int] = []
        maybe: set[int] = set()
        for placement, match in self.landing(scheduling):
            found.extend(placement.members)
            if match is Match.MAYBE:
                maybe.update(placement.members)
        found.sort()
        groups = self.node_groups
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
        index = self._placement_index()
        groups = self.node_groups
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
            values = tuple(map(groups[members[0]].node_labels().get, keys))
            classes[(False, taints[members[0]], values)].extend(members)
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

    def allowing(self, sysctl: str) -> list[NodeGroup]:
        """Linux node groups whose kubelet allowance names the sysctl (explicitly), in
        the project's order."""
        found = self._allowing.get(sysctl)
        if found is None:
            positions = [p for p, _ in self._allowance_matches(sysctl)]
            groups = self.node_groups
            found = self._allowing[sysctl] = [groups[p] for p in sorted(positions)]
        return list(found)

    def _complete_pool(self, requirements: NodeRequirements) -> list[int] | None:
        """Positions of the fully labelled groups that could match the nodeSelector and
        required node affinity: those with a selected label (one of the values of an
        ``In``); a fully labelled group without it certainly fails the match. Keys
        that EKS or the cloud provider set (zone, architecture) do not narrow."""
        index = self._placement_index()
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

    def _placement_index(self) -> _PlacementIndex:
        if self._placement is None:
            index = _PlacementIndex()
            # One tuple per distinct set of taints: class keys then compare by identity.
            interned: dict[tuple[Taint, ...], tuple[Taint, ...]] = {}
            for position, group in enumerate(self.node_groups):
                taints = tuple(group.taints)
                taints = interned.setdefault(taints, taints)
                index.taints.append(taints)
                if group.labels_complete:
                    index.complete_by_taints[taints].append(position)
                    for label in group.node_labels().items():
                        index.by_label[label].append(position)
                        index.by_key[label[0]].append(position)
                else:
                    index.partly[(taints, frozenset(group.node_labels().items()))].append(position)
            self._placement = index
        return self._placement

    # PDB selection ---------------------------------------------------------------------
    def _object_index(self) -> dict[str, list[int]]:
        """File positions by object key. Files still packed give their keys without
        unpacking, so a one-file run reads the object side of only the files that
        share a namespace, label or autoscaler target with what it checks."""
        if self._objects_by_key is None:
            index: dict[str, list[int]] = defaultdict(list)
            for position, source in enumerate(self._sources):
                keys = source.object_keys
                if not keys and isinstance(source, FileFacts):
                    keys = object_keys(source)  # facts built by hand, not by FileModel.facts()
                if keys:
                    for key in keys.split(_KEY_SEPARATOR):
                        index[key].append(position)
            self._objects_by_key = index
        return self._objects_by_key

    def _objects_with(self, key: str) -> Iterator[FileFacts]:
        """The object sides of the files that may hold ``key``, in project order;
        callers still check each object."""
        index = self._object_index()
        positions = index.get(key, [])
        unkeyed = index.get(UNKEYED)
        if unkeyed:
            positions = sorted({*positions, *unkeyed})
        sources = self._sources
        for position in positions:
            source = sources[position]
            yield source if isinstance(source, FileFacts) else source.object_side()

    def namespace_has_workloads(self, namespace: str | None) -> bool:
        ns = k8s.namespace_key(namespace)
        return any(k8s.namespace_key(w.namespace) == ns for f in self._objects_with(_key("w", ns)) for w in f.workloads)

    def workloads_in(self, namespace: str | None) -> list[k8s.Workload]:
        ns = k8s.namespace_key(namespace)
        return [
            w for f in self._objects_with(_key("w", ns)) for w in f.workloads if k8s.namespace_key(w.namespace) == ns
        ]

    def pdbs_in(self, namespace: str | None) -> list[k8s.PodDisruptionBudget]:
        ns = k8s.namespace_key(namespace)
        return [p for f in self._objects_with(_key("p", ns)) for p in f.pdbs if k8s.namespace_key(p.namespace) == ns]

    def has_custom_resources(self, namespace: str | None) -> bool:
        """Whether some analysed custom resource lives in the namespace (an operator's
        object, which may own pods no file shows)."""
        ns = k8s.namespace_key(namespace)
        return any(k8s.namespace_key(n) == ns for f in self._objects_with(_key("c", ns)) for n, _ in f.custom_resources)

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
            index = self._object_index()
            keys = [_key("l", ns, k, v) for k, v in selector.match_labels]
            key = min(keys, key=lambda k: len(index.get(k, ())))
        else:
            key = _key("w", ns)
        found = [
            w
            for f in self._objects_with(key)
            for w in f.workloads
            if k8s.namespace_key(w.namespace) == ns and selector.matches(w.pod_labels)
        ]
        self._selected[id(pdb)] = (pdb, found)  # the PDB kept alive: its id stays unique
        return list(found)

    def replica_floor(self, workload: k8s.Workload) -> tuple[int | None, k8s.Autoscaler | None]:
        """The fewest replicas the workload runs with: an HPA's minReplicas if one
        scales it, else its own replicas."""
        ns = k8s.namespace_key(workload.namespace)
        target = (ns, workload.kind, workload.name)
        if target not in self._floors:
            lowest: tuple[int, k8s.Autoscaler] | None = None
            for f in self._objects_with(_key("a", ns, workload.kind, workload.name)):
                for scaler in f.autoscalers:
                    if (k8s.namespace_key(scaler.namespace), scaler.target_kind, scaler.target_name) != target:
                        continue
                    if lowest is None or scaler.min_replicas < lowest[0]:
                        lowest = (scaler.min_replicas, scaler)
            self._floors[target] = lowest
        floor = self._floors[target]
        if floor is not None:
            return floor
        return workload.replicas, None

    def iter_workloads(self) -> Iterator[k8s.Workload]:
        return iter(self.workloads)

    # VPC CNI (pod capacity) ------------------------------------------------------------
    def capacity_of(self, group: NodeGroup, table: InstanceTable) -> GroupCapacity | None:
        """``podcapacity.assess`` of the group with its cluster's CNI settings, worked
        out once for the four capacity rules that each ask for every group."""
        known = self._capacities.get(id(group))
        if known is None or known[0] is not table:  # the table kept: its id stays unique
            known = self._capacities[id(group)] = (table, assess(group, self.cni_for(group), table))
        return known[1]

    def cni_for(self, group: NodeGroup) -> cni_model.CniSettings:
        """The VPC CNI settings a node group's nodes run with: its own cluster's vpc-cni
        addon, then aws-node DaemonSets, then other clusters' addons (for groups no
        ClusterConfig owns), then the ekslint config. Resolved once per cluster: the
        capacity rules ask for every node group."""
        key = None if group.cluster is None else (group.cluster.file, group.cluster.name)
        resolved = self._cni_resolved.get(key)
        if resolved is None:
            found = self.cni_settings
            if key is None:
                own = []
                others = [s for s in found if s.cluster_file is not None]
            else:
                own = list(self._cni_by_cluster().get(key, []))
                others = []
            daemonsets = [s for s in found if s.cluster_file is None]
            config = [self.context.cni] if self.context.cni is not None else []
            resolved = self._cni_resolved[key] = cni_model.resolve(own + daemonsets + others + config)
        return resolved

    def _cni_by_cluster(self) -> dict[tuple[str | None, str | None], list[cni_model.CniSettings]]:
        if self._cni_clusters is None:
            index: dict[tuple[str | None, str | None], list[cni_model.CniSettings]] = defaultdict(list)
            for settings in self.cni_settings:
                if settings.cluster_file is not None:
                    index[(settings.cluster_file, settings.cluster_name)].append(settings)
            self._cni_clusters = index
        return self._cni_clusters
