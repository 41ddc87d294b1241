"""Node groups: what the kubelet on a group of nodes will allow and how pods reach it.

A node group comes from an eksctl ``managedNodeGroups``/``nodeGroups`` entry, from a
standalone userdata file (MIME, bootstrap.sh script, NodeConfig, Bottlerocket TOML), a
KubeletConfiguration, a CloudFormation template, or ekslint's own config for node
groups defined elsewhere (Karpenter, Terraform). Whatever the source, rules see the same shape.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from enum import Enum

from ekslint.fastpickle import fast_pickle
from ekslint.model import sysctls
from ekslint.model.maxpods import MaxPodsExpression
from ekslint.model.scheduling import Match, NodeRequirements, Requirement, Taint
from ekslint.parse.numbers import OutOfRange, decimal_int32
from ekslint.parse.shell import Flag, Word, split_list
from ekslint.parse.templates import is_placeholder
from ekslint.parse.text import Span, Text

# eksctl SupportedAMIFamilies (DOMAIN.md §3.1); matched case-insensitively.
AMI_FAMILIES = (
    "AmazonLinux2023",
    "AmazonLinux2",
    "UbuntuPro2604",
    "Ubuntu2604",
    "UbuntuPro2404",
    "Ubuntu2404",
    "UbuntuPro2204",
    "Ubuntu2204",
    "UbuntuPro2004",
    "Ubuntu2004",
    "Bottlerocket",
    "BottlerocketFips",
    "WindowsServer2019CoreContainer",
    "WindowsServer2019FullContainer",
    "WindowsServer2022CoreContainer",
    "WindowsServer2022FullContainer",
    "WindowsServer2025CoreContainer",
    "WindowsServer2025FullContainer",
)
_FAMILY_BY_LOWER = {f.lower(): f for f in AMI_FAMILIES}
DEFAULT_AMI_FAMILY = "AmazonLinux2023"


def normalize_family(value: str | None) -> str | None:
    if value is None:
        return None
    return _FAMILY_BY_LOWER.get(value.lower(), value)


def is_al2023(family: str | None) -> bool:
    return family == "AmazonLinux2023"


def is_al2(family: str | None) -> bool:
    return family == "AmazonLinux2"


def is_bottlerocket(family: str | None) -> bool:
    return bool(family) and family.startswith("Bottlerocket")  # type: ignore[union-attr]


def is_windows(family: str | None) -> bool:
    return bool(family) and family.lower().startswith("windows")  # type: ignore[union-attr]


def is_ubuntu(family: str | None) -> bool:
    return bool(family) and family.lower().startswith("ubuntu")  # type: ignore[union-attr]


class Origin(Enum):
    EKSCTL_MANAGED = "eksctl managed node group"
    EKSCTL_SELF_MANAGED = "eksctl self-managed node group"
    USERDATA = "userdata"
    NODECONFIG = "NodeConfig"
    BOTTLEROCKET = "Bottlerocket settings"
    KUBELET_CONFIG = "KubeletConfiguration"
    CONFIG = "ekslint config"
    TERRAFORM = "Terraform"
    CLOUDFORMATION = "CloudFormation"
    KARPENTER = "Karpenter NodePool"
    AUTO_MODE = "EKS Auto Mode NodePool"
    # An EC2NodeClass (or AWSNodeTemplate) that no NodePool among the files uses: some
    # pool elsewhere does, with labels and instance types no file shows.
    KARPENTER_NODE_CLASS = "Karpenter node class (no NodePool read)"


@fast_pickle
@dataclass(frozen=True, slots=True)
class Allowance:
    """One entry of the kubelet's allowed unsafe sysctls (a name or a ``prefix*``)."""

    pattern: str
    span: Span
    source: str  # how it was set, e.g. "--allowed-unsafe-sysctls in overrideBootstrapCommand"

    def allows(self, name: str) -> bool:
        return sysctls.pattern_matches(self.pattern, name)


