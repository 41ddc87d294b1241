"""A kustomization file as facts: what it builds from (resources, bases, components)
and the transformations it applies (namespace, name prefix and suffix, labels,
replicas, patches), read from the file alone so it is modelled, cached and shipped
between processes like any other file. ``model/kbuild.py`` assembles the builds from
these facts and the facts of the files they name, in the cross-file stage.

Field names and meanings follow kustomize's ``api/types/kustomization.go`` (Kustomization,
Label, Replica, Patch, Selector) at kubernetes-sigs/kustomize 12f9e639.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from ekslint.fastpickle import fast_pickle
from ekslint.model import kubernetes as k8s
from ekslint.parse.sources import KUSTOMIZATION_NAMES
from ekslint.parse.text import Problem, Span
from ekslint.parse.yamltree import YMap, YNode, YScalar, YSeq, compose, to_python

__all__ = ["KUSTOMIZATION_NAMES", "Kustomization", "is_kustomization"]

if TYPE_CHECKING:
    from ekslint.model.context import ModelContext

# A reference kustomize fetches (api/internal/git/repospec.go): a URL, an scp-like git
# address, or a host path with a ref. ekslint never fetches.
_REMOTE = re.compile(r"^(?:[a-z][a-z0-9+.-]*://|git@|github\.com/|gitlab\.com/|bitbucket\.org/)|[?&]ref=", re.I)


def is_kustomization(path: str) -> bool:
    return os.path.basename(path) in KUSTOMIZATION_NAMES


def is_remote(reference: str) -> bool:
    return bool(_REMOTE.search(reference))


@fast_pickle
@dataclass(frozen=True, slots=True)
class Ref:
    """A path a kustomization names (resources, bases, components, patch paths), as
    written, with where it is written."""

    value: str
    span: Span


@fast_pickle
@dataclass(slots=True)
class Target:
    """A patch target (kustomize ``types.Selector``); ``name`` and ``namespace`` are
    regular expressions matched whole, as kustomize's ``resid`` selection does."""

    kind: str | None = None
    name: str | None = None
    namespace: str | None = None
    group: str | None = None
    version: str | None = None
    label_selector: str | None = None
    annotation_selector: str | None = None


@fast_pickle
@dataclass(slots=True)
class JsonOp:
    """One RFC 6902 operation of a JSON6902 patch."""

    op: str
    path: str
    value: Any
    span: Span  # the operation (its ``value`` entry when it has one)


@fast_pickle
@dataclass(slots=True)
class PatchObjects:
    """What a strategic-merge patch writes, as the model reads objects: its pod
    carriers, PDBs and autoscalers (each knowing the fields it writes), every
    object's identity and apiVersion, and the objects it deletes (``$patch: delete``)."""

    workloads: list[k8s.Workload] = field(default_factory=list)
    pdbs: list[k8s.PodDisruptionBudget] = field(default_factory=list)
    autoscalers: list[k8s.Autoscaler] = field(default_factory=list)
    # (kind, name, namespace, apiVersion, span of apiVersion) of every object
    identities: list[tuple[str, str, str | None, str, Span | None]] = field(default_factory=list)
    deleted: list[tuple[str, str]] = field(default_factory=list)  # (kind, name)


@fast_pickle
@dataclass(slots=True)
class Patch:
    span: Span  # the entry of the kustomization
    stage: str  # patchesStrategicMerge, patches or patchesJson6902: the order kustomize applies them in
    file: Ref | None = None  # a patch file, relative to the kustomization
    target: Target | None = None
    objects: PatchObjects | None = None  # an inline strategic-merge patch
    ops: list[JsonOp] | None = None  # an inline JSON6902 patch


@fast_pickle
@dataclass(slots=True)
class LabelSet:
    """``commonLabels`` (selectors and templates too) or one ``labels`` entry."""

    pairs: dict[str, str]
    include_selectors: bool
    include_templates: bool
    span: Span


@fast_pickle
@dataclass(slots=True)
class Kustomization:
    path: str
    span: Span  # the top of the file
    component: bool = False  # kind: Component
    resources: list[Ref] = field(default_factory=list)  # resources and bases, in order
    components: list[Ref] = field(default_factory=list)
    namespace: Ref | None = None
    name_prefix: str = ""
    name_suffix: str = ""
    labels: list[LabelSet] = field(default_factory=list)
    replicas: list[tuple[str, int, Span]] = field(default_factory=list)
    patches: list[Patch] = field(default_factory=list)
    # What ekslint does not build although the rest is built (helmCharts, generators and
    # transformer plugins): said once. A remote resource stops the build (kbuild.py).
    not_analysed: list[tuple[Span, str]] = field(default_factory=list)

    @property
    def directory(self) -> str:
        return os.path.dirname(self.path)


def _str_pairs(node: YMap | None) -> dict[str, str]:
    if node is None:
        return {}
    return {key: value.text for key, value in node.items() if isinstance(value, YScalar) and value.value is not None}


def _refs(root: YMap, key: str) -> list[Ref]:
    refs: list[Ref] = []
    seq = root.seq(key)
    for item in seq or ():
        if isinstance(item, YScalar) and item.value is not None:
            refs.append(Ref(item.text, item.span))
    return refs


