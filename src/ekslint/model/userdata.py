"""Userdata as a node group: what the kubelet of those nodes is told, from MIME parts,
bootstrap.sh scripts, NodeConfig documents and Bottlerocket TOML, with positions."""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field

from ekslint.model.bottlerocket import Settings, TomlSettings, read_kubernetes_settings
from ekslint.model.context import DeclaredNodeGroup
from ekslint.model.nodeconfig import MergedNodeConfig, NodeConfigPart, is_nodeconfig, mentions_nodeconfig, merge
from ekslint.model.nodegroup import (
    IgnoredAllowance,
    KubeletSettings,
    MaxPodsSetting,
    NodeGroup,
    Origin,
    allowances_in_script_edit,
    is_al2023,
    normalize_family,
    word_span,
)
from ekslint.parse import shell
from ekslint.parse.mime import Part
from ekslint.parse.shell import BootstrapCall, Flag, Word, bootstrap_calls, kubelet_flags, split_words
from ekslint.parse.sources import YAML_HINT, Content, ReadLimits, SourceFile, load_text, sniff
from ekslint.parse.text import Problem, Span, Text
from ekslint.parse.yamltree import DEFAULT_LIMITS, YamlLimits, YMap, YNode, YSeq, compose

NODECONFIG_MEDIA = "application/node.eks.aws"
SHELL_MEDIA = frozenset(("text/x-shellscript", "text/cloud-boothook", "text/x-shellscript-per-boot"))


# A test for bootstrap.sh itself (``[ -f /etc/eks/bootstrap.sh ]``) does not tell the
# families apart: AmazonLinux2023 AMIs ship /etc/eks/bootstrap.sh as a stub that prints
# that it was removed and exits 1 (amazon-eks-ami
# templates/al2023/runtime/rootfs/etc/eks/bootstrap.sh).
_EXISTENCE_GUARD = re.compile(r"-[efxs]\s+[\"']?/etc/eks/bootstrap\.sh")
# A test that does tell them apart: nodeadm's presence, or the OS release.
_FAMILY_GUARD = re.compile(
    r"-[efx]\s+[\"']?(/usr/bin/)?nodeadm\b|(command\s+-v|which|type)\s+[\"']?nodeadm\b|"
    r"/etc/os-release|/etc/system-release|\bVERSION_ID\b|\bPLATFORM_ID\b|amzn2023|\bnodeadm\s+--version"
)
AL2023_STUB = (
    "AmazonLinux2023 AMIs ship /etc/eks/bootstrap.sh only as a stub that exits 1 (nodeadm boots them), so the "
    "arguments given to it never reach the kubelet"
)


@dataclass(slots=True)
class ScriptFacts:
    """What a shell script tells the kubelet (bootstrap.sh flags, config edits)."""

    text: Text
    source: str
    calls: list[BootstrapCall]
    # What the bootstrap.sh calls pass to the kubelet, and what the script's own edits
    # of the kubelet config say.
    call_settings: KubeletSettings
    edit_settings: KubeletSettings
    unknown_edit: Span | None
    # The script decides by the OS family whether to call bootstrap.sh (it tests for
    # nodeadm or reads /etc/os-release), so a call may be meant for AL2 only.
    guarded: bool = False
    # The script only tests that /etc/eks/bootstrap.sh exists before calling it, which
    # AmazonLinux2023's stub passes.
    existence_guard: bool = False

    @property
    def settings(self) -> KubeletSettings:
        """Everything the script tells the kubelet where bootstrap.sh is the real one."""
        merged = KubeletSettings()
        merged.merge(self.call_settings)
        merged.merge(self.edit_settings)
        return merged

    def settings_without_bootstrap(self, reason: str) -> KubeletSettings:
        """What reaches the kubelet where bootstrap.sh does nothing: the edits; the
        calls' allowances are kept as ignored, with the reason."""
        merged = KubeletSettings()
        merged.merge(self.edit_settings)
        merged.ignored.extend(self.call_settings.ignored)
        calls = self.call_settings
        merged.ignored.extend(IgnoredAllowance(a, reason) for a in calls.flag_allowances or [])
        merged.ignored.extend(IgnoredAllowance(a, reason) for a in calls.config_allowances or [])
        return merged

    @property
    def unguarded_calls(self) -> list[BootstrapCall]:
        """The bootstrap.sh calls that run on every family (a test that bootstrap.sh
        exists does not count: AmazonLinux2023's stub exists)."""
        return [] if self.guarded else self.calls

    def span_of(self, word: Word) -> Span:
        """Where a word of the script is in its file."""
        return word_span(self.text, word)


