"""A Terraform module is a directory: node groups read with the other .tf files of
theirs (launch templates, locals, the cluster), and cached with their stamps."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from ekslint import config
from ekslint.engine import plugins
from ekslint.engine.results import RunResult
from ekslint.engine.runner import Runner, RunRequest
from ekslint.model.context import ModelContext
from ekslint.model.filemodel import FileModel, build_file_model
from ekslint.model.terraform_dir import is_primary
from ekslint.parse.sources import ReadLimits, load_bytes
from tests.conftest import chdir, lint, write

# The shape of iamhritik/terraform scenarios/eks-creation (eks-cluster.tf,
# eks_nodegroup_launch_template.tf, eks_nodegroups.tf) and deriven501/nifi_CICD_project
# terraform/ (launch-template.tf beside main.tf): the cluster, the launch template and
# the node group each in a file of their own, values in a locals file. The userdata is
# a NodeConfig that names the cluster only: EKS merges its own NodeConfig (endpoint,
# CA, CIDR) before it on a managed group on the EKS AMI.
SPLIT_MODULE = {
    "main.tf": ('resource "aws_eks_cluster" "this" {\n  name    = "prod"\n  version = "1.31"\n}\n'),
    "locals.tf": ('locals {\n  instance_types = ["m5.large"]\n  node_labels    = { workload = "batch" }\n}\n'),
    "launch_templates.tf": (
        'resource "aws_launch_template" "batch" {\n'
        '  name_prefix = "batch-"\n'
        "  user_data = base64encode(<<-EOT\n"
        "    MIME-Version: 1.0\n"
        '    Content-Type: multipart/mixed; boundary="//"\n'
        "\n"
        "    --//\n"
        "    Content-Type: application/node.eks.aws\n"
        "\n"
        "    apiVersion: node.eks.aws/v1alpha1\n"
        "    kind: NodeConfig\n"
        "    spec:\n"
        "      cluster:\n"
        "        name: prod\n"
        "      kubelet:\n"
        "        config:\n"
        "          maxPods: 110\n"
        "          allowedUnsafeSysctls:\n"
        "            - net.core.somaxconn\n"
        "    --//--\n"
        "  EOT\n"
        "  )\n"
        "}\n"
    ),
    "node_groups.tf": (
        'resource "aws_eks_node_group" "batch" {\n'
        "  cluster_name    = aws_eks_cluster.this.name\n"
        '  node_group_name = "batch"\n'
        '  ami_type        = "AL2023_x86_64_STANDARD"\n'
        "  instance_types  = local.instance_types\n"
        "  labels          = local.node_labels\n"
        "  launch_template {\n"
        "    id      = aws_launch_template.batch.id\n"
        "    version = aws_launch_template.batch.latest_version\n"
        "  }\n"
        "}\n"
    ),
}


def file_model(folder: Path, name: str) -> FileModel:
    source = load_bytes(name, (folder / name).read_bytes(), ReadLimits())
    assert source is not None
    with chdir(folder):
        return build_file_model(source, ModelContext())


def test_a_node_group_is_read_with_the_other_files_of_its_module(tmp_path: Path) -> None:
    write(tmp_path, SPLIT_MODULE)
    groups = file_model(tmp_path, "node_groups.tf")
    (group,) = groups.node_groups
    assert group.name == "batch" and group.file == "node_groups.tf"
    assert group.kubernetes_version == (1, 31) and group.cluster is not None and group.cluster.name == "prod"
    assert [t.name for t in group.instance_types] == ["m5.large"]
    assert group.labels["workload"] == "batch"
    assert [(m.value, m.span.file, m.span.line) for m in group.max_pods] == [(110, "launch_templates.tf", 17)]
    assert [(a.pattern, a.span.file) for a in group.allowances] == [("net.core.somaxconn", "launch_templates.tf")]
    assert not groups.userdata  # the template's file reports its userdata
    assert "launch_templates.tf" in groups.module_files and "main.tf" in groups.module_files
    # The template is the group's: no standalone group, and its userdata is judged as
    # a managed group's on the EKS AMI (EKS supplies the cluster fields).
    templates = file_model(tmp_path, "launch_templates.tf")
    assert not templates.node_groups
    (userdata,) = templates.userdata
    assert userdata.nodeconfig is not None and userdata.nodeconfig.implicit_cluster == "EKS"
    assert userdata.declared_family == "AmazonLinux2023"
    # Files without node groups are read alone.
    assert not file_model(tmp_path, "locals.tf").module_files


def test_split_module_findings_are_the_same_as_one_file(tmp_path: Path) -> None:
    write(tmp_path / "split", SPLIT_MODULE)
    write(tmp_path / "whole", {"main.tf": "".join(SPLIT_MODULE.values())})
    split = lint(tmp_path / "split").findings
    whole = lint(tmp_path / "whole").findings
    # maxPods 110 on m5.large (29 pods with the VPC CNI), found through the sibling
    # files; no EKS203: the template is not judged as a group nobody supplies the cluster to.
    assert [(f.rule_id, f.span.file, f.span.line) for f in split] == [("EKS301", "launch_templates.tf", 17)]
    assert [f.rule_id for f in whole] == ["EKS301"]


def test_a_template_no_group_of_the_module_uses_stays_a_group_of_its_own(tmp_path: Path) -> None:
    files = dict(SPLIT_MODULE)
    files["node_groups.tf"] = files["node_groups.tf"].replace("aws_launch_template.batch", "aws_launch_template.other")
    write(tmp_path, files)
    (group,) = file_model(tmp_path, "launch_templates.tf").node_groups
    assert group.name == "aws_launch_template.batch" and group.ami_family == "AmazonLinux2023"
    findings = {f.rule_id for f in lint(tmp_path).findings}
    assert "EKS203" in findings  # nobody supplies the cluster: nodeadm stops without them


def test_the_module_groups_listed_in_a_merged_local_of_another_file(tmp_path: Path) -> None:
    # awslabs/data-on-eks infra/terraform: eks.tf has
    # eks_managed_node_groups = merge(local.default_node_groups, var.managed_node_groups)
    # and main.tf the local.
    write(
        tmp_path,
        {
            "eks.tf": (
                'module "eks" {\n  source  = "terraform-aws-modules/eks/aws"\n  version = "~> 21.0"\n'
                '  name = "doeks"\n  kubernetes_version = "1.33"\n'
                "  eks_managed_node_groups = merge(local.default_node_groups, var.managed_node_groups)\n}\n"
            ),
            "main.tf": (
                "locals {\n  default_node_groups = {\n    core_node_group = {\n"
                '      name           = "core-node-group"\n'
                '      ami_type       = "AL2023_x86_64_STANDARD"\n'
                '      instance_types = ["m6a.xlarge"]\n'
                '      labels = merge(var.extra_labels, { NodeGroupType = "core" })\n'
                "    }\n    tuned = merge(local.common, {\n"
                '      name = "tuned"\n    })\n  }\n'
                '  common = { ami_type = "BOTTLEROCKET_x86_64", instance_types = ["c5.large"] }\n}\n'
            ),
        },
    )
    core, tuned = file_model(tmp_path, "eks.tf").node_groups
    assert core.name == "core-node-group" and (core.span.file, core.span.line) == ("main.tf", 3)
    assert [t.name for t in core.instance_types] == ["m6a.xlarge"] and core.kubernetes_version == (1, 33)
    assert core.labels["NodeGroupType"] == "core" and not core.labels_complete  # var.extra_labels: unknown
    assert tuned.ami_family == "Bottlerocket" and [t.name for t in tuned.instance_types] == ["c5.large"]
    assert not file_model(tmp_path, "main.tf").node_groups


def test_a_merged_entry_with_a_computed_part_leaves_unset_settings_unknown(tmp_path: Path) -> None:
    write(
        tmp_path,
        {
            "eks.tf": (
                'module "eks" {\n  source  = "terraform-aws-modules/eks/aws"\n  version = "~> 21.0"\n'
                '  kubernetes_version = "1.33"\n'
                '  eks_managed_node_groups = {\n    a = merge(var.defaults, { name = "a" })\n  }\n}\n'
            ),
        },
    )
    (group,) = file_model(tmp_path, "eks.tf").node_groups
    # var.defaults may set ami_type and instance_types: not the module's defaults.
    assert group.instance_types == [] and group.ami_family is None


def test_terraform_loads_only_primary_tf_files() -> None:
    # hashicorp/terraform internal/configs/parser_file_matcher.go
    assert is_primary("main.tf") and is_primary("node_groups.tf")
    assert not is_primary("override.tf") and not is_primary("eks_override.tf")
    assert not is_primary(".main.tf") and not is_primary("main.tf~") and not is_primary("#main.tf#")
    assert not is_primary("main.tf.json") and not is_primary("terraform.tfvars")


def _backdate(folder: Path, seconds: float = 3600) -> None:
    then = time.time() - seconds
    for path in [*folder.rglob("*"), folder]:
        os.utime(path, (then, then))


def test_a_file_read_with_its_module_is_cached_with_the_stamps_of_the_others(
    tmp_path: Path, private_cache_home: Path
) -> None:
    module = tmp_path / "infra"
    write(module, SPLIT_MODULE)
    _backdate(module)

    def run() -> RunResult:
        with chdir(tmp_path):
            settings = config.load(None)
            settings.select = ["EKS301"]
            return Runner(plugins.load(), settings).run(RunRequest(["."], settings, cache_dir=tmp_path / "cache"))

    first = run()
    assert [f.span.file for f in first.findings] == ["infra/launch_templates.tf"]
    second = run()
    assert second.from_cache == 4 and [f.message for f in second.findings] == [f.message for f in first.findings]
    # An edit of locals.tf alone changes node_groups.tf's group: it is read again.
    (module / "locals.tf").write_text(SPLIT_MODULE["locals.tf"].replace("m5.large", "m5.24xlarge"))
    third = run()
    assert not third.findings and third.from_cache < 4
    # A file added to the directory changes the module (the directory's stamp).
    _backdate(module)
    fourth = run()
    assert not fourth.findings
    (module / "more.tf").write_text('locals {\n  unrelated = "x"\n}\n')
    fifth = run()
    assert fifth.from_cache < 5 and not fifth.findings


def test_a_launch_configuration_in_terraform_0_11_syntax(tmp_path: Path) -> None:
    # The shape of the EKS getting-started guide's workers, copied into many repositories
    # (hashicorp/terraform-provider-aws examples/eks-getting-started eks-worker-nodes.tf,
    # yastani/terraform-aws-eks launch_config.tf): userdata in a local heredoc, a launch
    # configuration with user_data_base64, references written "${...}", and the
    # cluster in a file of its own.
    write(
        tmp_path,
        {
            "eks-cluster.tf": 'resource "aws_eks_cluster" "demo" {\n  name    = "${var.cluster-name}"\n'
            '  version = "1.14"\n}\n',
            "eks-worker-nodes.tf": (
                "locals {\n  demo-node-userdata = <<USERDATA\n#!/bin/bash\nset -o xtrace\n"
                "/etc/eks/bootstrap.sh --apiserver-endpoint '${aws_eks_cluster.demo.endpoint}' "
                "'${var.cluster-name}' --kubelet-extra-args '--allowed-unsafe-sysctls=net.core.somaxconn'\n"
                "USERDATA\n}\n"
                'resource "aws_launch_configuration" "demo" {\n'
                '  image_id         = "${data.aws_ami.eks-worker.id}"\n'
                '  instance_type    = "m4.large"\n'
                '  user_data_base64 = "${base64encode(local.demo-node-userdata)}"\n}\n'
                'resource "aws_autoscaling_group" "demo" {\n'
                '  launch_configuration = "${aws_launch_configuration.demo.id}"\n'
                '  name                 = "terraform-eks-demo"\n}\n'
            ),
        },
    )
    found = file_model(tmp_path, "eks-worker-nodes.tf")
    (group,) = found.node_groups
    assert group.name == "terraform-eks-demo" and group.kubernetes_version == (1, 14)
    assert group.ami_family == "AmazonLinux2" and group.custom_ami
    assert [t.name for t in group.instance_types] == ["m4.large"]
    assert [(a.pattern, a.span.line) for a in group.allowances] == [("net.core.somaxconn", 5)]
    (userdata,) = found.userdata
    assert userdata.must_be_complete  # self-managed: only the userdata joins the cluster


def test_a_symlinked_sibling_is_not_read(tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    write(outside, {"templates.tf": SPLIT_MODULE["launch_templates.tf"]})
    module = tmp_path / "module"
    write(module, {"node_groups.tf": SPLIT_MODULE["node_groups.tf"]})
    (module / "launch_templates.tf").symlink_to(outside / "templates.tf")
    found = file_model(module, "node_groups.tf")
    (group,) = found.node_groups
    assert not group.max_pods and "launch_templates.tf" not in found.module_files


def test_a_cloudinit_config_in_another_file_keeps_its_positions(tmp_path: Path) -> None:
    # data "cloudinit_config" in a file of its own, as the terraform-aws-eks module keeps
    # it in modules/_user_data/main.tf apart from the launch template.
    write(
        tmp_path,
        {
            "userdata.tf": (
                'data "cloudinit_config" "nodes" {\n  gzip = false\n  base64_encode = true\n'
                "  part {\n"
                '    content_type = "text/x-shellscript"\n'
                "    content      = <<-EOT\n"
                "      #!/bin/bash\n"
                "      /etc/eks/bootstrap.sh prod --kubelet-extra-args '--max-pods=110'\n"
                "    EOT\n  }\n}\n"
            ),
            "launch_templates.tf": (
                'resource "aws_launch_template" "nodes" {\n  user_data = data.cloudinit_config.nodes.rendered\n}\n'
            ),
            "node_groups.tf": (
                'resource "aws_eks_node_group" "nodes" {\n  ami_type = "AL2_x86_64"\n'
                '  instance_types = ["m5.large"]\n'
                "  launch_template {\n    id = aws_launch_template.nodes.id\n  }\n}\n"
            ),
        },
    )
    (group,) = file_model(tmp_path, "node_groups.tf").node_groups
    assert [(m.value, m.span.file, m.span.line) for m in group.max_pods] == [(110, "userdata.tf", 8)]
    assert not file_model(tmp_path, "launch_templates.tf").node_groups


# A pod that needs an unsafe sysctl, placed on one node group by its label.
_SYSCTL_POD = """apiVersion: v1
kind: Pod
metadata: {name: tuned, namespace: shop}
spec:
  nodeSelector: {workload: GROUP}
  securityContext:
    sysctls: [{name: net.core.somaxconn, value: "1024"}]
  containers: [{name: app, image: nginx}]
