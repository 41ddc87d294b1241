"""CloudFormation as real repositories write it (the issue 14 trust pass): instance
types from a Parameter's Default, EKS's max-pods cap on managed node groups, templates
that a Go template renders, and ``ekslint nodes --cluster``. Each template is a small
one of the shape named beside it, not a copy."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from ekslint import cli
from ekslint.model.context import ModelContext
from ekslint.model.filemodel import build_file_model
from ekslint.parse.sources import Content, ReadLimits, load_bytes
from tests.conftest import chdir, lint, write

# awslabs/amazon-eks-ami amazon-eks-nodegroup.yaml (ad1ae438, removed in b0012e80): the
# instance type is a Parameter with a Default and AllowedValues, the launch template
# names it with !Ref, and bootstrap.sh gets --max-pods through --kubelet-extra-args.
SELF_MANAGED = """AWSTemplateFormatVersion: "2010-09-09"
Parameters:
  ClusterName:
    Type: String
  NodeInstanceType:
    Type: String
    Default: t3.medium
    AllowedValues: [t3.medium, m5.large, m5.24xlarge]
  NodeImageIdSSMParam:
    Type: "AWS::SSM::Parameter::Value<AWS::EC2::Image::Id>"
    Default: /aws/service/eks/optimized-ami/1.31/amazon-linux-2/recommended/image_id
Resources:
  NodeLaunchTemplate:
    Type: "AWS::EC2::LaunchTemplate"
    Properties:
      LaunchTemplateData:
        ImageId: !Ref NodeImageIdSSMParam
        InstanceType: !Ref NodeInstanceType
        UserData: !Base64
          "Fn::Sub": |
            #!/bin/bash
            set -o xtrace
            /etc/eks/bootstrap.sh ${ClusterName} --kubelet-extra-args '--max-pods=110'
            /opt/aws/bin/cfn-signal --exit-code $? --stack ${AWS::StackName} --resource NodeGroup
  NodeGroup:
    Type: "AWS::AutoScaling::AutoScalingGroup"
    Properties:
      LaunchTemplate:
        LaunchTemplateId: !Ref NodeLaunchTemplate
        Version: !GetAtt NodeLaunchTemplate.LatestVersionNumber
      MinSize: 1
      MaxSize: 3
      Tags:
        - Key: !Sub kubernetes.io/cluster/${ClusterName}
          Value: owned
          PropagateAtLaunch: true
"""

# A managed node group of the aws-quickstart/quickstart-amazon-eks-nodegroup shape
# (AWS::EKS::Nodegroup with a launch template of its own), its NodeConfig max pods on
# EKS's own AMI (no ImageId), and the instance types as a list of !Ref or a list
# Parameter.
MANAGED = """AWSTemplateFormatVersion: "2010-09-09"
Parameters:
  NodeInstanceType:
    Type: String
    Default: m5.24xlarge
  Types:
    Type: CommaDelimitedList
    Default: "m5.24xlarge, c5.24xlarge"
  NoDefault:
    Type: String
Resources:
  Template:
    Type: AWS::EC2::LaunchTemplate
    Properties:
      LaunchTemplateData:
        UserData:
          Fn::Base64: |
            MIME-Version: 1.0
            Content-Type: multipart/mixed; boundary="BOUNDARY"

            --BOUNDARY
            Content-Type: application/node.eks.aws

            apiVersion: node.eks.aws/v1alpha1
            kind: NodeConfig
            spec:
              kubelet:
                config:
                  maxPods: 300

            --BOUNDARY--
  Managed:
    Type: AWS::EKS::Nodegroup
    Properties:
      ClusterName: prod
      NodeRole: arn:aws:iam::111122223333:role/eks-node
      Subnets: [subnet-0a]
      InstanceTypes: [!Ref NodeInstanceType]
      LaunchTemplate:
        Id: !Ref Template
  FromList:
    Type: AWS::EKS::Nodegroup
    Properties:
      ClusterName: prod
      NodeRole: arn:aws:iam::111122223333:role/eks-node
      Subnets: [subnet-0a]
      InstanceTypes: !Ref Types
  Unknown:
    Type: AWS::EKS::Nodegroup
    Properties:
      ClusterName: prod
      NodeRole: arn:aws:iam::111122223333:role/eks-node
      Subnets: [subnet-0a]
      InstanceTypes: [!Ref NoDefault]
