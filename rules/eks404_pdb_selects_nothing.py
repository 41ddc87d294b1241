"""EKS404 pdb-selects-nothing."""

from __future__ import annotations

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
)

MAX_NAMED = 3


class PdbSelectsNothing(ProjectRule):
    """## What it does
    Notes a PodDisruptionBudget whose selector matches the pod template labels of no
    workload in its namespace, when the analysed files do hold workloads in that
    namespace (a PDB for pods defined elsewhere is not reported). A PDB without a
    selector, and a `policy/v1beta1` PDB with an empty selector, select nothing. The
    message names workloads of the namespace whose labels come closest.

    To stay precise, a PDB without `metadata.namespace` (which goes wherever its file
    is applied) is checked only when its own file holds namespace-less workloads, and
    a namespace that holds an operator's custom resources (a `Prometheus`, an
    `Alertmanager`, a Strimzi `Kafka` ...) is skipped: those create pods no file shows.

    ## Why is this bad?
    A budget that selects no pod protects nothing: drains, Cluster Autoscaler,
    Karpenter and managed node group upgrades evict the pods it was meant to keep
    available all at once. It is usually a typo in a label or a label changed on the
    workload but not on the PDB.

    ## Example
    ```yaml
    kind: PodDisruptionBudget
    metadata: {name: api, namespace: shop}
    spec:
      maxUnavailable: 1
      selector: {matchLabels: {app: shop-api}}   # the Deployment's pods have app: api
    ```

    ## Use instead
    ```yaml
      selector: {matchLabels: {app: api}}
    ```

    ## References
    - https://kubernetes.io/docs/tasks/run-application/configure-pdb/
    - https://docs.aws.amazon.com/eks/latest/userguide/managed-node-update-behavior.html
    """

    id = "EKS404"
    name = "pdb-selects-nothing"
    severity = Severity.NOTE
    summary = "A PodDisruptionBudget selects no workload of its namespace"
    tags = ("pdb", "cross-file")
    precision = "medium"
    index_group = "disruption"

    def check(self, target: Project, ctx: RuleContext) -> Iterator[Violation]:
        for facts in target.reported_files():
            for pdb in facts.pdbs:
                if pdb.namespace is None:
                    # Applied wherever the file goes (kubectl -n, Helm, kustomize): only
                    # the workloads of its own file surely share its namespace.
                    if not any(w.namespace is None for w in facts.workloads):
                        continue
                elif not target.namespace_has_workloads(pdb.namespace):
                    continue
                if pdb.selector_templated or any(w.labels_templated for w in target.workloads_in(pdb.namespace)):
                    continue  # a template's labels: which pods it selects only the rendering knows
                if target.selected_by(pdb):
                    continue
                if pdb.namespace is None and any(ns is None for ns, _ in facts.custom_resources):
                    continue  # as above: only its own file surely shares its namespace
                if pdb.namespace is not None and target.has_custom_resources(pdb.namespace):
                    continue  # an operator's custom resource may own the pods it selects
                if pdb.namespace is None:
                    yield self._violation(
                        pdb,
                        [w for w in facts.workloads if w.namespace is None],
                        "its file (no namespace, like the PDB)",
                    )
                else:
                    yield self._violation(pdb, target.workloads_in(pdb.namespace), f"namespace {pdb.namespace}")

    @staticmethod
    def _violation(pdb: PodDisruptionBudget, workloads: list[Workload], where: str) -> Violation:
        if pdb.selector is None:
            why = "it has no selector, which selects no pod"
            fix = "Add a selector with the pod template labels of the workload it should protect"
        elif pdb.selector.is_empty and pdb.api_version == "policy/v1beta1":
            why = "in policy/v1beta1 an empty selector selects no pod"
            fix = "Use policy/v1 (where an empty selector selects every pod of the namespace), or set matchLabels"
        else:
            why = f"its selector {pdb.selector.describe()} matches none of their pod template labels"
            fix = "Fix the selector to match the pod template labels of the workload it should protect, or remove it"
        closest = _closest(pdb, workloads)
        hint = ""
        if closest:
            shown = "; ".join(f"{w.ref} has {_labels(w)}" for w in closest)
            hint = f" ({shown})"
        message = (
            f"PDB {pdb.name} protects nothing: {where} has {len(workloads)} workload"
            f"{'s' if len(workloads) != 1 else ''}{'' if where.startswith('its file') else ' in the analysed files'}, "
            f"but {why}{hint}. {fix}"
        )
        related = tuple(Related(w.span, f"{w.ref}: pod labels {_labels(w)}") for w in closest)
        return Violation(pdb.selector_span or pdb.span, message, related)


def _labels(workload: Workload) -> str:
    return ",".join(f"{k}={v}" for k, v in sorted(workload.pod_labels.items())) or "no labels"


def _closest(pdb: PodDisruptionBudget, workloads: list[Workload]) -> list[Workload]:
    """Workloads sharing the most selector keys with the PDB (only those sharing one)."""
    keys = {k for k, _ in pdb.selector.match_labels} if pdb.selector is not None else set()
    keys |= {r.key for r in pdb.selector.match_expressions} if pdb.selector is not None else set()
    scored = [(len(keys & w.pod_labels.keys()), i, w) for i, w in enumerate(workloads)]
    scored = [s for s in scored if s[0] > 0]
    scored.sort(key=lambda s: (-s[0], s[1]))
    return [w for _, _, w in scored[:MAX_NAMED]]
