"""Pod capacity: the instance table, the max-pods formula, the calculator CLI, the
generator and the refresh from EC2, checked against AWS's reference data in
../shared/public-data when it is there."""

from __future__ import annotations

import importlib.util
import json
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from ekslint import cli, instance_data
from ekslint.model import capacity
from ekslint.model.capacity import capacity as max_pods
from ekslint.model.capacity import recommend, windows_capacity
from tests.conftest import REPO, SHARED, lint, write

PUBLIC_DATA = SHARED / "public-data"
SUPPLEMENT = REPO / "scripts" / "data" / "instance_types_supplement.json"
GENERATOR = REPO / "scripts" / "generate_instance_data.py"
VENDORED_CNI = REPO / "scripts" / "data" / "vpc-cni-limits.json"
VENDORED_NODEADM = REPO / "scripts" / "data" / "nodeadm-instance-info.json"

# Types that moto's DescribeInstanceTypes describes as two network cards (i7ie: 8 + 7
# ENIs, i8ge: 12 + 12), while the tables nodes use (the VPC CNI's, nodeadm's, and
# eni-max-pods.txt made from the VPC CNI's) have the whole instance's ENIs on card 0.
TWO_CARD_TYPES = {"i7ie.48xlarge": 737, "i7ie.metal-48xl": 737, "i8ge.48xlarge": 1178, "i8ge.metal-48xl": 1178}


def generator() -> Any:
    """scripts/generate_instance_data.py as a module."""
    spec = importlib.util.spec_from_file_location("generate_instance_data", GENERATOR)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules.setdefault(spec.name, module)  # dataclasses look their module up
    spec.loader.exec_module(sys.modules[spec.name])
    return sys.modules[spec.name]