def kustomization(root: YMap, path: str, context: ModelContext, problems: list[Problem]) -> Kustomization:
    """The facts of a kustomization file's (first) document."""
    result = Kustomization(path, root.start_span, component=root.text("kind") == "Component")
    result.resources = _refs(root, "resources") + _refs(root, "bases")
    result.components = _refs(root, "components")
    if root.text("namespace"):
        result.namespace = Ref(root.text("namespace") or "", root.entry_span("namespace"))
    result.name_prefix = root.text("namePrefix") or ""
    result.name_suffix = root.text("nameSuffix") or ""
    common = _str_pairs(root.map("commonLabels"))
    if common:
        result.labels.append(LabelSet(common, True, True, root.entry_span("commonLabels")))
    for item in root.seq("labels") or ():
        if isinstance(item, YMap):
            selectors = item.value("includeSelectors") is True
            templates = selectors or item.value("includeTemplates") is True
            result.labels.append(LabelSet(_str_pairs(item.map("pairs")), selectors, templates, item.span))
    for item in root.seq("replicas") or ():
        count = item.value("count") if isinstance(item, YMap) else None
        if isinstance(item, YMap) and item.text("name") and isinstance(count, int) and not isinstance(count, bool):
            result.replicas.append((item.text("name") or "", count, item.entry_span("count")))
    for item in root.seq("patchesStrategicMerge") or ():
        if isinstance(item, YScalar) and item.value is not None:
            if "\n" in item.text or ":" in item.text:
                result.patches.append(_inline(item, None, "patchesStrategicMerge", context, problems))
            else:
                result.patches.append(Patch(item.span, "patchesStrategicMerge", Ref(item.text, item.span)))
    for stage in ("patches", "patchesJson6902"):
        for item in root.seq(stage) or ():
            if isinstance(item, YMap):
                result.patches.append(_patch(item, stage, context, problems))
    for key in ("helmCharts", "helmChartInflationGenerator", "generators", "transformers"):
        if key in root:
            what = "helmCharts (the chart is not rendered)" if key.startswith("helm") else f"{key} (plugins do not run)"
            result.not_analysed.append((root.key_span(key), what))
    return result


def _target(node: YMap | None) -> Target | None:
    if node is None:
        return None
    return Target(
        node.text("kind"),
        node.text("name"),
        node.text("namespace"),
        node.text("group"),
        node.text("version"),
        node.text("labelSelector"),
        node.text("annotationSelector"),
    )


def _patch(item: YMap, stage: str, context: ModelContext, problems: list[Problem]) -> Patch:
    target = _target(item.map("target"))
    inline = item.scalar("patch")
    if inline is not None and inline.value is not None:
        patch = _inline(inline, target, stage, context, problems)
        patch.span = item.span
        return patch
    path = item.scalar("path")
    file = Ref(path.text, path.span) if path is not None and path.value is not None else None
    return Patch(item.span, stage, file, target)


def _inline(node: YScalar, target: Target | None, stage: str, context: ModelContext, problems: list[Problem]) -> Patch:
    """A patch written in the kustomization: parsed with positions in this file."""
    patch = Patch(node.span, stage, None, target)
    docs, error = compose(node.as_text())
    if error is not None:
        span = node.span
        problems.append(Problem(span, f"this inline patch is not valid YAML ({error}); kustomize cannot apply it"))
        return patch
    for doc in docs:
        root = doc.root()
        if isinstance(root, YSeq):
            patch.ops = (patch.ops or []) + json_ops(root)
        elif isinstance(root, YMap):
            patch.objects = patch.objects or PatchObjects()
            read_patch_object(root, patch.objects, context)
    return patch


def json_ops(root: YSeq) -> list[JsonOp]:
    """The operations of a JSON6902 patch document (a list of ``op``/``path`` maps)."""
    ops: list[JsonOp] = []
    for item in root:
        if not isinstance(item, YMap) or not item.text("op") or not item.text("path"):
            continue
        value_node = item.get("value")
        value = to_python(value_node.node) if value_node is not None else None
        span = item.entry_span("value") if value_node is not None else item.span
        ops.append(JsonOp(item.text("op") or "", item.text("path") or "", value, span))
    return ops


def is_json_patch(root: YNode) -> bool:
    return isinstance(root, YSeq) and any(isinstance(i, YMap) and "op" in i and "path" in i for i in root)


def read_patch_object(obj: YMap, into: PatchObjects, context: ModelContext) -> None:
    kind = obj.text("kind") or ""
    meta = obj.map("metadata")
    name = (meta.text("name") if meta else None) or ""
    namespace = meta.text("namespace") if meta else None
    api_version = obj.text("apiVersion") or ""
    span = obj.entry_span("apiVersion") if "apiVersion" in obj else None
    into.identities.append((kind, name, namespace, api_version, span))
    if obj.text("$patch") == "delete":
        into.deleted.append((kind, name))
        return
    path = context.pod_template_path(kind, api_version) if kind else ""
    if path != "":
        workload = k8s.workload(obj, kind, path, partial=True)
        if workload is not None:
            into.workloads.append(workload)
    elif kind == "PodDisruptionBudget" and k8s.builtin_kind(kind, api_version):
        into.pdbs.append(k8s.pod_disruption_budget(obj))
    elif kind == "HorizontalPodAutoscaler" and k8s.builtin_kind(kind, api_version):
        scaler = k8s.autoscaler(obj)
        if scaler is not None:
            into.autoscalers.append(scaler)
