"""Karpenter NodePools/EC2NodeClasses and EKS Auto Mode as node groups (issue 14)."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from ekslint.model.capacity import InstanceInfo, table
from ekslint.model.context import ModelContext
from ekslint.model.filemodel import build_file_model
from ekslint.model.instancereqs import allows, architecture, judgeable
from ekslint.model.nodegroup import Origin
from ekslint.model.project import Project
from ekslint.model.scheduling import Match, NodeRequirements, Requirement, Toleration
from ekslint.parse.sources import ReadLimits, load_bytes
from ekslint.parse.templates import is_placeholder
from tests.conftest import SHARED, lint, write

FIXTURES = Path(__file__).parent / "fixtures" / "karpenter"


def _model(path: Path):  # type: ignore[no-untyped-def]
    source = load_bytes(str(path), path.read_bytes(), ReadLimits())
    assert source is not None
    return build_file_model(source, ModelContext())


def _project(*paths: Path) -> Project:
    return Project([_model(p).facts() for p in paths], ModelContext())


def test_pool_and_class_in_different_files_are_joined() -> None:
    project = _project(FIXTURES / "nodepool-web.yaml", FIXTURES / "ec2nodeclass-al2023.yaml")
    (group,) = project.node_groups
    assert group.origin is Origin.KARPENTER and group.name == "web"
    assert group.ami_family == "AmazonLinux2023" and group.custom_ami is False
    assert [a.pattern for a in group.allowances] == ["net.core.somaxconn"]
    assert [m.value for m in group.max_pods] == [110]
    assert group.labels["team"] == "web" and group.labels["karpenter.sh/nodepool"] == "web"
    # startupTaints are removed once the node is ready: only the taint counts.
    assert [str(t) for t in group.taints] == ["team=web:NoSchedule"]
    # The same objects whichever way a rule asks (rules compare groups by identity).
    assert project.reported_node_groups()[0] is group


def test_a_class_no_pool_references_is_a_group_of_unknown_types() -> None:
    (group,) = _project(FIXTURES / "ec2nodeclass-al2023.yaml").node_groups
    assert group.instance_selector and not group.labels_complete
    # `ekslint nodes` shows it as the class it is, not as a NodePool.
    assert group.origin is Origin.KARPENTER_NODE_CLASS and group.origin.value.startswith("Karpenter node class")
    assert [a.pattern for a in group.allowances] == ["net.core.somaxconn"]


def test_al2023_userdata_is_complete_with_karpenters_part() -> None:
    model = _model(FIXTURES / "ec2nodeclass-al2023.yaml")
    (userdata,) = model.userdata
    assert userdata.nodeconfig is not None and userdata.nodeconfig.missing_cluster_fields() == []
    assert userdata.declared_family == "AmazonLinux2023" and not userdata.must_be_complete
    # Positions point into the EC2NodeClass file.
    part = userdata.nodeconfig.parts[0]
    assert part.span.file.endswith("ec2nodeclass-al2023.yaml") and part.span.line == 28


def test_requirements_act_as_labels_for_placement() -> None:
    (group,) = _project(FIXTURES / "nodepool-web.yaml", FIXTURES / "ec2nodeclass-al2023.yaml").node_groups
    tolerations = [Toleration("team", "Equal", "web", "NoSchedule")]  # the pool's taint
    spot = NodeRequirements(node_selector={"karpenter.sh/capacity-type": "spot"}, tolerations=tolerations)
    reserved = NodeRequirements(node_selector={"karpenter.sh/capacity-type": "reserved"}, tolerations=tolerations)
    family = NodeRequirements(
        affinity_terms=[[Requirement("karpenter.k8s.aws/instance-family", "In", ("m5", "c5"))]],
        tolerations=tolerations,
    )
    other = NodeRequirements(node_selector={"team": "db"}, tolerations=tolerations)
    zone = NodeRequirements(node_selector={"topology.kubernetes.io/zone": "eu-west-1a"}, tolerations=tolerations)
    karpenter_label = NodeRequirements(
        node_selector={"karpenter.k8s.aws/instance-gpu-count": "1"}, tolerations=tolerations
    )
    assert group.accepts(NodeRequirements(node_selector={"karpenter.sh/capacity-type": "spot"}))[0] is Match.NO
    assert group.label_options["karpenter.sh/capacity-type"] == ("spot", "on-demand")
    assert group.accepts(spot)[0] is Match.MAYBE  # the pool may launch spot nodes
    assert group.accepts(reserved)[0] is Match.NO
    assert group.accepts(family)[0] is Match.YES
    assert group.accepts(other)[0] is Match.NO
    assert group.accepts(zone)[0] is Match.MAYBE
    assert group.accepts(karpenter_label)[0] is Match.MAYBE


def test_placement_index_keeps_pools_with_different_options_apart(tmp_path: Path) -> None:
    pools = "\n---\n".join(
        f"""apiVersion: karpenter.sh/v1
