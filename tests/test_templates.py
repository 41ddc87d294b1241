"""One definition of a template placeholder, shared by the parser (is a YAML error a
template?), the model (instance types) and the rules (NodeConfig values)."""

from __future__ import annotations

import pytest

from ekslint.parse.templates import has_template_blocks, is_placeholder


@pytest.mark.parametrize(
    "value",
    [
        "${cluster_name}",  # Terraform / envsubst
        "https://${endpoint}",
        "$INSTANCE_TYPE",  # envsubst, shell
        "$(aws eks describe-cluster --query cluster.endpoint)",
        "{{ .Values.instanceType }}",  # Helm / Go
        "{% if x %}",  # Jinja
        "%{ if enable }",  # Terraform directive
        "<%= ca %>",  # ERB
        "%s",  # printf
        "<cluster-name>",  # documentation's value to fill in
    ],
)
def test_placeholders_are_recognised(value: str) -> None:
    assert is_placeholder(value)


@pytest.mark.parametrize(
    "value",
    [
        "m5.large",
        "https://ABCDEF.gr7.eu-west-1.eks.amazonaws.com",
        "10.100.0.0/16",
        "LS0tLS1CRUdJTiBDRVJUSUZJQ0FURS0tLS0t",
        "max_pods < 110 ? max_pods : 110",
        "100%",  # a PDB budget, not a printf verb
        "a <b> c",  # angle brackets inside a value
        "cost: 5$",
    ],
)
def test_real_values_are_not_placeholders(value: str) -> None:
    assert not is_placeholder(value)


def test_template_blocks_make_a_file_a_template() -> None:
    assert has_template_blocks("replicas: {{ .Values.replicas }}\n")
    assert has_template_blocks("%{ for k, v in labels ~}\n")
    assert not has_template_blocks("image: ${IMAGE}\n")  # a placeholder inside valid YAML


# -- the template step (issue 13 item 1) ---------------------------------------------------

import json  # noqa: E402
import shutil  # noqa: E402
from pathlib import Path  # noqa: E402

from ekslint.config import Settings  # noqa: E402
from ekslint.engine import plugins  # noqa: E402
from ekslint.engine.runner import Runner, RunRequest  # noqa: E402
from ekslint.model.context import ModelContext  # noqa: E402
from ekslint.model.filemodel import build_file_model  # noqa: E402
from ekslint.parse.sources import Content, ReadLimits, load_bytes, understood_by_name  # noqa: E402
from ekslint.parse.templates import render  # noqa: E402
from ekslint.parse.text import Text  # noqa: E402
from tests.conftest import SHARED, chdir, lint, write  # noqa: E402

FIXTURES = Path(__file__).parent / "fixtures" / "templates"


def _load(path: Path):  # type: ignore[no-untyped-def]
    source = load_bytes(path.name, path.read_bytes(), ReadLimits())
    assert source is not None, f"{path.name} is not recognised as an input"
    return source


def _findings(directory: Path, *paths: str) -> list[tuple[str, str, int]]:
    result = lint(directory, *paths)
    assert not result.crashed and not result.input_errors
    return sorted((f.rule_id, Path(f.span.file).name, f.span.line) for f in result.findings)


@pytest.mark.parametrize(
    ("name", "kind"),
    [
        ("bottlerocket_user_data.tpl", Content.BOTTLEROCKET),  # TOML
        ("al2023_user_data.tpl", Content.YAML),  # YAML
        ("nodepool.yaml-template", Content.YAML),  # YAML, envsubst in a flow list
        ("userdata_al2023.tpl", Content.USERDATA),  # MIME
        ("al2_user_data.tpl", Content.USERDATA),  # shell
        # JSON (no comments possible): the KubeletConfiguration JSON of awslabs/amazon-eks-ami's AL2
        # runtime (kubelet-config.json, the file bootstrap.sh edits) written as a templatefile.
        ("kubelet-config.json.tpl", Content.YAML),
    ],
)
def test_templates_that_render_valid_parse_in_every_format(name: str, kind: Content) -> None:
    source = _load(FIXTURES / "valid" / name)
    assert source.content is kind
    assert source.template and source.not_analysed is None
    assert source.problems == []
    if source.userdata is not None:
        assert source.userdata.problems == []


def test_templates_that_render_valid_give_no_finding(tmp_path: Path) -> None:
    shutil.copytree(FIXTURES / "valid", tmp_path / "valid")
    result = lint(tmp_path)
    assert not result.crashed and not result.input_errors and not result.not_analysed
    assert result.files_analysed == 6
    assert [(f.rule_id, f.span.file, f.message) for f in result.findings] == []