@dataclass(frozen=True, slots=True)
class UserdataPart:
    """A MIME part of a multipart userdata, with what its body holds against what its
    Content-Type says (nodeadm reads only application/node.eks.aws parts, cloud-init
    runs only script types)."""

    part: Part
    # A NodeConfig document (not a script that writes one) in a part of another type.
    misplaced_nodeconfig: bool = False
    # A shell script in an application/node.eks.aws part.
    misplaced_script: bool = False

    @property
    def content_type(self) -> str:
        return self.part.content_type

    @property
    def header_span(self) -> Span:
        return self.part.header_span

    @property
    def text(self) -> Text:
        return self.part.text


EXTRA_ARGS = "--kubelet-extra-args"


def read_script(text: Text, source: str) -> ScriptFacts:
    script = shell.read_script(text.content)
    calls = bootstrap_calls(script.commands)
    settings = KubeletSettings()
    # Text already understood (comments, assignments, bootstrap.sh calls) is not
    # searched again for edits of the kubelet's allowance.
    understood = list(script.comments)
    understood += [c.extent for c in script.commands if not c.words and c.assignments]
    for call in calls:
        understood.append(call.extent)
        flags = kubelet_flags(call.kubelet_args)
        settings.add_flags(flags, text, f"in {source}")
        _opaque_arguments(call, settings, text)
        _default_max_pods(call, flags, settings, text, source)
        for option, value in call.overridden:
            if option == EXTRA_ARGS:
                settings.add_ignored_flags(
                    kubelet_flags(split_words(value)),
                    text,
                    f"in {source}",
                    "bootstrap.sh keeps only the last --kubelet-extra-args, so these arguments are dropped",
                )
        for word in call.positional:
            if word.text.startswith(EXTRA_ARGS + "="):
                settings.add_ignored_flags(
                    kubelet_flags(split_words(word.sub(len(EXTRA_ARGS) + 1, len(word.text)))),
                    text,
                    f"in {source}",
                    f"bootstrap.sh does not understand {EXTRA_ARGS}=...; write {EXTRA_ARGS} '...'",
                )
    edits, unknown = allowances_in_script_edit(text, source, understood)
    edited = KubeletSettings()
    if edits:
        edited.config_allowances = edits
    content = text.content
    return ScriptFacts(
        text,
        source,
        calls,
        settings,
        edited,
        unknown,
        bool(calls) and bool(_FAMILY_GUARD.search(content)),
        bool(calls) and bool(_EXISTENCE_GUARD.search(content)),
    )


