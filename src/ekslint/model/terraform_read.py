"""Where Terraform node groups are read: a .tf file (``ekslint.model.terraform`` and
``terraform_module``) or ``terraform show -json`` output (``terraform_plan``)."""

from __future__ import annotations

from ekslint.model.terraform import (
    LAUNCH_RESOURCES,
    LaunchTemplate,
    Resolver,
    TerraformFacts,
    apply_kubelet,
    clusters_of,
    is_eks_module,
    launch_template_of,
    managed_group,
    plain_group,
    self_managed_group,
)
from ekslint.model.terraform_dir import module_siblings, needs_module
from ekslint.model.terraform_module import module_groups
from ekslint.model.terraform_plan import read_plan
from ekslint.parse.hcl import Block, Expr, HclFile
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
    """The clusters and node groups a .tf file defines, read within its module: launch
    templates, ``local.*`` values, ``data "cloudinit_config"`` blocks and the cluster of
    the other .tf files of its directory count (``terraform_dir``), but only what this
    file defines is its facts (each sibling reports its own)."""
    facts = TerraformFacts()
    own = hcl.text.file
    eks_module = any(b.type == "module" and is_eks_module(_literal(b.attr("source"))) for b in hcl.body.blocks)
    siblings: list[HclFile] = []
    if needs_module(hcl, eks_module):
        siblings, facts.module_files = module_siblings(path, limits)
    resolver = Resolver(hcl, path, limits, facts.problems, facts.reads_files, siblings)
    clusters = clusters_of(resolver)
    facts.clusters.extend(c for c in clusters if c.file == own)
    cluster = clusters[0] if len(clusters) == 1 else None
    version = (cluster.version if cluster and cluster.version else None) or version
    blocks: dict[str, Block] = {}
    for block in resolver.module_blocks():
        if block.type == "resource" and len(block.labels) == 2 and block.labels[0] in LAUNCH_RESOURCES:
            blocks.setdefault(block.address, block)
    templates = _Templates(blocks, resolver)
    for address, block in blocks.items():
        if block.span.file == own:
            templates.get(address)
    # Every group of the module, so a template here knows the group (maybe in another
    # file) that uses it; only this file's groups and userdata are kept below. Another
    # file's group sees only this file's templates: what it does with its own file's is
    # that file's to report (each file of a module would otherwise model every template
    # of the module, quadratic in the module's size).
    theirs = _Templates(blocks, resolver, templates.read, own)
    for block in resolver.module_blocks():
        if block.type != "resource" or len(block.labels) != 2:
            continue
        table = templates if block.span.file == own else theirs
        with resolver.quiet(block):
            if block.labels[0] == "aws_eks_node_group":
                managed_group(block, table, resolver, cluster, version, facts)
            elif block.labels[0] == "aws_autoscaling_group":
                self_managed_group(block, table, resolver, cluster, version, facts)
    facts.node_groups = [g for g in facts.node_groups if g.file == own]
    facts.userdata = [u for u in facts.userdata if u.span.file == own]
    # This file's module blocks: their groups are this file's, wherever the map that
    # lists them is written (a local in locals.tf).
    for block in hcl.body.blocks:
        if block.type == "module":
            module_groups(block, resolver, version, facts)
        elif block.type == "resource" and len(block.labels) == 2 and block.labels[0] in _MANIFEST_RESOURCES:
            facts.manifests += manifest_objects(block, resolver)
    for template in templates.read.values():
        if not template.used and template.userdata is not None and template.block.span.file == own:
            # A template no group of the module uses: judged as a node group of its own.
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


class _Templates(dict[str, LaunchTemplate]):
    """The module's launch templates by address, each read (its userdata modelled) when
    first asked for; with ``only``, just those written in that file."""

    def __init__(
        self,
        blocks: dict[str, Block],
        resolver: Resolver,
        read: dict[str, LaunchTemplate] | None = None,
        only: str | None = None,
    ) -> None:
        super().__init__()
        self.blocks, self.resolver, self.only = blocks, resolver, only
        self.read: dict[str, LaunchTemplate] = read if read is not None else {}

    def get(self, key: str, default: LaunchTemplate | None = None) -> LaunchTemplate | None:  # type: ignore[override]
        block = self.blocks.get(key)
        if block is None or (self.only is not None and block.span.file != self.only):
            return default
        template = self.read.get(key)
        if template is None:
            with self.resolver.quiet(block):
                template = self.read[key] = launch_template_of(block, self.resolver)
        return template


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


def _literal(expr: Expr | None) -> str | None:
    return expr.string() if expr is not None else None
