"""The compiled schema check may answer "not sure", never "valid" for an invalid
document: it decides which documents skip jsonschema (validation/fastschema.py)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from jsonschema import Draft7Validator, Draft202012Validator

from ekslint.model.eksctl import is_cluster_config
from ekslint.parse.sources import ReadLimits, load_bytes
from ekslint.validation import schemacheck
from ekslint.validation.fastschema import compile_check

from .conftest import REPO, SHARED

SCHEMAS: list[dict[str, Any]] = [
    {"type": "object", "properties": {"a": {"type": "integer", "minimum": 0}}, "additionalProperties": False},
    {"type": ["string", "null"], "enum": ["x", "Y", None], "minLength": 1},
    {"type": "array", "items": {"type": "number", "maximum": 5}},
    {"properties": {"k": {"pattern": "^[a-z]+$"}}, "required": ["k"]},
    {"oneOf": [{"type": "string"}, {"type": "integer"}]},
    {"anyOf": [{"type": "boolean"}, {"const": 3}]},
    {"allOf": [{"type": "object"}, {"propertyNames": {"maxLength": 2}}]},
    {"enumIgnoreCase": ["AmazonLinux2023", "Bottlerocket"]},
    {
        "type": "object",
        "additionalProperties": {"$ref": "#/definitions/node"},
        "definitions": {
            "node": {
                "type": "object",
                "properties": {"child": {"$ref": "#/definitions/node"}, "v": {"type": "string"}},
                "additionalProperties": False,
            }
        },
    },
    {"minItems": 1},  # a keyword the check does not know: always "not sure"
    # oneOf whose branches a value's type tells apart (eksctl's taints: a list or a
    # mapping; Bottlerocket's string-or-list settings, where null fits both branches).
    {
        "oneOf": [
            {"type": ["array", "null"], "items": {"type": "object", "required": ["k"]}},
            {"type": "object", "additionalProperties": {"type": ["string", "null"]}},
        ]
    },
    {"oneOf": [{"type": ["string", "null"]}, {"type": ["array", "null"], "items": {"type": ["string", "null"]}}]},
    {"oneOf": [{"minimum": 3}, {"type": "string"}]},  # a branch without a type: decided only when it holds
    {"type": ["integer", "boolean"]},
]

JSON = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-10, 10)
    | st.floats(-10, 10, allow_nan=False)
    | st.text(max_size=4)
    | st.sampled_from(["x", "Y", "amazonlinux2023", "ab", "a1"]),
    lambda children: (
        st.lists(children, max_size=3)
        | st.dictionaries(st.sampled_from(["a", "k", "child", "v", "abc", "xy"]), children, max_size=3)
    ),
    max_leaves=8,
)


@pytest.mark.parametrize("draft7", [True, False])
@pytest.mark.parametrize("index", range(len(SCHEMAS)))
@settings(max_examples=150, deadline=None, derandomize=True)
@given(value=JSON)
def test_never_valid_when_jsonschema_says_invalid(index: int, draft7: bool, value: Any) -> None:
    schema = SCHEMAS[index]
    base = schemacheck._validator_class() if draft7 else Draft202012Validator
    if not draft7 and "enumIgnoreCase" in schema:
        return  # ekslint's own keyword exists only in its Draft 7 validator
    if compile_check(schema, None, draft7)(value):
        assert not list(base(schema).iter_errors(value)), (schema, value)


def test_the_check_decides_the_common_valid_cases() -> None:
    assert compile_check(SCHEMAS[0], None, True)({"a": 3})
    assert compile_check(SCHEMAS[4], None, False)(3)
    assert not compile_check(SCHEMAS[4], None, False)(3.5)
    assert compile_check(SCHEMAS[8], None, True)({"n": {"child": {"v": "x"}}})
    assert not compile_check(SCHEMAS[9], None, True)([1])  # unknown keyword: not sure
    assert Draft7Validator(SCHEMAS[9]).is_valid([1])
    taints = compile_check(SCHEMAS[10], None, True)
    assert taints([{"k": "a"}]) and taints({"a": "b"}) and taints(None)
    assert not taints([{"x": 1}]) and not taints({"a": 1}) and not taints("a")
    either = compile_check(SCHEMAS[11], None, True)
    assert either("a") and either(["a", None])
    assert not either(None)  # both branches hold: invalid
    assert not Draft7Validator(SCHEMAS[11]).is_valid(None)
    untyped = compile_check(SCHEMAS[12], None, True)
    assert untyped(5) and not untyped("a")  # "a": the untyped branch may hold too (it does)
    assert not Draft7Validator(SCHEMAS[12]).is_valid("a")
    types = compile_check(SCHEMAS[13], None, True)
    assert types(3) and types(3.0) and types(True) and not types(3.5) and not types("3")


def documents(roots: list[Path]) -> list[tuple[str, str, Any, schemacheck.CompiledSchema]]:
    version = schemacheck.kubernetes_schema_version(None) if schemacheck.kubernetes_schema_versions() else None
    found = []
    for root in roots:
        for path in sorted(p for p in root.rglob("*") if p.is_file()):
            source = load_bytes(str(path), path.read_bytes(), ReadLimits())
            for obj in source.objects() if source is not None else ():
                kind, api = obj.text("kind") or "", obj.text("apiVersion") or ""
                compiled = (
                    schemacheck.validator("eksctl-clusterconfig")
                    if is_cluster_config(obj)
                    else schemacheck.validator("nodeconfig")
                    if kind == "NodeConfig"
                    else schemacheck.kubernetes_validator(version, kind, api)
                    if version is not None
                    else None
                )
                try:
                    data = schemacheck.plain(obj)
                except Exception:
                    continue
                if compiled is not None:
                    found.append((str(path), kind, data, compiled))
    return found


def test_real_documents_agree_with_jsonschema() -> None:
    roots = [REPO / "tests" / "rules", REPO / "examples"]
    if (SHARED / "public-configs").is_dir():
        roots.append(SHARED / "public-configs")
    decided = valid = 0
    for path, kind, data, compiled in documents(roots):
        is_valid = compiled.validator.is_valid(data)
        if compiled.certainly_valid(data):
            assert is_valid, f"{path}: {kind} called valid, but jsonschema finds errors"
            decided += 1
        valid += is_valid
    assert decided >= 0.8 * valid, f"only {decided} of {valid} valid documents decided without jsonschema"