def _opaque_arguments(call: BootstrapCall, settings: KubeletSettings, text: Text) -> None:
    """Arguments of bootstrap.sh whose value ekslint cannot know may pass the kubelet
    anything: an unquoted expansion after the cluster name splits into any options
    (``/etc/eks/bootstrap.sh ${ClusterName} ${BootstrapArguments}`` in awslabs/
    amazon-eks-ami ``amazon-eks-nodegroup.yaml``, whose BootstrapArguments parameter is
    documented for ``--kubelet-extra-args``; terraform-aws-eks ``${bootstrap_extra_args}``),
    and an unknown ``--kubelet-extra-args`` value holds any flags. Then the kubelet's
    sysctl allowance and labels are unknown, not empty. bootstrap.sh keeps the last
    ``--kubelet-extra-args`` (templates/al2/runtime/bootstrap.sh parses its arguments in
    order), so an expansion before a written one changes nothing there."""
    written = call.options.get(EXTRA_ARGS)
    after = written.start if written is not None else -1
    content = text.content
    opaque = [
        word
        for word in call.positional[1:]
        if word.unknown and not word.quoted and word.start > after and _may_hold_options(word, content)
    ]
    extra = call.option(EXTRA_ARGS)
    if extra is not None and extra.unknown and _may_hold_options(extra, content):
        opaque.append(extra)
    if not opaque:
        return
    settings.labels_unknown = True
    if settings.allowances_unknown is None:
        settings.allowances_unknown = word_span(text, opaque[0])


# An expansion that starts a word (``$EXTRA``, ``"${ARGS} ..."``, ``$(cmd)``), which may
# be whole options; one after ``--node-labels=`` (eksctl's ``"--node-labels=${NODE_LABELS}"``)
# is only that flag's value.
_OPTIONS_EXPANSION = re.compile(r"""(?<![^\s"'])(?:\$[{(A-Za-z_]|`)""")


def _may_hold_options(word: Word, content: str) -> bool:
    return _OPTIONS_EXPANSION.search(content, word.start, word.end) is not None


KUBELET_DEFAULT_MAX_PODS = 110


def _default_max_pods(
    call: BootstrapCall, flags: list[Flag], settings: KubeletSettings, text: Text, source: str
) -> None:
    """``--use-max-pods`` other than ``true`` and no ``--max-pods``: bootstrap.sh writes
    no maxPods, and the AL2 kubelet-config.json has none, so the kubelet runs with its
    default of 110 (amazon-eks-ami templates/al2/runtime/bootstrap.sh, kubelet-config.json)."""
    use = call.option("--use-max-pods")
    if use is None or use.unknown or use.text == "true" or any(f.name == "max-pods" for f in flags):
        return
    settings.max_pods.append(
        MaxPodsSetting(
            KUBELET_DEFAULT_MAX_PODS,
            str(KUBELET_DEFAULT_MAX_PODS),
            word_span(text, use),
            f"the kubelet's default max pods (--use-max-pods {use.text} {source}, no --max-pods)",
        )
    )


@dataclass(slots=True)
class UserdataModel:
    """A userdata (a file, or eksctl's rendering of a node group) and what it holds."""

    file: str
    span: Span
    source: str  # "userdata" or "managedNodeGroups[ng-1].overrideBootstrapCommand"
    multipart: bool = False
    parts: list[UserdataPart] = field(default_factory=list)
    nodeconfig: MergedNodeConfig | None = None
    scripts: list[ScriptFacts] = field(default_factory=list)
    bottlerocket: Settings | None = None
    context: DeclaredNodeGroup | None = None
    # Set from context: the nodes boot a custom AMI or are self-managed, so nothing
    # else supplies the cluster connection details.
    must_be_complete: bool = False
    # The AMI family its node group declares (eksctl amiFamily), when not from context.
    declared_family: str | None = None
    # What declares that family, for messages (e.g. "EC2NodeClass web (alias al2@latest)").
    declared_by: str | None = None
    # Who runs /etc/eks/bootstrap.sh itself after this userdata (Karpenter on AL2).
    bootstrapped_after: str | None = None

    @property
    def bootstrap_calls(self) -> list[tuple[ScriptFacts, BootstrapCall]]:
        return [(script, call) for script in self.scripts for call in script.calls]

    def boots_al2023(self) -> bool:
        """Its nodes run AmazonLinux2023: it holds a NodeConfig, or its node group is
        declared AmazonLinux2023."""
        declared = self.declared_family or (self.context.ami_family if self.context is not None else None)
        return self.nodeconfig is not None or is_al2023(normalize_family(declared))

    def kubelet(self) -> KubeletSettings:
        """Every source folded in order: NodeConfig, then scripts (flags win). On
        AmazonLinux2023 bootstrap.sh is a stub: what its calls pass never applies."""
        settings = KubeletSettings()
        if self.nodeconfig is not None:
            settings.merge(self.nodeconfig.kubelet)
        al2023 = self.boots_al2023()
        for script in self.scripts:
            if al2023 and script.calls:
                settings.merge(script.settings_without_bootstrap(AL2023_STUB))
            else:
                settings.merge(script.settings)
        if self.bottlerocket is not None:
            settings.merge(read_kubernetes_settings(self.bottlerocket, self.source))
        return settings

    def ami_family(self) -> str | None:
        if self.bottlerocket is not None:
            return "Bottlerocket"
        if self.nodeconfig is not None:
            return "AmazonLinux2023"
        if any(script.calls for script in self.scripts):
            return "AmazonLinux2"
        return None


