"""EKS403 overlapping-pdbs."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator

from ekslint.plugin import (
    PodDisruptionBudget,
    Project,
    ProjectRule,
    Related,
    RuleContext,
    Severity,
    Violation,
    Workload,
    namespace_key,
)

MAX_NAMED = 3


class OverlappingPdbs(ProjectRule):
    """## What it does
    Flags a PodDisruptionBudget whose selector matches the pod template labels of a
    workload that another PodDisruptionBudget of the same namespace also selects (in
    any analysed file). One overlap (the PDBs that select the same pods) is one
    finding, on the first of them (by file and line), with the others and the
    workloads as related locations. DaemonSets are left out (drains skip their pods),
    and so are workloads scaled to zero.

    ## Why is this bad?
    The eviction API does not support a pod covered by more than one budget: every
    eviction of such a pod fails with HTTP 500 ("This pod has more than one
    PodDisruptionBudget, which the eviction subresource does not support"), whatever
    the budgets allow. `kubectl drain` retries forever, Cluster Autoscaler and
    Karpenter cannot remove the node, and an EKS managed node group upgrade fails
    with `PodEvictionFailure` after 15 minutes ("multiple PDBs pointing to the same
    Pod" in the EKS documentation). The check is the eviction subresource's
    (kubernetes `pkg/registry/core/pod/storage/eviction.go`: more than one PDB for a
    pod is an internal error).

    ## Example
    ```yaml
    kind: PodDisruptionBudget
    metadata: {name: api}
    spec:
      maxUnavailable: 1
      selector: {matchLabels: {app: api}}
    ---
    kind: PodDisruptionBudget
    metadata: {name: shop-all}
    spec:
      minAvailable: 50%
      selector: {matchLabels: {team: shop}}   # the api pods have team=shop too
    ```

    ## Use instead
    Keep one budget per workload: narrow the broader selector (for example with a
    `matchExpressions` `NotIn` for `app: api`), or remove one of the PDBs.

    ## References
    - https://kubernetes.io/docs/concepts/scheduling-eviction/api-eviction/
    - https://docs.aws.amazon.com/eks/latest/userguide/managed-node-update-behavior.html
    """

    id = "EKS403"
    name = "overlapping-pdbs"
    severity = Severity.ERROR
    summary = "More than one PodDisruptionBudget selects the same pods: every eviction fails"
    tags = ("pdb", "upgrade", "cross-file")
    precision = "high"
    index_group = "disruption"

    def check(self, target: Project, ctx: RuleContext) -> Iterator[Violation]:
        reported = [p for f in target.reported_files() for p in f.pdbs]
        if not reported:
            return
        # A PDB overlaps only with PDBs of its own namespace: index just those.
        namespaces = dict.fromkeys(namespace_key(p.namespace) for p in reported)
        index = _PdbIndex([p for ns in namespaces for p in target.pdbs_in(ns)])
        # One overlap per set of PDBs that select the same pods, in the order found.
        overlaps: dict[frozenset[tuple[str | None, str]], _Overlap] = {}
        for pdb in reported:
            identity = _identity(pdb)
            for workload in target.selected_by(pdb):
                if workload.kind == "DaemonSet" or target.replica_floor(workload)[0] == 0:
                    continue
                # A PDB of the same name is the same object (an overlay, another
                # environment's copy): one replaces the other, they never coexist.
                selecting: dict[tuple[str | None, str], PodDisruptionBudget] = {}
                for other in index.selecting(workload):
                    known = selecting.get(_identity(other))
                    if known is None or _position(other) < _position(known):
                        selecting[_identity(other)] = other  # the first copy stands for them all
                if len(selecting) < 2 or identity not in selecting:
                    continue
                overlap = overlaps.get(frozenset(selecting))
                if overlap is None:
                    overlap = overlaps[frozenset(selecting)] = _Overlap(selecting)
                overlap.add(workload)
        for overlap in overlaps.values():
            # The finding lies on the first of the PDBs, wherever the run reports on,
            # so a one-file run reports what a full run reports in that file.
            pdb = min(overlap.pdbs.values(), key=_position)
            if target.reports(pdb.span.file):
                yield self._violation(pdb, overlap)

    @staticmethod
    def _violation(pdb: PodDisruptionBudget, overlap: _Overlap) -> Violation:
        others = sorted((o for i, o in overlap.pdbs.items() if i != _identity(pdb)), key=_position)
        workload = overlap.workloads[0]
        listed = [f"{o.name} ({o.span.file}:{o.span.line})" for o in others[:MAX_NAMED]]
        if len(others) > MAX_NAMED:
            names = ", ".join(listed) + f" and {len(others) - MAX_NAMED} more"
        else:
            names = " and ".join((", ".join(listed[:-1]), listed[-1])) if len(listed) > 1 else listed[0]
        count = len(overlap.workloads)
        also = f" (and {count - 1} more workload{'s' if count > 2 else ''})" if count > 1 else ""
        message = (
            f"PDB {pdb.name} and PDB{'s' if len(others) > 1 else ''} {names} {'both' if len(others) == 1 else 'all'} "
            f"select the pods of {workload.ref} ({workload.span.file}:{workload.span.line}){also}: the eviction API "
            "refuses to evict a pod that more than one PodDisruptionBudget covers (HTTP 500), so kubectl drain hangs "
            "and a managed node group upgrade fails with PodEvictionFailure. Keep one PDB per workload: narrow one "
            "selector so they no longer overlap, or remove one of the PDBs"
        )
        related = [Related(o.span, f"PDB {o.name} also selects {workload.ref}") for o in others[:MAX_NAMED]]
        related.append(Related(workload.span, f"{workload.ref}, selected by {len(others) + 1} PDBs"))
        related.extend(Related(w.span, f"{w.ref}, selected by the same PDBs") for w in overlap.workloads[1:MAX_NAMED])
        # The overlapping PDBs tell this finding apart from other overlaps on the same PDB.
        identity = ";".join(sorted(f"{ns or ''}/{name}" for ns, name in overlap.pdbs))
        plural = "s" if len(others) > 1 else ""
        headline = f"PDB {pdb.name} and {len(others)} other PDB{plural} select the pods of {workload.ref}"
        return Violation(pdb.selector_span or pdb.span, headline, tuple(related), identity, detail=message)


def _identity(pdb: PodDisruptionBudget) -> tuple[str | None, str]:
    return namespace_key(pdb.namespace), pdb.name


def _position(pdb: PodDisruptionBudget) -> tuple[str, int, int]:
    return pdb.span.file, pdb.span.line, pdb.span.col


class _Overlap:
    """PDBs (one copy per name) that all select some workload, and the workloads
    they share."""

    def __init__(self, pdbs: dict[tuple[str | None, str], PodDisruptionBudget]) -> None:
        self.pdbs = pdbs
        self.workloads: list[Workload] = []
        self._seen: set[int] = set()

    def add(self, workload: Workload) -> None:
        if id(workload) not in self._seen:
            self._seen.add(id(workload))
            self.workloads.append(workload)


class _PdbIndex:
    """Every PDB by namespace and matchLabels pair, so the PDBs that may select a
    workload are found from its labels instead of by trying every PDB."""

    def __init__(self, pdbs: list[PodDisruptionBudget]) -> None:
        self.by_label: dict[tuple[str | None, str, str], list[PodDisruptionBudget]] = defaultdict(list)
        self.unlabelled: dict[str | None, list[PodDisruptionBudget]] = defaultdict(list)
        for pdb in pdbs:
            selector = pdb.selector
            if selector is None or (selector.is_empty and pdb.api_version == "policy/v1beta1"):
                continue  # selects nothing (as Project.selected_by)
            ns = namespace_key(pdb.namespace)
            if selector.match_labels:
                key, value = selector.match_labels[0]
                self.by_label[(ns, key, value)].append(pdb)
            else:
                self.unlabelled[ns].append(pdb)

    def selecting(self, workload: Workload) -> list[PodDisruptionBudget]:
        ns = namespace_key(workload.namespace)
        pool = list(self.unlabelled.get(ns, ()))
        for key, value in workload.pod_labels.items():
            pool.extend(self.by_label.get((ns, key, value), ()))
        # Each PDB is indexed once, under its first matchLabels pair: no duplicates. PDBs
        # of another kustomize build (an alternative overlay) never meet the workload.
        return [
            p
            for p in pool
            if p.selector is not None
            and (not p.build or not workload.build or p.build == workload.build)
            and p.selector.matches(workload.pod_labels)
        ]
