"""Finding and reading input files, and recognising what they hold by content.

A file is one of ekslint's inputs when its content is: YAML documents with
``apiVersion``/``kind`` (eksctl, Kubernetes, nodeadm, kubelet), MIME multipart userdata,
a shell script that calls ``/etc/eks/bootstrap.sh``, or Bottlerocket TOML; base64 or
gzip around any userdata is removed first; templates go through the template step
(ekslint.parse.templates) first. Documentation and source code are never read (decided
by name); everything else that is no input (images, archives) is skipped without a
word, and an input too templated to read is reported once as not analysed. A file that is clearly meant to be an input
but cannot be read (broken YAML, bad MIME, invalid base64) yields problems that become
EKS001 findings; the run always goes on.
"""

from __future__ import annotations

import bisect
import errno
import os
import re
import stat
from collections.abc import Iterator
from dataclasses import dataclass, field
from enum import Enum

from ekslint.parse import mime, tomldoc
from ekslint.parse.cfnfunctions import looks_like_cloudformation
from ekslint.parse.encodings import text_with_nul, wide_encoding
from ekslint.parse.filenames import understood_by_name
from ekslint.parse.hcl import HclFile, parse_hcl
from ekslint.parse.mime import DecodeError, DecodeLimits, Userdata
from ekslint.parse.numbers import may_hold_bad_numbers, number_problems
from ekslint.parse.objects import objects_of
from ekslint.parse.shell import Command, bootstrap_calls, parse_script
from ekslint.parse.templates import Rendered, dynamic_reason, render, structure_reason, template_note
from ekslint.parse.text import Problem, Span, Text, normalize_newlines
from ekslint.parse.tomldoc import TomlDoc, TomlSyntaxError
from ekslint.parse.yamltree import YamlDoc, YamlLimits, YMap, compose, resolve_plain

# kustomize's api/konfig/general.go RecognizedKustomizationFileNames: read as YAML
# whatever they hold (a kustomization needs no apiVersion or kind).
KUSTOMIZATION_NAMES = ("kustomization.yaml", "kustomization.yml", "Kustomization")
# A JSON6902 patch file a kustomization names (a list of ``op``/``path`` operations).
# Its first operation's ``op`` key opens a list item (``- op: add``, ``- {op: remove, ...}``)
# or a JSON object, or an indented ``op:`` names an RFC 6902 operation (``- path: /x`` first).
_JSON_PATCH_HINT = re.compile(
    r"^-[ \t]+\{?[ \t]*[\"']?op[\"']?[ \t]*:|^\[?[ \t]*\{[ \t]*[\"']?op[\"']?[ \t]*:"
    r"|^[ \t]+[\"']?op[\"']?[ \t]*:[ \t]*[\"']?(?:add|remove|replace|move|copy|test)[\"']?[ \t]*$",
    re.M,
)
# ``[ \t]``, not ``\s``: with re.M, ``^\s*`` runs over every following blank line from
# each line start (quadratic on a file of newlines).
_MANIFEST_HINT = re.compile(r"^[ \t]*[\"']?(apiVersion|kind)[\"']?[ \t]*:", re.M)
_BOOTSTRAP_HINT = re.compile(r"(^|[\s/;&|])(/etc/eks/)?bootstrap\.sh\b", re.M)
YAML_HINT = (
    "fix the YAML at this position (indentation, quoting, unclosed brackets); kubectl and eksctl refuse the file"
)
TOML_HINT = (
    'quote keys that contain dots or slashes ("node.kubernetes.io/role" = "x") and check the value here; '
    "Bottlerocket ignores userdata that is not valid TOML"
)
# `terraform show -json` of a plan or a state (Terraform's JSON output format).
_PLAN_HINT = re.compile(r'"(planned_values|values|terraform_version)"\s*:')
# A shell command that feeds a here-document (``cat <<EOF | envsubst | kubectl apply -f -``,
# as Karpenter's getting-started guide writes NodePools): a script, not the YAML it holds.
_HEREDOC_COMMAND = re.compile(r"[A-Za-z_./][\w./-]*[ \t][^\n]*<<-?[ \t]*['\"]?[A-Za-z_]\w*['\"]?")
# The first line of a YAML mapping (a key, a colon, then a space or the line's end);
# anchored, so a search tries one start only (linear).
_YAML_KEY_LINE = re.compile(r"^[\"']?[A-Za-z_][\w.-]*[\"']?:(?:[ \t]|$)")
# A Markdown code fence at the start of a line (YAML forbids "`" there).
_DOC_FENCE = re.compile(r"^(```|~~~)", re.M)