def nodeconfig_parts_from_yaml(
    text: Text,
    source: str,
    limits: YamlLimits,
    problems: list[Problem],
    require_kind: bool = True,
    consequence: str = "nodeadm cannot decode it",
) -> list[NodeConfigPart]:
    docs, error = compose(text, limits)
    if error is not None:
        problems.append(
            Problem(
                text.span(error.line, error.col, error.line, error.col + 1),
                f"YAML syntax error in {source}: {error.message}; {YAML_HINT}",
            )
        )
    if not docs:
        return []
    root = docs[0].root("NodeConfig")
    for extra in docs[1:]:
        problems.append(ignored_document(extra.root("NodeConfig"), source))
    if isinstance(root, YMap) and (not require_kind or is_nodeconfig(root)):
        return [NodeConfigPart(root, source)]
    if isinstance(root, YSeq) and any(isinstance(item, YMap) for item in root):
        hint = "remove the leading `- ` so that the part is one NodeConfig mapping"
    else:
        hint = "write it as one mapping with apiVersion: node.eks.aws/v1alpha1, kind: NodeConfig and spec"
    problems.append(Problem(root.start_span, f"{source} is not a NodeConfig mapping: {consequence}; {hint}"))
    return []


def ignored_document(root: YNode, source: str) -> Problem:
    """nodeadm decodes each part, the non-multipart userdata and each drop-in file as a
    single NodeConfig: a second ``---`` document in it is never read."""
    return Problem(
        root.start_span,
        f"{source} holds more than one YAML document, and nodeadm decodes only the first: this one is ignored. "
        "Put each NodeConfig in its own application/node.eks.aws MIME part",
    )


def userdata_model(source: SourceFile, limits: YamlLimits, problems: list[Problem]) -> UserdataModel | None:
    """Interpret a userdata file: NodeConfig parts, scripts, or a single body."""
    userdata = source.userdata
    if userdata is None:
        return None
    model = UserdataModel(
        source.path,
        source.text.span(0, 0, 0, len(source.text.lines()[0]) if source.text.content else 0),
        "userdata",
        userdata.multipart,
        [_classify(part) if userdata.multipart else UserdataPart(part) for part in userdata.parts],
    )
    if userdata.multipart:
        _header_problems(userdata.parts, problems)
    nodeconfig_parts: list[NodeConfigPart] = []
    for index, part in enumerate(userdata.parts, start=1):
        label = f"MIME part {index} ({part.content_type or 'no Content-Type'})" if userdata.multipart else "userdata"
        body = part.text
        if part.content_type == NODECONFIG_MEDIA and looks_like_script(body.content):
            continue  # a script typed as NodeConfig: nodeadm cannot decode it, cloud-init skips it (EKS208)
        if part.content_type == NODECONFIG_MEDIA or (
            not userdata.multipart and _looks_like_nodeconfig(body.content) and not looks_like_script(body.content)
        ):
            nodeconfig_parts.extend(nodeconfig_parts_from_yaml(body, label, limits, problems))
        elif (
            part.content_type in SHELL_MEDIA
            or (not part.content_type and body.content.lstrip().startswith(("#!", "/")))
            or not userdata.multipart
        ):
            model.scripts.append(read_script(body, label))
    if nodeconfig_parts:
        model.nodeconfig = merge(nodeconfig_parts)
    return model


