"""EKS208 userdata-part-mismatch."""

from __future__ import annotations

from collections.abc import Iterator

from ekslint.plugin import (
    NODECONFIG_MEDIA,
    FileModel,
    FileRule,
    Related,
    RuleContext,
    Severity,
    UserdataModel,
    Violation,
    is_al2023,
    normalize_family,
)


class UserdataPartMismatch(FileRule):
    """## What it does
    Checks each part of a MIME multipart userdata against its `Content-Type`:
    - a NodeConfig document in a part that is not `application/node.eks.aws`
      (`text/x-shellscript`, `text/cloud-config`, a misspelt type or none);
    - a script (`#!...`) in an `application/node.eks.aws` part;
    - no `application/node.eks.aws` part at all in the userdata of a node group the
      ekslint config declares AmazonLinux2023 and self-managed or custom-AMI, where
      nothing else supplies a NodeConfig.

    Scripts that write NodeConfig drop-ins (`cat <<EOF > /etc/eks/nodeadm.d/...`) are
    scripts, and are not reported.

    ## Why is this bad?
    nodeadm reads only the parts whose media type is exactly `application/node.eks.aws`
    and ignores every other part; cloud-init runs `text/x-shellscript` parts and
    skips types it does not know (nodeadm `configprovider/mime.go`, cloud-init
    `cloudinit/user_data.py`). A NodeConfig in a shell part is run
    as a script (and fails at its first line) while nodeadm never sees it; a script in
    a NodeConfig part makes nodeadm's decoding of the userdata fail and never runs.
    With no NodeConfig part, nodeadm stops with `could not find NodeConfig within
    UserData` and the node never joins.

    ## Example
    ```
    --//
    Content-Type: text/x-shellscript

    apiVersion: node.eks.aws/v1alpha1
    kind: NodeConfig
    ```

    ## Use instead
    ```
    --//
    Content-Type: application/node.eks.aws

    apiVersion: node.eks.aws/v1alpha1
    kind: NodeConfig
    ```

    ## References
    - amazon-eks-ami `nodeadm/internal/configprovider/mime.go`
    - https://awslabs.github.io/amazon-eks-ami/nodeadm/
    - https://cloudinit.readthedocs.io/en/latest/explanation/format.html#mime-multi-part-archive
    """

    id = "EKS208"
    name = "userdata-part-mismatch"
    severity = Severity.ERROR
    summary = "A MIME userdata part's content does not match its Content-Type"
    tags = ("userdata", "nodeadm", "mime")
    precision = "high"

    def check(self, target: FileModel, ctx: RuleContext) -> Iterator[Violation]:
        for userdata in target.userdata:
            if userdata.multipart:
                yield from self._parts(userdata)

    def _parts(self, userdata: UserdataModel) -> Iterator[Violation]:
        misplaced = False
        for index, part in enumerate(userdata.parts, start=1):
            declared = part.content_type or "no Content-Type"
            if part.misplaced_nodeconfig:
                misplaced = True
                effect = (
                    "cloud-init runs it as a shell script, which fails at its first line, and"
                    if part.content_type.startswith("text/x-shellscript")
                    else "cloud-init does not apply it, and"
                )
                yield Violation(
                    part.header_span,
                    f"MIME part {index} holds a NodeConfig but is typed {declared}: {effect} nodeadm reads only "
                    f"{NODECONFIG_MEDIA} parts, so these settings never apply. Set the part's Content-Type to "
                    f"{NODECONFIG_MEDIA}",
                )
            elif part.misplaced_script:
                yield Violation(
                    part.header_span,
                    f"MIME part {index} is typed {NODECONFIG_MEDIA} but holds a shell script: nodeadm fails to "
                    "decode it as a NodeConfig and cloud-init does not run it. Set the part's Content-Type to "
                    'text/x-shellscript; charset="us-ascii"',
                )
        context = userdata.context
        if (
            misplaced
            or context is None
            or not userdata.must_be_complete
            or not is_al2023(normalize_family(context.ami_family))
            or any(part.content_type == NODECONFIG_MEDIA for part in userdata.parts)
        ):
            return
        kind = "self-managed" if context.self_managed else "custom-AMI"
        yield Violation(
            userdata.span,
            f"this multipart userdata has no {NODECONFIG_MEDIA} part, but it boots the {kind} AmazonLinux2023 node "
            f"group {context.name}, where nothing else supplies one: nodeadm stops with 'could not find NodeConfig "
            f"within UserData' and the node never joins. Add a {NODECONFIG_MEDIA} part with a NodeConfig "
            "(spec.cluster name, apiServerEndpoint, certificateAuthority, cidr)",
            (Related(context.span, f"node group {context.name} is declared {kind} AmazonLinux2023 here"),),
        )
