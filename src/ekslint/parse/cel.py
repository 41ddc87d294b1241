"""The CEL expressions nodeadm evaluates (``spec.kubelet.maxPodsExpression``), compiled
and evaluated with cel-python, a maintained CEL implementation.

nodeadm (amazon-eks-ami ``nodeadm/internal/kubelet/eni_max_pods.go``) builds a cel-go
environment with CEL's standard library and exactly three int variables,
``default_enis``, ``ips_per_eni`` and ``max_pods``; compiles the expression (parse and
type check); evaluates it; converts the result with ``ConvertToType(IntType)`` and
accepts it when it is above 0 and at most MaxInt32. Any failure is logged ("Failed to
evaluate custom expression, using standard max pods value") and the standard value is
used instead.

cel-python parses and evaluates, but has no type checker. What cel-go's checker
refuses is found here on cel-python's syntax tree: a name that is not one of the three
variables (or a variable bound by a macro), a function that is not in the standard
library, and an operator applied to types it has no overload for, found by evaluating
every sub-expression (both branches of each ``?:`` included) with int values.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterator
from functools import cache
from typing import Any

NODEADM_VARIABLES = ("default_enis", "ips_per_eni", "max_pods")
MAX_INT32 = 2**31 - 1
MAX_INT64 = 2**63 - 1

# Global functions and macros of CEL's standard library (cel-go checker/decls); every
# other ``name(...)`` is an undeclared reference (min/max live in the math extension,
# which nodeadm does not load).
GLOBAL_FUNCTIONS = frozenset(
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
    )
)
# Receiver-style functions and macros of the standard library.
MEMBER_FUNCTIONS = frozenset(
    (
        "size",
        "contains",
        "startsWith",
        "endsWith",
        "matches",
        "getDate",
        "getDayOfMonth",
        "getDayOfWeek",
        "getDayOfYear",
        "getFullYear",
        "getMonth",
        "getHours",
        "getMilliseconds",
        "getMinutes",
        "getSeconds",
    )
)
MACROS = frozenset(("all", "exists", "exists_one", "map", "filter"))
# Type names are identifiers with a value (``type(x) == int``).
TYPE_NAMES = frozenset(("int", "uint", "double", "string", "bytes", "bool", "list", "map", "null_type", "type"))
# Instance shapes the type check evaluates with (default ENIs, IPv4 per ENI, standard
# max pods): t3.micro, m5.large, m5.24xlarge.
PROBES = ((2, 2, 4), (3, 10, 29), (15, 50, 737))

# Parse-tree nodes that are whole expressions (evaluable on their own).
_EXPRESSIONS = frozenset(
    ("expr", "conditionalor", "conditionaland", "relation", "addition", "multiplication", "unary", "member", "primary")
)
_OPERATORS = {
    "addition_add": "_+_",
    "addition_sub": "_-_",
    "multiplication_mul": "_*_",
    "multiplication_div": "_/_",
    "multiplication_mod": "_%_",
    "relation_lt": "_<_",
    "relation_le": "_<=_",
    "relation_gt": "_>_",
    "relation_ge": "_>=_",
    "relation_eq": "_==_",
    "relation_ne": "_!=_",
    "relation_in": "@in",
    "unary_neg": "-_",
    "unary_not": "!_",
}
_CEL_TYPES = {
    "IntType": "int",
    "UintType": "uint",
    "DoubleType": "double",
    "StringType": "string",
    "BytesType": "bytes",
    "BoolType": "bool",
    "ListType": "list",
    "MapType": "map",
    "NoneType": "null_type",
    "TimestampType": "google.protobuf.Timestamp",
    "DurationType": "google.protobuf.Duration",
}


class CelError(Exception):
    """A failure, with the offsets in the expression where it is (start == end: the
    whole expression)."""

    def __init__(self, message: str, start: int = 0, end: int = 0) -> None:
        super().__init__(message)
        self.message = message
        self.start = start
        self.end = end

    def __reduce__(self) -> tuple[Any, ...]:
        return (type(self), (self.message, self.start, self.end))


class CelLimitExceeded(CelError):
    """An expression past what cel-go's parser accepts (nesting, 64-bit literals): not
    a mistake in the expression's logic but input no consumer reads (EKS001)."""