"""


def test_a_launch_template_ekslint_cannot_see_leaves_the_kubelet_unknown(tmp_path: Path) -> None:
    # terraform-aws-modules/terraform-aws-eks modules/eks-managed-node-group/main.tf
    # passes launch_template { id = ... } from a variable when the template is made
    # elsewhere, and a template's user_data is often var.user_data or another module's
    # output: either may carry --allowed-unsafe-sysctls, so no EKS101 "none allows it".
    group = (
        'resource "aws_eks_node_group" "{name}" {{\n'
        '  cluster_name    = "prod"\n'
        '  node_group_name = "{name}"\n'
        '  instance_types  = ["m5.large"]\n'
        '  labels          = {{ workload = "{name}" }}\n'
        "  launch_template {{\n"
        "    id      = {ref}\n"
        '    version = "$Latest"\n'
        "  }}\n"
        "}}\n"
    )
    write(
        tmp_path,
        {
            "main.tf": 'variable "lt_id" {}\nvariable "user_data" {}\n'
            'resource "aws_launch_template" "computed" {\n  user_data = var.user_data\n}\n'
            'resource "aws_launch_template" "none" {\n  user_data = null\n}\n'
            + group.format(name="external", ref="var.lt_id")
            + group.format(name="computed", ref="aws_launch_template.computed.id")
            + group.format(name="none", ref="aws_launch_template.none.id"),
            **{f"{name}.yaml": _SYSCTL_POD.replace("GROUP", name) for name in ("external", "computed", "none")},
        },
    )
    groups = {g.name: g for g in file_model(tmp_path, "main.tf").node_groups}
    assert groups["external"].allowances_unknown is not None and not groups["external"].labels_complete
    assert groups["computed"].allowances_unknown is not None and not groups["computed"].labels_complete
    assert groups["none"].allowances_unknown is None  # user_data = null: no userdata, nothing allowed
    assert [(f.rule_id, f.span.file) for f in lint(tmp_path).findings] == [("EKS101", "none.yaml")]


def test_a_file_models_only_its_own_and_its_groups_launch_templates(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Every file of a module is read with all the others; modelling every launch
    # template's userdata for each file made a module of n templates cost n² userdata
    # reads (a 150-file module: 3.4 s instead of 1.4 s).
    from ekslint.model import terraform_read

    files = {"main.tf": SPLIT_MODULE["main.tf"], "locals.tf": SPLIT_MODULE["locals.tf"]}
    for i in range(8):
        files[f"lt{i}.tf"] = SPLIT_MODULE["launch_templates.tf"].replace('"batch"', f'"t{i}"')
        files[f"ng{i}.tf"] = SPLIT_MODULE["node_groups.tf"].replace('"batch"', f'"g{i}"').replace(".batch.", f".t{i}.")
    write(tmp_path, files)
    modelled: list[str] = []
    real = terraform_read.launch_template_of

    def counting(block, resolver):  # type: ignore[no-untyped-def]
        modelled.append(block.address)
        return real(block, resolver)

    monkeypatch.setattr(terraform_read, "launch_template_of", counting)
    (group,) = file_model(tmp_path, "ng3.tf").node_groups
    assert modelled == ["aws_launch_template.t3"]
    assert [(a.pattern, a.span.file) for a in group.allowances] == [("net.core.somaxconn", "lt3.tf")]
    modelled.clear()
    templates = file_model(tmp_path, "lt5.tf")
    assert modelled == ["aws_launch_template.t5"] and not templates.node_groups  # ng5.tf uses it
    (userdata,) = templates.userdata
    assert userdata.nodeconfig is not None and userdata.nodeconfig.implicit_cluster == "EKS"


def test_a_context_run_on_a_launch_template_file_checks_the_groups_that_use_it(tmp_path: Path) -> None:
    # Pre-commit style (--context .) on launch_templates.tf alone: the node group that
    # uses the template is defined in node_groups.tf, but its maxPods finding lies in the
    # changed file and must be reported, cached or not.
    write(tmp_path, SPLIT_MODULE)
    cache_dir = tmp_path / ".cache"
    for cache in (None, cache_dir, cache_dir):
        with chdir(tmp_path):
            settings = config.load(None)
            request = RunRequest(["launch_templates.tf"], settings, context=["."], cache_dir=cache)
            result = Runner(plugins.load(), settings).run(request)
        assert [(f.rule_id, f.span.file, f.span.line) for f in result.findings] == [
            ("EKS301", "launch_templates.tf", 17)
        ]
