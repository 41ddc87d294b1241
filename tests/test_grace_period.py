"""EKS405 gives the failover time with the node-monitor-grace-period of the Kubernetes
version that applies to the file: 40s before 1.32, 50s from 1.32
(kubernetes/kubernetes#126287, pkg/controller/nodelifecycle/config/v1alpha1/defaults.go)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import lint

HERE = Path(__file__).parent / "rules" / "EKS405"


@pytest.mark.parametrize(
    ("case", "expected"),
    [
        ("fail.cluster-before-1-32.yaml", "tainted after 40s without status"),
        ("fail.config-version", "tainted after 40s without status"),
        ("fail.low-seconds.yaml", "tainted after 50s without status"),
    ],
)
def test_the_grace_period_follows_the_version(case: str, expected: str) -> None:
    path = HERE / case
    root, target = (path, ".") if path.is_dir() else (path.parent, path.name)
    result = lint(root, target, select=["EKS405"])
    assert result.findings
    for finding in result.findings:
        assert expected in finding.message, finding.message


def test_a_cluster_before_1_32_says_so() -> None:
    result = lint(HERE, "fail.cluster-before-1-32.yaml", select=["EKS405"])
    (finding,) = result.findings
    assert "on Kubernetes 1.31: metadata.version of its ClusterConfig" in finding.message
    assert "40s + 5s = 45s" in finding.message
    assert "(default 5m40s)" in finding.message
