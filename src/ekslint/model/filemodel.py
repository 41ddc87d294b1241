"""The model of one file: what a parsed file means (clusters, node groups, userdata,
workloads, PDBs), built from that file alone, so files can be modelled independently
and in parallel."""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from typing import TYPE_CHECKING

from ekslint.model import cni as cni_model
from ekslint.model import karpenter, kustomize
from ekslint.model import kubernetes as k8s
from ekslint.model.apiversions import removed_api
from ekslint.model.context import ModelContext
from ekslint.model.eksctl import ClusterConfig, cluster_config, is_cluster_config
from ekslint.model.facts import FileFacts, object_keys
from ekslint.model.nodeconfig import is_nodeconfig, read_kubelet_config
from ekslint.model.nodegroup import KubeletSettings, NodeGroup, Origin
from ekslint.model.userdata import (
    UserdataModel,
    bottlerocket_model,
    node_group_from_userdata,
    nodeconfig_file_model,
    userdata_model,
)
from ekslint.parse.numbers import abbreviate
from ekslint.parse.sources import Content, ReadLimits, SourceFile
from ekslint.parse.text import Problem, Span
from ekslint.parse.yamltree import DEFAULT_LIMITS, YamlLimits, YMap, YSeq

if TYPE_CHECKING:
    from ekslint.model.cloudformation import TemplateModel


@dataclass(slots=True, kw_only=True)
class FileModel(FileFacts):
    """A file's facts (``FileFacts``) and what only its own file rules read: the parse
    tree, the problems found reading it, eksctl's view of its node groups, the
    userdata, the suppression annotations."""

    source: SourceFile
    # Every document (and List item) with an apiVersion and kind, as the model read
    # them: validation reads the same objects rather than wrapping the tree again.
    objects: list[YMap] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)  # EKS001
    cluster_configs: list[ClusterConfig] = field(default_factory=list)
    userdata: list[UserdataModel] = field(default_factory=list)
    # ekslint.io/ignore annotations: (object identity, value, where)
    ignore_annotations: list[tuple[str, str, Span]] = field(default_factory=list)
    # The Kubernetes version this file's objects are judged by when one file is all a
    # rule sees: the oldest ClusterConfig metadata.version in it, else the config's.
    kubernetes_version: tuple[int, int] | None = None
    # Other files read to model this one (a Terraform templatefile/file beside the .tf).
    reads_files: list[str] = field(default_factory=list)
    # The directory and sibling .tf files a Terraform file was read with (its module):
    # what the cache stamps the file's entry with, and a fact (facts.py).
    module_files: list[str] = field(default_factory=list)

    def facts(self) -> FileFacts:
        facts = FileFacts(**{f.name: getattr(self, f.name) for f in fields(FileFacts)})
        # Here, in the per-file stage (a worker with --jobs), not in the cross-file one.
        facts.object_keys = object_keys(facts)
        return facts


