"""Workload and PDB shapes met on real repositories (the issue 14 trust pass): each test is
a small fixture of a shape a public repository uses, naming the file it mirrors."""

from __future__ import annotations

from pathlib import Path

from tests.conftest import lint, write


def found(result) -> set[tuple[str, str, int]]:  # type: ignore[no-untyped-def]
    return {(f.rule_id, f.span.file, f.span.line) for f in result.findings}


# A CRD may define kinds named like Kubernetes' own in its group: the API server serves
# them from the CRD's schema and the disruption controller (kubernetes
# pkg/controller/disruption/disruption.go) lists only policy/v1 PDBs. Nothing here is a
# workload or a PDB. The monitoring PDB beside the Prometheus custom resource is
# kube-prometheus manifests/prometheus-podDisruptionBudget.yaml's shape.
CUSTOM_KINDS = """apiVersion: example.com/v1
kind: Deployment
metadata:
  name: x
spec:
  replicas: 2
  template:
    metadata:
      labels: {app: x}
    spec:
      securityContext:
        sysctls: [{name: net.core.somaxconn, value: "1024"}]
---
apiVersion: policy.example.io/v1
kind: PodDisruptionBudget
metadata:
  name: z
spec:
  maxUnavailable: 0
  selector:
    matchLabels: {app: x}
---
apiVersion: monitoring.example.io/v1
kind: HorizontalPodAutoscaler
metadata:
  name: h
spec:
  minReplicas: 5
  scaleTargetRef: {kind: Deployment, name: web}
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
      containers: [{name: web, image: nginx}]
"""
PDB = """apiVersion: policy/v1
kind: PodDisruptionBudget
metadata:
  name: web
spec:
  minAvailable: 3
  selector:
    matchLabels: {app: web}
"""


def test_kinds_of_a_custom_group_are_not_workloads_or_pdbs(tmp_path: Path) -> None:
    write(tmp_path, {"crd.yaml": CUSTOM_KINDS})
    assert found(lint(tmp_path)) == set()


def test_a_custom_group_autoscaler_sets_no_replica_floor(tmp_path: Path) -> None:
    # The real Deployment's 3 replicas decide, not a minReplicas of a custom kind.
    write(tmp_path, {"crd.yaml": CUSTOM_KINDS, "web.yaml": DEPLOYMENT, "pdb.yaml": PDB})
    result = lint(tmp_path)
    assert found(result) == {("EKS401", "pdb.yaml", 6)}
    assert "3 replicas" in result.findings[0].message


# A Job created with `kubectl create -f` and metadata.generateName (the API server adds
# a random suffix: kubernetes staging/src/k8s.io/apiserver/pkg/registry/rest/create.go).
GENERATED = """apiVersion: batch/v1
kind: Job
metadata:
  generateName: migrate-
spec:
  template:
    spec:
      restartPolicy: Never
      securityContext:
        sysctls: [{name: kernel.msgmax, value: "65536"}]
      containers: [{name: migrate, image: busybox}]
---
apiVersion: policy/v1
kind: PodDisruptionBudget
metadata:
  generateName: migrate-
spec:
  maxUnavailable: 0
  selector:
    matchLabels: {job: migrate}
"""


def test_generate_name_names_the_object(tmp_path: Path) -> None:
    write(tmp_path, {"job.yaml": GENERATED})
    result = lint(tmp_path, select=["EKS101", "EKS401"])
    messages = {f.rule_id: (f.span.line, f.message) for f in result.findings}
    assert messages["EKS101"][1].count("Job/migrate-<generated>") == 1
    # The PDB is pointed at by its maxUnavailable and named by its prefix, never "?".
    assert messages["EKS401"][0] == 18
    assert "PDB migrate-<generated> allows no voluntary disruption" in messages["EKS401"][1]
    assert all("?" not in f.message.split(":")[0] for f in result.findings)


# argoproj/argo-cd manifests/ha/base/redis-ha: `patches: - path: overlays/...yaml` naming
# JSON6902 files written as flow mappings (`- {op: remove, path: /metadata/namespace}`)
# or with `path` before `op`. Both are JSON patches the build applies.
BASE_KUSTOMIZATION = """resources:
  - web.yaml
  - pdb.yaml
patches:
  - path: overlays/replicas.yaml
    target: {group: apps, version: v1, kind: Deployment, name: web}
"""
PDB_TWO = PDB.replace("minAvailable: 3", "minAvailable: 2")