kind: NodePool
metadata:
  name: {name}
spec:
  template:
    spec:
      nodeClassRef: {{group: karpenter.k8s.aws, kind: EC2NodeClass, name: x}}
      requirements:
        - key: karpenter.sh/capacity-type
          operator: In
          values: [{values}]"""
        for name, values in (("a", "spot, on-demand"), ("b", "on-demand, reserved"), ("c", "spot"))
    )
    write(tmp_path, {"pools.yaml": pools})
    project = _project(tmp_path / "pools.yaml")
    found = project.placements(NodeRequirements(node_selector={"karpenter.sh/capacity-type": "spot"}))
    assert [(g.name, m) for g, m in found] == [("a", Match.MAYBE), ("c", Match.YES)]


def test_notin_gt_lt_requirements_bound_the_label_for_placement(tmp_path: Path) -> None:
    # Requirement shapes of aws/karpenter-provider-aws examples/v1/general-purpose.yaml
    # (instance-generation Gt 2) and awslabs/data-on-eks infra/terraform/manifests/
    # karpenter/nodepool-*.yaml (instance-family NotIn, capacity-type In two values).
    write(
        tmp_path,
        {
            "pool.yaml": """apiVersion: karpenter.sh/v1
kind: NodePool
metadata:
  name: general
spec:
  template:
    spec:
      nodeClassRef: {group: karpenter.k8s.aws, kind: EC2NodeClass, name: default}
      requirements:
        - key: karpenter.k8s.aws/instance-generation
          operator: Gt
          values: ["2"]
        - key: karpenter.k8s.aws/instance-family
          operator: NotIn
          values: ["t2", "t3"]
        - key: karpenter.sh/capacity-type
          operator: In
          values: ["spot", "on-demand"]
        - key: karpenter.sh/capacity-type
          operator: NotIn
          values: ["spot"]
        - key: workload-tier
          operator: Exists
"""
        },
    )
    (group,) = _project(tmp_path / "pool.yaml").node_groups

    def where(key: str, *values: str) -> Match:
        return group.accepts(NodeRequirements(affinity_terms=[[Requirement(key, "In", values)]]))[0]

    def selector(key: str, value: str) -> Match:
        return group.accepts(NodeRequirements(node_selector={key: value}))[0]

    assert selector("karpenter.k8s.aws/instance-generation", "2") is Match.NO
    assert selector("karpenter.k8s.aws/instance-generation", "6") is Match.MAYBE
    assert where("karpenter.k8s.aws/instance-family", "t3", "t2") is Match.NO
    assert where("karpenter.k8s.aws/instance-family", "t3", "m5") is Match.MAYBE
    # In [spot, on-demand] less NotIn [spot]: on-demand only.
    assert group.label_options["karpenter.sh/capacity-type"] == ("on-demand",)
    assert selector("karpenter.sh/capacity-type", "spot") is Match.NO
    assert selector("karpenter.sh/capacity-type", "on-demand") is Match.YES
    assert selector("workload-tier", "gold") is Match.MAYBE  # Exists: any value
    # Pools differing only in a bound never share a placement answer.
    other = replace(group, label_bounds={}, name="open")
    key = "karpenter.k8s.aws/instance-family"
    assert group.label_view(key) != other.label_view(key)


def test_instance_requirements() -> None:
    info = table().get("m6g.large")
    assert info is not None and architecture(info) == "arm64"
    assert architecture(table().get("g4dn.xlarge")) == "amd64"  # type: ignore[arg-type]
    graviton = (Requirement("kubernetes.io/arch", "In", ("arm64",)),)
    assert allows(graviton, info)
    assert not allows((Requirement("karpenter.k8s.aws/instance-generation", "Gt", ("6",)),), info)
    assert allows((Requirement("karpenter.k8s.aws/instance-category", "In", ("m",)),), info)
    assert allows((Requirement("karpenter.k8s.aws/instance-cpu", "In", ("2",)),), info)
    metal = InstanceInfo("u-6tb1.metal", 15, 50, 448, "", True)
    assert allows((Requirement("karpenter.k8s.aws/instance-category", "In", ("u",)),), metal)
    # Memory cannot be judged from the table: the set of types is unknown.
    assert not judgeable((Requirement("karpenter.k8s.aws/instance-memory", "Gt", ("8192",)),))
    assert judgeable((Requirement("team", "In", ("web",)), Requirement("topology.kubernetes.io/zone", "In", ("a",))))


def test_worst_type_is_named_and_the_rest_counted(tmp_path: Path) -> None:
    write(
        tmp_path,
        {
            "pool.yaml": """apiVersion: karpenter.k8s.aws/v1