@fast_pickle
@dataclass(frozen=True, slots=True)
class IgnoredAllowance:
    """An allowance that is written down but never reaches the kubelet."""

    allowance: Allowance
    reason: str


@fast_pickle
@dataclass(frozen=True, slots=True)
class MaxPodsSetting:
    value: int | None  # None when not a literal number
    raw: str
    span: Span
    source: str
    # A --max-pods flag whose number does not fit the kubelet's int32: it refuses it.
    out_of_range: bool = False


@fast_pickle
@dataclass(frozen=True, slots=True)
class InstanceType:
    name: str
    span: Span
    # Not written: the type eksctl gives a node group that names none (``span`` is the group's).
    default: bool = False
    # The Default of this CloudFormation Parameter (``!Ref NodeInstanceType``): what a
    # stack created without that parameter runs; ``span`` is the Default's value.
    parameter: str | None = None

    def describe(self) -> str:
        """The type as messages name it: a Parameter's Default says so."""
        if self.parameter is None:
            return self.name
        return f"{self.name} (the Default of Parameter {self.parameter})"


# Labels the kubelet, the cloud provider or EKS set on every node with values no
# configuration file shows: a selector on them may or may not match.
_UNKNOWABLE_LABEL_PREFIXES = (
    "kubernetes.io/hostname",
    "topology.kubernetes.io/",
    "failure-domain.beta.kubernetes.io/",
    "topology.k8s.aws/",
    "node.kubernetes.io/instance-type",
    "beta.kubernetes.io/instance-type",
    "kubernetes.io/arch",
    "beta.kubernetes.io/arch",
    "k8s.io/cloud-provider-aws",
    "topology.ebs.csi.aws.com/",
    "node.kubernetes.io/",
    "eks.amazonaws.com/nodegroup-image",
    "eks.amazonaws.com/sourceLaunchTemplate",
    "node-role.kubernetes.io/",
    "vpc.amazonaws.com/",
)


def unknowable_label(key: str) -> bool:
    return key.startswith(_UNKNOWABLE_LABEL_PREFIXES)


@fast_pickle
@dataclass(slots=True)
class Cluster:
    """The cluster a node group belongs to, as far as the files say."""

    name: str
    version: tuple[int, int] | None
    version_text: str | None
    version_span: Span | None
    span: Span
    file: str
    # Where Linux system pods (CoreDNS) can run besides node groups: eksctl
    # ``autoModeConfig.enabled`` or a Fargate profile for kube-system (None: nowhere).
    linux_capacity: str | None = None
    # The version its node groups run (``version``, else the ekslint config's, else
    # eksctl's default) and where that comes from, for messages; None: unknown.
    effective_version: tuple[int, int] | None = None
    version_source: str = ""