def _header_problems(parts: list[Part], problems: list[Problem]) -> None:
    """A part whose headers run into its body (no blank line): blame the consumer that
    fails. nodeadm reads a userdata with a NodeConfig part, and Go's textproto stops
    its whole reading at the first malformed header line (amazon-eks-ami
    nodeadm/internal/configprovider/mime.go). cloud-init's email parser starts the body
    at the first line that is not a header (canonical/cloud-init cloudinit/user_data.py,
    Python email.feedparser), so an AL2 script part is recovered, unless lines that
    look like headers are read as such."""
    nodeadm = any(part.content_type == NODECONFIG_MEDIA for part in parts)
    fix = "Add a blank line between the part's headers and its body"
    for index, part in enumerate(parts, start=1):
        kind = part.content_type or "no Content-Type"
        if nodeadm and part.malformed is not None:
            problems.append(
                Problem(
                    part.malformed,
                    f"MIME part {index} ({kind}) has no blank line after its headers, so this line is read as a "
                    "header: nodeadm (Go textproto) stops with 'malformed MIME header line' and applies none of "
                    f"this userdata, and the node never joins. {fix}",
                )
            )
        elif part.swallowed and (nodeadm or part.content_type in SHELL_MEDIA or not part.content_type):
            reader = "nodeadm" if part.content_type == NODECONFIG_MEDIA else "cloud-init"
            problems.append(
                Problem(
                    part.swallowed[0],
                    f"MIME part {index} ({kind}) has no blank line after its headers, and this line looks like a "
                    f"header, so it is read as one: {reader} never sees it in the part's body. {fix}",
                )
            )


_YAML_KEY_LINE = re.compile(r"^[ \t]*(apiVersion|kind|spec)[ \t]*:", re.M)  # not \s: linear


def looks_like_script(content: str) -> bool:
    """A shell script rather than YAML: a ``#!`` line, or a bootstrap.sh call in a
    text without any NodeConfig key (YAML reads a bare command as a string)."""
    stripped = content.lstrip()
    if stripped.startswith(("#!", "#cloud-boothook")):
        return True
    if _YAML_KEY_LINE.search(content):
        return False
    return bool(bootstrap_calls(shell.read_script(content).commands))


def _classify(part: Part) -> UserdataPart:
    if part.content_type == NODECONFIG_MEDIA:
        return UserdataPart(part, misplaced_script=looks_like_script(part.text.content))
    return UserdataPart(part, misplaced_nodeconfig=_holds_nodeconfig(part))


def _holds_nodeconfig(part: Part) -> bool:
    """The part's body is a NodeConfig document (not a script that writes one)."""
    content = part.text.content
    if not mentions_nodeconfig(content) or looks_like_script(content):
        return False
    docs, _ = compose(part.text, DEFAULT_LIMITS)
    root = docs[0].root() if docs else None
    return isinstance(root, YMap) and is_nodeconfig(root)


def _looks_like_nodeconfig(content: str) -> bool:
    return "kind: NodeConfig" in content or '"kind": "NodeConfig"' in content


def bottlerocket_model(source: SourceFile) -> UserdataModel | None:
    if source.toml is None or not isinstance(source.toml.data.get("settings"), dict):
        return None
    model = UserdataModel(source.path, source.toml.span(("settings",)), "Bottlerocket userdata")
    model.bottlerocket = TomlSettings(source.toml)
    return model