kind: EC2NodeClass
metadata:
  name: default
spec:
  amiSelectorTerms: [{alias: bottlerocket@latest}]
  kubelet:
    maxPods: 110
---
apiVersion: karpenter.sh/v1
kind: NodePool
metadata:
  name: default
spec:
  template:
    spec:
      nodeClassRef: {group: karpenter.k8s.aws, kind: EC2NodeClass, name: default}
      requirements:
        - {key: karpenter.k8s.aws/instance-category, operator: In, values: [c, m, r]}
        - {key: karpenter.k8s.aws/instance-generation, operator: Gt, values: ["5"]}
"""
        },
    )
    result = lint(tmp_path, select=["EKS301"])
    (finding,) = result.findings
    assert finding.span.line == 8
    assert "the smallest of its instance types" in finding.message
    assert " more)" in finding.message and len(finding.message) < 1200


def test_unjudgeable_requirements_are_not_judged(tmp_path: Path) -> None:
    write(
        tmp_path,
        {
            "pool.yaml": """apiVersion: karpenter.sh/v1beta1
kind: NodePool
metadata:
  name: big
spec:
  template:
    spec:
      nodeClassRef: {name: default}
      kubelet:
        maxPods: 250
      requirements:
        - {key: karpenter.k8s.aws/instance-memory, operator: Gt, values: ["65536"]}
"""
        },
    )
    assert lint(tmp_path, select=["EKS301"]).findings == []


def test_v1beta1_pool_kubelet_counts_and_v1_pool_kubelet_is_refused(tmp_path: Path) -> None:
    body = """kind: NodePool
metadata:
  name: small
spec:
  template:
    spec:
      nodeClassRef: {name: default}
      kubelet:
        maxPods: 40
      requirements:
        - {key: node.kubernetes.io/instance-type, operator: In, values: [m5.large]}
"""
    write(
        tmp_path,
        {"beta.yaml": "apiVersion: karpenter.sh/v1beta1\n" + body, "v1.yaml": "apiVersion: karpenter.sh/v1\n" + body},
    )
    found = {(f.rule_id, Path(f.span.file).name, f.span.line) for f in lint(tmp_path).findings}
    assert ("EKS301", "beta.yaml", 10) in found  # m5.large holds 29
    assert ("EKS002", "v1.yaml", 9) in found
    assert not any(f[1] == "v1.yaml" and f[0] == "EKS301" for f in found)


def test_auto_mode(tmp_path: Path) -> None:
    write(
        tmp_path,
        {
            "auto.yaml": """apiVersion: eks.amazonaws.com/v1
kind: NodeClass
metadata:
  name: private
spec:
  role: MyNodeRole
  userData: |
    #!/bin/bash
    echo hello
---
apiVersion: karpenter.sh/v1
kind: NodePool
metadata:
  name: system
spec:
  template:
    spec:
      nodeClassRef: {group: eks.amazonaws.com, kind: NodeClass, name: private}
      taints:
        - {key: CriticalAddonsOnly, effect: NoSchedule}
