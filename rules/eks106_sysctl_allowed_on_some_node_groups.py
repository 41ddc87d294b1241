"""EKS106 sysctl-allowed-on-some-node-groups."""

from __future__ import annotations

import heapq
from collections.abc import Iterator
from dataclasses import dataclass

from ekslint.plugin import (
    Match,
    NodeGroup,
    NodeRequirements,
    PlacementClass,
    Project,
    ProjectRule,
    Related,
    RuleContext,
    Severity,
    Violation,
    sysctls,
)

MAX_NAMED = 3
MAX_RELATED = 5


@dataclass(frozen=True, slots=True)
class _Split:
    """The finding for every pod with one scheduling signature that sets one sysctl:
    the message around the workload's name, and the related locations."""

    head: str
    tail: str
    related: tuple[Related, ...]


@dataclass(frozen=True, slots=True)
class _Members:
    """Linux node groups of one placement class in one cluster (positions), and
    those of them whose Kubernetes version is stated rather than guessed."""

    linux: frozenset[int]
    versioned: frozenset[int]


class SysctlAllowedOnSomeNodeGroups(ProjectRule):
    """## What it does
    Checks every namespaced sysctl a pod sets (in a Pod, or the pod template of a
    Deployment, StatefulSet, DaemonSet, ReplicaSet, Job or CronJob) against the node
    groups the pod can be scheduled on (its `nodeSelector`, required node affinity and
    tolerations against the groups' labels and taints), and flags it when some of
    those groups accept the sysctl (safe on their Kubernetes version, or allowed by
    their kubelet's allowed unsafe sysctls) and others certainly do not. The message
    names the first node groups that refuse it, with the count of the rest, and the
    groups that accept it.

    When no group the pod can land on accepts the sysctl, EKS101 reports it instead;
    node-level sysctls are EKS102's. Groups that the pod reaches only if labels no
    analysed file shows match are not counted as refusing.

    ## Why is this bad?
    The scheduler does not look at sysctls: no scheduling plugin filters nodes by
    them, and the check happens only on the node, in the kubelet's admission
    (kubernetes `pkg/kubelet/sysctl/allowlist.go`, `Admit`). A pod that may land on a
    group whose kubelet does not allow its sysctl is rejected there with
    `SysctlForbidden` (`forbidden sysctl: "..." not allowlisted`) whenever the
    scheduler picks that group: it works in one rollout and fails in the next, after a
    scale-up, a node replacement or an upgrade. The Kubernetes documentation
    recommends tainting the nodes with special sysctl settings and scheduling only the
    pods that need them there.

    ## Example
    ```yaml
    # cluster.yaml: "tuned" allows net.core.somaxconn, "general" does not
    managedNodeGroups:
      - name: general
      - name: tuned
        overrideBootstrapCommand: |
          apiVersion: node.eks.aws/v1alpha1
          kind: NodeConfig
          spec:
            kubelet:
              config:
                allowedUnsafeSysctls: [net.core.somaxconn]
    ---
    # the pod has no nodeSelector: it may land on either group
    spec:
      securityContext:
        sysctls:
          - name: net.core.somaxconn
            value: "4096"
    ```

    ## Use instead
    Pin the pod to the groups that allow the sysctl:
    ```yaml
    spec:
      nodeSelector:
        eks.amazonaws.com/nodegroup: tuned
    ```
    or allow the sysctl on every node group the pod can land on.

    ## References
    - https://kubernetes.io/docs/tasks/administer-cluster/sysctl-cluster/
    - https://github.com/kubernetes/kubernetes/blob/master/pkg/kubelet/sysctl/allowlist.go
    """

    id = "EKS106"
    name = "sysctl-allowed-on-some-node-groups"
    severity = Severity.WARNING
    summary = "A pod sets an unsafe sysctl that some node groups it can run on allow and others do not"
    tags = ("sysctl", "cross-file", "kubelet", "scheduling")
    precision = "high"
    index_group = "sysctls"

    def check(self, target: Project, ctx: RuleContext) -> Iterator[Violation]:
        # Per (pod signature, sysctl): the finding, or None. Pods that schedule
        # alike share it, and each is worked out from the classes of node groups
        # they land on, per cluster, with set operations over the positions.
        splits: dict[tuple[object, ...], _Split | None] = {}
        known: dict[PlacementClass, dict[str | None, _Members]] = {}
        for workload in (w for f in target.reported_files() for w in f.workloads):
            if not workload.pod.sysctls:
                continue
            scheduling = workload.pod.scheduling
            for sysctl in workload.pod.sysctls:
                if sysctls.namespace_of(sysctl.name) is None:
                    continue  # node-level: EKS102
                name = sysctls.normalize(sysctl.name)
                key = (scheduling.signature(), name)
                if key not in splits:
                    splits[key] = self._split(target, scheduling, name, known)
                found = splits[key]
                if found is not None:
                    yield Violation(sysctl.span, f"{found.head}{workload.ref}{found.tail}", found.related)

    @staticmethod
    def _members(project: Project, placement: PlacementClass) -> dict[str | None, _Members]:
        """The Linux groups of a class by cluster name (None: no cluster known)."""
        versions = project.linux_versions()
        groups = project.node_groups
        found: dict[str | None, tuple[list[int], list[int]]] = {}
        for p in placement.members:
            if versions[p] is None:
                continue  # Windows
            group = groups[p]
            linux, versioned = found.setdefault(group.cluster.name if group.cluster is not None else None, ([], []))
            linux.append(p)
            if group.kubernetes_version is not None:
                versioned.append(p)
        return {c: _Members(frozenset(a), frozenset(b)) for c, (a, b) in found.items()}

    def _split(
        self,
        project: Project,
        scheduling: NodeRequirements,
        name: str,
        known: dict[PlacementClass, dict[str | None, _Members]],
    ) -> _Split | None:
        permitting = project.permitting_positions(name)
        # A group refuses for sure when its kubelet does not allow the sysctl and it
        # is unsafe there: always, or on the version the group states (a version
        # guessed for a group without one decides nothing here).
        always_unsafe = sysctls.safe_since(name) is None
        accepting: dict[str | None, set[int]] = {}
        refusing: dict[str | None, set[int]] = {}
        for placement, match in project.landing(scheduling):
            by_cluster = known.get(placement)
            if by_cluster is None:
                by_cluster = known[placement] = self._members(project, placement)
            for cluster, members in by_cluster.items():
                accepted = members.linux & permitting
                if accepted:
                    accepting.setdefault(cluster, set()).update(accepted)
                if match is Match.YES:
                    refused = (members.linux if always_unsafe else members.versioned) - permitting
                    if refused:
                        refusing.setdefault(cluster, set()).update(refused)
        if not accepting or not refusing:
            return None
        # The scheduler picks among the nodes of one cluster: only groups that may
        # share one count (the same cluster, or one not known).
        everywhere: set[int] = accepting.get(None, set())
        refused_here: set[int] = set()
        accepted_here: set[int] = set()
        for cluster, refused_there in refusing.items():
            partners: set[int] = (
                set().union(*accepting.values()) if cluster is None else accepting.get(cluster, set()) | everywhere
            )
            if partners:
                refused_here |= refused_there
                accepted_here |= partners
        if not refused_here:
            return None
        return self._finding(project, name, accepted_here, refused_here)

    def _finding(self, project: Project, name: str, accepting: set[int], refusing: set[int]) -> _Split:
        groups = project.node_groups
        first = heapq.nsmallest(MAX_RELATED, refusing)
        named = [groups[p] for p in first]
        listed = [g.describe() + self._ignored(g, name) for g in named[:MAX_NAMED]]
        if len(refusing) > MAX_NAMED:
            names = ", ".join(listed) + f" and {len(refusing) - MAX_NAMED} more"
        else:
            names = " and ".join((", ".join(listed[:-1]), listed[-1])) if len(listed) > 1 else listed[0]
        accepted_by = [groups[p] for p in heapq.nsmallest(2, accepting)]
        allowed = " and ".join(g.describe() for g in accepted_by)
        if len(accepting) > 2:
            allowed = f"{accepted_by[0].describe()}, {accepted_by[1].describe()} and {len(accepting) - 2} more"
        plural = len(refusing) > 1
        their = "their" if plural else "its"
        versions = project.linux_versions()
        oldest = min(v for v in (versions[p] for p in first) if v is not None)
        since = sysctls.safe_since(name)
        if since is not None and oldest < since:
            why = (
                f"it is unsafe on Kubernetes {sysctls.format_version(oldest)} (safe from "
                f"{sysctls.format_version(since)}) and not in {their} allowed unsafe sysctls"
            )
            upgrade = f", or upgrade those node groups to Kubernetes {sysctls.format_version(since)}"
        else:
            why = f"it is not in {their} kubelet's allowed unsafe sysctls"
            upgrade = ""
        head = f"sysctl {name} is accepted by node group{'s' if len(accepting) > 1 else ''} {allowed}, but "
        tail = (
            f" can also be scheduled on node group{'s' if plural else ''} {names}, which refuse"
            f"{'' if plural else 's'} it ({why}): the scheduler does not look at sysctls, so a pod placed there is "
            "rejected by the kubelet with SysctlForbidden. Pin the pod to the node groups that accept it "
            f"(nodeSelector or node affinity, or taint them and tolerate the taint), or allow {name} on every node "
            f"group it can land on{upgrade}"
        )
        related = [self._related(g, name) for g in named]
        related.append(Related(accepted_by[0].span, f"node group {accepted_by[0].name} accepts {name}"))
        return _Split(head, tail, tuple(related))

    @staticmethod
    def _ignored(group: NodeGroup, name: str) -> str:
        ignored = group.ignored_allowance_for(name)
        if ignored is None:
            return ""
        span = ignored.allowance.span
        return f" (it lists {name} at {span.file}:{span.line}, but {ignored.reason})"

    @staticmethod
    def _related(group: NodeGroup, name: str) -> Related:
        """Where the user would add the sysctl: the group's allowance list when it has
        one, else the group itself."""
        ignored = group.ignored_allowance_for(name)
        if ignored is not None:
            return Related(ignored.allowance.span, f"node group {group.name} lists {name} here, but {ignored.reason}")
        if group.allowances:
            return Related(group.allowances[0].span, f"node group {group.name} allows these, not {name}")
        return Related(group.span, f"node group {group.name} does not allow {name}")
