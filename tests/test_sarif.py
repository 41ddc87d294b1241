"""SARIF output: valid against the OASIS 2.1.0 schema and shaped the way GitHub code
scanning needs it (ANCHORS.md §10-§11)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from ekslint import cli
from ekslint.report.sarif import to_sarif_json
from tests.conftest import REPO, SHARED, chdir

SCHEMA = SHARED / "sarif" / "sarif-schema-2.1.0.json"


def sarif_of(capsys: pytest.CaptureFixture[str], directory: Path, *args: str) -> dict[str, Any]:
    with chdir(directory):
        cli.main(["--format", "sarif", *args])
    out, _ = capsys.readouterr()
    data: dict[str, Any] = json.loads(out)
    return data


@pytest.fixture(scope="module")
def validator() -> jsonschema.Draft4Validator:
    if not SCHEMA.is_file():
        pytest.skip(f"the OASIS SARIF schema is expected at {SCHEMA}")
    return jsonschema.Draft4Validator(json.loads(SCHEMA.read_text()))


@pytest.mark.parametrize("example", ["broken", "clean"])
def test_schema_valid(capsys: pytest.CaptureFixture[str], validator: jsonschema.Draft4Validator, example: str) -> None:
    log = sarif_of(capsys, REPO / "examples" / example, "--sarif-category", "ekslint/examples")
    errors = [f"{list(e.absolute_path)}: {e.message}" for e in validator.iter_errors(log)]
    assert errors == []


def test_github_shape(capsys: pytest.CaptureFixture[str]) -> None:
    log = sarif_of(capsys, REPO / "examples" / "broken", "--sarif-category", "ekslint/examples")
    assert log["$schema"] == "https://json.schemastore.org/sarif-2.1.0.json" and log["version"] == "2.1.0"
    (run,) = log["runs"]
    driver = run["tool"]["driver"]
    assert driver["name"] == "ekslint" and driver["semanticVersion"]
    rules = {r["id"]: r for r in driver["rules"]}
    for rule in rules.values():
        assert rule["shortDescription"]["text"] and rule["fullDescription"]["text"] and rule["help"]["text"]
        assert "help" in rule and rule["help"]["markdown"].count("## ") >= 2
        assert rule["defaultConfiguration"]["level"] in ("error", "warning", "note")
        assert "\n" not in rule["fullDescription"]["text"].split("\n\n")[0]
    assert run["automationDetails"] == {"id": "ekslint/examples/"}
    assert run["originalUriBaseIds"]["%SRCROOT%"]["uri"].startswith("file:///")
    assert run["invocations"][0]["executionSuccessful"] is True
    for result in run["results"]:
        assert result["level"] in ("error", "warning", "note")
        assert driver["rules"][result["ruleIndex"]]["id"] == result["ruleId"]
        (location,) = result["locations"]
        physical = location["physicalLocation"]
        assert physical["artifactLocation"]["uriBaseId"] == "%SRCROOT%"
        assert not physical["artifactLocation"]["uri"].startswith(("/", "file:"))
        region = physical["region"]
        assert all(region[k] >= 1 for k in ("startLine", "startColumn", "endLine", "endColumn"))
        assert (region["endLine"], region["endColumn"]) > (region["startLine"], region["startColumn"])
        assert len(result["partialFingerprints"]["ekslint/v1"]) == 32
    eks401 = next(r for r in run["results"] if r["ruleId"] == "EKS401")
    related = eks401["relatedLocations"][0]
    assert related["physicalLocation"]["artifactLocation"]["uri"] == "workloads/api.yaml"
    assert related["message"]["text"] == "Deployment/shop/api with 2 replicas"


def test_results_array_is_always_present(capsys: pytest.CaptureFixture[str]) -> None:
    log = sarif_of(capsys, REPO / "examples" / "clean")
    assert log["runs"][0]["results"] == []


def test_serializer_keeps_levels_and_drops_sentinels() -> None:
    import sarif_om as om

    result = om.Result(message=om.Message(text="m"), level="warning", rule_id="X001")
    assert to_sarif_json(result) == {"message": {"text": "m"}, "level": "warning", "ruleId": "X001"}
    assert to_sarif_json(om.Region(start_line=3)) == {"startLine": 3}


def test_suppressed_findings_only_with_include_suppressed(
    capsys: pytest.CaptureFixture[str], validator: jsonschema.Draft4Validator, tmp_path: Path
) -> None:
    from tests.conftest import write

    write(
        tmp_path,
        {
            "d.yaml": "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: d\nspec:\n  template:\n    spec:\n"
            "      tolerations:\n        # ekslint: disable=EKS402 -- dedicated nodes\n        - operator: Exists\n"
        },
    )
    assert sarif_of(capsys, tmp_path)["runs"][0]["results"] == []
    log = sarif_of(capsys, tmp_path, "--include-suppressed")
    (result,) = log["runs"][0]["results"]
    assert result["suppressions"] == [{"kind": "inSource", "justification": "dedicated nodes"}]
    assert list(validator.iter_errors(log)) == []


def test_results_are_capped_for_github(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    from ekslint.report import sarif
    from tests.conftest import write

    monkeypatch.setattr(sarif, "MAX_RESULTS", 2)
    pdb = "apiVersion: policy/v1\nkind: PodDisruptionBudget\nmetadata: {{name: p{i}}}\nspec:\n  maxUnavailable: 0\n"
    write(tmp_path, {f"p{i}.yaml": pdb.format(i=i) for i in range(5)})
    with chdir(tmp_path):
        cli.main(["--format", "sarif"])
    out, err = capsys.readouterr()
    assert len(json.loads(out)["runs"][0]["results"]) == 2
    assert "SARIF output holds the first 2 of 5 results" in err


def test_unreadable_paths_are_tool_notifications(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    with chdir(tmp_path):
        code = cli.main(["--format", "sarif", "missing.yaml"])
    out, _ = capsys.readouterr()
    (invocation,) = json.loads(out)["runs"][0]["invocations"]
    assert code == 2 and invocation["executionSuccessful"] is True
    (note,) = invocation["toolExecutionNotifications"]
    assert note["level"] == "error" and note["message"]["text"] == "missing.yaml: No such file or directory"
