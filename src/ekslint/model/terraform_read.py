"""Where Terraform node groups are read: a .tf file (``ekslint.model.terraform`` and
``terraform_module``) or ``terraform show -json`` output (``terraform_plan``)."""

from __future__ import annotations

from ekslint.model.terraform import (
    LaunchTemplate,
    Resolver,
    TerraformFacts,
    apply_kubelet,
    clusters_of,
    launch_template_of,
    managed_group,
    plain_group,
    self_managed_group,
)
from ekslint.model.terraform_module import module_groups
from ekslint.model.terraform_plan import read_plan
from ekslint.parse.hcl import Block, HclFile
from ekslint.parse.sources import Content, ReadLimits, SourceFile, load_text
from ekslint.parse.yamltree import YamlLimits, YMap

# Resources that apply a Kubernetes object written as YAML in the .tf file, and the
# attribute that holds it: gavinbunney/terraform-provider-kubectl (and its fork
# alekc/terraform-provider-kubectl) ``kubectl_manifest.yaml_body``; hashicorp's
# ``kubernetes_manifest.manifest`` as ``yamldecode(...)`` of a string.
_MANIFEST_RESOURCES = {"kubectl_manifest": "yaml_body", "kubernetes_manifest": "manifest"}


def terraform_source(source: SourceFile, version: tuple[int, int] | None, limits: YamlLimits) -> TerraformFacts | None:
    """The node groups of a .tf file or of a ``terraform show -json`` file; None for
    any other file."""
    read_limits = ReadLimits(yaml=limits)
    if source.hcl is not None:
        return read_terraform(source.hcl, source.path, version, read_limits)
    if source.content is Content.TERRAFORM_PLAN and source.yaml_docs:
        return read_plan(source, version, read_limits)
    return None


def read_terraform(hcl: HclFile, path: str, version: tuple[int, int] | None, limits: ReadLimits) -> TerraformFacts:
    facts = TerraformFacts()
    resolver = Resolver(hcl, path, limits, facts.problems, facts.reads_files)
    clusters = clusters_of(hcl, resolver)
    facts.clusters.extend(clusters)
    cluster = clusters[0] if len(clusters) == 1 else None
    version = (cluster.version if cluster and cluster.version else None) or version
    templates: dict[str, LaunchTemplate] = {}
    for block in hcl.body.blocks:
        if block.type == "resource" and block.labels[:1] == ["aws_launch_template"] and len(block.labels) == 2:
            templates[block.address] = launch_template_of(block, resolver)
    for block in hcl.body.blocks:
        if block.type != "resource" or len(block.labels) != 2:
            continue
        if block.labels[0] == "aws_eks_node_group":
            managed_group(block, templates, resolver, cluster, version, facts)
        elif block.labels[0] == "aws_autoscaling_group":
            self_managed_group(block, templates, resolver, cluster, version, facts)
    for block in hcl.body.blocks:
        if block.type == "module":
            module_groups(block, resolver, version, facts)
        elif block.type == "resource" and len(block.labels) == 2 and block.labels[0] in _MANIFEST_RESOURCES:
            facts.manifests += manifest_objects(block, resolver)
    for template in templates.values():
        if not template.used and template.userdata is not None:
            facts.userdata.append(template.userdata)
            group = plain_group(template.block, template.block.address, resolver, cluster, version)
            group.custom_ami = template.custom_ami or None
            if template.instance_type is not None:
                group.instance_types = [template.instance_type]
            apply_kubelet(group, template.userdata)
            group.labels_complete = False
            if group.ami_family is not None:
                facts.node_groups.append(group)
    return facts


def manifest_objects(block: Block, resolver: Resolver) -> list[YMap]:
    """The objects a manifest resource writes inline (a heredoc or string, possibly
    through ``yamldecode``), positioned in the .tf file. A ``file()`` or
    ``templatefile()`` manifest is a file of its own, linted as such; HCL objects
    (``yamlencode({...})``) and values computed elsewhere are not read. The text goes
    through the template step, so ``${...}`` values are unknown placeholders; YAML
    that does not parse is left unread (the provider reports it at plan time)."""
    expr = resolver.value(block.attr(_MANIFEST_RESOURCES[block.labels[0]]))
    if expr is not None and expr.kind == "call" and str(expr.value) == "yamldecode" and expr.elements:
        expr = resolver.value(expr.elements[0])
    if expr is None or expr.kind not in ("string", "template", "heredoc") or expr.text is None:
        return []
    source = load_text(expr.text, Content.YAML, resolver.limits)
    if source.not_analysed is not None or source.problems:
        return []
    return list(source.objects())
