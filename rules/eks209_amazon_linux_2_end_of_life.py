"""EKS209 amazon-linux-2-end-of-life."""

from __future__ import annotations

from collections.abc import Iterator

from ekslint.plugin import FileModel, FileRule, Related, RuleContext, Severity, Violation, is_al2

# eksctl AmazonLinux2EOLVersion (DOMAIN.md §3.1).
AL2_EOL = (1, 33)


class AmazonLinux2EndOfLife(FileRule):
    """## What it does
    Flags an eksctl node group with `amiFamily: AmazonLinux2` in a cluster whose
    Kubernetes version (`metadata.version`, else `kubernetes-version` in the ekslint
    config) is 1.33 or newer: every self-managed `nodeGroups` entry, and
    `managedNodeGroups` entries without a custom `ami`, as eksctl checks them.

    Standalone userdata (a bootstrap.sh script) is not checked: the AMI it boots is
    chosen elsewhere, and no tool refuses it there.

    ## Why is this bad?
    Amazon EKS publishes no AmazonLinux2 AMIs for Kubernetes 1.33 and later, and
    eksctl refuses the node group (`AmazonLinux2 is not supported for Kubernetes
    version 1.33`, DOMAIN.md §3.1). AmazonLinux2023 boots with nodeadm and a
    NodeConfig instead of bootstrap.sh, so moving is more than renaming the family:
    `overrideBootstrapCommand` scripts and `--kubelet-extra-args` must become
    NodeConfig `kubelet.config` / `kubelet.flags`.

    ## Example
    ```yaml
    metadata:
      version: "1.33"
    managedNodeGroups:
      - name: ng-1
        amiFamily: AmazonLinux2
    ```

    ## Use instead
    ```yaml
    metadata:
      version: "1.33"
    managedNodeGroups:
      - name: ng-1
        amiFamily: AmazonLinux2023
    ```

    ## References
    - eksctl `pkg/apis/eksctl.io/v1alpha5/defaults.go` (AmazonLinux2EOLVersion)
    - https://docs.aws.amazon.com/eks/latest/userguide/al2023.html
    """

    id = "EKS209"
    name = "amazon-linux-2-end-of-life"
    severity = Severity.ERROR
    summary = "An AmazonLinux2 node group on Kubernetes 1.33 or newer"
    tags = ("eksctl", "al2", "upgrade")
    precision = "very-high"

    def check(self, target: FileModel, ctx: RuleContext) -> Iterator[Violation]:
        for config in target.cluster_configs:
            for entry in config.node_groups:
                group = entry.group
                version = group.kubernetes_version
                if not (is_al2(group.ami_family) and group.ami_family_explicit and group.ami_family_span):
                    continue
                if version is None or version < AL2_EOL:
                    continue
                if entry.managed and group.custom_ami:
                    continue  # eksctl does not resolve the AMI itself, so it does not refuse
                cluster = config.cluster
                if cluster.version is not None:
                    where = f"metadata.version {cluster.version_text}"
                else:
                    where = f"kubernetes-version {version[0]}.{version[1]} in the ekslint config"
                related = (
                    (Related(cluster.version_span, f"cluster {cluster.name} runs Kubernetes {cluster.version_text}"),)
                    if cluster.version_span is not None
                    else ()
                )
                yield Violation(
                    group.ami_family_span,
                    f"{entry.path} uses AmazonLinux2, which has no EKS AMIs for Kubernetes 1.33 and later "
                    f"(cluster {cluster.name}: {where}): eksctl refuses it ('AmazonLinux2 is not supported for "
                    f"Kubernetes version {version[0]}.{version[1]}'). Set amiFamily: AmazonLinux2023 (and rewrite "
                    "bootstrap.sh arguments as a NodeConfig) or Bottlerocket",
                    related,
                )
