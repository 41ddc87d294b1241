"""eksctl node groups as eksctl judges them: defaults per kind of node group, then
validation (eksctl pkg/ctl/cmdutils/cmd.go InitializeClusterConfig,
pkg/apis/eksctl.io/v1alpha5/defaults.go, validation.go), and names as users know them."""

from __future__ import annotations

import textwrap
from pathlib import Path

from ekslint.model.context import ModelContext
from ekslint.model.eksctl import DEFAULT_INSTANCE_TYPE, DEFAULT_KUBERNETES_VERSION, EksctlNodeGroup
from ekslint.model.filemodel import build_file_model
from ekslint.model.project import Project
from ekslint.parse.sources import ReadLimits, load_bytes
from tests.conftest import lint, write

HEAD = """\
apiVersion: eksctl.io/v1alpha5
kind: ClusterConfig
metadata:
  name: prod
  region: eu-west-1
"""


def groups(body: str, version: tuple[int, int] | None = None) -> dict[str, EksctlNodeGroup]:
    source = load_bytes("cluster.yaml", (HEAD + textwrap.dedent(body)).encode(), ReadLimits())
    assert source is not None
    model = build_file_model(source, ModelContext(kubernetes_version=version))
    return {entry.path: entry for config in model.cluster_configs for entry in config.node_groups}


def test_default_version_is_eksctls_and_used_everywhere() -> None:
    assert DEFAULT_KUBERNETES_VERSION == (1, 34)  # eksctl v0.230.0 types.go DefaultVersion
    entry = groups("managedNodeGroups:\n  - name: a\n")["managedNodeGroups[a]"]
    assert entry.group.kubernetes_version == DEFAULT_KUBERNETES_VERSION
    assert entry.group.cluster is not None
    assert "eksctl's default Kubernetes version 1.34" in entry.group.cluster.version_source
    project = Project([], ModelContext())
    assert project.default_version()[0] == DEFAULT_KUBERNETES_VERSION
    assert project.version_source_of(entry.group) == entry.group.cluster.version_source


def test_config_version_wins_over_eksctls_default_and_auto_is_the_default() -> None:
    entry = groups("managedNodeGroups:\n  - name: a\n", version=(1, 30))["managedNodeGroups[a]"]
    assert entry.group.kubernetes_version == (1, 30)
    auto = HEAD.replace("region: eu-west-1", "region: eu-west-1\n  version: auto")
    source = load_bytes("c.yaml", (auto + "nodeGroups:\n  - name: b\n").encode(), ReadLimits())
    assert source is not None
    model = build_file_model(source, ModelContext())
    assert model.cluster_configs[0].cluster.effective_version == DEFAULT_KUBERNETES_VERSION
    templated = HEAD.replace("region: eu-west-1", 'region: eu-west-1\n  version: "${V}"')
    source = load_bytes("c.yaml", (templated + "nodeGroups:\n  - name: b\n").encode(), ReadLimits())
    assert source is not None
    assert build_file_model(source, ModelContext()).cluster_configs[0].cluster.effective_version is None


def test_family_defaults_per_kind() -> None:
    found = groups(
        """
        managedNodeGroups:
          - name: plain
          - name: custom
            ami: ami-0123456789abcdef0
          - name: lower
            amiFamily: amazonlinux2
        nodeGroups:
          - name: self-plain
          - name: self-custom
            ami: auto
        """
    )
    assert found["managedNodeGroups[plain]"].group.ami_family == "AmazonLinux2023"
    assert found["managedNodeGroups[plain]"].ami_family_written is None
    # SetManagedNodeGroupDefaults gives no family to a group with ami.
    assert found["managedNodeGroups[custom]"].group.ami_family is None
    assert found["managedNodeGroups[lower]"].group.ami_family == "AmazonLinux2"
    assert found["nodeGroups[self-plain]"].group.ami_family == "AmazonLinux2023"
    # nodeGroups are validated before SetNodeGroupDefaults: no family there either.
    assert found["nodeGroups[self-custom]"].group.ami_family is None