"""


def model(name: str, content: str):  # type: ignore[no-untyped-def]
    source = load_bytes(name, content.encode(), ReadLimits())
    assert source is not None and source.content is Content.CLOUDFORMATION
    return build_file_model(source, ModelContext())


def test_instance_type_from_a_parameter_default_is_read_and_says_so() -> None:
    (group,) = model("ng.yaml", SELF_MANAGED).node_groups
    (written,) = group.instance_types
    assert (written.name, written.parameter, written.span.line) == ("t3.medium", "NodeInstanceType", 7)
    assert written.describe() == "t3.medium (the Default of Parameter NodeInstanceType)"
    # Another value may be deployed: no instance-type label is promised to pods.
    assert "node.kubernetes.io/instance-type" not in group.node_labels()
    assert not group.eks_managed

    groups = {g.name: g for g in model("m.yaml", MANAGED).node_groups}
    assert [(t.name, t.parameter) for t in groups["Managed"].instance_types] == [("m5.24xlarge", "NodeInstanceType")]
    assert [(t.name, t.parameter) for t in groups["FromList"].instance_types] == [
        ("m5.24xlarge", "Types"),
        ("c5.24xlarge", "Types"),
    ]
    assert groups["Unknown"].instance_types == []  # no Default: only the stack knows
    assert all(g.eks_managed for g in groups.values())


def test_mixed_instances_overrides_from_parameters() -> None:
    # aws-quickstart/quickstart-amazon-eks-nodegroup UnmanagedASG: Overrides of !Ref.
    text = SELF_MANAGED.replace(
        "      LaunchTemplate:\n        LaunchTemplateId: !Ref NodeLaunchTemplate\n",
        "      MixedInstancesPolicy:\n        LaunchTemplate:\n          LaunchTemplateSpecification:\n"
        "            LaunchTemplateId: !Ref NodeLaunchTemplate\n          Overrides:\n"
        "            - InstanceType: !Ref NodeInstanceType\n            - InstanceType: m5.large\n",
    ).replace("        Version: !GetAtt NodeLaunchTemplate.LatestVersionNumber\n", "")
    (group,) = model("mixed.yaml", text).node_groups
    assert [(t.name, t.parameter) for t in group.instance_types] == [
        ("t3.medium", "NodeInstanceType"),
        ("m5.large", None),
    ]


def test_capacity_of_a_parameter_default_is_judged_and_named(tmp_path: Path) -> None:
    write(tmp_path, {"ng.yaml": SELF_MANAGED})
    (finding,) = lint(tmp_path, select=["EKS301"]).findings
    assert finding.span.line == 23  # the --max-pods=110 of bootstrap.sh
    assert "t3.medium (the Default of Parameter NodeInstanceType)" in finding.message
    assert finding.related and finding.related[0].span.line == 7  # the Default


def test_eks_caps_max_pods_of_managed_groups_on_its_own_ami(tmp_path: Path) -> None:
    # awsdocs/amazon-eks-user-guide nodes/choosing-instance-type.adoc, "Managed node group
    # enforcement": without a custom AMI EKS caps maxPods at 110 (250 above 30 vCPUs).
    write(tmp_path, {"m.yaml": MANAGED})
    findings = [f for f in lint(tmp_path, select=["EKS304"]).findings if f.span.line == 29]
    assert len(findings) == 1
    assert "EKS caps maxPods at 250 on managed node groups without a custom AMI" in findings[0].message
    assert "m5.24xlarge (the Default of Parameter NodeInstanceType)" in findings[0].message
    # With an ImageId the AMI is custom: EKS writes nothing, the value stands.
    custom = MANAGED.replace("      LaunchTemplateData:\n", "      LaunchTemplateData:\n        ImageId: ami-0abc\n")
    write(tmp_path, {"m.yaml": custom})
    findings = [f for f in lint(tmp_path, select=["EKS304"]).findings if f.span.line == 30]
    assert len(findings) == 1 and "EKS caps" not in findings[0].message


def test_a_go_template_of_a_template_is_not_analysed(tmp_path: Path) -> None:
    # aws/aws-k8s-tester internal/deployers/eksapi/templates/unmanaged-nodegroup.yaml.template:
    # Go template actions between CloudFormation YAML lines.
    rendered_by_go = (
        "AWSTemplateFormatVersion: '2010-09-09'\nResources:\n  LT:\n    Type: AWS::EC2::LaunchTemplate\n"
        '    Properties:\n      LaunchTemplateData:\n        InstanceType: "{{index .InstanceTypes 0}}"\n'
        "        {{ if .NetworkInterfaces -}}\n        NetworkInterfaces:\n        {{- range .NetworkInterfaces}}\n"
        "          - DeviceIndex: {{ .DeviceIndex }}\n        {{- end}}\n        {{ end -}}\n"
    )
    # CloudFormation's own {{resolve:...}} does not make a broken template a Go one.
    broken = (
        "AWSTemplateFormatVersion: '2010-09-09'\nResources:\n  LT:\n    Type: AWS::EC2::LaunchTemplate\n"
        "    Properties:\n      LaunchTemplateData:\n"
        "        ImageId: '{{resolve:ssm:/aws/service/eks/optimized-ami/1.31/amazon-linux-2/recommended/image_id}}'\n"
        "        InstanceType: [m5.large\n"
    )
    write(tmp_path, {"ng.yaml.template": rendered_by_go, "broken.yaml": broken})
    result = lint(tmp_path, select=["EKS001"])
    assert {(f.span.file, f.rule_id) for f in result.findings} == {("broken.yaml", "EKS001")}
    (skipped,) = result.not_analysed
    assert skipped.file == "ng.yaml.template" and "line 7: a Go/Jinja template expression" in skipped.reason


TWO_CLUSTERS = {
    "prod/cluster.yaml": "apiVersion: eksctl.io/v1alpha5\nkind: ClusterConfig\nmetadata: {name: prod, region: eu-west-1}\n"
    "managedNodeGroups:\n  - name: web\n    instanceType: m5.large\n",
    "prod/nodes.yaml": SELF_MANAGED,
    "dev/cluster.yaml": "apiVersion: eksctl.io/v1alpha5\nkind: ClusterConfig\nmetadata: {name: dev, region: eu-west-1}\n"
    "managedNodeGroups:\n  - name: small\n    instanceType: t3.medium\n",
}


def test_nodes_cluster_lists_one_clusters_node_groups(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write(tmp_path, TWO_CLUSTERS)
    with chdir(tmp_path):
        code = cli.main(["nodes", "--isolated", "--cluster", "prod"])
    out, err = capsys.readouterr()
    assert code == 0 and not err
    rows = {line.split()[0] for line in out.splitlines()[1:-1]}
    assert rows == {"web", "NodeGroup"}  # the template lies in prod's directory
    assert "t3.medium (Default of Parameter NodeInstanceType)" in out
    with chdir(tmp_path):
        code = cli.main(["nodes", "--isolated", "--cluster", "staging"])
    out, err = capsys.readouterr()
    assert code == 2 and not out
    assert "--cluster 'staging': no such cluster; known clusters: dev, prod" in err


def test_managed_groups_carry_the_labels_eks_sets() -> None:
    # A spot managed group of two !Ref types, as CloudFormation examples of a payment
    # platform write it (CapacityType: SPOT, AmiType: AL2_x86_64, no NodegroupName).
    text = MANAGED.replace(
        "      InstanceTypes: !Ref Types\n", "      InstanceTypes: !Ref Types\n      CapacityType: SPOT\n"
    )
    text = text.replace("      ClusterName: prod\n", "      ClusterName: prod\n      NodegroupName: web\n", 1)
    groups = {g.name: g for g in model("m.yaml", text).node_groups}
    assert groups["web"].labels == {"eks.amazonaws.com/capacityType": "ON_DEMAND", "eks.amazonaws.com/nodegroup": "web"}
    # No NodegroupName: CloudFormation makes one up, so that label stays unknown.
    assert groups["FromList"].labels == {"eks.amazonaws.com/capacityType": "SPOT"}
    assert not groups["FromList"].labels_complete


SYSCTL_POD = """apiVersion: v1
kind: Pod
metadata: {name: p}
spec:
  securityContext:
    sysctls:
      - {name: net.core.somaxconn, value: "1024"}
  containers: [{name: c, image: nginx}]