"""
        },
    )
    result = lint(tmp_path)
    (finding,) = [f for f in result.findings if f.rule_id == "EKS002"]
    assert finding.span.line == 7 and "Auto Mode" in finding.message and "userdata" in finding.message
    project = _project(tmp_path / "auto.yaml")
    (group,) = project.node_groups
    assert group.origin is Origin.AUTO_MODE and [str(t) for t in group.taints] == ["CriticalAddonsOnly:NoSchedule"]


def test_legacy_kinds_are_recognised(tmp_path: Path) -> None:
    write(
        tmp_path,
        {
            "legacy.yaml": """apiVersion: karpenter.sh/v1alpha5
kind: Provisioner
metadata:
  name: default
spec:
  labels: {team: batch}
  kubeletConfiguration:
    maxPods: notanumber
  providerRef: {name: default}
---
apiVersion: karpenter.k8s.aws/v1alpha1
kind: AWSNodeTemplate
metadata:
  name: default
spec:
  amiFamily: Bottlerocket
"""
        },
    )
    (group,) = _project(tmp_path / "legacy.yaml").node_groups
    assert group.ami_family == "Bottlerocket" and group.labels["team"] == "batch"
    assert any(f.rule_id == "EKS002" and f.span.line == 8 for f in lint(tmp_path).findings)


@pytest.mark.parametrize(
    "spec",
    [
        "spec: 5",
        "spec: {template: 3}",
        "spec: {template: {spec: {requirements: [1, {key: 2}], taints: {a: b}, nodeClassRef: []}}}",
        "spec: {template: {spec: {requirements: [{key: a, operator: Gt, values: [x]}]}}}",
    ],
)
def test_bad_pool_shapes_never_crash(tmp_path: Path, spec: str) -> None:
    write(tmp_path, {"p.yaml": f"apiVersion: karpenter.sh/v1\nkind: NodePool\nmetadata: {{name: p}}\n{spec}\n"})
    result = lint(tmp_path)
    assert not result.crashed


@pytest.mark.parametrize(
    "spec",
    [
        "spec: {amiSelectorTerms: 3, userData: 5, kubelet: [1]}",
        "spec: {amiSelectorTerms: [{alias: 7}], userData: ''}",
        'spec: {amiFamily: AL2, userData: "H4sIAAAA"}',
        "spec: {amiSelectorTerms: [{alias: windows2022@latest}], userData: '<powershell>x</powershell>'}",
    ],
)
def test_bad_class_shapes_never_crash(tmp_path: Path, spec: str) -> None:
    write(
        tmp_path, {"c.yaml": f"apiVersion: karpenter.k8s.aws/v1\nkind: EC2NodeClass\nmetadata: {{name: c}}\n{spec}\n"}
    )
    result = lint(tmp_path)
    assert not result.crashed


def test_fixture_bad_input_is_reported_with_positions() -> None:
    result = lint(FIXTURES, "ec2nodeclass-bad.yaml")
    found = {(f.rule_id, f.span.line, f.span.col) for f in result.findings}
    assert ("EKS002", 13, 14) in found  # maxPods: notanumber
    assert ("EKS001", 22, 5) in found  # no closing MIME boundary
    (unclosed,) = [f for f in result.findings if f.rule_id == "EKS001"]
    assert "Karpenter merges it with Go's mime/multipart" in unclosed.message
    assert unclosed.message.startswith("userData of EC2NodeClass broken")


def test_public_karpenter_configs_read_without_crash() -> None:
    folder = SHARED / "public-configs" / "karpenter"
    if not folder.is_dir():
        pytest.skip("public configs not present")
    result = lint(folder)
    assert not result.crashed and not result.input_errors


def test_al2_userdata_bootstrap_call_is_replaced_by_karpenters() -> None:
    path = Path(__file__).parent / "rules" / "EKS205" / "fail.karpenter-al2-userdata-bootstrap.yaml"
    (group,) = _project(path).node_groups
    assert group.ami_family == "AmazonLinux2" and group.allowances == []
    (ignored,) = group.ignored_allowances
    assert ignored.allowance.pattern == "net.core.somaxconn" and "Karpenter runs" in ignored.reason


def test_karpenters_kubelet_max_pods_wins_over_the_users_nodeconfig(tmp_path: Path) -> None:
    write(
        tmp_path,
        {
            "class.yaml": """apiVersion: karpenter.k8s.aws/v1
