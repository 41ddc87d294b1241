"""Kubernetes objects as rules read them: workloads with their pod spec, PDBs, HPAs,
ConfigMaps. Built from positioned YAML; values a rule may point at carry a Span.

Every kind with a pod template is a workload (DOMAIN.md, RULES.md EKS101): Pod,
Deployment, StatefulSet, DaemonSet, ReplicaSet, ReplicationController, Job, and CronJob
(whose pod spec sits two levels down, under ``jobTemplate``), and Argo Rollouts'
``Rollout`` (argoproj.io; argoproj/argo-rollouts pkg/apis/rollouts/v1alpha1/types.go:
``spec.template``, or ``spec.workloadRef`` naming a Deployment whose template it runs).
Other kinds carry a pod template where the ekslint config's ``pod-templates:`` says.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from ekslint.fastpickle import fast_pickle
from ekslint.model.scheduling import LabelSelector, NodeRequirements, Requirement, Toleration
from ekslint.parse.numbers import OutOfRange, abbreviate
from ekslint.parse.objects import object_name as shown_name
from ekslint.parse.templates import is_placeholder
from ekslint.parse.text import Span
from ekslint.parse.yamltree import YMap, YNode, YScalar, YSeq

# kind -> path from the object to its pod template (None: the object is the pod)
POD_TEMPLATE_PATHS: dict[str, tuple[str, ...] | None] = {
    "Pod": None,
    "Deployment": ("spec", "template"),
    "StatefulSet": ("spec", "template"),
    "DaemonSet": ("spec", "template"),
    "ReplicaSet": ("spec", "template"),
    "ReplicationController": ("spec", "template"),
    "Job": ("spec", "template"),
    "CronJob": ("spec", "jobTemplate", "spec", "template"),
    "Rollout": ("spec", "template"),
}
# The API group a built-in carrier must have (a ``Rollout`` of another group is not Argo's).
CARRIER_GROUPS = {"Rollout": "argoproj.io"}
# A Rollout has a scale subresource (argo-rollouts manifests/crds/rollout-crd.yaml), which
# the disruption controller reads as it reads a Deployment's replicas.
SCALABLE_KINDS = frozenset(("Deployment", "StatefulSet", "ReplicaSet", "ReplicationController", "Rollout"))
# The resource (resource.group) that owns a workload's pods when the disruption
# controller cannot read its scale: it finds the owners' scale for the kinds above
# and otherwise asks the owner's scale subresource, which these lack (kubernetes
# pkg/controller/disruption/disruption.go, finders and getScaleController). A CronJob's
# pods belong to the Jobs it creates.
UNSCALABLE_OWNERS: dict[str, str] = {"Job": "jobs.batch", "CronJob": "jobs.batch", "DaemonSet": "daemonsets.apps"}


@fast_pickle
@dataclass(frozen=True, slots=True)
class Sysctl:
    name: str
    value: str | None
    span: Span  # the ``name: ...`` entry of the list item


@fast_pickle
@dataclass(frozen=True, slots=True)
class PodToleration:
    toleration: Toleration
    span: Span  # the list item
    seconds_span: Span | None = None  # its ``tolerationSeconds`` entry


@fast_pickle
@dataclass(slots=True)
class PodSpec:
    sysctls: list[Sysctl] = field(default_factory=list)
    tolerations: list[PodToleration] = field(default_factory=list)
    scheduling: NodeRequirements = field(default_factory=NodeRequirements)
    host_network: bool = False
    host_ipc: bool = False
    host_network_span: Span | None = None
    host_ipc_span: Span | None = None


@fast_pickle
@dataclass(slots=True)
class Workload:
    kind: str
    name: str
    namespace: str | None
    span: Span  # where the object is named (its metadata.name entry)
    pod_labels: dict[str, str]
    annotations: dict[str, str]  # object and pod template annotations (template wins)
    pod: PodSpec
    replicas: int | None  # None: not fixed by the manifest (DaemonSet, CronJob)
    replicas_span: Span | None
    replicas_defaulted: bool = False
    # A pod label key or value is an unrendered placeholder: which selectors match the
    # pods only the rendering knows.
    labels_templated: bool = False
    # The fields the manifest writes (``replicas``, ``labels``, ``sysctls``,
    # ``tolerations``, ``nodeSelector``, ``affinity``, ``hostNetwork``, ``hostIPC``):
    # a kustomize patch replaces only what it writes.
    present: frozenset[str] = frozenset()
    # The kustomize build the object belongs to (its top-level kustomization), "" for
    # a plain file: objects of two builds (dev, prod) never meet.
    build: str = ""
    # A Rollout's ``spec.workloadRef``: the name of the Deployment whose pod template it runs.
    template_ref: str | None = None
    # The object's own metadata.labels (a kustomize patch target's labelSelector reads them).
    labels: dict[str, str] = field(default_factory=dict)

    @property
    def ref(self) -> str:
        return f"{self.kind}/{self.namespace}/{self.name}" if self.namespace else f"{self.kind}/{self.name}"

    @property
    def owner(self) -> str:
        """How the disruption controller sees the owner of the pods (kubernetes
        pkg/controller/disruption/disruption.go, getExpectedScale): ``"scalable"``
        (Deployment, StatefulSet, ReplicaSet, ReplicationController: their scale is
        the expected pod count), ``"none"`` (a bare Pod: not counted), or
        ``"unscalable"`` (Job, CronJob, DaemonSet: no scale subresource, and counting
        fails)."""
        if self.kind in SCALABLE_KINDS:
            return "scalable"
        return "none" if self.kind == "Pod" else "unscalable"

    @property
    def owner_resource(self) -> str | None:
        """The resource of an unscalable owner as the controller names it
        (``jobs.batch``, ``daemonsets.apps``), else None."""
        return UNSCALABLE_OWNERS.get(self.kind)


@fast_pickle
@dataclass(slots=True)
class Budget:
    """A PDB's minAvailable or maxUnavailable."""

    field: str
    value: int | str
    span: Span


