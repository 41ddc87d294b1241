"""EKS202 custom-ami-without-bootstrap."""

from __future__ import annotations

from collections.abc import Iterator

from ekslint.plugin import FileModel, FileRule, RuleContext, Severity, Violation, is_al2, is_ubuntu


class CustomAmiWithoutBootstrap(FileRule):
    """## What it does
    Flags an eksctl node group (managed or self-managed) that names a custom `ami`
    but either has no `amiFamily`, or is AmazonLinux2 or Ubuntu and has no
    `overrideBootstrapCommand`.

    ## Why is this bad?
    eksctl refuses both (DOMAIN.md §3.2, §3.3). It cannot tell how a custom image
    boots without `amiFamily` (`when using a custom AMI, amiFamily needs to be
    explicitly set via config file or via --node-ami-family flag`). On AmazonLinux2
    and Ubuntu, eksctl does not know what bootstrap script a custom image has or
    which arguments it takes, so it makes you write the call yourself
    (`nodeGroups[0].overrideBootstrapCommand is required when using a custom AMI
    based on AmazonLinux2`). AmazonLinux2023 (nodeadm reads the NodeConfig eksctl
    writes), Bottlerocket (TOML settings) and Windows (the AMI's own script) need
    no override. The `ami` values `auto`, `auto-ssm` and `static` of self-managed
    groups select an EKS-optimized image and are not custom.

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
    or use `amiFamily: AmazonLinux2023`, where eksctl writes the NodeConfig itself.

    ## References
    - eksctl `pkg/apis/eksctl.io/v1alpha5/validation.go` (ValidateNodeGroup, ValidateManagedNodeGroup)
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
                group = entry.group
                if not group.custom_ami or "ami" not in entry.fields:
                    continue
                if entry.managed and group.launch_template:
                    continue  # eksctl refuses ami with a launch template for another reason
                ami = entry.ami
                path = entry.path
                if not group.ami_family_explicit:
                    yield Violation(
                        entry.entry_span("ami"),
                        f"{path}.ami names the custom AMI {ami} but amiFamily is not set: eksctl refuses it "
                        "('when using a custom AMI, amiFamily needs to be explicitly set'). Set amiFamily to the "
                        "family the image is built from (AmazonLinux2023, AmazonLinux2, Bottlerocket, Ubuntu2204, ...)",
                    )
                    continue
                family = group.ami_family
                if not (is_al2(family) or is_ubuntu(family)):
                    continue
                if entry.is_set("overrideBootstrapCommand"):
                    continue  # eksctl tests the pointer: null is not set
                bootstrap = "/etc/eks/bootstrap.sh <cluster-name>" if is_al2(family) else "the image's bootstrap script"
                yield Violation(
                    entry.entry_span("ami"),
                    f"{path}.ami is a custom {family} AMI ({ami}) and {path} has no overrideBootstrapCommand: "
                    f"eksctl refuses it ('overrideBootstrapCommand is required when using a custom AMI based on "
                    f"{family}'), since it cannot know how the image bootstraps. Add overrideBootstrapCommand with "
                    f"a script that runs {bootstrap}, or use amiFamily: AmazonLinux2023 (eksctl writes the NodeConfig)",
                )