@fast_pickle
@dataclass(slots=True)
class NodeGroup:
    name: str
    origin: Origin
    span: Span
    file: str
    cluster: Cluster | None = None
    ami_family: str | None = None  # normalised; None when unknown
    ami_family_explicit: bool = False
    ami_family_span: Span | None = None
    custom_ami: bool | None = None  # None: unknown
    ami_span: Span | None = None
    launch_template: bool = False
    # An EKS managed node group (AWS::EKS::Nodegroup): EKS writes its bootstrap and, on
    # its own AMI, caps maxPods (eksctl's managed groups: Origin.EKSCTL_MANAGED).
    eks_managed: bool = False
    instance_types: list[InstanceType] = field(default_factory=list)
    instance_selector: bool = False
    labels: dict[str, str] = field(default_factory=dict)
    labels_complete: bool = True  # False: other labels may exist that no file shows
    taints: list[Taint] = field(default_factory=list)
    allowances: list[Allowance] = field(default_factory=list)
    ignored_allowances: list[IgnoredAllowance] = field(default_factory=list)
    # A script changes the kubelet's sysctl allowance in a way ekslint cannot read.
    allowances_unknown: Span | None = None
    max_pods: list[MaxPodsSetting] = field(default_factory=list)
    kubernetes_version: tuple[int, int] | None = None  # from the cluster or the config
    # nodeadm's spec.kubelet.maxPodsExpression (AL2023), evaluated per instance type.
    max_pods_expression: MaxPodsExpression | None = None
    # Karpenter and Auto Mode NodePools: the values a label may take on the pool's nodes
    # (its ``requirements``; None: some value no file shows), the prefixes of labels the
    # provisioner sets with values no file shows, the requirements that bound the
    # instance types it may launch (None: the types are listed, or not a NodePool), and
    # the node class it references (``group/name``) until that is joined in.
    label_options: dict[str, tuple[str, ...] | None] = field(default_factory=dict)
    # The NotIn/Gt/Lt requirements on a label whose option is None: its value meets them.
    label_bounds: dict[str, tuple[Requirement, ...]] = field(default_factory=dict)
    unknown_label_prefixes: tuple[str, ...] = ()
    instance_requirements: tuple[Requirement, ...] | None = None
    node_class: str | None = None
    _node_labels: dict[str, str] | None = field(default=None, init=False, repr=False, compare=False)

    @property
    def windows(self) -> bool:
        return self.ami_family is not None and is_windows(self.ami_family)

    def describe(self) -> str:
        return f"{self.name} ({self.span.file}:{self.span.line})"

    def os_label(self) -> str | None:
        if self.ami_family is None:
            return None
        return "windows" if self.windows else "linux"

    def node_labels(self) -> dict[str, str]:
        """The labels a node of this group has, as far as ekslint knows (do not
        modify: cached once the model is complete)."""
        if self._node_labels is None:
            self._node_labels = self._find_node_labels()
        return self._node_labels

    def _find_node_labels(self) -> dict[str, str]:
        labels = dict(self.labels)
        os_name = self.os_label()
        if os_name:
            labels.setdefault("kubernetes.io/os", os_name)
            labels.setdefault("beta.kubernetes.io/os", os_name)
        if len(self.instance_types) == 1 and self.instance_types[0].parameter is None:
            labels.setdefault("node.kubernetes.io/instance-type", self.instance_types[0].name)
        return labels

    def accepts(self, requirements: NodeRequirements) -> tuple[Match, str]:
        """Whether a pod with these scheduling requirements can run here, and why not."""
        if requirements.unconstrained:
            match = Match.YES  # most pods: no selector to match the labels against
        else:
            match = requirements.label_match(self.node_labels(), self.unknowable, self.label_options, self.label_bounds)
            if match is Match.NO:
                return match, "its nodeSelector/node affinity does not match the group's labels"
        blocking = requirements.tolerates_all(self.taints)
        if blocking is not None:
            return Match.NO, f"it does not tolerate the taint {blocking}"
        return match, ""

    def unknowable(self, key: str) -> bool:
        """Whether the nodes may carry label ``key`` with a value no file shows."""
        if not self.labels_complete:
            return True
        return unknowable_label(key) or (
            bool(self.unknown_label_prefixes) and key.startswith(self.unknown_label_prefixes)
        )

    def label_view(self, key: str) -> tuple[object, ...]:
        """All that decides how label ``key`` matches on this group's nodes."""
        return (
            self.node_labels().get(key),
            self.label_options.get(key, ()),
            self.label_bounds.get(key, ()),
            self.unknowable(key),
        )

    @property
    def plainly_labelled(self) -> bool:
        """Its labels are all known and each has one value (indexable by label)."""
        return self.labels_complete and not self.label_options and not self.unknown_label_prefixes

    def allowance_for(self, name: str) -> Allowance | None:
        for allowance in self.allowances:
            if allowance.allows(name):
                return allowance
        return None

    def ignored_allowance_for(self, name: str) -> IgnoredAllowance | None:
        for ignored in self.ignored_allowances:
            if ignored.allowance.allows(name):
                return ignored
        return None

    def take_kubelet(self, kubelet: KubeletSettings) -> None:
        """What the kubelet's merged flags and config set on the group's nodes: the
        allowed unsafe sysctls, max pods, node labels and taints (an allowance already
        known to be unknown keeps its reason)."""
        self.allowances = kubelet.allowances()
        self.ignored_allowances = kubelet.ignored_allowances()
        if kubelet.allowances_unknown is not None and self.allowances_unknown is None:
            self.allowances_unknown = kubelet.allowances_unknown
        self.max_pods = kubelet.max_pods
        for key, label in kubelet.labels.items():
            self.labels.setdefault(key, label)
        self.taints.extend(t for t in kubelet.taints if t not in self.taints)
        if kubelet.labels_unknown:
            self.labels_complete = False


