"""Positioned YAML: ruamel.yaml's C composer and a thin, lazy view over its nodes.

Why not the round-trip loader: it is ~8x slower and positions do not need it. The C
composer (``YAML(typ="safe", pure=False).compose_all``) yields nodes that carry start
and end marks; :class:`YMap`, :class:`YSeq` and :class:`YScalar` wrap them on access,
so a rule that reads three keys of a document pays for three keys.

Scalars are resolved the way the Go tools that consume these files do (sigs.k8s.io/yaml
on go-yaml v2, i.e. YAML 1.1): ``yes``/``on`` are booleans, ``0755`` is octal, and the
raw text stays available, so ``version: 1.30`` is still ``"1.30"`` where eksctl reads a
string.

Hostile input is bounded before the C code sees it: nesting deeper than
``max_depth`` (the C composer recurses and overflows the stack near 25,000 levels) and
alias expansion beyond ``max_alias_expansion`` nodes are parse errors, not crashes.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from ekslint.parse.numbers import INT64_MIN, UINT64, OutOfRange, based_int
from ekslint.parse.text import Span, Text
from ekslint.parse.yamlguards import ALIAS, RecursiveAlias, expanded_size, nesting_bound

# Nesting beyond this crashes the C composer; configured limits are clamped to it.
HARD_MAX_DEPTH = 10_000


@dataclass(frozen=True, slots=True)
class YamlLimits:
    max_depth: int = 1_000
    max_alias_expansion: int = 1_000_000


DEFAULT_LIMITS = YamlLimits()


class YamlSyntaxError(Exception):
    """A YAML stream that cannot be parsed; ``line``/``col`` are 0-based in the text."""

    def __init__(self, message: str, line: int, col: int, limit: bool = False) -> None:
        super().__init__(message)
        self.message = message
        self.line = line
        self.col = col
        self.limit = limit  # a safety limit, not a syntax error


_parser_factory: Any = None
_pure_factory: Any = None

STR_TAG = "tag:yaml.org,2002:str"
MERGE_TAG = "tag:yaml.org,2002:merge"


def _yaml(pure: bool = False) -> Any:
    global _parser_factory, _pure_factory
    if pure:
        if _pure_factory is None:
            from ruamel.yaml import YAML

            # Its own resolver: the tags it gives plain scalars are not read (values are
            # resolved by resolve_plain), and it is needed only when libyaml fails.
            _pure_factory = YAML(typ="safe", pure=True)
        return _pure_factory
    if _parser_factory is None:
        from ruamel.yaml import YAML
        from ruamel.yaml.nodes import ScalarNode, SequenceNode
        from ruamel.yaml.resolver import BaseResolver
        from ruamel.yaml.tag import Tag

        # Shared tag objects: a node given a str builds a Tag of its own, millions of
        # times in a large run. Tags are never modified after parsing.
        str_tag, merge_tag = Tag(suffix=STR_TAG), Tag(suffix=MERGE_TAG)
        seq_tag, map_tag = Tag(suffix="tag:yaml.org,2002:seq"), Tag(suffix="tag:yaml.org,2002:map")

        class KindResolver(BaseResolver):  # type: ignore[misc,unused-ignore]
            """The C parser asks a Python resolver for the tag of every scalar, and
            ruamel.yaml's versioned resolver spends more time answering than the C code
            spends parsing. Scalars are resolved lazily by ``resolve_plain`` (YAML 1.1,
            as the Go tools read them), so the parser only needs the node kind and the
            merge key. Explicit tags (``!!str 1``) never reach the resolver."""

            def __init__(self, version: Any = None, loadumper: Any = None) -> None:
                pass

            def descend_resolver(self, current_node: Any, current_index: Any) -> None:
                pass

            def ascend_resolver(self) -> None:
                pass

            def resolve(self, kind: Any, value: Any, implicit: Any) -> Any:
                if kind is ScalarNode:
                    return merge_tag if value == "<<" and implicit[0] else str_tag
                return seq_tag if kind is SequenceNode else map_tag

        _parser_factory = YAML(typ="safe", pure=False)
        _parser_factory.Resolver = KindResolver
    return _parser_factory


def c_composer_available() -> bool:
    """True when ruamel.yaml uses its C (libyaml-based) parser; see pyproject.toml."""
    try:
        from ruamel.yaml.main import CParser
    except ImportError:  # pragma: no cover - depends on the installation
        return False
    return CParser is not None and _yaml().Parser is CParser


_UNICODE_BREAKS = str.maketrans({"\x85": " ", "\u2028": " ", "\u2029": " "})


def compose(
    text: Text, limits: YamlLimits = DEFAULT_LIMITS, pure: bool = False
) -> tuple[list[YamlDoc], YamlSyntaxError | None]:
    """Parse every document of ``text``. Documents before a syntax error are kept.
    ``pure``: with ruamel.yaml's Python parser, which reads a plain scalar with ``:``
    inside a flow collection (``[a, !Ref AWS::NoValue]``) as YAML 1.2 and PyYAML do,
    where libyaml stops; CloudFormation templates are written for such parsers."""
    content = text.content
    max_depth = min(limits.max_depth, HARD_MAX_DEPTH)
    depth, where = nesting_bound(content, max_depth)
    if depth > max_depth:
        line, col = text.line_col(where)
        return [], YamlSyntaxError(
            f"nesting deeper than {max_depth} levels here; flatten the document, or raise limits.max-yaml-depth "
            f"(at most {HARD_MAX_DEPTH}) if it is genuine",
            line,
            col,
            limit=True,
        )
    from ruamel.yaml.error import MarkedYAMLError, YAMLError

    docs: list[YamlDoc] = []
    has_alias = "*" in content and ALIAS.search(content) is not None
    if "\x85" in content or "\u2028" in content or "\u2029" in content:
        # YAML 1.1 parsers (libyaml, go-yaml) break lines at NEL, LS and PS, which no
        # editor does: as spaces, the parser's line numbers stay the file's.
        content = content.translate(_UNICODE_BREAKS)
    stream = _yaml(pure).compose_all(content)
    try:
        for index, root in enumerate(stream):
            if root is None:
                continue
            try:
                too_big = has_alias and expanded_size(root, limits.max_alias_expansion) > limits.max_alias_expansion
            except RecursiveAlias as err:
                mark = err.node.start_mark
                return docs, YamlSyntaxError(
                    "an alias inside the node its anchor names makes the data endless (go-yaml: 'anchor value "
                    "contains itself'); replace the alias with the values it should hold",
                    mark.line,
                    mark.column,
                )
            if too_big:
                mark = root.start_mark
                return docs, YamlSyntaxError(
                    f"aliases expand to more than {limits.max_alias_expansion:,} nodes (an alias bomb?); "
                    "remove the nested aliases, or raise limits.max-yaml-alias-expansion if the file is trusted",
                    mark.line,
                    mark.column,
                    limit=True,
                )
            docs.append(YamlDoc(text, root, index))
    except MarkedYAMLError as err:
        mark = err.problem_mark or err.context_mark
        message = " ".join(str(p) for p in (err.context, err.problem) if p) or "invalid YAML"
        line, col = (mark.line, mark.column) if mark is not None else (0, 0)
        return docs, YamlSyntaxError(message, line, col)
    except YAMLError as err:  # ReaderError: a character YAML does not allow
        position = getattr(err, "position", 0) or 0
        line, col = text.line_col(min(position, len(content)))
        character = getattr(err, "character", None)
        what = f"character {character!r}" if character is not None else "character"
        return docs, YamlSyntaxError(f"{what} is not allowed in YAML", line, col)
    except RecursionError:
        return docs, YamlSyntaxError("nesting too deep to parse", 0, 0)
    finally:
        stream.close()
    return docs, None


# -- scalar resolution (YAML 1.1 as go-yaml v2 does it) -------------------------------

_BOOL = {
    **dict.fromkeys(("y", "Y", "yes", "Yes", "YES", "true", "True", "TRUE", "on", "On", "ON"), True),
    **dict.fromkeys(("n", "N", "no", "No", "NO", "false", "False", "FALSE", "off", "Off", "OFF"), False),
}
_NULL = frozenset(("", "~", "null", "Null", "NULL"))
_INT = re.compile(r"[-+]?(?:0|[1-9][0-9_]*)$")
_OCT = re.compile(r"[-+]?0[0-7_]+$")
_HEX = re.compile(r"[-+]?0x[0-9a-fA-F_]+$")
_BIN = re.compile(r"[-+]?0b[01_]+$")
_FLOAT = re.compile(r"[-+]?(?:[0-9][0-9_]*)?\.[0-9_]*(?:[eE][-+]?[0-9]+)?$|[-+]?[0-9][0-9_]*[eE][-+]?[0-9]+$")
_SPECIAL_FLOAT = {".inf": float("inf"), "+.inf": float("inf"), "-.inf": float("-inf"), ".nan": float("nan")}


def resolve_plain(raw: str) -> Any:
    """Value of an unquoted scalar, following YAML 1.1 (go-yaml v2): integers outside
    int64/uint64 become floats (strconv.ParseFloat), or OutOfRange when no float holds
    them either; the digits are counted before any conversion, so a huge literal costs
    no more than its length."""
    if raw in _NULL:
        return None
    if raw in _BOOL:
        return _BOOL[raw]
    first = raw[0]
    if first.isdigit() or first in "+-.":
        try:
            if _INT.match(raw):
                plain = raw.replace("_", "")
                if len(plain.lstrip("+-")) > 20:  # more than uint64 holds: a float, if any
                    number = float(plain)
                    return number if math.isfinite(number) else OutOfRange(raw)
                value = int(plain)
                return value if INT64_MIN <= value < UINT64 else float(value)
            if _HEX.match(raw):
                return based_int(raw, 16, 4)
            if _BIN.match(raw):
                return based_int(raw, 2, 1)
            if _OCT.match(raw):
                return based_int(raw, 8, 3)
            if _FLOAT.match(raw) and raw not in (".", "+.", "-."):
                return float(raw.replace("_", ""))
        except ValueError:
            return raw
        lowered = raw.lower()
        if lowered in _SPECIAL_FLOAT:
            return _SPECIAL_FLOAT[lowered]
    return raw


# -- views ------------------------------------------------------------------------------


class YamlDoc:
    """One document of a YAML stream."""

    __slots__ = ("index", "root_node", "text")

    def __init__(self, text: Text, root_node: Any, index: int) -> None:
        self.text = text
        self.root_node = root_node
        self.index = index

    def root(self, logical: str = "") -> YNode:
        return wrap(self.root_node, self, None, logical)


def wrap(node: Any, doc: YamlDoc, parent: YNode | None, seg: str | int) -> YNode:
    # Dispatch on the node kind, not the tag: a custom tag (!Ref) must not hide a mapping.
    kind = node.id
    if kind == "mapping":
        return YMap(node, doc, parent, seg)
    if kind == "sequence":
        return YSeq(node, doc, parent, seg)
    return YScalar(node, doc, parent, seg)


class YNode:
    """A node of a YAML document, knowing where it is."""

    __slots__ = ("doc", "node", "parent", "seg")

    def __init__(self, node: Any, doc: YamlDoc, parent: YNode | None, seg: str | int) -> None:
        self.node = node
        self.doc = doc
        self.parent = parent
        self.seg = seg

    # Position --------------------------------------------------------------------------
    @property
    def logical(self) -> str:
        """Path from the document root, e.g. ``Deployment/web.spec.containers[web]``."""
        root, path = self._paths()
        return f"{root}.{path}" if root and path else root or path

    @property
    def path(self) -> str:
        """Path below the document root, e.g. ``managedNodeGroups[ng-1].ami``."""
        return self._paths()[1]

    def _paths(self) -> tuple[str, str]:
        parts: list[str] = []
        node: YNode | None = self
        root = ""
        while node is not None:
            seg = node.seg
            if node.parent is None:
                root = str(seg)
            elif isinstance(seg, int):
                name = node._item_name()
                parts.append(f"[{name}]" if name is not None else f"[{seg}]")
            elif seg and seg.replace("-", "").replace("_", "").isalnum():
                parts.append("." + seg)
            else:
                parts.append(f"[{seg!r}]")
            node = node.parent
        return root, "".join(reversed(parts)).lstrip(".")

    def _item_name(self) -> str | None:
        return None

    @property
    def span(self) -> Span:
        start, end = self.node.start_mark, self.node.end_mark
        end_line, end_col = _trim_end(self.doc.text, start.line, end.line, end.column)
        return self.doc.text.span(start.line, start.column, end_line, end_col, self.logical)

    @property
    def start_span(self) -> Span:
        """The first line of this node only (a whole mapping is often too wide)."""
        start = self.node.start_mark
        end_line, end_col = _trim_end(self.doc.text, start.line, start.line + 1, 0)
        return self.doc.text.span(start.line, start.column, end_line, end_col, self.logical)

    @property
    def line(self) -> int:
        return self.doc.text.point(self.node.start_mark.line, self.node.start_mark.column)[0]

    @property
    def local_tag(self) -> str | None:
        """An application tag written on the node (CloudFormation's ``!Sub``, ``!Ref``),
        else None. The node's kind and value are read as without it."""
        tag = self.node.tag
        return tag if isinstance(tag, str) and tag.startswith("!") and not tag.startswith("!!") else None

    def to_python(self) -> Any:
        return to_python(self.node)


def _trim_end(text: Text, start_line: int, end_line: int, end_col: int) -> tuple[int, int]:
    """Move an end mark that sits in the indentation of a later line (how block
    collections end) back to the end of the last line holding content."""
    if end_line <= start_line:
        return end_line, end_col
    lines = text.lines()
    if end_line < len(lines):
        line = lines[end_line]
        if end_col > len(line) - len(line.lstrip()):
            return end_line, end_col
    line_no = min(end_line - 1, len(lines) - 1)
    while line_no > start_line:
        stripped = lines[line_no].strip()
        if stripped and not stripped.startswith("#"):
            break
        line_no -= 1
    return line_no, len(lines[line_no].rstrip()) if line_no < len(lines) else 0


class YScalar(YNode):
    __slots__ = ()

    @property
    def text(self) -> str:
        """The scalar as written (quotes removed, escapes applied)."""
        return str(self.node.value)

    @property
    def is_plain(self) -> bool:
        return not self.node.style  # "" from the C parser, None from the pure one

    @property
    def value(self) -> Any:
        node = self.node
        if node.style:
            return node.value
        value = resolve_plain(node.value)
        if not isinstance(value, str) and node.tag == "tag:yaml.org,2002:str" and _has_tag(self):
            return node.value  # written ``!!str 1``
        return value

    def as_text(self) -> Text:
        """The scalar's string as a :class:`Text` whose positions point into the file:
        exact for literal blocks (``|``) and single-line scalars without escapes, the
        scalar's own span otherwise (folded and multi-line flow scalars)."""
        node = self.node
        text = self.doc.text
        value = str(node.value)
        start, end = node.start_mark, node.end_mark
        lines = text.lines()
        if node.style == "|":
            first = start.line + 1
            count = value.count("\n") + (0 if value.endswith("\n") else 1)
            if count == 0 or first >= len(lines):
                return text.decoded(value, self.span)
            indent = 0
            for line in lines[first : first + count]:
                if line.strip():
                    indent = len(line) - len(line.lstrip(" "))
                    break
            sliced = text.slice_lines(first, first + count - 1, indent)
            return Text(text.file, value, sliced.line_origins, sliced.collapsed)
        if start.line == end.line and start.line < len(lines):
            raw = lines[start.line][start.column : end.column]
            if node.style in ('"', "'") and raw[1:-1] == value:
                return Text(text.file, value, [text.point(start.line, start.column + 1)], text.collapsed)
            if not node.style and raw == value:
                return Text(text.file, value, [text.point(start.line, start.column)], text.collapsed)
        return text.decoded(value, self.span)


def _has_tag(scalar: YScalar) -> bool:
    start, end = scalar.node.start_mark, scalar.node.end_mark
    lines = scalar.doc.text.lines()
    if start.line != end.line or start.line >= len(lines):
        return False
    return "!" in lines[start.line][start.column : end.column]


class YSeq(YNode):
    __slots__ = ()

    def __len__(self) -> int:
        return len(self.node.value)

    def __iter__(self) -> Iterator[YNode]:
        doc = self.doc
        for i, item in enumerate(self.node.value):
            yield wrap(item, doc, self, i)

    def item(self, index: int) -> YNode:
        return wrap(self.node.value[index], self.doc, self, index)


class YMap(YNode):
    __slots__ = ("_index",)

    def __init__(self, node: Any, doc: YamlDoc, parent: YNode | None, seg: str | int) -> None:
        super().__init__(node, doc, parent, seg)
        self._index: dict[str, tuple[Any, Any]] | None = None

    def _item_name(self) -> str | None:
        name = self.get("name")
        if isinstance(name, YScalar) and name.text:
            return name.text
        return None

    def _entries(self) -> dict[str, tuple[Any, Any]]:
        index = self._index
        if index is None:
            index = {}
            merges: list[Any] = []
            for key_node, value_node in self.node.value:
                key = key_node.value
                if not isinstance(key, str):  # a complex key; no rule reads those
                    continue
                if key == "<<" and key_node.tag == "tag:yaml.org,2002:merge":
                    merges.append(value_node)
                    continue
                index[key] = (key_node, value_node)
            # Merge keys fill in what the mapping does not set itself (YAML 1.1).
            for merged in merges:
                sources = merged.value if isinstance(merged.value, list) else []
                if sources and isinstance(sources[0], tuple):
                    sources = [merged]
                for source in sources:
                    if isinstance(source.value, list) and (not source.value or isinstance(source.value[0], tuple)):
                        for key_node, value_node in source.value:
                            if isinstance(key_node.value, str):
                                index.setdefault(key_node.value, (key_node, value_node))
            self._index = index
        return index

    def __contains__(self, key: str) -> bool:
        return key in self._entries()

    def __len__(self) -> int:
        return len(self._entries())

    def keys(self) -> list[str]:
        return list(self._entries())

    def get(self, key: str) -> YNode | None:
        entry = self._entries().get(key)
        if entry is None:
            return None
        return wrap(entry[1], self.doc, self, key)

    def items(self) -> Iterator[tuple[str, YNode]]:
        doc = self.doc
        for key, (_, value_node) in self._entries().items():
            yield key, wrap(value_node, doc, self, key)

    def key_span(self, key: str) -> Span:
        """Span of the key token itself."""
        key_node = self._entries()[key][0]
        s, e = key_node.start_mark, key_node.end_mark
        logical = self.get(key).logical  # type: ignore[union-attr]
        return self.doc.text.span(s.line, s.column, e.line, e.column, logical)

    def entry_span(self, key: str) -> Span:
        """From the key to the end of its value when the value is a scalar on the same
        line (``maxUnavailable: 0``), else the key alone: narrow regions show in PR
        review, whole-object regions do not."""
        key_node, value_node = self._entries()[key]
        value = wrap(value_node, self.doc, self, key)
        s = key_node.start_mark
        if isinstance(value, YScalar) and value_node.end_mark.line == s.line:
            e = value_node.end_mark
            return self.doc.text.span(s.line, s.column, e.line, e.column, value.logical)
        return self.key_span(key)

    # Typed accessors: None when the key is absent or of another shape.
    def map(self, key: str) -> YMap | None:
        value = self.get(key)
        return value if isinstance(value, YMap) else None

    def seq(self, key: str) -> YSeq | None:
        value = self.get(key)
        return value if isinstance(value, YSeq) else None

    def scalar(self, key: str) -> YScalar | None:
        value = self.get(key)
        return value if isinstance(value, YScalar) else None

    def value(self, key: str) -> Any:
        value = self.get(key)
        return value.value if isinstance(value, YScalar) else None

    def text(self, key: str) -> str | None:
        """The raw text of a scalar (``1.30`` stays ``"1.30"``), None if absent/null."""
        value = self.get(key)
        if isinstance(value, YScalar) and value.value is not None:
            return value.text
        return None


def to_python(node: Any, budget: list[int] | None = None) -> Any:
    """Plain Python data for a node (dicts, lists, resolved scalars)."""
    if budget is None:
        budget = [DEFAULT_LIMITS.max_alias_expansion]
    budget[0] -= 1
    if budget[0] < 0:
        raise ValueError("document too large to convert")
    if node.id == "mapping":
        return {str(k.value): to_python(v, budget) for k, v in node.value}
    if node.id == "sequence":
        return [to_python(v, budget) for v in node.value]
    return node.value if node.style else resolve_plain(node.value)
