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

MAX_NAMED = 3
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

    The pods are counted as the disruption controller counts them (kubernetes
    `pkg/controller/disruption/disruption.go`, `getExpectedPodCount`): an integer
    `minAvailable` is compared with every pod the PDB selects (a Job's pods, bare
    Pods included), while `maxUnavailable` and a percentage `minAvailable` are
    measured against the scale of the pods' owners. Only Deployments, StatefulSets,
    ReplicaSets and ReplicationControllers have one: over a Job's or CronJob's pods
    (or a DaemonSet's, beside other pods) the controller fails (`jobs.batch does not
    implement the scale subresource`) and sets `disruptionsAllowed` to 0, and over
    bare Pods alone it expects 0 pods and allows nothing. Both are reported.

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
    - https://github.com/kubernetes/kubernetes/blob/master/pkg/controller/disruption/disruption.go
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
            violation = (
                self._absolute(pdb) or self._unscaled(target, pdb, selected) or self._relative(target, pdb, selected)
            )
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

    @staticmethod
    def _scaled_budget(pdb: PodDisruptionBudget) -> Budget | None:
        """The budget the disruption controller measures against the owners' scale:
        maxUnavailable (it wins when both are set), or a percentage minAvailable."""
        if pdb.max_unavailable is not None:
            return pdb.max_unavailable
        budget = pdb.min_available
        return budget if budget is not None and isinstance(budget.value, str) else None

    def _unscaled(self, project: Project, pdb: PodDisruptionBudget, workloads: list[Workload]) -> Violation | None:
        """maxUnavailable or a percentage minAvailable over pods whose owners have no
        scale: a Job's (or DaemonSet's beside evictable pods) makes the controller fail
        and set disruptionsAllowed to 0; bare Pods only make an expected count of 0."""
        budget = self._scaled_budget(pdb)
        if budget is None or not workloads:
            return None
        evictable = [w for w in workloads if w.kind != "DaemonSet"]
        failing = [w for w in workloads if w.owner == "unscalable"]
        setting = f"{budget.field}: {budget.value}"
        field = budget.field
        floors = [project.replica_floor(w)[0] for w in workloads if w.kind != "DaemonSet"]
        known = None if None in floors or len(floors) < len(workloads) else sum(f or 0 for f in floors)
        fix = (
            "Use an integer minAvailable instead, which the controller compares with the pods it selects "
            f"({self._integer_advice(known)}), or remove the PDB"
        )
        if failing and evictable:
            first = failing[0]
            names = ", ".join(f"{w.ref} ({w.span.file}:{w.span.line})" for w in failing[:MAX_NAMED])
            if len(failing) > MAX_NAMED:
                names += f" and {len(failing) - MAX_NAMED} more"
            owner = "Jobs" if first.kind in ("Job", "CronJob") else "DaemonSets"
            message = (
                f"PDB {pdb.name} ({setting}) selects the pods of {names}, and {field} is measured "
                f"against the scale of the pods' owners, which {owner} do not have: the disruption controller fails "
                f"({first.owner_resource} does not implement the scale subresource) and sets disruptionsAllowed to "
                f"0: {CONSEQUENCE}. {fix}"
            )
            related = tuple(Related(w.span, f"{w.ref}: its pods' owner has no scale subresource") for w in failing)
            headline = f"PDB {pdb.name} can never allow an eviction: {owner} have no scale for its {field} ({setting})"
            return Violation(budget.span, headline, related[:MAX_NAMED], detail=message)
        if evictable and all(w.owner == "none" for w in evictable):
            names = ", ".join(f"{w.ref} ({w.span.file}:{w.span.line})" for w in evictable[:MAX_NAMED])
            if len(evictable) > MAX_NAMED:
                names += f" and {len(evictable) - MAX_NAMED} more"
            message = (
                f"PDB {pdb.name} ({setting}) selects only bare Pods ({names}): {field} is measured "
                "against the scale of the pods' owners, and pods without an owner count for nothing, so the "
                f"disruption controller expects 0 pods and allows no disruption: {CONSEQUENCE}. {fix}"
            )
            related = tuple(Related(w.span, f"{w.ref} has no owner") for w in evictable)
            headline = f"PDB {pdb.name} can never allow an eviction: {setting} over bare Pods counts no pod"
            return Violation(budget.span, headline, related[:MAX_NAMED], detail=message)
        return None

    @staticmethod
    def _integer_advice(pods: int | None) -> str:
        if pods is None:
            return "below the number of pods it selects"
        if pods > 1:
            return f"for example minAvailable: {pods - 1} of the {pods} it selects"
        return "minAvailable: 0 lets its single pod go"

    def _relative(self, project: Project, pdb: PodDisruptionBudget, workloads: list[Workload]) -> Violation | None:
        """minAvailable against the pods: an integer counts every selected pod, a
        percentage is of the owners' scale (bare Pods are healthy pods, but no
        scale)."""
        budget = pdb.min_available
        if budget is None or not workloads:
            return None
        if any(w.kind == "DaemonSet" for w in workloads):
            return None  # one pod per node: the count the budget is measured against is unknown
        pods = 0
        scale = 0
        parts: list[str] = []
        related: list[Related] = []
        for workload in workloads:
            floor, scaler = project.replica_floor(workload)
            if floor is None:
                return None  # a CronJob or an unparsable count: unknown
            pods += floor
            if workload.owner == "scalable":
                scale += floor
            where = self._where(workload, scaler)
            related.append(Related(where, self._counted(workload, floor, scaler)))
            parts.append(f"{self._counted(workload, floor, scaler)} ({where.file}:{where.line})")
        if pods == 0:
            return None  # scaled to zero: nothing to evict
        required = self._required(budget, scale)
        if required is None or required < pods:
            return None
        if isinstance(budget.value, str):
            of = f"{scale}" if scale == pods else f"{scale} (the scale of the owners; bare Pods have none)"
            needed = f"minAvailable: {budget.value} of {of} rounds up to {required}"
        else:
            needed = f"minAvailable: {budget.value}"
        unscaled = next((w for w in workloads if w.owner != "scalable"), None)
        if unscaled is not None:
            # maxUnavailable would be measured against an owner's scale, which it lacks.
            advice = (
                f"Lower minAvailable below {pods} (minAvailable: {pods - 1}), or remove the PDB; maxUnavailable "
                f"would not help, as the pods of {unscaled.ref} have no owner with a scale"
            )
        elif pods == 1:
            advice = (
                "Use maxUnavailable: 1 (a single replica can only be evicted if the budget allows losing it), "
                "or run at least 2 replicas"
            )
        else:
            advice = f"Keep minAvailable below {pods} (or use maxUnavailable: 1), or run more replicas"
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
            # Where minReplicas is set (a kustomize overlay's patch), else the HPA.
            return scaler.min_replicas_span or scaler.span
        return workload.replicas_span or workload.span

    @staticmethod
    def _counted(workload: Workload, floor: int, scaler: Autoscaler | None) -> str:
        if workload.kind in ("Job", "Pod"):
            count = f"{floor} pod{'' if floor == 1 else 's'}"
        else:
            count = f"{floor} replica{'' if floor == 1 else 's'}"
        if scaler is not None:
            return f"{workload.ref}, which the HorizontalPodAutoscaler {scaler.name} scales down to {count}"
        if workload.kind == "Pod":
            return f"{workload.ref} (a bare Pod: {count})"
        if workload.replicas_defaulted:
            field = "parallelism" if workload.kind == "Job" else "replicas"
            return f"{workload.ref} with {count} ({field} not set: the default)"
        return f"{workload.ref} with {count}"