@dataclass(frozen=True, slots=True)
class ReadLimits:
    max_file_bytes: int = 8 * 1024 * 1024
    yaml: YamlLimits = field(default_factory=YamlLimits)
    decode: DecodeLimits = field(default_factory=DecodeLimits)


class Content(Enum):
    YAML = "yaml"  # Kubernetes-style objects (apiVersion/kind)
    USERDATA = "userdata"  # MIME, shell or base64/gzip userdata
    BOTTLEROCKET = "bottlerocket"  # Bottlerocket TOML settings
    TERRAFORM = "terraform"  # a .tf file (HCL), read by ekslint.parse.hcl
    TERRAFORM_PLAN = "terraform-plan"  # `terraform show -json` output (JSON, read as YAML for positions)
    CLOUDFORMATION = "cloudformation"  # a CloudFormation template (YAML with short-form tags, or JSON)


@dataclass(slots=True)
class SourceFile:
    """One input file, read and recognised; the model layer interprets it."""

    path: str
    text: Text
    content: Content
    yaml_docs: list[YamlDoc] = field(default_factory=list)
    userdata: Userdata | None = None
    toml: TomlDoc | None = None
    hcl: HclFile | None = None
    problems: list[Problem] = field(default_factory=list)
    # The template step changed the text (see ekslint.parse.templates): ``text`` is the
    # rendering, ``raw`` the file's own text (comments, suppressions).
    rendered: Rendered | None = None
    raw: str | None = None
    # Why the file, recognised as an input, could not be analysed (a template too
    # dynamic to read, a Helm chart file): said once per file in every report, never
    # an error. None: analysed.
    not_analysed: str | None = None

    @property
    def template(self) -> bool:
        return self.rendered is not None

    def objects(self) -> Iterator[YMap]:
        """Every document (and ``kind: List`` item) that has an apiVersion and kind."""
        for doc in self.yaml_docs:
            root = doc.root()
            if isinstance(root, YMap):
                yield from objects_of(root)


# -- recognising and reading --------------------------------------------------------------


def read_head(path: str, limits: ReadLimits) -> bytes:
    """What ekslint reads of a file: at most one byte more than the size limit, so
    ``load_bytes`` can tell a file over the limit from one exactly at it. Raises
    OSError, also when ``path`` is no longer a regular file: it is opened without
    blocking (a FIFO put in its place after the walk would block the open and the read
    forever) and what was opened is checked before anything is read."""
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOCTTY", 0) | getattr(os, "O_BINARY", 0)
    fd = os.open(path, flags)
    try:
        opened = os.fstat(fd)
        if not stat.S_ISREG(opened.st_mode):
            raise OSError(errno.EINVAL, "not a regular file")
        handle = os.fdopen(fd, "rb", buffering=0)
    except BaseException:
        os.close(fd)
        raise
    wanted = limits.max_file_bytes + 1
    with handle:
        # A read of the limit allocates the limit (8 MB) for a 4 KB file: read what the
        # file holds, plus one byte to notice that it grew since the stat. An unbuffered
        # read may return less than asked (network and FUSE file systems do): only the
        # size the stat gave, or the limit, ends the read; anything else reads on to EOF.
        data = handle.read(min(opened.st_size + 1, wanted))
        if len(data) == opened.st_size or len(data) >= wanted:
            return data
        more = [data]
        size = len(data)
        while size < wanted:
            chunk = handle.read(wanted - size)
            if not chunk:
                break
            more.append(chunk)
            size += len(chunk)
        return b"".join(more)


# Names that say "configuration": such a file is an input even when its bytes are not
# text, and is reported rather than skipped.
CONFIG_SUFFIXES = (".yaml", ".yml", ".json", ".toml")
_UTF16_BOMS = (b"\xff\xfe", b"\xfe\xff")


