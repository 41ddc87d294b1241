"""Cluster scoping (issue 13 item 2): a repository holding several clusters is judged
one cluster at a time, by the ``clusters:`` key of the config or, without it, by the
directories of the ClusterConfigs. The two-cluster monorepo is tests/fixtures/monorepo."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from ekslint import cli, config
from ekslint.engine import plugins
from ekslint.engine.reach import UnknownCluster
from ekslint.engine.runner import Runner, RunRequest, RunResult
from ekslint.model.context import ModelContext
from ekslint.model.facts import FileFacts
from ekslint.model.project import Project
from ekslint.model.scopes import UNOWNED, ClusterPaths, ScopeMap
from tests.conftest import REPO, chdir, lint, write

MONOREPO = REPO / "tests" / "fixtures" / "monorepo"
RULES = ["EKS003", "EKS101", "EKS104", "EKS106", "EKS401", "EKS403", "EKS404"]
CLUSTERS = """clusters:
  prod: {paths: [clusters/prod/**, apps/prod/**]}
  dev: {paths: [clusters/dev, apps/dev/**]}
"""


@pytest.fixture
def monorepo(tmp_path: Path) -> Path:
    root = tmp_path / "repo"
    shutil.copytree(MONOREPO, root)
    return root


def found(result: RunResult) -> set[tuple[str, str, int]]:
    return {(f.rule_id, f.span.file, f.span.line) for f in result.findings}


def messages(result: RunResult, path: str) -> str:
    return "\n".join(f.message + "".join(r.message for r in f.related) for f in result.findings if f.span.file == path)


def test_clusters_key_judges_each_file_by_its_own_cluster(monorepo: Path) -> None:
    write(monorepo, {".ekslint.yaml": CLUSTERS})
    result = lint(monorepo, select=RULES)
    assert found(result) == {
        # dev-db allows nothing; prod-db (same labels, other cluster) allowing it does not count
        ("EKS101", "apps/dev/db.yaml", 20),
        # prod-general allows no kernel.msg*; dev-general (other cluster) does
        ("EKS101", "apps/prod/web.yaml", 19),
        # the dev PDB selects the dev Deployment only (1 replica), not prod's 3
        ("EKS401", "apps/dev/web.yaml", 31),
        # (apps/shared/probe.yaml: no cluster's paths cover it and no node group is outside
        # every cluster, so where it runs is unknown and its sysctl is not judged)
        # dev runs 1.24, where the sysctl is not yet safe (prod runs 1.30)
        ("EKS101", "clusters/dev/system/tuner.yaml", 18),
    }
    # policy/v1beta1 is served by 1.24, dev's version: no EKS003 on the dev PDB.
    for path in ("apps/dev/db.yaml", "apps/dev/web.yaml", "clusters/dev/system/tuner.yaml"):
        assert "prod" not in messages(result, path), path
    assert "dev-" not in messages(result, "apps/prod/web.yaml")
    assert "prod-general (clusters/prod/cluster.yaml:10)" in messages(result, "apps/prod/web.yaml")
    assert "metadata.version of cluster dev" in messages(result, "clusters/dev/system/tuner.yaml")
    assert messages(result, "apps/shared/probe.yaml") == ""


def test_without_the_key_a_clusterconfig_directory_owns_the_files_under_it(monorepo: Path) -> None:
    result = lint(monorepo, select=RULES)
    assert found(result) == {
        # apps/ lies under no ClusterConfig's directory and holds no node group: which
        # cluster's nodes its pods run on is unknown, so their sysctls are not judged
        # unowned files: eksctl's default version, not the oldest ClusterConfig's 1.24
        ("EKS003", "apps/dev/web.yaml", 25),
        # clusters/dev/system is under dev's ClusterConfig directory
        ("EKS101", "clusters/dev/system/tuner.yaml", 18),
        # and within dev only the tuner can use dev-general's kernel.msg* (apps/ is no cluster's)
        ("EKS104", "clusters/dev/cluster.yaml", 16),
    }
    assert "eksctl's default Kubernetes version 1.34" in messages(result, "apps/dev/web.yaml")
    tuner = messages(result, "clusters/dev/system/tuner.yaml")
    assert "metadata.version of cluster dev" in tuner and "prod" not in tuner


def test_kubernetes_version_of_a_cluster_without_clusterconfig(monorepo: Path) -> None:
    shutil.rmtree(monorepo / "clusters")
    write(
        monorepo,
        {
            ".ekslint.yaml": CLUSTERS.replace(
                "[clusters/dev, apps/dev/**]", '[apps/dev/**], kubernetes-version: "1.24"'
            )
            + 'kubernetes-version: "1.33"\n',
            "apps/shared/pdb.yaml": (MONOREPO / "apps/dev/web.yaml").read_text(),
        },
    )
    result = lint(monorepo, select=["EKS003"])
    # dev says 1.24 (serves policy/v1beta1); the unowned copy is judged by the top-level 1.33
    assert found(result) == {("EKS003", "apps/shared/pdb.yaml", 25)}
    assert "the cluster runs 1.33 (kubernetes-version in the ekslint config)" in result.findings[0].message
    overridden = lint(monorepo, select=["EKS003"], context=ModelContext())  # no versions at all
    assert "eksctl's default Kubernetes version" in overridden.findings[0].message


def test_cluster_flag_restricts_the_run_to_one_cluster(monorepo: Path) -> None:
    write(monorepo, {".ekslint.yaml": CLUSTERS})
    with chdir(monorepo):
        settings = config.load(monorepo / ".ekslint.yaml")
        settings.select = RULES
        runner = Runner(plugins.load(), settings)
        result = runner.run(RunRequest(["."], settings, cluster="prod"))
        assert found(result) == {("EKS101", "apps/prod/web.yaml", 19)}
        assert result.files_analysed == 2
        with pytest.raises(UnknownCluster, match="known clusters: dev, prod"):
            runner.run(RunRequest(["."], settings, cluster="staging"))


def test_cluster_flag_on_the_command_line(monorepo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with chdir(monorepo):  # automatic: the names are the ClusterConfigs' metadata.name
        assert cli.main(["--no-cache", "--select", "EKS101", "--cluster", "dev", "."]) == 1
        out = capsys.readouterr().out
        assert "clusters/dev/system/tuner.yaml:18:13: EKS101" in out and "apps/" not in out
        assert cli.main(["--no-cache", "--cluster", "qa", "."]) == 2
        assert "--cluster 'qa': no such cluster; known clusters: dev, prod" in capsys.readouterr().err
        write(monorepo, {".ekslint.yaml": CLUSTERS})
        assert cli.main(["--no-cache", "--cluster", "qa", "."]) == 2  # checked before linting
        assert "known clusters: prod, dev" in capsys.readouterr().err


def test_one_file_run_reports_within_its_cluster(monorepo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write(monorepo, {".ekslint.yaml": CLUSTERS})
    with chdir(monorepo):
        assert cli.main(["--no-cache", "--select", "EKS101", "--context", ".", "apps/dev/db.yaml"]) == 1
    out = capsys.readouterr().out
    assert "apps/dev/db.yaml:20:13: EKS101" in out and "dev-db (clusters/dev/cluster.yaml:17)" in out
    assert "prod" not in out and "Found 1 problem" in out


def test_messages_count_the_rest_of_the_cluster(tmp_path: Path) -> None:
    groups = "".join(f"  - name: big-{i}\n    instanceType: m6i.large\n" for i in range(8))
    other = "".join(f"  - name: small-{i}\n    instanceType: m6i.large\n" for i in range(5))
    write(
        tmp_path,
        {
            "big/cluster.yaml": f"apiVersion: eksctl.io/v1alpha5\nkind: ClusterConfig\nmetadata:\n  name: big\n"
            f'  region: eu-west-1\n  version: "1.30"\nnodeGroups:\n{groups}',
            "small/cluster.yaml": f"apiVersion: eksctl.io/v1alpha5\nkind: ClusterConfig\nmetadata:\n  name: small\n"
            f'  region: eu-west-1\n  version: "1.30"\nnodeGroups:\n{other}',
            "big/apps/pod.yaml": (MONOREPO / "apps/shared/probe.yaml").read_text(),
        },
    )
    result = lint(tmp_path, select=["EKS101"])
    assert found(result) == {("EKS101", "big/apps/pod.yaml", 10)}
    message = result.findings[0].message
    assert "big-0 (big/cluster.yaml:8), big-1 (big/cluster.yaml:10), big-2 (big/cluster.yaml:12)" in message
    assert "and 5 more node groups in cluster big." in message
    assert "small" not in message


def test_automatic_scopes() -> None:
    scopes = ScopeMap.automatic(
        [
            ("repo/prod/cluster.yaml", ["prod"]),
            ("repo/prod/nodegroups/extra.yaml", ["prod"]),  # the same cluster, split into a subdirectory
            ("repo/prod/nested/other.yaml", ["other"]),  # another cluster below prod's directory
            ("repo/examples/a.yaml", ["a"]),  # one directory, several clusters
            ("repo/examples/b.yaml", ["b"]),
            ("repo/examples/b-nodegroups.yaml", ["b"]),
        ]
    )
    assert not scopes.single
    key = scopes.scope_key
    assert key("repo/prod/cluster.yaml") == key("repo/prod/nodegroups/extra.yaml") == key("repo/prod/apps/x.yaml")
    assert key("repo/prod/nodegroups/deeper/pod.yaml") == key("repo/prod/cluster.yaml")
    assert key("repo/prod/nested/pod.yaml") == key("repo/prod/nested/other.yaml") != key("repo/prod/cluster.yaml")
    assert key("repo/examples/b.yaml") == key("repo/examples/b-nodegroups.yaml") != key("repo/examples/a.yaml")
    # which of several clusters a file beside them belongs to cannot be known: none
    assert key("repo/examples/pod.yaml") == key("repo/examples/sub/pod.yaml") == key("repo/apps/x.yaml") == UNOWNED
    assert scopes.names() == ["a", "b", "other", "prod"]
    one = ScopeMap.automatic([("a/cluster.yaml", ["prod"]), ("b/cluster.yaml", ["prod"])])
    assert not one.single  # the same name in unrelated directories: two clusters
    assert ScopeMap.automatic([("a/cluster.yaml", ["prod"]), ("a/ng.yaml", ["prod"])]).single
    assert ScopeMap.automatic([]).single


def test_configured_scopes_take_the_first_matching_cluster(tmp_path: Path) -> None:
    scopes = ScopeMap.configured(
        [ClusterPaths("prod", ["clusters/prod/", "apps/*/prod/**"]), ClusterPaths("all", ["**"])], str(tmp_path)
    )
    with chdir(tmp_path):
        assert scopes.scope_of("clusters/prod/a/b.yaml").name == "prod"
        assert scopes.scope_of("apps/web/prod/x.yaml").name == "prod"
        assert scopes.scope_of("apps/web/dev/x.yaml").name == "all"
        assert scopes.scope_of(str(tmp_path / "clusters/prod/c.yaml")).name == "prod"  # absolute paths too


def test_config_declared_node_groups_belong_to_their_cluster(monorepo: Path) -> None:
    write(
        monorepo,
        {
            ".ekslint.yaml": CLUSTERS
            + "node-groups:\n"
            + "  - {name: karpenter-general, cluster: prod, labels: {role: general}, "
            + "allowed-unsafe-sysctls: [kernel.msgmax]}\n"
            + "  - {name: elsewhere, labels: {role: general}, allowed-unsafe-sysctls: [kernel.msgmax]}\n"
        },
    )
    result = lint(monorepo, select=["EKS101", "EKS106"])
    files = {f.span.file: f for f in result.findings}
    # prod web may land on prod-general (refuses) or karpenter-general (allows): EKS106
    assert files["apps/prod/web.yaml"].rule_id == "EKS106"
    assert "karpenter-general" in files["apps/prod/web.yaml"].message
    # the unowned pod reaches the node group the config gives no cluster
    assert "apps/shared/probe.yaml" not in files
    assert "karpenter" not in messages(result, "apps/dev/db.yaml")


def test_project_scopes_partition_every_file_once() -> None:
    facts = [FileFacts("a/x.yaml"), FileFacts("b/y.yaml"), FileFacts("c/z.yaml")]
    context = ModelContext(clusters=[ClusterPaths("a", ["a/**"]), ClusterPaths("b", ["b/**"])])
    project = Project(facts, context)
    scopes = project.scopes()
    assert [(s.cluster_name, s.file_paths()) for s in scopes] == [
        ("a", ["a/x.yaml"]),
        ("b", ["b/y.yaml"]),
        (None, ["c/z.yaml"]),
    ]
    assert scopes[0].more_node_groups(2) == "2 more node groups in cluster a"
    assert scopes[2].more_node_groups(1) == "1 more node group among the files no cluster owns"
    single = Project(facts, ModelContext())
    assert single.scopes() == [single] and single.more_node_groups(3) == "3 more"


@pytest.mark.parametrize(
    ("written", "error"),
    [
        ("clusters:\n  prod: {path: [a/**]}\n", "unknown key 'path' (did you mean 'paths'?)"),
        ("clusters:\n  prod: {paths: []}\n", "clusters.prod.paths: [] should be non-empty"),
        ("clusters:\n  prod: {paths: [/abs/**]}\n", "'/abs/**' is absolute"),
        ("clusters:\n  prod: {paths: [../other/**]}\n", "leaves the config's directory"),
        ("clusters:\n  prod: {paths: ['a/[b/**']}\n", "has a '[' without its ']'"),
        ("clusters:\n  prod: {paths: [a/**], kubernetes-version: latest}\n", "clusters.prod.kubernetes-version"),
        (
            "clusters:\n  prod: {paths: [a/**]}\nnode-groups:\n  - {name: x, cluster: dev}\n",
            "'dev' is not a cluster under clusters: (known: prod)",
        ),
    ],
)
def test_bad_clusters_key_is_a_config_error(tmp_path: Path, written: str, error: str) -> None:
    write(tmp_path, {".ekslint.yaml": written})
    with pytest.raises(config.ConfigError) as raised:
        config.load(tmp_path / ".ekslint.yaml")
    assert error in str(raised.value)
    assert ".ekslint.yaml:" in str(raised.value)


def test_clusters_in_pyproject(monorepo: Path) -> None:
    write(
        monorepo,
        {
            "pyproject.toml": "[tool.ekslint.clusters.prod]\npaths = ['clusters/prod/**', 'apps/prod/**']\n"
            "[tool.ekslint.clusters.dev]\npaths = ['clusters/dev/**', 'apps/dev/**']\n"
        },
    )
    settings = config.load(monorepo / "pyproject.toml")
    assert [(c.name, c.paths) for c in settings.context.clusters] == [
        ("prod", ["clusters/prod/**", "apps/prod/**"]),
        ("dev", ["clusters/dev/**", "apps/dev/**"]),
    ]
    with chdir(monorepo):
        settings.select = RULES
        result = Runner(plugins.load(), settings).run(RunRequest(["."], settings))
    assert ("EKS401", "apps/dev/web.yaml", 31) in found(result)
    assert ("EKS101", "apps/dev/web.yaml", 19) not in found(result)  # dev-general allows it


def test_cni_settings_apply_within_their_cluster(tmp_path: Path) -> None:
    # The aws-node DaemonSet with prefix delegation (shape of tests/rules/EKS301/fail.prefix-delegation-daemonset,
    # after aws/amazon-vpc-cni-k8s config/master/aws-k8s-cni.yaml) sits in prod's directory: dev's nodes
    # run the VPC CNI without it, so 110 pods are past m5.large's 29.
    daemonset = (REPO / "tests/rules/EKS301/fail.prefix-delegation-daemonset/aws-node.yaml").read_text()
    cluster = (
        "apiVersion: eksctl.io/v1alpha5\nkind: ClusterConfig\nmetadata:\n  name: {name}\n  region: eu-west-1\n"
        '  version: "1.31"\nmanagedNodeGroups:\n  - name: dense\n    instanceType: m5.large\n    maxPodsPerNode: 110\n'
    )
    write(
        tmp_path,
        {
            "prod/cluster.yaml": cluster.format(name="prod"),
            "prod/cni/aws-node.yaml": daemonset,
            "dev/cluster.yaml": cluster.format(name="dev"),
        },
    )
    assert found(lint(tmp_path, select=["EKS301"])) == {("EKS301", "dev/cluster.yaml", 10)}


def test_a_clusters_version_applies_to_its_node_groups_without_one(tmp_path: Path) -> None:
    # A KubeletConfiguration file (kubernetes/kubelet config/v1beta1 types.go) is a node group with no
    # version of its own: it runs its cluster's. net.ipv4.ip_local_reserved_ports is safe from 1.27.
    kubelet = "apiVersion: kubelet.config.k8s.io/v1beta1\nkind: KubeletConfiguration\nmaxPods: 50\n"
    pod = (MONOREPO / "clusters/dev/system/tuner.yaml").read_text()
    write(
        tmp_path,
        {
            ".ekslint.yaml": "clusters:\n"
            '  old: {paths: [old/**], kubernetes-version: "1.24"}\n'
            '  new: {paths: [new/**], kubernetes-version: "1.30"}\n',
            "old/kubelet.yaml": kubelet,
            "old/tuner.yaml": pod,
            "new/kubelet.yaml": kubelet,
            "new/tuner.yaml": pod,
        },
    )
    result = lint(tmp_path, select=["EKS101"])
    assert found(result) == {("EKS101", "old/tuner.yaml", 18)}
    assert "unsafe on Kubernetes 1.24" in result.findings[0].message
    assert "kubernetes-version of cluster old" in result.findings[0].message
    assert "new/" not in messages(result, "old/tuner.yaml")


def test_cluster_names_are_read_without_unpacking_the_node_side() -> None:
    from ekslint.model.facts import PackedFacts, cluster_names, object_keys
    from ekslint.model.nodegroup import Cluster
    from ekslint.parse.text import Span

    where = Span("c.yaml", 1, 1, 1, 1)
    facts = FileFacts("c.yaml", clusters=[Cluster("prod", (1, 30), "1.30", where, where, "c.yaml")])
    facts.object_keys = object_keys(facts)
    packed = PackedFacts.pack(facts)
    assert cluster_names(packed) == ["prod"] and packed._nodes is None  # still packed
    by_hand = PackedFacts.pack(FileFacts("d.yaml", clusters=facts.clusters))  # no object keys: unpacked
    assert cluster_names(by_hand) == ["prod"]
    assert cluster_names(PackedFacts.pack(FileFacts("e.yaml"))) == []
