"""Terraform .tf files and `terraform show -json` output as node groups (issue 14, item 3)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from ekslint import config
from ekslint.engine import plugins
from ekslint.engine.results import RunResult
from ekslint.engine.runner import Runner, RunRequest
from ekslint.model.context import ModelContext
from ekslint.model.eksapi import family_of_ami_type
from ekslint.model.filemodel import build_file_model
from ekslint.model.terraform import is_eks_module
from ekslint.parse.hcl import parse_hcl
from ekslint.parse.sources import Content, ReadLimits, load_bytes
from ekslint.parse.text import Text
from tests.conftest import SHARED, chdir, lint

FIXTURES = Path(__file__).parent / "fixtures" / "terraform"


def model(path: Path, shown: str):  # type: ignore[no-untyped-def]
    source = load_bytes(shown, path.read_bytes(), ReadLimits())
    assert source is not None
    return build_file_model(source, ModelContext())


def findings(directory: str) -> set[tuple[str, str, int, int]]:
    result = lint(FIXTURES, directory)
    assert not result.crashed
    return {(f.rule_id, f.span.file, f.span.line, f.span.col) for f in result.findings}


def test_heredoc_positions_and_expressions() -> None:
    text = Text(
        "x.tf",
        'resource "aws_launch_template" "a" {\n'
        "  user_data = base64encode(<<-EOT\n"
        "    #!/bin/bash\n"
        "    echo ${var.x}\n"
        "  EOT\n"
        "  )\n"
        "  ref = aws_launch_template.b[0].id\n"
        '  m   = { "k/x" = "v", n = 1 }\n'
        "}\n",
    )
    hcl, problem = parse_hcl(text)
    assert problem is None and hcl is not None
    block = hcl.body.blocks[0]
    assert block.address == "aws_launch_template.a"
    call = block.attr("user_data")
    assert call is not None and call.kind == "call" and call.value == "base64encode"
    heredoc = call.elements[0]
    assert heredoc.kind == "heredoc" and heredoc.value == "#!/bin/bash\necho ${var.x}\n"
    assert heredoc.text is not None and heredoc.text.point(1, 0) == (4, 5)  # indentation removed
    ref = block.attr("ref")
    assert ref is not None and (ref.kind, ref.value) == ("ref", "aws_launch_template.b.id")
    obj = block.attr("m")
    assert obj is not None and [k for k, _s, _v in obj.items] == ["k/x", "n"]


def test_bad_hcl_is_eks001_with_its_line() -> None:
    assert findings("bad") == {("EKS001", "bad/broken.tf", 4, 1)}


@pytest.mark.parametrize(
    ("ami_type", "family"),
    [
        ("AL2023_ARM_64_STANDARD", "AmazonLinux2023"),
        ("AL2_x86_64_GPU", "AmazonLinux2"),
        ("BOTTLEROCKET_x86_64_FIPS", "BottlerocketFips"),
        ("BOTTLEROCKET_ARM_64_NVIDIA", "Bottlerocket"),
        ("WINDOWS_CORE_2022_x86_64", "WindowsServer2022CoreContainer"),
        ("CUSTOM", None),
    ],
)
def test_ami_type_families(ami_type: str, family: str | None) -> None:
    assert family_of_ami_type(ami_type) == family


@pytest.mark.parametrize(
    ("source", "kind"),
    [
        ("terraform-aws-modules/eks/aws", "cluster"),
        ("terraform-aws-modules/eks/aws//modules/eks-managed-node-group", "managed"),
        ("git::https://github.com/terraform-aws-modules/terraform-aws-eks.git?ref=v20.1.0", "cluster"),
        ("github.com/terraform-aws-modules/terraform-aws-eks//modules/self-managed-node-group?ref=v19", "self-managed"),
        ("git::https://github.com/cloudposse/terraform-aws-eks-node-group.git", None),
        ("terraform-aws-modules/eks/aws//modules/karpenter", None),
    ],
)
def test_module_sources(source: str, kind: str | None) -> None:
    assert is_eks_module(source) == kind


def test_module_node_groups_as_the_module_renders_them() -> None:
    with chdir(FIXTURES):
        found = model(FIXTURES / "module" / "eks.tf", "module/eks.tf")
    groups = {g.name: g for g in found.node_groups}
    assert set(groups) == {"sysctls", "custom", "bottlerocket"}
    sysctls = groups["sysctls"]
    assert sysctls.ami_family == "AmazonLinux2023" and sysctls.kubernetes_version == (1, 33)
    assert [a.pattern for a in sysctls.allowances] == ["net.core.somaxconn"]
    assert [(m.value, m.span.line) for m in sysctls.max_pods] == [(300, 37)]
    assert [str(t) for t in sysctls.taints] == ["dedicated=sysctl:NoSchedule"]
    assert sysctls.labels["workload"] == "sysctl"
    assert groups["custom"].custom_ami is True
    bottlerocket = groups["bottlerocket"]
    assert bottlerocket.ami_family == "Bottlerocket" and [t.name for t in bottlerocket.instance_types] == ["m6i.large"]
    userdata = {u.source.split(" ")[0]: u for u in found.userdata}
    # EKS supplies the cluster fields to a managed group on its own AMI; not to a custom AMI.
    assert userdata["module.eks.eks_managed_node_groups[sysctls]"].nodeconfig.implicit_cluster == "EKS"
    assert userdata["module.eks.eks_managed_node_groups[custom]"].must_be_complete
    toml = userdata["module.eks.self_managed_node_groups[bottlerocket]"]
    assert toml.bottlerocket is not None and toml.must_be_complete


def test_module_fixture_findings() -> None:
    assert findings("module") == {
        # maxPods 300 on m5.large (29 pod IPs) in the cloudinit_pre_nodeadm NodeConfig.
        ("EKS301", "module/eks.tf", 37, 19),
        # ami_id without enable_bootstrap_user_data: no cluster fields anywhere.
        ("EKS203", "module/eks.tf", 56, 13),
        # net.core.rmem_max is allowed nowhere; net.core.somaxconn only on the group the pod selects.
        ("EKS101", "module/workloads.yaml", 44, 13),
    }


def test_resources_fixture_findings() -> None:
    assert findings("resources") == {
        # --max-pods through --kubelet-extra-args without --use-max-pods false, on a t3.medium (17).
        ("EKS207", "resources/main.tf", 25, 54),
        ("EKS301", "resources/main.tf", 25, 65),
        # The self-managed group's cloudinit NodeConfig names the cluster but lacks the rest.
        ("EKS203", "resources/main.tf", 72, 9),
        # maxPods 58 on m5.large (29).
        ("EKS301", "resources/main.tf", 76, 13),
    }


def test_rules_fixture_findings() -> None:
    """Every node-side rule on Terraform node groups, each positive beside a negative."""
    assert findings("rules") == {
        # bootstrap.sh in the userdata of an AL2023_x86_64_STANDARD group (the "big" group's
        # NodeConfig on its custom AMI is fine).
        ("EKS205", "rules/nodes.tf", 18, 5),
        # net.ipv4.tcp_keepalive_time is safe on 1.30; net.core.somaxconn beside it is needed.
        ("EKS104", "rules/nodes.tf", 58, 15),
        # maxPods 200 on a 16-vCPU m5.4xlarge: within its 234 pod IPs (no EKS301), above 110.
        ("EKS304", "rules/nodes.tf", 105, 11),
        # The self-managed Bottlerocket group has cluster-name but not api-server and CA.
        ("EKS206", "rules/nodes.tf", 138, 5),
        # Deployment/loose can land on groups that refuse net.core.somaxconn; Deployment/pinned
        # selects the group by its eks.amazonaws.com/nodegroup label and gets no finding.
        ("EKS106", "rules/workloads.yaml", 17, 13),
        ("EKS402", "rules/workloads.yaml", 60, 11),
    }


def test_resources_node_groups() -> None:
    with chdir(FIXTURES):
        found = model(FIXTURES / "resources" / "main.tf", "resources/main.tf")
    groups = {g.name: g for g in found.node_groups}
    al2 = groups["al2"]
    assert al2.ami_family == "AmazonLinux2" and al2.kubernetes_version == (1, 29)
    assert [a.pattern for a in al2.allowances] == ["net.core.somaxconn"]
    assert al2.labels["role"] == "al2" and al2.labels["eks.amazonaws.com/nodegroup"] == "al2"
    workers = groups["workers"]
    assert workers.ami_family == "AmazonLinux2023" and workers.custom_ami
    assert [t.name for t in workers.instance_types] == ["m5.large"]


def test_plan_json_resources_located_in_the_plan() -> None:
    source = load_bytes("plan.json", (FIXTURES / "plan" / "plan.json").read_bytes(), ReadLimits())
    assert source is not None and source.content is Content.TERRAFORM_PLAN
    found = build_file_model(source, ModelContext())
    group, tuned = found.node_groups
    assert group.name == "al2" and group.span.logical == "module.nodes.aws_eks_node_group.al2"
    # Its launch template has only name_prefix: no id or name in the plan; the configuration's
    # references join them.
    assert [(a.pattern, a.span.line) for a in tuned.allowances] == [("net.core.somaxconn", 71)]
    assert [str(t) for t in group.taints] == ["dedicated=al2:NoSchedule"]
    assert [(m.value, m.span.line) for m in group.max_pods] == [(110, 30)]
    assert findings("plan") == {("EKS301", "plan/plan.json", 30, 31)}


def test_template_file_beside_the_module_is_read(tmp_path: Path) -> None:
    (tmp_path / "templates").mkdir()
    (tmp_path / "templates" / "userdata.sh.tpl").write_text(
        "#!/bin/bash\n%{ if enable ~}\n/etc/eks/bootstrap.sh ${cluster_name} "
        "--kubelet-extra-args '--allowed-unsafe-sysctls=net.core.somaxconn'\n%{ endif ~}\n"
    )
    (tmp_path / "main.tf").write_text(
        'resource "aws_launch_template" "t" {\n'
        '  user_data = base64encode(templatefile("${path.module}/templates/userdata.sh.tpl", {\n'
        "    cluster_name = var.cluster_name\n"
        "  }))\n"
        "}\n"
        'resource "aws_launch_template" "outside" {\n'
        '  user_data = filebase64("${path.module}/../../etc/passwd")\n'
        "}\n"
    )
    with chdir(tmp_path):
        found = model(tmp_path / "main.tf", "main.tf")
    (group,) = found.node_groups
    assert [(a.pattern, a.span.file, a.span.line) for a in group.allowances] == [
        ("net.core.somaxconn", "templates/userdata.sh.tpl", 3)
    ]


def test_public_terraform_configs_are_read(tmp_path: Path) -> None:
    folder = SHARED / "public-configs" / "terraform"
    if not folder.is_dir():
        pytest.skip("public configs not present")
    for path in sorted(folder.glob("*.tf")):
        with chdir(folder):
            found = model(path, path.name)
        assert not found.problems, path.name


def test_hcl2_is_imported_only_for_tf_files(tmp_path: Path) -> None:
    (tmp_path / "u.sh").write_text("#!/bin/bash\n/etc/eks/bootstrap.sh prod\n")
    code = (
        "import sys; from ekslint.cli import main\n"
        "try:\n    main([sys.argv[1], '--no-cache'])\nexcept SystemExit:\n    pass\n"
        "assert 'hcl2' not in sys.modules and 'lark' not in sys.modules, 'hcl2 imported'\n"
    )
    run = subprocess.run([sys.executable, "-c", code, str(tmp_path)], capture_output=True, text=True, check=False)
    assert run.returncode == 0, run.stderr


def test_a_file_read_through_templatefile_is_cached_with_the_template_stamp(
    tmp_path: Path, private_cache_home: Path
) -> None:
    """A .tf file whose userdata comes from a template is cached with the template's
    stamp as well as its own: reused while neither changes, read again when the
    template is edited."""
    (tmp_path / "userdata.sh").write_text(
        "#!/bin/bash\n/etc/eks/bootstrap.sh prod --kubelet-extra-args '--max-pods=300'\n"
    )
    (tmp_path / "main.tf").write_text(
        'resource "aws_launch_template" "t" {\n'
        '  user_data = filebase64("${path.module}/userdata.sh")\n'
        "}\n"
        'resource "aws_eks_node_group" "g" {\n'
        '  node_group_name = "g"\n'
        '  ami_type        = "AL2_x86_64"\n'
        '  instance_types  = ["t3.medium"]\n'
        "  launch_template {\n"
        "    id = aws_launch_template.t.id\n"
        "  }\n"
        "}\n"
    )

    def run() -> RunResult:
        with chdir(tmp_path):
            settings = config.load(None)
            settings.select = ["EKS301"]
            return Runner(plugins.load(), settings).run(RunRequest(["."], settings, cache_dir=tmp_path / "cache"))

    import os
    import time

    then = time.time() - 3600
    for path in (tmp_path, tmp_path / "userdata.sh", tmp_path / "main.tf"):
        os.utime(path, (then, then))
    first = run()
    assert [f.span.file for f in first.findings] == ["userdata.sh"]
    again = run()
    assert again.from_cache == 2 and [f.span.file for f in again.findings] == ["userdata.sh"]
    (tmp_path / "userdata.sh").write_text(
        "#!/bin/bash\n/etc/eks/bootstrap.sh prod --kubelet-extra-args '--max-pods=11'\n"
    )
    second = run()
    assert not second.findings


def test_placeholder_in_single_quoted_kubelet_args_is_unknown_not_malformed(tmp_path: Path) -> None:
    # terraform-aws-eks templates/al2_user_data.tpl style: a templatefile whose
    # bootstrap.sh line carries ${...} inside single quotes. The shell would keep it, but
    # templatefile replaces it first: an allowance or label only the render knows,
    # never an EKS103 "malformed sysctl" quoting the placeholder.
    from tests.conftest import write

    write(
        tmp_path,
        {
            "main.tf": (
                'resource "aws_launch_template" "ng" {\n'
                '  user_data = base64encode(templatefile("${path.module}/userdata.sh.tftpl", {\n'
                '    sysctls = "net.core.somaxconn"\n  }))\n}\n'
                'resource "aws_eks_node_group" "ng" {\n  ami_type = "AL2_x86_64"\n'
                '  instance_types = ["m5.large"]\n'
                "  launch_template {\n    id = aws_launch_template.ng.id\n  }\n}\n"
            ),
            "userdata.sh.tftpl": (
                "#!/bin/bash\n/etc/eks/bootstrap.sh c --kubelet-extra-args "
                "'--allowed-unsafe-sysctls=${sysctls},kernel.msgmax --node-labels=${labels}'\n"
            ),
        },
    )
    result = lint(tmp_path)
    assert not [f for f in result.findings if f.rule_id == "EKS103"]
    source = load_bytes("main.tf", (tmp_path / "main.tf").read_bytes(), ReadLimits())
    assert source is not None
    with chdir(tmp_path):
        (group,) = build_file_model(source, ModelContext()).node_groups
    assert [a.pattern for a in group.allowances] == ["kernel.msgmax"]
    assert group.allowances_unknown is not None and not group.labels_complete
    assert not any("$" in key for key in group.labels)


def test_a_templatefile_target_is_the_group_that_renders_it_not_one_of_its_own(tmp_path: Path) -> None:
    # The template beside the module is also a userdata file on its own; read through
    # templatefile() it belongs to the tainted aws_eks_node_group alone, so a pod that
    # does not tolerate the taint finds no group allowing its sysctl (EKS101), and
    # `ekslint nodes` lists one group.
    from tests.conftest import write

    write(
        tmp_path,
        {
            "main.tf": (
                'resource "aws_launch_template" "ng" {\n'
                '  user_data = base64encode(templatefile("${path.module}/tpl/userdata.sh.tftpl", {}))\n}\n'
                'resource "aws_eks_node_group" "ng" {\n  ami_type = "AL2_x86_64"\n'
                '  instance_types = ["m5.large"]\n'
                '  taint {\n    key = "dedicated"\n    value = "w"\n    effect = "NO_SCHEDULE"\n  }\n'
                "  launch_template {\n    id = aws_launch_template.ng.id\n  }\n}\n"
            ),
            "tpl/userdata.sh.tftpl": (
                "#!/bin/bash\n/etc/eks/bootstrap.sh c --kubelet-extra-args '--allowed-unsafe-sysctls=kernel.msgmax'\n"
            ),
            "pod.yaml": (
                "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  securityContext:\n"
                '    sysctls: [{name: kernel.msgmax, value: "1"}]\n  containers: [{name: c, image: x}]\n'
            ),
        },
    )
    result = lint(tmp_path)
    assert {(f.rule_id, f.span.file) for f in result.findings} == {("EKS101", "pod.yaml")}
    assert "allowed only on node group aws_eks_node_group.ng, where Pod/p cannot run" in result.findings[0].message
    with chdir(tmp_path):
        out = subprocess.run(
            [sys.executable, "-m", "ekslint", "nodes", "-f", "json", "."], capture_output=True, text=True, check=True
        ).stdout
    assert [row["name"] for row in json.loads(out)["nodeGroups"]] == ["aws_eks_node_group.ng"]


def test_a_string_that_is_one_interpolation_is_its_expression() -> None:
    # hashicorp/hcl hclsyntax TemplateWrapExpr: "${x}" is x, not a string (Terraform 0.11 style).
    hcl, problem = parse_hcl(
        Text("x.tf", 'a = "${base64encode(local.x)}"\nb = "x${var.y}"\nc = "${aws_launch_configuration.d.id}"\n')
    )
    assert problem is None and hcl is not None
    a, b, c = (hcl.body.attr(name) for name in "abc")
    assert a is not None and a.kind == "call" and a.value == "base64encode" and (a.span.line, a.span.col) == (1, 8)
    assert b is not None and b.kind == "template"
    assert c is not None and c.kind == "ref" and c.value == "aws_launch_configuration.d.id"


def test_eks_caps_max_pods_of_terraform_managed_groups_on_its_own_ami(tmp_path: Path) -> None:
    # awsdocs/amazon-eks-user-guide nodes/choosing-instance-type.adoc, "Managed node group
    # enforcement": without a custom AMI EKS caps maxPods at 110 (250 above 30 vCPUs), as
    # for eksctl's and CloudFormation's managed groups; a custom AMI (image_id) is not capped.
    nodeconfig = (
        "apiVersion: node.eks.aws/v1alpha1\\n    kind: NodeConfig\\n    spec:\\n      kubelet:\\n"
        "        config:\\n          maxPods: 200\\n"
    )
    main_tf = f"""
