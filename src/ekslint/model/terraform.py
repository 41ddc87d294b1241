"""Terraform node groups: ``aws_launch_template`` userdata, ``aws_eks_node_group``,
self-managed ``aws_autoscaling_group``, ``data "cloudinit_config"``, ``aws_eks_cluster``
and the terraform-aws-eks module (``terraform_module``), as the same NodeGroup and
UserdataModel shapes every rule reads.

Values are read as written: literals count, anything computed (``var.x``, a
conditional) is unknown and judged as such. ``user_data`` is followed through
``base64encode``/``base64gzip``, ``file``/``filebase64``/``templatefile`` of a file beside
the .tf file, ``local.*`` values and ``data.cloudinit_config.*.rendered``.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field

from ekslint.model.eksapi import EKS_DEFAULT_INSTANCE_TYPE, TAINT_EFFECTS, family_of_ami_type
from ekslint.model.nodeconfig import merge
from ekslint.model.nodegroup import (
    Cluster,
    InstanceType,
    KubeletSettings,
    NodeGroup,
    Origin,
)
from ekslint.model.scheduling import Taint
from ekslint.model.userdata import UserdataModel, embedded_userdata
from ekslint.parse.hcl import Block, Expr, HclFile
from ekslint.parse.sources import ReadLimits, read_head
from ekslint.parse.templates import is_placeholder
from ekslint.parse.text import Problem, Span, Text
from ekslint.parse.yamltree import YMap

_MAX_RESOLVE_DEPTH = 8


def eks_default_family(version: tuple[int, int] | None) -> str | None:
    """The AMI a managed node group without ``ami_type`` gets: AL2023 from Kubernetes
    1.30 (EKS user guide, "Amazon Linux 2023": new managed node groups default to it),
    AL2 before; unknown without a version."""
    if version is None:
        return None
    return "AmazonLinux2023" if version >= (1, 30) else "AmazonLinux2"


def parse_version(value: str | None) -> tuple[int, int] | None:
    m = re.fullmatch(r"\s*(\d+)\.(\d+)\s*", value or "")
    return (int(m.group(1)), int(m.group(2))) if m else None


@dataclass(slots=True)
class TerraformFacts:
    clusters: list[Cluster] = field(default_factory=list)
    node_groups: list[NodeGroup] = field(default_factory=list)
    userdata: list[UserdataModel] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    reads_files: list[str] = field(default_factory=list)  # templatefile()/file() targets read
    # Kubernetes objects written inline in manifest resources (``kubectl_manifest``
    # ``yaml_body`` heredocs), positioned in the .tf file.
    manifests: list[YMap] = field(default_factory=list)
    # The directory and the other .tf files of its module, read to resolve references
    # (terraform_dir): the cache keys the file on their stamps.
    module_files: list[str] = field(default_factory=list)


@dataclass(slots=True)
class LaunchTemplate:
    block: Block
    userdata: UserdataModel | None
    custom_ami: bool
    instance_type: InstanceType | None
    used: bool = False
    # user_data is written but computed elsewhere (a variable, another module's output,
    # a data source ekslint does not render): what it tells the kubelet is unknown.
    userdata_unknown: Span | None = None


class Resolver:
    """Follows ``user_data`` and other values through the functions and references
    Terraform evaluates, within one .tf file."""

    def __init__(
        self,
        hcl: HclFile,
        path: str,
        limits: ReadLimits,
        problems: list[Problem],
        reads: list[str] | None = None,
        siblings: Sequence[HclFile] = (),
    ) -> None:
        self.reads = reads if reads is not None else []
        self.hcl = hcl
        self.path = path
        self.limits = limits
        self.problems = problems
        self.locals: dict[str, Expr] = {}
        self.blocks: dict[str, Block] = {}
        # The module: this file, then the other .tf files of its directory (terraform_dir).
        self.files = [hcl, *siblings]
        for file in self.files:
            for block in file.body.blocks:
                if block.type == "locals":
                    for name, attribute in block.attributes.items():
                        self.locals.setdefault(name, attribute.expr)
                elif block.type in ("resource", "data", "module") and block.labels:
                    self.blocks.setdefault(block.address, block)

    def module_blocks(self) -> Iterator[Block]:
        """The top-level blocks of every file of the module, this file's first."""
        for file in self.files:
            yield from file.body.blocks

    @contextmanager
    def quiet(self, block: Block) -> Iterator[None]:
        """Problems found reading a block of another file of the module are that file's
        to report (its own analysis finds them): dropped here."""
        if block.span.file == self.hcl.text.file:
            yield
            return
        kept = self.problems
        self.problems = []
        try:
            yield
        finally:
            self.problems = kept

    def value(self, expr: Expr | None, depth: int = 0) -> Expr | None:
        """The expression a ``local.x`` stands for (others as they are)."""
        while expr is not None and expr.kind == "ref" and str(expr.value).startswith("local.") and depth < 8:
            name = str(expr.value).split(".")[1]
            expr = self.locals.get(name)
            depth += 1
        return expr

    def object_of(self, expr: Expr | None, depth: int = 0) -> tuple[Expr | None, bool]:
        """An object as Terraform evaluates it: written as one, named by a ``local.*``,
        or ``merge()`` of such (a later argument's keys win, null arguments are
        skipped: Terraform's merge function). The bool says whether every argument was
        known; an unknown one may set any key. None when it is not an object at all."""
        expr = self.value(expr)
        if expr is None or depth > _MAX_RESOLVE_DEPTH:
            return None, False
        if expr.kind == "object":
            return expr, True
        if expr.kind != "call" or expr.value != "merge":
            return None, False
        items: dict[str, tuple[str, Span, Expr]] = {}
        complete = True
        for argument in expr.elements:
            if argument.kind == "null":
                continue
            found, known = self.object_of(argument, depth + 1)
            complete = complete and known and found is not None
            for key, span, value in found.items if found is not None else ():
                items.pop(key, None)
                items[key] = (key, span, value)
        return Expr("object", expr.span, expr.source, items=list(items.values())), complete

    def literal(self, expr: Expr | None) -> str | None:
        """A string or number written as such (templates with ``${}`` are unknown)."""
        expr = self.value(expr)
        if expr is None or expr.kind not in ("string", "number", "bool"):
            return None
        return expr.string()

    def text(self, expr: Expr | None, depth: int = 0) -> Text | None:
        """The text a userdata expression renders to, positioned where it is written;
        None when it is computed elsewhere."""
        expr = self.value(expr)
        if expr is None or depth > _MAX_RESOLVE_DEPTH:
            return None
        if expr.kind in ("string", "template", "heredoc"):
            return expr.text
        if expr.kind == "call":
            name = str(expr.value)
            args = expr.elements
            if name in ("base64encode", "base64gzip", "trimspace", "chomp") and args:
                return self.text(args[0], depth + 1)
            if name in ("file", "filebase64") and args:
                return self.read_file(args[0], expr.span)
            if name == "templatefile" and args:
                return self.read_file(args[0], expr.span, template=True)
            return None
        if expr.kind == "ref":
            path = str(expr.value)
            if path.startswith("data.cloudinit_config.") and path.endswith(".rendered"):
                block = self.blocks.get(path.rsplit(".", 1)[0])
                return self.cloudinit(block) if block is not None else None
        return None

    def read_file(self, expr: Expr, where: Span, template: bool = False) -> Text | None:
        """A file named relative to ``path.module`` (or the working directory), read
        only inside the .tf file's directory tree or the working directory."""
        name = self.literal(expr) if expr.kind == "string" else expr.string()
        if name is None:
            return None
        base = os.path.dirname(self.path) or "."
        name = re.sub(r"\$\{path\.(module|root)\}", lambda _m: base, name)
        name = name.replace("${path.cwd}", ".")
        if is_placeholder(name):
            return None
        full = os.path.normpath(name)
        real = os.path.realpath(full)
        roots = (os.path.realpath(base), os.path.realpath(os.getcwd()))
        if not any(real == root or real.startswith(root.rstrip(os.sep) + os.sep) for root in roots):
            return None
        self.reads.append(full)
        try:
            data = read_head(full, self.limits)
        except OSError:
            return None  # not in the linted tree (a module fetched elsewhere): unknown
        if len(data) > self.limits.max_file_bytes:
            return None
        content = data.decode("utf-8", "replace").replace("\r\n", "\n")
        if template:
            content = strip_directives(content)
        return Text(full.replace(os.sep, "/"), content)

    def cloudinit(self, block: Block) -> Text | None:
        """The MIME document ``data "cloudinit_config"`` renders from its ``part`` blocks
        (hashicorp/terraform-provider-cloudinit: multipart/mixed, one part each)."""
        parts: list[tuple[str, Text | None, Span]] = []
        for part in block.children("part"):
            content_type = self.literal(part.attr("content_type")) or "text/plain"
            content = part.attr("content")
            parts.append((content_type, self.text(content), part.span))
        if not parts:
            return None
        boundary = self.literal(block.attr("boundary")) or "MIMEBOUNDARY"
        return mime_document(block.span.file, boundary, parts, block.span)


