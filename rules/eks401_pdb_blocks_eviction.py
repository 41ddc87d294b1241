"""EKS401 pdb-blocks-eviction."""

from __future__ import annotations

import math
from collections.abc import Iterator

from ekslint.plugin import (
    Autoscaler,
    Budget,
    PodDisruptionBudget,
    Project,
    ProjectRule,
    Related,
    RuleContext,
    Severity,
    Span,
    Violation,
    Workload,
    percent,
)

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
    index_group = "disruption"

    def check(self, target: Project, ctx: RuleContext) -> Iterator[Violation]:
        for pdb in (p for f in target.reported_files() for p in f.pdbs):
            selected = target.selected_by(pdb)
            if selected and all(w.kind == "DaemonSet" for w in selected):
                continue  # drains skip DaemonSet pods
            violation = self._absolute(pdb) or self._relative(target, pdb, selected)
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
        if any(w.kind == "DaemonSet" for w in workloads):
            return None  # one pod per node: the count the budget is measured against is unknown
        replicas = 0
        parts: list[str] = []
        related: list[Related] = []
        for workload in workloads:
            floor, scaler = project.replica_floor(workload)
            if floor is None:
                return None  # a CronJob or an unparsable count: unknown
            replicas += floor
            where = self._where(workload, scaler)
            related.append(Related(where, self._counted(workload, floor, scaler)))
            parts.append(f"{self._counted(workload, floor, scaler)} ({where.file}:{where.line})")
        if replicas == 0:
            return None  # scaled to zero: nothing to evict
        required = self._required(budget, replicas)
        if required is None or required < replicas:
            return None
        if isinstance(budget.value, str):
            needed = f"minAvailable: {budget.value} of {replicas} rounds up to {required}"
        else:
            needed = f"minAvailable: {budget.value}"
        if replicas == 1:
            advice = (
                "Use maxUnavailable: 1 (a single replica can only be evicted if the budget allows losing it), "
                "or run at least 2 replicas"
            )
        else:
            advice = f"Keep minAvailable below {replicas} (or use maxUnavailable: 1), or run more replicas"
        message = (
            f"PDB {pdb.name} can never allow an eviction: {needed}, and it selects {'; '.join(parts)}; "
            f"{CONSEQUENCE}. {advice}"
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
    def _where(workload: Workload, scaler: Autoscaler | None) -> Span:
        if scaler is not None:
            return scaler.span
        return workload.replicas_span or workload.span

    @staticmethod
    def _counted(workload: Workload, floor: int, scaler: Autoscaler | None) -> str:
        count = f"{floor} replica{'' if floor == 1 else 's'}"
        if scaler is not None:
            return f"{workload.ref}, which the HorizontalPodAutoscaler {scaler.name} scales down to {count}"
        if workload.replicas_defaulted:
            return f"{workload.ref} with {count} (replicas not set: the default)"
        return f"{workload.ref} with {count}"
