"""ACME001 node-group-without-team-label."""

from __future__ import annotations

from collections.abc import Iterator

from ekslint.plugin import FileModel, FileRule, NodeGroup, Origin, RuleContext, Severity, Violation

TEAM_LABEL = "team"
# Node groups written in an eksctl ClusterConfig; those from userdata or the ekslint
# config are declared elsewhere, where this policy is enforced by other means.
CHECKED_ORIGINS = frozenset((Origin.EKSCTL_MANAGED, Origin.EKSCTL_SELF_MANAGED))


class NodeGroupWithoutTeamLabel(FileRule):
    """## What it does
    Flags a node group of an eksctl ClusterConfig (`managedNodeGroups` or
    `nodeGroups`) that has no `team` label, or an empty one, in its `labels` or in
    the `--node-labels` of its bootstrap command. The finding points at the node
    group's `name`.

    A node group whose labels are also set where ekslint cannot read them (for example
    `--node-labels` built from a shell variable in `overrideBootstrapCommand`) is not
    reported.

    ## Why is this bad?
    At ACME every node carries the team that owns it: cost reports split the EC2 bill
    by the `team` node label, and the on-call rota routes node alerts (NotReady,
    disk pressure) by it. A node group without one lands on the platform team's bill
    and pager, and nobody who runs workloads on it hears about its problems.

    ## Example
    ```yaml
    managedNodeGroups:
      - name: batch
        instanceType: c6i.2xlarge
        labels:
          workload: batch
    ```

    ## Use instead
    ```yaml
    managedNodeGroups:
      - name: batch
        instanceType: c6i.2xlarge
        labels:
          workload: batch
          team: data-platform
    ```

    ## References
    - https://kubernetes.io/docs/concepts/overview/working-with-objects/labels/
    - https://eksctl.io/usage/schema/
    """

    id = "ACME001"
    name = "node-group-without-team-label"
    severity = Severity.WARNING
    summary = "An eksctl node group has no `team` label"
    tags = ("ownership", "eksctl")
    precision = "very-high"
    since = "1.0.0"
    help_uri = "https://github.com/acme/ekslint-acme-rules/blob/main/docs/ACME001.md"

    def check(self, target: FileModel, ctx: RuleContext) -> Iterator[Violation]:
        for group in target.node_groups:
            if group.origin not in CHECKED_ORIGINS or not group.labels_complete:
                continue
            if group.labels.get(TEAM_LABEL, "").strip():
                continue
            yield Violation(group.span, self._message(group))

    @staticmethod
    def _message(group: NodeGroup) -> str:
        cluster = f" of cluster {group.cluster.name}" if group.cluster is not None else ""
        what = "an empty" if TEAM_LABEL in group.labels else "no"
        return (
            f"node group {group.name}{cluster} has {what} `{TEAM_LABEL}` label: its nodes are billed and paged to "
            f"nobody. Add `labels: {{{TEAM_LABEL}: <owning team>}}` to the node group"
        )
