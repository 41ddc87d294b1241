"""EKS003 unsupported-api-version."""

from __future__ import annotations

from collections.abc import Iterator

from ekslint.plugin import Project, ProjectRule, Related, RuleContext, Severity, Violation


class UnsupportedApiVersion(ProjectRule):
    """## What it does
    Flags an object of a known kind whose `apiVersion` the target Kubernetes version
    no longer serves, following the Kubernetes Deprecated API Migration Guide: for
    example `policy/v1beta1` PodDisruptionBudgets and `batch/v1beta1` CronJobs from
    1.25, `autoscaling/v2beta2` HorizontalPodAutoscalers from 1.26,
    `extensions/v1beta1` and `apps/v1beta1`/`apps/v1beta2` workloads from 1.16,
    `networking.k8s.io/v1beta1` Ingresses and `rbac.authorization.k8s.io/v1beta1`
    roles from 1.22.

    The target version is that of the object's cluster (see "Several clusters" in the
    README): `metadata.version` of the cluster's ClusterConfig, else the cluster's
    `kubernetes-version` under `clusters:`, else `kubernetes-version` in the ekslint
    config, else eksctl's default version (`DefaultVersion`, 1.34, which eksctl gives a
    ClusterConfig without `metadata.version`). A file no cluster owns is judged by the
    configured version or eksctl's default, never by some other cluster's. The message
    names where the version came from.

    ## Why is this bad?
    The API server answers `no matches for kind "PodDisruptionBudget" in version
    "policy/v1beta1"`: `kubectl apply`, Helm and GitOps syncs fail, and an EKS
    control-plane upgrade past the removal leaves such manifests unappliable. EKS
    upgrade insights flag the same APIs before an upgrade.

    ## Example
    ```yaml
    apiVersion: policy/v1beta1
    kind: PodDisruptionBudget
    ```

    ## Use instead
    ```yaml
    apiVersion: policy/v1
    kind: PodDisruptionBudget
    ```

    ## References
    - Kubernetes Deprecated API Migration Guide: https://kubernetes.io/docs/reference/using-api/deprecation-guide/
    - https://docs.aws.amazon.com/eks/latest/userguide/cluster-insights.html
    """

    id = "EKS003"
    name = "unsupported-api-version"
    severity = Severity.WARNING
    summary = "An object uses an apiVersion that the cluster's Kubernetes version no longer serves"
    tags = ("kubernetes", "upgrade", "cross-file")
    precision = "very-high"

    def check(self, target: Project, ctx: RuleContext) -> Iterator[Violation]:
        version: tuple[int, int] | None = None
        source = ""
        related: tuple[Related, ...] = ()
        for facts in target.reported_files():
            for obj in facts.removed_apis:
                if version is None:
                    version, source = target.default_version()
                    cluster = next((c for c in target.clusters if c.version == version and c.version_span), None)
                    if cluster is not None and cluster.version_span is not None:
                        where = cluster.version_span
                        source = f"metadata.version of cluster {cluster.name}, {where.file}:{where.line}"
                        related = (Related(where, f"cluster {cluster.name} runs Kubernetes {cluster.version_text}"),)
                if version < obj.removed_in:
                    continue
                removed = f"{obj.removed_in[0]}.{obj.removed_in[1]}"
                target_text = f"{version[0]}.{version[1]}"
                replacement = obj.replacement_for(version)
                if replacement is not None:
                    fix = f"use apiVersion: {replacement} (check the fields that changed in the migration guide)"
                else:
                    fix = f"remove the {obj.kind}: the API is gone without a replacement"
                yield Violation(
                    obj.span,
                    f"{obj.kind} {obj.name} uses apiVersion {obj.api_version}, which Kubernetes stopped serving "
                    f"in {removed}; the cluster runs {target_text} ({source}), so applying it fails with "
                    f'\'no matches for kind "{obj.kind}" in version "{obj.api_version}"\'. {fix[0].upper()}{fix[1:]}',
                    related,
                )
