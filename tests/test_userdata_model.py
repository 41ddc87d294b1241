"""What a userdata tells the kubelet, as bootstrap.sh and nodeadm decide it."""

from __future__ import annotations

from ekslint.model.context import ModelContext
from ekslint.model.filemodel import FileModel, build_file_model
from ekslint.parse.sources import ReadLimits, load_bytes


def model(name: str, content: str) -> FileModel:
    source = load_bytes(name, content.encode(), ReadLimits())
    assert source is not None
    return build_file_model(source, ModelContext())


AL2023_WITH_BOOTSTRAP = """MIME-Version: 1.0
Content-Type: multipart/mixed; boundary="//"

--//
Content-Type: application/node.eks.aws

apiVersion: node.eks.aws/v1alpha1
kind: NodeConfig
spec:
  kubelet:
    config:
      maxPods: 58

--//
Content-Type: text/x-shellscript; charset="us-ascii"

#!/bin/bash
if [ -f /etc/eks/bootstrap.sh ]; then
  /etc/eks/bootstrap.sh prod --kubelet-extra-args '--allowed-unsafe-sysctls=net.core.somaxconn'
fi

--//--
"""


def test_allowances_given_to_the_al2023_stub_never_reach_the_kubelet() -> None:
    # amazon-eks-ami templates/al2023/runtime/rootfs/etc/eks/bootstrap.sh exits 1.
    found = model("userdata.mime", AL2023_WITH_BOOTSTRAP)
    (group,) = found.node_groups
    assert group.allowances == []
    (ignored,) = group.ignored_allowances
    assert ignored.allowance.pattern == "net.core.somaxconn"
    assert "stub that exits 1" in ignored.reason
    (script,) = found.userdata[0].scripts
    assert script.existence_guard and not script.guarded
    assert script.unguarded_calls == script.calls


def test_bootstrap_reads_its_environment() -> None:
    # amazon-eks-ami templates/al2/runtime/bootstrap.sh: "${KUBELET_EXTRA_ARGS:-}".
    found = model(
        "userdata.sh",
        "#!/bin/bash\n"
        "export KUBELET_EXTRA_ARGS='--allowed-unsafe-sysctls=net.core.somaxconn --max-pods=42'\n"
        "/etc/eks/bootstrap.sh prod --use-max-pods false\n",
    )
    (group,) = found.node_groups
    assert [a.pattern for a in group.allowances] == ["net.core.somaxconn"]
    assert [m.value for m in group.max_pods] == [42]
    assert group.allowances[0].span.line == 2


def test_an_unexported_variable_is_not_seen_by_bootstrap() -> None:
    found = model(
        "userdata.sh",
        "#!/bin/bash\nKUBELET_EXTRA_ARGS='--max-pods=42'\n/etc/eks/bootstrap.sh prod\n",
    )
    (group,) = found.node_groups
    assert group.max_pods == []


def test_use_max_pods_false_without_max_pods_is_the_kubelet_default() -> None:
    # bootstrap.sh writes maxPods only when USE_MAX_PODS is "true"; the AL2
    # kubelet-config.json has none, so the kubelet default (110) applies.
    found = model("userdata.sh", "#!/bin/bash\n/etc/eks/bootstrap.sh prod --use-max-pods false\n")
    (group,) = found.node_groups
    (setting,) = group.max_pods
    assert setting.value == 110
    assert (setting.span.line, setting.span.col) == (2, 43)
    assert "default" in setting.source


def test_sourcing_bootstrap_sees_every_variable() -> None:
    found = model(
        "userdata.sh",
        "#!/bin/bash\nKUBELET_EXTRA_ARGS='--max-pods=42'\nsource /etc/eks/bootstrap.sh prod\n",
    )
    (group,) = found.node_groups
    assert [m.value for m in group.max_pods] == [42]


def test_embedded_userdata_keeps_positions_in_the_enclosing_file() -> None:
    from ekslint.model.userdata import embedded_userdata
    from ekslint.parse.sources import ReadLimits
    from ekslint.parse.text import Text
    from ekslint.parse.yamltree import YMap, compose

    # The shape of a Karpenter EC2NodeClass with AL2023 MIME userData
    # (aws/karpenter-provider-aws website/content/en/docs/concepts/nodeclasses.md).
    manifest = (
        "apiVersion: karpenter.k8s.aws/v1\nkind: EC2NodeClass\nspec:\n  userData: |\n"
        '    MIME-Version: 1.0\n    Content-Type: multipart/mixed; boundary="//"\n\n    --//\n'
        "    Content-Type: application/node.eks.aws\n\n    apiVersion: node.eks.aws/v1alpha1\n"
        "    kind: NodeConfig\n    spec:\n      kubelet:\n        config:\n          maxPods: 42\n    --//--\n"
    )
    docs, error = compose(Text.whole_file("nodeclass.yaml", manifest))
    root = docs[0].root()
    assert error is None and isinstance(root, YMap)
    spec = root.map("spec")
    assert spec is not None
    scalar = spec.scalar("userData")
    assert scalar is not None
    problems: list = []
    model = embedded_userdata(scalar.as_text(), "spec.userData", ReadLimits(), problems)
    assert model is not None and not problems
    assert model.source == "spec.userData" and model.multipart
    (setting,) = model.kubelet().max_pods
    assert (setting.value, setting.span.file, setting.span.line, setting.span.col) == (42, "nodeclass.yaml", 16, 11)

    toml = embedded_userdata(
        Text.whole_file("lt.tf", "[settings.kubernetes]\nmax-pods = 20\n"), "user_data", ReadLimits(), []
    )
    assert toml is not None and toml.bottlerocket is not None and toml.kubelet().max_pods[0].value == 20
    assert embedded_userdata(Text.whole_file("lt.tf", "  \n"), "user_data", ReadLimits(), []) is None
