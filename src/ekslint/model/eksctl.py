"""eksctl ClusterConfig (eksctl.io/v1alpha5): the cluster and its node groups.

Node groups carry their userdata as eksctl renders it (DOMAIN.md §3, eksctl
``pkg/nodebootstrap``): ``overrideBootstrapCommand`` is a shell script on AmazonLinux2
and Ubuntu but NodeConfig YAML on AmazonLinux2023; ``preBootstrapCommands`` are
scripts; ``bottlerocket.settings`` is Bottlerocket's TOML as YAML. Positions inside
those strings map back into the ClusterConfig file.
"""

from __future__ import annotations

from dataclasses import dataclass

from ekslint.model import sysctls
from ekslint.model.bottlerocket import YamlSettings
from ekslint.model.nodeconfig import mentions_nodeconfig, merge, read_kubelet_config
from ekslint.model.nodegroup import (
    DEFAULT_AMI_FAMILY,
    Cluster,
    IgnoredAllowance,
    InstanceType,
    KubeletSettings,
    MaxPodsSetting,
    NodeGroup,
    Origin,
    is_al2023,
    normalize_family,
    parse_taint,
)
from ekslint.model.scheduling import Taint
from ekslint.model.userdata import (
    ScriptFacts,
    UserdataModel,
    looks_like_script,
    nodeconfig_parts_from_yaml,
    read_script,
)
from ekslint.parse.text import Problem, Span, Text
from ekslint.parse.yamltree import YamlLimits, YMap, YScalar, YSeq

EKSCTL_GROUP = "eksctl.io"
# Values of unmanaged nodeGroups[].ami that select an AMI rather than name one.
AMI_RESOLVERS = frozenset(("auto", "auto-ssm", "static"))


def is_cluster_config(obj: YMap) -> bool:
    return obj.text("kind") == "ClusterConfig" and (obj.text("apiVersion") or "").startswith(EKSCTL_GROUP + "/")


class EntryFields:
    """The keys of a node group entry as written: whether each holds a value, and where
    it is. eksctl tests most fields as pointers (``!= nil``): a null is not set. Read
    on demand: a position costs a walk up the document, and rules ask about few keys."""

    __slots__ = ("_item",)

    def __init__(self, item: YMap) -> None:
        self._item = item

    def __contains__(self, key: str) -> bool:
        return key in self._item

    def keys(self) -> list[str]:
        return self._item.keys()

    def is_set(self, key: str) -> bool:
        """Written with a value other than null."""
        value = self._item.get(key)
        return value is not None and not (isinstance(value, YScalar) and value.value is None)

    def has_value(self, key: str) -> bool:
        """Written with a value other than null, ``[]`` or ``{}``."""
        value = self._item.get(key)
        if value is None or (isinstance(value, YScalar) and value.value is None):
            return False
        return not (isinstance(value, (YMap, YSeq)) and len(value) == 0)

    def key_span(self, key: str) -> Span:
        """The key itself."""
        return self._item.key_span(key)

    def span(self, key: str) -> Span:
        """The key and its value, when the value is a scalar on the same line."""
        return self._item.entry_span(key)


@dataclass(slots=True)
class BootstrapOverride:
    """``overrideBootstrapCommand`` as written, and what it is."""

    text: Text  # its content, with positions in the ClusterConfig
    # A NodeConfig document (``kind: NodeConfig`` of node.eks.aws), whatever the family.
    is_nodeconfig: bool
    # Read as a script: where eksctl runs it as one (AmazonLinux2, Ubuntu), and where it
    # is a script although eksctl reads NodeConfig (AmazonLinux2023). None otherwise.
    script: ScriptFacts | None = None


@dataclass(slots=True)
class EksctlNodeGroup:
    """A node group entry with what rules need beyond the common NodeGroup shape."""

    group: NodeGroup
    path: str  # ``managedNodeGroups[ng-1]``: how eksctl and users name the entry
    managed: bool
    userdata: UserdataModel | None  # overrideBootstrapCommand / preBootstrapCommands / bottlerocket
    fields: EntryFields  # the keys of the entry as written
    ami: str | None = None  # ``ami`` as written
    override: BootstrapOverride | None = None  # set and not null
    override_kind: str | None = None  # how eksctl reads it: "nodeconfig", "script" or "invalid"

    def is_set(self, key: str) -> bool:
        """The key is written with a value other than null."""
        return self.fields.is_set(key)

    def has_value(self, key: str) -> bool:
        """The key is written with a value other than null, ``[]`` or ``{}``."""
        return self.fields.has_value(key)

    def key_span(self, key: str) -> Span:
        return self.fields.key_span(key)

    def entry_span(self, key: str) -> Span:
        return self.fields.span(key)


