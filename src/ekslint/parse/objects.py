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


GENERATED = "<generated>"  # the random suffix the API server adds to a generateName


def object_name(meta: YMap | None) -> str:
    """An object's name as messages show it: ``metadata.name``; without one, the
    ``generateName`` prefix the API server completes with a random suffix
    (kubernetes staging/src/k8s.io/apiserver/pkg/registry/rest/create.go BeforeCreate:
    ``GenerateName(prefix)`` when name is empty), shown as ``job-<generated>``; else ``?``.
    A templated name (a placeholder token) is ``<templated>``, never quoted."""
    name = meta.text("name") if meta is not None else None
    if not name and meta is not None and (prefix := meta.text("generateName")):
        name = "<templated>" if is_placeholder(prefix) else prefix + GENERATED
    if not name:
        return "?"
    return "<templated>" if is_placeholder(name) else name


def _as_root(obj: YMap) -> YMap:
    """The object as a root whose logical path names it (``Deployment/prod/web``), so
    paths and fingerprints stay stable when documents move within a file."""
    kind = obj.text("kind") or "?"
    meta = obj.map("metadata")
    name = object_name(meta)
    namespace = meta.text("namespace") if meta else None
    namespace = "<templated>" if namespace is not None and is_placeholder(namespace) else namespace
    ident = f"{kind}/{namespace}/{name}" if namespace else f"{kind}/{name}"
    return YMap(obj.node, obj.doc, None, ident)
