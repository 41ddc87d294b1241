"""Pod carriers beyond the built-in workload kinds: Argo Rollouts' Rollout (built in) and
the kinds a ``pod-templates:`` config entry declares."""

from __future__ import annotations

from pathlib import Path

from tests.conftest import lint, write

# The shape of argoproj/argo-rollouts examples/rollout-canary.yaml, with a sysctl and a PDB.
ROLLOUT = """apiVersion: argoproj.io/v1alpha1
kind: Rollout
metadata:
  name: canary
spec:
  replicas: 1
  selector:
    matchLabels: {app: canary}
  template:
    metadata:
      labels: {app: canary}
    spec:
      securityContext:
        sysctls:
          - name: net.core.somaxconn
            value: "1024"
      containers:
        - name: canary
          image: argoproj/rollouts-demo:blue
  strategy:
    canary:
      steps: [{setWeight: 20}, {pause: {}}]
"""
PDB = """apiVersion: policy/v1
kind: PodDisruptionBudget
metadata:
  name: canary
spec:
  minAvailable: 1
  selector:
    matchLabels: {app: canary}
"""


def found(result) -> set[tuple[str, str, int]]:  # type: ignore[no-untyped-def]
    return {(f.rule_id, f.span.file, f.span.line) for f in result.findings}


def test_rollout_is_a_workload(tmp_path: Path) -> None:
    write(tmp_path, {"rollout.yaml": ROLLOUT, "pdb.yaml": PDB})
    # Its unsafe sysctl (EKS101) and its single replica under minAvailable: 1 (EKS401).
    assert found(lint(tmp_path)) == {("EKS101", "rollout.yaml", 15), ("EKS401", "pdb.yaml", 6)}


def test_a_rollout_of_another_group_is_not_argo(tmp_path: Path) -> None:
    write(tmp_path, {"rollout.yaml": ROLLOUT.replace("argoproj.io/v1alpha1", "example.com/v1")})
    assert not {f for f in found(lint(tmp_path)) if f[0] == "EKS101"}


# argo-rollouts docs/migrating.md: a Rollout referencing a Deployment with workloadRef.
WORKLOAD_REF = """apiVersion: argoproj.io/v1alpha1
kind: Rollout
metadata:
  name: web
spec:
  replicas: 1
  selector:
    matchLabels: {app: web}
  workloadRef:
    apiVersion: apps/v1
    kind: Deployment
    name: web
"""
DEPLOYMENT = """apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
spec:
  replicas: 3
  selector:
    matchLabels: {app: web}
  template:
    metadata:
      labels: {app: web}
    spec:
      securityContext:
        sysctls: [{name: kernel.msgmax, value: "65536"}]
      containers: [{name: web, image: nginx}]
"""


def test_workload_ref_runs_the_deployments_template_once(tmp_path: Path) -> None:
    write(
        tmp_path,
        {
            "rollout.yaml": WORKLOAD_REF,
            "deployment.yaml": DEPLOYMENT,
            "pdb.yaml": PDB.replace("canary", "web"),
        },
    )
    result = lint(tmp_path)
    # The Rollout runs the Deployment's pods with its own replicas (1): EKS401 names the
    # Rollout, not the Deployment (which the Rollout scales down), and EKS403 never
    # sees two workloads. The sysctl is reported once, in the Deployment's template.
    assert found(result) == {("EKS101", "deployment.yaml", 14), ("EKS401", "pdb.yaml", 6)}
    eks401 = next(f for f in result.findings if f.rule_id == "EKS401")
    assert "Rollout/web" in eks401.message and "Deployment/web" not in eks401.message


CUSTOM = """apiVersion: example.com/v1
kind: MyApp
metadata:
  name: app
spec:
  podTemplate:
    metadata:
      labels: {app: custom}
    spec:
      securityContext:
        sysctls: [{name: kernel.msgmax, value: "65536"}]
"""


def test_pod_templates_config_declares_a_carrier(tmp_path: Path) -> None:
    write(tmp_path, {"app.yaml": CUSTOM})
    assert not found(lint(tmp_path))
    write(
        tmp_path,
        {".ekslint.yaml": "pod-templates:\n  - {kind: MyApp, group: example.com, path: spec.podTemplate}\n"},
    )
    assert found(lint(tmp_path)) == {("EKS101", "app.yaml", 11)}
    # Another group than the entry's: not that kind.
    write(tmp_path, {"app.yaml": CUSTOM.replace("example.com/v1", "other.io/v1")})
    assert not found(lint(tmp_path))


def test_pod_templates_entries_are_validated(tmp_path: Path) -> None:
    import pytest

    from ekslint import config

    write(tmp_path, {".ekslint.yaml": "pod-templates:\n  - {kind: MyApp, path: 'spec..x'}\n"})
    with pytest.raises(config.ConfigError) as raised:
        config.load(tmp_path / ".ekslint.yaml")
    assert "pod-templates" in str(raised.value)
