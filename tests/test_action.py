"""The GitHub Action (action.yml): its shell steps run here with the variables a
runner sets (GITHUB_WORKSPACE, GITHUB_OUTPUT, GITHUB_STEP_SUMMARY, RUNNER_TEMP), and
the SARIF, the job summary and the step outputs are checked."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from ruamel.yaml import YAML

from tests.conftest import REPO, write

ACTION = REPO / "action.yml"
RUN = REPO / "scripts" / "action" / "run.sh"


def action() -> dict:
    return YAML(typ="safe").load(ACTION.read_text())


def outputs(path: Path) -> dict[str, str]:
    return dict(line.split("=", 1) for line in path.read_text().splitlines())


def run_step(tmp_path: Path, workspace: Path, **inputs: str) -> tuple[subprocess.CompletedProcess[str], Path]:
    runner = tmp_path / "runner"
    (runner / "temp").mkdir(parents=True)
    (runner / "summary.md").write_text("")
    (runner / "output").write_text("")
    env = {
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}",
        "HOME": str(tmp_path),
        "XDG_CACHE_HOME": str(tmp_path / "cache"),
        "EKSLINT_NO_CACHE": "1",
        "GITHUB_ACTIONS": "true",
        "GITHUB_WORKSPACE": str(workspace),
        "GITHUB_OUTPUT": str(runner / "output"),
        "GITHUB_STEP_SUMMARY": str(runner / "summary.md"),
        "RUNNER_TEMP": str(runner / "temp"),
        "GITHUB_SERVER_URL": "https://github.com",
        "GITHUB_REPOSITORY": "acme/platform",
        "GITHUB_SHA": "0123abc",
        **{f"INPUT_{name.upper()}": value for name, value in inputs.items()},
    }
    proc = subprocess.run(
        ["bash", str(RUN)], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120, check=False
    )
    return proc, runner


@pytest.fixture
def workspace(tmp_path: Path) -> Path:
    target = tmp_path / "workspace"
    shutil.copytree(REPO / "examples" / "broken", target)
    return target


def test_the_lint_step_writes_sarif_summary_and_outputs(tmp_path: Path, workspace: Path) -> None:
    proc, runner = run_step(tmp_path, workspace, paths=".", category="ekslint", fail_on="error")
    assert proc.returncode == 0, proc.stderr
    assert "Found 5 problems (4 errors, 1 warning) in 6 files." in proc.stdout  # the log
    out = outputs(runner / "output")
    assert out["exit-code"] == "1" and out["findings"] == "5"
    sarif = Path(out["sarif-file"])
    assert sarif.parent.parent == runner / "temp" and sarif.name == "ekslint.sarif"
    log = json.loads(sarif.read_text())
    (run,) = log["runs"]
    assert run["automationDetails"]["id"] == "ekslint/"
    assert [r["ruleId"] for r in run["results"]] == ["EKS201", "EKS203", "EKS401", "EKS101", "EKS402"]
    uri = run["results"][0]["locations"][0]["physicalLocation"]["artifactLocation"]
    assert uri == {"uri": "cluster.yaml", "uriBaseId": "%SRCROOT%"}
    summary = (runner / "summary.md").read_text()
    assert summary.startswith("## ekslint\n\nFound 5 problems (4 errors, 1 warning) in 6 files.\n")
    assert "| error | 4 |" in summary and "| warning | 1 |" in summary
    assert "| EKS401 | `pdb-blocks-eviction` | error | 1 |" in summary
    assert (
        "| error | [workloads/api.yaml:22:13](https://github.com/acme/platform/blob/0123abc/workloads/api.yaml#L22) "
        "| EKS101 |" in summary
    )


def test_fail_on_never_and_extra_args(tmp_path: Path, workspace: Path) -> None:
    proc, runner = run_step(tmp_path, workspace, paths="workloads\ncluster.yaml", args="--select EKS4", fail_on="never")
    assert proc.returncode == 0, proc.stderr
    out = outputs(runner / "output")
    assert out["exit-code"] == "0" and out["findings"] == "2"


def test_a_stale_sarif_is_never_handed_to_the_upload(tmp_path: Path, workspace: Path) -> None:
    # A pull request commits its own SARIF and breaks the config: nothing is uploaded.
    write(workspace, {"ekslint.sarif": '{"runs": [{"results": []}]}', ".ekslint.yaml": "selct: [EKS]\n"})
    proc, runner = run_step(tmp_path, workspace, sarif_file="ekslint.sarif")
    assert proc.returncode == 0, proc.stderr
    out = outputs(runner / "output")
    assert out["exit-code"] == "2" and "sarif-file" not in out and out["findings"] == "0"
    assert not (workspace / "ekslint.sarif").exists()
    assert "stopped with exit code 2" in (runner / "summary.md").read_text()
    assert "unknown key 'selct' (did you mean 'select'?)" in proc.stderr


def test_a_bad_fail_on_is_an_error(tmp_path: Path, workspace: Path) -> None:
    proc, _ = run_step(tmp_path, workspace, fail_on="sometimes")
    assert proc.returncode == 2 and "fail-on must be error, warning, note or never" in proc.stdout


def test_action_yml_wires_the_steps() -> None:
    spec = action()
    assert set(spec["inputs"]) == {"paths", "args", "sarif-file", "category", "fail-on", "upload", "python-version"}
    assert spec["runs"]["using"] == "composite"
    steps = {step.get("name", step.get("uses")): step for step in spec["runs"]["steps"]}
    assert 'bash "$GITHUB_ACTION_PATH/scripts/action/install.sh"' in steps["Install ekslint"]["run"]
    lint = steps["Lint"]
    assert set(lint["env"]) == {f"INPUT_{name.upper().replace('-', '_')}" for name in spec["inputs"]} - {
        "INPUT_UPLOAD",
        "INPUT_PYTHON_VERSION",
    }
    upload = steps["Upload to code scanning"]
    assert upload["uses"].startswith("github/codeql-action/upload-sarif@")
    assert upload["if"] == "inputs.upload == 'true' && steps.lint.outputs.sarif-file != ''"
    assert not any("always()" in str(step.get("if", "")) for step in spec["runs"]["steps"])
    assert steps["Fail on findings"]["if"] == "steps.lint.outputs.exit-code != '0'"
    for script in ("install.sh", "run.sh"):
        assert (REPO / "scripts" / "action" / script).is_file()


@pytest.mark.slow
def test_the_install_step_installs_the_actions_own_checkout(tmp_path: Path) -> None:
    runner = tmp_path / "runner"
    runner.mkdir()
    env = {
        **os.environ,
        "GITHUB_ACTION_PATH": str(REPO),
        "RUNNER_TEMP": str(runner),
        "GITHUB_PATH": str(runner / "path"),
    }
    script = REPO / "scripts" / "action" / "install.sh"
    proc = subprocess.run(["bash", str(script)], env=env, capture_output=True, text=True, timeout=900, check=False)
    assert proc.returncode == 0, proc.stderr
    from ekslint import __version__

    assert proc.stdout.strip() == f"ekslint {__version__}"
    assert (runner / "path").read_text() == f"{runner}/ekslint-venv/bin\n"