def test_default_instance_type() -> None:
    found = groups(
        """
        managedNodeGroups:
          - name: plain
          - name: lt
            launchTemplate: {id: lt-1}
          - name: selector
            instanceSelector: {vCPUs: 2}
          - name: empty-selector
            instanceSelector: {}
        nodeGroups:
          - name: self
          - name: mixed
            instanceType: mixed
            instancesDistribution: {instanceTypes: [m5.xlarge]}
        """
    )

    def types(path: str) -> list[tuple[str, bool]]:
        return [(t.name, t.default) for t in found[path].group.instance_types]

    assert types("managedNodeGroups[plain]") == [(DEFAULT_INSTANCE_TYPE, True)]
    assert types("managedNodeGroups[lt]") == []
    assert types("managedNodeGroups[selector]") == []
    assert types("managedNodeGroups[empty-selector]") == [(DEFAULT_INSTANCE_TYPE, True)]
    assert types("nodeGroups[self]") == [(DEFAULT_INSTANCE_TYPE, True)]
    assert types("nodeGroups[mixed]") == [("m5.xlarge", False)]


def test_override_drops_kubelet_extra_config_on_al2_and_ubuntu_only() -> None:
    found = groups(
        """
        nodeGroups:
          - name: al2
            amiFamily: AmazonLinux2
            ami: ami-0123456789abcdef0
            maxPodsPerNode: 50
            kubeletExtraConfig: {allowedUnsafeSysctls: [net.core.somaxconn], maxPods: 50}
            overrideBootstrapCommand: /etc/eks/bootstrap.sh prod
          - name: al2-plain
            amiFamily: AmazonLinux2
            maxPodsPerNode: 50
            kubeletExtraConfig: {allowedUnsafeSysctls: [net.core.somaxconn], maxPods: 50}
          - name: al2023
            kubeletExtraConfig: {allowedUnsafeSysctls: [net.core.somaxconn]}
            overrideBootstrapCommand: |
              apiVersion: node.eks.aws/v1alpha1
              kind: NodeConfig
              spec: {}
        """
    )
    al2 = found["nodeGroups[al2]"].group
    assert al2.allowances == [] and al2.max_pods == []
    assert [i.allowance.pattern for i in al2.ignored_allowances] == ["net.core.somaxconn"]
    assert "drops its own boot script" in al2.ignored_allowances[0].reason
    plain = found["nodeGroups[al2-plain]"].group
    assert [a.pattern for a in plain.allowances] == ["net.core.somaxconn"]
    assert sorted(m.source for m in plain.max_pods) == [
        "maxPods in nodeGroups[al2-plain].kubeletExtraConfig",
        "maxPodsPerNode",
    ]
    assert [a.pattern for a in found["nodeGroups[al2023]"].group.allowances] == ["net.core.somaxconn"]


def test_node_groups_are_named_as_users_know_them() -> None:
    found = groups(
        """
        managedNodeGroups:
          - name: ${NODE_GROUP}
            instanceType: m5.large
          - instanceType: m5.large
          - name: web
        """
    )
    assert sorted(found) == ["managedNodeGroups[0]", "managedNodeGroups[1]", "managedNodeGroups[web]"]
    templated = found["managedNodeGroups[0]"].group
    assert templated.name == "managedNodeGroups[0]"
    assert "${" not in templated.describe()
    assert not templated.labels_complete  # its nodegroup-name label's value is unknown
    assert found["managedNodeGroups[web]"].group.name == "web"
    assert found["managedNodeGroups[web]"].group.labels["alpha.eksctl.io/nodegroup-name"] == "web"


def test_messages_name_templated_groups_as_eksctl_does(tmp_path: Path) -> None:
    body = """\
managedNodeGroups:
  - name: ${NODE_GROUP}
    amiFamily: AmazonLinux2
    overrideBootstrapCommand: |
      #!/bin/bash
      /etc/eks/bootstrap.sh prod
"""
    write(tmp_path, {"cluster.yaml": HEAD + body})
    result = lint(tmp_path, select=["EKS201"])
    [finding] = result.findings
    assert finding.message.startswith("managedNodeGroups[0].overrideBootstrapCommand is set")
    assert "${" not in finding.message and "cluster.yaml" not in finding.message


def test_schema_messages_name_templated_groups_by_position(tmp_path: Path) -> None:
    write(tmp_path, {"cluster.yaml": HEAD + "nodeGroups:\n  - name: ng-{{ .Values.env }}\n    maxPodPerNode: 5\n"})
    [finding] = lint(tmp_path, select=["EKS002"]).findings
    assert "in nodeGroups[0]:" in finding.message and "{{" not in finding.message