@pytest.fixture(autouse=True)
def shipped_table_only(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """No user cache: every test sees the shipped table unless it writes one."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    capacity.table.cache_clear()
    yield
    capacity.table.cache_clear()


def info(name: str) -> capacity.InstanceInfo:
    found = capacity.table().get(name)
    assert found is not None, name
    return found


def reference() -> list[dict[str, object]]:
    path = PUBLIC_DATA / "instance-types.jsonl"
    if not path.is_file():
        pytest.skip(f"the reference instance data is expected at {path}")
    return [json.loads(line) for line in path.read_text("utf-8").splitlines() if line.strip()]


# -- the formula --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("t3.micro", 4),  # burstable
        ("t3.small", 11),
        ("t3.medium", 17),
        ("t3.large", 35),
        ("m5.large", 29),
        ("m5.xlarge", 58),
        ("m5.4xlarge", 234),
        ("m5.16xlarge", 737),
        ("c5.18xlarge", 737),
        ("p5.48xlarge", 100),  # 32 network cards; only the default card's 2 ENIs count
        ("c6in.32xlarge", 394),  # two cards of 8 ENIs: 8 × 49 + 2
        ("trn1.32xlarge", 247),
        ("m4.large", 20),  # Xen
        ("m5.metal", 737),
        ("p3.2xlarge", 58),  # from the supplement
    ],
)
def test_secondary_ip_capacity(name: str, expected: int) -> None:
    assert max_pods(info(name)).max_pods == expected


def test_formula_text_gives_the_arithmetic() -> None:
    assert max_pods(info("m5.large")).formula == "3 ENIs × (10 − 1) + 2 = 29 for m5.large"
    assert max_pods(info("m5.large"), prefix_delegation=True).formula == (
        "3 ENIs × ((IPv4 10 − 1) × 16) + 2 = 434 for m5.large"
    )


def test_prefix_delegation_where_the_vpc_cni_assigns_prefixes() -> None:
    """IsPrefixDelegationSupported (amazon-vpc-cni-k8s pkg/awsutils/awsutils.go): Nitro,
    or bare metal from VPC CNI 1.10.3 (#1937); never on Xen; nothing before 1.9."""
    assert max_pods(info("m5.large"), prefix_delegation=True).max_pods == 434
    assert max_pods(info("m4.large"), prefix_delegation=True).max_pods == 20  # Xen: no prefixes
    metal = max_pods(info("m5.metal"), prefix_delegation=True)
    assert metal.prefix_delegation and metal.max_pods == 11762
    assert max_pods(info("m5.metal"), prefix_delegation=True, cni_version=(1, 11, 0)).max_pods == 11762
    assert max_pods(info("m5.metal"), prefix_delegation=True, cni_version=(1, 10, 3)).max_pods == 11762
    assert max_pods(info("m5.metal"), prefix_delegation=True, cni_version=(1, 10, 2)).max_pods == 737
    assert max_pods(info("m5.large"), prefix_delegation=True, cni_version=(1, 10, 2)).max_pods == 434
    assert max_pods(info("m5.large"), prefix_delegation=True, cni_version=(1, 8, 0)).max_pods == 29
    # max-pods-calculator.sh tests Hypervisor == "nitro": bare metal never gets prefixes there.
    calculated = max_pods(info("m5.metal"), prefix_delegation=True, cni_version=(1, 18, 0), calculator=True)
    assert not calculated.prefix_delegation and calculated.max_pods == 737


def test_prefix_capable() -> None:
    assert info("m5.large").prefix_capable() and not info("m4.large").prefix_capable()
    assert info("m5.metal").prefix_capable() and info("m5.metal").prefix_capable((1, 10, 3))
    assert not info("m5.metal").prefix_capable((1, 10, 2))
    assert not info("m5.large").prefix_capable((1, 8, 9))


def test_cni_versions() -> None:
    assert capacity.parse_cni_version("v1.18.3-eksbuild.1") == (1, 18, 3)
    assert capacity.parse_cni_version("1.9") == (1, 9, 0)
    assert capacity.parse_cni_version("latest") is None
    assert capacity.format_version((1, 10, 3)) == "1.10.3"
    assert capacity.pd_supported((1, 9)) and capacity.pd_supported((1, 9, 0)) and not capacity.pd_supported((1, 8, 9))


def test_custom_networking_and_max_eni() -> None:
    assert max_pods(info("m5.large"), custom_networking=True).max_pods == 20
    assert max_pods(info("m5.xlarge"), max_eni=2).max_pods == 30
    assert max_pods(info("m5.large"), max_eni=8).max_pods == 29  # the instance's limit stays


def test_windows_uses_the_primary_eni() -> None:
    assert windows_capacity(info("m5.large")).max_pods == 9
    assert windows_capacity(info("m5.4xlarge")).max_pods == 29


def test_windows_prefix_delegation() -> None:
    """(IPv4 per ENI − 1) × 16: the resource controller's getCapacity for Windows times
    NumIPv4AddrPerPrefix (amazon-vpc-resource-controller-k8s pkg/provider/prefix)."""
    assert windows_capacity(info("m5.large"), prefix_delegation=True).max_pods == 144
    assert windows_capacity(info("m5.4xlarge"), prefix_delegation=True).max_pods == 464


def test_calculator_recommendation_caps() -> None:
    # AWS's documented examples (choosing-instance-type.adoc, CNI 1.9.0).
    assert recommend(info("m5.large"), (1, 9)).value == 29
    assert recommend(info("m5.large"), (1, 9), custom_networking=True).value == 20
    assert recommend(info("m5.large"), (1, 9), prefix_delegation=True).value == 110
    assert recommend(info("a1.4xlarge"), (1, 9)).value == 110  # capped without prefix delegation too
    assert recommend(info("a1.4xlarge"), (1, 9), show_max_allowed=True).value == 234
    assert recommend(info("m5.16xlarge"), (1, 9)).value == 250  # 64 vCPUs
    assert recommend(info("m5.large"), (1, 8), prefix_delegation=True).value == 29  # CNI too old


def test_default_network_card_only() -> None:
    record = {
        "InstanceType": "x9.huge",
        "VCpuInfo": {"DefaultVCpus": 8},
        "Hypervisor": "nitro",
        "BareMetal": False,
        "NetworkInfo": {
            "Ipv4AddressesPerInterface": 30,
            "MaximumNetworkInterfaces": 16,
            "DefaultNetworkCardIndex": 1,
            "NetworkCards": [
                {"NetworkCardIndex": 0, "MaximumNetworkInterfaces": 12},
                {"NetworkCardIndex": 1, "MaximumNetworkInterfaces": 4},
            ],
        },
    }
    assert instance_data.row_from_record(record) == [4, 30, 8, "nitro", False]


def test_closest_known_type() -> None:
    table = capacity.table()
    assert table.closest("m5.larg") == "m5.large"
    assert table.closest("M5.LARGE") == "m5.large"
    assert table.closest("c6g.xlrage") == "c6g.xlarge"


# -- against AWS's reference data ---------------------------------------------------------


def test_every_reference_type_agrees() -> None:
    table = capacity.table()
    rows = reference()
    missing = sorted(str(r["instanceType"]) for r in rows if str(r["instanceType"]) not in table.types)
    assert missing == []
    disagree = {}
    for row in rows:
        found = table.types[str(row["instanceType"])]
        value = max_pods(found).max_pods
        if value != row["maxPodsSecondaryIP"]:
            disagree[found.name] = (value, row["maxPodsSecondaryIP"])
        if row["eniMaxPodsTxt"] is not None and value != row["eniMaxPodsTxt"]:
            disagree[found.name] = (value, row["eniMaxPodsTxt"])
        if row["calcRecommended"] is not None:
            assert recommend(found, (1, 9)).value == row["calcRecommended"], found.name
        if row["calcRecommendedPD"] is not None:
            assert recommend(found, (1, 9), prefix_delegation=True).value == row["calcRecommendedPD"], found.name
    assert disagree == {}


def test_eni_max_pods_txt_agrees_exactly() -> None:
    """Every type of AWS's eni-max-pods.txt, the two-card ones included, has the max pods
    the file gives it: ENIs × (IPv4 per ENI − 1) + 2 from ekslint's table."""
    path = PUBLIC_DATA / "eni-max-pods.txt"
    if not path.is_file():
        pytest.skip(f"eni-max-pods.txt is expected at {path}")
    table = capacity.table()
    expected = {}
    for line in path.read_text("utf-8").splitlines():
        if line.strip() and not line.startswith("#"):
            name, value = line.split()
            expected[name] = int(value)
    assert TWO_CARD_TYPES.items() <= expected.items()
    missing = sorted(set(expected) - set(table.types))
    assert missing == []
    found = {name: max_pods(table.types[name]).max_pods for name in expected}
    assert {n: (found[n], v) for n, v in expected.items() if found[n] != v} == {}
    assert len(found) == len(expected)


def test_two_card_types_count_card_0_as_the_tables_nodes_use_do() -> None:
    table = capacity.table()
    assert {name: max_pods(table.types[name]).max_pods for name in TWO_CARD_TYPES} == TWO_CARD_TYPES


def test_eks301_exactly_at_capacity_passes_and_one_more_fails(tmp_path: Path) -> None:
    """One ClusterConfig with two node groups per reference type: at capacity and +1."""
    table = capacity.table()
    names = sorted({str(r["instanceType"]) for r in reference()})
    lines = ["apiVersion: eksctl.io/v1alpha5", "kind: ClusterConfig", "metadata:", "  name: all", "nodeGroups:"]
    for index, name in enumerate(names):
        limit = max_pods(table.types[name]).max_pods
        for suffix, value in (("at", limit), ("over", limit + 1)):
            lines += [f"  - name: g{index}-{suffix}", f"    instanceType: {name}", f"    maxPodsPerNode: {value}"]
    write(tmp_path, {"cluster.yaml": "\n".join(lines) + "\n"})
    result = lint(tmp_path, select=["EKS301"])
    flagged = {f.span.line for f in result.findings}
    # Each group takes 3 lines from line 6; maxPodsPerNode is its third line.
    expected = {6 + 3 * (2 * index + 1) + 2 for index in range(len(names))}
    assert flagged == expected


# -- the generator and the refresh --------------------------------------------------------


def test_shipped_table_is_what_the_generator_makes_from_the_vendored_tables() -> None:
    pytest.importorskip("moto")  # pinned in the test extra to the release the table was generated with
    document = generator().generate()
    shipped = json.loads((REPO / "src" / "ekslint" / "data" / "instance_types.json").read_text("utf-8"))
    assert shipped["types"] == document["types"], "run python scripts/generate_instance_data.py"
    # The header says how it was generated, and from what.
    assert "generate_instance_data.py" in shipped["command"] and "--vendor" in shipped["command"]
    for part in ("pkg/vpc/vpc_ip_resource_limit.go", "instance-info.jsonl", "moto ", "supplement"):
        assert part in shipped["source"], part


def test_vendored_tables_say_where_they_come_from() -> None:
    for path, repository, upstream in (
        (VENDORED_CNI, "aws/amazon-vpc-cni-k8s", "pkg/vpc/vpc_ip_resource_limit.go"),
        (VENDORED_NODEADM, "awslabs/amazon-eks-ami", "nodeadm/internal/kubelet/instance-info.jsonl"),
    ):
        rows, head = instance_data.read_vendored(path)
        assert head["repository"] == repository and head["path"] == upstream
        assert len(head["commit"]) == 40 and len(head["sha256"]) == 64
        assert rows and all(r["defaultCardMaxENIs"] > 0 and r["ipv4PerENI"] > 1 for r in rows.values())


def test_vendored_vpc_cni_and_nodeadm_tables_agree() -> None:
    """Both are generated from DescribeInstanceTypes' default card: where both have a
    type they must say the same, or one of them is stale."""
    cni, _ = instance_data.read_vendored(VENDORED_CNI)
    nodeadm, _ = instance_data.read_vendored(VENDORED_NODEADM)
    differ = {
        name: (cni[name], row)
        for name, row in nodeadm.items()
        if name in cni and (cni[name]["defaultCardMaxENIs"], cni[name]["ipv4PerENI"]) != tuple(row.values())
    }
    assert differ == {}


def test_parse_vpc_cni_limits() -> None:
    text = """package vpc

var instanceNetworkingLimits = map[string]InstanceTypeLimits{
	"x9.huge": {
		ENILimit:                4,
		IPv4Limit:               30,
		DefaultNetworkCardIndex: 1,
		NetworkCards: []NetworkCard{
			{
				MaximumNetworkInterfaces: 12,
				NetworkCardIndex:         0,
			},
		},
		HypervisorType: "nitro",
		IsBareMetal:    false,
	},
	"x9.metal": {
		ENILimit:                15,
		IPv4Limit:               50,
		DefaultNetworkCardIndex: 0,
		NetworkCards: []NetworkCard{},
		HypervisorType: "unknown",
		IsBareMetal:    true,
	},
}
"""
    assert instance_data.parse_vpc_cni_limits(text) == {
        "x9.huge": {"defaultCardMaxENIs": 4, "ipv4PerENI": 30, "hypervisor": "nitro", "bareMetal": False},
        "x9.metal": {"defaultCardMaxENIs": 15, "ipv4PerENI": 50, "hypervisor": None, "bareMetal": True},
    }
    with pytest.raises(ValueError, match="instanceNetworkingLimits"):
        instance_data.parse_vpc_cni_limits("package vpc\n")


def test_parse_nodeadm_instance_info() -> None:
    text = '{"instanceType":"m5.large","defaultMaxENIs":3,"ipv4AddressesPerInterface":10}\n\n'
    assert instance_data.parse_nodeadm_instance_info(text) == {"m5.large": {"defaultCardMaxENIs": 3, "ipv4PerENI": 10}}
    with pytest.raises(ValueError, match="line 1"):
        instance_data.parse_nodeadm_instance_info('{"instanceType":"m5.large"}')


def test_merge_takes_each_column_from_the_first_source_that_says_it() -> None:
    nodes = {"a.big": {"defaultCardMaxENIs": 15, "ipv4PerENI": 50, "hypervisor": None, "bareMetal": True}}
    ec2 = {
        "a.big": {"defaultCardMaxENIs": 8, "ipv4PerENI": 50, "defaultVCpus": 192, "hypervisor": "", "bareMetal": True},
        "b.new": {"defaultCardMaxENIs": 2, "ipv4PerENI": 4, "defaultVCpus": 2, "hypervisor": None, "bareMetal": False},
    }
    rows, counts = instance_data.merge([("nodes", nodes), ("ec2", ec2)])
    assert rows == {"a.big": [15, 50, 192, "", True], "b.new": [2, 4, 2, "", False]}
    assert counts == {"nodes": 1, "ec2": 1}
    nitro = {"a.big": {"defaultCardMaxENIs": 15, "ipv4PerENI": 50, "hypervisor": "nitro", "bareMetal": True}}
    rows, _ = instance_data.merge([("nodes", nitro), ("ec2", ec2)], prefer={"hypervisor": "ec2"})
    assert rows["a.big"] == [15, 50, 192, "", True]


def test_supplement_entries_name_a_source_and_fill_real_gaps() -> None:
    pytest.importorskip("moto")
    records, _ = instance_data.moto_records()
    in_moto = {r["InstanceType"] for r in records}
    cni, _ = instance_data.read_vendored(VENDORED_CNI)
    entries = instance_data.read_supplement(SUPPLEMENT)
    assert entries
    for entry in entries:
        name = entry["instanceType"]
        assert entry["source"].startswith("https://docs.aws.amazon.com/"), name
        assert name not in in_moto, f"{name} is in moto now: drop it"
        if name in cni:  # kept for its vCPUs: its network figures must be the VPC CNI's
            assert (entry["defaultCardMaxENIs"], entry["ipv4PerENI"]) == (
                cni[name]["defaultCardMaxENIs"],
                cni[name]["ipv4PerENI"],
            ), name


def test_update_instance_data_from_mock_ec2(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    moto = pytest.importorskip("moto")
    for key, value in {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_SESSION_TOKEN": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
    }.items():
        monkeypatch.setenv(key, value)
    with moto.mock_aws():
        assert cli.main(["--update-instance-data"]) == 0
    target = tmp_path / "cache" / "ekslint" / "instance_types.json"
    assert target.is_file()
    assert str(target) in capsys.readouterr().err
    refreshed = capacity.table()
    assert refreshed.path == str(target) and refreshed.generated >= capacity.shipped_table().generated
    assert "EC2 DescribeInstanceTypes in us-east-1" in refreshed.source
    shipped = capacity.shipped_table()
    assert refreshed.types["m5.large"] == shipped.types["m5.large"]
    # The shipped rows stay, as the VPC CNI's and nodeadm's tables do: moto's EC2 says two
    # cards for i7ie.48xlarge (8 ENIs on card 0), the tables nodes use say 15.
    assert refreshed.types["i7ie.48xlarge"] == shipped.types["i7ie.48xlarge"]
    assert "p3.2xlarge" in refreshed.types  # not offered by the mock: kept from the shipped table


def test_stale_or_broken_cache_is_ignored(tmp_path: Path) -> None:
    target = capacity.cache_path()
    target.parent.mkdir(parents=True)
    stale = instance_data.build_table([], "old", "test")
    stale["generated"] = "2000-01-01T00:00:00Z"
    stale["types"] = {"m5.large": [1, 2, 2, "nitro", False]}
    target.write_text(json.dumps(stale), "utf-8")
    assert capacity.table().types["m5.large"].enis == 3
    target.write_text("{not json", "utf-8")
    capacity.table.cache_clear()
    assert capacity.table().path.startswith("ekslint/data")


# -- the calculator command ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        (["m5.large", "--cni-version", "1.9.0"], "29"),
        (["m5.large", "--cni-version", "1.9.0", "--cni-custom-networking-enabled"], "20"),
        (["m5.large", "--cni-version", "1.9.0", "--cni-prefix-delegation-enabled"], "110"),
        (["m5.large", "--cni-version", "1.8.0", "--cni-prefix-delegation-enabled"], "29"),
        (["a1.4xlarge", "--cni-version", "1.9.0"], "110"),
        (["a1.4xlarge", "--cni-version", "1.9.0", "--show-max-allowed"], "234"),
        (["m5.16xlarge", "--cni-version", "v1.18.3-eksbuild.1", "--cni-prefix-delegation-enabled"], "250"),
        (["m5.xlarge", "--cni-version", "1.9.0", "--cni-max-eni", "2"], "30"),
        (["p5.48xlarge", "--cni-version", "1.10.0", "--show-max-allowed"], "100"),
        # The calculator reads Hypervisor == "nitro": no prefixes on bare metal (uncapped 737).
        (["m5.metal", "--cni-version", "1.18.0", "--cni-prefix-delegation-enabled", "--show-max-allowed"], "737"),
        # Two-card types: card 0's ENIs as the VPC CNI's table (and eni-max-pods.txt) has them.
        (["i7ie.48xlarge", "--cni-version", "1.18.0", "--show-max-allowed"], "737"),
    ],
)
def test_max_pods_command(argv: list[str], expected: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["--max-pods", *argv]) == 0
    assert capsys.readouterr().out == expected + "\n"


def test_max_pods_command_errors_like_the_calculator(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["--max-pods", "m5.larg", "--cni-version", "1.9.0"]) == 2
    assert "Did you mean m5.large?" in capsys.readouterr().err
    assert cli.main(["--max-pods", "m5.large", "--cni-version", "latest"]) == 2
    assert "is not a version like 1.9.0" in capsys.readouterr().err


def test_max_pods_command_without_cni_version_answers_for_a_current_one(capsys: pytest.CaptureFixture[str]) -> None:
    """calculator.sh stops ("You must specify a CNI Version"); ekslint answers for a
    current VPC CNI and names it: on stderr (stdout stays the number) and in JSON."""
    current = capacity.format_version(capacity.CURRENT_CNI_VERSION)
    assert capacity.pd_supported(capacity.CURRENT_CNI_VERSION)
    assert capacity.CURRENT_CNI_VERSION >= capacity.PD_BARE_METAL_MIN_VERSION
    assert cli.main(["--max-pods", "m5.large", "--cni-prefix-delegation-enabled"]) == 0
    captured = capsys.readouterr()
    assert captured.out == "110\n"
    assert f"answered for VPC CNI {current}" in captured.err and "--cni-version" in captured.err
    assert cli.main(["--max-pods", "m5.large", "-f", "json"]) == 0
    document = json.loads(capsys.readouterr().out)
    assert document["maxPods"] == 29
    assert document["cniVersion"] == current and document["cniVersionAssumed"] is True
    assert cli.main(["--max-pods", "m5.large", "--cni-version", "1.9.0"]) == 0
    assert capsys.readouterr().err == ""


def test_max_pods_command_json(capsys: pytest.CaptureFixture[str]) -> None:
    argv = ["--max-pods", "m5.large", "--cni-version", "1.9.0", "--cni-prefix-delegation-enabled", "-f", "json"]
    assert cli.main(argv) == 0
    document = json.loads(capsys.readouterr().out)
    assert document["maxPods"] == 110 and document["maxAllowed"] == 434 and document["capped"]
    assert document["formula"] == "3 ENIs × ((IPv4 10 − 1) × 16) + 2 = 434 for m5.large"
    assert document["prefixDelegation"] == {
        "requested": True,
        "applied": True,
        "supportedByCni": True,
        "nitro": True,
        "bareMetal": False,
        "supportedByInstance": True,
    }
    assert document["cniVersion"] == "1.9.0" and document["cniVersionAssumed"] is False
    assert document["instance"]["defaultCardMaxENIs"] == 3


def test_lint_never_imports_boto3_or_moto(tmp_path: Path) -> None:
    import subprocess

    write(tmp_path, {"cluster.yaml": "apiVersion: eksctl.io/v1alpha5\nkind: ClusterConfig\nmetadata: {name: x}\n"})
    script = (
        "import sys\nfrom ekslint import cli\ncode = cli.main(['--select', 'EKS3', 'cluster.yaml'])\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('boto3', 'botocore', 'moto')))\n"
    )
    proc = subprocess.run([sys.executable, "-c", script], cwd=tmp_path, capture_output=True, text=True, check=True)
    assert proc.stdout.strip().splitlines()[-1] == "[]"


# -- what the analysed files say about the VPC CNI -------------------------------------------


def _object(text: str) -> Any:
    from ekslint.parse.text import Text
    from ekslint.parse.yamltree import compose

    docs, error = compose(Text.whole_file("f.yaml", text))
    assert error is None
    return docs[0].root()


@pytest.mark.parametrize(
    ("value", "expected"),
    [("true", True), ("True", True), ("1", True), ("t", True), ("false", False), ("0", False), ("yes", None)],
)
def test_cni_booleans_read_as_go_parse_bool(value: str, expected: bool | None) -> None:
    from ekslint.model import cni

    daemonset = _object(
        "kind: DaemonSet\nmetadata: {name: aws-node}\nspec:\n  template:\n    spec:\n      containers:\n"
        "        - name: aws-node\n          env:\n"
        f"            - {{name: ENABLE_PREFIX_DELEGATION, value: '{value}'}}\n"
        f"            - {{name: ENABLE_IPv6, value: '{value}'}}\n"
    )
    settings = cni.from_daemonset(daemonset)
    assert settings is not None
    for fact in (settings.prefix_delegation, settings.ipv6):
        assert (fact.value if fact is not None else None) == expected


@pytest.mark.parametrize(("family", "ipv6"), [("IPv6", True), ("ipv6", True), ("IPv4", False), ("IPX", None)])
def test_ip_family_of_an_eksctl_cluster(family: str, ipv6: bool | None) -> None:
    from ekslint.model import cni

    config = _object(f"kind: ClusterConfig\nmetadata: {{name: c}}\nkubernetesNetworkConfig: {{ipFamily: {family}}}\n")
    found = [s.ipv6.value for s in cni.from_cluster_config(config, "c.yaml", "c") if s.ipv6 is not None]
    assert found == ([] if ipv6 is None else [ipv6])


@pytest.mark.parametrize(
    ("namespace", "ipam", "pd", "enabled"),
    [
        ("kube-system", "true", "true", True),
        (None, "true", "True", True),
        ("kube-system", "false", "true", False),  # IsWindowsPrefixDelegationEnabled needs Windows IPAM
        ("kube-system", None, "true", False),
        ("kube-system", "true", "on", False),  # strconv.ParseBool refuses "on"
        ("other", "true", "true", None),  # not the controller's ConfigMap
    ],
)
def test_windows_prefix_delegation_from_the_config_map(
    namespace: str | None, ipam: str | None, pd: str, enabled: bool | None
) -> None:
    from ekslint.model import cni

    meta = "{name: amazon-vpc-cni" + (f", namespace: {namespace}" if namespace else "") + "}"
    data = f"enable-windows-prefix-delegation: '{pd}'" + (f", enable-windows-ipam: '{ipam}'" if ipam else "")
    settings = cni.from_config_map(_object(f"kind: ConfigMap\nmetadata: {meta}\ndata: {{{data}}}\n"))
    assert (settings.windows_prefixes if settings is not None else None) == enabled
