"""Userdata containers (MIME, base64, gzip) and Bottlerocket TOML, with positions."""

from __future__ import annotations

import base64
import gzip

import pytest

from ekslint.parse.mime import DecodeError, DecodeLimits, gunzip, read_userdata
from ekslint.parse.sources import Content, ReadLimits, load_bytes, sniff
from ekslint.parse.text import Text
from ekslint.parse.tomldoc import TomlSyntaxError, parse_toml

NODECONFIG = "apiVersion: node.eks.aws/v1alpha1\nkind: NodeConfig\nspec:\n  kubelet:\n    config:\n      maxPods: 42\n"


def mime(
    *parts: tuple[str, str], boundary: str = "//", close: bool = True, crlf: bool = False, headers_first: str = ""
) -> str:
    lines = [headers_first or "MIME-Version: 1.0", f'Content-Type: multipart/mixed; boundary="{boundary}"', ""]
    for content_type, body in parts:
        lines += [f"--{boundary}", f"Content-Type: {content_type}", "", body.rstrip("\n")]
    if close:
        lines.append(f"--{boundary}--")
    text = "\n".join(lines) + "\n"
    return text.replace("\n", "\r\n") if crlf else text


def test_parts_and_body_positions() -> None:
    content = mime(("application/node.eks.aws", NODECONFIG), ("text/x-shellscript", "#!/bin/bash\necho hi\n"))
    userdata = read_userdata(Text.whole_file("u", content))
    assert userdata.multipart and not userdata.problems
    assert [p.content_type for p in userdata.parts] == ["application/node.eks.aws", "text/x-shellscript"]
    first = userdata.parts[0].text
    assert first.content.startswith("apiVersion:")
    assert first.point(0, 0) == (7, 1)  # line 7 of the file


@pytest.mark.parametrize("boundary", ["//", "==MYBOUNDARY==", "MIMEBOUNDARY", "a'b(c)"])
def test_any_boundary_and_header_order(boundary: str) -> None:
    content = mime(("text/x-shellscript", "echo\n"), boundary=boundary).replace(
        "MIME-Version: 1.0\nContent-Type", "Content-Type"
    )
    content = content.replace("\n\n--", "\nMIME-Version: 1.0\n\n--", 1)
    userdata = read_userdata(Text.whole_file("u", content))
    assert [p.content_type for p in userdata.parts] == ["text/x-shellscript"], userdata.problems


def test_crlf_is_read_like_lf() -> None:
    data = mime(("application/node.eks.aws", NODECONFIG), crlf=True).encode()
    source = load_bytes("u.txt", data, ReadLimits())
    assert source is not None and source.userdata is not None
    assert not source.problems and source.userdata.parts[0].content_type == "application/node.eks.aws"


def test_missing_closing_boundary_is_reported_and_parts_still_read() -> None:
    userdata = read_userdata(Text.whole_file("u", mime(("text/x-shellscript", "echo\n"), close=False)))
    assert len(userdata.parts) == 1
    (problem,) = userdata.problems
    assert "closing" in problem.message and "NextPart: EOF" in problem.message


@pytest.mark.parametrize("crlf", [False, True])
def test_a_last_delimiter_line_ending_the_text_is_how_go_ends_the_parts(crlf: bool) -> None:
    # The shape of aws/karpenter-provider-aws examples/v1/al2023-custom-userdata.yaml and
    # pkg/providers/launchtemplate/testdata/al2023_mime_userdata_input.golden: the last
    # part ends with `--//` and one newline, no `--//--`. Go's multipart reader returns
    # io.EOF on the header-less part that line opens, so nodeadm and Karpenter read
    # every part and stop cleanly.
    content = mime(
        ("application/node.eks.aws", NODECONFIG), ("text/x-shellscript", "#!/bin/bash\necho hi\n"), close=False
    )
    content += "--//\n"
    userdata = read_userdata(Text.whole_file("u", content.replace("\n", "\r\n") if crlf else content))
    assert not userdata.problems
    assert [p.content_type for p in userdata.parts] == ["application/node.eks.aws", "text/x-shellscript"]
    assert userdata.parts[1].text.content.split() == ["#!/bin/bash", "echo", "hi"]


