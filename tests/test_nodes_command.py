"""``ekslint nodes``: every node group ekslint found, from every source, in text and JSON."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from ekslint import cli, nodes_cli
from tests.conftest import chdir, write

FIXTURES = Path(__file__).parent / "fixtures" / "cloudformation"

# eksctl's examples/05-advanced-nodegroups.yaml shape: a managed group with labels and
# taints, and a self-managed one on a list of instance types with kubeletExtraConfig.
CLUSTER_CONFIG = """apiVersion: eksctl.io/v1alpha5
kind: ClusterConfig
metadata:
  name: shop
  version: "1.31"
managedNodeGroups:
  - name: web
    instanceType: m5.large
    labels: {role: web}
    taints:
      - {key: dedicated, value: web, effect: NoSchedule}
nodeGroups:
  - name: spot
    amiFamily: AmazonLinux2023
    instancesDistribution:
      instanceTypes: [m5.large, m5a.large, m5d.large, m5n.large, m5ad.large, m5dn.large]
    kubeletExtraConfig:
      allowedUnsafeSysctls: ["net.core.somaxconn"]
"""
# An AL2 userdata file as terraform-aws-eks renders it (templates/linux_user_data.tpl).
USERDATA = """#!/bin/bash
set -e
/etc/eks/bootstrap.sh shop --kubelet-extra-args '--max-pods=20'
"""
CONFIG = """node-groups:
  - name: karpenter-default
    labels: {karpenter.sh/nodepool: default}
    allowed-unsafe-sysctls: ["kernel.msg*"]
