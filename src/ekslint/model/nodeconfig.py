"""nodeadm NodeConfig (node.eks.aws/v1alpha1), merged the way nodeadm merges it.

nodeadm (amazon-eks-ami ``nodeadm/internal/configprovider/mime.go``) reads every
``application/node.eks.aws`` part (or the whole userdata when it is not multipart) and
merges them in order (``nodeadm/internal/api/merge.go``): the first part is the base,
later parts override it (mergo WithOverride: an empty value never overrides),
``kubelet.flags`` are appended. Only then ``nodeadm/internal/api/validation.go`` checks
that ``spec.cluster`` has name, apiServerEndpoint, certificateAuthority (a nil check:
an empty string passes) and cidr, and an ``id`` when ``enableOutpost`` is true.

A NodeConfig with ``spec.hybrid`` is the hybrid-nodes variant (aws/eks-hybrid
``api/v1alpha1/nodeconfig_types.go``): nodeadm for hybrid nodes requires name and
region instead, and exactly one of SSM or IAM Roles Anywhere
(``internal/node/hybrid/validator.go``); it looks the rest up with DescribeCluster.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from ekslint.model.maxpods import MaxPodsExpression, max_pods_expression
from ekslint.model.nodegroup import Allowance, KubeletSettings, MaxPodsSetting
from ekslint.parse.shell import Word, kubelet_flags, split_words
from ekslint.parse.templates import is_placeholder
from ekslint.parse.text import Span
from ekslint.parse.yamltree import YMap, YScalar

NODECONFIG_GROUP = "node.eks.aws"
REQUIRED_CLUSTER_FIELDS = ("name", "apiServerEndpoint", "certificateAuthority", "cidr")
# aws/eks-hybrid internal/node/hybrid/validator.go, in the order it checks.
HYBRID_REQUIRED_CLUSTER_FIELDS = ("name", "region")
# String fields of spec.cluster merged like the required ones.
_CLUSTER_STRINGS = (*REQUIRED_CLUSTER_FIELDS, "region", "id")
HYBRID_SSM_FIELDS = ("activationCode", "activationId")
HYBRID_IAM_RA_FIELDS = ("roleArn", "profileArn", "trustAnchorArn", "nodeName")


def is_nodeconfig(obj: YMap) -> bool:
    return obj.text("kind") == "NodeConfig" and (obj.text("apiVersion") or "").startswith(NODECONFIG_GROUP + "/")


_KIND_LINE = re.compile(r"^[ \t]*kind:[ \t]*NodeConfig\b", re.M)  # not \s: linear


def mentions_nodeconfig(content: str) -> bool:
    """A ``kind: NodeConfig`` line: the text may be a NodeConfig document (or a script
    that writes one)."""
    return _KIND_LINE.search(content) is not None


@dataclass(slots=True)
class NodeConfigPart:
    obj: YMap
    source: str  # e.g. "MIME part 2", "overrideBootstrapCommand"

    @property
    def spec(self) -> YMap | None:
        return self.obj.map("spec")

    @property
    def span(self) -> Span:
        return self.obj.entry_span("kind") if "kind" in self.obj else self.obj.start_span


@dataclass(slots=True)
class ClusterField:
    name: str
    value: str
    span: Span
    source: str


@dataclass(slots=True)
class HybridOptions:
    """``spec.hybrid`` of a hybrid-nodes NodeConfig, merged field by field."""

    span: Span  # the ``hybrid`` key (of the last part that has one)
    source: str
    ssm: dict[str, ClusterField] | None = None  # None: no ``ssm`` section
    ssm_span: Span | None = None
    iam_roles_anywhere: dict[str, ClusterField] | None = None
    iam_roles_anywhere_span: Span | None = None


@dataclass(slots=True)
class MergedNodeConfig:
    parts: list[NodeConfigPart]
    # Who else supplies the cluster section, when the files do not have to:
    # "eksctl" (self-managed / custom AMI: eksctl adds its own part) or "EKS" (managed
    # node group without a custom AMI: EKS injects it).
    implicit_cluster: str | None = None
    cluster: dict[str, ClusterField] = field(default_factory=dict)
    kubelet: KubeletSettings = field(default_factory=KubeletSettings)
    max_pods_expression: MaxPodsExpression | None = None
    # Every part's certificateAuthority (nodeadm decodes each part, so each must be
    # base64), in order; ``cluster`` has the one that wins.
    certificate_authorities: list[ClusterField] = field(default_factory=list)
    # spec.kubelet.config.clusterDNS of the last part that sets it (a later list
    # replaces an earlier one), its scalar entries with their part.
    cluster_dns: list[ClusterField] = field(default_factory=list)
    # spec.cluster.enableOutpost as merged (a later non-null value overrides).
    enable_outpost: ClusterField | None = None
    # spec.kubelet.flags of every part, in order (nodeadm appends them).
    flags: list[ClusterField] = field(default_factory=list)
    # spec.hybrid: the hybrid-nodes variant (aws/eks-hybrid), None for EC2 nodes.
    hybrid: HybridOptions | None = None

    @property
    def outpost(self) -> bool:
        return self.enable_outpost is not None and self.enable_outpost.value == "true"

    @property
    def empty_certificate_authority(self) -> ClusterField | None:
        """``certificateAuthority: ""`` that wins: it passes nodeadm's nil check."""
        found = self.cluster.get("certificateAuthority")
        return found if found is not None and not found.value else None

    @property
    def required_cluster_fields(self) -> tuple[str, ...]:
        """What the consumer checks: nodeadm's four (and id on Outposts), or the
        hybrid variant's name and region."""
        if self.hybrid is not None:
            return HYBRID_REQUIRED_CLUSTER_FIELDS
        return (*REQUIRED_CLUSTER_FIELDS, "id") if self.outpost else REQUIRED_CLUSTER_FIELDS

    @property
    def explicit_cluster_fields(self) -> list[str]:
        return [name for name in self.required_cluster_fields if name in self.cluster]

    def missing_cluster_fields(self) -> list[str]:
        if self.implicit_cluster is not None and self.hybrid is None:
            return []
        return [name for name in self.required_cluster_fields if name not in self.cluster]

    def anchor(self) -> Span:
        """Where a finding about the merged config points: the last ``spec.cluster``
        written, else the last part."""
        for part in reversed(self.parts):
            spec = part.spec
            if spec is not None and "cluster" in spec:
                return spec.key_span("cluster")
        return self.parts[-1].span


