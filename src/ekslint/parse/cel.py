"""A checker for the CEL expressions nodeadm evaluates (``maxPodsExpression``).

nodeadm compiles the expression in an environment with only CEL's standard library
and int variables (DOMAIN.md §1.4), and converts the result to an int. This module
parses the whole CEL expression grammar (cel-spec ``langdef.md``) and infers types as
far as literals, the declared variables and the standard conversions tell. It is
deliberately conservative: it reports only what certainly fails to compile or to
convert (a syntax error, an undeclared name, an arithmetic overload CEL does not have,
a boolean result); anything it cannot type is ``dyn`` and passes.
"""

from __future__ import annotations

import re
import sys
from dataclasses import dataclass

# nodeadm's variables: the original three, and vcpus / physical_memory_mib in newer
# releases (accepted so that no valid expression is reported).
NODEADM_VARIABLES = ("default_enis", "ips_per_eni", "max_pods", "vcpus", "physical_memory_mib")

# Global functions and macros of CEL's standard library; everything else called as
# ``name(...)`` is an undeclared reference (min/max/abs live in the math extension,
# which nodeadm does not load).
STANDARD_FUNCTIONS = frozenset(
    (
        "int",
        "uint",
        "double",
        "string",
        "bytes",
        "bool",
        "dyn",
        "type",
        "size",
        "has",
        "matches",
        "duration",
        "timestamp",
        "contains",
        "startsWith",
        "endsWith",
    )
)
# Type names are identifiers with a value (``type(x) == int``).
TYPE_NAMES = frozenset(("int", "uint", "double", "string", "bytes", "bool", "list", "map", "null_type", "type"))
RESERVED = frozenset(
    (
        "as",
        "break",
        "const",
        "continue",
        "else",
        "for",
        "function",
        "if",
        "import",
        "let",
        "loop",
        "package",
        "namespace",
        "return",
        "var",
        "void",
        "while",
    )
)
_CONVERSIONS = {"int": "int", "uint": "uint", "double": "double", "string": "string", "bytes": "bytes", "bool": "bool"}

_TOKEN = re.compile(
    r"""
    (?P<space>\s+|//[^\n]*)
  | (?P<string>[rRbB]{0,2}(?:\"\"\"(?:\\.|[^\\])*?\"\"\"|'''(?:\\.|[^\\])*?'''|"(?:\\.|[^"\\\n])*"|'(?:\\.|[^'\\\n])*'))
  | (?P<double>(?:\d+\.\d+(?:[eE][+-]?\d+)?|\d+[eE][+-]?\d+|\.\d+(?:[eE][+-]?\d+)?))
  | (?P<uint>(?:0[xX][0-9a-fA-F]+|\d+)[uU])
  | (?P<int>0[xX][0-9a-fA-F]+|\d+)
  | (?P<ident>[_a-zA-Z][_a-zA-Z0-9]*)
  | (?P<op>\|\||&&|==|!=|<=|>=|[-+*/%!<>?:.,()\[\]{}])
    """,
    re.X | re.S,
)

NUMERIC = ("int", "uint", "double")
# cel-go's parser refuses more than 250 levels of nesting (parentheses, lists, maps,
# unary operators: parser.MaxRecursionDepth); so does this one. A level costs about 14
# Python frames, so ``check`` makes room for them above the caller's limit.
MAX_DEPTH = 250
_FRAMES_PER_LEVEL = 16
# Operand types CEL's standard arithmetic overloads accept (both operands alike).
_ARITHMETIC = {
    "+": ("int", "uint", "double", "string", "bytes", "list"),
    "-": NUMERIC,
    "*": NUMERIC,
    "/": NUMERIC,
    "%": ("int", "uint"),
}


class CelError(Exception):
    def __init__(self, message: str, start: int, end: int) -> None:
        super().__init__(message)
        self.message = message
        self.start = start
        self.end = end


@dataclass(frozen=True, slots=True)
class Token:
    kind: str  # space is dropped; "end" closes the stream
    text: str
    start: int

    @property
    def end(self) -> int:
        return self.start + max(len(self.text), 1)


def tokenize(source: str) -> list[Token]:
    tokens: list[Token] = []
    i = 0
    while i < len(source):
        m = _TOKEN.match(source, i)
        if m is None:
            raise CelError(f"unexpected character {source[i]!r}", i, i + 1)
        kind = m.lastgroup or "op"
        if kind != "space":
            tokens.append(Token(kind, m.group(), i))
        i = m.end()
    tokens.append(Token("end", "", len(source)))
    return tokens