def test_flow_style_json_patch_files_are_applied(tmp_path: Path) -> None:
    for i, patch in enumerate(
        (
            "- {op: replace, path: /spec/replicas, value: 2}\n",
            "- path: /spec/replicas\n  op: replace\n  value: 2\n",
        )
    ):
        root = tmp_path / str(i)
        write(
            root,
            {
                "kustomization.yaml": BASE_KUSTOMIZATION,
                "web.yaml": DEPLOYMENT,
                "pdb.yaml": PDB_TWO,
                "overlays/replicas.yaml": patch,
            },
        )
        result = lint(root)
        assert not result.not_analysed, patch
        # The patch brings the 3 replicas down to minAvailable's 2: EKS401.
        assert found(result) == {("EKS401", "pdb.yaml", 6)}, patch
        assert "overlays/replicas.yaml" in result.findings[0].message


# fluxcd/flux2-kustomize-helm-example clusters/production/flux-system: the kustomization
# names gotk-components.yaml, a placeholder holding only a comment until `flux bootstrap`
# writes it. kustomize builds it as no resource (api/resource/factory.go drops empty
# nodes), so the rest of the build is analysed.
def test_a_comment_only_resource_is_an_empty_resource(tmp_path: Path) -> None:
    write(
        tmp_path,
        {
            "kustomization.yaml": "resources:\n  - gotk-components.yaml\n  - web.yaml\n  - pdb.yaml\n"
            "replicas:\n  - name: web\n    count: 2\n",
            "gotk-components.yaml": "# This file will be generated automatically by flux bootstrap.\n",
            "web.yaml": DEPLOYMENT,
            "pdb.yaml": PDB_TWO,
        },
    )
    result = lint(tmp_path)
    assert not result.not_analysed
    assert found(result) == {("EKS401", "pdb.yaml", 6)}


# aws-samples/eks-workshop-v2 manifests/modules/autoscaling/compute/cluster-autoscaler:
# one patch (metadata.name "all") applied to every Deployment labelled
# app.kubernetes.io/type=app (kustomize api/resource/resource.go MatchesLabelSelector
# reads the object's metadata.labels when the patch is applied).
def _app(name: str, labels: str) -> str:
    return (
        DEPLOYMENT.replace("name: web", f"name: {name}", 1)
        .replace("replicas: 3", "replicas: 1")
        .replace("{app: web}", "{app: " + name + "}")
        .replace("metadata:\n  name:", f"metadata:\n  labels: {labels}\n  name:", 1)
    )


def _pdb(name: str, minimum: int) -> str:
    return (
        PDB.replace("name: web", f"name: {name}")
        .replace("{app: web}", "{app: " + name + "}")
        .replace("minAvailable: 3", f"minAvailable: {minimum}")
    )


def test_patch_targets_select_by_label(tmp_path: Path) -> None:
    write(
        tmp_path,
        {
            "base/kustomization.yaml": "resources: [ui.yaml, db.yaml, pdb.yaml]\n",
            "base/ui.yaml": _app("ui", "{app.kubernetes.io/type: app}"),
            "base/db.yaml": _app("db", "{app.kubernetes.io/type: database}"),
            "base/pdb.yaml": _pdb("ui", 3) + "---\n" + _pdb("db", 1),
            "scale/kustomization.yaml": "resources:\n  - ../base\npatches:\n  - path: deployment.yaml\n"
            "    target:\n      kind: Deployment\n      labelSelector: app.kubernetes.io/type=app\n",
            "scale/deployment.yaml": "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: all\n"
            "spec:\n  replicas: 4\n",
        },
    )
    result = lint(tmp_path)
    assert not result.not_analysed
    # ui runs 4 replicas after the patch (minAvailable 3 leaves one eviction); db keeps 1.
    assert found(result) == {("EKS401", "base/pdb.yaml", 15)}
    assert "Deployment/db with 1 replica" in result.findings[0].message


def test_label_selector_strings() -> None:
    from ekslint.model.kpatch import UnsupportedTarget, parse_label_selector

    labels = {"tier": "web", "env": "prod"}
    for text, expected in (
        ("tier=web", True),
        ("tier==web,env!=dev", True),
        ("env in (prod, dev)", True),
        ("env notin (prod)", False),
        ("tier,!canary", True),
        ("canary", False),
        ("tier!=web", False),
    ):
        assert parse_label_selector(text).matches(labels) is expected, text
    for bad in ("tier=(web)", "tier in prod", ",,"):
        try:
            parse_label_selector(bad)
        except UnsupportedTarget:
            continue
        raise AssertionError(bad)
