"""EKS405 fast-eviction-toleration."""

from __future__ import annotations

from collections.abc import Iterator

from ekslint.plugin import FileModel, FileRule, RuleContext, RuleOption, Severity, Taint, Violation

# kube-controller-manager --node-monitor-grace-period: 40s by default, and EKS does
# not let users change it (DOMAIN.md §8).
GRACE_PERIOD = 40
# kube-apiserver --default-not-ready/unreachable-toleration-seconds (DefaultTolerationSeconds).
DEFAULT_SECONDS = 300
# Below this, a blip evicts. The failover profiles of DOMAIN.md §8 (seed 004) use 60s
# for general and stable clusters; only the "fast" profile goes lower (30s), and it
# assumes a 20s grace period and dedicated etcd, which EKS does not offer. The
# default of the min-toleration-seconds option.
MIN_SECONDS = 60
NODE_TAINTS = ("node.kubernetes.io/not-ready", "node.kubernetes.io/unreachable")


def _duration(seconds: int) -> str:
    minutes, rest = divmod(seconds, 60)
    if not minutes:
        return f"{rest}s"
    return f"{minutes}m{rest}s" if rest else f"{minutes}m"


class FastEvictionToleration(FileRule):
    """## What it does
    Flags a toleration of the `node.kubernetes.io/not-ready` or
    `node.kubernetes.io/unreachable` NoExecute taint (or a key-less `operator: Exists`
    toleration of all NoExecute taints) whose `tolerationSeconds` is below 60 (the
    `min-toleration-seconds` option), in any pod that is not part of a DaemonSet. The
    message gives the failover time: node-monitor-grace-period (40s, fixed on EKS) +
    `tolerationSeconds`.

    The threshold is 60 seconds unless configured: the failover profiles in DOMAIN.md
    §8 use 60s for general-purpose and stable clusters, and only a "fast" profile goes
    lower, with a 20s grace period and dedicated etcd that EKS does not let you
    configure. Without `tolerationSeconds`, the default is 300s (kube-apiserver
    `--default-not-ready-toleration-seconds` /
    `--default-unreachable-toleration-seconds`), a failover of 5m40s.

    DaemonSet pods are not reported: the DaemonSet controller replaces these two
    tolerations with its own, without `tolerationSeconds`.

    ## Why is this bad?
    When a node stops posting status for 40 seconds it is tainted not-ready or
    unreachable, and pods are evicted once their `tolerationSeconds` run out. A low
    value turns a short network partition, a kubelet restart or an overloaded node
    into the eviction and rescheduling of all its pods: a rescheduling storm that
    loads the remaining nodes and the control plane, and for stateful pods a
    detach/attach of their volumes. Fast failover is a trade-off to make on purpose
    for the application, not a default.

    ## Example
    ```yaml
    tolerations:
      - key: node.kubernetes.io/unreachable
        operator: Exists
        effect: NoExecute
        tolerationSeconds: 5       # evicted 45s after the node stops reporting
    ```

    ## Use instead
    ```yaml
    tolerations:
      - key: node.kubernetes.io/unreachable
        operator: Exists
        effect: NoExecute
        tolerationSeconds: 60      # 1m40s; or remove it for the default 300s (5m40s)
    ```

    ## References
    - https://kubernetes.io/docs/concepts/scheduling-eviction/taint-and-toleration/#taint-based-evictions
    - https://kubernetes.io/docs/reference/command-line-tools-reference/kube-controller-manager/
    """

    id = "EKS405"
    name = "fast-eviction-toleration"
    severity = Severity.WARNING
    summary = "A pod tolerates a not-ready/unreachable node so briefly that a blip evicts it"
    tags = ("scheduling", "availability")
    precision = "high"
    options = (
        RuleOption(
            "min-toleration-seconds",
            int,
            MIN_SECONDS,
            "Report a `tolerationSeconds` below this. Lower it for workloads that fail over fast on "
            "purpose; 0 reports only negative values.",
            minimum=0,
        ),
    )

    def check(self, target: FileModel, ctx: RuleContext) -> Iterator[Violation]:
        minimum: int = ctx.option("min-toleration-seconds")
        for workload in target.workloads:
            if workload.kind == "DaemonSet":
                continue
            for entry in workload.pod.tolerations:
                t = entry.toleration
                if t.seconds is None or t.seconds >= minimum:
                    continue
                taints = [k for k in NODE_TAINTS if t.tolerates(Taint(k, "", "NoExecute"))]
                if not taints:
                    continue
                seconds = max(t.seconds, 0)  # zero or negative: evicted at once
                what = " and ".join(taints) if t.key else f"every NoExecute taint, including {' and '.join(taints)}"
                failover = GRACE_PERIOD + seconds
                evicted = "the pod is" if workload.kind == "Pod" else "its pods are"
                yield Violation(
                    entry.seconds_span or entry.span,
                    f"{workload.ref} tolerates {what} for only {t.seconds}s: a node is tainted after "
                    f"{GRACE_PERIOD}s without status (node-monitor-grace-period, fixed on EKS), so {evicted} "
                    f"evicted {GRACE_PERIOD}s + {seconds}s = {_duration(failover)} after the node stops reporting "
                    f"(default {_duration(GRACE_PERIOD + DEFAULT_SECONDS)}); a brief network blip or kubelet "
                    f"restart then reschedules it elsewhere. Raise tolerationSeconds to at least {minimum} "
                    f"(failover {_duration(GRACE_PERIOD + minimum)}), or remove it for the default "
                    f"{DEFAULT_SECONDS}s",
                )