@fast_pickle
@dataclass(slots=True)
class PodDisruptionBudget:
    name: str
    namespace: str | None
    span: Span
    selector: LabelSelector | None  # None: no selector (policy/v1: selects nothing)
    selector_span: Span | None
    min_available: Budget | None
    max_unavailable: Budget | None
    api_version: str
    selector_templated: bool = False  # a selector key or value is a placeholder: what it selects is unknown
    present: frozenset[str] = frozenset()  # minAvailable, maxUnavailable, selector, as written
    build: str = ""  # see Workload.build
    api_version_span: Span | None = None
    labels: dict[str, str] = field(default_factory=dict)  # see Workload.labels

    @property
    def ref(self) -> str:
        return (
            f"PodDisruptionBudget/{self.namespace}/{self.name}"
            if self.namespace
            else f"PodDisruptionBudget/{self.name}"
        )


@fast_pickle
@dataclass(slots=True)
class Autoscaler:
    """A HorizontalPodAutoscaler: the replica floor of the workload it scales."""

    name: str
    namespace: str | None
    target_kind: str
    target_name: str
    min_replicas: int
    span: Span
    present: frozenset[str] = frozenset()  # minReplicas, scaleTargetRef, as written
    build: str = ""  # see Workload.build
    min_replicas_span: Span | None = None  # the minReplicas entry (a kustomize patch's when it sets it)
    labels: dict[str, str] = field(default_factory=dict)  # see Workload.labels


@fast_pickle
@dataclass(slots=True)
class ConfigMap:
    name: str
    namespace: str | None
    data: dict[str, str]
    span: Span
    data_spans: dict[str, Span]


# -- extraction ------------------------------------------------------------------------


def _str_map(node: YMap | None) -> dict[str, str]:
    if node is None:
        return {}
    result: dict[str, str] = {}
    for key, value in node.items():
        if isinstance(value, YScalar) and value.value is not None:
            result[key] = value.text if isinstance(value.value, str) else _go_string(value.value)
    return result


