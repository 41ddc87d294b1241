"""Karpenter pools joined with their node classes across files (the project stage):
a pool's ``nodeClassRef`` names a class that may live in any file of its cluster."""

from __future__ import annotations

import os

from ekslint.model.karpenter import NodeClass, joined
from ekslint.model.nodegroup import NodeGroup, Origin


def unused_class_group(nodeclass: NodeClass) -> NodeGroup:
    """A node class no analysed pool references: some pool elsewhere uses it, with
    labels and instance types no file shows."""
    return NodeGroup(
        name=nodeclass.name,
        origin=Origin.AUTO_MODE if nodeclass.auto_mode else Origin.KARPENTER_NODE_CLASS,
        span=nodeclass.span,
        file=nodeclass.file,
        ami_family=nodeclass.ami_family if not nodeclass.auto_mode else "Bottlerocket",
        ami_family_span=nodeclass.ami_family_span,
        custom_ami=nodeclass.custom_ami,
        instance_selector=True,
        labels=dict(nodeclass.labels),
        labels_complete=False,
        taints=list(nodeclass.taints),
        allowances=list(nodeclass.allowances),
        ignored_allowances=list(nodeclass.ignored_allowances),
        allowances_unknown=nodeclass.allowances_unknown,
        max_pods=list(nodeclass.max_pods),
    )


def join(groups: list[NodeGroup], classes: list[NodeClass]) -> list[NodeGroup]:
    """Pools joined with their classes by reference (one dict lookup each); classes no
    pool references become node groups of their own, after the others."""
    if not classes and not any(g.node_class for g in groups):
        return groups
    by_key: dict[str, list[NodeClass]] = {}
    for nodeclass in classes:
        by_key.setdefault(nodeclass.key, []).append(nodeclass)
    used: set[str] = {c.key for c in classes if c.used}
    result = []
    for group in groups:
        if group.node_class is not None:
            used.add(group.node_class)
            result.append(joined(group, _nearest(group.file, by_key.get(group.node_class, []))))
        else:
            result.append(group)
    result += [unused_class_group(c) for c in classes if c.key not in used and not c.auto_mode]
    return result


def _nearest(path: str, candidates: list[NodeClass]) -> NodeClass | None:
    """Of the classes a pool's reference names, the one whose file lies closest to the
    pool's (the longest shared directory; the first of equals). A cluster has one class
    of a name (they are cluster-scoped objects): several of one name in one run belong
    to different clusters or overlays, and the pool's neighbour is the one it is
    applied with."""
    if len(candidates) < 2:
        return candidates[0] if candidates else None
    folder = os.path.dirname(path).split("/")

    def shared(nodeclass: NodeClass) -> int:
        other = os.path.dirname(nodeclass.file).split("/")
        count = 0
        for mine, theirs in zip(folder, other, strict=False):
            if mine != theirs:
                break
            count += 1
        return count

    return max(candidates, key=shared)  # max keeps the first of equals
