"""eksctl ClusterConfig (eksctl.io/v1alpha5): the cluster and its node groups.

Each node group is read as eksctl sees it when it judges it (eksctl
``pkg/ctl/cmdutils/cmd.go`` InitializeClusterConfig): ``managedNodeGroups`` get
``SetManagedNodeGroupDefaults`` first and are then validated; ``nodeGroups`` are
validated first (``ValidateNodeGroup``) and get ``SetNodeGroupDefaults`` after. So the
default amiFamily (AmazonLinux2023) never reaches a group that sets ``ami`` without
``amiFamily``: eksctl refuses those (EKS202) and their family stays unknown. A missing
``metadata.version`` is eksctl's ``DefaultVersion`` (below); a missing instance type is
``DefaultNodeType`` (``pkg/eks/nodegroup_service.go`` Normalize).

Node groups carry their userdata as eksctl renders it (eksctl ``pkg/nodebootstrap``):
``overrideBootstrapCommand`` is a shell script on AmazonLinux2 and Ubuntu but NodeConfig
YAML on AmazonLinux2023; ``preBootstrapCommands`` are scripts; ``bottlerocket.settings``
is Bottlerocket's TOML as YAML. Positions inside those strings map back into the
ClusterConfig file.
"""

from __future__ import annotations

import re
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
    is_al2,
    is_al2023,
    is_ubuntu,
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
from ekslint.parse.templates import is_placeholder
from ekslint.parse.text import Problem, Span, Text
from ekslint.parse.yamltree import YamlLimits, YMap, YScalar, YSeq

EKSCTL_GROUP = "eksctl.io"
# Values of unmanaged nodeGroups[].ami that select an AMI rather than name one.
AMI_RESOLVERS = frozenset(("auto", "auto-ssm", "static"))

# The one Kubernetes version every rule assumes when no file and no setting states it:
# eksctl's DefaultVersion, what it resolves an absent (or "auto") metadata.version to
# (eksctl pkg/apis/eksctl.io/v1alpha5/types.go DefaultVersion = Version1_34 in release
# v0.230.0; pkg/eks/versions_manager.go ResolveClusterVersion).
DEFAULT_KUBERNETES_VERSION: tuple[int, int] = (1, 34)
DEFAULT_VERSION_SOURCE = "eksctl's default Kubernetes version"
# eksctl's DefaultNodeType (pkg/apis/eksctl.io/v1alpha5/types.go), given to a node group
# that names no instance type (pkg/eks/nodegroup_service.go Normalize).
DEFAULT_INSTANCE_TYPE = "m5.large"
# What eksctl's boot script for AmazonLinux2/Ubuntu (pkg/nodebootstrap/assets/scripts/
# bootstrap.al2.sh, bootstrap.ubuntu.sh) does with the files eksctl writes, for an
# overrideBootstrapCommand that does the same: merge /etc/eksctl/kubelet-extra.json
# (kubeletExtraConfig) into the kubelet config, and pass $KUBELET_EXTRA_ARGS (which
# bootstrap.helper.sh builds from maxPodsPerNode, labels and taints) to bootstrap.sh.
_MERGES_EXTRA_CONFIG = re.compile(r"KUBELET_EXTRA_CONFIG|kubelet-extra\.json")
_PASSES_EXTRA_ARGS = re.compile(r"\$\{?(?:KUBELET_EXTRA_ARGS|MAX_PODS)\b")


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
    # amiFamily as written (normalised; None: not written). ``group.ami_family`` is the
    # family eksctl judges the group by: this, else its default, else None (unknown).
    ami_family_written: str | None = None

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
    cluster.effective_version, cluster.version_source = _effective_version(cluster, default_version)
    outpost = obj.map("outpost")
    on_outposts = bool(outpost is not None and outpost.text("controlPlaneOutpostARN"))
    groups: list[EksctlNodeGroup] = []
    for key, managed in (("managedNodeGroups", True), ("nodeGroups", False)):
        for index, item in enumerate(obj.seq(key) or ()):
            if isinstance(item, YMap):
                groups.append(_node_group(item, f"{key}[{index}]", managed, cluster, on_outposts, limits, problems))
    return ClusterConfig(cluster, groups)


