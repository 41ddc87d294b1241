"""Kubernetes-style objects in a YAML document, each as a root whose logical path
names it, so finding paths and fingerprints do not depend on document order."""

from __future__ import annotations

from collections.abc import Iterator

from ekslint.parse.templates import is_placeholder
from ekslint.parse.yamltree import YMap, YSeq


def objects_of(root: YMap) -> Iterator[YMap]:
    """The objects of a YAML document: itself, or the items of a ``kind: *List``."""
    kind = root.text("kind")
    if kind is None:
        return
    if kind.endswith("List") and isinstance(root.get("items"), YSeq):
        for item in root.seq("items") or ():
            if isinstance(item, YMap):
                yield _as_root(item)
        return
    yield _as_root(root)


def _as_root(obj: YMap) -> YMap:
    """The object as a root whose logical path names it (``Deployment/prod/web``), so
    paths and fingerprints stay stable when documents move within a file."""
    kind = obj.text("kind") or "?"
    meta = obj.map("metadata")
    name = (meta.text("name") if meta else None) or "?"
    namespace = meta.text("namespace") if meta else None
    # A templated name (a placeholder token) is not quoted as a name.
    name = "<templated>" if is_placeholder(name) else name
    namespace = "<templated>" if namespace is not None and is_placeholder(namespace) else namespace
    ident = f"{kind}/{namespace}/{name}" if namespace else f"{kind}/{name}"
    return YMap(obj.node, obj.doc, None, ident)
