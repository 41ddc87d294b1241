"""Node groups of the terraform-aws-eks module, rendered as the module renders them.

Sources (terraform-aws-modules/terraform-aws-eks @bef29c4d, v21.19):
- modules/_user_data/main.tf: the template by ``ami_type``, or ``user_data_template_path``;
  AL2 managed groups without ``enable_bootstrap_user_data`` get only
  ``pre_bootstrap_user_data`` as a ``text/x-shellscript`` MIME part (EKS appends its
  bootstrap); AL2023 parts are ``cloudinit_pre_nodeadm``, the module's NodeConfig (only
  with ``enable_bootstrap_user_data``) and ``cloudinit_post_nodeadm``.
- templates/al2_user_data.tpl: ``pre_bootstrap_user_data``, then ``/etc/eks/bootstrap.sh``
  with ``bootstrap_extra_args``, then ``post_bootstrap_user_data``.
- templates/al2023_user_data.tpl: a NodeConfig with the cluster fields only (no
  ``bootstrap_extra_args``, no ``pre_bootstrap_user_data``).
- templates/bottlerocket_user_data.tpl: ``[settings.kubernetes]`` cluster settings (with
  ``enable_bootstrap_user_data``), then ``bootstrap_extra_args`` as TOML.
- modules/self-managed-node-group/main.tf passes ``enable_bootstrap_user_data = true``.
- Defaults: ``ami_type`` AL2023_x86_64_STANDARD from v21 (v20: managed null, that is
  EKS's default; self-managed AL2_x86_64); self-managed ``instance_type`` m6i.large
  from v21; ``*_node_group_defaults`` exist up to v20 (node_groups.tf ``try(each.value.x,
  var.eks_managed_node_group_defaults.x)``).
"""

from __future__ import annotations

import re

from ekslint.model.eksapi import EKS_DEFAULT_INSTANCE_TYPE, family_of_ami_type
from ekslint.model.nodegroup import (
    IgnoredAllowance,
    InstanceType,
    KubeletSettings,
    NodeGroup,
    Origin,
    allowances_in_flags,
    is_al2,
    is_al2023,
    is_bottlerocket,
    is_windows,
)
from ekslint.model.terraform import (
    Lookup,
    Resolver,
    TerraformFacts,
    apply_kubelet,
    eks_default_family,
    eks_supplies_cluster,
    instance_types_of,
    is_eks_module,
    labels_of,
    mime_document,
    parse_version,
    taint_of,
    userdata_of,
)
from ekslint.model.userdata import UserdataModel
from ekslint.parse.hcl import Block, Expr
from ekslint.parse.shell import Word, kubelet_flags, split_words
from ekslint.parse.text import Span, Text

V21_DEFAULT_AMI_TYPE = "AL2023_x86_64_STANDARD"


def module_major(block: Block, resolver: Resolver) -> int | None:
    """The module's major version from ``version`` ("~> 20.0", "20.8.5"); None: latest."""
    written = resolver.literal(block.attr("version"))
    if written is None:  # a git source pins it with ?ref=v20.8.5
        ref = re.search(r"[?&]ref=v?(\d+)", resolver.literal(block.attr("source")) or "")
        written = ref.group(1) if ref else None
    m = re.search(r"(\d+)", written or "")
    return int(m.group(1)) if m else None


def module_groups(block: Block, resolver: Resolver, version: tuple[int, int] | None, facts: TerraformFacts) -> None:
    kind = is_eks_module(resolver.literal(block.attr("source")))
    if kind is None:
        return
    major = module_major(block, resolver)
    own = parse_version(
        resolver.literal(block.attr("kubernetes_version")) or resolver.literal(block.attr("cluster_version"))
    )
    version = own or version
    cluster = next((c for c in facts.clusters if c.span.logical == block.address), None)
    if kind in ("managed", "self-managed"):
        lookup: Lookup = block.attr
        group = _render(block.address, lookup, block.span, kind == "managed", major, version, resolver, facts)
        group.cluster = cluster
        return
    for variable, managed in (("eks_managed_node_groups", True), ("self_managed_node_groups", False)):
        # A map written out, a local, or merge() of them (awslabs/data-on-eks
        # infra/terraform/eks.tf: merge(local.default_node_groups, var.managed_node_groups)):
        # the groups of the known arguments are read.
        groups, _complete = resolver.object_of(block.attr(variable))
        if groups is None:
            continue
        defaults, defaults_known = resolver.object_of(block.attr(variable[:-1] + "_defaults"))
        if defaults is None and block.attr(variable[:-1] + "_defaults") is None:
            defaults_known = True
        for name, span, written in groups.items:
            entry, known = resolver.object_of(written)
            if entry is None:
                continue
            group = _render(
                f"{block.address}.{variable}[{name}]",
                _lookup(entry, defaults, known and defaults_known),
                span,
                managed,
                major,
                version,
                resolver,
                facts,
                default_name=name,
            )
            group.cluster = cluster


