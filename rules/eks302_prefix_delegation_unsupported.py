"""EKS302 prefix-delegation-unsupported."""

from __future__ import annotations

from collections.abc import Iterator

from ekslint.plugin import (
    CniFact,
    Project,
    ProjectRule,
    Related,
    RuleContext,
    Severity,
    Span,
    TypeCapacity,
    Violation,
    format_cni_version,
    pd_supported,
)


class PrefixDelegationUnsupported(ProjectRule):
    """## What it does
    When prefix delegation is on (`ENABLE_PREFIX_DELEGATION: "true"` in the eksctl
    `vpc-cni` addon's `configurationValues`, in an `aws-node` DaemonSet, or
    `cni.prefix-delegation` in the ekslint config), flags the VPC CNI version when it
    is older than 1.9, and every instance type of a Linux node group that the VPC CNI
    assigns no prefixes on: its `IsPrefixDelegationSupported`
    (amazon-vpc-cni-k8s `pkg/awsutils/awsutils.go`) is true for hypervisor `nitro` or
    bare metal. Bare-metal types (which EC2 reports with no hypervisor) support it
    from VPC CNI 1.10.3 (amazon-vpc-cni-k8s #1937, in v1.10.3 and v1.11.0), so they
    are flagged only with an older version; AWS's max-pods calculator still gives them
    the secondary-IP value, but that is only its recommendation.

    ## Why is this bad?
    Prefix delegation assigns /28 prefixes (16 addresses) instead of single IPs. The
    VPC CNI does so only on Nitro and bare-metal instances and from version 1.9;
    elsewhere it logs "Prefix delegation is not supported on non-nitro instance" and
    falls back to one secondary IP per pod: a max-pods value sized for prefix
    delegation leaves pods without IPs, and the expected density never comes.

    IPv6 clusters (eksctl `kubernetesNetworkConfig.ipFamily: IPv6`, or `ENABLE_IPv6`)
    always run the VPC CNI in prefix mode: on an instance type it assigns no prefixes
    on, aws-node refuses to start ("IPv6 is only supported in Prefix delegation Mode",
    `pkg/ipamd/ipamd.go`) and the node never becomes Ready, so those types are flagged
    too.

    ## Example
    ```yaml
    addons:
      - name: vpc-cni
        version: v1.8.0-eksbuild.1
        configurationValues: '{"env":{"ENABLE_PREFIX_DELEGATION":"true"}}'
    managedNodeGroups:
      - name: ng-1
        instanceType: m4.large   # Xen, not Nitro
    ```

    ## Use instead
    ```yaml
    addons:
      - name: vpc-cni
        version: v1.18.3-eksbuild.1
        configurationValues: '{"env":{"ENABLE_PREFIX_DELEGATION":"true"}}'
    managedNodeGroups:
      - name: ng-1
        instanceType: m5.large
    ```

    ## References
    - https://docs.aws.amazon.com/eks/latest/userguide/cni-increase-ip-addresses.html
    - https://docs.aws.amazon.com/eks/latest/userguide/choosing-instance-type.html
    - aws/amazon-vpc-cni-k8s `pkg/awsutils/awsutils.go` (`IsPrefixDelegationSupported`),
      `pkg/ipamd/ipamd.go` (the fallback to secondary IPs)
    """

    id = "EKS302"
    name = "prefix-delegation-unsupported"
    severity = Severity.WARNING
    summary = "Prefix delegation is on for an instance type or VPC CNI version that does not support it"
    tags = ("capacity", "vpc-cni")
    precision = "high"
    index_group = "capacity"

    def check(self, target: Project, ctx: RuleContext) -> Iterator[Violation]:
        groups = target.reported_node_groups()
        if not groups:
            return  # before the instance table is read
        table = ctx.instance_table
        seen: set[Span] = set()
        for group in groups:
            cni = target.cni_for(group)
            pd = cni.prefix_delegation if cni.prefix_delegation is not None and cni.prefix_delegation.value else None
            ipv6 = cni.ipv6 if cni.ipv6 is not None and cni.ipv6.value else None
            if (pd is None and ipv6 is None) or group.windows:
                continue
            version = cni.version
            if pd is not None and version is not None and not pd_supported(version.value) and version.span not in seen:
                seen.add(version.span)
                yield Violation(
                    version.span,
                    f"prefix delegation is on, but VPC CNI {format_cni_version(version.value)} does not support it",
                    detail=f"Prefix delegation is on ({pd.where()}), but {version.source} is VPC CNI "
                    f"{format_cni_version(version.value)}, which does not support it (1.9 or newer is needed): "
                    "nodes get one secondary IP per pod and max pods stays at ENIs × (IPv4 per ENI − 1) + 2. "
                    "Upgrade the VPC CNI to 1.9 or newer, or remove ENABLE_PREFIX_DELEGATION",
                    related=(Related(pd.span, "prefix delegation is turned on here"),),
                )
            assessed = target.capacity_of(group, table)
            if assessed is None:
                continue
            cni_ok = version is None or pd_supported(version.value)
            for entry in assessed.known:
                info, span = entry.info, assessed.where(entry)
                # A type that gets prefixes from a current CNI is the version's finding (above).
                unsupported = not info.prefix_capable() or (
                    cni_ok and not info.prefix_capable(version.value if version is not None else None)
                )
                if not unsupported or span in seen:
                    continue
                seen.add(span)
                yield self._unsupported_type(group.name, entry, span, pd, ipv6, version)

    @staticmethod
    def _unsupported_type(
        group: str,
        entry: TypeCapacity,
        span: Span,
        pd: CniFact[bool] | None,
        ipv6: CniFact[bool] | None,
        version: CniFact[tuple[int, ...]] | None,
    ) -> Violation:
        info = entry.info
        if info.bare_metal:
            shown = format_cni_version(version.value) if version is not None else "?"
            why = (
                f"{info.name} is bare metal, and the VPC CNI assigns prefixes on bare metal only from 1.10.3 "
                f"({version.source if version is not None else 'its version'} is {shown})"
            )
            fix = "Set the VPC CNI version to 1.10.3 or newer"
        else:
            why = f"{info.name} is not a Nitro instance (hypervisor {info.hypervisor or 'unknown'})"
            fix = "Use a Nitro instance type (for example the same size of a current generation)"
        if ipv6 is not None:
            # ipamd: "IPv6 is only supported in Prefix delegation Mode"; it refuses to start.
            return Violation(
                span,
                f"instance type {entry.instance_type.describe()} of node group {group} cannot run IPv6 pods: it gets "
                "no prefixes",
                detail=f"The cluster runs IPv6 pods ({ipv6.where()}), which the VPC CNI serves in prefix mode "
                "only, but "
                f"{why}: aws-node refuses to start there ('IPv6 is only supported in Prefix delegation Mode'), so "
                f"the nodes of node group {group} never become Ready. {fix}",
                related=(Related(ipv6.span, "IPv6 is chosen here"),),
            )
        assert pd is not None
        return Violation(
            span,
            f"prefix delegation is on, but instance type {entry.instance_type.describe()} of node group {group} gets "
            "no prefixes",
            detail=f"Prefix delegation is on ({pd.where()}), but {why}: its nodes in node group {group} get one "
            f"secondary IP per pod, at most {entry.capacity.formula}. {fix}, or size max pods for secondary IPs",
            related=(Related(pd.span, "prefix delegation is turned on here"),),
        )