def load_bytes(shown_as: str, data: bytes, limits: ReadLimits) -> SourceFile | None:
    if not understood_by_name(shown_as) or (not data.strip() and not shown_as.lower().endswith((".yaml", ".yml"))):
        # An empty .yaml is still read: a kustomization may name it (kubebuilder's
        # config/webhook/manifests.yaml stays empty without webhooks) and it holds no object.
        return None
    mime.begin_file(limits.decode)
    too_big = len(data) > limits.max_file_bytes
    if data[:2] == mime.GZIP_MAGIC:
        return _load_gzip(shown_as, data, limits, too_big)
    nul = data.find(b"\x00", 0, 8192)
    if (nul != -1 and not text_with_nul(data, nul)) or data[:2] in _UTF16_BOMS:
        return _not_text(shown_as, data)
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    try:
        content = data[: limits.max_file_bytes].decode("utf-8")
        bad_utf8: UnicodeDecodeError | None = None
    except UnicodeDecodeError as err:
        content = data[: limits.max_file_bytes].decode("latin-1")
        bad_utf8 = err
    content = normalize_newlines(content)
    text = Text.whole_file(shown_as, content)
    kind: Content | None = Content.TERRAFORM
    rendered: Rendered | None = None
    if not shown_as.endswith(".tf"):
        rendered = render(text)
        kind = sniff(rendered.text.content if rendered is not None else content)
        if kind in (Content.CLOUDFORMATION, Content.TERRAFORM_PLAN):
            # ${Param} in a CloudFormation template is !Sub's, and a plan's values are
            # resolved: neither is a template to render.
            rendered = None
        if kind is None and (
            os.path.basename(shown_as) in KUSTOMIZATION_NAMES
            or (shown_as.lower().endswith(CONFIG_SUFFIXES) and _JSON_PATCH_HINT.search(content[:65536]))
        ):
            kind = Content.YAML
    if kind is None and shown_as.lower().endswith((".yaml", ".yml")) and _no_document(content):
        kind = Content.YAML  # an object-less YAML file (a placeholder a kustomization may name)
    if kind is None and bad_utf8 is not None and shown_as.lower().endswith(CONFIG_SUFFIXES):
        kind = Content.YAML  # a .yaml file of bytes that are not UTF-8: reported below
    if kind is None:
        return None
    if too_big:
        return _unreadable(
            text,
            kind,
            f"file is larger than {limits.max_file_bytes:,} bytes and was not analysed; raise limits.max-file-size "
            "or exclude it",
        )
    if nul != -1:
        line, col = text.line_col(len(data[:nul].decode("utf-8", "replace")))
        source = _unreadable(
            text, kind, "NUL byte (\\0) in a text file: YAML, shell and TOML forbid it; remove it and save as UTF-8"
        )
        source.problems[0] = Problem(text.span(line, col, line, col + 1), source.problems[0].message)
        return source
    if bad_utf8 is not None:
        line, col = text.line_col(len(data[: bad_utf8.start].decode("utf-8", "replace")))
        source = _unreadable(text, kind, "file is not valid UTF-8 text; save it as UTF-8")
        source.problems[0] = Problem(text.span(line, col, line, col + 1), source.problems[0].message)
        return source
    return _load(text, rendered, kind, limits)


_GO_TEMPLATE = re.compile(r"\{\{|\{%|\{#")


def _raw_yaml(original: Text, limits: ReadLimits) -> list[YamlDoc] | None:
    """The documents of a file the template step rendered, read as written, when it is
    plain YAML whose strings merely hold template text: it parses as it is, and every
    ``{{``, ``{%`` and ``{#`` lies inside a scalar (a block or quoted string, or a plain
    one, which cannot start with ``{``), as a rendered istio install.yaml holds its
    sidecar-injection template or a kserve manifest a shell script's ``${#array[@]}``.
    A Helm template's ``{{ ... }}`` outside strings makes YAML structure (a flow
    mapping) or a syntax error instead. Asked only when rendering left the file
    unanalysable (YAML written by an expression, or a syntax error)."""
    docs, error = compose(original, limits.yaml)
    if error is not None:
        return None
    spans: list[tuple[int, int]] = []
    pending = [doc.root_node for doc in docs]
    while pending:
        node = pending.pop()
        value = node.value
        if isinstance(value, list):
            for item in value:
                pending.extend(item if isinstance(item, tuple) else (item,))
        else:
            spans.append((node.start_mark.index, node.end_mark.index))
    spans.sort()
    starts = [start for start, _ in spans]
    for match in _GO_TEMPLATE.finditer(original.content):
        i = bisect.bisect_right(starts, match.start()) - 1
        if i < 0 or spans[i][1] <= match.start() or spans[i][0] == match.start():
            return None
    return docs


def _no_document(content: str) -> bool:
    """A YAML file of comments, blank lines and document markers only: no object.
    kustomize reads it as no resource (kubernetes-sigs/kustomize api/resource/factory.go
    RNodesFromBytes drops empty nodes), as kubectl applies nothing from it."""
    for line in content.splitlines():
        text = line.strip()
        if text.startswith(("---", "...")):
            text = text[3:].lstrip()
        if text and not text.startswith("#"):
            return False
    return True