class CelUnknown(CelError):
    """An expression beyond what ekslint evaluates (nested too deeply, too long): its
    outcome is unknown, never reported as a failure."""


# Beyond these, cel-python's recursive evaluator (and cel-go's parser, whose default
# recursion limit is 250) are out of their depth: such an expression is not judged.
MAX_SOURCE = 4096
MAX_DEPTH = 400  # syntax-tree levels: about 40 nested parentheses
# Sub-expressions evaluated alone for the type check: more is skipped (a long list
# literal), never reported.
MAX_CHECKED = 300


@cache
def _environment() -> Any:
    """cel-python's environment, built once per process (its parser takes a tenth of a
    second to build); imported here so that runs without an expression never load it."""
    import celpy

    return celpy.Environment()


def _activation(default_enis: int, ips_per_eni: int, max_pods: int) -> dict[str, Any]:
    from celpy import celtypes

    return {
        "default_enis": celtypes.IntType(default_enis),
        "ips_per_eni": celtypes.IntType(ips_per_eni),
        "max_pods": celtypes.IntType(max_pods),
    }


class Program:
    """A maxPodsExpression that compiles."""

    def __init__(self, source: str, tree: Any, judged: bool = True) -> None:
        self.source = source
        self._tree = tree
        self.judged = judged

    def evaluate(self, default_enis: int, ips_per_eni: int, max_pods: int) -> int:
        """The max pods nodeadm takes from the expression; raises :class:`CelError`
        where nodeadm's evaluation fails (it then uses ``max_pods``), and
        :class:`CelUnknown` for an expression too deep to evaluate here."""
        if not self.judged:
            raise CelUnknown("the expression is nested too deeply to evaluate")
        value = _run(self._tree, _activation(default_enis, ips_per_eni, max_pods))
        number = _to_int(value)
        if number <= 0 or number > MAX_INT32:
            raise CelError(
                f"max pods value {number} from custom expression evaluation is invalid: value must be a positive "
                f"integer less than {MAX_INT32}"
            )
        return number


# cel-go's parser refuses more than 250 levels of nesting (parser.MaxRecursionDepth:
# parentheses, lists, maps, chains of unary operators) and integer literals outside 64
# bits; both are checked on the text, in linear time, before cel-python sees it.
CEL_GO_MAX_DEPTH = 250
_INT_LITERAL = re.compile(r"(?<![\w.])(0[xX][0-9a-fA-F]+|[0-9]+)([uU]?)(?![\w.])")


def _cel_go_limits(source: str) -> None:
    depth = deepest = run = 0
    quote = ""
    for index, char in enumerate(source):
        if quote:
            if char == quote and source[index - 1] != "\\":
                quote = ""
            continue
        if char in "\"'":
            quote, run = char, 0
        elif char in "([{":
            depth += 1
            deepest = max(deepest, depth + run)
        elif char in ")]}":
            depth = max(0, depth - 1)
        if char in "!-":
            run += 1
            deepest = max(deepest, depth + run)
        elif not char.isspace():
            run = 0
        if deepest > CEL_GO_MAX_DEPTH:
            raise CelLimitExceeded(
                f"expression recursion limit exceeded: it is nested more than {CEL_GO_MAX_DEPTH} levels deep, "
                "which cel-go refuses",
                index,
                index + 1,
            )
    for literal in _INT_LITERAL.finditer(source):
        digits, unsigned = literal.group(1), bool(literal.group(2))
        hexadecimal = digits[:2].lower() == "0x"
        length = len(digits) - 2 if hexadecimal else len(digits)
        limit = 2**64 - 1 if unsigned else 2**63 - 1
        if length > 20 or int(digits, 16 if hexadecimal else 10) > limit:
            shown = digits if len(digits) <= 24 else f"{digits[:20]}... ({len(digits):,} characters)"
            raise CelLimitExceeded(
                f"integer literal {shown} is out of range for {'a uint' if unsigned else 'an int'} (64 bits), "
                "which cel-go refuses",
                literal.start(),
                literal.end(),
            )


