"""The public API of rule packs: ``ekslint.plugin`` is the whole surface, and a
rule's documentation link is its own (``help_uri``), ekslint's for ekslint's rules,
or none."""

from __future__ import annotations

import ast
import json
from pathlib import Path

import pytest

import ekslint.plugin
from ekslint import config
from ekslint.engine import plugins
from ekslint.engine.diagnostics import RuleCrashed
from ekslint.engine.hookspecs import ReportOptions
from ekslint.engine.plugins import PluginError
from ekslint.engine.rule import DOCS_BASE_URL
from ekslint.engine.runner import RunResult
from ekslint.plugin import FileRule, ProjectRule
from ekslint.report.ruledocs import explain, list_rules
from ekslint.report.sarif import SarifFormatter
from tests.conftest import REPO, plugin, rule_class

# -- the public surface ----------------------------------------------------------------


def test_ekslint_plugin_exports_exactly_what_it_imports() -> None:
    """``ekslint.plugin`` is the whole API of a rule pack: every name it imports is
    listed in ``__all__`` (once, in ruff's isort-style order), and every listed name is there."""
    source = Path(ekslint.plugin.__file__).read_text(encoding="utf-8")
    imported = {
        alias.asname or alias.name
        for node in ast.parse(source).body
        if isinstance(node, ast.ImportFrom)
        for alias in node.names
    }
    assert sorted(ekslint.plugin.__all__) == sorted(imported)
    assert {"FileModel", "Project", "NodeGroup", "Cluster", "Origin", "Workload", "PodSpec"} <= imported
    assert {"PodDisruptionBudget", "Span", "Rule", "FileRule", "ProjectRule", "Violation", "hookimpl"} <= imported
    for name in ekslint.plugin.__all__:
        assert getattr(ekslint.plugin, name) is not None


def test_the_example_pack_imports_nothing_from_ekslint_but_the_public_api() -> None:
    """So that ekslint can move its internals without breaking it (a pack is written
    against ekslint.plugin only)."""
    pack = REPO / "examples" / "rule-pack"
    sources = sorted((pack / "src").rglob("*.py")) + sorted((pack / "tests").rglob("*.py"))
    assert sources
    for source in sources:
        modules = set()
        for node in ast.walk(ast.parse(source.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and node.module:
                modules.add(node.module)
            elif isinstance(node, ast.Import):
                modules.update(alias.name for alias in node.names)
        from_ekslint = {m for m in modules if m == "ekslint" or m.startswith("ekslint.")}
        assert from_ekslint <= {"ekslint.plugin"}, (source.name, from_ekslint)


# -- the help URL, in-process -------------------------------------------------------------


def _check(self: object, target: object, ctx: object) -> list[object]:
    return []


def test_help_url_is_the_rule_own_page_ekslint_docs_or_none() -> None:
    documented = rule_class(FileRule, "ACME101", "documented", _check)
    documented.help_uri = "https://example.com/rules/ACME101"
    undocumented = rule_class(ProjectRule, "ACME102", "undocumented", _check)
    registry = plugins.load([("ACME", plugin(documented, undocumented))])

    assert registry.rules["ACME101"].help_url() == "https://example.com/rules/ACME101"
    assert registry.rules["ACME102"].help_url() is None  # never ekslint's docs for a rule ekslint does not document
    assert registry.rules["EKS101"].help_url() == f"{DOCS_BASE_URL}EKS101.md"
    assert RuleCrashed.help_url() == f"{DOCS_BASE_URL}EKS004.md"


def test_reports_link_to_the_help_url_and_omit_a_missing_one() -> None:
    documented = rule_class(FileRule, "ACME101", "documented", _check)
    documented.help_uri = "https://example.com/rules/ACME101"
    undocumented = rule_class(FileRule, "ACME102", "undocumented", _check)
    registry = plugins.load([("ACME", plugin(documented, undocumented))])
    settings = config.Settings()

    listed = {r["id"]: r for r in json.loads(list_rules(registry, settings, "json"))}
    assert listed["ACME101"]["docs"] == "https://example.com/rules/ACME101"
    assert listed["ACME102"]["docs"] is None

    assert explain(registry, "ACME101")[0].rstrip().endswith("Documentation: https://example.com/rules/ACME101")
    assert "Documentation:" not in explain(registry, "ACME102")[0]

    sarif = json.loads(SarifFormatter().render(RunResult(), registry, settings, ReportOptions()))
    rules = {r["id"]: r for r in sarif["runs"][0]["tool"]["driver"]["rules"]}
    assert rules["ACME101"]["helpUri"] == "https://example.com/rules/ACME101"
    assert "helpUri" not in rules["ACME102"]
    assert "Documentation for" not in rules["ACME102"]["help"]["markdown"]
    assert rules["EKS101"]["helpUri"] == f"{DOCS_BASE_URL}EKS101.md"


@pytest.mark.parametrize("bad", ["docs/ACME101.md", "ftp://example.com/ACME101", 42])
def test_a_help_uri_must_be_an_absolute_web_url(bad: object) -> None:
    rule = rule_class(FileRule, "ACME101", "documented", _check)
    rule.help_uri = bad  # type: ignore[assignment]
    with pytest.raises(PluginError, match="help_uri must be an absolute http"):
        plugins.load([("ACME", plugin(rule))])


def test_a_plugin_output_format_is_registered_and_rendered(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Formats come through the same hook as ekslint's own: ``ekslint.report`` is
    registered by its entry point, a plugin's format beside it."""
    import types

    from ekslint import cli
    from ekslint.plugin import Formatter, hookimpl

    class CsvFormatter(Formatter):
        name = "csv"
        description = "one line per finding"

        def render(self, result, registry, settings, options) -> str:  # type: ignore[no-untyped-def]
            return "".join(f"{f.span.file},{f.span.line},{f.rule_id}\n" for f in result.findings)

    @hookimpl
    def ekslint_formatters() -> dict[str, type[Formatter]]:
        return {CsvFormatter.name: CsvFormatter}

    pack = types.SimpleNamespace(ekslint_formatters=ekslint_formatters)
    registry = plugins.load([("CSV", pack)])
    assert {"text", "json", "sarif", "github", "junit", "csv"} <= set(registry.formatters)

    (tmp_path / "pdb.yaml").write_text(
        "apiVersion: policy/v1\nkind: PodDisruptionBudget\nmetadata: {name: web}\n"
        "spec: {maxUnavailable: 0, selector: {matchLabels: {app: web}}}\n",
        "utf-8",
    )
    monkeypatch.setattr(plugins, "load", lambda *args, **kwargs: registry)
    code = cli.main(["--isolated", "--no-cache", "-f", "csv", str(tmp_path / "pdb.yaml")])
    assert code == 1
    assert capsys.readouterr().out == f"{tmp_path / 'pdb.yaml'},4,EKS401\n"
