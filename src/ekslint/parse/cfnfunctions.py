"""CloudFormation's intrinsic functions in a parsed template, in both the short YAML tag
form (``!Sub x``) and the one-key mapping JSON uses (``{"Fn::Sub": x}``), and text
assembled from pieces of a template with the positions of each piece
(docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/intrinsic-function-reference.html)."""

from __future__ import annotations

import copy
import re

from ekslint.parse.text import Text
from ekslint.parse.yamltree import YMap, YNode, YScalar, wrap


def function(node: YNode) -> tuple[str, YNode] | None:
    """``(name, argument)`` of an intrinsic function: ``!Sub x`` and ``{"Fn::Sub": x}``
    are both ``("Fn::Sub", x)``; ``!Ref``/``Ref`` is ``"Ref"``. None for a plain value."""
    tag = node.local_tag
    if tag is not None:
        name = tag[1:]
        # The argument is the node itself, read without its tag.
        raw = copy.copy(node.node)
        raw.tag = None
        return (name if name in ("Ref", "Condition") else f"Fn::{name}"), wrap(raw, node.doc, node.parent, node.seg)
    if isinstance(node, YMap) and len(node) == 1:
        key = node.keys()[0]
        if key == "Ref" or key.startswith("Fn::"):
            return key, node.get(key)  # type: ignore[return-value]
    return None


def literal(node: YNode | None) -> str | None:
    """A plain string or number written as is (no function), else None."""
    if isinstance(node, YScalar) and node.local_tag is None and node.value is not None:
        return node.text
    return None


def placed(file: str, content: str, node: YNode) -> Text:
    """``content`` placed where ``node`` starts (a placeholder, a delimiter)."""
    start = node.span
    return Text(file, content, [(start.line, start.col)])


def concatenate(file: str, pieces: list[Text]) -> Text:
    """The pieces as one text; each of its lines starts where its first character was
    written (columns after a piece boundary are approximate)."""
    origins: list[tuple[int, int]] = []
    line_open = False  # the current output line has its origin
    for piece in pieces:
        content = piece.content
        start = 0
        while start <= len(content):
            if not line_open and start < len(content):
                origins.append(piece.point(*piece.line_col(start)))
                line_open = True
            newline = content.find("\n", start)
            if newline == -1:
                break
            if not line_open:  # an empty line: it starts at the newline
                origins.append(piece.point(*piece.line_col(newline)))
            line_open = False
            start = newline + 1
    text = "".join(piece.content for piece in pieces)
    while len(origins) < text.count("\n") + 1:
        last = origins[-1] if origins else (1, 1)
        origins.append((last[0] + 1, 1))
    return Text(file, text, origins)


# CloudFormation (docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/template-anatomy.html):
# the format version key, or a top-level Resources section whose resources have an
# AWS:: type. Top-level keys start a line in YAML; JSON keys may be indented.
_CFN_VERSION = re.compile(r"^(?:[ \t]*\"AWSTemplateFormatVersion\"|'?AWSTemplateFormatVersion'?)[ \t]*:", re.M)
_CFN_RESOURCES = re.compile(r"^(?:[ \t]*\"Resources\"|'?Resources'?)[ \t]*:", re.M)
_CFN_TYPE = re.compile(r"[\"']?Type[\"']?[ \t]*:[ \t]*[\"']?AWS::[A-Za-z0-9]+::")
_TOP_LEVEL_KIND = re.compile(r"^(apiVersion|kind)[ \t]*:", re.M)


def looks_like_cloudformation(head: str) -> bool:
    """Whether the head of a file is a CloudFormation template rather than a Kubernetes object."""
    if "AWS" not in head or _TOP_LEVEL_KIND.search(head):
        return False  # a Kubernetes object that quotes a template is not one
    if _CFN_VERSION.search(head):
        return True
    return _CFN_RESOURCES.search(head) is not None and _CFN_TYPE.search(head) is not None
