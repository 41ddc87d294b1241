"""The real pre-commit (from PyPI) runs this repository's hook in a throwaway git
repository: a bad change fails, a good one passes, and cross-file facts come from the
files that did not change."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import REPO, WEB, WEB_PDB, write

CLUSTER = """apiVersion: eksctl.io/v1alpha5
kind: ClusterConfig
metadata:
  name: shop
  region: eu-west-1
  version: "1.28"
nodeGroups:
  - name: tuned
    instanceType: c5.xlarge
    kubeletExtraConfig:
      allowedUnsafeSysctls: ["net.core.somaxconn"]
"""
POD = """apiVersion: v1
kind: Pod
metadata:
  name: tuned
spec:
  securityContext:
    sysctls:
      - name: {sysctl}
        value: "1024"
  containers:
    - name: app
      image: nginx:1.27
"""


def pre_commit() -> str:
    found = shutil.which("pre-commit", path=str(Path(sys.executable).parent)) or shutil.which("pre-commit")
    if found is None:
        pytest.skip("pre-commit is not installed (pip install '.[test]')")
    return found


def git(repo: Path, *args: str) -> None:
    subprocess.run(["git", *args], cwd=repo, check=True, capture_output=True)


@pytest.fixture(scope="module")
def env(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    home = tmp_path_factory.mktemp("pre-commit-home")
    return {
        **os.environ,
        "PRE_COMMIT_HOME": str(home),
        "GIT_AUTHOR_NAME": "t",
        "GIT_AUTHOR_EMAIL": "t@example.com",
        "GIT_COMMITTER_NAME": "t",
        "GIT_COMMITTER_EMAIL": "t@example.com",
    }


def try_repo(repo: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """Run the ekslint hook of this checkout on the staged files of ``repo``."""
    return subprocess.run(
        [pre_commit(), "try-repo", str(REPO), "ekslint", "--verbose"],
        cwd=repo,
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )


@pytest.fixture
def repo(tmp_path: Path, env: dict[str, str]) -> Path:
    git(tmp_path, "init", "-q")
    write(tmp_path, {"cluster.yaml": CLUSTER, "README.md": "# platform\n"})
    git(tmp_path, "add", ".")
    subprocess.run(["git", "commit", "-qm", "cluster"], cwd=tmp_path, env=env, check=True, capture_output=True)
    return tmp_path


@pytest.mark.slow
def test_bad_change_fails_with_the_finding(repo: Path, env: dict[str, str]) -> None:
    write(repo, {"deploy/pod.yaml": POD.format(sysctl="kernel.msgmax")})
    git(repo, "add", "deploy/pod.yaml")
    proc = try_repo(repo, env)
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert "deploy/pod.yaml:8:9: EKS101 [error] sysctl kernel.msgmax" in proc.stdout


@pytest.mark.slow
def test_sysctl_allowed_by_the_unchanged_cluster_config_passes(repo: Path, env: dict[str, str]) -> None:
    # Only the pod is staged: pre-commit passes only it, and the allowance lives in
    # cluster.yaml, which did not change. --context makes ekslint read it anyway.
    write(repo, {"deploy/pod.yaml": POD.format(sysctl="net.core.somaxconn")})
    git(repo, "add", "deploy/pod.yaml")
    proc = try_repo(repo, env)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "ekslint" in proc.stdout and "Passed" in proc.stdout


@pytest.mark.slow
def test_findings_in_unchanged_files_are_not_reported(repo: Path, env: dict[str, str]) -> None:
    # A broken file that is committed and unchanged must not fail someone else's commit.
    write(
        repo,
        {
            "legacy/pdb.yaml": "apiVersion: policy/v1\nkind: PodDisruptionBudget\nmetadata: {name: x}\nspec:\n  maxUnavailable: 0\n  selector: {matchLabels: {app: x}}\n"
        },
    )
    git(repo, "add", ".")
    subprocess.run(
        ["git", "commit", "-qm", "legacy", "--no-verify"], cwd=repo, env=env, check=True, capture_output=True
    )
    write(repo, {"deploy/pod.yaml": POD.format(sysctl="net.core.somaxconn")})
    git(repo, "add", "deploy/pod.yaml")
    proc = try_repo(repo, env)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "legacy/pdb.yaml" not in proc.stdout


@pytest.mark.slow
def test_a_change_that_breaks_an_unchanged_file_fails(repo: Path, env: dict[str, str]) -> None:
    # Issue 16: replicas 3 -> 2 in web.yaml makes the unchanged web-pdb.yaml block every
    # eviction. The finding lies in web-pdb.yaml, its related location in web.yaml.
    write(repo, {"web.yaml": WEB.format(replicas=3), "web-pdb.yaml": WEB_PDB})
    git(repo, "add", ".")
    subprocess.run(["git", "commit", "-qm", "web", "--no-verify"], cwd=repo, env=env, check=True, capture_output=True)
    write(repo, {"web.yaml": WEB.format(replicas=2)})
    git(repo, "add", "web.yaml")
    proc = try_repo(repo, env)
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert "web-pdb.yaml:7:3: EKS401 [error] PDB web can never allow an eviction" in proc.stdout
    assert "    web.yaml:7:3: Deployment/shop/web with 2 replicas" in proc.stdout


TERRAFORM_NODES = """resource "aws_launch_template" "web" {
  name_prefix = "web-"
  user_data = base64encode(<<-EOT
    MIME-Version: 1.0
    Content-Type: multipart/mixed; boundary="B"

    --B
    Content-Type: application/node.eks.aws

    apiVersion: node.eks.aws/v1alpha1
    kind: NodeConfig
    spec:
      kubelet:
        config:
          maxPods: 300
    --B--
  EOT
  )
}

resource "aws_eks_node_group" "web" {
  cluster_name    = "shop"
  node_group_name = "web"
  node_role_arn   = var.role
  subnet_ids      = var.subnets
  ami_type        = "AL2023_x86_64_STANDARD"
  instance_types  = ["m5.large"]
  launch_template {
    id      = aws_launch_template.web.id
    version = "1"
  }
}
"""


@pytest.mark.slow
def test_a_staged_terraform_file_is_linted(repo: Path, env: dict[str, str]) -> None:
    # The hook's files: pattern passes .tf files (Terraform node groups, issue 14).
    write(repo, {"infra/nodes.tf": TERRAFORM_NODES})
    git(repo, "add", "infra/nodes.tf")
    proc = try_repo(repo, env)
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert "infra/nodes.tf:15:11: EKS301 [error] max pods 300 of node group web" in proc.stdout
