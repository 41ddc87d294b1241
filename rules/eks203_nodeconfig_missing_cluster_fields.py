"""EKS203 nodeconfig-missing-cluster-fields."""

from __future__ import annotations

from collections.abc import Iterator

from ekslint.plugin import (
    HYBRID_IAM_RA_FIELDS,
    HYBRID_SSM_FIELDS,
    FileModel,
    FileRule,
    MergedNodeConfig,
    Related,
    RuleContext,
    Severity,
    Violation,
)

# amazon-eks-ami nodeadm/internal/api/validation.go and aws/eks-hybrid
# internal/node/hybrid/validator.go, in the order nodeadm checks (the first fails).
NODEADM_ERRORS = {
    "name": "Name is missing in cluster configuration",
    "region": "Region is missing in cluster configuration",
    "apiServerEndpoint": "Apiserver endpoint is missing in cluster configuration",
    "certificateAuthority": "Certificate authority is missing in cluster configuration",
    "cidr": "CIDR is missing in cluster configuration",
    "id": "cluster ID must be provided for outposts",
}
HYBRID_ERRORS = {
    "roleArn": "RoleARN is missing in hybrid iam roles anywhere configuration",
    "profileArn": "ProfileARN is missing in hybrid iam roles anywhere configuration",
    "trustAnchorArn": "TrustAnchorARN is missing in hybrid iam roles anywhere configuration",
    "nodeName": "NodeName can't be empty in hybrid iam roles anywhere configuration",
    "activationCode": "ActivationCode is missing in hybrid ssm configuration",
    "activationId": "ActivationID is missing in hybrid ssm configuration",
}


