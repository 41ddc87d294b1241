"""CloudFormation templates as node groups: recognition, intrinsic functions, launch
templates joined to node groups, and the rules that judge them (fixtures in
tests/fixtures/cloudformation, each citing the real template it mirrors)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from ekslint.model.context import ModelContext
from ekslint.model.filemodel import build_file_model
from ekslint.model.nodegroup import Origin
from ekslint.parse.sources import Content, ReadLimits, load_bytes, sniff
from tests.conftest import lint, write

FIXTURES = Path(__file__).parent / "fixtures" / "cloudformation"


def model(name: str, content: str, context: ModelContext | None = None):  # type: ignore[no-untyped-def]
    source = load_bytes(name, content.encode(), ReadLimits())
    assert source is not None and source.content is Content.CLOUDFORMATION
    return build_file_model(source, context or ModelContext())


def found(result) -> set[tuple[str, str, int]]:  # type: ignore[no-untyped-def]
    return {(f.rule_id, f.span.file, f.span.line) for f in result.findings}


# -- recognition ---------------------------------------------------------------------------


def test_templates_are_recognised_in_yaml_and_json() -> None:
    assert sniff('AWSTemplateFormatVersion: "2010-09-09"\nResources: {}\n') is Content.CLOUDFORMATION
    assert sniff('{\n  "AWSTemplateFormatVersion": "2010-09-09"\n}\n') is Content.CLOUDFORMATION
    # No version key: a Resources section with AWS:: types (SAM-less partial templates).
    assert sniff("Resources:\n  LT:\n    Type: AWS::EC2::LaunchTemplate\n") is Content.CLOUDFORMATION
    # A template whose UserData calls bootstrap.sh is a template, not a script.
    assert (
        sniff("Resources:\n  LT:\n    Type: 'AWS::EC2::LaunchTemplate'\n    # /etc/eks/bootstrap.sh x\n")
        is Content.CLOUDFORMATION
    )


def test_kubernetes_objects_that_quote_a_template_stay_kubernetes() -> None:
    configmap = (
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: t}\ndata:\n  template: |\n"
        "    Resources:\n      X:\n        Type: AWS::S3::Bucket\n"
    )
    assert sniff(configmap) is Content.YAML
    assert sniff("Resources:\n  - a\nOther: Type: nothing\n") is None


# -- the model -----------------------------------------------------------------------------


def test_self_managed_group_from_launch_template_userdata() -> None:
    built = model("t.yaml", (FIXTURES / "self-managed-al2.yaml").read_text())
    (group,) = built.node_groups  # the bastion ASG runs no kubelet: not a node group
    assert (group.name, group.origin, group.ami_family) == ("NodeGroup", Origin.CLOUDFORMATION, "AmazonLinux2")
    assert group.span.line == 47  # the ASG's logical ID
    assert [t.name for t in group.instance_types] == ["m5.large"]
    assert [a.pattern for a in group.allowances] == ["net.core.somaxconn"]
    assert [s.value for s in group.max_pods] == [110]
    assert group.labels == {"role": "web"} and group.labels_complete
    assert group.cluster is not None and group.cluster.version == (1, 29)
    # The version comes from the parameter's Default, and the model says so.
    assert "Default is 1.29" in group.cluster.version_source
    (userdata,) = built.userdata
    assert userdata.must_be_complete  # self-managed: nothing else bootstraps the node
    assert userdata.context is not None and userdata.context.self_managed
    # ${ClusterName} and ${AWS::StackName} stay placeholders: no finding about them.
    assert not built.problems


def test_managed_group_joins_its_launch_template() -> None:
    built = model("m.yaml", (FIXTURES / "managed-al2023.yaml").read_text())
    (group,) = built.node_groups
    assert group.name == "batch" and group.ami_family == "AmazonLinux2023" and group.ami_family_explicit
    assert group.launch_template and not group.custom_ami
    # EKS's own labels: the NodegroupName and the capacity type (ON_DEMAND when unset).
    assert group.labels == {
        "workload": "batch",
        "eks.amazonaws.com/capacityType": "ON_DEMAND",
        "eks.amazonaws.com/nodegroup": "batch",
    }
    assert not group.labels_complete
    assert [str(t) for t in group.taints] == ["dedicated=batch:NoSchedule"]
    assert len(group.instance_types) == 6
    assert [s.value for s in group.max_pods] == [200]
    assert group.cluster is not None and group.cluster.name == "prod"
    (userdata,) = built.userdata
    assert not userdata.must_be_complete  # EKS merges its own NodeConfig (no ImageId)


def test_managed_group_without_instance_types_gets_eks_default() -> None:
    built = model(
        "d.yaml",
        "AWSTemplateFormatVersion: '2010-09-09'\nResources:\n  NG:\n    Type: AWS::EKS::Nodegroup\n"
        "    Properties:\n      ClusterName: c\n      NodeRole: r\n      Subnets: [s]\n",
    )
    (group,) = built.node_groups
    assert [(t.name, t.default) for t in group.instance_types] == [("t3.medium", True)]
    # InstanceTypes from a parameter: unknown, not the default.
    built = model(
        "p.yaml",
        "Resources:\n  NG:\n    Type: AWS::EKS::Nodegroup\n    Properties:\n      InstanceTypes: !Ref Types\n",
    )
    assert built.node_groups[0].instance_types == []


def test_json_join_is_placed_line_by_line() -> None:
    built = model("c.json", (FIXTURES / "custom-ami-al2023.json").read_text())
    (group,) = built.node_groups
    assert group.custom_ami and group.ami_family == "AmazonLinux2023"
    (userdata,) = built.userdata
    assert userdata.must_be_complete and userdata.nodeconfig is not None
    assert userdata.nodeconfig.kubelet.max_pods[0].span.line == 29  # the "      maxPods: 58\n" piece


def test_userdata_forms() -> None:
    template = """AWSTemplateFormatVersion: "2010-09-09"
