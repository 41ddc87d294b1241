"""EKS104 sysctl-allowance-not-needed."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator

from ekslint.plugin import (
    Allowance,
    NodeGroup,
    PlacementClass,
    Project,
    ProjectRule,
    RuleContext,
    Severity,
    Violation,
    Workload,
    sysctls,
)


class SysctlAllowanceNotNeeded(ProjectRule):
    """## What it does
    Notes an entry of a node group's allowed unsafe sysctls that the kubelet does
    not need:

    - it covers only sysctls that are already safe on the group's Kubernetes version
      (kubernetes `pkg/kubelet/sysctl/safe_sysctls.go`), for example `net.ipv4.tcp_keepalive_time` or
      `net.ipv4.tcp_keepalive_*` on 1.29 or later. A prefix counts only when ekslint
      knows every kernel sysctl it covers (`net.ipv4.*` entries and the IPC sysctls
      of Linux 6.18), and the version only when a ClusterConfig or the ekslint
      config states it;
    - or no analysed pod that can be scheduled on the group sets an unsafe sysctl it
      covers. This is said only when pods were analysed and some of them can land on
      the group; pods defined elsewhere (Helm charts, other repositories) are not
      seen, so treat it as a hint.

    Malformed or node-level entries are EKS103's.

    ## Why is this bad?
    An allowance is a standing exception for every pod on the node: each allowed
    unsafe sysctl lets any pod scheduled there change kernel behaviour for its
    namespace, which the kubelet otherwise forbids. An entry that nothing needs only
    widens that, and an entry for a sysctl that became safe is noise that hides the
    ones that matter.

    ## Example
    ```yaml
    # metadata.version: "1.30"
    nodeGroups:
      - name: api
        kubeletExtraConfig:
          allowedUnsafeSysctls: ["net.ipv4.tcp_keepalive_*"]   # safe since 1.29
    ```

    ## Use instead
    Remove the entry (or the whole `allowedUnsafeSysctls` list when it is empty then).

    ## References
    - https://kubernetes.io/docs/tasks/administer-cluster/sysctl-cluster/
    """

    id = "EKS104"
    name = "sysctl-allowance-not-needed"
    severity = Severity.NOTE
    summary = "An allowed unsafe sysctl is already safe, or no analysed pod uses it"
    tags = ("sysctl", "cross-file", "kubelet")
    precision = "medium"
    index_group = "sysctls"

    def check(self, target: Project, ctx: RuleContext) -> Iterator[Violation]:
        groups = [g for g in target.reported_node_groups() if g.allowances and not g.windows]
        if not groups:
            return
        used, reachable = self._usage(target, groups)
        seen: set[tuple[object, str]] = set()
        covered: dict[str, list[str] | None] = {}  # per pattern: thousands of groups share a few
        for group in groups:
            version = self._stated_version(target, group)
            for allowance in group.allowances:
                key = (allowance.span, allowance.pattern)
                if key in seen or not sysctls.is_valid_pattern(allowance.pattern):
                    continue
                if sysctls.pattern_namespace(allowance.pattern) is None:
                    continue  # EKS103
                seen.add(key)
                if allowance.pattern not in covered:
                    covered[allowance.pattern] = sysctls.covered_sysctls(allowance.pattern)
                violation = self._already_safe(target, group, allowance, version, covered[allowance.pattern])
                if violation is None and id(group) in reachable and (id(group), key) not in used:
                    violation = self._unused(group, allowance, reachable[id(group)])
                if violation is not None:
                    yield violation

    @staticmethod
    def _stated_version(project: Project, group: NodeGroup) -> tuple[int, int] | None:
        """The group's Kubernetes version when some file or the config states it."""
        if group.kubernetes_version is not None:
            return group.kubernetes_version
        if project.default_version_stated():
            return project.default_version()[0]
        return None

    @staticmethod
    def _usage(project: Project, groups: list[NodeGroup]) -> tuple[set[tuple[int, tuple[object, str]]], dict[int, int]]:
        """Which (group, allowance) pairs some analysed pod needs, and how many
        analysed pods can land on each group.

        Near-linear in pods plus groups: pods that schedule alike are judged once,
        against classes of groups that answer alike (``Project.landing``), not group
        by group. Pods are counted per class and the counts handed to its groups at
        the end; the groups pods setting a sysctl reach are gathered per sysctl, and
        each is then looked at once per sysctl."""
        everything = project.node_groups
        wanted = {id(g) for g in groups}
        judging = {p for p, g in enumerate(everything) if id(g) in wanted}
        # Per class that pods land in: its groups to judge (positions), and how many
        # pods land there.
        judged: dict[PlacementClass, list[int]] = {}
        pods_in: dict[PlacementClass, int] = defaultdict(int)
        # Per sysctl: the groups (positions) that pods setting it can land on.
        reached: dict[str, set[int]] = defaultdict(set)
        seen: set[tuple[PlacementClass, str]] = set()
        alike: dict[tuple[object, ...], list[Workload]] = {}
        for workload in project.workloads:
            alike.setdefault(workload.pod.scheduling.signature(), []).append(workload)
        for workloads in alike.values():
            landing = [placement for placement, _ in project.landing(workloads[0].pod.scheduling)]
            for placement in landing:
                if placement not in judged:
                    judged[placement] = [p for p in placement.members if p in judging]
                pods_in[placement] += len(workloads)
            for name in {s.name for w in workloads for s in w.pod.sysctls}:
                for placement in landing:
                    if (placement, name) not in seen:
                        seen.add((placement, name))
                        reached[name].update(judged[placement])
        used: set[tuple[int, tuple[object, str]]] = set()
        for name, positions in reached.items():
            for position in positions:
                group = everything[position]
                if not sysctls.is_safe(name, project.version_of(group)):
                    used.update((id(group), (a.span, a.pattern)) for a in group.allowances if a.allows(name))
        reachable: dict[int, int] = defaultdict(int)
        for placement, pods in pods_in.items():
            for position in judged[placement]:
                reachable[id(everything[position])] += pods
        return used, {k: v for k, v in reachable.items() if v}

    @staticmethod
    def _already_safe(
        project: Project,
        group: NodeGroup,
        allowance: Allowance,
        version: tuple[int, int] | None,
        covered: list[str] | None,  # sysctls.covered_sysctls(allowance.pattern)
    ) -> Violation | None:
        if version is None:
            return None
        if not covered or not all(sysctls.is_safe(name, version) for name in covered):
            return None
        shown = sysctls.format_version(version)
        what = covered[0] if len(covered) == 1 else f"{', '.join(covered)} (all it covers)"
        since = max(sysctls.safe_since(name) or (1, 0) for name in covered)
        return Violation(
            allowance.span,
            f"allowed unsafe sysctl {allowance.pattern!r} of node group {group.name} is not needed: it is safe",
            detail=f"{what} "
            f"{'is' if len(covered) == 1 else 'are'} in the kubelet's safe set since Kubernetes "
            f"{sysctls.format_version(since)}, and the group runs {shown} ({project.version_source_of(group)}), "
            f"so every pod may set {'it' if len(covered) == 1 else 'them'} anyway. Remove it from "
            f"{allowance.source}",
        )

    @staticmethod
    def _unused(group: NodeGroup, allowance: Allowance, pods: int) -> Violation:
        if pods == 1:
            who = "the one analysed pod that can run on it does not"
        else:
            who = f"none of the {pods} analysed pods that can run on it"
        return Violation(
            allowance.span,
            f"node group {group.name} allows unsafe sysctl {allowance.pattern!r}, which no analysed pod uses",
            detail=f"It is allowed in {allowance.source}, but {who} "
            "set an unsafe sysctl it covers. Remove it if no workload needs it: every pod on these nodes may "
            "change it (keep it if the pods that need it are defined outside the analysed files)",
        )