# Settings whose absence means a default the group would be judged by.
_DEFAULTED = ("ami_type", "instance_types", "instance_type", "labels")


def _lookup(entry: Expr, defaults: Expr | None, known: bool = True) -> Lookup:
    """A group's setting: its entry's, else the defaults'. When part of either is
    computed (a ``var.*`` merged in), a setting neither shows whose absence would
    mean a default (AMI type, instance types, labels) is unknown, not unset."""

    def get(key: str) -> Expr | None:
        found = entry.get(key)
        if found is None and defaults is not None and defaults.kind == "object":
            found = defaults.get(key)
        if found is None and not known and key in _DEFAULTED:
            return Expr("other", entry.span, f"{key} (computed: merged from a value only Terraform knows)")
        return found

    return get


def _render(
    address: str,
    get: Lookup,
    span: Span,
    managed: bool,
    major: int | None,
    version: tuple[int, int] | None,
    resolver: Resolver,
    facts: TerraformFacts,
    default_name: str | None = None,
) -> NodeGroup:
    name = resolver.literal(get("name")) or default_name or address
    modern = major is None or major >= 21
    ami_type = resolver.literal(get("ami_type"))
    ami_type_written = get("ami_type") is not None
    if ami_type is None and not ami_type_written:
        ami_type = V21_DEFAULT_AMI_TYPE if modern or not managed else None
        if not modern and not managed:
            ami_type = "AL2_x86_64"
    family = family_of_ami_type(ami_type)
    if family is None and managed and not ami_type_written:
        family = eks_default_family(version)
    ami_id = resolver.value(get("ami_id"))
    custom_ami = ami_id is not None and ami_id.kind != "null" and resolver.literal(ami_id) != ""
    enable = resolver.literal(get("enable_bootstrap_user_data"))
    bootstrap = (enable == "true") if managed else True
    group = NodeGroup(
        name=name,
        origin=Origin.TERRAFORM,
        span=span.with_logical(address),
        file=span.file,
        ami_family=family,
        ami_family_explicit=ami_type_written,
        custom_ami=custom_ami or ami_type == "CUSTOM",
        launch_template=True,
        kubernetes_version=version,
        eks_managed=managed,
    )
    if managed:
        types = instance_types_of(get("instance_types"), resolver)
        if types is not None:
            group.instance_types = types
        elif get("instance_types") is None:
            group.instance_types = [InstanceType(EKS_DEFAULT_INSTANCE_TYPE, group.span, default=True)]
    else:
        single = resolver.literal(get("instance_type"))
        if single:
            group.instance_types = [InstanceType(single, _span_of(get("instance_type"), span))]
        elif get("instance_type") is None and modern:
            group.instance_types = [InstanceType("m6i.large", group.span, default=True)]
    labels, complete = labels_of(get("labels"), resolver)
    group.labels = labels
    group.labels_complete = complete and managed
    if managed:
        group.labels.setdefault("eks.amazonaws.com/nodegroup", name)
    _taints(get("taints"), group, resolver)
    extra = KubeletSettings()
    userdata = _userdata(address, get, span, family, managed, custom_ami, bootstrap, resolver, extra)
    if userdata is not None:
        facts.userdata.append(userdata)
    apply_kubelet(group, userdata, extra)
    facts.node_groups.append(group)
    return group


def _span_of(expr: Expr | None, default: Span) -> Span:
    return expr.span if expr is not None else default


def _taints(expr: Expr | None, group: NodeGroup, resolver: Resolver) -> None:
    """``taints`` as a map of objects (v21: ``{ name = { key, value, effect } }``) or a
    list of objects (v19/v20 accepted ``any``)."""
    if resolver.value(expr) is None:
        return
    found, _known = resolver.object_of(expr)
    if found is None:
        found = resolver.value(expr)
    if found is None or found.kind not in ("object", "tuple"):
        return  # computed taints: unknown, none counted
    entries = [value for _k, _s, value in found.items] if found.kind == "object" else found.elements
    for written in entries:
        entry, _complete = resolver.object_of(written)
        if entry is not None:
            taint = taint_of(entry.get("key"), entry.get("value"), entry.get("effect"), resolver)
            if taint is not None:
                group.taints.append(taint)


