"""kustomize builds, assembled from per-file facts in the cross-file stage.

Each top-level kustomization of the run (one no other kustomization of the run names as a
resource, base or component) builds what ``kustomize build`` would: the objects of its
resources (files, and other kustomizations built first), with its components and then its
own transformations applied in kustomize's order (kubernetes-sigs/kustomize
api/internal/target/kusttarget.go accumulateTarget, kusttarget_configplugin.go
configureBuiltinTransformers): patchesStrategicMerge, patches, namespace, namePrefix,
nameSuffix, labels/commonLabels, patchesJson6902, replicas. The field lists the label and
replica transformers touch are kustomize's (api/internal/konfig/builtinpluginconsts).

Nothing here reads a file: a kustomization builds only from files the run analysed, so
a path out of the linted tree (``../../..``, an absolute path, a symlink out) is never
read; a missing file, a remote resource or a helm chart makes the build "not analysed"
and its files are judged as they are. The build's objects belong to the top-level
kustomization's facts (path = that kustomization, ``build`` = its path), keeping the
positions of the lines that set each value: a replicas patched by an overlay points at the
patch, a minAvailable from the base at the base. The files a build consumes are not
judged on their own, and the objects of two builds never meet (dev and prod overlays of
one base are alternatives).
"""

from __future__ import annotations

import copy
import os
from collections.abc import Sequence
from dataclasses import dataclass, field, replace

from ekslint.model import kubernetes as k8s
from ekslint.model.facts import KEY_SEPARATOR, FileFacts, PackedFacts, object_key, object_keys
from ekslint.model.kpatch import Acc, Named, UnsupportedTarget, apply_json, apply_smp
from ekslint.model.kustomize import (
    KUSTOMIZATION_NAMES,
    JsonOp,
    Kustomization,
    Patch,
    PatchObjects,
    Ref,
    is_kustomization,
    is_remote,
)
from ekslint.model.scheduling import LabelSelector
from ekslint.parse.text import Problem

MAX_DEPTH = 20  # nested kustomizations
MAX_FILES = 5000  # files read into one build (a diamond of bases is counted each time)
# Kinds whose replicas the replica transformer sets (builtinpluginconsts/replicas.go).
_REPLICA_KINDS = ("Deployment", "ReplicationController", "ReplicaSet", "StatefulSet")
# Kinds whose pod template labels the label transformer sets (metadatalabels.go); a
# Pod's labels are its metadata.labels, which every object gets.
_TEMPLATE_LABEL_KINDS = (
    "ReplicationController",
    "Deployment",
    "ReplicaSet",
    "DaemonSet",
    "StatefulSet",
    "Job",
    "CronJob",
)
# HPA scaleTargetRef kinds kustomize renames with their target (namereference.go).
_SCALE_TARGET_KINDS = ("Deployment", "ReplicationController", "ReplicaSet", "StatefulSet")
_STAGES = ("patchesStrategicMerge", "patches")


@dataclass(slots=True)
class Assembly:
    sources: list[FileFacts | PackedFacts]
    consumed: dict[str, set[str]] = field(default_factory=dict)  # build path -> files it read
    problems: list[Problem] = field(default_factory=list)  # EKS001
    not_analysed: list[tuple[str, str]] = field(default_factory=list)  # (path, why)


class _Failed(Exception):
    """A build that cannot be assembled (a missing file, a cycle): said once."""

    def __init__(self, path: str, reason: str, problem: Problem | None = None) -> None:
        super().__init__(reason)
        self.path, self.reason, self.problem = path, reason, problem