# -- kubelet settings from their many forms ----------------------------------------------


@dataclass(slots=True)
class KubeletSettings:
    """What one configuration source says about the kubelet. Flags override the
    config file (kubelet precedence), so they are kept apart until resolved."""

    config_allowances: list[Allowance] | None = None  # None: not set by config
    flag_allowances: list[Allowance] | None = None
    max_pods: list[MaxPodsSetting] = field(default_factory=list)
    labels: dict[str, str] = field(default_factory=dict)
    labels_unknown: bool = False
    # An allowed-sysctls entry only a template's rendering knows (its place).
    allowances_unknown: Span | None = None
    taints: list[Taint] = field(default_factory=list)
    # Allowances written somewhere that never reach the kubelet, with the reason.
    ignored: list[IgnoredAllowance] = field(default_factory=list)

    def allowances(self) -> list[Allowance]:
        if self.flag_allowances is not None:
            return self.flag_allowances
        return self.config_allowances or []

    def ignored_allowances(self) -> list[IgnoredAllowance]:
        shadowed: list[IgnoredAllowance] = []
        if self.flag_allowances is not None and self.config_allowances:
            first_flag = self.flag_allowances[0].span if self.flag_allowances else None
            where = f" at {first_flag.file}:{first_flag.line}" if first_flag else ""
            shadowed = [
                IgnoredAllowance(a, f"the kubelet's --allowed-unsafe-sysctls flag{where} replaces this list")
                for a in self.config_allowances
            ]
        return self.ignored + shadowed

    def merge(self, later: KubeletSettings) -> None:
        """Fold a later source in: its config replaces lists, its flags add up."""
        if later.config_allowances is not None:
            self.config_allowances = later.config_allowances
        if later.flag_allowances is not None:
            self.flag_allowances = (self.flag_allowances or []) + later.flag_allowances
        self.max_pods.extend(later.max_pods)
        self.labels.update(later.labels)
        self.labels_unknown |= later.labels_unknown
        self.allowances_unknown = self.allowances_unknown or later.allowances_unknown
        self.taints.extend(later.taints)
        self.ignored.extend(later.ignored)

    def add_ignored_flags(self, flags: list[Flag], text: Text, source: str, reason: str) -> None:
        """Flags written where the kubelet never gets them (kept to explain findings)."""
        self.ignored.extend(IgnoredAllowance(a, reason) for a in allowances_in_flags(flags, text, source))

    def add_flags(self, flags: list[Flag], text: Text, source: str) -> None:
        for flag in flags:
            value = flag.value
            if value is None:
                continue
            if flag.name == "allowed-unsafe-sysctls":
                self.flag_allowances = (self.flag_allowances or []) + allowances_in_flags([flag], text, source)
                # An item only a shell expansion or a template render knows: which sysctls
                # the kubelet allows is unknown (never "none").
                unknowable = [item for item in split_list(value) if item.unknown or is_placeholder(item.text)]
                if value.unknown and not unknowable:
                    unknowable = [value]
                if unknowable and self.allowances_unknown is None:
                    self.allowances_unknown = word_span(text, unknowable[0])
            elif flag.name == "max-pods":
                parsed = decimal_int32(value.text)
                number = parsed if isinstance(parsed, int) else None
                self.max_pods.append(
                    MaxPodsSetting(
                        number,
                        value.text,
                        word_span(text, value),
                        f"--max-pods {source}",
                        out_of_range=isinstance(parsed, OutOfRange),
                    )
                )
            elif flag.name == "node-labels":
                if value.unknown:
                    self.labels_unknown = True
                for item in split_list(value):
                    key, _, label_value = item.text.partition("=")
                    if item.unknown or is_placeholder(item.text):
                        self.labels_unknown = True
                    elif key:
                        self.labels[key] = label_value
            elif flag.name == "register-with-taints":
                for item in split_list(value):
                    taint = parse_taint(item.text)
                    if taint is not None:
                        self.taints.append(taint)