@dataclass(slots=True)
class ClusterConfig:
    cluster: Cluster
    node_groups: list[EksctlNodeGroup]


def cluster_config(
    obj: YMap, file: str, limits: YamlLimits, default_version: tuple[int, int] | None, problems: list[Problem]
) -> ClusterConfig:
    meta = obj.map("metadata")
    version_node = meta.scalar("version") if meta is not None else None
    version_text = version_node.text if version_node is not None and version_node.value is not None else None
    cluster = Cluster(
        name=(meta.text("name") if meta else None) or "?",
        version=sysctls.parse_version(version_text),
        version_text=version_text,
        version_span=meta.entry_span("version") if meta is not None and version_node is not None else None,
        span=obj.entry_span("kind"),
        file=file,
        linux_capacity=_linux_capacity(obj),
    )
    version = cluster.version or default_version
    groups: list[EksctlNodeGroup] = []
    for key, managed in (("managedNodeGroups", True), ("nodeGroups", False)):
        for item in obj.seq(key) or ():
            if isinstance(item, YMap):
                groups.append(_node_group(item, managed, cluster, version, limits, problems))
    return ClusterConfig(cluster, groups)


def _linux_capacity(obj: YMap) -> str | None:
    """Linux capacity for system pods that is not a node group: EKS Auto Mode, or a
    Fargate profile that takes kube-system pods (CoreDNS runs on Fargate then)."""
    auto = obj.map("autoModeConfig")
    if auto is not None and auto.value("enabled") is True:
        return "autoModeConfig.enabled"
    for profile in obj.seq("fargateProfiles") or ():
        if not isinstance(profile, YMap):
            continue
        for selector in profile.seq("selectors") or ():
            if isinstance(selector, YMap) and selector.text("namespace") == "kube-system":
                return f"Fargate profile {profile.text('name') or '?'} (kube-system)"
    return None


def _node_group(
    item: YMap,
    managed: bool,
    cluster: Cluster,
    version: tuple[int, int] | None,
    limits: YamlLimits,
    problems: list[Problem],
) -> EksctlNodeGroup:
    name = item.text("name") or "?"
    family_text = item.text("amiFamily")
    family = normalize_family(family_text) or DEFAULT_AMI_FAMILY
    ami = item.text("ami")
    # eksctl tests ng.AMI != "": an empty value is no custom AMI.
    custom_ami = bool(ami) and (managed or (ami or "").lower() not in AMI_RESOLVERS)
    group = NodeGroup(
        name=name,
        origin=Origin.EKSCTL_MANAGED if managed else Origin.EKSCTL_SELF_MANAGED,
        span=item.entry_span("name") if "name" in item else item.start_span,
        file=cluster.file,
        cluster=cluster,
        ami_family=family,
        ami_family_explicit=family_text is not None,
        ami_family_span=item.entry_span("amiFamily") if family_text is not None else None,
        custom_ami=custom_ami,
        ami_span=item.entry_span("ami") if ami is not None else None,
        launch_template=isinstance(item.get("launchTemplate"), YMap),
        instance_selector=isinstance(item.get("instanceSelector"), YMap),
        kubernetes_version=version,
    )
    _instance_types(item, group)
    _labels_and_taints(item, group, managed, cluster)

    kubelet = KubeletSettings()
    extra = item.map("kubeletExtraConfig")
    if extra is not None:
        read_kubelet_config(extra, kubelet, f"{item.path}.kubeletExtraConfig")
        if managed:  # only self-managed nodeGroups have kubeletExtraConfig (DOMAIN.md §3.4)
            kubelet.ignored = [
                IgnoredAllowance(a, "managed node groups have no kubeletExtraConfig, so eksctl never applies it")
                for a in kubelet.config_allowances or []
            ]
            kubelet.config_allowances = None
            kubelet.max_pods.clear()
    per_node = item.scalar("maxPodsPerNode")
    if per_node is not None and per_node.value is not None:
        value = per_node.value if isinstance(per_node.value, int) and not isinstance(per_node.value, bool) else None
        kubelet.max_pods.append(
            MaxPodsSetting(value, per_node.text, item.entry_span("maxPodsPerNode"), "maxPodsPerNode")
        )

    userdata = UserdataModel(cluster.file, group.span, item.path)
    override_kind: str | None = None
    written: BootstrapOverride | None = None
    for index, command in enumerate(item.seq("preBootstrapCommands") or ()):
        if isinstance(command, YScalar) and command.value is not None:
            userdata.scripts.append(read_script(command.as_text(), f"{item.path}.preBootstrapCommands[{index}]"))
    override = item.scalar("overrideBootstrapCommand")
    if override is not None and override.value is not None:
        source = f"{item.path}.overrideBootstrapCommand"
        text = override.as_text()
        written = BootstrapOverride(text, mentions_nodeconfig(text.content) and "node.eks.aws" in text.content)
        if is_al2023(family) and looks_like_script(text.content):
            # A script where eksctl expects NodeConfig YAML: eksctl refuses it (EKS205).
            override_kind = "script"
            written.script = read_script(text, source)
        elif is_al2023(family):
            parts = nodeconfig_parts_from_yaml(
                override.as_text(),
                source,
                limits,
                problems,
                require_kind=False,
                consequence=(
                    "on AmazonLinux2023 eksctl reads overrideBootstrapCommand as NodeConfig YAML, not a script, and "
                    'fails with \'unmarshalling "overrideBootstrapCommand" into "nodeadm.NodeConfig"\'. '
                    "Write the kubelet settings as a NodeConfig"
                ),
            )
            override_kind = "nodeconfig" if parts else "invalid"
            # eksctl puts its own complete cluster section first for self-managed and
            # custom-AMI groups; EKS injects it into managed groups without one.
            userdata.nodeconfig = merge(parts, implicit_cluster="eksctl" if (custom_ami or not managed) else "EKS")
        else:
            override_kind = "script"
            written.script = read_script(text, source)
            userdata.scripts.append(written.script)
    settings = item.map("bottlerocket")
    settings_map = settings.map("settings") if settings is not None else None
    if settings_map is not None:
        userdata.bottlerocket = YamlSettings(settings_map)

    kubelet.merge(userdata.kubelet())
    group.allowances = kubelet.allowances()
    group.ignored_allowances = kubelet.ignored_allowances()
    group.max_pods = kubelet.max_pods
    for key, label in kubelet.labels.items():
        group.labels.setdefault(key, label)
    group.taints.extend(t for t in kubelet.taints if t not in group.taints)
    if kubelet.labels_unknown:
        group.labels_complete = False
    for script in userdata.scripts:
        if script.unknown_edit is not None and group.allowances_unknown is None:
            group.allowances_unknown = script.unknown_edit
    has_userdata = bool(userdata.scripts or userdata.nodeconfig or userdata.bottlerocket)
    return EksctlNodeGroup(
        group,
        item.path,
        managed,
        userdata if has_userdata else None,
        EntryFields(item),
        item.text("ami") if "ami" in item else None,
        written,
        override_kind,
    )