def build_file_model(source: SourceFile, context: ModelContext, limits: YamlLimits = DEFAULT_LIMITS) -> FileModel:
    model = FileModel(source.path, source=source, problems=list(source.problems))
    version = context.version_for(source.path)
    nodeconfigs: list[YMap] = []
    karpenter_objects: list[tuple[YMap, str]] = []
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
        elif isinstance(root, YSeq) and kustomize.is_json_patch(root):
            model.json_patches.extend(kustomize.json_ops(root))
    if kustomize.is_kustomization(source.path) and source.yaml_docs:
        root = source.yaml_docs[0].root()
        if isinstance(root, YMap):
            model.kustomizations.append(kustomize.kustomization(root, source.path, context, model.problems))
    model.objects = list(source.objects())
    for obj in model.objects:
        kind = obj.text("kind") or ""
        if obj.text("$patch") == "delete":  # a strategic-merge patch deleting the object it names
            model.patch_deletes.append((kind, k8s.object_name(obj)))
            continue
        model.ignore_annotations.extend(k8s.ignore_annotations(obj, kind))
        removed = removed_api(obj, kind)
        if removed is not None:
            model.removed_apis.append(removed)
        api_version = obj.text("apiVersion") or ""
        template_path = context.pod_template_path(kind, api_version) if kind else ""
        if template_path != "":
            workload = k8s.workload(obj, kind, template_path)
            if workload is not None:
                model.workloads.append(workload)
            else:  # no pod template: material for a kustomize patch only
                patch = k8s.workload(obj, kind, template_path, partial=True)
                if patch is not None and patch.present:
                    model.patch_workloads.append(patch)
            daemonset = cni_model.from_daemonset(obj) if kind == "DaemonSet" else None
            if daemonset is not None:
                model.cni.append(daemonset)
        elif kind == "PodDisruptionBudget" and k8s.builtin_kind(kind, api_version):
            model.pdbs.append(k8s.pod_disruption_budget(obj))
        elif kind == "HorizontalPodAutoscaler" and k8s.builtin_kind(kind, api_version):
            scaler = k8s.autoscaler(obj)
            if scaler is not None:
                model.autoscalers.append(scaler)
        elif kind == "ConfigMap" and k8s.builtin_kind(kind, api_version):
            model.config_maps.append(k8s.config_map(obj))
            windows_cni = cni_model.from_config_map(obj)
            if windows_cni is not None:
                model.cni.append(windows_cni)
        elif is_cluster_config(obj):
            config = cluster_config(obj, source.path, limits, version, model.problems)
            model.cluster_configs.append(config)
            model.clusters.append(config.cluster)
            model.cni.extend(cni_model.from_cluster_config(obj, source.path, config.cluster.name, limits))
            for entry in config.node_groups:
                model.node_groups.append(entry.group)
                if entry.userdata is not None:
                    model.userdata.append(entry.userdata)
            model.node_groups.extend(karpenter.builtin_pools(obj, config.cluster.version))
        elif is_nodeconfig(obj):
            nodeconfigs.append(obj)
        elif kind == "KubeletConfiguration":
            model.node_groups.append(_kubelet_config_group(obj, source, version))
        elif karpenter.is_pool(obj, kind) or karpenter.is_node_class(obj, kind):
            karpenter_objects.append((obj, kind))
        elif kind and k8s.is_custom_resource(obj):
            model.custom_resources.append((k8s.namespace_of(obj), kind))
    # The Terraform and CloudFormation readers are imported for the files that need them:
    # most runs (a one-file pre-commit run on a manifest) never do.
    terraform = None
    if source.hcl is not None or source.content is Content.TERRAFORM_PLAN:
        from ekslint.model.terraform_read import terraform_source

        terraform = terraform_source(source, version, limits)
    if terraform is not None:  # .tf files and `terraform show -json` output
        model.clusters += terraform.clusters
        model.node_groups += terraform.node_groups
        model.userdata += terraform.userdata
        model.problems += terraform.problems
        model.reads_files += terraform.reads_files
        model.module_files += terraform.module_files
        for obj in terraform.manifests:  # kubectl_manifest heredocs
            kind = obj.text("kind") or ""
            if karpenter.is_pool(obj, kind) or karpenter.is_node_class(obj, kind):
                karpenter_objects.append((obj, kind))
    if source.content is Content.CLOUDFORMATION:
        from ekslint.model import cloudformation

        _add_template(model, cloudformation.template_model(source, context, limits, model.problems))
    if karpenter_objects:
        found = karpenter.read_file(karpenter_objects, ReadLimits(yaml=limits), model.problems)
        for pool in found.pools:
            pool.kubernetes_version = version
        model.node_groups.extend(found.pools)
        model.node_classes.extend(found.node_classes)
        model.userdata.extend(found.userdata)
    own_versions = [c.version for c in model.clusters if c.version]
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
    model.problems.extend(_out_of_range(model))
    return model


def _add_template(model: FileModel, template: TemplateModel) -> None:
    model.clusters.extend(template.clusters)
    model.node_groups.extend(template.node_groups)
    model.userdata.extend(template.userdata)


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
        allowances_unknown=settings.allowances_unknown,
        max_pods=settings.max_pods,
        kubernetes_version=version,
    )


def _out_of_range(model: FileModel) -> list[Problem]:
    """Numbers no consumer can read, in settings outside YAML's own number checks:
    a ``--max-pods`` flag past the kubelet's int32, a maxPodsExpression past cel-go's
    parser limits. ekslint cannot judge them, and the node cannot use them."""
    problems: list[Problem] = []
    for group in model.node_groups:
        for setting in group.max_pods:
            if setting.out_of_range:
                problems.append(
                    Problem(
                        setting.span,
                        f"{setting.source}: the number {abbreviate(setting.raw)} is out of range for the kubelet's "
                        "int32 --max-pods, so the kubelet refuses the flag and does not start. Set a pod count "
                        "such as --max-pods=110",
                    )
                )
    for userdata in model.userdata:
        expression = userdata.nodeconfig.max_pods_expression if userdata.nodeconfig is not None else None
        if expression is not None and expression.beyond_limits and expression.error is not None:
            problems.append(
                Problem(
                    expression.error_span(),
                    f"maxPodsExpression in {expression.source}: {expression.error.message}; nodeadm cannot "
                    "compile it and runs the node with the standard max pods. Write a short expression, e.g. "
                    "max_pods < 110 ? max_pods : 110",
                )
            )
    return problems