def assemble(sources: Sequence[FileFacts | PackedFacts]) -> Assembly:
    positions = [i for i, s in enumerate(sources) if is_kustomization(s.path)]
    result = Assembly(list(sources))
    if not positions:
        return _resolve_workload_refs(result)
    by_path = {os.path.normpath(s.path): i for i, s in enumerate(sources)}
    kustomizations: dict[str, Kustomization] = {}
    for i in positions:
        facts = _objects(sources[i])
        for k in facts.kustomizations[:1]:
            kustomizations[os.path.normpath(k.path)] = k
    builder = _Builder(sources, by_path, kustomizations, result)
    referenced: set[str] = set()
    patch_files: set[str] = set()
    for k in kustomizations.values():
        for ref in [*k.resources, *k.components]:
            kind, path = builder.resolve(k, ref)
            if kind == "kustomization":
                referenced.add(path)
        for patch in k.patches:
            if patch.file is not None:
                kind, path = builder.resolve(k, patch.file, directory=False)
                if kind == "file":
                    patch_files.add(path)
    removed: set[str] = set(patch_files)
    builds: dict[str, FileFacts] = {}
    pending = [path for path, k in kustomizations.items() if path not in referenced and not k.component]
    failed_builds: list[str] = []
    tried: set[str] = set()
    while pending or failed_builds:
        if not pending:
            # A build that failed (a remote or missing resource) still names bases that
            # build: each is judged as its own build (its patches applied), unless a
            # build that succeeded consumed it.
            path = failed_builds.pop(0)
            pending = [
                target
                for ref in kustomizations[path].resources
                if (resolved := builder.resolve(kustomizations[path], ref))[0] == "kustomization"
                and (target := resolved[1]) not in tried
                and target not in removed
                and not kustomizations[target].component
            ]
            continue
        path = pending.pop(0)
        if path in tried:
            continue
        tried.add(path)
        k = kustomizations[path]
        try:
            acc, used = builder.build(k)
        except _Failed as failed:
            if path not in referenced:
                where = "" if failed.path == k.path else f" (in {failed.path})"
                result.not_analysed.append((k.path, f"kustomize build not analysed: {failed.reason}{where}"))
                if failed.problem is not None:
                    result.problems.append(failed.problem)
            failed_builds.append(path)
            continue
        for w in acc.facts.workloads:
            w.build = k.path
        for p in acc.facts.pdbs:
            p.build = k.path
        for a in acc.facts.autoscalers:
            a.build = k.path
        acc.facts.path = k.path
        acc.facts.object_keys = object_keys(acc.facts)
        builds[path] = acc.facts
        result.consumed[k.path] = {sources[by_path[p]].path for p in used}
        removed.update(used)
    _report_orphan_cycles(builder, kustomizations, referenced, result)
    for k in kustomizations.values():
        for span, what in k.not_analysed:
            result.not_analysed.append((k.path, f"{what} at line {span.line}"))
    kept: list[FileFacts | PackedFacts] = []
    for source in sources:
        normal = os.path.normpath(source.path)
        if normal in builds:
            kept.append(builds[normal])
        elif normal not in removed:
            kept.append(source)
    result.sources = kept
    return _resolve_workload_refs(result)


def _report_orphan_cycles(
    builder: _Builder, kustomizations: dict[str, Kustomization], referenced: set[str], result: Assembly
) -> None:
    """Kustomizations only ever named by each other (a -> b -> a, no top level above
    them) are never built above; kustomize refuses each of them, so say so once."""
    reached: set[str] = set()

    def reach(path: str) -> None:
        pending = [path]
        while pending:
            current = pending.pop()
            if current in reached:
                continue
            reached.add(current)
            k = kustomizations[current]
            for ref in [*k.resources, *k.components]:
                kind, target = builder.resolve(k, ref)
                if kind == "kustomization":
                    pending.append(target)

    for path, k in kustomizations.items():
        if path not in referenced or k.component:
            reach(path)
    for path in sorted(kustomizations):
        if path in reached:
            continue
        reach(path)
        try:
            builder.build(kustomizations[path])
        except _Failed as failed:
            result.not_analysed.append((kustomizations[path].path, f"kustomize build not analysed: {failed.reason}"))
            if failed.problem is not None:
                result.problems.append(failed.problem)


def _objects(source: FileFacts | PackedFacts) -> FileFacts:
    return source if isinstance(source, FileFacts) else source.object_side()


