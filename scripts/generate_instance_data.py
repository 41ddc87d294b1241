"""Generate ``src/ekslint/data/instance_types.json``, the EC2 instance data behind the
pod-capacity rules (EKS301-EKS304) and ``ekslint --max-pods``.

The source is EC2 ``DescribeInstanceTypes`` as shipped inside PyPI ``moto``
(``moto/ec2/resources/instance_types.json.gz``), plus the hand-maintained
``scripts/data/instance_types_supplement.json`` for types AWS publishes ENI limits for
but moto lacks. Needs the ``instance-data`` extra::

    pip install -e '.[instance-data]'
    python scripts/generate_instance_data.py          # write
    python scripts/generate_instance_data.py --check  # exit 1 if the rows are out of date

Users with AWS credentials can refresh their own copy from the live API with
``ekslint --update-instance-data`` (same code, ``ekslint.instance_data``).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from ekslint import instance_data

ROOT = Path(__file__).resolve().parent.parent
TARGET = ROOT / "src" / "ekslint" / "data" / "instance_types.json"
SUPPLEMENT = ROOT / "scripts" / "data" / "instance_types_supplement.json"
COMMAND = "pip install -e '.[instance-data]' && python scripts/generate_instance_data.py"


def generate() -> dict[str, object]:
    records, version = instance_data.moto_records()
    return instance_data.build_table(
        records,
        instance_data.read_supplement(SUPPLEMENT),
        f"EC2 DescribeInstanceTypes from moto {version} ({instance_data.MOTO_RESOURCE}, {len(records)} types)",
        COMMAND,
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="fail if the shipped rows differ from a fresh generation")
    parser.add_argument("--output", type=Path, default=TARGET, help=f"where to write (default: {TARGET})")
    args = parser.parse_args()
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
