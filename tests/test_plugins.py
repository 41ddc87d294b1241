"""The plugin engine: built-in rules come through the entry point like any rule pack,
prefixes are owned, and a crashing rule is isolated."""

from __future__ import annotations

import importlib
import sys
from collections.abc import Iterator
from importlib.metadata import entry_points
from pathlib import Path

import pytest

from ekslint import cli
from ekslint.engine import plugins
from ekslint.model.filemodel import FileModel
from ekslint.plugin import FileRule, ProjectRule, RuleContext, Severity, Violation
from tests.conftest import chdir, plugin, rule_class, write


def make_rule(rule_id: str, name: str, crash: bool = False) -> type[FileRule]:
    def check(self: FileRule, target: FileModel, ctx: RuleContext) -> Iterator[Violation]:
        if crash:
            raise ZeroDivisionError("boom")
        for workload in target.workloads:
            yield Violation(workload.span, f"{workload.name} seen; remove it")

    return rule_class(FileRule, rule_id, name, check)


def test_builtin_rules_are_an_entry_point_plugin() -> None:
    (entry,) = [e for e in entry_points(group="ekslint") if e.name == "EKS"]
    assert entry.value == "ekslint.rules"
    registry = plugins.load()
    assert {rid for rid, owner in registry.owners.items() if owner == "EKS"} >= {
        "EKS001",
        "EKS101",
        "EKS201",
        "EKS203",
        "EKS401",
        "EKS402",
    }
    assert registry.owners["EKS004"] == "ekslint"  # the engine's own diagnostic
    assert set(registry.formatters) >= {"text", "json", "sarif"}


def test_third_party_rules_are_loaded_with_their_prefix() -> None:
    registry = plugins.load([("ACME", plugin(make_rule("ACME001", "acme-rule")))])
    assert registry.owners["ACME001"] == "ACME"


@pytest.mark.parametrize(
    ("prefix", "rules", "message"),
    [
        ("ACME", [make_rule("EKS901", "sneaky")], "outside the plugin's prefix"),
        ("ACME", [make_rule("ACME001", "a"), make_rule("ACME001", "b")], "defined twice"),
        ("EKS", [make_rule("EKS101", "dup")], "registered twice"),
        ("ACME", [make_rule("ACME1", "short-id")], "rule IDs look like"),
        ("ACME", [make_rule("ACME002", "Not_Kebab")], "not kebab-case"),
        (
            "ACME",
            [
                type(
                    "NoDocs",
                    (ProjectRule,),
                    {"id": "ACME003", "name": "no-docs", "severity": Severity.NOTE, "summary": "x"},
                )
            ],
            "lacks a '## What it does'",
        ),
        ("ACME", [object], "not a Rule subclass"),
    ],
)
def test_bad_rule_packs_are_refused(prefix: str, rules: list[type], message: str) -> None:
    with pytest.raises(plugins.PluginError, match=message):
        plugins.load([(prefix, plugin(*rules))])


def test_a_crashing_rule_is_reported_and_the_others_still_run(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    load = plugins.load
    extra = plugin(make_rule("ACME001", "crashes", crash=True), make_rule("ACME002", "works"))
    monkeypatch.setattr(plugins, "load", lambda: load([("ACME", extra)]))
    write(
        tmp_path,
        {
            "d.yaml": "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\nspec:\n  template:\n    spec:\n      tolerations:\n        - operator: Exists\n"
        },
    )
    with chdir(tmp_path):
        code = cli.main(["--format", "text"])
    out, err = capsys.readouterr()
    assert code == 2
    assert "d.yaml:1:1: EKS004 [error] rule ACME001 (crashes) failed on this input: ZeroDivisionError: boom" in out
    assert "ACME002 [warning] web seen" in out and "EKS402 [warning]" in out
    assert "Traceback" not in out + err


def test_the_fast_entry_point_scan_agrees_with_importlib_metadata() -> None:
    from ekslint.engine import entrypoints

    for group in ("ekslint", "console_scripts", "pytest11"):
        fast = entrypoints._scan(group)
        assert fast is not None  # this venv is the plain kind: dist-info folders on sys.path
        expected = {(e.name, e.value) for e in entry_points(group=group)}
        assert {(e.name, e.value) for e in fast} == expected


def test_entry_points_of_a_path_the_scan_reads(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from ekslint.engine import entrypoints

    first, second = tmp_path / "a", tmp_path / "b"
    for root, value in ((first, "acme_rules:plugin"), (second, "old_acme:plugin")):
        info = root / "Acme_Rules-1.0.dist-info"
        info.mkdir(parents=True)
        (info / "entry_points.txt").write_text(
            f"; a comment\n[console_scripts]\nacme = acme:main\n\n[ekslint]\nACME = {value} [extra]\n"
        )
    (first / "other-2.0.egg-info").mkdir()  # no entry_points.txt: no entries
    monkeypatch.setattr(sys, "path", [str(first), str(second), str(tmp_path / "missing")])
    # the first distribution of a name on sys.path wins, as in importlib.metadata
    assert entrypoints.entry_points("ekslint") == [entrypoints.EntryPoint("ACME", "acme_rules:plugin [extra]")]
    (first / "acme_rules.py").write_text("class plugin:\n    pass\n")
    importlib.invalidate_caches()
    monkeypatch.delitem(sys.modules, "acme_rules", raising=False)
    loaded = entrypoints.EntryPoint("ACME", "acme_rules:plugin [extra]").load()
    assert loaded.__name__ == "plugin"


def test_an_egg_or_zip_on_the_path_is_left_to_importlib_metadata(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from ekslint.engine import entrypoints

    (tmp_path / "thing-1.0-py3.egg").mkdir()
    monkeypatch.setattr(sys, "path", [str(tmp_path)])
    assert entrypoints._scan("ekslint") is None
    archive = tmp_path / "bundle.zip"
    archive.write_bytes(b"PK\x05\x06" + b"\0" * 18)
    monkeypatch.setattr(sys, "path", [str(archive)])
    assert entrypoints._scan("ekslint") is None
    assert entrypoints.entry_points("ekslint") == []  # importlib.metadata's answer for that path
