"""The shipped schemas, their generator and the validation machinery behind EKS002/EKS003."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from jsonschema import Draft7Validator

from ekslint import schemas
from ekslint.model.apiversions import REMOVED
from ekslint.validation import schemacheck
from tests.conftest import SHARED, lint

ROOT = Path(__file__).resolve().parent.parent
ESKCTL_SOURCE = SHARED / "public-data" / "eksctl-schema.json"
NAMES = ("eksctl-clusterconfig", "nodeconfig", "nodeconfig-hybrid", "kubelet-configuration", "bottlerocket-kubernetes")


@pytest.mark.parametrize("name", NAMES)
def test_schema_is_valid_and_says_where_its_facts_come_from(name: str) -> None:
    schema = schemas.load(name)
    Draft7Validator.check_schema(schema)
    assert "description" in schema and "$comment" in schema


def test_eksctl_schema_is_what_the_generator_makes(tmp_path: Path) -> None:
    if not ESKCTL_SOURCE.is_file():
        pytest.skip(f"eksctl's schema is expected at {ESKCTL_SOURCE}")
    committed = (ROOT / "schemas" / "eksctl-clusterconfig.schema.json").read_text("utf-8")
    sys.path.insert(0, str(ROOT / "scripts"))
    try:
        import generate_eksctl_schema as generator
    finally:
        sys.path.pop(0)
    raw = ESKCTL_SOURCE.read_bytes()
    import hashlib

    regenerated = generator.generate(json.loads(raw), hashlib.sha256(raw).hexdigest(), "eksctl-schema.json")
    assert json.loads(committed) == regenerated, "run python scripts/generate_eksctl_schema.py"


def test_generator_takes_a_path_argument(tmp_path: Path) -> None:
    source = tmp_path / "schema.json"
    source.write_text(json.dumps({"$ref": "#/definitions/ClusterConfig", "definitions": {"ClusterConfig": {}}}))
    out = ROOT / "schemas" / "eksctl-clusterconfig.schema.json"
    before = out.read_bytes()
    try:
        done = subprocess.run(
            [sys.executable, str(ROOT / "scripts" / "generate_eksctl_schema.py"), str(source)],
            capture_output=True,
            text=True,
            check=False,
        )
        assert done.returncode == 0, done.stderr
        assert "GENERATED" in json.loads(out.read_text())["$comment"]
    finally:
        out.write_bytes(before)


def test_unknown_field_suggestions() -> None:
    assert schemacheck._closest("clusterEndpoint", ["name", "apiServerEndpoint", "cidr"]) == "apiServerEndpoint"
    assert schemacheck._closest("maxPodPerNode", ["maxPodsPerNode", "minSize"]) == "maxPodsPerNode"
    assert schemacheck._closest("x-defaults", ["metadata", "addonsConfig"]) is None


def test_without_kubernetes_validate_objects_are_not_validated(tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    (tmp_path / "pod.yaml").write_text(
        "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  containers: [{name: c, image: i}]\n  sysctl: []\n"
    )
    (tmp_path / "ng.yaml").write_text(
        "apiVersion: node.eks.aws/v1alpha1\nkind: NodeConfig\nspec:\n  cluster:\n    clusterEndpoint: x\n"
    )
    monkeypatch.setattr(schemacheck, "_kubernetes_schema_root", lambda: None)
    schemacheck.kubernetes_schema_versions.cache_clear()
    try:
        result = lint(tmp_path, ".", select=["EKS002"])
    finally:
        schemacheck.kubernetes_schema_versions.cache_clear()
    assert [(f.span.file, f.span.line) for f in result.findings] == [("ng.yaml", 5)]


def test_explain_says_how_kubernetes_objects_get_validated() -> None:
    from ekslint.rules.eks002_schema_violation import SchemaViolation

    assert "ekslint[kubernetes]" in SchemaViolation.docs().what


def test_removed_apis_agree_with_the_served_schemas() -> None:
    """kubernetes-validate ships a schema for each served kind/apiVersion of each
    version from 1.25: a removed API must have none from its removal on, and the
    replacement must be served there."""
    versions = schemacheck.kubernetes_schema_versions()
    if not versions:
        pytest.skip("kubernetes-validate is not installed")
    for (kind, api_version), (removed_in, replacement) in REMOVED.items():
        for version in versions:
            served = schemacheck.kubernetes_validator(version, kind, api_version) is not None
            if version >= removed_in:
                assert not served, f"{kind} {api_version} is still served in {version}"
        if replacement is not None and not kind.endswith("Review"):  # reviews are not stored objects
            newest = versions[-1]
            assert schemacheck.kubernetes_validator(newest, kind, replacement), f"{kind} {replacement} not served"


def test_kubernetes_validators_are_compiled_once() -> None:
    if not schemacheck.kubernetes_schema_versions():
        pytest.skip("kubernetes-validate is not installed")
    version = schemacheck.kubernetes_schema_versions()[-1]
    first = schemacheck.kubernetes_validator(version, "Deployment", "apps/v1")
    assert first is not None
    assert schemacheck.kubernetes_validator(version, "Deployment", "apps/v1") is first
    # a custom resource with a core-looking group is not mistaken for the built-in kind
    assert schemacheck.kubernetes_validator(version, "Deployment", "apps.example.com/v1") is None
