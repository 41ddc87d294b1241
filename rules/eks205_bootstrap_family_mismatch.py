"""EKS205 bootstrap-family-mismatch."""

from __future__ import annotations

from collections.abc import Iterator

from ekslint.plugin import (
    EksctlNodeGroup,
    FileModel,
    FileRule,
    Related,
    RuleContext,
    Severity,
    Span,
    Text,
    UserdataModel,
    Violation,
    is_al2,
    is_al2023,
    is_bottlerocket,
    is_ubuntu,
    is_windows,
    normalize_family,
)

AL2023_NO_BOOTSTRAP = (
    "AmazonLinux2023 AMIs boot with nodeadm, which reads a NodeConfig; their /etc/eks/bootstrap.sh is only a stub "
    "that prints that it was removed and exits 1"
)


class BootstrapFamilyMismatch(FileRule):
    """## What it does
    Flags a bootstrap that does not fit the node's AMI family:
    - `/etc/eks/bootstrap.sh` called on AmazonLinux2023 (eksctl `amiFamily`, a userdata
      that also holds a NodeConfig, or the family the ekslint config declares for the
      userdata), or on Bottlerocket;
    - a shell script as `overrideBootstrapCommand` of an AmazonLinux2023 eksctl node
      group, where eksctl expects NodeConfig YAML; a NodeConfig as
      `overrideBootstrapCommand` of an AmazonLinux2 or Ubuntu group, where eksctl runs
      it as a script;
    - shell or NodeConfig userdata for a node group the ekslint config declares
      Bottlerocket (TOML expected), and the other way round;
    - `overrideBootstrapCommand`, `preBootstrapCommands` or `kubeletExtraConfig` where
      eksctl forbids them: Bottlerocket (all three; managed groups have no
      `kubeletExtraConfig`), Windows (`kubeletExtraConfig` on self-managed groups,
      `overrideBootstrapCommand` on managed groups). eksctl tests these against nil,
      so an empty `[]` or `{}` counts as set. A managed group that sets
      `overrideBootstrapCommand` without a custom AMI is EKS201's;
    - `overrideBootstrapCommand` or a non-empty `preBootstrapCommands` on a managed
      group with a `launchTemplate`, on every family, AmazonLinux2023 included;
    - `/etc/eks/bootstrap.sh` called in the `userData` of a Karpenter EC2NodeClass:
      on AL2023 or Bottlerocket (as above), and on AL2, where Karpenter appends its own
      bootstrap.sh call after the userData (aws/karpenter-provider-aws
      `pkg/providers/amifamily/bootstrap/eksbootstrap.go`; Karpenter's docs: use
      `amiFamily: Custom` to bootstrap yourself), so the node is bootstrapped twice
      and the second run replaces the first call's kubelet arguments.

    The family is the one eksctl judges the group by: `amiFamily`, else its default
    (AmazonLinux2023), except for a group that sets `ami` without `amiFamily`, which
    eksctl gives no default and refuses (EKS202): nothing family-specific is said
    about it.

    A script that tells the families apart before calling bootstrap.sh (it tests for
    `nodeadm` or reads `/etc/os-release`) is not reported. A test that
    `/etc/eks/bootstrap.sh` exists (`[ -f /etc/eks/bootstrap.sh ]`) does not tell
    them apart: AmazonLinux2023 AMIs ship it as a stub that exits 1 (amazon-eks-ami
    `templates/al2023/runtime/rootfs/etc/eks/bootstrap.sh`), so such a call is still
    reported, and the kubelet arguments given to it count as never applied.

    ## Why is this bad?
    Each family boots differently: AmazonLinux2 runs bootstrap.sh, AmazonLinux2023
    runs nodeadm with a NodeConfig and has no bootstrap.sh, Bottlerocket reads TOML
    settings and runs no userdata scripts. eksctl refuses the forbidden fields
    (`overrideBootstrapCommand is not supported for Bottlerocket nodegroups`), refuses
    bootstrap commands beside a launch template, whose own userdata boots the nodes
    (`cannot set ... overrideBootstrapCommand ... when a launch template is
    supplied`), and fails on a script where it parses NodeConfig
    (`unmarshalling "overrideBootstrapCommand" into "nodeadm.NodeConfig"`). Userdata
    that passes the tools fails on the node: the script stops at a missing file or
    is never run, and the kubelet settings it carries never apply.

    ## Example
    ```yaml
    managedNodeGroups:
      - name: ng-1
        amiFamily: AmazonLinux2023
        overrideBootstrapCommand: |
          #!/bin/bash
          /etc/eks/bootstrap.sh my-cluster --kubelet-extra-args '--max-pods=58'
    ```

    ## Use instead
    ```yaml
    managedNodeGroups:
      - name: ng-1
        amiFamily: AmazonLinux2023
        overrideBootstrapCommand: |
          apiVersion: node.eks.aws/v1alpha1
          kind: NodeConfig
          spec:
            kubelet:
              config:
                maxPods: 58
    ```

    ## References
    - eksctl `pkg/apis/eksctl.io/v1alpha5/validation.go` (ValidateNodeGroup, ValidateManagedNodeGroup),
      `defaults.go`, `pkg/ctl/cmdutils/cmd.go` (the order), `pkg/nodebootstrap/al2023.go`
    - https://awslabs.github.io/amazon-eks-ami/nodeadm/
    - https://bottlerocket.dev/en/os/latest/#/api/settings/kubernetes/
    """

    id = "EKS205"
    name = "bootstrap-family-mismatch"
    severity = Severity.ERROR
    summary = "The bootstrap style (bootstrap.sh, NodeConfig, TOML) does not match the AMI family"
    tags = ("eksctl", "bootstrap", "al2023", "bottlerocket")
    precision = "high"

    def check(self, target: FileModel, ctx: RuleContext) -> Iterator[Violation]:
        for config in target.cluster_configs:
            for entry in config.node_groups:
                yield from self._eksctl(entry)
        eksctl_userdata = {id(e.userdata) for c in target.cluster_configs for e in c.node_groups if e.userdata}
        for userdata in target.userdata:
            if id(userdata) not in eksctl_userdata:
                yield from self._standalone(userdata)

    # -- eksctl node groups ------------------------------------------------------------

    def _eksctl(self, entry: EksctlNodeGroup) -> Iterator[Violation]:
        group, path = entry.group, entry.path
        family = group.ami_family or "?"
        forbidden = self._forbidden_fields(entry)
        for key in forbidden:
            if is_bottlerocket(family):
                instead = {
                    "overrideBootstrapCommand": "Remove it: Bottlerocket reads TOML settings, not scripts; put "
                    "kubelet settings under bottlerocket.settings.kubernetes",
                    "preBootstrapCommands": "Remove it: Bottlerocket runs no userdata scripts; use a bootstrap "
                    "container (bottlerocket.settings.bootstrap-containers) instead",
                    "kubeletExtraConfig": "Move the settings to bottlerocket.settings.kubernetes (kebab-case keys, "
                    "e.g. allowed-unsafe-sysctls)",
                }[key]
            else:
                instead = (
                    "Remove it: Windows node groups always run the bootstrap script of the Windows AMI"
                    if key == "overrideBootstrapCommand"
                    else "Remove it and pass kubelet flags with -KubeletExtraArgs in overrideBootstrapCommand "
                    "(the Windows AMI's Start-EKSBootstrap.ps1)"
                )
            yield Violation(
                entry.key_span(key),
                f"{path}.{key} is not supported for {family} node groups: eksctl refuses it ('{key} is not "
                f"supported for {family} nodegroups'). {instead}",
            )
        yield from self._launch_template(entry, forbidden)
        if is_al2023(family):
            script = entry.override.script if entry.override is not None else None
            if entry.override_kind == "script" and script is not None:
                calls = script.unguarded_calls
                where = script.span_of(calls[0].program) if calls else entry.key_span("overrideBootstrapCommand")
                found = " calls /etc/eks/bootstrap.sh, a stub there that exits 1, and" if calls else ""
                yield Violation(
                    where,
                    f"{path}.overrideBootstrapCommand is a shell script, but on AmazonLinux2023 eksctl reads it as "
                    f'NodeConfig YAML: it{found} fails with \'unmarshalling "overrideBootstrapCommand" into '
                    '"nodeadm.NodeConfig"\'. Write the kubelet settings as a NodeConfig (--kubelet-extra-args '
                    "become spec.kubelet.config / spec.kubelet.flags), and move other commands to "
                    "preBootstrapCommands",
                )
            if entry.userdata is not None:
                for script in entry.userdata.scripts:
                    for call in script.unguarded_calls:
                        yield Violation(
                            script.span_of(call.program),
                            f"{script.source} calls /etc/eks/bootstrap.sh, but {path} is AmazonLinux2023: "
                            f"{AL2023_NO_BOOTSTRAP}, so the command fails. Remove the call and put its kubelet "
                            "arguments in overrideBootstrapCommand as a NodeConfig",
                        )
        elif (
            (is_al2(family) or is_ubuntu(family))
            and entry.override_kind == "script"
            and entry.override is not None
            and entry.override.is_nodeconfig
        ):
            yield Violation(
                entry.key_span("overrideBootstrapCommand"),
                f"{path}.overrideBootstrapCommand is a NodeConfig, but {path} is {family}: eksctl runs "
                "overrideBootstrapCommand there as a shell script, and nodeadm does not exist on the image. "
                "Write a script that calls /etc/eks/bootstrap.sh, or set amiFamily: AmazonLinux2023",
            )

    @staticmethod
    def _launch_template(entry: EksctlNodeGroup, forbidden: list[str]) -> Iterator[Violation]:
        """eksctl refuses bootstrap commands next to a launchTemplate on every family."""
        if not (entry.managed and entry.group.launch_template):
            return
        # ValidateManagedNodeGroup tests len(preBootstrapCommands) > 0 but
        # overrideBootstrapCommand != nil.
        present = {
            "overrideBootstrapCommand": entry.is_set("overrideBootstrapCommand"),
            "preBootstrapCommands": entry.has_value("preBootstrapCommands"),
        }
        for key, is_present in present.items():
            if not is_present or key in forbidden:
                continue  # a family that forbids it is refused first
            yield Violation(
                entry.key_span(key),
                f"{entry.path}.{key} is set next to launchTemplate: eksctl refuses it on every amiFamily, "
                "AmazonLinux2023 included ('cannot set ... preBootstrapCommands, overrideBootstrapCommand, ... "
                "in managedNodeGroup when a launch template is supplied'), since the launch template's userdata "
                "is what boots the nodes. Move the commands into the launch template's userdata, or remove "
                "launchTemplate",
            )

    def _forbidden_fields(self, entry: EksctlNodeGroup) -> list[str]:
        group = entry.group
        family = group.ami_family

        keys: list[str] = []
        # Managed groups without a custom AMI that override the bootstrap are EKS201's.
        override_here = not entry.managed or bool(group.custom_ami or group.launch_template)
        if is_bottlerocket(family):
            keys = ["preBootstrapCommands"]
            if override_here:
                keys.insert(0, "overrideBootstrapCommand")
            if not entry.managed:
                keys.append("kubeletExtraConfig")
        elif is_windows(family):
            if not entry.managed:
                keys = ["kubeletExtraConfig"]
            elif override_here:
                keys = ["overrideBootstrapCommand"]
        # eksctl tests these pointers and slices against nil: `[]` and `{}` are set.
        return [key for key in keys if entry.is_set(key)]

    # -- standalone userdata -----------------------------------------------------------

    def _standalone(self, userdata: UserdataModel) -> Iterator[Violation]:
        context = userdata.context
        # The ekslint config's node group, else the family the userdata's own node group
        # declares where it is defined with it (a Terraform ami_type).
        declared = normalize_family(context.ami_family) if context is not None else userdata.declared_family
        owner = (
            f"{context.declared_by} declares node group {context.name}"
            if context is not None
            else f"its node group ({userdata.source}) is"
        )
        related: tuple[Related, ...] = ()
        if context is not None and declared is not None:
            related = (Related(context.span, f"{context.declared_by} declares node group {context.name} {declared}"),)
        if context is None and userdata.declared_by is not None:
            yield from self._declared_elsewhere(userdata)
            return
        calls = [(script, call) for script in userdata.scripts for call in script.unguarded_calls]
        if calls and (userdata.nodeconfig is not None or is_al2023(declared) or is_bottlerocket(declared)):
            script, call = calls[0]
            if is_bottlerocket(declared):
                reason = (
                    f"the node group is Bottlerocket ({context.name if context else userdata.source}), which has no "
                    "bootstrap.sh"
                )
            elif userdata.nodeconfig is not None:
                reason = f"this userdata also holds a NodeConfig, so it boots AmazonLinux2023: {AL2023_NO_BOOTSTRAP}"
            else:
                reason = f"the node group is AmazonLinux2023: {AL2023_NO_BOOTSTRAP}"
            guard = (
                " (the test that /etc/eks/bootstrap.sh exists does not help: the stub exists)"
                if script.existence_guard and not is_bottlerocket(declared)
                else ""
            )
            yield Violation(
                script.span_of(call.program),
                f"{script.source} calls /etc/eks/bootstrap.sh, but {reason}{guard}; the call fails and its kubelet "
                "arguments never apply. Remove the call and give its kubelet arguments as NodeConfig "
                "spec.kubelet.config / spec.kubelet.flags",
                related,
            )
            return
        if declared is None or is_windows(declared):
            return
        style = userdata.ami_family()
        if is_bottlerocket(declared) and (userdata.scripts or userdata.nodeconfig is not None):
            kind = "a NodeConfig" if userdata.nodeconfig is not None else "a shell script"
            yield Violation(
                self._anchor(userdata),
                f"this userdata is {kind}, but {owner} Bottlerocket, which reads only TOML settings: the node "
                "never joins. Write the settings as TOML ([settings.kubernetes] with cluster-name, api-server, "
                "cluster-certificate)",
                related,
            )
        elif is_bottlerocket(style) and not is_bottlerocket(declared):
            yield Violation(
                self._anchor(userdata),
                f"this userdata is Bottlerocket TOML, but {owner} {declared}, which cannot read it: the node never "
                "joins. Write "
                f"{'a NodeConfig' if is_al2023(declared) else 'a bootstrap script'} instead, or declare "
                "ami-family: Bottlerocket",
                related,
            )
        elif (is_al2(declared) or is_ubuntu(declared)) and userdata.nodeconfig is not None:
            yield Violation(
                self._anchor(userdata),
                f"this userdata is a NodeConfig, but {owner} {declared}, which has no nodeadm to read it: the node "
                "never joins. Call /etc/eks/bootstrap.sh in a shell script instead, or declare ami-family: "
                "AmazonLinux2023",
                related,
            )

    @staticmethod
    def _declared_elsewhere(userdata: UserdataModel) -> Iterator[Violation]:
        """Userdata whose family its own object declares (a Karpenter EC2NodeClass):
        bootstrap.sh where nodeadm or Bottlerocket boots, or where Karpenter calls it
        itself (aws/karpenter-provider-aws pkg/providers/amifamily/bootstrap/
        eksbootstrap.go; Karpenter's docs: "When using amiFamily: AL2 you should not call
        this script yourself ... use the Custom AMI family instead")."""
        family = userdata.declared_family
        who = userdata.declared_by
        calls = [(script, call) for script in userdata.scripts for call in script.unguarded_calls]
        if not calls:
            return
        script, call = calls[0]
        where = script.span_of(call.program)
        source = userdata.source if script.source == "userdata" else f"{script.source} of {userdata.source}"
        if userdata.bootstrapped_after is not None:
            yield Violation(
                where,
                f"bootstrap.sh is called here and again by {userdata.bootstrapped_after} after this userData",
                detail=f"{source} calls /etc/eks/bootstrap.sh, but {userdata.bootstrapped_after} appends its own "
                f"bootstrap.sh call after this userData ({who}): the node is bootstrapped twice, may register "
                "before Karpenter's labels and taints apply, and the second run replaces this call's kubelet "
                "arguments. Remove the call and set kubelet options in the EC2NodeClass's spec.kubelet, or use "
                "amiFamily: Custom to bootstrap the node yourself",
            )
        elif is_al2023(family) or is_bottlerocket(family):
            reason = AL2023_NO_BOOTSTRAP if is_al2023(family) else "Bottlerocket has no bootstrap.sh"
            yield Violation(
                where,
                f"bootstrap.sh is called, but {family} boots without it: the call fails",
                detail=f"{source} calls /etc/eks/bootstrap.sh, but {who} boots {family}: {reason}; the call fails "
                "and its kubelet arguments never apply. Remove the call and give its kubelet arguments as "
                + (
                    "NodeConfig spec.kubelet.config / spec.kubelet.flags"
                    if is_al2023(family)
                    else "TOML settings ([settings.kubernetes])"
                ),
            )

    @staticmethod
    def _anchor(userdata: UserdataModel) -> Span:
        if userdata.nodeconfig is not None:
            return userdata.nodeconfig.parts[0].span
        if userdata.scripts:
            text: Text = userdata.scripts[0].text
            return text.span_of(0, len(text.content.split("\n", 1)[0]))
        return userdata.span