def test_facts_are_read_from_templates_and_placeholders_are_unknown() -> None:
    # TOML: the literal label is read; ${node_labels} on a line of its own is labels only
    # the rendering knows; max-pods = ${max_pods} is set to an unknown number.
    source = _load(FIXTURES / "valid" / "bottlerocket_user_data.tpl")
    model = build_file_model(source, ModelContext())
    (group,) = model.node_groups
    assert group.labels == {"team": "payments"}
    assert [(m.value, m.span.line) for m in group.max_pods] == [(None, 11)]
    # JSON: a templated sysctl name is an unknown allowance (never quoted), not a name.
    source = _load(FIXTURES / "valid" / "kubelet-config.json.tpl")
    (group,) = build_file_model(source, ModelContext()).node_groups
    assert group.allowances == [] and group.allowances_unknown is not None
    assert group.allowances_unknown.line == 7
    # YAML in a flow list: the NodePool is read, its values are placeholders.
    source = _load(FIXTURES / "valid" / "nodepool.yaml-template")
    (obj,) = list(source.objects())
    assert obj.text("kind") == "NodePool"


def test_directive_lines_keep_the_templates_own_positions(tmp_path: Path) -> None:
    # The %{ if } lines are dropped from the rendering, yet a finding names the line and
    # column in the template: the unknown field on line 9 (after two directive lines).
    write(
        tmp_path,
        {
            "nodeconfig.yaml.tpl": (
                "%{ if enabled ~}\n"
                "apiVersion: node.eks.aws/v1alpha1\n"
                "kind: NodeConfig\n"
                "spec:\n"
                "%{ if with_cluster ~}\n"
                "  cluster: {name: '${name}', apiServerEndpoint: '${endpoint}', "
                "certificateAuthority: '${ca}', cidr: '${cidr}'}\n"
                "%{ endif ~}\n"
                "  kubelet:\n"
                "    flagz: ['--node-labels=${labels}']\n"
                "%{ endif ~}\n"
            )
        },
    )
    result = lint(tmp_path)
    found = [(f.rule_id, f.span.line, f.span.col, f.span.end_col) for f in result.findings]
    assert found == [("EKS002", 9, 5, 10)]


def test_an_else_branch_is_dropped_and_a_loop_body_kept_once() -> None:
    text = Text.whole_file(
        "t.toml",
        "[settings.kubernetes.node-labels]\n"
        "%{ for k, v in labels ~}\n"
        '"${k}" = "${v}"\n'
        "%{ endfor ~}\n"
        "%{ if a }\n"
        '"x" = "1"\n'
        "%{ else }\n"
        '"y" = "2"\n'
        "%{ endif }\n",
    )
    rendered = render(text)
    assert rendered is not None
    assert rendered.text.content == '[settings.kubernetes.node-labels]\n"$_1_" = "$_2_"\n"x" = "1"\n'
    assert [rendered.text.point(i, 0)[0] for i in range(3)] == [1, 3, 6]


@pytest.mark.parametrize(
    "content",
    [
        "name: ${var.cluster_name}\n",
        "name: {{ .Values.name }}\n",
        "values: [{{ .Values.a }}, ${B}]\n",
        "max-pods = ${max_pods}\n",
        "name: {{cluster-name}}\n",
    ],
)
def test_placeholders_keep_their_length_and_are_placeholders(content: str) -> None:
    rendered = render(Text.whole_file("f", content))
    assert rendered is not None
    assert len(rendered.text.content) == len(content)
    assert rendered.text.content.index(":") == content.index(":") if ":" in content else True
    for token in rendered.text.content.replace(",", " ").replace("[", " ").replace("]", " ").split():
        if token.strip('"').startswith("$_"):
            assert is_placeholder(token.strip('"'))


def test_text_without_template_syntax_is_not_touched() -> None:
    assert render(Text.whole_file("f", "apiVersion: v1\nkind: Pod\nimage: $IMAGE\n")) is None
    # A shell script's ${VAR} stays as written: the shell reader substitutes assignments.
    script = '#!/bin/bash\nARGS="--max-pods=58"\n/etc/eks/bootstrap.sh c ${ARGS}\n'
    assert render(Text.whole_file("f", script)) is None


@pytest.mark.parametrize(
    ("name", "line", "why"),
    [
        ("cluster.yaml.tpl", 9, "YAML syntax error"),
        ("bottlerocket_user_data.tpl", 4, "TOML syntax error"),
        ("kubelet-config.json.tpl", 4, "YAML syntax error"),
        ("userdata_al2023.tpl", 21, "no closing `--//--`"),
    ],
)
def test_templates_that_cannot_render_valid_get_eks001_saying_why(name: str, line: int, why: str) -> None:
    result = lint(FIXTURES / "invalid", name)
    assert not result.not_analysed
    (finding,) = result.findings
    assert (finding.rule_id, finding.span.line) == ("EKS001", line)
    assert why in finding.message
    if "syntax" in why:
        assert "renders invalid whatever its values" in finding.message


# -- what cannot be analysed: once per file, in every report (issue 13 item 1) ---------------


def _dynamic(tmp_path: Path) -> Path:
    shutil.copytree(FIXTURES / "dynamic", tmp_path / "dynamic")
    return tmp_path / "dynamic"


def test_a_template_too_dynamic_to_read_is_a_note_not_an_error(tmp_path: Path) -> None:
    result = lint(_dynamic(tmp_path))
    assert result.findings == [] and not result.input_errors and not result.crashed
    (note,) = result.not_analysed
    assert note.file == "chart/templates/nodepool.yaml"
    assert note.reason.startswith("line 14: `{{- toYaml $pool.requirements | nindent 8 }}` writes YAML of its own")


