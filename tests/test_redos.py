"""No regular expression that sees user input is super-linear (issue 15, item 1).

Every pattern is found, not listed: each ``NAME = re.compile(...)`` at module level in
``src/ekslint`` and ``rules/``, each ``re.search(r"...", ...)``-style call with a literal
pattern, and each ``pattern`` / ``patternProperties`` of the JSON schemas. Each runs
the way the code runs it (``match``/``fullmatch`` from one position when that is all
the code does with it, else ``finditer`` over every start) on 100,000-character
strings built from the characters the pattern itself mentions: runs of one character,
of two alternating characters, and of its literal prefix followed by a run (the shape
of ``# ekslint: disable=A`` + spaces). A backtracking pattern takes seconds to hours
on these; a linear one a few milliseconds.

The suppression comment and annotation scanners, which are not regular expressions,
get the same treatment."""

from __future__ import annotations

import ast
import importlib
import itertools
import json
import random
import re
import time
from collections import defaultdict
from collections.abc import Iterator
from pathlib import Path

import pytest

from ekslint.engine import suppress
from ekslint.parse.text import Span

try:  # Python 3.11+
    from re import _parser as sre_parse  # type: ignore[attr-defined]
except ImportError:  # pragma: no cover
    import sre_parse  # type: ignore[no-redef]

ROOT = Path(__file__).resolve().parent.parent
N = 100_000
BOUND = 0.5  # seconds per string; a linear pattern takes milliseconds
SCANNING = frozenset(("search", "finditer", "findall", "sub", "subn", "split"))
ANCHORED = frozenset(("match", "fullmatch"))
# Inline patterns built at run time (not literals): the values of the names they are
# built from, so that they are tested too; None: a schema pattern (tested from the schemas).
DYNAMIC: dict[str, dict[str, object] | None] = {
    "src/ekslint/parse/yamlguards.py": {"half": 8},
    "src/ekslint/parse/mime.py": {"name": "boundary"},
    "src/ekslint/validation/schemacheck.py": None,
    # A kustomize patch target's name pattern, used only in a shape that cannot
    # backtrack badly (kpatch._pattern_matches: no groups, at most two quantifiers).
    "src/ekslint/model/kpatch.py": None,
}


def _modules() -> Iterator[tuple[str, Path]]:
    for path in sorted((ROOT / "src" / "ekslint").rglob("*.py")):
        parts = path.relative_to(ROOT / "src").with_suffix("").parts
        yield ".".join(p for p in parts if p != "__init__"), path
    for path in sorted((ROOT / "rules").glob("*.py")):
        yield "ekslint.rules" + ("" if path.stem == "__init__" else f".{path.stem}"), path


def _is_re_call(node: ast.AST, names: frozenset[str]) -> str | None:
    if (
        isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and isinstance(node.func.value, ast.Name)
        and node.func.value.id == "re"
        and node.func.attr in names
    ):
        return node.func.attr
    return None


def _flags(call: ast.Call, position: int) -> int:
    node = call.args[position] if len(call.args) > position else None
    for keyword in call.keywords:
        if keyword.arg == "flags":
            node = keyword.value
    return int(eval(compile(ast.Expression(node), "<flags>", "eval"), {"re": re})) if node is not None else 0


def discover() -> tuple[dict[str, tuple[re.Pattern[str], set[str]]], list[str]]:
    """{where: (compiled pattern, methods the code calls on it)}, and the inline
    patterns that are not literals (must be in DYNAMIC)."""
    compiled: dict[str, re.Pattern[str]] = {}
    by_name: dict[str, list[str]] = defaultdict(list)
    uses: dict[str, set[str]] = defaultdict(set)
    inline: dict[str, tuple[re.Pattern[str], set[str]]] = {}
    dynamic: list[str] = []
    for module_name, path in _modules():
        tree = ast.parse(path.read_text("utf-8"))
        relative = path.relative_to(ROOT).as_posix()
        for statement in tree.body:
            if isinstance(statement, ast.Assign) and _is_re_call(statement.value, frozenset(("compile",))):
                module = importlib.import_module(module_name)
                for target in statement.targets:
                    if isinstance(target, ast.Name):
                        where = f"{relative}:{target.id}"
                        compiled[where] = getattr(module, target.id)
                        by_name[target.id].append(where)
        for node in ast.walk(tree):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
                owner = node.func.value
                name = (
                    owner.id if isinstance(owner, ast.Name) else owner.attr if isinstance(owner, ast.Attribute) else ""
                )
                if name:
                    uses[name].add(node.func.attr)
            method = _is_re_call(node, SCANNING | ANCHORED)
            if method is None:
                continue
            assert isinstance(node, ast.Call)
            argument = node.args[0]
            if isinstance(argument, ast.Constant) and isinstance(argument.value, str):
                position = 3 if method in ("sub", "subn") else 2
                pattern = re.compile(argument.value, _flags(node, position))
                inline[f"{relative}:{node.lineno}"] = (pattern, {method})
            elif DYNAMIC.get(relative) is not None:
                namespace = {"str": str, **DYNAMIC[relative]}  # type: ignore[dict-item]
                source = eval(compile(ast.Expression(argument), relative, "eval"), namespace)
                position = 3 if method in ("sub", "subn") else 2
                inline[f"{relative}:{node.lineno}"] = (re.compile(source, _flags(node, position)), {method})
            elif relative not in DYNAMIC:
                dynamic.append(f"{relative}:{node.lineno}")
    found = {where: (pattern, uses[where.rsplit(":", 1)[1]] or set(SCANNING)) for where, pattern in compiled.items()}
    found.update(inline)
    for path in sorted((ROOT / "schemas").glob("*.json")):
        for index, pattern in enumerate(_schema_patterns(json.loads(path.read_text("utf-8")))):
            found[f"schemas/{path.name}#{index}"] = (re.compile(pattern), {"search"})
    return found, dynamic