def _not_text(shown_as: str, data: bytes) -> SourceFile | None:
    """A file whose bytes are not UTF-8 text: UTF-16 or UTF-32 text (a Windows editor's
    "Unicode"), or binary data. Reported when it is an input (its text says so, or its
    name ends in .yaml, .yml, .json or .toml); skipped otherwise (images, archives)."""
    named = shown_as.lower().endswith(CONFIG_SUFFIXES)
    terraform = shown_as.endswith(".tf")  # read as Terraform by its name alone (load_bytes)
    encoding = wide_encoding(data)
    kind: Content | None = Content.TERRAFORM if terraform else Content.YAML if named else None
    if encoding is not None:
        kind = sniff(normalize_newlines(data[:65536].decode(encoding, "replace"))) or kind
    if kind is None:
        return None
    text = Text.whole_file(shown_as, "")
    if encoding is not None:
        message = (
            f"file is {encoding.upper().replace('-LE', '').replace('-BE', '')} text, not UTF-8: kubectl, eksctl, "
            "nodeadm and ekslint read UTF-8; save it as UTF-8 (it was not analysed)"
        )
    elif terraform:
        message = (
            "file holds binary data (NUL bytes and control characters), not text, so it was not analysed; "
            "terraform refuses it. Replace it with the HCL it should hold, or exclude it"
        )
    else:
        message = (
            "file holds binary data (NUL bytes and control characters), not text, so it was not analysed; "
            "kubectl and eksctl refuse it. Replace it with the YAML it should hold, or exclude it"
        )
    return _unreadable(text, kind, message)


def _unreadable(text: Text, kind: Content, message: str) -> SourceFile:
    return SourceFile(text.file, text, kind, problems=[Problem(text.span(0, 0, 0, 0), message)])


def _load_gzip(shown_as: str, data: bytes, limits: ReadLimits, too_big: bool) -> SourceFile | None:
    where = Span(shown_as, 1, 1, 1, 1)
    text = Text.whole_file(shown_as, "")
    try:
        inflated = mime.gunzip(data, limits.decode.max_decompressed_bytes)
    except DecodeError as err:
        # An archive in the repository is not an input; a gzip bomb or a corrupt
        # stream that starts like userdata is reported.
        sample = _gzip_head(data, 65536)
        try:
            kind = sniff(sample.decode("utf-8"))
        except UnicodeDecodeError:
            return None
        if kind is None:
            return None
        return SourceFile(shown_as, text, kind, problems=[Problem(where, str(err))])
    if b"\x00" in inflated[:8192] or too_big:
        return None
    try:
        content = normalize_newlines(inflated.decode("utf-8"))
    except UnicodeDecodeError:
        return None
    inner = text.decoded(content, where)
    kind = sniff(content)
    if kind is None:
        return None
    source = load_text(inner, kind, limits)
    if source.userdata is not None:
        source.userdata.encodings.insert(0, "gzip")
    return source


def _gzip_head(data: bytes, size: int) -> bytes:
    """Up to ``size`` bytes that ``data`` inflates to before any error (a corrupt
    stream still shows what it was meant to hold)."""
    import zlib

    inflater = zlib.decompressobj(zlib.MAX_WBITS | 16)
    out = b""
    # Small steps: zlib drops the output of the call that fails (a bad CRC fails last).
    for start in range(0, min(len(data), size), 64):
        try:
            out += inflater.decompress(data[start : start + 64], size - len(out))
        except zlib.error:
            break
        if len(out) >= size or inflater.unconsumed_tail:
            break
    return out


def sniff(content: str) -> Content | None:
    """What an input looks like, from its first lines; None when it is not one."""
    head = content[:65536]
    if ("```" in head or "~~~" in head) and _DOC_FENCE.search(head):
        return None  # Markdown with YAML examples: documentation, not configuration
    stripped = head.lstrip()
    if stripped.startswith("{") and _PLAN_HINT.search(head) and '"format_version"' in head:
        return Content.TERRAFORM_PLAN
    if stripped.startswith("#!") or _HEREDOC_COMMAND.match(stripped) or _heredoc_before_manifest(head):
        # A script, to cloud-init and nodeadm alike: the MIME or YAML it prints in a
        # here-document is not the userdata's own structure.
        if _BOOTSTRAP_HINT.search(head) or _MANIFEST_HINT.search(head):
            return Content.USERDATA
        return None
    if looks_like_cloudformation(head):
        return Content.CLOUDFORMATION
    if mime.header_block_start(stripped) or mime.looks_multipart(head):
        return Content.USERDATA
    if _MANIFEST_HINT.search(head):
        return Content.YAML
    if (
        _BOOTSTRAP_HINT.search(head)
        and (stripped.startswith(("#!", "/")) or "\n" in stripped)
        and not _yaml_mapping_file(stripped)
    ):
        return Content.USERDATA
    if tomldoc.looks_like_bottlerocket(head):
        return Content.BOTTLEROCKET
    if mime.looks_base64(stripped[:65536]):
        return Content.USERDATA
    return None


