"""EKS106 sysctl-allowed-on-some-node-groups."""

from __future__ import annotations

import heapq
from collections.abc import Iterator
from dataclasses import dataclass

from ekslint.plugin import (
    Match,
    NodeGroup,
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


@dataclass(frozen=True, slots=True)
class _Piece:
    """The groups of one class and cluster that accept, and that refuse, a sysctl."""

    accepting: frozenset[int]
    refusing: frozenset[int]


class _Work:
    """What one run of the rule works out once and shares."""

    def __init__(self, project: Project) -> None:
        self.project = project
        self.splits: dict[tuple[object, ...], _Split | None] = {}
        self.by_landing: dict[tuple[object, ...], _Split | None] = {}
        self.members: dict[PlacementClass, dict[str | None, _Members]] = {}
        self.pieces: dict[tuple[PlacementClass, str], list[tuple[str | None, _Piece]]] = {}


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

    Only groups that share a scheduler are compared: those of one eksctl cluster,
    with groups of no known cluster (userdata, the ekslint config) beside any. For a
    sysctl that is safe from some Kubernetes version on, only groups whose version is
    stated (`metadata.version`, or `kubernetes-version` in the config) take part.
    Groups that the pod reaches only if labels no analysed file shows match are not
    counted as refusing, and groups whose allowance ekslint cannot read (a script
    that edits the kubelet config, a templated Bottlerocket line) count on neither
    side. When no group the pod can land on accepts the sysctl, EKS101 reports it
    instead; node-level sysctls are EKS102's.

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
        # alike share it; signatures that land on the same classes of node groups
        # share it too; and each class is split per cluster into the groups that
        # accept and refuse the sysctl once, with set operations over positions.
        work = _Work(target)
        for workload in (w for f in target.reported_files() for w in f.workloads):
            if not workload.pod.sysctls:
                continue
            scheduling = workload.pod.scheduling
            for sysctl in workload.pod.sysctls:
                if sysctls.namespace_of(sysctl.name) is None:
                    continue  # node-level: EKS102
                name = sysctls.normalize(sysctl.name)
                key = (scheduling.signature(), name)
                if key not in work.splits:
                    landing = target.landing(scheduling)
                    landed = (tuple((id(c), m) for c, m in landing), name)
                    if landed not in work.by_landing:
                        work.by_landing[landed] = self._split(work, landing, name)
                    work.splits[key] = work.by_landing[landed]
                found = work.splits[key]
                if found is not None:
                    yield Violation(
                        sysctl.span,
                        f"sysctl {sysctl.name}: {workload.ref} can land on node groups that refuse it",
                        found.related,
                        detail=f"{found.head}{workload.ref}{found.tail}",
                    )

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

    def _pieces(self, work: _Work, placement: PlacementClass, name: str) -> list[tuple[str | None, _Piece]]:
        """The groups of a class that accept and refuse the sysctl, per cluster.
        When it is safe from some version on, only groups whose version is stated
        take part: a version guessed for a group without one decides nothing."""
        key = (placement, name)
        found = work.pieces.get(key)
        if found is None:
            by_cluster = work.members.get(placement)
            if by_cluster is None:
                by_cluster = work.members[placement] = self._members(work.project, placement)
            permitting = work.project.permitting_positions(name)
            # A group whose allowance cannot be read is on neither side: only groups
            # that surely accept the sysctl make the others' refusal a split.
            accepting = work.project.known_permitting_positions(name)
            always_unsafe = sysctls.safe_since(name) is None
            found = work.pieces[key] = []
            for cluster, members in by_cluster.items():
                judged = members.linux if always_unsafe else members.versioned
                piece = _Piece(judged & accepting, judged - permitting)
                if piece.accepting or piece.refusing:
                    found.append((cluster, piece))
        return found

    def _split(self, work: _Work, landing: list[tuple[PlacementClass, Match]], name: str) -> _Split | None:
        accepting: dict[str | None, list[frozenset[int]]] = {}
        refusing: dict[str | None, list[frozenset[int]]] = {}
        for placement, match in landing:
            for cluster, piece in self._pieces(work, placement, name):
                if piece.accepting:
                    accepting.setdefault(cluster, []).append(piece.accepting)
                if match is Match.YES and piece.refusing:
                    refusing.setdefault(cluster, []).append(piece.refusing)
        if not accepting or not refusing:
            return None
        # The scheduler picks among the nodes of one cluster: a refusing group counts
        # beside accepting groups of its cluster (or of no known cluster). The
        # pieces are disjoint (classes, and clusters within them, partition groups).
        anywhere = accepting.get(None, [])
        refused: list[frozenset[int]] = []
        partners_of: dict[str | None, list[frozenset[int]]] = {}
        for cluster, pieces in refusing.items():
            if cluster is None:
                partners = [piece for found in accepting.values() for piece in found]
            else:
                partners = accepting.get(cluster, []) + anywhere
            if partners:
                refused.extend(pieces)
                partners_of[cluster] = partners
        if not refused:
            return None
        return self._finding(work.project, name, partners_of, refused)

    def _finding(
        self,
        project: Project,
        name: str,
        partners_of: dict[str | None, list[frozenset[int]]],
        refused: list[frozenset[int]],
    ) -> _Split:
        groups = project.node_groups
        refusing = sum(len(piece) for piece in refused)
        first = sorted(p for piece in refused for p in heapq.nsmallest(MAX_RELATED, piece))[:MAX_RELATED]
        named = [groups[p] for p in first]
        listed = [g.describe() + self._ignored(g, name) for g in named[:MAX_NAMED]]
        # The accepting groups named are those beside the first refusing group.
        beside = partners_of[named[0].cluster.name if named[0].cluster is not None else None]
        accepting = sum(len(piece) for piece in beside)
        accepted_by = [groups[p] for p in sorted(p for piece in beside for p in heapq.nsmallest(2, piece))[:2]]
        if refusing > MAX_NAMED:
            names = ", ".join(listed) + f" and {project.more_node_groups(refusing - MAX_NAMED)}"
        else:
            names = " and ".join((", ".join(listed[:-1]), listed[-1])) if len(listed) > 1 else listed[0]
        allowed = " and ".join(g.describe() for g in accepted_by)
        if accepting > 2:
            rest = project.more_node_groups(accepting - 2)
            allowed = f"{accepted_by[0].describe()}, {accepted_by[1].describe()} and {rest}"
        plural = refusing > 1
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
        head = f"It is accepted by node group{'s' if accepting > 1 else ''} {allowed}, but "
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
