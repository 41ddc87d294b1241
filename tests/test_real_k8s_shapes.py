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


# kubernetes-sigs/metrics-server manifests/components/high-availability-1.21+: a
# component whose own `components:` names another (high-availability, which adds the
# PDB and patches replicas: 2), then patches the PDB to policy/v1. kustomize accumulates
# a component like a kustomization (api/internal/target/kusttarget.go
# accumulateComponents), nested components included.
def test_components_of_components_are_built(tmp_path: Path) -> None:
    write(
        tmp_path,
        {
            "base/kustomization.yaml": "resources: [deployment.yaml]\n",
            "base/deployment.yaml": DEPLOYMENT.replace("replicas: 3", "replicas: 1"),
            "components/ha/kustomization.yaml": "apiVersion: kustomize.config.k8s.io/v1alpha1\nkind: Component\n"
            "resources: [pdb.yaml]\npatches:\n  - path: patch.yaml\n",
            "components/ha/pdb.yaml": PDB.replace("policy/v1", "policy/v1beta1").replace(
                "minAvailable: 3", "minAvailable: 2"
            ),
            "components/ha/patch.yaml": "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\n"
            "spec:\n  replicas: 2\n",
            "components/ha-1.21/kustomization.yaml": "apiVersion: kustomize.config.k8s.io/v1alpha1\n"
            "kind: Component\ncomponents:\n  - ../ha\npatches:\n  - path: version.yaml\n"
            "    target:\n      kind: PodDisruptionBudget\n",
            "components/ha-1.21/version.yaml": '- op: replace\n  path: "/apiVersion"\n  value: policy/v1\n',
            "overlay/kustomization.yaml": "resources: [../base]\ncomponents: [../components/ha-1.21]\n",
        },
    )
    result = lint(tmp_path)
    assert not result.not_analysed
    # 2 replicas under minAvailable: 2 (EKS401), and no EKS003: the PDB is policy/v1.
    assert found(result) == {("EKS401", "components/ha/pdb.yaml", 6)}
    assert "with 2 replicas" in result.findings[0].message


# aws-samples/eks-workshop-v2 manifests/modules/networking/vpc-lattice/abtesting: patch
# files holding `$patch: delete` documents remove the base's redis Deployment.
def test_delete_patch_files_remove_objects(tmp_path: Path) -> None:
    write(
        tmp_path,
        {
            "base/kustomization.yaml": "resources: [web.yaml, pdb.yaml]\n",
            "base/web.yaml": DEPLOYMENT,
            "base/pdb.yaml": PDB,
            "v2/kustomization.yaml": "namespace: v2\nresources: [../base]\npatches:\n  - path: delete-web.yaml\n",
            "v2/delete-web.yaml": "$patch: delete\napiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\n",
        },
    )
    result = lint(tmp_path, select=["EKS401", "EKS404"])
    assert not result.not_analysed
    # The Deployment is gone: the PDB blocks nothing (and v2 has no workload for EKS404).
    assert found(result) == set()


# argoproj/argo-cd manifests/ha/base/redis-ha: `- {op: remove, path: /metadata/namespace}`
# takes the chart's namespace off; the install's PDB (no namespace) then selects them.
def test_json_patches_set_and_remove_the_namespace(tmp_path: Path) -> None:
    write(
        tmp_path,
        {
            "kustomization.yaml": "resources: [web.yaml, pdb.yaml]\npatches:\n  - path: remove-namespace.yaml\n"
            "    target: {kind: Deployment, name: web, namespace: argocd}\n",
            "web.yaml": DEPLOYMENT.replace("name: web\n", "name: web\n  namespace: argocd\n", 1),
            "pdb.yaml": PDB,
            "remove-namespace.yaml": "- {op: remove, path: /metadata/namespace}\n",
        },
    )
    result = lint(tmp_path, select=["EKS401", "EKS404"])
    assert not result.not_analysed
    assert found(result) == {("EKS401", "pdb.yaml", 6)}


# kubeflow/manifests common/istio/istio-install/base/install.yaml: rendered istio output
# whose istio-sidecar-injector ConfigMap holds the injection template as a block string,
# with `{{ toYaml ... | indent 6 }}` lines. The file is plain YAML: it is analysed.
INJECTOR = """apiVersion: v1
kind: ConfigMap
metadata:
  name: istio-sidecar-injector
data:
  config: |-
    template: |
      spec:
        containers:
        {{- if .Values.global.proxy.lifecycle }}
          lifecycle:
            {{ toYaml .Values.global.proxy.lifecycle | indent 6 }}
        {{- end }}
---
"""
# kubeflow/manifests applications/kserve/kserve/kserve.yaml: a shell script in a
# double-quoted string spanning lines, with `${#active_hcas[@]}` (`{#` opens a Jinja
# comment to the template step).
KSERVE = """apiVersion: apps/v1
kind: Deployment
metadata:
  name: infer
spec:
  replicas: 1
  selector:
    matchLabels: {app: infer}
  template:
    metadata:
      labels: {app: infer}
    spec:
      containers:
        - name: infer
          image: kserve/huggingfaceserver
          command:
            - bash
            - -c
            - "if [ ${#active_hcas[@]} -gt 0 ]; then\\n  echo
              \\"${NCCL_IB_HCA:-${hcas}}\\"\\nfi"
"""