@dataclass(frozen=True, slots=True)
class Result:
    type: str  # int, uint, double, string, bytes, bool, null, list, map or dyn
    literal: int | None = None  # the value of an int literal (possibly negated)


class _Parser:
    def __init__(self, source: str, variables: frozenset[str]) -> None:
        self.tokens = tokenize(source)
        self.i = 0
        self.variables = variables
        self.depth = 0

    def enter(self) -> None:
        self.depth += 1
        if self.depth > MAX_DEPTH:
            tok = self.tok
            raise CelError(
                f"expression recursion limit exceeded: it is nested more than {MAX_DEPTH} levels deep, "
                "which cel-go refuses",
                tok.start,
                tok.end,
            )

    @property
    def tok(self) -> Token:
        return self.tokens[self.i]

    def take(self) -> Token:
        tok = self.tokens[self.i]
        self.i += 1
        return tok

    def accept(self, text: str) -> Token | None:
        if self.tok.kind == "op" and self.tok.text == text:
            return self.take()
        return None

    def expect(self, text: str) -> Token:
        found = self.accept(text)
        if found is None:
            raise self.unexpected(f"expected '{text}'")
        return found

    def unexpected(self, wanted: str) -> CelError:
        tok = self.tok
        what = "end of expression" if tok.kind == "end" else f"'{tok.text}'"
        return CelError(f"syntax error: {wanted}, found {what}", tok.start, tok.end)

    # Expr = ConditionalOr ["?" ConditionalOr ":" Expr]
    def expr(self) -> Result:
        self.enter()
        try:
            return self.conditional()
        finally:
            self.depth -= 1

    def conditional(self) -> Result:
        start = self.tok
        cond = self.logical("||", self.logical_and)
        if self.accept("?") is None:
            return cond
        if cond.type not in ("bool", "dyn"):
            raise CelError(f"the condition before '?' is {cond.type}, not bool", start.start, start.end)
        yes = self.logical("||", self.logical_and)
        self.expect(":")
        no = self.expr()
        return Result(yes.type if yes.type == no.type else "dyn")

    def logical_and(self) -> Result:
        return self.logical("&&", self.relation)

    def logical(self, op: str, operand: object) -> Result:
        assert callable(operand)
        first = self.tok
        left: Result = operand()
        while True:
            tok = self.accept(op)
            if tok is None:
                return left
            right: Result = operand()
            for side in (left, right):
                if side.type not in ("bool", "dyn"):
                    raise CelError(
                        f"found no matching overload for '{op}' applied to {side.type}", first.start, tok.end
                    )
            left = Result("bool")

    # Relation = Addition {Relop Addition}: comparisons are not type-checked here
    # (cel-go compares numbers across types).
    def relation(self) -> Result:
        left = self.addition()
        while (self.tok.kind == "op" and self.tok.text in ("<", "<=", ">", ">=", "==", "!=")) or (
            self.tok.kind == "ident" and self.tok.text == "in"
        ):
            self.take()
            self.addition()
            left = Result("bool")
        return left

    def addition(self) -> Result:
        return self.binary(("+", "-"), self.multiplication)

    def multiplication(self) -> Result:
        return self.binary(("*", "/", "%"), self.unary)

    def binary(self, ops: tuple[str, ...], operand: object) -> Result:
        assert callable(operand)
        left: Result = operand()
        while self.tok.kind == "op" and self.tok.text in ops:
            tok = self.take()
            right: Result = operand()
            left = _arithmetic(tok, left, right)
        return left

    def unary(self) -> Result:
        tok = self.tok
        if tok.kind == "op" and tok.text in ("!", "-"):
            self.enter()  # a chain of unary operators nests as parentheses do
            try:
                return self.unary_operator()
            finally:
                self.depth -= 1
        return self.member()

    def unary_operator(self) -> Result:
        tok = self.tok
        if self.accept("!"):
            value = self.unary()
            if value.type not in ("bool", "dyn"):
                raise CelError(f"found no matching overload for '!' applied to {value.type}", tok.start, tok.end)
            return Result("bool")
        if self.accept("-"):
            value = self.unary()
            if value.type not in ("int", "double", "dyn"):
                raise CelError(f"found no matching overload for '-' applied to {value.type}", tok.start, tok.end)
            return Result(value.type, -value.literal if value.literal is not None else None)
        return self.member()

    # Member = Primary {"." IDENT ["(" args ")"] | "[" Expr "]"}
    def member(self) -> Result:
        value = self.primary()
        while True:
            if self.accept("."):
                if self.tok.kind != "ident":
                    raise self.unexpected("expected a field or method name after '.'")
                self.take()
                if self.accept("("):
                    self.arguments(")")
                value = Result("dyn")
            elif self.accept("["):
                self.expr()
                self.expect("]")
                value = Result("dyn")
            else:
                return value

    def arguments(self, close: str) -> list[Result]:
        args: list[Result] = []
        if self.accept(close):
            return args
        while True:
            args.append(self.expr())
            if self.accept(close):
                return args
            self.expect(",")
            if self.accept(close):  # a trailing comma
                return args

    def primary(self) -> Result:
        tok = self.tok
        if tok.kind == "int":
            self.take()
            value = _int_literal(tok.text)
            if value is None or value > 2**63 - 1:
                shown = tok.text if len(tok.text) <= 24 else f"{tok.text[:20]}... ({len(tok.text):,} characters)"
                raise CelError(
                    f"the integer {shown} is out of range: CEL integers are 64-bit (at most {2**63 - 1})",
                    tok.start,
                    tok.end,
                )
            return Result("int", value)
        if tok.kind in ("uint", "double", "string"):
            self.take()
            if tok.kind == "string":
                return Result("bytes" if "b" in tok.text[:2].lower() else "string")
            return Result(tok.kind)
        if tok.kind == "ident":
            return self.identifier()
        if tok.kind == "op":
            if tok.text == ".":  # a leading dot: the root namespace
                self.take()
                if self.tok.kind != "ident":
                    raise self.unexpected("expected a name after '.'")
                return self.identifier()
            if self.accept("("):
                inner = self.expr()
                self.expect(")")
                return Result(inner.type, inner.literal)
            if self.accept("["):
                self.arguments("]")
                return Result("list")
            if self.accept("{"):
                self.map_entries()
                return Result("map")
        raise self.unexpected("expected a value")

    def map_entries(self) -> None:
        if self.accept("}"):
            return
        while True:
            self.expr()
            self.expect(":")
            self.expr()
            if self.accept("}"):
                return
            self.expect(",")
            if self.accept("}"):
                return

    def identifier(self) -> Result:
        tok = self.take()
        name = tok.text
        if name in RESERVED or name == "in":
            raise CelError(f"syntax error: '{name}' is a reserved word", tok.start, tok.end)
        if name in ("true", "false"):
            return Result("bool")
        if name == "null":
            return Result("null")
        if self.accept("("):
            args = self.arguments(")")
            if name not in STANDARD_FUNCTIONS:
                raise CelError(f"undeclared reference to '{name}' (in container '')", tok.start, tok.end)
            if name in _CONVERSIONS:
                return Result(_CONVERSIONS[name])
            if name == "size" and len(args) == 1:
                return Result("int")
            return Result("dyn")
        if self.tok.kind == "op" and self.tok.text in (".", "{"):
            return Result("dyn")  # a qualified name or a message construction: not checked
        if name in self.variables:
            return Result("int")
        if name in TYPE_NAMES:
            return Result("dyn")
        raise CelError(f"undeclared reference to '{name}' (in container '')", tok.start, tok.end)