def strip_directives(content: str) -> str:
    """A template's ``%{ if }``/``%{ else }``/``%{ endif }``/``%{ for }`` lines blanked
    (both branches kept, line numbers unchanged); ``${...}`` stay as placeholders."""
    return re.sub(r"^[ \t]*%\{[^}\n]*\}[ \t]*$", "", content, flags=re.M)


def mime_document(file: str, boundary: str, parts: list[tuple[str, Text | None, Span]], where: Span) -> Text:
    """A multipart/mixed userdata of ``parts`` whose body lines keep their positions in
    ``file`` (a body read from elsewhere points at where it is named)."""
    lines: list[str] = [f'Content-Type: multipart/mixed; boundary="{boundary}"', "MIME-Version: 1.0", ""]
    origins: list[tuple[int, int]] = [(where.line, where.col)] * 3
    for content_type, text, span in parts:
        lines += [f"--{boundary}", f"Content-Type: {content_type}", "MIME-Version: 1.0", ""]
        origins += [(span.line, span.col)] * 4
        if text is None:
            lines.append(f"${{unknown content at line {span.line}}}")
            origins.append((span.line, span.col))
            continue
        body = text.content.rstrip("\n").split("\n")
        same_file = text.file == file and text.collapsed is None
        for index, line in enumerate(body):
            lines.append(line)
            origins.append(text.point(index, 0) if same_file else (span.line, span.col))
    lines.append(f"--{boundary}--")
    origins.append(origins[-1])
    return Text(file, "\n".join(lines) + "\n", origins)


