"""Karpenter and EKS Auto Mode node pools as node groups.

A Karpenter ``NodePool`` (``karpenter.sh/v1``, ``v1beta1``; the ``v1alpha5``
``Provisioner``) says where its nodes may go (template labels, taints and
``requirements``) and names its node class (``spec.template.spec.nodeClassRef``). The
``EC2NodeClass`` (``karpenter.k8s.aws/v1``, ``v1beta1``; the ``v1alpha5``
``AWSNodeTemplate``) says what boots: the AMI family, ``userData`` and (v1) the
kubelet settings. The node group rules read is the pool joined with its class. A
pool and its class are often in different files: each file's facts hold its pools
as node groups (joined here with the classes of the same file) and its classes as
``NodeClass`` records; the project joins what is left by class name, once, with a
dictionary lookup per pool (``join``).

Karpenter's merging of ``userData`` (aws/karpenter-provider-aws
``pkg/providers/amifamily/bootstrap/``):

- AL2023 (``nodeadm.go``): the user's MIME parts (or the whole userData as one
  NodeConfig or shell part) come first and Karpenter's own NodeConfig last, with the
  cluster name, endpoint, CA and CIDR and ``kubelet.config`` from ``spec.kubelet``.
  nodeadm merges later parts over earlier ones, so the cluster fields are always
  complete and Karpenter's kubelet values win over the user's (the order since
  "consistent userData override ordering", karpenter-provider-aws #6664).
- AL2 (``eksbootstrap.go``): the user's parts, then Karpenter's bootstrap.sh script
  (``--use-max-pods false --kubelet-extra-args '--max-pods=N ...'`` from
  ``spec.kubelet``).
- Bottlerocket (``bottlerocket.go``): the user's TOML with Karpenter's settings set
  over it (cluster name, endpoint, CA, cluster DNS, max pods, labels, taints).
- Custom (``custom.go``): the userData as written, nothing added: it must be complete.
- Windows (``windows.go``): PowerShell, not read by ekslint.

The MIME parsers are Go's ``mime/multipart`` (``mime/mime.go``, ``eksbootstrap.go``):
a part without its closing boundary fails the read, and Karpenter launches no node.

EKS Auto Mode (``eks.amazonaws.com/v1`` ``NodeClass``, NodePools whose
``nodeClassRef.group`` is ``eks.amazonaws.com``) has no userdata and no kubelet
settings; its pods are capped at 110 per node (EKS user guide, "choosing an instance
type").
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

from ekslint.fastpickle import fast_pickle
from ekslint.model.maxpods import MaxPodsExpression
from ekslint.model.nodeconfig import read_kubelet_config
from ekslint.model.nodegroup import (
    Allowance,
    IgnoredAllowance,
    InstanceType,
    KubeletSettings,
    MaxPodsSetting,
    NodeGroup,
    Origin,
    is_al2,
    is_al2023,
    is_windows,
)
from ekslint.model.scheduling import TAINT_EFFECT_NAMES, Requirement, Taint, within_bounds
from ekslint.model.userdata import UserdataModel, embedded_userdata
from ekslint.parse.sources import ReadLimits
from ekslint.parse.templates import is_placeholder
from ekslint.parse.text import Problem, Span
from ekslint.parse.yamltree import YMap, YScalar

KARPENTER_GROUP = "karpenter.sh"
NODECLASS_GROUP = "karpenter.k8s.aws"
AUTO_MODE_GROUP = "eks.amazonaws.com"
POOL_KINDS = ("NodePool", "Provisioner")
CLASS_KINDS = ("EC2NodeClass", "AWSNodeTemplate")
# Karpenter's amiFamily values and alias families (pkg/apis/v1/ec2nodeclass.go), as
# the AMI families ekslint's rules know (eksctl's names).
_FAMILIES = {
    "al2": "AmazonLinux2",
    "al2023": "AmazonLinux2023",
    "bottlerocket": "Bottlerocket",
    "windows2019": "WindowsServer2019CoreContainer",
    "windows2022": "WindowsServer2022CoreContainer",
    "windows2025": "WindowsServer2025CoreContainer",
    "ubuntu": "Ubuntu2204",  # v1beta1 only
}
CUSTOM = "custom"
# Labels Karpenter and Auto Mode put on every node with values that depend on the
# instance it launched (the well-known labels of pkg/apis/v1/labels.go and
# sigs.k8s.io/karpenter pkg/apis/v1/labels.go).
_KARPENTER_LABEL_PREFIXES = ("karpenter.sh/", "karpenter.k8s.aws/")
_AUTO_MODE_LABEL_PREFIXES = ("karpenter.sh/", "eks.amazonaws.com/")


def group_of(obj: YMap) -> str:
    return (obj.text("apiVersion") or "").partition("/")[0]


def pool_version(obj: YMap) -> str:
    return (obj.text("apiVersion") or "").partition("/")[2]


def is_pool(obj: YMap, kind: str) -> bool:
    return kind in POOL_KINDS and group_of(obj) == KARPENTER_GROUP


def is_node_class(obj: YMap, kind: str) -> bool:
    group = group_of(obj)
    return (kind in CLASS_KINDS and group == NODECLASS_GROUP) or (kind == "NodeClass" and group == AUTO_MODE_GROUP)


@fast_pickle
@dataclass(slots=True)
class NodeClass:
    """What an EC2NodeClass (or Auto Mode NodeClass) gives the pools that use it."""

    key: str  # "<group>/<name>", as a pool's reference is keyed
    name: str
    span: Span
    file: str
    auto_mode: bool = False
    ami_family: str | None = None
    ami_family_span: Span | None = None
    custom_ami: bool | None = None
    allowances: list[Allowance] = field(default_factory=list)
    ignored_allowances: list[IgnoredAllowance] = field(default_factory=list)
    allowances_unknown: Span | None = None
    max_pods: list[MaxPodsSetting] = field(default_factory=list)
    max_pods_expression: MaxPodsExpression | None = None
    labels: dict[str, str] = field(default_factory=dict)
    taints: list[Taint] = field(default_factory=list)
    used: bool = False  # some pool of the same file references it


@dataclass(slots=True)
class KarpenterFacts:
    node_classes: list[NodeClass] = field(default_factory=list)
    pools: list[NodeGroup] = field(default_factory=list)
    userdata: list[UserdataModel] = field(default_factory=list)


def _family(obj: YMap, spec: YMap) -> tuple[str | None, Span | None, bool | None, str]:
    """(family, where, custom AMI) from ``amiSelectorTerms`` aliases or ``amiFamily``;
    amiFamily wins (``EC2NodeClass.AMIFamily()``). v1beta1 and v1alpha5 default to AL2."""
    if "launchTemplate" in spec and pool_version(obj) in ("v1alpha5", "v1alpha1"):
        # v1alpha5/v1alpha1 ``launchTemplate``: Karpenter launches from that template,
        # whose AMI and userdata no file here shows (pkg/apis/v1alpha1/provider.go
        # ``LaunchTemplateName``, removed in v1beta1).
        return None, spec.entry_span("launchTemplate"), None, "launchTemplate"
    terms = spec.seq("amiSelectorTerms")
    alias_family: str | None = None
    alias_span: Span | None = None
    alias_text = ""
    selected = False
    for term in terms or ():
        if not isinstance(term, YMap):
            continue
        alias = term.scalar("alias")
        if alias is not None and isinstance(alias.value, str):
            alias_family, alias_span = alias.text.partition("@")[0].lower(), term.entry_span("alias")
            alias_text = alias.text
        elif any(k in term for k in ("id", "name", "tags", "ssmParameter")):
            selected = True
    declared = spec.scalar("amiFamily")
    if declared is not None and isinstance(declared.value, str):
        value = declared.text.lower()
        how = f"amiFamily {declared.text}"
        if value == CUSTOM:
            return None, spec.entry_span("amiFamily"), True, how
        return _FAMILIES.get(value), spec.entry_span("amiFamily"), selected or bool(spec.map("amiSelector")), how
    if alias_family is not None:
        return _FAMILIES.get(alias_family), alias_span, False, f"alias {alias_text}"
    if (obj.text("apiVersion") or "").endswith("/v1"):
        return None, None, selected or None, ""  # v1 requires an alias or amiFamily
    # v1beta1 / v1alpha5 default to AL2.
    return "AmazonLinux2", None, selected or bool(spec.map("amiSelector")), "the default amiFamily AL2"


def node_class(
    obj: YMap, kind: str, limits: ReadLimits, problems: list[Problem]
) -> tuple[NodeClass, UserdataModel | None]:
    meta = obj.map("metadata")
    name = (meta.text("name") if meta is not None else None) or ""
    group = group_of(obj)
    spec = obj.map("spec")
    where = meta.entry_span("name") if meta is not None and "name" in meta else obj.entry_span("kind")
    result = NodeClass(f"{group}/{name}", name, where, where.file, auto_mode=group == AUTO_MODE_GROUP)
    if result.auto_mode or spec is None:
        return result, None
    family, family_span, custom, how = _family(obj, spec)
    result.ami_family, result.ami_family_span, result.custom_ami = family, family_span, custom
    if how == "launchTemplate":
        # Karpenter refuses userData beside a launch template, and the template's own
        # userdata (which may pass --allowed-unsafe-sysctls) is in no file here.
        result.allowances_unknown = family_span
        return result, None
    generated = not (custom and family is None)  # amiFamily Custom: Karpenter adds nothing
    label = f"userData of {kind} {name}"
    userdata: UserdataModel | None = None
    raw = spec.scalar("userData")
    if raw is not None and isinstance(raw.value, str) and not is_windows(family):
        before = len(problems)
        text = raw.as_text()
        userdata = embedded_userdata(text, label, limits, problems)
        if generated and (is_al2(family) or is_al2023(family)):
            read = (_karpenter_reads_mime(p, label, text.content) for p in problems[before:])
            problems[before:] = [p for p in read if p is not None]
    kubelet = KubeletSettings()
    if userdata is not None:
        userdata.declared_family = family
        userdata.declared_by = f"{kind} {name}" + (f" ({how})" if how else "")
        userdata.must_be_complete = not generated
        if userdata.nodeconfig is not None and generated:
            userdata.nodeconfig.implicit_cluster = "Karpenter"
        if is_al2(family) and generated:
            # Karpenter appends its own bootstrap.sh call (eksbootstrap.go), and that run
            # rewrites the kubelet's arguments: a call in the userData does not count.
            userdata.bootstrapped_after = "Karpenter"
            for script in userdata.scripts:
                kubelet.merge(script.settings_without_bootstrap(_BOOTSTRAPPED_AGAIN))
        else:
            kubelet.merge(userdata.kubelet())
        result.max_pods_expression = userdata.nodeconfig.max_pods_expression if userdata.nodeconfig else None
        for script in userdata.scripts:
            result.allowances_unknown = result.allowances_unknown or script.unknown_edit
        result.labels.update(kubelet.labels)
    # spec.kubelet (v1; v1alpha5 AWSNodeTemplate has none): Karpenter's own settings
    # come after the user's and win (its NodeConfig part is last, its bootstrap.sh
    # flags and Bottlerocket settings are set over the user's).
    config = spec.map("kubelet")
    if config is not None and generated:
        _karpenter_kubelet(config, kubelet, f"spec.kubelet of {kind} {name}")
    result.allowances = kubelet.allowances()
    result.ignored_allowances = kubelet.ignored_allowances()
    result.max_pods = kubelet.max_pods
    result.taints = kubelet.taints
    return result, userdata


_UNCLOSED = "multipart userdata has no closing `"


def _karpenter_reads_mime(problem: Problem, label: str, content: str) -> Problem | None:
    """Karpenter parses a MIME userData itself before anything boots (Go mime/multipart
    in ``bootstrap/mime/mime.go`` and ``eksbootstrap.go``): a last part that reaches the
    end without a boundary fails that read (``unexpected EOF``), and no launch template
    is built. A text whose last line is the ``--B`` delimiter without its newline is
    read whole: NextPart wraps the io.EOF of that line, and ``NewArchive`` stops on
    ``errors.Is(err, io.EOF)`` (the userData of Karpenter's e2e suites,
    test/suites/scheduling/testdata/hugepage_userdata_input.sh, ends so); None then."""
    if not problem.message.startswith(_UNCLOSED):
        return problem
    close = problem.message[len(_UNCLOSED) :].partition("`")[0]
    if content.rpartition("\n")[2].rstrip(" \t\r") == close[:-2]:
        return None
    return Problem(
        problem.span,
        f"{label}: the multipart userdata has no closing `{close}` line; Karpenter merges it with Go's "
        "mime/multipart, which fails with `unexpected EOF`, so it builds no launch template and launches no node "
        f"from this class. End the last part with `{close}`",
    )


_BOOTSTRAPPED_AGAIN = (
    "Karpenter runs /etc/eks/bootstrap.sh itself after this userData (amiFamily AL2), and its run rewrites the "
    "kubelet's arguments"
)


def _karpenter_kubelet(config: YMap, kubelet: KubeletSettings, source: str) -> None:
    own = KubeletSettings()
    read_kubelet_config(config, own, source)
    if own.max_pods:
        kubelet.max_pods = own.max_pods  # Karpenter's maxPods replaces the user's
    if own.config_allowances is not None:
        kubelet.config_allowances = own.config_allowances


def _taints(spec: YMap, key: str) -> list[Taint]:
    found = []
    for entry in spec.seq(key) or ():
        if isinstance(entry, YMap) and entry.text("effect") in TAINT_EFFECT_NAMES:
            taint = Taint(entry.text("key") or "", entry.text("value") or "", entry.text("effect") or "")
            if not is_placeholder(taint.key) and not is_placeholder(taint.value):
                found.append(taint)  # a templated key or value: a pod may tolerate it
    return found


def _requirements(spec: YMap) -> list[tuple[Requirement, Span]]:
    found = []
    for entry in spec.seq("requirements") or ():
        if not isinstance(entry, YMap):
            continue
        key, operator = entry.text("key"), entry.text("operator")
        values = entry.seq("values")
        texts = tuple(v.text for v in values or () if isinstance(v, YScalar) and v.value is not None)
        written = entry.get("values")
        if isinstance(written, YScalar) and written.value is not None and is_placeholder(written.text):
            texts = (written.text,)  # values: ${jsonencode(var.types)}: a list only the render knows
        if key and not is_placeholder(key) and operator in ("In", "NotIn", "Exists", "DoesNotExist", "Gt", "Lt"):
            found.append((Requirement(key, operator, texts), entry.entry_span("key")))
    return found


def _label_options(
    requirements: list[tuple[Requirement, Span]], labels: dict[str, str]
) -> tuple[dict[str, tuple[str, ...] | None], dict[str, tuple[Requirement, ...]]]:
    """The values each label a pool's requirements constrain may take on its nodes.

    Karpenter folds a pool's requirements on one key into one (sigs.k8s.io/karpenter
    pkg/scheduling/requirements.go ``Add``, requirement.go ``Intersection``), lets a pod
    on only where the two intersect (requirements.go ``Compatible``), and labels
    the node with a value inside both: ``In`` with one value is a label (``labels``, in
    place), with several a choice among them, less any ``NotIn`` value or one outside
    ``Gt``/``Lt``; ``NotIn``, ``Gt``, ``Lt`` alone leave the value open but bounded
    (the bounds: a pod asking only for excluded values cannot land); ``DoesNotExist``
    removes the label."""
    options: dict[str, tuple[str, ...] | None] = {}
    bounds: dict[str, tuple[Requirement, ...]] = {}
    for requirement, _ in requirements:
        key, operator, values = requirement.key, requirement.operator, requirement.values
        if operator == "In" and len(values) == 1 and key not in options:
            labels.setdefault(key, values[0])
        elif operator == "In":
            options[key] = values
        elif operator == "DoesNotExist":
            labels.pop(key, None)
        else:
            if operator != "Exists":
                bounds[key] = (*bounds.get(key, ()), requirement)
            options.setdefault(key, None)
    for key in list(options):
        choices = options[key]
        if key in labels:
            del options[key]
        elif choices is not None and key in bounds:
            options[key] = within_bounds(bounds[key], key, choices)
    return options, {k: b for k, b in bounds.items() if k in options and options[k] is None}


def node_pool(obj: YMap, kind: str) -> NodeGroup | None:
    """The node group of a NodePool (or v1alpha5 Provisioner), before its class is joined."""
    meta = obj.map("metadata")
    name = (meta.text("name") if meta is not None else None) or ""
    spec = obj.map("spec")
    if spec is None:
        return None
    template_meta: YMap | None
    node_spec: YMap | None
    if kind == "Provisioner":  # v1alpha5: the template's fields are on spec itself
        template_meta, node_spec = spec, spec
        ref = spec.map("providerRef")
        ref_group = NODECLASS_GROUP
    else:
        template = spec.map("template")
        template_meta = template.map("metadata") if template is not None else None
        node_spec = template.map("spec") if template is not None else None
        if node_spec is None:
            return None
        ref = node_spec.map("nodeClassRef")
        ref_group = ((ref.text("group") or ref.text("apiVersion") or "") if ref is not None else "").partition("/")[0]
    auto_mode = ref_group == AUTO_MODE_GROUP
    labels: dict[str, str] = {}
    written = template_meta.map("labels") if template_meta is not None else None
    for key, value in written.items() if written is not None else ():
        if isinstance(value, YScalar) and value.value is not None:
            labels[key] = value.text
    labels["karpenter.sh/nodepool" if kind == "NodePool" else "karpenter.sh/provisioner-name"] = name
    requirements = _requirements(node_spec)
    options, bounds = _label_options(requirements, labels)
    # A value a template fills (${var.x} in a kubectl_manifest heredoc, envsubst's ${X}):
    # the label may take any value (a templated key: any label may exist).
    templated_key = False
    for label, label_value in list(labels.items()):
        if is_placeholder(label) or is_placeholder(label_value):
            del labels[label]
            templated_key = templated_key or is_placeholder(label)
            if not is_placeholder(label):
                options[label] = None
    for label, choices in list(options.items()):
        if choices is not None and any(is_placeholder(v) for v in choices):
            options[label] = None
    bounds = {k: b for k, b in bounds.items() if not any(is_placeholder(v) for r in b for v in r.values)}
    name = "<templated>" if is_placeholder(name) else name  # shown as parse/objects.py shows one
    span = meta.entry_span("name") if meta is not None and "name" in meta else obj.entry_span("kind")
    group = NodeGroup(
        name=name,
        origin=Origin.AUTO_MODE if auto_mode else Origin.KARPENTER,
        span=span,
        file=span.file,
        labels=labels,
        label_options=options,
        label_bounds=bounds,
        unknown_label_prefixes=_AUTO_MODE_LABEL_PREFIXES if auto_mode else _KARPENTER_LABEL_PREFIXES,
        # startupTaints are removed once the node is ready: pods need not tolerate them.
        taints=_taints(node_spec, "taints"),
        instance_requirements=tuple(r for r, _ in requirements),
        labels_complete=not templated_key,
    )
    for requirement, where in requirements:
        if requirement.key == "node.kubernetes.io/instance-type" and requirement.operator == "In":
            group.instance_types = [InstanceType(v, where) for v in requirement.values]
    ref_name = ref.text("name") if ref is not None else None
    if ref_name:
        group.node_class = f"{AUTO_MODE_GROUP if auto_mode else NODECLASS_GROUP}/{ref_name}"
    provider = spec.map("provider") if kind == "Provisioner" and not ref_name else None
    if provider is not None:
        # The AWS provider written inline (v1alpha5 before AWSNodeTemplate and
        # providerRef; the same fields, pkg/apis/v1alpha1/provider.go, less userData).
        group.ami_family, group.ami_family_span, group.custom_ami, how = _family(obj, provider)
        group.ami_family_explicit = "amiFamily" in provider
        if how == "launchTemplate":
            group.allowances_unknown = group.ami_family_span  # the template's userdata: unseen
    if auto_mode:
        # Auto Mode nodes run Bottlerocket-based AMIs that EKS builds and boots; their
        # max pods is EKS's own (the lower of 110 and the ENI capacity).
        group.ami_family = "Bottlerocket"
        group.custom_ami = False
    # v1beta1 NodePool and v1alpha5 Provisioner carry the kubelet settings themselves;
    # a karpenter.sh/v1 NodePool has none (they moved to the EC2NodeClass: EKS002).
    kubelet_map = node_spec.map("kubelet") if pool_version(obj) != "v1" else None
    kubelet_map = kubelet_map or (spec.map("kubeletConfiguration") if kind == "Provisioner" else None)
    if kubelet_map is not None and not auto_mode:
        settings = KubeletSettings()
        read_kubelet_config(kubelet_map, settings, f"kubelet of {kind} {name}")
        group.allowances = settings.allowances()
        group.max_pods = settings.max_pods
    return group


def joined(pool: NodeGroup, nodeclass: NodeClass | None) -> NodeGroup:
    """The pool with what its class configures (a copy: the pool's facts stay as read)."""
    if nodeclass is None:
        if pool.node_class is not None and pool.node_class.startswith(NODECLASS_GROUP + "/"):
            # An EC2NodeClass in no analysed file: its userData (the kubelet's allowed
            # unsafe sysctls) is unseen, so the pool's allowance is unknown, never "none".
            # (An Auto Mode NodeClass has no userData: nothing is unknown.)
            return replace(pool, allowances_unknown=pool.allowances_unknown or pool.span)
        return pool
    group = replace(
        pool,
        ami_family=nodeclass.ami_family if not nodeclass.auto_mode else pool.ami_family,
        ami_family_span=nodeclass.ami_family_span,
        ami_family_explicit=nodeclass.ami_family_span is not None,
        custom_ami=nodeclass.custom_ami if not nodeclass.auto_mode else pool.custom_ami,
        allowances=pool.allowances or list(nodeclass.allowances),
        ignored_allowances=list(nodeclass.ignored_allowances),
        allowances_unknown=nodeclass.allowances_unknown,
        max_pods=(list(nodeclass.max_pods) or pool.max_pods) if not nodeclass.auto_mode else pool.max_pods,
        max_pods_expression=nodeclass.max_pods_expression,
        labels={**nodeclass.labels, **pool.labels},
        taints=pool.taints + nodeclass.taints,
        node_class=None,
    )
    group._node_labels = None
    return group


def read_file(objects: list[tuple[YMap, str]], limits: ReadLimits, problems: list[Problem]) -> KarpenterFacts:
    """A file's pools and classes; pools whose class is in the same file are joined."""
    facts = KarpenterFacts()
    for obj, kind in objects:
        if is_pool(obj, kind):
            pool = node_pool(obj, kind)
            if pool is not None:
                facts.pools.append(pool)
        else:
            nodeclass, userdata = node_class(obj, kind, limits, problems)
            facts.node_classes.append(nodeclass)
            if userdata is not None:
                facts.userdata.append(userdata)
    local = {c.key: c for c in facts.node_classes}
    for index, pool in enumerate(facts.pools):
        found = local.get(pool.node_class or "")
        if found is not None:
            found.used = True
            facts.pools[index] = joined(pool, found)
    return facts


# EKS Auto Mode's built-in NodePools, as EKS creates them (the objects as a cluster
# shows them: lindarr915/eks-auto-mode-demo karpenter/managed-nodepool.yaml; EKS user
# guide "Enable or disable built-in NodePools"): on-demand c/m/r of generation 5 and
# later, Linux; general-purpose amd64, system amd64 or arm64 and tainted
# CriticalAddonsOnly:NoSchedule.
_BUILTIN_REQUIREMENTS = (
    Requirement("karpenter.sh/capacity-type", "In", ("on-demand",)),
    Requirement("eks.amazonaws.com/instance-category", "In", ("c", "m", "r")),
    Requirement("eks.amazonaws.com/instance-generation", "Gt", ("4",)),
    Requirement("kubernetes.io/os", "In", ("linux",)),
)
BUILTIN_POOLS = {
    "general-purpose": ((Requirement("kubernetes.io/arch", "In", ("amd64",)),), ()),
    "system": (
        (Requirement("kubernetes.io/arch", "In", ("amd64", "arm64")),),
        (Taint("CriticalAddonsOnly", "", "NoSchedule"),),
    ),
}


def builtin_pools(config: YMap, version: tuple[int, int] | None) -> list[NodeGroup]:
    """The built-in NodePools an eksctl ClusterConfig's ``autoModeConfig`` enables
    (``nodePools`` defaults to general-purpose and system; ``[]`` disables them)."""
    auto = config.map("autoModeConfig")
    if auto is None or auto.value("enabled") is not True:
        return []
    listed = auto.seq("nodePools")
    names = [n.text for n in listed if isinstance(n, YScalar)] if listed is not None else list(BUILTIN_POOLS)
    span = auto.entry_span("nodePools") if listed is not None else auto.entry_span("enabled")
    groups = []
    for name in names:
        if name not in BUILTIN_POOLS:
            continue
        extra, taints = BUILTIN_POOLS[name]
        requirements = _BUILTIN_REQUIREMENTS + extra
        labels = {"karpenter.sh/nodepool": name, "karpenter.sh/capacity-type": "on-demand", "kubernetes.io/os": "linux"}
        options: dict[str, tuple[str, ...] | None] = {
            "eks.amazonaws.com/instance-category": ("c", "m", "r"),
            "eks.amazonaws.com/instance-generation": None,
        }
        arch = extra[0].values
        if len(arch) == 1:
            labels["kubernetes.io/arch"] = arch[0]
        else:
            options["kubernetes.io/arch"] = arch
        groups.append(
            NodeGroup(
                name=name,
                origin=Origin.AUTO_MODE,
                span=span,
                file=span.file,
                ami_family="Bottlerocket",
                custom_ami=False,
                labels=labels,
                label_options=options,
                label_bounds={"eks.amazonaws.com/instance-generation": (_BUILTIN_REQUIREMENTS[2],)},
                unknown_label_prefixes=_AUTO_MODE_LABEL_PREFIXES,
                taints=list(taints),
                instance_requirements=requirements,
                kubernetes_version=version,
            )
        )
    return groups