def _int_literal(text: str) -> int | None:
    """The value of a decimal or hexadecimal literal, or None when it has more digits
    than any 64-bit integer (converted without reading them all)."""
    hexadecimal = text[:2].lower() == "0x"
    digits = (text[2:] if hexadecimal else text).lstrip("0")
    if len(digits) > (16 if hexadecimal else 20):
        return None
    return int(digits or "0", 16 if hexadecimal else 10)


def _arithmetic(tok: Token, left: Result, right: Result) -> Result:
    op = tok.text
    if "dyn" in (left.type, right.type):
        return Result("dyn")
    allowed = _ARITHMETIC[op]
    if left.type != right.type or left.type not in allowed:
        raise CelError(
            f"found no matching overload for '_{op}_' applied to '({left.type}, {right.type})'", tok.start, tok.end
        )
    return Result(left.type)


def check(source: str, variables: tuple[str, ...] = NODEADM_VARIABLES) -> Result:
    """The expression's inferred result; raises :class:`CelError` when it certainly
    fails to compile."""
    if not source.strip():
        raise CelError("the expression is empty", 0, 0)
    parser = _Parser(source, frozenset(variables))
    limit = sys.getrecursionlimit()
    sys.setrecursionlimit(limit + MAX_DEPTH * _FRAMES_PER_LEVEL)
    try:
        result = parser.expr()
    except RecursionError:  # pragma: no cover - MAX_DEPTH is checked first
        raise CelError(f"expression recursion limit exceeded (over {MAX_DEPTH} levels)", 0, 0) from None
    finally:
        sys.setrecursionlimit(limit)
    if parser.tok.kind != "end":
        raise parser.unexpected("expected an operator or the end of the expression")
    return result
