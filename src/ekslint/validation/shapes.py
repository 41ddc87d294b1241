"""The shape of the fields ekslint reads, checked the way the consumers decode them.

eksctl, nodeadm and the Kubernetes API server decode YAML into Go structs: a field of
the wrong kind (``nodeGroups: 5``, ``spec: [1, 2]``, ``tolerations: {}``) makes them
refuse the whole file. The model reads such a field as absent, so without this check a
broken file would pass silently. Each wrong field becomes one EKS001 finding on the key.
Only the fields the model reads are checked, and only where EKS002 has no schema to
validate them with: eksctl and nodeadm documents always have one, Kubernetes objects
with the ``kubernetes`` extra.

PodDisruptionBudget budgets are validated as the API server does (``budget_error`` in
the model, which reads only valid budgets).
"""

from __future__ import annotations

from typing import Any, Literal

from ekslint.model.filemodel import FileModel
from ekslint.model.kubernetes import POD_TEMPLATE_PATHS, budget_error, describe_kind, is_template_mapping
from ekslint.parse.text import Problem
from ekslint.parse.yamltree import YMap, YNode, YScalar, YSeq
from ekslint.validation.schemacheck import kubernetes_schemas_installed

Kind = Literal["map", "list", "scalar", "string"]
# key -> expected kind; a dict is a mapping with its own shape, a one-element list a
# list of such items.
Shape = dict[str, Any]

_METADATA: Shape = {"name": "scalar", "namespace": "scalar", "labels": "map", "annotations": "map"}
_SELECTOR: Shape = {"matchLabels": "map", "matchExpressions": [{"key": "scalar", "values": "list"}]}
_POD_SPEC: Shape = {
    "securityContext": {"sysctls": [{"name": "scalar", "value": "scalar"}]},
    "tolerations": [{"key": "scalar", "operator": "scalar", "value": "scalar", "effect": "scalar"}],
    "nodeSelector": "map",
    "affinity": {
        "nodeAffinity": {
            "requiredDuringSchedulingIgnoredDuringExecution": {
                "nodeSelectorTerms": [{"matchExpressions": [{"key": "scalar", "values": "list"}]}]
            }
        }
    },
    "hostNetwork": "scalar",
    "hostIPC": "scalar",
    "containers": ["map"],
}
_TEMPLATE: Shape = {"metadata": _METADATA, "spec": _POD_SPEC}
_PDB: Shape = {"metadata": _METADATA, "spec": {"selector": _SELECTOR}}


def _workload_shape(path: tuple[str, ...] | None) -> Shape:
    if path is None:
        return {"metadata": _METADATA, "spec": _POD_SPEC}
    shape: Any = _TEMPLATE
    for key in reversed(path):
        shape = {key: shape, "replicas": "scalar"} if key == "spec" else {key: shape}
    return {"metadata": _METADATA, **shape}


_WORKLOADS: dict[str, Shape] = {kind: _workload_shape(path) for kind, path in POD_TEMPLATE_PATHS.items()}

_DESCRIBE = {"map": "a mapping", "list": "a list", "scalar": "a single value", "string": "a string"}


def _fits(node: YNode, expected: Any) -> bool:
    if isinstance(node, YScalar) and node.value is None:
        return True  # null is the zero value: every consumer accepts it
    if isinstance(node, YMap) and is_template_mapping(node):
        return True
    if isinstance(node, YScalar) and node.text in ("...", "…"):
        return True  # an elision in an example (``cluster: ...``), not a value
    if isinstance(expected, dict) or expected == "map":
        return isinstance(node, YMap)
    if isinstance(expected, list) or expected == "list":
        return isinstance(node, YSeq)
    if expected == "string":
        return isinstance(node, YScalar) and not isinstance(node.value, bool)
    return isinstance(node, YScalar)


def check_shape(obj: YMap, shape: Shape, consumer: str, what: str) -> list[Problem]:
    """Fields of ``obj`` (recursively, per ``shape``) that are of the wrong kind."""
    problems: list[Problem] = []
    _walk(obj, shape, consumer, what, problems)
    return problems


def _walk(node: YMap, shape: Shape, consumer: str, what: str, problems: list[Problem]) -> None:
    for key, expected in shape.items():
        value = node.get(key)
        if value is None:
            continue
        if not _fits(value, expected):
            wanted = "a mapping" if isinstance(expected, dict) else "a list" if isinstance(expected, list) else None
            wanted = wanted or _DESCRIBE[expected]
            problems.append(
                Problem(
                    node.entry_span(key),
                    f"{what}: {value.path or key} is {describe_kind(value)}, but {consumer} expects {wanted} there and "
                    f"refuses the file; write it as {wanted}",
                )
            )
            continue
        if isinstance(expected, dict) and isinstance(value, YMap):
            _walk(value, expected, consumer, what, problems)
        elif isinstance(expected, list) and isinstance(value, YSeq):
            item_shape = expected[0]
            for item in value:
                if not _fits(item, item_shape):
                    wanted = "a mapping" if isinstance(item_shape, dict) else _DESCRIBE[item_shape]
                    problems.append(
                        Problem(
                            item.start_span,
                            f"{what}: {item.path} is {describe_kind(item)}, but {consumer} expects each item of "
                            f"{key} to be {wanted} and refuses the file; write it as {wanted}",
                        )
                    )
                elif isinstance(item_shape, dict) and isinstance(item, YMap):
                    _walk(item, item_shape, consumer, what, problems)


def check_object(obj: YMap, kind: str, api_version: str) -> list[Problem]:
    """Shape problems of one Kubernetes-style object (a document or ``List`` item)."""
    meta = obj.map("metadata")
    name = meta.text("name") if meta is not None else None
    what = f"{kind} {name}" if name else kind
    # A field of the wrong kind is a schema violation (EKS002) wherever ekslint has the
    # schema: always for eksctl and nodeadm, for Kubernetes objects with the
    # `kubernetes` extra. This check only covers what no schema does, so nothing is
    # reported twice.
    schemas = kubernetes_schemas_installed()
    if kind in _WORKLOADS:
        return [] if schemas else check_shape(obj, _WORKLOADS[kind], "the Kubernetes API server", what)
    if kind == "PodDisruptionBudget":
        problems = [] if schemas else check_shape(obj, _PDB, "the Kubernetes API server", what)
        spec = obj.map("spec")
        for key in ("minAvailable", "maxUnavailable") if spec is not None else ():
            value = spec.get(key) if spec is not None else None
            error = budget_error(value) if value is not None else None
            if error is not None and spec is not None:
                problems.append(
                    Problem(
                        spec.entry_span(key),
                        f"{what}: spec.{key} {error}; the Kubernetes API server refuses the PDB. "
                        f"Write a count like {key}: 1 or a percentage like {key}: 25%",
                    )
                )
        return problems
    return []


def check_file(model: FileModel) -> list[Problem]:
    """Shape problems of every Kubernetes-style object in a file (EKS001)."""
    problems: list[Problem] = []
    for obj in model.objects:
        problems.extend(check_object(obj, obj.text("kind") or "", obj.text("apiVersion") or ""))
    return problems
