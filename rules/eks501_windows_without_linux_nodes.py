"""EKS501 windows-without-linux-nodes."""

from __future__ import annotations

from collections.abc import Iterator

from ekslint.plugin import Cluster, NodeGroup, Project, ProjectRule, Related, RuleContext, Severity, Violation

MAX_RELATED = 5


class WindowsWithoutLinuxNodes(ProjectRule):
    """## What it does
    Flags an eksctl ClusterConfig that has Windows node groups (`amiFamily:
    WindowsServer...`, eksctl `SupportedAMIFamilies`) but no Linux capacity for the cluster's system pods: no Linux
    node group in it or in another analysed ClusterConfig of the same cluster name,
    no EKS Auto Mode (`autoModeConfig.enabled`), no Fargate profile for `kube-system`,
    and no Linux node group that no ClusterConfig owns (a userdata or NodeConfig file,
    or `node-groups` in the ekslint config for node groups defined elsewhere), which
    may belong to the cluster. The finding points at the first Windows node group's
    `amiFamily`.

    ## Why is this bad?
    CoreDNS, the VPC resource controller's webhook and most add-ons run only on
    Linux. AWS: "All Amazon EKS clusters must contain at least one Linux worker node,
    even if you only want to run Windows workloads in your cluster." Without one,
    CoreDNS stays Pending, so Windows pods have no DNS and Windows IPAM never
    works.

    ## Example
    ```yaml
    nodeGroups:
      - name: windows-ng
        amiFamily: WindowsServer2022CoreContainer
    ```

    ## Use instead
    ```yaml
    nodeGroups:
      - name: windows-ng
        amiFamily: WindowsServer2022CoreContainer
    managedNodeGroups:
      - name: linux-system
        instanceType: m5.large
        minSize: 2
    ```

    ## References
    - https://docs.aws.amazon.com/eks/latest/userguide/windows-support.html
    - https://eksctl.io/usage/windows-worker-nodes/
    - eksctl `pkg/apis/eksctl.io/v1alpha5/types.go` (`SupportedAMIFamilies`)
    """

    id = "EKS501"
    name = "windows-without-linux-nodes"
    severity = Severity.ERROR
    summary = "A cluster has Windows node groups but no Linux nodes for CoreDNS and system pods"
    tags = ("windows", "topology")
    precision = "high"
    index_group = "windows"

    def check(self, target: Project, ctx: RuleContext) -> Iterator[Violation]:
        linux: set[str] | None = None  # clusters with Linux capacity; "" = a group of no known cluster
        for facts in target.reported_files():
            for cluster in facts.clusters:
                windows = [
                    g
                    for g in facts.node_groups
                    if g.windows
                    and g.cluster is not None
                    and (g.cluster.file, g.cluster.name) == (cluster.file, cluster.name)
                ]
                if not windows or cluster.linux_capacity is not None:
                    continue
                if linux is None:
                    linux = self._with_linux(target)
                if cluster.name not in linux and "" not in linux:
                    yield self._violation(cluster, windows)

    @staticmethod
    def _with_linux(project: Project) -> set[str]:
        """Names of the clusters that have Linux capacity somewhere in the analysed
        files; "" when some Linux group belongs to no known cluster (userdata, a
        NodeConfig, the ekslint config's node-groups), which may be any cluster's."""
        found = {c.name for c in project.clusters if c.linux_capacity is not None}
        for group in project.node_groups:
            if not group.windows:
                found.add(group.cluster.name if group.cluster is not None else "")
        return found

    @staticmethod
    def _violation(cluster: Cluster, windows: list[NodeGroup]) -> Violation:
        windows = sorted(windows, key=lambda g: (g.span.line, g.span.col))  # in file order
        first = windows[0]
        names = ", ".join(g.name for g in windows)
        message = (
            f"cluster {cluster.name} has only Windows node groups ({names}) and no Linux nodes: CoreDNS and other "
            "system pods run only on Linux, so they stay Pending and Windows pods get no DNS (EKS needs at least "
            "one Linux node in every cluster). Add a Linux node group (for example a managed node group with the "
            "default amiFamily AmazonLinux2023) for the system pods, or enable autoModeConfig"
        )
        related = tuple(Related(g.span, f"Windows node group {g.name}") for g in windows[:MAX_RELATED])
        return Violation(first.ami_family_span or first.span, message, related)