def _userdata(
    address: str,
    get: Lookup,
    span: Span,
    family: str | None,
    managed: bool,
    custom_ami: bool,
    bootstrap: bool,
    resolver: Resolver,
    extra: KubeletSettings,
) -> UserdataModel | None:
    label = f"{address} (terraform-aws-eks user data)"
    template_path = get("user_data_template_path")
    if template_path is not None and resolver.literal(template_path) != "":
        custom = resolver.read_file(template_path, template_path.span, template=True)
        model = userdata_of(custom, label, span.with_logical(address), resolver, family)
        if model is not None:
            model.must_be_complete = custom_ami or not managed
        return model
    pre = resolver.text(get("pre_bootstrap_user_data"))
    post = resolver.text(get("post_bootstrap_user_data"))
    extra_args = resolver.text(get("bootstrap_extra_args"))
    where = span.with_logical(address)
    text: Text | None = None
    if is_al2023(family):
        parts: list[tuple[str, Text | None, Span]] = []
        for variable in ("cloudinit_pre_nodeadm", "cloudinit_post_nodeadm"):
            listing = resolver.value(get(variable))
            for written in listing.elements if listing is not None and listing.kind == "tuple" else ():
                item = resolver.value(written) or written
                if item.kind != "object":
                    continue
                content_type = resolver.literal(item.get("content_type")) or "text/x-shellscript"
                parts.append((content_type, resolver.text(item.get("content")), item.span))
        if extra_args is not None:
            _ignored(extra_args, extra, "terraform-aws-eks's AL2023 template does not use bootstrap_extra_args")
        if parts:
            text = mime_document(span.file, "MIMEBOUNDARY", parts, span)
    elif is_al2(family) or (family is None and not managed):
        if not bootstrap:
            if pre is not None:
                text = mime_document(
                    span.file, "//", [("text/x-shellscript", pre, _span_of(get("pre_bootstrap_user_data"), span))], span
                )
            if extra_args is not None:
                _ignored(
                    extra_args,
                    extra,
                    "terraform-aws-eks renders bootstrap_extra_args only with enable_bootstrap_user_data = true",
                )
        else:
            text = _al2_script(span, pre, extra_args, post)
    elif is_bottlerocket(family):
        text = _bottlerocket_toml(span, extra_args, bootstrap)
    elif is_windows(family):
        return None
    model = userdata_of(text, label, where, resolver, family)
    if model is None:
        return None
    model.must_be_complete = custom_ami or not managed
    if is_al2023(family):
        supplier = "the terraform-aws-eks module (enable_bootstrap_user_data)" if bootstrap else None
        if managed and not custom_ami:
            supplier = "EKS"
        eks_supplies_cluster(model, supplier)
    return model


def _ignored(args: Text, extra: KubeletSettings, reason: str) -> None:
    flags = kubelet_flags(_extra_args_words(args))
    extra.ignored.extend(
        IgnoredAllowance(a, reason) for a in allowances_in_flags(flags, args, "in bootstrap_extra_args")
    )


def _extra_args_words(args: Text) -> list[Word]:
    """The kubelet arguments inside ``--kubelet-extra-args '...'`` (the words as written)."""
    content = args.content
    words = split_words(Word(content, 0, len(content), list(range(len(content)))))
    for index, word in enumerate(words):
        if word.text == "--kubelet-extra-args" and index + 1 < len(words):
            return split_words(words[index + 1])
    return []


def _lines(text: Text | None) -> tuple[list[str], list[tuple[int, int]]]:
    if text is None:
        return [], []
    body = text.content.rstrip("\n").split("\n")
    return body, [text.point(i, 0) for i in range(len(body))]


def _al2_script(span: Span, pre: Text | None, extra_args: Text | None, post: Text | None) -> Text:
    """templates/al2_user_data.tpl with enable_bootstrap_user_data: the bootstrap.sh line
    is split with ``\\`` so ``bootstrap_extra_args`` keeps its own line and columns."""
    here = (span.line, span.col)
    lines = ["#!/bin/bash", "set -e"]
    origins = [here, here]
    for text in (pre,):
        body, where = _lines(text)
        lines += body
        origins += where
    lines += [
        "B64_CLUSTER_CA=${cluster_auth_base64}",
        "API_SERVER_URL=${cluster_endpoint}",
        "/etc/eks/bootstrap.sh ${cluster_name} \\",
    ]
    origins += [here] * 3
    if extra_args is not None and extra_args.content.strip():
        body, where = _lines(extra_args)
        lines += [line + " \\" for line in body]
        origins += where
    lines.append(
        "  --b64-cluster-ca $B64_CLUSTER_CA --apiserver-endpoint $API_SERVER_URL "
        "--ip-family ${cluster_ip_family} --service-ipv4-cidr ${cluster_service_cidr}"
    )
    origins.append(here)
    body, where = _lines(post)
    lines += body
    origins += where
    return Text(span.file, "\n".join(lines) + "\n", origins)


def _bottlerocket_toml(span: Span, extra_args: Text | None, bootstrap: bool) -> Text | None:
    here = (span.line, span.col)
    lines: list[str] = []
    origins: list[tuple[int, int]] = []
    if bootstrap:
        lines = [
            "[settings.kubernetes]",
            '"cluster-name" = "${cluster_name}"',
            '"api-server" = "${cluster_endpoint}"',
            '"cluster-certificate" = "${cluster_auth_base64}"',
            '"cluster-dns-ip" = ["${cluster_dns_ip}"]',
        ]
        origins = [here] * len(lines)
    body, where = _lines(extra_args)
    lines += body
    origins += where
    if not lines:
        return None
    return Text(span.file, "\n".join(lines) + "\n", origins)
