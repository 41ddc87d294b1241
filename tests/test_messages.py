"""Findings read headline first (issue 16, item 6): every finding has a headline of at
most 120 characters that says what is wrong and where, then the detail (why, and
what to change); every report format carries both, and ``-f concise`` is one line
per finding."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from ekslint.engine import headline as headlines
from ekslint.engine.finding import Finding
from ekslint.plugin import Related, Span, Violation
from ekslint.severity import Severity
from tests.conftest import REPO, lint, write
from tests.rules.test_rule_fixtures import CASES

# -- deriving a headline from one message ---------------------------------------------


def test_a_short_message_is_its_own_headline() -> None:
    assert headlines.split("PDB web selects nothing") == ("PDB web selects nothing", "", "PDB web selects nothing")


def test_a_long_message_is_split_at_its_first_sentence() -> None:
    message = "node group web has no team label. " + "Teams are paged by label; " * 6 + "add labels.team"
    headline, detail, full = headlines.split(message)
    assert headline == "node group web has no team label"
    assert detail.startswith("Teams are paged by label;") and detail.endswith("add labels.team")
    assert full == message  # a rule's own text is reported unchanged


def test_a_long_first_sentence_is_split_at_a_clause_not_at_a_short_prefix() -> None:
    message = (
        "PodDisruptionBudget a: spec.maxUnavailable '-3%' is not an integer or a percentage like '25%'; the "
        "Kubernetes API server refuses the PDB. Write a count like maxUnavailable: 1 or a percentage"
    )
    headline, detail, _ = headlines.split(message)
    assert headline == "PodDisruptionBudget a: spec.maxUnavailable '-3%' is not an integer or a percentage like '25%'"
    assert detail.startswith("the Kubernetes API server refuses the PDB.")


def test_periods_inside_names_and_versions_end_no_sentence() -> None:
    message = "sysctl net.ipv4.tcp_keepalive_intvl is unsafe on Kubernetes 1.28 (see metadata.version) " + "x " * 60
    headline, _, _ = headlines.split(message)
    assert headline.startswith("sysctl net.ipv4.tcp_keepalive_intvl is unsafe on Kubernetes 1.28")


def test_a_message_without_a_boundary_is_cut_at_a_word_with_an_ellipsis() -> None:
    message = "word " * 60
    headline, detail, _ = headlines.split(message)
    assert len(headline) <= headlines.HEADLINE_MAX and headline.endswith("word…")
    assert detail == message.strip()  # the detail keeps everything the headline left out


def test_text_between_backticks_is_never_cut() -> None:
    quoted = "`" + " ".join(["inner"] * 30) + "`"
    cut = headlines.shorten("the value " + quoted + " is wrong " * 5, 60)
    assert len(cut) <= 60 and cut.count("`") % 2 == 0, cut
    assert headlines.shorten("`" + "x" * 200 + "`", 50).count("`") % 2 == 0
    # A colon inside backticks is no clause boundary.
    message = "the line `Name: value` in the MIME header block is malformed " + "because " * 20
    assert "`Name: value`" in headlines.split(message)[0]


def test_an_explicit_headline_and_detail_make_one_full_message() -> None:
    assert headlines.split("PDB web blocks every eviction", "Raise replicas") == (
        "PDB web blocks every eviction",
        "Raise replicas",
        "PDB web blocks every eviction. Raise replicas",
    )
    long = "sysctl " + "very.long.name." * 12 + " is not allowed"
    headline, detail, full = headlines.split(long, "Allow it")
    assert len(headline) <= headlines.HEADLINE_MAX and headline.endswith("…")
    assert detail == full == f"{long}. Allow it"  # nothing cut is lost


def test_listed_bounds_a_list() -> None:
    assert headlines.listed(["a"]) == "a"
    assert headlines.listed(["a", "b"]) == "a and b"
    assert headlines.listed(["a", "b", "c", "d", "e"]) == "a, b, c and 2 more"


def test_findings_made_by_hand_derive_their_headline() -> None:
    finding = Finding("ACME001", "x", Severity.ERROR, "short: " + "y " * 100, Span("f.yaml", 1, 1, 1, 2))
    assert finding.headline and len(finding.headline) <= headlines.HEADLINE_MAX
    assert finding.detail


def test_a_plugin_violation_subclass_keeps_its_detail_and_identity() -> None:
    from ekslint.engine.analysis import _checked

    class Mine(Violation):
        pass

    span = Span("f.yaml", 1, 1, 1, 2)
    checked = _checked(Mine(span, "headline", (Related(span, "here"),), identity="i", detail="why"))
    assert type(checked) is Violation and (checked.detail, checked.identity) == ("why", "i")


# -- every built-in rule's headlines ---------------------------------------------------

FAIL_CASES = [c for c in CASES if c.kind == "fail"]
_WORDS = re.compile(r"[A-Za-z0-9_./\-\[\]=*:']+")


@pytest.fixture(scope="module")
def fixture_findings() -> list[tuple[str, Finding]]:
    found = []
    for case in FAIL_CASES:
        result = lint(case.root, *case.targets(), select=sorted({case.rule, "EKS001"}))
        found += [(case.id, f) for f in result.findings]
    return found


def test_every_rule_fixture_finding_has_a_headline_of_at_most_120_characters(
    fixture_findings: list[tuple[str, Finding]],
) -> None:
    rules = {f.rule_id for _, f in fixture_findings}
    assert len(rules) >= 29  # every rule with fail fixtures, EKS001 and EKS002 included
    for case, finding in fixture_findings:
        assert finding.headline.strip(), (case, finding.message)
        assert len(finding.headline) <= headlines.HEADLINE_MAX, (case, finding.headline)
        assert "\n" not in finding.headline
        if len(finding.message) > headlines.HEADLINE_MAX:
            assert finding.detail, (case, finding.headline)  # the rest says why and what to change


def test_headline_and_detail_keep_all_of_the_message(fixture_findings: list[tuple[str, Finding]]) -> None:
    """The full message (JSON ``message``, SARIF) holds every word of the headline and
    of the detail, and starts with the headline, its first sentence; nothing the
    headline shortens is lost from the detail."""
    for case, finding in fixture_findings:
        if finding.headline.endswith(headlines.ELLIPSIS):
            kept = finding.headline.removesuffix(headlines.ELLIPSIS)
            assert kept in finding.detail, (case, finding.headline)
        else:
            assert finding.message.startswith(finding.headline), (case, finding.headline)
            for word in _WORDS.findall(finding.detail):
                assert word in finding.message, (case, word)


# -- the formats -----------------------------------------------------------------------


def _run(*args: str, cwd: Path = REPO) -> subprocess.CompletedProcess[str]:
    env = {"EKSLINT_NO_CACHE": "1", "NO_COLOR": "1", "PATH": "/usr/bin:/bin"}
    return subprocess.run(
        [sys.executable, "-m", "ekslint", *args], cwd=cwd, env=env, capture_output=True, text=True, check=False
    )


@pytest.fixture(scope="module")
def broken_json() -> dict[str, object]:
    proc = _run("-f", "json", "examples/broken")
    return dict(json.loads(proc.stdout))


def test_concise_is_one_line_per_finding_and_a_summary(broken_json: dict[str, object]) -> None:
    proc = _run("-f", "concise", "examples/broken")
    assert proc.returncode == 1 and proc.stderr == ""
    lines = proc.stdout.splitlines()
    findings = broken_json["findings"]
    assert isinstance(findings, list)
    assert len(lines) == len(findings) + 1
    assert lines[-1].startswith("Found 5 problems")
    for line, finding in zip(lines, findings, strict=False):
        where = f"{finding['file']}:{finding['line']}:{finding['column']}:"
        assert line == f"{where} {finding['severity']} {finding['rule']} {finding['headline']}"
        assert re.match(r"^\S+:\d+:\d+: (error|warning|note) [A-Z]+\d{3} ", line)


def test_concise_marks_suppressed_findings(tmp_path: Path) -> None:
    write(
        tmp_path,
        {
            "pdb.yaml": "apiVersion: policy/v1\nkind: PodDisruptionBudget\nmetadata:\n  name: web\nspec:\n"
            "  maxUnavailable: 0  # ekslint: disable=EKS401 -- frozen on purpose\n"
            "  selector:\n    matchLabels:\n      app: web\n",
        },
    )
    proc = _run("-f", "concise", "--include-suppressed", "--isolated", "--select", "EKS401", ".", cwd=tmp_path)
    (line, summary) = proc.stdout.splitlines()
    assert line.startswith("pdb.yaml:6:3: error EKS401 PDB web allows no voluntary disruption")
    assert line.endswith("(suppressed: frozen on purpose)")
    assert summary.startswith("No problems found")


def test_text_shows_the_headline_then_the_wrapped_detail(broken_json: dict[str, object]) -> None:
    from ekslint.report.text import WIDTH

    proc = _run("examples/broken")
    lines = proc.stdout.splitlines()
    findings = broken_json["findings"]
    assert isinstance(findings, list)
    first = findings[0]
    assert lines[0] == f"{first['file']}:{first['line']}:{first['column']}: {first['rule']} [error] {first['headline']}"
    detail_lines = []
    for line in lines[1:]:
        if not line.startswith("    ") or re.match(r"^    \S+:\d+:\d+: ", line):
            break
        detail_lines.append(line)
    assert " ".join(line.strip() for line in detail_lines) == first["detail"]
    assert all(len(line) <= WIDTH or " " not in line.strip() for line in detail_lines)


def test_json_has_headline_detail_and_the_full_message(broken_json: dict[str, object]) -> None:
    findings = broken_json["findings"]
    assert isinstance(findings, list)
    for finding in findings:
        assert finding["message"].startswith(finding["headline"])
        assert finding["message"].endswith(finding["detail"])
        assert len(finding["headline"]) <= headlines.HEADLINE_MAX


def test_sarif_message_is_the_full_text_headline_first(broken_json: dict[str, object]) -> None:
    proc = _run("-f", "sarif", "examples/broken")
    results = json.loads(proc.stdout)["runs"][0]["results"]
    findings = broken_json["findings"]
    assert isinstance(findings, list)
    assert [r["message"] for r in results] == [{"text": f["message"]} for f in findings]
    assert all(r["message"]["text"].startswith(f["headline"]) for r, f in zip(results, findings, strict=True))


def test_github_annotation_title_is_the_headline_and_message_the_detail(
    broken_json: dict[str, object], tmp_path: Path
) -> None:
    proc = _run("-f", "github", "examples/broken")
    lines = proc.stdout.splitlines()
    findings = broken_json["findings"]
    assert isinstance(findings, list)
    assert len(lines) == len(findings)
    for line, finding in zip(lines, findings, strict=True):
        title = re.search(r",title=([^:]*)::", line)
        assert title is not None
        assert title.group(1) == f"{finding['rule']} {finding['headline']}".replace(":", "%3A").replace(",", "%2C")
        assert line.split("::", 2)[2] == finding["detail"].replace("%", "%25")


def test_junit_failure_message_is_the_headline_and_its_text_the_detail(broken_json: dict[str, object]) -> None:
    proc = _run("-f", "junit", "examples/broken")
    failures = ET.fromstring(proc.stdout).iter("failure")
    findings = [f for f in broken_json["findings"] if f["severity"] == "error"]  # type: ignore[union-attr]
    for failure, finding in zip(failures, findings, strict=True):
        assert failure.get("message") == finding["headline"]
        assert (failure.text or "").endswith(f"{finding['headline']}\n{finding['detail']}")


def test_gitlab_description_is_the_headline_and_the_body_the_detail(broken_json: dict[str, object]) -> None:
    proc = _run("-f", "gitlab", "examples/broken")
    issues = json.loads(proc.stdout)
    findings = broken_json["findings"]
    assert isinstance(findings, list)
    for issue, finding in zip(issues, findings, strict=True):
        assert issue["description"] == f"{finding['rule']}: {finding['headline']}"
        assert issue["content"] == {"body": finding["detail"]}


def test_markdown_lists_the_headlines(broken_json: dict[str, object]) -> None:
    proc = _run("-f", "markdown", "examples/broken")
    findings = broken_json["findings"]
    assert isinstance(findings, list)
    for finding in findings:
        assert f"| {finding['rule']} | {finding['headline']} |" in proc.stdout.replace("\\|", "|")


def test_a_plugin_message_without_detail_still_reads_headline_first(tmp_path: Path) -> None:
    """Rule packs written before the split give one message: it is reported whole
    (JSON message, SARIF), and its first sentence is the headline."""
    finding = Finding(
        "ACME002",
        "replicated-workload-without-pdb",
        Severity.WARNING,
        "Deployment/shop/web runs 3 replicas and no PodDisruptionBudget selects it. " + "Add a PDB. " * 10,
        Span("web.yaml", 3, 1, 3, 5),
    )
    assert finding.headline == "Deployment/shop/web runs 3 replicas and no PodDisruptionBudget selects it"
    assert finding.detail.startswith("Add a PDB.")


def test_a_max_pods_value_only_the_render_knows_is_not_quoted_as_empty(tmp_path: Path) -> None:
    # terraform-aws-eks templates/al2_user_data.tpl style: "--max-pods=${max_pods}" in
    # double quotes is a shell expansion ekslint cannot evaluate; EKS207 names the flag,
    # never "--max-pods=" with an empty value.
    from tests.conftest import lint, write

    write(
        tmp_path,
        {
            "userdata.sh.tpl": (
                '#!/bin/bash\n/etc/eks/bootstrap.sh ${cluster_name} --kubelet-extra-args "--max-pods=${max_pods}"\n'
            )
        },
    )
    (finding,) = lint(tmp_path, select=["EKS207"]).findings
    assert finding.message.startswith("--max-pods is set without --use-max-pods false")
    assert "--max-pods=" not in finding.message and (finding.span.line, finding.span.col) == (2, 61)
