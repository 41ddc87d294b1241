"""EKS202 custom-ami-without-bootstrap."""

from __future__ import annotations

from collections.abc import Iterator

from ekslint.plugin import (
    AMI_RESOLVERS,
    EksctlNodeGroup,
    FileModel,
    FileRule,
    RuleContext,
    Severity,
    Violation,
    is_al2,
    is_placeholder,
    is_ubuntu,
)


class CustomAmiWithoutBootstrap(FileRule):
    """## What it does
    Flags an eksctl node group that sets `ami` but either has no `amiFamily`, or is
    AmazonLinux2 or Ubuntu and has no `overrideBootstrapCommand`; and a managed node
    group whose `ami` is not an AMI ID (`ami-...`).

    eksctl tests `ami != ""`, so on self-managed `nodeGroups` this includes the values
    `auto`, `auto-ssm` and `static`, which pick an EKS-optimized image: eksctl still
    refuses them without `amiFamily`, and on AmazonLinux2/Ubuntu without an override.
    The finding points at `ami`.

    ## Why is this bad?
    eksctl refuses all of these. It cannot tell how a custom image boots without
    `amiFamily` (`when using a custom AMI, amiFamily needs to be explicitly set via
    config file or via --node-ami-family flag`), and gives no default family to a
    group that sets `ami`: a managed group is not defaulted, and self-managed groups
    are validated before eksctl's defaults apply. On AmazonLinux2 and Ubuntu, eksctl
    does not know what bootstrap script the image has or which arguments it takes, so
    it makes you write the call yourself (`nodeGroups[0].overrideBootstrapCommand is
    required when using a custom AMI based on AmazonLinux2`). Managed node groups
    take only AMI IDs (`invalid AMI "auto"`). AmazonLinux2023 (nodeadm reads the
    NodeConfig eksctl writes), Bottlerocket (TOML settings) and Windows (the AMI's own
    script) need no override.

    ## Example
    ```yaml
    nodeGroups:
      - name: ng-1
        amiFamily: AmazonLinux2
        ami: ami-0123456789abcdef0
    ```

    ## Use instead
    ```yaml
    nodeGroups:
      - name: ng-1
        amiFamily: AmazonLinux2
        ami: ami-0123456789abcdef0
        overrideBootstrapCommand: |
          #!/bin/bash
          /etc/eks/bootstrap.sh my-cluster
    ```
    or use `amiFamily: AmazonLinux2023`, where eksctl writes the NodeConfig itself. For
    an EKS-optimized image, leave `ami` out: eksctl resolves it by default.

    ## References
    - eksctl `pkg/apis/eksctl.io/v1alpha5/validation.go` (ValidateNodeGroup, ValidateManagedNodeGroup)
    - eksctl `pkg/apis/eksctl.io/v1alpha5/defaults.go` (SetManagedNodeGroupDefaults: no amiFamily default with `ami`)
    - eksctl `pkg/ctl/cmdutils/cmd.go` (InitializeClusterConfig: nodeGroups are validated before their defaults)
    - https://eksctl.io/usage/custom-ami-support/
    """

    id = "EKS202"
    name = "custom-ami-without-bootstrap"
    severity = Severity.ERROR
    summary = "A node group with a custom AMI lacks amiFamily or the bootstrap command eksctl requires"
    tags = ("eksctl", "bootstrap")
    precision = "very-high"

    def check(self, target: FileModel, ctx: RuleContext) -> Iterator[Violation]:
        for config in target.cluster_configs:
            for entry in config.node_groups:
                violation = self._judge(entry)
                if violation is not None:
                    yield violation

    @staticmethod
    def _judge(entry: EksctlNodeGroup) -> Violation | None:
        ami, path = entry.ami, entry.path
        if not ami:
            return None  # eksctl tests ami != ""
        if entry.managed and entry.group.launch_template:
            return None  # eksctl refuses ami with a launch template for another reason
        if entry.managed and not ami.startswith("ami-") and not is_placeholder(ami):
            return Violation(
                entry.entry_span("ami"),
                f"{path}.ami is {ami!r}, which is not an AMI ID: eksctl refuses it for managed node groups "
                f"('invalid AMI \"{ami}\"'). Set an AMI ID (ami-...), or remove ami to use the EKS-optimized AMI",
            )
        resolver = not entry.managed and ami.lower() in AMI_RESOLVERS
        what = f"selects an EKS-optimized AMI ({ami})" if resolver else f"names the custom AMI {ami}"
        if entry.ami_family_written is None:
            advice = (
                "Remove ami (eksctl resolves the EKS-optimized AMI by default), or set amiFamily"
                if resolver
                else "Set amiFamily to the family the image is built from (AmazonLinux2023, AmazonLinux2, "
                "Bottlerocket, Ubuntu2204, ...)"
            )
            return Violation(
                entry.entry_span("ami"),
                f"{path}.ami {what} but amiFamily is not set: eksctl refuses any ami without amiFamily ('when "
                f"using a custom AMI, amiFamily needs to be explicitly set') and gives such a group no default "
                f"family. {advice}",
            )
        family = entry.group.ami_family
        if not (is_al2(family) or is_ubuntu(family)) or entry.is_set("overrideBootstrapCommand"):
            return None  # eksctl tests the pointer: null is not set
        bootstrap = "/etc/eks/bootstrap.sh <cluster-name>" if is_al2(family) else "the image's bootstrap script"
        if resolver:
            fix = f"Remove ami (eksctl resolves the EKS-optimized {family} AMI by default), or add " + (
                f"overrideBootstrapCommand with a script that runs {bootstrap}"
            )
        else:
            fix = (
                f"Add overrideBootstrapCommand with a script that runs {bootstrap}, or use amiFamily: "
                "AmazonLinux2023 (eksctl writes the NodeConfig)"
            )
        return Violation(
            entry.entry_span("ami"),
            f"{path}.ami is set on {family} without overrideBootstrapCommand, which eksctl then requires",
            detail=f"{path}.ami {what} on {family} and {path} has no overrideBootstrapCommand: eksctl refuses it "
            f"whenever ami is set ('overrideBootstrapCommand is required when using a custom AMI based on "
            f"{family}'), since it cannot know how the image bootstraps. {fix}",
        )