kind: EC2NodeClass
metadata:
  name: default
spec:
  amiSelectorTerms: [{alias: al2023@latest}]
  kubelet:
    maxPods: 20
  userData: |
    apiVersion: node.eks.aws/v1alpha1
    kind: NodeConfig
    spec:
      kubelet:
        config:
          maxPods: 500
"""
        },
    )
    (group,) = _project(tmp_path / "class.yaml").node_groups
    assert [(m.value, m.span.line) for m in group.max_pods] == [(20, 8)]


def test_auto_mode_builtin_pools_from_eksctl(tmp_path: Path) -> None:
    # eksctl examples/42-auto-mode.yaml: nodePools defaults to general-purpose and system.
    config = """apiVersion: eksctl.io/v1alpha5
kind: ClusterConfig
metadata: {name: auto, region: us-west-2, version: "1.33"}
autoModeConfig:
  enabled: true
"""
    write(
        tmp_path,
        {"cluster.yaml": config, "none.yaml": config.replace("enabled: true", "enabled: true\n  nodePools: []")},
    )
    groups = _project(tmp_path / "cluster.yaml").node_groups
    assert [(g.name, g.origin) for g in groups] == [("general-purpose", Origin.AUTO_MODE), ("system", Origin.AUTO_MODE)]
    system = groups[1]
    assert [str(t) for t in system.taints] == ["CriticalAddonsOnly:NoSchedule"]
    assert system.accepts(NodeRequirements(node_selector={"kubernetes.io/arch": "arm64"}))[0] is Match.NO  # tainted
    assert groups[0].accepts(NodeRequirements(node_selector={"kubernetes.io/arch": "arm64"}))[0] is Match.NO
    assert groups[0].allowances == []
    assert _project(tmp_path / "none.yaml").node_groups == []


def test_a_sysctl_refused_on_auto_mode_pools_says_they_take_no_kubelet_settings(tmp_path: Path) -> None:
    # EKS user guide create-node-class: an Auto Mode NodeClass has no kubelet settings, so
    # "add it to the kubelet's allowed unsafe sysctls" cannot be done on its pools.
    write(
        tmp_path,
        {
            "auto.yaml": (
                "apiVersion: eks.amazonaws.com/v1\nkind: NodeClass\nmetadata: {name: private}\n"
                "spec:\n  role: MyNodeRole\n---\n"
                "apiVersion: karpenter.sh/v1\nkind: NodePool\nmetadata: {name: general}\nspec:\n  template:\n"
                "    spec:\n      nodeClassRef: {group: eks.amazonaws.com, kind: NodeClass, name: private}\n"
            ),
            "pod.yaml": (
                "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  securityContext:\n"
                '    sysctls: [{name: net.core.somaxconn, value: "1"}]\n  containers: [{name: c, image: x}]\n'
            ),
        },
    )
    (finding,) = lint(tmp_path, select=["EKS101"]).findings
    assert "EKS Auto Mode node pools take no kubelet settings" in finding.message
    assert "Add net.core.somaxconn to the kubelet's allowed unsafe sysctls" not in finding.message


@pytest.mark.parametrize(
    ("alias", "words"),
    [
        ("ubuntu@latest", "names family 'ubuntu'"),
        ("al2023", "is not of the form family@version"),
        ("windows2022@v20240101", "Windows aliases take only @latest"),
    ],
)
def test_a_v1_alias_the_api_server_refuses_is_eks002(tmp_path: Path, alias: str, words: str) -> None:
    # aws/karpenter-provider-aws pkg/apis/v1/ec2nodeclass.go AMISelectorTerm.Alias CEL rules.
    write(
        tmp_path,
        {
            "nc.yaml": (
                "apiVersion: karpenter.k8s.aws/v1\nkind: EC2NodeClass\nmetadata: {name: x}\nspec:\n  role: R\n"
                f"  amiSelectorTerms:\n    - alias: {alias}\n"
            )
        },
    )
    (finding,) = lint(tmp_path, select=["EKS002"]).findings
    assert (finding.span.line, finding.span.col) == (7, 14) and words in finding.message


def test_pool_taints_the_api_server_refuses_are_eks002(tmp_path: Path) -> None:
    pool = (
        "apiVersion: karpenter.sh/v1\nkind: NodePool\nmetadata: {name: p}\nspec:\n  template:\n    spec:\n"
        "      nodeClassRef: {group: karpenter.k8s.aws, kind: EC2NodeClass, name: x}\n"
    )
    write(
        tmp_path,
        {
            "a.yaml": pool + "      taints: notalist\n",
            "b.yaml": pool + "      startupTaints: [{key: k, effect: NoSchedul}]\n",
            "ok.yaml": pool + "      taints: [{key: k, effect: NoExecute}]\n",
        },
    )
    found = {(f.span.file, f.span.line, f.span.col) for f in lint(tmp_path, select=["EKS002"]).findings}
    assert found == {("a.yaml", 8, 7), ("b.yaml", 8, 40)}


def test_v1alpha5_inline_provider_and_launch_templates(tmp_path: Path) -> None:
    # The v1alpha5 shapes of aws/karpenter-provider-aws's pre-v0.32 getting-started
    # scripts (website/content/en/v0.17.0/getting-started/.../step11-create-provisioner.sh:
    # spec.provider inline) and of AWSNodeTemplate with a launchTemplate
    # (pkg/apis/v1alpha1/provider.go LaunchTemplateName, at dafe148a3^).
    write(
        tmp_path,
        {
            "provisioners.yaml": """apiVersion: karpenter.sh/v1alpha5
