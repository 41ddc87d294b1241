"""Suppressions people can trust: comments, annotations, unused ones reported, a strict
mode, and a baseline keyed by stable fingerprints."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from ekslint import cli
from tests.conftest import chdir, write

DEPLOYMENT = """apiVersion: apps/v1
kind: Deployment
metadata:
  name: {name}
{object_annotations}spec:
  replicas: 2
  template:
    metadata:
{template_annotations}      labels: {{app: {name}}}
    spec:
      tolerations:
        - operator: Exists
      securityContext:
        sysctls:
          - name: net.core.somaxconn
            value: "1024"
"""


def deployment(name: str, on_object: str = "", on_template: str = "") -> str:
    obj = f'  annotations:\n    ekslint.io/ignore: "{on_object}"\n' if on_object else ""
    tpl = f'      annotations:\n        ekslint.io/ignore: "{on_template}"\n' if on_template else ""
    return DEPLOYMENT.format(name=name, object_annotations=obj, template_annotations=tpl)


def lint_json(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, dict]:  # type: ignore[type-arg]
    code = cli.main(["--format", "json", "--fail-on", "warning", *args])
    out, _ = capsys.readouterr()
    return code, json.loads(out) if out.startswith("{") else {}


def test_annotations_on_the_object_or_its_pod_template(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    write(
        tmp_path,
        {
            "a.yaml": deployment("a", on_object="EKS402: runs on dedicated nodes"),
            "b.yaml": deployment("b", on_template="EKS402,EKS101: tuned pool, see ADR-12"),
            "c.yaml": deployment("c"),
        },
    )
    with chdir(tmp_path):
        _, data = lint_json(capsys, "--include-suppressed")
    by_key = {(f["file"], f["rule"]): f["suppressed"] for f in data["findings"]}
    assert by_key[("a.yaml", "EKS402")] == {"kind": "annotation", "line": 6, "reason": "runs on dedicated nodes"}
    assert by_key[("a.yaml", "EKS101")] is None
    assert by_key[("b.yaml", "EKS101")]["reason"] == "tuned pool, see ADR-12"
    assert by_key[("c.yaml", "EKS402")] is None


def test_unused_suppressions_are_reported(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    stale_comment = deployment("a").replace(
        "        - operator: Exists\n",
        "        - key: dedicated  # ekslint: disable=EKS402 -- old\n          operator: Exists\n",
    )
    write(
        tmp_path,
        {
            "a.yaml": stale_comment,
            "b.yaml": deployment("b", on_object="EKS402,EKS203: both"),
        },
    )
    with chdir(tmp_path):
        _, plain = lint_json(capsys)
        _, data = lint_json(capsys, "--report-unused-suppressions")
        _, partial = lint_json(capsys, "--report-unused-suppressions", "--select", "EKS4,EKS005")
    assert not any(f["rule"] == "EKS005" for f in plain["findings"])
    unused = {(f["file"], f["line"]): f["message"] for f in data["findings"] if f["rule"] == "EKS005"}
    assert (
        unused[("a.yaml", 12)].startswith("# ekslint: disable=EKS402 suppresses nothing")
        and "remove it" in unused[("a.yaml", 12)]
    )
    assert "remove EKS203 from it" in unused[("b.yaml", 6)]
    # EKS203 did not run, so its suppression cannot be judged; EKS402 is used in b.yaml.
    assert {(f["file"], f["line"]) for f in partial["findings"] if f["rule"] == "EKS005"} == {("a.yaml", 12)}


def test_disallow_suppressions(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    write(tmp_path, {"a.yaml": deployment("a", on_object="ALL: legacy")})
    with chdir(tmp_path):
        assert lint_json(capsys)[0] == 0
        code, data = lint_json(capsys, "--disallow-suppressions")
    assert code == 1 and {f["rule"] for f in data["findings"]} == {"EKS101", "EKS402"}


def test_baseline_hides_known_findings_and_survives_edits_elsewhere(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    write(tmp_path, {"a.yaml": deployment("a")})
    with chdir(tmp_path):
        assert cli.main(["--write-baseline", "baseline.json"]) == 0
        capsys.readouterr()
        recorded = json.loads(Path("baseline.json").read_text())
        assert {e["rule"] for e in recorded["findings"]} == {"EKS101", "EKS402"}
        # Lines move above the findings: the baseline still matches.
        Path("a.yaml").write_text("# owned by team shop\n# reviewed 2026-11\n" + deployment("a"))
        code, data = lint_json(capsys, "--baseline", "baseline.json")
        assert code == 0 and data["findings"] == []
        # A new problem is not in the baseline.
        Path("b.yaml").write_text(deployment("b"))
        code, data = lint_json(capsys, "--baseline", "baseline.json")
        assert code == 1 and {f["file"] for f in data["findings"]} == {"b.yaml"}
        assert cli.main(["--baseline", "missing.json"]) == 2


def test_github_and_junit_formats(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    write(tmp_path, {"a.yaml": deployment("a")})
    with chdir(tmp_path):
        cli.main(["--format", "github"])
        github, _ = capsys.readouterr()
        cli.main(["--format", "junit"])
        junit, _ = capsys.readouterr()
    lines = github.splitlines()
    assert lines[0].startswith(
        "::warning file=a.yaml,line=12,col=11,endLine=12,endColumn=27,title=EKS402 Deployment/a tolerates every taint"
    )
    assert lines[1].startswith("::error file=a.yaml,line=15,col=13,endLine=15,endColumn=37,title=EKS101 sysctl ")
    from xml.etree import ElementTree as ET

    root = ET.fromstring(junit)
    # The warning fails its test case only when it fails the run (--fail-on warning).
    assert root.get("failures") == "1"
    (suite,) = root.findall("testsuite")
    assert suite.get("name") == "a.yaml" and len(suite.findall("testcase/failure")) == 1


def test_context_reads_more_but_reports_only_the_given_files(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    cluster = (
        "apiVersion: eksctl.io/v1alpha5\nkind: ClusterConfig\nmetadata: {name: c, region: eu-west-1}\n"
        "nodeGroups:\n  - name: tuned\n    kubeletExtraConfig:\n      allowedUnsafeSysctls: [net.core.somaxconn]\n"
    )
    write(tmp_path, {"cluster.yaml": cluster, "a.yaml": deployment("a"), "other/b.yaml": deployment("b")})
    with chdir(tmp_path):
        _, alone = lint_json(capsys, "a.yaml")
        _, with_context = lint_json(capsys, "--context", ".", "a.yaml")
    assert {f["rule"] for f in alone["findings"]} == {"EKS101", "EKS402"}
    assert {(f["file"], f["rule"]) for f in with_context["findings"]} == {("a.yaml", "EKS402")}
    assert with_context["summary"]["files_analysed"] == 1


def test_list_rules_and_explain(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["--list-rules", "--format", "json"]) == 0
    rules = {r["id"]: r for r in json.loads(capsys.readouterr()[0])}
    assert rules["EKS402"]["name"] == "tolerates-all-taints" and rules["EKS402"]["severity"] == "warning"
    assert rules["EKS101"]["docs"].endswith("docs/rules/EKS101.md")
    assert cli.main(["--list-rules"]) == 0
    assert capsys.readouterr()[0].splitlines()[0].split() == ["ID", "name", "severity", "summary"]
    assert cli.main(["--explain", "pdb-blocks-eviction"]) == 0
    text = capsys.readouterr()[0]
    assert text.startswith("EKS401 pdb-blocks-eviction (error)") and "Why is this bad?" in text
    assert cli.main(["--explain", "EKS999"]) == 2