def compile_expression(source: str) -> Program:
    """Compile as nodeadm does; raises :class:`CelError` where cel-go refuses it."""
    import celpy

    if not source.strip():
        raise CelError("the expression is empty")
    _cel_go_limits(source)
    if len(source) > MAX_SOURCE:
        return Program(source, None, judged=False)
    try:
        tree = _environment().compile(source)
    except celpy.CELParseError as err:
        # cel-go's grammar allows a trailing comma in a list, a map or an argument list.
        relaxed = _TRAILING_COMMA.sub(lambda m: " " * (len(m.group()) - 1) + m.group()[-1], source)
        if relaxed == source:
            raise _syntax_error(source, err) from None
        try:
            tree = _environment().compile(relaxed)
        except celpy.CELParseError:
            raise _syntax_error(source, err) from None
    except RecursionError:
        return Program(source, None, judged=False)
    if _depth(tree) > MAX_DEPTH:
        return Program(source, tree, judged=False)
    try:
        _check_names(tree, frozenset(NODEADM_VARIABLES))
        _check_types(tree, source)
    except RecursionError:
        return Program(source, tree, judged=False)
    return Program(source, tree)


def _depth(tree: Any) -> int:
    """How deep the syntax tree nests (counted without recursion)."""
    from lark import Tree

    deepest = 0
    stack = [(tree, 1)]
    while stack:
        node, level = stack.pop()
        deepest = max(deepest, level)
        stack.extend((child, level + 1) for child in node.children if isinstance(child, Tree))
    return deepest


_TRAILING_COMMA = re.compile(r",\s*[\])]|,\s*}")


def _syntax_error(source: str, err: Exception) -> CelError:
    token = getattr(err.__context__, "token", None)
    if getattr(token, "type", None) == "$END":
        end = len(source.rstrip())
        return CelError("syntax error: the expression ends too early", max(end - 1, 0), end)
    line = getattr(err, "line", None)
    column = getattr(err, "column", None)
    offset = 0
    if isinstance(line, int) and isinstance(column, int) and line >= 1 and column >= 1:
        lines = source.split("\n")
        offset = sum(len(text) + 1 for text in lines[: line - 1]) + column - 1
        offset = min(offset, len(source))
    found = "the end of the expression" if offset >= len(source) else repr(source[offset])
    return CelError(f"syntax error at {found}", offset, min(offset + 1, len(source)))


# -- names ---------------------------------------------------------------------------------


def _tokens(tree: Any) -> Iterator[Any]:
    from lark import Token

    yield from tree.scan_values(lambda v: isinstance(v, Token))


def _extent(tree: Any) -> tuple[int, int]:
    starts = [t.start_pos for t in _tokens(tree) if t.start_pos is not None]
    ends = [t.end_pos for t in _tokens(tree) if t.end_pos is not None]
    return (min(starts), max(ends)) if starts and ends else (0, 0)


def _undeclared(token: Any) -> CelError:
    return CelError(f"undeclared reference to '{token}' (in container '')", token.start_pos, token.end_pos)


def _check_names(tree: Any, bound: frozenset[str]) -> None:
    """cel-go's checker resolves every identifier and function name."""
    from lark import Tree

    data = tree.data
    children = tree.children
    if data in ("ident", "dot_ident"):
        name = str(children[0])
        if name not in bound and name not in TYPE_NAMES and name not in ("true", "false", "null"):
            raise _undeclared(children[0])
        return
    if data in ("ident_arg", "dot_ident_arg"):
        if str(children[0]) not in GLOBAL_FUNCTIONS:
            raise _undeclared(children[0])
        for child in children[1:]:
            if isinstance(child, Tree):
                _check_names(child, bound)
        return
    if data == "member_dot_arg":
        target, method = children[0], children[1]
        _check_names(target, bound)
        args = [c for c in children[2:] if isinstance(c, Tree)]
        exprs = args[0].children if args and args[0].data == "exprlist" else args
        if str(method) in MACROS:
            variable = _bare_identifier(exprs[0]) if exprs else None
            if variable is not None:
                for expr in exprs[1:]:
                    _check_names(expr, bound | {variable})
                return
        elif str(method) not in MEMBER_FUNCTIONS:
            # A qualified name (math.least) resolves its first identifier first.
            _check_names(target, bound)
            raise _undeclared(method)
        for expr in exprs:
            _check_names(expr, bound)
        return
    if data == "member_object":  # a message construction: its type name is not checked
        for child in children[1:]:
            if isinstance(child, Tree):
                _check_names(child, bound)
        return
    if data == "member_dot" and _qualified_root(tree) == "google":
        return  # a well-known protobuf type name
    for child in children:
        if isinstance(child, Tree):
            _check_names(child, bound)


