"""nodeadm NodeConfig (node.eks.aws/v1alpha1), merged the way nodeadm merges it.

DOMAIN.md §2: nodeadm reads every ``application/node.eks.aws`` part (or the whole
userdata when it is not multipart), merges them in order with later parts winning
(mergo WithOverride: empty values never override), appends ``kubelet.flags``, and only
then validates that ``spec.cluster`` has name, apiServerEndpoint, certificateAuthority
and cidr.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ekslint.model.nodegroup import Allowance, KubeletSettings, MaxPodsSetting
from ekslint.parse.shell import Word, kubelet_flags, split_words
from ekslint.parse.text import Span
from ekslint.parse.yamltree import YMap, YScalar

NODECONFIG_GROUP = "node.eks.aws"
REQUIRED_CLUSTER_FIELDS = ("name", "apiServerEndpoint", "certificateAuthority", "cidr")


def is_nodeconfig(obj: YMap) -> bool:
    return obj.text("kind") == "NodeConfig" and (obj.text("apiVersion") or "").startswith(NODECONFIG_GROUP + "/")


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
class MergedNodeConfig:
    parts: list[NodeConfigPart]
    # Who else supplies the cluster section, when the files do not have to:
    # "eksctl" (self-managed / custom AMI: eksctl adds its own part) or "EKS" (managed
    # node group without a custom AMI: EKS injects it).
    implicit_cluster: str | None = None
    cluster: dict[str, ClusterField] = field(default_factory=dict)
    kubelet: KubeletSettings = field(default_factory=KubeletSettings)
    max_pods_expression: tuple[str, Span] | None = None

    @property
    def explicit_cluster_fields(self) -> list[str]:
        return [name for name in REQUIRED_CLUSTER_FIELDS if name in self.cluster]

    def missing_cluster_fields(self) -> list[str]:
        if self.implicit_cluster is not None:
            return []
        return [name for name in REQUIRED_CLUSTER_FIELDS if name not in self.cluster]

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
    for part in parts:
        spec = part.spec
        if spec is None:
            continue
        cluster = spec.map("cluster")
        for name in REQUIRED_CLUSTER_FIELDS:
            value = cluster.get(name) if cluster is not None else None
            # mergo WithOverride: a zero value does not override an earlier one.
            if cluster is not None and isinstance(value, YScalar) and value.value not in (None, ""):
                merged.cluster[name] = ClusterField(name, value.text, cluster.entry_span(name), part.source)
        node = spec.map("kubelet")
        if node is None:
            continue
        config = node.map("config")
        if config is not None:
            read_kubelet_config(config, kubelet, f"kubelet.config in {part.source}")
        flags = node.seq("flags")
        for item in flags or ():
            if isinstance(item, YScalar) and item.value is not None:
                text = item.as_text()
                word = Word(text.content, 0, len(text.content), list(range(len(text.content))))
                kubelet.add_flags(kubelet_flags(split_words(word)), text, f"in kubelet.flags of {part.source}")
        expression = node.scalar("maxPodsExpression")
        if expression is not None and expression.text:
            merged.max_pods_expression = (expression.text, node.entry_span("maxPodsExpression"))
    return merged


def read_kubelet_config(config: YMap, settings: KubeletSettings, source: str) -> None:
    """allowedUnsafeSysctls and maxPods of a KubeletConfiguration (or a fragment of
    one); a later call replaces lists, as JSON merging does."""
    listing = config.seq("allowedUnsafeSysctls")
    if listing is not None:
        settings.config_allowances = [
            Allowance(item.text, item.span, f"allowedUnsafeSysctls in {source}")
            for item in listing
            if isinstance(item, YScalar) and item.value is not None
        ]
    max_pods = config.scalar("maxPods")
    if max_pods is not None and max_pods.value is not None:
        value = max_pods.value if isinstance(max_pods.value, int) and not isinstance(max_pods.value, bool) else None
        settings.max_pods.append(
            MaxPodsSetting(value, max_pods.text, config.entry_span("maxPods"), f"maxPods in {source}")
        )
