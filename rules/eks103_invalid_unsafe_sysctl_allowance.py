"""EKS103 invalid-unsafe-sysctl-allowance."""

from __future__ import annotations

from collections.abc import Iterator

from ekslint.plugin import (
    Allowance,
    NodeGroup,
    Project,
    ProjectRule,
    Related,
    RuleContext,
    Severity,
    Violation,
    sysctls,
)

NODE_LEVEL_FIX = (
    "Remove it from the allowance; a node-level sysctl is set on the node itself (sysctl -w in the userdata, "
    "/etc/sysctl.d, Bottlerocket settings.kernel.sysctl)"
)


class InvalidUnsafeSysctlAllowance(ProjectRule):
    """## What it does
    Checks every entry of a node group's allowed unsafe sysctls, wherever it is
    written (`--allowed-unsafe-sysctls` in bootstrap.sh's `--kubelet-extra-args` or
    NodeConfig `kubelet.flags`, `allowedUnsafeSysctls` in eksctl `kubeletExtraConfig`
    or NodeConfig `kubelet.config`, Bottlerocket
    `settings.kubernetes.allowed-unsafe-sysctls`, the ekslint config), and flags one
    that the kubelet rejects (kubernetes `pkg/kubelet/sysctl/allowlist.go`, NewAllowlist):

    - malformed: `*` anywhere but at the end (it is a prefix match, not a glob),
      characters other than lowercase letters, digits, `-`, `_` and the `.`/`/`
      separators, or more than 253 characters;
    - not namespaced, as the kubelet's table decides it
      (`staging/src/k8s.io/component-helpers/node/util/sysctl/namespace.go`): an
      exact name must be one of the IPC names (`kernel.sem`, `kernel.shmall`,
      `kernel.shmmax`, `kernel.shmmni`, `kernel.shm_rmid_forced`, `kernel.msgmax`,
      `kernel.msgmnb`, `kernel.msgmni`) or start with `net.` or `fs.mqueue.`; for a
      prefix, the part before `*` is looked up the same way, with `kernel.shm` and
      `kernel.msg` kept for `kernel.shm*` and `kernel.msg*`. So `vm.*` names,
      `kernel.pid_max`, `kernel.shm_next_id`, and the prefixes `kernel.*`,
      `kernel.shmm*` and `net*` are all refused.

    Entries that never reach the kubelet (a config list replaced by the flag, a
    managed node group's `kubeletExtraConfig`) are not checked.

    ## Why is this bad?
    The kubelet validates its allowlist at start-up and exits on the first bad entry
    (`sysctl "..." must have at most 253 characters and match regex ...`, or `the
    sysctl(s) "..." are not known to be namespaced`). The nodes of the group never
    become Ready, and a managed node group creation or upgrade fails after its
    timeout.

    ## Example
    ```yaml
    nodeGroups:
      - name: search
        kubeletExtraConfig:
          allowedUnsafeSysctls:
            - "net.ipv4.*_keepalive"   # `*` not at the end
            - "vm.max_map_count"       # node-level
    ```

    ## Use instead
    ```yaml
        kubeletExtraConfig:
          allowedUnsafeSysctls:
            - "net.ipv4.tcp_keepalive_*"
        preBootstrapCommands:
          - sysctl -w vm.max_map_count=262144   # node-level: set on the node
    ```

    ## References
    - https://kubernetes.io/docs/tasks/administer-cluster/sysctl-cluster/
    """

    id = "EKS103"
    name = "invalid-unsafe-sysctl-allowance"
    severity = Severity.ERROR
    summary = "An allowed-unsafe-sysctls entry is malformed or not namespaced: the kubelet will not start"
    tags = ("sysctl", "kubelet", "node-bootstrap")
    precision = "very-high"
    index_group = "sysctls"

    def check(self, target: Project, ctx: RuleContext) -> Iterator[Violation]:
        seen: set[tuple[object, str]] = set()
        for group in target.reported_node_groups():
            if group.windows:
                continue
            for allowance in group.allowances:
                key = (allowance.span, allowance.pattern)
                if key in seen:
                    continue
                seen.add(key)
                problem = self._malformed(allowance.pattern)
                if problem is not None:
                    fix = (
                        "Write an exact sysctl name or a prefix that ends in `*` (for example net.ipv4.tcp_keepalive_*)"
                    )
                    yield self._violation(group, allowance, problem, fix)
                elif sysctls.pattern_namespace(allowance.pattern) is None:
                    yield self._violation(group, allowance, *self._node_level(allowance.pattern))

    @staticmethod
    def _malformed(pattern: str) -> str | None:
        if not sysctls.is_valid_pattern(pattern):
            if len(pattern) > sysctls.MAX_SYSCTL_LENGTH:
                why = f"it is {len(pattern)} characters long, more than {sysctls.MAX_SYSCTL_LENGTH}"
            elif "*" in pattern[:-1]:
                why = "`*` may only end an entry (it makes the entry a prefix match, not a glob)"
            elif pattern != pattern.lower():
                why = "sysctl names are lowercase"
            else:
                why = "it may hold only lowercase letters, digits, '-', '_' and '.' or '/' between segments"
            return (
                f"is malformed: {why}. The kubelet refuses to start (sysctl {pattern!r} must have at most "
                f"{sysctls.MAX_SYSCTL_LENGTH} characters and match regex ...)"
            )
        return None

    @staticmethod
    def _node_level(pattern: str) -> tuple[str, str]:
        """What is wrong with a pattern the kubelet does not know to be namespaced,
        and what to write instead."""
        name = sysctls.normalize(pattern)
        star = name.find("*")
        stem = name if star == -1 else name[:star]
        meant = sysctls.namespaced_names(stem) if stem.startswith(("kernel.shm", "kernel.msg", "kernel.sem")) else []
        if star != -1:
            problem = (
                f"is not namespaced: the kubelet looks up the part before `*` ({stem!r}) in its table of namespaced "
                "sysctls, which has the prefixes net. and fs.mqueue., the exact IPC names kernel.sem, "
                "kernel.shmall, kernel.shmmax, kernel.shmmni, kernel.shm_rmid_forced, kernel.msgmax, kernel.msgmnb, "
                "kernel.msgmni, and kernel.shm and kernel.msg (for kernel.shm* and kernel.msg*)"
            )
        else:
            problem = (
                "is not namespaced: the kubelet's table of namespaced sysctls has the prefixes net. and fs.mqueue. "
                "and the exact IPC names kernel.sem, kernel.shmall, kernel.shmmax, kernel.shmmni, "
                "kernel.shm_rmid_forced, kernel.msgmax, kernel.msgmnb and kernel.msgmni"
            )
        problem += f', so the kubelet refuses to start (the sysctls "{stem}" are not known to be namespaced)'
        if meant:
            fix = f"Write the namespaced names it was meant to cover instead: {', '.join(meant)}"
        elif stem in ("net", "fs.mqueue") or stem.startswith(("net.", "fs.mqueue.")):
            fix = f"Write the prefix with its dot: {stem.rstrip('.')}.*"
        elif stem.startswith("kernel.") and stem.endswith("_next_id"):
            fix = (
                "Remove it: the kubelet does not know it to be namespaced and runc refuses it in a pod, so no pod can "
                "set it"
            )
        else:
            fix = NODE_LEVEL_FIX
        return problem, fix

    @staticmethod
    def _violation(group: NodeGroup, allowance: Allowance, problem: str, fix: str) -> Violation:
        what = "malformed" if problem.startswith("is malformed") else "not namespaced"
        headline = (
            f"allowed unsafe sysctl {allowance.pattern!r} is {what}: the kubelet of node group {group.name} "
            "will not start"
        )
        detail = (
            f"It is set in {allowance.source} and {problem}, and no node of group {group.name} becomes Ready. {fix}"
        )
        related = () if group.span == allowance.span else (Related(group.span, f"node group {group.name}"),)
        return Violation(allowance.span, headline, related, detail=detail)
