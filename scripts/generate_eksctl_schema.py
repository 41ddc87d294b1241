"""Generate schemas/eksctl-clusterconfig.schema.json from eksctl's published schema.

eksctl publishes the JSON schema of its ClusterConfig (eksctl.io/v1alpha5), generated
from its Go types (``pkg/apis/eksctl.io/v1alpha5/assets/schema.json``; ``eksctl utils
schema`` prints it). ekslint validates ClusterConfigs against it, with the corrections
that make it agree with what eksctl actually accepts when it decodes a file:

- Every value may be ``null``: eksctl decodes YAML through JSON into Go structs, where
  ``null`` leaves the field at its zero value (``managedNodeGroups:`` with nothing after
  it is accepted).
- ``amiFamily`` is compared case-insensitively (``normalizeAMIFamily``, strings.EqualFold):
  its ``enum`` becomes ekslint's ``enumIgnoreCase`` keyword.
- ``taints`` accepts the legacy map form (``key: "value:Effect"``) besides the list
  (eksctl's ``taintsWrapper`` unmarshals both).
- ``identityProviders[]`` is a discriminated union: ``type: oidc`` plus the fields of
  the OIDC provider in the same mapping. The published schema puts ``type`` beside a
  ``oneOf`` whose strict branch does not know ``type``, rejecting every valid entry;
  each branch gets the discriminator's properties instead.
- ``required`` lists are dropped except for ``apiVersion``, ``kind``, ``metadata`` and
  ``metadata.name``: eksctl's generator derives them from JSON tags without
  ``omitempty``, but decoding requires nothing, and fields such as
  ``remoteNetworkConfig.vpcGatewayID`` or ``metadata.region`` (``--region``, the AWS
  profile) are optional in practice.
- A Go struct's definition lists ``properties`` but no ``type``, and JSON Schema
  applies ``properties`` only to objects: ``metadata: []`` or a node group written as
  ``- 7`` passed. Such definitions get ``type: object`` (eksctl: ``cannot unmarshal
  array into Go struct field``).
- Editor-only keys (``x-intellij-html-description``, ``preferredOrder``) are dropped.

Unknown fields stay errors wherever eksctl's schema says ``additionalProperties: false``:
eksctl decodes strictly (``error unmarshaling JSON: ... json: unknown field "..."``).

Usage: python scripts/generate_eksctl_schema.py [path/to/eksctl-schema.json]
(default: ../shared/public-data/eksctl-schema.json next to the repository).
"""

from __future__ import annotations

import hashlib
import json
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_INPUT = ROOT.parent / "shared" / "public-data" / "eksctl-schema.json"
OUTPUT = ROOT / "schemas" / "eksctl-clusterconfig.schema.json"
DROPPED_KEYS = frozenset(("x-intellij-html-description", "preferredOrder"))
# The only fields eksctl cannot do without (validation.go: the config's kind and version,
# and a cluster name).
KEPT_REQUIRED = {"ClusterConfig": ["metadata", "kind", "apiVersion"], "ClusterMeta": ["name"]}
CASE_INSENSITIVE_ENUMS = frozenset(("amiFamily",))


def _nullable(schema: dict[str, Any]) -> None:
    kind = schema.get("type")
    if isinstance(kind, str):
        schema["type"] = [kind, "null"]
    elif isinstance(kind, list) and "null" not in kind:
        schema["type"] = [*kind, "null"]
    if "enum" in schema and None not in schema["enum"]:
        schema["enum"] = [*schema["enum"], None]


def _convert(node: Any, name: str = "") -> Any:
    if isinstance(node, list):
        return [_convert(item) for item in node]
    if not isinstance(node, dict):
        return node
    out: dict[str, Any] = {}
    for key, value in node.items():
        if key in DROPPED_KEYS:
            continue
        if key in ("properties", "definitions", "patternProperties"):
            out[key] = {k: _convert(v, k) for k, v in value.items()}
        else:
            out[key] = _convert(value)
    if name in CASE_INSENSITIVE_ENUMS and "enum" in out:
        out["enumIgnoreCase"] = out.pop("enum")
    if "$ref" in out and len(out) > 1:
        # Draft 7 ignores siblings of $ref; keep the description by moving the ref.
        out = {"allOf": [{"$ref": out.pop("$ref")}], **out}
    if "properties" in out and "type" not in out:
        out["type"] = "object"  # a Go struct: anything but a mapping fails to decode
    if "type" in out or "enum" in out:
        _nullable(out)
    return out


def _inline_discriminator(definitions: dict[str, Any], union: dict[str, Any]) -> None:
    """``{properties: {type}, oneOf: [$ref A]}`` -> ``oneOf: [A + type]``: the
    discriminator lives in the same mapping as the branch's fields."""
    branches = []
    for branch in union.pop("oneOf"):
        target = definitions[branch["$ref"].rsplit("/", 1)[1]]
        merged = json.loads(json.dumps(target))
        merged["properties"] = {**union["properties"], **merged.get("properties", {})}
        merged.pop("required", None)
        branches.append(merged)
    union.pop("properties")
    union.pop("additionalProperties", None)
    if len(branches) == 1:
        union.update(branches[0])
    else:
        union["oneOf"] = branches


def generate(source: dict[str, Any], digest: str, origin: str) -> dict[str, Any]:
    schema = _convert(source)
    definitions = schema["definitions"]
    for name, definition in definitions.items():
        if "required" in definition:
            if name in KEPT_REQUIRED:
                definition["required"] = KEPT_REQUIRED[name]
            else:
                del definition["required"]
        if "oneOf" in definition and "properties" in definition:
            _inline_discriminator(definitions, definition)
    # eksctl's taintsWrapper unmarshals a list of taints or a map key -> "value:Effect".
    definitions["taintsWrapper"] = {
        "description": 'Taints: a list of {key, value, effect}, or the legacy map key -> "value:Effect".',
        "oneOf": [
            {"type": ["array", "null"], "items": {"$ref": "#/definitions/NodeGroupTaint"}},
            {"type": "object", "additionalProperties": {"type": ["string", "null"]}},
        ],
    }
    return {
        "$comment": (
            "GENERATED by scripts/generate_eksctl_schema.py from eksctl's published ClusterConfig schema "
            f"({origin}, sha256 {digest}); do not edit by hand, run the script. Corrections to agree with "
            "eksctl's decoder: null allowed everywhere, structs are objects, amiFamily case-insensitive, "
            "legacy taints map."
        ),
        "title": "eksctl ClusterConfig (eksctl.io/v1alpha5)",
        "description": (
            "eksctl's ClusterConfig schema (generated by eksctl from pkg/apis/eksctl.io/v1alpha5 types.go), "
            "corrected as described in $comment. Unknown fields are errors, as in eksctl."
        ),
        **{k: v for k, v in schema.items() if k not in ("definitions", "type")},
        "type": "object",
        "definitions": definitions,
    }


def main(argv: list[str]) -> int:
    source_path = Path(argv[1]) if len(argv) > 1 else DEFAULT_INPUT
    raw = source_path.read_bytes()
    digest = hashlib.sha256(raw).hexdigest()
    schema = generate(json.loads(raw), digest, "eksctl-schema.json")
    OUTPUT.write_text(json.dumps(schema, indent=1, sort_keys=False) + "\n", "utf-8")
    print(f"wrote {OUTPUT.relative_to(ROOT)} from {source_path} (sha256 {digest[:12]})")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