def _instance_types(item: YMap, group: NodeGroup) -> None:
    single = item.scalar("instanceType")
    if single is not None and single.value is not None and single.text != "mixed":
        group.instance_types.append(InstanceType(single.text, item.entry_span("instanceType")))
    listings: list[YSeq | None] = [item.seq("instanceTypes")]
    distribution = item.map("instancesDistribution")
    if distribution is not None:
        listings.append(distribution.seq("instanceTypes"))
    for listing in listings:
        for entry in listing or ():
            if isinstance(entry, YScalar) and entry.value is not None:
                group.instance_types.append(InstanceType(entry.text, entry.span))


def _labels_and_taints(item: YMap, group: NodeGroup, managed: bool, cluster: Cluster) -> None:
    labels = item.map("labels")
    if labels is not None:
        for key, value in labels.items():
            if isinstance(value, YScalar):
                group.labels[key] = "" if value.value is None else value.text
    # Labels eksctl and EKS put on every node of the group (eksctl defaults.go,
    # EKS managed node groups).
    group.labels.setdefault("alpha.eksctl.io/cluster-name", cluster.name)
    group.labels.setdefault("alpha.eksctl.io/nodegroup-name", group.name)
    if managed:
        group.labels.setdefault("eks.amazonaws.com/nodegroup", group.name)
        group.labels.setdefault("eks.amazonaws.com/capacityType", "SPOT" if item.value("spot") is True else "ON_DEMAND")
    taints = item.get("taints")
    if isinstance(taints, YSeq):
        for entry in taints:
            if isinstance(entry, YMap) and entry.text("key"):
                group.taints.append(
                    Taint(entry.text("key") or "", entry.text("value") or "", entry.text("effect") or "")
                )
    elif isinstance(taints, YMap):  # legacy form: key: "value:Effect"
        for key, value in taints.items():
            if isinstance(value, YScalar):
                taint = parse_taint(f"{key}={value.text}" if ":" in value.text else f"{key}:{value.text}")
                if taint is not None:
                    group.taints.append(taint)
