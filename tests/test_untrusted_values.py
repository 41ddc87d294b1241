"""Values a hostile pull request can write (issue 15, items 2, 12 and 13): numbers no
64-bit integer holds, deeply nested or huge-literal CEL, long dotted TOML keys and deep
TOML arrays, UTF-16 and binary files. Each is a finding that names the file and the
setting, never an internal error (EKS004), a silent skip or a memory spike."""

from __future__ import annotations

import time
import tracemalloc
from pathlib import Path

import pytest

from ekslint.parse import cel
from ekslint.parse.numbers import OutOfRange
from ekslint.parse.text import Text
from ekslint.parse.tomldoc import MAX_KEY_PARTS, MAX_NESTING, TomlSyntaxError, parse_toml
from ekslint.parse.yamltree import resolve_plain
from tests.conftest import lint, write

HUGE_HEX = "0x" + "f" * 20_000
HUGE_DECIMAL = "9" * 5_000


def deployment(replicas: str, seconds: str = "30") -> str:
    return (
        "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\n  namespace: x\nspec:\n"
        f"  replicas: {replicas}\n  selector: {{matchLabels: {{app: a}}}}\n  template:\n"
        "    metadata: {labels: {app: a}}\n    spec:\n      tolerations:\n"
        f"        - {{key: k, operator: Exists, effect: NoExecute, tolerationSeconds: {seconds}}}\n"
        "      containers: [{name: c, image: i}]\n"
    )


PDB = (
    "apiVersion: policy/v1\nkind: PodDisruptionBudget\nmetadata:\n  name: web\n  namespace: x\n"
    "spec:\n  minAvailable: 1\n  selector: {matchLabels: {app: a}}\n"
)


def by_file(result: object) -> dict[str, list[tuple[str, str]]]:
    found: dict[str, list[tuple[str, str]]] = {}
    for f in [*result.findings, *result.crashed]:  # type: ignore[attr-defined]
        found.setdefault(f.span.file, []).append((f.rule_id, f.message))
    return found


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("42", 42),
        ("0x10", 16),
        ("-0x10", -16),
        ("0b101", 5),
        ("0777", 511),
        ("18446744073709551615", 18446744073709551615),  # uint64: still an integer
        ("0xffffffffffffffff", 18446744073709551615),
        ("99999999999999999999999", 1e23),  # past uint64: go-yaml's ParseFloat
        ("1_000", 1000),
    ],
)
def test_numbers_resolve_as_go_yaml_does(raw: str, expected: object) -> None:
    assert resolve_plain(raw) == expected


@pytest.mark.parametrize(
    "raw", [HUGE_HEX, HUGE_DECIMAL, "0x1" + "0" * 16, "-0x" + "f" * 17, "0b" + "1" * 65, "0" + "7" * 30]
)
def test_numbers_past_64_bits_are_out_of_range_without_converting_them(raw: str) -> None:
    start = time.perf_counter()
    value = resolve_plain(raw)
    assert isinstance(value, OutOfRange) and value == raw
    assert time.perf_counter() - start < 0.1


@pytest.mark.parametrize(
    ("replicas", "seconds", "setting"),
    [
        (HUGE_DECIMAL, "30", "spec.replicas"),
        (HUGE_HEX, "30", "spec.replicas"),
        ("2", HUGE_HEX, "spec.template.spec.tolerations[0].tolerationSeconds"),
        ("-" + HUGE_HEX, "30", "spec.replicas"),
    ],
)
def test_huge_numbers_are_eks001_naming_the_setting(tmp_path: Path, replicas: str, seconds: str, setting: str) -> None:
    write(tmp_path, {"web.yaml": deployment(replicas, seconds), "pdb.yaml": PDB})
    result = lint(tmp_path)
    found = by_file(result)
    assert not any(rule == "EKS004" for items in found.values() for rule, _ in items), found
    eks001 = [message for rule, message in found["web.yaml"] if rule == "EKS001"]
    assert eks001 and eks001[0].startswith(f"{setting}: the number ") and "out of range" in eks001[0]
    assert all(len(message) < 1000 for items in found.values() for _, message in items)


@pytest.mark.parametrize("value", ["1e999", ".nan", "-.inf"])
def test_special_floats_in_integer_fields_are_findings(tmp_path: Path, value: str) -> None:
    write(
        tmp_path,
        {
            "web.yaml": deployment(value, value),
            "cluster.yaml": (
                "apiVersion: eksctl.io/v1alpha5\nkind: ClusterConfig\nmetadata: {name: c, region: us-east-1}\n"
                f"managedNodeGroups:\n  - name: a\n    instanceType: m5.large\n    desiredCapacity: {value}\n"
            ),
            "nc.yaml": f"apiVersion: node.eks.aws/v1alpha1\nkind: NodeConfig\nspec:\n  kubelet:\n    config: {{maxPods: {value}}}\n",
        },
    )
    found = by_file(lint(tmp_path))
    # EKS001 from the parser, with or without kubernetes-validate; not twice.
    assert [message.split(":")[0] for rule, message in found["web.yaml"] if rule == "EKS001"] == [
        "spec.replicas",
        "spec.template.spec.tolerations[0].tolerationSeconds",
    ]
    assert [rule for rule, _ in found["web.yaml"]] == ["EKS001", "EKS001"]
    assert [rule for rule, _ in found["cluster.yaml"]] == ["EKS001"]
    assert [rule for rule, _ in found["nc.yaml"]] == ["EKS001"]


