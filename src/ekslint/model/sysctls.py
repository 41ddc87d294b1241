"""Kubernetes sysctl facts: the safe set by version, namespacing, allowance patterns.

Sources: kubernetes ``pkg/kubelet/sysctl/safe_sysctls.go`` @b0cb9cc1 and
``kubernetes/website`` sysctl-cluster.md for the safe set and the version that added
each entry; ``staging/src/k8s.io/component-helpers/node/util/sysctl/namespace.go`` (and runc's
``libcontainer/configs/validate/validator.go`` for what a pod can set) for namespacing;
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

# The kubelet's table of namespaced sysctls (kubernetes
# staging/src/k8s.io/component-helpers/node/util/sysctl/namespace.go): exact names,
# and two prefixes that match only with the dot after them. ``kernel.shm`` and
# ``kernel.msg`` name no sysctl: they are there so that the allowances ``kernel.shm*``
# and ``kernel.msg*`` of older releases stay valid.
_NAME_NAMESPACES: dict[str, str] = {
    "kernel.sem": "ipc",
    "kernel.shmall": "ipc",
    "kernel.shmmax": "ipc",
    "kernel.shmmni": "ipc",
    "kernel.shm_rmid_forced": "ipc",
    "kernel.shm": "ipc",
    "kernel.msgmax": "ipc",
    "kernel.msgmnb": "ipc",
    "kernel.msgmni": "ipc",
    "kernel.msg": "ipc",
}
COMPATIBILITY_PREFIXES = frozenset(("kernel.shm", "kernel.msg"))
_PREFIX_NAMESPACES: tuple[tuple[str, str], ...] = (("net.", "net"), ("fs.mqueue.", "ipc"))

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


def kubelet_namespace(name: str) -> str | None:
    """The kubelet's ``namespaceOf``: ``"net"``, ``"ipc"`` or None, from its table alone."""
    name = normalize(name)
    found = _NAME_NAMESPACES.get(name)
    if found is not None:
        return found
    for prefix, namespace in _PREFIX_NAMESPACES:
        if name.startswith(prefix):
            return namespace
    return None


def namespace_of(name: str) -> str | None:
    """The namespace of a sysctl a pod sets: ``"net"``, ``"ipc"``, or None when no pod
    can ever set it. The kubelet's table decides, except for its two compatibility
    entries (``kernel.shm``, ``kernel.msg``), which name no sysctl. So
    ``kernel.shm_next_id`` is None: the kubelet admits it only through a
    ``kernel.shm*`` allowance, and runc then refuses it (its own table,
    libcontainer/configs/validate/validator.go, lists the same exact IPC names)."""
    name = normalize(name)
    if name in COMPATIBILITY_PREFIXES:
        return None
    return kubelet_namespace(name)


def is_valid_pattern(pattern: str) -> bool:
    return len(pattern) <= MAX_SYSCTL_LENGTH and _PATTERN.match(pattern) is not None


def pattern_matches(pattern: str, name: str) -> bool:
    """The kubelet's allowlist test: an exact name, or a prefix when the pattern ends
    in ``*`` (strings.HasPrefix on the part before it; not a general glob)."""
    pattern, name = normalize(pattern), normalize(name)
    if pattern.endswith("*"):
        return name.startswith(pattern[:-1])
    return name == pattern


def pattern_namespace(pattern: str) -> str | None:
    """The namespace of an allowance entry, as the kubelet decides it (GetNamespace):
    of the exact name, or of the part before the first ``*`` looked up in the same
    table (``kernel.shm*`` is IPC, ``kernel.shmm*`` and ``net*`` are not). None: not
    namespaced, and the kubelet refuses to start with it."""
    name = normalize(pattern)
    star = name.find("*")
    return kubelet_namespace(name if star == -1 else name[:star])


def namespaced_names(prefix: str) -> list[str]:
    """The exact IPC names of the kubelet's table that start with ``prefix`` (what an
    invalid ``kernel.shmm*`` meant to allow)."""
    return sorted(n for n in _NAME_NAMESPACES if n.startswith(prefix) and n not in COMPATIBILITY_PREFIXES)