resource "aws_launch_template" "dense" {{
  name_prefix = "dense-"
  user_data = base64encode(<<-EOT
    MIME-Version: 1.0
    Content-Type: multipart/mixed; boundary="B"

    --B
    Content-Type: application/node.eks.aws

    {nodeconfig}
    --B--
  EOT
  )
}}

resource "aws_eks_node_group" "dense" {{
  cluster_name    = "c"
  node_group_name = "dense"
  node_role_arn   = var.role
  subnet_ids      = var.subnets
  ami_type        = "AL2023_x86_64_STANDARD"
  instance_types  = ["m5.4xlarge"]
  launch_template {{
    id      = aws_launch_template.dense.id
    version = "1"
  }}
}}
""".replace("\\n", "\n")
    (tmp_path / "main.tf").write_text(main_tf)
    settings = config.Settings(select=["EKS304"])
    with chdir(tmp_path):
        result = Runner(plugins.load(), settings).run(RunRequest(["."], settings))
    (finding,) = result.findings
    assert "EKS caps maxPods at 110 on managed node groups without a custom AMI" in finding.message
    (tmp_path / "main.tf").write_text(main_tf.replace('name_prefix = "dense-"', 'image_id = "ami-0abc"'))
    with chdir(tmp_path):
        result = Runner(plugins.load(), settings).run(RunRequest(["."], settings))
    assert [f for f in result.findings if "EKS caps" in f.message] == []


def test_node_positions_from_tokens_are_those_lark_would_propagate() -> None:
    # parse/hcl.py parses without lark's propagate_positions and takes a node's position
    # from its first and last token; that holds while every terminal of python-hcl2's
    # grammar is named (kept in the tree). A grammar with anonymous tokens would differ here.
    from hcl2.parser import parser as propagating

    from ekslint.parse import hcl

    def nodes(tree):  # type: ignore[no-untyped-def]
        yield tree
        for child in getattr(tree, "children", ()):
            yield from nodes(child)

    checked = 0
    for path in sorted(FIXTURES.rglob("*.tf")):
        source = path.read_text("utf-8") + "\n"
        try:
            expected_tree = propagating().parse(source)
        except Exception:
            continue  # the broken-HCL fixtures
        for expected, got in zip(nodes(expected_tree), nodes(hcl._parser().parse(source)), strict=True):
            if hasattr(expected, "meta") and not expected.meta.empty:
                first, last = hcl._tokens(got)  # type: ignore[misc]
                meta = expected.meta
                assert (first.line, first.column, last.end_line, last.end_column, first.start_pos, last.end_pos) == (
                    meta.line,
                    meta.column,
                    meta.end_line,
                    meta.end_column,
                    meta.start_pos,
                    meta.end_pos,
                )
                checked += 1
    assert checked > 1000
