"""EKS209 amazon-linux-2-end-of-life."""

from __future__ import annotations

from collections.abc import Iterator

from ekslint.plugin import FileModel, FileRule, Origin, Related, RuleContext, Severity, Violation, is_al2

# eksctl AmazonLinux2EOLVersion (pkg/apis/eksctl.io/v1alpha5/types.go).
AL2_EOL = (1, 33)


class AmazonLinux2EndOfLife(FileRule):
    """## What it does
    Flags an eksctl node group with `amiFamily: AmazonLinux2` in a cluster whose
    Kubernetes version is 1.33 or newer: every self-managed `nodeGroups` entry, and
    `managedNodeGroups` entries without `ami`, as eksctl's defaulting checks them. The
    version is `metadata.version`; without one, `kubernetes-version` in the ekslint
    config, else the version eksctl itself picks for a missing (or `auto`)
    `metadata.version`: its `DefaultVersion`, 1.34 in eksctl 0.230.

    Also flags a CloudFormation `AWS::EKS::Nodegroup` whose `AmiType` is an `AL2_*`
    type on such a cluster: the node group's `Version`, else the `Version` of the
    `AWS::EKS::Cluster` in the template (a `!Ref` of a parameter counts with the
    parameter's `Default`, and the message says so).

    Standalone userdata (a bootstrap.sh script) is not checked: the AMI it boots is
    chosen elsewhere, and no tool refuses it there.

    ## Why is this bad?
    Amazon EKS publishes no AmazonLinux2 AMIs for Kubernetes 1.33 and later, and
    eksctl refuses the node group (`AmazonLinux2 is not supported for Kubernetes
    version 1.33`). A ClusterConfig without `metadata.version` gets eksctl's default
    version, which is past 1.33, so AmazonLinux2 is refused there too. AmazonLinux2023
    boots with nodeadm and a NodeConfig instead of bootstrap.sh, so moving is more than
    renaming the family: `overrideBootstrapCommand` scripts and `--kubelet-extra-args`
    must become NodeConfig `kubelet.config` / `kubelet.flags`.

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
    - eksctl `pkg/apis/eksctl.io/v1alpha5/defaults.go` (SetNodeGroupDefaults, SetManagedNodeGroupDefaults)
    - eksctl `pkg/apis/eksctl.io/v1alpha5/types.go` (AmazonLinux2EOLVersion, DefaultVersion)
    - eksctl `pkg/eks/versions_manager.go` (ResolveClusterVersion: no version is the default one)
    - https://docs.aws.amazon.com/eks/latest/userguide/al2023.html
    - https://docs.aws.amazon.com/eks/latest/userguide/eks-ami-deprecation-faqs.html
    - AWS::EKS::Nodegroup `AmiType` (EKS API Nodegroup.amiType)
    """

    id = "EKS209"
    name = "amazon-linux-2-end-of-life"
    severity = Severity.ERROR
    summary = "An AmazonLinux2 node group on Kubernetes 1.33 or newer"
    tags = ("eksctl", "al2", "upgrade")
    precision = "very-high"

    def check(self, target: FileModel, ctx: RuleContext) -> Iterator[Violation]:
        yield from self._cloudformation(target)
        for config in target.cluster_configs:
            cluster = config.cluster
            version = cluster.effective_version
            if version is None or version < AL2_EOL:
                continue
            for entry in config.node_groups:
                group = entry.group
                if not is_al2(entry.ami_family_written) or group.ami_family_span is None:
                    continue
                if entry.managed and entry.ami:
                    continue  # SetManagedNodeGroupDefaults checks only groups without ami
                related = (
                    (Related(cluster.version_span, f"cluster {cluster.name} runs Kubernetes {cluster.version_text}"),)
                    if cluster.version_span is not None and cluster.version is not None
                    else ()
                )
                shown = f"{version[0]}.{version[1]}"
                yield Violation(
                    group.ami_family_span,
                    f"{entry.path} uses AmazonLinux2, which has no EKS AMIs for Kubernetes 1.33 and later",
                    detail=f"Cluster {cluster.name} runs {shown} ({cluster.version_source}): eksctl refuses it "
                    "('AmazonLinux2 is not "
                    f"supported for Kubernetes version {shown}'). Set amiFamily: AmazonLinux2023 (and rewrite "
                    "bootstrap.sh arguments as a NodeConfig) or Bottlerocket",
                    related=related,
                )

    @staticmethod
    def _cloudformation(target: FileModel) -> Iterator[Violation]:
        for group in target.node_groups:
            if group.origin is not Origin.CLOUDFORMATION or group.ami_family_span is None:
                continue
            version = group.kubernetes_version
            if not is_al2(group.ami_family) or version is None or version < AL2_EOL:
                continue
            cluster = group.cluster
            related = (
                (Related(cluster.version_span, f"cluster {cluster.name} runs Kubernetes {cluster.version_text}"),)
                if cluster is not None and cluster.version_span is not None and cluster.version is not None
                else ()
            )
            source = f" ({cluster.version_source})" if cluster is not None and cluster.version_source else ""
            if cluster is not None and cluster.effective_version != version:
                source = " (the node group's Version)"
            shown = f"{version[0]}.{version[1]}"
            yield Violation(
                group.ami_family_span,
                f"node group {group.name} uses an AmazonLinux2 AmiType on Kubernetes {shown}{source}: Amazon EKS "
                "publishes no AmazonLinux2 AMIs for 1.33 and later, so EKS cannot create or update the node group. "
                "Use an AL2023_* AmiType (and rewrite bootstrap.sh arguments in its launch template as a NodeConfig) "
                "or BOTTLEROCKET_*",
                related,
            )
