"""kustomize patches applied to the objects of a build (model/kbuild.py): strategic
merge patches (kustomize api/filters/patchstrategicmerge; ``tolerations`` and
``securityContext.sysctls`` have no merge key in the Kubernetes API, so a patch replaces
them, maps such as labels and ``nodeSelector`` merge) and JSON6902 operations (kustomize
api/filters/patchjson6902) on the fields the rules read. Each value keeps where the patch
writes it. Targets are matched as kustomize's ``types.Selector`` is (kind, name and
namespace as whole-match regular expressions, group, version); a patch without one
matches by kind and current or original name (``resmap.GetById``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from ekslint.model import kubernetes as k8s
from ekslint.model.apiversions import REMOVED, RemovedApi
from ekslint.model.facts import FileFacts
from ekslint.model.kustomize import JsonOp, PatchObjects, Target
from ekslint.model.scheduling import LabelSelector, NodeRequirements, Requirement, Toleration
from ekslint.parse.text import Span

Named = k8s.Workload | k8s.PodDisruptionBudget | k8s.Autoscaler | k8s.ConfigMap


@dataclass(slots=True)
class Acc:
    """The objects of a build so far, with every name each had (kustomize matches
    patches and replicas by current or original name)."""

    facts: FileFacts
    names: dict[int, set[str]] = field(default_factory=dict)
    files: int = 0

    def known_names(self, obj: object, current: str) -> set[str]:
        return self.names.setdefault(id(obj), {current})


# -- patches ------------------------------------------------------------------------------


class UnsupportedTarget(Exception):
    """A target pattern ekslint does not match (see ``_pattern_matches``)."""


# Regular expression syntax; a pattern without it is a name compared as it is.
_META = frozenset(".^$*+?()[]{}|\\")
_UNSAFE = frozenset("(){}\\")


def _pattern_matches(pattern: str, value: str) -> bool:
    """Whether a target's name or namespace pattern matches ``value`` whole, as
    kustomize's selector does (Go's regexp, which is linear). Python's re backtracks,
    so a pattern from a kustomization is used as a regular expression only where it
    cannot backtrack badly: no groups, counted repetition or escapes, at most two
    quantifiers, at most 253 characters (a Kubernetes name's limit). Others raise
    UnsupportedTarget and the build is said to be not analysed."""
    if not _META.intersection(pattern):
        return pattern == value
    if len(pattern) > 253 or _UNSAFE.intersection(pattern) or sum(pattern.count(q) for q in "*+?") > 2:
        raise UnsupportedTarget(f"the patch target pattern {pattern[:60]!r} (only simple patterns are matched)")
    try:
        return re.fullmatch(pattern, value) is not None
    except re.error as err:
        raise UnsupportedTarget(f"the patch target pattern {pattern[:60]!r} is not a regular expression") from err


def _selected(
    target: Target, kind: str, names: set[str], namespace: str | None, group: str, labels: dict[str, str]
) -> bool:
    if target.annotation_selector:
        # The facts keep no object annotations apart from the pod template's: the build is
        # not analysed rather than patched in the wrong places.
        raise UnsupportedTarget(f"a patch target with annotationSelector {target.annotation_selector[:60]!r}")
    if target.kind and target.kind != kind:
        return False
    if target.name and not any(_pattern_matches(target.name, n) for n in names):
        return False
    if target.namespace and not _pattern_matches(target.namespace, namespace or ""):
        return False
    if target.group is not None and target.group != group:
        return False
    return not target.label_selector or parse_label_selector(target.label_selector).matches(labels)


# A selector string, as kubernetes apimachinery pkg/labels/selector.go Parse reads it:
# comma-separated `key`, `!key`, `key=value`, `key==value`, `key!=value`,
# `key in (a,b)`, `key notin (a,b)`, `key>1`, `key<1`. Read by hand, not by regular
# expressions (linear on any input).
_OPERATORS = (("==", "In"), ("!=", "NotIn"), ("=", "In"), (">", "Gt"), ("<", "Lt"))
_SET_OPERATORS = {"in": "In", "notin": "NotIn"}
_LABEL_SPECIALS = frozenset(" \t!=<>(),")


def _selector_terms(text: str) -> list[str]:
    """The comma-separated requirements, commas inside ``( )`` kept."""
    terms: list[str] = []
    depth, start = 0, 0
    for i, char in enumerate(text):
        if char == "(":
            depth += 1
        elif char == ")":
            depth -= 1
        elif char == "," and depth == 0:
            terms.append(text[start:i])
            start = i + 1
    terms.append(text[start:])
    return [term.strip() for term in terms]


def _label_word(word: str) -> bool:
    return bool(word) and not _LABEL_SPECIALS.intersection(word)


def _requirement_of(term: str) -> Requirement | None:
    if term.startswith("!"):
        key = term[1:].strip()
        return Requirement(key, "DoesNotExist") if _label_word(key) else None
    if _label_word(term):
        return Requirement(term, "Exists")
    key, _, rest = term.partition(" ")
    rest = rest.strip()
    word, _, values = rest.partition("(")
    if _label_word(key) and word.strip() in _SET_OPERATORS and values.endswith(")"):
        items = tuple(v.strip() for v in values[:-1].split(","))
        if "(" not in values[:-1] and all(not v or _label_word(v) for v in items):
            return Requirement(key, _SET_OPERATORS[word.strip()], tuple(v for v in items if v))
        return None
    for token, operator in _OPERATORS:
        key, found, value = term.partition(token)
        if found:
            key, value = key.strip(), value.strip()
            if _label_word(key) and (not value or _label_word(value)):
                return Requirement(key, operator, (value,))
            return None
    return None


def parse_label_selector(text: str) -> LabelSelector:
    """A kustomize target's ``labelSelector`` (kubernetes-sigs/kustomize
    api/resource/resource.go MatchesLabelSelector: ``labels.Parse`` against the object's
    metadata.labels). A string it cannot read raises UnsupportedTarget."""
    requirements: list[Requirement] = []
    for term in _selector_terms(text.strip()) if text.strip() else []:
        requirement = _requirement_of(term)
        if requirement is None:
            raise UnsupportedTarget(
                f"the patch target labelSelector {text[:60]!r} (not a label selector ekslint reads)"
            )
        requirements.append(requirement)
    return LabelSelector((), tuple(requirements))


def _group_of(kind: str) -> str:
    if kind in ("Deployment", "StatefulSet", "DaemonSet", "ReplicaSet"):
        return "apps"
    if kind in ("Job", "CronJob"):
        return "batch"
    return {"PodDisruptionBudget": "policy", "HorizontalPodAutoscaler": "autoscaling", "Rollout": "argoproj.io"}.get(
        kind, ""
    )


def _matches(acc: Acc, obj: object, kind: str, name: str, target: Target | None, patch_name: str) -> bool:
    names = acc.known_names(obj, name)
    if target is not None:
        namespace = getattr(obj, "namespace", None)
        labels = getattr(obj, "labels", None)
        return _selected(
            target,
            kind,
            names,
            namespace if isinstance(namespace, str) else None,
            _group_of(kind),
            labels if isinstance(labels, dict) else {},
        )
    return patch_name in names


def apply_smp(acc: Acc, patch: PatchObjects, target: Target | None) -> None:
    facts = acc.facts
    for kind, name in patch.deleted:
        facts.workloads = [
            w for w in facts.workloads if not (w.kind == kind and _matches(acc, w, kind, w.name, target, name))
        ]
        if kind == "PodDisruptionBudget":
            facts.pdbs = [p for p in facts.pdbs if not _matches(acc, p, kind, p.name, target, name)]
    for pw in patch.workloads:
        for w in facts.workloads:
            if w.kind == pw.kind and _matches(acc, w, w.kind, w.name, target, pw.name):
                _merge_workload(w, pw)
    for pp in patch.pdbs:
        for p in facts.pdbs:
            if _matches(acc, p, "PodDisruptionBudget", p.name, target, pp.name):
                _merge_pdb(p, pp)
    for pa in patch.autoscalers:
        for a in facts.autoscalers:
            if _matches(acc, a, "HorizontalPodAutoscaler", a.name, target, pa.name) and "minReplicas" in pa.present:
                a.min_replicas, a.min_replicas_span = pa.min_replicas, pa.min_replicas_span
    for kind, name, _, api_version, span in patch.identities:
        if api_version and span is not None:
            _set_api_version(acc, kind, name, target, api_version, span)


def _merge_workload(w: k8s.Workload, patch: k8s.Workload) -> None:
    present = patch.present
    w.labels.update(patch.labels)
    if "replicas" in present and patch.replicas is not None:
        w.replicas, w.replicas_span, w.replicas_defaulted = patch.replicas, patch.replicas_span, False
    if "labels" in present:
        w.pod_labels.update(patch.pod_labels)
    w.annotations.update(patch.annotations)
    pod, new = w.pod, patch.pod
    if "sysctls" in present:
        pod.sysctls = list(new.sysctls)
    tolerations = pod.scheduling.tolerations
    if "tolerations" in present:
        pod.tolerations = list(new.tolerations)
        tolerations = list(new.scheduling.tolerations)
    node_selector = dict(pod.scheduling.node_selector)
    if "nodeSelector" in present:
        node_selector.update(new.scheduling.node_selector)
    terms = (
        new.scheduling.affinity_terms
        if "affinity" in present and new.scheduling.affinity_terms is not None
        else pod.scheduling.affinity_terms
    )
    pod.scheduling = NodeRequirements(node_selector, terms, tolerations)
    if "hostNetwork" in present:
        pod.host_network, pod.host_network_span = new.host_network, new.host_network_span
    if "hostIPC" in present:
        pod.host_ipc, pod.host_ipc_span = new.host_ipc, new.host_ipc_span
    w.present = w.present | present


def _merge_pdb(p: k8s.PodDisruptionBudget, patch: k8s.PodDisruptionBudget) -> None:
    p.labels.update(patch.labels)
    if "minAvailable" in patch.present:
        p.min_available = patch.min_available
    if "maxUnavailable" in patch.present:
        p.max_unavailable = patch.max_unavailable
    if "selector" in patch.present and patch.selector is not None:
        labels = dict(p.selector.match_labels) if p.selector is not None else {}
        labels.update(patch.selector.match_labels)
        expressions = patch.selector.match_expressions or (p.selector.match_expressions if p.selector else ())
        p.selector = LabelSelector(tuple(sorted(labels.items())), expressions)
        p.selector_span = patch.selector_span


def _set_api_version(acc: Acc, kind: str, name: str, target: Target | None, api_version: str, span: Span) -> None:
    facts = acc.facts
    for p in facts.pdbs:
        if (
            kind == "PodDisruptionBudget"
            and _matches(acc, p, kind, p.name, target, name)
            and p.api_version != api_version
        ):
            p.api_version, p.api_version_span = api_version, span
    kept: list[RemovedApi] = []
    changed: list[RemovedApi] = []
    for removed in facts.removed_apis:
        if (
            removed.kind == kind
            and removed.api_version != api_version
            and _matches(acc, removed, kind, removed.name, target, name)
        ):
            changed.append(removed)
        else:
            kept.append(removed)
    known = {(r.kind, r.name) for r in kept}
    for old in changed:
        entry = REMOVED.get((kind, api_version))
        if entry is not None and (kind, old.name) not in known:
            kept.append(RemovedApi(kind, api_version, old.name, span, entry[0], entry[1]))
    facts.removed_apis = kept


def _pointer(path: str) -> list[str]:
    return [part.replace("~1", "/").replace("~0", "~") for part in path.split("/")[1:]]


def apply_json(acc: Acc, ops: list[JsonOp], target: Target) -> None:
    facts = acc.facts
    for op in ops:
        parts = _pointer(op.path)
        if op.op not in ("add", "replace", "remove"):
            continue
        if parts == ["apiVersion"] and isinstance(op.value, str) and target.kind:
            candidates: list[tuple[str, str, object]] = [(w.kind, w.name, w) for w in facts.workloads]
            candidates += [("PodDisruptionBudget", p.name, p) for p in facts.pdbs]
            candidates += [(r.kind, r.name, r) for r in facts.removed_apis]
            for kind, name, obj in candidates:
                if _matches(acc, obj, kind, name, target, ""):
                    _set_api_version(acc, kind, name, None, op.value, op.span)
                    break
            continue
        if parts == ["metadata", "namespace"]:
            _json_namespace(acc, op, target)
            continue
        for w in facts.workloads:
            if _matches(acc, w, w.kind, w.name, target, ""):
                _json_workload(w, parts, op)
        for p in facts.pdbs:
            if _matches(acc, p, "PodDisruptionBudget", p.name, target, ""):
                _json_pdb(p, parts, op)
        if parts == ["spec", "minReplicas"] and isinstance(op.value, int) and op.op != "remove":
            for a in facts.autoscalers:
                if _matches(acc, a, "HorizontalPodAutoscaler", a.name, target, ""):
                    a.min_replicas, a.min_replicas_span = op.value, op.span


def _json_namespace(acc: Acc, op: JsonOp, target: Target) -> None:
    """``/metadata/namespace`` set or removed (argo-cd manifests/ha/base/redis-ha
    overlays/remove-namespace.yaml takes the chart's namespace off its objects)."""
    if op.op == "remove":
        namespace = None
    elif isinstance(op.value, str):
        namespace = op.value
    else:
        return
    facts = acc.facts
    candidates: list[tuple[str, Named]] = [(w.kind, w) for w in facts.workloads]
    candidates += [("PodDisruptionBudget", p) for p in facts.pdbs]
    candidates += [("HorizontalPodAutoscaler", a) for a in facts.autoscalers]
    candidates += [("ConfigMap", c) for c in facts.config_maps]
    for kind, obj in candidates:
        if _matches(acc, obj, kind, obj.name, target, ""):
            obj.namespace = namespace


def _json_workload(w: k8s.Workload, parts: list[str], op: JsonOp) -> None:
    if parts == ["spec", "replicas"] and w.kind in k8s.SCALABLE_KINDS:
        if op.op == "remove":
            w.replicas, w.replicas_span, w.replicas_defaulted = 1, None, True
        elif isinstance(op.value, int) and not isinstance(op.value, bool):
            w.replicas, w.replicas_span, w.replicas_defaulted = op.value, op.span, False
        return
    if parts[:2] == ["metadata", "labels"]:
        _json_labels(w.labels, parts[2:], op)
    template = k8s.POD_TEMPLATE_PATHS.get(w.kind, ("spec", "template"))
    prefix = list(template) if template is not None else []
    if parts[: len(prefix)] != prefix:
        return
    rest = parts[len(prefix) :]
    pod = w.pod
    if rest[:2] == ["metadata", "labels"]:
        _json_labels(w.pod_labels, rest[2:], op)
    elif rest[:3] == ["spec", "securityContext", "sysctls"]:
        found = _sysctls(op)
        if op.op == "remove" and len(rest) == 3:
            pod.sysctls = []
        elif len(rest) == 4 and rest[3] == "-":
            pod.sysctls.extend(found)
        elif len(rest) == 3:
            pod.sysctls = found
    elif rest[:2] == ["spec", "tolerations"]:
        found_t = _tolerations(op)
        if op.op == "remove" and len(rest) == 2:
            found_t, keep = [], False
        else:
            keep = len(rest) == 3 and rest[2] == "-"
        pod.tolerations = ([*pod.tolerations] if keep else []) + found_t
        s = pod.scheduling
        pod.scheduling = NodeRequirements(s.node_selector, s.affinity_terms, [t.toleration for t in pod.tolerations])
    elif rest[:2] == ["spec", "nodeSelector"]:
        s = pod.scheduling
        selector = dict(s.node_selector)
        if len(rest) == 3:
            if op.op == "remove":
                selector.pop(rest[2], None)
            else:
                selector[rest[2]] = str(op.value)
        elif isinstance(op.value, dict):
            selector = {str(k): str(v) for k, v in op.value.items()}
        elif op.op == "remove":
            selector = {}
        pod.scheduling = NodeRequirements(selector, s.affinity_terms, s.tolerations)


def _json_labels(labels: dict[str, str], rest: list[str], op: JsonOp) -> None:
    """A JSON6902 operation on a labels map (``rest``: the path below it), in place."""
    if len(rest) == 1:
        if op.op == "remove":
            labels.pop(rest[0], None)
        elif isinstance(op.value, (str, int, bool)):
            labels[rest[0]] = str(op.value).lower() if isinstance(op.value, bool) else str(op.value)
    elif not rest and isinstance(op.value, dict):
        labels.clear()
        labels.update({str(k): str(v) for k, v in op.value.items()})


def _sysctls(op: JsonOp) -> list[k8s.Sysctl]:
    values = op.value if isinstance(op.value, list) else [op.value]
    return [
        k8s.Sysctl(str(v["name"]), None if v.get("value") is None else str(v.get("value")), op.span)
        for v in values
        if isinstance(v, dict) and v.get("name")
    ]


def _tolerations(op: JsonOp) -> list[k8s.PodToleration]:
    values = op.value if isinstance(op.value, list) else [op.value]
    found: list[k8s.PodToleration] = []
    for v in values:
        if isinstance(v, dict):
            seconds = v.get("tolerationSeconds")
            toleration = Toleration(
                key=str(v.get("key") or ""),
                operator=str(v.get("operator") or ""),
                value=str(v.get("value") or ""),
                effect=str(v.get("effect") or ""),
                seconds=seconds if isinstance(seconds, int) and not isinstance(seconds, bool) else None,
            )
            found.append(k8s.PodToleration(toleration, op.span, op.span if seconds is not None else None))
    return found


def _json_pdb(p: k8s.PodDisruptionBudget, parts: list[str], op: JsonOp) -> None:
    if parts[:2] == ["metadata", "labels"]:
        _json_labels(p.labels, parts[2:], op)
    if parts in (["spec", "minAvailable"], ["spec", "maxUnavailable"]):
        key = parts[1]
        budget = None
        if op.op != "remove" and isinstance(op.value, (int, str)) and not isinstance(op.value, bool):
            budget = k8s.Budget(key, op.value, op.span)
        if key == "minAvailable":
            p.min_available = budget
        else:
            p.max_unavailable = budget
    elif parts[:3] == ["spec", "selector", "matchLabels"] and len(parts) == 4 and p.selector is not None:
        labels = dict(p.selector.match_labels)
        if op.op == "remove":
            labels.pop(parts[3], None)
        else:
            labels[parts[3]] = str(op.value)
        p.selector = LabelSelector(tuple(sorted(labels.items())), p.selector.match_expressions)
