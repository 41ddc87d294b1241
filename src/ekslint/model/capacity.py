"""Pod capacity of an EC2 instance type: how many pod IPs the VPC CNI can give a node,
and what AWS's max-pods calculator recommends.

The instance data is a table generated from the tables AWS itself generates for nodes
(the VPC CNI's ``pkg/vpc/vpc_ip_resource_limit.go`` and nodeadm's
``instance-info.jsonl``, with moto's copy of EC2 ``DescribeInstanceTypes`` as a
fallback; ``scripts/generate_instance_data.py``) and shipped in the package; ``ekslint
--update-instance-data`` adds the types it lacks from the EC2 API into the user's cache
directory, which is preferred when it is newer. Reading the table never touches the
network.
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any

# Prefix delegation hands out /28 prefixes: 16 addresses per secondary-IP slot.
IPS_PER_PREFIX = 16
# The VPC CNI supports prefix delegation from 1.9.0, on Nitro instances; on bare-metal
# instances from 1.10.3 (amazon-vpc-cni-k8s #1937, "Enable Prefix Delegation on Bare
# metal instances": IsPrefixDelegationSupported in pkg/awsutils/awsutils.go is true
# for hypervisor "nitro" or bare metal; released in v1.10.3 and v1.11.0).
PD_MIN_VERSION = (1, 9, 0)
PD_BARE_METAL_MIN_VERSION = (1, 10, 3)
# What ``ekslint --max-pods`` assumes without --cni-version: a current release (the
# newest VPC CNI release when this table was last reviewed).
CURRENT_CNI_VERSION = (1, 23, 0)
# calculator.sh caps its recommendation (Kubernetes scalability thresholds; EKS
# scalability testing above 30 vCPUs) and so do managed node groups.
RECOMMENDED_SMALL = 110
RECOMMENDED_LARGE = 250
LARGE_VCPUS = 30
# The columns of the table, in order (see generate_instance_data.py).
COLUMNS = ("defaultCardMaxENIs", "ipv4PerENI", "defaultVCpus", "hypervisor", "bareMetal")
TABLE_NAME = "instance_types.json"


# A VPC CNI version: (major, minor, patch); a version written without a patch has 0.
CniVersion = tuple[int, ...]


@dataclass(frozen=True, slots=True)
class InstanceInfo:
    name: str
    enis: int  # MaximumNetworkInterfaces of the default network card, not the instance's
    ipv4_per_eni: int
    vcpus: int | None
    hypervisor: str  # "nitro", "xen", or "" (bare metal has none)
    bare_metal: bool

    @property
    def nitro(self) -> bool:
        # calculator.sh tests Hypervisor == "nitro"; metal types have no hypervisor, so
        # they never get the prefix-delegation formula there.
        return self.hypervisor == "nitro"

    def prefix_capable(self, cni_version: CniVersion | None = None) -> bool:
        """Whether the VPC CNI assigns prefixes on this type (IsPrefixDelegationSupported:
        Nitro, or bare metal from VPC CNI 1.10.3). An unknown version counts as current."""
        if cni_version is not None and not pd_supported(cni_version):
            return False
        if self.nitro:
            return True
        return self.bare_metal and (cni_version is None or cni_version >= PD_BARE_METAL_MIN_VERSION)

    @property
    def large(self) -> bool:
        return self.vcpus is not None and self.vcpus > LARGE_VCPUS

    @property
    def recommended_cap(self) -> int:
        return RECOMMENDED_LARGE if self.large else RECOMMENDED_SMALL


@dataclass(frozen=True, slots=True)
class InstanceTable:
    types: dict[str, InstanceInfo]
    generated: str  # ISO timestamp, compared to pick the newest table
    source: str
    command: str
    path: str  # where it was read from

    def get(self, name: str) -> InstanceInfo | None:
        return self.types.get(name)

    def closest(self, name: str) -> str | None:
        """The known type a typo most likely meant (``m5.larg`` -> ``m5.large``)."""
        lowered = name.strip().lower()
        if lowered in self.types:
            return lowered
        family = lowered.partition(".")[0]
        # Same family first: "m5.larg" should not become "m5a.large".
        same_family = [t for t in self.types if t.partition(".")[0] == family]
        for pool in (same_family, list(self.types)):
            import difflib  # only for a misspelt type

            match = difflib.get_close_matches(lowered, pool, n=1, cutoff=0.6)
            if match:
                return match[0]
        return None


# -- the formula ------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Capacity:
    """Max pods for one instance type under given CNI settings, with the arithmetic."""

    info: InstanceInfo
    max_pods: int
    formula: str  # "3 ENIs × (10 − 1) + 2 = 29 for m5.large"
    prefix_delegation: bool  # the ×16 formula was used
    windows: bool = False


def capacity(
    info: InstanceInfo,
    prefix_delegation: bool = False,
    custom_networking: bool = False,
    max_eni: int | None = None,
    cni_version: CniVersion | None = None,
    calculator: bool = False,
) -> Capacity:
    """Pod IPs a Linux node of this type can hold: ENIs of the default network card ×
    (IPv4 per ENI − 1) + 2, or with prefix delegation ENIs × ((IPv4 per ENI − 1) × 16)
    + 2 (the VPC CNI's eni-max-pods.txt formula and max-pods-calculator.sh). The first
    IP of each ENI is the ENI's own; the + 2 are aws-node and kube-proxy, which use the
    host network.

    Prefixes are used where the VPC CNI assigns them (``prefix_capable``: Nitro, or
    bare metal from 1.10.3); with ``calculator`` as max-pods-calculator.sh decides
    (Hypervisor == "nitro" and CNI 1.9+, so never on bare metal)."""
    enis = info.enis if max_eni is None else min(max_eni, info.enis)
    eni_note = f"{enis} ENIs"
    if max_eni is not None and max_eni < info.enis:
        eni_note = f"{enis} ENIs (MAX_ENI)"
    if custom_networking:
        # The primary ENI sits in the node's subnet, not the pods' ENIConfig subnet.
        enis -= 1
        eni_note = f"({eni_note} − 1 for custom networking)"
    slots = info.ipv4_per_eni - 1
    if calculator:
        prefixes = info.nitro and (cni_version is None or pd_supported(cni_version))
    else:
        prefixes = info.prefix_capable(cni_version)
    if prefix_delegation and prefixes:
        value = enis * (slots * IPS_PER_PREFIX) + 2
        formula = f"{eni_note} × ((IPv4 {info.ipv4_per_eni} − 1) × 16) + 2 = {value} for {info.name}"
        return Capacity(info, value, formula, True)
    value = enis * slots + 2
    formula = f"{eni_note} × ({info.ipv4_per_eni} − 1) + 2 = {value} for {info.name}"
    return Capacity(info, value, formula, False)


def windows_capacity(info: InstanceInfo, prefix_delegation: bool = False) -> Capacity:
    """Windows nodes use only the primary ENI: its secondary IPv4 addresses, one per pod
    (IPv4 per ENI − 1; no + 2, the host-network pods of Linux do not exist there). With
    ``enable-windows-prefix-delegation`` each of those slots holds a /28 prefix: (IPv4
    per ENI − 1) × 16 (the VPC resource controller's ``getCapacity`` in
    pkg/provider/prefix/provider.go, times NumIPv4AddrPerPrefix)."""
    slots = info.ipv4_per_eni - 1
    if prefix_delegation:
        value = slots * IPS_PER_PREFIX
        formula = f"(IPv4 {info.ipv4_per_eni} on the primary ENI − 1) × 16 = {value} for {info.name}"
        return Capacity(info, value, formula, True, True)
    formula = f"IPv4 {info.ipv4_per_eni} on the primary ENI − 1 = {slots} for {info.name}"
    return Capacity(info, slots, formula, False, True)


@dataclass(frozen=True, slots=True)
class Recommendation:
    capacity: Capacity
    value: int  # what calculator.sh prints
    capped: bool


def recommend(
    info: InstanceInfo,
    cni_version: CniVersion,
    prefix_delegation: bool = False,
    custom_networking: bool = False,
    max_eni: int | None = None,
    show_max_allowed: bool = False,
) -> Recommendation:
    """What max-pods-calculator.sh prints: the capacity (prefixes only on Hypervisor
    "nitro" with CNI 1.9+), capped at 110 (or 250 above 30 vCPUs) unless
    --show-max-allowed."""
    result = capacity(info, prefix_delegation, custom_networking, max_eni, cni_version, calculator=True)
    if show_max_allowed:
        return Recommendation(result, result.max_pods, False)
    value = min(result.max_pods, info.recommended_cap)
    return Recommendation(result, value, value < result.max_pods)


def pd_supported(version: CniVersion) -> bool:
    """Prefix delegation needs VPC CNI 1.9 or newer (calculator.sh compares only
    major.minor; 1.9.0 was the first release with it)."""
    return tuple(version[:2]) >= PD_MIN_VERSION[:2]


def format_version(version: CniVersion) -> str:
    return ".".join(str(part) for part in version)


_VERSION = re.compile(r"^v?(\d+)\.(\d+)(?:\.(\d+))?")


def parse_cni_version(text: str) -> CniVersion | None:
    """``1.9.0``, ``v1.18.3-eksbuild.1`` -> (major, minor, patch); ``1.9`` -> (1, 9, 0)."""
    m = _VERSION.match(text.strip())
    return (int(m.group(1)), int(m.group(2)), int(m.group(3) or 0)) if m else None


# -- the table --------------------------------------------------------------------------


def cache_path() -> Path:
    """Where ``--update-instance-data`` writes (XDG; never site-packages)."""
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "ekslint" / TABLE_NAME


def parse_table(data: dict[str, Any], path: str) -> InstanceTable:
    columns = tuple(data["columns"])
    if columns != COLUMNS:
        raise ValueError(f"{path}: unexpected columns {columns}")
    types = {}
    for name, row in data["types"].items():
        enis, ipv4, vcpus, hypervisor, metal = row
        types[name] = InstanceInfo(name, int(enis), int(ipv4), vcpus, hypervisor or "", bool(metal))
    return InstanceTable(types, str(data["generated"]), str(data["source"]), str(data["command"]), path)


def read_table(path: Path) -> InstanceTable:
    with path.open(encoding="utf-8") as handle:
        return parse_table(json.load(handle), str(path))


def shipped_table() -> InstanceTable:
    resource = resources.files("ekslint") / "data" / TABLE_NAME
    return parse_table(json.loads(resource.read_text("utf-8")), f"ekslint/data/{TABLE_NAME}")


@lru_cache(maxsize=1)
def table() -> InstanceTable:
    """The instance data in use: the user's refreshed copy when it is newer than the
    one shipped, else the shipped one. A broken cache file is ignored."""
    shipped = shipped_table()
    cached_file = cache_path()
    if cached_file.is_file():
        try:
            cached = read_table(cached_file)
        except (OSError, ValueError, KeyError, TypeError):
            return shipped
        if cached.generated > shipped.generated:
            return cached
    return shipped
