"""Generate ``src/ekslint/data/instance_types.json``, the EC2 instance data behind the
pod-capacity rules (EKS301-EKS304) and ``ekslint --max-pods``.

The ENIs and IPv4 addresses per ENI come from the tables AWS generates for nodes, in
this order of authority:

1. the VPC CNI's ``pkg/vpc/vpc_ip_resource_limit.go`` (aws/amazon-vpc-cni-k8s), also
   for bare metal; AWS's ``eni-max-pods.txt`` is computed from it;
2. nodeadm's ``nodeadm/internal/kubelet/instance-info.jsonl`` (awslabs/amazon-eks-ami);
3. moto's copy of EC2 ``DescribeInstanceTypes`` (PyPI ``moto``), which also gives the
   vCPUs (the calculator's 110/250 cap) that neither table records, and is asked first
   for the hypervisor, which max-pods-calculator.sh reads from EC2 (the VPC CNI's own
   table calls some bare-metal types "nitro": they get prefixes as bare metal anyway);
4. ``scripts/data/instance_types_supplement.json``, hand-maintained, each entry naming
   its AWS source, for types none of the others has.

The first two are vendored: ``--vendor`` reads the upstream files (downloaded from
GitHub at a commit, or local copies) and keeps their facts, with the repository,
commit, path and SHA-256 of the file, in ``scripts/data/vpc-cni-limits.json`` and
``scripts/data/nodeadm-instance-info.json``. Generating the table reads only those,
moto and the supplement: it works offline. Needs the ``instance-data`` extra (moto)::

    pip install -e '.[instance-data]'
    python scripts/generate_instance_data.py --vendor                # refresh the vendored tables (network)
    python scripts/generate_instance_data.py --vendor \\
        --vpc-cni-file vpc_ip_resource_limit.go --vpc-cni-commit SHA \\
        --nodeadm-file instance-info.jsonl --nodeadm-commit SHA      # ... from local copies
    python scripts/generate_instance_data.py                         # write the table (offline)
    python scripts/generate_instance_data.py --check                 # exit 1 if the rows are out of date

Users with AWS credentials can add types newer than the table from the live API with
``ekslint --update-instance-data`` (``ekslint.instance_data.refresh``).
"""

from __future__ import annotations

import argparse
import json
import sys
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ekslint import instance_data

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "scripts" / "data"
TARGET = ROOT / "src" / "ekslint" / "data" / "instance_types.json"
SUPPLEMENT = DATA / "instance_types_supplement.json"
COMMAND = (
    "pip install -e '.[instance-data]' && python scripts/generate_instance_data.py "
    "(offline, from the upstream tables vendored in scripts/data/; --vendor refreshes them)"
)


@dataclass(frozen=True)
class Upstream:
    label: str
    repository: str
    branch: str
    path: str
    vendored: Path
    columns: tuple[str, ...]
    parse: Callable[[str], dict[str, dict[str, Any]]]


VPC_CNI = Upstream(
    "the VPC CNI",
    "aws/amazon-vpc-cni-k8s",
    "master",
    "pkg/vpc/vpc_ip_resource_limit.go",
    DATA / "vpc-cni-limits.json",
    ("defaultCardMaxENIs", "ipv4PerENI", "hypervisor", "bareMetal"),
    instance_data.parse_vpc_cni_limits,
)
NODEADM = Upstream(
    "nodeadm",
    "awslabs/amazon-eks-ami",
    "main",
    "nodeadm/internal/kubelet/instance-info.jsonl",
    DATA / "nodeadm-instance-info.json",
    ("defaultCardMaxENIs", "ipv4PerENI"),
    instance_data.parse_nodeadm_instance_info,
)
UPSTREAMS = (VPC_CNI, NODEADM)


def _get(url: str) -> bytes:
    request = urllib.request.Request(url, headers={"User-Agent": "ekslint-generate-instance-data"})
    with urllib.request.urlopen(request, timeout=60) as response:  # fixed https URLs only
        data: bytes = response.read()
    return data