Resources:
  Literal:
    Type: AWS::EC2::LaunchTemplate
    Properties:
      LaunchTemplateData:
        UserData: !Base64 |
          #!/bin/bash
          /etc/eks/bootstrap.sh one --kubelet-extra-args '--max-pods=11'
  SubList:
    Type: AWS::EC2::LaunchTemplate
    Properties:
      LaunchTemplateData:
        UserData:
          Fn::Base64: !Sub
            - |
              #!/bin/bash
              /etc/eks/bootstrap.sh ${Name} --kubelet-extra-args '--max-pods=12 ${Extra}'
            - Name: two
              Extra: !Ref Extra
  Conditional:
    Type: AWS::EC2::LaunchTemplate
    Properties:
      LaunchTemplateData:
        UserData: !Base64 {"Fn::If": [C, "#!/bin/bash\\n/etc/eks/bootstrap.sh x", ""]}
  Legacy:
    Type: AWS::AutoScaling::LaunchConfiguration
    Properties:
      ImageId: ami-0123456789abcdef0
      InstanceType: m5.large
      UserData: !Base64 |
        #!/bin/bash
        /etc/eks/bootstrap.sh four --kubelet-extra-args '--max-pods=14'
  LegacyGroup:
    Type: AWS::AutoScaling::AutoScalingGroup
    Properties:
      LaunchConfigurationName: !Ref Legacy
      MinSize: 1
      MaxSize: 1
"""
    built = model("u.yaml", template)
    by_name = {g.name: g for g in built.node_groups}
    assert [s.value for s in by_name["Literal"].max_pods] == [11]
    assert [(s.value, s.span.line) for s in by_name["SubList"].max_pods] == [(12, 18)]
    assert "Conditional" not in by_name  # !If: which branch runs is only known to the stack
    legacy = by_name["LegacyGroup"]
    assert [s.value for s in legacy.max_pods] == [14] and [t.name for t in legacy.instance_types] == ["m5.large"]
    assert not built.problems


def test_unreadable_userdata_leaves_allowances_unknown() -> None:
    built = model(
        "q.yaml",
        "Resources:\n  LT:\n    Type: AWS::EC2::LaunchTemplate\n    Properties:\n      LaunchTemplateData:\n"
        "        UserData: !Base64 {'Fn::If': [C, a, b]}\n"
        "  ASG:\n    Type: AWS::AutoScaling::AutoScalingGroup\n    Properties:\n"
        "      LaunchTemplate: {LaunchTemplateId: !Ref LT}\n"
        "      Tags: [{Key: kubernetes.io/cluster/prod, Value: owned}]\n",
    )
    (group,) = built.node_groups
    assert group.allowances_unknown is not None and group.allowances_unknown.line == 6
    assert not group.labels_complete


def test_placeholder_lines_never_give_findings() -> None:
    # The aws-quickstart template's Bottlerocket branch: ${LabelsArg} alone on a line
    # is not TOML until the stack fills it in.
    built = model(
        "b.yaml",
        """Resources:
  LT:
    Type: AWS::EC2::LaunchTemplate
    Properties:
      LaunchTemplateData:
        UserData:
          Fn::Base64: !Sub |
            [settings.kubernetes]
            api-server = "${Endpoint}"
            cluster-certificate = "${CaData}"
            cluster-name = "${ClusterName}"
            ${LabelsArg}
