"""EKS301 max-pods-exceeds-eni-capacity."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace

from ekslint.plugin import (
    GroupCapacity,
    InstanceTable,
    NodeGroup,
    Project,
    ProjectRule,
    Related,
    RuleContext,
    Severity,
    Span,
    TypeCapacity,
    Violation,
)

# How many of a node group's other instance types a message names.
MAX_OTHERS = 3


class MaxPodsExceedsEniCapacity(ProjectRule):
    """## What it does
    Compares every max-pods value a node group configures with the number of pod IP
    addresses its instance type can hold. The value can come from eksctl
    `maxPodsPerNode` (managed and self-managed groups), `kubeletExtraConfig.maxPods`,
    `--max-pods` in bootstrap.sh's `--kubelet-extra-args` (userdata or
    `overrideBootstrapCommand`), a NodeConfig's `kubelet.config.maxPods` or
    `kubelet.flags`, Bottlerocket `settings.kubernetes.max-pods` (TOML userdata or
    eksctl `bottlerocket.settings`), or `max-pods` of a node group in the ekslint
    config. The instance type comes from `instanceType`, `instanceTypes`,
    `instancesDistribution.instanceTypes`, or `instance-types` in the ekslint config
    (for userdata files); with several types the smallest capacity decides. Groups
    using `instanceSelector` are skipped. A Karpenter or Auto Mode NodePool may launch
    every type its `requirements` allow (instance type, family, size, category,
    generation, CPU, hypervisor, architecture; any type when unconstrained): the
    smallest capacity among them decides, and the message names that type and counts
    the others. A pool with a requirement ekslint cannot judge from its table (memory,
    GPUs) is skipped.

    Where an AL2023 NodeConfig sets `kubelet.maxPodsExpression` and no maxPods,
    nodeadm evaluates the expression on each instance type (`default_enis`,
    `ips_per_eni`, `max_pods`) and configures the result, or the standard value when
    the evaluation fails (amazon-eks-ami `nodeadm/internal/kubelet/eni_max_pods.go`):
    the type whose value exceeds its capacity the most is reported, at the expression.

    The capacity is AWS's formula (the same as `eni-max-pods.txt` and nodeadm):
    ENIs of the default network card × (IPv4 addresses per ENI − 1) + 2, and with
    prefix delegation ENIs × ((IPv4 per ENI − 1) × 16) + 2 where the VPC CNI assigns
    prefixes: Nitro instances from VPC CNI 1.9, and bare-metal instances from 1.10.3
    (`IsPrefixDelegationSupported` in amazon-vpc-cni-k8s `pkg/awsutils/awsutils.go`:
    hypervisor `nitro` or bare metal). Custom networking
    (`AWS_VPC_K8S_CNI_CUSTOM_NETWORK_CFG`) takes the primary ENI away and `MAX_ENI`
    limits the ENIs. These are read from the eksctl `vpc-cni` addon's
    `configurationValues`, an `aws-node` DaemonSet, or `cni:` in the ekslint config.
    The ENIs and IPv4 addresses per ENI are those of the tables nodes use: the VPC
    CNI's `pkg/vpc/vpc_ip_resource_limit.go` and nodeadm's `instance-info.jsonl`.

    Windows nodes use only the primary ENI: IPv4 per ENI − 1, and with
    `enable-windows-prefix-delegation: "true"` (and `enable-windows-ipam: "true"`) in
    the `amazon-vpc-cni` ConfigMap, (IPv4 per ENI − 1) × 16 (the VPC resource
    controller's `getCapacity` in amazon-vpc-resource-controller-k8s
    `pkg/provider/prefix/provider.go`).

    IPv6 clusters (eksctl `kubernetesNetworkConfig.ipFamily: IPv6`, or `ENABLE_IPv6`
    in the VPC CNI's settings) are not checked: the VPC CNI gives each node a /80
    prefix, so ENIs do not bound its pods.

    ## Why is this bad?
    The scheduler believes the kubelet's max-pods, not the VPC's IP addresses. Once a
    node has used every IP its ENIs can carry, further pods are scheduled there and
    stay in `ContainerCreating` with "failed to assign an IP address to container".
    The instance type cannot be changed on an existing node group.

    ## Example
    ```yaml
    managedNodeGroups:
      - name: ng-1
        instanceType: m5.large   # 3 ENIs × (10 − 1) + 2 = 29
        maxPodsPerNode: 58
    ```

    ## Use instead
    ```yaml
    managedNodeGroups:
      - name: ng-1
        instanceType: m5.xlarge  # 4 ENIs × (15 − 1) + 2 = 58
        maxPodsPerNode: 58
    ```
    or turn on prefix delegation in the `vpc-cni` addon
    (`configurationValues: '{"env":{"ENABLE_PREFIX_DELEGATION":"true"}}'`).

    ## References
    - https://docs.aws.amazon.com/eks/latest/userguide/choosing-instance-type.html
    - https://docs.aws.amazon.com/eks/latest/userguide/cni-increase-ip-addresses.html
    - https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/AvailableIpPerENI.html
    - https://docs.aws.amazon.com/eks/latest/userguide/cni-ipv6.html
    - https://docs.aws.amazon.com/eks/latest/userguide/windows-support.html
    - aws/amazon-vpc-cni-k8s `pkg/vpc/vpc_ip_resource_limit.go`, `pkg/awsutils/awsutils.go`
    - aws/amazon-vpc-resource-controller-k8s `pkg/provider/prefix/provider.go`
    """

    id = "EKS301"
    name = "max-pods-exceeds-eni-capacity"
    severity = Severity.ERROR
    summary = "A node group's max pods exceeds the pod IPs its instance type can hold"
    tags = ("capacity", "vpc-cni", "kubelet")
    precision = "high"
    index_group = "capacity"

    def check(self, target: Project, ctx: RuleContext) -> Iterator[Violation]:
        groups = target.reported_node_groups()
        if not groups:
            return  # before the instance table is read: most one-file runs have no group
        table = ctx.instance_table
        for group in groups:
            settings = [s for s in group.max_pods if s.value is not None]
            if not settings:
                # No maxPods: nodeadm configures what maxPodsExpression gives per type.
                yield from self._expression(target, group, table)
                continue
            assessed = target.capacity_of(group, table)
            smallest = assessed.smallest() if assessed is not None else None
            if assessed is None or smallest is None:
                continue  # instanceSelector, or no known instance type (EKS303)
            for setting in settings:
                if setting.value is None or setting.value <= smallest.capacity.max_pods:
                    continue
                yield Violation(
                    setting.span,
                    self._headline(setting.value, assessed, smallest),
                    self._related(setting.span, assessed, smallest),
                    detail=self._message(setting.source, setting.value, assessed, smallest),
                )

    def _expression(self, target: Project, group: NodeGroup, table: InstanceTable) -> Iterator[Violation]:
        """nodeadm evaluates maxPodsExpression on each instance type (its default ENIs and
        IPv4 addresses per ENI) and configures the value unless kubelet.config sets
        maxPods; the worst type decides."""
        expression = group.max_pods_expression
        if expression is None or group.max_pods or expression.error is not None:
            return
        assessed = target.capacity_of(group, table)
        if assessed is None or assessed.smallest() is None:
            return
        worst: tuple[int, int, TypeCapacity] | None = None  # (excess, value, type)
        for known in assessed.known:
            value = expression.effective(known.info.enis, known.info.ipv4_per_eni)
            if value is None:
                return  # templated, or beyond what ekslint evaluates
            excess = value - known.capacity.max_pods
            if excess > 0 and (worst is None or excess > worst[0]):
                worst = (excess, value, known)
        if worst is None:
            return
        _, value, chosen = worst
        assessed = replace(assessed, known=[chosen])  # the message names the type that decides
        source = f"maxPodsExpression {expression.expression!r} in {expression.source} (on {chosen.info.name})"
        yield Violation(
            expression.span,
            self._headline(value, assessed, chosen),
            self._related(expression.span, assessed, chosen),
            detail=self._message(source, value, assessed, chosen),
        )

    @staticmethod
    def _headline(value: int, assessed: GroupCapacity, smallest: TypeCapacity) -> str:
        return (
            f"max pods {value} of node group {assessed.group.name} is above the {smallest.capacity.max_pods} pods "
            f"{smallest.instance_type.describe()} can give an IP address"
        )

    @staticmethod
    def _message(source: str, value: int, assessed: GroupCapacity, smallest: TypeCapacity) -> str:
        limit = smallest.capacity.max_pods
        name = smallest.info.name
        if len(assessed.known) > 1:
            # A Karpenter NodePool may launch hundreds of types: name a few.
            others = [t.info.name for t in assessed.known if t is not smallest]
            shown = ", ".join(others[:MAX_OTHERS])
            if len(others) > MAX_OTHERS:
                shown += f" and {len(others) - MAX_OTHERS} more"
            which = f"{smallest.instance_type.describe()}, the smallest of its instance types (also {shown}),"
        else:
            which = smallest.instance_type.describe()
        info = smallest.info
        if smallest.capacity.windows and smallest.capacity.prefix_delegation:
            fact = assessed.cni.windows_prefix_delegation
            how = f"Windows nodes get /28 prefixes on the primary ENI only ({fact.where()})"  # type: ignore[union-attr]
        elif smallest.capacity.windows:
            how = "Windows nodes give pods only the primary ENI's secondary IPv4 addresses"
        elif smallest.capacity.prefix_delegation:
            how = f"with prefix delegation ({assessed.cni.prefix_delegation.where()})"  # type: ignore[union-attr]
        elif assessed.cni.prefix_delegation is not None and assessed.cni.prefix_delegation.value:
            if not assessed.prefix_delegation:
                reason = "runs a VPC CNI older than 1.9"
            elif info.bare_metal and not info.nitro:
                reason = "is bare metal, which gets prefixes from VPC CNI 1.10.3"
            else:
                reason = "is not a Nitro instance"
            how = f"with one secondary IP per pod (prefix delegation is on, but {name} {reason}: see EKS302)"
        else:
            how = "with one secondary IP per pod (prefix delegation is off)"
        message = (
            f"{source} of node group {assessed.group.name} is {value}, but {which} can give at most {limit} pods "
            f"an IP address, {how}: "
            f"{smallest.capacity.formula}. Pods beyond {limit} are scheduled but stay in ContainerCreating "
            f"('failed to assign an IP address to container'). Lower it to {limit}, or use a larger instance type"
        )
        if not smallest.capacity.prefix_delegation:
            message += MaxPodsExceedsEniCapacity._more_prefixes(assessed, smallest)
        return message

    @staticmethod
    def _more_prefixes(assessed: GroupCapacity, smallest: TypeCapacity) -> str:
        """How to get prefixes instead of secondary IPs, where the type can have them."""
        cni, info = assessed.cni, smallest.info
        if smallest.capacity.windows:
            pd = cni.windows_prefix_delegation
            if pd is not None and pd.value:  # requested, but Windows IPAM is off
                return (
                    f' or set enable-windows-ipam: "true" in ConfigMap kube-system/amazon-vpc-cni, without which '
                    f"{pd.where()} has no effect"
                )
            return ' or turn on Windows prefix delegation (enable-windows-prefix-delegation: "true")'
        if not info.prefix_capable():
            return ""
        if cni.prefix_delegation is not None and cni.prefix_delegation.value:
            needed = "1.10.3" if info.bare_metal and not info.nitro and assessed.prefix_delegation else "1.9"
            return f" or upgrade the VPC CNI to {needed} or newer, so that prefix delegation applies"
        return " or turn on prefix delegation (ENABLE_PREFIX_DELEGATION, VPC CNI 1.9+)"

    @staticmethod
    def _related(span: Span, assessed: GroupCapacity, smallest: TypeCapacity) -> tuple[Related, ...]:
        related = []
        where = assessed.where(smallest)
        if where != span:
            related.append(
                Related(where, f"instance type {smallest.instance_type.describe()} of node group {assessed.group.name}")
            )
        fact = assessed.cni.windows_prefix_delegation if smallest.capacity.windows else assessed.cni.prefix_delegation
        if fact is not None and smallest.capacity.prefix_delegation:
            related.append(Related(fact.span, f"prefix delegation is turned on here ({fact.source})"))
        return tuple(related)
