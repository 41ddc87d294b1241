"""EKS201 override-bootstrap-without-custom-ami."""

from __future__ import annotations

from collections.abc import Iterator

from ekslint.plugin import FileModel, FileRule, RuleContext, Severity, Violation, is_al2023, is_bottlerocket, is_windows


class OverrideBootstrapWithoutCustomAmi(FileRule):
    """## What it does
    Flags an eksctl managed node group that sets `overrideBootstrapCommand` without a
    custom `ami` (and without a `launchTemplate`) on an AMI family other than
    AmazonLinux2023. The family is the one eksctl validates: `amiFamily`, else the
    default eksctl applies first to a managed group without `ami`, AmazonLinux2023.

    ## Why is this bad?
    eksctl refuses the config (`managedNodeGroups[0].overrideBootstrapCommand can only
    be set when a custom AMI (managedNodeGroups[0].ami) is specified`): with an
    EKS-provided AMI, EKS writes the bootstrap itself. On Bottlerocket and Windows
    eksctl does not support `overrideBootstrapCommand` at all. Only AmazonLinux2023
    accepts it without a custom AMI, because there it is NodeConfig YAML merged into
    the userdata, not a replacement bootstrap script. Node groups cannot be edited
    after creation, so this is best caught before `eksctl create nodegroup`.

    ## Example
    ```yaml
    managedNodeGroups:
      - name: ng-1
        amiFamily: AmazonLinux2
        overrideBootstrapCommand: |
          #!/bin/bash
          /etc/eks/bootstrap.sh my-cluster --kubelet-extra-args '--allowed-unsafe-sysctls=net.core.somaxconn'
    ```

    ## Use instead
    ```yaml
    managedNodeGroups:
      - name: ng-1
        amiFamily: AmazonLinux2
        ami: ami-0123456789abcdef0   # the custom (or EKS-optimized) AMI ID
        overrideBootstrapCommand: |
          #!/bin/bash
          /etc/eks/bootstrap.sh my-cluster --kubelet-extra-args '--allowed-unsafe-sysctls=net.core.somaxconn'
    ```
    or move to AmazonLinux2023 and give the kubelet settings as a NodeConfig.

    ## References
    - eksctl `pkg/apis/eksctl.io/v1alpha5/validation.go` (ValidateManagedNodeGroup)
    - eksctl `pkg/apis/eksctl.io/v1alpha5/defaults.go` (SetManagedNodeGroupDefaults, applied before it)
    - https://eksctl.io/usage/custom-ami-support/
    """

    id = "EKS201"
    name = "override-bootstrap-without-custom-ami"
    severity = Severity.ERROR
    summary = "A managed node group overrides the bootstrap command without a custom AMI"
    tags = ("eksctl", "bootstrap")
    precision = "very-high"

    def check(self, target: FileModel, ctx: RuleContext) -> Iterator[Violation]:
        for config in target.cluster_configs:
            for entry in config.node_groups:
                group = entry.group
                if not entry.managed or not entry.is_set("overrideBootstrapCommand"):
                    continue  # eksctl tests the pointer: null is not set
                if group.custom_ami or group.launch_template or is_al2023(group.ami_family):
                    continue
                family = group.ami_family or "?"
                path = f"{entry.path}.overrideBootstrapCommand"
                if is_bottlerocket(family):
                    message = (
                        f"{path} is not supported for {family} node groups: eksctl refuses it, with or without a "
                        "custom AMI. Remove it and put kubelet settings under bottlerocket.settings.kubernetes "
                        "(for example allowed-unsafe-sysctls)"
                    )
                elif is_windows(family):
                    message = (
                        f"{path} is not supported for {family} node groups, which always use the bootstrap script "
                        "of the Windows AMI: eksctl refuses it. Remove it"
                    )
                else:
                    message = (
                        f"{path} is set without a custom ami: eksctl refuses it on {family} ('overrideBootstrapCommand "
                        "can only be set when a custom AMI is specified'). Set ami: to the AMI ID the script is "
                        "written for, or remove overrideBootstrapCommand (use preBootstrapCommands, or "
                        "AmazonLinux2023 with a NodeConfig for kubelet settings)"
                    )
                yield Violation(entry.key_span("overrideBootstrapCommand"), message)