@pytest.mark.parametrize("ending", ["--//", "--//\n\n", "--//\nContent-Type: text/x-shellscript\n\necho\n"])
def test_a_last_delimiter_line_without_its_newline_or_with_more_after_it_is_unclosed(ending: str) -> None:
    # Without the newline ReadSlice meets EOF on a line that is not `--//--`
    # ("multipart: NextPart: EOF"); a blank line or a part after it is a part whose
    # body reaches EOF without a delimiter (unexpected EOF).
    content = mime(("text/x-shellscript", "#!/bin/bash\necho hi\n"), close=False) + ending
    userdata = read_userdata(Text.whole_file("u", content))
    assert [p.message.split(";")[0] for p in userdata.problems] == ["multipart userdata has no closing `--//--` line"]


def test_part_after_the_closing_boundary_is_reported() -> None:
    content = mime(("application/node.eks.aws", NODECONFIG)) + "Content-Type: application/node.eks.aws\n\n" + NODECONFIG
    userdata = read_userdata(Text.whole_file("u", content))
    (problem,) = userdata.problems
    assert "epilogue" in problem.message and problem.span.line == 13  # the premature closing line


def test_base64_part_is_decoded_and_positions_collapse_to_the_part() -> None:
    encoded = base64.b64encode(NODECONFIG.encode()).decode()
    content = mime(("application/node.eks.aws", encoded)).replace(
        "Content-Type: application/node.eks.aws\n",
        "Content-Type: application/node.eks.aws\nContent-Transfer-Encoding: base64\n",
    )
    (part,) = read_userdata(Text.whole_file("u", content)).parts
    assert part.encodings == ["base64"] and part.text.content == NODECONFIG
    assert part.text.point(3, 4)[0] == 8  # every position is the encoded block


def test_invalid_base64_part_is_a_problem() -> None:
    content = mime(("application/node.eks.aws", "not*base64")).replace(
        "Content-Type: application/node.eks.aws\n",
        "Content-Type: application/node.eks.aws\nContent-Transfer-Encoding: base64\n",
    )
    userdata = read_userdata(Text.whole_file("u", content))
    assert any("invalid base64" in p.message for p in userdata.problems)


def test_whole_file_base64_gzip_userdata() -> None:
    data = base64.b64encode(gzip.compress(mime(("application/node.eks.aws", NODECONFIG)).encode()))
    source = load_bytes("u.b64", data, ReadLimits())
    assert source is not None and source.userdata is not None
    assert source.userdata.encodings == ["base64", "gzip"]
    assert source.userdata.parts[0].content_type == "application/node.eks.aws"


def test_raw_gzip_file() -> None:
    source = load_bytes(
        "u.gz", gzip.compress(mime(("text/x-shellscript", "/etc/eks/bootstrap.sh c\n")).encode()), ReadLimits()
    )
    assert source is not None and source.content is Content.USERDATA


def test_gzip_bomb_is_bounded() -> None:
    bomb = gzip.compress(b"\0" * 50_000_000)
    with pytest.raises(DecodeError, match="inflates to more than"):
        gunzip(bomb, 1_000_000)
    encoded = base64.b64encode(gzip.compress(b"#!/bin/bash\n" + b"#" * 20_000_000))
    source = load_bytes("bomb.b64", encoded, ReadLimits(decode=DecodeLimits(max_decompressed_bytes=1_000_000)))
    assert source is not None and any("inflates" in p.message for p in source.problems)


def test_malformed_header_block() -> None:
    content = (
        "MIME_VERSION = 1.0\nCONTENT_TYPE = MIME\n\n--//\nContent-Type: application/node.eks.aws\n\n"
        + NODECONFIG
        + "--//--\n"
    )
    userdata = read_userdata(Text.whole_file("u", content))
    assert userdata.problems and userdata.problems[0].span.line == 1 and not userdata.parts


def test_many_parts_are_capped() -> None:
    parts = [("text/x-shellscript", "echo\n")] * 30
    userdata = read_userdata(Text.whole_file("u", mime(*parts)), DecodeLimits(max_parts=10))
    assert len(userdata.parts) == 10 and any("only the first 10" in p.message for p in userdata.problems)


BOTTLEROCKET = """[settings.kubernetes]
cluster-name = "prod"
allowed-unsafe-sysctls = ["net.core.somaxconn",
  "kernel.msg*"]
max-pods = 58

[settings.kubernetes.node-labels]
"eks.amazonaws.com/nodegroup" = "ng-br"
settings.host-containers.admin.enabled = true
"""


