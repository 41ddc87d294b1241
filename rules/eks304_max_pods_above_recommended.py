"""EKS304 max-pods-above-recommended."""

from __future__ import annotations

from collections.abc import Iterator

from ekslint.plugin import (
    LARGE_VCPUS,
    RECOMMENDED_LARGE,
    RECOMMENDED_SMALL,
    Project,
    ProjectRule,
    Related,
    RuleContext,
    Severity,
    Violation,
)


class MaxPodsAboveRecommended(ProjectRule):
    """## What it does
    Notes a configured max-pods (any of the forms EKS301 reads) above the EKS
    recommendation: 110 pods per node, or 250 on instance types with more than 30
    vCPUs. With several instance types the one with the fewest vCPUs decides. When the
    instance type is unknown, only values above 250 are noted. Values above the
    instance type's IP capacity are EKS301's.

    ## Why is this bad?
    AWS's max-pods calculator recommends these caps from Kubernetes scalability
    thresholds and EKS scalability testing; above them the kubelet, container runtime
    and kube-proxy are not tested. On managed node groups without a custom AMI EKS
    enforces the cap in the node's user data, taking precedence over any other max-pods
    setting, so a higher value silently has no effect.

    ## Example
    ```yaml
    managedNodeGroups:
      - name: ng-1
        instanceType: m5.4xlarge   # 16 vCPUs, IP capacity 234
        maxPodsPerNode: 200
    ```

    ## Use instead
    ```yaml
    managedNodeGroups:
      - name: ng-1
        instanceType: m5.4xlarge
        maxPodsPerNode: 110
    ```

    ## References
    - https://docs.aws.amazon.com/eks/latest/userguide/choosing-instance-type.html
    - amazon-eks-ami `max-pods-calculator.sh`
    """

    id = "EKS304"
    name = "max-pods-above-recommended"
    severity = Severity.NOTE
    summary = "Max pods above the EKS recommendation of 110, or 250 above 30 vCPUs"
    tags = ("capacity", "kubelet")
    precision = "high"
    index_group = "capacity"

    def check(self, target: Project, ctx: RuleContext) -> Iterator[Violation]:
        groups = target.reported_node_groups()
        if not groups:
            return  # before the instance table is read
        table = ctx.instance_table
        for group in groups:
            settings = [s for s in group.max_pods if s.value is not None]
            if not settings or group.windows:
                continue
            assessed = target.capacity_of(group, table)
            if assessed is None:
                continue  # instanceSelector: the types are chosen at launch
            lowest = assessed.lowest_recommendation()
            smallest = assessed.smallest()
            cap = lowest.info.recommended_cap if lowest is not None else RECOMMENDED_LARGE
            for setting in settings:
                value = setting.value
                if value is None or value <= cap:
                    continue
                if smallest is not None and value > smallest.capacity.max_pods:
                    continue  # EKS301 says more
                if lowest is not None:
                    vcpus = lowest.info.vcpus
                    size = f"{vcpus} vCPUs" if vcpus is not None else "an unpublished vCPU count"
                    basis = (
                        f"{lowest.instance_type.describe()} ({size}) is recommended at most {cap} pods "
                        f"({RECOMMENDED_SMALL}, or {RECOMMENDED_LARGE} above {LARGE_VCPUS} vCPUs)"
                    )
                else:
                    basis = f"{RECOMMENDED_LARGE} is the most EKS recommends for any instance type"
                if assessed.eks_capped:
                    effect = (
                        f"EKS caps maxPods at {cap} on managed node groups without a custom AMI anyway, so this "
                        "value has no effect beyond it"
                    )
                else:
                    effect = "higher densities are beyond what Kubernetes and EKS test"
                related: tuple[Related, ...] = ()
                if lowest is not None and assessed.where(lowest) != setting.span:
                    related = (Related(assessed.where(lowest), f"instance type {lowest.instance_type.describe()}"),)
                yield Violation(
                    setting.span,
                    f"{setting.source} of node group {group.name} is {value}, above the EKS recommendation: "
                    f"{basis}; {effect}. Lower it to {cap}",
                    related,
                )
