"""EKS405 fast-eviction-toleration."""

from __future__ import annotations

from collections.abc import Iterator

from ekslint.plugin import FileModel, FileRule, RuleContext, RuleOption, Severity, Taint, Violation, sysctls

# kube-controller-manager --node-monitor-grace-period, which EKS does not let users
# change: 40s by default, 50s from Kubernetes 1.32 (kubernetes/kubernetes#126287,
# pkg/controller/nodelifecycle/config/v1alpha1/defaults.go).
GRACE_PERIOD_BEFORE_1_32 = 40
GRACE_PERIOD = 50
LONGER_GRACE_SINCE = (1, 32)
# kube-apiserver --default-not-ready/unreachable-toleration-seconds (DefaultTolerationSeconds).
DEFAULT_SECONDS = 300
# Below this, a blip evicts. Published failover profiles use 60s for general and
# stable clusters; only a "fast" profile goes lower (30s), and it assumes a 20s grace
# period and dedicated etcd, which EKS does not offer. The default of the
# min-toleration-seconds option.
MIN_SECONDS = 60
NODE_TAINTS = ("node.kubernetes.io/not-ready", "node.kubernetes.io/unreachable")


def grace_period(version: tuple[int, int]) -> int:
    """node-monitor-grace-period of the kube-controller-manager of a Kubernetes version."""
    return GRACE_PERIOD if version >= LONGER_GRACE_SINCE else GRACE_PERIOD_BEFORE_1_32


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
    message gives the failover time: node-monitor-grace-period (fixed on EKS) +
    `tolerationSeconds`. The grace period is 50s from Kubernetes 1.32 and 40s before
    (kubernetes/kubernetes#126287, `pkg/controller/nodelifecycle/config/v1alpha1/defaults.go`),
    judged on the version that applies to the file: the oldest `metadata.version` of
    the ClusterConfigs in it, else `kubernetes-version` in the config, else the newest
    version ekslint knows (the message says which).

    The threshold is 60 seconds unless configured: published failover profiles use
    60s for general-purpose and stable clusters, and only a "fast" profile goes lower,
    with a 20s grace period and dedicated etcd that EKS does not let you configure.
    Without `tolerationSeconds`, the default is 300s (kube-apiserver
    `--default-not-ready-toleration-seconds` /
    `--default-unreachable-toleration-seconds`), a failover of 5m50s (5m40s before
    1.32).

    DaemonSet pods are not reported: the DaemonSet controller replaces these two
    tolerations with its own, without `tolerationSeconds`.

    ## Why is this bad?
    When a node stops posting status for the grace period it is tainted not-ready or
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
        tolerationSeconds: 5       # evicted 55s after the node stops reporting (1.32+)
    ```

    ## Use instead
    ```yaml
    tolerations:
      - key: node.kubernetes.io/unreachable
        operator: Exists
        effect: NoExecute
        tolerationSeconds: 60      # 1m50s; or remove it for the default 300s (5m50s)
    ```

    ## References
    - https://kubernetes.io/docs/concepts/scheduling-eviction/taint-and-toleration/#taint-based-evictions
    - https://kubernetes.io/docs/reference/command-line-tools-reference/kube-controller-manager/
    - https://github.com/kubernetes/kubernetes/pull/126287
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
        version, source = self._version(target)
        grace = grace_period(version)
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
                failover = grace + seconds
                evicted = "the pod is" if workload.kind == "Pod" else "its pods are"
                yield Violation(
                    entry.seconds_span or entry.span,
                    f"{workload.ref} tolerates {what} for only {t.seconds}s: a node is tainted after {grace}s "
                    f"without status (node-monitor-grace-period, fixed on EKS, on Kubernetes "
                    f"{sysctls.format_version(version)}: {source}), so {evicted} evicted {grace}s + {seconds}s = "
                    f"{_duration(failover)} after the node stops reporting (default "
                    f"{_duration(grace + DEFAULT_SECONDS)}); a brief network blip or kubelet restart then reschedules "
                    f"it elsewhere. Raise tolerationSeconds to at least {minimum} (failover "
                    f"{_duration(grace + minimum)}), or remove it for the default {DEFAULT_SECONDS}s",
                )

    @staticmethod
    def _version(target: FileModel) -> tuple[tuple[int, int], str]:
        """The Kubernetes version that applies to the file, and where it comes from."""
        if target.kubernetes_version is not None:
            own = any(c.version for c in target.clusters)
            where = "metadata.version of its ClusterConfig" if own else "kubernetes-version in the ekslint config"
            return target.kubernetes_version, where
        return sysctls.NEWEST_KNOWN_VERSION, "the newest version ekslint knows; set kubernetes-version to change it"
