"""Build the instance-type table from the tables AWS itself generates for nodes.

The ENIs and IPv4 addresses per ENI of a type are those the node software uses:
- the VPC CNI's ``pkg/vpc/vpc_ip_resource_limit.go`` (aws/amazon-vpc-cni-k8s, generated
  by its ``scripts/gen_vpc_ip_limits.go`` from EC2 ``DescribeInstanceTypes`` in every
  region, with its manual fixes; its ``misc/eni-max-pods.txt`` and AL2's copy of it come
  from the same numbers), which also says hypervisor and bare metal;
- nodeadm's ``nodeadm/internal/kubelet/instance-info.jsonl`` (awslabs/amazon-eks-ami),
  what AL2023 nodes compute their default max pods from;
- moto's copy of ``DescribeInstanceTypes`` (PyPI ``moto``) for the types neither has,
  and for the vCPUs, which neither table records;
- a hand-maintained supplement for types that none of them has.

Three callers share this code: ``scripts/generate_instance_data.py`` (the table shipped
in the package, from copies of the upstream tables it vendors into ``scripts/data/``),
its ``--vendor`` step (which reads the upstream files) and ``ekslint
--update-instance-data`` (the types the shipped table lacks, from the real API with
boto3, written to the user's cache). boto3 and moto are imported only inside the
functions that need them: linting never loads them and never touches the network.
"""

from __future__ import annotations

import gzip
import json
import re
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from ekslint.model.capacity import COLUMNS, InstanceTable, parse_table

MOTO_RESOURCE = "ec2/resources/instance_types.json.gz"
ENIS, IPV4, VCPUS, HYPERVISOR, METAL = COLUMNS

# A partial row: the columns one source knows about one type (None: it does not say).
Partial = dict[str, Any]


# -- the sources ------------------------------------------------------------------------


def row_from_record(record: Mapping[str, Any]) -> list[Any] | None:
    """One DescribeInstanceTypes entry -> a table row, or None when it lacks network
    data. Only the default network card's ENIs count: the instance-wide
    MaximumNetworkInterfaces is too high for multi-card types such as p5.48xlarge."""
    partial = partial_from_record(record)
    if partial is None:
        return None
    return [partial[ENIS], partial[IPV4], partial[VCPUS], partial[HYPERVISOR] or "", partial[METAL]]


def partial_from_record(record: Mapping[str, Any]) -> Partial | None:
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
    metal = bool(record.get("BareMetal"))
    # Bare metal has no hypervisor; a virtual type without one is simply not described.
    hypervisor = record.get("Hypervisor") or ("" if metal else None)
    vcpus = (record.get("VCpuInfo") or {}).get("DefaultVCpus")
    return {ENIS: enis, IPV4: ipv4, VCPUS: vcpus, HYPERVISOR: hypervisor, METAL: metal}


_GO_ENTRY = re.compile(r'^\t"(?P<name>[^"]+)": \{\n(?P<body>.*?)^\t\},?$', re.M | re.S)
_GO_FIELD = re.compile(r"^\t\t(?P<key>ENILimit|IPv4Limit|HypervisorType|IsBareMetal):\s*(?P<value>.+?),\s*$", re.M)


def parse_vpc_cni_limits(text: str) -> dict[str, Partial]:
    """The VPC CNI's ``instanceNetworkingLimits`` (pkg/vpc/vpc_ip_resource_limit.go):
    ``ENILimit`` (the default card's MaximumNetworkInterfaces when a type has several
    cards, as its generator takes it), ``IPv4Limit``, ``HypervisorType`` ("unknown"
    where EC2 gives none: bare metal, and its manual entries) and ``IsBareMetal``."""
    start = text.find("instanceNetworkingLimits")
    if start < 0:
        raise ValueError("no instanceNetworkingLimits map: not the VPC CNI's vpc_ip_resource_limit.go")
    rows: dict[str, Partial] = {}
    for entry in _GO_ENTRY.finditer(text, start):
        fields = {m.group("key"): m.group("value") for m in _GO_FIELD.finditer(entry.group("body"))}
        name = entry.group("name")
        missing = [k for k in ("ENILimit", "IPv4Limit", "HypervisorType", "IsBareMetal") if k not in fields]
        if missing:
            raise ValueError(f"vpc_ip_resource_limit.go: {name} lacks {', '.join(missing)}")
        hypervisor = json.loads(fields["HypervisorType"])
        metal = fields["IsBareMetal"] == "true"
        rows[name] = {
            ENIS: int(fields["ENILimit"]),
            IPV4: int(fields["IPv4Limit"]),
            HYPERVISOR: None if hypervisor in ("", "unknown") else hypervisor,
            METAL: metal,
        }
    if not rows:
        raise ValueError("vpc_ip_resource_limit.go: no instance types found")
    return rows


