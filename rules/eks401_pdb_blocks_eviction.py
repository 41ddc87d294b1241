"""EKS401 pdb-blocks-eviction."""

from __future__ import annotations

import math
from collections.abc import Iterator

from ekslint.model.kubernetes import Budget, PodDisruptionBudget, Workload
from ekslint.model.project import Project
from ekslint.model.scheduling import percent
from ekslint.plugin import ProjectRule, Related, RuleContext, Severity, Violation

CONSEQUENCE = (
    "every eviction is refused (HTTP 429), so kubectl drain hangs and a managed node group upgrade "
    "fails with PodEvictionFailure after 15 minutes"
)


class PdbBlocksEviction(ProjectRule):
    """## What it does
    Flags a PodDisruptionBudget that allows no voluntary disruption: `maxUnavailable:
    0` or `"0%"`, `minAvailable: "100%"`, or a `minAvailable` that is at least the
    number of replicas of the workloads it selects (same namespace, selector matching
    the pod template labels, in any analysed file; with a HorizontalPodAutoscaler, its
    `minReplicas` is the count that matters). Percentages are rounded up, as the
    disruption controller does.

    A PDB that selects only DaemonSets is not reported: drains skip DaemonSet pods.

    ## Why is this bad?
    An eviction that would violate a budget is refused with HTTP 429. `kubectl drain`
    retries forever, Cluster Autoscaler and Karpenter cannot consolidate the node, and
    an EKS managed node group upgrade drains each node for 15 minutes and then fails
    with `PodEvictionFailure` ("Reached max retries while trying to evict pods from
    nodes in node group") unless forced, which deletes the pods anyway.

    ## Example
    ```yaml
    apiVersion: policy/v1
    kind: PodDisruptionBudget
    metadata: {name: web}
    spec:
      minAvailable: 2        # the Deployment web runs 2 replicas
      selector:
        matchLabels: {app: web}
    ```

    ## Use instead
    ```yaml
    spec:
      maxUnavailable: 1
      selector:
        matchLabels: {app: web}
    ```

    ## References
    - https://kubernetes.io/docs/tasks/run-application/configure-pdb/
    - https://docs.aws.amazon.com/eks/latest/userguide/managed-node-update-behavior.html
    """

    id = "EKS401"
    name = "pdb-blocks-eviction"
    severity = Severity.ERROR
    summary = "A PodDisruptionBudget allows no voluntary disruption"
    tags = ("pdb", "upgrade", "cross-file")
    precision = "high"

    def check(self, target: Project, ctx: RuleContext) -> Iterator[Violation]:
        for pdb in target.pdbs:
            selected = target.selected_by(pdb)
            evictable = [w for w in selected if w.kind != "DaemonSet"]
            if selected and not evictable:
                continue
            violation = self._absolute(pdb) or self._relative(target, pdb, evictable)
            if violation is not None:
                yield violation

    @staticmethod
    def _absolute(pdb: PodDisruptionBudget) -> Violation | None:
        budget = pdb.max_unavailable
        if budget is not None and (budget.value == 0 or percent(str(budget.value)) == 0):
            return Violation(
                budget.span,
                f"PDB {pdb.name} allows no voluntary disruption (maxUnavailable: {budget.value}): {CONSEQUENCE}. "
                "Allow at least one pod to go: maxUnavailable: 1",
            )
        budget = pdb.min_available
        share = percent(str(budget.value)) if budget is not None and isinstance(budget.value, str) else None
        if budget is not None and share is not None and share >= 100:
            return Violation(
                budget.span,
                f"PDB {pdb.name} requires every pod to stay up (minAvailable: {budget.value}): {CONSEQUENCE}. "
                "Use maxUnavailable: 1 (or a minAvailable below 100%)",
            )
        return None

    def _relative(self, project: Project, pdb: PodDisruptionBudget, workloads: list[Workload]) -> Violation | None:
        budget = pdb.min_available
        if budget is None or not workloads:
            return None
        replicas = 0
        related: list[Related] = []
        for workload in workloads:
            floor, scaler = project.replica_floor(workload)
            if floor is None:
                return None  # a CronJob or an unparsable count: unknown
            replicas += floor
            related.append(self._related(workload, floor, scaler))
        if replicas == 0:
            return None  # scaled to zero: nothing to evict
        required = self._required(budget, replicas)
        if required is None or required < replicas:
            return None
        what = (
            f"the {workloads[0].kind} {workloads[0].name} it selects runs {replicas} "
            if len(workloads) == 1
            else f"the {len(workloads)} workloads it selects run {replicas} "
        ) + ("replica" if replicas == 1 else "replicas")
        if isinstance(budget.value, str):
            needed = f"minAvailable: {budget.value} of {replicas} rounds up to {required}"
        else:
            needed = f"minAvailable: {budget.value}"
        message = (
            f"PDB {pdb.name} can never allow an eviction: {needed}, and {what}; {CONSEQUENCE}. "
            f"Keep minAvailable below {replicas} (or use maxUnavailable: 1), or run more replicas"
        )
        return Violation(budget.span, message, tuple(related))

    @staticmethod
    def _required(budget: Budget, replicas: int) -> int | None:
        if isinstance(budget.value, int):
            return budget.value
        share = percent(budget.value)
        if share is None:
            return None
        return math.ceil(share * replicas / 100)

    @staticmethod
    def _related(workload: Workload, floor: int, scaler: object) -> Related:
        from ekslint.model.kubernetes import Autoscaler

        if isinstance(scaler, Autoscaler):
            return Related(scaler.span, f"HorizontalPodAutoscaler {scaler.name} scales {workload.ref} down to {floor}")
        if workload.replicas_span is not None:
            return Related(workload.replicas_span, f"{workload.ref} runs {floor}")
        return Related(workload.span, f"{workload.ref} runs {floor} (replicas not set: the default is 1)")