"""


@pytest.fixture
def mixed(tmp_path: Path) -> Path:
    write(
        tmp_path,
        {
            ".ekslint.yaml": CONFIG,
            "eksctl/cluster.yaml": CLUSTER_CONFIG,
            "nodes/al2.sh": USERDATA,
            "cfn/self-managed-al2.yaml": (FIXTURES / "self-managed-al2.yaml").read_text(),
            "cfn/managed-al2023.yaml": (FIXTURES / "managed-al2023.yaml").read_text(),
            "README.md": "# not an input\n",
        },
    )
    return tmp_path


def run(directory: Path, *args: str, capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    with chdir(directory):
        code = cli.main(["nodes", *args])
    out, err = capsys.readouterr()
    return code, out, err


def test_text_lists_every_source(mixed: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(mixed, capsys=capsys)
    assert code == 0 and not err
    lines = out.splitlines()
    assert lines[0].split()[:3] == ["NODE", "GROUP", "DEFINED"]
    rows = {line.split()[0]: line for line in lines[1:-1]}
    assert set(rows) == {"web", "spot", "al2.sh", "NodeGroup", "batch", "karpenter-default"}
    assert lines[-1] == "6 node groups."
    # where, origin, cluster (version), family, types, max pods / capacity, sysctls, taints, labels
    assert "cfn/self-managed-al2.yaml:47" in rows["NodeGroup"]
    assert "CloudFormation" in rows["NodeGroup"] and "ControlPlane (1.29)" in rows["NodeGroup"]
    assert "110 / 29 (m5.large)" in rows["NodeGroup"] and "net.core.somaxconn" in rows["NodeGroup"]
    assert "role=web" in rows["NodeGroup"]
    assert "dedicated=batch:NoSchedule" in rows["batch"] and "workload=batch" in rows["batch"]
    assert "m5.large, c5.xlarge, c5.2xlarge, m5.2xlarge and 2 more" in rows["batch"]
    assert "eksctl managed node group" in rows["web"] and "shop (1.31)" in rows["web"]
    assert "dedicated=web:NoSchedule" in rows["web"] and "role=web" in rows["web"]
    assert "m5.large, m5a.large, m5d.large, m5n.large and 2 more" in rows["spot"]
    assert "net.core.somaxconn" in rows["spot"]
    assert "20 / ?" in rows["al2.sh"] and "userdata" in rows["al2.sh"]
    assert "ekslint config" in rows["karpenter-default"] and "kernel.msg*" in rows["karpenter-default"]


def test_json_document(mixed: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(mixed, "--format", "json", capsys=capsys)
    assert code == 0
    document = json.loads(out)
    assert document["version"] == nodes_cli.SCHEMA_VERSION
    groups = {g["name"]: g for g in document["nodeGroups"]}
    group = groups["NodeGroup"]
    assert set(group) == {
        "name",
        "file",
        "line",
        "column",
        "origin",
        "cluster",
        "kubernetesVersion",
        "amiFamily",
        "customAmi",
        "instanceTypes",
        "instanceTypesDefault",
        "instanceTypeParameters",
        "instanceSelector",
        "maxPods",
        "allowedUnsafeSysctls",
        "allowedUnsafeSysctlsUnknown",
        "taints",
        "labels",
        "labelsComplete",
    }
    assert (group["file"], group["line"], group["origin"]) == ("cfn/self-managed-al2.yaml", 47, "CloudFormation")
    assert group["cluster"] == {"name": "ControlPlane", "file": "cfn/self-managed-al2.yaml", "line": 23}
    assert group["kubernetesVersion"] == "1.29" and group["amiFamily"] == "AmazonLinux2"
    assert group["maxPods"]["configured"][0]["value"] == 110
    assert group["maxPods"]["capacity"]["instanceType"] == "m5.large"
    assert group["maxPods"]["capacity"]["maxPods"] == 29
    assert [a["pattern"] for a in group["allowedUnsafeSysctls"]] == ["net.core.somaxconn"]
    assert groups["batch"]["taints"] == ["dedicated=batch:NoSchedule"]
    assert len(groups["batch"]["instanceTypes"]) == 6  # JSON lists them all
    assert groups["karpenter-default"]["file"] == ".ekslint.yaml"


def test_paths_config_and_exit_codes(mixed: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(mixed, "cfn", "--isolated", capsys=capsys)
    assert code == 0 and out.splitlines()[-1] == "2 node groups."
    code, out, _ = run(mixed, "README.md", "--isolated", capsys=capsys)
    assert code == 0 and out == "No node groups found.\n"
    code, _, err = run(mixed, "--format", "sarif", capsys=capsys)
    assert code == 2 and "invalid choice" in err
    code, _, err = run(mixed, "missing", capsys=capsys)
    assert code == 2 and "missing" in err
    code, _, err = run(mixed, "--config", "nope.yaml", capsys=capsys)
    assert code == 2 and "no such config file" in err


def test_a_path_named_nodes_is_linted_as_dot_slash(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    shutil.copytree(FIXTURES, tmp_path / "nodes")
    with chdir(tmp_path):
        code = cli.main(["--isolated", "./nodes", "--select", "EKS209"])
    out, _ = capsys.readouterr()
    assert code == 1 and "EKS209" in out


def test_a_node_group_without_a_cluster_of_its_own_is_shown_in_the_cluster_it_lies_in(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # A userdata file beside the cluster's ClusterConfig belongs to that cluster (the
    # automatic scoping), and `ekslint nodes` says so, as the cross-file rules place it.
    write(
        tmp_path,
        {
            "cluster.yaml": "apiVersion: eksctl.io/v1alpha5\nkind: ClusterConfig\nmetadata: {name: shop, region: eu-west-1}\n"
            "managedNodeGroups:\n  - name: general\n",
            "other/cluster.yaml": "apiVersion: eksctl.io/v1alpha5\nkind: ClusterConfig\n"
            "metadata: {name: lab, region: eu-west-1}\n",
            "nodes/userdata.sh": "#!/bin/bash\n/etc/eks/bootstrap.sh shop --kubelet-extra-args '--max-pods=20'\n",
        },
    )
    with chdir(tmp_path):
        assert cli.main(["nodes", "--isolated", "--format", "json"]) == 0
    groups = {g["name"]: g for g in json.loads(capsys.readouterr().out)["nodeGroups"]}
    assert groups["userdata.sh"]["cluster"] == {"name": "shop", "file": None, "line": None}
    assert groups["general"]["cluster"]["name"] == "shop" and groups["general"]["cluster"]["file"] == "cluster.yaml"


def test_templates_the_lint_run_reads_are_listed_with_placeholders_unknown(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # terraform-aws-eks templates/bottlerocket_user_data.tpl and al2023 NodeConfig shapes:
    # a directive (%{ }) sends them through the template step, which the lint run reads;
    # `nodes` lists them too, and a value only the rendering knows shows as "?", never
    # as the template step's stand-in token.
    write(
        tmp_path,
        {
            "bottlerocket.toml.tpl": (
                '[settings.kubernetes]\ncluster-name = "${cluster_name}"\nmax-pods = ${max_pods}\n'
                "%{ for k, v in node_labels ~}\n[settings.kubernetes.node-labels]\n"
                '"${k}" = "${v}"\n%{ endfor ~}\n'
            ),
            "nodeconfig.yaml.tftpl": (
                "apiVersion: node.eks.aws/v1alpha1\nkind: NodeConfig\nspec:\n  kubelet:\n    config:\n"
                '      allowedUnsafeSysctls: ["net.core.somaxconn"]\n'
                "%{ if max_pods != null ~}\n      maxPods: 17\n%{ endif ~}\n"
            ),
        },
    )
    code, out, _ = run(tmp_path, "-f", "json", capsys=capsys)
    assert code == 0
    rows = {row["name"]: row for row in json.loads(out)["nodeGroups"]}
    assert set(rows) == {"bottlerocket.toml.tpl", "nodeconfig.yaml.tftpl"}
    assert rows["bottlerocket.toml.tpl"]["maxPods"]["configured"][0]["text"] is None
    assert [a["pattern"] for a in rows["nodeconfig.yaml.tftpl"]["allowedUnsafeSysctls"]] == ["net.core.somaxconn"]
    code, out, _ = run(tmp_path, capsys=capsys)
    assert "$_" not in out and "? / ?" in out and "17 / ?" in out


def test_a_managed_group_on_eks_ami_shows_the_eks_cap(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # EKS caps maxPods at 110 below 30 vCPUs on managed groups without a custom AMI
    # (awsdocs/amazon-eks-user-guide, "Managed node group enforcement"): m5.4xlarge has 234
    # pod IPs, but such a group runs at most 110 pods.
    (tmp_path / "cluster.yaml").write_text(
        "apiVersion: eksctl.io/v1alpha5\nkind: ClusterConfig\nmetadata:\n  name: shop\n  region: us-east-1\n"
        "managedNodeGroups:\n  - name: big\n    instanceType: m5.4xlarge\n"
        "nodeGroups:\n  - name: self\n    instanceType: m5.4xlarge\n"
    )
    with chdir(tmp_path):
        assert cli.main(["nodes", "--isolated", "--format", "json", "."]) == 0
    groups = {g["name"]: g for g in json.loads(capsys.readouterr().out)["nodeGroups"]}
    assert groups["big"]["maxPods"]["capacity"]["maxPods"] == 234
    assert groups["big"]["maxPods"]["capacity"]["eksCap"] == 110
    assert groups["self"]["maxPods"]["capacity"]["eksCap"] is None  # self-managed: EKS writes nothing
    with chdir(tmp_path):
        assert cli.main(["nodes", "--isolated", "."]) == 0
    assert "234 (m5.4xlarge), EKS caps at 110" in capsys.readouterr().out


def test_the_configs_exclude_is_relative_to_the_config(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # As in a lint run: the config's globs are relative to its directory, not the cwd.
    group = "apiVersion: eksctl.io/v1alpha5\nkind: ClusterConfig\nmetadata:\n  name: {name}\n  region: us-east-1\n"
    group += "managedNodeGroups:\n  - name: {name}-ng\n"
    write(
        tmp_path,
        {
            "infra/.ekslint.yaml": 'exclude: ["legacy/cluster.yaml"]\n',
            "infra/cluster.yaml": group.format(name="current"),
            "infra/legacy/cluster.yaml": group.format(name="old"),
        },
    )
    code, out, _ = run(tmp_path, "--config", "infra/.ekslint.yaml", "infra", capsys=capsys)
    assert code == 0 and "current-ng" in out and "old-ng" not in out