def parse_nodeadm_instance_info(text: str) -> dict[str, Partial]:
    """nodeadm's instance-info.jsonl: ``defaultMaxENIs`` (MaximumNetworkInterfaces of the
    card at DefaultNetworkCardIndex) and ``ipv4AddressesPerInterface``, one type a line."""
    rows: dict[str, Partial] = {}
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        record = json.loads(line)
        try:
            rows[str(record["instanceType"])] = {
                ENIS: int(record["defaultMaxENIs"]),
                IPV4: int(record["ipv4AddressesPerInterface"]),
            }
        except (KeyError, TypeError, ValueError) as err:
            raise ValueError(f"instance-info.jsonl line {number}: {err!r}") from err
    if not rows:
        raise ValueError("instance-info.jsonl: no instance types found")
    return rows


def moto_records() -> tuple[list[dict[str, Any]], str]:
    """DescribeInstanceTypes as shipped inside moto, and moto's version."""
    from importlib import metadata, resources

    resource = resources.files("moto") / MOTO_RESOURCE
    data = json.loads(gzip.decompress(resource.read_bytes()))
    records = list(data.values()) if isinstance(data, dict) else list(data)
    return records, metadata.version("moto")


def records_by_type(records: Iterable[Mapping[str, Any]]) -> dict[str, Partial]:
    rows: dict[str, Partial] = {}
    for record in records:
        partial = partial_from_record(record)
        if partial is not None:
            rows[str(record["InstanceType"])] = partial
    return rows


def read_supplement(path: Path) -> list[dict[str, Any]]:
    with path.open(encoding="utf-8") as handle:
        data = json.load(handle)
    entries = list(data["types"])
    for entry in entries:
        missing = [k for k in ("instanceType", *COLUMNS, "source") if k not in entry]
        if missing:
            raise ValueError(f"{path}: {entry.get('instanceType', '?')} lacks {', '.join(missing)}")
    return entries


def supplement_by_type(entries: Iterable[Mapping[str, Any]]) -> dict[str, Partial]:
    return {str(e["instanceType"]): {column: e[column] for column in COLUMNS} for e in entries}


# -- vendored copies of the upstream tables ------------------------------------------------


def vendored_document(
    rows: Mapping[str, Partial], columns: Sequence[str], repository: str, commit: str, path: str, raw: bytes
) -> dict[str, Any]:
    """The facts of one upstream table, as ``scripts/data/`` keeps them: where they come
    from (repository, commit, path, the file's SHA-256) and one row per type."""
    import hashlib

    return {
        "about": (
            f"Facts read from {repository}@{commit}:{path} by scripts/generate_instance_data.py --vendor "
            "(per instance type: " + ", ".join(columns) + "). Generated; do not edit."
        ),
        "repository": repository,
        "commit": commit,
        "path": path,
        "sha256": hashlib.sha256(raw).hexdigest(),
        "columns": list(columns),
        "types": {name: [rows[name].get(c) for c in columns] for name in sorted(rows)},
    }


def read_vendored(path: Path) -> tuple[dict[str, Partial], dict[str, Any]]:
    """A vendored table: its rows, and its header (repository, commit, path...)."""
    with path.open(encoding="utf-8") as handle:
        data = json.load(handle)
    columns = list(data["columns"])
    rows = {name: dict(zip(columns, row, strict=True)) for name, row in data["types"].items()}
    return rows, {k: v for k, v in data.items() if k != "types"}


# -- the table ---------------------------------------------------------------------------


