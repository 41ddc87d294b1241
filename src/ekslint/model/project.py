"""The model of one file and of the whole project, with the cross-file index.

``build_file_model`` interprets one parsed file; it depends on nothing else, so files
can be modelled independently (and in parallel). ``Project`` joins them and answers the
cross-file questions in time near-linear in the number of documents: which node groups
a pod can land on, which workloads a PDB selects.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field

from ekslint.model import kubernetes as k8s
from ekslint.model import sysctls
from ekslint.model.context import ModelContext
from ekslint.model.eksctl import ClusterConfig, cluster_config, is_cluster_config
from ekslint.model.nodeconfig import is_nodeconfig, read_kubelet_config
from ekslint.model.nodegroup import KubeletSettings, NodeGroup, Origin
from ekslint.model.scheduling import Match
from ekslint.model.shapes import check_object
from ekslint.model.userdata import (
    UserdataModel,
    bottlerocket_model,
    node_group_from_userdata,
    nodeconfig_file_model,
    userdata_model,
)
from ekslint.parse.mime import Problem
from ekslint.parse.sources import SourceFile
from ekslint.parse.text import Span
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
    # ekslint.io/ignore annotations: (object identity, value, where)
    ignore_annotations: list[tuple[str, str, Span]] = field(default_factory=list)

    @property
    def path(self) -> str:
        return self.source.path


def build_file_model(source: SourceFile, context: ModelContext, limits: YamlLimits = DEFAULT_LIMITS) -> FileModel:
    model = FileModel(source, list(source.problems))
    version = context.kubernetes_version
    nodeconfigs: list[YMap] = []
    for doc in source.yaml_docs:
        root = doc.root()
        if isinstance(root, YSeq) and any(isinstance(i, YMap) and "kind" in i and "apiVersion" in i for i in root):
            model.problems.append(
                Problem(
                    "this document is a YAML list of objects, but kubectl, eksctl and nodeadm read each document as "
                    "one object: remove the leading `- ` (one object per `---` document), or wrap them in "
                    "`kind: List` with `items:`",
                    root.start_span,
                )
            )
    for obj in source.objects():
        kind = obj.text("kind") or ""
        model.problems.extend(check_object(obj, kind, obj.text("apiVersion") or ""))
        model.ignore_annotations.extend(k8s.ignore_annotations(obj, kind))
        if kind in k8s.POD_TEMPLATE_PATHS:
            workload = k8s.workload(obj, kind)
            if workload is not None:
                model.workloads.append(workload)
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
            for entry in config.node_groups:
                model.node_groups.append(entry.group)
                if entry.userdata is not None:
                    model.userdata.append(entry.userdata)
        elif is_nodeconfig(obj):
            nodeconfigs.append(obj)
        elif kind == "KubeletConfiguration":
            model.node_groups.append(_kubelet_config_group(obj, source, version))
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


class Project:
    """Everything analysed in one run, with indexes for cross-file questions."""

    def __init__(self, files: list[FileModel], context: ModelContext) -> None:
        self.files = files
        self.context = context
        self.node_groups: list[NodeGroup] = [g for f in files for g in f.node_groups]
        self.node_groups.extend(d.node_group(context.kubernetes_version) for d in context.declared if not d.userdata)
        self.workloads: list[k8s.Workload] = [w for f in files for w in f.workloads]
        self.pdbs: list[k8s.PodDisruptionBudget] = [p for f in files for p in f.pdbs]
        self.clusters: list[ClusterConfig] = [c for f in files for c in f.clusters]
        self.config_maps: list[k8s.ConfigMap] = [c for f in files for c in f.config_maps]
        self._by_namespace: dict[str | None, list[k8s.Workload]] | None = None
        self._by_label: dict[tuple[str | None, str, str], list[k8s.Workload]] | None = None
        self._floors: dict[tuple[str | None, str, str], tuple[int, k8s.Autoscaler]] = {}
        self._permitting: dict[str, list[NodeGroup]] = {}
        for f in files:
            for scaler in f.autoscalers:
                key = (_ns(scaler.namespace), scaler.target_kind, scaler.target_name)
                if key not in self._floors or scaler.min_replicas < self._floors[key][0]:
                    self._floors[key] = (scaler.min_replicas, scaler)

    # Kubernetes version ----------------------------------------------------------------
    def default_version(self) -> tuple[tuple[int, int], str]:
        """The version to judge pods by when no node group says, and where it came from."""
        versions = sorted({c.cluster.version for c in self.clusters if c.cluster.version})
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
        allowed, or allowed in a way ekslint cannot read. Cached per name, so checking
        every pod costs the groups that permit its sysctls, not all groups."""
        found = self._permitting.get(sysctl)
        if found is None:
            found = [
                g
                for g in self.node_groups
                if not g.windows
                and (
                    sysctls.is_safe(sysctl, self.version_of(g))
                    or g.allowance_for(sysctl) is not None
                    or g.allowances_unknown is not None
                )
            ]
            self._permitting[sysctl] = found
        return found

    def candidates(self, pod: k8s.PodSpec) -> tuple[list[Candidate], list[tuple[NodeGroup, str]]]:
        """Node groups the pod can be scheduled on, and the others with the reason."""
        fits: list[Candidate] = []
        excluded: list[tuple[NodeGroup, str]] = []
        for group in self.node_groups:
            match, reason = group.accepts(pod.scheduling)
            if match is Match.NO:
                excluded.append((group, reason))
            else:
                fits.append(Candidate(group, match is Match.YES))
        return fits, excluded

    # PDB selection ---------------------------------------------------------------------
    def _indexes(
        self,
    ) -> tuple[dict[str | None, list[k8s.Workload]], dict[tuple[str | None, str, str], list[k8s.Workload]]]:
        if self._by_namespace is None or self._by_label is None:
            by_namespace: dict[str | None, list[k8s.Workload]] = defaultdict(list)
            by_label: dict[tuple[str | None, str, str], list[k8s.Workload]] = defaultdict(list)
            for w in self.workloads:
                ns = _ns(w.namespace)
                by_namespace[ns].append(w)
                for key, value in w.pod_labels.items():
                    by_label[(ns, key, value)].append(w)
            self._by_namespace, self._by_label = by_namespace, by_label
        return self._by_namespace, self._by_label

    def namespace_has_workloads(self, namespace: str | None) -> bool:
        return bool(self._indexes()[0].get(_ns(namespace)))

    def selected_by(self, pdb: k8s.PodDisruptionBudget) -> list[k8s.Workload]:
        """Workloads whose pod template labels the PDB's selector matches, in its
        namespace. An empty selector selects every pod of the namespace in policy/v1
        and none in policy/v1beta1; no selector selects none."""
        selector = pdb.selector
        if selector is None or (selector.is_empty and pdb.api_version == "policy/v1beta1"):
            return []  # policy/v1beta1: an empty selector selects nothing
        by_namespace, by_label = self._indexes()
        ns = _ns(pdb.namespace)
        if selector.match_labels:
            # The rarest label narrows the candidates; the full selector decides.
            pools = [by_label.get((ns, k, v), []) for k, v in selector.match_labels]
            pool = min(pools, key=len)
        else:
            pool = by_namespace.get(ns, [])
        return [w for w in pool if selector.matches(w.pod_labels)]

    def replica_floor(self, workload: k8s.Workload) -> tuple[int | None, k8s.Autoscaler | None]:
        """The fewest replicas the workload runs with: an HPA's minReplicas if one
        scales it, else its own replicas."""
        floor = self._floors.get((_ns(workload.namespace), workload.kind, workload.name))
        if floor is not None:
            return floor
        return workload.replicas, None

    def iter_workloads(self) -> Iterator[k8s.Workload]:
        return iter(self.workloads)


def _ns(namespace: str | None) -> str | None:
    """Objects without a namespace go wherever they are applied; treat them as one
    namespace together with ``default``."""
    return None if namespace in (None, "", "default") else namespace
