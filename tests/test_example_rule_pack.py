"""The example rule pack (examples/rule-pack) works as a real third-party package: built
and installed with pip into a fresh environment beside ekslint, its rules fire through
the installed ``ekslint`` command, are listed and explained, and link to the pack's own
documentation in every output; its own tests pass there too.

The public surface and the help URL are tested in-process in test_plugin_api.py."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import venv
from pathlib import Path
from typing import Any

import pytest

from ekslint.engine.rule import DOCS_BASE_URL
from tests.conftest import REPO

PACK = REPO / "examples" / "rule-pack"
PACK_DOCS = "https://github.com/acme/ekslint-acme-rules/blob/main/docs/"
# What the pack's rules report on its example/bad folder: (rule, file, line, column).
EXPECTED = [
    ("ACME002", "example/bad/checkout.yaml", 8, 3),
    ("ACME002", "example/bad/checkout.yaml", 25, 3),
    ("ACME001", "example/bad/cluster.yaml", 20, 5),
    ("ACME001", "example/bad/cluster.yaml", 29, 5),
    ("ACME003", "example/bad/edge.yaml", 16, 7),
]


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A fresh virtual environment with ekslint (from this checkout) and the pack
    installed as pip installs any package: built, not editable. The pack is copied
    first so that building and testing it leaves nothing in the checkout. Returns the
    environment and the copy of the pack (the working directory of the runs)."""
    root = tmp_path_factory.mktemp("rule-pack")
    pack = root / "rule-pack"
    shutil.copytree(PACK, pack, ignore=shutil.ignore_patterns("build", "*.egg-info", "__pycache__", ".*"))
    env_dir = root / "venv"
    venv.create(env_dir, with_pip=True)
    python = env_dir / "bin" / "python"
    # One resolve for both: the pack's dependency on ekslint is met by this checkout.
    # pytest, pinned as in ekslint's own test extra, runs the pack's tests.
    subprocess.run(
        [
            str(python),
            "-m",
            "pip",
            "install",
            "--quiet",
            "--disable-pip-version-check",
            str(REPO),
            f"{pack}[test]",
            f"pytest=={pytest.__version__}",
        ],
        check=True,
        capture_output=True,
        timeout=600,
    )
    return env_dir, pack


def run(installed: tuple[Path, Path], *args: str, program: str = "ekslint") -> subprocess.CompletedProcess[str]:
    env_dir, pack = installed
    environment = {**os.environ, "EKSLINT_NO_CACHE": "1"}
    environment.pop("PYTHONPATH", None)  # the installed packages only, never this checkout
    return subprocess.run(
        [str(env_dir / "bin" / program), *args],
        cwd=pack,
        env=environment,
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
    )


@pytest.mark.slow
def test_the_pack_rules_fire_where_the_offending_key_is(installed: tuple[Path, Path]) -> None:
    proc = run(installed, "--format", "json", "example/bad")
    assert proc.returncode == 1, proc.stderr
    report = json.loads(proc.stdout)
    found = [(f["rule"], f["file"], f["line"], f["column"]) for f in report["findings"] if f["rule"].startswith("ACME")]
    assert found == EXPECTED
    carts = next(f for f in report["findings"] if f["rule"] == "ACME002" and "carts" in f["message"])
    assert carts["related"] and carts["related"][0]["message"] == "HorizontalPodAutoscaler carts: minReplicas 2"

    text = run(installed, "--select", "ACME", "example/bad/edge.yaml")
    assert (
        "example/bad/edge.yaml:16:7: ACME003 [error] DaemonSet/edge/edge-proxy runs on the host network" in text.stdout
    )


@pytest.mark.slow
def test_the_pack_rules_stay_quiet_on_the_good_cases(installed: tuple[Path, Path]) -> None:
    proc = run(installed, "--format", "json", "--include-suppressed", "example/good")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    findings = json.loads(proc.stdout)["findings"]
    # The one reviewed exception is suppressed with its reason, as for ekslint's rules.
    assert [(f["rule"], f["line"], f["suppressed"]["reason"]) for f in findings] == [
        ("ACME003", 37, "reads the node's network statistics (reviewed in SEC-1042)")
    ]
    unused = run(installed, "--format", "json", "--report-unused-suppressions", "example/good")
    assert json.loads(unused.stdout)["findings"] == [], unused.stdout  # the suppression is used


