"""What the user tells ekslint that no analysed file says: the cluster version, node
groups defined elsewhere (Karpenter, Terraform, the console), and which userdata files
belong to self-managed or custom-AMI node groups."""

from __future__ import annotations

import fnmatch
import os
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from ekslint.model.kubernetes import POD_TEMPLATE_PATHS, builtin_kind
from ekslint.model.nodegroup import Allowance, MaxPodsSetting, NodeGroup, Origin, normalize_family
from ekslint.model.scheduling import Taint
from ekslint.model.scopes import ClusterPaths, relative_path
from ekslint.parse.text import Span

if TYPE_CHECKING:
    from ekslint.model.cni import CniSettings


@dataclass(slots=True)
class DeclaredNodeGroup:
    name: str
    span: Span  # where the config declares it
    labels: dict[str, str] = field(default_factory=dict)
    taints: list[Taint] = field(default_factory=list)
    allowed_unsafe_sysctls: list[str] = field(default_factory=list)
    ami_family: str | None = None
    self_managed: bool | None = None
    custom_ami: bool | None = None
    max_pods: int | None = None
    instance_types: list[str] = field(default_factory=list)
    userdata: list[str] = field(default_factory=list)  # globs of userdata files it uses
    # Who declares it, for messages: the config, or the file that defines the node
    # group around a userdata (a CloudFormation template).
    declared_by: str = "the ekslint config"
    cluster: str | None = None  # the entry of ``clusters:`` it belongs to; None: no cluster's

    def matches_file(self, path: str) -> bool:
        return any(fnmatch.fnmatchcase(path, pattern) for pattern in self.userdata)

    def node_group(self, version: tuple[int, int] | None) -> NodeGroup:
        from ekslint.model.nodegroup import InstanceType

        group = NodeGroup(
            name=self.name,
            origin=Origin.CONFIG,
            span=self.span,
            file=self.span.file,
            ami_family=normalize_family(self.ami_family),
            custom_ami=self.custom_ami,
            labels=dict(self.labels),
            taints=list(self.taints),
            allowances=[
                Allowance(p, self.span, "allowed-unsafe-sysctls in the ekslint config")
                for p in self.allowed_unsafe_sysctls
            ],
            kubernetes_version=version,
        )
        group.instance_types = [InstanceType(t, self.span) for t in self.instance_types]
        if self.max_pods is not None:
            group.max_pods.append(
                MaxPodsSetting(self.max_pods, str(self.max_pods), self.span, "max-pods in the ekslint config")
            )
        return group


@dataclass(frozen=True, slots=True)
class PodTemplateKind:
    """A ``pod-templates:`` entry: a kind that carries a pod template at ``path``."""

    kind: str
    group: str | None  # None: any API group
    path: tuple[str, ...]


@dataclass(slots=True)
class ModelContext:
    kubernetes_version: tuple[int, int] | None = None
    declared: list[DeclaredNodeGroup] = field(default_factory=list)
    root: str | None = None  # directory the config's globs are relative to
    cni: CniSettings | None = None  # `cni:` in the config: the VPC CNI set up elsewhere
    pod_templates: tuple[PodTemplateKind, ...] = ()  # `pod-templates:` in the config

    def pod_template_path(self, kind: str, api_version: str) -> tuple[str, ...] | str | None:
        """Where an object of this kind keeps its pod template: a path, None (the
        object is a pod), or "" (it carries none)."""
        group = api_version.rpartition("/")[0]
        for entry in self.pod_templates:
            if entry.kind == kind and (entry.group is None or entry.group == group):
                return entry.path
        if kind not in POD_TEMPLATE_PATHS or not builtin_kind(kind, api_version):
            return ""
        return POD_TEMPLATE_PATHS[kind]

    clusters: list[ClusterPaths] = field(default_factory=list)  # `clusters:` in the config

    def version_for(self, path: str) -> tuple[int, int] | None:
        """The version stated for the file's cluster: the ``kubernetes-version`` of the
        entry of ``clusters:`` that owns it, else the top-level one. A file's own
        ClusterConfig version still comes first (the file model decides)."""
        if self.clusters:
            relative = relative_path(path, self.root)
            for entry in self.clusters:
                if entry.matches(relative):
                    return entry.kubernetes_version or self.kubernetes_version
        return self.kubernetes_version

    def for_userdata(self, path: str) -> DeclaredNodeGroup | None:
        relative = os.path.relpath(os.path.abspath(path), self.root).replace(os.sep, "/") if self.root else path
        for group in self.declared:
            if group.matches_file(relative):
                return group
        return None
