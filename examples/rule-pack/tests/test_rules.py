"""The pack's own tests. They run ekslint's command line, as CI and pre-commit do, on
the cases in example/: the pack must be installed (``pip install -e '.[test]'``) so
that ekslint finds it through its entry point. ``--format json`` is ekslint's stable
report format, so these tests do not depend on ekslint's internals."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from acme_ekslint import RULES
from ekslint.plugin import Rule

PACK = Path(__file__).resolve().parent.parent
# Every finding the pack must report on example/bad: (rule, file, line, column), in
# the order ekslint reports them (by file, line, column).
EXPECTED_BAD = [
    ("ACME002", "example/bad/checkout.yaml", 8, 3),  # replicas: 3, no PDB
    ("ACME002", "example/bad/checkout.yaml", 25, 3),  # HPA minReplicas 2, the PDB selects other pods
    ("ACME001", "example/bad/cluster.yaml", 20, 5),  # batch: no team label
    ("ACME001", "example/bad/cluster.yaml", 29, 5),  # legacy: an empty one
    ("ACME003", "example/bad/edge.yaml", 16, 7),  # hostNetwork in namespace edge
]


def ekslint(*args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "EKSLINT_NO_CACHE": "1"}
    return subprocess.run(
        [sys.executable, "-m", "ekslint", *args], cwd=PACK, env=env, capture_output=True, text=True, check=False
    )


def findings(*args: str) -> list[dict[str, Any]]:
    proc = ekslint("--format", "json", "--select", "ACME", *args)
    assert proc.returncode in (0, 1), proc.stderr
    found: list[dict[str, Any]] = json.loads(proc.stdout)["findings"]
    return found


def test_the_rules_fire_on_the_bad_cases_where_the_offending_key_is() -> None:
    found = [(f["rule"], f["file"], f["line"], f["column"]) for f in findings("example/bad")]
    assert found == EXPECTED_BAD


def test_the_good_cases_are_clean() -> None:
    proc = ekslint("--select", "ACME", "example/good")
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_a_suppression_comment_hides_a_finding_with_its_reason() -> None:
    suppressed = [f for f in findings("--include-suppressed", "example/good") if f["suppressed"]]
    assert [(f["rule"], f["file"], f["line"]) for f in suppressed] == [("ACME003", "example/good/node-agents.yaml", 37)]
    assert "SEC-1042" in suppressed[0]["suppressed"]["reason"]


def test_ekslint_loads_the_pack_under_its_prefix() -> None:
    proc = ekslint("--list-rules", "--format", "json")
    assert proc.returncode == 0, proc.stderr
    listed = {r["id"]: r for r in json.loads(proc.stdout) if r["plugin"] == "ACME"}
    assert sorted(listed) == sorted(rule.id for rule in RULES)
    for rule in RULES:
        assert listed[rule.id]["docs"] == rule.help_uri


@pytest.mark.parametrize("rule", RULES, ids=lambda rule: rule.id)
def test_every_rule_is_documented(rule: type[Rule]) -> None:
    assert rule.help_uri == f"https://github.com/acme/ekslint-acme-rules/blob/main/docs/{rule.id}.md"
    page = (PACK / "docs" / f"{rule.id}.md").read_text(encoding="utf-8")
    assert page.startswith(f"# {rule.id} {rule.name}\n")
    assert rule.docs().markdown() in page  # the page says what --explain and SARIF say
    proc = ekslint("--explain", rule.id)
    assert proc.returncode == 0, proc.stderr
    assert f"Documentation: {rule.help_uri}" in proc.stdout