class _Builder:
    def __init__(
        self,
        sources: Sequence[FileFacts | PackedFacts],
        by_path: dict[str, int],
        kustomizations: dict[str, Kustomization],
        result: Assembly,
    ) -> None:
        self.sources = sources
        self.by_path = by_path
        self.kustomizations = kustomizations
        self.result = result
        # Builds of nested kustomizations, reused (copied) when a base is named twice.
        self._built: dict[str, tuple[Acc, set[str]]] = {}

    def resolve(self, k: Kustomization, ref: Ref, directory: bool = True) -> tuple[str, str]:
        """What a reference names: ("kustomization" | "file", normalised path),
        ("remote", ""), or ("missing", why)."""
        if is_remote(ref.value):
            return "remote", ""
        if os.path.isabs(ref.value):
            return "missing", "an absolute path (ekslint reads only the linted tree)"
        path = os.path.normpath(os.path.join(k.directory, ref.value))
        if directory:
            for name in KUSTOMIZATION_NAMES:
                candidate = os.path.normpath(os.path.join(path, name))
                if candidate in self.kustomizations:
                    return "kustomization", candidate
        if path in self.by_path:
            return "file", path
        return "missing", "not among the linted files"

    def build(self, k: Kustomization, stack: tuple[str, ...] = ()) -> tuple[Acc, set[str]]:
        me = os.path.normpath(k.path)
        if len(stack) > MAX_DEPTH:
            raise _Failed(k.path, f"kustomizations nested deeper than {MAX_DEPTH}")
        acc = Acc(FileFacts(k.path))
        used: set[str] = {me}
        self._accumulate(k, k.resources, acc, used, (*stack, me))
        self._components(k, acc, used, (*stack, me))
        try:
            self._transform(k, acc, used)
        except UnsupportedTarget as unsupported:
            raise _Failed(k.path, str(unsupported)) from None
        return acc, used

    def _components(self, k: Kustomization, acc: Acc, used: set[str], stack: tuple[str, ...]) -> None:
        """Each component of ``k`` in order, on the objects built so far: its resources,
        then its own components, then its transformations (kustomize
        api/internal/target/kusttarget.go accumulateComponents: a component is
        accumulated like a kustomization, into its parent's resources)."""
        for ref in k.components:
            kind, path = self.resolve(k, ref)
            if kind != "kustomization":
                raise _Failed(k.path, f"component {ref.value} at line {ref.span.line}: {path or 'remote'}")
            if path in stack:
                cycle = " -> ".join([*stack[stack.index(path) :], path])
                message = (
                    f"kustomization cycle: {cycle}; kustomize refuses to build it. "
                    "Remove the component that points back"
                )
                raise _Failed(k.path, "part of a kustomization cycle", Problem(ref.span, message))
            if len(stack) > MAX_DEPTH:
                raise _Failed(k.path, f"kustomizations nested deeper than {MAX_DEPTH}")
            component = self.kustomizations[path]
            used.add(path)
            self._accumulate(component, component.resources, acc, used, (*stack, path))
            self._components(component, acc, used, (*stack, path))
            try:
                self._transform(component, acc, used)
            except UnsupportedTarget as unsupported:
                raise _Failed(component.path, str(unsupported)) from None

    def _accumulate(self, k: Kustomization, refs: list[Ref], acc: Acc, used: set[str], stack: tuple[str, ...]) -> None:
        for ref in refs:
            kind, path = self.resolve(k, ref)
            if kind == "remote":
                raise _Failed(k.path, f"remote resource {ref.value} at line {ref.span.line} (not fetched)")
            if kind == "missing":
                raise _Failed(k.path, f"resource {ref.value} at line {ref.span.line} is {path}")
            if kind == "kustomization":
                if path in stack:
                    cycle = " -> ".join([*stack[stack.index(path) :], path])
                    message = (
                        f"kustomization cycle: {cycle}; kustomize refuses to build it. "
                        "Remove the resource that points back"
                    )
                    raise _Failed(k.path, "part of a kustomization cycle", Problem(ref.span, message))
                sub, sub_used = self._nested(path, stack)
                used.update(sub_used)
                acc.files += sub.files
                if acc.files > MAX_FILES:
                    raise _Failed(k.path, f"more than {MAX_FILES} files in the build")
                _extend(acc, sub.facts, sub.names)
                continue
            acc.files += 1
            if acc.files > MAX_FILES:
                raise _Failed(k.path, f"more than {MAX_FILES} files in the build")
            used.add(path)
            _extend(acc, copy.deepcopy(_objects(self.sources[self.by_path[path]])), {})

    def _nested(self, path: str, stack: tuple[str, ...]) -> tuple[Acc, set[str]]:
        """A nested kustomization's build, built once and copied for each use (a
        diamond of bases costs its files, not its paths)."""
        known = self._built.get(path)
        if known is None:
            known = self._built[path] = self.build(self.kustomizations[path], stack)
        acc, used = known
        objects = _named_objects(acc.facts)
        facts = copy.deepcopy(acc.facts)
        names = {
            id(new): acc.names[id(old)]
            for old, new in zip(objects, _named_objects(facts), strict=True)
            if id(old) in acc.names
        }
        return Acc(facts, names, acc.files), set(used)

    def _patch_source(self, k: Kustomization, patch: Patch) -> tuple[PatchObjects | None, list[JsonOp] | None]:
        if patch.file is None:
            return patch.objects, patch.ops
        kind, path = self.resolve(k, patch.file, directory=False)
        if kind != "file":
            raise _Failed(k.path, f"patch {patch.file.value} at line {patch.file.span.line} is {path or 'remote'}")
        facts = _objects(self.sources[self.by_path[path]])
        if facts.json_patches:
            return None, facts.json_patches
        objects = PatchObjects(
            copy.deepcopy(facts.workloads + facts.patch_workloads),
            copy.deepcopy(facts.pdbs),
            copy.deepcopy(facts.autoscalers),
            deleted=list(facts.patch_deletes),
        )
        for pdb in facts.pdbs:
            objects.identities.append(
                ("PodDisruptionBudget", pdb.name, pdb.namespace, pdb.api_version, pdb.api_version_span)
            )
        for removed in facts.removed_apis:
            objects.identities.append((removed.kind, removed.name, None, removed.api_version, removed.span))
        return objects, None

    def _transform(self, k: Kustomization, acc: Acc, used: set[str]) -> None:
        json_later: list[tuple[Patch, list[JsonOp]]] = []
        for stage in _STAGES:
            for patch in (p for p in k.patches if p.stage == stage):
                objects, ops = self._patch_source(k, patch)
                if patch.file is not None:
                    used.add(os.path.normpath(os.path.join(k.directory, patch.file.value)))
                if objects is not None:
                    apply_smp(acc, objects, patch.target)
                if ops is not None and patch.target is not None:
                    apply_json(acc, ops, patch.target)
        for patch in (p for p in k.patches if p.stage == "patchesJson6902"):
            objects, ops = self._patch_source(k, patch)
            if patch.file is not None:
                used.add(os.path.normpath(os.path.join(k.directory, patch.file.value)))
            if ops is not None and patch.target is not None:
                json_later.append((patch, ops))
        facts = acc.facts
        if k.namespace is not None:
            namespace = k.namespace.value
            named: list[Named] = [*facts.workloads, *facts.pdbs, *facts.autoscalers, *facts.config_maps]
            for obj in named:
                obj.namespace = namespace
            facts.custom_resources = [(namespace, kind) for _, kind in facts.custom_resources]
        if k.name_prefix or k.name_suffix:
            _rename(acc, k.name_prefix, k.name_suffix)
        for labels in k.labels:
            _label(facts, labels.pairs, labels.include_selectors, labels.include_templates)
        for later, ops in json_later:
            if later.target is not None:
                apply_json(acc, ops, later.target)
        for name, count, span in k.replicas:
            for w in facts.workloads:
                if w.kind in _REPLICA_KINDS and name in acc.known_names(w, w.name):
                    w.replicas, w.replicas_span, w.replicas_defaulted = count, span, False