def test_huge_numbers_in_eksctl_pdb_and_nodeconfig(tmp_path: Path) -> None:
    write(
        tmp_path,
        {
            "cluster.yaml": (
                "apiVersion: eksctl.io/v1alpha5\nkind: ClusterConfig\nmetadata: {name: c, region: us-east-1}\n"
                f"managedNodeGroups:\n  - name: a\n    instanceType: m5.large\n    maxPodsPerNode: {HUGE_HEX}\n"
            ),
            "pdb.yaml": PDB.replace("minAvailable: 1", f"minAvailable: {HUGE_HEX}"),
            "nc.yaml": (
                "apiVersion: node.eks.aws/v1alpha1\nkind: NodeConfig\nspec:\n  kubelet:\n"
                f"    config: {{maxPods: {HUGE_HEX}}}\n"
            ),
        },
    )
    found = by_file(lint(tmp_path))
    for name, setting in (
        ("cluster.yaml", "managedNodeGroups[0].maxPodsPerNode"),
        ("pdb.yaml", "spec.minAvailable"),
        ("nc.yaml", "spec.kubelet.config.maxPods"),
    ):
        assert any(rule == "EKS001" and message.startswith(setting) for rule, message in found[name]), found[name]
    assert not any(rule == "EKS004" for items in found.values() for rule, _ in items)
    assert all(len(message) < 1000 for items in found.values() for _, message in items)


@pytest.mark.parametrize(
    ("source", "words"),
    [
        ("(" * 100_000 + "1" + ")" * 100_000, "nested more than 250"),
        ("!" * 100_000 + "true", "nested more than 250"),
        ("-" * 100_000 + "1", "nested more than 250"),
        ("[" * 50_000 + "]" * 50_000, "nested more than 250"),
        (HUGE_HEX, "out of range"),
        (HUGE_DECIMAL + " + max_pods", "out of range"),
        ("0x8000000000000000", "out of range"),
    ],
)
def test_cel_limits_are_compile_errors(source: str, words: str) -> None:
    start = time.perf_counter()
    with pytest.raises(cel.CelError) as caught:
        cel.compile_expression(source)
    assert words in caught.value.message and len(caught.value.message) < 300
    assert time.perf_counter() - start < 2


def test_cel_nesting_cel_go_accepts_is_checked() -> None:
    cel.compile_expression("(" * 200 + "max_pods" + ")" * 200)  # no CelError: within cel-go's limit
    cel.compile_expression("-" * 200 + "1")


def test_deep_cel_in_a_nodeconfig_is_a_finding(tmp_path: Path) -> None:
    expression = "(" * 20_000 + "max_pods" + ")" * 20_000
    write(
        tmp_path,
        {
            "nc.yaml": f'apiVersion: node.eks.aws/v1alpha1\nkind: NodeConfig\nspec:\n  kubelet:\n    maxPodsExpression: "{expression}"\n'
        },
    )
    found = by_file(lint(tmp_path))
    messages = [message for rule, message in found["nc.yaml"] if "maxPodsExpression" in message]
    assert messages and "nested more than 250" in messages[0] and len(messages[0]) < 1000
    assert not any(rule == "EKS004" for rule, _ in found["nc.yaml"])


@pytest.mark.parametrize(
    ("content", "words"),
    [
        ("[settings.kubernetes]\n" + ".".join(["a"] * 10_000) + " = 1\n", "dotted key"),
        ("[" + ".".join(["a"] * 10_000) + "]\nx = 1\n", "dotted key"),
        ("[[" + ".".join(["a"] * 10_000) + "]]\nx = 1\n", "dotted key"),
        ('[settings]\n"a".' + ".".join(['"b"'] * 5_000) + " = 1\n", "dotted key"),
        ("[settings.kubernetes]\nx = " + "[" * 100_000 + "]" * 100_000 + "\n", "nested"),
        ("[settings.kubernetes]\nx = " + "{a=" * 50_000 + "1" + "}" * 50_000 + "\n", "nested"),
        ("[settings.kubernetes]\nmax-pods = " + HUGE_HEX + "\n", "settings.kubernetes.max-pods"),
        ("[settings.kubernetes]\nmax-pods = " + HUGE_DECIMAL + "\n", "cannot be read"),
    ],
)
def test_toml_bombs_are_syntax_errors_in_bounded_memory(content: str, words: str) -> None:
    tracemalloc.start()
    try:
        with pytest.raises(TomlSyntaxError) as caught:
            parse_toml(Text.whole_file("userdata.toml", content))
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert words in caught.value.message and len(caught.value.message) < 300
    assert peak < 20 * 1024 * 1024, f"peak {peak / 1e6:.0f} MB"