def download(upstream: Upstream, ref: str | None) -> tuple[bytes, str]:
    """The upstream file at ``ref`` (default: the branch head, resolved to its commit)."""
    commit = ref
    if commit is None or len(commit) != 40:
        api = f"https://api.github.com/repos/{upstream.repository}/commits/{ref or upstream.branch}"
        commit = str(json.loads(_get(api))["sha"])
    raw = _get(f"https://raw.githubusercontent.com/{upstream.repository}/{commit}/{upstream.path}")
    return raw, commit


def vendor(upstream: Upstream, file: Path | None, commit: str | None) -> str:
    if file is not None:
        if commit is None or len(commit) != 40:
            raise SystemExit(f"a local copy of {upstream.path} needs the full commit it comes from (--*-commit)")
        raw = file.read_bytes()
    else:
        raw, commit = download(upstream, commit)
    rows = upstream.parse(raw.decode("utf-8"))
    document = instance_data.vendored_document(rows, upstream.columns, upstream.repository, commit, upstream.path, raw)
    upstream.vendored.write_text(instance_data.dumps(document), "utf-8")
    return f"{len(rows)} types from {upstream.repository}@{commit[:12]}:{upstream.path} -> {upstream.vendored}"


def generate() -> dict[str, object]:
    sources: list[tuple[str, dict[str, dict[str, Any]]]] = []
    described = []
    for upstream in UPSTREAMS:
        rows, head = instance_data.read_vendored(upstream.vendored)
        label = f"{upstream.repository}@{str(head['commit'])[:12]}:{head['path']}"
        sources.append((label, rows))
        described.append(f"{label} ({len(rows)} types)")
    records, version = instance_data.moto_records()
    moto_label = f"moto {version} {instance_data.MOTO_RESOURCE}"
    sources.append((moto_label, instance_data.records_by_type(records)))
    described.append(f"{moto_label} (EC2 DescribeInstanceTypes, {len(records)} types; vCPUs)")
    sources.append(("the supplement", instance_data.supplement_by_type(instance_data.read_supplement(SUPPLEMENT))))
    described.append("scripts/data/instance_types_supplement.json")
    return instance_data.build_table(
        sources,
        "In order of authority (the first two vendored in scripts/data/ by generate_instance_data.py --vendor): "
        + "; ".join(described)
        + f"; hypervisor from {moto_label} first",
        COMMAND,
        prefer={"hypervisor": moto_label},
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="fail if the shipped rows differ from a fresh generation")
    parser.add_argument("--output", type=Path, default=TARGET, help=f"where to write (default: {TARGET})")
    parser.add_argument("--vendor", action="store_true", help="refresh the vendored upstream tables in scripts/data/")
    for upstream, name in ((VPC_CNI, "vpc-cni"), (NODEADM, "nodeadm")):
        parser.add_argument(f"--{name}-file", type=Path, help=f"a local copy of {upstream.repository} {upstream.path}")
        parser.add_argument(f"--{name}-commit", help=f"the {upstream.repository} commit (with --{name}-file: required)")
    args = parser.parse_args()
    if args.vendor:
        print(vendor(VPC_CNI, args.vpc_cni_file, args.vpc_cni_commit))
        print(vendor(NODEADM, args.nodeadm_file, args.nodeadm_commit))
    document = generate()
    if args.check:
        # The timestamp always differs; the rows must not.
        shipped = json.loads(args.output.read_text("utf-8"))
        if shipped["types"] != document["types"]:
            print(f"out of date: {args.output} (run python scripts/generate_instance_data.py)", file=sys.stderr)
            return 1
        return 0
    args.output.write_text(instance_data.dumps(document), "utf-8")
    print(f"wrote {len(document['types'])} instance types to {args.output}")  # type: ignore[arg-type]
    return 0


if __name__ == "__main__":
    sys.exit(main())