def userdata_of(
    text: Text | None, label: str, span: Span, resolver: Resolver, family: str | None = None
) -> UserdataModel | None:
    if text is None:
        return None
    model = embedded_userdata(text, label, resolver.limits, resolver.problems)
    if model is None:
        return None
    model.span = span
    model.declared_family = family
    return model


def labels_of(expr: Expr | None, resolver: Resolver) -> tuple[dict[str, str], bool]:
    """A literal map of labels, and whether every key and value is known."""
    if resolver.value(expr) is None:
        return {}, True
    found, complete = resolver.object_of(expr)
    if found is None:
        return {}, False
    labels: dict[str, str] = {}
    for key, _span, value in found.items:
        text = resolver.literal(value)
        if text is None or is_placeholder(key):
            complete = False
            continue
        labels[key] = text
    return labels, complete


def taint_of(key: Expr | None, value: Expr | None, effect: Expr | None, resolver: Resolver) -> Taint | None:
    key_text = resolver.literal(key)
    effect_text = resolver.literal(effect)
    if not key_text or effect_text is None:
        return None
    return Taint(key_text, resolver.literal(value) or "", TAINT_EFFECTS.get(effect_text, effect_text))


def instance_types_of(expr: Expr | None, resolver: Resolver) -> list[InstanceType] | None:
    """A literal list of instance types (None when not written or computed)."""
    expr = resolver.value(expr)
    if expr is None or expr.kind != "tuple":
        return None
    types = [InstanceType(e.string() or "", e.span) for e in expr.elements if e.kind == "string"]
    return types if len(types) == len(expr.elements) else None


def apply_kubelet(group: NodeGroup, userdata: UserdataModel | None, extra: KubeletSettings | None = None) -> None:
    """Fold what the userdata tells the kubelet into the group (as eksctl groups do)."""
    kubelet = KubeletSettings()
    if userdata is not None:
        kubelet.merge(userdata.kubelet())
        if userdata.nodeconfig is not None:
            group.max_pods_expression = userdata.nodeconfig.max_pods_expression
        for script in userdata.scripts:
            if script.unknown_edit is not None and group.allowances_unknown is None:
                group.allowances_unknown = script.unknown_edit
    if extra is not None:
        kubelet.merge(extra)
    group.take_kubelet(kubelet)
    if group.ami_family is None and userdata is not None:
        group.ami_family = userdata.ami_family()


def eks_supplies_cluster(userdata: UserdataModel | None, supplier: str | None) -> None:
    """Managed groups on EKS's own AMI get EKS's NodeConfig merged before the user's
    parts: a user NodeConfig there needs no cluster fields."""
    if userdata is not None and userdata.nodeconfig is not None and supplier is not None:
        userdata.nodeconfig = merge(userdata.nodeconfig.parts, implicit_cluster=supplier)