def test_toml_shapes_that_are_fine() -> None:
    content = (
        '[settings.kubernetes]\nnode-labels."a.b/c" = "x.y.z"\nfloats = [' + "1.5, " * 1000 + "1]\n"
        'text = """\n'
        + "[" * 500
        + '\\"""\n"""\nlit = \''
        + "." * 500
        + "' # "
        + "[" * 500
        + "\n"
        + ".".join(["k"] * (MAX_KEY_PARTS - 1))
        + " = 1\n"
        + "deep = "
        + "[" * (MAX_NESTING - 1)
        + "]" * (MAX_NESTING - 1)
        + "\n"
    )
    doc = parse_toml(Text.whole_file("userdata.toml", content))
    assert doc.data["settings"]["kubernetes"]["node-labels"] == {"a.b/c": "x.y.z"}


def test_long_dotted_key_in_a_discovered_pyproject_is_a_config_error(tmp_path: Path) -> None:
    from ekslint import config

    write(tmp_path, {"pyproject.toml": "[tool.ekslint]\n" + ".".join(["a"] * 10_000) + " = 1\n"})
    with pytest.raises(config.ConfigError, match="dotted key"):
        config.load(tmp_path / "pyproject.toml")


WIDE_AND_BINARY: dict[str, bytes] = {
    "utf16.yaml": deployment("2").encode("utf-16"),
    "utf16be.yaml": deployment("2").encode("utf-16-be"),
    "utf16-nobom.txt": deployment("2").encode("utf-16-le"),
    "utf32.yml": deployment("2").encode("utf-32"),
    "nul.yaml": b"apiVersion: v1\x00\x00\x00\x00\x00kind: Pod\n" + bytes(range(256)),
    "binary.yaml": bytes(range(256)) * 4,
    "high.yaml": bytes(range(128, 256)) * 8,
}


@pytest.mark.parametrize("name", sorted(WIDE_AND_BINARY))
def test_utf16_and_binary_inputs_are_findings_walked_or_named(tmp_path: Path, name: str) -> None:
    write(tmp_path, {name: WIDE_AND_BINARY[name], "random.bin": bytes(range(256)) * 4})
    for paths in ((), (name,)):
        found = by_file(lint(tmp_path, *paths))
        assert [rule for rule, _ in found.get(name, [])] == ["EKS001"], (paths, found)
        assert "random.bin" not in found  # binary without a config name is not an input


def test_long_hex_where_a_string_is_wanted_is_no_finding(tmp_path: Path) -> None:
    """go-yaml reads ``0x`` + 40 hex digits as a string: right for a ConfigMap value or
    an annotation; a number field (a Service port) is a schema finding, not a crash."""
    address = "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed"
    write(
        tmp_path,
        {
            "cm.yaml": (
                f"apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\n  annotations: {{a: {address}}}\n"
                f"data:\n  contract: {address}\n"
            ),
            "svc.yaml": f"apiVersion: v1\nkind: Service\nmetadata: {{name: s}}\nspec:\n  ports: [{{port: {HUGE_HEX}}}]\n",
        },
    )
    found = by_file(lint(tmp_path))
    assert "cm.yaml" not in found
    ((rule, message),) = found["svc.yaml"]
    assert rule == "EKS002" and message.startswith("spec.ports[0].port is the number 0xfff") and len(message) < 1000


@pytest.mark.parametrize("value", ["9" * 5_000, "99999999999", "0" * 3 + "4294967296"])
def test_a_huge_max_pods_flag_is_a_parse_finding(tmp_path: Path, value: str) -> None:
    """--max-pods is an int32 to the kubelet: past it, the flag is refused (EKS001 on the
    flag), never a crash on converting a long digit string."""
    write(
        tmp_path, {"userdata.sh": f'#!/bin/bash\n/etc/eks/bootstrap.sh c --kubelet-extra-args "--max-pods={value}"\n'}
    )
    found = by_file(lint(tmp_path))["userdata.sh"]
    assert any(rule == "EKS001" and "out of range" in message for rule, message in found), found
    assert not any(rule == "EKS004" for rule, _ in found)


def test_non_ascii_digits_are_not_numbers(tmp_path: Path) -> None:
    write(tmp_path, {"userdata.sh": '#!/bin/bash\n/etc/eks/bootstrap.sh c --kubelet-extra-args "--max-pods=²³"\n'})
    found = by_file(lint(tmp_path)).get("userdata.sh", [])
    assert not any(rule in ("EKS004", "EKS001") for rule, _ in found)


def test_deep_cel_is_eks001_not_eks204(tmp_path: Path) -> None:
    expression = "(" * 300 + "max_pods" + ")" * 300
    write(
        tmp_path,
        {
            "nc.yaml": f'apiVersion: node.eks.aws/v1alpha1\nkind: NodeConfig\nspec:\n  kubelet:\n    maxPodsExpression: "{expression}"\n'
        },
    )
    rules = [rule for rule, _ in by_file(lint(tmp_path))["nc.yaml"]]
    assert "EKS001" in rules and "EKS204" not in rules