kind: Provisioner
metadata:
  name: inline-br
spec:
  provider:
    amiFamily: Bottlerocket
    subnetSelector: {karpenter.sh/discovery: demo}
---
apiVersion: karpenter.sh/v1alpha5
kind: Provisioner
metadata:
  name: inline-default
spec:
  provider:
    subnetSelector: {karpenter.sh/discovery: demo}
---
apiVersion: karpenter.sh/v1alpha5
kind: Provisioner
metadata:
  name: inline-lt
spec:
  provider:
    launchTemplate: my-template
---
apiVersion: karpenter.sh/v1alpha5
kind: Provisioner
metadata:
  name: by-ref
spec:
  providerRef:
    name: lt
---
apiVersion: karpenter.k8s.aws/v1alpha1
kind: AWSNodeTemplate
metadata:
  name: lt
spec:
  launchTemplate: my-template
  subnetSelector: {karpenter.sh/discovery: demo}
"""
        },
    )
    groups = {g.name: g for g in _project(tmp_path / "provisioners.yaml").node_groups}
    assert groups["inline-br"].ami_family == "Bottlerocket" and groups["inline-br"].ami_family_explicit
    assert groups["inline-default"].ami_family == "AmazonLinux2"  # Karpenter's default family
    # A launch template decides the AMI and userdata: unknown, and not taken for AL2.
    for name in ("inline-lt", "by-ref"):
        assert groups[name].ami_family is None and groups[name].custom_ami is None
        # ... and so are the kubelet's allowed sysctls (no EKS101 "none allows it").
        assert groups[name].allowances_unknown is not None
    assert groups["inline-default"].allowances_unknown is None
    assert set(groups) == {"inline-br", "inline-default", "inline-lt", "by-ref"}


def test_pools_and_classes_in_terraform_manifest_heredocs_are_read(tmp_path: Path) -> None:
    # Shape of aws-samples/karpenter-blueprints cluster/terraform/karpenter.tf: the
    # default EC2NodeClass and NodePool as kubectl_manifest yaml_body heredocs with
    # Terraform references; a kubernetes_manifest yamldecode() of a heredoc (hashicorp
    # provider); a templatefile() manifest (awslabs/data-on-eks infra/terraform/
    # karpenter.tf), which is a file of its own and not read twice.
    write(
        tmp_path,
        {
            "karpenter.tf": """resource "kubectl_manifest" "node_class" {
  yaml_body = <<-YAML
    apiVersion: karpenter.k8s.aws/v1
    kind: EC2NodeClass
    metadata:
      name: default
    spec:
      role: "${module.karpenter.node_iam_role_name}"
      amiSelectorTerms:
      - alias: bottlerocket@latest
      subnetSelectorTerms:
      - tags:
          karpenter.sh/discovery: ${module.eks.cluster_name}
  YAML
}