def clusters_of(resolver: Resolver) -> list[Cluster]:
    """The clusters the module defines (every file of it)."""
    clusters: list[Cluster] = []
    for block in resolver.module_blocks():
        if block.type == "resource" and block.labels[:1] == ["aws_eks_cluster"] and len(block.labels) == 2:
            version_key = "version"
            name = resolver.literal(block.attr("name"))
        elif block.type == "module" and is_eks_module(resolver.literal(block.attr("source"))) == "cluster":
            version_key = "kubernetes_version" if "kubernetes_version" in block.attributes else "cluster_version"
            name = resolver.literal(block.attr("name")) or resolver.literal(block.attr("cluster_name"))
        else:
            continue
        text = resolver.literal(block.attr(version_key))
        parsed = parse_version(text)
        clusters.append(
            Cluster(
                name=name or block.address,
                version=parsed,
                version_text=text,
                version_span=block.attr_span(version_key) if text else None,
                span=block.span.with_logical(block.address),
                file=block.span.file,
                effective_version=parsed,
                version_source=f"{block.address}.{version_key}" if parsed else "",
            )
        )
    return clusters


def is_eks_module(source: str | None) -> str | None:
    """What a module ``source`` is: the terraform-aws-eks module ("cluster"), one of its
    node group submodules ("managed", "self-managed"), or None."""
    if not source:
        return None
    # The subdirectory follows a "//" that is not a URL scheme's (Terraform module sources).
    pieces = re.split(r"(?<!:)//", source, maxsplit=1)
    base, sub = pieces[0], (pieces[1].split("?", 1)[0] if len(pieces) > 1 else "")
    registry = base.rstrip("/").endswith("terraform-aws-modules/eks/aws")
    git = re.search(r"terraform-aws-modules/terraform-aws-eks(\.git)?($|\?|/)", base) is not None
    if not (registry or git):
        return None
    if not sub:
        return "cluster"
    if sub.rstrip("/").endswith("eks-managed-node-group"):
        return "managed"
    if sub.rstrip("/").endswith("self-managed-node-group"):
        return "self-managed"
    return None


LAUNCH_RESOURCES = ("aws_launch_template", "aws_launch_configuration")


def launch_template_of(block: Block, resolver: Resolver) -> LaunchTemplate:
    """An ``aws_launch_template``, or an ``aws_launch_configuration`` (self-managed
    groups before launch templates: ``user_data`` as text or ``user_data_base64``,
    hashicorp/terraform-provider-aws internal/service/autoscaling/launch_configuration.go)."""
    key = "user_data_base64" if "user_data_base64" in block.attributes else "user_data"
    span = block.attr_span(key) or block.span
    text = resolver.text(block.attr(key))
    userdata = userdata_of(text, f"{block.address}.{key}", span.with_logical(block.address), resolver)
    written = resolver.value(block.attr(key))
    unknown = span if text is None and written is not None and written.kind != "null" else None
    image = resolver.value(block.attr("image_id"))
    custom_ami = image is not None and image.kind != "null" and resolver.literal(image) != ""
    instance = resolver.literal(block.attr("instance_type"))
    instance_type = InstanceType(instance, block.attr_span("instance_type") or block.span) if instance else None
    return LaunchTemplate(block, userdata, custom_ami, instance_type, userdata_unknown=unknown)


def _referenced(expr: Expr | None, templates: dict[str, LaunchTemplate], resolver: Resolver) -> LaunchTemplate | None:
    expr = resolver.value(expr)
    if expr is None or expr.kind != "ref":
        return None
    parts = str(expr.value).split(".")
    return templates.get(".".join(parts[:2])) if len(parts) >= 2 else None


def plain_group(
    block: Block, name: str, resolver: Resolver, cluster: Cluster | None, version: tuple[int, int] | None
) -> NodeGroup:
    return NodeGroup(
        name=name,
        origin=Origin.TERRAFORM,
        span=block.span.with_logical(block.address),
        file=block.span.file,
        cluster=cluster,
        kubernetes_version=version,
    )


