"""EKS001 parse-error."""

from __future__ import annotations

from collections.abc import Iterator

from ekslint.plugin import FileModel, FileRule, RuleContext, Severity, Violation


class ParseError(FileRule):
    """## What it does
    Reports an input that cannot be read as what it claims to be: a YAML syntax error,
    a broken MIME multipart structure (missing or misplaced boundaries, a malformed
    header), invalid base64 or gzip in userdata, broken TOML, a NodeConfig that is not
    a mapping, a file that is not UTF-8, or one beyond ekslint's safety limits (size,
    nesting depth, alias expansion, decompressed size).

    A MIME problem is reported when the consumer that reads the userdata fails on it.
    A part with no blank line after its headers stops nodeadm (Go's textproto:
    `malformed MIME header line`) in a userdata that has a NodeConfig part; in an
    AL2 userdata only cloud-init reads it, and Python's email parser starts the body
    at the first line that is not a header, so it is reported only when body lines
    that look like headers are lost. A script that prints MIME in a here-document is
    a script, not MIME.

    ## Why is this bad?
    Whatever cannot be parsed is not checked by any other rule, and the tool that
    consumes the file will refuse it too: `kubectl` and eksctl reject invalid YAML,
    nodeadm fails to decode userdata whose multipart structure is broken (Go's
    `mime/multipart` stops with `multipart: NextPart: EOF` on a missing closing
    boundary; amazon-eks-ami `nodeadm/internal/configprovider/mime.go`) and the node
    never joins the cluster. Parts placed after the closing boundary are silently
    ignored by both nodeadm and cloud-init (canonical/cloud-init
    `cloudinit/user_data.py`).

    ## Example
    ```text
    MIME-Version: 1.0
    Content-Type: multipart/mixed; boundary="BOUNDARY"

    --BOUNDARY
    Content-Type: application/node.eks.aws

    ...
    --BOUNDARY--
    Content-Type: application/node.eks.aws

    ...
    ```

    ## Use instead
    ```text
    --BOUNDARY
    Content-Type: application/node.eks.aws

    ...
    --BOUNDARY
    Content-Type: application/node.eks.aws

    ...
    --BOUNDARY--
    ```

    ## References
    - RFC 2046 §5.1.1 (multipart boundaries)
    - nodeadm user data: https://awslabs.github.io/amazon-eks-ami/nodeadm/
    - amazon-eks-ami `nodeadm/internal/configprovider/mime.go`; canonical/cloud-init `cloudinit/user_data.py`
    """

    id = "EKS001"
    name = "parse-error"
    severity = Severity.ERROR
    summary = "An input file cannot be parsed (YAML, MIME, base64/gzip, TOML, structure)"
    tags = ("input",)
    precision = "very-high"

    def check(self, target: FileModel, ctx: RuleContext) -> Iterator[Violation]:
        for problem in target.problems:
            yield Violation(problem.span, problem.message)