@pytest.mark.slow
def test_list_rules_shows_the_pack_with_its_docs(installed: tuple[Path, Path]) -> None:
    text = run(installed, "--list-rules")
    assert text.returncode == 0, text.stderr
    rows = [line.split() for line in text.stdout.splitlines()]
    assert rows[1][:3] == ["ACME001", "node-group-without-team-label", "warning"]  # sorted by ID: before EKS
    assert any(row[:3] == ["ACME003", "host-network-outside-kube-system", "error"] for row in rows)

    listed = {r["id"]: r for r in json.loads(run(installed, "--list-rules", "--format", "json").stdout)}
    for rule_id in ("ACME001", "ACME002", "ACME003"):
        assert listed[rule_id]["plugin"] == "ACME"
        assert listed[rule_id]["docs"] == f"{PACK_DOCS}{rule_id}.md"
    assert listed["ACME002"]["scope"] == "project"
    assert listed["EKS101"]["plugin"] == "EKS"
    assert listed["EKS101"]["docs"] == f"{DOCS_BASE_URL}EKS101.md"
    assert listed["EKS004"]["docs"] == f"{DOCS_BASE_URL}EKS004.md"  # an engine diagnostic


@pytest.mark.slow
def test_explain_shows_the_pack_rule_docs(installed: tuple[Path, Path]) -> None:
    proc = run(installed, "--explain", "ACME001")
    assert proc.returncode == 0, proc.stderr
    out = proc.stdout
    assert out.startswith("ACME001 node-group-without-team-label (warning)\nAn eksctl node group has no `team` label\n")
    for section in ("What it does", "Why is this bad?", "Example", "Use instead", "References"):
        assert f"\n{section}\n{'-' * len(section)}\n" in out
    assert out.rstrip().endswith(f"Documentation: {PACK_DOCS}ACME001.md")
    assert run(installed, "--explain", "host-network-outside-kube-system").stdout.startswith("ACME003 ")


@pytest.mark.slow
def test_sarif_links_each_rule_to_its_own_docs(installed: tuple[Path, Path]) -> None:
    proc = run(installed, "-f", "sarif", "example/bad")
    assert proc.returncode == 1, proc.stderr
    run_ = json.loads(proc.stdout)["runs"][0]
    rules: dict[str, Any] = {r["id"]: r for r in run_["tool"]["driver"]["rules"]}
    for rule_id in ("ACME001", "ACME002", "ACME003"):
        assert rules[rule_id]["helpUri"] == f"{PACK_DOCS}{rule_id}.md"
        assert rules[rule_id]["help"]["markdown"].endswith(f"[Documentation for {rule_id}]({PACK_DOCS}{rule_id}.md)")
    assert rules["EKS401"]["helpUri"] == f"{DOCS_BASE_URL}EKS401.md"
    assert rules["ACME003"]["properties"]["security-severity"] == "7.0"
    located = [
        (
            r["ruleId"],
            r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"],
            r["locations"][0]["physicalLocation"]["region"]["startLine"],
            r["locations"][0]["physicalLocation"]["region"]["startColumn"],
        )
        for r in run_["results"]
        if r["ruleId"].startswith("ACME")
    ]
    assert located == EXPECTED


@pytest.mark.slow
def test_the_pack_own_tests_pass_where_it_is_installed(installed: tuple[Path, Path]) -> None:
    proc = run(installed, "-m", "pytest", "-q", "-p", "no:cacheprovider", program="python")
    assert proc.returncode == 0, proc.stdout + proc.stderr


@pytest.mark.slow
def test_ekslint_runs_the_installed_pack_not_the_checkout(installed: tuple[Path, Path]) -> None:
    proc = run(
        installed,
        "-c",
        "import acme_ekslint, ekslint; print(acme_ekslint.__file__, ekslint.__file__)",
        program="python",
    )
    assert proc.returncode == 0, proc.stderr
    pack_file, ekslint_file = proc.stdout.split()
    assert "site-packages" in pack_file and "site-packages" in ekslint_file
