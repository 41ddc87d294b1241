"""Terraform plan and state JSON (``terraform show -json``): the resolved values of the
resources ``ekslint.model.terraform`` reads in .tf files.

The format (Terraform docs "JSON Output Format"): ``planned_values.root_module`` for a
plan, ``values.root_module`` for state; each module has ``resources`` (``address``,
``type``, ``name``, ``values``) and ``child_modules`` (the same, recursively). A launch
template's ``user_data`` is the base64 text sent to EC2; a 40-digit hex ``user_data``
is the SHA-1 some resources store in state instead, and cannot be read. Findings point
at the resource's object in the JSON, with its address as the logical path.
"""

from __future__ import annotations

import re

from ekslint.model.eksapi import EKS_DEFAULT_INSTANCE_TYPE, TAINT_EFFECTS, family_of_ami_type
from ekslint.model.nodegroup import Cluster, InstanceType, NodeGroup, Origin
from ekslint.model.scheduling import Taint
from ekslint.model.terraform import (
    TerraformFacts,
    apply_kubelet,
    eks_default_family,
    eks_supplies_cluster,
    parse_version,
)
from ekslint.model.userdata import UserdataModel, embedded_userdata
from ekslint.parse.sources import ReadLimits, SourceFile
from ekslint.parse.yamltree import YMap, YScalar

_SHA1 = re.compile(r"[0-9a-f]{40}")
MAX_MODULE_DEPTH = 64


def read_plan(source: SourceFile, version: tuple[int, int] | None, limits: ReadLimits) -> TerraformFacts:
    facts = TerraformFacts()
    root = source.yaml_docs[0].root()
    if not isinstance(root, YMap):
        return facts
    values = root.map("planned_values") or root.map("values")
    module = values.map("root_module") if values is not None else None
    resources: list[YMap] = []
    stack = [(module, 0)] if module is not None else []
    while stack:
        current, depth = stack.pop()
        if current is None or depth > MAX_MODULE_DEPTH:
            continue
        resources += [r for r in current.seq("resources") or () if isinstance(r, YMap)]
        stack += [(c, depth + 1) for c in reversed(list(current.seq("child_modules") or ())) if isinstance(c, YMap)]
    by_type: dict[str, list[YMap]] = {}
    for resource in resources:
        by_type.setdefault(resource.text("type") or "", []).append(resource)
    for resource in by_type.get("aws_eks_cluster", []):
        found = _values(resource)
        text = found.text("version") if found is not None else None
        parsed = parse_version(text)
        address = resource.text("address") or "aws_eks_cluster"
        span = resource.start_span.with_logical(address)
        facts.clusters.append(
            Cluster(address, parsed, text, span if parsed else None, span, source.path, effective_version=parsed)
        )
    if len(facts.clusters) == 1 and facts.clusters[0].version:
        version = facts.clusters[0].version
    templates: dict[str, tuple[YMap, UserdataModel | None]] = {}  # by id and by name
    templates_by_object: dict[int, tuple[YMap, UserdataModel | None]] = {}
    for resource in by_type.get("aws_launch_template", []):
        found = _values(resource)
        if found is None:
            continue
        templates_by_object[id(resource)] = (resource, _userdata(resource, found, source, limits, facts))
        for key in ("id", "name"):
            ident = found.text(key)
            if ident:
                templates[ident] = templates_by_object[id(resource)]
    by_address = {_strip_index(r.text("address") or ""): r for r in by_type.get("aws_launch_template", [])}
    references = _configured_references(root)
    used: set[int] = set()
    for resource in by_type.get("aws_eks_node_group", []):
        found = _values(resource)
        if found is None:
            continue
        address = resource.text("address") or "aws_eks_node_group"
        group = NodeGroup(
            name=found.text("node_group_name") or address,
            origin=Origin.TERRAFORM,
            span=resource.start_span.with_logical(address),
            file=source.path,
            kubernetes_version=version,
            eks_managed=True,
        )
        ami_type = found.text("ami_type")
        template = None
        for spec in found.seq("launch_template") or ():
            if isinstance(spec, YMap):
                template = templates.get(spec.text("id") or "") or templates.get(spec.text("name") or "")
                group.launch_template = True
        referenced = by_address.get(references.get(_strip_index(address), ""))
        if template is None and referenced is not None:
            # A plan knows no id of a template it creates: the configuration names it.
            template = templates_by_object.get(id(referenced))
            group.launch_template = True
        custom = ami_type == "CUSTOM" or bool(template and _custom_ami(template[0]))
        group.custom_ami = custom
        group.ami_family = family_of_ami_type(ami_type) or (None if custom or ami_type else eks_default_family(version))
        group.ami_family_explicit = ami_type is not None
        group.instance_types = [
            InstanceType(t.text, t.span) for t in found.seq("instance_types") or () if isinstance(t, YScalar)
        ] or [InstanceType(EKS_DEFAULT_INSTANCE_TYPE, group.span, default=True)]
        labels = found.map("labels")
        for key, value in labels.items() if labels is not None else ():
            if isinstance(value, YScalar):
                group.labels[key] = value.text
        group.labels.setdefault("eks.amazonaws.com/nodegroup", group.name)
        group.labels.setdefault("eks.amazonaws.com/capacityType", found.text("capacity_type") or "ON_DEMAND")
        for taint in found.seq("taint") or ():
            if isinstance(taint, YMap) and taint.text("key"):
                effect = taint.text("effect") or ""
                group.taints.append(
                    Taint(taint.text("key") or "", taint.text("value") or "", TAINT_EFFECTS.get(effect, effect))
                )
        userdata = template[1] if template is not None else None
        if template is not None:
            used.add(id(template[0]))
        if userdata is not None:
            userdata.declared_family = group.ami_family
            userdata.must_be_complete = custom
            eks_supplies_cluster(userdata, None if custom else "EKS")
        apply_kubelet(group, userdata)
        facts.node_groups.append(group)
    for resource, userdata in templates_by_object.values():
        if id(resource) not in used and userdata is not None:
            address = resource.text("address") or "aws_launch_template"
            group = NodeGroup(
                name=address,
                origin=Origin.TERRAFORM,
                span=resource.start_span.with_logical(address),
                file=source.path,
                kubernetes_version=version,
                labels_complete=False,
                custom_ami=_custom_ami(resource) or None,
            )
            apply_kubelet(group, userdata)
            if group.ami_family is not None:
                facts.node_groups.append(group)
    return facts


