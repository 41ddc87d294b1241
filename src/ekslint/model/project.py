"""The project: every analysed file's facts, the node groups and objects across them,
and the cross-file questions rules ask. A thin front: the questions are answered by
the indexes in ``ekslint.model.index``, each built on first use from what it indexes.

A run may hold several clusters (``ekslint.model.scopes``): ``scopes()`` splits it into
one project per cluster, plus one for the files no cluster owns, and the engine asks
the cross-file rules about each, so every index is built over one cluster's files.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator, Sequence
from functools import cached_property

from ekslint.model import cni as cni_model
from ekslint.model import karpenter_join, sysctls
from ekslint.model import kubernetes as k8s
from ekslint.model.capacity import InstanceTable
from ekslint.model.context import ModelContext
from ekslint.model.eksctl import DEFAULT_KUBERNETES_VERSION, DEFAULT_VERSION_SOURCE
from ekslint.model.facts import FileFacts, PackedFacts, cluster_names
from ekslint.model.index.cni import CniIndex
from ekslint.model.index.objects import ObjectIndex
from ekslint.model.index.placement import Candidate, PlacementClass, PlacementIndex
from ekslint.model.index.sysctls import SysctlIndex
from ekslint.model.nodegroup import Cluster, NodeGroup, Origin
from ekslint.model.podcapacity import GroupCapacity
from ekslint.model.scheduling import Match, NodeRequirements
from ekslint.model.scopes import UNOWNED, ClusterScope, ScopeMap

__all__ = ["Candidate", "PlacementClass", "Project"]


class Project:
    """Everything analysed in one run, with indexes for cross-file questions.

    The aggregate views (``node_groups``, ``workloads``, ...) are built on first use,
    from every file; ``reported_files()`` gives only the files this run reports on.
    """

    def __init__(
        self,
        files: Sequence[FileFacts | PackedFacts],
        context: ModelContext,
        reported: set[str] | None = None,
        scope: ClusterScope | None = None,
    ) -> None:
        self.context = context
        # The cluster this project is (None: the whole run, not yet split by scopes()).
        self.scope = scope
        # Shared with the object index: files unpacked for one are unpacked for both.
        self._sources: list[FileFacts | PackedFacts] = list(files)
        self._reported = reported
        self._files: list[FileFacts] | None = None
        self._default_version: tuple[tuple[int, int], str] | None = None

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
        if any(g.node_class is not None for g in groups) or any(f.node_classes for f in self.reported_files()):
            # A Karpenter pool or class: the join needs every file's classes and pools.
            return [g for g in self.node_groups if self.reports(g.file)]
        return groups + [g for g in self._declared_groups if self.reports(g.span.file)]

    @cached_property
    def node_groups(self) -> list[NodeGroup]:
        sides = list(self._sides(node_side=True))
        # A template a .tf file renders (templatefile) is that file's node group, not
        # a standalone userdata group beside it.
        rendered = {path for f in sides for path in f.reads_files}
        groups = [g for f in sides if not rendered or os.path.normpath(f.path) not in rendered for g in f.node_groups]
        # Karpenter pools with their node classes from other files (karpenter_join.join).
        groups = karpenter_join.join(groups, [c for f in sides for c in f.node_classes])
        return groups + self._declared_groups

    @cached_property
    def _declared_groups(self) -> list[NodeGroup]:
        """Node groups the ekslint config declares (built once: rules compare groups
        by identity)."""
        version = self._configured_version()[0] or self.context.kubernetes_version
        scope = self.scope
        return [
            d.node_group(version)
            for d in self.context.declared
            if not d.userdata and (scope is None or scope.whole or d.cluster == (scope.name if scope.owned else None))
        ]

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

    # Clusters --------------------------------------------------------------------------
    @cached_property
    def scope_map(self) -> ScopeMap:
        """Which cluster each file belongs to: ``clusters:`` in the config, else the
        directories of the ClusterConfigs (see ``ekslint.model.scopes``)."""
        if self.context.clusters:
            return ScopeMap.configured(self.context.clusters, self.context.root)
        named = ((source.path, cluster_names(source)) for source in self._sources)
        return ScopeMap.automatic((path, names) for path, names in named if names)

    def scopes(self) -> list[Project]:
        """The run as one project per cluster, then one for the files no cluster owns
        (those with nothing in them left out); itself when it is one scope. Each
        file's facts go to exactly one; node groups a config declares go to the
        cluster their ``cluster:`` names."""
        if self.scope is not None:
            return [self]
        scope_map = self.scope_map
        if scope_map.single:
            self.scope = scope_map.scopes[UNOWNED]
            return [self]
        members: dict[str, list[FileFacts | PackedFacts]] = {key: [] for key in scope_map.scopes}
        for source in self._sources:
            members[scope_map.scope_key(source.path)].append(source)
        split = [Project(members[key], self.context, self._reported, scope) for key, scope in scope_map.scopes.items()]
        return [p for p in split if p._sources or p._declared_groups]

    def file_paths(self) -> list[str]:
        """The paths of the files this project holds, in the run's order."""
        return [source.path for source in self._sources]

    def has_reported(self) -> bool:
        """Whether this run reports on something of this project's: a file, or a node
        group the config declares."""
        return (
            self._reported is None
            or bool(self._reported_positions)
            or any(self.reports(g.span.file) for g in self._declared_groups)
        )

    def pair_key(self, path: str) -> str:
        """Objects of files with different keys never pair (a PDB and the workloads it
        selects, an autoscaler and its target): the file's cluster."""
        return self.scope_map.scope_key(path)

    @property
    def placement_unknown(self) -> bool:
        """The files no cluster owns, in a run of several clusters, with no node group
        of their own: which cluster's nodes their pods run on, no file says."""
        scope = self.scope
        return scope is not None and not scope.owned and not scope.whole and not self.node_groups

    @property
    def cluster_name(self) -> str | None:
        """The name of the cluster this project is (after ``scopes()``), None for the
        files no cluster owns or a run of one unnamed scope."""
        return self.scope.name if self.scope is not None else None

    @property
    def where(self) -> str:
        """Where this project's node groups are, for messages: ``"in cluster prod"``,
        ``"among the files no cluster owns"``, or ``"in the analysed files"`` when
        the run is one scope."""
        scope = self.scope
        if scope is None or scope.whole:
            return "in the analysed files"
        if scope.owned:
            return f"in cluster {scope.name}"
        return "among the files no cluster owns"

    def more_node_groups(self, count: int) -> str:
        """``"12 more node groups in cluster prod"``: the rest of a list of node
        groups, saying which cluster they are in when the run holds several."""
        noun = "node group" if count == 1 else "node groups"
        scope = self.scope
        if scope is None or scope.whole:
            return f"{count} more"
        return f"{count} more {noun} {self.where}"

    # Kubernetes version ----------------------------------------------------------------
    def default_version(self) -> tuple[tuple[int, int], str]:
        """The version to judge pods by when no node group says, and where it came from."""
        if self._default_version is None:
            self._default_version = self._find_default_version()
        return self._default_version

    def default_version_stated(self) -> bool:
        """Whether ``default_version`` comes from a file or the config (not eksctl's
        default)."""
        return not self.default_version()[1].startswith(DEFAULT_VERSION_SOURCE)

    def _find_default_version(self) -> tuple[tuple[int, int], str]:
        """A cluster's ClusterConfig version, else its ``kubernetes-version`` under
        ``clusters:``, else the top-level ``kubernetes-version`` (or
        ``--kubernetes-version``), else eksctl's default. The files no cluster owns
        take no ClusterConfig's version; nor does a cluster whose ClusterConfigs
        disagree (no guess at which one a file is applied to)."""
        scope = self.scope
        note = ""
        if scope is None or scope.whole or scope.owned:
            versions = sorted({c.version for c in self.clusters if c.version})
            if len(versions) == 1:
                return versions[0], "metadata.version of the ClusterConfig"
            if versions:
                shown = ", ".join(sysctls.format_version(v) for v in versions)
                note = f"; the ClusterConfigs of {self._scope_text()} state different versions ({shown})"
        configured = self._configured_version()
        if configured[0] is not None:
            return configured[0], configured[1] + note
        if self.context.kubernetes_version:
            return self.context.kubernetes_version, "kubernetes-version in the ekslint config" + note
        unowned = scope is not None and not scope.owned and not scope.whole
        states = "setting states one for the files no cluster owns" if unowned else "file or setting states one"
        return (
            DEFAULT_KUBERNETES_VERSION,
            f"{DEFAULT_VERSION_SOURCE} {sysctls.format_version(DEFAULT_KUBERNETES_VERSION)}, as no {states}{note}; "
            "set metadata.version or kubernetes-version",
        )

    def _configured_version(self) -> tuple[tuple[int, int] | None, str]:
        """``kubernetes-version`` of this cluster's entry under ``clusters:``."""
        scope = self.scope
        if scope is not None and scope.configured is not None and scope.configured.kubernetes_version:
            source = f"kubernetes-version of cluster {scope.name} in the ekslint config"
            return scope.configured.kubernetes_version, source
        return None, ""

    def _scope_text(self) -> str:
        scope = self.scope
        if scope is not None and scope.owned and scope.name:
            return f"cluster {scope.name}"
        return "the run"

    def version_of(self, group: NodeGroup) -> tuple[int, int]:
        return group.kubernetes_version or self.default_version()[0]

    def version_source_of(self, group: NodeGroup) -> str:
        if group.cluster is not None and group.cluster.version is not None:
            if group.origin is Origin.TERRAFORM and group.cluster.version_source:
                return group.cluster.version_source  # e.g. aws_eks_cluster.this.version
            return f"metadata.version of cluster {group.cluster.name}"
        if group.cluster is not None and group.cluster.version_source and group.kubernetes_version is not None:
            return group.cluster.version_source
        if group.kubernetes_version is not None:
            configured, source = self._configured_version()
            return source if configured == group.kubernetes_version else "kubernetes-version in the ekslint config"
        return f"version from {self.default_version()[1]}"

    # The indexes ----------------------------------------------------------------------
    @cached_property
    def sysctl_index(self) -> SysctlIndex:
        return SysctlIndex(self.node_groups, self.version_of)

    @cached_property
    def placement_index(self) -> PlacementIndex:
        return PlacementIndex(self.node_groups)

    @cached_property
    def object_index(self) -> ObjectIndex:
        # Split by scopes(), a project is one cluster: its objects all pair.
        whole = self.scope is None and not self.scope_map.single
        return ObjectIndex(self._sources, self.pair_key if whole else None)

    @cached_property
    def cni_index(self) -> CniIndex:
        return CniIndex(self.cni_settings, self.context.cni)

    # Sysctls and scheduling --------------------------------------------------------------
    def permitting(self, sysctl: str) -> list[NodeGroup]:
        """Linux node groups whose kubelet accepts the sysctl: safe on their version,
        allowed, or allowed in a way ekslint cannot read, in the project's order
        (do not modify: cached per name)."""
        return self.sysctl_index.permitting(sysctl)

    def permitting_positions(self, sysctl: str) -> frozenset[int]:
        """``permitting(sysctl)`` as positions in ``node_groups`` (cached per name)."""
        return self.sysctl_index.permitting_positions(sysctl)

    def known_permitting_positions(self, sysctl: str) -> frozenset[int]:
        """``permitting_positions`` without the groups whose allowance ekslint cannot
        read: the groups that surely accept the sysctl (cached per name)."""
        return self.sysctl_index.known_permitting_positions(sysctl)

    def allowing(self, sysctl: str) -> list[NodeGroup]:
        """Linux node groups whose kubelet allowance names the sysctl (explicitly), in
        the project's order."""
        return self.sysctl_index.allowing(sysctl)

    def linux_versions(self) -> list[tuple[int, int] | None]:
        """``version_of`` each node group by position in ``node_groups``, None for
        Windows groups (do not modify)."""
        return self.sysctl_index.versions

    def reaches_permitting(self, scheduling: NodeRequirements, sysctl: str) -> bool:
        """Whether a pod with these requirements can land on some node group that
        permits the sysctl (``permitting``)."""
        permitting = self.sysctl_index.permitting_positions(sysctl)
        return any(not permitting.isdisjoint(c.members) for c, _ in self.landing(scheduling))

    def candidates(self, pod: k8s.PodSpec) -> list[Candidate]:
        """Node groups the pod can be scheduled on."""
        return self.placement_index.candidates(pod)

    def placements(self, scheduling: NodeRequirements) -> list[tuple[NodeGroup, Match]]:
        """The node groups a pod with these requirements can land on (YES or MAYBE),
        in the project's order."""
        return self.placement_index.placements(scheduling)

    def landing(self, scheduling: NodeRequirements) -> list[tuple[PlacementClass, Match]]:
        """The classes of node groups a pod with these requirements can land on, each
        with YES or MAYBE (do not modify: cached per pod signature)."""
        return self.placement_index.landing(scheduling)

    def excluded(self, pod: k8s.PodSpec, groups: Iterable[NodeGroup], limit: int) -> list[tuple[NodeGroup, str]]:
        """Up to ``limit`` of ``groups`` the pod cannot be scheduled on, with the reason."""
        return self.placement_index.excluded(pod, groups, limit)

    # Workloads and PDBs ------------------------------------------------------------------
    def namespace_has_workloads(self, namespace: str | None) -> bool:
        return self.object_index.namespace_has_workloads(namespace)

    def workloads_in(self, namespace: str | None) -> list[k8s.Workload]:
        return self.object_index.workloads_in(namespace)

    def pdbs_in(self, namespace: str | None) -> list[k8s.PodDisruptionBudget]:
        return self.object_index.pdbs_in(namespace)

    def has_custom_resources(self, namespace: str | None) -> bool:
        """Whether some analysed custom resource lives in the namespace (an operator's
        object, which may own pods no file shows)."""
        return self.object_index.has_custom_resources(namespace)

    def selected_by(self, pdb: k8s.PodDisruptionBudget) -> list[k8s.Workload]:
        """Workloads whose pod template labels the PDB's selector matches, in its
        namespace."""
        return self.object_index.selected_by(pdb)

    def replica_floor(self, workload: k8s.Workload) -> tuple[int | None, k8s.Autoscaler | None]:
        """The fewest replicas the workload runs with: an HPA's minReplicas if one
        scales it, else its own replicas."""
        return self.object_index.replica_floor(workload)

    def iter_workloads(self) -> Iterator[k8s.Workload]:
        return iter(self.workloads)

    # VPC CNI (pod capacity) --------------------------------------------------------------
    def capacity_of(self, group: NodeGroup, table: InstanceTable) -> GroupCapacity | None:
        """``podcapacity.assess`` of the group with its cluster's CNI settings, worked
        out once for the capacity rules that each ask for every group."""
        return self.cni_index.capacity_of(group, table)

    def cni_for(self, group: NodeGroup) -> cni_model.CniSettings:
        """The VPC CNI settings a node group's nodes run with."""
        return self.cni_index.cni_for(group)
