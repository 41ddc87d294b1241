"""Build the instance-type table from EC2 ``DescribeInstanceTypes`` records.

Two callers share this code: ``scripts/generate_instance_data.py`` (the table shipped
in the package, from the copy of the API's answer inside PyPI ``moto``) and ``ekslint
--update-instance-data`` (a fresh table from the real API with boto3, written to the
user's cache). boto3 and moto are imported only inside the functions that need them:
linting never loads them and never touches the network.
"""

from __future__ import annotations

import gzip
import json
from collections.abc import Iterable, Mapping
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from ekslint.model.capacity import COLUMNS, InstanceTable, parse_table

MOTO_RESOURCE = "ec2/resources/instance_types.json.gz"


def row_from_record(record: Mapping[str, Any]) -> list[Any] | None:
    """One DescribeInstanceTypes entry -> a table row, or None when it lacks network
    data. Only the default network card's ENIs count (DOMAIN.md §0): the instance-wide
    MaximumNetworkInterfaces is too high for multi-card types such as p5.48xlarge."""
    network = record.get("NetworkInfo") or {}
    ipv4 = network.get("Ipv4AddressesPerInterface")
    if not isinstance(ipv4, int):
        return None
    index = network.get("DefaultNetworkCardIndex", 0)
    enis = next(
        (
            card.get("MaximumNetworkInterfaces")
            for card in network.get("NetworkCards") or ()
            if card.get("NetworkCardIndex", 0) == index
        ),
        network.get("MaximumNetworkInterfaces"),
    )
    if not isinstance(enis, int):
        return None
    vcpus = (record.get("VCpuInfo") or {}).get("DefaultVCpus")
    return [enis, ipv4, vcpus, record.get("Hypervisor") or "", bool(record.get("BareMetal"))]


def build_table(
    records: Iterable[Mapping[str, Any]],
    supplement: Iterable[Mapping[str, Any]],
    source: str,
    command: str,
    generated: datetime | None = None,
) -> dict[str, Any]:
    """The table document: rows from the API records, plus supplement entries for
    types the records do not have (the API's answer always wins)."""
    rows: dict[str, list[Any]] = {}
    for record in records:
        row = row_from_record(record)
        if row is not None:
            rows[str(record["InstanceType"])] = row
    added = 0
    for entry in supplement:
        name = str(entry["instanceType"])
        if name not in rows:
            rows[name] = [entry[column] for column in COLUMNS]
            added += 1
    stamp = (generated or datetime.now(timezone.utc)).strftime("%Y-%m-%dT%H:%M:%SZ")
    return {
        "about": (
            "EC2 instance data for ekslint's pod-capacity rules: per type the default network card's maximum ENIs, "
            "IPv4 addresses per ENI (Windows pods use the primary ENI's: IPv4 per ENI - 1), default vCPUs, "
            "hypervisor ('' for bare metal) and bare metal. Generated; do not edit."
        ),
        "generated": stamp,
        "source": f"{source}; {added} types from the supplement" if added else source,
        "command": command,
        "columns": list(COLUMNS),
        "types": dict(sorted(rows.items())),
    }


def dumps(document: Mapping[str, Any]) -> str:
    """JSON with one instance type per line: small, and diffs show what changed."""
    head = {k: v for k, v in document.items() if k != "types"}
    lines = ["{"]
    lines.extend(f"  {json.dumps(k)}: {json.dumps(v)}," for k, v in head.items())
    lines.append('  "types": {')
    rows = [f"    {json.dumps(name)}: {json.dumps(row)}" for name, row in document["types"].items()]
    lines.append(",\n".join(rows))
    lines.append("  }")
    lines.append("}")
    return "\n".join(lines) + "\n"


def read_supplement(path: Path) -> list[dict[str, Any]]:
    with path.open(encoding="utf-8") as handle:
        data = json.load(handle)
    entries = list(data["types"])
    for entry in entries:
        missing = [k for k in ("instanceType", *COLUMNS, "source") if k not in entry]
        if missing:
            raise ValueError(f"{path}: {entry.get('instanceType', '?')} lacks {', '.join(missing)}")
    return entries


def moto_records() -> tuple[list[dict[str, Any]], str]:
    """DescribeInstanceTypes as shipped inside moto, and moto's version."""
    from importlib import metadata, resources

    resource = resources.files("moto") / MOTO_RESOURCE
    data = json.loads(gzip.decompress(resource.read_bytes()))
    records = list(data.values()) if isinstance(data, dict) else list(data)
    return records, metadata.version("moto")


def api_records(client: Any) -> list[dict[str, Any]]:
    """Every instance type the EC2 API offers in the client's region."""
    records: list[dict[str, Any]] = []
    for page in client.get_paginator("describe_instance_types").paginate():
        records.extend(page.get("InstanceTypes", []))
    return records


def refresh(target: Path, shipped: InstanceTable, client: Any = None) -> tuple[InstanceTable, int]:
    """Fetch DescribeInstanceTypes with boto3 and write the table to ``target``.
    Types the region does not offer keep their shipped rows. Returns the new table and
    how many types came from the API."""
    if client is None:
        import boto3

        client = boto3.client("ec2")
    region = getattr(getattr(client, "meta", None), "region_name", None) or "?"
    records = api_records(client)
    carried = [
        {"instanceType": name, **dict(zip(COLUMNS, _row(info), strict=True))} for name, info in shipped.types.items()
    ]
    document = build_table(
        records,
        carried,
        f"EC2 DescribeInstanceTypes in {region} ({len(records)} types); other types from {shipped.path} "
        f"({shipped.generated})",
        "ekslint --update-instance-data",
    )
    target.parent.mkdir(parents=True, exist_ok=True)
    temporary = target.with_suffix(".tmp")
    temporary.write_text(dumps(document), "utf-8")
    temporary.replace(target)  # atomic: a concurrent lint never reads half a file
    return parse_table(document, str(target)), len(records)


def _row(info: Any) -> list[Any]:
    return [info.enis, info.ipv4_per_eni, info.vcpus, info.hypervisor, info.bare_metal]
