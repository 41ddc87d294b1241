"""Where validated data is written: paths in the plain data jsonschema sees, mapped
back to keys and values in a YAML tree or a TOML document; and the plain data itself,
read the way Go's YAML-to-JSON decoders read YAML."""

from __future__ import annotations

from typing import Any, Protocol

from ekslint.parse.templates import is_placeholder
from ekslint.parse.text import Span
from ekslint.parse.tomldoc import TomlDoc
from ekslint.parse.yamltree import DEFAULT_LIMITS, MERGE_TAG, YMap, YNode, YScalar, YSeq, resolve_plain

Path = tuple[str | int, ...]


# -- positions ----------------------------------------------------------------------------


class Locator(Protocol):
    """Maps a path inside the validated data to where it is written."""

    def key_span(self, path: Path) -> Span: ...

    def value_span(self, path: Path) -> Span: ...

    def describe(self, path: Path) -> str: ...

    def raw(self, path: Path) -> str | None: ...


class YamlLocator:
    """Paths in a positioned YAML tree (a document, or a part of one)."""

    def __init__(self, root: YNode, label: str = "") -> None:
        self.root = root
        self.label = label  # where an embedded document is ("MIME part 2 (application/node.eks.aws)")

    def _walk(self, path: Path) -> tuple[YNode, int]:
        """The deepest node along ``path`` and how many segments it consumed."""
        node = self.root
        for depth, seg in enumerate(path):
            child: YNode | None = None
            if isinstance(node, YMap) and isinstance(seg, str):
                child = node.get(seg)
            elif isinstance(node, YSeq) and isinstance(seg, int) and 0 <= seg < len(node):
                child = node.item(seg)
            if child is None:
                return node, depth
            node = child
        return node, len(path)

    def key_span(self, path: Path) -> Span:
        if path:
            parent, used = self._walk(path[:-1])
            key = path[-1]
            if used == len(path) - 1 and isinstance(parent, YMap) and isinstance(key, str) and key in parent:
                return parent.key_span(key)
        return self.value_span(path)

    def value_span(self, path: Path) -> Span:
        node, used = self._walk(path)
        return node.span if isinstance(node, YScalar) and used == len(path) else node.start_span

    def raw(self, path: Path) -> str | None:
        """A scalar as written (``1.30``, not the float 1.3)."""
        node, used = self._walk(path)
        return node.text if used == len(path) and isinstance(node, YScalar) else None

    def describe(self, path: Path) -> str:
        node, used = self._walk(path)
        text = shown_path(node)
        for seg in path[used:]:
            text += f"[{seg}]" if isinstance(seg, int) else (f".{seg}" if text else seg)
        if text and self.label:
            return f"{text} of {self.label}"
        return text or self.label


def shown_path(node: YNode) -> str:
    """``node.path`` as messages show it: list items by their ``name`` as users know
    them, but by position where the name is an unrendered placeholder
    (``nodeGroups[0]``, as eksctl names entries), never ``nodeGroups[${NAME}]``."""
    parts: list[str] = []
    current: YNode | None = node
    while current is not None and current.parent is not None:
        seg = current.seg
        if isinstance(seg, int):
            name = current.get("name") if isinstance(current, YMap) else None
            text = name.text if isinstance(name, YScalar) and name.value is not None else ""
            parts.append(f"[{text}]" if text and not is_placeholder(text) else f"[{seg}]")
        elif seg and seg.replace("-", "").replace("_", "").isalnum():
            parts.append("." + seg)
        else:
            parts.append(f"[{seg!r}]")
        current = current.parent
    return "".join(reversed(parts)).lstrip(".")


class TomlLocator:
    """Paths below ``base`` in a TOML document (Bottlerocket ``settings.kubernetes``)."""

    def __init__(self, doc: TomlDoc, base: tuple[str, ...], label: str = "") -> None:
        self.doc = doc
        self.base = base
        self.label = label

    def _full(self, path: Path) -> tuple[str, ...]:
        keys = tuple(str(seg) for seg in path if isinstance(seg, str))
        return self.base + keys

    def key_span(self, path: Path) -> Span:
        full = self._full(path)
        return self.doc.key_spans.get(full) or self.doc.span(full)

    def value_span(self, path: Path) -> Span:
        full = self._full(path)
        if path and isinstance(path[-1], int):
            items = self.doc.item_spans.get(full, [])
            if path[-1] < len(items):
                return items[path[-1]]
        value = self.doc.value_spans.get(full)
        return value.with_logical(".".join(full)) if value is not None else self.doc.span(full)

    def raw(self, path: Path) -> str | None:
        return None

    def describe(self, path: Path) -> str:
        text = ".".join(self.base)
        for seg in path:
            text += f"[{seg}]" if isinstance(seg, int) else f".{seg}"
        return self.label + text


# -- plain data -----------------------------------------------------------------------------


class TemplateDocument(Exception):
    """A mapping key that is itself a collection: how YAML reads an unquoted template
    expression (``name: {{ .Release.Name }}``). Such a document is an unrendered
    template, not an input, and is not validated."""


def plain(node: YNode) -> Any:
    """The node as JSON-like data, the way Go's YAML-to-JSON decoders see it: YAML 1.1
    scalars, merge keys (``<<: *defaults``) applied, keys as strings."""
    budget = [DEFAULT_LIMITS.max_alias_expansion]
    return _plain(node.node, budget)


def _plain(node: Any, budget: list[int]) -> Any:
    budget[0] -= 1
    if budget[0] < 0:
        raise ValueError("document too large to validate")
    kind = node.id
    if kind == "mapping":
        out: dict[str, Any] = {}
        merged: list[Any] = []
        for key, value in node.value:
            if key.id == "scalar" and key.value == "<<" and key.tag == MERGE_TAG:
                merged.append(value)
                continue
            if key.id != "scalar":
                raise TemplateDocument
            name = key.value if isinstance(key.value, str) else str(key.value)
            out[name] = _plain(value, budget)
        for source in merged:
            for item in source.value if source.id == "sequence" else [source]:
                if item.id == "mapping":
                    for name, value in _plain(item, budget).items():
                        out.setdefault(name, value)
        return out
    if kind == "sequence":
        return [_plain(item, budget) for item in node.value]
    return node.value if node.style else resolve_plain(node.value)