""",
    )
    assert not built.problems
    # Read through the template step: what the line sets (labels, the sysctl allowance)
    # is unknown, not "nothing".
    (group,) = built.node_groups
    assert group.allowances_unknown is not None and group.allowances_unknown.line == 12
    assert not group.allowances and not group.labels_complete


def test_flow_scalars_with_colons_parse_as_cloudformation_reads_them() -> None:
    # aws-quickstart amazon-eks-nodegroup.template.yaml: libyaml stops at `AWS::NoValue]`.
    built = model(
        "f.yaml",
        "Resources:\n  NG:\n    Type: AWS::EKS::Nodegroup\n    Properties:\n"
        "      AmiType: !If [Arm, !Ref AWS::NoValue, AL2_x86_64]\n      InstanceTypes: [m5.large]\n",
    )
    assert not built.problems and len(built.node_groups) == 1


# -- bad input ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("content", "line", "words"),
    [
        (
            "AWSTemplateFormatVersion: '2010-09-09'\nResources:\n  LT:\n    Type: AWS::EC2::LaunchTemplate\n"
            "    Properties:\n      LaunchTemplateData:\n        UserData: !Base64\n          Fn::Sub: |\n"
            "            /etc/eks/bootstrap.sh ${C}\n        ImageId: !Ref [unclosed\n",
            10,
            "template syntax error",
        ),
        (
            "AWSTemplateFormatVersion: '2010-09-09'\nResources:\n  LT:\n    Type: AWS::EC2::LaunchTemplate\n"
            "    Properties:\n      LaunchTemplateData:\n        UserData: !Base64\n          a: b\n",
            7,
            "Fn::Base64 needs a string here, not a mapping",
        ),
        (
            "AWSTemplateFormatVersion: '2010-09-09'\nResources:\n  LT:\n    Type: AWS::EC2::LaunchTemplate\n"
            "    Properties:\n      LaunchTemplateData:\n        UserData: !Base64 [a, b]\n",
            7,
            "not a list",
        ),
        (
            '{\n  "AWSTemplateFormatVersion": "2010-09-09",\n  "Resources": {\n    "A": {"Type": "AWS::X::Y"\n}\n',
            5,
            "template",
        ),
        ("AWSTemplateFormatVersion: '2010-09-09'\nResources:\n  - Type: AWS::EKS::Nodegroup\n", 3, "mapping"),
    ],
)
def test_bad_templates_are_eks001_with_a_line(tmp_path: Path, content: str, line: int, words: str) -> None:
    name = "bad.json" if content.startswith("{") else "bad.yaml"
    write(tmp_path, {name: content})
    result = lint(tmp_path)
    assert not result.crashed
    problems = [f for f in result.findings if f.rule_id == "EKS001"]
    assert problems and problems[0].span.line == line and words in problems[0].message, problems


# -- the rules on templates -------------------------------------------------------------------


def test_rules_on_the_fixtures(tmp_path: Path) -> None:
    shutil.copytree(FIXTURES, tmp_path / "t")
    result = lint(tmp_path / "t")
    assert not result.crashed
    assert found(result) == {
        # m5.large gives 29 pods an IP: --max-pods=110 (self-managed) and maxPods 200 (managed)
        ("EKS301", "self-managed-al2.yaml", 41),
        ("EKS301", "managed-al2023.yaml", 34),
        # the batch group allows a sysctl no pod that can land there (all are untolerated) sets
        ("EKS104", "managed-al2023.yaml", 36),
        # kernel.msgmax: the only group the pod's nodeSelector reaches allows somaxconn only
        ("EKS101", "pods.yaml", 27),
        ("EKS402", "pods.yaml", 39),
        # `anywhere` (no selector, tolerates all) also lands on CustomNodes, a group of no
        # known cluster (its ClusterName is a parameter), which allows no sysctl
        ("EKS106", "pods.yaml", 42),
        # the custom AMI's NodeConfig must carry the cluster details itself
        ("EKS203", "custom-ami-al2023.json", 25),
        # AL2 AmiType on the 1.33 Default of the cluster's version parameter
        ("EKS209", "eol-and-family.yaml", 23),
        # bootstrap.sh in the userdata of an AL2023 node group
        ("EKS205", "eol-and-family.yaml", 59),
    }
    eol = next(f for f in result.findings if f.rule_id == "EKS209")
    assert "Default is 1.33" in eol.message
    family = next(f for f in result.findings if f.rule_id == "EKS205")
    assert "the CloudFormation template declares node group CurrentNodes" in family.related[0].message


def test_sysctl_allowed_on_some_groups_of_one_template(tmp_path: Path) -> None:
    template = (FIXTURES / "self-managed-al2.yaml").read_text() + (
        "  SpareNodes:\n    Type: AWS::EKS::Nodegroup\n    Properties:\n      ClusterName: !Ref ControlPlane\n"
        "      AmiType: AL2_x86_64\n      InstanceTypes: [m5.large]\n"
    )
    pods = (FIXTURES / "pods.yaml").read_text()
    write(tmp_path, {"nodes.yaml": template, "pods.yaml": pods})
    result = lint(tmp_path, select=["EKS101", "EKS106"])
    # `anywhere` tolerates everything and has no selector: it lands on both groups of
    # the cluster, and only NodeGroup allows net.core.somaxconn.
    assert ("EKS106", "pods.yaml", 42) in found(result)
    # `web` is pinned to role=web, a label only NodeGroup's kubelet gets: allowed there.
    assert not any(f.span.line == 13 for f in result.findings)


def test_max_pods_above_recommendation(tmp_path: Path) -> None:
    write(
        tmp_path,
        {
            "big.yaml": "AWSTemplateFormatVersion: '2010-09-09'\nResources:\n  LT:\n"
            "    Type: AWS::EC2::LaunchTemplate\n    Properties:\n      LaunchTemplateData:\n"
            "        InstanceType: m5.24xlarge\n        UserData: !Base64 |\n          #!/bin/bash\n"
            "          /etc/eks/bootstrap.sh c --use-max-pods false --kubelet-extra-args '--max-pods=300'\n"
            "  ASG:\n    Type: AWS::AutoScaling::AutoScalingGroup\n    Properties:\n"
            "      LaunchTemplate: {LaunchTemplateId: !Ref LT}\n",
            "small.yaml": "AWSTemplateFormatVersion: '2010-09-09'\nResources:\n  LT:\n"
            "    Type: AWS::EC2::LaunchTemplate\n    Properties:\n      LaunchTemplateData:\n"
            "        InstanceType: m5.24xlarge\n        UserData: !Base64 |\n          #!/bin/bash\n"
            "          /etc/eks/bootstrap.sh c --use-max-pods false --kubelet-extra-args '--max-pods=250'\n"
            "  ASG:\n    Type: AWS::AutoScaling::AutoScalingGroup\n    Properties:\n"
            "      LaunchTemplate: {LaunchTemplateId: !Ref LT}\n",
        },
    )
    result = lint(tmp_path, select=["EKS301", "EKS304"])
    assert found(result) == {("EKS304", "big.yaml", 10)}


def test_al2_before_1_33_and_al2023_are_not_eol(tmp_path: Path) -> None:
    text = (FIXTURES / "eol-and-family.yaml").read_text().replace('Default: "1.33"', 'Default: "1.32"')
    write(tmp_path, {"t.yaml": text})
    assert not lint(tmp_path, select=["EKS209"]).findings


def test_managed_group_without_custom_ami_may_leave_cluster_fields_out(tmp_path: Path) -> None:
    text = (FIXTURES / "custom-ami-al2023.json").read_text()
    pieces = ('"ImageId": "ami-0123456789abcdef0",', '"  cluster:\\n",', '"    name: ", {"Ref": "ClusterName"}, "\\n",')
    for piece in pieces:
        assert piece in text
        text = text.replace(piece, "")
    write(tmp_path, {"t.json": text})
    assert not lint(tmp_path, select=["EKS203"]).findings


def test_managed_group_without_custom_ami_merges_a_partial_cluster_section(tmp_path: Path) -> None:
    # A launch template NodeConfig that sets only spec.cluster.name: on EKS's own AMI the
    # managed group's NodeConfig supplies the rest (as eksctl and Terraform groups are
    # read), so nothing is missing; with the custom AMI it is EKS203.
    text = (FIXTURES / "custom-ami-al2023.json").read_text()
    image = '"ImageId": "ami-0123456789abcdef0",'
    assert image in text
    write(tmp_path, {"custom/t.json": text, "eks-ami/t.json": text.replace(image, "")})
    result = lint(tmp_path, select=["EKS203"])
    assert {f.span.file for f in result.findings} == {"custom/t.json"}
