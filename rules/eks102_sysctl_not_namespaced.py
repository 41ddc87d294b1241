"""EKS102 sysctl-not-namespaced."""

from __future__ import annotations

from collections.abc import Iterator

from ekslint.plugin import FileModel, FileRule, RuleContext, Severity, Violation, sysctls


class SysctlNotNamespaced(FileRule):
    """## What it does
    Flags a sysctl in a pod's `securityContext.sysctls` (in a Pod or any pod template)
    that no pod can ever set, because the kubelet's table of namespaced sysctls does
    not list it: everything but `net.*`, `fs.mqueue.*` and the exact IPC names
    `kernel.sem`, `kernel.shmall`, `kernel.shmmax`, `kernel.shmmni`,
    `kernel.shm_rmid_forced`, `kernel.msgmax`, `kernel.msgmnb` and `kernel.msgmni`.
    Examples are `vm.max_map_count`, `vm.swappiness`, `kernel.pid_max`,
    `fs.file-max`, and also `kernel.shm_next_id`, `kernel.msg_next_id` and
    `kernel.sem_next_id`: the kernel keeps those per IPC namespace, but neither the
    kubelet nor runc lists them.

    ## Why is this bad?
    A pod's sysctls are written into the pod's own kernel namespaces, and only the
    names the kubelet knows to be namespaced can be allowed
    (kubernetes `staging/src/k8s.io/component-helpers/node/util/sysctl/namespace.go`,
    `pkg/kubelet/sysctl/allowlist.go`): such a sysctl is never in the safe set, and
    allowing it with `--allowed-unsafe-sysctls` makes the kubelet refuse to start
    ("not known to be namespaced"). The pod is rejected with `SysctlForbidden` on
    every node. The `_next_id` names are admitted by a `kernel.shm*` or `kernel.msg*`
    allowance, but runc then refuses to create the container (`sysctl
    "kernel.shm_next_id" is not in a separate kernel namespace`, opencontainers/runc
    `libcontainer/configs/validate/validator.go`): they can never work either.

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
    - https://github.com/kubernetes/kubernetes/blob/master/staging/src/k8s.io/component-helpers/node/util/sysctl/namespace.go
    - https://github.com/opencontainers/runc/blob/main/libcontainer/configs/validate/validator.go
    """

    id = "EKS102"
    name = "sysctl-not-namespaced"
    severity = Severity.ERROR
    summary = "A pod sets a sysctl that is not namespaced, which can never be set per pod"
    tags = ("sysctl", "kubelet")
    precision = "very-high"

    def check(self, target: FileModel, ctx: RuleContext) -> Iterator[Violation]:
        for workload in target.workloads:
            for sysctl in workload.pod.sysctls:
                if sysctls.namespace_of(sysctl.name) is not None:
                    continue
                yield Violation(
                    sysctl.span,
                    f"{workload.ref} sets node-level sysctl {sysctl.name}, which no pod can set",
                    detail=self._message(workload.ref, sysctl.name, sysctl.value),
                )

    @staticmethod
    def _message(ref: str, name: str, value: str | None) -> str:
        normalized = sysctls.normalize(name)
        if normalized in sysctls.COMPATIBILITY_PREFIXES:
            return (
                f"It names no sysctl: the kubelet's table lists it only so that "
                f'{normalized}* allowances stay valid, and runc refuses it (sysctl "{normalized}" is not in a '
                "separate kernel namespace), so the pod can never start. Remove it from the pod, or write the full "
                f"name ({', '.join(sysctls.namespaced_names(normalized))})"
            )
        # kernel.shm_next_id and the like: a valid prefix allowance (kernel.shm*) covers
        # it, so the kubelet admits it, and runc refuses it.
        prefix = next(
            (normalized[:i] for i in range(1, len(normalized)) if sysctls.pattern_namespace(normalized[:i] + "*")),
            None,
        )
        if prefix is not None:
            return (
                f"The kubelet does not know {name} to be namespaced: an allowance naming "
                f"it stops the kubelet, and when a {prefix}* allowance lets it through, runc refuses to create the "
                f'container (sysctl "{normalized}" is not in a separate kernel namespace), so the pod can never '
                "start. Remove it from the pod"
            )
        setting = f"{name}={value}" if value is not None else name
        return (
            f"{name} is not namespaced: it is node-wide, so no kubelet can set it per pod "
            "(allowing it with --allowed-unsafe-sysctls stops the kubelet from starting), and the pod is rejected "
            f"with SysctlForbidden. Remove it from the pod and set it on the node instead ({setting} in the node "
            "group's userdata or /etc/sysctl.d, Bottlerocket settings.kernel.sysctl, or a privileged DaemonSet)"
        )
