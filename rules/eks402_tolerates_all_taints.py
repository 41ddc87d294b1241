"""EKS402 tolerates-all-taints."""

from __future__ import annotations

from collections.abc import Iterator

from ekslint.plugin import FileModel, FileRule, RuleContext, Severity, Violation


class ToleratesAllTaints(FileRule):
    """## What it does
    Flags a toleration with `operator: Exists` and no `key` (with no `effect`, or
    `effect: NoSchedule`) in any pod that is not part of a DaemonSet.

    ## Why is this bad?
    Such a toleration matches every taint, including
    `node.kubernetes.io/unschedulable:NoSchedule`, which cordoning puts on a node. When
    an EKS managed node group is upgraded, the node is cordoned and drained; the pods
    evicted from it are immediately scheduled back onto it, the node never empties, and
    the upgrade fails with `PodEvictionFailure` ("Deployment tolerating all the
    taints" in the EKS documentation). DaemonSets tolerate everything by design and
    are skipped by drains, so they are not reported. A toleration limited to
    `effect: NoExecute` (such as `tolerationSeconds` for not-ready nodes) is partial
    and not reported either.

    ## Example
    ```yaml
    kind: Deployment
    spec:
      template:
        spec:
          tolerations:
            - operator: Exists
    ```

    ## Use instead
    ```yaml
          tolerations:
            - key: dedicated
              operator: Equal
              value: ingress
              effect: NoSchedule
    ```

    ## References
    - https://docs.aws.amazon.com/eks/latest/userguide/managed-node-update-behavior.html
    - https://kubernetes.io/docs/concepts/scheduling-eviction/taint-and-toleration/
    """

    id = "EKS402"
    name = "tolerates-all-taints"
    severity = Severity.WARNING
    summary = "A non-DaemonSet pod tolerates every taint and returns to cordoned nodes"
    tags = ("scheduling", "upgrade")
    precision = "very-high"

    def check(self, target: FileModel, ctx: RuleContext) -> Iterator[Violation]:
        for workload in target.workloads:
            if workload.kind == "DaemonSet":
                continue
            for entry in workload.pod.tolerations:
                t = entry.toleration
                if t.operator != "Exists" or t.key or t.effect not in ("", "NoSchedule"):
                    continue
                scope = "every taint" if not t.effect else "every NoSchedule taint"
                if workload.kind == "Pod":
                    effect = (
                        "it can be placed on nodes that are cordoned for an upgrade and keep them from emptying, "
                        "so a managed node group upgrade fails with PodEvictionFailure. Tolerate the specific "
                        "taints it needs (key: ...)"
                    )
                else:
                    effect = (
                        "during a managed node group upgrade its pods are rescheduled onto the node being drained "
                        "and the upgrade fails with PodEvictionFailure. Tolerate the specific taints it needs "
                        "(key: ...), or run it as a DaemonSet if it must be on every node"
                    )
                yield Violation(
                    entry.span,
                    f"{workload.ref} tolerates {scope}, so it runs on nodes cordoned for an upgrade",
                    detail=f"Its toleration is operator: Exists with no key, which matches "
                    f"node.kubernetes.io/unschedulable on cordoned nodes too: {effect}",
                )
