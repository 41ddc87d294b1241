"""nodeadm NodeConfig (node.eks.aws/v1alpha1), merged the way nodeadm merges it.

DOMAIN.md §2: nodeadm reads every ``application/node.eks.aws`` part (or the whole
userdata when it is not multipart), merges them in order with later parts winning
(mergo WithOverride: empty values never override), appends ``kubelet.flags``, and only
then validates that ``spec.cluster`` has name, apiServerEndpoint, certificateAuthority
and cidr.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from ekslint.model.nodegroup import Allowance, KubeletSettings, MaxPodsSetting
from ekslint.parse import cel
from ekslint.parse.shell import Word, kubelet_flags, split_words
from ekslint.parse.templates import is_placeholder
from ekslint.parse.text import Span, Text
from ekslint.parse.yamltree import YMap, YScalar

NODECONFIG_GROUP = "node.eks.aws"
REQUIRED_CLUSTER_FIELDS = ("name", "apiServerEndpoint", "certificateAuthority", "cidr")


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
class MaxPodsExpression:
    """``spec.kubelet.maxPodsExpression`` as nodeadm merges it (the last part that sets
    it wins) and what CEL makes of it: its result type, or why it does not compile.
    A templated value is not compiled."""

    expression: str
    span: Span  # the value
    source: str
    text: Text  # the value with the positions of its characters
    templated: bool = False
    result: cel.Result | None = None
    error: cel.CelError | None = None

    def error_span(self) -> Span:
        """Where the compile error is: inside the value when its characters map one to
        one to the file, else the whole value."""
        if self.error is None or self.text.content != self.expression:
            return self.span
        return self.text.span_of(self.error.start, max(self.error.end, self.error.start + 1))


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
    latest_expression: tuple[YScalar, str] | None = None
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
                if name == "certificateAuthority":
                    merged.certificate_authorities.append(merged.cluster[name])
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
                text = item.as_text()
                word = Word(text.content, 0, len(text.content), list(range(len(text.content))))
                kubelet.add_flags(kubelet_flags(split_words(word)), text, f"in kubelet.flags of {part.source}")
        expression = node.scalar("maxPodsExpression")
        if expression is not None and expression.value not in (None, ""):
            latest_expression = (expression, part.source)
    if latest_expression is not None:
        merged.max_pods_expression = _max_pods_expression(*latest_expression)
    return merged


def _max_pods_expression(scalar: YScalar, source: str) -> MaxPodsExpression:
    found = MaxPodsExpression(scalar.text, scalar.span, source, scalar.as_text(), is_placeholder(scalar.text))
    if not found.templated:
        try:
            found.result = cel.check(found.expression)
        except cel.CelError as err:
            found.error = err
    return found


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