def test_templates_inside_yaml_strings_are_text(tmp_path: Path) -> None:
    write(tmp_path, {"install.yaml": INJECTOR + DEPLOYMENT, "kserve.yaml": KSERVE, "pdb.yaml": PDB})
    result = lint(tmp_path)
    assert not result.not_analysed
    assert not result.input_errors
    # Both files are read: web's 3 replicas under minAvailable: 3 (EKS401), no EKS001.
    assert found(result) == {("EKS401", "pdb.yaml", 6)}


def test_a_helm_template_stays_a_template(tmp_path: Path) -> None:
    # `replicas: {{ .Values.replicas }}` is a flow mapping to YAML: never read as written.
    write(
        tmp_path,
        {
            "templates/deployment.yaml": DEPLOYMENT.replace("replicas: 3", "replicas: {{ .Values.replicas }}"),
            "templates/cm.yaml": INJECTOR.replace("name: istio-sidecar-injector", "name: {{ .Release.Name }}"),
        },
    )
    assert found(lint(tmp_path)) == set()


# kubeflow/manifests example/kustomization.yaml names a remote resource elsewhere in its
# tree; common/knative/knative-serving/base patches the upstream PDBs to minAvailable: 0.
# A build that cannot be analysed still has bases that build: each is judged as its own
# build (patches applied), never file by file (upstream's minAvailable: 80% over one
# activator replica would be a false EKS401).
def test_bases_of_a_failed_build_are_built(tmp_path: Path) -> None:
    write(
        tmp_path,
        {
            "example/kustomization.yaml": "resources:\n  - https://github.com/example/remote?ref=v1\n"
            "  - ../knative/base\n",
            "knative/base/kustomization.yaml": "resources: [upstream/serving-core.yaml]\n"
            "patches:\n  - path: patches/pdb.yaml\n",
            "knative/base/upstream/serving-core.yaml": DEPLOYMENT.replace("  replicas: 3\n", "")
            + "---\n"
            + PDB.replace("minAvailable: 3", "minAvailable: 80%"),
            "knative/base/patches/pdb.yaml": PDB.replace("minAvailable: 3", "minAvailable: 0"),
        },
    )
    result = lint(tmp_path)
    assert [n.file for n in result.not_analysed] == ["example/kustomization.yaml"]
    assert found(result) == set()


# argoproj/argocd-example-apps jsonnet-guestbook/guestbook-ui.jsonnet: Jsonnet, whose
# `apiVersion: 'apps/v1',` lines are no YAML; its output is what ekslint can read.
def test_jsonnet_is_not_read_as_yaml(tmp_path: Path) -> None:
    write(
        tmp_path,
        {
            "guestbook-ui.jsonnet": "local params = import 'params.libsonnet';\n[\n  {\n"
            '    apiVersion: "v1",\n    kind: "Service",\n    metadata: { name: params.name },\n  },\n]\n'
        },
    )
    result = lint(tmp_path)
    assert found(result) == set()
    assert result.files_analysed == 0


# kubeflow/manifests applications/tensorboard/tensorboard-controller/upstream/webhook:
# kubebuilder's manifests.yaml, empty (0 bytes) when controller-gen finds no webhook, is
# a resource of the kustomization: no object, and the build goes on.
def test_an_empty_resource_file_is_an_empty_resource(tmp_path: Path) -> None:
    write(
        tmp_path,
        {
            "kustomization.yaml": "resources:\n  - manifests.yaml\n  - web.yaml\n  - pdb.yaml\n"
            "replicas:\n  - name: web\n    count: 2\n",
            "manifests.yaml": "",
            "web.yaml": DEPLOYMENT,
            "pdb.yaml": PDB_TWO,
        },
    )
    result = lint(tmp_path)
    assert not result.not_analysed
    assert found(result) == {("EKS401", "pdb.yaml", 6)}


# GoogleCloudPlatform/kubernetes-engine-samples ai-ml/anthropic-agent-sandbox/Makefile:
# manifests inside a `define` block. A Makefile or Dockerfile is never an input.
def test_build_recipes_are_not_inputs(tmp_path: Path) -> None:
    recipe = (
        "PROJECT ?= demo\n\ndefine SA\napiVersion: v1\nkind: ServiceAccount\nmetadata:\n  name: $(PROJECT)\nendef\n"
    )
    write(tmp_path, {"Makefile": recipe, "build.mk": recipe, "Dockerfile.dev": "FROM alpine\n" + recipe})
    result = lint(tmp_path)
    assert found(result) == set()
    assert result.files_analysed == 0
