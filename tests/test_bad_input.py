"""Bad input is normal input: each case ends as an EKS001 finding or a one-line error
naming the path, never a traceback, and the rest of the run is unaffected."""

from __future__ import annotations

import base64
import gzip
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import lint, write

GOOD = """apiVersion: apps/v1
kind: Deployment
metadata:
  name: canary
spec:
  template:
    spec:
      tolerations:
        - operator: Exists
"""
CANARY = ("EKS402", "canary.yaml", 9, 11)

BAD_FILES: dict[str, str | bytes] = {
    "syntax.yaml": "apiVersion: v1\nkind: Pod\nmetadata:\n  name: [unclosed\n",
    "no-close.mime": 'MIME-Version: 1.0\nContent-Type: multipart/mixed; boundary="//"\n\n--//\nContent-Type: text/x-shellscript\n\necho\n',
    "bad-b64.mime": (
        'MIME-Version: 1.0\nContent-Type: multipart/mixed; boundary="//"\n\n--//\n'
        "Content-Type: application/node.eks.aws\nContent-Transfer-Encoding: base64\n\n!!notbase64!!\n--//--\n"
    ),
    "list.mime": (
        'MIME-Version: 1.0\nContent-Type: multipart/mixed; boundary="//"\n\n--//\n'
        "Content-Type: application/node.eks.aws\n\n- apiVersion: node.eks.aws/v1alpha1\n- kind: NodeConfig\n--//--\n"
    ),
    "broken.toml": '[settings.kubernetes]\ncluster-name = "x\n',
    "latin1.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: caf\xe9\n".encode("latin-1"),
    "deep.yaml": "apiVersion: v1\nkind: List\nitems: " + "[" * 5000 + "]" * 5000 + "\n",
    "bomb.yaml": "apiVersion: v1\nkind: ConfigMap\n"
    + 'a0: &a0 ["x","x","x","x","x","x","x","x","x","x"]\n'
    + "".join(f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 10)}]\n" for i in range(1, 10)),
    "gzbomb.b64": base64.b64encode(gzip.compress(b"#!/bin/bash\n/etc/eks/bootstrap.sh c\n" + b" " * 30_000_000)),
}
SKIPPED_FILES: dict[str, str | bytes] = {
    "image.png": b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + os.urandom(64),
    "random.bin": bytes(range(256)) * 4,
    "README.md": "# Platform\n\nSee `kind: Deployment` docs.\n",
    "chart/templates/deploy.yaml": "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: {{ .Release.Name }}\n",
    "workflow.yml": "on: push\njobs:\n  build:\n    runs-on: ubuntu-latest\n",
    "archive.tar.gz": gzip.compress(b"\0" * 4096),
    "empty.yaml": "",
}


def test_each_bad_file_is_one_eks001_and_the_canary_still_fires(tmp_path: Path) -> None:
    write(tmp_path, {**BAD_FILES, **SKIPPED_FILES, "canary.yaml": GOOD})
    result = lint(tmp_path)
    assert not result.crashed and not result.input_errors
    found = {(f.rule_id, f.span.file) for f in result.findings}
    assert CANARY in {(f.rule_id, f.span.file, f.span.line, f.span.col) for f in result.findings}
    for name in BAD_FILES:
        assert ("EKS001", name) in found, f"{name}: {[f.message for f in result.findings if f.span.file == name]}"
    for name in SKIPPED_FILES:
        assert not any(f.span.file == name for f in result.findings)
    assert all(f.span.line >= 1 and f.span.col >= 1 for f in result.findings)


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs FIFOs")
def test_fifos_symlink_loops_and_missing_paths(tmp_path: Path) -> None:
    write(tmp_path, {"canary.yaml": GOOD})
    os.mkfifo(tmp_path / "pipe.yaml")
    (tmp_path / "loop").symlink_to(tmp_path / "loop")
    (tmp_path / "dir-loop").mkdir()
    (tmp_path / "dir-loop" / "up").symlink_to(tmp_path / "dir-loop")
    result = lint(tmp_path)  # walking: a FIFO is never opened, loops are not followed
    assert [(f.rule_id, f.span.file) for f in result.findings] == [("EKS402", "canary.yaml")]
    proc = subprocess.run(
        [sys.executable, "-m", "ekslint", "pipe.yaml", "loop", "missing.yaml", "canary.yaml"],
        cwd=tmp_path,
        capture_output=True,
        timeout=60,
        check=False,
    )
    err = proc.stderr.decode()
    assert proc.returncode == 2
    assert "ekslint: error: pipe.yaml: not a regular file" in err
    assert "ekslint: error: loop: Too many levels of symbolic links" in err
    assert "ekslint: error: missing.yaml: No such file or directory" in err
    assert "canary.yaml:9:11: EKS402" in proc.stdout.decode()
    assert "Traceback" not in err