class NodeconfigMissingClusterFields(FileRule):
    """## What it does
    Merges every NodeConfig of an AL2023 userdata the way nodeadm does (all
    `application/node.eks.aws` MIME parts in order, later parts winning, empty values
    never overriding) and checks that the result has what nodeadm requires:
    `spec.cluster.name`, `apiServerEndpoint`, `certificateAuthority` and `cidr`, and
    `id` when `enableOutpost` is true; when the userdata has to carry them: it sets
    some cluster field itself, or the ekslint config says its node group is
    self-managed or uses a custom AMI (`node-groups[].userdata` with
    `self-managed: true` or `custom-ami: true`).

    A NodeConfig with `spec.hybrid` is for EKS hybrid nodes and is checked as nodeadm
    for hybrid nodes checks it: `spec.cluster.name` and `region`, and exactly one way
    to authenticate with all its fields: `ssm` (`activationCode`, `activationId`) or
    `iamRolesAnywhere` (`roleArn`, `profileArn`, `trustAnchorArn`, `nodeName`).

    A userdata with no cluster section at all is the managed-node-group pattern, where
    EKS injects the cluster details; it is not reported. eksctl node groups are not
    reported either: eksctl adds its own complete cluster section for self-managed and
    custom-AMI groups. An empty `certificateAuthority: ""` is not missing to nodeadm
    (EKS204 reports it).

    ## Why is this bad?
    nodeadm validates the merged configuration before it starts the kubelet and stops
    at the first missing field (`Certificate authority is missing in cluster
    configuration`, `cluster ID must be provided for outposts`; amazon-eks-ami
    `nodeadm/internal/api/validation.go`); the instance boots but never joins the
    cluster, and with a managed node group the create or upgrade fails after the
    health checks time out. Unlike bootstrap.sh on AL2, nodeadm on EC2 does not look
    the values up with `DescribeCluster`. nodeadm for hybrid nodes does look up the
    endpoint, CA and CIDR, but stops without a name, a region or credentials
    (aws/eks-hybrid `internal/node/hybrid/validator.go`).

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
    - aws/eks-hybrid `internal/node/hybrid/validator.go`
    - https://docs.aws.amazon.com/eks/latest/userguide/hybrid-nodes-nodeadm.html
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
            if merged.hybrid is not None:
                yield from self._hybrid_credentials(merged)
            missing = merged.missing_cluster_fields()
            present = merged.explicit_cluster_fields
            if not missing or not (present or userdata.must_be_complete or merged.hybrid is not None):
                continue
            if missing == ["id"] and merged.enable_outpost is not None:
                yield Violation(
                    merged.enable_outpost.span,
                    f"enableOutpost is true in {merged.enable_outpost.source} but the merged NodeConfig has no "
                    f"spec.cluster.id: nodeadm stops with '{NODEADM_ERRORS['id']}' and the node never joins. Add "
                    "spec.cluster.id, the ID of the local cluster on the Outpost (aws eks describe-cluster --query "
                    "cluster.id)",
                )
                continue
            parts = len(merged.parts)
            scope = f"the NodeConfig merged from {parts} parts" if parts > 1 else "the NodeConfig"
            fields = ", ".join(f"spec.cluster.{name}" for name in missing)
            failure = f"nodeadm stops with '{NODEADM_ERRORS[missing[0]]}' and the node never joins the cluster"
            related: list[Related] = []
            context = userdata.context
            if merged.hybrid is not None:
                message = (
                    f"It is for hybrid nodes (spec.hybrid) and lacks {fields}: nodeadm for hybrid nodes stops "
                    f"with '{NODEADM_ERRORS[missing[0]]}'. Add {fields} (the cluster's name and AWS region; nodeadm "
                    "looks the endpoint, CA and CIDR up itself)"
                )
            elif present:
                message = (
                    f"It sets {', '.join(present)} but lacks {fields}: {failure}. "
                    f"Add {fields}, or drop spec.cluster entirely if EKS injects it "
                    "(managed node group without a custom AMI)"
                )
            elif context is None:  # a node group defined with its userdata (Terraform)
                message = (
                    f"{scope} of {userdata.source} has no spec.cluster, but it boots a self-managed or custom-AMI "
                    f"node group, where nothing else supplies the cluster details: {failure}. Add {fields}"
                )
            else:
                kind = "self-managed" if context.self_managed else "custom-AMI"
                name = context.name
                where = f" ({context.span.file}:{context.span.line})"
                message = (
                    "It has no spec.cluster, but the ekslint config says it boots the "
                    f"{kind} node group {name}{where}, where nothing else supplies the cluster details: {failure}. "
                    f"Add {fields}"
                )
                related.append(Related(context.span, f"node group {name} is declared {kind} here"))
            spans = {merged.cluster[name].span for name in merged.cluster}
            if parts > 1 and len(spans) == len(merged.cluster):  # positions inside decoded parts all collapse
                related += [
                    Related(merged.cluster[name].span, f"{name} is set here ({merged.cluster[name].source})")
                    for name in merged.required_cluster_fields
                    if name in merged.cluster
                ]
            yield Violation(merged.anchor(), f"{scope} of this userdata lacks {fields}", tuple(related), detail=message)

    def _hybrid_credentials(self, merged: MergedNodeConfig) -> Iterator[Violation]:
        hybrid = merged.hybrid
        assert hybrid is not None
        if hybrid.ssm is None and hybrid.iam_roles_anywhere is None:
            yield Violation(
                hybrid.span,
                "spec.hybrid has neither ssm nor iamRolesAnywhere: nodeadm for hybrid nodes stops with 'Either "
                "IAMRolesAnywhere or SSM must be provided for hybrid node configuration'. Add ssm (activationCode, "
                "activationId of an SSM hybrid activation) or iamRolesAnywhere (roleArn, profileArn, "
                "trustAnchorArn, nodeName)",
            )
            return
        for section, fields, names, where in (
            ("iamRolesAnywhere", hybrid.iam_roles_anywhere, HYBRID_IAM_RA_FIELDS, hybrid.iam_roles_anywhere_span),
            ("ssm", hybrid.ssm, HYBRID_SSM_FIELDS, hybrid.ssm_span),
        ):
            if fields is None:
                continue
            missing = [name for name in names if name not in fields]
            if missing:
                listed = ", ".join(f"spec.hybrid.{section}.{name}" for name in missing)
                yield Violation(
                    where or hybrid.span,
                    f"spec.hybrid.{section} lacks {listed}: nodeadm for hybrid nodes stops with "
                    f"'{HYBRID_ERRORS[missing[0]]}' and the node never joins. Add {listed}",
                )
