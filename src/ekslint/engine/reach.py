"""What a run reports on and what the cross-file rules must look at for it: the files
a one-file (pre-commit) run's findings can point into, the kustomize builds made from
a changed file, the one cluster ``--cluster`` names."""

from __future__ import annotations

from ekslint.model.facts import KEY_SEPARATOR, NODE_FIELDS, UNKEYED, FileFacts, PackedFacts, object_key, object_keys
from ekslint.model.project import Project


class UnknownCluster(ValueError):
    """``--cluster`` names no cluster of the run."""


def only_cluster(scopes: list[Project], project: Project, name: str) -> list[Project]:
    """The scopes of the cluster ``name`` (a key of ``clusters:``, else a
    ClusterConfig's metadata.name), or UnknownCluster listing the known ones."""
    chosen = [s for s in scopes if s.scope is not None and s.scope.name == name and (s.scope.owned or s.scope.whole)]
    if chosen:
        return chosen
    known = project.scope_map.names()
    listed = (
        f"known clusters: {', '.join(known)}"
        if known
        else "the files name no cluster (no ClusterConfig, no clusters: key)"
    )
    raise UnknownCluster(f"--cluster {name!r}: no such cluster; {listed}")


def reach(sources: list[FileFacts | PackedFacts], targets: set[str] | None) -> set[str] | None:
    """The files the cross-file rules check in a run that reports on ``targets``
    (None: all): the targets and the files whose findings can point into them. A
    finding elsewhere is reported when a related location lies in a target
    (the runner's ``_finish``): the PDB a change of replicas broke, the workload whose HPA
    changed. Objects relate within a namespace, so those are the files with objects
    in a target's namespaces (and the autoscalers of its workloads); a target with
    node-side facts (clusters, node groups, CNI settings) concerns every workload,
    so then every file is checked."""
    if targets is None:
        return None
    keys: set[str] = set()
    for source in sources:
        if source.path not in targets:
            continue
        facts = source.unpack() if isinstance(source, PackedFacts) else source
        if any(getattr(facts, name) for name in NODE_FIELDS):
            return None
        namespaces: set[str | None] = {w.namespace for w in facts.workloads}
        namespaces.update(p.namespace for p in facts.pdbs)
        namespaces.update(a.namespace for a in facts.autoscalers)
        namespaces.update(namespace for namespace, _ in facts.custom_resources)
        keys.update(object_key(kind, namespace) for kind in "wpc" for namespace in namespaces)
        keys.update(object_key("a", w.namespace, w.kind, w.name) for w in facts.workloads)
    reach = set(targets)
    for source in sources:
        own = source.object_keys or (object_keys(source) if isinstance(source, FileFacts) else "")
        if own == UNKEYED or not keys.isdisjoint(own.split(KEY_SEPARATOR)):
            reach.add(source.path)
    return reach


def with_builds(targets: set[str] | None, consumed: dict[str, set[str]]) -> set[str] | None:
    """The targets and the kustomize builds made from one of them: a changed base
    re-judges the overlays built from it (their findings point into the base, or
    relate to it)."""
    if targets is None:
        return None
    builds = {build for build, files in consumed.items() if not files.isdisjoint(targets)}
    return targets | builds