def merge(
    sources: Sequence[tuple[str, Mapping[str, Partial]]], prefer: Mapping[str, str] | None = None
) -> tuple[dict[str, list[Any]], Counter[str]]:
    """Rows from sources in order of authority: a type's ENIs and IPv4 per ENI come
    together from the first source that has both, each other column from the first
    that says it (hypervisor "" and bare metal false when none does), except that
    ``prefer`` may name the source asked first for a column. Returns the rows and how
    many types took their ENIs from each source."""
    names = sorted({name for _, rows in sources for name in rows})
    merged: dict[str, list[Any]] = {}
    counts: Counter[str] = Counter()
    prefer = prefer or {}
    for name in names:
        known = [(label, rows[name]) for label, rows in sources if name in rows]
        network = next(((label, p) for label, p in known if p.get(ENIS) is not None and p.get(IPV4) is not None), None)
        if network is None:
            continue
        counts[network[0]] += 1
        row: list[Any] = [network[1][ENIS], network[1][IPV4]]
        for column, default in ((VCPUS, None), (HYPERVISOR, ""), (METAL, False)):
            ordered = sorted(known, key=lambda item, c=column: item[0] != prefer.get(c))  # type: ignore[misc]
            row.append(next((p[column] for _, p in ordered if p.get(column) is not None), default))
        merged[name] = row
    return merged, counts


def build_table(
    sources: Sequence[tuple[str, Mapping[str, Partial]]],
    source: str,
    command: str,
    generated: datetime | None = None,
    prefer: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    """The table document from sources in order of authority (see ``merge``)."""
    rows, counts = merge(sources, prefer)
    taken = ", ".join(f"{counts[label]} from {label}" for label, _ in sources if counts[label])
    stamp = (generated or datetime.now(timezone.utc)).strftime("%Y-%m-%dT%H:%M:%SZ")
    return {
        "about": (
            "EC2 instance data for ekslint's pod-capacity rules: per type the default network card's maximum ENIs, "
            "IPv4 addresses per ENI (Windows pods use the primary ENI's: IPv4 per ENI - 1), default vCPUs, "
            "hypervisor ('' for bare metal) and bare metal. Generated; do not edit."
        ),
        "generated": stamp,
        "source": f"{source}; ENIs and IPv4 per ENI: {taken}" if taken else source,
        "command": command,
        "columns": list(COLUMNS),
        "types": rows,
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


# -- ekslint --update-instance-data ------------------------------------------------------


def api_records(client: Any) -> list[dict[str, Any]]:
    """Every instance type the EC2 API offers in the client's region."""
    records: list[dict[str, Any]] = []
    for page in client.get_paginator("describe_instance_types").paginate():
        records.extend(page.get("InstanceTypes", []))
    return records


def refresh(target: Path, shipped: InstanceTable, client: Any = None) -> tuple[InstanceTable, int]:
    """Fetch DescribeInstanceTypes with boto3 and write the table to ``target``. The
    shipped rows stay (they are what the VPC CNI and nodeadm use; they too ask EC2 only
    for types their tables lack); the API adds the types the shipped table lacks, and
    vCPUs where it has none. Returns the new table and how many types the API offered."""
    if client is None:
        import boto3

        client = boto3.client("ec2")
    region = getattr(getattr(client, "meta", None), "region_name", None) or "?"
    records = api_records(client)
    carried = {name: dict(zip(COLUMNS, _row(info), strict=True)) for name, info in shipped.types.items()}
    document = build_table(
        [
            (f"{shipped.path} ({shipped.generated})", carried),
            (f"EC2 DescribeInstanceTypes in {region}", records_by_type(records)),
        ],
        f"{shipped.path} ({shipped.generated}), with the types it lacks from EC2 DescribeInstanceTypes in {region} "
        f"({len(records)} types)",
        "ekslint --update-instance-data",
    )
    target.parent.mkdir(parents=True, exist_ok=True)
    temporary = target.with_suffix(".tmp")
    temporary.write_text(dumps(document), "utf-8")
    temporary.replace(target)  # atomic: a concurrent lint never reads half a file
    return parse_table(document, str(target)), len(records)


def _row(info: Any) -> list[Any]:
    return [info.enis, info.ipv4_per_eni, info.vcpus, info.hypervisor, info.bare_metal]
