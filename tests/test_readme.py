"""What a new user follows works as written: the README's quick start prints what its
output block shows, the test command's dependencies cannot drift, the version has one
source, and no document names a release tag that does not exist."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

from ekslint import __version__
from tests.conftest import REPO

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

README = (REPO / "README.md").read_text("utf-8")
ELIDED = " (...)"  # a line of the README's output block cut short


def section(title: str) -> str:
    start = README.index(f"\n## {title}\n")
    end = README.find("\n## ", start + 1)
    return README[start:end]


def blocks(text: str, language: str) -> list[str]:
    return re.findall(rf"```{language}\n(.*?)```", text, flags=re.DOTALL)


def test_the_quick_start_prints_what_the_readme_shows(tmp_path: Path) -> None:
    quick = section("Quick start")
    command = blocks(quick, "sh")[0]  # then the test command
    ekslint_args = command.strip().split("&& .venv/bin/ekslint ")[1].split()
    assert ekslint_args == ["examples/broken"]
    (shown,) = blocks(quick, "text")
    env = {**os.environ, "EKSLINT_NO_CACHE": "1", "NO_COLOR": "1"}
    proc = subprocess.run(
        [sys.executable, "-m", "ekslint", *ekslint_args], cwd=REPO, env=env, capture_output=True, text=True, check=False
    )
    assert proc.returncode == 1 and "exits 1" in quick, proc.stderr
    assert proc.stderr == ""
    real, expected = proc.stdout.splitlines(), shown.splitlines()
    assert len(real) == len(expected), proc.stdout
    for got, want in zip(real, expected, strict=True):
        if want.endswith(ELIDED):
            assert got.startswith(want.removesuffix(ELIDED)) and len(got) > len(want) - len(ELIDED), (got, want)
        else:
            assert got == want


def test_the_clean_example_exits_0() -> None:
    env = {**os.environ, "EKSLINT_NO_CACHE": "1"}
    proc = subprocess.run(
        [sys.executable, "-m", "ekslint", "examples/clean"], cwd=REPO, env=env, capture_output=True, check=False
    )
    assert proc.returncode == 0 and "`ekslint\nexamples/clean` exits 0" in README


def test_test_dependencies_are_pinned() -> None:
    # The README's test command installs '.[test]': a new upstream release must not
    # change what the tests see (issue 16: moto 5.2.6 broke a fresh machine).
    project = tomllib.loads((REPO / "pyproject.toml").read_text("utf-8"))["project"]
    assert ".venv/bin/pip install -q '.[test]' && .venv/bin/pytest" in README
    for requirement in project["optional-dependencies"]["test"]:
        assert "==" in requirement or "<" in requirement, f"{requirement} is neither pinned nor bounded"


# -- releases ---------------------------------------------------------------------------


def changelog_versions() -> dict[str, str]:
    """Version -> its date, or "unreleased"."""
    text = (REPO / "CHANGELOG.md").read_text("utf-8")
    return dict(re.findall(r"^## (\d+\.\d+\.\d+) — (\d{4}-\d{2}-\d{2}|unreleased)$", text, flags=re.MULTILINE))


def test_the_version_has_one_source() -> None:
    pyproject = tomllib.loads((REPO / "pyproject.toml").read_text("utf-8"))
    assert "version" not in pyproject["project"] and pyproject["project"]["dynamic"] == ["version"]
    assert pyproject["tool"]["setuptools"]["dynamic"]["version"] == {"attr": "ekslint.__version__"}
    versions = changelog_versions()
    assert next(iter(versions)) == __version__, "the newest CHANGELOG.md section is the package's version"


def test_documents_name_only_released_tags() -> None:
    released = {f"v{version}" for version, date in changelog_versions().items() if date != "unreleased"}
    documents = [REPO / "README.md", REPO / "action.yml", *sorted((REPO / "docs").glob("*.md"))]
    pattern = re.compile(r"(?:@|rev:\s*)(v\d+\.\d+\.\d+)\b")
    for document in documents:
        for tag in pattern.findall(document.read_text("utf-8")):
            assert tag in released, f"{document.name} names {tag}, which CHANGELOG.md does not list as released"


def test_the_release_procedure_is_documented() -> None:
    text = (REPO / "docs" / "releasing.md").read_text("utf-8")
    for step in ("git tag -a v", "python -m build", "twine check", "twine upload", "src/ekslint/__init__.py"):
        assert step in text, step
