"""EKS105 sysctl-with-host-namespace."""

from __future__ import annotations

from collections.abc import Iterator

from ekslint.plugin import FileModel, FileRule, Related, RuleContext, Severity, Violation, sysctls


class SysctlWithHostNamespace(FileRule):
    """## What it does
    Flags a pod that sets a `net.*` sysctl while `hostNetwork: true`, or an IPC sysctl
    (`kernel.sem`, `kernel.shmall`, `kernel.shmmax`, `kernel.shmmni`,
    `kernel.shm_rmid_forced`, `kernel.msgmax`, `kernel.msgmnb`, `kernel.msgmni`,
    `fs.mqueue.*`) while `hostIPC: true` (kubernetes `pkg/kubelet/sysctl/allowlist.go`,
    validateSysctl). Safe and allowed sysctls are flagged alike.

    ## Why is this bad?
    A pod's sysctls are set in the pod's own network and IPC namespaces. With
    `hostNetwork` or `hostIPC` the pod shares the node's namespace, so setting the
    sysctl would change it for the whole node: Kubernetes refuses it (the API server
    rejects the object with "may not be specified when 'hostNetwork' is true", and the
    kubelet with `"<name>" not allowed with host net enabled`). The pod, or every pod
    of the workload, never starts.

    ## Example
    ```yaml
    spec:
      hostNetwork: true
      securityContext:
        sysctls:
          - name: net.ipv4.ip_unprivileged_port_start
            value: "0"
    ```

    ## Use instead
    Drop `hostNetwork` if the pod does not need the node's network, or remove the
    sysctl and set it on the node (userdata `sysctl -w`, `/etc/sysctl.d`, Bottlerocket
    `settings.kernel.sysctl`).

    ## References
    - https://kubernetes.io/docs/tasks/administer-cluster/sysctl-cluster/
    """

    id = "EKS105"
    name = "sysctl-with-host-namespace"
    severity = Severity.ERROR
    summary = "A pod sets net.* sysctls with hostNetwork, or IPC sysctls with hostIPC"
    tags = ("sysctl", "kubelet")
    precision = "very-high"

    def check(self, target: FileModel, ctx: RuleContext) -> Iterator[Violation]:
        for workload in target.workloads:
            pod = workload.pod
            if not pod.sysctls or not (pod.host_network or pod.host_ipc):
                continue
            for sysctl in pod.sysctls:
                namespace = sysctls.namespace_of(sysctl.name)
                if namespace == "net" and pod.host_network and pod.host_network_span is not None:
                    host, span, shared = "hostNetwork", pod.host_network_span, "network"
                elif namespace == "ipc" and pod.host_ipc and pod.host_ipc_span is not None:
                    host, span, shared = "hostIPC", pod.host_ipc_span, "IPC"
                else:
                    continue
                yield Violation(
                    sysctl.span,
                    f"{workload.ref} sets sysctl {sysctl.name} but runs with {host}: true",
                    detail=f"{host}: true (line {span.line}) shares the node's {shared} namespace, so Kubernetes "
                    f'refuses the sysctl ("{sysctl.name}" '
                    f"not allowed with host {namespace} enabled) and the pod never starts. Remove {host} if the pod "
                    "does not need it, or remove the sysctl and set it on the node (userdata sysctl -w or "
                    "/etc/sysctl.d)",
                    related=(Related(span, f"{host}: true shares the node's {shared} namespace"),),
                )
