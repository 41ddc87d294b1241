"""EKS303 unknown-instance-type."""

from __future__ import annotations

from collections.abc import Iterator

from ekslint.plugin import Project, ProjectRule, RuleContext, Severity, Span, Violation


class UnknownInstanceType(ProjectRule):
    """## What it does
    Flags an instance type of a node group (eksctl `instanceType`, `instanceTypes`,
    `instancesDistribution.instanceTypes`, or `instance-types` in the ekslint config)
    that is not in ekslint's EC2 instance table, and suggests the closest known name.
    Templated values (`${TYPE}`, `{{ .Values.type }}`) are left alone.

    ## Why is this bad?
    A misspelt type fails only when eksctl or EC2 tries to launch it, after the rest of
    the stack has been created; and ekslint cannot check the pod capacity of a type it
    does not know (EKS301, EKS304).

    ## Example
    ```yaml
    managedNodeGroups:
      - name: ng-1
        instanceType: m5.larg
    ```

    ## Use instead
    ```yaml
    managedNodeGroups:
      - name: ng-1
        instanceType: m5.large
    ```
    A type newer than ekslint's table: run `ekslint --update-instance-data` (needs AWS
    credentials and boto3) to add the types the table lacks from the EC2 API.

    ## References
    - https://docs.aws.amazon.com/ec2/latest/instancetypes/instance-types.html
    """

    id = "EKS303"
    name = "unknown-instance-type"
    severity = Severity.WARNING
    summary = "An instance type ekslint does not know"
    tags = ("capacity", "eksctl")
    precision = "high"
    index_group = "capacity"

    def check(self, target: Project, ctx: RuleContext) -> Iterator[Violation]:
        groups = target.reported_node_groups()
        if not groups:
            return  # before the instance table is read
        table = ctx.instance_table
        seen: set[Span] = set()
        for group in groups:
            assessed = target.capacity_of(group, table)
            for written in assessed.unknown if assessed is not None else ():
                if written.span in seen:
                    continue
                seen.add(written.span)
                guess = table.closest(written.name)
                if guess is not None:
                    fix = f"Fix the name: did you mean {guess}?"
                else:
                    fix = "Check the name against the EC2 instance type list."
                whose = f" (the Default of Parameter {written.parameter})" if written.parameter else ""
                yield Violation(
                    written.span,
                    f"instance type {written.name!r}{whose} of node group {group.name} is not a known EC2 instance "
                    "type",
                    detail=f"It is not among the {len(table.types)} types in {table.path} (generated "
                    f"{table.generated[:10]}), so its pod "
                    f"capacity is not checked. {fix} If it is a type newer than the table, run "
                    "ekslint --update-instance-data",
                )
