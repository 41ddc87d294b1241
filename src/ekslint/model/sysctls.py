"""Kubernetes sysctl facts: the safe set by version, namespacing, allowance patterns.

Sources (DOMAIN.md §5): kubernetes ``pkg/kubelet/sysctl/safe_sysctls.go`` @b0cb9cc1 and
``kubernetes/website`` sysctl-cluster.md for the safe set and the version that added
each entry; ``component-helpers/node/util/sysctl/namespace.go`` for namespacing;
``pkg/apis/core/validation`` (IsValidSysctlPattern) for allowance syntax.
"""

from __future__ import annotations

import re

# Kubernetes minor version that made each sysctl safe; (1, 0) = always safe.
SAFE_SINCE: dict[str, tuple[int, int]] = {
    "kernel.shm_rmid_forced": (1, 0),
    "net.ipv4.ip_local_port_range": (1, 0),
    "net.ipv4.tcp_syncookies": (1, 0),
    "net.ipv4.ping_group_range": (1, 18),
    "net.ipv4.ip_unprivileged_port_start": (1, 22),
    "net.ipv4.ip_local_reserved_ports": (1, 27),
    "net.ipv4.tcp_keepalive_time": (1, 29),
    "net.ipv4.tcp_fin_timeout": (1, 29),
    "net.ipv4.tcp_keepalive_intvl": (1, 29),
    "net.ipv4.tcp_keepalive_probes": (1, 29),
    "net.ipv4.tcp_rmem": (1, 32),
    "net.ipv4.tcp_wmem": (1, 32),
    # Documented for 1.37 in the upstream (zh-cn) sysctl docs; applied only to clusters
    # that say they run 1.37 or later.
    "net.ipv4.tcp_slow_start_after_idle": (1, 37),
    "net.ipv4.tcp_notsent_lowat": (1, 37),
}

# The newest Kubernetes minor ekslint has checked its facts against; used when neither
# the ClusterConfig (metadata.version) nor the config (kubernetes-version) says.
NEWEST_KNOWN_VERSION: tuple[int, int] = (1, 36)

_IPC_NAMES = frozenset(
    (
        "kernel.sem",
        "kernel.shmall",
        "kernel.shmmax",
        "kernel.shmmni",
        "kernel.shm_rmid_forced",
        "kernel.msgmax",
        "kernel.msgmnb",
        "kernel.msgmni",
    )
)
_IPC_PREFIXES = ("kernel.shm", "kernel.msg", "kernel.sem", "fs.mqueue.")

# IsValidSysctlPattern: optional dotted/slashed segments, a last segment that may end
# in ``*``; at most 253 characters.
_SEGMENT = r"[a-z0-9]([-_a-z0-9]*[a-z0-9])?"
_PATTERN = re.compile(rf"^({_SEGMENT}[\./])*([a-z0-9][-_a-z0-9]*)?[a-z0-9*]$")
MAX_SYSCTL_LENGTH = 253


def parse_version(text: str | None) -> tuple[int, int] | None:
    """``"1.29"``, ``"v1.29.3"``, ``"1.29-eks"`` -> (1, 29)."""
    if not text:
        return None
    m = re.match(r"v?(\d+)\.(\d+)", str(text).strip())
    return (int(m.group(1)), int(m.group(2))) if m else None


def format_version(version: tuple[int, int]) -> str:
    return f"{version[0]}.{version[1]}"


def normalize(name: str) -> str:
    """``net/ipv4/ip_forward`` -> ``net.ipv4.ip_forward`` (ConvertSysctlVariableToDotsSeparator)."""
    if "/" not in name:
        return name
    first_sep = min((i for i in (name.find("."), name.find("/")) if i != -1), default=-1)
    if first_sep != -1 and name[first_sep] == ".":
        return name  # dotted form may contain slashes in a segment (e.g. interface names)
    return name.replace(".", "\0").replace("/", ".").replace("\0", "/")


def is_safe(name: str, version: tuple[int, int]) -> bool:
    since = SAFE_SINCE.get(normalize(name))
    return since is not None and version >= since


def safe_since(name: str) -> tuple[int, int] | None:
    return SAFE_SINCE.get(normalize(name))


def namespace_of(name: str) -> str | None:
    """``"net"``, ``"ipc"`` or None when the sysctl is node-level (cannot be set per pod)."""
    name = normalize(name)
    if name.startswith("net."):
        return "net"
    if name in _IPC_NAMES or name.startswith(_IPC_PREFIXES):
        return "ipc"
    return None


def is_valid_pattern(pattern: str) -> bool:
    return len(pattern) <= MAX_SYSCTL_LENGTH and _PATTERN.match(pattern) is not None


def pattern_matches(pattern: str, name: str) -> bool:
    """The kubelet's allowlist test: an exact name, or a prefix when the pattern ends
    in ``*`` (strings.HasPrefix on the part before it; not a general glob)."""
    pattern, name = normalize(pattern), normalize(name)
    if pattern.endswith("*"):
        return name.startswith(pattern[:-1])
    return name == pattern
