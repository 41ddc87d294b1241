"""The scenarios of the field notes ekslint was created from (../shared/seeds)."""

from __future__ import annotations

from pathlib import Path

from tests.conftest import lint, write

# seeds 000/001: the keepalive pod and the eksctl config that allows the sysctl
# (placeholders filled in).
KEEPALIVE_POD = """apiVersion: v1
kind: Pod
metadata:
  name: ubuntu
spec:
  containers:
  - name: ubuntu
    image: ubuntu
    command: ["sleep"]
    args: ["1d"]
  securityContext:
    sysctls:
    - name: net.ipv4.tcp_keepalive_intvl
      value: "60"
"""
SEED_EKSCTL = """apiVersion: eksctl.io/v1alpha5
kind: ClusterConfig

metadata:
  name: my-cluster
  region: ap-northeast-2
  version: "1.27"

managedNodeGroups:
- name: keepalive
  ami: ami-0123456789abcdef0
  amiFamily: AmazonLinux2
  minSize: 0
  maxSize: 10
  desiredCapacity: 2
  ssh:
    allow: true
    publicKeyName: my-key
  overrideBootstrapCommand: |
    #!/bin/bash
    set -ex
    /etc/eks/bootstrap.sh my-cluster --kubelet-extra-args "--node-labels=alpha.eksctl.io/cluster-name=my-cluster,alpha.eksctl.io/nodegroup-name=keepalive,eks.amazonaws.com/nodegroup=keepalive,eks.amazonaws.com/nodegroup-image=ami-0123456789abcdef0 --allowed-unsafe-sysctls 'net.ipv4.tcp_keepalive_intvl'"
"""


def findings(result: object) -> list[tuple[str, str, int, int]]:
    return sorted((f.rule_id, f.span.file, f.span.line, f.span.col) for f in result.findings)  # type: ignore[attr-defined]


def test_seed_000_keepalive_allowed_by_the_override(tmp_path: Path) -> None:
    write(tmp_path, {"pod.yaml": KEEPALIVE_POD, "eksctl-config.yaml": SEED_EKSCTL})
    assert findings(lint(tmp_path)) == []


def test_seed_000_without_the_allowance_the_pod_is_refused(tmp_path: Path) -> None:
    config = SEED_EKSCTL.replace(" --allowed-unsafe-sysctls 'net.ipv4.tcp_keepalive_intvl'", "")
    write(tmp_path, {"pod.yaml": KEEPALIVE_POD, "eksctl-config.yaml": config})
    result = lint(tmp_path)
    assert findings(result) == [("EKS101", "pod.yaml", 13, 7)]
    (finding,) = result.findings
    assert "unsafe on Kubernetes 1.27 (metadata.version of cluster my-cluster); it is safe from 1.29" in finding.message
    assert finding.related[0].span.file == "eksctl-config.yaml" and finding.related[0].span.line == 10


def test_seed_000_without_the_custom_ami_eksctl_refuses_the_override(tmp_path: Path) -> None:
    config = SEED_EKSCTL.replace("  ami: ami-0123456789abcdef0\n", "")
    write(tmp_path, {"eksctl-config.yaml": config})
    assert findings(lint(tmp_path)) == [("EKS201", "eksctl-config.yaml", 18, 3)]


def test_seed_000_on_kubernetes_1_29_the_sysctl_is_safe(tmp_path: Path) -> None:
    config = SEED_EKSCTL.replace('version: "1.27"', 'version: "1.29"').replace(
        " --allowed-unsafe-sysctls 'net.ipv4.tcp_keepalive_intvl'", ""
    )
    write(tmp_path, {"pod.yaml": KEEPALIVE_POD, "eksctl-config.yaml": config})
    assert findings(lint(tmp_path)) == []


# seed 003: the two-part NodeConfig, written with the closing boundary between the parts.
SEED_003_TWO_PARTS = """MIME-Version: 1.0
Content-Type: multipart/mixed; boundary="BOUNDARY"

--BOUNDARY
Content-Type: application/node.eks.aws

---
apiVersion: node.eks.aws/v1alpha1
kind: NodeConfig
spec:
  cluster:
    name: my-cluster
    apiServerEndpoint: https://example.com
    certificateAuthority: LS0tLS1CRUdJTiBDRVJUSUZJQ0FURS0tLS0tCk1JSUMvakNDQWVhZ0F3SUJBZ0lCQURBTkJna3Foa2lHOXcwQkFRc0ZBREFWTVJNd0VRWURWUVFERXdwcmRXSmwKLS0tLS1FTkQgQ0VSVElGSUNBVEUtLS0tLQo=
    cidr: 172.20.0.0/16

--BOUNDARY--
Content-Type: application/node.eks.aws

---
apiVersion: node.eks.aws/v1alpha1
kind: NodeConfig
spec:
  kubelet:
    config:
      shutdownGracePeriod: 30s
      featureGates:
        DisableKubeletCloudCredentialProviders: true

--BOUNDARY--
"""


def test_seed_003_second_part_after_the_closing_boundary(tmp_path: Path) -> None:
    write(tmp_path, {"userdata.mime": SEED_003_TWO_PARTS})
    result = lint(tmp_path)
    assert findings(result) == [("EKS001", "userdata.mime", 17, 1)]
    assert "`--BOUNDARY--` closes the multipart userdata, but a part follows it" in result.findings[0].message


def test_seed_003_fixed_two_parts_are_merged(tmp_path: Path) -> None:
    fixed = SEED_003_TWO_PARTS.replace("--BOUNDARY--\nContent-Type", "--BOUNDARY\nContent-Type", 1)
    write(tmp_path, {"userdata.mime": fixed})
    assert findings(lint(tmp_path, select=["EKS0", "EKS2"])) == []


# seed 003: why managed node group upgrades fail with PodEvictionFailure.
AGGRESSIVE_PDB = """apiVersion: policy/v1
kind: PodDisruptionBudget
metadata:
  name: checkout
spec:
  minAvailable: 100%
  selector:
    matchLabels:
      app: checkout
"""
TOLERATES_EVERYTHING = """apiVersion: apps/v1
kind: Deployment
metadata:
  name: checkout
spec:
  replicas: 3
  selector:
    matchLabels:
      app: checkout
  template:
    metadata:
      labels:
        app: checkout
    spec:
      tolerations:
      - operator: Exists
      containers:
      - name: checkout
        image: checkout:1.0
"""


def test_seed_003_upgrade_failures(tmp_path: Path) -> None:
    write(tmp_path, {"pdb.yaml": AGGRESSIVE_PDB, "deployment.yaml": TOLERATES_EVERYTHING})
    result = lint(tmp_path)
    assert findings(result) == [("EKS401", "pdb.yaml", 6, 3), ("EKS402", "deployment.yaml", 16, 9)]
    assert all("PodEvictionFailure" in f.message for f in result.findings)