def nodeconfig_file_model(source: SourceFile, objects: list[YMap], problems: list[Problem]) -> UserdataModel | None:
    """NodeConfig documents in a YAML file: the whole userdata, or a drop-in; either
    way nodeadm decodes it as one NodeConfig, so only the first document counts."""
    if not objects:
        return None
    for extra in objects[1:]:
        problems.append(ignored_document(extra, "this NodeConfig file"))
    part = NodeConfigPart(objects[0], "NodeConfig")
    model = UserdataModel(source.path, part.span, "NodeConfig")
    model.nodeconfig = merge([part])
    return model


def embedded_userdata(text: Text, label: str, limits: ReadLimits, problems: list[Problem]) -> UserdataModel | None:
    """Userdata written inside another file (a Karpenter ``userData`` string, a Terraform
    heredoc, a CloudFormation ``UserData`` literal), read as a userdata file would be:
    base64 or gzip around MIME, a script, a NodeConfig or Bottlerocket TOML. Positions
    stay in the enclosing file; ``label`` names it in messages. None when it is empty
    or holds nothing a node reads (for instance YAML without a NodeConfig)."""
    if not text.content.strip():
        return None
    # Anything else is a script to cloud-init, even one sniff() would not call userdata.
    source = load_text(text, sniff(text.content) or Content.USERDATA, limits)
    problems.extend(source.problems)
    model: UserdataModel | None = None
    if source.userdata is not None:
        model = userdata_model(source, limits.yaml, problems)
    elif source.toml is not None:
        model = bottlerocket_model(source)
    else:
        nodeconfigs = [obj for obj in source.objects() if is_nodeconfig(obj)]
        model = nodeconfig_file_model(source, nodeconfigs, problems)
    if model is not None:
        model.source = label
    return model


def node_group_from_userdata(model: UserdataModel, origin: Origin, version: tuple[int, int] | None) -> NodeGroup | None:
    """A node group for a standalone userdata, when it configures a kubelet at all."""
    family = model.ami_family()
    if family is None and model.context is None:
        return None  # a fragment (e.g. an extra script) merged into other userdata
    kubelet = model.kubelet()
    context = model.context
    labels = dict(context.labels) if context else {}
    labels.update(kubelet.labels)
    name = (
        (context.name if context else None)
        or labels.get("eks.amazonaws.com/nodegroup")
        or labels.get("alpha.eksctl.io/nodegroup-name")
        or os.path.basename(model.file)
    )
    group = NodeGroup(
        name=name,
        origin=origin,
        span=model.span,
        file=model.file,
        ami_family=family or (context.ami_family if context else None),
        custom_ami=context.custom_ami if context else None,
        labels=labels,
        # EKS adds labels to managed nodes that the userdata does not show; only a
        # self-managed group's labels are all in its userdata.
        labels_complete=bool(context and context.self_managed) and not kubelet.labels_unknown,
        taints=(list(context.taints) if context else []) + kubelet.taints,
        allowances=kubelet.allowances(),
        ignored_allowances=kubelet.ignored_allowances(),
        max_pods=kubelet.max_pods,
        kubernetes_version=version,
        max_pods_expression=model.nodeconfig.max_pods_expression if model.nodeconfig is not None else None,
    )
    if context is not None and context.allowed_unsafe_sysctls and not group.allowances:
        group.allowances = context.node_group(version).allowances
    if context is not None:
        # A userdata file does not say what it runs on; the config may (pod capacity).
        group.instance_types = context.node_group(version).instance_types
        if context.max_pods is not None and not group.max_pods:
            group.max_pods = context.node_group(version).max_pods
    if kubelet.allowances_unknown is not None:
        group.allowances_unknown = kubelet.allowances_unknown
    for script in model.scripts:
        if script.unknown_edit is not None and group.allowances_unknown is None:
            group.allowances_unknown = script.unknown_edit
    return group
