"""EKS206 bottlerocket-missing-settings."""

from __future__ import annotations

from collections.abc import Iterator

from ekslint.plugin import FileModel, FileRule, Related, RuleContext, Severity, Violation

# Tagged required-eks in the Bottlerocket settings reference (bottlerocket-os/project-website
# data/settings/*/kubernetes.toml).
REQUIRED = ("cluster-name", "api-server", "cluster-certificate")


class BottlerocketMissingSettings(FileRule):
    """## What it does
    Flags Bottlerocket TOML userdata that lacks `settings.kubernetes.cluster-name`,
    `api-server` or `cluster-certificate` when the ekslint config says it boots a
    self-managed or custom-AMI node group (`node-groups[].userdata` with
    `self-managed: true` or `custom-ami: true`). `bootstrap-token` (VMware and metal
    variants) stands in for `cluster-name`.

    Userdata of an EKS managed node group with the EKS-provided Bottlerocket AMI is
    not reported: EKS merges these settings in. eksctl node groups are not reported
    either: eksctl always writes all three.

    ## Why is this bad?
    Bottlerocket needs the three settings to join an EKS cluster (its settings
    reference tags them `required-eks`); it
    does not look them up itself. Without them the kubelet never starts its
    registration, the instance runs but never becomes a node, and an Auto Scaling
    group keeps replacing it.

    ## Example
    ```toml
    [settings.kubernetes]
    cluster-name = "my-cluster"
    ```

    ## Use instead
    ```toml
    [settings.kubernetes]
    cluster-name = "my-cluster"
    api-server = "https://EXAMPLE.gr7.us-west-2.eks.amazonaws.com"
    cluster-certificate = "LS0tLS1CRUdJTiBDRVJUSUZJQ0FURS0tLS0t..."
    ```

    ## References
    - https://bottlerocket.dev/en/os/latest/#/api/settings/kubernetes/
    - https://github.com/bottlerocket-os/bottlerocket#kubernetes-settings
    - bottlerocket-os/project-website `data/settings/*/kubernetes.toml` (the `required-eks` tags)
    """

    id = "EKS206"
    name = "bottlerocket-missing-settings"
    severity = Severity.ERROR
    summary = "Bottlerocket userdata of a self-managed or custom-AMI node lacks the cluster settings"
    tags = ("bottlerocket", "bootstrap")
    precision = "high"

    def check(self, target: FileModel, ctx: RuleContext) -> Iterator[Violation]:
        eksctl = {id(e.userdata) for c in target.cluster_configs for e in c.node_groups if e.userdata}
        for userdata in target.userdata:
            settings = userdata.bottlerocket
            if settings is None or id(userdata) in eksctl or not userdata.must_be_complete:
                continue

            def present(key: str) -> bool:
                value = settings.get(("kubernetes", key))  # noqa: B023
                return value is not None and value != ""

            missing = [
                key
                for key in REQUIRED
                if not present(key) and not (key == "cluster-name" and present("bootstrap-token"))
            ]
            if not missing:
                continue
            context = userdata.context
            if context is not None:
                kind = "self-managed" if context.self_managed else "custom-AMI"
                name = context.name
            else:  # a node group defined with its userdata (Terraform)
                kind, name = "self-managed or custom-AMI", f"of {userdata.source}"
            fields = ", ".join(f"settings.kubernetes.{key}" for key in missing)
            related = (Related(context.span, f"node group {name} is declared {kind} here"),) if context else ()
            yield Violation(
                settings.span(("kubernetes",)),
                f"this Bottlerocket userdata lacks {', '.join(missing)}: node group {name} never joins the cluster",
                related,
                detail=f"This Bottlerocket userdata boots the {kind} node group {name}, where EKS does not merge "
                "in the "
                f"cluster settings, but it lacks {fields}: the node never joins the cluster. Add "
                f"{', '.join(missing)} under [settings.kubernetes] (the cluster's name, endpoint and base64 CA "
                "from `aws eks describe-cluster`)",
            )
