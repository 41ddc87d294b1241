"""EKS502 windows-ipam-not-enabled."""

from __future__ import annotations

from collections.abc import Iterator

from ekslint.plugin import ConfigMap, NodeGroup, Project, ProjectRule, Related, RuleContext, Severity, Violation

CONFIG_MAP = "amazon-vpc-cni"
NAMESPACE = "kube-system"
KEY = "enable-windows-ipam"
# The VPC resource controller reads the value with Go's strconv.ParseBool.
TRUE_VALUES = frozenset(("1", "t", "T", "true", "TRUE", "True"))
MAX_RELATED = 3


class WindowsIpamNotEnabled(ProjectRule):
    """## What it does
    When the analysed files define Windows node groups (`amiFamily:
    WindowsServer...`) and also hold the `amazon-vpc-cni` ConfigMap of `kube-system`
    (or one with no namespace, applied there with `-n`),
    flags that ConfigMap if it does not set `enable-windows-ipam` to true (the VPC
    resource controller parses it with Go's `strconv.ParseBool`, so `"true"`, `"1"`,
    `"t"` ... count: `IsWindowsIPAMEnabled` in aws/amazon-vpc-resource-controller-k8s
    `pkg/condition/conditions.go`). A
    missing ConfigMap is not reported: EKS and eksctl may create it.

    The ConfigMap does not say which cluster it is for: when the analysed files define
    several clusters (eksctl ClusterConfigs), it is reported only if every one of them
    has Windows node groups.

    ## Why is this bad?
    On EKS, IP addresses for Windows pods come from the VPC resource controller, and
    only when this flag is true. Otherwise Windows nodes advertise no
    `vpc.amazonaws.com/PrivateIPv4Address` capacity and Windows pods stay Pending or
    in ContainerCreating. Applying this ConfigMap as written turns Windows IPAM off
    even where eksctl had turned it on.

    ## Example
    ```yaml
    apiVersion: v1
    kind: ConfigMap
    metadata: {name: amazon-vpc-cni, namespace: kube-system}
    data:
      enable-network-policy-controller: "true"
    ```

    ## Use instead
    ```yaml
    data:
      enable-network-policy-controller: "true"
      enable-windows-ipam: "true"
    ```

    ## References
    - https://docs.aws.amazon.com/eks/latest/userguide/windows-support.html
    - https://github.com/aws/amazon-vpc-resource-controller-k8s
    """

    id = "EKS502"
    name = "windows-ipam-not-enabled"
    severity = Severity.WARNING
    summary = "Windows node groups exist but the amazon-vpc-cni ConfigMap does not enable Windows IPAM"
    tags = ("windows", "networking", "cross-file")
    precision = "high"
    index_group = "windows"

    def check(self, target: Project, ctx: RuleContext) -> Iterator[Violation]:
        maps = [
            c
            for f in target.reported_files()
            for c in f.config_maps
            if c.name == CONFIG_MAP and c.namespace in (None, NAMESPACE) and c.data.get(KEY) not in TRUE_VALUES
        ]
        if not maps:
            return
        windows = [g for g in target.node_groups if g.windows]
        if not windows:
            return
        # The ConfigMap names no cluster: report only when whichever analysed cluster
        # it is applied to has Windows nodes.
        clusters = {c.name for c in target.clusters}
        if clusters - {g.cluster.name for g in windows if g.cluster is not None}:
            return
        for config_map in maps:
            yield self._violation(config_map, windows)

    @staticmethod
    def _violation(config_map: ConfigMap, windows: list[NodeGroup]) -> Violation:
        value = config_map.data.get(KEY)
        span = config_map.data_spans.get(KEY, config_map.span)
        names = ", ".join(g.describe() for g in windows[:MAX_RELATED])
        if len(windows) > MAX_RELATED:
            names += f" and {len(windows) - MAX_RELATED} more"
        state = f"sets {KEY}: {value!r}" if value is not None else f"does not set {KEY}"
        message = (
            f"ConfigMap {NAMESPACE}/{CONFIG_MAP} {state}, but Windows node groups run here ({names}): the VPC "
            "resource controller assigns no IP addresses to Windows pods unless it is true, so they never start. "
            f'Set {KEY}: "true" in its data'
        )
        related = tuple(
            Related(g.ami_family_span or g.span, f"Windows node group {g.name}") for g in windows[:MAX_RELATED]
        )
        return Violation(span, message, related)