def merge(parts: list[NodeConfigPart], implicit_cluster: str | None = None) -> MergedNodeConfig:
    merged = MergedNodeConfig(parts, implicit_cluster)
    kubelet = merged.kubelet
    latest_expression: tuple[YScalar, str] | None = None
    for index, part in enumerate(parts):
        spec = part.spec
        if spec is None:
            continue
        cluster = spec.map("cluster")
        for name in _CLUSTER_STRINGS if cluster is not None else ():
            assert cluster is not None
            value = cluster.get(name)
            if not isinstance(value, YScalar) or value.value is None:
                continue
            # mergo WithOverride: a zero value does not override an earlier one; but
            # the first part is the base, and its certificateAuthority: "" decodes to an
            # empty, non-nil []byte that passes nodeadm's nil check.
            empty_base = index == 0 and name == "certificateAuthority" and value.value == ""
            if value.value != "" or empty_base:
                merged.cluster[name] = ClusterField(name, value.text, cluster.entry_span(name), part.source)
                if name == "certificateAuthority":
                    merged.certificate_authorities.append(merged.cluster[name])
        outpost = cluster.scalar("enableOutpost") if cluster is not None else None
        if cluster is not None and outpost is not None and isinstance(outpost.value, bool):
            merged.enable_outpost = ClusterField(
                "enableOutpost", "true" if outpost.value else "false", cluster.entry_span("enableOutpost"), part.source
            )
        hybrid = spec.map("hybrid")
        if hybrid is not None:
            merged.hybrid = _merge_hybrid(merged.hybrid, spec, hybrid, part.source)
        node = spec.map("kubelet")
        if node is None:
            continue
        config = node.map("config")
        if config is not None:
            read_kubelet_config(config, kubelet, f"kubelet.config in {part.source}")
            listing = config.seq("clusterDNS")
            if listing is not None:
                merged.cluster_dns = [
                    ClusterField("clusterDNS", item.text, item.span, part.source)
                    for item in listing
                    if isinstance(item, YScalar) and item.value is not None
                ]
        flags = node.seq("flags")
        for item in flags or ():
            if isinstance(item, YScalar) and item.value is not None:
                merged.flags.append(ClusterField("flags", item.text, item.span, part.source))
                text = item.as_text()
                word = Word(text.content, 0, len(text.content), list(range(len(text.content))))
                kubelet.add_flags(kubelet_flags(split_words(word)), text, f"in kubelet.flags of {part.source}")
        expression = node.scalar("maxPodsExpression")
        if expression is not None and expression.value not in (None, ""):
            latest_expression = (expression, part.source)
    if latest_expression is not None:
        merged.max_pods_expression = max_pods_expression(*latest_expression)
    return merged


def _merge_hybrid(merged: HybridOptions | None, spec: YMap, hybrid: YMap, source: str) -> HybridOptions:
    """mergo dereferences the ssm / iamRolesAnywhere pointers and merges field by field."""
    result = merged or HybridOptions(spec.key_span("hybrid"), source)
    result.span, result.source = spec.key_span("hybrid"), source
    for key, names in (("ssm", HYBRID_SSM_FIELDS), ("iamRolesAnywhere", HYBRID_IAM_RA_FIELDS)):
        section = hybrid.map(key)
        if section is None:
            continue
        fields = (result.ssm if key == "ssm" else result.iam_roles_anywhere) or {}
        for name in names:
            value = section.scalar(name)
            if value is not None and value.value not in (None, ""):
                fields[name] = ClusterField(name, value.text, section.entry_span(name), source)
        if key == "ssm":
            result.ssm, result.ssm_span = fields, hybrid.key_span(key)
        else:
            result.iam_roles_anywhere, result.iam_roles_anywhere_span = fields, hybrid.key_span(key)
    return result


def read_kubelet_config(config: YMap, settings: KubeletSettings, source: str) -> None:
    """allowedUnsafeSysctls and maxPods of a KubeletConfiguration (or a fragment of
    one); a later call replaces lists, as JSON merging does."""
    listing = config.seq("allowedUnsafeSysctls")
    if listing is not None:
        items = [item for item in listing if isinstance(item, YScalar) and item.value is not None]
        settings.config_allowances = [
            Allowance(item.text, item.span, f"allowedUnsafeSysctls in {source}")
            for item in items
            if not is_placeholder(item.text)
        ]
        templated = [item for item in items if is_placeholder(item.text)]
        if templated:
            settings.allowances_unknown = templated[0].span  # a template's value: unknown, never quoted
    max_pods = config.scalar("maxPods")
    if max_pods is not None and max_pods.value is not None:
        value = max_pods.value if isinstance(max_pods.value, int) and not isinstance(max_pods.value, bool) else None
        settings.max_pods.append(
            MaxPodsSetting(value, max_pods.text, config.entry_span("maxPods"), f"maxPods in {source}")
        )