def _named_objects(facts: FileFacts) -> list[object]:
    return [*facts.workloads, *facts.pdbs, *facts.autoscalers, *facts.config_maps, *facts.removed_apis]


def _extend(acc: Acc, facts: FileFacts, names: dict[int, set[str]]) -> None:
    into = acc.facts
    into.workloads.extend(facts.workloads)
    into.pdbs.extend(facts.pdbs)
    into.autoscalers.extend(facts.autoscalers)
    into.config_maps.extend(facts.config_maps)
    into.custom_resources.extend(facts.custom_resources)
    into.removed_apis.extend(facts.removed_apis)
    acc.names.update(names)


def _rename(acc: Acc, prefix: str, suffix: str) -> None:
    facts = acc.facts
    named: list[Named] = [*facts.workloads, *facts.pdbs, *facts.autoscalers, *facts.config_maps]
    for obj in named:
        acc.known_names(obj, obj.name).add(prefix + obj.name + suffix)
        obj.name = prefix + obj.name + suffix
    facts.removed_apis = [replace(r, name=prefix + r.name + suffix) for r in facts.removed_apis]
    for scaler in facts.autoscalers:  # nameref: the HPA follows its target's new name
        if scaler.target_kind in _SCALE_TARGET_KINDS:
            for w in facts.workloads:
                if w.kind == scaler.target_kind and scaler.target_name in acc.known_names(w, w.name):
                    scaler.target_name = w.name
                    break