def allowances_in_flags(flags: list[Flag], text: Text, source: str) -> list[Allowance]:
    return [
        Allowance(item.text, word_span(text, item), f"--allowed-unsafe-sysctls {source}")
        for flag in flags
        if flag.name == "allowed-unsafe-sysctls" and flag.value is not None
        for item in split_list(flag.value)
        # A template placeholder (Terraform ${...} in single quotes, which the shell
        # keeps but templatefile/heredoc rendering replaces): only the render knows it.
        if not item.unknown and not is_placeholder(item.text)
    ]


def word_span(text: Text, word: Word) -> Span:
    return text.span_of(word.start, word.end)


_TAINT = re.compile(r"([^=:]+)(?:=([^:]*))?:(NoSchedule|PreferNoSchedule|NoExecute)$")


def parse_taint(text: str) -> Taint | None:
    """``key=value:Effect`` or ``key:Effect`` (kubelet --register-with-taints)."""
    m = _TAINT.fullmatch(text.strip())
    if m is None:
        return None
    return Taint(m.group(1), m.group(2) or "", m.group(3))


# A script that edits the kubelet config to allow sysctls (jq, sed, echo into JSON).
ALLOWANCE_EDIT = re.compile(r"allowedUnsafeSysctls|allowed-unsafe-sysctls")
# Up to the list's "[": the list runs to the next "]", found with one shared forward
# scan (a pattern matched at each occurrence would rescan to the end every time).
_EDIT_HEAD = re.compile(r"allowedUnsafeSysctls\W{0,4}[:=]\s*\[")
_QUOTED = re.compile(r"\\?[\"']([^\"'\\]+)\\?[\"']")


def allowances_in_script_edit(
    text: Text, source: str, handled: list[tuple[int, int]]
) -> tuple[list[Allowance], Span | None]:
    """Allowances a script writes into the kubelet config with jq/sed/echo, outside the
    bootstrap.sh flags already read (``handled`` offset ranges). Returns the entries
    it could read, and the span of an edit it could not read (or None)."""
    found: list[Allowance] = []
    unreadable: Span | None = None
    content = text.content
    close: int | None = -1  # the "]" after the last list start seen (None: there is none)
    read_to = 0  # the end of the last list read: a mention inside it is part of it
    for m in ALLOWANCE_EDIT.finditer(content):
        if m.start() < read_to or any(start <= m.start() < end for start, end in handled):
            continue
        head = _EDIT_HEAD.match(content, m.start())
        if head is not None and close is not None and close < head.end():
            found_close = content.find("]", head.end())
            close = found_close if found_close != -1 else None
        if head is None or close is None:
            unreadable = unreadable or text.span_of(m.start(), m.end())
            continue
        read_to = close
        for q in _QUOTED.finditer(content, head.end(), close):
            found.append(
                Allowance(
                    q.group(1),
                    text.span_of(q.start(1), q.end(1)),
                    f"allowedUnsafeSysctls written by {source}",
                )
            )
    return found, unreadable
