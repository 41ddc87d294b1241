"""Bounds checked before the C composer sees a YAML text: how deep it nests (the
composer recurses, and overflows the stack near 25,000 levels) and how many nodes its
aliases expand to (an alias bomb). Both are linear in the input."""

from __future__ import annotations

import re
from typing import Any

_FLOW_BRACKETS = re.compile(r"[\[\]{}]")
# An alias (*name) where a node starts; an anchor must exist for it to mean anything.
ALIAS = re.compile(r"(?:^|[\s\[{,:?-])\*[^\s\[\]{},]")


def _block_bound(content: str) -> tuple[int, int, bool]:
    block, block_at = 0, 0
    for m in re.finditer(r"^[ \t?:\-]+", content, re.M):
        if len(m.group()) > block:
            block, block_at = len(m.group()), m.end()
    return block, block_at, True


def nesting_bound(content: str, limit: int) -> tuple[int, int]:
    """An upper bound of the nesting depth of ``content``, exact enough to compare with
    ``limit``, and the offset where it is reached (for the error position). Block
    depth is bounded by the run of indentation and ``- ``/``? ``/``: `` that starts a
    line (only measured when some line has a long one), flow depth by the brackets
    (only scanned when there are many)."""
    half = max(1, limit // 2)
    block, block_at = half - 1, 0
    measured = False
    if re.search(r"^[ \t?:\-]{" + str(half) + ",}", content, re.M):
        block, block_at, measured = _block_bound(content)
    brackets = content.count("[") + content.count("{")
    if block + brackets <= limit:
        return block + brackets, block_at
    if not measured:
        # Many brackets: the assumed block depth (half the limit) is too loose to
        # prove a deep-but-allowed flow collection is under the limit.
        block, block_at, _ = _block_bound(content)
    depth = deepest = 0
    deepest_at = outermost = block_at
    for b in _FLOW_BRACKETS.finditer(content):
        if b.group() in "[{":
            depth += 1
            if depth == 1:
                outermost = b.start()
            if depth > deepest:
                deepest = depth
                if block + depth == limit + 1:
                    deepest_at = outermost  # the start of the over-deep value
        else:
            depth = max(0, depth - 1)
    return block + deepest, deepest_at


class RecursiveAlias(Exception):
    """An alias inside the node its anchor names (``&a [*a]``): infinite data."""

    def __init__(self, node: Any) -> None:
        super().__init__("recursive alias")
        self.node = node


def expanded_size(root: Any, limit: int) -> int:
    """Number of nodes ``root`` stands for once every alias is expanded, computed on
    the shared-node graph the composer builds (linear in its size), capped at
    ``limit``. Raises RecursiveAlias when the graph has a cycle: the composer links an
    alias to its anchor even from inside it, and every walk over it would not end."""
    from ruamel.yaml.nodes import MappingNode, SequenceNode

    sizes: dict[int, int] = {}
    open_nodes: set[int] = set()  # entered, children not yet summed: the current path
    stack: list[tuple[Any, bool]] = [(root, False)]
    while stack:
        node, children_done = stack.pop()
        key = id(node)
        if key in sizes:
            continue
        if not children_done and key in open_nodes:
            raise RecursiveAlias(node)  # popped again below itself: it contains itself
        if isinstance(node, MappingNode):
            children = [c for pair in node.value for c in pair]
        elif isinstance(node, SequenceNode):
            children = node.value
        else:
            sizes[key] = 1
            continue
        if children_done:
            open_nodes.discard(key)
            total = 1
            for c in children:
                total += sizes.get(id(c), 1)
                if total > limit:
                    total = limit + 1
                    break
            sizes[key] = total
        else:
            open_nodes.add(key)
            stack.append((node, True))
            stack.extend((c, False) for c in children if id(c) not in sizes)
    return sizes[id(root)]