def _schema_patterns(node: object) -> Iterator[str]:
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "pattern" and isinstance(value, str):
                yield value
            elif key == "patternProperties" and isinstance(value, dict):
                yield from value
            yield from _schema_patterns(value)
    elif isinstance(node, list):
        for item in node:
            yield from _schema_patterns(item)


def _characters(pattern: re.Pattern[str]) -> list[str]:
    """Characters the pattern mentions: literals, ends and middles of ranges, one of
    each category."""
    found: set[str] = {" ", "\n", "\t", "a", "A", "0", "!", "-", "_", ".", ":", '"', "\\"}
    categories = {"CATEGORY_DIGIT": "7", "CATEGORY_SPACE": " ", "CATEGORY_WORD": "w", "CATEGORY_LINEBREAK": "\n"}

    def visit(items: object) -> None:
        for op, argument in items:  # type: ignore[attr-defined]
            name = str(op)
            if name in {"LITERAL", "NOT_LITERAL"}:
                found.add(chr(argument))
            elif name == "RANGE":
                lo, hi = argument
                found.update((chr(lo), chr(hi), chr((lo + hi) // 2)))
            elif name == "CATEGORY":
                found.add(categories.get(str(argument), "a"))
            elif name == "IN":
                visit(argument)
            elif name in ("MAX_REPEAT", "MIN_REPEAT", "POSSESSIVE_REPEAT"):
                visit(argument[2])
            elif name == "SUBPATTERN":
                visit(argument[-1])
            elif name == "BRANCH":
                for branch in argument[1]:
                    visit(branch)
            elif name in ("ASSERT", "ASSERT_NOT"):
                visit(argument[1])

    visit(sre_parse.parse(pattern.pattern, pattern.flags))
    return sorted(c for c in found if c.isprintable() or c in "\n\t")


def _prefixes(pattern: re.Pattern[str]) -> list[str]:
    """Strings that get a match attempt past its start: the literal characters the
    pattern begins with, and the first alternative of each leading branch."""
    prefixes = [""]
    text = ""
    for op, argument in sre_parse.parse(pattern.pattern, pattern.flags):
        if str(op) == "LITERAL":
            text += chr(argument)
            continue
        if str(op) == "SUBPATTERN":
            inner = argument[-1]
            literal = "".join(chr(a) for o, a in inner if str(o) == "LITERAL")
            if len(literal) == len(inner):
                text += literal
                continue
        break
    if text:
        prefixes.append(text)
    return prefixes


def adversarial(pattern: re.Pattern[str], pairs: int = 24) -> Iterator[str]:
    characters = _characters(pattern)
    for c in characters:
        yield c * N
    rng = random.Random(pattern.pattern)
    combinations = list(itertools.combinations(characters, 2))
    for a, b in rng.sample(combinations, min(pairs, len(combinations))):
        yield (a + b) * (N // 2)
    for prefix in _prefixes(pattern):
        if not prefix:
            continue
        for c in (" ", "\t", "\n", "a", "0", "-", ",", ".", '"', "\\"):
            yield (prefix + c * (N // 2))[:N] + "!"
            yield (prefix + c) * (N // (len(prefix) + 1))


def _run(pattern: re.Pattern[str], methods: set[str], value: str) -> None:
    if methods & SCANNING:
        for _ in pattern.finditer(value):
            pass
    if "match" in methods:
        pattern.match(value)
    if "fullmatch" in methods:
        pattern.fullmatch(value)


PATTERNS, DYNAMIC_FOUND = discover()


def test_every_pattern_is_found() -> None:
    # The discovery sees the patterns it must (a regression would silently test nothing).
    names = {where.split(":")[-1] for where in PATTERNS}
    assert {"_HEADER", "_INT_LITERAL", "_MANIFEST_HINT", "_TAINT"} <= names
    assert len(PATTERNS) >= 40
    assert not DYNAMIC_FOUND, (
        f"patterns built at run time: make them constants, or list them in DYNAMIC: {DYNAMIC_FOUND}"
    )


@pytest.mark.parametrize("where", sorted(PATTERNS))
def test_pattern_is_linear_on_adversarial_input(where: str) -> None:
    pattern, methods = PATTERNS[where]
    for value in adversarial(pattern):
        start = time.perf_counter()
        _run(pattern, methods, value)
        elapsed = time.perf_counter() - start
        assert elapsed < BOUND, f"{where} {pattern.pattern!r} took {elapsed:.2f} s on {value[:40]!r}... ({len(value)})"


SUPPRESSION_LINES = [
    "# ekslint: disable=A" + " " * N + "x",
    "# ekslint: disable=A" + "\t" * N,
    "#ekslint:disable=A " * (N // 19),
    "# ekslint: disable=" + "A, " * (N // 3) + "!",
    "# ekslint: disable=A --" + " " * N,
    "#" * N,
    "# ekslint:" * (N // 10),
    "# " + " " * N + "ekslint:",
    "x: '#ekslint: disable=' # ekslint: disable-file" + "=" * N,
]
ANNOTATIONS = [
    "A" + " " * N + "!",
    " " * N,
    "A, " * (N // 3) + "!",
    "EKS402:" + " " * N,
    ",," * (N // 2),
]


@pytest.mark.parametrize("index", range(len(SUPPRESSION_LINES)))
def test_suppression_comment_scanner_is_linear(index: int) -> None:
    line = SUPPRESSION_LINES[index]
    start = time.perf_counter()
    suppress.scan(line, "f.yaml")
    suppress.scan("\n".join([line[:200]] * (N // 200)), "f.yaml")
    assert time.perf_counter() - start < BOUND


@pytest.mark.parametrize("index", range(len(ANNOTATIONS)))
def test_annotation_scanner_is_linear(index: int) -> None:
    start = time.perf_counter()
    suppress.add_annotation(suppress.FileSuppressions(), "Deployment/x", ANNOTATIONS[index], Span("f", 1, 1, 1, 1))
    assert time.perf_counter() - start < BOUND


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("x: 1 # ekslint: disable=EKS402 -- old", (5, "line", ("EKS402",), "old")),
        ("#ekslint:disable-file=EKS1,eks2", (0, "file", ("EKS1", "EKS2"), "")),
        ("a: '#' # ekslint: disable = A  ", (7, "line", ("A",), "")),
        ("# ekslint: disable=", None),
        ("# ekslint: disable=A!", None),
        ("# ekslint: disable=A-B", None),
        ("# ekslint: enable=A", None),
    ],
)
def test_directive_grammar(line: str, expected: object) -> None:
    assert suppress.parse_directive(line) == expected


@pytest.mark.parametrize(
    ("value", "codes", "reason"),
    [
        ("EKS402: runs on dedicated nodes", ("EKS402",), "runs on dedicated nodes"),
        (" eks4 , EKS101 ", ("EKS4", "EKS101"), ""),
        ("all: legacy: yes", ("ALL",), "legacy: yes"),
    ],
)
def test_annotation_grammar(value: str, codes: tuple[str, ...], reason: str) -> None:
    result = suppress.FileSuppressions()
    assert suppress.add_annotation(result, "t", value, Span("f", 1, 1, 1, 1))
    assert result.objects["t"][0].codes == codes
    assert result.objects["t"][0].reason == reason


@pytest.mark.parametrize("value", ["", "  ", ": reason", "EKS402 !", ","])
def test_malformed_annotation(value: str) -> None:
    assert not suppress.add_annotation(suppress.FileSuppressions(), "t", value, Span("f", 1, 1, 1, 1))


@pytest.mark.parametrize(
    "content",
    [
        "allowedUnsafeSysctls=[" * (N // 22),
        "allowedUnsafeSysctls=[" * (N // 22) + "]",
        'allowedUnsafeSysctls=["a"' + " allowedUnsafeSysctls:[" * (N // 23) + "]",
        "allowedUnsafeSysctls" + " " * N,
        "allowed-unsafe-sysctls=" * (N // 23),
    ],
)
def test_a_pattern_matched_at_each_occurrence_stays_linear(content: str) -> None:
    """A pattern is linear on one string, but matched again at every mention of a key it
    rescanned to the end each time (12 s on 176 KB of ``allowedUnsafeSysctls=[``)."""
    from ekslint.model.nodegroup import allowances_in_script_edit
    from ekslint.parse.text import Text

    start = time.perf_counter()
    allowances_in_script_edit(Text.whole_file("userdata.sh", content), "userdata", [])
    assert time.perf_counter() - start < BOUND