def _effective_version(cluster: Cluster, configured: tuple[int, int] | None) -> tuple[tuple[int, int] | None, str]:
    """The version eksctl runs the cluster's node groups with: metadata.version; absent,
    empty or ``auto``, eksctl's DefaultVersion (ResolveClusterVersion), unless the ekslint
    config states the cluster's version. A placeholder or other text is unknown."""
    text = (cluster.version_text or "").strip()
    if cluster.version is not None:
        return cluster.version, f"metadata.version {text}"
    if configured is not None:
        return configured, f"kubernetes-version {sysctls.format_version(configured)} in the ekslint config"
    if text.lower() in ("", "auto"):
        shown = sysctls.format_version(DEFAULT_KUBERNETES_VERSION)
        why = "metadata.version is not set" if not text else "metadata.version is auto"
        return DEFAULT_KUBERNETES_VERSION, f"{DEFAULT_VERSION_SOURCE} {shown}, as {why}"
    if text.lower() == "latest":
        shown = sysctls.format_version(sysctls.NEWEST_KNOWN_VERSION)
        return sysctls.NEWEST_KNOWN_VERSION, f"metadata.version latest (the newest version ekslint knows, {shown})"
    return None, ""


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


def _entry_name(item: YMap, key_path: str) -> tuple[str, str]:
    """How users and eksctl name the entry: its ``name``, else (none, or an unrendered
    placeholder) eksctl's own ``nodeGroups[2]``. Returns (name, path)."""
    name = item.text("name")
    if name and not is_placeholder(name):
        return name, f"{key_path.split('[', 1)[0]}[{name}]"
    return key_path, key_path


def _family(item: YMap, ami: str | None) -> tuple[str | None, str | None]:
    """amiFamily as written (normalised), and as eksctl judges the group.

    eksctl gives no default to a group that sets ``ami``: SetManagedNodeGroupDefaults
    skips it, and nodeGroups are validated before SetNodeGroupDefaults runs; both then
    refuse ``ami`` without ``amiFamily``. Otherwise the default is AmazonLinux2023."""
    text = item.text("amiFamily")
    if text and is_placeholder(text):
        return text, None  # templated: unknown
    written = normalize_family(text) if text else None
    if written is not None:
        return written, written
    return None, None if ami else DEFAULT_AMI_FAMILY


def _node_group(
    item: YMap,
    key_path: str,
    managed: bool,
    cluster: Cluster,
    on_outposts: bool,
    limits: YamlLimits,
    problems: list[Problem],
) -> EksctlNodeGroup:
    name, path = _entry_name(item, key_path)
    ami = item.text("ami")
    written_family, family = _family(item, ami)
    # eksctl tests ng.AMI != "": an empty value is no custom AMI.
    custom_ami = bool(ami) and (managed or (ami or "").lower() not in AMI_RESOLVERS)
    group = NodeGroup(
        name=name,
        origin=Origin.EKSCTL_MANAGED if managed else Origin.EKSCTL_SELF_MANAGED,
        span=item.entry_span("name") if "name" in item else item.start_span,
        file=cluster.file,
        cluster=cluster,
        ami_family=family,
        ami_family_explicit=written_family is not None,
        ami_family_span=item.entry_span("amiFamily") if written_family is not None else None,
        custom_ami=custom_ami,
        ami_span=item.entry_span("ami") if ami is not None else None,
        launch_template=isinstance(item.get("launchTemplate"), YMap),
        instance_selector=_has_instance_selector(item),
        kubernetes_version=cluster.effective_version,
    )
    _instance_types(item, group, managed, on_outposts)
    _labels_and_taints(item, group, managed, cluster)

    kubelet = KubeletSettings()
    extra = item.map("kubeletExtraConfig")
    extra_settings = KubeletSettings()
    if extra is not None:
        read_kubelet_config(extra, extra_settings, f"{path}.kubeletExtraConfig")
    per_node = item.scalar("maxPodsPerNode")
    per_node_setting: MaxPodsSetting | None = None
    if per_node is not None and per_node.value is not None:
        value = per_node.value if isinstance(per_node.value, int) and not isinstance(per_node.value, bool) else None
        per_node_setting = MaxPodsSetting(value, per_node.text, item.entry_span("maxPodsPerNode"), "maxPodsPerNode")

    userdata = UserdataModel(cluster.file, group.span, path, declared_family=family)
    override_kind: str | None = None
    written: BootstrapOverride | None = None
    for index, command in enumerate(item.seq("preBootstrapCommands") or ()):
        if isinstance(command, YScalar) and command.value is not None:
            userdata.scripts.append(read_script(command.as_text(), f"{path}.preBootstrapCommands[{index}]"))
    override = item.scalar("overrideBootstrapCommand")
    if override is not None and override.value is not None:
        source = f"{path}.overrideBootstrapCommand"
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

    _eksctl_kubelet_settings(kubelet, extra_settings, per_node_setting, managed, family, written)
    kubelet.merge(userdata.kubelet())
    if userdata.nodeconfig is not None:  # an AL2023 override: nodeadm evaluates its expression
        group.max_pods_expression = userdata.nodeconfig.max_pods_expression
    group.take_kubelet(kubelet)
    for script in userdata.scripts:
        if script.unknown_edit is not None and group.allowances_unknown is None:
            group.allowances_unknown = script.unknown_edit
    has_userdata = bool(userdata.scripts or userdata.nodeconfig or userdata.bottlerocket)
    return EksctlNodeGroup(
        group,
        path,
        managed,
        userdata if has_userdata else None,
        EntryFields(item),
        item.text("ami") if "ami" in item else None,
        written,
        override_kind,
        written_family,
    )


