"""EKS104 sysctl-allowance-not-needed."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator

from ekslint.model import sysctls
from ekslint.model.kubernetes import Workload
from ekslint.model.nodegroup import Allowance, NodeGroup
from ekslint.model.project import Project
from ekslint.model.scheduling import Taint
from ekslint.plugin import ProjectRule, RuleContext, Severity, Violation


class SysctlAllowanceNotNeeded(ProjectRule):
    """## What it does
    Notes an entry of a node group's allowed unsafe sysctls that the kubelet does
    not need:

    - it covers only sysctls that are already safe on the group's Kubernetes version
      (DOMAIN.md §5.1), for example `net.ipv4.tcp_keepalive_time` or
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

    def check(self, target: Project, ctx: RuleContext) -> Iterator[Violation]:
        groups = [g for g in target.reported_node_groups() if g.allowances and not g.windows]
        if not groups:
            return
        used, reachable = self._usage(target, groups)
        seen: set[tuple[object, str]] = set()
        for group in groups:
            version = self._stated_version(target, group)
            for allowance in group.allowances:
                key = (allowance.span, allowance.pattern)
                if key in seen or not sysctls.is_valid_pattern(allowance.pattern):
                    continue
                if sysctls.pattern_namespace(allowance.pattern) is None:
                    continue  # EKS103
                seen.add(key)
                violation = self._already_safe(target, group, allowance, version)
                if violation is None and id(group) in reachable and (id(group), key) not in used:
                    violation = self._unused(group, allowance, reachable[id(group)])
                if violation is not None:
                    yield violation

    @staticmethod
    def _stated_version(project: Project, group: NodeGroup) -> tuple[int, int] | None:
        """The group's Kubernetes version when some file or the config states it."""
        if group.kubernetes_version is not None:
            return group.kubernetes_version
        if project.context.kubernetes_version is not None or any(c.version for c in project.clusters):
            return project.default_version()[0]
        return None

    @staticmethod
    def _usage(project: Project, groups: list[NodeGroup]) -> tuple[set[tuple[int, tuple[object, str]]], dict[int, int]]:
        """Which (group, allowance) pairs some analysed pod needs, and how many
        analysed pods can land on each group.

        Near-linear in pods plus groups: pods that schedule alike are judged once; a
        pod with no node selector or affinity can land on a group iff it tolerates the
        group's taints, so those pods are counted per set of taints, not per group;
        a pod with a selector is judged only against the groups with its labels."""
        wanted = {id(g) for g in groups}
        used: set[tuple[int, tuple[object, str]]] = set()
        reachable: dict[int, int] = defaultdict(int)
        by_taints: dict[tuple[Taint, ...], list[NodeGroup]] = defaultdict(list)
        for group in groups:
            by_taints[tuple(group.taints)].append(group)
        pods_per_taints: dict[tuple[Taint, ...], int] = defaultdict(int)
        # (taints, sysctl) -> the groups with those taints whose allowance covers it.
        covering: dict[tuple[tuple[Taint, ...], str], list[tuple[NodeGroup, Allowance]]] = {}

        def allowing(
            taints: tuple[Taint, ...] | None, members: list[NodeGroup], name: str
        ) -> list[tuple[NodeGroup, Allowance]]:
            if taints is not None and (taints, name) in covering:
                return covering[(taints, name)]
            found = [(g, a) for g in members for a in g.allowances if a.allows(name)]
            if taints is not None:
                covering[(taints, name)] = found
            return found

        alike: dict[tuple[object, ...], list[Workload]] = {}
        for workload in project.workloads:
            alike.setdefault(workload.pod.scheduling.signature(), []).append(workload)
        for workloads in alike.values():
            scheduling = workloads[0].pod.scheduling
            if scheduling.unconstrained:
                landing = [taints for taints in by_taints if scheduling.tolerates_all(list(taints)) is None]
                for taints in landing:
                    pods_per_taints[taints] += len(workloads)
                hits: list[tuple[tuple[Taint, ...] | None, list[NodeGroup]]] = [
                    (taints, by_taints[taints]) for taints in landing
                ]
            else:
                fitting = [g for g, _ in project.placements(scheduling) if id(g) in wanted]
                for group in fitting:
                    reachable[id(group)] += len(workloads)
                hits = [(None, fitting)]
            for name in {s.name for w in workloads for s in w.pod.sysctls}:
                for shared, members in hits:
                    for group, allowance in allowing(shared, members, name):
                        if not sysctls.is_safe(name, project.version_of(group)):
                            used.add((id(group), (allowance.span, allowance.pattern)))
        for taints, members in by_taints.items():
            for group in members:
                reachable[id(group)] += pods_per_taints.get(taints, 0)
        return used, {k: v for k, v in reachable.items() if v}

    @staticmethod
    def _already_safe(
        project: Project, group: NodeGroup, allowance: Allowance, version: tuple[int, int] | None
    ) -> Violation | None:
        if version is None:
            return None
        covered = sysctls.covered_sysctls(allowance.pattern)
        if not covered or not all(sysctls.is_safe(name, version) for name in covered):
            return None
        shown = sysctls.format_version(version)
        what = covered[0] if len(covered) == 1 else f"{', '.join(covered)} (all it covers)"
        since = max(sysctls.safe_since(name) or (1, 0) for name in covered)
        return Violation(
            allowance.span,
            f"allowed unsafe sysctl {allowance.pattern!r} of node group {group.name} is not needed: {what} "
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
            f"node group {group.name} allows unsafe sysctl {allowance.pattern!r} ({allowance.source}), but {who} "
            "set an unsafe sysctl it covers. Remove it if no workload needs it: every pod on these nodes may "
            "change it (keep it if the pods that need it are defined outside the analysed files)",
        )