"""


def test_bootstrap_arguments_parameter_leaves_the_allowance_unknown(tmp_path: Path) -> None:
    # amazon-eks-nodegroup.yaml passes ${BootstrapArguments} (documented for
    # --kubelet-extra-args) to bootstrap.sh: its sysctl allowance is the stack's to say.
    opaque = SELF_MANAGED.replace(
        "${ClusterName} --kubelet-extra-args '--max-pods=110'", "${ClusterName} ${BootstrapArguments}"
    )
    assert opaque != SELF_MANAGED
    (group,) = model("ng.yaml", opaque).node_groups
    assert group.allowances_unknown is not None and group.allowances_unknown.line == 23
    assert not group.labels_complete
    write(tmp_path, {"ng.yaml": opaque, "pod.yaml": SYSCTL_POD})
    assert not lint(tmp_path, select=["EKS101"]).findings
    # Before a written --kubelet-extra-args it changes nothing: bootstrap.sh keeps the last.
    before = SELF_MANAGED.replace("${ClusterName} --kubelet", "${ClusterName} ${BootstrapArguments} --kubelet")
    (group,) = model("ng.yaml", before).node_groups
    assert group.allowances_unknown is None and group.labels_complete
    write(tmp_path, {"ng.yaml": before})
    assert [f.rule_id for f in lint(tmp_path, select=["EKS101"]).findings] == ["EKS101"]
    # A --kubelet-extra-args of a variable ekslint cannot know (a userdata file).
    write(
        tmp_path,
        {"ng.yaml": "", "userdata.sh": '#!/bin/bash\n/etc/eks/bootstrap.sh prod --kubelet-extra-args "$EXTRA"\n'},
    )
    assert not lint(tmp_path, select=["EKS101"]).findings


def test_an_expansion_inside_one_flag_is_only_that_flags_value(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # eksctl examples/31-override-bootstrap-command-unmanaged-nodegroup.yaml: eksctl's
    # helper sets NODE_LABELS; the expansion is the value of --node-labels, nothing more.
    script = (
        "#!/bin/bash\nsource /var/lib/cloud/scripts/eksctl/bootstrap.helper.sh\n"
        '/etc/eks/bootstrap.sh prod --kubelet-extra-args "--node-labels=${NODE_LABELS}"\n'
    )
    write(tmp_path, {"userdata.sh": script, "pod.yaml": SYSCTL_POD})
    with chdir(tmp_path):
        code = cli.main(["nodes", "--isolated", "-f", "json"])
    (group,) = json.loads(capsys.readouterr().out)["nodeGroups"]
    assert code == 0 and not group["allowedUnsafeSysctlsUnknown"] and not group["labelsComplete"]
    assert [f.rule_id for f in lint(tmp_path, select=["EKS101"]).findings] == ["EKS101"]


def test_nodes_cluster_names_a_cloudformation_cluster(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    fixture = Path(__file__).parent / "fixtures" / "cloudformation" / "managed-al2023.yaml"
    write(tmp_path, {"cfn/prod.yaml": fixture.read_text(), **{k: v for k, v in TWO_CLUSTERS.items() if "dev" in k}})
    with chdir(tmp_path):
        code = cli.main(["nodes", "--isolated", "--cluster", "prod"])  # the AWS::EKS::Cluster's Name
    out = capsys.readouterr().out
    assert code == 0 and [line.split()[0] for line in out.splitlines()[1:-1]] == ["batch"]
