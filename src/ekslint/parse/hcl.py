"""Terraform HCL, read with python-hcl2's grammar into positioned blocks and expressions.

Only the lark parse tree of python-hcl2's grammar (``hcl2.lark``, LALR, as
``hcl2.parser.parser`` builds it) is used: its tokens keep their line and column, which
the dict serialisation loses for expressions; a node's position is that of its first and
last token. python-hcl2 and lark are imported on the
first ``.tf`` file, never at startup.

Expressions are kept as Terraform wrote them: literals, quoted templates and heredocs
(with a :class:`Text` that maps their content back to the file, ``${...}`` kept as
placeholders), objects, tuples, function calls and references; anything else
(conditionals, ``for`` expressions, operators) is ``other`` with its source text.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cache
from typing import Any

from ekslint.parse.text import Problem, Span, Text

# A larger .tf file is not parsed: lark's LALR parser takes about 3 ms per KB, and no
# node group definition comes close (the largest public EKS module file is 23 KB).
MAX_HCL_BYTES = 1024 * 1024
MAX_DEPTH = 100  # nesting of expressions and blocks read; deeper is kept as "other"

HCL_HINT = "terraform validate refuses the file; fix the HCL here (unclosed braces, quotes or heredocs)"


@dataclass(slots=True)
class Expr:
    """An HCL expression. ``kind`` is one of string (no interpolation), template (a
    quoted string with ``${}``/``%{}``), heredoc, number, bool, null, object, tuple,
    call, ref (a traversal such as ``aws_launch_template.this.id``) or other."""

    kind: str
    span: Span
    source: str  # the expression as written
    value: Any = None  # literal value; template/heredoc text; call name; ref path
    text: Text | None = None  # string/template/heredoc content, positioned in the file
    items: list[tuple[str, Span, Expr]] = field(default_factory=list)  # object: key, key span, value
    elements: list[Expr] = field(default_factory=list)  # tuple items, call arguments

    def string(self) -> str | None:
        """The value of a string literal (a template's text too: its ``${}`` stay)."""
        if self.kind in ("string", "template", "heredoc"):
            return str(self.value)
        if self.kind in ("number", "bool"):
            return self.source
        return None

    def get(self, key: str) -> Expr | None:
        for name, _span, value in self.items:
            if name == key:
                return value
        return None

    def key_span(self, key: str) -> Span | None:
        for name, span, _value in self.items:
            if name == key:
                return span
        return None


@dataclass(slots=True)
class Attribute:
    name: str
    span: Span  # the attribute's name
    expr: Expr


@dataclass(slots=True)
class Block:
    type: str
    labels: list[str]
    span: Span  # the block type keyword
    end_line: int
    attributes: dict[str, Attribute] = field(default_factory=dict)
    blocks: list[Block] = field(default_factory=list)

    def attr(self, name: str) -> Expr | None:
        attribute = self.attributes.get(name)
        return attribute.expr if attribute is not None else None

    def attr_span(self, name: str) -> Span | None:
        attribute = self.attributes.get(name)
        return attribute.span if attribute is not None else None

    def children(self, block_type: str) -> list[Block]:
        return [b for b in self.blocks if b.type == block_type]

    @property
    def address(self) -> str:
        """``aws_launch_template.this``, ``data.cloudinit_config.x``, ``module.eks``."""
        if self.type == "resource":
            return ".".join(self.labels)
        return ".".join([self.type, *self.labels])


@dataclass(slots=True)
class HclFile:
    text: Text
    body: Block  # the file's top level, as a block of type ""


def parse_hcl(text: Text) -> tuple[HclFile | None, Problem | None]:
    """Parse a .tf file; a syntax error is a problem at its line, never an exception."""
    if len(text.content) > MAX_HCL_BYTES:
        return None, Problem(
            text.span(0, 0, 0, 0),
            f"Terraform file larger than {MAX_HCL_BYTES:,} bytes was not analysed; split it or exclude it",
        )
    try:
        from lark.exceptions import LarkError, UnexpectedInput

        hcl_parser = _parser()
    except ImportError:  # pragma: no cover - a hard dependency, but never a traceback
        return None, Problem(text.span(0, 0, 0, 0), "python-hcl2 is not installed, so Terraform files are not read")
    try:
        tree = hcl_parser.parse(text.content + "\n")
    except UnexpectedInput as err:
        line = max(getattr(err, "line", 1) or 1, 1)
        col = max(getattr(err, "column", 1) or 1, 1)
        if line > len(text.lines()):
            line = len(text.lines())
            col = len(text.lines()[-1]) + 1
        token = getattr(err, "token", None)
        char = getattr(err, "char", None)
        if token is not None and str(token).strip():
            what = f"unexpected {_first_line(str(token))!r}"
        elif char is not None:
            what = f"unexpected character {char!r}"
        else:
            what = "unexpected end of line or file"
        return None, Problem(text.span(line - 1, col - 1, line - 1, col), f"HCL syntax error: {what}; {HCL_HINT}")
    except (LarkError, RecursionError, ValueError) as err:
        return None, Problem(text.span(0, 0, 0, 0), f"HCL could not be read: {_first_line(str(err))}; {HCL_HINT}")
    reader = _Reader(text)
    body = Block("", [], text.span(0, 0, 0, 0), len(text.lines()))
    reader.body(tree.children[0], body, 0)
    return HclFile(text, body), None


@cache
def _parser() -> Any:
    """python-hcl2's grammar and parse table, as ``hcl2.parser.parser()`` builds them
    (lazy: lark and the grammar load on the first .tf file), without lark's position
    propagation: computing every tree node's position while parsing was a third of the
    parse, and the reader needs a few (``_tokens`` finds them). Its cache file is
    python-hcl2's own (lark keys it on the options that shape the table, and
    ``propagate_positions`` is not one of them)."""
    from hcl2 import parser as hcl2_parser
    from hcl2.postlexer import PostLexer
    from lark import Lark

    return Lark.open(
        "hcl2.lark",
        rel_to=hcl2_parser.__file__,
        parser="lalr",
        cache=str(hcl2_parser.PARSER_FILE),
        propagate_positions=False,
        postlex=PostLexer(),
    )


def _tokens(node: Any) -> tuple[Any, Any] | None:
    """The first and last token under ``node`` (every terminal of the grammar is named,
    so kept: this is where lark's propagated positions would put the node), or None
    for a node without tokens."""
    if not hasattr(node, "children"):
        return node, node
    ends = []
    for last in (False, True):
        stack = [node]
        found = None
        while stack and found is None:
            current = stack.pop()
            if not hasattr(current, "children"):
                found = current
            else:
                # Depth-first, leftmost (or rightmost) child first.
                stack.extend(current.children if last else reversed(current.children))
        if found is None:
            return None
        ends.append(found)
    return ends[0], ends[1]


def _first_line(message: str) -> str:
    line = message.strip().split("\n", 1)[0]
    return line[:200]


class _Reader:
    def __init__(self, text: Text) -> None:
        self.text = text

    # -- positions -------------------------------------------------------------------
    def span(self, node: Any, logical: str = "") -> Span:
        return self._span(_tokens(node), logical)

    def source(self, node: Any) -> str:
        return self._source(_tokens(node))

    def located(self, node: Any) -> tuple[Span, str]:
        """``span`` and ``source`` of a node, its tokens found once."""
        ends = _tokens(node)
        return self._span(ends), self._source(ends)

    def _span(self, ends: tuple[Any, Any] | None, logical: str = "") -> Span:
        if ends is None or getattr(ends[0], "line", None) is None:
            return self.text.span(0, 0, 0, 0, logical)
        first, last = ends
        return Span(self.text.file, first.line, first.column, last.end_line, last.end_column, logical)

    def _source(self, ends: tuple[Any, Any] | None) -> str:
        if ends is None or getattr(ends[0], "start_pos", None) is None:
            return ""
        return self.text.content[ends[0].start_pos : ends[1].end_pos]

    # -- structure ----------------------------------------------------------------------
    def body(self, tree: Any, block: Block, depth: int) -> None:
        for child in tree.children:
            name = getattr(child, "data", None)
            if name == "attribute":
                key = self.name(child.children[0])
                expr = self.expr(child.children[2], depth + 1)
                block.attributes[key] = Attribute(key, self.span(child.children[0]), expr)
            elif name == "block" and depth < MAX_DEPTH:
                block.blocks.append(self.block(child, depth + 1))

    def block(self, tree: Any, depth: int) -> Block:
        children = tree.children
        labels: list[str] = []
        body_tree = None
        for child in children[1:]:
            kind = getattr(child, "data", None)
            if kind == "string":
                labels.append(self.string_value(child))
            elif kind in ("identifier", "keyword", "literal_value"):
                labels.append(self.name(child))
            elif kind == "body":
                body_tree = child
        block = Block(self.name(children[0]), labels, self.span(children[0]), self.span(tree).end_line)
        if body_tree is not None:
            self.body(body_tree, block, depth)
        return block

    def name(self, node: Any) -> str:
        if hasattr(node, "children"):
            if node.data == "string":
                return self.string_value(node)
            return "".join(self.name(c) for c in node.children)
        return str(node)

    def string_value(self, node: Any) -> str:
        raw = self.source(node)
        return _unescape(raw[1:-1]) if len(raw) >= 2 else raw

    # -- expressions ----------------------------------------------------------------------
    def expr(self, node: Any, depth: int) -> Expr:
        span, source = self.located(node)
        if depth > MAX_DEPTH or not hasattr(node, "data"):
            return Expr("other", span, source)
        data = node.data
        while data == "expr_term" and len(node.children) == 1 and hasattr(node.children[0], "data"):
            node = node.children[0]
            data = node.data
        if data == "expr_term":  # parenthesised
            inner = [c for c in node.children if getattr(c, "data", None) not in (None, "new_line_or_comment")]
            return self.expr(inner[0], depth + 1) if len(inner) == 1 else Expr("other", span, source)
        if data == "string":
            wrapped = _only_interpolation(node)
            if wrapped is not None:
                # "${expr}" is expr itself, its type kept (hashicorp/hcl hclsyntax
                # TemplateWrapExpr): Terraform 0.11 style, "${aws_launch_configuration.x.id}".
                return self.expr(wrapped, depth + 1)
            return self.quoted(node, span, source)
        if data in ("heredoc_template", "heredoc_template_trim"):
            return self.heredoc(node, span, source, data == "heredoc_template_trim")
        if data in ("int_lit", "float_lit"):
            number = float(source) if data == "float_lit" else int(source)
            return Expr("number", span, source, number)
        if data == "literal_value":
            word = source.strip()
            if word == "null":
                return Expr("null", span, source)
            return Expr("bool", span, source, word == "true")
        if data == "identifier":
            return Expr("ref", span, source, source.strip())
        if data in ("get_attr_expr_term", "index_expr_term"):
            path = _traversal(source)
            return Expr("ref", span, source, path) if path else Expr("other", span, source)
        if data == "tuple":
            elements = [self.expr(c, depth + 1) for c in node.children if _is_expression(c)]
            return Expr("tuple", span, source, elements=elements)
        if data == "object":
            return self.object(node, span, source, depth)
        if data == "function_call":
            return self.call(node, span, source, depth)
        return Expr("other", span, source)

    def quoted(self, node: Any, span: Span, source: str) -> Expr:
        inner = source[1:-1]
        value = _unescape(inner)
        templated = any(
            hasattr(part, "children") and any(hasattr(c, "data") for c in part.children)
            for part in node.children
            if getattr(part, "data", None) == "string_part"
        )
        if "\n" in value or value != inner:
            # Escapes change the columns: positions inside the string are its start.
            text = Text(self.text.file, value, None, span)
        else:
            text = Text(self.text.file, value, [(span.line, span.col + 1)])
        return Expr("template" if templated else "string", span, source, value, text)

    def heredoc(self, node: Any, span: Span, source: str, trim: bool) -> Expr:
        """``<<EOT`` keeps the body as written; ``<<-EOT`` removes the indentation all
        non-blank lines share, a tab counting as one character (hashicorp/hcl
        specsuite/tests/expressions/heredoc.hcl, the ``indent`` cases)."""
        token = node.children[0]
        raw = str(token)
        first_newline = raw.index("\n")
        lines = raw[first_newline + 1 :].split("\n")
        # The last two pieces are the closing marker line and the empty rest after it.
        body_lines = lines[:-2] if len(lines) >= 2 else []
        body_lines = [line[:-1] if line.endswith("\r") else line for line in body_lines]
        indent = 0
        if trim:
            widths = [len(line) - len(line.lstrip(" \t")) for line in body_lines if line.strip()]
            indent = min(widths) if widths else 0
        content = "\n".join(line[indent:] for line in body_lines)
        if body_lines:
            content += "\n"
        origins = [(span.line + 1 + i, 1 + min(indent, len(line))) for i, line in enumerate(body_lines)]
        text = Text(self.text.file, content, origins or [(span.line + 1, 1)])
        return Expr("heredoc", span, source, content, text)

    def object(self, node: Any, span: Span, source: str, depth: int) -> Expr:
        result = Expr("object", span, source)
        for elem in node.children:
            if getattr(elem, "data", None) != "object_elem":
                continue
            key_node = elem.children[0]
            key_expr = key_node.children[0] if key_node.children else key_node
            key_span, key_source = self.located(key_node)
            key_source = key_source.strip()
            if getattr(key_expr, "data", None) == "expr_term" and key_source.startswith('"'):
                key = _unescape(key_source[1:-1])
            else:
                key = key_source.strip("()")
            value = self.expr(elem.children[2], depth + 1)
            result.items.append((key, key_span, value))
        return result

    def call(self, node: Any, span: Span, source: str, depth: int) -> Expr:
        name = self.name(node.children[0])
        result = Expr("call", span, source, name)
        for child in node.children:
            if getattr(child, "data", None) == "arguments":
                result.elements = [self.expr(c, depth + 1) for c in child.children if _is_expression(c)]
        return result


def _only_interpolation(node: Any) -> Any:
    """The expression of a quoted string that is one ``${...}`` and nothing else."""
    parts = [c for c in node.children if getattr(c, "data", None) == "string_part"]
    if len(parts) != 1:
        return None
    pieces = parts[0].children
    if len(pieces) != 1 or getattr(pieces[0], "data", None) != "interpolation":
        return None
    inner = [c for c in pieces[0].children if hasattr(c, "data")]
    return inner[0] if len(inner) == 1 else None


def _is_expression(node: Any) -> bool:
    return hasattr(node, "data") and node.data != "new_line_or_comment"


_ESCAPES = {"n": "\n", "t": "\t", "r": "\r", '"': '"', "\\": "\\"}


def _unescape(raw: str) -> str:
    if "\\" not in raw:
        return raw
    out: list[str] = []
    i = 0
    while i < len(raw):
        char = raw[i]
        if char == "\\" and i + 1 < len(raw) and raw[i + 1] in _ESCAPES:
            out.append(_ESCAPES[raw[i + 1]])
            i += 2
            continue
        out.append(char)
        i += 1
    return "".join(out)


def _traversal(source: str) -> str | None:
    """``aws_launch_template.this[0].id`` → ``aws_launch_template.this.id`` (indexes
    dropped); None when it is not a plain traversal."""
    cleaned: list[str] = []
    depth = 0
    for char in source.strip():
        if char == "[":
            depth += 1
        elif char == "]":
            depth -= 1
        elif depth == 0:
            if not (char.isalnum() or char in "._-"):
                return None
            cleaned.append(char)
    path = "".join(cleaned).replace("..", ".")
    return path or None