def _bare_identifier(tree: Any) -> str | None:
    """The name when an expression is nothing but one identifier (a macro's variable)."""
    from lark import Tree

    node = tree
    while isinstance(node, Tree) and len(node.children) == 1:
        if node.data == "ident":
            return str(node.children[0])
        node = node.children[0]
    return None


def _qualified_root(tree: Any) -> str | None:
    from lark import Tree

    node = tree
    while isinstance(node, Tree):
        if node.data == "ident":
            return str(node.children[0])
        node = node.children[0] if node.children else None
    return None


# -- types ---------------------------------------------------------------------------------


def _check_types(tree: Any, source: str) -> None:
    """cel-go's checker refuses an operator on types it has no overload for, in any
    branch. With every variable an int, evaluating each sub-expression at a probe finds
    the same refusals (a sub-expression that uses a macro's variable is skipped)."""
    activation = _activation(*PROBES[1])
    nodes = list(_subexpressions(tree))
    if len(nodes) > MAX_CHECKED:
        return
    for node in nodes:
        problem = _type_failure(node, activation)
        if problem is not None:
            raise _locate(node, problem, activation, source)
        mixed = _mixed_arithmetic(node, activation, source)
        if mixed is not None:
            raise mixed


def _mixed_arithmetic(tree: Any, activation: dict[str, Any], source: str) -> CelError | None:
    """cel-go has no arithmetic across int, uint and double (``1u + max_pods``), which
    cel-python computes anyway."""
    from lark import Tree

    if tree.data not in ("addition", "multiplication") or len(tree.children) != 2:
        return None
    operation, right = tree.children
    if not isinstance(operation, Tree) or operation.data not in _OPERATORS or not operation.children:
        return None
    left = operation.children[0]
    kinds = []
    for operand in (left, right):
        try:
            value = _run(operand, activation)
        except CelError:
            return None
        kinds.append(_CEL_TYPES.get(type(value).__name__, "?"))
    if kinds[0] != kinds[1] and set(kinds) <= {"int", "uint", "double"}:
        start, end = _operator(tree, source)
        return CelError(
            f"found no matching overload for '{_OPERATORS[operation.data]}' applied to '({kinds[0]}, {kinds[1]})'",
            start,
            end,
        )
    return None


def _subexpressions(tree: Any) -> Iterator[Any]:
    from lark import Tree

    if tree.data in _EXPRESSIONS:
        yield tree
    for child in tree.children:
        if isinstance(child, Tree):
            yield from _subexpressions(child)


def _type_failure(tree: Any, activation: dict[str, Any]) -> str | None:
    """The overload failure evaluating ``tree`` runs into, if that is how it fails."""
    try:
        _run(tree, activation)
    except CelError as err:
        if "no matching overload" in err.message:
            return err.message
    return None


def _locate(tree: Any, message: str, activation: dict[str, Any], source: str) -> CelError:
    """The innermost sub-expression that fails alone, with its offsets."""
    from lark import Tree

    node = tree
    while True:
        inner = None
        for child in _subexpressions_below(node):
            failure = _type_failure(child, activation) if isinstance(child, Tree) else None
            if failure is not None:
                inner, message = child, failure
                break
        if inner is None:
            break
        node = inner
    start, end = _operator(node, source)
    return CelError(message, start, end)


def _operator(tree: Any, source: str) -> tuple[int, int]:
    """Where cel-go reports a failed operation: at its operator (``*`` of ``a * b``),
    else the whole sub-expression."""
    from lark import Tree

    start, end = _extent(tree)
    while len(tree.children) == 1 and isinstance(tree.children[0], Tree):
        tree = tree.children[0]  # wrappers of one expression (expr > conditionalor > ...)
    if len(tree.children) == 2 and isinstance(tree.children[0], Tree) and tree.children[0].data in _OPERATORS:
        operation = tree.children[0]
        left = operation.children[0] if operation.children else None
        if isinstance(left, Tree):
            after = _extent(left)[1]
            at = after + len(source[after:]) - len(source[after:].lstrip())
            width = 2 if source[at : at + 2] in ("<=", ">=", "==", "!=", "in") else 1
            return at, at + width
    return start, end