resource "kubectl_manifest" "node_pool" {
  yaml_body = <<-YAML
    apiVersion: karpenter.sh/v1
    kind: NodePool
    metadata:
      name: default
    spec:
      template:
        metadata:
          labels:
            intent: apps
        spec:
          requirements:
            - key: karpenter.k8s.aws/instance-category
              operator: In
              values: ["c", "m"]
          nodeClassRef:
            name: default
            group: karpenter.k8s.aws
            kind: EC2NodeClass
  YAML
}

resource "kubernetes_manifest" "gpu" {
  manifest = yamldecode(<<-EOT
    apiVersion: karpenter.sh/v1
    kind: NodePool
    metadata:
      name: gpu
    spec:
      template:
        spec:
          nodeClassRef: {group: karpenter.k8s.aws, kind: EC2NodeClass, name: default}
          taints:
            - key: nvidia.com/gpu
              effect: NoSchedule
  EOT
  )
}

resource "kubectl_manifest" "from_file" {
  yaml_body = templatefile("${path.module}/pool.yaml", {})
}
""",
            "pool.yaml": """apiVersion: karpenter.sh/v1
kind: NodePool
metadata:
  name: from-file
spec:
  template:
    spec:
      nodeClassRef: {group: karpenter.k8s.aws, kind: EC2NodeClass, name: default}
""",
        },
    )
    project = _project(tmp_path / "karpenter.tf", tmp_path / "pool.yaml")
    groups = {g.name: g for g in project.node_groups}
    assert sorted(groups) == ["default", "from-file", "gpu"]
    pool = groups["default"]
    assert pool.origin is Origin.KARPENTER and pool.ami_family == "Bottlerocket"
    assert pool.labels["intent"] == "apps" and pool.label_options["karpenter.k8s.aws/instance-category"] == ("c", "m")
    assert pool.span.file.endswith("karpenter.tf") and (pool.span.line, pool.span.col) == (22, 7)  # its `name:`
    assert [str(t) for t in groups["gpu"].taints] == ["nvidia.com/gpu:NoSchedule"]
    assert groups["gpu"].ami_family == "Bottlerocket"  # joined across the two resources


@pytest.mark.parametrize(
    ("selector", "unclosed"), [("amiSelectorTerms: [{alias: al2023@latest}]", False), ("amiFamily: Custom", True)]
)
def test_userdata_ending_on_a_delimiter_without_newline(tmp_path: Path, selector: str, unclosed: bool) -> None:
    # aws/karpenter-provider-aws test/suites/scheduling/testdata/hugepage_userdata_input.sh
    # ends with `--==MYBOUNDARY==` and no newline; its e2e suite puts it in an
    # EC2NodeClass's userData. Karpenter's NewArchive stops on errors.Is(err, io.EOF) and
    # reads it whole; with amiFamily Custom nothing merges it and nodeadm's
    # `err == io.EOF` does not match the wrapped error: the read fails.
    write(
        tmp_path,
        {
            "class.yaml": f"""apiVersion: karpenter.k8s.aws/v1
kind: EC2NodeClass
metadata:
  name: hugepages
spec:
  {selector}
  role: KarpenterNodeRole-demo
  userData: |-
    MIME-Version: 1.0
    Content-Type: multipart/mixed; boundary="==MYBOUNDARY=="

    --==MYBOUNDARY==
    Content-Type: text/x-shellscript; charset="us-ascii"

    #!/bin/bash
    sudo sysctl -w vm.nr_hugepages=2048
    --==MYBOUNDARY==
