"""Helm: a rendered stream on stdin reported at its templates' paths, and chart
directories rendered on request (a fake ``helm`` here) or said to be not analysed."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from ekslint.parse.helm import split_rendered
from tests.conftest import write

# What `helm template` prints (helm pkg/action/action.go renderResources): a `---` line
# and a `# Source:` comment before each document; one template may render two documents.
STREAM = """---
# Source: web/templates/pdb.yaml
apiVersion: policy/v1
kind: PodDisruptionBudget
metadata:
  name: web
spec:
  maxUnavailable: 0
  selector:
    matchLabels: {app: web}
---
# Source: web/templates/workloads.yaml
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
spec:
  replicas: 2
  selector:
    matchLabels: {app: web}
  template:
    metadata:
      labels: {app: web}
    spec:
      containers: [{name: web, image: nginx}]
---
# Source: web/templates/workloads.yaml
apiVersion: v1
kind: Pod
metadata:
  name: tuned
spec:
  securityContext:
    sysctls: [{name: kernel.msgmax, value: "65536"}]
  containers: [{name: tuned, image: nginx}]
"""


def ekslint(
    cwd: Path, *args: str, stdin: str | None = None, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "ekslint", "--no-cache", "--isolated", *args],
        input=stdin,
        capture_output=True,
        text=True,
        cwd=cwd,
        check=False,
        env=env,
    )


def test_split_groups_documents_by_template() -> None:
    parts = split_rendered(STREAM.encode())
    assert parts is not None
    assert [path for path, _ in parts] == ["web/templates/pdb.yaml", "web/templates/workloads.yaml"]
    workloads = parts[1][1].decode().splitlines()
    # Lines count within the template's own output: its documents joined by `---`.
    assert workloads[0] == "# Source: web/templates/workloads.yaml" and workloads.count("---") == 1
    assert split_rendered(b"apiVersion: v1\nkind: Pod\n") is None


@pytest.mark.parametrize("fmt", ["text", "json", "sarif", "github", "junit", "gitlab"])
def test_stream_findings_name_the_templates(tmp_path: Path, fmt: str) -> None:
    proc = ekslint(tmp_path, "-f", fmt, "-", stdin=STREAM)
    assert proc.returncode == 1, proc.stderr
    assert "web/templates/pdb.yaml" in proc.stdout and "web/templates/workloads.yaml" in proc.stdout
    assert "<stdin>" not in proc.stdout and '"-"' not in proc.stdout
    if fmt == "json":
        found = {(f["rule"], f["file"], f["line"]) for f in json.loads(proc.stdout)["findings"]}
        # maxUnavailable: 0 at line 7 of pdb.yaml's output; the Pod's sysctl at line 23 of
        # workloads.yaml's output (the second document, after the first and a `---`).
        assert found == {("EKS401", "web/templates/pdb.yaml", 7), ("EKS101", "web/templates/workloads.yaml", 23)}


def test_stdin_without_sources_keeps_its_name(tmp_path: Path) -> None:
    body = STREAM.split("# Source: web/templates/workloads.yaml\n")[2]
    proc = ekslint(tmp_path, "--stdin-filename", "pod.yaml", "-", stdin=body)
    assert proc.stdout.startswith("pod.yaml:"), proc.stdout


CHART = {
    "chart/Chart.yaml": "apiVersion: v2\nname: web\nversion: 0.1.0\n",
    "chart/values.yaml": "replicas: 1\n",
    # Unrendered: never linted as YAML (no EKS001 on the template syntax).
    "chart/templates/pod.yaml": (
        "apiVersion: v1\nkind: Pod\nmetadata:\n  name: {{ .Release.Name }}\nspec:\n"
        "  securityContext:\n    sysctls: [{name: kernel.msgmax, value: '1'}]\n"
        "  containers: [{name: x, image: {{ .Values.image | quote }}}]\n"
    ),
}


def test_a_chart_is_said_to_be_not_rendered(tmp_path: Path) -> None:
    write(tmp_path, CHART)
    proc = ekslint(tmp_path, "-f", "json", ".")
    document = json.loads(proc.stdout)
    assert document["findings"] == []
    assert document["not_analysed"] == [
        {
            "file": "chart/Chart.yaml",
            "reason": "Helm chart not rendered: its templates are not analysed (pass --render-helm with helm on PATH)",
        }
    ]
    text = ekslint(tmp_path, ".").stdout
    assert "chart/Chart.yaml: not analysed: Helm chart not rendered" in text and "1 input not analysed" in text


def test_render_helm_runs_helm_template(tmp_path: Path) -> None:
    write(tmp_path, CHART)
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    log = tmp_path / "helm-args"
    fake = bin_dir / "helm"
    # A fake helm: records its arguments and prints a render of the chart.
    pod = STREAM.split("---\n")[3].replace("web/templates/workloads.yaml", "web/templates/pod.yaml")
    fake.write_text(f"#!/bin/sh\necho \"$@\" > {log}\ncat <<'EOF'\n---\n{pod}EOF\n")
    fake.chmod(0o755)
    env = {**os.environ, "PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}"}
    proc = ekslint(tmp_path, "-f", "json", "--render-helm", ".", env=env)
    assert log.read_text().split() == ["template", "chart"]
    found = {(f["rule"], f["file"], f["line"]) for f in json.loads(proc.stdout)["findings"]}
    assert found == {("EKS101", "chart/templates/pod.yaml", 8)}
    assert json.loads(proc.stdout)["not_analysed"] == []


def test_render_helm_without_helm_says_so(tmp_path: Path) -> None:
    write(tmp_path, CHART)
    env = {**os.environ, "PATH": str(tmp_path / "nowhere")}
    proc = ekslint(tmp_path, "-f", "json", "--render-helm", ".", env=env)
    reasons = [n["reason"] for n in json.loads(proc.stdout)["not_analysed"]]
    assert reasons == ["Helm chart not rendered: --render-helm was given but helm is not on PATH"]
