"""Schema validation of a file's documents (EKS002): each document, embedded ones
included (NodeConfig parts, overrideBootstrapCommand, Bottlerocket settings, Karpenter
kubelet blocks), against the schema of the program that reads it."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from ekslint.model.scheduling import TAINT_EFFECT_NAMES
from ekslint.parse.text import Problem
from ekslint.parse.tomldoc import TomlDoc
from ekslint.parse.yamltree import YMap, YNode
from ekslint.validation.locators import Locator, TemplateDocument, TomlLocator, YamlLocator, plain
from ekslint.validation.schemacheck import (
    BOTTLEROCKET,
    EKSCTL,
    KARPENTER,
    KUBELET,
    KUBERNETES,
    NODEADM,
    NODEADM_HYBRID,
    CompiledSchema,
    Reader,
    kubernetes_schema_version,
    kubernetes_schema_versions,
    kubernetes_validator,
    validate,
    validator,
)

if TYPE_CHECKING:
    from ekslint.model.filemodel import FileModel


def check_file(model: FileModel) -> list[Problem]:
    """Validate every document of a file that ekslint knows the schema of, embedded
    ones included (NodeConfig parts, overrideBootstrapCommand, Bottlerocket settings)."""
    from ekslint.model.apiversions import never_served
    from ekslint.model.eksctl import DEFAULT_KUBERNETES_VERSION, is_cluster_config
    from ekslint.model.nodeconfig import is_nodeconfig

    problems: list[Problem] = []
    # No version stated: the one default every rule uses (eksctl's DefaultVersion).
    target = model.kubernetes_version or DEFAULT_KUBERNETES_VERSION
    version = kubernetes_schema_version(target) if kubernetes_schema_versions() else None
    for obj in model.objects:
        kind = obj.text("kind") or ""
        api_version = obj.text("apiVersion") or ""
        if is_cluster_config(obj):
            problems += _check_yaml(validator("eksctl-clusterconfig"), obj, EKSCTL, "the ClusterConfig")
            for item in obj.seq("nodeGroups") or ():
                extra = item.map("kubeletExtraConfig") if isinstance(item, YMap) else None
                if extra is not None:
                    problems += _check_yaml(validator("kubelet-configuration"), extra, KUBELET, "kubeletExtraConfig")
        elif is_nodeconfig(obj):
            continue  # validated below with the userdata it belongs to
        elif kind == "KubeletConfiguration" and api_version.startswith("kubelet.config.k8s.io/"):
            problems += _check_yaml(validator("kubelet-configuration"), obj, KUBELET, "the KubeletConfiguration")
        elif (unserved := never_served(obj, kind)) is not None:
            problems.append(unserved)
        elif version is not None:
            checker = kubernetes_validator(version, kind, api_version)
            if checker is not None:
                problems += _check_yaml(checker, obj, KUBERNETES, f"the {kind}")
    for userdata in model.userdata:
        merged = userdata.nodeconfig
        hybrid = merged is not None and merged.hybrid is not None
        schema, reader = ("nodeconfig-hybrid", NODEADM_HYBRID) if hybrid else ("nodeconfig", NODEADM)
        for part in merged.parts if merged is not None else ():
            label = "" if part.source in ("NodeConfig", "userdata") else part.source
            problems += _check_yaml(validator(schema), part.obj, reader, "the NodeConfig", label)
            spec = part.obj.map("spec")
            kubelet = spec.map("kubelet") if spec is not None else None
            config = kubelet.map("config") if kubelet is not None else None
            if config is not None:
                problems += _check_yaml(validator("kubelet-configuration"), config, KUBELET, "kubelet.config", label)
        settings = userdata.bottlerocket
        if settings is None:
            continue
        kubernetes = settings.get(("kubernetes",))
        if not isinstance(kubernetes, dict):
            continue
        toml = getattr(settings, "doc", None)
        yaml_root = getattr(settings, "root", None)
        if isinstance(toml, TomlDoc):
            locator: Locator = TomlLocator(toml, ("settings", "kubernetes"))
            data = kubernetes
        elif isinstance(yaml_root, YMap) and isinstance(yaml_root.get("kubernetes"), YMap):
            node = yaml_root.get("kubernetes")
            assert node is not None
            try:
                locator, data = YamlLocator(node), plain(node)
            except (TemplateDocument, ValueError, RecursionError):
                continue
        else:
            continue
        problems += validate(validator("bottlerocket-kubernetes"), data, locator, BOTTLEROCKET, "settings.kubernetes")
    return problems + _karpenter_problems(model)


def _karpenter_problems(model: FileModel) -> list[Problem]:
    """Karpenter and Auto Mode objects (custom resources: no Kubernetes schema covers them)."""
    from ekslint.model import karpenter
    from ekslint.model.nodegroup import Origin

    pools = (Origin.KARPENTER, Origin.AUTO_MODE)
    if not model.node_classes and not any(g.origin in pools for g in model.node_groups):
        return []  # no pool or class was read from this file
    problems: list[Problem] = []
    for obj in model.objects:
        kind = obj.text("kind") or ""
        if karpenter.is_pool(obj, kind) or karpenter.is_node_class(obj, kind):
            problems += _check_karpenter(obj, kind)
    return problems


def _check_karpenter(obj: YMap, kind: str) -> list[Problem]:
    """The kubelet settings of Karpenter objects, and fields Auto Mode and v1 do not have."""
    from ekslint.model import karpenter

    spec = obj.map("spec")
    if spec is None:
        return []
    name = obj.map("metadata").text("name") if obj.map("metadata") is not None else ""  # type: ignore[union-attr]
    what = f"{kind} {name}"
    if karpenter.group_of(obj) == karpenter.AUTO_MODE_GROUP:
        return [
            Problem(
                spec.key_span(key),
                f"spec.{key} is not a field of an EKS Auto Mode NodeClass: Auto Mode boots its nodes itself and "
                f"takes no {reason}; the API server refuses the field. Remove it, or use a Karpenter EC2NodeClass "
                "on self-managed Karpenter for custom node bootstrap",
            )
            for key, reason in (("userData", "userdata"), ("kubelet", "kubelet settings"))
            if key in spec
        ]
    if kind == "EC2NodeClass" and karpenter.pool_version(obj) == "v1":
        problems = _alias_problems(spec, what) or _family_problems(spec, what)
        if problems:
            return problems
    if kind == "NodePool":
        template = spec.map("template")
        node_spec = template.map("spec") if template is not None else None
        taint_problems = _taint_list_problems(node_spec, what) if node_spec is not None else []
        if node_spec is None or node_spec.map("kubelet") is None or taint_problems:
            return taint_problems
        if karpenter.pool_version(obj) == "v1":
            return [
                Problem(
                    node_spec.key_span("kubelet"),
                    f"spec.template.spec.kubelet is not a field of a karpenter.sh/v1 NodePool ({what}): Karpenter v1 "
                    "moved the kubelet settings to the EC2NodeClass, and the API server refuses or drops this field, "
                    "so none of it reaches the nodes. Move it to spec.kubelet of the EC2NodeClass",
                )
            ]
        config = node_spec.map("kubelet")
    else:
        config = spec.map("kubelet") if kind == "EC2NodeClass" else None
    if config is None:
        config = spec.map("kubeletConfiguration") if kind == "Provisioner" else None
    if config is None:
        return []
    return _check_yaml(validator("kubelet-configuration"), config, KARPENTER, f"the kubelet settings of {what}")


# aws/karpenter-provider-aws pkg/apis/v1/ec2nodeclass.go AMISelectorTerm.Alias: CEL rules
# the API server enforces (format, family, Windows only at "latest").
_ALIAS = re.compile(r"[a-zA-Z0-9]+@.+")
_ALIAS_FAMILIES = ("al2", "al2023", "bottlerocket", "windows2019", "windows2022", "windows2025")
# kubernetes-sigs/karpenter pkg/apis/v1/nodepool.go: taints are core/v1 Taints.


def _alias_problems(spec: YMap, what: str) -> list[Problem]:
    from ekslint.parse.templates import is_placeholder

    problems: list[Problem] = []
    for term in spec.seq("amiSelectorTerms") or ():
        alias = term.scalar("alias") if isinstance(term, YMap) else None
        if alias is None or not isinstance(alias.value, str) or is_placeholder(alias.text):
            continue
        text, span = alias.text, alias.span
        family, _, version = text.partition("@")
        if not _ALIAS.fullmatch(text):
            why = "is not of the form family@version"
        elif family not in _ALIAS_FAMILIES:
            why = f"names family {family!r}, which Karpenter v1 does not have (it has {', '.join(_ALIAS_FAMILIES)})"
        elif family.startswith("windows") and version != "latest":
            why = "pins a Windows AMI version, but Windows aliases take only @latest"
        else:
            continue
        problems.append(
            Problem(
                span,
                f"alias {text!r} in amiSelectorTerms of {what} is refused by the API server: it {why}, so no node "
                "is launched from the class. Write family@version, for example al2023@latest or bottlerocket@v1.20.0",
            )
        )
    return problems


def _family_problems(spec: YMap, what: str) -> list[Problem]:
    """The CEL rule of a v1 EC2NodeClass (pkg/apis/crds/karpenter.k8s.aws_ec2nodeclasses.yaml,
    "must specify amiFamily if amiSelectorTerms does not contain an alias"): terms that
    select AMIs by id, name, tags or SSM parameter need an amiFamily to bootstrap them."""
    terms = spec.seq("amiSelectorTerms")
    if not terms or "amiFamily" in spec or any(isinstance(t, YMap) and "alias" in t for t in terms):
        return []
    return [
        Problem(
            spec.key_span("amiSelectorTerms"),
            f"amiSelectorTerms of {what} select AMIs without an alias, and the class has no amiFamily: the API "
            'server refuses it ("must specify amiFamily if amiSelectorTerms does not contain an alias"), since '
            "Karpenter would not know how to bootstrap those AMIs. Add amiFamily (AL2023, AL2, Bottlerocket, "
            "Windows2019/2022/2025, or Custom with complete userData)",
        )
    ]


def _taint_list_problems(node_spec: YMap, what: str) -> list[Problem]:
    problems: list[Problem] = []
    for key in ("taints", "startupTaints"):
        if key not in node_spec:
            continue
        items = node_spec.seq(key)
        if items is None:
            problems.append(
                Problem(
                    node_spec.entry_span(key),
                    f"spec.template.spec.{key} of {what} is not a list: the API server refuses the NodePool. Write a "
                    "list of taints ({key: ..., value: ..., effect: NoSchedule})",
                )
            )
            continue
        for item in items:
            effect = item.scalar("effect") if isinstance(item, YMap) else None
            if effect is not None and isinstance(effect.value, str) and effect.text not in TAINT_EFFECT_NAMES:
                problems.append(
                    Problem(
                        effect.span,
                        f"taint effect {effect.text!r} in spec.template.spec.{key} of {what} is refused by the API "
                        f"server: it is not one of {', '.join(TAINT_EFFECT_NAMES)}. Use one of them",
                    )
                )
    return problems


def _check_yaml(checker: CompiledSchema, node: YNode, reader: Reader, what: str, label: str = "") -> list[Problem]:
    try:
        data = plain(node)
    except TemplateDocument:
        return []
    except (ValueError, RecursionError):
        return []  # too large: EKS001 reports the limits
    return validate(checker, data, YamlLocator(node, label), reader, what)