"""
        },
    )
    found = [f for f in lint(tmp_path).findings if f.rule_id == "EKS001"]
    assert bool(found) is unclosed


def test_v1_class_selecting_amis_without_alias_needs_an_ami_family(tmp_path: Path) -> None:
    # aws-samples/karpenter-blueprints blueprints/update-nodes-with-drift/latest-current-ami.yaml:
    # AMIs pinned by id, no alias, no amiFamily: the v1 CRD's CEL rule refuses it.
    head = "apiVersion: karpenter.k8s.aws/v1\nkind: EC2NodeClass\nmetadata:\n  name: pinned\nspec:\n  role: r\n"
    terms = "  amiSelectorTerms:\n    - id: ami-0123456789abcdef0\n    - id: ami-0fedcba9876543210\n"
    write(tmp_path, {"pinned.yaml": head + terms, "family.yaml": head + "  amiFamily: AL2023\n" + terms})
    found = [(f.rule_id, Path(f.span.file).name, f.span.line) for f in lint(tmp_path).findings]
    assert found == [("EKS002", "pinned.yaml", 7)]
    assert "must specify amiFamily" in lint(tmp_path).findings[0].message


def test_templated_labels_requirements_and_taints_are_unknown(tmp_path: Path) -> None:
    # A NodePool in a Terraform kubectl_manifest heredoc (aws-samples/karpenter-blueprints
    # cluster/terraform/karpenter.tf writes its pools so) or an envsubst template takes its
    # values from the render: ${var.team} is some label value, not the text "${var.team}",
    # and a taint whose key only the render knows may be one the pod tolerates.
    write(
        tmp_path,
        {
            "karpenter.tf": """resource "kubectl_manifest" "pool" {
  yaml_body = <<-YAML
    apiVersion: karpenter.sh/v1
    kind: NodePool
    metadata:
      name: ${var.pool_name}
    spec:
      template:
        metadata:
          labels:
            team: ${var.team}
        spec:
          requirements:
            - key: node.kubernetes.io/instance-type
              operator: In
              values: ${jsonencode(var.instance_types)}
            - key: tier
              operator: In
              values: ["${var.tier}"]
          taints:
            - key: ${var.taint_key}
              effect: NoSchedule
            - key: dedicated
              effect: NoSchedule
          nodeClassRef: {group: karpenter.k8s.aws, kind: EC2NodeClass, name: default}
  YAML
}

resource "kubectl_manifest" "class" {
  yaml_body = <<-YAML
    apiVersion: karpenter.k8s.aws/v1
    kind: EC2NodeClass
    metadata:
      name: default
    spec:
      amiSelectorTerms: [{alias: al2023@latest}]
      kubelet:
        maxPods: 58
  YAML
}
""",
        },
    )
    assert not lint(tmp_path).findings
    (group,) = _project(tmp_path / "karpenter.tf").node_groups
    # Instance types only the render knows: no capacity judged (no EKS301 below).
    assert group.name == "<templated>" and [is_placeholder(t.name) for t in group.instance_types] == [True]
    assert [t.key for t in group.taints] == ["dedicated"]
    tolerated = [Toleration("dedicated", "Exists", "", "NoSchedule")]
    for selector in ({"team": "ml"}, {"tier": "gold"}, {"karpenter.sh/nodepool": "gpu"}):
        match, _ = group.accepts(NodeRequirements(node_selector=selector, tolerations=tolerated))
        assert match is not Match.NO, selector


MISSING_CLASS_POOL = """apiVersion: karpenter.sh/v1
kind: NodePool
metadata:
  name: general
spec:
  template:
    spec:
      nodeClassRef:
        group: {group}
        kind: {kind}
        name: managed-elsewhere
"""
UNSAFE_SYSCTL_POD = """apiVersion: v1
kind: Pod
metadata:
  name: queue
spec:
  securityContext:
    sysctls:
      - name: kernel.msgmax
        value: "65536"
  containers:
    - name: queue
      image: busybox:1.36
"""


def test_a_pool_whose_ec2nodeclass_is_in_no_file_has_an_unknown_allowance(tmp_path: Path) -> None:
    # The EC2NodeClass (another repository, a Helm chart) may allow the sysctl in its
    # userData, which Karpenter merges into the node's bootstrap (aws/karpenter-provider-aws
    # pkg/providers/amifamily/bootstrap/nodeadm.go): "no node group allows it" cannot be said.
    write(
        tmp_path,
        {
            "pool.yaml": MISSING_CLASS_POOL.format(group="karpenter.k8s.aws", kind="EC2NodeClass"),
            "pod.yaml": UNSAFE_SYSCTL_POD,
        },
    )
    assert lint(tmp_path, select=["EKS101"]).findings == []
    # An Auto Mode NodeClass has no userData: its pools allow no unsafe sysctl.
    write(tmp_path, {"pool.yaml": MISSING_CLASS_POOL.format(group="eks.amazonaws.com", kind="NodeClass")})
    (finding,) = lint(tmp_path, select=["EKS101"]).findings
    assert "kernel.msgmax" in finding.message
