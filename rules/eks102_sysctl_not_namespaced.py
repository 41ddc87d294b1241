"""EKS102 sysctl-not-namespaced."""

from __future__ import annotations

from collections.abc import Iterator

from ekslint.plugin import FileModel, FileRule, RuleContext, Severity, Violation, sysctls


class SysctlNotNamespaced(FileRule):
    """## What it does
    Flags a sysctl in a pod's `securityContext.sysctls` (in a Pod or any pod template)
    that is not namespaced: everything but `net.*`, the IPC sysctls (`kernel.shm*`,
    `kernel.msg*`, `kernel.sem`) and `fs.mqueue.*` (DOMAIN.md §5.3). Examples are
    `vm.max_map_count`, `vm.swappiness`, `kernel.pid_max` and `fs.file-max`.

    ## Why is this bad?
    A pod's sysctls are written into the pod's own kernel namespaces. A node-level
    sysctl has no per-pod copy, so no kubelet can ever set it for a pod: it is never
    in the safe set, and allowing it with `--allowed-unsafe-sysctls` makes the kubelet
    refuse to start ("not known to be namespaced"). The pod is rejected with
    `SysctlForbidden` on every node.

    ## Example
    ```yaml
    spec:
      securityContext:
        sysctls:
          - name: vm.max_map_count   # Elasticsearch / OpenSearch
            value: "262144"
    ```

    ## Use instead
    Set node-level sysctls on the node: in the node group's userdata
    (`sysctl -w vm.max_map_count=262144`, or a file in `/etc/sysctl.d/`), in
    Bottlerocket's `settings.kernel.sysctl`, or with a privileged DaemonSet or init
    container; then remove it from the pod.

    ## References
    - https://kubernetes.io/docs/tasks/administer-cluster/sysctl-cluster/
    """

    id = "EKS102"
    name = "sysctl-not-namespaced"
    severity = Severity.ERROR
    summary = "A pod sets a node-level sysctl, which can never be set per pod"
    tags = ("sysctl", "kubelet")
    precision = "very-high"

    def check(self, target: FileModel, ctx: RuleContext) -> Iterator[Violation]:
        for workload in target.workloads:
            for sysctl in workload.pod.sysctls:
                if sysctls.namespace_of(sysctl.name) is not None:
                    continue
                setting = f"{sysctl.name}={sysctl.value}" if sysctl.value is not None else sysctl.name
                yield Violation(
                    sysctl.span,
                    f"{workload.ref} sets sysctl {sysctl.name}, which is not namespaced: it is node-wide, so no "
                    "kubelet can set it per pod (allowing it with --allowed-unsafe-sysctls stops the kubelet from "
                    "starting), and the pod is rejected with SysctlForbidden. Remove it from the pod and set it on "
                    f"the node instead ({setting} in the node group's userdata or /etc/sysctl.d, Bottlerocket "
                    "settings.kernel.sysctl, or a privileged DaemonSet)",
                )