@pytest.mark.skipif(os.geteuid() == 0 if hasattr(os, "geteuid") else True, reason="root reads everything")
def test_unreadable_file(tmp_path: Path) -> None:
    write(tmp_path, {"secret.yaml": GOOD, "canary.yaml": GOOD})
    (tmp_path / "secret.yaml").chmod(0)
    result = lint(tmp_path)
    assert [e.path for e in result.input_errors] == ["secret.yaml"]


def test_unreadable_file_even_as_root(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    real = os.open

    def failing(path: str, *args: object, **kwargs: object) -> object:
        if str(path).endswith("secret.yaml"):
            raise PermissionError(13, "Permission denied")
        return real(path, *args, **kwargs)  # type: ignore[arg-type]

    # Every read of an input goes through parse.sources.read_head, which opens with os.open.
    monkeypatch.setattr(os, "open", failing)
    write(tmp_path, {"secret.yaml": GOOD, "canary.yaml": GOOD})
    result = lint(tmp_path)
    assert [(e.path, e.message) for e in result.input_errors] == [("secret.yaml", "Permission denied")]
    assert [f.span.file for f in result.findings] == ["canary.yaml"]


def test_oversized_file_is_reported_not_read(tmp_path: Path) -> None:
    big = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: big\ndata:\n" + "".join(
        f"  k{i}: {'v' * 80}\n" for i in range(120_000)
    )
    write(tmp_path, {"big.yaml": big, "canary.yaml": GOOD})
    result = lint(tmp_path)
    messages = [f.message for f in result.findings if f.span.file == "big.yaml"]
    assert len(messages) == 1 and "larger than" in messages[0]


def test_odd_but_valid_shapes_do_not_crash(tmp_path: Path) -> None:
    write(
        tmp_path,
        {
            "shapes.yaml": "\n---\n".join(
                [
                    "apiVersion: eksctl.io/v1alpha5\nkind: ClusterConfig\nmetadata: 3\nnodeGroups: 7\nmanagedNodeGroups: [1, {name: [x]}]",
                    "apiVersion: policy/v1\nkind: PodDisruptionBudget\nmetadata: {name: p}\nspec: {maxUnavailable: -3%, selector: {matchLabels: []}}",
                    "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: d}\nspec: {replicas: many, template: {spec: {securityContext: {sysctls: [1, {name: 2}]}, tolerations: 5}}}",
                    "apiVersion: node.eks.aws/v1alpha1\nkind: NodeConfig\nspec: [1, 2]",
                    "apiVersion: v1\nkind: List\nitems: {a: 1}",
                    "- just\n- a list",
                    "apiVersion: batch/v1\nkind: CronJob\nmetadata: {name: c}\nspec: {jobTemplate: {spec: {template: null}}}",
                ]
            ),
            "canary.yaml": GOOD,
        },
    )
    result = lint(tmp_path)
    assert not result.crashed
    assert CANARY in {(f.rule_id, f.span.file, f.span.line, f.span.col) for f in result.findings}


def test_corrupt_gzip_files_do_not_stop_the_run(tmp_path: Path) -> None:
    # zlib.error escaped from the sniffing of a corrupt gzip stream and ended the whole
    # run with an internal error (found by fuzzing).
    userdata = gzip.compress(b"#!/bin/bash\n/etc/eks/bootstrap.sh my-cluster\n" * 50)
    bad_crc = userdata[:-8] + bytes(8)  # every byte inflates, the check fails
    bad_distance = userdata[:12] + b"\xff" * 8 + userdata[20:]
    archive = gzip.compress(os.urandom(2048))
    write(
        tmp_path,
        {
            "crc.gz": bad_crc,
            "distance.gz": bad_distance,
            "archive.tgz": archive[:-8] + bytes(8),
            "canary.yaml": GOOD,
        },
    )
    result = lint(tmp_path)
    assert not result.crashed and not result.input_errors
    by_file = {f.span.file: f for f in result.findings}
    assert "invalid gzip data" in by_file["crc.gz"].message
    assert "archive.tgz" not in by_file  # an archive is not an input, corrupt or not
    assert by_file["canary.yaml"].rule_id == "EKS402"


def test_a_binary_tf_file_and_a_truncated_plan_are_reported_as_what_they_are(tmp_path: Path) -> None:
    # A .tf file is Terraform by its name; binary bytes there are an EKS001 naming
    # terraform, not silence. A `terraform show -json` plan cut short is a JSON error
    # that says how to write the plan again, not advice about kubectl.
    (tmp_path / "main.tf").write_bytes(b"\x00\x01\x02\x03" * 40 + b'resource "aws_launch_template" "x" {}')
    write(tmp_path, {"plan.json": '{"format_version": "1.2", "terraform_version": "1.6.0", "planned_values": {"ro'})
    result = lint(tmp_path)
    by_file = {f.span.file: f for f in result.findings}
    assert {f.rule_id for f in result.findings} == {"EKS001"} and set(by_file) == {"main.tf", "plan.json"}
    assert "binary data" in by_file["main.tf"].message and "terraform refuses it" in by_file["main.tf"].message
    assert by_file["plan.json"].message.startswith("JSON syntax error in a Terraform plan")
    assert "terraform show -json" in by_file["plan.json"].message