# The namespaced sysctls a Linux kernel has (Linux 6.18: /proc/sys/net/ipv4 and the
# IPC entries of /proc/sys/kernel), to tell which sysctls a prefix pattern covers. Only
# the families around the safe set are listed; the subdirectories (conf, neigh, route)
# hold per-interface entries.
_KERNEL_IPV4_TEXT = (
    "cipso_cache_bucket_size cipso_cache_enable cipso_rbm_optfmt cipso_rbm_strictvalid fib_multipath_hash_fields "
    "fib_multipath_hash_policy fib_multipath_hash_seed fib_multipath_use_neigh fib_notify_on_flag_change "
    "fib_sync_mem fwmark_reflect icmp_echo_enable_probe icmp_echo_ignore_all icmp_echo_ignore_broadcasts "
    "icmp_errors_use_inbound_ifaddr icmp_ignore_bogus_error_responses icmp_msgs_burst icmp_msgs_per_sec "
    "icmp_ratelimit icmp_ratemask igmp_link_local_mcast_reports igmp_max_memberships igmp_max_msf igmp_qrv "
    "inet_peer_maxttl inet_peer_minttl inet_peer_threshold ip_autobind_reuse ip_default_ttl ip_dynaddr "
    "ip_early_demux ip_forward ip_forward_update_priority ip_forward_use_pmtu ip_local_port_range "
    "ip_local_reserved_ports ip_no_pmtu_disc ip_nonlocal_bind ip_unprivileged_port_start ipfrag_high_thresh "
    "ipfrag_low_thresh ipfrag_max_dist ipfrag_secret_interval ipfrag_time nexthop_compat_mode ping_group_range "
    "raw_l3mdev_accept tcp_abort_on_overflow tcp_adv_win_scale tcp_allowed_congestion_control tcp_app_win "
    "tcp_autocorking tcp_available_congestion_control tcp_available_ulp tcp_backlog_ack_defer tcp_base_mss "
    "tcp_challenge_ack_limit tcp_child_ehash_entries tcp_comp_sack_delay_ns tcp_comp_sack_nr "
    "tcp_comp_sack_slack_ns tcp_congestion_control tcp_dsack tcp_early_demux tcp_early_retrans tcp_ecn "
    "tcp_ecn_fallback tcp_ecn_option tcp_ecn_option_beacon tcp_ehash_entries tcp_fack tcp_fastopen "
    "tcp_fastopen_blackhole_timeout_sec tcp_fastopen_key tcp_fin_timeout tcp_frto tcp_fwmark_accept "
    "tcp_invalid_ratelimit tcp_keepalive_intvl tcp_keepalive_probes tcp_keepalive_time tcp_l3mdev_accept "
    "tcp_limit_output_bytes tcp_low_latency tcp_max_orphans tcp_max_reordering tcp_max_syn_backlog "
    "tcp_max_tw_buckets tcp_mem tcp_migrate_req tcp_min_rtt_wlen tcp_min_snd_mss tcp_min_tso_segs "
    "tcp_moderate_rcvbuf tcp_mtu_probe_floor tcp_mtu_probing tcp_no_metrics_save tcp_no_ssthresh_metrics_save "
    "tcp_notsent_lowat tcp_orphan_retries tcp_pacing_ca_ratio tcp_pacing_ss_ratio tcp_pingpong_thresh "
    "tcp_plb_cong_thresh tcp_plb_enabled tcp_plb_idle_rehash_rounds tcp_plb_rehash_rounds "
    "tcp_plb_suspend_rto_sec tcp_probe_interval tcp_probe_threshold tcp_recovery tcp_reflect_tos "
    "tcp_reordering tcp_retrans_collapse tcp_retries1 tcp_retries2 tcp_rfc1337 tcp_rmem tcp_rto_max_ms "
    "tcp_rto_min_us tcp_sack tcp_shrink_window tcp_slow_start_after_idle tcp_stdurg tcp_syn_linear_timeouts "
    "tcp_syn_retries tcp_synack_retries tcp_syncookies tcp_thin_linear_timeouts tcp_timestamps "
    "tcp_tso_rtt_log tcp_tso_win_divisor tcp_tw_reuse tcp_tw_reuse_delay tcp_window_scaling tcp_wmem "
    "tcp_workaround_signed_windows udp_child_hash_entries udp_early_demux udp_hash_entries udp_l3mdev_accept "
    "udp_mem udp_rmem_min udp_wmem_min xfrm4_gc_thresh"
)
_KERNEL_IPC_TEXT = "msg_next_id msgmax msgmnb msgmni sem sem_next_id shm_next_id shm_rmid_forced shmall shmmax shmmni"
_KERNEL_NAMES = tuple(f"net.ipv4.{n}" for n in _KERNEL_IPV4_TEXT.split()) + tuple(
    f"kernel.{n}" for n in _KERNEL_IPC_TEXT.split()
)
# Prefixes whose every entry is listed above (everything else under net. may hold more).
_LISTED_FAMILIES = ("net.ipv4.", "kernel.")
_UNLISTED = ("net.ipv4.conf.", "net.ipv4.neigh.", "net.ipv4.route.")


def covered_sysctls(pattern: str) -> list[str] | None:
    """The kernel sysctls an allowance entry covers, when ekslint knows them all:
    the name itself, or for ``prefix*`` every listed kernel sysctl with that prefix.
    None when the pattern may cover sysctls ekslint does not list."""
    name = normalize(pattern)
    if not name.endswith("*"):
        return [name]
    prefix = name[:-1]
    if not prefix.startswith(_LISTED_FAMILIES) or any(u.startswith(prefix) or prefix.startswith(u) for u in _UNLISTED):
        return None
    return [n for n in _KERNEL_NAMES if n.startswith(prefix)]