def _eksctl_kubelet_settings(
    kubelet: KubeletSettings,
    extra: KubeletSettings,
    per_node: MaxPodsSetting | None,
    managed: bool,
    family: str | None,
    override: BootstrapOverride | None,
) -> None:
    """What of ``kubeletExtraConfig`` and ``maxPodsPerNode`` reaches the kubelet.

    Managed node groups have no kubeletExtraConfig: eksctl never applies it. On
    AmazonLinux2 and Ubuntu nodeGroups, eksctl writes kubeletExtraConfig to
    /etc/eksctl/kubelet-extra.json and maxPodsPerNode to /etc/eksctl/kubelet.env, and
    only its own boot script merges and passes them; with overrideBootstrapCommand that
    script is not added (eksctl pkg/nodebootstrap/userdata.go linuxConfig), so they
    count only where the override does the same itself."""
    reason: str | None = None
    per_node_lost = False
    if managed:
        reason = "managed node groups have no kubeletExtraConfig, so eksctl never applies it"
    elif override is not None and (is_al2(family) or is_ubuntu(family)):
        content = override.text.content
        if not _MERGES_EXTRA_CONFIG.search(content):
            reason = (
                "with overrideBootstrapCommand, eksctl drops its own boot script, the only thing that merges "
                "kubeletExtraConfig (/etc/eksctl/kubelet-extra.json) into the kubelet config, so it never reaches "
                "the kubelet"
            )
        per_node_lost = not _PASSES_EXTRA_ARGS.search(content)
    if reason is None:
        kubelet.merge(extra)
    else:
        kubelet.ignored = [IgnoredAllowance(a, reason) for a in extra.config_allowances or []]
    if per_node is not None and not per_node_lost:
        kubelet.max_pods.append(per_node)


def _has_instance_selector(item: YMap) -> bool:
    """instanceSelector with some value set (eksctl InstanceSelector.IsZero is false)."""
    selector = item.map("instanceSelector")
    if selector is None:
        return False
    for _key, value in selector.items():
        if isinstance(value, YScalar):
            if value.value not in (None, "", 0, False):
                return True
        elif isinstance(value, (YMap, YSeq)) and len(value) > 0:
            return True
    return False


def _instance_types(item: YMap, group: NodeGroup, managed: bool, on_outposts: bool) -> None:
    single = item.scalar("instanceType")
    if single is not None and single.value is not None and single.text not in ("", "mixed"):
        group.instance_types.append(InstanceType(single.text, item.entry_span("instanceType")))
    listings: list[YSeq | None] = [item.seq("instanceTypes")]
    distribution = item.map("instancesDistribution")
    if distribution is not None:
        listings.append(distribution.seq("instanceTypes"))
    for listing in listings:
        for entry in listing or ():
            if isinstance(entry, YScalar) and entry.value is not None:
                group.instance_types.append(InstanceType(entry.text, entry.span))
    # eksctl's default (pkg/eks/nodegroup_service.go Normalize): a managed group without
    # a launch template, instanceType(s) or instanceSelector; a self-managed one without
    # an instance type, instancesDistribution or instanceSelector, off Outposts.
    named = single is not None and single.value is not None and single.text != ""
    if group.instance_types or group.instance_selector or named:
        return
    if managed and group.launch_template:
        return
    if not managed and (distribution is not None or on_outposts or item.text("outpostARN")):
        return
    group.instance_types.append(InstanceType(DEFAULT_INSTANCE_TYPE, group.span, default=True))


def _labels_and_taints(item: YMap, group: NodeGroup, managed: bool, cluster: Cluster) -> None:
    labels = item.map("labels")
    if labels is not None:
        for key, value in labels.items():
            if isinstance(value, YScalar):
                group.labels[key] = "" if value.value is None else value.text
    # Labels eksctl and EKS put on every node of the group (eksctl defaults.go
    # setDefaultNodeLabels, EKS managed node groups). An unnamed or templated name
    # gives labels whose values no file shows.
    name = item.text("name")
    if not name or is_placeholder(name) or cluster.name == "?" or is_placeholder(cluster.name):
        group.labels_complete = False
    else:
        group.labels.setdefault("alpha.eksctl.io/cluster-name", cluster.name)
        group.labels.setdefault("alpha.eksctl.io/nodegroup-name", name)
        if managed:
            group.labels.setdefault("eks.amazonaws.com/nodegroup", name)
    if managed:
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