def managed_group(
    block: Block,
    templates: dict[str, LaunchTemplate],
    resolver: Resolver,
    cluster: Cluster | None,
    version: tuple[int, int] | None,
    facts: TerraformFacts,
) -> None:
    name = resolver.literal(block.attr("node_group_name"))
    group = plain_group(block, name or block.address, resolver, cluster, version)
    reference = block.children("launch_template")
    template = None
    unknown: Span | None = None
    if reference:
        template = _referenced(reference[0].attr("id"), templates, resolver) or _referenced(
            reference[0].attr("name"), templates, resolver
        )
        group.launch_template = True
        # A template of another module or a variable's: its userdata is unknown.
        unknown = reference[0].span if template is None else template.userdata_unknown
    ami_type = resolver.literal(block.attr("ami_type"))
    group.custom_ami = ami_type == "CUSTOM" or bool(template and template.custom_ami)
    group.eks_managed = True  # EKS writes the bootstrap, and on its own AMI caps maxPods
    group.ami_family = family_of_ami_type(ami_type)
    group.ami_family_explicit = group.ami_family is not None
    group.ami_family_span = block.attr_span("ami_type")
    if group.ami_family is None and not group.custom_ami and "ami_type" not in block.attributes:
        group.ami_family = eks_default_family(version)
    types = instance_types_of(block.attr("instance_types"), resolver)
    if types is not None:
        group.instance_types = types
    elif "instance_types" not in block.attributes:
        if template is not None and template.instance_type is not None:
            group.instance_types = [template.instance_type]
        elif template is None or template.instance_type is None:
            group.instance_types = [InstanceType(EKS_DEFAULT_INSTANCE_TYPE, group.span, default=True)]
    labels, complete = labels_of(block.attr("labels"), resolver)
    group.labels = labels
    group.labels_complete = complete and name is not None and not is_placeholder(name)
    if name and not is_placeholder(name):
        group.labels.setdefault("eks.amazonaws.com/nodegroup", name)
    capacity = resolver.literal(block.attr("capacity_type"))
    if capacity in ("ON_DEMAND", "SPOT", "CAPACITY_BLOCK") or "capacity_type" not in block.attributes:
        group.labels.setdefault("eks.amazonaws.com/capacityType", capacity or "ON_DEMAND")
    else:
        group.labels_complete = False
    for taint in block.children("taint"):
        found = taint_of(taint.attr("key"), taint.attr("value"), taint.attr("effect"), resolver)
        if found is not None:
            group.taints.append(found)
    userdata = None
    if template is not None:
        template.used = True
        userdata = template.userdata
    if userdata is not None:
        userdata.declared_family = group.ami_family
        userdata.must_be_complete = bool(group.custom_ami)
        eks_supplies_cluster(userdata, None if group.custom_ami else "EKS")
        facts.userdata.append(userdata)
    apply_kubelet(group, userdata)
    _userdata_unknown(group, unknown)
    facts.node_groups.append(group)


def _userdata_unknown(group: NodeGroup, where: Span | None) -> None:
    """A launch template whose userdata ekslint cannot see may set any kubelet flag
    (--allowed-unsafe-sysctls, --node-labels): the allowance and the labels are unknown,
    as for CloudFormation UserData that cannot be read."""
    if where is not None:
        if group.allowances_unknown is None:
            group.allowances_unknown = where
        group.labels_complete = False


def self_managed_group(
    block: Block,
    templates: dict[str, LaunchTemplate],
    resolver: Resolver,
    cluster: Cluster | None,
    version: tuple[int, int] | None,
    facts: TerraformFacts,
) -> None:
    template = None
    overrides: list[InstanceType] = []
    for reference in block.children("launch_template"):
        template = _referenced(reference.attr("id"), templates, resolver) or _referenced(
            reference.attr("name"), templates, resolver
        )
    template = template or _referenced(block.attr("launch_configuration"), templates, resolver)
    for policy in block.children("mixed_instances_policy"):
        for lt in policy.children("launch_template"):
            for spec in lt.children("launch_template_specification"):
                template = template or _referenced(spec.attr("launch_template_id"), templates, resolver)
                template = template or _referenced(spec.attr("launch_template_name"), templates, resolver)
            for override in lt.children("override"):
                kind = resolver.literal(override.attr("instance_type"))
                if kind:
                    overrides.append(InstanceType(kind, override.attr_span("instance_type") or override.span))
    if template is None:
        return  # a template defined elsewhere (another module, a data source): nothing to read
    template.used = True
    name = resolver.literal(block.attr("name"))
    group = plain_group(block, name or block.address, resolver, cluster, version)
    group.launch_template = True
    group.custom_ami = True  # self-managed: nothing but its userdata joins it to the cluster
    group.instance_types = overrides or ([template.instance_type] if template.instance_type else [])
    userdata = template.userdata
    if userdata is not None:
        userdata.must_be_complete = True
        facts.userdata.append(userdata)
    apply_kubelet(group, userdata)
    group.labels_complete = group.labels_complete and userdata is not None
    _userdata_unknown(group, template.userdata_unknown)
    facts.node_groups.append(group)


Lookup = Callable[[str], Expr | None]