def _heredoc_before_manifest(head: str) -> bool:
    """Whether a command feeding a here-document starts a line before the first
    ``apiVersion``/``kind`` line: a script whose YAML is that command's input (Karpenter's
    getting-started step02-create-cluster.sh runs curl first, then
    ``eksctl create cluster -f - <<EOF``), not a manifest."""
    manifest = _MANIFEST_HINT.search(head)
    if manifest is None:
        return False
    return any(_HEREDOC_COMMAND.match(line) for line in head[: manifest.start()].split("\n"))


def _yaml_mapping_file(stripped: str) -> bool:
    """Whether a text that mentions bootstrap.sh is a YAML mapping (a Helm values file
    whose node pools carry a ``userData: |`` script, as awslabs/data-on-eks
    data-stacks/*/values/karpenter-*.yaml do), not a script: its first line that is not
    a comment is a ``key:``. A ``#cloud-config`` document is userdata, whatever follows."""
    if stripped.startswith("#cloud-config"):
        return False
    for line in stripped.split("\n", 64)[:64]:
        if line.strip() and not line.startswith("#"):
            return _YAML_KEY_LINE.match(line) is not None
    return False


def load_text(text: Text, kind: Content, limits: ReadLimits) -> SourceFile:
    """Parse ``text`` (a file, or userdata written inside one) as ``kind``, after the
    template step."""
    return _load(text, render(text), kind, limits)


def _load(text: Text, rendered: Rendered | None, kind: Content, limits: ReadLimits) -> SourceFile:
    source = SourceFile(text.file, text, kind)
    original = text
    if rendered is not None:
        source.rendered = rendered
        source.raw = text.content
        source.text = text = rendered.text
        source.not_analysed = dynamic_reason(rendered) if kind is Content.YAML else None
        if source.not_analysed is not None:
            raw = _raw_yaml(original, limits)
            if raw is None:
                return source
            _as_written(source, original, raw)
            return source
    if kind in (Content.YAML, Content.TERRAFORM_PLAN, Content.CLOUDFORMATION):
        _load_yaml(source, limits, original if kind is Content.YAML and rendered is not None else None)
    elif kind is Content.TERRAFORM:
        source.hcl, problem = parse_hcl(text)
        source.problems.extend([problem] if problem is not None else [])
    elif kind is Content.BOTTLEROCKET:
        try:
            source.toml = tomldoc.parse_toml(text)
        except TomlSyntaxError as err:
            reason = structure_reason(source.rendered, source.text, err.line, "TOML")
            if reason is not None:
                source.not_analysed = reason
                return source
            source.problems.append(
                Problem(
                    text.span(err.line, err.col, err.line, err.col + 1),
                    f"TOML syntax error: {err.message}; {TOML_HINT}{template_note(source.rendered, source.path)}",
                )
            )
    else:
        _load_userdata(source, limits)
    return source


def _as_written(source: SourceFile, original: Text, docs: list[YamlDoc]) -> None:
    """The file read as written after all (see ``_raw_yaml``): no template step."""
    source.rendered, source.raw, source.not_analysed = None, None, None
    source.text = original
    source.yaml_docs = docs
    _add_number_problems(source, original, docs)


def _add_number_problems(source: SourceFile, text: Text, docs: list[YamlDoc]) -> None:
    """Each number no integer or float holds, in documents of ``text`` (one look at the
    whole text decides whether any document can hold one)."""
    if may_hold_bad_numbers(text.content):
        for doc in docs:
            source.problems.extend(
                Problem(span, message) for span, message in number_problems(doc.text, doc.root_node, resolve_plain)
            )


