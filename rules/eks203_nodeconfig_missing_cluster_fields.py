"""EKS203 nodeconfig-missing-cluster-fields."""

from __future__ import annotations

from collections.abc import Iterator

from ekslint.plugin import REQUIRED_CLUSTER_FIELDS, FileModel, FileRule, Related, RuleContext, Severity, Violation

# nodeadm internal/api/validation.go, in the order nodeadm checks (the first fails).
NODEADM_ERRORS = {
    "name": "Name is missing in cluster configuration",
    "apiServerEndpoint": "Apiserver endpoint is missing in cluster configuration",
    "certificateAuthority": "Certificate authority is missing in cluster configuration",
    "cidr": "CIDR is missing in cluster configuration",
}


class NodeconfigMissingClusterFields(FileRule):
    """## What it does
    Merges every NodeConfig of an AL2023 userdata the way nodeadm does (all
    `application/node.eks.aws` MIME parts in order, later parts winning, empty values
    never overriding) and checks that the result has `spec.cluster.name`,
    `apiServerEndpoint`, `certificateAuthority` and `cidr`, when the userdata has to
    carry them: it sets some cluster field itself, or the ekslint config says its node
    group is self-managed or uses a custom AMI (`node-groups[].userdata` with
    `self-managed: true` or `custom-ami: true`).

    A userdata with no cluster section at all is the managed-node-group pattern, where
    EKS injects the cluster details; it is not reported. eksctl node groups are not
    reported either: eksctl adds its own complete cluster section for self-managed and
    custom-AMI groups.

    ## Why is this bad?
    nodeadm validates the merged configuration before it starts the kubelet and stops
    at the first missing field (`Certificate authority is missing in cluster
    configuration`); the instance boots but never joins the cluster, and with a managed
    node group the create or upgrade fails after the health checks time out. Unlike
    bootstrap.sh on AL2, nodeadm does not look the values up with `DescribeCluster`.

    ## Example
    ```yaml
    apiVersion: node.eks.aws/v1alpha1
    kind: NodeConfig
    spec:
      cluster:
        name: my-cluster
        apiServerEndpoint: https://example.gr7.us-west-2.eks.amazonaws.com
    ```

    ## Use instead
    ```yaml
    apiVersion: node.eks.aws/v1alpha1
    kind: NodeConfig
    spec:
      cluster:
        name: my-cluster
        apiServerEndpoint: https://example.gr7.us-west-2.eks.amazonaws.com
        certificateAuthority: LS0tLS1CRUdJTiBDRVJUSUZJQ0FURS0tLS0t...
        cidr: 10.100.0.0/16
    ```

    ## References
    - https://awslabs.github.io/amazon-eks-ami/nodeadm/
    - amazon-eks-ami `nodeadm/internal/api/validation.go`
    """

    id = "EKS203"
    name = "nodeconfig-missing-cluster-fields"
    severity = Severity.ERROR
    summary = "The merged NodeConfig of an AL2023 userdata lacks required cluster fields"
    tags = ("nodeadm", "al2023", "bootstrap")
    precision = "high"

    def check(self, target: FileModel, ctx: RuleContext) -> Iterator[Violation]:
        for userdata in target.userdata:
            merged = userdata.nodeconfig
            if merged is None:
                continue
            missing = merged.missing_cluster_fields()
            present = merged.explicit_cluster_fields
            if not missing or not (present or userdata.must_be_complete):
                continue
            parts = len(merged.parts)
            scope = f"the NodeConfig merged from {parts} parts" if parts > 1 else "the NodeConfig"
            fields = ", ".join(f"spec.cluster.{name}" for name in missing)
            failure = f"nodeadm stops with '{NODEADM_ERRORS[missing[0]]}' and the node never joins the cluster"
            related: list[Related] = []
            context = userdata.context
            if present:
                message = (
                    f"{scope} of this userdata sets {', '.join(present)} but lacks {fields}: {failure}. "
                    f"Add {fields}, or drop spec.cluster entirely if EKS injects it "
                    "(managed node group without a custom AMI)"
                )
            else:
                kind = "self-managed" if context is not None and context.self_managed else "custom-AMI"
                name = context.name if context is not None else "?"
                where = f" ({context.span.file}:{context.span.line})" if context is not None else ""
                message = (
                    f"{scope} of this userdata has no spec.cluster, but the ekslint config says it boots the "
                    f"{kind} node group {name}{where}, where nothing else supplies the cluster details: {failure}. "
                    f"Add {fields}"
                )
                if context is not None:
                    related.append(Related(context.span, f"node group {name} is declared {kind} here"))
            spans = {merged.cluster[name].span for name in merged.cluster}
            if parts > 1 and len(spans) == len(merged.cluster):  # positions inside decoded parts all collapse
                related += [
                    Related(merged.cluster[name].span, f"{name} is set here ({merged.cluster[name].source})")
                    for name in REQUIRED_CLUSTER_FIELDS
                    if name in merged.cluster
                ]
            yield Violation(merged.anchor(), message, tuple(related))