def _values(resource: YMap) -> YMap | None:
    return resource.map("values")


def _custom_ami(resource: YMap) -> bool:
    found = _values(resource)
    return bool(found is not None and found.text("image_id"))


def _userdata(
    resource: YMap, found: YMap, source: SourceFile, limits: ReadLimits, facts: TerraformFacts
) -> UserdataModel | None:
    scalar = found.scalar("user_data")
    if scalar is None or not scalar.text or _SHA1.fullmatch(scalar.text):
        return None
    address = resource.text("address") or "aws_launch_template"
    model = embedded_userdata(scalar.as_text(), f"{address}.user_data", limits, facts.problems)
    if model is not None:
        model.span = found.entry_span("user_data").with_logical(address)
        facts.userdata.append(model)
    return model


_INDEX = re.compile(r"\[[^][]*\]")


def _strip_index(address: str) -> str:
    """``module.a["x"].aws_eks_node_group.b[0]`` → ``module.a.aws_eks_node_group.b``."""
    return _INDEX.sub("", address)


def _configured_references(root: YMap) -> dict[str, str]:
    """Node group address → the launch template address its ``launch_template`` block
    refers to, from the plan's ``configuration`` (``expressions.launch_template[0].id``
    or ``.name`` ``references``; module calls followed, addresses prefixed)."""
    found: dict[str, str] = {}
    configuration = root.map("configuration")
    stack = [(configuration.map("root_module"), "", 0)] if configuration is not None else []
    while stack:
        module, prefix, depth = stack.pop()
        if module is None or depth > MAX_MODULE_DEPTH:
            continue
        for resource in module.seq("resources") or ():
            if not isinstance(resource, YMap) or resource.text("type") != "aws_eks_node_group":
                continue
            expressions = resource.map("expressions")
            blocks = expressions.seq("launch_template") if expressions is not None else None
            first = blocks.item(0) if blocks is not None and len(blocks) else None
            for key in ("id", "name"):
                target = first.map(key) if isinstance(first, YMap) else None
                refs = target.seq("references") if target is not None else None
                for ref in refs or ():
                    text = ref.text if isinstance(ref, YScalar) else ""
                    if text.startswith("aws_launch_template."):
                        template = ".".join(text.split(".")[:2])
                        found.setdefault(prefix + (resource.text("address") or ""), prefix + template)
        calls = module.map("module_calls")
        for name, call in calls.items() if calls is not None else ():
            if isinstance(call, YMap):
                stack.append((call.map("module"), f"{prefix}module.{name}.", depth + 1))
    return found
