"""EKS101 unsafe-sysctl-not-allowed."""

from __future__ import annotations

from collections.abc import Iterator

from ekslint.model import sysctls
from ekslint.model.kubernetes import Sysctl, Workload
from ekslint.model.nodegroup import NodeGroup
from ekslint.model.project import Candidate, Project
from ekslint.model.scheduling import Match
from ekslint.plugin import ProjectRule, Related, RuleContext, Severity, Violation

MAX_RELATED = 5
MAX_NAMED = 3
MAX_LISTED = max(MAX_RELATED, MAX_NAMED)


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
    Node-level (not namespaced) sysctls are EKS102's: no allowance can make them work.

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
        # (pod signature, sysctl) -> whether a group that permits it can take the pod:
        # pods that schedule alike share the answer.
        permitted: dict[tuple[object, ...], bool] = {}
        for workload in (w for f in project.reported_files() for w in f.workloads):
            if not workload.pod.sysctls:
                continue
            scheduling = workload.pod.scheduling
            for sysctl in workload.pod.sysctls:
                if sysctls.namespace_of(sysctl.name) is None:
                    continue  # node-level: EKS102 (no allowance can help, and one would stop the kubelet)
                key = (scheduling.signature(), sysctl.name)
                if key not in permitted:
                    permitted[key] = any(
                        g.accepts(scheduling)[0] is not Match.NO for g in project.permitting(sysctl.name)
                    )
                if permitted[key]:
                    continue
                candidates = [c for c in project.candidates(workload.pod) if not c.group.windows]
                if candidates:
                    yield self._refused(project, workload, sysctl, candidates)
                elif not sysctls.is_safe(sysctl.name, project.default_version()[0]):
                    yield self._unplaced(project, workload, sysctl)

    @staticmethod
    def _why_unsafe(name: str, version: tuple[int, int] | None, source: str) -> str:
        since = sysctls.safe_since(name)
        if since is not None and version is not None:
            return (
                f"is unsafe on Kubernetes {sysctls.format_version(version)} ({source}); it is safe from "
                f"{sysctls.format_version(since)}"
            )
        return "is not in the kubelet's safe set"

    @staticmethod
    def _elsewhere(project: Project, workload: Workload, name: str) -> list[tuple[NodeGroup, str]]:
        """Node groups that allow the sysctl but that the pod cannot be scheduled on."""
        return project.excluded(workload.pod, project.allowing(name), MAX_LISTED)

    def _unplaced(self, project: Project, workload: Workload, sysctl: Sysctl) -> Violation:
        version, source = project.default_version()
        why = self._why_unsafe(sysctl.name, version, f"version from {source}")
        allowing = self._elsewhere(project, workload, sysctl.name)
        # The pod fits no Linux group: the first few say why.
        excluded = [] if allowing else project.excluded(workload.pod, project.node_groups, MAX_LISTED)
        if allowing:
            group, reason = allowing[0]
            message = (
                f"sysctl {sysctl.name} {why}; node group {group.describe()} allows it, but {workload.ref} cannot "
                f"run there: {reason}, and no other node group in the analysed files fits it. Fix the pod's "
                f"scheduling (tolerations, nodeSelector, affinity) so that it lands on {group.name}"
            )
            related = tuple(Related(g.span, f"node group {g.name} allows {sysctl.name}; {r}") for g, r in allowing)
            return Violation(sysctl.span, message, related[:MAX_RELATED])
        if excluded:
            reasons = "; ".join(f"{g.name}: {reason}" for g, reason in excluded[:MAX_NAMED])
            where = f"{workload.ref} can run on none of the node groups in the analysed files ({reasons})"
            related = tuple(Related(g.span, f"node group {g.name}: {reason}") for g, reason in excluded[:MAX_RELATED])
        else:
            where = (
                "no node group configuration was found in the analysed files, "
                "and a default kubelet allows no unsafe sysctls"
            )
            related = ()
        message = (
            f"sysctl {sysctl.name} {why}; {where}. The kubelet will reject the pod with SysctlForbidden. "
            f"Allow it on the node group that runs {workload.ref} (kubelet --allowed-unsafe-sysctls or "
            "allowedUnsafeSysctls), declare node groups defined elsewhere under node-groups in .ekslint.yaml, "
            "or remove the sysctl"
        )
        return Violation(sysctl.span, message, related)

    def _refused(
        self,
        project: Project,
        workload: Workload,
        sysctl: Sysctl,
        candidates: list[Candidate],
    ) -> Violation:
        groups = [c.group for c in candidates]
        # The oldest version among the groups decides; name where it comes from.
        version = min(project.version_of(g) for g in groups)
        oldest = sorted((g for g in groups if project.version_of(g) == version), key=lambda g: g.cluster is None)
        why = self._why_unsafe(sysctl.name, version, project.version_source_of(oldest[0]))
        names = ", ".join(
            c.group.describe() + ("" if c.certain else " if its unseen labels match") for c in candidates[:MAX_NAMED]
        )
        if len(groups) > MAX_NAMED:
            names += f" and {len(groups) - MAX_NAMED} more"
        notes = ""
        for group in groups:
            ignored = group.ignored_allowance_for(sysctl.name)
            if ignored is not None:
                span = ignored.allowance.span
                notes += f" {group.name} lists it at {span.file}:{span.line}, but {ignored.reason}."
        for group, reason in self._elsewhere(project, workload, sysctl.name)[:MAX_NAMED]:
            notes += f" {group.describe()} allows it, but the pod cannot run there: {reason}."
        message = (
            f"sysctl {sysctl.name} {why}, and none of the node groups that {workload.ref} can run on allows it: "
            f"{names}.{notes} The kubelet will reject the pod with SysctlForbidden. Add {sysctl.name} to the "
            "kubelet's allowed unsafe sysctls (--allowed-unsafe-sysctls or allowedUnsafeSysctls) on a node group "
            "the pod runs on, pin the pod to a node group that allows it, or remove the sysctl"
        )
        related = tuple(self._related(g, sysctl.name) for g in groups[:MAX_RELATED])
        return Violation(sysctl.span, message, related)

    @staticmethod
    def _related(group: NodeGroup, name: str) -> Related:
        """Point where the user would add the sysctl: the group's allowance list when
        it has one, else the group itself."""
        ignored = group.ignored_allowance_for(name)
        if ignored is not None:
            return Related(ignored.allowance.span, f"node group {group.name} lists {name} here, but {ignored.reason}")
        if group.allowances:
            return Related(group.allowances[0].span, f"node group {group.name} allows these, not {name}")
        return Related(group.span, f"node group {group.name} does not allow {name}")
