"""EKS101 unsafe-sysctl-not-allowed."""

from __future__ import annotations

from collections.abc import Iterator

from ekslint.model import sysctls
from ekslint.model.kubernetes import Sysctl, Workload
from ekslint.model.nodegroup import NodeGroup
from ekslint.model.project import Project
from ekslint.plugin import ProjectRule, Related, RuleContext, Severity, Violation

MAX_RELATED = 5
MAX_NAMED = 3


class UnsafeSysctlNotAllowed(ProjectRule):
    """## What it does
    Checks every sysctl a pod sets (in a Pod, or the pod template of a Deployment,
    StatefulSet, DaemonSet, ReplicaSet, Job or CronJob) against the kubelet's safe set
    for the cluster's Kubernetes version, and when it is unsafe, against the allowance
    of every node group the pod can be scheduled on, wherever that allowance is
    written: `--allowed-unsafe-sysctls` in bootstrap.sh's `--kubelet-extra-args`
    (userdata or eksctl `overrideBootstrapCommand`), `allowedUnsafeSysctls` in eksctl
    `kubeletExtraConfig` or a NodeConfig `kubelet.config`, `--allowed-unsafe-sysctls`
    in NodeConfig `kubelet.flags`, Bottlerocket
    `settings.kubernetes.allowed-unsafe-sysctls`, or the `node-groups` of the ekslint
    config for node groups defined elsewhere. Patterns ending in `*` match by prefix.

    The Kubernetes version comes from the ClusterConfig's `metadata.version`, else
    `kubernetes-version` in the config, else the newest version ekslint knows. A pod
    can run on a node group unless its `nodeSelector`, required node affinity or
    missing tolerations rule the group out.

    ## Why is this bad?
    The scheduler does not know about sysctls: the pod is placed on a node and the
    kubelet then refuses to start it with `SysctlForbidden` (`forbidden sysctl: ...
    not allowlisted`). The fix is on the node side, and EKS node groups cannot be
    edited in place: allowing a sysctl means a new launch template or node group.
    Finding the mismatch in review saves a node group rollout.

    ## Example
    ```yaml
    # pod.yaml (Kubernetes 1.28: tcp_keepalive_intvl is safe only from 1.29)
    spec:
      securityContext:
        sysctls:
          - name: net.ipv4.tcp_keepalive_intvl
            value: "60"
    ```

    ## Use instead
    Allow it on the node group the pod runs on, for example in eksctl:
    ```yaml
    managedNodeGroups:
      - name: ng-1
        ami: ami-0123456789abcdef0
        amiFamily: AmazonLinux2
        overrideBootstrapCommand: |
          #!/bin/bash
          /etc/eks/bootstrap.sh my-cluster --kubelet-extra-args '--allowed-unsafe-sysctls=net.ipv4.tcp_keepalive_intvl'
    ```
    or upgrade the cluster to a version where the sysctl is safe.

    ## References
    - https://kubernetes.io/docs/tasks/administer-cluster/sysctl-cluster/
    - https://eksctl.io/usage/schema/#managedNodeGroups-overrideBootstrapCommand
    """

    id = "EKS101"
    name = "unsafe-sysctl-not-allowed"
    severity = Severity.ERROR
    summary = "A pod sets an unsafe sysctl that no node group it can run on allows"
    tags = ("sysctl", "cross-file", "kubelet")
    precision = "high"

    def check(self, target: Project, ctx: RuleContext) -> Iterator[Violation]:
        project = target
        default_version, version_source = project.default_version()
        linux_groups_exist = any(not g.windows for g in project.node_groups)
        for workload in project.workloads:
            if not workload.pod.sysctls:
                continue
            fits, excluded = project.candidates(workload.pod)
            groups = [c.group for c in fits if not c.group.windows]
            for sysctl in workload.pod.sysctls:
                if not groups:
                    if sysctls.is_safe(sysctl.name, default_version):
                        continue
                    yield self._unplaced(
                        workload, sysctl, default_version, version_source, linux_groups_exist, excluded
                    )
                    continue
                if any(self._permitted(project, g, sysctl.name) for g in groups):
                    continue
                yield self._refused(project, workload, sysctl, groups)

    @staticmethod
    def _permitted(project: Project, group: NodeGroup, name: str) -> bool:
        if sysctls.is_safe(name, project.version_of(group)):
            return True
        # A script edits the allowance in a way ekslint cannot read: do not guess.
        return group.allowance_for(name) is not None or group.allowances_unknown is not None

    @staticmethod
    def _why_unsafe(name: str, version: tuple[int, int] | None) -> str:
        since = sysctls.safe_since(name)
        if since is not None and version is not None:
            return (
                f"is unsafe on Kubernetes {sysctls.format_version(version)} (safe from {sysctls.format_version(since)})"
            )
        if sysctls.namespace_of(name) is None:
            return (
                "is not in the kubelet's safe set and is not namespaced, so no kubelet can allow it per pod "
                "(set it on the node instead)"
            )
        return "is not in the kubelet's safe set"

    def _unplaced(
        self,
        workload: Workload,
        sysctl: Sysctl,
        version: tuple[int, int],
        version_source: str,
        groups_exist: bool,
        excluded: list[tuple[NodeGroup, str]],
    ) -> Violation:
        why = self._why_unsafe(sysctl.name, version)
        if groups_exist:
            where = (
                f"{workload.ref} can run on none of the node groups in the analysed files "
                f"({'; '.join(f'{g.name}: {reason}' for g, reason in excluded[:3])})"
            )
            related = tuple(Related(g.span, f"node group {g.name}: {reason}") for g, reason in excluded[:MAX_RELATED])
        else:
            where = (
                "no node group configuration was found in the analysed files, "
                "and a default kubelet allows no unsafe sysctls"
            )
            related = ()
        message = (
            f"sysctl {sysctl.name} {why} (version from {version_source}); {where}. The kubelet will reject "
            f"the pod with SysctlForbidden. Allow it on the node group that runs {workload.ref} "
            "(kubelet --allowed-unsafe-sysctls or allowedUnsafeSysctls), declare node groups defined "
            "elsewhere under node-groups in .ekslint.yaml, or remove the sysctl"
        )
        return Violation(sysctl.span, message, related)

    def _refused(self, project: Project, workload: Workload, sysctl: Sysctl, groups: list[NodeGroup]) -> Violation:
        versions = {project.version_of(g) for g in groups}
        why = self._why_unsafe(sysctl.name, min(versions) if len(versions) == 1 else None)
        names = ", ".join(g.describe() for g in groups[:MAX_NAMED])
        if len(groups) > MAX_NAMED:
            names += f" and {len(groups) - MAX_NAMED} more"
        message = (
            f"sysctl {sysctl.name} {why} and none of the node groups {workload.ref} can run on allows it: {names}. "
            f"The kubelet will reject the pod with SysctlForbidden. Add {sysctl.name} to the kubelet's allowed "
            "unsafe sysctls (--allowed-unsafe-sysctls or allowedUnsafeSysctls) on a node group the pod runs on, "
            "pin the pod to a node group that allows it, or remove the sysctl"
        )
        related = tuple(
            Related(g.span, f"node group {g.name} does not allow {sysctl.name}") for g in groups[:MAX_RELATED]
        )
        return Violation(sysctl.span, message, related)
