"""EKS101 unsafe-sysctl-not-allowed."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from ekslint.plugin import (
    Match,
    NodeGroup,
    Origin,
    PlacementClass,
    PodSpec,
    Project,
    ProjectRule,
    Related,
    RuleContext,
    Severity,
    Sysctl,
    Violation,
    Workload,
    sysctls,
)

MAX_RELATED = 5
MAX_NAMED = 3
MAX_LISTED = max(MAX_RELATED, MAX_NAMED)


@dataclass(slots=True)
class _LinuxGroups:
    """The Linux node groups of one placement class, as much as a refusal's message
    needs of them."""

    positions: list[int]  # ascending
    # Per Kubernetes version: the first group on it, and the first one a cluster owns.
    first_on: dict[tuple[int, int], int]
    first_owned_on: dict[tuple[int, int], int]
    ignoring: list[int]  # groups with allowances that never reach the kubelet


@dataclass(frozen=True, slots=True)
class _Refusal:
    """The finding for every pod with one scheduling signature that sets one sysctl:
    the message around the workload's name, and the related locations."""

    head: str
    tail: str
    related: tuple[Related, ...]


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
    `kubernetes-version` in the config, else eksctl's default version (1.34). A pod
    can run on a node group unless its `nodeSelector`, required node affinity or
    missing tolerations rule the group out. In a repository of several clusters, a
    pod in files no cluster owns is judged against the node groups no cluster owns;
    when there are none, which nodes it runs on is unknown and it is not judged (say
    where it runs with `clusters:` in the config).

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
    index_group = "sysctls"

    def check(self, target: Project, ctx: RuleContext) -> Iterator[Violation]:
        project = target
        if project.placement_unknown:
            # Pods outside every cluster's files in a repository of several clusters, and
            # no node group among them: "no node group allows it" would be a guess.
            return
        # Per (pod signature, sysctl): whether a group that permits it can take the
        # pod, and the finding when none can (None: no Linux group can take it).
        # Pods that schedule alike share both.
        permitted: dict[tuple[object, ...], bool] = {}
        refusals: dict[tuple[object, ...], _Refusal | None] = {}
        linux: dict[PlacementClass, _LinuxGroups] = {}
        for workload in (w for f in project.reported_files() for w in f.workloads):
            if not workload.pod.sysctls:
                continue
            scheduling = workload.pod.scheduling
            for sysctl in workload.pod.sysctls:
                if sysctls.namespace_of(sysctl.name) is None:
                    continue  # node-level: EKS102 (no allowance can help, and one would stop the kubelet)
                key = (scheduling.signature(), sysctl.name)
                if key not in permitted:
                    permitted[key] = project.reaches_permitting(scheduling, sysctl.name)
                if permitted[key]:
                    continue
                if key not in refusals:
                    refusals[key] = self._refusal(project, workload.pod, sysctl.name, linux)
                refusal = refusals[key]
                if refusal is not None:
                    yield Violation(
                        sysctl.span,
                        f"sysctl {sysctl.name} is not allowed on any node group {workload.ref} can run on",
                        refusal.related,
                        detail=f"{refusal.head}{workload.ref}{refusal.tail}",
                    )
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
    def _elsewhere(project: Project, pod: PodSpec, name: str) -> list[tuple[NodeGroup, str]]:
        """Node groups that allow the sysctl but that the pod cannot be scheduled on."""
        return project.excluded(pod, project.allowing(name), MAX_LISTED)

    def _unplaced(self, project: Project, workload: Workload, sysctl: Sysctl) -> Violation:
        version, source = project.default_version()
        why = self._why_unsafe(sysctl.name, version, f"version from {source}")
        allowing = self._elsewhere(project, workload.pod, sysctl.name)
        # The pod fits no Linux group: the first few say why.
        excluded = [] if allowing else project.excluded(workload.pod, project.node_groups, MAX_LISTED)
        if allowing:
            group, reason = allowing[0]
            headline = (
                f"sysctl {sysctl.name} is allowed only on node group {group.name}, where {workload.ref} cannot run"
            )
            detail = (
                f"It {why}; node group {group.describe()} allows it, but {workload.ref} cannot "
                f"run there: {reason}, and no other node group {project.where} fits it. Fix the pod's "
                f"scheduling (tolerations, nodeSelector, affinity) so that it lands on {group.name}"
            )
            related = tuple(Related(g.span, f"node group {g.name} allows {sysctl.name}; {r}") for g, r in allowing)
            return Violation(sysctl.span, headline, related[:MAX_RELATED], detail=detail)
        if excluded:
            reasons = "; ".join(f"{g.name}: {reason}" for g, reason in excluded[:MAX_NAMED])
            headline = f"sysctl {sysctl.name} is not allowed: {workload.ref} fits no analysed node group"
            where = f"{workload.ref} can run on none of the node groups {project.where} ({reasons})"
            related = tuple(Related(g.span, f"node group {g.name}: {reason}") for g, reason in excluded[:MAX_RELATED])
        else:
            headline = f"sysctl {sysctl.name} is not allowed: no node group configuration found"
            where = (
                f"no node group configuration was found {project.where}, and a default kubelet allows no unsafe sysctls"
            )
            related = ()
        detail = (
            f"It {why}; {where}. The kubelet will reject the pod with SysctlForbidden. "
            f"Allow it on the node group that runs {workload.ref} (kubelet --allowed-unsafe-sysctls or "
            "allowedUnsafeSysctls), declare node groups defined elsewhere under node-groups in .ekslint.yaml, "
            "or remove the sysctl"
        )
        return Violation(sysctl.span, headline, related, detail=detail)

    def _refusal(
        self, project: Project, pod: PodSpec, name: str, linux: dict[PlacementClass, _LinuxGroups]
    ) -> _Refusal | None:
        """The finding for pods that schedule like ``pod`` and set sysctl ``name``, no
        node group they can run on permitting it; None when they fit no Linux group.
        Worked out from the classes of groups they land on, not group by group."""
        landing = [(self._linux_groups(project, c, linux), match) for c, match in project.landing(pod.scheduling)]
        count = sum(len(groups.positions) for groups, _ in landing)
        if not count:
            return None
        everything = project.node_groups
        # The first few groups in the project's order are among each class's first few.
        first = sorted(
            ((p, match) for groups, match in landing for p in groups.positions[:MAX_LISTED]), key=lambda item: item[0]
        )[:MAX_LISTED]
        # The oldest version among the groups decides; name where it comes from,
        # from the first group on it that a cluster owns, else the first on it.
        version = min(v for groups, _ in landing for v in groups.first_on)
        owned = [groups.first_owned_on[version] for groups, _ in landing if version in groups.first_owned_on]
        oldest = min(owned or [groups.first_on[version] for groups, _ in landing if version in groups.first_on])
        why = self._why_unsafe(name, version, project.version_source_of(everything[oldest]))
        names = ", ".join(
            everything[p].describe() + ("" if match is Match.YES else " if its unseen labels match")
            for p, match in first[:MAX_NAMED]
        )
        if count > MAX_NAMED:
            names += f" and {project.more_node_groups(count - MAX_NAMED)}"
        notes = ""
        for group in (everything[p] for p in sorted(p for groups, _ in landing for p in groups.ignoring)):
            ignored = group.ignored_allowance_for(name)
            if ignored is not None:
                span = ignored.allowance.span
                notes += f" {group.name} lists it at {span.file}:{span.line}, but {ignored.reason}."
        for group, reason in self._elsewhere(project, pod, name)[:MAX_NAMED]:
            notes += f" {group.describe()} allows it, but the pod cannot run there: {reason}."
        fix = (
            f"Add {name} to the kubelet's allowed unsafe sysctls (--allowed-unsafe-sysctls or allowedUnsafeSysctls) "
            "on a node group the pod runs on, pin the pod to a node group that allows it, or remove the sysctl"
        )
        if all(everything[p].origin is Origin.AUTO_MODE for p, _ in first):
            # An Auto Mode NodeClass has no kubelet settings (model/karpenter.py): nothing to add there.
            fix = (
                "EKS Auto Mode node pools take no kubelet settings, so none of them can allow it: pin the pod to a "
                "Karpenter EC2NodeClass or managed node group that allows it, or remove the sysctl"
            )
        return _Refusal(
            f"It {why}, and none of the node groups that ",
            f" can run on allows it: {names}.{notes} The kubelet will reject the pod with SysctlForbidden. {fix}",
            tuple(self._related(everything[p], name) for p, _ in first[:MAX_RELATED]),
        )

    @staticmethod
    def _linux_groups(
        project: Project, placement: PlacementClass, known: dict[PlacementClass, _LinuxGroups]
    ) -> _LinuxGroups:
        found = known.get(placement)
        if found is None:
            everything = project.node_groups
            versions = project.linux_versions()
            positions: list[int] = []
            first_on: dict[tuple[int, int], int] = {}
            first_owned_on: dict[tuple[int, int], int] = {}
            for p in placement.members:
                version = versions[p]
                if version is None:
                    continue  # Windows
                positions.append(p)
                first_on.setdefault(version, p)
                if everything[p].cluster is not None:
                    first_owned_on.setdefault(version, p)
            ignoring = [p for p in positions if everything[p].ignored_allowances]
            found = known[placement] = _LinuxGroups(positions, first_on, first_owned_on, ignoring)
        return found

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