def _cli(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    from ekslint.cli import main

    code = main(["--no-cache", "--isolated", *args])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_not_analysed_in_text_json_sarif_and_the_others(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    root = _dynamic(tmp_path)
    with chdir(root):
        code, out, _ = _cli(capsys, ".")
        assert code == 0  # never an error
        assert out.splitlines()[0].startswith("chart/templates/nodepool.yaml: not analysed: line 14: ")
        assert out.splitlines()[-1] == "No problems found in 0 files (1 input not analysed)."

        code, out, _ = _cli(capsys, "-f", "json", ".")
        document = json.loads(out)
        assert code == 0 and document["summary"]["not_analysed"] == 1
        assert [n["file"] for n in document["not_analysed"]] == ["chart/templates/nodepool.yaml"]

        code, out, _ = _cli(capsys, "-f", "sarif", ".")
        (run,) = json.loads(out)["runs"]
        (notification,) = run["invocations"][0]["toolExecutionNotifications"]
        assert notification["level"] == "note"
        assert notification["message"]["text"].startswith("chart/templates/nodepool.yaml: not analysed: ")
        location = notification["locations"][0]["physicalLocation"]["artifactLocation"]
        assert location["uri"] == "chart/templates/nodepool.yaml"
        assert run["results"] == []

        code, out, _ = _cli(capsys, "-f", "github", ".")
        assert out.startswith("::notice file=chart/templates/nodepool.yaml,title=ekslint::not analysed: line 14")

        code, out, _ = _cli(capsys, "-f", "junit", ".")
        assert '<skipped message="line 14: `{{- toYaml' in out and "<failure" not in out

        code, out, err = _cli(capsys, "-f", "gitlab", ".")
        assert json.loads(out) == [] and "chart/templates/nodepool.yaml: not analysed: line 14" in err

        code, out, _ = _cli(capsys, "-f", "markdown", ".")
        assert "### Not analysed" in out and "| `chart/templates/nodepool.yaml` | line 14" in out


def test_not_analysed_survives_the_cache_and_worker_processes(tmp_path: Path) -> None:
    root = _dynamic(tmp_path)
    for i in range(12):  # enough files for two workers
        write(root, {f"w{i}.yaml": f"apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c{i}\n"})
    settings = Settings()
    registry = plugins.load()
    with chdir(root):
        for _ in range(2):  # cold, then every outcome from the cache
            result = Runner(registry, settings).run(RunRequest(["."], settings, jobs=2, cache_dir=tmp_path / "cache"))
            assert [n.file for n in result.not_analysed] == ["chart/templates/nodepool.yaml"]
        assert result.from_cache == 13


def test_the_sarif_with_a_notification_is_valid(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    jsonschema = pytest.importorskip("jsonschema")
    schemas = [SHARED / "sarif" / "sarif-schema-2.1.0.json"]
    schemas = [path for path in schemas if path.is_file()]
    if not schemas:
        pytest.skip("the SARIF schema is expected in ../shared/sarif")
    schema = json.loads(schemas[0].read_text())
    with chdir(_dynamic(tmp_path)):
        _, out, _ = _cli(capsys, "-f", "sarif", ".")
    jsonschema.Draft4Validator(schema).validate(json.loads(out))


# -- only files ekslint understands are read (issue 13 item 5) --------------------------------

_BOOTSTRAP_README = (
    "Run this on the node:\n\n    /etc/eks/bootstrap.sh my-cluster --kubelet-extra-args '--max-pods=5000'\n"
)
_YAML_IN_SOURCE = '"""\napiVersion: v1\nkind: Pod\nspec: [broken\n"""\n'


@pytest.mark.parametrize(
    "name",
    ["README", "README.txt", "docs/setup.md", "guide.rst", "guide.adoc", "index.html", "tool.py", "main.go",
     "app.js", "app.ts", "App.java", "tool.rb", "lib.rs", "node.c", "node.h", "x.cpp", "x.cs", "x.php", "x.kt",
     "x.swift", "x.scala", "x.lua", "x.pl", "notebook.ipynb"],
)  # fmt: skip
def test_documentation_and_source_code_are_never_read(tmp_path: Path, name: str) -> None:
    assert not understood_by_name(name)
    write(tmp_path, {name: _BOOTSTRAP_README + _YAML_IN_SOURCE})
    result = lint(tmp_path)
    assert result.findings == [] and result.files_analysed == 0


@pytest.mark.parametrize(
    "name",
    ["userdata", "userdata.sh", "x.bash", "userdata.txt", "part.mime", "case.golden", "n.yaml", "n.yml", "k.json",
     "b.toml", "u.tpl", "u.tftpl", "u.tmpl", "u.j2", "np.yaml-template", "main.tf", "stack.template", "x.tf.json"],
)  # fmt: skip
def test_files_ekslint_understands_are_still_read(name: str) -> None:
    assert understood_by_name(name)
    assert understood_by_name(f"some/dir/{name}")