def _subexpressions_below(tree: Any, extent: tuple[int, int] | None = None) -> Iterator[Any]:
    """The largest sub-expressions of ``tree`` that are smaller than it."""
    from lark import Tree

    extent = extent or _extent(tree)
    for child in tree.children:
        if isinstance(child, Tree):
            if child.data in _EXPRESSIONS and _extent(child) != extent:
                yield child
            else:
                yield from _subexpressions_below(child, extent)


# -- evaluation ----------------------------------------------------------------------------


def _run(tree: Any, activation: dict[str, Any]) -> Any:
    import celpy

    try:
        return _environment().program(tree).evaluate(activation)
    except celpy.CELEvalError as err:
        raise CelError(_eval_message(err)) from None
    except RecursionError:
        raise CelUnknown("the expression is nested too deeply to evaluate") from None
    except (ArithmeticError, ValueError, TypeError, KeyError) as err:
        raise CelError(f"evaluation failed: {err}") from None


_RULE = re.compile(r"Token\('RULE', '(\w+)'\)")
_CLASS = re.compile(r"<class '(?:celpy\.celtypes\.)?(\w+)'>")


def _eval_message(err: Exception) -> str:
    text = str(err.args[0]) if err.args else str(err)
    if "no matching overload" in text or "no such overload" in text:
        rule = _RULE.search(text)
        named = re.match(r"found no matching overload for (\S+) applied", text)
        operator = _OPERATORS.get(rule.group(1), rule.group(1)) if rule else named.group(1) if named else "?"
        if operator == "_?_:_":
            return "found no matching overload for '_?_:_': the condition before '?' is not a bool"
        types = [_CEL_TYPES.get(name, name) for name in _CLASS.findall(text)]
        applied = f" applied to '({', '.join(types)})'" if types else ""
        return f"found no matching overload for '{operator}'{applied}"
    if text.startswith("undeclared reference"):
        return text.split(" (in activation", 1)[0] + " (in container '')"
    if "divide by zero" in text:
        return "division by zero"
    if "overflow" in text:
        return "integer overflow"
    return text.splitlines()[0] if text else "evaluation failed"


def _to_int(value: Any) -> int:
    """cel-go ``ConvertToType(IntType)`` of a result: ints as they are, uints and
    doubles (truncated) when in range, strings in base 10, timestamps as Unix
    seconds, durations in nanoseconds; nothing else converts."""
    from celpy import celtypes

    what = _CEL_TYPES.get(type(value).__name__, type(value).__name__)
    if isinstance(value, celtypes.BoolType) or value is None or isinstance(value, (list, dict, bytes)):
        raise CelError(f"could not interpret result {_shown(value)} as an integer: type conversion error from {what}")
    if isinstance(value, celtypes.TimestampType):
        return int(value.timestamp())
    if isinstance(value, celtypes.DurationType):
        return int(value.total_seconds() * 1_000_000_000)
    if isinstance(value, str):
        if not re.fullmatch(r"[+-]?[0-9]+", value):
            raise CelError(f"could not interpret result {_shown(value)} as an integer")
        number = int(value)
    elif isinstance(value, float):
        if math.isnan(value) or math.isinf(value) or not -(2.0**63) < value < 2.0**63:
            raise CelError(f"could not interpret result {_shown(value)} as an integer: integer overflow")
        number = int(value)
    elif isinstance(value, int):
        number = int(value)
    else:
        raise CelError(f"could not interpret result {_shown(value)} as an integer: type conversion error from {what}")
    if not -MAX_INT64 - 1 <= number <= MAX_INT64:
        raise CelError(f"could not interpret result {_shown(value)} as an integer: integer overflow")
    return number


def _shown(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return f'"{value}"'
    text = repr(value) if not isinstance(value, (int, float)) else str(value)
    return text if len(text) < 40 else text[:37] + "..."
