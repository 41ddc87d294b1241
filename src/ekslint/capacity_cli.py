"""``ekslint --max-pods TYPE``: AWS's max-pods-calculator.sh, with the same options and
answers, from ekslint's instance table (without ``--cni-version`` it answers for a
current VPC CNI, and says which, where the script stops with an error); and ``ekslint
--update-instance-data``, which adds the types the table lacks from the EC2 API into
the user's cache. Kept apart from the lint command: ``add_arguments`` adds the options,
``run`` handles them."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

EXIT_OK, EXIT_ERROR = 0, 2


def add_arguments(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group(
        "pod capacity (the max-pods calculator; same answers as AWS's max-pods-calculator.sh)"
    )
    group.add_argument(
        "--max-pods",
        metavar="INSTANCE_TYPE",
        help="print the recommended max pods for an instance type and exit (with --format json: the arithmetic)",
    )
    group.add_argument(
        "--cni-version",
        metavar="X.Y.Z",
        help="VPC CNI version (e.g. 1.9.0; default: a current release, named on stderr and in the JSON)",
    )
    group.add_argument(
        "--cni-prefix-delegation-enabled", action="store_true", help="prefix delegation is on (needs CNI 1.9+, Nitro)"
    )
    group.add_argument(
        "--cni-custom-networking-enabled", action="store_true", help="custom networking: the primary ENI holds no pods"
    )
    group.add_argument("--cni-max-eni", metavar="N", type=int, help="MAX_ENI: the CNI attaches at most N ENIs")
    group.add_argument(
        "--show-max-allowed", action="store_true", help="print the uncapped value (no 110/250 recommendation cap)"
    )
    group.add_argument(
        "--update-instance-data",
        action="store_true",
        help="add the instance types the table lacks from the EC2 API (boto3, AWS credentials) into the user cache "
        "and exit",
    )


def wanted(args: argparse.Namespace) -> bool:
    return args.max_pods is not None or args.update_instance_data


def run(args: argparse.Namespace) -> int:
    if args.update_instance_data:
        return update_instance_data()
    return calculate(args)


def calculate(args: argparse.Namespace) -> int:
    from ekslint.model import capacity

    if not args.max_pods.strip():
        return _error("You must specify an instance type to calculate max pods value.")
    if args.cni_version:
        version = capacity.parse_cni_version(args.cni_version)
        if version is None:
            return _error(f"--cni-version {args.cni_version!r} is not a version like 1.9.0")
    else:
        # calculator.sh stops here ("You must specify a CNI Version to use"); a current
        # release answers what a new cluster gets, and the answer says which.
        version = capacity.CURRENT_CNI_VERSION
    if args.cni_max_eni is not None and args.cni_max_eni < 1:
        return _error("--cni-max-eni must be a positive number of ENIs")
    if args.format not in ("text", "json"):
        return _error(f"--max-pods prints text or json, not {args.format!r}")
    table = capacity.table()
    info = table.get(args.max_pods.strip())
    if info is None:
        guess = table.closest(args.max_pods)
        hint = f" Did you mean {guess}?" if guess else ""
        return _error(
            f"unknown instance type {args.max_pods!r} ({len(table.types)} types in {table.path}, generated "
            f"{table.generated}).{hint} A type newer than the table: run ekslint --update-instance-data"
        )
    result = capacity.recommend(
        info,
        version,
        prefix_delegation=args.cni_prefix_delegation_enabled,
        custom_networking=args.cni_custom_networking_enabled,
        max_eni=args.cni_max_eni,
        show_max_allowed=args.show_max_allowed,
    )
    if args.format == "json":
        sys.stdout.write(json.dumps(_document(args, result, table, version), indent=2, ensure_ascii=False) + "\n")
    else:
        sys.stdout.write(f"{result.value}\n")
        if not args.cni_version:
            # stdout stays the bare number, as the script prints it: scripts read it.
            print(
                f"ekslint: answered for VPC CNI {capacity.format_version(version)} (no --cni-version given; "
                "pass --cni-version for the one your cluster runs)",
                file=sys.stderr,
            )
    return EXIT_OK


def _document(args: argparse.Namespace, result: Any, table: Any, version: tuple[int, ...]) -> dict[str, Any]:
    from ekslint.model.capacity import format_version, pd_supported

    info = result.capacity.info
    return {
        "instanceType": info.name,
        "maxPods": result.value,
        "maxAllowed": result.capacity.max_pods,
        "capped": result.capped,
        "formula": result.capacity.formula,
        "cap": None if args.show_max_allowed else info.recommended_cap,
        "cniVersion": args.cni_version or format_version(version),
        "cniVersionAssumed": not args.cni_version,
        "prefixDelegation": {
            "requested": args.cni_prefix_delegation_enabled,
            "applied": result.capacity.prefix_delegation,
            "supportedByCni": pd_supported(version),
            "nitro": info.nitro,
            "bareMetal": info.bare_metal,
            # The VPC CNI itself assigns prefixes on bare metal too; the calculator does not.
            "supportedByInstance": info.prefix_capable(version),
        },
        "customNetworking": args.cni_custom_networking_enabled,
        "maxEni": args.cni_max_eni,
        "instance": {
            "defaultCardMaxENIs": info.enis,
            "ipv4PerENI": info.ipv4_per_eni,
            "defaultVCpus": info.vcpus,
            "hypervisor": info.hypervisor,
            "bareMetal": info.bare_metal,
        },
        "instanceData": {"path": table.path, "generated": table.generated, "source": table.source},
    }


def update_instance_data() -> int:
    from ekslint.model import capacity

    try:
        import boto3  # noqa: F401  (only here: linting never needs the AWS SDK)
    except ImportError:
        return _error("--update-instance-data needs boto3: pip install 'ekslint[instance-data]'")
    from botocore.exceptions import BotoCoreError, ClientError

    from ekslint import instance_data

    target = capacity.cache_path()
    try:
        fresh, fetched = instance_data.refresh(target, capacity.shipped_table())
    except (BotoCoreError, ClientError) as err:
        return _error(f"cannot read EC2 DescribeInstanceTypes: {err} (set AWS credentials and AWS_REGION)")
    except OSError as err:
        return _error(f"cannot write {target}: {err.strerror or err}")
    capacity.table.cache_clear()
    print(
        f"ekslint: wrote {len(fresh.types)} instance types ({fetched} from EC2 DescribeInstanceTypes) to {target}; "
        "ekslint uses it while it is newer than the table it ships",
        file=sys.stderr,
    )
    return EXIT_OK


def _error(message: str) -> int:
    print(f"ekslint: error: {message}", file=sys.stderr)
    return EXIT_ERROR
