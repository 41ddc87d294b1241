"""ACME003 host-network-outside-kube-system."""

from __future__ import annotations

from collections.abc import Iterator

from ekslint.plugin import FileModel, FileRule, RuleContext, Severity, Violation

SYSTEM_NAMESPACES = frozenset(("kube-system",))


class HostNetworkOutsideKubeSystem(FileRule):
    """## What it does
    Flags a pod template (Pod, Deployment, DaemonSet, Job, ...) with
    `hostNetwork: true` outside the `kube-system` namespace. A manifest without
    `metadata.namespace` counts as outside. The finding points at `hostNetwork`.

    ## Why is this bad?
    A pod on the host network shares the node's network namespace: it can bind the
    node's ports, see every connection on the node, and reach the instance metadata
    service and its node role credentials even where IMDS hop limits and network
    policies keep other pods out. At ACME only cluster components (the VPC CNI,
    kube-proxy) run there; an exception, such as a node exporter, is suppressed on
    the line with its reason so that reviews see it.

    ## Example
    ```yaml
    kind: Deployment
    metadata: {name: ingress, namespace: edge}
    spec:
      template:
        spec:
          hostNetwork: true
    ```

    ## Use instead
    ```yaml
    kind: Deployment
    metadata: {name: ingress, namespace: edge}
    spec:
      template:
        spec:
          containers:
            - name: ingress
              ports: [{containerPort: 8443}]   # exposed through a Service
    ```

    ## References
    - https://kubernetes.io/docs/concepts/security/pod-security-standards/#baseline
    """

    id = "ACME003"
    name = "host-network-outside-kube-system"
    severity = Severity.ERROR
    summary = "A pod uses the host network outside kube-system"
    tags = ("security", "network")
    precision = "high"
    # GitHub code scanning shows rules with a security-severity as security alerts.
    security_severity = "7.0"
    since = "1.0.0"
    help_uri = "https://github.com/acme/ekslint-acme-rules/blob/main/docs/ACME003.md"

    def check(self, target: FileModel, ctx: RuleContext) -> Iterator[Violation]:
        for workload in target.workloads:
            if not workload.pod.host_network or workload.namespace in SYSTEM_NAMESPACES:
                continue
            where = f"namespace {workload.namespace}" if workload.namespace else "no namespace (wherever it is applied)"
            yield Violation(
                workload.pod.host_network_span or workload.span,
                f"{workload.ref} runs on the host network in {where}: it shares the node's network namespace, ports "
                "and instance metadata. Expose it through a Service instead, or suppress this line with the reason",
            )
