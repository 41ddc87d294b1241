"""ACME002 replicated-workload-without-pdb."""

from __future__ import annotations

from collections.abc import Iterator

from ekslint.plugin import Project, ProjectRule, Related, RuleContext, Severity, Violation, Workload

CHECKED_KINDS = frozenset(("Deployment", "StatefulSet"))
MIN_REPLICAS = 2


class ReplicatedWorkloadWithoutPdb(ProjectRule):
    """## What it does
    Flags a Deployment or StatefulSet that runs at least 2 replicas (its `replicas`,
    or the `minReplicas` of a HorizontalPodAutoscaler that scales it) when no
    PodDisruptionBudget in the analysed files selects its pods. The PDB may be in
    any analysed file of the same namespace: the rule looks across files. The
    finding points at `replicas` (at the workload's name when an HPA sets the floor).

    ## Why is this bad?
    A workload is replicated to stay available, but without a PodDisruptionBudget a
    node drain may evict every replica at once: managed node group upgrades,
    Karpenter consolidation and Cluster Autoscaler scale-downs all drain nodes
    through the eviction API, which only a PDB slows down. At ACME every replicated
    service ships its PDB next to its manifests.

    ## Example
    ```yaml
    apiVersion: apps/v1
    kind: Deployment
    metadata: {name: checkout, namespace: shop}
    spec:
      replicas: 3
      selector: {matchLabels: {app: checkout}}
      template:
        metadata: {labels: {app: checkout}}
    ```

    ## Use instead
    ```yaml
    apiVersion: policy/v1
    kind: PodDisruptionBudget
    metadata: {name: checkout, namespace: shop}
    spec:
      maxUnavailable: 1
      selector: {matchLabels: {app: checkout}}
    ```

    ## References
    - https://kubernetes.io/docs/tasks/run-application/configure-pdb/
    - https://kubernetes.io/docs/concepts/workloads/pods/disruptions/
    """

    id = "ACME002"
    name = "replicated-workload-without-pdb"
    severity = Severity.WARNING
    summary = "A replicated Deployment or StatefulSet has no PodDisruptionBudget"
    tags = ("availability", "pdb", "cross-file")
    precision = "medium"  # a PDB applied from elsewhere (another repository) is not seen
    since = "1.0.0"
    help_uri = "https://github.com/acme/ekslint-acme-rules/blob/main/docs/ACME002.md"

    def check(self, target: Project, ctx: RuleContext) -> Iterator[Violation]:
        # Only the files this run reports on (with --context, the others only inform),
        # but their PDBs are looked up in every analysed file.
        for facts in target.reported_files():
            for workload in facts.workloads:
                if workload.kind not in CHECKED_KINDS:
                    continue
                floor, autoscaler = target.replica_floor(workload)
                if floor is None or floor < MIN_REPLICAS:
                    continue
                if any(workload in target.selected_by(pdb) for pdb in target.pdbs_in(workload.namespace)):
                    continue
                if autoscaler is not None:
                    hpa = f"HorizontalPodAutoscaler {autoscaler.name}"
                    related = (Related(autoscaler.span, f"{hpa}: minReplicas {floor}"),)
                    runs = f"runs at least {floor} replicas (minReplicas of {hpa})"
                    yield Violation(workload.span, self._message(workload, runs), related)
                else:
                    span = workload.replicas_span or workload.span
                    yield Violation(span, self._message(workload, f"runs {floor} replicas"))

    @staticmethod
    def _message(workload: Workload, runs: str) -> str:
        where = f"namespace {workload.namespace}" if workload.namespace else "its namespace"
        return (
            f"{workload.ref} {runs} but no PodDisruptionBudget in {where} selects its pods: a node drain may evict "
            "them all at once. Add a PDB (for example maxUnavailable: 1) whose selector matches the pod template labels"
        )