def _load_yaml(source: SourceFile, limits: ReadLimits, original: Text | None = None) -> None:
    text = source.text
    docs, error = compose(text, limits.yaml)
    if error is not None and not error.limit and original is not None:
        raw = _raw_yaml(original, limits)
        if raw is not None:
            _as_written(source, original, raw)
            return
    if error is not None and not error.limit and source.content is Content.CLOUDFORMATION:
        # cfn-lint and CloudFormation read `[a, !Ref AWS::NoValue]`; libyaml does not.
        docs, error = compose(text, limits.yaml, pure=True)
    source.yaml_docs = docs
    if error is None:
        _add_number_problems(source, text, docs)
        return
    # A CloudFormation template is never a template of that kind: its ${Param} is !Sub's.
    # But a Go or Jinja template may render one (aws/aws-k8s-tester
    # internal/deployers/eksapi/templates/unmanaged-nodegroup.yaml.template): the error
    # is then its rendering's, unknown here.
    reason = (
        structure_reason(source.rendered, source.text, error.line, "YAML")
        if source.content is not Content.CLOUDFORMATION
        else _renders_cloudformation(text)
    )
    if reason is not None:
        source.not_analysed = reason
        source.yaml_docs = []
        return
    lines = text.lines()
    line, col = error.line, error.col
    while line > 0 and (line >= len(lines) or not lines[line].strip()) and col == 0:
        line -= 1  # an error at the end of the file: point at the last line with content
        col = len(lines[line].rstrip())
    if error.limit:
        message = f"YAML not analysed: {error.message}"
    else:
        message = f"YAML syntax error: {error.message}; {YAML_HINT}{template_note(source.rendered, source.path)}"
        if source.content is Content.CLOUDFORMATION:
            message = (
                f"template syntax error (YAML or JSON): {error.message}; fix the template at this position "
                "(indentation, quoting, commas, unclosed brackets); CloudFormation refuses it"
            )
        elif source.content is Content.TERRAFORM_PLAN:
            message = (
                f"JSON syntax error in a Terraform plan: {error.message}; the plan is truncated or edited: write it "
                "again with `terraform show -json PLANFILE > plan.json`"
            )
    source.problems.append(Problem(text.span(line, col, line, col + 1), message))


# A Go/Jinja directive or expression; CloudFormation's own ``{{resolve:ssm:...}}``
# dynamic references are not one (docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/
# dynamic-references.html).
_TEMPLATE_IN_CFN = re.compile(r"\{\{(?!\s*resolve:)|\{%")


def _renders_cloudformation(text: Text) -> str | None:
    """Why a CloudFormation template that does not parse is not analysed: Go or Jinja
    template text in it, which renders before CloudFormation reads it; None: it is
    CloudFormation's own syntax error."""
    found = _TEMPLATE_IN_CFN.search(text.content)
    if found is None:
        return None
    line, _ = text.line_col(found.start())
    where, _ = text.point(line, 0)
    return (
        f"line {where}: a Go/Jinja template expression: this file is a template that renders a CloudFormation "
        "template, and its structure is only known once rendered, so it was not analysed; lint the rendered "
        "template instead"
    )


def _load_userdata(source: SourceFile, limits: ReadLimits) -> None:
    text = source.text
    outer: list[str] = []
    stripped = text.content.strip()
    if mime.looks_base64(stripped):
        try:
            text, outer = mime.unwrap(stripped.encode("ascii"), text.whole(), text, limits.decode)
        except DecodeError as err:
            source.problems.append(Problem(text.whole(), f"userdata: {err}; re-encode the userdata with base64"))
            return
        if not outer:
            return
        source.text = text
        if sniff(text.content) is None and not text.content.lstrip().startswith("#!"):
            source.problems.append(
                Problem(
                    text.whole(), "base64 userdata decodes to something that is neither MIME, a script, YAML nor TOML"
                )
            )
            return
        inner_kind = sniff(text.content)
        if inner_kind is Content.YAML:
            source.content = Content.YAML
            _load_yaml(source, limits)
            return
        if inner_kind is Content.BOTTLEROCKET:
            source.content = Content.BOTTLEROCKET
            try:
                source.toml = tomldoc.parse_toml(text)
            except TomlSyntaxError as err:
                source.problems.append(Problem(text.whole(), f"TOML syntax error: {err.message}; {TOML_HINT}"))
            return
    userdata = mime.read_userdata(text, limits.decode)
    userdata.encodings = outer + userdata.encodings
    source.userdata = userdata
    source.problems.extend(userdata.problems)


def script_commands(text: Text) -> list[Command]:
    return parse_script(text.content)


def has_bootstrap_call(text: Text) -> bool:
    return bool(_BOOTSTRAP_HINT.search(text.content)) and bool(bootstrap_calls(parse_script(text.content)))