def _label(facts: FileFacts, pairs: dict[str, str], selectors: bool, templates: bool) -> None:
    # metadata/labels, create: true, on every object
    for holder in [w.labels for w in facts.workloads] + [p.labels for p in facts.pdbs]:
        holder.update(pairs)
    for a in facts.autoscalers:
        a.labels.update(pairs)
    for w in facts.workloads:
        if w.kind == "Pod" or (templates and w.kind in _TEMPLATE_LABEL_KINDS):
            w.pod_labels.update(pairs)
    if selectors:
        for pdb in facts.pdbs:  # spec/selector/matchLabels, create: false
            if pdb.selector is not None and pdb.selector.match_labels:
                merged = dict(pdb.selector.match_labels) | pairs
                pdb.selector = LabelSelector(tuple(sorted(merged.items())), pdb.selector.match_expressions)


# -- Argo Rollouts workloadRef -----------------------------------------------------------------


def _resolve_workload_refs(result: Assembly) -> Assembly:
    """A Rollout with ``spec.workloadRef`` runs the pod template of the Deployment it
    names (argo-rollouts rollout/templateref.go); that Deployment is then scaled down by
    the Rollout and its pods are the Rollout's, so it is not counted again."""
    sources = result.sources
    marker = KEY_SEPARATOR + "r"
    positions = [i for i, s in enumerate(sources) if marker in KEY_SEPARATOR + (s.object_keys or "")]
    if not positions:
        return result
    rollouts = [(i, w) for i in positions for w in _unpacked(sources, i).workloads if w.template_ref]
    for i, rollout in rollouts:
        ns = k8s.namespace_key(rollout.namespace)
        for j in range(len(sources)):
            keys = sources[j].object_keys or ""
            if object_key("w", ns) not in keys.split(KEY_SEPARATOR) and keys != "?":
                continue
            facts = _unpacked(sources, j)
            for deployment in facts.workloads:
                if (
                    deployment.kind == "Deployment"
                    and deployment.name == rollout.template_ref
                    and k8s.namespace_key(deployment.namespace) == ns
                    and deployment.build in ("", rollout.build)
                ):
                    rollout.pod, rollout.pod_labels = copy.deepcopy(deployment.pod), dict(deployment.pod_labels)
                    rollout.annotations = {**deployment.annotations, **rollout.annotations}
                    facts.workloads = [w for w in facts.workloads if w is not deployment]
                    rollout.template_ref = None
                    for changed in (facts, _unpacked(sources, i)):  # their index keys changed
                        changed.object_keys = object_keys(changed)
                    break
            if rollout.template_ref is None:
                break
    return result


def _unpacked(sources: list[FileFacts | PackedFacts], index: int) -> FileFacts:
    source = sources[index]
    if isinstance(source, PackedFacts):
        source = sources[index] = source.unpack()
    return source