def _go_string(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def object_name(obj: YMap) -> str:
    """metadata.name as kustomize matches it ("" without one)."""
    meta = obj.map("metadata")
    return (meta.text("name") if meta is not None else None) or ""


def object_labels(obj: YMap) -> dict[str, str]:
    meta = obj.map("metadata")
    return _str_map(meta.map("labels") if meta is not None else None)


def _name_span(obj: YMap) -> Span:
    meta = obj.map("metadata")
    if meta is not None and "name" in meta:
        return meta.entry_span("name")
    if meta is not None and "generateName" in meta:
        return meta.entry_span("generateName")
    if "kind" in obj:
        return obj.entry_span("kind")
    return obj.start_span


TEMPLATED_NAME = "<templated>"  # a name only a template's rendering knows (never quoted)


def _meta(obj: YMap) -> tuple[str, str | None]:
    meta = obj.map("metadata")
    if meta is None:
        return "?", None
    name, namespace = shown_name(meta), meta.text("namespace")
    if namespace is not None and is_placeholder(namespace):
        namespace = TEMPLATED_NAME
    return name, namespace


def label_selector(node: YMap | None) -> LabelSelector | None:
    if node is None:
        return None
    labels = tuple(sorted(_str_map(node.map("matchLabels")).items()))
    expressions: list[Requirement] = []
    for item in node.seq("matchExpressions") or ():
        if isinstance(item, YMap):
            expressions.append(_requirement(item))
    return LabelSelector(labels, tuple(expressions))


def _requirement(item: YMap) -> Requirement:
    values = tuple(v.text for v in (item.seq("values") or ()) if isinstance(v, YScalar) and v.value is not None)
    return Requirement(item.text("key") or "", item.text("operator") or "", values)


def _int(node: YMap | None, key: str) -> tuple[int | None, Span | None]:
    if node is None:
        return None, None
    value = node.get(key)
    if isinstance(value, YScalar) and isinstance(value.value, int) and not isinstance(value.value, bool):
        return value.value, node.entry_span(key)
    return None, None


def _path(obj: YMap, path: tuple[str, ...]) -> YMap | None:
    node: YMap | None = obj
    for key in path:
        if node is None:
            return None
        node = node.map(key)
    return node


def pod_spec(spec: YMap | None) -> PodSpec:
    pod = PodSpec()
    if spec is None:
        return pod
    security = spec.map("securityContext")
    for item in (security.seq("sysctls") if security else None) or ():
        # A templated sysctl name is unknown: nothing to judge, nothing to quote.
        if isinstance(item, YMap) and item.text("name") and not is_placeholder(item.text("name") or ""):
            pod.sysctls.append(Sysctl(item.text("name") or "", item.text("value"), item.entry_span("name")))
    tolerations: list[Toleration] = []
    for item in spec.seq("tolerations") or ():
        if not isinstance(item, YMap):
            continue
        seconds = item.value("tolerationSeconds")
        toleration = Toleration(
            key=item.text("key") or "",
            operator=item.text("operator") or "",
            value=item.text("value") or "",
            effect=item.text("effect") or "",
            seconds=seconds if isinstance(seconds, int) and not isinstance(seconds, bool) else None,
        )
        tolerations.append(toleration)
        seconds_span = item.entry_span("tolerationSeconds") if "tolerationSeconds" in item else None
        pod.tolerations.append(PodToleration(toleration, item.span, seconds_span))
    terms: list[list[Requirement]] | None = None
    required = _path(spec, ("affinity", "nodeAffinity", "requiredDuringSchedulingIgnoredDuringExecution"))
    if required is not None:
        terms = []
        for term in required.seq("nodeSelectorTerms") or ():
            if isinstance(term, YMap):
                exprs = [_requirement(e) for e in term.seq("matchExpressions") or () if isinstance(e, YMap)]
                # matchFields select by node name: a node group ekslint cannot rule out.
                if term.seq("matchFields"):
                    exprs.append(Requirement("metadata.name", "Exists"))
                terms.append(exprs)
    pod.scheduling = NodeRequirements(_str_map(spec.map("nodeSelector")), terms, tolerations)
    if spec.value("hostNetwork") is True:
        pod.host_network, pod.host_network_span = True, spec.entry_span("hostNetwork")
    if spec.value("hostIPC") is True:
        pod.host_ipc, pod.host_ipc_span = True, spec.entry_span("hostIPC")
    return pod


_POD_FIELDS = ("tolerations", "nodeSelector", "affinity", "hostNetwork", "hostIPC")


def _present(obj: YMap, path: tuple[str, ...] | None, template: YMap | None) -> frozenset[str]:
    found: list[str] = []
    spec = obj.map("spec")
    if spec is not None and "replicas" in spec:
        found.append("replicas")
    pod_spec_node = obj.map("spec") if path is None else (template.map("spec") if template is not None else None)
    pod_meta = obj.map("metadata") if path is None else (template.map("metadata") if template is not None else None)
    if pod_meta is not None and "labels" in pod_meta:
        found.append("labels")
    if pod_spec_node is not None:
        found.extend(key for key in _POD_FIELDS if key in pod_spec_node)
        security = pod_spec_node.map("securityContext")
        if security is not None and "sysctls" in security:
            found.append("sysctls")
    return frozenset(found)


def workload(obj: YMap, kind: str, path: tuple[str, ...] | str | None = "", partial: bool = False) -> Workload | None:
    """The workload an object is; ``path`` overrides the kind's pod-template path (a
    ``pod-templates:`` entry of the config). ``partial``: also without a pod template
    (a kustomize patch that writes only ``spec.replicas``)."""
    if path == "":
        path = POD_TEMPLATE_PATHS[kind]
    assert not isinstance(path, str)
    template = obj if path is None else _path(obj, path)
    ref = _workload_ref(obj) if kind == "Rollout" and template is None else None
    if template is None and ref is None and not partial:
        return None
    name, namespace = _meta(obj)
    template_meta = template.map("metadata") if template is not None else None
    object_meta = obj.map("metadata")
    annotations = _str_map(object_meta.map("annotations") if object_meta else None)
    if path is not None and template is not None:
        annotations.update(_str_map(template_meta.map("annotations") if template_meta else None))
    replicas: int | None = None
    replicas_span: Span | None = None
    defaulted = False
    spec = obj.map("spec")
    if kind in SCALABLE_KINDS:
        replicas, replicas_span = _int(spec, "replicas")
        if replicas is None and (spec is None or "replicas" not in spec):
            replicas, defaulted = 1, True
    elif kind == "Job":
        replicas, replicas_span = _int(spec, "parallelism")
        if replicas is None:
            replicas, defaulted = 1, True
    elif kind == "Pod":
        replicas, defaulted = 1, True
    pod_labels = _str_map(template_meta.map("labels") if template_meta else None)
    pod_node = obj.map("spec") if path is None else (template.map("spec") if template is not None else None)
    return Workload(
        kind=kind,
        name=name,
        namespace=namespace,
        span=_name_span(obj),
        pod_labels=pod_labels,
        annotations=annotations,
        pod=pod_spec(pod_node),
        replicas=replicas,
        replicas_span=replicas_span,
        replicas_defaulted=defaulted,
        labels_templated=any(is_placeholder(k) or is_placeholder(v) for k, v in pod_labels.items()),
        present=_present(obj, path, template),
        template_ref=ref,
        labels=object_labels(obj),
    )


def _workload_ref(obj: YMap) -> str | None:
    """The Deployment a Rollout's ``spec.workloadRef`` names (argo-rollouts
    pkg/apis/rollouts/v1alpha1/types.go ObjectRef: apiVersion, kind, name)."""
    spec = obj.map("spec")
    ref = spec.map("workloadRef") if spec is not None else None
    if ref is None or (ref.text("kind") or "Deployment") != "Deployment":
        return None
    return ref.text("name")


def pod_disruption_budget(obj: YMap) -> PodDisruptionBudget:
    name, namespace = _meta(obj)
    spec = obj.map("spec")
    budgets: dict[str, Budget] = {}
    for key in ("minAvailable", "maxUnavailable"):
        value = spec.get(key) if spec is not None else None
        # An invalid value (-3%, 1.5, 300%) is an EKS001 finding (validation/shapes.py): the
        # API server refuses the PDB, so no rule judges what it would do.
        if (
            spec is not None
            and isinstance(value, YScalar)
            and value.value is not None
            and not budget_error(value)
            and not is_placeholder(value.text)
        ):
            raw = value.value if isinstance(value.value, int) and not isinstance(value.value, bool) else value.text
            budgets[key] = Budget(key, raw, spec.entry_span(key))
    selector_node = spec.map("selector") if spec is not None else None
    return PodDisruptionBudget(
        name=name,
        namespace=namespace,
        span=_name_span(obj),
        selector=label_selector(selector_node),
        selector_span=spec.key_span("selector") if spec is not None and selector_node is not None else None,
        min_available=budgets.get("minAvailable"),
        max_unavailable=budgets.get("maxUnavailable"),
        api_version=obj.text("apiVersion") or "",
        selector_templated=_templated_selector(label_selector(selector_node)),
        present=frozenset(k for k in ("minAvailable", "maxUnavailable", "selector") if spec is not None and k in spec),
        api_version_span=obj.entry_span("apiVersion") if "apiVersion" in obj else None,
        labels=object_labels(obj),
    )


def _templated_selector(selector: LabelSelector | None) -> bool:
    if selector is None:
        return False
    texts = [text for pair in selector.match_labels for text in pair]
    texts += [text for r in selector.match_expressions for text in (r.key, r.operator, *r.values)]
    return any(is_placeholder(text) for text in texts)


def autoscaler(obj: YMap) -> Autoscaler | None:
    spec = obj.map("spec")
    if spec is None:
        return None
    # Without a scaleTargetRef (a kustomize patch of minReplicas) it scales nothing.
    target = spec.map("scaleTargetRef")
    name, namespace = _meta(obj)
    minimum, minimum_span = _int(spec, "minReplicas")
    return Autoscaler(
        name,
        namespace,
        (target.text("kind") or "") if target is not None else "",
        (target.text("name") or "") if target is not None else "",
        minimum if minimum is not None else 1,
        _name_span(obj),
        frozenset(k for k in ("minReplicas", "scaleTargetRef") if k in spec),
        min_replicas_span=minimum_span,
        labels=object_labels(obj),
    )


def config_map(obj: YMap) -> ConfigMap:
    name, namespace = _meta(obj)
    data = obj.map("data")
    spans = {key: data.entry_span(key) for key, _ in data.items()} if data is not None else {}
    return ConfigMap(name, namespace, _str_map(data), _name_span(obj), spans)


# API groups of objects that run no pods of their own although they are not built in.
_PODLESS_GROUPS = ("eksctl.io", "node.eks.aws", "karpenter.sh", "karpenter.k8s.aws", "kustomize.config.k8s.io")


def builtin_kind(kind: str, api_version: str) -> bool:
    """Whether ``kind`` under ``api_version`` is the object ekslint models under that
    name: Kubernetes' own (a group without a dot, or a ``*.k8s.io`` one: ``apps``,
    ``policy``, ``batch``, the core group), or a carrier's own group (Argo's
    ``Rollout``). A CRD may define a ``Deployment`` or ``PodDisruptionBudget`` of its own
    group (``example.com/v1``): the API server serves it from the CRD's schema and no
    controller of Kubernetes reads it, so it is no workload and no PDB (kubernetes
    pkg/controller/disruption lists ``policy`` PDBs only)."""
    group = api_version.rpartition("/")[0]
    if kind in CARRIER_GROUPS:
        return group == CARRIER_GROUPS[kind]
    return "." not in group or group.endswith(".k8s.io")


def is_custom_resource(obj: YMap) -> bool:
    """An object of a kind an operator defines (its API group is not Kubernetes' own:
    ``apps``, ``batch``, ``*.k8s.io``...), which may create pods no file shows."""
    api_version = obj.text("apiVersion") or ""
    group = api_version.rpartition("/")[0]
    return "." in group and not group.endswith(".k8s.io") and group not in _PODLESS_GROUPS


def namespace_of(obj: YMap) -> str | None:
    return _meta(obj)[1]


def namespace_key(namespace: str | None) -> str | None:
    """Objects without a namespace go wherever they are applied; treat them as one
    namespace together with ``default`` (None), as cross-file matching does."""
    return None if namespace in (None, "", "default") else namespace


def same_build(a: str, b: str) -> bool:
    """Whether objects of these kustomize builds can meet: objects of one build, or
    with a plain file's ("") — never of two builds (alternatives such as dev, prod)."""
    return not a or not b or a == b


IGNORE_ANNOTATION = "ekslint.io/ignore"


def ignore_annotations(obj: YMap, kind: str) -> list[tuple[str, str, Span]]:
    """``ekslint.io/ignore`` on the object and, for workloads, on its pod template."""
    found: list[tuple[str, str, Span]] = []
    path = POD_TEMPLATE_PATHS.get(kind)
    holders = [obj] + ([template] if path and (template := _path(obj, path)) is not None else [])
    for holder in holders:
        meta = holder.map("metadata")
        annotations = meta.map("annotations") if meta is not None else None
        value = annotations.scalar(IGNORE_ANNOTATION) if annotations is not None else None
        if annotations is not None and value is not None and value.value is not None:
            found.append((str(obj.seg), value.text, annotations.entry_span(IGNORE_ANNOTATION)))
    return found


# -- PDB budgets as the API server validates them (ValidatePositiveIntOrPercent) ----------


def is_template_mapping(node: YNode) -> bool:
    """``{{ .Values.x }}``: an unrendered Helm/Go template placeholder, which YAML reads
    as a flow mapping; its rendered value is unknown."""
    mark = node.node.start_mark
    lines = node.doc.text.lines()
    return mark.line < len(lines) and lines[mark.line].startswith("{{", mark.column)


def describe_kind(node: YNode) -> str:
    if isinstance(node, YMap):
        return "a mapping"
    if isinstance(node, YSeq):
        return "a list"
    value = node.value if isinstance(node, YScalar) else None
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, (int, float)):
        return "a number"
    return "a string"


