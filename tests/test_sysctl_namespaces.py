"""Which sysctls are namespaced, exactly as the kubelet's table decides it (kubernetes
staging/src/k8s.io/component-helpers/node/util/sysctl/namespace.go, GetNamespace as
NewAllowlist in pkg/kubelet/sysctl/allowlist.go calls it), and what a pod can set
(runc libcontainer/configs/validate/validator.go refuses the rest)."""

from __future__ import annotations

import pytest

from ekslint.plugin import sysctls


@pytest.mark.parametrize(
    ("name", "namespace"),
    [
        ("net.core.somaxconn", "net"),
        ("net/ipv4/ip_forward", "net"),
        ("fs.mqueue.msg_max", "ipc"),
        ("kernel.sem", "ipc"),
        ("kernel.shmmax", "ipc"),
        ("kernel.shm_rmid_forced", "ipc"),
        ("kernel.msgmnb", "ipc"),
        ("kernel.shm_next_id", None),
        ("kernel.msg_next_id", None),
        ("kernel.sem_next_id", None),
        ("kernel.shm", None),  # only a compatibility entry for kernel.shm*
        ("kernel.shmmaxx", None),
        ("net", None),
        ("fs.mqueue", None),
        ("vm.max_map_count", None),
        ("kernel.domainname", None),
    ],
)
def test_what_a_pod_can_set(name: str, namespace: str | None) -> None:
    assert sysctls.namespace_of(name) == namespace


@pytest.mark.parametrize(
    ("pattern", "namespace"),
    [
        ("kernel.shm*", "ipc"),
        ("kernel.msg*", "ipc"),
        ("kernel.sem*", "ipc"),
        ("kernel.shm", "ipc"),
        ("net.*", "net"),
        ("net.ipv4.tcp_*", "net"),
        ("fs.mqueue.*", "ipc"),
        ("kernel.shmm*", None),
        ("kernel.shm_*", None),
        ("kernel.shm_next_id", None),
        ("net*", None),
        ("fs.mqueue*", None),
        ("kernel.*", None),
    ],
)
def test_what_an_allowance_may_name(pattern: str, namespace: str | None) -> None:
    assert sysctls.pattern_namespace(pattern) == namespace


def test_the_names_a_bad_prefix_meant() -> None:
    assert sysctls.namespaced_names("kernel.shmm") == ["kernel.shmmax", "kernel.shmmni"]
    assert sysctls.namespaced_names("kernel.shm_next_id") == []
