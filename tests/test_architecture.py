"""The layers keep their order: parse ← model ← validation ← config ← engine ← report ←
plugin ← cli, and the rules see only ``ekslint.plugin``.

Every import counts, including those inside functions and under ``TYPE_CHECKING``: a
cycle that only type checkers see still ties two modules together for a reader, and a
lazy import hides a cycle rather than removing it.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import REPO

PACKAGE = REPO / "src" / "ekslint"
MAX_MODULE_LINES = 600

# Lowest first. A module may import modules of its own layer or of a lower one.
LAYERS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("base", ("ekslint", "ekslint.severity", "ekslint.fastpickle", "ekslint.schemas")),
    ("parse", ("ekslint.parse",)),
    ("model", ("ekslint.model",)),
    ("validation", ("ekslint.validation",)),
    ("config", ("ekslint.config",)),
    ("engine", ("ekslint.engine",)),
    ("report", ("ekslint.report",)),
    ("plugin", ("ekslint.plugin",)),
    (
        "cli",
        ("ekslint.cli", "ekslint.capacity_cli", "ekslint.nodes_cli", "ekslint.instance_data", "ekslint.__main__"),
    ),
)


def module_files() -> dict[str, Path]:
    """Every module of the installed package by its dotted name (rules/ and schemas/
    install as ekslint.rules and ekslint.schemas)."""
    found: dict[str, Path] = {}
    roots = ((PACKAGE, "ekslint"), (REPO / "rules", "ekslint.rules"), (REPO / "schemas", "ekslint.schemas"))
    for root, prefix in roots:
        for path in sorted(root.rglob("*.py")):
            parts = list(path.relative_to(root).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts.pop()
            found[".".join([prefix, *parts])] = path
    return found


MODULES = module_files()


def imports_of(name: str, path: Path) -> Iterator[tuple[str, int]]:
    """The ekslint modules ``name`` imports, with the line: ``from a import b`` is an
    import of ``a.b`` when that is a module, else of ``a``."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    for node in ast.walk(ast.parse(path.read_text("utf-8"))):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield alias.name, node.lineno
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.rsplit(".", node.level - 1)[0] if node.level > 1 else package
                base = f"{anchor}.{base}" if base else anchor
            for alias in node.names:
                candidate = f"{base}.{alias.name}"
                yield (candidate if candidate in MODULES else base), node.lineno


def graph() -> dict[str, set[str]]:
    return {
        name: {target for target, _ in imports_of(name, path) if target in MODULES and target != name}
        for name, path in MODULES.items()
    }


def layer_of(module: str) -> int | None:
    best: tuple[int, int] | None = None  # (prefix length, layer)
    for index, (_, prefixes) in enumerate(LAYERS):
        for prefix in prefixes:
            if (module == prefix or module.startswith(prefix + ".")) and (best is None or len(prefix) > best[0]):
                best = (len(prefix), index)
    return None if best is None else best[1]


def cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in sorted(edges.get(node, ())):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(edges):
        if node not in index:
            visit(node)
    return found


def test_every_module_has_a_layer() -> None:
    orphans = [m for m in MODULES if not m.startswith("ekslint.rules") and layer_of(m) is None]
    assert not orphans, f"give these modules a layer in {__file__}: {orphans}"


def test_no_import_cycles() -> None:
    assert cycles(graph()) == []


def test_layers_only_import_downwards() -> None:
    wrong = []
    for name, path in MODULES.items():
        if name.startswith("ekslint.rules"):
            continue
        own = layer_of(name)
        for target, line in imports_of(name, path):
            theirs = layer_of(target) if target in MODULES else None
            if own is not None and theirs is not None and theirs > own:
                wrong.append(
                    f"{path.relative_to(REPO)}:{line}: {LAYERS[own][0]} imports {LAYERS[theirs][0]} ({target})"
                )
    assert not wrong, "\n".join(wrong)


def test_rules_import_only_the_plugin_api() -> None:
    wrong = sorted(
        {
            f"{path.relative_to(REPO)}:{line}: {target}"
            for name, path in MODULES.items()
            if name.startswith("ekslint.rules")
            for target, line in imports_of(name, path)
            if target.startswith("ekslint") and target != "ekslint.plugin"
        }
    )
    assert not wrong, "rules import ekslint only through ekslint.plugin:\n" + "\n".join(wrong)


def test_no_module_is_too_long() -> None:
    long = {
        str(path.relative_to(REPO)): lines
        for path in MODULES.values()
        if (lines := len(path.read_text("utf-8").splitlines())) > MAX_MODULE_LINES
    }
    assert not long, f"split these modules (at most {MAX_MODULE_LINES} lines): {long}"


@pytest.mark.parametrize(
    ("edges", "expected"),
    [
        ({"a": {"b"}, "b": {"a"}, "c": {"a"}}, [["a", "b"]]),
        ({"a": {"b"}, "b": {"c"}, "c": set()}, []),
        ({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"d"}}, [["a", "b", "c"]]),
    ],
)
def test_the_cycle_finder_finds_cycles(edges: dict[str, set[str]], expected: list[list[str]]) -> None:
    assert cycles(edges) == expected


def test_the_import_reader_sees_lazy_and_type_only_imports(tmp_path: Path) -> None:
    source = tmp_path / "mod.py"
    source.write_text(
        "from typing import TYPE_CHECKING\n"
        "if TYPE_CHECKING:\n    from ekslint.engine import rule\n"
        "def f():\n    from ekslint.parse.text import Span\n    import ekslint.config\n",
        "utf-8",
    )
    found = {target for target, _ in imports_of("ekslint.engine.mod", source)}
    assert {"ekslint.engine.rule", "ekslint.parse.text", "ekslint.config"} <= found