def test_toml_positions() -> None:
    doc = parse_toml(Text.whole_file("br.toml", BOTTLEROCKET))
    assert doc.get(("settings", "kubernetes", "max-pods")) == 58
    span = doc.entry_span(("settings", "kubernetes", "max-pods"))
    assert (span.line, span.col, span.end_col) == (5, 1, 14)
    items = doc.item_spans[("settings", "kubernetes", "allowed-unsafe-sysctls")]
    assert [(s.line, s.col) for s in items] == [(3, 27), (4, 3)]
    label = doc.span(("settings", "kubernetes", "node-labels", "eks.amazonaws.com/nodegroup"))
    assert label.line == 8


def test_toml_syntax_error_position() -> None:
    with pytest.raises(TomlSyntaxError) as error:
        parse_toml(Text.whole_file("br.toml", "[settings.kubernetes]\nmax-pods = = 3\n"))
    assert error.value.line == 1


def test_a_script_that_prints_mime_is_not_mime() -> None:
    from ekslint.parse import mime

    script = (
        "#!/bin/bash\ncat > /tmp/u.mime <<'EOF'\nMIME-Version: 1.0\n"
        'Content-Type: multipart/mixed; boundary="//"\n\n--//\nContent-Type: text/x-shellscript\n\necho\n--//--\nEOF\n'
    )
    assert not mime.header_block_start(script)
    assert not mime.looks_multipart(script)
    assert not mime.looks_multipart(script.split("\n", 1)[1])  # no shebang: the heredoc still hides it
    assert mime.looks_multipart("--//\nContent-Type: text/x-shellscript\n\necho\n--//--\n")


def test_a_part_without_its_blank_line_is_read_as_each_consumer_reads_it() -> None:
    from ekslint.parse import mime
    from ekslint.parse.text import Text

    content = (
        'MIME-Version: 1.0\nContent-Type: multipart/mixed; boundary="//"\n\n'
        "--//\nContent-Type: text/x-shellscript\n#!/bin/bash\necho hi\n--//--\n"
    )
    (part,) = mime.read_userdata(Text.whole_file("u.mime", content)).parts
    assert part.text.content.startswith("#!/bin/bash")  # cloud-init's recovery
    assert part.malformed is not None and part.malformed.line == 6  # where nodeadm stops
    assert part.swallowed == []


def test_a_yaml_values_file_holding_a_bootstrap_script_is_not_userdata() -> None:
    # Shape of awslabs/data-on-eks data-stacks/flink-on-eks/values/karpenter-dev.yaml:
    # Helm values whose node pools carry `userData: |` scripts calling bootstrap.sh.
    values = (
        "# Karpenter overrides\nkarpenter:\n  controller:\n    replicas: 2\n"
        "nodePools:\n  - name: checkpoint\n    nodeClass:\n      userData: |\n        #!/bin/bash\n"
        "        /etc/eks/bootstrap.sh {{ .Values.clusterName }} --kubelet-extra-args '--max-pods=50'\n"
    )
    assert sniff(values) is None
    # A script and a cloud-config that call it are userdata.
    assert sniff("set -e\n/etc/eks/bootstrap.sh my-cluster\n") is Content.USERDATA
    assert sniff("#cloud-config\nruncmd:\n  - /etc/eks/bootstrap.sh my-cluster\n") is Content.USERDATA


def test_a_script_whose_here_document_holds_a_manifest_is_not_a_manifest() -> None:
    # Shape of aws/karpenter-provider-aws website/content/en/v1.0/getting-started/
    # getting-started-with-karpenter/scripts/step02-create-cluster.sh: a command first,
    # then `eksctl create cluster -f - <<EOF` with the ClusterConfig, no shebang.
    script = (
        'curl -fsSL https://example.invalid/cloudformation.yaml > "${TEMPOUT}" \\\n'
        '&& aws cloudformation deploy --stack-name "Karpenter-${CLUSTER_NAME}"\n\n'
        "eksctl create cluster -f - <<EOF\n---\napiVersion: eksctl.io/v1alpha5\nkind: ClusterConfig\n"
        "metadata:\n  name: ${CLUSTER_NAME}\nmanagedNodeGroups:\n- instanceType: m5.large\n  amiFamily: AmazonLinux2\n"
        "  name: ${CLUSTER_NAME}-ng\nEOF\n"
    )
    assert sniff(script) is Content.USERDATA  # read as the script it is, never as YAML
    # A manifest with a here-document only inside a block scalar stays a manifest.
    configmap = (
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: s}\ndata:\n  run.sh: |\n    cat <<EOF > /x\n    EOF\n"
    )
    assert sniff(configmap) is Content.YAML
