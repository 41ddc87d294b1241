"""EKS104 sysctl-allowance-not-needed."""

from __future__ import annotations

from collections.abc import Iterator

from ekslint.model import sysctls
from ekslint.model.kubernetes import Workload
from ekslint.model.nodegroup import Allowance, NodeGroup
from ekslint.model.project import Project
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
        analysed pods can land on each group. Pods that schedule alike share their
        candidate groups, so this is near-linear in pods plus groups."""
        wanted = {id(g) for g in groups}
        used: set[tuple[int, tuple[object, str]]] = set()
        reachable: dict[int, int] = {}
        # Pods that schedule alike land on the same groups: one lookup per signature.
        alike: dict[tuple[object, ...], list[Workload]] = {}
        for workload in project.workloads:
            alike.setdefault(workload.pod.scheduling.signature(), []).append(workload)
        for workloads in alike.values():
            with_sysctls = [w for w in workloads if w.pod.sysctls]
            for candidate in project.candidates(workloads[0].pod):
                group = candidate.group
                if id(group) not in wanted:
                    continue
                reachable[id(group)] = reachable.get(id(group), 0) + len(workloads)
                version = project.version_of(group)
                for workload in with_sysctls:
                    for sysctl in workload.pod.sysctls:
                        if sysctls.is_safe(sysctl.name, version):
                            continue
                        for allowance in group.allowances:
                            if allowance.allows(sysctl.name):
                                used.add((id(group), (allowance.span, allowance.pattern)))
        return used, reachable

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