# int32, as IntOrString holds it
_INT32_MAX = 2**31 - 1
_PERCENT = re.compile(r"[0-9]+%")


def budget_error(node: YNode) -> str | None:
    """Why the API server refuses a PDB minAvailable/maxUnavailable value; None if valid."""
    if (isinstance(node, YScalar) and (node.value is None or is_placeholder(node.text))) or (
        isinstance(node, YMap) and is_template_mapping(node)
    ):
        return None  # not set, or a template's value: unknown
    if not isinstance(node, YScalar):
        return f"is {describe_kind(node)}, but must be an integer or a percentage"
    value = node.value
    shown = abbreviate(node.text)
    if isinstance(value, (bool, float)):
        return f"{shown} is not an integer or a percentage"
    if isinstance(value, OutOfRange):
        return f"{shown} does not fit in a 32-bit integer"
    if isinstance(value, int):
        if value < 0:
            return f"{shown} is negative; it must be greater than or equal to 0"
        if value > _INT32_MAX:
            return f"{shown} does not fit in a 32-bit integer"
        return None
    text = str(value)
    if not _PERCENT.fullmatch(text):
        return f"{abbreviate(text)!r} is not an integer or a percentage like '25%'"
    if len(text[:-1].lstrip("0")) > 3 or int(text[:-1]) > 100:
        return f"{abbreviate(text)} is more than 100%"
    return None
