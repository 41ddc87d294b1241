"""Shared test helpers: run ekslint in-process on a directory and collect findings."""

from __future__ import annotations

import os
import tempfile
import types
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TypeVar

import pytest

from ekslint import config
from ekslint.engine import plugins
from ekslint.engine.runner import Runner, RunRequest, RunResult
from ekslint.plugin import Rule, Severity, hookimpl

REPO = Path(__file__).resolve().parent.parent
# Tests see every file analysed afresh (tests/test_cache_and_jobs.py turns the cache
# on itself), and never the developer's refreshed instance data or cache key.
os.environ.setdefault("EKSLINT_NO_CACHE", "1")
os.environ["XDG_CACHE_HOME"] = tempfile.mkdtemp(prefix="ekslint-tests-")

# The project's shared material (SARIF schema, public configs) sits beside the checkout.
SHARED = Path(os.environ.get("EKSLINT_SHARED", REPO.parent / "shared"))


# A Deployment (``.format(replicas=N)``) and the PDB that selects it: the pre-commit
# scenario where changing replicas in one file breaks the PDB in another.
WEB = """apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  namespace: shop
spec:
  replicas: {replicas}
  selector:
    matchLabels: {{app: web}}
  template:
    metadata:
      labels: {{app: web}}
    spec:
      containers:
        - name: web
          image: nginx:1.27
"""

WEB_PDB = """apiVersion: policy/v1
kind: PodDisruptionBudget
metadata:
  name: web
  namespace: shop
spec:
  minAvailable: 2
  selector:
    matchLabels: {app: web}
"""


# What a plugin rule must document (the registry refuses a rule without it).
TEST_RULE_DOC = """## What it does
Test rule.

## Why is this bad?
Tests.
"""


R = TypeVar("R", bound=Rule)


def rule_class(base: type[R], rule_id: str, name: str, check: Callable[..., object]) -> type[R]:
    """A plugin rule for a test: ``base`` (FileRule or ProjectRule) with ``check``."""
    return type(
        name.title().replace("-", ""),
        (base,),
        {
            "__doc__": TEST_RULE_DOC,
            "id": rule_id,
            "name": name,
            "severity": Severity.WARNING,
            "summary": "test",
            "check": check,
        },
    )


def plugin(*rules: type) -> types.SimpleNamespace:
    """A rule pack registering ``rules``, for ``plugins.load([(prefix, plugin(...))])``."""

    @hookimpl
    def ekslint_rules() -> list[type]:
        return list(rules)

    return types.SimpleNamespace(ekslint_rules=ekslint_rules)


@contextmanager
def chdir(path: Path) -> Iterator[None]:
    previous = Path.cwd()
    os.chdir(path)
    try:
        yield
    finally:
        os.chdir(previous)


@pytest.fixture(scope="session")
def registry() -> plugins.Registry:
    return plugins.load()


def lint(directory: Path, *paths: str, select: list[str] | None = None, **overrides: object) -> RunResult:
    """Lint ``paths`` (default: everything) from inside ``directory``, with the
    config found there, as the CLI would."""
    with chdir(directory):
        found = config.discover(directory)
        settings = config.load(found if found is not None and found.parent == directory.resolve() else None)
        if select is not None:
            settings.select = select
        for key, value in overrides.items():
            setattr(settings, key, value)
        registry = plugins.load()
        return Runner(registry, settings).run(RunRequest(list(paths) or ["."], settings))


def write(root: Path, files: dict[str, str | bytes]) -> Path:
    for name, content in files.items():
        target = root / name
        target.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            target.write_bytes(content)
        else:
            target.write_text(content, encoding="utf-8")
    return root


@pytest.fixture
def private_cache_home(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A user cache directory of the test's own (the cache's signing key lives there)."""
    home = tmp_path_factory.mktemp("xdg-cache")
    monkeypatch.setenv("XDG_CACHE_HOME", str(home))
    return home
